//! A hunt's output never panics the reports: any text is read as incidents.json (the first
//! line) and detections.jsonl (the rest), and what loads is built into a report and
//! rendered in every format of the default build.
#![no_main]

use std::sync::OnceLock;

use vigil_attack::Attack;
use vigil_report::{Run, Templates, build, renderers};

fn fixtures() -> &'static (Attack, Templates) {
    static FIXTURES: OnceLock<(Attack, Templates)> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        (
            Attack::embedded().expect("the embedded table loads"),
            Templates::new(None).expect("the built-in templates load"),
        )
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (incidents, detections) = text.split_once('\n').unwrap_or((&text, ""));
    let Ok(run) = Run::from_texts(
        std::path::Path::new("fuzz"),
        Some(r#"{"records": 1, "files": 1}"#),
        Some(incidents),
        detections,
    ) else {
        return;
    };
    let (attack, templates) = fixtures();
    let model = build(&run, attack);
    for renderer in renderers() {
        let mut out = Vec::new();
        let _ = renderer.render(&model, templates, &mut out);
    }
});
