//! Inputs the benchmarks share: corpus samples read into memory, so the benchmarks measure
//! parsing, not the disk.
//!
//! ```
//! let inputs = vigil_bench::Samples::load();
//! assert!(inputs.syslog.len() > 0);
//! ```
#![warn(missing_docs)]

use std::path::Path;

/// The bytes the ingest benchmarks read.
pub struct Samples {
    /// A multi-chunk EVTX file (869 records in 10 chunks), when the corpus is present.
    pub evtx: Option<Vec<u8>>,
    /// An sshd auth log (the loghub sample, or the bundled example without the corpus).
    pub syslog: Vec<u8>,
    /// Sysmon and Security events as JSON Lines (the Security-Datasets sample, or the
    /// bundled example without the corpus).
    pub json: Vec<u8>,
    /// CEF lines (the Elastic test sample repeated to about 1 MiB), with the corpus.
    pub cef: Option<Vec<u8>>,
    /// FortiGate key=value lines (repeated to about 1 MiB), with the corpus.
    pub kv: Option<Vec<u8>>,
    /// AWS CloudTrail records as JSON Lines (repeated to about 1 MiB), with the corpus.
    pub cloudtrail: Option<Vec<u8>>,
    /// A Zeek `conn.log` in TSV (repeated, header and all, to about 1 MiB), with the corpus.
    pub zeek: Option<Vec<u8>>,
}

/// About how many bytes the small line-based samples are repeated to.
const REPEATED_SIZE: usize = 1 << 20;

/// `bytes` repeated whole until it is at least about [`REPEATED_SIZE`] long.
fn repeated(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    if !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    let copies = REPEATED_SIZE.div_ceil(bytes.len());
    bytes.repeat(copies)
}

impl Samples {
    /// Reads the samples; the corpus is preferred, the bundled examples are the fallback.
    pub fn load() -> Samples {
        let corpus = vigil_test_support::corpus();
        let from_corpus = |relative: &str| {
            corpus
                .as_ref()
                .and_then(|c| std::fs::read(c.join(relative)).ok())
        };
        let examples = vigil_test_support::examples();
        let example = |relative: &str| read_or_empty(&examples.join(relative));
        Samples {
            evtx: from_corpus("evtx/Lateral Movement/LM_5145_Remote_FileCopy.evtx"),
            syslog: from_corpus("logs/linux-auth-sshd/loghub_OpenSSH_2k.log")
                .unwrap_or_else(|| example("case-001/linux/auth.log")),
            json: from_corpus(
                "logs/sysmon-windows-json/psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json",
            )
            .unwrap_or_else(|| example("case-001/windows/security.evtx_dump.jsonl")),
            cef: from_corpus("logs/cef/elastic_test-cef.log").map(repeated),
            kv: from_corpus("logs/fortinet-kv/elastic_fortinet-7-4_subset.log").map(repeated),
            cloudtrail: from_corpus(
                "logs/aws-cloudtrail/ec2_proxy_s3_exfiltration_2020-09-14011940.json",
            )
            .map(repeated),
            zeek: from_corpus("logs/zeek-tsv/lsass_campaign02_conn.log").map(repeated),
        }
    }
}

fn read_or_empty(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}
