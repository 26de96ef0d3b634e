//! Corpus samples read from inside archives give the same events as read directly.

use std::io::Write;

use vigil_test_support::corpus_path;

use crate::{options_for_2024, read_paths};

/// The corpus EVTX files are sparse on disk, so tar stores them as GNU sparse entries.
#[test]
fn evtx_and_syslog_inside_zip_and_tar_gz_read_like_the_files() {
    let Some(evtx) = corpus_path("evtx/Lateral Movement/LM_5145_Remote_FileCopy.evtx") else {
        return;
    };
    let Some(ssh) = corpus_path("logs/linux-auth-sshd/loghub_OpenSSH_2k.log") else {
        return;
    };
    let direct = read_paths(&[&evtx, &ssh], options_for_2024());

    let dir = tempfile::tempdir().unwrap();
    let mut zip =
        zip::ZipWriter::new(std::fs::File::create(dir.path().join("triage.zip")).unwrap());
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, path) in [("Security.evtx", &evtx), ("auth.log", &ssh)] {
        let bytes = std::fs::read(path).unwrap();
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&bytes).unwrap();
        tar.append_path_with_name(path, format!("c/{name}"))
            .unwrap();
    }
    zip.finish().unwrap();
    std::fs::write(
        dir.path().join("triage.tar.gz"),
        tar.into_inner().unwrap().finish().unwrap(),
    )
    .unwrap();

    let read = read_paths(&[dir.path()], options_for_2024());
    let base = format!("{}/", dir.path().display());
    let names: Vec<_> = read
        .summaries
        .iter()
        .map(|s| s.path.replace(&base, ""))
        .collect();
    assert_eq!(
        names,
        [
            "triage.tar.gz!c/Security.evtx",
            "triage.tar.gz!c/auth.log",
            "triage.zip!Security.evtx",
            "triage.zip!auth.log"
        ]
    );
    assert!(read.summaries.iter().all(|s| s.is_clean()));
    assert_eq!(read.events.len(), 2 * direct.events.len());
    let fields = |events: &[vigil_event::Event]| {
        events
            .iter()
            .map(|e| e.fields().clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        fields(&read.events[..direct.events.len()]),
        fields(&direct.events)
    );
}

#[test]
fn a_damaged_archive_is_an_input_failure_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&b"Dec 10 06:55:46 h sshd[1]: Invalid user a from 10.0.0.1\n".repeat(5000))
        .unwrap();
    let mut bytes = gz.finish().unwrap();
    let cut = bytes.len() / 2;
    bytes.truncate(cut);
    std::fs::write(dir.path().join("a-cut.log.gz"), &bytes).unwrap();
    std::fs::write(
        dir.path().join("b.log"),
        "Dec 10 06:55:46 h sshd[1]: fine\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("c.zip"), b"PK\x03\x04 this is no zip").unwrap();
    let read = read_paths(&[dir.path()], options_for_2024());
    let cut = &read.summaries[0];
    assert!(cut.events > 0, "what was before the damage is read");
    assert!(
        cut.errors >= 1,
        "the damage is reported: {:?}",
        read.errors.last().map(ToString::to_string)
    );
    assert!(
        read.errors
            .last()
            .unwrap()
            .to_string()
            .contains("a-cut.log.gz"),
        "{}",
        read.errors.last().unwrap()
    );
    assert!(read.summaries[1].is_clean() && read.summaries[1].events == 1);
    let zip = read.summaries[2]
        .failure
        .as_ref()
        .expect("the fake zip fails");
    assert!(
        zip.to_string().contains("c.zip: unreadable zip archive"),
        "{zip}"
    );
}
