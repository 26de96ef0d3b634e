//! Linux audit records as auditd writes them to `/var/log/audit/audit.log`:
//! `type=SYSCALL msg=audit(1604994712.413:1523): arch=c000003e syscall=59 success=yes ... comm="arp" exe="/usr/sbin/arp" key=(null)`,
//! also with `node=HOST` first (a forwarding aggregator), after a syslog header (audisp's
//! syslog plugin), in the kernel's own form without `msg=` (`type=1400 audit(...): ...`),
//! and with the enriched format's translated fields after a `\x1d` separator
//! (`AUID="root" SYSCALL=execve`).
//!
//! One line is one event: the records of one system call (SYSCALL, EXECVE, CWD, PATH,
//! PROCTITLE) share a serial number but are not merged here, so each keeps the fields Sigma's
//! `service: auditd` rules address by their auditd names (`type`, `exe`, `comm`, `key`,
//! `name`, `nametype`, `a0`..`aN`, `SYSCALL`). `audit.sequence` is the serial and the time
//! comes from `audit(...)`. The `msg='...'` of userspace records (USER_LOGIN, USER_CMD) is
//! flattened into the same fields.
//!
//! Values that auditd hex-encodes because they hold spaces, quotes or control characters
//! (PROCTITLE's `proctitle`, EXECVE's `a0`.., and `comm`, `exe`, `name`, `cwd`, `key`, ...)
//! are decoded in place, the way `ausearch -i` shows them and Sigma rules are written (`a2:
//! 'kernel.randomize_va_space=0'`); the hex as logged is kept as `<name>_hex`. PROCTITLE's
//! NUL separators become spaces; an EXECVE record also gets `process.args` and
//! `process.command_line`. On x86_64 the system call number is named in `SYSCALL`
//! when the record does not have it.

mod syscalls;

use jiff::Timestamp;
use vigil_event::{Event, Fields, Origin, Text, Value};

use super::syslog::YearGuess;
use super::text::{envelope, header_into, host_from_header, read_lines, score_lines};
use crate::error::{RecordError, Result};
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader};

mod names {
    pub(crate) const TYPE: &str = "type";
    pub(crate) const NODE: &str = "node";
    pub(crate) const SEQUENCE: &str = "audit.sequence";
    pub(crate) const MESSAGE: &str = "message";
    pub(crate) const ARCH: &str = "arch";
    pub(crate) const ARCH_NAME: &str = "ARCH";
    pub(crate) const SYSCALL: &str = "syscall";
    pub(crate) const SYSCALL_NAME: &str = "SYSCALL";
    pub(crate) const ARGC: &str = "argc";
    pub(crate) const ARGS: &str = "process.args";
    pub(crate) const COMMAND_LINE: &str = "process.command_line";
}

/// auditd's `arch` value for x86_64 (`AUDIT_ARCH_X86_64`).
const ARCH_X86_64: &str = "c000003e";

/// Fields that hold decimal numbers.
const NUMERIC: &[&str] = &[
    "pid", "ppid", "uid", "auid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid", "ouid",
    "ogid", "ses", "exit", "items", "item", "argc", "syscall", "inode", "old-auid", "old-ses",
    "sauid", "old-pid", "opid", "oauid", "oses",
];

/// Fields auditd hex-encodes when their text needs it (besides EXECVE's arguments).
const ENCODED: &[&str] = &[
    "comm",
    "exe",
    "name",
    "cwd",
    "path",
    "key",
    "acct",
    "cmd",
    "proctitle",
    "ocomm",
];

/// Reads auditd logs.
pub(crate) struct AuditdReader;

impl Reader for AuditdReader {
    fn name(&self) -> &'static str {
        "auditd"
    }

    fn description(&self) -> &'static str {
        "Linux audit logs (audit.log: SYSCALL, EXECVE, PATH, PROCTITLE, USER_* records), hex values decoded"
    }

    fn example(&self) -> &'static str {
        r#"type=EXECVE msg=audit(1604994496.155:92733): argc=2 a0="arp" a1="-a""#
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        let tz = jiff::tz::TimeZone::UTC;
        score_lines(head, 80, |line| {
            let mut years = YearGuess::new(Some(2000), None);
            parse(line, &tz, &mut years).is_ok()
        })
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        let mut years = YearGuess::new(options.year, input.modified());
        let tz = &options.timezone;
        read_lines(input, options, emit, |line, location| {
            let record = parse(line, tz, &mut years)
                .map_err(|reason| RecordError::format(&path, location, "auditd", reason))?;
            let mut event =
                Event::with_fields(Origin::new(path.clone(), location), "auditd", record.fields);
            event.timestamp = Some(record.time);
            event.host = record.node.map(Text::from);
            host_from_header(&mut event, record.header.as_ref());
            Ok(event)
        })
    }
}

/// One parsed line.
struct Record<'a> {
    fields: Fields,
    time: Timestamp,
    node: Option<&'a str>,
    header: Option<super::syslog::header::Header<'a>>,
}

/// Parses one line; the error says what is missing or wrong.
fn parse<'a>(
    line: &'a str,
    tz: &jiff::tz::TimeZone,
    years: &mut YearGuess,
) -> std::result::Result<Record<'a>, String> {
    let start = find_type(line).ok_or("no type= field")?;
    let mut fields = Fields::with_capacity(32);
    // Before `type=`: nothing, `node=HOST`, or a syslog header (and maybe `node=HOST`).
    let prefix = line[..start].trim_end();
    let (payload_start, node) = match prefix.rsplit_once(' ').map_or(prefix, |(_, w)| w) {
        word if word.starts_with("node=") => (prefix.len() - word.len(), word.get(5..)),
        _ => (start, None),
    };
    let mut header = None;
    if !line[..payload_start].trim().is_empty() {
        let env =
            envelope(line, payload_start, tz).map_err(|e| format!("before the record: {e}"))?;
        if let Some(h) = env.header {
            header_into(&h, &mut fields, years, tz).map_err(|e| e.to_string())?;
            header = Some(h);
        }
    }
    if let Some(node) = node {
        fields.insert(names::NODE, Value::from(node));
    }
    let after_type = &line[start + "type=".len()..];
    let (kind, rest) = after_type.split_at(after_type.find(' ').unwrap_or(after_type.len()));
    if kind.is_empty() {
        return Err("the type is empty".into());
    }
    fields.insert(names::TYPE, Value::from(kind));
    let rest = rest.trim_start();
    let stamp = rest
        .strip_prefix("msg=audit(")
        .or_else(|| rest.strip_prefix("audit("))
        .ok_or("no audit(time:serial) after the type")?;
    let close = stamp
        .find(')')
        .ok_or("the audit(time:serial) never closes")?;
    let (time, serial) = parse_stamp(&stamp[..close])?;
    fields.insert(names::SEQUENCE, Value::Int(serial));
    let body = &stamp[close + 1..];
    let body = body.strip_prefix(':').unwrap_or(body);
    let mut body_parser = Body {
        kind,
        fields: &mut fields,
        free: String::new(),
        chunks: Vec::new(),
    };
    body_parser.parse(body)?;
    body_parser.finish();
    match kind {
        "EXECVE" => command_line(&mut fields),
        "SYSCALL" => name_syscall(&mut fields),
        _ => {}
    }
    Ok(Record {
        fields,
        time,
        node,
        header,
    })
}

/// Where `type=` starts: at the start of the line or after a space.
fn find_type(line: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = line[from..].find("type=") {
        let at = from + i;
        if at == 0 || line.as_bytes()[at - 1] == b' ' {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Reads `1604994496.155:92733` into the time and the serial number.
fn parse_stamp(text: &str) -> std::result::Result<(Timestamp, i64), String> {
    const BAD: &str = "the audit(...) stamp is not seconds.fraction:serial";
    let (time, serial) = text.split_once(':').ok_or(BAD)?;
    let serial: i64 = serial.parse().map_err(|_| BAD)?;
    let (seconds, fraction) = time.split_once('.').unwrap_or((time, ""));
    let seconds: i64 = seconds.parse().map_err(|_| BAD)?;
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BAD.into());
    }
    let nanos: i32 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().map_err(|_| BAD)?
    };
    let time = Timestamp::new(seconds, nanos).map_err(|_| BAD.to_string())?;
    Ok((time, serial))
}

/// The pairs after `audit(...):`, and what is not a pair.
struct Body<'f> {
    kind: &'f str,
    fields: &'f mut Fields,
    /// Words that are not `key=value` (an AVC's `avc:  denied  { read } for`).
    free: String,
    /// Pieces of long EXECVE arguments (`a1[0]=...`), by argument.
    chunks: Vec<(String, String)>,
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{1d}')
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'[' | b']')
}

impl Body<'_> {
    fn parse(&mut self, text: &str) -> std::result::Result<(), String> {
        let mut rest = text.trim_start_matches(is_separator);
        while !rest.is_empty() {
            let key_len = rest.bytes().take_while(|&b| is_key_char(b)).count();
            if key_len == 0 || rest.as_bytes().get(key_len) != Some(&b'=') {
                // Free text up to the next separator.
                let end = rest.find(is_separator).unwrap_or(rest.len());
                if !self.free.is_empty() {
                    self.free.push(' ');
                }
                self.free.push_str(&rest[..end]);
                rest = rest[end..].trim_start_matches(is_separator);
                continue;
            }
            let key = &rest[..key_len];
            let after = &rest[key_len + 1..];
            let (value, quoted, remainder) = if let Some(inner) = after.strip_prefix('"') {
                let end = inner
                    .find('"')
                    .ok_or_else(|| format!("the quoted value of {key} never ends"))?;
                (&inner[..end], true, &inner[end + 1..])
            } else if let Some(inner) = after.strip_prefix('\'') {
                let end = inner
                    .find('\'')
                    .ok_or_else(|| format!("the quoted value of {key} never ends"))?;
                (&inner[..end], true, &inner[end + 1..])
            } else {
                let end = after.find(is_separator).unwrap_or(after.len());
                (&after[..end], false, &after[end..])
            };
            if key == "msg" && after.starts_with('\'') {
                // A userspace record's own message: its pairs are the record's.
                self.parse(value)?;
            } else {
                self.pair(key, value, quoted);
            }
            rest = remainder.trim_start_matches(is_separator);
        }
        Ok(())
    }

    fn pair(&mut self, key: &str, raw: &str, quoted: bool) {
        let execve_arg = self.kind == "EXECVE" && is_arg_name(key);
        if self.kind == "EXECVE"
            && let Some((arg, _)) = key.split_once('[')
            && is_arg_name(arg)
        {
            // `a1[0]=... a1[1]=...`: one long argument in pieces.
            let piece = if quoted {
                raw.to_string()
            } else {
                decode_hex(raw).unwrap_or_else(|| raw.to_string())
            };
            match self.chunks.iter_mut().find(|(name, _)| name == arg) {
                Some((_, text)) => text.push_str(&piece),
                None => self.chunks.push((arg.to_string(), piece)),
            }
            return;
        }
        let encodable = execve_arg
            || ENCODED.contains(&key)
            || (key == "data" && matches!(self.kind, "TTY" | "USER_TTY"));
        if encodable
            && !quoted
            && let Some(text) = decode_hex(raw)
        {
            let text = if key == "proctitle" {
                text.trim_end_matches('\0').replace('\0', " ")
            } else {
                text
            };
            self.fields.append(key, Value::from(text));
            self.fields.append(format!("{key}_hex"), Value::from(raw));
            return;
        }
        let value = if !quoted
            && NUMERIC.contains(&key)
            && let Ok(number) = raw.parse::<i64>()
        {
            Value::Int(number)
        } else {
            Value::from(raw)
        };
        self.fields.append(key, value);
    }

    /// Puts the pieced arguments and free text on the fields.
    fn finish(self) {
        for (name, text) in self.chunks {
            if self.fields.get(&name).is_none() {
                self.fields.insert(name, Value::from(text));
            }
        }
        if !self.free.is_empty() {
            self.fields.append(names::MESSAGE, Value::from(self.free));
        }
    }
}

/// `a0`, `a1`, ...: an EXECVE argument.
fn is_arg_name(key: &str) -> bool {
    key.strip_prefix('a')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The text of a hex-encoded value (an even number of hex digits), `None` when it is not one.
/// Bytes that are not UTF-8 become U+FFFD.
fn decode_hex(text: &str) -> Option<String> {
    if text.is_empty()
        || !text.len().is_multiple_of(2)
        || !text.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    let bytes: Vec<u8> = text
        .as_bytes()
        .chunks_exact(2)
        .filter_map(|pair| {
            let digit = |b: u8| (b as char).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// An EXECVE record's arguments as `process.args` and `process.command_line`.
fn command_line(fields: &mut Fields) {
    let count = fields
        .get(names::ARGC)
        .and_then(Value::as_i64)
        .unwrap_or(i64::MAX);
    let mut args = Vec::new();
    for i in 0..count.min(1 << 16) {
        match fields.get(&format!("a{i}")) {
            Some(value) => args.push(value.to_text().into_owned()),
            None => break,
        }
    }
    if args.is_empty() {
        return;
    }
    fields.insert(names::COMMAND_LINE, Value::from(args.join(" ")));
    fields.insert(
        names::ARGS,
        Value::List(args.into_iter().map(Value::from).collect()),
    );
}

/// Names an x86_64 system call number, as the enriched format's `SYSCALL` does.
fn name_syscall(fields: &mut Fields) {
    if fields.get(names::SYSCALL_NAME).is_some()
        || fields.get(names::ARCH).and_then(Value::as_str) != Some(ARCH_X86_64)
    {
        return;
    }
    if fields.get(names::ARCH_NAME).is_none() {
        fields.insert(names::ARCH_NAME, Value::from("x86_64"));
    }
    if let Some(number) = fields.get(names::SYSCALL).and_then(Value::as_i64)
        && let Ok(number) = u32::try_from(number)
        && let Some(name) = syscalls::x86_64(number)
    {
        fields.insert(names::SYSCALL_NAME, Value::from(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<crate::reader::RecordResult> {
        crate::reader::read_text(&AuditdReader, "audit.log", text, jiff::tz::TimeZone::UTC)
    }

    fn one(line: &str) -> Event {
        read(line).remove(0).unwrap()
    }

    #[test]
    fn syscall_record_has_typed_fields_and_a_named_call() {
        let e = one(
            r#"type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e syscall=59 success=yes exit=0 a0=558e251634a0 a1=40000 items=2 ppid=29002 pid=1631 auid=1000 uid=1000 tty=pts0 ses=104 comm="arp" exe="/usr/sbin/arp" key=(null)"#,
        );
        assert_eq!(e.timestamp.unwrap().to_string(), "2020-11-10T07:48:16.155Z");
        assert_eq!(e.get_str("type"), Some("SYSCALL"));
        assert_eq!(e.get("audit.sequence"), Some(&Value::Int(92733)));
        assert_eq!(e.get("syscall"), Some(&Value::Int(59)));
        assert_eq!(e.get_str("SYSCALL"), Some("execve"));
        assert_eq!(e.get_str("ARCH"), Some("x86_64"));
        assert_eq!(e.get("pid"), Some(&Value::Int(1631)));
        assert_eq!(e.get_str("a0"), Some("558e251634a0"));
        assert_eq!(e.get_str("a1"), Some("40000"), "registers stay as logged");
        assert_eq!(e.get_str("comm"), Some("arp"));
        assert_eq!(e.get_str("key"), Some("(null)"));
        assert_eq!(e.get_str("success"), Some("yes"));
        assert_eq!(e.host, None);
    }

    #[test]
    fn execve_arguments_are_decoded_and_joined() {
        let e = one(
            r#"type=EXECVE msg=audit(1604994496.155:92734): argc=4 a0="bash" a1="-c" a2=69643B2077686F616D69 a3_len=6 a3[0]="ab" a3[1]=6364 a3[2]="ef""#,
        );
        assert_eq!(e.get("argc"), Some(&Value::Int(4)));
        assert_eq!(e.get_str("a2"), Some("id; whoami"));
        assert_eq!(e.get_str("a2_hex"), Some("69643B2077686F616D69"));
        assert_eq!(e.get_str("a3"), Some("abcdef"));
        assert_eq!(
            e.get_str("process.command_line"),
            Some("bash -c id; whoami abcdef")
        );
        assert_eq!(
            e.get("process.args"),
            Some(&Value::List(
                ["bash", "-c", "id; whoami", "abcdef"]
                    .map(Value::from)
                    .to_vec()
            ))
        );
    }

    #[test]
    fn proctitle_is_decoded_with_spaces_for_nuls() {
        let e =
            one("type=PROCTITLE msg=audit(1604994496.155:92733): proctitle=67726570002D76005E3F");
        assert_eq!(e.get_str("proctitle"), Some("grep -v ^?"));
        assert_eq!(e.get_str("proctitle_hex"), Some("67726570002D76005E3F"));
        let e = one(r#"type=PROCTITLE msg=audit(1604994496.155:92733): proctitle="bash""#);
        assert_eq!(e.get_str("proctitle"), Some("bash"));
        assert_eq!(e.get("proctitle_hex"), None);
    }

    #[test]
    fn user_records_flatten_their_message() {
        let e = one(
            r#"type=USER_LOGIN msg=audit(1700000000.001:77): pid=812 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='op=login acct="root" exe="/usr/sbin/sshd" hostname=? addr=203.0.113.9 terminal=sshd res=failed'"#,
        );
        assert_eq!(e.get_str("op"), Some("login"));
        assert_eq!(e.get_str("acct"), Some("root"));
        assert_eq!(e.get_str("addr"), Some("203.0.113.9"));
        assert_eq!(e.get_str("res"), Some("failed"));
        assert_eq!(e.get("auid"), Some(&Value::Int(4294967295)));
        assert_eq!(e.get("msg"), None);
        // An account name with a space is hex-encoded.
        let e = one(
            "type=USER_AUTH msg=audit(1700000000.001:78): pid=1 uid=0 msg='op=PAM:authentication acct=6A6F686E20646F65 res=success'",
        );
        assert_eq!(e.get_str("acct"), Some("john doe"));
    }

    #[test]
    fn node_syslog_header_enriched_and_kernel_forms() {
        let got = read(concat!(
            "node=web01 type=CWD msg=audit(1604994496.155:1): cwd=\"/home/wardog\"\n",
            "Nov 10 07:48:16 web02 audispd: node=web01 type=CWD msg=audit(1604994496.155:2): cwd=\"/\"\n",
            "<14>Nov 10 07:48:16 web03 audisp-syslog: type=CWD msg=audit(1604994496.155:3): cwd=2F746D702F6120\n",
            "type=SYSCALL msg=audit(1604994496.155:4): arch=c000003e syscall=2 success=no exit=-13 auid=0\u{1d}ARCH=x86_64 SYSCALL=open AUID=\"root\"\n",
            "type=1400 audit(1604994496.155:5): avc:  denied  { read } for  pid=9 comm=\"cat\" name=\"shadow\" tclass=file permissive=0\n",
        ));
        let e: Vec<&Event> = got.iter().map(|r| r.as_ref().unwrap()).collect();
        assert_eq!(e[0].host.as_deref(), Some("web01"));
        assert_eq!(e[0].get_str("node"), Some("web01"));
        assert_eq!(e[1].host.as_deref(), Some("web01"));
        assert_eq!(e[1].get_str("host.hostname"), Some("web02"));
        assert_eq!(e[2].host.as_deref(), Some("web03"));
        assert_eq!(e[2].get_str("cwd"), Some("/tmp/a "));
        assert_eq!(e[3].get_str("SYSCALL"), Some("open"));
        assert_eq!(e[3].get_str("AUID"), Some("root"));
        assert_eq!(e[3].get("exit"), Some(&Value::Int(-13)));
        assert_eq!(e[4].get_str("type"), Some("1400"));
        assert_eq!(e[4].get_str("message"), Some("avc: denied { read } for"));
        assert_eq!(e[4].get_str("name"), Some("shadow"));
        assert_eq!(e[4].get("pid"), Some(&Value::Int(9)));
    }

    #[test]
    fn bad_lines_are_errors_and_reading_goes_on() {
        let got = read(concat!(
            "hello world\n",
            "type=SYSCALL arch=c000003e\n",
            "type=SYSCALL msg=audit(16049944x6.155:1): a=1\n",
            "type=SYSCALL msg=audit(1604994496.155:1: a=1\n",
            "type=CWD msg=audit(1604994496.155:1): cwd=\"/home\n",
            "garbage here type=CWD msg=audit(1604994496.155:1): cwd=\"/\"\n",
            "type= msg=audit(1604994496.155:1):\n",
            "type=CWD msg=audit(1604994496.155:9): cwd=\"/\"\n",
        ));
        let reasons: Vec<String> = got
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            reasons,
            [
                "audit.log: record 1, line 1, offset 0x00000000: not a valid auditd record: no type= field",
                "audit.log: record 2, line 2, offset 0x0000000c: not a valid auditd record: no audit(time:serial) after the type",
                "audit.log: record 3, line 3, offset 0x00000027: not a valid auditd record: the audit(...) stamp is not seconds.fraction:serial",
                "audit.log: record 4, line 4, offset 0x00000055: not a valid auditd record: the audit(time:serial) never closes",
                "audit.log: record 5, line 5, offset 0x00000082: not a valid auditd record: the quoted value of cwd never ends",
                "audit.log: record 6, line 6, offset 0x000000b3: not a valid auditd record: before the record: no timestamp: expected '<PRI>', 'Mmm dd hh:mm:ss' or an ISO 8601 date",
                "audit.log: record 7, line 7, offset 0x000000ee: not a valid auditd record: the type is empty",
            ]
        );
        assert!(got[7].is_ok());
    }

    #[test]
    fn hex_decoding_wants_pairs_of_hex_digits() {
        assert_eq!(decode_hex("41"), Some("A".into()));
        assert_eq!(decode_hex("4"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex(""), None);
        assert_eq!(decode_hex("FF"), Some("\u{fffd}".into()));
    }

    #[test]
    fn sniffing_beats_kv_on_audit_lines_only() {
        let head = b"type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e syscall=59 success=yes\ntype=CWD msg=audit(1604994496.155:92733): cwd=\"/\"\n";
        assert_eq!(AuditdReader.sniff(head), 80);
        assert!(AuditdReader.sniff(head) > super::super::kv::KvReader.sniff(head));
        assert_eq!(
            AuditdReader.sniff(b"date=2019-05-10 time=11:37:47 type=\"traffic\" srcip=1.2.3.4\n"),
            0
        );
        assert_eq!(
            AuditdReader.sniff(b"Dec 10 06:55:46 host sshd[1]: hello\n"),
            0
        );
    }
}
