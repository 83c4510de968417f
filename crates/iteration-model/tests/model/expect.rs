//! Generated files: the one place that writes them.
//!
//! Every generated fixture goes through [`ensure_file_contents`]: by default
//! it only checks that the file on disk is what the current code produces,
//! and fails naming the file and the command that regenerates it; with
//! `UPDATE_EXPECT=1` it rewrites the file. `cargo xtask fixtures` runs the
//! fixture tests with `UPDATE_EXPECT=1`, and `cargo xtask fixtures --check`
//! runs them without it, so stale fixtures fail both `cargo test` and CI.
//!
//! Generated JSON files are objects whose first field, `_generated`, says so;
//! the payload sits beside it under one named field (see [`generated_json`]).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

/// The first field of every generated JSON file.
pub(crate) const GENERATED: &str = "by `cargo xtask fixtures`; do not edit";

/// The command that regenerates every fixture, for failure messages.
pub(crate) const REGENERATE: &str =
    "run `cargo xtask fixtures` (or `UPDATE_EXPECT=1 cargo test -p iteration-model --test model fixtures`)";

/// The marker a stale file's failure message starts with; `cargo xtask
/// fixtures --check` looks for it to name the stale files.
pub(crate) const STALE: &str = "stale fixture:";

/// `crates/iteration-model`, where the fixtures live.
pub(crate) fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `crates/iteration-model/fixtures/<parts>`.
pub(crate) fn fixture(parts: &str) -> PathBuf {
    crate_dir().join("fixtures").join(parts)
}

fn update_mode() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Makes sure `path` holds exactly `contents`: rewrites it under
/// `UPDATE_EXPECT=1`, else panics naming the file and the command to run.
pub(crate) fn ensure_file_contents(path: &Path, contents: &str) {
    let shown = path.strip_prefix(crate_dir()).unwrap_or(path).display().to_string();
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return;
    }
    if update_mode() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        }
        std::fs::write(path, contents).unwrap_or_else(|e| panic!("write {shown}: {e}"));
        eprintln!("updated {shown}");
        return;
    }
    panic!(
        "{STALE} crates/iteration-model/{shown} is missing or out of date; {REGENERATE}, then review the diff"
    );
}

/// A generated JSON file: `{"_generated": ..., "<field>": payload}`, pretty,
/// with the payload's own field order and a final newline.
pub(crate) fn generated_json<T: Serialize>(field: &str, payload: &T) -> String {
    struct Wrapped<'a, T> {
        field: &'a str,
        payload: &'a T,
    }
    impl<T: Serialize> Serialize for Wrapped<'_, T> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(2))?;
            map.serialize_entry("_generated", GENERATED)?;
            map.serialize_entry(self.field, self.payload)?;
            map.end()
        }
    }
    let mut text = serde_json::to_string_pretty(&Wrapped { field, payload })
        .unwrap_or_else(|e| panic!("serialize the {field} fixture: {e}"));
    text.push('\n');
    text
}

/// Reads a JSON file.
pub(crate) fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The payload of a generated JSON file, under `field`.
pub(crate) fn read_generated(path: &Path, field: &str) -> Value {
    let mut value = read_json(path);
    assert_eq!(value["_generated"], GENERATED, "{} does not say it is generated", path.display());
    value.get_mut(field).map(Value::take).unwrap_or_else(|| panic!("{} has no {field:?}", path.display()))
}

/// The input files of a data-driven fixture directory: every `*.json` that
/// is not a generated expectation (`<case>.<suffix>.json`), sorted by name.
pub(crate) fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap_or_else(|e| panic!("read {}: {e}", dir.display())).path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .is_some_and(|stem| !stem.contains('.'))
        })
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    cases
}

/// `<dir>/<case>.<suffix>.json` beside the case `<dir>/<case>.json`.
pub(crate) fn beside(case: &Path, suffix: &str) -> PathBuf {
    let stem = case.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    case.with_file_name(format!("{stem}.{suffix}.json"))
}

/// Panics if `dir` holds generated expectations whose case file is gone, so
/// that deleting a case deletes its expectation too.
pub(crate) fn assert_no_orphans(dir: &Path, suffix: &str) {
    let tail = format!(".{suffix}.json");
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("read {}: {e}", dir.display())).path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if let Some(stem) = name.strip_suffix(&tail) {
            assert!(
                dir.join(format!("{stem}.json")).exists(),
                "{STALE} {} has no case {stem}.json beside it; delete it",
                path.display()
            );
        }
    }
}
