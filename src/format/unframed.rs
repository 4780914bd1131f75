//! Reading a line whose envelope no format recognizes, so that a failure
//! message in it is still found: where its message may start, and any time
//! it holds.
//!
//! Only lines that hold a grammar literal come here (the scanner's
//! prefilter), so these helpers may try several positions. A pattern may be
//! anchored at the start of the message (`^INFO: task …`), and the unknown
//! envelope is before it: [`message_starts`] offers the line's start and
//! every position after a boundary, nearest first: a space or tab, a `]`, a
//! `:` that ends a glued tag (`kernel:unregister_netdevice: …` in syslogd's
//! console broadcasts), a `` ` `` or `"` that opens a quoted message
//! (markdown inline code, the crash utility's `PANIC: "BUG: …"`). [`stamp_in`]
//! takes the first time stamp anywhere in the line: an ISO 8601 date and
//! time (`2023-05-01T11:03:56.123+08:00`, `2025-01-18 08:42:12.584`) or a
//! syslog one (`May  1 11:03:56`).

use super::lex::{clock, datetime, month_name, number};
use crate::time::{PartialStamp, Stamp};

/// Positions tried as the start of the message.
const MAX_STARTS: usize = 48;
/// Bytes of the line searched for a time stamp.
const STAMP_SCAN: usize = 256;

/// Where the message of `line` may start, in order: 0, then after every
/// boundary byte not followed by a blank (at most [`MAX_STARTS`]).
pub fn message_starts(line: &[u8]) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0)
        .chain(
            line.iter()
                .enumerate()
                .filter(|(i, &b)| {
                    matches!(b, b' ' | b'\t' | b']' | b':' | b'`' | b'"')
                        && line.get(i + 1).is_some_and(|&n| n != b' ' && n != b'\t')
                })
                .map(|(i, _)| i + 1),
        )
        .take(MAX_STARTS)
}

/// The first time stamp in `line`, if any.
pub fn stamp_in(line: &[u8]) -> Option<Stamp> {
    let head = &line[..line.len().min(STAMP_SCAN)];
    (0..head.len()).find_map(|i| {
        let after_word = i > 0 && head[i - 1].is_ascii_alphanumeric();
        match head[i] {
            b'0'..=b'9' if !after_word => datetime(&head[i..]).ok().map(|(_, s)| s),
            b'A'..=b'Z' if !after_word => syslog_stamp(&head[i..]),
            _ => None,
        }
    })
}

/// `May  1 11:03:56` or `May 01 11:03:56.123`.
fn syslog_stamp(i: &[u8]) -> Option<Stamp> {
    let (i, month) = month_name(i).ok()?;
    let i = i.strip_prefix(b" ")?;
    let i = i.strip_prefix(b" ").unwrap_or(i);
    let (i, day) = number(i).ok()?;
    let i = i.strip_prefix(b" ")?;
    let (_, hms) = clock(i).ok()?;
    (1..=31)
        .contains(&day)
        .then(|| Stamp::Local(PartialStamp::new(None, month, day, hms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_anywhere_in_the_line() {
        let iso = stamp_in(b"node-1 | 2023-05-01T11:03:56.123+08:00 | kernel | INFO: task");
        assert!(
            matches!(iso, Some(Stamp::Absolute(t)) if t.to_rfc3339() == "2023-05-01T11:03:56.123+08:00")
        );
        let local = stamp_in(b"<13> May  1 11:03:56 n: x");
        assert!(matches!(local, Some(Stamp::Local(p)) if (p.month, p.day, p.hour) == (5, 1, 11)));
        assert_eq!(stamp_in(b"no time here: task 4242 blocked"), None);
        assert_eq!(stamp_in(b"abc2023-05-01T11:03:56Z"), None, "inside a word");
    }

    #[test]
    fn message_starts_after_spaces_and_brackets() {
        let line = b"node1 | [kernel] INFO: task";
        let starts: Vec<&[u8]> = message_starts(line).map(|s| &line[s..]).collect();
        assert!(starts.contains(&&b"INFO: task"[..]));
        assert_eq!(starts[0], &line[..]);
        // A tag glued to its message, a quoted or backticked message.
        let line = b" kernel:unregister_netdevice: waiting";
        let starts: Vec<&[u8]> = message_starts(line).map(|s| &line[s..]).collect();
        assert!(starts.contains(&&b"unregister_netdevice: waiting"[..]));
        let line = b"PANIC: \"BUG: unable\" `failed to`";
        let starts: Vec<&[u8]> = message_starts(line).map(|s| &line[s..]).collect();
        assert!(starts.contains(&&b"BUG: unable\" `failed to`"[..]));
        assert!(starts.contains(&&b"failed to`"[..]));
        assert!(
            !starts.contains(&&b" unable\" `failed to`"[..]),
            "never before a blank"
        );
        assert!(message_starts(&[b' '; 1000]).count() <= MAX_STARTS);
    }
}
