use vigil_event::Value;

use super::*;
use crate::reader::{RecordResult, read_all};

const NS: &str = "xmlns='http://schemas.microsoft.com/win/2004/08/events/event'";

fn read(text: &[u8]) -> Vec<RecordResult> {
    read_all(
        &WinXmlReader,
        Input::from_slice("events.xml", text),
        &ReadOptions::default(),
    )
    .unwrap()
}

fn read_limited(text: &[u8], max_record_len: usize) -> Vec<RecordResult> {
    let options = ReadOptions {
        max_record_len,
        ..ReadOptions::default()
    };
    read_all(
        &WinXmlReader,
        Input::from_slice("events.xml", text),
        &options,
    )
    .unwrap()
}

fn one(text: &str) -> Event {
    let mut got = read(text.as_bytes());
    assert_eq!(got.len(), 1, "{got:?}");
    got.remove(0).unwrap()
}

fn security_event() -> String {
    format!(
        "<Event {NS}><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{{54849625-5478-4994-a5ba-3e3b0328c30d}}'/>\
         <EventID Qualifiers='0'>4624</EventID><Version>2</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode>\
         <Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='2024-03-14T09:20:14.8842713Z'/>\
         <EventRecordID>58123</EventRecordID><Correlation/><Execution ProcessID='636' ThreadID='4012'/>\
         <Channel>Security</Channel><Computer>FIN-WS07</Computer><Security/></System>\
         <EventData><Data Name='TargetUserName'>Administrator</Data><Data Name='TargetLogonId'>0x8d41c2</Data>\
         <Data Name='LogonType'>3</Data><Data Name='IpPort'>49855</Data><Data Name='WorkstationName'></Data>\
         <Data Name='ElevatedToken'/><Data Name='Initiated'>true</Data><Data Name='Code'>007</Data></EventData></Event>"
    )
}

#[test]
fn system_and_event_data_take_the_evtx_names_and_types() {
    let e = one(&security_event());
    let get = |n: &str| e.get(n).unwrap_or_else(|| panic!("{n}")).clone();
    assert_eq!(get("EventID"), Value::Int(4624));
    assert_eq!(get("EventID_Qualifiers"), Value::Int(0));
    assert_eq!(get("Version"), Value::Int(2));
    assert_eq!(get("Task"), Value::Int(12544));
    assert_eq!(get("Keywords"), Value::from("0x8020000000000000"));
    assert_eq!(
        get("Provider_Name"),
        Value::from("Microsoft-Windows-Security-Auditing")
    );
    assert_eq!(
        get("Provider_Guid"),
        Value::from("{54849625-5478-4994-a5ba-3e3b0328c30d}")
    );
    assert_eq!(
        get("TimeCreated_SystemTime"),
        Value::from("2024-03-14T09:20:14.8842713Z")
    );
    assert_eq!(get("EventRecordID"), Value::Int(58123));
    assert_eq!(get("Execution_ProcessID"), Value::Int(636));
    assert_eq!(get("Execution_ThreadID"), Value::Int(4012));
    assert_eq!(get("Channel"), Value::from("Security"));
    assert_eq!(get("Computer"), Value::from("FIN-WS07"));
    assert_eq!(get("TargetUserName"), Value::from("Administrator"));
    assert_eq!(get("TargetLogonId"), Value::from("0x8d41c2"));
    assert_eq!(get("LogonType"), Value::Int(3));
    assert_eq!(
        get("IpPort"),
        Value::from("49855"),
        "a string in the manifest"
    );
    assert_eq!(get("WorkstationName"), Value::from(""));
    assert_eq!(get("ElevatedToken"), Value::from(""));
    assert_eq!(get("Initiated"), Value::Bool(true));
    assert_eq!(get("Code"), Value::from("007"), "leading zeros stay text");
    // Empty sections and the namespace are not fields.
    for absent in [
        "Security",
        "Correlation",
        "xmlns",
        "Event",
        "Security_UserID",
    ] {
        assert_eq!(e.get(absent), None, "{absent}");
    }
    assert_eq!(
        e.timestamp.unwrap().to_string(),
        "2024-03-14T09:20:14.8842713Z"
    );
    assert_eq!(e.host.as_deref(), Some("FIN-WS07"));
    assert_eq!(e.format, "winxml");
    assert_eq!(e.origin.location.record, Some(1));
    assert_eq!(e.origin.location.offset, Some(0));
}

#[test]
fn user_data_unnamed_data_and_rendering_info() {
    let e = one(&format!(
        "<Event {NS}><System><EventID>1102</EventID><Channel>Security</Channel></System>\
         <UserData><LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'>\
         <SubjectUserName>admin</SubjectUserName><Channel>Security</Channel></LogFileCleared></UserData>\
         <RenderingInfo Culture='en-US'><Message>The audit log was cleared.</Message></RenderingInfo></Event>"
    ));
    assert_eq!(e.get_str("SubjectUserName"), Some("admin"));
    assert_eq!(e.get_str("UserData.Channel"), Some("Security"));
    assert_eq!(e.get_str("Channel"), Some("Security"));
    assert_eq!(
        e.get_str("RenderingInfo.Message"),
        Some("The audit log was cleared.")
    );
    let e = one(&format!(
        "<Event {NS}><System><EventID>7045</EventID></System><EventData><Data>a</Data><Data>b</Data><Binary>00FF</Binary></EventData></Event>"
    ));
    assert_eq!(
        e.get("Data"),
        Some(&Value::List(vec![Value::from("a"), Value::from("b")]))
    );
    assert_eq!(e.get_str("Binary"), Some("00FF"));
}

#[test]
fn entities_cdata_and_line_ends_are_kept_as_windows_wrote_them() {
    let e = one(&format!(
        "<Event {NS}><System><EventID>4688</EventID></System><EventData>\
         <Data Name='CommandLine'>cmd /c \"a &amp; b\" &lt;x&gt; &#x41;&#66;</Data>\
         <Data Name='Script'><![CDATA[if (a < b) {{ }}]]></Data>\
         <Data Name='PrivilegeList'>SeDebugPrivilege\r\n\t\t\tSeBackupPrivilege</Data></EventData></Event>"
    ));
    assert_eq!(e.get_str("CommandLine"), Some("cmd /c \"a & b\" <x> AB"));
    assert_eq!(e.get_str("Script"), Some("if (a < b) { }"));
    assert_eq!(
        e.get_str("PrivilegeList"),
        Some("SeDebugPrivilege\r\n\t\t\tSeBackupPrivilege")
    );
}

#[test]
fn events_in_a_wrapper_or_back_to_back_with_their_places() {
    let event = security_event();
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\r\n<Events>{event}\r\n<!-- c -->{event}</Events>"
    );
    let got = read(text.as_bytes());
    assert_eq!(got.len(), 2);
    let second = got[1].as_ref().unwrap();
    assert_eq!(second.origin.location.record, Some(2));
    assert_eq!(second.origin.location.line, Some(3));
    let offset = text.rfind("<Event ").unwrap() as u64;
    assert_eq!(second.origin.location.offset, Some(offset));
    let back_to_back = format!("{event}{event}{event}");
    assert_eq!(read(back_to_back.as_bytes()).len(), 3);
}

#[test]
fn utf16_exports_read_like_utf8() {
    let text = format!("{}\r\n", security_event());
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    assert_eq!(WinXmlReader.sniff(&bytes), 95);
    let got = read(&bytes);
    let e = got[0].as_ref().unwrap();
    assert_eq!(e.get("EventID"), Some(&Value::Int(4624)));
    assert_eq!(e, &one(&security_event()));
}

#[test]
fn broken_events_are_errors_and_the_next_event_is_read() {
    let good = security_event();
    let text = format!(
        "<Events>\n\
         <Event {NS}><System><EventID>1</EventID></Event>\n\
         <Event {NS}><System><EventID>&bogus;</EventID></System></Event>\n\
         <Event {NS}><System a='1' a='2'/></Event>\n\
         {good}\n\
         <Event {NS}><System><EventID>2</EventID>"
    );
    let got = read(text.as_bytes());
    let reasons: Vec<String> = got
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        reasons,
        [
            "events.xml: record 1, line 2, offset 0x00000009: not a valid winxml record: at byte 97: ill-formed document: expected `</System>`, but `</Event>` was found",
            "events.xml: record 2, line 3, offset 0x00000073: not a valid winxml record: unknown entity &bogus;",
            "events.xml: record 3, line 4, offset 0x000000ec: not a valid winxml record: bad attribute in <System>: position 13: duplicated attribute, previous declaration at position 7",
            "events.xml: record 5, line 6, offset 0x000004ae: not a valid winxml record: the input ends inside this <Event>",
        ]
    );
    assert_eq!(
        got[3].as_ref().unwrap().get("EventID"),
        Some(&Value::Int(4624))
    );
}

#[test]
fn an_event_over_the_limit_is_one_error() {
    let big = format!(
        "<Event {NS}><EventData><Data Name='X'>{}</Data></EventData></Event><Event {NS}><System><EventID>5</EventID></System></Event>",
        "y".repeat(500)
    );
    let got = read_limited(big.as_bytes(), 200);
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].as_ref().unwrap_err().to_string(),
        "events.xml: record 1, line 1, offset 0x00000000: record of 622 bytes exceeds the limit of 200 bytes"
    );
    assert_eq!(
        got[1].as_ref().unwrap().get("EventID"),
        Some(&Value::Int(5))
    );
}

#[test]
fn odd_inputs_never_panic() {
    let inputs: [&[u8]; 10] = [
        b"",
        b"<Event",
        b"<Event>",
        b"<Event></Event>",
        b"<Event/>",
        b"<Event><x></Event>",
        b"<Event>\xff\xfe\x00</Event>",
        b"<Event><![CDATA[</Event>",
        b"<Event a='&#0;'></Event>",
        b"\xff\xfe<\x00E\x00v\x00",
    ];
    for input in inputs {
        let got = read(input);
        for e in got.iter().flatten() {
            serde_json::to_string(e).unwrap();
        }
    }
    assert_eq!(read(b"<Event></Event>").len(), 1);
    assert!(read(b"<Event></Event>")[0].is_ok());
    // `<Event/>` is not an event's start and end: there is no `</Event>`.
    assert_eq!(read(b"not xml at all").len(), 0);
}

#[test]
fn sniffing_wants_event_xml() {
    let event = security_event();
    assert_eq!(WinXmlReader.sniff(event.as_bytes()), 95);
    let wrapped = format!("<?xml version=\"1.0\"?>\n<!-- x -->\n<Events>{event}</Events>");
    assert_eq!(WinXmlReader.sniff(wrapped.as_bytes()), 95);
    assert_eq!(
        WinXmlReader.sniff(b"<Event><System><EventID>1</EventID></System></Event>"),
        60
    );
    assert_eq!(WinXmlReader.sniff(b"<Events></Events>"), 0);
    assert_eq!(WinXmlReader.sniff(b"<EventLog><Event/></EventLog>"), 0);
    assert_eq!(WinXmlReader.sniff(b"{\"Event\": 1}"), 0);
    assert_eq!(WinXmlReader.sniff(b"<?xml version=\"1.0\"?><html/>"), 0);
    assert_eq!(WinXmlReader.sniff(b""), 0);
}
