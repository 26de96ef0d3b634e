//! `vigil report`: a hunt's incidents as Markdown, JSON or a timeline.

use std::io::Write;

use anyhow::Context;

use crate::Outcome;
use crate::args::{ReportArgs, UsageError};

pub(crate) fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    let renderer = vigil_report::renderer(&args.format).map_err(|e| UsageError(e.to_string()))?;
    let templates = vigil_report::Templates::new(args.template_dir.as_deref())
        .map_err(|e| UsageError(e.to_string()))?;
    let run = vigil_report::Run::load(&args.from)?;
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
