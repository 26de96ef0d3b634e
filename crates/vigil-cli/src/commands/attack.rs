//! `vigil attack`: the ATT&CK knowledge base from the terminal.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;
use vigil_attack::{Attack, Coverage, Mapping, Object, Technique, TextMapper};
use vigil_detect::RuleTechniques;
use vigil_sigma::RuleSet;

use crate::Outcome;
use crate::args::{
    AttackCommand, AttackCoverageArgs, AttackLayerArgs, AttackMapArgs, AttackShowArgs,
    AttackSourceArgs, AttackUpdateArgs, UsageError,
};
use crate::commands::rules::{data_dir, describe, replace_dir, rule_sources};
use crate::output::{say, thousands};

pub(crate) fn run(command: AttackCommand) -> anyhow::Result<Outcome> {
    match command {
        AttackCommand::Update(args) => update(args),
        AttackCommand::Map(args) => map(args),
        AttackCommand::Show(args) => show(args),
        AttackCommand::Coverage(args) => coverage(args),
        AttackCommand::Layer(args) => layer(args),
    }
}

/// The installed table's directory, when `vigil attack update` has run.
fn installed() -> Option<PathBuf> {
    let dir = data_dir(None)?.join("attack");
    dir.join(vigil_attack::TABLE_FILE).is_file().then_some(dir)
}

/// ATT&CK from `--attack`, else the installed table, else the embedded one.
pub(crate) fn load(source: &AttackSourceArgs) -> anyhow::Result<Attack> {
    if let Some(path) = &source.attack {
        return load_path(path);
    }
    if let Some(dir) = installed() {
        match Attack::from_dir(&dir) {
            Ok(attack) => return Ok(attack),
            Err(error) => say!(
                "warning: the installed ATT&CK data is unreadable ({error}); using the built-in table (run `vigil attack update` again)"
            ),
        }
    }
    Ok(Attack::embedded()?)
}

fn load_path(path: &Path) -> anyhow::Result<Attack> {
    if path.is_dir() {
        return Ok(Attack::from_dir(path)?);
    }
    let json =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Attack::from_bundle(&json, &path.display().to_string())?)
}

fn update(args: AttackUpdateArgs) -> anyhow::Result<Outcome> {
    let data = data_dir(args.data_dir.as_deref())
        .context("no data directory: set VIGIL_DATA_DIR or pass --data-dir")?;
    let (bytes, name) = if args.from.starts_with("https://") || args.from.starts_with("http://") {
        say!("downloading {}", args.from);
        (crate::download::get(&args.from)?, args.from.clone())
    } else {
        let path = PathBuf::from(&args.from);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        (bytes, path.display().to_string())
    };
    let json = String::from_utf8(bytes).with_context(|| format!("{name}: not UTF-8 text"))?;
    let attack = Attack::from_bundle(&json, &name)?;
    let target = data.join("attack");
    let staging = data.join(".attack.new");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("cannot clear {}", staging.display()))?;
    }
    attack.write_dir(&staging)?;
    // The written table must read back before it replaces the installed one.
    Attack::from_dir(&staging).context("the table just written does not read back")?;
    replace_dir(&staging, &target)?;
    say!(
        "installed ATT&CK {} ({} tactics, {} current techniques, {} groups and software) into {}",
        attack.version().unwrap_or("(version unknown)"),
        attack.tactics().len(),
        thousands(attack.active_techniques().count() as u64),
        thousands(
            attack
                .entities()
                .iter()
                .filter(|e| e.status.is_active() && e.kind != vigil_attack::EntityKind::Mitigation)
                .count() as u64
        ),
        target.display()
    );
    Ok(Outcome::Clean)
}

fn map(args: AttackMapArgs) -> anyhow::Result<Outcome> {
    let attack = load(&args.source)?;
    let text = args.text.join(" ");
    let mapper = TextMapper::new(&attack);
    let hits = mapper.map(&text, args.limit);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
        return Ok(Outcome::Clean);
    }
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    if hits.is_empty() {
        writeln!(
            w,
            "no technique matches this text with confidence {:.2} or more",
            TextMapper::MIN_CONFIDENCE
        )?;
        return Ok(Outcome::Clean);
    }
    writeln!(
        w,
        "{:<10} {:<10} {:<46} tactics",
        "confidence", "id", "name"
    )?;
    for hit in &hits {
        writeln!(
            w,
            "{:<10.2} {:<10} {:<46.46} {}",
            hit.confidence,
            hit.id,
            hit.name,
            hit.tactics.join(", ")
        )?;
        for evidence in &hit.evidence {
            writeln!(w, "{:<21} {evidence}", "")?;
        }
    }
    Ok(Outcome::Clean)
}

fn show(args: AttackShowArgs) -> anyhow::Result<Outcome> {
    let attack = load(&args.source)?;
    let object = attack
        .get(&args.id)
        .or_else(|| attack.tactic(&args.id).map(Object::Tactic))
        .ok_or_else(|| {
            UsageError(format!(
                "{} is not an id of ATT&CK {} (try `vigil attack map \"{}\"`)",
                args.id,
                attack.version().unwrap_or("(version unknown)"),
                args.id
            ))
        })?;
    if args.json {
        let value = match object {
            Object::Tactic(t) => serde_json::to_value(t)?,
            Object::Technique(t) => {
                let mut value = serde_json::to_value(t)?;
                if let Some(text) = attack.text(&t.id).filter(|t| !t.terms) {
                    value["description"] = text.description.clone().into();
                }
                value["url"] = t.url().into();
                value
            }
            Object::Entity(e) => serde_json::to_value(e)?,
        };
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(Outcome::Clean);
    }
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    match object {
        Object::Technique(t) => show_technique(&mut w, &attack, t)?,
        Object::Tactic(t) => {
            writeln!(w, "{}  {}  ({})", t.id, t.name, t.shortname)?;
            for technique in attack.techniques_of(t).filter(|t| !t.is_subtechnique()) {
                writeln!(w, "  {:<10} {}", technique.id, technique.name)?;
            }
        }
        Object::Entity(e) => {
            writeln!(w, "{}  {}  ({})", e.id, e.name, e.kind.as_str())?;
            if !e.aliases.is_empty() {
                writeln!(w, "{:<14} {}", "aliases:", e.aliases.join(", "))?;
            }
            status_line(&mut w, &e.status)?;
            let verb = if e.kind == vigil_attack::EntityKind::Mitigation {
                "mitigates:"
            } else {
                "uses:"
            };
            if !e.techniques.is_empty() {
                writeln!(w, "{verb:<14} {}", e.techniques.join(", "))?;
            }
        }
    }
    Ok(Outcome::Clean)
}

fn show_technique(w: &mut impl Write, attack: &Attack, t: &Technique) -> anyhow::Result<()> {
    write!(w, "{}  {}", t.id, t.name)?;
    if let Some(parent) = t.parent_id().and_then(|p| attack.technique(p)) {
        write!(w, "  (sub-technique of {} {})", parent.id, parent.name)?;
    }
    writeln!(w)?;
    let tactics: Vec<String> = t
        .tactics
        .iter()
        .map(|s| match attack.tactic(s) {
            Some(tactic) => format!("{} ({})", tactic.name, tactic.id),
            None => s.clone(),
        })
        .collect();
    writeln!(w, "{:<14} {}", "tactics:", tactics.join(", "))?;
    writeln!(w, "{:<14} {}", "platforms:", t.platforms.join(", "))?;
    status_line(w, &t.status)?;
    let subs: Vec<String> = attack
        .subtechniques(&t.id)
        .filter(|s| s.status.is_active())
        .map(|s| format!("{} {}", s.id, s.name))
        .collect();
    if !subs.is_empty() {
        writeln!(w, "{:<14} {}", "sub-techniques:", subs.join("; "))?;
    }
    if !t.data_components.is_empty() {
        writeln!(w, "{:<14} {}", "data:", t.data_components.join(", "))?;
    }
    for (i, id) in t.mitigations.iter().enumerate() {
        let name = attack.entity(id).map(|e| e.name.as_str()).unwrap_or("");
        let label = if i == 0 { "mitigations:" } else { "" };
        writeln!(w, "{label:<14} {id} {name}")?;
    }
    for (label, kinds) in [
        ("groups:", &[vigil_attack::EntityKind::Group][..]),
        (
            "software:",
            &[
                vigil_attack::EntityKind::Malware,
                vigil_attack::EntityKind::Tool,
            ][..],
        ),
        ("campaigns:", &[vigil_attack::EntityKind::Campaign][..]),
    ] {
        let users: Vec<&str> = attack
            .entities()
            .iter()
            .filter(|e| e.status.is_active() && kinds.contains(&e.kind))
            .filter(|e| e.techniques.contains(&t.id))
            .map(|e| e.name.as_str())
            .collect();
        if users.is_empty() {
            continue;
        }
        let shown: Vec<&str> = users.iter().take(10).copied().collect();
        let more = users.len() - shown.len();
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        writeln!(w, "{label:<14} {}{more}", shown.join(", "))?;
    }
    writeln!(w, "{:<14} {}", "url:", t.url())?;
    match attack.text(&t.id) {
        Some(text) if !text.terms => {
            writeln!(w)?;
            for line in wrap(&text.description, 96) {
                writeln!(w, "  {line}")?;
            }
        }
        // The built-in table carries index terms, not MITRE's prose.
        Some(_) => writeln!(
            w,
            "\n  (the description is at the url; `vigil attack update` installs ATT&CK with descriptions)"
        )?,
        None => {}
    }
    Ok(())
}

fn status_line(w: &mut impl Write, status: &vigil_attack::Status) -> std::io::Result<()> {
    match status {
        vigil_attack::Status::Active => Ok(()),
        vigil_attack::Status::Revoked(Some(by)) => {
            writeln!(w, "{:<14} revoked, replaced by {by}", "status:")
        }
        vigil_attack::Status::Revoked(None) => writeln!(w, "{:<14} revoked", "status:"),
        vigil_attack::Status::Deprecated => writeln!(w, "{:<14} deprecated", "status:"),
    }
}

fn coverage(args: AttackCoverageArgs) -> anyhow::Result<Outcome> {
    let attack = load(&args.source)?;
    let sources = rule_sources(&args.rules, args.no_builtin);
    let (rules, report) = RuleSet::load(&sources, None);
    for failure in report.failed.iter().take(5) {
        say!("warning: rule {}", describe(failure));
    }
    if report.failed.len() > 5 {
        say!(
            "warning: {} rule(s) failed to load (`vigil rules lint` lists them all)",
            report.failed.len()
        );
    }
    if rules.is_empty() {
        return Err(UsageError(
            "no rules: give --rules DIR, run `vigil rules update`, or drop --no-builtin".into(),
        )
        .into());
    }
    let mapper = TextMapper::new(&attack);
    let text = |parts: &[(&str, f32)]| mapper.map_parts(parts, 1);
    let mut techniques = RuleTechniques::new(&attack, Some(&text));
    let mut coverage = Coverage::new(&attack);
    for rule in rules.rules() {
        coverage.add_mapping(&techniques.of(rule), &rule.title);
    }
    let layer = coverage.layer(
        "vigil rule coverage",
        &format!(
            "ATT&CK techniques of {} Sigma rules, by rule count",
            rules.len()
        ),
    );
    write_layer(&args.out, &layer)?;
    finish_coverage(&coverage, args.json, &args.out)
}

fn layer(args: AttackLayerArgs) -> anyhow::Result<Outcome> {
    let attack = load(&args.source)?;
    let file = std::fs::File::open(&args.detections)
        .with_context(|| format!("cannot read {}", args.detections.display()))?;
    let mut coverage = Coverage::new(&attack);
    let mut detections = 0u64;
    let mut bad = 0u64;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", args.detections.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let detection: serde_json::Value = match serde_json::from_str(&line) {
            Ok(value) => value,
            Err(error) => {
                bad += 1;
                if bad <= 5 {
                    say!(
                        "warning: {} line {}: not a detection: {error}",
                        args.detections.display(),
                        i + 1
                    );
                }
                continue;
            }
        };
        detections += 1;
        let title = detection["rule_title"]
            .as_str()
            .unwrap_or("(untitled rule)");
        match Mapping::deserialize(&detection) {
            Ok(mapping) if !mapping.is_empty() => coverage.add_mapping(&mapping, title),
            // Detections written before vigil mapped ATT&CK: their rule's tags.
            _ => {
                let tags: Vec<&str> = detection["tags"]
                    .as_array()
                    .map(|t| t.iter().filter_map(|t| t.as_str()).collect())
                    .unwrap_or_default();
                coverage.add_mapping(&attack.map_tags(&tags), title);
            }
        }
    }
    if bad > 5 {
        say!("warning: {bad} line(s) were not detections");
    }
    let layer = coverage.layer(
        "vigil detections",
        &format!(
            "ATT&CK techniques of {} detections in {}, scored by the number of rules that fired",
            thousands(detections),
            args.detections.display()
        ),
    );
    write_layer(&args.out, &layer)?;
    let outcome = finish_coverage(&coverage, args.json, &args.out)?;
    Ok(if bad > 0 { Outcome::Partial } else { outcome })
}

fn write_layer(path: &Path, layer: &vigil_attack::Layer) -> anyhow::Result<()> {
    let mut text = serde_json::to_vec_pretty(layer)?;
    text.push(b'\n');
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn finish_coverage(coverage: &Coverage, json: bool, out: &Path) -> anyhow::Result<Outcome> {
    if json {
        println!("{}", serde_json::to_string_pretty(&coverage.tactic_rows())?);
    } else {
        print!("{}", coverage.summary());
        say!(
            "layer written to {} (open it in ATT&CK Navigator)",
            out.display()
        );
    }
    Ok(Outcome::Clean)
}

/// Greedy word wrap.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
