//! The formats vigil reads, one module each, and [`READERS`]: the one place they are listed.

pub(crate) mod asa;
pub(crate) mod auditd;
pub(crate) mod cef;
pub(crate) mod columns;
pub(crate) mod csv;
pub(crate) mod evtx;
pub(crate) mod json;
pub(crate) mod kv;
pub(crate) mod panos;
pub(crate) mod syslog;
pub(crate) mod text;
pub(crate) mod web;
pub(crate) mod web_error;
pub(crate) mod winxml;
pub(crate) mod zeek;

use crate::reader::Reader;

/// Every reader, in the order ties in format detection are broken.
pub(crate) static READERS: &[&dyn Reader] = &[
    &evtx::EvtxReader,
    &winxml::WinXmlReader,
    &json::JsonReader,
    &cef::CefReader,
    &cef::LeefReader,
    &asa::AsaReader,
    &panos::PanosReader,
    &web::WebAccessReader,
    &web_error::ApacheErrorReader,
    &auditd::AuditdReader,
    &zeek::ZeekReader,
    &csv::CsvReader,
    &kv::KvReader,
    &syslog::SyslogReader,
];
