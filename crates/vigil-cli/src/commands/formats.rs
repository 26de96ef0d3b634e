//! `vigil formats`: the formats vigil reads.

use std::io::Write;

use crate::Outcome;
use crate::args::FormatsArgs;

pub(crate) fn run(args: FormatsArgs) -> anyhow::Result<Outcome> {
    let readers = vigil_ingest::readers();
    let taxonomy = vigil_normalize::Taxonomy::builtin()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<_> = readers
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.name(),
                    "description": r.description(),
                    "example": r.example(),
                    "logsources": taxonomy.log_sources(r.name()),
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &list)?;
        writeln!(out)?;
        return Ok(Outcome::Clean);
    }
    let width = readers.iter().map(|r| r.name().len()).max().unwrap_or(0);
    for reader in readers {
        writeln!(out, "{:width$}  {}", reader.name(), reader.description())?;
        writeln!(out, "{:width$}  e.g. {}", "", reader.example())?;
        let sources = taxonomy.log_sources(reader.name());
        if !sources.is_empty() {
            writeln!(
                out,
                "{:width$}  Sigma log sources: {}",
                "",
                sources.join(", ")
            )?;
        }
    }
    writeln!(
        out,
        "\nArchives (gzip, zip, tar, tar.gz) are opened in place; formats are detected from content.\nForce one with `vigil parse --format NAME`."
    )?;
    Ok(Outcome::Clean)
}
