//! Zeek logs in JSON, under the names Zeek gives them.
//!
//! Zeek writes nested record fields with dots (`id.orig_h`, `times.modified`) and its
//! stream name as `_path`. SimpleRock and older Elastic pipelines, whose store refused dots
//! in names, wrote the same fields with underscores (`id_orig_h`) and the stream as
//! `@stream`; those get Zeek's names back, so one rule set applies to both.

use std::borrow::Cow;

use crate::flatten::KeyMap;

/// Renames the SimpleRock/Elastic underscore names to Zeek's own.
pub(super) struct ZeekKeys;

impl KeyMap for ZeekKeys {
    fn map<'p>(&self, path: &'p str) -> Option<Cow<'p, str>> {
        Some(Cow::Borrowed(zeek_name(path).unwrap_or(path)))
    }
}

/// Zeek's name for a field the SimpleRock flavour writes with underscores. Only the fields
/// of Zeek's record types are listed: an underscore is otherwise part of the name
/// (`seen_bytes`, `conn_state`).
fn zeek_name(path: &str) -> Option<&'static str> {
    Some(match path {
        "@stream" => "_path",
        // conn_id, in nearly every log.
        "id_orig_h" => "id.orig_h",
        "id_orig_p" => "id.orig_p",
        "id_resp_h" => "id.resp_h",
        "id_resp_p" => "id.resp_p",
        "id_vlan" => "id.vlan",
        "id_inner_vlan" => "id.inner_vlan",
        // smb_files.log: SMB::MACTimes.
        "times_modified" => "times.modified",
        "times_accessed" => "times.accessed",
        "times_created" => "times.created",
        "times_changed" => "times.changed",
        // notice.log: geo_location.
        "remote_location_country_code" => "remote_location.country_code",
        "remote_location_region" => "remote_location.region",
        "remote_location_city" => "remote_location.city",
        "remote_location_latitude" => "remote_location.latitude",
        "remote_location_longitude" => "remote_location.longitude",
        // x509.log.
        "certificate_version" => "certificate.version",
        "certificate_serial" => "certificate.serial",
        "certificate_subject" => "certificate.subject",
        "certificate_issuer" => "certificate.issuer",
        "certificate_cn" => "certificate.cn",
        "certificate_not_valid_before" => "certificate.not_valid_before",
        "certificate_not_valid_after" => "certificate.not_valid_after",
        "certificate_key_alg" => "certificate.key_alg",
        "certificate_sig_alg" => "certificate.sig_alg",
        "certificate_key_type" => "certificate.key_type",
        "certificate_key_length" => "certificate.key_length",
        "certificate_exponent" => "certificate.exponent",
        "certificate_curve" => "certificate.curve",
        "san_dns" => "san.dns",
        "san_uri" => "san.uri",
        "san_email" => "san.email",
        "san_ip" => "san.ip",
        "basic_constraints_ca" => "basic_constraints.ca",
        "basic_constraints_path_len" => "basic_constraints.path_len",
        // intel.log: Intel::Seen.
        "seen_indicator" => "seen.indicator",
        "seen_indicator_type" => "seen.indicator_type",
        "seen_where" => "seen.where",
        "seen_node" => "seen.node",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplerock_names_become_zeek_names() {
        assert_eq!(ZeekKeys.map("id_orig_h").unwrap(), "id.orig_h");
        assert_eq!(ZeekKeys.map("id_resp_p").unwrap(), "id.resp_p");
        assert_eq!(ZeekKeys.map("@stream").unwrap(), "_path");
        assert_eq!(ZeekKeys.map("times_modified").unwrap(), "times.modified");
        // Real underscores and Zeek's own dotted names stay.
        assert_eq!(ZeekKeys.map("conn_state").unwrap(), "conn_state");
        assert_eq!(ZeekKeys.map("seen_bytes").unwrap(), "seen_bytes");
        assert_eq!(ZeekKeys.map("id.orig_h").unwrap(), "id.orig_h");
        assert_eq!(ZeekKeys.map("@system").unwrap(), "@system");
    }
}
