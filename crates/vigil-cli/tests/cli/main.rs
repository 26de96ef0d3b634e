//! End-to-end tests of the `vigil` binary over the bundled examples and the shared corpus.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod attack;
mod audit;
mod formats;
mod hunt;
mod incidents;
mod llm;
mod parse;
mod report;
mod serve;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `vigil` with `args` from the repository root.
pub(crate) fn vigil(args: &[&str]) -> Output {
    command(args).output().expect("vigil runs")
}

/// Runs `vigil` with `args` from the repository root, with `VIGIL_DATA_DIR` set to
/// `data_dir` so that rules installed on the machine stay out.
pub(crate) fn vigil_with_data_dir(args: &[&str], data_dir: &Path) -> Output {
    command(args)
        .env("VIGIL_DATA_DIR", data_dir)
        .output()
        .expect("vigil runs")
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vigil"));
    command
        .args(args)
        .current_dir(vigil_test_support::workspace_root())
        .env_remove("VIGIL_LOG");
    command
}

/// Hunts the bundled examples into `out` (with `extra` arguments), keeping rules and ATT&CK
/// data installed on the machine out.
pub(crate) fn hunt_examples_into(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "hunt",
        "examples/",
        "--year",
        "2024",
        "--out",
        path_arg(out),
    ];
    args.extend_from_slice(extra);
    vigil_with_data_dir(&args, &out.join("data"))
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
