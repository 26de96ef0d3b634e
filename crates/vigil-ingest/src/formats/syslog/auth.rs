//! Messages of the Linux authentication stack, parsed into fields: sshd, PAM, sudo, su and
//! the shadow tools (`useradd`, `usermod`, `userdel`, `groupadd`, `passwd`).
//!
//! Names follow Elastic Common Schema where it has one (`user.name`, `source.ip`,
//! `source.port`, `event.action`, `event.outcome`, `process.command_line`) and a section
//! named after the program otherwise (`ssh.method`, `pam.service`, `sudo.tty`). Messages
//! that match no pattern keep only the header fields: nothing is lost, the text stays in
//! `message`.

use std::net::IpAddr;

use vigil_event::{Fields, Value};

/// Field names the parsers set.
pub(crate) mod names {
    pub(crate) const ACTION: &str = "event.action";
    pub(crate) const OUTCOME: &str = "event.outcome";
    pub(crate) const REASON: &str = "event.reason";
    pub(crate) const USER: &str = "user.name";
    pub(crate) const USER_ID: &str = "user.id";
    pub(crate) const EFFECTIVE_USER: &str = "user.effective.name";
    pub(crate) const GROUP: &str = "group.name";
    pub(crate) const GROUP_ID: &str = "group.id";
    pub(crate) const SOURCE_IP: &str = "source.ip";
    pub(crate) const SOURCE_PORT: &str = "source.port";
    pub(crate) const SOURCE_DOMAIN: &str = "source.domain";
    pub(crate) const DESTINATION_IP: &str = "destination.ip";
    pub(crate) const DESTINATION_PORT: &str = "destination.port";
    pub(crate) const COMMAND_LINE: &str = "process.command_line";
    pub(crate) const WORKING_DIRECTORY: &str = "process.working_directory";
    pub(crate) const SSH_METHOD: &str = "ssh.method";
    pub(crate) const SSH_PROTOCOL: &str = "ssh.protocol";
    pub(crate) const SSH_SIGNATURE: &str = "ssh.signature";
    pub(crate) const SSH_PREAUTH: &str = "ssh.preauth";
    pub(crate) const SSH_INVALID_USER: &str = "ssh.invalid_user";
    pub(crate) const SSH_DISCONNECT_CODE: &str = "ssh.disconnect_code";
    pub(crate) const PAM_MODULE: &str = "pam.module";
    pub(crate) const PAM_SERVICE: &str = "pam.service";
    pub(crate) const PAM_TYPE: &str = "pam.type";
    pub(crate) const PAM_BY: &str = "pam.by";
    pub(crate) const SUDO_TTY: &str = "sudo.tty";
    pub(crate) const SUDO_ATTEMPTS: &str = "sudo.attempts";
    pub(crate) const SU_TTY: &str = "su.tty";
    pub(crate) const HOME: &str = "user.home";
    pub(crate) const SHELL: &str = "user.shell";
    pub(crate) const REPEATED: &str = "log.syslog.repeated";
}

use names::*;

const SUCCESS: &str = "success";
const FAILURE: &str = "failure";

/// Parses the message of `program` into `fields`; does nothing for messages it does not know.
pub(crate) fn parse(program: &str, message: &str, fields: &mut Fields) {
    let message = strip_repeated(message, fields);
    let (base, module) = split_program(program);
    // `sshd(pam_unix)[42]: authentication failure; ...`: the old PAM tag.
    if let Some(module) = module {
        set(fields, PAM_MODULE, module);
        set(fields, PAM_SERVICE, base);
        pam_message(message, fields);
        return;
    }
    if pam(message, fields) {
        return;
    }
    match base {
        "sshd" | "sshd-session" | "sshd-auth" => sshd(message, fields),
        "sudo" => sudo(message, fields),
        "su" | "runuser" => su(message, fields),
        "useradd" | "usermod" | "userdel" | "groupadd" | "groupdel" | "groupmod" | "passwd"
        | "chpasswd" | "gpasswd" | "chage" => shadow(message, fields),
        _ => {}
    }
}

/// `sshd(pam_unix)` is `("sshd", Some("pam_unix"))`.
fn split_program(program: &str) -> (&str, Option<&str>) {
    match program.split_once('(') {
        Some((base, rest)) => match rest.strip_suffix(')') {
            Some(module) if module.starts_with("pam") => (base, Some(module)),
            _ => (program, None),
        },
        None => (program, None),
    }
}

/// rsyslog folds repeats into `message repeated 3 times: [ TEXT]`; the text is parsed and
/// the count kept.
fn strip_repeated<'m>(message: &'m str, fields: &mut Fields) -> &'m str {
    let Some(rest) = message.strip_prefix("message repeated ") else {
        return message;
    };
    let Some((count, inner)) = rest.split_once(" times: [") else {
        return message;
    };
    let Ok(count) = count.parse::<i64>() else {
        return message;
    };
    fields.insert(REPEATED, Value::Int(count));
    inner.trim().strip_suffix(']').unwrap_or(inner).trim()
}

fn set(fields: &mut Fields, name: &str, value: &str) {
    fields.insert(name, Value::from(value));
}

fn set_int_or_text(fields: &mut Fields, name: &str, value: &str) {
    let value = value
        .parse::<i64>()
        .map_or_else(|_| Value::from(value), Value::Int);
    fields.insert(name, value);
}

fn event(fields: &mut Fields, action: &str, outcome: Option<&str>) {
    set(fields, ACTION, action);
    if let Some(outcome) = outcome {
        set(fields, OUTCOME, outcome);
    }
}

/// A remote host: an IP address goes to `source.ip`, a name to `source.domain`.
fn source_host(fields: &mut Fields, host: &str) {
    let host = host.trim();
    if host.is_empty() {
        return;
    }
    if host.parse::<IpAddr>().is_ok() {
        set(fields, SOURCE_IP, host);
    } else {
        set(fields, SOURCE_DOMAIN, host);
    }
}

/// Reads `ADDRESS[ port PORT]` at the start of `text`, returning what follows.
fn address_and_port<'t>(fields: &mut Fields, text: &'t str) -> &'t str {
    let (address, rest) = text.split_once(' ').unwrap_or((text, ""));
    // `Received disconnect from 1.2.3.4: 11: Bye` puts a colon after the address.
    let (address, rest) = match address.strip_suffix(':') {
        Some(a) if a.parse::<IpAddr>().is_ok() => (a, &text[a.len()..]),
        _ => (address, rest),
    };
    source_host(fields, address);
    if let Some(after) = rest.strip_prefix("port ") {
        let end = after.find([' ', ':']).unwrap_or(after.len());
        set_int_or_text(fields, SOURCE_PORT, &after[..end]);
        return after[end..].trim_start();
    }
    rest
}

/// `USER from ADDRESS port PORT REST`, the user possibly prefixed with `invalid user`.
fn user_from<'t>(fields: &mut Fields, text: &'t str) -> &'t str {
    let text = match text.strip_prefix("invalid user ") {
        Some(rest) => {
            fields.insert(SSH_INVALID_USER, Value::Bool(true));
            rest
        }
        None => text,
    };
    // Usernames come from the attacker and may contain " from "; the address is last.
    match text.rsplit_once(" from ") {
        Some((user, rest)) => {
            set(fields, USER, user);
            address_and_port(fields, rest)
        }
        None => {
            set(fields, USER, text);
            ""
        }
    }
}

/// `[authenticating |invalid ]user NAME ADDRESS port PORT` or `ADDRESS port PORT`; returns
/// what follows the port.
fn maybe_user_then_address<'t>(fields: &mut Fields, text: &'t str) -> &'t str {
    let rest = if let Some(r) = text.strip_prefix("authenticating user ") {
        Some(r)
    } else if let Some(r) = text.strip_prefix("invalid user ") {
        fields.insert(SSH_INVALID_USER, Value::Bool(true));
        Some(r)
    } else {
        text.strip_prefix("user ")
    };
    match rest {
        Some(rest) => {
            // The user is everything before the last `ADDRESS port N`.
            let cut = rest.rfind(" port ").and_then(|p| rest[..p].rfind(' '));
            match cut {
                Some(space) => {
                    set(fields, USER, &rest[..space]);
                    address_and_port(fields, &rest[space + 1..])
                }
                None => {
                    set(fields, USER, rest);
                    ""
                }
            }
        }
        None => address_and_port(fields, text),
    }
}

/// Messages of the OpenSSH server.
fn sshd(message: &str, fields: &mut Fields) {
    let message = message.strip_prefix("error: ").unwrap_or(message);
    let message = match message.strip_suffix(" [preauth]") {
        Some(m) => {
            fields.insert(SSH_PREAUTH, Value::Bool(true));
            m
        }
        None => message,
    };
    if let Some(rest) = message.strip_prefix("Accepted ") {
        login(fields, rest, SUCCESS);
    } else if let Some(rest) = message.strip_prefix("Failed ") {
        login(fields, rest, FAILURE);
    } else if let Some(rest) = message.strip_prefix("Postponed ") {
        login(fields, rest, "unknown");
    } else if let Some(rest) = message.strip_prefix("Invalid user ") {
        event(fields, "ssh_invalid_user", Some(FAILURE));
        fields.insert(SSH_INVALID_USER, Value::Bool(true));
        match rest.rsplit_once(" from ") {
            Some((user, address)) => {
                set(fields, USER, user);
                address_and_port(fields, address);
            }
            None => set(fields, USER, rest),
        }
    } else if let Some(user) = message.strip_prefix("input_userauth_request: invalid user ") {
        event(fields, "ssh_invalid_user", Some(FAILURE));
        fields.insert(SSH_INVALID_USER, Value::Bool(true));
        set(fields, USER, user);
    } else if let Some(rest) = message.strip_prefix("Received disconnect from ") {
        event(fields, "ssh_disconnect", None);
        let rest = address_and_port(fields, rest);
        // `: 11: Bye Bye`
        let rest = rest.trim_start_matches(':').trim_start();
        if let Some((code, reason)) = rest.split_once(':')
            && let Ok(code) = code.trim().parse::<i64>()
        {
            fields.insert(SSH_DISCONNECT_CODE, Value::Int(code));
            set(fields, REASON, reason.trim());
        }
    } else if let Some(rest) = message.strip_prefix("Disconnected from ") {
        event(fields, "ssh_disconnect", None);
        maybe_user_then_address(fields, rest);
    } else if let Some(rest) = message.strip_prefix("Disconnecting ") {
        // `Disconnecting authenticating user deploy 1.2.3.4 port 51040: Too many ...`
        event(fields, "ssh_disconnect", None);
        let rest = maybe_user_then_address(fields, rest);
        if let Some(reason) = rest.strip_prefix(':') {
            set(fields, REASON, reason.trim());
        }
    } else if let Some(rest) = message
        .strip_prefix("Connection closed by ")
        .or_else(|| message.strip_prefix("Connection reset by "))
    {
        event(fields, "ssh_connection_closed", None);
        maybe_user_then_address(fields, rest);
    } else if let Some(rest) = message.strip_prefix("Connection from ") {
        event(fields, "ssh_connection", None);
        let rest = address_and_port(fields, rest);
        if let Some(local) = rest.strip_prefix("on ") {
            let (ip, port) = local.split_once(" port ").unwrap_or((local, ""));
            set(fields, DESTINATION_IP, ip);
            if !port.is_empty() {
                set_int_or_text(
                    fields,
                    DESTINATION_PORT,
                    port.split(' ').next().unwrap_or(port),
                );
            }
        }
    } else if let Some(rest) = message.strip_prefix("Did not receive identification string from ") {
        event(fields, "ssh_no_identification", Some(FAILURE));
        address_and_port(fields, rest);
    } else if let Some(rest) = message.strip_prefix("reverse mapping checking getaddrinfo for ") {
        event(fields, "ssh_reverse_mapping_failed", None);
        // `HOST [IP] failed - POSSIBLE BREAK-IN ATTEMPT!`
        if let Some((host, rest)) = rest.split_once(" [") {
            set(fields, SOURCE_DOMAIN, host);
            if let Some((ip, _)) = rest.split_once(']') {
                set(fields, SOURCE_IP, ip);
            }
        }
    } else if let Some(rest) = message.strip_prefix("Address ") {
        // `Address IP maps to HOST, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!`
        if let Some((ip, rest)) = rest.split_once(" maps to ") {
            event(fields, "ssh_reverse_mapping_failed", None);
            set(fields, SOURCE_IP, ip);
            if let Some((host, _)) = rest.split_once(',') {
                set(fields, SOURCE_DOMAIN, host);
            }
        }
    } else if let Some(rest) = message.strip_prefix("maximum authentication attempts exceeded for ")
    {
        event(fields, "ssh_max_auth_attempts", Some(FAILURE));
        let rest = user_from(fields, rest);
        protocol(fields, rest);
    } else if let Some(rest) = message.strip_prefix("User ")
        && let Some((user, rest)) = rest.split_once(" from ")
        && let Some((address, reason)) = rest.split_once(" not allowed because ")
    {
        event(fields, "ssh_user_not_allowed", Some(FAILURE));
        set(fields, USER, user);
        source_host(fields, address);
        set(fields, REASON, reason);
    } else if let Some(rest) = message.strip_prefix("Unable to negotiate with ") {
        event(fields, "ssh_negotiation_failed", Some(FAILURE));
        let rest = address_and_port(fields, rest);
        if let Some(reason) = rest.strip_prefix(':') {
            set(fields, REASON, reason.trim());
        }
    } else if message.starts_with("Bad protocol version identification") {
        event(fields, "ssh_bad_protocol", Some(FAILURE));
        if let Some((_, rest)) = message.rsplit_once(" from ") {
            address_and_port(fields, rest);
        }
    } else if let Some(rest) = message.strip_prefix("PAM: Authentication failure for ") {
        // RHEL: `error: PAM: Authentication failure for [illegal user] X from HOST`
        event(fields, "pam_authentication_failure", Some(FAILURE));
        let rest = match rest.strip_prefix("illegal user ") {
            Some(rest) => {
                fields.insert(SSH_INVALID_USER, Value::Bool(true));
                rest
            }
            None => rest,
        };
        match rest.rsplit_once(" from ") {
            Some((user, host)) => {
                set(fields, USER, user);
                source_host(fields, host);
            }
            None => set(fields, USER, rest),
        }
    } else if let Some(rest) = message.strip_prefix("PAM ")
        && let Some((_, rest)) = rest.split_once(" more authentication failures;")
    {
        event(fields, "pam_authentication_failure", Some(FAILURE));
        pam_pairs(rest, fields);
    }
}

/// `METHOD for [invalid user ]USER from ADDRESS port PORT PROTOCOL[: SIGNATURE]`.
fn login(fields: &mut Fields, rest: &str, outcome: &str) {
    let Some((method, rest)) = rest.split_once(" for ") else {
        return;
    };
    event(fields, "ssh_login", Some(outcome));
    set(fields, SSH_METHOD, method);
    let rest = user_from(fields, rest);
    protocol(fields, rest);
}

/// `ssh2[: RSA SHA256:...]` after the port.
fn protocol(fields: &mut Fields, rest: &str) {
    let rest = rest.trim();
    if rest.is_empty() {
        return;
    }
    match rest.split_once(": ") {
        Some((proto, signature)) => {
            set(fields, SSH_PROTOCOL, proto);
            set(fields, SSH_SIGNATURE, signature);
        }
        None => set(fields, SSH_PROTOCOL, rest),
    }
}

/// `pam_unix(sshd:auth): MESSAGE`; `false` when the message is not a PAM module's.
fn pam(message: &str, fields: &mut Fields) -> bool {
    if !message.starts_with("pam_") {
        return false;
    }
    let Some((tag, rest)) = message.split_once("): ") else {
        return false;
    };
    let Some((module, context)) = tag.split_once('(') else {
        return false;
    };
    set(fields, PAM_MODULE, module);
    match context.split_once(':') {
        Some((service, kind)) => {
            set(fields, PAM_SERVICE, service);
            set(fields, PAM_TYPE, kind);
        }
        None => set(fields, PAM_SERVICE, context),
    }
    pam_message(rest, fields);
    true
}

/// The text of a PAM module's message.
fn pam_message(message: &str, fields: &mut Fields) {
    if let Some(rest) = message.strip_prefix("authentication failure;") {
        event(fields, "pam_authentication_failure", Some(FAILURE));
        pam_pairs(rest, fields);
    } else if message.starts_with("check pass; user unknown") {
        event(fields, "pam_user_unknown", Some(FAILURE));
    } else if let Some(rest) = message.strip_prefix("session opened for user ") {
        event(fields, "session_opened", Some(SUCCESS));
        // `root(uid=0) by (uid=0)`, `news by (uid=0)`, `bob by root(uid=0)`
        let (user, by) = rest.split_once(" by ").unwrap_or((rest, ""));
        set(fields, USER, strip_uid(user));
        let by = strip_uid(by.trim());
        if !by.is_empty() {
            set(fields, PAM_BY, by);
        }
    } else if let Some(rest) = message.strip_prefix("session closed for user ") {
        event(fields, "session_closed", None);
        set(fields, USER, strip_uid(rest.trim()));
    } else if let Some(user) = message.strip_prefix("password changed for ") {
        event(fields, "password_changed", Some(SUCCESS));
        set(fields, USER, user.trim());
    } else if let Some(rest) = message.strip_prefix("account ")
        && let Some((user, _)) = rest.split_once(" has expired")
    {
        event(fields, "account_expired", Some(FAILURE));
        set(fields, USER, user);
    }
}

/// `root(uid=0)` is `root`; `(uid=0)` is empty.
fn strip_uid(text: &str) -> &str {
    match text.find("(uid=") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// `logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root`.
fn pam_pairs(text: &str, fields: &mut Fields) {
    for pair in text.split_whitespace() {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        match key {
            "user" => set(fields, USER, value),
            "rhost" => source_host(fields, value),
            "logname" | "uid" | "euid" | "tty" | "ruser" => {
                let name = format!("pam.{key}");
                set(fields, &name, value);
            }
            _ => {}
        }
    }
}

/// `bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/id`, and the failures
/// sudo reports in the same layout.
fn sudo(message: &str, fields: &mut Fields) {
    let Some((user, rest)) = message.split_once(" : ") else {
        return;
    };
    // `COMMAND=` is always last and its value is the user's to choose: everything after it
    // is the command, however many ` ; ` it holds, and only what comes before it is read
    // as `KEY=value` pairs.
    let (pairs, command) = match rest.split_once(" ; COMMAND=") {
        Some((pairs, command)) => (pairs, Some(command)),
        None => match rest.strip_prefix("COMMAND=") {
            Some(command) => ("", Some(command)),
            None => (rest, None),
        },
    };
    let mut parts = pairs.split(" ; ");
    let first = parts.clone().next().unwrap_or("");
    let (action, outcome) = if first.contains("incorrect password attempt") {
        let attempts = first.split(' ').next().and_then(|n| n.parse::<i64>().ok());
        if let Some(n) = attempts {
            fields.insert(SUDO_ATTEMPTS, Value::Int(n));
        }
        parts.next();
        ("sudo_authentication_failure", FAILURE)
    } else if first.contains("NOT in sudoers") {
        parts.next();
        ("sudo_not_in_sudoers", FAILURE)
    } else if first.contains("command not allowed") || first.contains("a password is required") {
        parts.next();
        set(fields, REASON, first);
        ("sudo_command_denied", FAILURE)
    } else if first.contains('=') || command.is_some() {
        ("sudo_command", SUCCESS)
    } else {
        return;
    };
    event(fields, action, Some(outcome));
    set(fields, USER, user.trim());
    for part in parts {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        match key.trim() {
            "TTY" => set(fields, SUDO_TTY, value),
            "PWD" => set(fields, WORKING_DIRECTORY, value),
            "USER" => set(fields, EFFECTIVE_USER, value),
            "GROUP" => set(fields, GROUP, value),
            _ => {}
        }
    }
    if let Some(command) = command {
        set(fields, COMMAND_LINE, command);
    }
}

/// The messages of `su` on the common distributions.
fn su(message: &str, fields: &mut Fields) {
    let (target, user, outcome, tty) =
        if let Some(rest) = message.strip_prefix("Successful su for ") {
            let Some((target, user)) = rest.split_once(" by ") else {
                return;
            };
            (target, user, SUCCESS, None)
        } else if let Some(rest) = message.strip_prefix("FAILED su for ") {
            let Some((target, user)) = rest.split_once(" by ") else {
                return;
            };
            (target, user, FAILURE, None)
        } else if let Some(rest) = message.strip_prefix("FAILED SU (to ") {
            // util-linux: `FAILED SU (to root) bob on pts/0`
            let Some((target, rest)) = rest.split_once(") ") else {
                return;
            };
            let (user, tty) = rest.split_once(" on ").unwrap_or((rest, ""));
            (target, user, FAILURE, Some(tty))
        } else if let Some(rest) = message.strip_prefix("(to ") {
            // `(to root) bob on pts/0`
            let Some((target, rest)) = rest.split_once(") ") else {
                return;
            };
            let (user, tty) = rest.split_once(" on ").unwrap_or((rest, ""));
            (target, user, SUCCESS, Some(tty))
        } else if let Some(rest) = message.strip_prefix('\'') {
            // `'su root' failed for lonvick on /dev/pts/8`
            let Some((command, rest)) = rest.split_once("' failed for ") else {
                return;
            };
            let target = command
                .strip_prefix("su")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .unwrap_or("root");
            let (user, tty) = rest.split_once(" on ").unwrap_or((rest, ""));
            (target, user, FAILURE, Some(tty))
        } else if let Some((sign, rest)) = message
            .split_once(' ')
            .filter(|(s, _)| *s == "+" || *s == "-")
        {
            // `+ pts/0 bob:root`
            let Some((tty, pair)) = rest.split_once(' ') else {
                return;
            };
            let Some((user, target)) = pair.split_once(':') else {
                return;
            };
            (
                target,
                user,
                if sign == "+" { SUCCESS } else { FAILURE },
                Some(tty),
            )
        } else {
            return;
        };
    event(fields, "su", Some(outcome));
    set(fields, USER, user.trim());
    set(fields, EFFECTIVE_USER, target.trim());
    if let Some(tty) = tty.filter(|t| !t.is_empty()) {
        set(fields, SU_TTY, tty.trim());
    }
}

/// Account and group changes by the shadow tools.
fn shadow(message: &str, fields: &mut Fields) {
    if let Some(rest) = message.strip_prefix("new user: ") {
        event(fields, "user_created", Some(SUCCESS));
        shadow_pairs(rest, fields, USER);
    } else if let Some(rest) = message
        .strip_prefix("new group: ")
        .or_else(|| message.strip_prefix("group added to /etc/group: "))
        .or_else(|| message.strip_prefix("group added to /etc/gshadow: "))
    {
        event(fields, "group_created", Some(SUCCESS));
        shadow_pairs(rest, fields, GROUP);
    } else if let Some(rest) = message.strip_prefix("delete user '") {
        event(fields, "user_deleted", Some(SUCCESS));
        set(fields, USER, rest.trim_end_matches('\''));
    } else if let Some(rest) = message.strip_prefix("add '") {
        // `add 'bob' to group 'sudo'`, `add 'bob' to shadow group 'sudo'`
        let Some((user, rest)) = rest.split_once("' to ") else {
            return;
        };
        let group = rest
            .rsplit_once(" '")
            .map_or(rest, |(_, g)| g)
            .trim_end_matches('\'');
        event(fields, "user_added_to_group", Some(SUCCESS));
        set(fields, USER, user);
        set(fields, GROUP, group);
    } else if let Some(rest) = message.strip_prefix("change user '") {
        let Some((user, what)) = rest.split_once("' ") else {
            return;
        };
        let action = if what.starts_with("password") {
            "password_changed"
        } else {
            "user_changed"
        };
        event(fields, action, Some(SUCCESS));
        set(fields, USER, user);
    } else if let Some(rest) = message.strip_prefix("password for '") {
        // `password for 'bob' changed by 'root'`
        let Some((user, rest)) = rest.split_once("' changed by '") else {
            return;
        };
        event(fields, "password_changed", Some(SUCCESS));
        set(fields, USER, user);
        set(fields, PAM_BY, rest.trim_end_matches('\''));
    } else if let Some(rest) = message.strip_prefix("user ")
        && let Some((user, rest)) = rest.split_once(" added by ")
        && let Some((by, group)) = rest.split_once(" to group ")
    {
        // gpasswd: `user bob added by root to group sudo`
        event(fields, "user_added_to_group", Some(SUCCESS));
        set(fields, USER, user);
        set(fields, GROUP, group.trim());
        set(fields, PAM_BY, by);
    } else if let Some(rest) = message.strip_prefix("lock user '") {
        event(fields, "user_locked", Some(SUCCESS));
        set(fields, USER, rest.split('\'').next().unwrap_or(rest));
    }
}

/// `name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0`.
fn shadow_pairs(text: &str, fields: &mut Fields, name_field: &str) {
    for pair in text.split(", ") {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        match key.trim() {
            "name" => set(fields, name_field, value),
            "UID" => set_int_or_text(fields, USER_ID, value),
            "GID" => set_int_or_text(fields, GROUP_ID, value),
            "home" => set(fields, HOME, value),
            "shell" => set(fields, SHELL, value),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(program: &str, message: &str) -> Vec<(String, String)> {
        let mut fields = Fields::default();
        parse(program, message, &mut fields);
        fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn has(got: &[(String, String)], name: &str, value: &str) -> bool {
        got.iter().any(|(n, v)| n == name && v == value)
    }

    macro_rules! assert_fields {
        ($program:expr, $message:expr, [$(($name:expr, $value:expr)),* $(,)?]) => {{
            let got = parsed($program, $message);
            $(assert!(has(&got, $name, $value), "{} = {:?} missing in {:?}", $name, $value, got);)*
        }};
    }

    #[test]
    fn ssh_logins_accepted_and_failed() {
        assert_fields!(
            "sshd",
            "Accepted publickey for alice from 10.0.0.5 port 50522 ssh2: RSA SHA256:abc",
            [
                (ACTION, "ssh_login"),
                (OUTCOME, "success"),
                (USER, "alice"),
                (SOURCE_IP, "10.0.0.5"),
                (SOURCE_PORT, "50522"),
                (SSH_METHOD, "publickey"),
                (SSH_PROTOCOL, "ssh2"),
                (SSH_SIGNATURE, "RSA SHA256:abc"),
            ]
        );
        assert_fields!(
            "sshd",
            "Failed password for invalid user admin from 5.36.59.76 port 42393 ssh2",
            [
                (OUTCOME, "failure"),
                (USER, "admin"),
                (SSH_INVALID_USER, "true"),
                (SOURCE_IP, "5.36.59.76"),
                (SSH_METHOD, "password"),
            ]
        );
        assert_fields!(
            "sshd",
            "message repeated 5 times: [ Failed password for root from 112.95.230.3 port 51970 ssh2]",
            [(REPEATED, "5"), (USER, "root"), (SOURCE_PORT, "51970"),]
        );
        assert_fields!(
            "sshd",
            "Failed none for invalid user x from 2001:db8::1 port 22 ssh2",
            [(SOURCE_IP, "2001:db8::1")]
        );
    }

    #[test]
    fn ssh_invalid_users_disconnects_and_preauth() {
        assert_fields!(
            "sshd",
            "Invalid user webmaster from 173.234.31.186",
            [
                (ACTION, "ssh_invalid_user"),
                (USER, "webmaster"),
                (SOURCE_IP, "173.234.31.186"),
            ]
        );
        assert_fields!(
            "sshd",
            "Invalid user test from 10.1.1.1 port 4000",
            [(SOURCE_PORT, "4000")]
        );
        assert_fields!(
            "sshd",
            "input_userauth_request: invalid user test9 [preauth]",
            [(USER, "test9"), (SSH_PREAUTH, "true"),]
        );
        assert_fields!(
            "sshd",
            "Received disconnect from 103.99.0.122: 11: Bye Bye [preauth]",
            [
                (ACTION, "ssh_disconnect"),
                (SOURCE_IP, "103.99.0.122"),
                (SSH_DISCONNECT_CODE, "11"),
                (REASON, "Bye Bye"),
            ]
        );
        assert_fields!(
            "sshd",
            "Received disconnect from 10.0.0.1 port 4022:11: disconnected by user",
            [
                (SOURCE_PORT, "4022"),
                (SSH_DISCONNECT_CODE, "11"),
                (REASON, "disconnected by user"),
            ]
        );
        assert_fields!(
            "sshd",
            "Disconnected from authenticating user root 10.0.0.9 port 3312 [preauth]",
            [
                (USER, "root"),
                (SOURCE_IP, "10.0.0.9"),
                (SOURCE_PORT, "3312"),
            ]
        );
        assert_fields!(
            "sshd",
            "Connection closed by 212.47.254.145 [preauth]",
            [
                (ACTION, "ssh_connection_closed"),
                (SOURCE_IP, "212.47.254.145"),
            ]
        );
        assert_fields!(
            "sshd",
            "error: maximum authentication attempts exceeded for root from 1.2.3.4 port 2 ssh2 [preauth]",
            [(ACTION, "ssh_max_auth_attempts"), (USER, "root"),]
        );
        assert_fields!(
            "sshd",
            "reverse mapping checking getaddrinfo for customer.example [187.141.143.180] failed - POSSIBLE BREAK-IN ATTEMPT!",
            [
                (SOURCE_IP, "187.141.143.180"),
                (SOURCE_DOMAIN, "customer.example"),
            ]
        );
    }

    #[test]
    fn pam_messages_new_and_old_style() {
        assert_fields!(
            "sshd",
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=112.95.230.3  user=root",
            [
                (PAM_MODULE, "pam_unix"),
                (PAM_SERVICE, "sshd"),
                (PAM_TYPE, "auth"),
                (ACTION, "pam_authentication_failure"),
                (SOURCE_IP, "112.95.230.3"),
                (USER, "root"),
                ("pam.uid", "0"),
            ]
        );
        assert_fields!(
            "sshd(pam_unix)",
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=host.example.net",
            [
                (PAM_SERVICE, "sshd"),
                (SOURCE_DOMAIN, "host.example.net"),
                (OUTCOME, "failure"),
            ]
        );
        assert_fields!(
            "su(pam_unix)",
            "session opened for user news by (uid=0)",
            [
                (ACTION, "session_opened"),
                (USER, "news"),
                (PAM_SERVICE, "su"),
            ]
        );
        assert_fields!(
            "cron",
            "pam_unix(cron:session): session opened for user root(uid=0) by root(uid=0)",
            [(USER, "root"), (PAM_BY, "root"),]
        );
        assert_fields!(
            "passwd",
            "pam_unix(passwd:chauthtok): password changed for bob",
            [(ACTION, "password_changed"), (USER, "bob"),]
        );
    }

    #[test]
    fn sudo_commands_and_failures() {
        assert_fields!(
            "sudo",
            "    bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow",
            [
                (ACTION, "sudo_command"),
                (OUTCOME, "success"),
                (USER, "bob"),
                (EFFECTIVE_USER, "root"),
                (COMMAND_LINE, "/usr/bin/cat /etc/shadow"),
                (WORKING_DIRECTORY, "/home/bob"),
                (SUDO_TTY, "pts/0"),
            ]
        );
        assert_fields!(
            "sudo",
            "eve : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash",
            [
                (ACTION, "sudo_authentication_failure"),
                (SUDO_ATTEMPTS, "3"),
                (COMMAND_LINE, "/bin/bash"),
            ]
        );
        assert_fields!(
            "sudo",
            "eve : user NOT in sudoers ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh",
            [(ACTION, "sudo_not_in_sudoers"), (OUTCOME, "failure"),]
        );
    }

    #[test]
    fn su_in_its_dialects() {
        assert_fields!(
            "su",
            "Successful su for root by bob",
            [
                (USER, "bob"),
                (EFFECTIVE_USER, "root"),
                (OUTCOME, "success")
            ]
        );
        assert_fields!("su", "FAILED su for root by eve", [(OUTCOME, "failure")]);
        assert_fields!(
            "su",
            "(to root) bob on pts/2",
            [(USER, "bob"), (SU_TTY, "pts/2")]
        );
        assert_fields!(
            "su",
            "'su root' failed for lonvick on /dev/pts/8",
            [(USER, "lonvick"), (OUTCOME, "failure")]
        );
        assert_fields!(
            "su",
            "+ pts/0 bob:root",
            [(USER, "bob"), (EFFECTIVE_USER, "root")]
        );
    }

    #[test]
    fn account_management() {
        assert_fields!(
            "useradd",
            "new user: name=backdoor, UID=0, GID=0, home=/root, shell=/bin/bash, from=/dev/pts/1",
            [
                (ACTION, "user_created"),
                (USER, "backdoor"),
                (USER_ID, "0"),
                (SHELL, "/bin/bash"),
            ]
        );
        assert_fields!(
            "groupadd",
            "new group: name=ops, GID=1005",
            [(GROUP, "ops"), (GROUP_ID, "1005")]
        );
        assert_fields!(
            "usermod",
            "add 'backdoor' to group 'sudo'",
            [(ACTION, "user_added_to_group"), (GROUP, "sudo")]
        );
        assert_fields!(
            "usermod",
            "add 'backdoor' to shadow group 'sudo'",
            [(GROUP, "sudo")]
        );
        assert_fields!(
            "userdel",
            "delete user 'backdoor'",
            [(ACTION, "user_deleted"), (USER, "backdoor")]
        );
    }

    #[test]
    fn unknown_messages_add_nothing() {
        assert!(parsed("sshd", "Server listening on 0.0.0.0 port 22.").is_empty());
        assert!(parsed("kernel", "eth0: link up").is_empty());
        assert!(parsed("sudo", "no colon here").is_empty());
        assert!(
            parsed("sudo", "bob : something unknown").is_empty(),
            "no user without a known message"
        );
    }

    #[test]
    fn dialects_found_in_review() {
        // The command is everything after `COMMAND=`, separators and fake pairs included.
        assert_fields!(
            "sudo",
            "bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/sh -c id ; USER=nobody ; PWD=/",
            [
                (COMMAND_LINE, "/bin/sh -c id ; USER=nobody ; PWD=/"),
                (EFFECTIVE_USER, "root"),
                (WORKING_DIRECTORY, "/home/bob"),
            ]
        );
        assert_fields!(
            "su",
            "FAILED SU (to root) bob on pts/0",
            [
                (USER, "bob"),
                (EFFECTIVE_USER, "root"),
                (OUTCOME, "failure"),
                (SU_TTY, "pts/0"),
            ]
        );
        assert_fields!(
            "runuser",
            "(to postgres) root on none",
            [(USER, "root"), (EFFECTIVE_USER, "postgres")]
        );
        assert_fields!(
            "gpasswd",
            "user bob added by root to group sudo",
            [
                (ACTION, "user_added_to_group"),
                (USER, "bob"),
                (GROUP, "sudo"),
            ]
        );
        assert_fields!(
            "sshd",
            "error: PAM: Authentication failure for illegal user admin from 192.0.2.7",
            [
                (ACTION, "pam_authentication_failure"),
                (USER, "admin"),
                (SOURCE_IP, "192.0.2.7"),
                (SSH_INVALID_USER, "true"),
            ]
        );
    }
}
