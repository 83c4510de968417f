//! Tidy: tests that keep the repository honest, run by `cargo test`.
//!
//! - Every file that a Markdown or Rust file names (a Markdown link, or a
//!   path in backticks) exists in the repository, so that no document points
//!   at something a reader cannot open.
//! - The behaviour matrix at the top of
//!   `crates/iteration-api/src/server/tests/behaviour.rs` names rules that
//!   `docs/behaviour.md` has and tests that exist, and every rule of the
//!   sections that are built has a row.
//! - No test is skipped or expected to panic.
//!
//! The files are those git knows (tracked, or new and not ignored) that are
//! on disk. This module is left out of the scans: its tests hold examples of
//! exactly what the scans look for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::project_root;

/// This file, relative to the root.
const TIDY: &str = "xtask/src/tidy.rs";

/// The behaviour document and the file whose table maps its rules to tests.
const BEHAVIOUR_DOC: &str = "docs/behaviour.md";
const BEHAVIOUR_MATRIX: &str = "crates/iteration-api/src/server/tests/behaviour.rs";

/// Sections of `docs/behaviour.md` whose every rule must have a row in the
/// matrix. Section 4 (the live catalog) joins when it is built.
const TESTED_SECTIONS: &[&str] = &["1", "2", "3", "5"];

/// Backticked paths that are not files of the repository, each with why.
const NOT_FILES: &[(&str, &str)] =
    &[("new/estimates.json", "written by each benchmark run under the target directory, never tracked")];

#[test]
fn every_file_named_in_docs_and_comments_exists() {
    let files = repository_files();
    let mut missing = Vec::new();
    for file in files.iter().filter(|f| f.ends_with(".md") || f.ends_with(".rs")) {
        if file == TIDY {
            continue;
        }
        let text = read(file);
        for reference in references(&text, file.ends_with(".md")) {
            if NOT_FILES.iter().any(|(name, _)| *name == reference.target) {
                continue;
            }
            if !resolves(&reference, file, &files) {
                missing.push(format!(
                    "{file}:{}: `{}` names no file of the repository",
                    reference.line, reference.target
                ));
            }
        }
    }
    assert!(missing.is_empty(), "files named but missing:\n{}", missing.join("\n"));
}

#[test]
fn the_behaviour_matrix_names_rules_and_tests_that_exist() {
    let files = repository_files();
    let rules = rule_ids(&read(BEHAVIOUR_DOC));
    let functions: BTreeSet<String> = files
        .iter()
        .filter(|f| f.ends_with(".rs") && (f.starts_with("crates/") || f.starts_with("tests/")))
        .flat_map(|f| function_names(&read(f)))
        .collect();
    let rows = matrix_rows(&read(BEHAVIOUR_MATRIX));
    assert!(!rows.is_empty(), "{BEHAVIOUR_MATRIX} has no behaviour matrix");

    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    for row in &rows {
        let at = format!("{BEHAVIOUR_MATRIX}:{}", row.line);
        if row.rules.is_empty() {
            problems.push(format!("{at}: the row names no rule of {BEHAVIOUR_DOC}"));
        }
        for rule in &row.rules {
            if rules.contains_key(rule) {
                covered.insert(rule.clone());
            } else {
                problems.push(format!("{at}: rule {rule} is not a heading of {BEHAVIOUR_DOC}"));
            }
        }
        if row.tests.is_empty() {
            problems.push(format!("{at}: the row names no test"));
        }
        for test in &row.tests {
            let name = test.rsplit("::").next().unwrap_or(test);
            if !functions.contains(name) {
                problems.push(format!("{at}: `{test}` names no `fn {name}` under crates/ or tests/"));
            }
        }
    }
    for (rule, count) in &rules {
        if *count > 1 {
            problems.push(format!("{BEHAVIOUR_DOC}: rule {rule} is a heading {count} times"));
        }
        let section = rule.split('.').next().unwrap_or_default();
        if TESTED_SECTIONS.contains(&section) && !covered.contains(rule) {
            problems.push(format!("{BEHAVIOUR_DOC}: rule {rule} has no row in {BEHAVIOUR_MATRIX}"));
        }
    }
    assert!(problems.is_empty(), "the behaviour matrix is out of step:\n{}", problems.join("\n"));
}

#[test]
fn no_test_is_skipped_or_expected_to_panic() {
    let mut found = Vec::new();
    for file in repository_files().iter().filter(|f| f.ends_with(".rs") && *f != TIDY) {
        for (i, line) in read(file).lines().enumerate() {
            if ["#[ignore", "#[should_panic"].iter().any(|attribute| line.contains(attribute)) {
                found.push(format!("{file}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "tests must run and must say what they expect, not skip or expect a panic:\n{}",
        found.join("\n")
    );
}

/// Fixtures a crate keeps its own copy of (a packed crate carries only its
/// own files), each beside the file it copies.
const FIXTURE_COPIES: &[(&str, &str)] = &[
    (
        "crates/iteration-api/fixtures/demo-valid-request.json",
        "crates/iteration-model/fixtures/demo/valid-request.json",
    ),
    (
        "crates/iteration-api/fixtures/docs-create-iteration.request.json",
        "crates/iteration-model/fixtures/docs/create-iteration.request.json",
    ),
    (
        "crates/iteration-api/fixtures/docs-create-iteration.response.json",
        "crates/iteration-model/fixtures/docs/create-iteration.response.json",
    ),
    (
        "crates/iteration-api/fixtures/spec-Experiment-1.json",
        "crates/iteration-model/fixtures/spec/Experiment/1.json",
    ),
    (
        "crates/iteration-api/openapi/launchdarkly.json",
        "crates/iteration-model/fixtures/spec/launchdarkly-openapi.json",
    ),
];

#[test]
fn copied_fixtures_are_the_same_as_their_originals() {
    let differ: Vec<String> = FIXTURE_COPIES
        .iter()
        .filter(|(copy, original)| read(copy) != read(original))
        .map(|(copy, original)| format!("{copy} differs from {original}: copy it again"))
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// A packed crate carries only its own files, so the README examples run as
/// doc tests through the crates' own READMEs; the project's README shows
/// the same examples, which must stay the same as the ones tested.
#[test]
fn every_rust_example_of_the_readme_is_a_crate_readmes_doc_test() {
    let crate_readmes: String = repository_files()
        .iter()
        .filter(|f| f.starts_with("crates/") && f.ends_with("/README.md"))
        .map(|f| read(f))
        .collect();
    let tested = rust_blocks(&crate_readmes);
    let untested: Vec<String> = rust_blocks(&read("README.md"))
        .into_iter()
        .filter(|block| !tested.contains(block))
        .map(|block| block.lines().next().unwrap_or_default().to_owned())
        .collect();
    assert!(
        untested.is_empty(),
        "README.md has Rust examples that no crate README repeats word for word, so no doc test runs them \
         (copy each into the README of the crate it uses):\n{}",
        untested.join("\n")
    );
}

/// The bodies of the ```` ```rust ```` blocks of a Markdown text.
fn rust_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```rust") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// The repository's files, relative to the root with `/` separators: what
/// git tracks or would track (new files not ignored), and is on disk.
fn repository_files() -> BTreeSet<String> {
    let root = project_root();
    let output = Command::new("git")
        .args(["ls-files", "--cached", "--others", "--exclude-standard", "-z"])
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("tidy needs git to list the repository's files: {e}"));
    assert!(output.status.success(), "git ls-files failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .split('\0')
        .filter(|f| !f.is_empty() && root.join(f).is_file())
        .map(str::to_owned)
        .collect()
}

fn read(file: &str) -> String {
    let path = project_root().join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A file name found in a text, and the line it starts on.
#[derive(Debug, PartialEq)]
struct Reference {
    line: usize,
    target: String,
    /// A Markdown link's target, rather than a path in backticks.
    link: bool,
}

/// The file names in `text`: Markdown link targets and backticked paths.
///
/// Inline code can wrap, so a Markdown file is read a paragraph at a time
/// (outside code blocks), and a Rust file a comment block at a time.
fn references(text: &str, markdown: bool) -> Vec<Reference> {
    let mut found = Vec::new();
    for (line, paragraph) in paragraphs(text, markdown) {
        for target in link_targets(&paragraph) {
            found.push(Reference { line, target, link: true });
        }
        for span in code_spans(&paragraph) {
            if looks_like_a_file(span) {
                found.push(Reference { line, target: span.to_owned(), link: false });
            }
        }
    }
    found
}

/// `(first line number, text)` of each paragraph.
fn paragraphs(text: &str, markdown: bool) -> Vec<(usize, String)> {
    let mut paragraphs = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let mut in_code_block = false;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        let (content, joins) = if markdown {
            (trimmed, !trimmed.is_empty())
        } else if let Some(comment) = trimmed.strip_prefix("//") {
            let comment = comment.trim_start_matches(['/', '!']).trim();
            (comment, !comment.is_empty())
        } else {
            // Code: a paragraph of its own.
            paragraphs.extend(current.take());
            paragraphs.push((i + 1, trimmed.to_owned()));
            continue;
        };
        if content.starts_with("```") {
            in_code_block = !in_code_block;
            paragraphs.extend(current.take());
            continue;
        }
        if in_code_block {
            continue;
        }
        if !joins {
            paragraphs.extend(current.take());
            continue;
        }
        match current.as_mut() {
            Some((_, paragraph)) => {
                paragraph.push(' ');
                paragraph.push_str(content);
            }
            None => current = Some((i + 1, content.to_owned())),
        }
    }
    paragraphs.extend(current);
    paragraphs
}

/// The targets of `[text](target)` that name files: not web addresses, not
/// anchors within the page, not Rust paths.
fn link_targets(text: &str) -> Vec<String> {
    text.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            let target = &rest[..rest.find(')')?];
            let target = target.split_whitespace().next().unwrap_or_default();
            let target = target.split('#').next().unwrap_or_default();
            let is_file = !target.is_empty()
                && !target.contains("://")
                && !target.starts_with("mailto:")
                && !target.contains("::")
                && (target.contains('/') || has_extension(target));
            is_file.then(|| target.to_owned())
        })
        .collect()
}

/// The contents of the inline code spans of `text`.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).filter(|span| !span.is_empty()).collect()
}

/// A document named alone (`ARCHITECTURE.md`), or a relative path whose
/// last part has an extension (`docs/world-format.md`, `worlds/demo.json`).
fn looks_like_a_file(span: &str) -> bool {
    let path_characters = span.chars().all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c));
    if !path_characters || span.starts_with('/') || span.starts_with('.') {
        return false;
    }
    let last = span.rsplit('/').next().unwrap_or_default();
    span.ends_with(".md") || (span.contains('/') && has_extension(last))
}

/// `name.ext`, with a name and an extension of a letter then letters and
/// digits (so a version such as `http/1.1` is not a file).
fn has_extension(name: &str) -> bool {
    match name.rsplit_once('.') {
        Some((stem, extension)) => {
            !stem.is_empty()
                && extension.starts_with(|c: char| c.is_ascii_alphabetic())
                && extension.chars().all(|c| c.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// Whether `reference`, found in `file`, names one of `files`: relative to
/// the file's directory or to the root. A backticked path with a directory
/// may also be the end of a longer path (`resolve/reps.rs` in a section
/// about the model crate), since text often names a file from inside its
/// crate.
fn resolves(reference: &Reference, file: &str, files: &BTreeSet<String>) -> bool {
    let directory = Path::new(file).parent().and_then(Path::to_str).unwrap_or_default();
    let candidates = [join(directory, &reference.target), join("", &reference.target)];
    if candidates.iter().flatten().any(|candidate| files.contains(candidate)) {
        return true;
    }
    let target = reference.target.trim_start_matches("./");
    !reference.link && target.contains('/') && files.iter().any(|f| f.ends_with(&format!("/{target}")))
}

/// `relative` from `directory`, with `.` and `..` worked out; `None` when
/// it climbs above the root.
fn join(directory: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = directory.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// The rule numbers of `docs/behaviour.md` (headings `### 2.7 Title`), each
/// with how many headings carry it.
fn rule_ids(text: &str) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for line in text.lines() {
        let Some(heading) = line.strip_prefix("### ") else { continue };
        let id = heading.split_whitespace().next().unwrap_or_default();
        if is_rule_id(id) {
            *ids.entry(id.to_owned()).or_default() += 1;
        }
    }
    ids
}

/// `1.2`, `2.20`: a section and a rule number.
fn is_rule_id(text: &str) -> bool {
    let number = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit());
    text.split_once('.').is_some_and(|(section, rule)| number(section) && number(rule))
}

/// The names of the functions defined in `text`.
fn function_names(text: &str) -> Vec<String> {
    let identifier = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices("fn ")
        .filter(|(i, _)| !text[..*i].ends_with(identifier))
        .filter_map(|(i, _)| {
            let rest = &text[i + 3..];
            let name = &rest[..rest.find(|c: char| !identifier(c)).unwrap_or(rest.len())];
            (!name.is_empty()).then(|| name.to_owned())
        })
        .collect()
}

/// One row of the behaviour matrix.
#[derive(Debug, PartialEq)]
struct Row {
    line: usize,
    rules: Vec<String>,
    tests: Vec<String>,
}

/// The matrix: the `//! | rules | what | tests |` table of the behaviour
/// tests' module comment, without its header. Tests are the backticked
/// `module::name` paths of the last column.
fn matrix_rows(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        let Some(row) = line.strip_prefix("//!").map(str::trim).filter(|r| r.starts_with('|')) else {
            continue;
        };
        if !header_seen {
            header_seen = true;
            continue;
        }
        if row.starts_with("|---") {
            continue;
        }
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let (rules, tests) = match cells.as_slice() {
            [rules, _, tests] => (*rules, *tests),
            // A row of another shape names nothing, and is reported so.
            _ => ("", ""),
        };
        rows.push(Row {
            line: i + 1,
            rules: rules.split(',').map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned).collect(),
            tests: code_spans(tests).into_iter().filter(|s| is_test_path(s)).map(str::to_owned).collect(),
        });
    }
    rows
}

/// `module::name`: identifiers joined by `::`, at least two.
fn is_test_path(span: &str) -> bool {
    let parts: Vec<&str> = span.split("::").collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            p.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_links_and_backticked_paths_outside_code_blocks() {
        let text = "See [the rules](docs/rules.md#intro), [web](https://example.com/a.md), \
                    [below](#below)\nand `docs/x\n.md`, `ARCHITECTURE.md`, `a/b.rs`, `/api/v2/x.json`, \
                    `app.rs`, `application/json`, `http/1.1`.\n\n```sh\ncat `c/d.md`\n```\n";
        let found = references(text, true);
        let targets: Vec<(usize, &str, bool)> =
            found.iter().map(|r| (r.line, r.target.as_str(), r.link)).collect();
        assert_eq!(
            targets,
            [(1, "docs/rules.md", true), (1, "ARCHITECTURE.md", false), (1, "a/b.rs", false)]
        );
    }

    #[test]
    fn rust_comments_are_read_a_block_at_a_time_and_rust_links_are_not_files() {
        let text = "//! Names `crates/a/\n//! b.rs`? No: `crates/a/b.rs`.\n/// [`X`](crate::X)\nfn f() {}\n";
        let targets: Vec<String> = references(text, false).into_iter().map(|r| r.target).collect();
        assert_eq!(targets, ["crates/a/b.rs"]);
    }

    #[test]
    fn paths_resolve_from_the_file_the_root_or_inside_a_crate() {
        let files: BTreeSet<String> =
            ["docs/a.md", "README.md", "crates/m/src/resolve/reps.rs"].map(str::to_owned).into();
        let backticked = |target: &str| Reference { line: 1, target: target.to_owned(), link: false };
        assert!(resolves(&backticked("a.md"), "docs/b.md", &files));
        assert!(resolves(&backticked("../README.md"), "docs/b.md", &files));
        assert!(resolves(&backticked("docs/a.md"), "crates/m/src/lib.rs", &files));
        assert!(resolves(&backticked("resolve/reps.rs"), "ARCHITECTURE.md", &files));
        assert!(!resolves(&backticked("reps.md"), "ARCHITECTURE.md", &files));
        assert!(!resolves(&backticked("docs/c.md"), "README.md", &files));
        let link = Reference { line: 1, target: "resolve/reps.rs".to_owned(), link: true };
        assert!(!resolves(&link, "ARCHITECTURE.md", &files));
    }

    #[test]
    fn matrix_rows_carry_rule_numbers_and_test_paths() {
        let text = "//! | rules | what | tests |\n//! |---|---|---|\n\
                    //! | 1.2, 2.7 | `Bearer` | `errors::a_test`, `it::x::b_test` (`format: int64`) |\n\
                    //! | | odd row |\nuse x;\n";
        let rows = matrix_rows(text);
        assert_eq!(
            rows,
            [
                Row {
                    line: 3,
                    rules: vec!["1.2".into(), "2.7".into()],
                    tests: vec!["errors::a_test".into(), "it::x::b_test".into()]
                },
                Row { line: 4, rules: vec![], tests: vec![] },
            ]
        );
    }

    #[test]
    fn rule_ids_and_function_names_are_read_from_their_files() {
        let doc = "## 2. Create\n### 2.1 Outcome\n### Shape rules\n### 2.10 Flags\n### 2.1 Again\n";
        assert_eq!(rule_ids(doc), BTreeMap::from([("2.1".to_owned(), 2), ("2.10".to_owned(), 1)]));
        let code = "async fn a_test() {}\npub(crate) fn b() {}\nfn_c(); let x = f(|| fn_d);\n";
        assert_eq!(function_names(code), ["a_test", "b"]);
    }
}
