//! The Journal Export Format (`journalctl -o export`), as systemd documents
//! it: entries separated by an empty line; each field a `KEY=value` line, or,
//! for values that are not printable text, `KEY`, a newline, the value's
//! length as a little-endian 64-bit integer, the raw bytes and a newline.
//!
//! ```text
//! __CURSOR=s=…;i=…
//! __REALTIME_TIMESTAMP=1682910236635343
//! __MONOTONIC_TIMESTAMP=7265418733
//! _BOOT_ID=5c1e…
//! _HOSTNAME=ecs-prod-003
//! SYSLOG_IDENTIFIER=kubelet
//! _PID=4568
//! MESSAGE=E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer …
//!
//! __CURSOR=…
//! ```
//! Records span many lines, so this format is read entry by entry rather
//! than line by line; the mapping of journal fields to an envelope is
//! [`envelope_from_fields`], shared with `journalctl -o json`.

use std::borrow::Cow;
use std::time::Duration;

use chrono::DateTime;

use super::Envelope;
use crate::time::Stamp;

/// Whether `sample` (the start of an input) is in the export format: its
/// first line is a `__CURSOR=` or `__REALTIME_TIMESTAMP=` field.
pub fn looks_like(sample: &[u8]) -> bool {
    sample.starts_with(b"__CURSOR=") || sample.starts_with(b"__REALTIME_TIMESTAMP=")
}

/// One entry: where it starts, how many lines it spans, and its envelope
/// (`None` when it has no MESSAGE or no usable time).
#[derive(Debug)]
pub struct Entry<'a> {
    pub offset: usize,
    pub lines: u64,
    pub envelope: Option<Envelope<'a>>,
}

/// Where the line that starts at `at` ends: its newline, or the end of
/// `buf`.
pub(super) fn line_end(buf: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &buf[at..]).map_or(buf.len(), |i| at + i)
}

/// The entries of a dump whose records span several lines (export,
/// verbose, json-pretty), in order: the blank lines between entries are
/// skipped, and `read(at)` reads the entry that starts at `at`, returning
/// it with the offset where reading goes on (past `at`).
pub(super) fn entries_with<'a>(
    buf: &'a [u8],
    mut read: impl FnMut(usize) -> (Entry<'a>, usize) + 'a,
) -> impl Iterator<Item = Entry<'a>> + 'a {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        while buf.get(pos) == Some(&b'\n') {
            pos += 1;
        }
        if pos >= buf.len() {
            return None;
        }
        let (entry, next) = read(pos);
        pos = next;
        Some(entry)
    })
}

/// The entries of an export stream, in order. A truncated last entry is
/// read as far as it goes.
pub fn entries(buf: &[u8]) -> impl Iterator<Item = Entry<'_>> {
    entries_with(buf, move |mut pos| {
        let offset = pos;
        let mut fields: Vec<(&[u8], Cow<'_, [u8]>)> = Vec::new();
        let mut lines = 0u64;
        while pos < buf.len() && buf[pos] != b'\n' {
            let end = line_end(buf, pos);
            let line = &buf[pos..end];
            lines += 1;
            match memchr::memchr(b'=', line) {
                Some(eq) => {
                    fields.push((&line[..eq], Cow::Borrowed(&line[eq + 1..])));
                    pos = end + 1;
                }
                None => {
                    // A binary field: KEY \n u64-le length, bytes, \n.
                    let len_at = end + 1;
                    let Some(len) = buf.get(len_at..len_at + 8) else {
                        pos = buf.len();
                        break;
                    };
                    let len = u64::from_le_bytes(len.try_into().unwrap_or([0; 8])) as usize;
                    let data_at = len_at + 8;
                    let data_end = data_at.saturating_add(len).min(buf.len());
                    let data = &buf[data_at..data_end];
                    lines += memchr::memchr_iter(b'\n', data).count() as u64 + 1;
                    fields.push((line, Cow::Borrowed(data)));
                    pos = data_end + 1;
                }
            }
        }
        let envelope = envelope_from_fields(|key| {
            fields
                .iter()
                .find(|(k, _)| *k == key.as_bytes())
                .map(|(_, v)| v.clone())
        });
        let entry = Entry {
            offset,
            lines: lines + 1,
            envelope,
        };
        (entry, pos)
    })
}

/// Builds an envelope from a journal record's fields, whatever the
/// serialization (`get` returns a field's value by name):
/// `__REALTIME_TIMESTAMP` (µs since the epoch) is the time, `_HOSTNAME` the
/// host, `SYSLOG_IDENTIFIER` (else `_COMM`, else `_SYSTEMD_UNIT`) the
/// program, `_PID` (else `SYSLOG_PID`) the pid, `MESSAGE` the message; for
/// kernel records `_SOURCE_MONOTONIC_TIMESTAMP` is the time since boot.
pub fn envelope_from_fields<'a>(
    get: impl Fn(&str) -> Option<Cow<'a, [u8]>>,
) -> Option<Envelope<'a>> {
    let micros =
        |key: &str| -> Option<i64> { std::str::from_utf8(&get(key)?).ok()?.trim().parse().ok() };
    let realtime = micros("__REALTIME_TIMESTAMP")?;
    let stamp = DateTime::from_timestamp_micros(realtime)?.fixed_offset();
    let kernel = get("_TRANSPORT").is_some_and(|t| t.as_ref() == b"kernel");
    let since_boot = if kernel {
        micros("_SOURCE_MONOTONIC_TIMESTAMP")
    } else {
        None
    }
    .and_then(|us| u64::try_from(us).ok())
    .map(Duration::from_micros);
    let program = get("SYSLOG_IDENTIFIER")
        .or_else(|| get("_COMM"))
        .or_else(|| get("_SYSTEMD_UNIT"))
        .or_else(|| kernel.then_some(Cow::Borrowed(&b"kernel"[..])));
    let pid = get("_PID")
        .or_else(|| get("SYSLOG_PID"))
        .and_then(|p| std::str::from_utf8(&p).ok()?.parse().ok());
    Some(Envelope {
        stamp: Some(Stamp::Absolute(stamp)),
        since_boot,
        host: get("_HOSTNAME"),
        program,
        pid,
        message: get("MESSAGE")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT_ENTRY: &str = "__CURSOR=s=4f;i=1\n__REALTIME_TIMESTAMP=1682910217635343\n__MONOTONIC_TIMESTAMP=7265418733\n_BOOT_ID=5c1e\n_TRANSPORT=stdout\n_HOSTNAME=ecs-prod-003\nSYSLOG_IDENTIFIER=kubelet\n_PID=4568\nMESSAGE=E0501 11:03:37.635343    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\"\n";

    #[test]
    fn text_fields_make_an_envelope() {
        let buf = format!("{TEXT_ENTRY}\n{TEXT_ENTRY}");
        let all: Vec<Entry<'_>> = entries(buf.as_bytes()).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].lines, 10);
        assert_eq!(all[1].offset, TEXT_ENTRY.len() + 1);
        let e = all[0].envelope.as_ref().unwrap();
        let Some(Stamp::Absolute(t)) = e.stamp else {
            panic!("absolute stamp expected")
        };
        assert_eq!(t.to_rfc3339(), "2023-05-01T03:03:37.635343+00:00");
        assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
        assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(e.pid, Some(4568));
        assert!(e.message.starts_with(b"E0501 11:03:37.635343"));
        assert_eq!(
            e.since_boot, None,
            "only kernel records give a source monotonic time"
        );
    }

    #[test]
    fn binary_fields_and_kernel_records() {
        let mut buf = b"__REALTIME_TIMESTAMP=1682910217000000\n_TRANSPORT=kernel\n_SOURCE_MONOTONIC_TIMESTAMP=123456789\nMESSAGE\n".to_vec();
        let message = b"INFO: task fluentd:4242 blocked\nfor more than 120 seconds.\xff";
        buf.extend_from_slice(&(message.len() as u64).to_le_bytes());
        buf.extend_from_slice(message);
        buf.extend_from_slice(b"\n_HOSTNAME=n1\n\n");
        let all: Vec<Entry<'_>> = entries(&buf).collect();
        assert_eq!(all.len(), 1);
        let e = all[0].envelope.as_ref().unwrap();
        assert_eq!(e.message.as_ref(), &message[..]);
        assert_eq!(e.program.as_deref(), Some(&b"kernel"[..]));
        assert_eq!(e.since_boot, Some(Duration::from_micros(123_456_789)));
        assert_eq!(e.host.as_deref(), Some(&b"n1"[..]));
        assert_eq!(
            all[0].lines, 8,
            "six field lines, a two-line message, the blank line"
        );
    }

    #[test]
    fn truncated_and_messageless_entries_do_not_panic() {
        let cut = b"__REALTIME_TIMESTAMP=1682910217000000\nMESSAGE\n\x10\x00";
        let all: Vec<Entry<'_>> = entries(cut).collect();
        assert_eq!(all.len(), 1);
        assert!(all[0].envelope.is_none());
        let no_message = b"__REALTIME_TIMESTAMP=1682910217000000\n_PID=1\n";
        assert!(entries(no_message).next().unwrap().envelope.is_none());
        let huge_len = b"__REALTIME_TIMESTAMP=1\nMESSAGE\n\xff\xff\xff\xff\xff\xff\xff\xffabc\n";
        assert_eq!(entries(huge_len).count(), 1);
        assert!(looks_like(b"__CURSOR=s=1\n") && !looks_like(b"May  1 x"));
    }
}
