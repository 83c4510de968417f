//! `cargo xtask package [--report-only]`: each library crate packs on its
//! own.
//!
//! Two checks. `cargo package --no-verify` packs each library crate, which
//! fails on manifest problems (a missing licence or description, a path
//! dependency without a version). Then every `include_str!`,
//! `include_bytes!` and `#[path = ...]` in the crate's sources, tests and
//! benches must name a file inside the crate: a published crate carries only
//! its own directory, so a test that reaches into a sibling crate builds here
//! and nowhere else. `--report-only` lists those without failing.

use std::path::{Component, Path, PathBuf};

use anyhow::{Result, bail};

use crate::{cargo, no_more_options, project_root};

/// The crates that are published, in dependency order.
pub(crate) const LIBRARIES: &[&str] = &["iteration-model", "iteration-transport", "iteration-api"];

/// Options of `cargo xtask package`.
pub(crate) struct Options {
    report_only: bool,
}

impl Options {
    pub(crate) fn parse(options: &[String]) -> Result<Options> {
        let report_only = options.iter().any(|o| o == "--report-only");
        let rest: Vec<String> = options.iter().filter(|o| *o != "--report-only").cloned().collect();
        no_more_options("package", &rest)?;
        Ok(Options { report_only })
    }
}

pub(crate) fn run(options: &Options) -> Result<()> {
    let mut pack = cargo();
    pack.args(["package", "--allow-dirty", "--no-verify"]);
    for library in LIBRARIES {
        pack.args(["-p", library]);
    }
    let status = pack.status()?;
    if !status.success() {
        bail!("cargo package failed ({status}); see its output above");
    }
    let root = project_root();
    let mut outside = Vec::new();
    for library in LIBRARIES {
        let dir = root.join("crates").join(library);
        for file in rust_files(&dir)? {
            let text = std::fs::read_to_string(&file)?;
            for (line, target) in included_paths(&text) {
                if !inside(&dir, &file, &target) {
                    let shown = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
                    outside.push(format!("{shown}:{line}: {target}"));
                }
            }
        }
    }
    if outside.is_empty() {
        println!("each library crate packs and uses only its own files");
        return Ok(());
    }
    let list = outside.join("\n  ");
    if options.report_only {
        println!("files outside their crate (a packaged crate would not build these):\n  {list}");
        return Ok(());
    }
    bail!("files outside their crate (a packaged crate would not build these):\n  {list}")
}

/// Every `.rs` file under `dir`, skipping `target`.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The line and path of each `include_str!("...")`, `include_bytes!("...")`
/// and `#[path = "..."]` in `text`.
fn included_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut on_line = Vec::new();
        for opener in ["include_str!(\"", "include_bytes!(\"", "#[path = \""] {
            for (start, _) in line.match_indices(opener) {
                let rest = &line[start + opener.len()..];
                if let Some(end) = rest.find('"') {
                    on_line.push((start, rest[..end].to_owned()));
                }
            }
        }
        on_line.sort();
        found.extend(on_line.into_iter().map(|(_, path)| (number + 1, path)));
    }
    found
}

/// Whether `target`, as written in `file`, names a file inside `crate_dir`.
/// Relative paths are relative to the file's directory, for the include
/// macros and (close enough for this check) for `#[path]`.
fn inside(crate_dir: &Path, file: &Path, target: &str) -> bool {
    let base = file.parent().unwrap_or(crate_dir);
    let mut resolved = PathBuf::new();
    for component in base.join(target).components() {
        match component {
            Component::ParentDir => {
                resolved.pop();
            }
            Component::CurDir => {}
            other => resolved.push(other),
        }
    }
    resolved.starts_with(crate_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_and_module_paths_are_found() {
        let text = "const A: &str = include_str!(\"../fixtures/a.json\");\n\
                    // include_str!(\"ignored.json\")\n\
                    #[path = \"../../../other/tests/schema.rs\"]\n\
                    mod schema;\n\
                    const B: &[u8] = include_bytes!(\"b.bin\"); const C: &str = include_str!(\"c.txt\");\n";
        assert_eq!(
            included_paths(text),
            [
                (1, "../fixtures/a.json".to_owned()),
                (3, "../../../other/tests/schema.rs".to_owned()),
                (5, "b.bin".to_owned()),
                (5, "c.txt".to_owned()),
            ]
        );
    }

    #[test]
    fn paths_are_resolved_from_the_including_file() {
        let crate_dir = Path::new("/repo/crates/api");
        let file = crate_dir.join("src/client/request.rs");
        assert!(inside(crate_dir, &file, "../../fixtures/x.json"));
        assert!(!inside(crate_dir, &file, "../../../model/fixtures/x.json"));
        assert!(!inside(crate_dir, &file, "../../../../README.md"));
    }
}
