//! Fetching a file over HTTPS (rule releases).

use std::io::Read;

use anyhow::Context;

/// The most a download may hold: a SigmaHQ release is a few MiB.
const LIMIT: u64 = 256 << 20;

/// The body of a GET of `url`, failing on any status but success.
pub(crate) fn get(url: &str) -> anyhow::Result<Vec<u8>> {
    let response = ureq::get(url).call().with_context(|| {
        format!("cannot download {url} (offline? download it elsewhere and use --from FILE)")
    })?;
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(LIMIT)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {url}"))?;
    Ok(bytes)
}
