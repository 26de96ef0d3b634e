//! `cargo xtask`: chores that regenerate checked-in data.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Project chores for vigil's developers")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Regenerate the embedded ATT&CK table (crates/vigil-attack/data) from a STIX bundle.
    AttackTable {
        /// The ATT&CK Enterprise STIX bundle [default: $VIGIL_CORPUS/attack/enterprise-attack.json]
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// Only check that the checked-in table matches the bundle; exit 1 if not.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::AttackTable { bundle, check } => attack_table(bundle, check),
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn attack_table(bundle: Option<PathBuf>, check: bool) -> anyhow::Result<()> {
    let root = repo_root();
    let bundle = bundle.unwrap_or_else(|| {
        std::env::var_os("VIGIL_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("../shared/corpus"))
            .join("attack/enterprise-attack.json")
    });
    let json = std::fs::read_to_string(&bundle)
        .with_context(|| format!("reading {}", bundle.display()))?;
    let name = bundle
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let attack = vigil_attack::Attack::from_bundle(&json, &name)?;
    let dir = root.join("crates/vigil-attack/data");
    if check {
        let current = std::fs::read_to_string(dir.join(vigil_attack::TABLE_FILE))?;
        let text = std::fs::read(dir.join(vigil_attack::TEXT_FILE))?;
        if current != attack.table() || text != attack.terms_table() {
            anyhow::bail!(
                "the embedded ATT&CK table differs from {}: run `cargo xtask attack-table`",
                bundle.display()
            );
        }
        println!("the embedded ATT&CK table matches {}", bundle.display());
        return Ok(());
    }
    attack.write_embedded_dir(&dir)?;
    println!(
        "wrote ATT&CK {} ({} tactics, {} techniques, {} entities) to {}",
        attack.version().unwrap_or("(unknown version)"),
        attack.tactics().len(),
        attack.techniques().len(),
        attack.entities().len(),
        dir.display()
    );
    Ok(())
}
