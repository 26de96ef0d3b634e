//! The event model's hot path: looking fields up by name, as compiled rules do for every
//! event, against the alternative of a generic JSON tree.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use vigil_event::{Event, FieldKey, Origin, Value};

/// A Sysmon process-creation event with its usual 30-odd fields.
fn sysmon_event() -> Event {
    let mut event = Event::new(Origin::default(), "bench");
    let names = [
        "Provider_Name",
        "Provider_Guid",
        "EventID",
        "Version",
        "Level",
        "Task",
        "Opcode",
        "Keywords",
        "TimeCreated_SystemTime",
        "EventRecordID",
        "Execution_ProcessID",
        "Execution_ThreadID",
        "Channel",
        "Computer",
        "Security_UserID",
        "RuleName",
        "UtcTime",
        "ProcessGuid",
        "ProcessId",
        "Image",
        "FileVersion",
        "Description",
        "Product",
        "Company",
        "OriginalFileName",
        "CommandLine",
        "CurrentDirectory",
        "User",
        "LogonGuid",
        "LogonId",
        "TerminalSessionId",
        "IntegrityLevel",
        "Hashes",
        "ParentProcessGuid",
        "ParentProcessId",
        "ParentImage",
        "ParentCommandLine",
    ];
    for (i, name) in names.iter().enumerate() {
        event.push(*name, Value::from(format!("value of field {i}")));
    }
    event
}

fn lookups(c: &mut Criterion) {
    let event = sysmon_event();
    let json: serde_json::Value = serde_json::to_value(&event).expect("events serialize");
    let fields = &json["fields"];
    let wanted = [
        "EventID",
        "Image",
        "CommandLine",
        "ParentImage",
        "Channel",
        "NotAField",
    ];
    let keys: Vec<FieldKey> = wanted.iter().map(|n| FieldKey::new(n)).collect();

    let mut group = c.benchmark_group("field_lookup");
    group.bench_function("event_get_by_name_x6", |b| {
        b.iter(|| {
            wanted
                .iter()
                .filter(|n| black_box(&event).get(n).is_some())
                .count()
        })
    });
    group.bench_function("event_get_by_key_x6", |b| {
        b.iter(|| {
            keys.iter()
                .filter(|k| black_box(&event).get_key(k).is_some())
                .count()
        })
    });
    group.bench_function("serde_json_map_get_x6", |b| {
        b.iter(|| {
            wanted
                .iter()
                .filter(|n| black_box(fields).get(**n).is_some())
                .count()
        })
    });
    group.finish();
}

fn building(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_build");
    group.bench_function("push_37_fields", |b| b.iter(|| black_box(sysmon_event())));
    group.finish();
}

criterion_group!(benches, lookups, building);
criterion_main!(benches);
