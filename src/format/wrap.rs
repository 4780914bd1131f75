//! Records that a terminal wrapped at a fixed width, put back together.
//!
//! A log copied out of a terminal (or a pager, or a web console) keeps the
//! terminal's line breaks: a record longer than the window's width arrives
//! as several lines, every one but the last exactly `width` columns long,
//! and the rest starting at column 0 with no envelope of its own:
//!
//! ```text
//! Sep 11 17:35:33 n1 dockerd[2435]: time="…" level=error msg="… cont      <- 149 columns
//! ainerd: process has not exited" id=cf5c86dae68b…                          <- 149 columns
//! e60d9ba7dfe0e5b4a69 systemPid=26750                                       <- the rest
//! ```
//!
//! Read line by line, the record is cut inside its message (the grammar's
//! pattern no longer matches) and the rest is counted unparsed. The width
//! is learned once per input ([`Width::learn`]): the length of the lines,
//! framed as records, after which a line follows that starts at column 0,
//! is not blank and frames as no record; at least [`MIN_REPEATS`] such lines
//! must share one length of at least [`MIN_WIDTH`] columns, so that one
//! record followed by one pasted comment is never taken for a wrap. Then
//! [`lines`] gives each record with its continuation lines appended: a line
//! of exactly `width` columns followed by such a line.
//!
//! The blank at a wrap is often lost (trailing blanks are trimmed when a
//! paste is saved): a join between a word and a word is kept as is (the
//! terminal cut a word: `cont` + `ainerd`), a join after `,`, `;` or `:`
//! gets the blank back (`table full,` + `dropping packet`). A record wrapped
//! once, or by hand at a width of its own, is not recognized: one line of
//! one length says nothing about a terminal.

use std::borrow::Cow;
use std::num::NonZeroU16;

/// Fewest records of one width, each followed by a continuation, for the
/// width to be learned.
pub const MIN_REPEATS: usize = 2;
/// Narrowest width taken for a terminal's (a classic terminal is 80).
pub const MIN_WIDTH: usize = 60;
/// Continuation lines joined to one record at most.
const MAX_CONTINUATIONS: u64 = 16;

/// The terminal width an input's lines were wrapped at, if they were.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Width(Option<NonZeroU16>);

impl Width {
    /// No wrapping.
    pub const NONE: Width = Width(None);

    /// Learns the width from consecutive lines of an input's sample;
    /// `is_record` says whether a line frames as a record.
    pub fn learn(lines: &[&[u8]], is_record: &dyn Fn(&[u8]) -> bool) -> Width {
        let mut lengths: Vec<usize> = lines
            .windows(2)
            .filter(|pair| {
                columns(pair[0]) >= MIN_WIDTH && is_record(pair[0]) && continues(pair[1], is_record)
            })
            .map(|pair| columns(pair[0]))
            .collect();
        lengths.sort_unstable();
        let mut best: Option<(usize, usize)> = None;
        for run in lengths.chunk_by(|a, b| a == b) {
            if run.len() >= MIN_REPEATS && best.is_none_or(|(_, n)| run.len() > n) {
                best = Some((run[0], run.len()));
            }
        }
        Width(best.and_then(|(w, _)| u16::try_from(w).ok().and_then(NonZeroU16::new)))
    }

    pub fn columns(self) -> Option<usize> {
        self.0.map(|w| usize::from(w.get()))
    }
}

/// One line of input as framing sees it: a physical line, or a wrapped
/// record with its continuations appended.
#[derive(Debug, PartialEq, Eq)]
pub struct Line<'p> {
    /// Byte offsets in the piece: where the first physical line starts and
    /// where the last one ends (its newline excluded).
    pub start: usize,
    pub end: usize,
    /// The text, without `\r` at the end of any physical line.
    pub text: Cow<'p, [u8]>,
    /// How many physical lines it stands for.
    pub physical: u64,
}

/// The lines of `piece`, wrapped records joined when `width` is known, and
/// a header's body joined to it when `is_header` says a line is one (a
/// format that writes a record's header and its text on separate lines:
/// syslogd's broadcast, [`super::wall`]; `systemctl status`,
/// [`super::status`]); `is_record` as for [`Width::learn`].
pub fn lines<'p, H, F>(
    piece: &'p [u8],
    width: Width,
    is_header: H,
    is_record: F,
) -> impl Iterator<Item = Line<'p>>
where
    H: Fn(&[u8]) -> bool,
    F: Fn(&[u8]) -> bool,
{
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        if pos >= piece.len() {
            return None;
        }
        let (start, end) = physical(piece, pos);
        pos = end + 1;
        let first = strip_cr(&piece[start..end]);
        let mut line = Line {
            start,
            end,
            text: Cow::Borrowed(first),
            physical: 1,
        };
        if is_header(first) {
            join_body(piece, &mut pos, &mut line, &is_record);
            return Some(line);
        }
        let Some(w) = width.columns() else {
            return Some(line);
        };
        let mut last = first;
        while columns(last) == w && line.physical <= MAX_CONTINUATIONS && pos < piece.len() {
            if line.physical == 1 && !is_record(first) {
                break;
            }
            let (next_start, next_end) = physical(piece, pos);
            let next = strip_cr(&piece[next_start..next_end]);
            if !continues(next, &is_record) {
                break;
            }
            let text = line.text.to_mut();
            if blank_lost(last, next) {
                text.push(b' ');
            }
            text.extend_from_slice(next);
            line.end = next_end;
            line.physical += 1;
            pos = next_end + 1;
            last = next;
        }
        Some(line)
    })
}

/// Appends to a header record its body: the next line, then the indented
/// lines after it, none blank nor a record of its own, one blank between.
fn join_body<'p>(
    piece: &'p [u8],
    pos: &mut usize,
    line: &mut Line<'p>,
    is_record: &dyn Fn(&[u8]) -> bool,
) {
    if !is_record(&line.text) {
        return;
    }
    while *pos < piece.len() && line.physical <= MAX_CONTINUATIONS {
        let (next_start, next_end) = physical(piece, *pos);
        let next = strip_cr(&piece[next_start..next_end]);
        let indented = next.first().is_some_and(u8::is_ascii_whitespace);
        if next.iter().all(u8::is_ascii_whitespace)
            || (line.physical > 1 && !indented)
            || is_record(next)
        {
            return;
        }
        let text = line.text.to_mut();
        text.push(b' ');
        text.extend_from_slice(next);
        line.end = next_end;
        line.physical += 1;
        *pos = next_end + 1;
    }
}

/// Whether `next` can be the rest of a wrapped record: it starts at column
/// 0, is not blank and frames as no record of its own.
fn continues(next: &[u8], is_record: &dyn Fn(&[u8]) -> bool) -> bool {
    next.first().is_some_and(|b| !b.is_ascii_whitespace()) && !is_record(next)
}

/// Whether the wrap fell on a blank that the paste lost: after `,`, `;`
/// or `:` and before a word.
fn blank_lost(before: &[u8], after: &[u8]) -> bool {
    matches!(before.last(), Some(b',' | b';' | b':'))
        && after.first().is_some_and(|b| b.is_ascii_alphanumeric())
}

/// Terminal columns of a line: its characters (UTF-8 continuation bytes
/// are not counted).
fn columns(line: &[u8]) -> usize {
    line.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

fn physical(piece: &[u8], pos: usize) -> (usize, usize) {
    let end = memchr::memchr(b'\n', &piece[pos..]).map_or(piece.len(), |i| pos + i);
    (pos, end)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record is a line that starts with a syslog month (enough here).
    fn is_record(line: &[u8]) -> bool {
        line.starts_with(b"Feb ") || line.starts_with(b"Sep ")
    }

    fn no_header(_: &[u8]) -> bool {
        false
    }

    fn sample(text: &str) -> Vec<&[u8]> {
        text.lines().map(str::as_bytes).collect()
    }

    // Real: moby/moby#34814, wrapped at 149 columns inside words (the
    // field corpus keeps it as pasted).
    const MOBY: &str = include_str!("../../tests/field/moby-34814-terminal-wrapped/messages");
    // Real: wballard/starphleet#352, wrapped at 72 columns, the blank
    // before `dropping` lost.
    const STARPHLEET: &str =
        include_str!("../../tests/field/starphleet-352-conntrack-wrapped/kern.log");

    #[test]
    fn a_width_shared_by_wrapped_records_is_learned() {
        let lines = sample(MOBY);
        let width = Width::learn(&lines, &is_record);
        assert_eq!(width.columns(), Some(149));
    }

    #[test]
    fn wrapped_records_are_joined_and_count_their_lines() {
        let lines = sample(MOBY);
        let width = Width::learn(&lines, &is_record);
        let joined: Vec<Line<'_>> =
            super::lines(MOBY.as_bytes(), width, no_header, is_record).collect();
        let physical: Vec<u64> = joined.iter().map(|l| l.physical).collect();
        assert_eq!(physical, [3, 2, 2, 1]);
        let first = String::from_utf8_lossy(&joined[0].text);
        assert!(
            first.contains("error=\"containerd: process has not exited\""),
            "{first}"
        );
        assert!(first.ends_with("systemPid=26750"), "{first}");
        // The offsets cover the physical lines joined.
        let second = &MOBY.as_bytes()[joined[1].start..joined[1].end];
        assert_eq!(
            second,
            MOBY.lines()
                .skip(3)
                .take(2)
                .collect::<Vec<_>>()
                .join("\n")
                .as_bytes()
        );
    }

    #[test]
    fn a_blank_lost_after_a_comma_is_put_back() {
        let width = Width::learn(&sample(STARPHLEET), &is_record);
        assert_eq!(width.columns(), Some(72));
        let joined: Vec<Line<'_>> =
            super::lines(STARPHLEET.as_bytes(), width, no_header, is_record).collect();
        // The first line was cut by the paste (no month): its own line.
        let physical: Vec<u64> = joined.iter().map(|l| l.physical).collect();
        assert_eq!(physical, [1, 2, 2, 2, 2]);
        assert!(joined[1].text.ends_with(b"table full, dropping packet"));
    }

    #[test]
    fn a_header_takes_the_body_on_its_next_line() {
        // Real: radiasoft/devops#141 (syslogd's broadcast, the body indented).
        let text = "Message from syslogd@fnl9b at Mar 22 21:40:42 ...\n kernel:unregister_netdevice: waiting for lo to become free. Usage count = 1\n\nMessage from syslogd@fnl9b at Mar 22 21:40:52 ...\n";
        let header = |l: &[u8]| l.starts_with(b"Message from");
        let joined: Vec<Line<'_>> =
            super::lines(text.as_bytes(), Width::NONE, header, header).collect();
        let physical: Vec<u64> = joined.iter().map(|l| l.physical).collect();
        assert_eq!(physical, [2, 1, 1]);
        assert!(joined[0].text.ends_with(
            b"...  kernel:unregister_netdevice: waiting for lo to become free. Usage count = 1"
        ));
    }

    #[test]
    fn a_status_header_takes_its_indented_properties() {
        // Real: docker/for-linux#646 (the field case, as pasted).
        let text =
            include_str!("../../tests/field/for-linux-646-docker-status-start-limit/status.txt");
        let header = |l: &[u8]| l.starts_with("● ".as_bytes());
        let record = |l: &[u8]| header(l) || l.starts_with(b"Apr ");
        let joined: Vec<Line<'_>> =
            super::lines(text.as_bytes(), Width::NONE, header, record).collect();
        let block = joined
            .iter()
            .find(|l| l.physical > 1)
            .expect("the status block");
        assert_eq!(block.physical, 6);
        let block = String::from_utf8_lossy(&block.text);
        assert!(
            block.contains("Active: failed (Result: start-limit-hit)"),
            "{block}"
        );
        assert!(!block.contains("Apr 09"), "{block}");
    }

    #[test]
    fn one_record_and_one_comment_teach_no_width() {
        let text = "Feb 23 16:44:36 jobs kernel: [38775494.393661] nf_conntrack: table full, dropping packet\n\
This is what the kernel printed all day.\n";
        assert_eq!(Width::learn(&sample(text), &is_record), Width::NONE);
    }

    #[test]
    fn equal_records_followed_by_records_teach_no_width() {
        let line = "Feb 23 16:44:36 jobs kernel: [38775494.393661] nf_conntrack: table full, dropping packet";
        let text = [line; 5].join("\n");
        assert_eq!(Width::learn(&sample(&text), &is_record), Width::NONE);
    }

    #[test]
    fn without_a_width_every_line_is_its_own() {
        let lines: Vec<Line<'_>> =
            super::lines(MOBY.as_bytes(), Width::NONE, no_header, is_record).collect();
        assert_eq!(lines.len(), 8);
        assert!(lines
            .iter()
            .all(|l| l.physical == 1 && matches!(l.text, Cow::Borrowed(_))));
    }

    #[test]
    fn crlf_lines_are_measured_and_joined_without_their_cr() {
        let text = MOBY.replace('\n', "\r\n");
        let lines = sample(&text);
        let stripped: Vec<&[u8]> = lines.iter().map(|l| strip_cr(l)).collect();
        let width = Width::learn(&stripped, &is_record);
        assert_eq!(width.columns(), Some(149));
        let joined: Vec<Line<'_>> =
            super::lines(text.as_bytes(), width, no_header, is_record).collect();
        assert_eq!(joined.len(), 4);
        assert!(!joined[0].text.contains(&b'\r'));
    }
}
