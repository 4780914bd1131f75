//! The hot loop: frame every line of a buffer, prefilter it, and turn the
//! few lines that match a pattern into [`RawEvent`]s and entity links.
//!
//! A file is read twice: [`scan`] frames and counts every line and keeps the
//! lines of detector patterns; [`scan_links`] then visits only the lines of
//! link patterns that mention a container a finding named. Input that can be
//! read once (stdin) is scanned for both at once ([`Stage::All`]).
//!
//! A buffer is cut into pieces on line boundaries and the pieces are scanned
//! in parallel (rayon); their outputs are concatenated in order, so results
//! do not depend on the number of threads. Nothing here knows about files,
//! time zones or detectors: line numbers are relative to the buffer, and
//! timestamps stay as the line printed them.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::entity::{entities_of, Entity, Mentions};
use crate::format::{parse_payload, Envelope, Framed, InputFormat, Level, Payload};
use crate::matcher::{Match, RuleSet, Stage};
use crate::time::{Anchor, BootSample, PartialStamp, Stamp};

/// Lines longer than this are matched on their first `MAX_LINE` bytes only.
pub const MAX_LINE: usize = 64 * 1024;
/// Pieces a buffer is cut into for parallel scanning.
const PIECE: usize = 4 * 1024 * 1024;
/// Lines at the start of each piece whose payload time is sampled for time
/// inference even when they match no pattern.
const TIME_SAMPLE_LINES: usize = 64;
/// At most this many anchors and years are kept per piece: inference needs
/// a handful, not millions.
const MAX_TIME_SAMPLES: usize = 64;

/// A matched line of a pattern that some detector uses.
#[derive(Clone, Debug)]
pub struct RawEvent {
    pub pattern: usize,
    /// 1-based, relative to the scanned buffer until [`ScanOutput::append`]
    /// offsets it.
    pub line: u64,
    pub stamp: Stamp,
    pub level: Option<Level>,
    pub host: Option<String>,
    pub entities: Vec<Entity>,
    pub text: String,
}

/// What scanning a buffer produced.
#[derive(Debug, Default)]
pub struct ScanOutput {
    pub lines: u64,
    pub unparsed: u64,
    /// Lines longer than [`MAX_LINE`].
    pub long_lines: u64,
    /// Matched lines whose time could not be read; not analyzed.
    pub untimed: u64,
    pub events: Vec<RawEvent>,
    /// Distinct sets of entities that one line named together.
    pub links: HashSet<Vec<Entity>>,
    pub anchors: Vec<Anchor>,
    pub years: Vec<i32>,
    pub boots: Vec<BootSample>,
}

impl ScanOutput {
    /// Appends the output of the buffer that follows this one.
    pub fn append(&mut self, mut next: ScanOutput) {
        let base = self.lines;
        for e in &mut next.events {
            e.line += base;
        }
        self.lines += next.lines;
        self.unparsed += next.unparsed;
        self.long_lines += next.long_lines;
        self.untimed += next.untimed;
        self.events.append(&mut next.events);
        self.links.extend(next.links);
        let room = MAX_TIME_SAMPLES.saturating_sub(self.anchors.len());
        self.anchors.extend(next.anchors.into_iter().take(room));
        let room = MAX_TIME_SAMPLES.saturating_sub(self.years.len());
        self.years.extend(next.years.into_iter().take(room));
        let room = MAX_TIME_SAMPLES.saturating_sub(self.boots.len());
        self.boots.extend(next.boots.into_iter().take(room));
    }
}

/// Scans a buffer of whole lines (the last may lack its newline) for the
/// patterns of `stage`, framing and counting every line.
pub fn scan(buf: &[u8], format: InputFormat, rules: &RuleSet, stage: Stage) -> ScanOutput {
    split_pieces(buf, PIECE)
        .par_iter()
        .map(|piece| scan_piece(piece, format, rules, stage))
        .collect::<Vec<_>>()
        .into_iter()
        .fold(ScanOutput::default(), |mut acc, next| {
            acc.append(next);
            acc
        })
}

/// Cuts `buf` into pieces of about `size` bytes that end on a newline.
pub fn split_pieces(buf: &[u8], size: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::with_capacity(buf.len() / size.max(1) + 1);
    let mut rest = buf;
    while rest.len() > size {
        let cut = memchr::memchr(b'\n', &rest[size..]).map_or(rest.len(), |i| size + i + 1);
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    pieces
}

/// The second pass over a buffer: the entity links on the lines that match
/// a [`Stage::Links`] pattern and mention one of the `mentions` containers.
/// Only those lines are looked at; nothing is counted.
pub fn scan_links(
    buf: &[u8],
    format: InputFormat,
    rules: &RuleSet,
    mentions: &Mentions,
) -> HashSet<Vec<Entity>> {
    split_pieces(buf, PIECE)
        .par_iter()
        .map(|piece| links_in_piece(piece, format, rules, mentions))
        .reduce(HashSet::new, |mut all, more| {
            all.extend(more);
            all
        })
}

fn links_in_piece(
    piece: &[u8],
    format: InputFormat,
    rules: &RuleSet,
    mentions: &Mentions,
) -> HashSet<Vec<Entity>> {
    let mut links = HashSet::new();
    let mut next_line = 0usize;
    for hit in rules.candidates(Stage::Links, piece) {
        if hit < next_line {
            continue;
        }
        let start = memchr::memrchr(b'\n', &piece[..hit]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &piece[hit..]).map_or(piece.len(), |i| hit + i);
        next_line = end + 1;
        let (line, _) = trim_line(&piece[start..end]);
        if !mentions.in_line(line) {
            continue;
        }
        if let Framed::Record(envelope) = format.frame(line) {
            let matches = rules.matches(Stage::Links, &envelope.message);
            links.extend(matches.iter().filter_map(link_of));
        }
    }
    links
}

/// The entities a link pattern's match joins, if it names at least two.
fn link_of(m: &Match<'_>) -> Option<Vec<Entity>> {
    let entities = entities_of(&m.entities);
    (entities.len() > 1).then_some(entities)
}

/// A line without its `\r`, cut to [`MAX_LINE`]; and whether it was cut.
fn trim_line(line: &[u8]) -> (&[u8], bool) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > MAX_LINE {
        (&line[..MAX_LINE], true)
    } else {
        (line, false)
    }
}

fn scan_piece(piece: &[u8], format: InputFormat, rules: &RuleSet, stage: Stage) -> ScanOutput {
    let mut out = ScanOutput::default();
    let mut hits = rules.candidates(stage, piece).peekable();
    let mut start = 0usize;
    while start < piece.len() {
        let end = memchr::memchr(b'\n', &piece[start..]).map_or(piece.len(), |i| start + i);
        let line_start = start;
        start = end + 1;
        // Hits before this line belong to lines already handled.
        while hits.next_if(|&h| h < line_start).is_some() {}
        let candidate = hits.peek().is_some_and(|&h| h < end);
        out.lines += 1;
        let (line, cut) = trim_line(&piece[line_start..end]);
        out.long_lines += u64::from(cut);
        let envelope = match format.frame(line) {
            Framed::Record(e) => e,
            Framed::Blank => continue,
            Framed::Unparsed => {
                out.unparsed += 1;
                continue;
            }
        };
        let sampling = out.lines as usize <= TIME_SAMPLE_LINES;
        if !candidate && !sampling {
            continue;
        }
        let matches = if candidate {
            rules.matches(stage, &envelope.message)
        } else {
            Vec::new()
        };
        let payload = parse_payload(&envelope.message);
        collect_time_samples(&mut out, &envelope, &payload);
        let Some(stamp) = Stamp::best(payload.stamp, envelope.stamp) else {
            out.untimed += u64::from(!matches.is_empty());
            continue;
        };
        for m in matches {
            if !rules.feeds_detector(m.pattern) {
                out.links.extend(link_of(&m));
                continue;
            }
            out.events.push(RawEvent {
                pattern: m.pattern,
                line: out.lines,
                stamp,
                level: payload.level,
                host: envelope
                    .host
                    .as_deref()
                    .map(|h| String::from_utf8_lossy(h).into_owned()),
                entities: entities_of(&m.entities),
                text: String::from_utf8_lossy(line).into_owned(),
            });
        }
    }
    out
}

/// Keeps what a line tells about the year, zone and boot time of its input.
fn collect_time_samples(out: &mut ScanOutput, envelope: &Envelope<'_>, payload: &Payload) {
    if out.anchors.len() < MAX_TIME_SAMPLES {
        if let (Some(Stamp::Local(local)), Some(Stamp::Absolute(absolute))) =
            (envelope.stamp, payload.stamp)
        {
            out.anchors.push(Anchor { local, absolute });
        }
    }
    if out.years.len() < MAX_TIME_SAMPLES {
        for stamp in [envelope.stamp, payload.stamp].into_iter().flatten() {
            if let Stamp::Local(PartialStamp { year: Some(y), .. }) = stamp {
                out.years.push(y);
            }
        }
    }
    if out.boots.len() < MAX_TIME_SAMPLES {
        // The journal gives both clocks in one record; a syslog `kernel:`
        // line gives the header time and dmesg's time since boot.
        let since_boot = match (envelope.since_boot, payload.stamp) {
            (Some(d), _) | (None, Some(Stamp::SinceBoot(d))) => Some(d),
            _ => None,
        };
        let at = envelope.stamp.filter(|s| !matches!(s, Stamp::SinceBoot(_)));
        if let (Some(at), Some(since_boot)) = (at, since_boot) {
            out.boots.push(BootSample { at, since_boot });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_end_on_newlines_and_cover_the_buffer() {
        let buf = b"aaaa\nbbbbbbbb\ncc\nd";
        for size in 1..buf.len() + 2 {
            let pieces = split_pieces(buf, size);
            assert_eq!(pieces.concat(), buf.to_vec(), "size {size}");
            for p in &pieces[..pieces.len() - 1] {
                assert_eq!(p.last(), Some(&b'\n'), "size {size}");
            }
        }
        assert!(split_pieces(b"", 4).is_empty());
    }
}
