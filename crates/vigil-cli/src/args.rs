//! The command-line grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// vigil: threat hunting and alert triage over the logs you already have.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); `VIGIL_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Only errors on stderr: no progress bar, no warnings, no summary line.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
    /// Worker threads (default: the number of CPUs).
    #[arg(short = 'j', long, global = true, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Never draw a progress bar, even on a terminal.
    #[arg(long, global = true)]
    pub(crate) no_progress: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Read logs and print them as normalized events (JSON Lines), or summarize with --stats.
    Parse(ParseArgs),
    /// List the log formats vigil reads.
    Formats(FormatsArgs),
    /// Hunt: match Sigma rules over logs and write detections.jsonl and summary.json.
    Hunt(HuntArgs),
    /// Check, list and install Sigma rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Write a report of a hunt's incidents (from `vigil hunt --out DIR`).
    Report(ReportArgs),
    /// MITRE ATT&CK: map text to techniques, show a technique, coverage and Navigator layers.
    #[command(subcommand)]
    Attack(AttackCommand),
    /// Run vigil as a team server: the REST API under /api/v1 (first start creates the
    /// admin from $VIGIL_ADMIN_PASSWORD, or prints a one-time password).
    Serve(ServeArgs),
    /// The server's audit log: check its hash chain for tampering.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Hunt with a question in plain words ("SSH brute force from the last 3 days"): a
    /// model (or, without one, the built-in parser) turns it into a query the engine runs.
    Ask(AskArgs),
    /// Investigate an incident: a model calls read-only tools within a step and token
    /// budget (without a model, a fixed plan runs); the transcript is kept.
    Investigate(InvestigateArgs),
}

/// Which LLM providers to use (shared by `ask`, `investigate` and `report`).
#[derive(Debug, Args)]
pub(crate) struct LlmArgs {
    /// A providers file (TOML, `[[provider]]` tables tried in order; see the README's
    /// "LLM" section). Default: $VIGIL_LLM_CONFIG.
    #[arg(long, value_name = "FILE", env = "VIGIL_LLM_CONFIG")]
    pub(crate) llm: Option<PathBuf>,
    /// An in-process GGUF model (a build with `--features local`), tried after the
    /// providers file's. Default: $VIGIL_LLM_MODEL.
    #[arg(long, value_name = "GGUF", env = "VIGIL_LLM_MODEL")]
    pub(crate) llm_model: Option<PathBuf>,
    /// Use no model even when one is configured (deterministic output only).
    #[arg(long)]
    pub(crate) no_llm: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AskArgs {
    /// The question, in quotes.
    #[arg(value_name = "QUESTION")]
    pub(crate) question: String,
    /// Logs to hunt and search (files, directories, archives); or use --from.
    #[arg(value_name = "PATH", required_unless_present = "from")]
    pub(crate) paths: Vec<PathBuf>,
    /// A directory `vigil hunt --out` wrote, to ask about instead of hunting again.
    #[arg(long, value_name = "DIR", conflicts_with = "paths")]
    pub(crate) from: Option<PathBuf>,
    /// "Now" for relative windows ("the last 3 days"), RFC 3339 (default: the newest
    /// event in the data, so old logs answer for their own time).
    #[arg(long, value_name = "TIME")]
    pub(crate) now: Option<String>,
    /// Print the plan and the answer as one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
    /// Only turn the question into a query and print it; run nothing.
    #[arg(long)]
    pub(crate) plan_only: bool,
    #[command(flatten)]
    pub(crate) llm: LlmArgs,
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
    #[command(flatten)]
    pub(crate) read: ReadArgs,
}

#[derive(Debug, Args)]
pub(crate) struct InvestigateArgs {
    /// The incident's id (from incidents.json), or a unique prefix of it.
    #[arg(value_name = "INCIDENT")]
    pub(crate) incident: String,
    /// The directory `vigil hunt --out` wrote.
    #[arg(long, value_name = "DIR")]
    pub(crate) from: PathBuf,
    /// Tool calls at most (the built-in plan's lookups count too).
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub(crate) max_steps: u32,
    /// Prompt and answer tokens at most, over all calls.
    #[arg(long, value_name = "N", default_value_t = 40_000)]
    pub(crate) max_tokens: u64,
    /// Where to keep the transcript (default: DIR/investigations/INCIDENT-TIME.json).
    #[arg(long, value_name = "FILE")]
    pub(crate) transcript: Option<PathBuf>,
    /// Print the whole investigation as JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) llm: LlmArgs,
    #[command(flatten)]
    pub(crate) attack: AttackSourceArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) bind: String,
    /// vigil's data directory, where the store (vigil.db) and the token key live
    /// (default: $VIGIL_DATA_DIR, else the user's data directory).
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// The store: an SQLite file or a postgres:// URL (default: $VIGIL_STORE, else
    /// vigil.db in the data directory).
    #[arg(long, value_name = "PATH|URL")]
    pub(crate) store: Option<String>,
    /// Receive syslog (RFC 3164 and 5424) datagrams on this UDP address.
    #[arg(long, value_name = "ADDR")]
    pub(crate) syslog_udp: Option<String>,
    /// Receive syslog on this TCP address (octet-counted or newline-framed messages).
    #[arg(long, value_name = "ADDR")]
    pub(crate) syslog_tcp: Option<String>,
    /// Stored events not yet hunted beyond which senders are told to wait (HTTP 429,
    /// paused TCP reads, dropped UDP datagrams).
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    pub(crate) max_lag: u64,
    /// Requests per second each client (IP address) may make on average, with bursts of
    /// four times as many; over it, 429 with Retry-After. 0: no limit.
    #[arg(long, value_name = "N", default_value_t = 100.0)]
    pub(crate) rate_limit: f64,
    /// The year of syslog dates that have none (default: guessed from the time they are
    /// hunted).
    #[arg(long, value_name = "YEAR")]
    pub(crate) year: Option<i16>,
    /// Time zone of times without an offset: IANA name (Europe/Berlin), UTC, or +02:00.
    #[arg(long, value_name = "TZ", default_value = "UTC")]
    pub(crate) timezone: String,
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
    /// The models `/api/v1/ask`, narratives and investigations ask (without any: the
    /// built-in parser and investigation plan; no narratives).
    #[command(flatten)]
    pub(crate) llm: LlmArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check every record of the audit log: sequence, content hashes and links. Exit 1 when
    /// a record was changed, removed or relinked.
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AuditVerifyArgs {
    /// The store: an SQLite file or a postgres:// URL (default: $VIGIL_STORE, else
    /// vigil.db in vigil's data directory).
    #[arg(long, value_name = "PATH|URL")]
    pub(crate) store: Option<String>,
    /// vigil's data directory (default: $VIGIL_DATA_DIR, else the user's data directory).
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Print the verdict as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The directory `vigil hunt --out` wrote (detections.jsonl, incidents.json, summary.json).
    #[arg(long, value_name = "DIR")]
    pub(crate) from: PathBuf,
    /// The format: md, html, pdf (a build with `--features pdf`), docx, json, csv (timeline)
    /// or jsonl (timeline).
    #[arg(long, value_name = "FORMAT", default_value = "md")]
    pub(crate) format: String,
    /// Where to write it (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// A directory whose templates (`report.md`, `report.html`, `report.typ`) replace the
    /// built-in ones.
    #[arg(long, value_name = "DIR")]
    pub(crate) template_dir: Option<PathBuf>,
    /// Report one incident only (its id from incidents.json, or a unique prefix of it).
    #[arg(long, value_name = "ID")]
    pub(crate) incident: Option<String>,
    /// Also write each incident's narrative outcome (accepted, rejected, failed) as JSON.
    #[arg(long, value_name = "FILE")]
    pub(crate) narratives: Option<PathBuf>,
    /// With a model configured, incidents get a narrative written from their facts and
    /// checked against them; otherwise the deterministic summary.
    #[command(flatten)]
    pub(crate) llm: LlmArgs,
    #[command(flatten)]
    pub(crate) attack: AttackSourceArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AttackCommand {
    /// Install a newer ATT&CK Enterprise STIX bundle into vigil's data directory; it then
    /// takes precedence over the table built into vigil.
    Update(AttackUpdateArgs),
    /// Map free text (an alert title, a rule, a report paragraph) to ranked techniques.
    Map(AttackMapArgs),
    /// Show a technique, tactic, group, software or mitigation by id (`T1003.001`).
    Show(AttackShowArgs),
    /// ATT&CK coverage of a rule set: a tactic-by-technique summary and a Navigator layer.
    Coverage(AttackCoverageArgs),
    /// A Navigator layer of what a hunt detected (from detections.jsonl).
    Layer(AttackLayerArgs),
}

/// Where ATT&CK data comes from (shared by the `attack` subcommands and `hunt`).
#[derive(Debug, Args)]
pub(crate) struct AttackSourceArgs {
    /// An ATT&CK STIX bundle (JSON) or a directory written by `vigil attack update`.
    /// Default: the one `vigil attack update` installed, else the table built into vigil.
    #[arg(long, value_name = "PATH")]
    pub(crate) attack: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct AttackUpdateArgs {
    /// A bundle file or an https URL.
    #[arg(
        long,
        value_name = "FILE|URL",
        default_value = "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/enterprise-attack/enterprise-attack.json"
    )]
    pub(crate) from: String,
    /// vigil's data directory (default: $VIGIL_DATA_DIR, else the user's data directory).
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct AttackMapArgs {
    /// The text to map (several arguments are joined with spaces).
    #[arg(required = true, value_name = "TEXT")]
    pub(crate) text: Vec<String>,
    /// How many techniques to list at most.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 5)]
    pub(crate) limit: usize,
    /// Print `[{"id","name","tactics","confidence","evidence"}]`.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) source: AttackSourceArgs,
}

#[derive(Debug, Args)]
pub(crate) struct AttackShowArgs {
    /// The id (`T1003.001`, `TA0006`, `G0016`, `S0002`, `M1043`) or a tactic name.
    #[arg(value_name = "ID")]
    pub(crate) id: String,
    /// Print the object as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) source: AttackSourceArgs,
}

#[derive(Debug, Args)]
pub(crate) struct AttackCoverageArgs {
    /// Sigma rule files or directories (repeatable). Default: the rules installed by
    /// `vigil rules update`, if any; the built-in pack is added unless --no-builtin.
    #[arg(short, long, value_name = "DIR")]
    pub(crate) rules: Vec<PathBuf>,
    /// Do not add the built-in rule pack.
    #[arg(long)]
    pub(crate) no_builtin: bool,
    /// Where to write the Navigator layer.
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = "coverage-layer.json"
    )]
    pub(crate) out: PathBuf,
    /// Print the coverage as JSON instead of the terminal summary.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) source: AttackSourceArgs,
}

#[derive(Debug, Args)]
pub(crate) struct AttackLayerArgs {
    /// detections.jsonl as `vigil hunt --out` writes it.
    #[arg(long, value_name = "FILE")]
    pub(crate) detections: PathBuf,
    /// Where to write the Navigator layer.
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = "detections-layer.json"
    )]
    pub(crate) out: PathBuf,
    /// Print the coverage as JSON instead of the terminal summary.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) source: AttackSourceArgs,
}

#[derive(Debug, Args)]
pub(crate) struct HuntArgs {
    /// Files, directories (walked recursively) and archives (gzip, zip, tar, tar.gz).
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Write detections.jsonl and summary.json into DIR (created if needed).
    #[arg(short, long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    pub(crate) json: bool,
    /// How many incidents the terminal table shows.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(crate) top: usize,
    /// Also write reports into the --out directory (`report.<ext>`): a comma-separated list
    /// of md, html, pdf (a build with `--features pdf`), docx, json, csv, jsonl.
    #[arg(long, value_name = "FORMATS", requires = "out", value_delimiter = ',')]
    pub(crate) report: Vec<String>,
    /// A directory whose templates (`report.md`, `report.html`, `report.typ`) replace the
    /// built-in ones for --report.
    #[arg(long, value_name = "DIR", requires = "report")]
    pub(crate) template_dir: Option<PathBuf>,
    /// With a model configured, --report incidents get narratives checked against their
    /// facts (as `vigil report --llm`).
    #[command(flatten)]
    pub(crate) llm: LlmArgs,
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
    #[command(flatten)]
    pub(crate) read: ReadArgs,
}

/// What a hunt matches with and how it folds and scores: shared by `hunt` and `serve`.
#[derive(Debug, Args)]
pub(crate) struct EngineArgs {
    /// Sigma rule files or directories (repeatable). Default: the rules installed by
    /// `vigil rules update`, if any. The built-in pack is always added unless --no-builtin.
    #[arg(short, long, value_name = "DIR")]
    pub(crate) rules: Vec<PathBuf>,
    /// Do not add the built-in rule pack.
    #[arg(long)]
    pub(crate) no_builtin: bool,
    /// Values for `|expand` placeholders: a YAML file of `name: [values]`.
    #[arg(long, value_name = "FILE")]
    pub(crate) placeholders: Option<PathBuf>,
    /// Report only detections of rules at or above this level: informational, low,
    /// medium, high or critical.
    #[arg(long, value_name = "LEVEL", default_value = "informational")]
    pub(crate) min_level: String,
    /// Detections sharing a host, user, IP, session or process join one incident when at
    /// most this far apart: `90m`, `2h`, `1d`, or seconds.
    #[arg(long, value_name = "DURATION", default_value = "2h")]
    pub(crate) window: String,
    /// Suppression rules (TOML: `[[suppress]]` with `rule`, `where`, `reason`, `owner`,
    /// `expires`); suppressed detections go to `suppressed.jsonl`, not into incidents.
    #[arg(long, value_name = "FILE")]
    pub(crate) suppressions: Option<PathBuf>,
    /// Triage settings (TOML: asset and identity criticality, weights, severity bands).
    #[arg(long, value_name = "FILE")]
    pub(crate) triage: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) attack: AttackSourceArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Load rules and report each file or rule that fails, with the reason.
    Lint(RulesLintArgs),
    /// Install the current SigmaHQ rule release into vigil's data directory.
    Update(RulesUpdateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RulesLintArgs {
    /// Rule files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Print `{"loaded":N,"failed":[{"path","id","reason"}]}`.
    #[arg(long)]
    pub(crate) json: bool,
    /// Values for `|expand` placeholders: a YAML file of `name: [values]`.
    #[arg(long, value_name = "FILE")]
    pub(crate) placeholders: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RulesUpdateArgs {
    /// Install from a downloaded release archive (zip) or a rules directory instead of
    /// downloading.
    #[arg(long, value_name = "FILE")]
    pub(crate) from: Option<PathBuf>,
    /// The release archive to download.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://github.com/SigmaHQ/sigma/releases/latest/download/sigma_all_rules.zip"
    )]
    pub(crate) url: String,
    /// vigil's data directory (default: $VIGIL_DATA_DIR, else the user's data directory).
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
}

/// How inputs are read (shared by `parse` and `hunt`).
#[derive(Debug, Args)]
pub(crate) struct ReadArgs {
    /// Read every input as this format instead of detecting it (see `vigil formats`).
    #[arg(short, long, value_name = "NAME")]
    pub(crate) format: Option<String>,
    /// The year of syslog timestamps that have none (default: guessed from each file's
    /// modification time).
    #[arg(long, value_name = "YEAR")]
    pub(crate) year: Option<i16>,
    /// The time zone of timestamps written without an offset: an IANA name
    /// (`Europe/Berlin`), `UTC`, or a fixed offset (`+02:00`).
    #[arg(long, value_name = "TZ", default_value = "UTC")]
    pub(crate) timezone: String,
    /// How many record errors per input to print on stderr (all are counted).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub(crate) show_errors: usize,
}

#[derive(Debug, Args)]
pub(crate) struct ParseArgs {
    /// Files, directories (walked recursively) and archives (gzip, zip, tar, tar.gz); `-`
    /// reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Print per-file format, records, events and errors instead of the events.
    #[arg(long)]
    pub(crate) stats: bool,
    /// With --stats: print the summary as one JSON object.
    #[arg(long, requires = "stats")]
    pub(crate) json: bool,
    /// Write events (or the summary) to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Write every record error as JSON Lines to FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) errors: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) read: ReadArgs,
    /// Keep only the readers' own field names: do not add ECS and Sigma names or the
    /// Sigma log source.
    #[arg(long)]
    pub(crate) no_taxonomy: bool,
}

#[derive(Debug, Args)]
pub(crate) struct FormatsArgs {
    /// Print the list as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// A mistake in how vigil was called: exit code 2.
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn json_needs_stats() {
        assert!(Cli::try_parse_from(["vigil", "parse", "--json", "x"]).is_err());
        assert!(Cli::try_parse_from(["vigil", "parse", "--stats", "--json", "x"]).is_ok());
    }
}
