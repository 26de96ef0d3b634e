//! Cisco ASA syslog, and the same messages from Firepower Threat Defense and PIX:
//! `Oct 10 2018 12:34:56 fw1 : %ASA-4-106023: Deny tcp src outside:198.51.100.7/4711 dst
//! inside:10.0.0.5/22 by access-group "outside_in" [0x0, 0x0]`, after a syslog header, a bare
//! `<PRI>` or nothing.
//!
//! Every line gives `cisco.asa.severity`, `cisco.asa.message_id` (also `event.code`) and
//! `message`, the text after the id. The messages a SOC hunts on (connections, NAT, access
//! lists, AAA, device logins, configuration commands, VPN sessions, threat detection) are
//! parsed further into Elastic Common Schema names, since only parsing can know them:
//! `source.ip`, `destination.port`, `user.name`, `event.action`, `event.outcome`... The
//! shapes follow Cisco's "Cisco Secure Firewall ASA Series Syslog Messages" reference, as
//! the [`PATTERNS`] table; a message of another id, or one that matches none of its id's
//! shapes, keeps its text and is not an error.
//!
//! Built connections say whether they are inbound or outbound; the "for" side is the lower
//! security interface, so an outbound connection's source is its "to" side. The reader
//! remembers the direction of the connections it saw built, so their teardowns get the same
//! source and destination; a teardown whose build it did not see keeps the order written.

use std::collections::HashMap;
use std::net::IpAddr;

use jiff::tz::TimeZone;
use vigil_event::{Event, Fields, Origin, Text, Timestamp, Value};

use super::syslog::YearGuess;
use super::syslog::header::{self, Header, Layout, Stamp};
use super::text::{header_into, read_lines, score_lines};
use crate::error::{RecordError, Result};
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader};

/// Field names the reader sets.
mod names {
    pub(super) const SEVERITY: &str = "cisco.asa.severity";
    pub(super) const MESSAGE_ID: &str = "cisco.asa.message_id";
    pub(super) const CODE: &str = "event.code";
    pub(super) const MESSAGE: &str = "message";
    pub(super) const ACTION: &str = "event.action";
    pub(super) const OUTCOME: &str = "event.outcome";
    pub(super) const REASON: &str = "event.reason";
    pub(super) const DURATION: &str = "event.duration";
    pub(super) const TRANSPORT: &str = "network.transport";
    pub(super) const IANA_NUMBER: &str = "network.iana_number";
    pub(super) const DIRECTION: &str = "network.direction";
    pub(super) const PROTOCOL: &str = "network.protocol";
    pub(super) const BYTES: &str = "network.bytes";
    pub(super) const USER: &str = "user.name";
    pub(super) const USER_DOMAIN: &str = "user.domain";
    pub(super) const INGRESS: &str = "observer.ingress.interface.name";
    pub(super) const EGRESS: &str = "observer.egress.interface.name";
    pub(super) const RULE_ACTION: &str = "cisco.asa.action";
    pub(super) const CONNECTION_ID: &str = "cisco.asa.connection_id";
    pub(super) const RULE: &str = "cisco.asa.rule_name";
    pub(super) const HIT_COUNT: &str = "cisco.asa.hit_count";
    pub(super) const TCP_FLAGS: &str = "cisco.asa.tcp_flags";
    pub(super) const ICMP_TYPE: &str = "cisco.asa.icmp_type";
    pub(super) const ICMP_CODE: &str = "cisco.asa.icmp_code";
    pub(super) const INITIATOR: &str = "cisco.asa.termination_initiator";
    pub(super) const TRANSLATION: &str = "cisco.asa.translation_type";
    pub(super) const AAA_TYPE: &str = "cisco.asa.aaa_type";
    pub(super) const AAA_SERVER: &str = "cisco.asa.aaa_server";
    pub(super) const GROUP_POLICY: &str = "cisco.asa.group_policy";
    pub(super) const ASSIGNED_IP: &str = "cisco.asa.assigned_ip";
    pub(super) const ASSIGNED_IPV6: &str = "cisco.asa.assigned_ipv6";
    pub(super) const COMMAND: &str = "cisco.asa.command_line";
    pub(super) const APPLICATION: &str = "cisco.asa.application";
    pub(super) const THREAT_OBJECT: &str = "cisco.asa.threat_object";
    pub(super) const DROP_RATE_ID: &str = "cisco.asa.drop_rate_id";
    pub(super) const BURST_RATE: &str = "cisco.asa.burst_rate";
    pub(super) const BURST_RATE_MAX: &str = "cisco.asa.burst_rate_max";
    pub(super) const AVERAGE_RATE: &str = "cisco.asa.average_rate";
    pub(super) const AVERAGE_RATE_MAX: &str = "cisco.asa.average_rate_max";
    pub(super) const TOTAL_COUNT: &str = "cisco.asa.total_count";
}

use names::*;

/// Reads Cisco ASA, FTD and PIX syslog lines.
pub(crate) struct AsaReader;

impl Reader for AsaReader {
    fn name(&self) -> &'static str {
        "asa"
    }

    fn description(&self) -> &'static str {
        "Cisco ASA / FTD / PIX syslog (%ASA-6-302013...): connections, ACL denies, NAT, AAA, VPN, admin commands"
    }

    fn example(&self) -> &'static str {
        r#"Oct 10 2018 12:34:56 fw1 : %ASA-4-106023: Deny tcp src outside:198.51.100.7/4711 dst inside:10.0.0.5/22 by access-group "outside_in" [0x0, 0x0]"#
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        score_lines(head, 88, |line| find_tag(line).is_some())
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        let mut years = YearGuess::new(options.year, input.modified());
        let mut directions = Directions::default();
        let tz = &options.timezone;
        read_lines(input, options, emit, |line, location| {
            let error = |reason: String| RecordError::format(&path, location, "asa", reason);
            let tag = find_tag(line)
                .ok_or_else(|| error("no %ASA-, %FTD- or %PIX- message tag".into()))?;
            let mut fields = Fields::with_capacity(24);
            let (timestamp, host) = prefix_into(&line[..tag.start], &mut fields, &mut years, tz)
                .map_err(|e| error(format!("before the message tag: {e}")))?;
            fields.insert(SEVERITY, Value::Int(i64::from(tag.severity)));
            fields.insert(MESSAGE_ID, Value::from(tag.id));
            fields.insert(CODE, Value::from(tag.id));
            let message = line[tag.end..].trim();
            parse_message(tag.id, message, &mut fields, &mut directions);
            fields.insert(MESSAGE, Value::from(message));
            let mut event = Event::with_fields(Origin::new(path.clone(), location), "asa", fields);
            event.variant = Some(tag.product);
            event.timestamp = timestamp;
            event.host = host.map(Text::from);
            Ok(event)
        })
    }
}

/// Where the `%ASA-6-302013:` tag is in a line, and what it says.
#[derive(Debug, PartialEq)]
struct Tag<'a> {
    /// `asa`, `ftd` or `pix`.
    product: &'static str,
    severity: u8,
    id: &'a str,
    /// The byte offset of the `%`.
    start: usize,
    /// The byte offset just after the `:` that ends the tag.
    end: usize,
}

/// Finds the message tag: `%ASA-`, `%FTD-` or `%PIX-`, an optional class (`%ASA-auth-4-`),
/// the severity digit and a six-digit id, ending in `:`. It starts the line or follows a
/// space or the `>` of a priority.
fn find_tag(line: &str) -> Option<Tag<'_>> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'%', bytes.get(from..)?) {
        let at = from + i;
        let starts_word = at == 0 || matches!(bytes[at - 1], b' ' | b'\t' | b'>' | b':');
        if starts_word && let Some(tag) = tag_at(line, at) {
            return Some(tag);
        }
        from = at + 1;
    }
    None
}

fn tag_at(line: &str, at: usize) -> Option<Tag<'_>> {
    let rest = line.get(at + 1..)?;
    let (product, rest) = [("ASA-", "asa"), ("FTD-", "ftd"), ("PIX-", "pix")]
        .iter()
        .find_map(|(prefix, product)| rest.strip_prefix(prefix).map(|r| (*product, r)))?;
    // `%ASA-auth-4-113004:` when the logging class is included.
    let class_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
    let rest = if class_len > 0 && rest.as_bytes().get(class_len) == Some(&b'-') {
        &rest[class_len + 1..]
    } else {
        rest
    };
    let b = rest.as_bytes();
    if b.len() < 9 || !(b'0'..=b'7').contains(&b[0]) || b[1] != b'-' || b[8] != b':' {
        return None;
    }
    let id = &rest[2..8];
    if !id.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let end = line.len() - rest.len() + 9;
    Some(Tag {
        product,
        severity: b[0] - b'0',
        id,
        start: at,
        end,
    })
}

/// Puts what comes before the tag on `fields`: a syslog header (as ASAs write it, with
/// `: ` after the host or the time, or as a relay writes it, with a `prog[pid]:` tag), a
/// bare `<PRI>`, or nothing. Returns the header's time and host.
fn prefix_into<'a>(
    prefix: &'a str,
    fields: &mut Fields,
    years: &mut YearGuess,
    tz: &TimeZone,
) -> std::result::Result<(Option<Timestamp>, Option<&'a str>), &'static str> {
    let with_colon = prefix.trim_end();
    let bare = with_colon.trim_end_matches([':', ' ']);
    if bare.is_empty() {
        return Ok((None, None));
    }
    if let Some(priority) = bare_priority(bare) {
        let header = Header {
            layout: Layout::Rfc3164,
            priority: Some(priority),
            stamp: Stamp::Nil,
            hostname: None,
            app: None,
            procid: None,
            msgid: None,
            structured_data: None,
            message: "",
        };
        header_into(&header, fields, years, tz)?;
        return Ok((None, None));
    }
    // `Oct 10 2018 12:34:56 fw1 :` and `2024-06-26T01:35:42Z:` read without the colon; a
    // relay's `host CiscoASA[999]:` needs it to be seen as a program tag.
    let mut header = header::parse(bare, tz)?;
    if !header.message.trim().is_empty()
        && let Ok(tagged) = header::parse(with_colon, tz)
        && tagged.app.is_some()
    {
        header = tagged;
    }
    let time = header_into(&header, fields, years, tz)?;
    Ok((time, header.hostname))
}

/// `<166>` alone.
fn bare_priority(text: &str) -> Option<u8> {
    let digits = text.strip_prefix('<')?.strip_suffix('>')?;
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|p| *p <= 191)
}

/// One shape of a message: its id, the `event.action` and `event.outcome` it means, and its
/// text, where `{slot}` stands for a variable part (see [`apply`] for what each slot sets).
/// A slot's value runs to the first place the literal text after it appears (or to the end
/// of the message); literal text must match exactly. Text after the last slot or literal is
/// ignored, so optional trailers (hash codes, `(user)`) need no pattern of their own.
struct Pattern {
    id: &'static str,
    action: &'static str,
    outcome: Option<&'static str>,
    text: &'static str,
}

const fn p(
    id: &'static str,
    action: &'static str,
    outcome: Option<&'static str>,
    text: &'static str,
) -> Pattern {
    Pattern {
        id,
        action,
        outcome,
        text,
    }
}

const OK: Option<&str> = Some("success");
const FAIL: Option<&str> = Some("failure");
const BUILT: &str = "connection-built";
const TEARDOWN: &str = "connection-teardown";
const FIREWALL: &str = "firewall-rule";
const AAA: &str = "aaa-authentication";
const LOGIN: &str = "login";
const COMMAND_EXECUTED: &str = "command-executed";

/// The message shapes parsed into fields, tried in order: the first whose id and text match
/// wins. Written as Cisco's reference gives them, with the variants devices really send.
#[rustfmt::skip]
const PATTERNS: &[Pattern] = &[
    // Connections: "for" is the lower security side; `direction` says who started it.
    p("302013", BUILT, None, "Built {direction} {proto} connection {conn} for {src} ({src_nat}) to {dst} ({dst_nat})"),
    p("302014", TEARDOWN, None, "Teardown {proto} connection {conn} for {src} to {dst} duration {duration} bytes {bytes} {teardown}"),
    p("302014", TEARDOWN, None, "Teardown {proto} connection {conn} for {src} to {dst} duration {duration} bytes {bytes}"),
    p("302015", BUILT, None, "Built {direction} {proto} connection {conn} for {src} ({src_nat}) to {dst} ({dst_nat})"),
    p("302016", TEARDOWN, None, "Teardown {proto} connection {conn} for {src} to {dst} duration {duration} bytes {bytes}"),
    // ICMP: faddr is the foreign host, laddr the local one, gaddr its global (mapped) address.
    p("302020", BUILT, None, "Built {direction} {proto} connection for faddr {src_ip} gaddr {dst_nat_ip} laddr {dst_ip} type {icmp_type} code {icmp_code}"),
    p("302020", BUILT, None, "Built {direction} {proto} connection for faddr {src_ip} gaddr {dst_nat_ip} laddr {dst_ip}"),
    p("302021", TEARDOWN, None, "Teardown {proto} connection for faddr {src_ip} gaddr {dst_nat_ip} laddr {dst_ip} type {icmp_type} code {icmp_code}"),
    p("302021", TEARDOWN, None, "Teardown {proto} connection for faddr {src_ip} gaddr {dst_nat_ip} laddr {dst_ip}"),
    // NAT: the real address translated to the mapped one.
    p("305011", "nat-translation-built", None, "Built {xlate} {proto} translation from {src} to {nat}"),
    p("305012", "nat-translation-teardown", None, "Teardown {xlate} {proto} translation from {src} to {nat} duration {duration}"),
    // Access lists and other denies.
    p("106001", FIREWALL, FAIL, "Inbound {proto} connection denied from {src_addr} to {dst_addr} flags {flags} on interface {in_if}"),
    p("106006", FIREWALL, FAIL, "Deny inbound {proto} from {src_addr} to {dst_addr} on interface {in_if}"),
    p("106007", FIREWALL, FAIL, "Deny inbound {proto} from {src_addr} to {dst_addr} due to {reason}"),
    p("106014", FIREWALL, FAIL, "Deny inbound {proto} src {src} dst {dst}"),
    p("106015", FIREWALL, FAIL, "Deny {proto} (no connection) from {src_addr} to {dst_addr} flags {flags} on interface {in_if}"),
    p("106021", FIREWALL, FAIL, "Deny {proto} reverse path check from {src_ip} to {dst_ip} on interface {in_if}"),
    p("106023", FIREWALL, FAIL, "Deny {proto} src {src} dst {dst} by access-group \"{rule}\""),
    p("106100", FIREWALL, None, "access-list {rule} {verdict} {proto} {src_acl} -> {dst_acl} hit-cnt {hits}"),
    // AAA: `{aaa}` is authentication, authorization or accounting; `{attrs}` the `key = value`s.
    p("113004", AAA, OK, "AAA user {aaa} Successful{attrs}"),
    p("113005", AAA, FAIL, "AAA user {aaa} Rejected{attrs}"),
    p("113008", "aaa-transaction", OK, "AAA transaction status ACCEPT{attrs}"),
    p("113012", AAA, OK, "AAA user {aaa} Successful{attrs}"),
    p("113015", AAA, FAIL, "AAA user {aaa} Rejected{attrs}"),
    // Logins to the device itself, and their authentication.
    p("605004", LOGIN, FAIL, "Login denied from {src_addr} to {mgmt} for user {user}"),
    p("605005", LOGIN, OK, "Login permitted from {src_addr} to {mgmt} for user {user}"),
    p("611101", "user-authentication", OK, "User authentication succeeded: IP address: {src_ip}, Uname: {user}"),
    p("611102", "user-authentication", FAIL, "User authentication failed: IP address: {src_ip}, Uname: {user}"),
    // Commands: 111008 for configuration commands, 111009 for show commands.
    p("111008", COMMAND_EXECUTED, None, "User {user} executed the {command} command"),
    p("111009", COMMAND_EXECUTED, None, "User {user} executed cmd: {command}"),
    p("111010", COMMAND_EXECUTED, None, "User {user}, running {app} from IP {src_ip}, executed {command}"),
    // Remote access VPN (WebVPN, AnyConnect).
    p("716001", "vpn-session-started", OK, "Group {group} User {user} IP {ip} WebVPN session started"),
    p("716002", "vpn-session-terminated", None, "Group {group} User {user} IP {ip} WebVPN session terminated: {reason}"),
    p("113039", "vpn-session-started", OK, "Group {group} User {user} IP {ip} AnyConnect parent session started"),
    p("722022", "vpn-connection-established", OK, "Group {group} User {user} IP {ip} {proto} {_}connection established"),
    p("722023", "vpn-connection-terminated", None, "Group {group} User {user} IP {ip} {proto} {_}connection terminated"),
    p("722051", "vpn-address-assigned", None, "Group {group} User {user} IP {ip} IPv4 Address {assigned_ip} IPv6 address {assigned_ipv6} assigned to session"),
    p("722051", "vpn-address-assigned", None, "Group {group} User {user} IP {ip} Address {assigned_ip} assigned to session"),
    // Threat detection: a drop rate exceeded for an object (a host, `Scanning`, a port).
    p("733100", "threat-detection", None, "[{object}] drop {rate_id} exceeded. Current burst rate is {burst_rate} per second, max configured rate is {burst_rate_max}; Current average rate is {avg_rate} per second, max configured rate is {avg_rate_max}; Cumulative total count is {total_count}"),
];

/// Parses the message of `id` into `fields` when one of its patterns matches.
fn parse_message(id: &str, message: &str, fields: &mut Fields, directions: &mut Directions) {
    for pattern in PATTERNS.iter().filter(|p| p.id == id) {
        let Some(mut slots) = match_template(pattern.text, message) else {
            continue;
        };
        fields.insert(ACTION, Value::from(pattern.action));
        if let Some(outcome) = pattern.outcome {
            fields.insert(OUTCOME, Value::from(outcome));
        }
        if pattern.action == FIREWALL && pattern.outcome == FAIL {
            fields.insert(RULE_ACTION, Value::from("deny"));
        }
        let outbound = directions.outbound(pattern.action, &slots);
        if outbound == Some(true) {
            for (slot, _) in &mut slots {
                *slot = swapped(slot);
            }
        }
        for (slot, value) in slots {
            apply(slot, value, fields);
        }
        if let Some(outbound) = outbound
            && fields.get(DIRECTION).is_none()
        {
            let direction = if outbound { "outbound" } else { "inbound" };
            fields.insert(DIRECTION, Value::from(direction));
        }
        return;
    }
}

/// Matches `text` against a pattern's `template`; the slots' names and values, in order.
fn match_template<'t>(
    template: &'static str,
    text: &'t str,
) -> Option<Vec<(&'static str, &'t str)>> {
    let mut slots = Vec::with_capacity(8);
    let mut template = template;
    let mut rest = text;
    while !template.is_empty() {
        let literal_end = template.find('{').unwrap_or(template.len());
        if literal_end > 0 {
            rest = rest.strip_prefix(&template[..literal_end])?;
            template = &template[literal_end..];
            continue;
        }
        let close = template.find('}')?;
        let name = &template[1..close];
        template = &template[close + 1..];
        let literal = &template[..template.find('{').unwrap_or(template.len())];
        let value = if literal.is_empty() {
            // Only the last slot may run to the end; two slots in a row cannot be split.
            if !template.is_empty() {
                return None;
            }
            std::mem::take(&mut rest)
        } else {
            let at = rest.find(literal)?;
            let (value, after) = rest.split_at(at);
            rest = after;
            value
        };
        slots.push((name, value));
    }
    Some(slots)
}

/// The same slot seen from the other side, for connections written outside-first.
fn swapped(slot: &'static str) -> &'static str {
    match slot {
        "src" => "dst",
        "dst" => "src",
        "src_nat" => "dst_nat",
        "dst_nat" => "src_nat",
        "src_ip" => "dst_ip",
        "dst_ip" => "src_ip",
        "src_nat_ip" => "dst_nat_ip",
        "dst_nat_ip" => "src_nat_ip",
        other => other,
    }
}

/// The directions of connections built and not yet torn down, by connection id.
#[derive(Default)]
struct Directions {
    outbound: HashMap<u64, bool>,
}

impl Directions {
    /// More connections than this open at once are forgotten, so memory stays bounded.
    const LIMIT: usize = 1 << 16;

    /// Whether the connection a message is about is outbound: said by a build, remembered
    /// for its teardown; `None` when unknown.
    fn outbound(&mut self, action: &str, slots: &[(&'static str, &str)]) -> Option<bool> {
        let slot = |name: &str| {
            slots
                .iter()
                .find(|(s, _)| *s == name)
                .map(|(_, v)| v.trim())
        };
        let id = slot("conn").and_then(|c| c.parse::<u64>().ok());
        match action {
            BUILT => {
                let outbound = match slot("direction")?.to_ascii_lowercase().as_str() {
                    "outbound" => true,
                    "inbound" => false,
                    _ => return None,
                };
                if let Some(id) = id {
                    if self.outbound.len() >= Self::LIMIT {
                        self.outbound.clear();
                    }
                    self.outbound.insert(id, outbound);
                }
                Some(outbound)
            }
            TEARDOWN => self.outbound.remove(&id?),
            _ => None,
        }
    }
}

/// Which end of a flow a slot describes.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Source,
    Destination,
}

/// The field names of one side.
struct SideNames {
    ip: &'static str,
    port: &'static str,
    domain: &'static str,
    user: &'static str,
    user_domain: &'static str,
    nat_ip: &'static str,
    nat_port: &'static str,
    interface: &'static str,
}

const SOURCE: SideNames = SideNames {
    ip: "source.ip",
    port: "source.port",
    domain: "source.domain",
    user: "source.user.name",
    user_domain: "source.user.domain",
    nat_ip: "source.nat.ip",
    nat_port: "source.nat.port",
    interface: INGRESS,
};

const DESTINATION: SideNames = SideNames {
    ip: "destination.ip",
    port: "destination.port",
    domain: "destination.domain",
    user: "destination.user.name",
    user_domain: "destination.user.domain",
    nat_ip: "destination.nat.ip",
    nat_port: "destination.nat.port",
    interface: EGRESS,
};

/// How a slot writes a socket.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// `outside:10.0.0.1/443`, the interface optional.
    InterfaceAddress,
    /// `10.0.0.1/443`.
    Address,
    /// `outside/10.0.0.1(443)`, as access-list messages write it.
    AccessList,
    /// `10.0.0.1/0`: the number after the slash is not a port (ICMP ids).
    HostOnly,
}

/// Sets the fields a slot's value gives.
fn apply(slot: &str, value: &str, fields: &mut Fields) {
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    use Shape::*;
    use Side::*;
    match slot {
        "src" => endpoint(value, InterfaceAddress, Source, false, fields),
        "dst" => endpoint(value, InterfaceAddress, Destination, false, fields),
        "src_addr" => endpoint(value, Address, Source, false, fields),
        "dst_addr" => endpoint(value, Address, Destination, false, fields),
        "src_acl" => endpoint(value, AccessList, Source, false, fields),
        "dst_acl" => endpoint(value, AccessList, Destination, false, fields),
        "src_ip" => endpoint(value, HostOnly, Source, false, fields),
        "dst_ip" => endpoint(value, HostOnly, Destination, false, fields),
        "src_nat" => endpoint(value, Address, Source, true, fields),
        "dst_nat" => endpoint(value, Address, Destination, true, fields),
        "src_nat_ip" => endpoint(value, HostOnly, Source, true, fields),
        "dst_nat_ip" => endpoint(value, HostOnly, Destination, true, fields),
        // 305011: the mapped side of a translation, on the interface the traffic leaves by.
        "nat" => {
            let socket = Socket::parse(value, InterfaceAddress);
            if let Some(interface) = socket.interface {
                fields.insert(EGRESS, Value::from(interface));
            }
            socket.into_fields(&SOURCE, true, fields);
        }
        // 605004: the device's own address, on the interface the login came in by.
        "mgmt" => {
            let socket = Socket::parse(value, InterfaceAddress);
            if let Some(interface) = socket.interface {
                fields.insert(INGRESS, Value::from(interface));
            }
            socket.into_fields(&DESTINATION, false, fields);
        }
        "direction" => set_str(fields, DIRECTION, &value.to_ascii_lowercase()),
        "proto" => {
            // `TCP`, `Probe TCP`, `protocol 47`.
            let word = value.rsplit(' ').next().unwrap_or(value);
            if word.bytes().all(|b| b.is_ascii_digit()) {
                set_str(fields, IANA_NUMBER, word);
            } else {
                set_str(fields, TRANSPORT, &word.to_ascii_lowercase());
            }
        }
        "conn" => set_int_or_str(fields, CONNECTION_ID, value),
        "duration" => {
            if let Some(nanos) = duration_nanos(value) {
                fields.insert(DURATION, Value::Int(nanos));
            }
        }
        "bytes" => set_int_or_str(fields, BYTES, first_word(value)),
        "hits" => set_int_or_str(fields, HIT_COUNT, first_word(value)),
        "icmp_type" => set_int_or_str(fields, ICMP_TYPE, first_word(value)),
        "icmp_code" => set_int_or_str(fields, ICMP_CODE, first_word(value)),
        "teardown" => teardown(value, fields),
        "reason" => set_str(fields, REASON, value.trim_end_matches('.')),
        "rule" => set_str(fields, RULE, value),
        "verdict" => {
            let (action, outcome) = match value {
                "permitted" => ("permit", "success"),
                "denied" => ("deny", "failure"),
                "est-allowed" => ("est-allowed", "success"),
                other => (other, ""),
            };
            set_str(fields, RULE_ACTION, action);
            if !outcome.is_empty() {
                fields.insert(OUTCOME, Value::from(outcome));
            }
        }
        "flags" => set_str(
            fields,
            TCP_FLAGS,
            &value.split_whitespace().collect::<Vec<_>>().join(" "),
        ),
        "in_if" => set_str(fields, INGRESS, value.trim_end_matches('.')),
        "xlate" => set_str(fields, TRANSLATION, &value.to_ascii_lowercase()),
        "aaa" => {
            let kind = value.to_ascii_lowercase();
            if matches!(
                kind.as_str(),
                "authentication" | "authorization" | "accounting"
            ) {
                fields.insert(ACTION, Value::from(format!("aaa-{kind}")));
            }
            set_str(fields, AAA_TYPE, &kind);
        }
        "attrs" => aaa_attributes(value, fields),
        "user" => user(unquote(value), fields),
        "group" => set_str(fields, GROUP_POLICY, unquote(value)),
        "ip" => endpoint(unquote(value), HostOnly, Source, false, fields),
        "assigned_ip" => set_address(fields, ASSIGNED_IP, unquote(value)),
        "assigned_ipv6" => set_address(fields, ASSIGNED_IPV6, unquote(value)),
        "command" => set_str(fields, COMMAND, unquote(value)),
        "app" => set_str(fields, APPLICATION, unquote(value)),
        "object" => {
            set_str(fields, THREAT_OBJECT, value);
            // A host's own drop rate: the host is the one scanning or flooding.
            if value.parse::<IpAddr>().is_ok() {
                set_str(fields, SOURCE.ip, value);
            }
        }
        "rate_id" => set_str(fields, DROP_RATE_ID, value),
        "burst_rate" => set_int_or_str(fields, BURST_RATE, value),
        "burst_rate_max" => set_int_or_str(fields, BURST_RATE_MAX, value),
        "avg_rate" => set_int_or_str(fields, AVERAGE_RATE, value),
        "avg_rate_max" => set_int_or_str(fields, AVERAGE_RATE_MAX, value),
        "total_count" => set_int_or_str(fields, TOTAL_COUNT, first_word(value)),
        // `_` and anything else: matched but not kept.
        _ => {}
    }
}

/// Puts one side's socket on `fields`.
fn endpoint(value: &str, shape: Shape, side: Side, nat: bool, fields: &mut Fields) {
    let names = if side == Side::Source {
        &SOURCE
    } else {
        &DESTINATION
    };
    let socket = Socket::parse(value, shape);
    if !nat && let Some(interface) = socket.interface {
        fields.insert(names.interface, Value::from(interface));
    }
    socket.into_fields(names, nat, fields);
}

/// A socket as ASA messages write it, with the annotations that may follow it: an identity
/// firewall user (`(LOCAL\alice)`, `(CORP\bob, 10:Employees)`), a host name for the address
/// (`(www.example.com)`) or an ICMP type (`(type 8, code 0)`).
#[derive(Debug, Default, PartialEq)]
struct Socket<'a> {
    interface: Option<&'a str>,
    address: &'a str,
    port: Option<&'a str>,
    user: Option<&'a str>,
    fqdn: Option<&'a str>,
    icmp: Option<(&'a str, &'a str)>,
}

impl<'a> Socket<'a> {
    fn parse(text: &'a str, shape: Shape) -> Socket<'a> {
        let text = text.trim();
        let mut socket = Socket::default();
        let (mut core, mut annotations) = match shape {
            // `inside/10.0.0.1(443)(LOCAL\alice)`: the interface, then the address up to `(`.
            Shape::AccessList => {
                let (interface, rest) = text.split_once('/').unwrap_or(("", text));
                socket.interface = Some(interface).filter(|i| !i.is_empty());
                let end = rest.find('(').unwrap_or(rest.len());
                let (address, after) = rest.split_at(end);
                socket.address = address.trim();
                // The first group is the port (for ICMP, the type).
                let after = after.trim_start();
                match after
                    .strip_prefix('(')
                    .and_then(|a| a.split_once(')'))
                    .filter(|(port, _)| port.bytes().all(|b| b.is_ascii_digit()))
                {
                    Some((port, rest)) => {
                        socket.port = Some(port).filter(|p| !p.is_empty());
                        ("", rest)
                    }
                    None => ("", after),
                }
            }
            _ => {
                // A pattern's slot may end inside the annotations: `10.0.0.1/80)(CORP\\eve`.
                let end = text.find(['(', ' ', ')']).unwrap_or(text.len());
                text.split_at(end)
            }
        };
        if shape != Shape::AccessList {
            core = core.trim_end_matches(',');
            // `outside:10.0.0.1/443`; an IPv6 address alone has colons of its own.
            if shape == Shape::InterfaceAddress {
                let address = core.rsplit_once('/').map_or(core, |(a, _)| a);
                if address.parse::<IpAddr>().is_err()
                    && let Some((interface, rest)) = core.split_once(':')
                {
                    socket.interface = Some(interface).filter(|i| !i.is_empty());
                    core = rest;
                }
            }
            match core.rsplit_once('/') {
                Some((address, port)) => {
                    socket.address = address;
                    if shape != Shape::HostOnly {
                        socket.port = Some(port).filter(|p| !p.is_empty());
                    }
                }
                None => socket.address = core,
            }
        }
        // The annotations: `(...)` groups, possibly separated by spaces.
        while let Some(open) = annotations.find('(') {
            let after = &annotations[open + 1..];
            let close = after.find(')').unwrap_or(after.len());
            socket.annotate(after[..close].trim());
            annotations = after.get(close + 1..).unwrap_or("");
        }
        socket
    }

    fn annotate(&mut self, inner: &'a str) {
        if let Some(icmp) = inner.strip_prefix("type ") {
            let (kind, code) = icmp.split_once(',').unwrap_or((icmp, ""));
            let code = code.trim().strip_prefix("code ").unwrap_or("");
            self.icmp = Some((kind.trim(), code.trim()));
            return;
        }
        // `CORP\bob, 10:Employees`: the name, then the security group.
        let name = inner.split(',').next().unwrap_or(inner).trim();
        if name.is_empty() {
            return;
        }
        if name.contains('\\') || !name.contains('.') {
            self.user.get_or_insert(name);
        } else {
            self.fqdn.get_or_insert(name);
        }
    }

    fn into_fields(self, names: &SideNames, nat: bool, fields: &mut Fields) {
        let (ip_name, port_name) = if nat {
            (names.nat_ip, names.nat_port)
        } else {
            (names.ip, names.port)
        };
        if !self.address.is_empty() {
            if self.address.parse::<IpAddr>().is_ok() {
                fields.insert(ip_name, Value::from(self.address));
            } else if !nat {
                // Devices name hosts they know (`SDC_Proxy/63986`); never a NAT address.
                fields.insert(names.domain, Value::from(self.address));
            }
        }
        if let Some(port) = self.port {
            match port.parse::<i64>() {
                Ok(port) => {
                    fields.insert(port_name, Value::Int(port));
                }
                // `to inside:10.0.0.1/https`: a service name.
                Err(_) if names.ip == DESTINATION.ip && !nat => {
                    fields.insert(PROTOCOL, Value::from(port.to_ascii_lowercase()));
                }
                Err(_) => {}
            }
        }
        if let Some(fqdn) = self.fqdn {
            fields.insert(names.domain, Value::from(fqdn));
        }
        if let Some(user) = self.user {
            match user.rsplit_once('\\') {
                Some((domain, name)) => {
                    fields.insert(names.user, Value::from(name));
                    fields.insert(names.user_domain, Value::from(domain));
                }
                None => {
                    fields.insert(names.user, Value::from(user));
                }
            }
        }
        if let Some((kind, code)) = self.icmp {
            set_int_or_str(fields, ICMP_TYPE, kind);
            set_int_or_str(fields, ICMP_CODE, code);
        }
    }
}

/// `TCP Reset-I`, `TCP FINs from outside`, `SYN Timeout (alice)`: why a TCP connection was
/// torn down, which side started it, and the AAA user.
fn teardown(value: &str, fields: &mut Fields) {
    let mut text = value.trim();
    if text.ends_with(')')
        && let Some(open) = text.rfind('(')
    {
        user(&text[open + 1..text.len() - 1], fields);
        text = text[..open].trim_end();
    }
    let (reason, initiator) = match text.split_once(" from ") {
        Some((reason, rest)) => (reason, rest.split_whitespace().next()),
        None => (text, None),
    };
    set_str(fields, REASON, reason.trim());
    if let Some(initiator) = initiator {
        set_str(fields, INITIATOR, initiator);
    }
}

/// The `key = value` parts of AAA messages, separated by `:` or `,` (` : server = 10.0.0.2
/// : user = alice : user IP = 192.0.2.7`, `: server = 10.0.0.2 , User = alice`).
fn aaa_attributes(text: &str, fields: &mut Fields) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        // A separator has a space before or after it; the colons of IPv6 addresses do not.
        let spaced = (i > 0 && bytes[i - 1] == b' ') || bytes.get(i + 1) == Some(&b' ');
        if (b == b':' || b == b',') && spaced {
            parts.push(&text[start..i]);
            start = i + 1;
        }
    }
    parts.push(&text[start..]);
    for part in parts {
        let part = part.trim();
        match part.split_once('=') {
            Some((key, value)) => {
                let value = value.trim();
                match key.trim().to_ascii_lowercase().as_str() {
                    "reason" => set_str(fields, REASON, value),
                    "server" => set_str(fields, AAA_SERVER, value),
                    "user" => user(value, fields),
                    "user ip" => endpoint(value, Shape::HostOnly, Side::Source, false, fields),
                    _ => {}
                }
            }
            None if part.eq_ignore_ascii_case("local database") => {
                set_str(fields, AAA_SERVER, "LOCAL");
            }
            None => {}
        }
    }
}

/// A user name as messages write it: `'admin'`, `"admin"`, `<admin>`, `CORP\admin`.
fn user(value: &str, fields: &mut Fields) {
    let value = unquote(value.trim());
    if value.is_empty() {
        return;
    }
    match value.rsplit_once('\\') {
        Some((domain, name)) if !name.is_empty() => {
            fields.insert(USER, Value::from(name));
            if !domain.is_empty() {
                fields.insert(USER_DOMAIN, Value::from(domain));
            }
        }
        _ => {
            fields.insert(USER, Value::from(value));
        }
    }
}

/// Removes one pair of `'...'`, `"..."`, `“...”` or `<...>` around a value.
fn unquote(value: &str) -> &str {
    let value = value.trim();
    for (open, close) in [('\'', '\''), ('"', '"'), ('“', '”'), ('<', '>')] {
        if let Some(inner) = value.strip_prefix(open).and_then(|v| v.strip_suffix(close)) {
            return inner.trim();
        }
    }
    value
}

/// `h:mm:ss` (hours may run past 24) in nanoseconds, as ECS `event.duration` is.
fn duration_nanos(text: &str) -> Option<i64> {
    let mut parts = first_word(text).split(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds: i64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let total = hours
        .checked_mul(3600)?
        .checked_add(minutes.checked_mul(60)?)?
        .checked_add(seconds)?;
    total.checked_mul(1_000_000_000)
}

fn first_word(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or("")
}

fn set_str(fields: &mut Fields, name: &'static str, value: &str) {
    if !value.is_empty() {
        fields.insert(name, Value::from(value));
    }
}

fn set_int_or_str(fields: &mut Fields, name: &'static str, value: &str) {
    match value.parse::<i64>() {
        Ok(n) => {
            fields.insert(name, Value::Int(n));
        }
        Err(_) => set_str(fields, name, value),
    }
}

/// An address where one is expected; `::` and `0.0.0.0` mean none was assigned.
fn set_address(fields: &mut Fields, name: &'static str, value: &str) {
    if let Ok(ip) = value.parse::<IpAddr>()
        && !ip.is_unspecified()
    {
        fields.insert(name, Value::from(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::RecordResult;

    fn read(text: &str) -> Vec<RecordResult> {
        crate::reader::read_text(&AsaReader, "asa.log", text, TimeZone::UTC)
    }

    fn one(line: &str) -> Event {
        let mut got = read(line);
        assert_eq!(got.len(), 1);
        got.pop().unwrap().unwrap()
    }

    fn fields_of(event: &Event) -> Vec<(String, String)> {
        event
            .fields()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// The fields of `event` named in `expected` have exactly those values (`Int`s for
    /// numbers); the test names what it cares about, not every field.
    fn check(event: &Event, expected: &[(&str, Value)]) {
        for (name, value) in expected {
            assert_eq!(
                event.get(name),
                Some(value),
                "{name} in {:#?}",
                fields_of(event)
            );
        }
    }

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    #[test]
    fn tags_of_every_product_and_class() {
        let tag = find_tag("<166>Oct 10 2018 12:34:56: %ASA-6-302013: Built").unwrap();
        assert_eq!((tag.product, tag.severity, tag.id), ("asa", 6, "302013"));
        assert_eq!(
            &"<166>Oct 10 2018 12:34:56: %ASA-6-302013: Built"[tag.end..],
            " Built"
        );
        let tag = find_tag("%FTD-1-430003: x").unwrap();
        assert_eq!(
            (tag.product, tag.severity, tag.id, tag.start),
            ("ftd", 1, "430003", 0)
        );
        assert_eq!(find_tag("h : %PIX-4-106023:").unwrap().product, "pix");
        let tag = find_tag("Sep 25 h : %ASA-auth-4-113004: AAA").unwrap();
        assert_eq!((tag.severity, tag.id), (4, "113004"));
        assert!(find_tag("%ASA-8-302013: severity 8").is_none());
        assert!(find_tag("%ASA-6-30201: short id").is_none());
        assert!(find_tag("x%ASA-6-302013: glued to a word").is_none());
        assert!(find_tag("100%ASA-6-302013").is_none());
        assert!(find_tag("%ASA-6-302013").is_none(), "no colon");
        assert!(find_tag("%").is_none());
    }

    #[test]
    fn headers_as_devices_and_relays_write_them() {
        let cases = [
            // (line, host, program, timestamp)
            (
                "Oct 10 2018 12:34:56 localhost CiscoASA[999]: %ASA-6-302010: 2 in use, 5 most used",
                Some("localhost"),
                Some("CiscoASA"),
                Some("2018-10-10T12:34:56Z"),
            ),
            (
                "<190>Mar 03 2023 09:01:16 sac-firewall : %ASA-6-302010: 2 in use",
                Some("sac-firewall"),
                None,
                Some("2023-03-03T09:01:16Z"),
            ),
            (
                "May  5 17:51:17 dev01: %FTD-6-302010: 2 in use",
                Some("dev01"),
                None,
                Some("2024-05-05T17:51:17Z"),
            ),
            (
                "<166>2024-06-26T01:35:42Z: %ASA-6-302010: 2 in use",
                None,
                None,
                Some("2024-06-26T01:35:42Z"),
            ),
            (
                "Apr 29 12:59:50.138: %ASA-6-302010: 2 in use",
                None,
                None,
                Some("2024-04-29T12:59:50.138Z"),
            ),
            (
                "Jun 26 18:04:40 198.51.100.10 %ASA-6-302010: 2 in use",
                Some("198.51.100.10"),
                None,
                Some("2024-06-26T18:04:40Z"),
            ),
            ("<166>%ASA-6-302010: 2 in use", None, None, None),
            ("<166>:: %ASA-6-302010: 2 in use", None, None, None),
            ("%ASA-6-302010: 2 in use", None, None, None),
        ];
        for (line, host, program, time) in cases {
            let e = one(line);
            assert_eq!(e.host.as_deref(), host, "{line}");
            assert_eq!(e.get_str("process.name"), program, "{line}");
            assert_eq!(
                e.timestamp.map(|t| t.to_string()).as_deref(),
                time,
                "{line}"
            );
            assert!(
                e.get_str("message").unwrap().starts_with("2 in use"),
                "{line}"
            );
        }
        let e = one("<166>%ASA-6-302010: 2 in use");
        check(
            &e,
            &[
                ("log.syslog.priority", Value::Int(166)),
                ("log.syslog.facility.name", s("local4")),
                ("cisco.asa.severity", Value::Int(6)),
                ("cisco.asa.message_id", s("302010")),
                ("event.code", s("302010")),
            ],
        );
        assert!(
            e.get("event.action").is_none(),
            "an unknown id keeps its text only"
        );
    }

    #[test]
    fn connections_take_their_direction_into_source_and_destination() {
        let e = one(
            "%ASA-6-302013: Built outbound TCP connection 11757 for outside:100.66.205.104/80 (100.66.205.104/80) to inside:172.31.98.44/1772 (100.66.98.44/8256)",
        );
        check(
            &e,
            &[
                ("event.action", s("connection-built")),
                ("network.direction", s("outbound")),
                ("network.transport", s("tcp")),
                ("cisco.asa.connection_id", Value::Int(11757)),
                ("source.ip", s("172.31.98.44")),
                ("source.port", Value::Int(1772)),
                ("source.nat.ip", s("100.66.98.44")),
                ("source.nat.port", Value::Int(8256)),
                ("observer.ingress.interface.name", s("inside")),
                ("destination.ip", s("100.66.205.104")),
                ("destination.port", Value::Int(80)),
                ("observer.egress.interface.name", s("outside")),
            ],
        );
        let e = one(
            "%ASA-6-302013: Built inbound TCP connection 7 for outside:203.0.113.9/51022 (203.0.113.9/51022)(CORP\\eve) to dmz:10.1.1.5/443 (198.51.100.5/443)",
        );
        check(
            &e,
            &[
                ("network.direction", s("inbound")),
                ("source.ip", s("203.0.113.9")),
                ("source.user.name", s("eve")),
                ("source.user.domain", s("CORP")),
                ("observer.ingress.interface.name", s("outside")),
                ("destination.ip", s("10.1.1.5")),
                ("destination.nat.ip", s("198.51.100.5")),
            ],
        );
    }

    #[test]
    fn teardowns_follow_the_build_they_belong_to() {
        let got = read(concat!(
            "%ASA-6-302015: Built outbound UDP connection 11758 for outside:100.66.80.32/53 (100.66.80.32/53) to inside:172.31.98.44/56132 (172.31.98.44/56132)\n",
            "%ASA-6-302016: Teardown UDP connection 11758 for outside:100.66.80.32/53 to inside:172.31.98.44/56132 duration 0:00:00 bytes 148\n",
            "%ASA-6-302014: Teardown TCP connection 11749 for outside:100.66.211.242/80 to inside:172.31.98.44/1758 duration 1:01:07 bytes 38110 TCP Reset-O from outside (alice)\n",
        ));
        let e: Vec<_> = got.iter().map(|r| r.as_ref().unwrap()).collect();
        check(
            e[1],
            &[
                ("event.action", s("connection-teardown")),
                ("network.direction", s("outbound")),
                ("source.ip", s("172.31.98.44")),
                ("source.port", Value::Int(56132)),
                ("destination.ip", s("100.66.80.32")),
                ("destination.port", Value::Int(53)),
                ("network.bytes", Value::Int(148)),
                ("event.duration", Value::Int(0)),
            ],
        );
        // No build seen: the order as written.
        check(
            e[2],
            &[
                ("source.ip", s("100.66.211.242")),
                ("destination.ip", s("172.31.98.44")),
                ("event.duration", Value::Int(3667 * 1_000_000_000)),
                ("event.reason", s("TCP Reset-O")),
                ("cisco.asa.termination_initiator", s("outside")),
                ("user.name", s("alice")),
            ],
        );
        assert!(e[2].get("network.direction").is_none());
    }

    #[test]
    fn icmp_connections() {
        let e = one(
            "%ASA-6-302020: Built outbound ICMP connection for faddr 8.8.8.8/0 gaddr 198.51.100.1/3 laddr 10.0.0.7/3 type 8 code 0",
        );
        check(
            &e,
            &[
                ("network.transport", s("icmp")),
                ("source.ip", s("10.0.0.7")),
                ("source.nat.ip", s("198.51.100.1")),
                ("destination.ip", s("8.8.8.8")),
                ("cisco.asa.icmp_type", Value::Int(8)),
                ("cisco.asa.icmp_code", Value::Int(0)),
            ],
        );
        assert!(e.get("source.port").is_none(), "ICMP ids are not ports");
        let e = one(
            "%ASA-6-302021: Teardown ICMP connection for faddr 192.168.2.2/0 gaddr 81.2.69.144/2 laddr 10.10.10.10/2",
        );
        check(
            &e,
            &[
                ("event.action", s("connection-teardown")),
                ("source.ip", s("192.168.2.2")),
                ("destination.ip", s("10.10.10.10")),
            ],
        );
    }

    #[test]
    fn access_list_denies_and_permits() {
        let e = one(
            r#"%ASA-4-106023: Deny tcp src outside:100.66.19.254/80 dst inside:172.31.98.44/8277 by access-group "inbound" [0x0, 0x0]"#,
        );
        check(
            &e,
            &[
                ("event.action", s("firewall-rule")),
                ("event.outcome", s("failure")),
                ("cisco.asa.action", s("deny")),
                ("cisco.asa.rule_name", s("inbound")),
                ("network.transport", s("tcp")),
                ("source.ip", s("100.66.19.254")),
                ("source.port", Value::Int(80)),
                ("observer.ingress.interface.name", s("outside")),
                ("destination.ip", s("172.31.98.44")),
                ("destination.port", Value::Int(8277)),
                ("observer.egress.interface.name", s("inside")),
            ],
        );
        let e = one(
            r#"%ASA-4-106023: Deny icmp src OUTSIDE:2a02:cf40:add:4002::1 dst OUTSIDE:2001:db8::2 (type 128, code 0) by access-group "OUTSIDE_in""#,
        );
        check(
            &e,
            &[
                ("source.ip", s("2a02:cf40:add:4002::1")),
                ("destination.ip", s("2001:db8::2")),
                ("observer.ingress.interface.name", s("OUTSIDE")),
                ("cisco.asa.icmp_type", Value::Int(128)),
                ("cisco.asa.icmp_code", Value::Int(0)),
            ],
        );
        let e = one(
            r#"%ASA-4-106023: Deny protocol 47 src outside:81.2.69.144 dst inside:172.31.98.44 by access-group "inbound""#,
        );
        check(&e, &[("network.iana_number", s("47"))]);
        assert!(e.get("source.port").is_none());
        let e = one(
            "%ASA-6-106100: access-list fw111_out permitted tcp ptaaac/192.168.2.2(62157)(LOCAL\\bob, 5:Staff) -> fw111/10.10.10.10(3452) hit-cnt 2 300-second interval [0x38ff326b, 0x0]",
        );
        check(
            &e,
            &[
                ("cisco.asa.rule_name", s("fw111_out")),
                ("cisco.asa.action", s("permit")),
                ("event.outcome", s("success")),
                ("cisco.asa.hit_count", Value::Int(2)),
                ("source.ip", s("192.168.2.2")),
                ("source.port", Value::Int(62157)),
                ("source.user.name", s("bob")),
                ("observer.ingress.interface.name", s("ptaaac")),
                ("destination.ip", s("10.10.10.10")),
                ("destination.port", Value::Int(3452)),
                ("observer.egress.interface.name", s("fw111")),
            ],
        );
        let e = one(
            "%ASA-5-106100: access-list testrulename denied tcp insideintf/somedomainname.local(27218) -> OUTSIDE/192.168.157.61(53) hit-cnt 1 first hit [0x16847359, 0x00000000]",
        );
        check(
            &e,
            &[
                ("event.outcome", s("failure")),
                ("source.domain", s("somedomainname.local")),
                ("source.port", Value::Int(27218)),
            ],
        );
        let cases = [
            (
                "%ASA-2-106001: Inbound TCP connection denied from 192.168.2.2/43803 to 10.10.10.10/14322 flags SYN  on interface out111",
                "out111",
            ),
            (
                "%ASA-2-106006: Deny inbound UDP from 192.168.2.2/65020 to 10.10.10.10/65020 on interface fw111.",
                "fw111",
            ),
            (
                "%ASA-6-106015: Deny TCP (no connection) from 192.168.2.2/53089 to 10.10.10.10/443 flags FIN PSH ACK  on interface out111",
                "out111",
            ),
            (
                "%ASA-1-106021: Deny TCP reverse path check from 192.168.2.2 to 10.10.10.10 on interface fw111",
                "fw111",
            ),
        ];
        for (line, interface) in cases {
            let e = one(line);
            check(
                &e,
                &[
                    ("event.outcome", s("failure")),
                    ("source.ip", s("192.168.2.2")),
                    ("destination.ip", s("10.10.10.10")),
                    ("observer.ingress.interface.name", s(interface)),
                ],
            );
        }
        check(
            &one(
                "%ASA-6-106015: Deny TCP (no connection) from 192.168.2.2/53089 to 10.10.10.10/443 flags FIN PSH ACK  on interface out111",
            ),
            &[("cisco.asa.tcp_flags", s("FIN PSH ACK"))],
        );
        check(
            &one(
                "%ASA-2-106007: Deny inbound UDP from 203.0.113.5/53 to 10.0.0.5/1025 due to DNS Response",
            ),
            &[
                ("event.reason", s("DNS Response")),
                ("source.port", Value::Int(53)),
            ],
        );
        check(
            &one(
                "%ASA-3-106014: Deny inbound icmp src outside:203.0.113.5 dst inside:10.0.0.5 (type 8, code 0)",
            ),
            &[
                ("destination.ip", s("10.0.0.5")),
                ("cisco.asa.icmp_type", Value::Int(8)),
                ("observer.egress.interface.name", s("inside")),
            ],
        );
    }

    #[test]
    fn nat_translations() {
        let e = one(
            "%ASA-6-305012: Teardown dynamic TCP translation from inside:172.31.98.44/1454 to outside:100.66.98.44/8267 duration 0:00:30",
        );
        check(
            &e,
            &[
                ("event.action", s("nat-translation-teardown")),
                ("cisco.asa.translation_type", s("dynamic")),
                ("source.ip", s("172.31.98.44")),
                ("source.port", Value::Int(1454)),
                ("source.nat.ip", s("100.66.98.44")),
                ("source.nat.port", Value::Int(8267)),
                ("observer.ingress.interface.name", s("inside")),
                ("observer.egress.interface.name", s("outside")),
                ("event.duration", Value::Int(30_000_000_000)),
            ],
        );
    }

    #[test]
    fn aaa_messages_in_both_spellings() {
        let e = one(
            "%ASA-6-113004: AAA user authentication Successful : server = 10.79.48.28 : user = jdoe",
        );
        check(
            &e,
            &[
                ("event.action", s("aaa-authentication")),
                ("event.outcome", s("success")),
                ("cisco.asa.aaa_server", s("10.79.48.28")),
                ("user.name", s("jdoe")),
            ],
        );
        let e = one(
            "%ASA-6-113004: AAA user authorization Successful: server = 81.2.69.144 , User = alice",
        );
        check(
            &e,
            &[
                ("event.action", s("aaa-authorization")),
                ("user.name", s("alice")),
            ],
        );
        let e = one(
            "%ASA-6-113005: AAA user authentication Rejected : reason = Invalid password : server = 81.2.69.144 : user = a2bcde : user IP = 2001:db8::7",
        );
        check(
            &e,
            &[
                ("event.outcome", s("failure")),
                ("event.reason", s("Invalid password")),
                ("user.name", s("a2bcde")),
                ("source.ip", s("2001:db8::7")),
            ],
        );
        let e = one(
            "%ASA-6-113015: AAA user authentication Rejected : reason = Invalid password : local database : user = admin : user IP = 81.2.69.143",
        );
        check(
            &e,
            &[
                ("cisco.asa.aaa_server", s("LOCAL")),
                ("source.ip", s("81.2.69.143")),
                ("event.outcome", s("failure")),
            ],
        );
        check(
            &one(
                "%ASA-6-113012: AAA user authentication Successful : local database : user = sample.user",
            ),
            &[
                ("user.name", s("sample.user")),
                ("event.outcome", s("success")),
            ],
        );
        check(
            &one("%ASA-6-113008: AAA transaction status ACCEPT : user = USER_1"),
            &[
                ("event.action", s("aaa-transaction")),
                ("user.name", s("USER_1")),
            ],
        );
        let e = one(
            "%ASA-6-113005: AAA user authentication Rejected : reason = Unspecified : server = 10.0.0.70 : user = : user IP = 81.2.69.144",
        );
        assert!(e.get("user.name").is_none(), "an empty user is no user");
    }

    #[test]
    fn logins_commands_and_vpn_sessions() {
        check(
            &one(
                r#"%ASA-6-605004: Login denied from 10.10.1.212/51923 to FCD-FS-LAN:10.10.1.254/https for user "*****""#,
            ),
            &[
                ("event.action", s("login")),
                ("event.outcome", s("failure")),
                ("source.ip", s("10.10.1.212")),
                ("source.port", Value::Int(51923)),
                ("destination.ip", s("10.10.1.254")),
                ("network.protocol", s("https")),
                ("observer.ingress.interface.name", s("FCD-FS-LAN")),
                ("user.name", s("*****")),
            ],
        );
        check(
            &one(
                r#"%ASA-6-605005: Login permitted from 10.10.0.87/6651 to inside:10.10.1.254/ssh for user "admin""#,
            ),
            &[("event.outcome", s("success")), ("user.name", s("admin"))],
        );
        check(
            &one("%ASA-6-611102: User authentication failed: IP address: 10.10.0.87, Uname: admin"),
            &[
                ("event.action", s("user-authentication")),
                ("event.outcome", s("failure")),
                ("source.ip", s("10.10.0.87")),
                ("user.name", s("admin")),
            ],
        );
        check(
            &one("%ASA-5-111008: User 'enable_15' executed the 'write memory' command."),
            &[
                ("event.action", s("command-executed")),
                ("user.name", s("enable_15")),
                ("cisco.asa.command_line", s("write memory")),
            ],
        );
        check(
            &one(
                "%ASA-5-111010: User 'admin', running 'CLI' from IP 10.10.0.87, executed 'clear configure access-list'",
            ),
            &[
                ("user.name", s("admin")),
                ("cisco.asa.application", s("CLI")),
                ("source.ip", s("10.10.0.87")),
                ("cisco.asa.command_line", s("clear configure access-list")),
            ],
        );
        check(
            &one("%ASA-7-111009: User 'aaaa' executed cmd: show access-list aaa_out brief"),
            &[(
                "cisco.asa.command_line",
                s("show access-list aaa_out brief"),
            )],
        );
        check(
            &one(
                "%ASA-6-716002: Group <GROUP 1> User <alice> IP <192.168.50.1> WebVPN session terminated: Idle timeout.",
            ),
            &[
                ("event.action", s("vpn-session-terminated")),
                ("cisco.asa.group_policy", s("GROUP 1")),
                ("user.name", s("alice")),
                ("source.ip", s("192.168.50.1")),
                ("event.reason", s("Idle timeout")),
            ],
        );
        check(
            &one(
                "%ASA-6-722022: Group <GP> User <CORP\\dana> IP <203.0.113.24> TCP SVC connection established without compression",
            ),
            &[
                ("event.action", s("vpn-connection-established")),
                ("network.transport", s("tcp")),
                ("user.name", s("dana")),
                ("user.domain", s("CORP")),
            ],
        );
        check(
            &one(
                "%ASA-6-722023: Group GP User dana IP 203.0.113.24 UDP connection terminated with compression",
            ),
            &[
                ("event.action", s("vpn-connection-terminated")),
                ("network.transport", s("udp")),
            ],
        );
        let e = one(
            "%ASA-4-722051: Group <VPN5Policy> User <john> IP <192.168.50.3> IPv4 Address <192.168.50.5> IPv6 address <::> assigned to session",
        );
        check(
            &e,
            &[
                ("cisco.asa.assigned_ip", s("192.168.50.5")),
                ("source.ip", s("192.168.50.3")),
            ],
        );
        assert!(e.get("cisco.asa.assigned_ipv6").is_none());
        check(
            &one(
                "%ASA-6-113039: Group <GP_AnyConnect> User <jsmith> IP <198.51.100.42> AnyConnect parent session started.",
            ),
            &[
                ("event.action", s("vpn-session-started")),
                ("event.outcome", s("success")),
            ],
        );
        check(
            &one(
                "%ASA-6-716001: Group DfltGrpPolicy User bob IP 198.51.100.9 WebVPN session started.",
            ),
            &[("user.name", s("bob")), ("source.ip", s("198.51.100.9"))],
        );
    }

    #[test]
    fn threat_detection_rates() {
        let e = one(
            "%ASA-4-733100: [   192.168.0.1] drop rate-1 exceeded. Current burst rate is 0 per second, max configured rate is -4; Current average rate is 7 per second, max configured rate is 5; Cumulative total count is 9063",
        );
        check(
            &e,
            &[
                ("event.action", s("threat-detection")),
                ("cisco.asa.threat_object", s("192.168.0.1")),
                ("source.ip", s("192.168.0.1")),
                ("cisco.asa.drop_rate_id", s("rate-1")),
                ("cisco.asa.burst_rate", Value::Int(0)),
                ("cisco.asa.burst_rate_max", Value::Int(-4)),
                ("cisco.asa.average_rate", Value::Int(7)),
                ("cisco.asa.average_rate_max", Value::Int(5)),
                ("cisco.asa.total_count", Value::Int(9063)),
            ],
        );
        let e = one(
            "%ASA-4-733100: [ Scanning] drop rate-2 exceeded. Current burst rate is 0 per second, max configured rate is 8; Current average rate is 5 per second, max configured rate is 4; Cumulative total count is 19269",
        );
        check(&e, &[("cisco.asa.threat_object", s("Scanning"))]);
        assert!(e.get("source.ip").is_none());
    }

    #[test]
    fn messages_that_match_no_shape_keep_their_text() {
        let e = one("%ASA-4-106023: Deny something we have never seen");
        assert!(e.get("event.action").is_none());
        assert_eq!(
            e.get_str("message"),
            Some("Deny something we have never seen")
        );
        let e = one("%ASA-6-302013: Built inbound TCP connection");
        assert!(e.get("source.ip").is_none());
    }

    #[test]
    fn bad_lines_are_errors_with_their_line_and_never_panic() {
        let got = read(concat!(
            "no tag here at all\n",
            "garbage before %ASA-6-302010: 1 in use\n",
            "%ASA-6-302013: Built outbound TCP connection 1 for :/ ( to :(/) (\n",
            "%ASA-6-106100: access-list a b c /( -> /(x hit-cnt\n",
            "%ASA-6-113005: AAA user authentication Rejected : = : :: , user IP = ::\n",
            "%ASA-6-302014: Teardown TCP connection 99999999999999999999 for a:b to c:d duration 99999999999:99:99 bytes x (\n",
            "%ASA-4-733100: [] drop  exceeded. Current burst rate is  per second, max configured rate is ; Current average rate is  per second, max configured rate is ; Cumulative total count is \n",
            "\u{1}é %ASA-6-305011: Built é translation from é:é/é to ó:ó/ó\n",
        ));
        assert_eq!(got.len(), 8);
        assert!(got[7].is_err(), "junk before the tag is not a header");
        assert_eq!(
            got[0].as_ref().unwrap_err().to_string(),
            "asa.log: record 1, line 1, offset 0x00000000: not a valid asa record: no %ASA-, %FTD- or %PIX- message tag"
        );
        let second = got[1].as_ref().unwrap_err().to_string();
        assert!(
            second.starts_with("asa.log: record 2, line 2, offset 0x00000013: not a valid asa record: before the message tag: "),
            "{second}"
        );
        assert!(got[2..7].iter().all(|r| r.is_ok()));
    }

    #[test]
    fn sniffing_wants_the_tag_on_most_lines() {
        assert_eq!(
            AsaReader.sniff(
                b"%ASA-6-302010: 1 in use\n<166>Oct 10 2018 12:34:56 fw : %FTD-6-302010: 2\n"
            ),
            88
        );
        assert_eq!(
            AsaReader.sniff(b"Dec 10 06:55:46 host sshd[1]: Accepted password for a\n"),
            0
        );
    }

    #[test]
    fn templates_match_literals_and_lazy_slots() {
        let got = match_template("a {x} b {y}", "a 1 2 b 3 b 4").unwrap();
        assert_eq!(got, [("x", "1 2"), ("y", "3 b 4")]);
        assert!(match_template("a {x} b", "a 1 c").is_none());
        assert!(match_template("{x}{y}", "12").is_none(), "adjacent slots");
        assert_eq!(match_template("a {x}", "a ").unwrap(), [("x", "")]);
        // Every pattern's slots are ones `apply` knows.
        for pattern in PATTERNS {
            let mut template = pattern.text;
            while let Some(open) = template.find('{') {
                let close = template[open..].find('}').unwrap() + open;
                let slot = &template[open + 1..close];
                assert!(
                    KNOWN_SLOTS.contains(&slot),
                    "{}: unknown slot {slot}",
                    pattern.id
                );
                template = &template[close + 1..];
            }
        }
    }

    const KNOWN_SLOTS: &[&str] = &[
        "src",
        "dst",
        "src_addr",
        "dst_addr",
        "src_acl",
        "dst_acl",
        "src_ip",
        "dst_ip",
        "src_nat",
        "dst_nat",
        "src_nat_ip",
        "dst_nat_ip",
        "nat",
        "mgmt",
        "direction",
        "proto",
        "conn",
        "duration",
        "bytes",
        "hits",
        "icmp_type",
        "icmp_code",
        "teardown",
        "reason",
        "rule",
        "verdict",
        "flags",
        "in_if",
        "xlate",
        "aaa",
        "attrs",
        "user",
        "group",
        "ip",
        "assigned_ip",
        "assigned_ipv6",
        "command",
        "app",
        "object",
        "rate_id",
        "burst_rate",
        "burst_rate_max",
        "avg_rate",
        "avg_rate_max",
        "total_count",
        "_",
    ];

    #[test]
    fn durations() {
        assert_eq!(duration_nanos("0:01:07"), Some(67_000_000_000));
        assert_eq!(duration_nanos("92:24:20"), Some(332_660_000_000_000));
        assert_eq!(duration_nanos("1:2"), None);
        assert_eq!(duration_nanos("99999999999999:00:00"), None);
    }
}
