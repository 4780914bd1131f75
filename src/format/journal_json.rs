//! The journal as `journalctl -o json` prints it: one JSON object per line,
//! every field of the entry a key.
//!
//! ```text
//! {"__CURSOR":"s=4f…;i=1","__REALTIME_TIMESTAMP":"1682910217635343","__MONOTONIC_TIMESTAMP":"7265418733","_BOOT_ID":"5c1e…","_TRANSPORT":"stdout","_HOSTNAME":"ecs-prod-003","SYSLOG_IDENTIFIER":"kubelet","_PID":"4568","MESSAGE":"E0501 11:03:37.635343    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\" …"}
//! \x1e{"__REALTIME_TIMESTAMP":"1682910217635343",…}        -o json-seq (RFC 7464: a record separator first)
//! data: {"__REALTIME_TIMESTAMP":"1682910217635343",…}      -o json-sse
//! ```
//! As systemd documents the JSON serialization (systemd.journal-fields(7),
//! "JSON format" in journalctl(1) and systemd's JOURNAL_EXPORT_FORMATS):
//! values are strings (numbers too, such as the µs timestamps); a value
//! that is not valid UTF-8 is an array of its bytes (`[69,48,…]`); a field
//! that occurs several times in one entry is an array of its values (the
//! first is read); a field too large to print is `null`.
//!
//! The mapping of fields to an envelope is the journal export format's
//! ([`super::journal_export::envelope_from_fields`]), so that one record
//! reads the same whichever way it was exported: `__REALTIME_TIMESTAMP` is
//! the stamp (an absolute instant, in UTC), `_HOSTNAME`
//! the host, `SYSLOG_IDENTIFIER`, else `_COMM`, else `_SYSTEMD_UNIT`, the
//! program (`kernel` for kernel records), `_PID`, else `SYSLOG_PID`, the
//! pid. Time since boot is given for kernel records only, from
//! `_SOURCE_MONOTONIC_TIMESTAMP` (when the kernel logged the line, the
//! clock dmesg prints); `__MONOTONIC_TIMESTAMP`, which journald takes with
//! the wall-clock time and would pair with it more exactly, is not used.
//! A record without a `MESSAGE`, or with a `null` one, is not read.
//!
//! The message is unescaped: it borrows from the line when it has no
//! escapes, and is decoded into owned bytes when it has (or is an array
//! of bytes).
//!
//! `-o json-pretty` spreads each object over many lines, a `{` line to a
//! `}` line, one field per line indented by a tab; [`pretty_entries`] reads
//! each object whole, with the same decoding.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

use super::journal_export::{entries_with, envelope_from_fields, line_end, Entry};
use super::Envelope;

/// The fields [`envelope_from_fields`] asks for; the others are skipped
/// without being decoded.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(rename = "__REALTIME_TIMESTAMP", borrow, default)]
    realtime: Field<'a>,
    #[serde(rename = "_SOURCE_MONOTONIC_TIMESTAMP", borrow, default)]
    source_monotonic: Field<'a>,
    #[serde(rename = "_TRANSPORT", borrow, default)]
    transport: Field<'a>,
    #[serde(rename = "_HOSTNAME", borrow, default)]
    hostname: Field<'a>,
    #[serde(rename = "SYSLOG_IDENTIFIER", borrow, default)]
    identifier: Field<'a>,
    #[serde(rename = "_COMM", borrow, default)]
    comm: Field<'a>,
    #[serde(rename = "_SYSTEMD_UNIT", borrow, default)]
    unit: Field<'a>,
    #[serde(rename = "_PID", borrow, default)]
    pid: Field<'a>,
    #[serde(rename = "SYSLOG_PID", borrow, default)]
    syslog_pid: Field<'a>,
    #[serde(rename = "MESSAGE", borrow, default)]
    message: Field<'a>,
}

/// Parses `line` as one `journalctl -o json` (or `json-seq`, `json-sse`)
/// record, or `None`.
///
/// ```
/// let line = br#"{"__REALTIME_TIMESTAMP":"1682910217635343","_HOSTNAME":"ecs-prod-003","SYSLOG_IDENTIFIER":"kubelet","_PID":"4568","MESSAGE":"E0501 x"}"#;
/// let e = podmortem::format::journal_json::parse(line).unwrap();
/// assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
/// assert_eq!(e.message.as_ref(), b"E0501 x");
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    let object = line
        .strip_prefix(b"\x1e")
        .or_else(|| line.strip_prefix(b"data: "))
        .unwrap_or(line);
    // Reject on the first byte, and before decoding anything when the
    // timestamp key is missing (a logrus JSON line, say).
    if object.first() != Some(&b'{')
        || memchr::memmem::find(object, b"\"__REALTIME_TIMESTAMP\"").is_none()
    {
        return None;
    }
    let record: Record<'_> = serde_json::from_slice(object).ok()?;
    envelope_from_fields(|key| {
        let field = match key {
            "__REALTIME_TIMESTAMP" => &record.realtime,
            "_SOURCE_MONOTONIC_TIMESTAMP" => &record.source_monotonic,
            "_TRANSPORT" => &record.transport,
            "_HOSTNAME" => &record.hostname,
            "SYSLOG_IDENTIFIER" => &record.identifier,
            "_COMM" => &record.comm,
            "_SYSTEMD_UNIT" => &record.unit,
            "_PID" => &record.pid,
            "SYSLOG_PID" => &record.syslog_pid,
            "MESSAGE" => &record.message,
            _ => return None,
        };
        field.0.clone()
    })
}

/// One field's value: its bytes, or `None` when it is `null` or absent.
#[derive(Default)]
struct Field<'a>(Option<Cow<'a, [u8]>>);

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldVisitor).map(Field)
    }
}

/// Reads a string (borrowed when unescaped), an array of bytes, or an
/// array of values (the first is kept).
struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Option<Cow<'de, [u8]>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a journal field value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v.as_bytes())))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.as_bytes().to_vec())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.into_bytes())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string().into_bytes())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut bytes = Vec::new();
        match seq.next_element::<Item<'de>>()? {
            None => return Ok(Some(Cow::Owned(bytes))),
            Some(Item::Byte(b)) => bytes.push(b),
            Some(Item::Value(first)) => {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(first);
            }
        }
        while let Some(b) = seq.next_element::<u8>()? {
            bytes.push(b);
        }
        Ok(Some(Cow::Owned(bytes)))
    }
}

/// An element of an array value: a byte of a binary value, or one value
/// of a field that occurs several times.
enum Item<'a> {
    Byte(u8),
    Value(Option<Cow<'a, [u8]>>),
}

impl<'de> Deserialize<'de> for Item<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemVisitor)
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Item<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte or a journal field value")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        u8::try_from(v)
            .map(Item::Byte)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        FieldVisitor.visit_borrowed_str(v).map(Item::Value)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        FieldVisitor.visit_str(v).map(Item::Value)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        FieldVisitor.visit_string(v).map(Item::Value)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Item::Value(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        FieldVisitor.visit_seq(seq).map(Item::Value)
    }
}

/// Whether `sample` (the start of an input) is `-o json-pretty`: a `{`
/// line, then a quoted field name.
pub fn looks_pretty(sample: &[u8]) -> bool {
    sample
        .strip_prefix(b"{\n")
        .is_some_and(|rest| rest.trim_ascii_start().starts_with(b"\""))
}

/// The objects of a `-o json-pretty` dump, in order: each from a `{` line
/// to the next `}` line. Lines outside an object are entries without an
/// envelope.
pub fn pretty_entries(buf: &[u8]) -> impl Iterator<Item = Entry<'_>> {
    entries_with(buf, move |pos| {
        let first = line_end(buf, pos);
        if &buf[pos..first] != b"{" {
            let stray = Entry {
                offset: pos,
                lines: 1,
                envelope: None,
            };
            return (stray, first + 1);
        }
        let close = memchr::memmem::find(&buf[pos..], b"\n}").map_or(buf.len(), |i| pos + i + 2);
        let end = close.min(buf.len());
        let object = &buf[pos..end];
        let entry = Entry {
            offset: pos,
            lines: memchr::memchr_iter(b'\n', object).count() as u64 + 1,
            envelope: parse(object),
        };
        (entry, line_end(buf, end) + 1)
    })
}

/// Where the last whole object of a block ends: after its `}` line.
pub fn pretty_record_end(buf: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(buf, b"\n}\n").map(|i| i + 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journalctl_json_pretty_objects() {
        let text = include_str!("../../tests/fixtures/journalctl/json-pretty.txt");
        assert!(looks_pretty(text.as_bytes()));
        let all: Vec<Entry<'_>> = pretty_entries(text.as_bytes()).collect();
        assert_eq!(all.len(), 4);
        assert_eq!(
            all.iter().map(|e| e.lines).sum::<u64>(),
            text.lines().count() as u64
        );
        let kubelet = all[0].envelope.as_ref().unwrap();
        assert_eq!(kubelet.program.as_deref(), Some(&b"kubelet"[..]));
        assert!(kubelet.message.starts_with(b"E0501 11:03:37.635343"));
        // The message with control characters, as an array of bytes.
        let docker = all[1].envelope.as_ref().unwrap();
        assert!(docker
            .message
            .starts_with(b"\x1b[36mINFO\x1b[0m[2023-05-01T11:03:38"));
        let cut = pretty_record_end(text.as_bytes()).unwrap();
        assert_eq!(cut, text.len());
        assert!(!looks_pretty(b"{\"__REALTIME_TIMESTAMP\":\"1\"}\n"));
    }
    use crate::time::Stamp;
    use std::time::Duration;

    const KUBELET: &str = r#"{"__CURSOR":"s=4f2a;i=1","__REALTIME_TIMESTAMP":"1682910217635343","__MONOTONIC_TIMESTAMP":"7265418733","_BOOT_ID":"5c1e","PRIORITY":"6","_TRANSPORT":"stdout","_HOSTNAME":"ecs-prod-003","SYSLOG_IDENTIFIER":"kubelet","_COMM":"kubelet","_PID":"4568","_SYSTEMD_UNIT":"kubelet.service","MESSAGE":"E0501 11:03:37.635343    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\" err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" containerID=\"fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469\""}"#;

    #[test]
    fn kubelet_record_with_escaped_quotes() {
        let e = parse(KUBELET.as_bytes()).unwrap();
        let Some(Stamp::Absolute(t)) = e.stamp else {
            panic!("absolute stamp expected")
        };
        assert_eq!(t.to_rfc3339(), "2023-05-01T03:03:37.635343+00:00");
        assert_eq!(e.since_boot, None, "not a kernel record");
        assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
        assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(e.pid, Some(4568));
        assert!(matches!(e.message, Cow::Owned(_)), "unescaped");
        assert_eq!(
            e.message.as_ref(),
            &br#"E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded" containerID="fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469""#[..]
        );
    }

    #[test]
    fn messages_without_escapes_are_borrowed() {
        let line = br#"{ "__REALTIME_TIMESTAMP" : "1682957424148458", "_HOSTNAME" : "ecs-prod-003", "_COMM" : "dockerd", "SYSLOG_PID" : "1201", "MESSAGE" : "shim disconnected" }"#;
        let e = parse(line).unwrap();
        assert!(matches!(e.message, Cow::Borrowed(b"shim disconnected")));
        assert_eq!(e.program.as_deref(), Some(&b"dockerd"[..]), "_COMM");
        assert_eq!(e.pid, Some(1201), "SYSLOG_PID");
    }

    #[test]
    fn kernel_record_with_a_binary_message() {
        // "IPv6: \xff" as an array of bytes: not valid UTF-8.
        let line = br#"{"__REALTIME_TIMESTAMP":"1682911339000000","_SOURCE_MONOTONIC_TIMESTAMP":"4174552171","_TRANSPORT":"kernel","_HOSTNAME":"ecs-prod-003","MESSAGE":[73,80,118,54,58,32,255]}"#;
        let e = parse(line).unwrap();
        assert_eq!(e.message.as_ref(), b"IPv6: \xff");
        assert_eq!(e.program.as_deref(), Some(&b"kernel"[..]));
        assert_eq!(e.since_boot, Some(Duration::from_micros(4_174_552_171)));
        assert_eq!(e.pid, None);
    }

    #[test]
    fn json_seq_and_repeated_fields() {
        let line = b"\x1e{\"__REALTIME_TIMESTAMP\":\"1682910217635343\",\"SYSLOG_IDENTIFIER\":[\"kubelet\",\"kubelet-wrapper\"],\"MESSAGE\":[\"first\",\"second\"]}";
        let e = parse(line).unwrap();
        assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(e.message.as_ref(), b"first");
        let sse = br#"data: {"__REALTIME_TIMESTAMP":"1682910217635343","MESSAGE":"x"}"#;
        assert_eq!(parse(sse).unwrap().message.as_ref(), b"x");
        let nested = br#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":[[104,105],"b"]}"#;
        assert_eq!(parse(nested).unwrap().message.as_ref(), b"hi");
    }

    #[test]
    fn near_misses_are_rejected() {
        for line in [
            // No MESSAGE, or a null one (too large to print).
            &br#"{"__REALTIME_TIMESTAMP":"1682910217635343","_HOSTNAME":"h"}"#[..],
            br#"{"__REALTIME_TIMESTAMP":"1682910217635343","MESSAGE":null}"#,
            // No usable time.
            br#"{"__REALTIME_TIMESTAMP":"soon","MESSAGE":"x"}"#,
            br#"{"MESSAGE":"x","__REALTIME_TIMESTAMP_":"1"}"#,
            // logrus JSON.
            br#"{"level":"info","msg":"shim disconnected","time":"2023-05-01T10:48:54.306078409+08:00"}"#,
            br#"{"__REALTIME_TIMESTAMP":"1682910217635343","MESSAGE":[256]}"#,
            br#"{"__REALTIME_TIMESTAMP":"1682910217635343","MESSAGE":"trunc"#,
            b"__REALTIME_TIMESTAMP=1682910217635343",
            b"",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
