//! End-to-end tests of the `vigil` binary over the bundled examples and the shared corpus.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod formats;
mod hunt;
mod parse;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `vigil` with `args` from the repository root.
pub(crate) fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(vigil_test_support::workspace_root())
        .env_remove("VIGIL_LOG")
        .output()
        .expect("vigil runs")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub(crate) fn path_arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}
