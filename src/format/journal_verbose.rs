//! journalctl's `-o verbose` output: a header line per entry, with its
//! time and cursor, then every field indented by four spaces.
//!
//! ```text
//! Mon 2023-05-01 11:03:37.635343 CST [s=c23e…;i=1;b=5c1e…;m=1b10d7ded;t=5fa9911b6060f;x=9d5d…]
//!     _HOSTNAME=ecs-prod-003
//!     SYSLOG_IDENTIFIER=kubelet
//!     _PID=4568
//!     MESSAGE=E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer …
//! ```
//! (As systemd 252's journalctl prints it: `tests/fixtures/journalctl/verbose.txt`.)
//! The cursor's `t=` is `__REALTIME_TIMESTAMP` in hexadecimal, so the
//! time is exact whatever zone the header was printed in; the fields map to
//! an envelope as in the export format
//! ([`super::journal_export::envelope_from_fields`]). A value that is not
//! printable is shown as `[138B blob data]` (without `--all`): such a
//! message is read as that text.

use std::borrow::Cow;

use super::journal_export::{entries_with, envelope_from_fields, line_end, Entry};

/// The indentation of a field line.
const INDENT: &[u8] = b"    ";

/// Whether `sample` (the start of an input) is in this format: its first
/// line is an entry header and the next a field.
pub fn looks_like(sample: &[u8]) -> bool {
    let mut lines = sample.split(|&b| b == b'\n');
    let header = lines.find(|l| !l.is_empty() && !l.starts_with(b"-- "));
    header.is_some_and(|h| realtime(h).is_some())
        && lines.next().is_some_and(|l| l.starts_with(INDENT))
}

/// `__REALTIME_TIMESTAMP` (µs, decimal) from a header's cursor `t=` field.
fn realtime(header: &[u8]) -> Option<String> {
    if header.starts_with(b" ") || header.last() != Some(&b']') {
        return None;
    }
    let cursor = &header[memchr::memmem::find(header, b" [s=")? + 2..header.len() - 1];
    let hex = cursor
        .split(|&b| b == b';')
        .find_map(|field| field.strip_prefix(b"t="))?;
    let micros = u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
    Some(micros.to_string())
}

/// The entries of a verbose dump, in order. A line outside any entry (a
/// `-- Boot …` note, a stray line) is an entry without an envelope.
pub fn entries(buf: &[u8]) -> impl Iterator<Item = Entry<'_>> {
    entries_with(buf, move |mut pos| {
        let offset = pos;
        let end = line_end(buf, pos);
        let stamp = realtime(&buf[pos..end]);
        pos = end + 1;
        let mut lines = 1u64;
        let mut fields: Vec<(&[u8], &[u8])> = Vec::new();
        while stamp.is_some() && pos < buf.len() && buf[pos..].starts_with(INDENT) {
            let end = line_end(buf, pos);
            let field = &buf[pos + INDENT.len()..end];
            if let Some(eq) = memchr::memchr(b'=', field) {
                fields.push((&field[..eq], &field[eq + 1..]));
            }
            lines += 1;
            pos = end + 1;
        }
        let envelope = stamp.and_then(|stamp| {
            envelope_from_fields(|key| match key {
                "__REALTIME_TIMESTAMP" => Some(Cow::Owned(stamp.clone().into_bytes())),
                _ => fields
                    .iter()
                    .find(|(k, _)| *k == key.as_bytes())
                    .map(|(_, v)| Cow::Borrowed(*v)),
            })
        });
        let entry = Entry {
            offset,
            lines,
            envelope,
        };
        (entry, pos)
    })
}

/// Where the last whole entry of a block ends: where the last header line
/// starts (the entry after it may go on in the next block).
pub fn record_end(buf: &[u8]) -> Option<usize> {
    memchr::memrchr_iter(b'\n', buf)
        .find(|&i| buf.get(i + 1).is_some_and(|&b| b != b' ' && b != b'\n'))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Stamp;

    const VERBOSE: &str = include_str!("../../tests/fixtures/journalctl/verbose.txt");

    #[test]
    fn journalctl_verbose_entries() {
        assert!(looks_like(VERBOSE.as_bytes()));
        let all: Vec<Entry<'_>> = entries(VERBOSE.as_bytes()).collect();
        assert_eq!(all.len(), 4);
        assert_eq!(
            all.iter().map(|e| e.lines).sum::<u64>(),
            VERBOSE.lines().count() as u64
        );
        let kubelet = all[0].envelope.as_ref().unwrap();
        let Some(Stamp::Absolute(t)) = kubelet.stamp else {
            panic!("absolute stamp expected")
        };
        assert_eq!(t.to_rfc3339(), "2023-05-01T03:03:37.635343+00:00");
        assert_eq!(kubelet.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(kubelet.host.as_deref(), Some(&b"ecs-prod-003"[..]));
        assert!(kubelet.message.starts_with(b"E0501 11:03:37.635343"));
        let kernel = all[2].envelope.as_ref().unwrap();
        assert_eq!(
            kernel.since_boot,
            Some(std::time::Duration::from_micros(7_267_417_733))
        );
        assert_eq!(
            all[1].envelope.as_ref().unwrap().message.as_ref(),
            b"[138B blob data]"
        );
    }

    #[test]
    fn blocks_end_before_the_last_header() {
        let buf = VERBOSE.as_bytes();
        let cut = record_end(buf).unwrap();
        assert!(buf[cut..].starts_with(b"Mon 2023-05-01 11:03:40"));
        assert_eq!(entries(&buf[..cut]).count(), 3);
    }

    #[test]
    fn other_text_is_not_verbose() {
        assert!(!looks_like(
            b"May  1 11:03:56 n kubelet[1]: x\n    goroutine 1\n"
        ));
        assert!(!looks_like(
            b"Mon 2023-05-01 11:03:37 CST n kubelet[1]: x\n"
        ));
        assert!(entries(b"stray\n    X=1\n")
            .next()
            .unwrap()
            .envelope
            .is_none());
    }
}
