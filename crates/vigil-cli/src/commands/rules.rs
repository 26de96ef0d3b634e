//! `vigil rules`: lint rule sets and install SigmaHQ's release.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use vigil_sigma::{LoadReport, Placeholders, RuleFailure, RuleSet, RuleSource};

use crate::Outcome;
use crate::args::{RulesLintArgs, RulesUpdateArgs, UsageError};
use crate::output::{say, thousands};

/// Where `vigil rules update` installs rules and `vigil hunt` finds them: `$VIGIL_DATA_DIR`,
/// else `$XDG_DATA_HOME/vigil`, else `~/.local/share/vigil`.
pub(crate) fn data_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_path_buf());
    }
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("VIGIL_DATA_DIR")
        .or_else(|| env("XDG_DATA_HOME").map(|d| d.join("vigil")))
        .or_else(|| env("HOME").map(|h| h.join(".local/share/vigil")))
}

/// The rules a command runs with: those given, else those installed; plus the built-in
/// pack unless `no_builtin`.
pub(crate) fn rule_sources(given: &[PathBuf], no_builtin: bool) -> Vec<RuleSource> {
    let mut sources: Vec<RuleSource> = if given.is_empty() {
        installed_rules()
            .map(RuleSource::Path)
            .into_iter()
            .collect()
    } else {
        given.iter().cloned().map(RuleSource::Path).collect()
    };
    if !no_builtin {
        sources.extend(vigil_sigma::builtin::sources());
    }
    sources
}

/// Replaces `target` with `staging` (a directory just written and checked).
pub(crate) fn replace_dir(staging: &Path, target: &Path) -> anyhow::Result<()> {
    if target.exists() {
        std::fs::remove_dir_all(target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
    }
    std::fs::rename(staging, target)
        .with_context(|| format!("cannot move {} to {}", staging.display(), target.display()))
}

/// The installed SigmaHQ rules, if `vigil rules update` has run.
pub(crate) fn installed_rules() -> Option<PathBuf> {
    let dir = data_dir(None)?.join("rules").join("sigma");
    dir.is_dir().then_some(dir)
}

/// Reads the placeholder file, if one is given.
pub(crate) fn placeholders(path: Option<&Path>) -> anyhow::Result<Option<Placeholders>> {
    path.map(|p| Placeholders::from_file(p).map_err(|e| UsageError(e.to_string()).into()))
        .transpose()
}

/// `path (id): reason`.
pub(crate) fn describe(failure: &RuleFailure) -> String {
    format!(
        "{}{}: {}",
        failure.path,
        failure
            .id
            .as_deref()
            .map(|id| format!(" ({id})"))
            .unwrap_or_default(),
        failure.reason
    )
}

pub(crate) fn lint(args: RulesLintArgs) -> anyhow::Result<Outcome> {
    let placeholders = placeholders(args.placeholders.as_deref())?;
    let sources: Vec<_> = args.paths.iter().cloned().map(RuleSource::Path).collect();
    let started = Instant::now();
    let (_, report) = RuleSet::load(&sources, placeholders.as_ref());
    if args.json {
        let out = json!({"loaded": report.loaded, "failed": report.failed});
        println!("{out}");
    } else {
        for failure in &report.failed {
            println!("failed  {}", describe(failure));
        }
        println!(
            "{} rule(s) loaded, {} failed, from {} file(s) in {} ms",
            thousands(report.loaded as u64),
            thousands(report.failed.len() as u64),
            thousands(report.files as u64),
            started.elapsed().as_millis()
        );
    }
    Ok(if report.failed.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Partial
    })
}

pub(crate) fn update(args: RulesUpdateArgs) -> anyhow::Result<Outcome> {
    let data = data_dir(args.data_dir.as_deref())
        .context("no data directory: set VIGIL_DATA_DIR or pass --data-dir")?;
    let target = data.join("rules").join("sigma");
    let staging = data.join("rules").join(".sigma.new");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("cannot clear {}", staging.display()))?;
    }
    std::fs::create_dir_all(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    match &args.from {
        Some(from) if from.is_dir() => copy_rules(from, &staging)?,
        Some(from) => {
            let bytes =
                std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
            unzip_rules(&bytes, &staging).with_context(|| format!("{}", from.display()))?;
        }
        None => {
            say!("downloading {}", args.url);
            let bytes = crate::download::get(&args.url)?;
            unzip_rules(&bytes, &staging).with_context(|| args.url.clone())?;
        }
    }
    // The new set must load before it replaces the old one.
    let (_, report) = RuleSet::load(&[RuleSource::Path(staging.clone())], None);
    check_installable(&report)?;
    replace_dir(&staging, &target)?;
    say!(
        "installed {} rule(s) into {} ({} failed to load; `vigil rules lint {}` shows why)",
        thousands(report.loaded as u64),
        target.display(),
        report.failed.len(),
        target.display()
    );
    Ok(Outcome::Clean)
}

fn check_installable(report: &LoadReport) -> anyhow::Result<()> {
    if report.loaded == 0 {
        anyhow::bail!("the release holds no rule vigil can load; nothing was installed");
    }
    Ok(())
}

/// Copies the `.yml` files of a rules directory, keeping their relative paths.
fn copy_rules(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in RuleSet::files(from).0 {
        let relative = entry.strip_prefix(from).unwrap_or(&entry);
        let dest = to.join(relative);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&entry, &dest).with_context(|| format!("cannot copy {}", entry.display()))?;
    }
    Ok(())
}

/// Unpacks the rule files (`.yml`) of a release zip, refusing paths that leave the target.
fn unzip_rules(bytes: &[u8], to: &Path) -> anyhow::Result<()> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).context("not a zip archive")?;
    let mut written = 0usize;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i)?;
        let Some(relative) = file.enclosed_name() else {
            continue;
        };
        if file.is_dir()
            || !matches!(
                relative.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml")
            )
        {
            continue;
        }
        let dest = to.join(&relative);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = std::fs::File::create(&dest)
            .with_context(|| format!("cannot create {}", dest.display()))?;
        std::io::copy(&mut file, &mut out)?;
        written += 1;
    }
    if written == 0 {
        anyhow::bail!("the archive holds no .yml rule files");
    }
    Ok(())
}
