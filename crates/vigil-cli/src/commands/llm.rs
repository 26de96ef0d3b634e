//! The LLM chain the options configure, and how its progress is shown.

use std::io::Write;

use vigil_llm::{Chain, Config, StreamEvent};

use crate::args::{LlmArgs, UsageError};

/// The chain of `--llm` (or $VIGIL_LLM_CONFIG) then `--llm-model`; `None` when neither is
/// given or `--no-llm` is.
pub(crate) fn chain(args: &LlmArgs) -> anyhow::Result<Option<Chain>> {
    if args.no_llm {
        return Ok(None);
    }
    let mut config = match &args.llm {
        Some(path) => Config::load(path).map_err(|e| UsageError(e.to_string()))?,
        None => Config::default(),
    };
    if let Some(model) = &args.llm_model {
        let mut local = Config::local(model);
        // A name clash with the file's providers is avoided, not reported.
        for provider in &mut local.providers {
            while config.providers.iter().any(|p| p.name == provider.name) {
                provider.name.push('_');
            }
        }
        config.providers.extend(local.providers);
    }
    if config.providers.is_empty() {
        return Ok(None);
    }
    let label = args
        .llm
        .as_ref()
        .map_or_else(|| "--llm-model".to_owned(), |p| p.display().to_string());
    let chain = Chain::from_config(&config, &label).map_err(|e| UsageError(e.to_string()))?;
    Ok(Some(chain))
}

/// Shows a streamed answer on stderr (when `show`): who answers, then the text as it
/// arrives; a discarded attempt is marked.
pub(crate) fn progress(show: bool) -> impl FnMut(StreamEvent<'_>) {
    move |event| {
        if !show {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = match event {
            StreamEvent::Start { provider, model } => write!(err, "\n[{model} via {provider}] "),
            StreamEvent::Token(text) => write!(err, "{text}"),
            StreamEvent::Discard => write!(err, " [failed; discarded]"),
        };
        let _ = err.flush();
    }
}
