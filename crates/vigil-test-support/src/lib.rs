//! Helpers vigil's tests share.
//!
//! - [`corpus`] finds the shared corpus of real samples (`$VIGIL_CORPUS`, by default
//!   `../shared/corpus` beside the repository). Without it, tests that need it are skipped
//!   with a note, except under `CI=true`, where a missing corpus fails the test.
//! - [`fixtures`] is the repository's own `fixtures/` folder.
//! - [`snapshot_settings`] are the `insta` settings that keep snapshots free of machine
//!   paths.
//!
//! ```
//! if let Some(corpus) = vigil_test_support::corpus() {
//!     assert!(corpus.join("evtx").is_dir());
//! }
//! ```
#![warn(missing_docs)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The repository's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    workspace_root().join("fixtures")
}

/// The repository's `examples/` folder.
pub fn examples() -> PathBuf {
    workspace_root().join("examples")
}

/// The shared corpus, or `None` (with a note on stderr) when it is absent and `CI` is not
/// `true`.
///
/// # Panics
/// Under `CI=true` when the corpus is missing: CI must not pass by skipping.
pub fn corpus() -> Option<PathBuf> {
    let path = match std::env::var_os("VIGIL_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => workspace_root().join("..").join("shared").join("corpus"),
    };
    if path.is_dir() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "the shared corpus is missing at {} (set VIGIL_CORPUS); under CI=true this is a failure",
            path.display()
        );
    }
    eprintln!(
        "note: skipping: the shared corpus is missing at {} (set VIGIL_CORPUS)",
        path.display()
    );
    None
}

/// Whether the command-line tool `name` (e.g. `pdftotext`, installed by `scripts/setup`) is
/// on the `PATH`; when it is not, a note on stderr says the test is skipped.
///
/// # Panics
/// Under `CI=true` when the tool is missing: CI must not pass by skipping.
pub fn tool(name: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()));
    if found {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{name} is missing (install it with scripts/setup); under CI=true this is a failure"
        );
    }
    eprintln!("note: skipping: {name} is missing (install it with scripts/setup)");
    false
}

/// A path inside the corpus, when the corpus is present (see [`corpus`]).
///
/// # Panics
/// When the corpus is present but the path is not: a renamed sample must fail loudly.
pub fn corpus_path(relative: &str) -> Option<PathBuf> {
    let path = corpus()?.join(relative);
    assert!(path.exists(), "corpus sample missing: {}", path.display());
    Some(path)
}

/// Returns from the test early when the corpus is absent (see [`corpus`]).
#[macro_export]
macro_rules! require_corpus {
    () => {
        match $crate::corpus() {
            Some(path) => path,
            None => return,
        }
    };
}

/// All files under `dir` whose name ends with `extension`, sorted.
pub fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(extension))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `insta` settings for vigil snapshots: the corpus and repository paths are replaced with
/// `[corpus]` and `[repo]`, so snapshots read the same on every machine.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    if let Some(corpus) = corpus()
        && let Ok(corpus) = corpus.canonicalize()
    {
        settings.add_filter(&regex_escape(&corpus.display().to_string()), "[corpus]");
    }
    let root = workspace_root();
    settings.add_filter(
        &regex_escape(
            &root
                .join("..")
                .join("shared")
                .join("corpus")
                .display()
                .to_string(),
        ),
        "[corpus]",
    );
    settings.add_filter(&regex_escape(&root.display().to_string()), "[repo]");
    settings
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
