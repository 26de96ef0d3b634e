//! The compact table: what vigil keeps of a bundle, as JSON Lines.
//!
//! Two files: `enterprise-attack.jsonl` (one row per line: the release, then tactics in
//! kill-chain order, techniques and entities) and `enterprise-attack-text.jsonl.gz` (the
//! prose free-text mapping searches, gzip-compressed). `cargo xtask attack-table` writes
//! them from a bundle into `crates/vigil-attack/data/`, where the binary embeds them;
//! `vigil attack update` writes them into vigil's data directory.

use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kb::{Attack, Meta};
use crate::model::{Entity, Tactic, Technique, TechniqueText};

/// The table's file name.
pub const TABLE_FILE: &str = "enterprise-attack.jsonl";
/// The text file's name.
pub const TEXT_FILE: &str = "enterprise-attack-text.jsonl.gz";

const EMBEDDED_TABLE: &str = include_str!("../data/enterprise-attack.jsonl");
const EMBEDDED_TEXT: &[u8] = include_bytes!("../data/enterprise-attack-text.jsonl.gz");

#[derive(Serialize, Deserialize)]
#[serde(tag = "row", rename_all = "snake_case")]
enum Row {
    Attack(Meta),
    Tactic(Tactic),
    Technique(Technique),
    Entity(Entity),
}

impl Attack {
    /// The table embedded in the binary (the release named in `data/README.md`).
    pub fn embedded() -> Result<Attack> {
        Attack::from_table(EMBEDDED_TABLE, Some(EMBEDDED_TEXT), "embedded")
    }

    /// Reads a table and, optionally, its gzip-compressed text file. Without the text,
    /// free-text mapping sees technique names only.
    pub fn from_table(table: &str, text_gz: Option<&[u8]>, source_name: &str) -> Result<Attack> {
        let table_error = |line: usize, reason: String| Error::Table {
            source_name: source_name.to_string(),
            line,
            reason,
        };
        let mut meta = None;
        let mut tactics = Vec::new();
        let mut techniques = Vec::new();
        let mut entities = Vec::new();
        for (i, line) in table.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Row>(line)
                .map_err(|e| table_error(i + 1, e.to_string()))?
            {
                Row::Attack(m) => meta = Some(m),
                Row::Tactic(t) => tactics.push(t),
                Row::Technique(t) => techniques.push(t),
                Row::Entity(e) => entities.push(e),
            }
        }
        let Some(meta) = meta else {
            return Err(table_error(1, "no `attack` row naming the release".into()));
        };
        let mut texts = Vec::new();
        if let Some(gz) = text_gz {
            let text_source = format!("{source_name} ({TEXT_FILE})");
            let mut raw = String::new();
            flate2::read::GzDecoder::new(gz)
                .read_to_string(&mut raw)
                .map_err(|e| Error::Table {
                    source_name: text_source.clone(),
                    line: 0,
                    reason: e.to_string(),
                })?;
            for (i, line) in raw.lines().enumerate() {
                let text: TechniqueText = serde_json::from_str(line).map_err(|e| Error::Table {
                    source_name: text_source.clone(),
                    line: i + 1,
                    reason: e.to_string(),
                })?;
                texts.push(text);
            }
        }
        let mut attack = Attack::assemble(meta, tactics, techniques, entities, texts);
        attack.loaded_from = source_name.to_string();
        Ok(attack)
    }

    /// Reads the table pair from a directory (as `vigil attack update` writes it).
    pub fn from_dir(dir: &Path) -> Result<Attack> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })
        };
        let table = read(TABLE_FILE)?;
        let table = String::from_utf8_lossy(&table);
        let text = read(TEXT_FILE).ok();
        Attack::from_table(
            &table,
            text.as_deref(),
            &dir.join(TABLE_FILE).display().to_string(),
        )
    }

    /// The table as JSON Lines: the release, tactics, techniques, entities.
    pub fn table(&self) -> String {
        let mut rows = Vec::new();
        rows.push(Row::Attack(self.meta.clone()));
        rows.extend(self.tactics.iter().cloned().map(Row::Tactic));
        rows.extend(self.techniques.iter().cloned().map(Row::Technique));
        rows.extend(self.entities.iter().cloned().map(Row::Entity));
        let mut out = String::new();
        for row in rows {
            // Serializing these plain structs cannot fail.
            if let Ok(line) = serde_json::to_string(&row) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    /// The technique prose as gzip-compressed JSON Lines (deterministic: no file name or
    /// time in the gzip header).
    pub fn text_table(&self) -> Vec<u8> {
        gzip_lines(self.texts.iter())
    }

    /// The technique text as index terms only (see [`TechniqueText`]), gzip-compressed
    /// JSON Lines: what the binary embeds. Free-text mapping over it ranks as over the
    /// prose.
    pub fn terms_table(&self) -> Vec<u8> {
        let terms: Vec<TechniqueText> = self.texts.iter().map(crate::text::to_terms).collect();
        gzip_lines(terms.iter())
    }

    /// Whether the technique text holds prose (a bundle, or a table `vigil attack update`
    /// wrote) rather than index terms (the embedded table).
    pub fn has_prose(&self) -> bool {
        self.texts.iter().any(|t| !t.terms)
    }

    /// Writes the table pair into `dir`, creating it, with the prose (`vigil attack update`).
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        self.write_dir_with(dir, self.text_table())
    }

    /// Writes the table pair into `dir`, creating it, with index terms instead of prose
    /// (`cargo xtask attack-table`).
    pub fn write_embedded_dir(&self, dir: &Path) -> Result<()> {
        self.write_dir_with(dir, self.terms_table())
    }

    fn write_dir_with(&self, dir: &Path, text: Vec<u8>) -> Result<()> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let table = dir.join(TABLE_FILE);
        std::fs::write(&table, self.table()).map_err(io(&table))?;
        let path = dir.join(TEXT_FILE);
        std::fs::write(&path, text).map_err(io(&path))?;
        Ok(())
    }
}

/// Gzip-compressed JSON Lines, deterministic (no file name or time in the header).
fn gzip_lines<'a>(texts: impl Iterator<Item = &'a TechniqueText>) -> Vec<u8> {
    let mut encoder = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::best());
    for text in texts {
        if let Ok(line) = serde_json::to_string(text) {
            // Writing into a Vec cannot fail.
            let _ = encoder.write_all(line.as_bytes());
            let _ = encoder.write_all(b"\n");
        }
    }
    encoder.finish().unwrap_or_default()
}
