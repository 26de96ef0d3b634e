//! `vigil`: the command line. Thin: it parses arguments, sets up logging and threads, and
//! calls the library crates.

mod args;
mod commands;
mod download;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use args::{Cli, Command};

/// What a finished command tells the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything was read and done.
    Clean,
    /// The command finished, but some records or inputs failed.
    Partial,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose, cli.global.quiet);
    let result = match cli.command {
        Command::Parse(args) => commands::parse::run(&cli.global, args),
        Command::Formats(args) => commands::formats::run(args),
        Command::Hunt(args) => commands::hunt::run(&cli.global, args),
        Command::Rules(args::RulesCommand::Lint(args)) => commands::rules::lint(args),
        Command::Rules(args::RulesCommand::Update(args)) => commands::rules::update(args),
        Command::Attack(command) => commands::attack::run(command),
        Command::Report(args) => commands::report::run(args),
        Command::Audit(args::AuditCommand::Verify(args)) => commands::audit::verify(args),
        Command::Serve(args) => commands::serve::run(&cli.global, args),
        Command::Ask(args) => commands::ask::run(&cli.global, args),
        Command::Investigate(args) => commands::investigate::run(&cli.global, args),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(1),
        Err(error) => {
            if let Some(usage) = error.downcast_ref::<args::UsageError>() {
                output::say!("error: {usage}");
                return ExitCode::from(2);
            }
            if output::is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            output::say!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// Logs go to stderr; `VIGIL_LOG` overrides the level (`VIGIL_LOG=vigil_ingest=debug`,
/// `VIGIL_LOG=info` for the server's request log), `VIGIL_LOG_FORMAT=json` writes one JSON
/// object a line with the request's span fields.
fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("VIGIL_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if std::env::var("VIGIL_LOG_FORMAT").is_ok_and(|f| f == "json") {
        logs.json().with_current_span(true).init();
    } else {
        logs.without_time().init();
    }
}
