//! `vigil report`: a hunt's incidents (or one of them) in any registered format.

use std::io::Write;

use anyhow::Context;

use crate::Outcome;
use crate::args::{ReportArgs, UsageError};

pub(crate) fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    let renderer = vigil_report::renderer(&args.format).map_err(|e| UsageError(e.to_string()))?;
    let templates = vigil_report::Templates::new(args.template_dir.as_deref())
        .map_err(|e| UsageError(e.to_string()))?;
    let mut run = vigil_report::Run::load(&args.from)?;
    if let Some(id) = &args.incident {
        run = run.incident(id).ok_or_else(|| {
            UsageError(format!(
                "no incident {id:?} in {} (or the prefix is not unique); ids are in incidents.json",
                args.from.join("incidents.json").display()
            ))
        })?;
    }
    let attack = super::attack::load(&args.attack)?;
    let model = vigil_report::build(&run, &attack);
    let mut text = Vec::new();
    renderer.render(&model, &templates, &mut text)?;
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(&text)?;
            out.flush()?;
        }
    }
    Ok(Outcome::Clean)
}
