//! Sigma rule files never panic vigil: any text is loaded (rules that fail are reported),
//! and the rules that load are matched against a fixed event and fed to correlation.
#![no_main]

use vigil_event::{Event, Location, Origin, Value};
use vigil_sigma::{Detector, Routing, RuleSet};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (rules, _report) = RuleSet::from_yaml("fuzz.yml", &text, None);
    if rules.is_empty() {
        return;
    }
    let Ok(routing) = Routing::builtin() else {
        return;
    };
    let detector = Detector::new(rules, routing);
    let mut event = Event::new(Origin::new("fuzz.evtx".into(), Location::record(1)), "evtx");
    event.push("EventID", Value::Int(1));
    event.push("Channel", Value::from("Microsoft-Windows-Sysmon/Operational"));
    event.push("Image", Value::from(r"C:\Windows\System32\cmd.exe"));
    event.push("CommandLine", Value::from("cmd.exe /c whoami -enc SQBFAFgA"));
    event.push("User", Value::Null);
    event.push("DestinationIp", Value::from("10.1.2.3"));
    event.logsource.product = Some("windows".into());
    event.logsource.service = Some("sysmon".into());
    event.logsource.category = Some("process_creation".into());
    event.timestamp = Some(jiff::Timestamp::UNIX_EPOCH);
    let matches = detector.matcher().detect(&event);
    let _ = detector.detect_exhaustive(&event);
    if let Some(mut correlator) = detector.correlator() {
        let _ = correlator.feed(&event, &matches, 0);
    }
});
