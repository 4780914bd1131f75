//! The hot loop: frame every record of a buffer, prefilter it, and turn the
//! few records that match a pattern into [`RawEvent`]s and entity links.
//!
//! A file is read twice: [`scan`] frames and counts every record and keeps
//! those of detector patterns; [`scan_links`] then visits only the records
//! of link patterns that mention a container a finding named. Input that can
//! be read once (stdin, archives) is scanned for both at once
//! ([`Stage::All`]).
//!
//! Records are lines, except in the journal's export, verbose and
//! json-pretty forms, where an entry spans many lines ([`Framing`]).
//!
//! Nothing that looks like a failure is dropped for want of an envelope: a
//! line no format reads is counted `unparsed`, and when it holds a grammar
//! literal it is still matched, from the positions where its message may
//! start, with any time it holds ([`format::unframed`]); a match counts as
//! `unframed` ("matched without envelope"). A record whose message was
//! decoded (a journal JSON `MESSAGE` given as an array of bytes) is
//! prefiltered on the decoded message, not on the raw line. A buffer of lines is cut into pieces on
//! line boundaries and the pieces are scanned in parallel (rayon); their
//! outputs are concatenated in order, so results do not depend on the
//! number of threads. Nothing here knows about files, time zones or
//! detectors: line numbers are relative to the buffer, and timestamps stay
//! as the record printed them.

mod texts;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use rayon::prelude::*;

use crate::entity::{entities_of, Entity, EntitySet, Mentions, Names};
use crate::thin::Thin;
pub use texts::{TextRef, Texts};

use crate::format::{
    self, parse_payload, unframed, EntryFormat, Envelope, Framed, InputFormat, Level,
};
use crate::matcher::{Match, RuleSet, Stage};
use crate::time::{Anchor, BootSample, PartialStamp, Stamp, TimeSamples};

/// Lines longer than this are matched on their first `MAX_LINE` bytes only.
pub const MAX_LINE: usize = 64 * 1024;
/// Pieces a buffer is cut into for parallel scanning.
const PIECE: usize = 4 * 1024 * 1024;
/// Records at the start of each piece whose payload time is sampled for time
/// inference even when they match no pattern.
const TIME_SAMPLE_LINES: u64 = 64;

/// How an input is cut into records.
// A line input carries its learned prefix inline (a few hundred bytes) so
// that framing stays `Copy`: it is decided once per input and copied once
// per buffer, never per line.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// One record per line, in a line format (possibly mixed).
    Lines(InputFormat),
    /// `journalctl -o export`, `verbose`, `json-pretty`: one record per
    /// entry.
    Entries(EntryFormat),
    /// Kubernetes objects or kubectl output, read whole by
    /// [`cluster`](crate::cluster), never framed here.
    Cluster(crate::cluster::Form),
}

impl Framing {
    /// Decides from the first bytes of an input.
    pub fn detect(sample: &[u8]) -> Framing {
        match EntryFormat::detect(sample) {
            Some(entries) => Framing::Entries(entries),
            None => Framing::Lines(format::detect(sample)),
        }
    }

    /// [`Framing::detect`], also recognizing kernel messages without time
    /// by the grammar's kernel patterns (`dmesg -t`).
    pub fn detect_with_rules(sample: &[u8], rules: &RuleSet) -> Framing {
        if let Some(entries) = EntryFormat::detect(sample) {
            return Framing::Entries(entries);
        }
        let is_kernel = |msg: &[u8]| {
            rules
                .matches(Stage::Findings, msg)
                .iter()
                .any(|m| rules.grammar.patterns[m.pattern].source == "kernel")
        };
        Framing::Lines(format::detect_with(sample, &is_kernel))
    }

    pub fn name(self) -> &'static str {
        match self {
            Framing::Lines(format) => format.name(),
            Framing::Entries(entries) => entries.name(),
            Framing::Cluster(form) => form.name(),
        }
    }

    /// What was inferred besides the format (`grep -n prefix stripped`).
    pub fn notes(self) -> Vec<&'static str> {
        match self {
            Framing::Lines(format) => format.notes(),
            Framing::Entries(_) | Framing::Cluster(_) => Vec::new(),
        }
    }
}

/// A matched record of a pattern that some detector uses. It holds no text
/// of its own (its line is in [`ScanOutput::texts`], its message only as a
/// hash) and shares its host and entity set with the other events that
/// name the same: a log whose every line matches costs about a hundred
/// bytes a line, not its text twice over.
#[derive(Clone, Debug)]
pub struct RawEvent {
    pub pattern: usize,
    /// 1-based line where the record starts, relative to the scanned buffer
    /// until [`ScanOutput::append`] offsets it.
    pub line: u64,
    /// The line's time, if it gives one; an event without one is still
    /// analyzed, on its input's axis of lines.
    pub stamp: Option<Stamp>,
    pub level: Option<Level>,
    pub host: Option<Thin<str>>,
    pub entities: EntitySet,
    /// A hash of what the program wrote: the same in every envelope, so the
    /// same event read from two collections of one node's logs is
    /// recognized.
    pub message_hash: u64,
    /// The whole line, for evidence, in [`ScanOutput::texts`].
    pub text: TextRef,
    /// The messages that continued it (a pattern's `continuation`: the
    /// call trace after a hung-task report).
    pub context: Context,
    /// How many occurrences it stands for: its pattern's `count` capture,
    /// else 1 (a count past `u32::MAX` stays there).
    pub weight: u32,
}

/// The lines that continued an event: almost always none, so an empty one
/// is a null pointer (8 bytes an event, where a `Vec` takes 24: a log
/// whose every line matches holds millions of events).
#[derive(Clone, Debug, Default)]
// The box is the point: a thin pointer, where `Vec` is three words.
#[allow(clippy::box_collection)]
pub struct Context(Option<Box<Vec<String>>>);

impl Context {
    pub fn push(&mut self, line: String) {
        self.0.get_or_insert_with(Box::default).push(line);
    }

    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |lines| lines.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.as_deref().map_or([].iter(), |lines| lines.iter())
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.iter().cloned().collect()
    }
}

/// A line of a `resolves` pattern (a pod's failure over) or of one that a
/// sequence rule judges other lines by (a task deleted, a stop asked for):
/// only its pattern, time and entities are kept, since a node writes such
/// lines for every container that stops normally.
#[derive(Clone, Debug)]
pub struct Mark {
    pub pattern: u32,
    pub line: u64,
    pub stamp: Option<Stamp>,
    pub entities: EntitySet,
}

/// What scanning a buffer produced.
#[derive(Debug, Default)]
pub struct ScanOutput {
    pub lines: u64,
    pub unparsed: u64,
    /// Unparsed lines that a pattern matched all the same ("matched
    /// without envelope"); counted in `unparsed` too.
    pub unframed: u64,
    /// Lines longer than [`MAX_LINE`].
    pub long_lines: u64,
    /// The events of the buffer being scanned; see [`ScanOutput::events`].
    events: Vec<RawEvent>,
    /// The events of the buffers appended, a chunk per buffer: freed chunk
    /// by chunk as they are placed in time, never all copied at once.
    chunks: Vec<Vec<RawEvent>>,
    /// The lines of the events.
    pub texts: Texts,
    pub marks: Vec<Mark>,
    /// The entities of the lines that show a container or sandbox started
    /// or ended (a pattern's `life`).
    pub lifecycle: Vec<(crate::grammar::Life, EntitySet)>,
    /// Distinct sets of entities that one record named together.
    pub links: HashSet<EntitySet>,
    pub time: TimeSamples,
    /// Hosts named by envelopes (a handful per input).
    pub hosts: Vec<String>,
    /// Component versions the input states (`dockerd … version=19.03.15`).
    pub versions: Vec<VersionFact>,
    /// The first and last stamp of the input, with their lines.
    pub first: Option<(u64, Stamp)>,
    pub last: Option<(u64, Stamp)>,
    /// The event whose continuation lines are being gathered.
    open: Option<OpenContext>,
    /// One shared copy of each host and entity set the events name.
    shared: Shared,
    /// The last mark of each (detector, subject) a sequence rule judges
    /// by, in the buffer being scanned: a routine line right after its mark
    /// becomes no event (see [`ScanOutput::routine`]). Dropped with the
    /// buffer, so it holds at most a buffer's subjects.
    recent: HashMap<(usize, Entity), (Stamp, usize)>,
    /// The detectors whose sequence rules saw a mark here, spent or kept:
    /// their rule can judge lines only where the logs show such marks at
    /// all (a containerd log read without dockerd's shows no task delete).
    pub judged: Vec<usize>,
}

/// The pattern of a mark whose work is done: it made a routine line in its
/// own buffer no event, and nothing else reads it (dropped when the buffer
/// ends). A node ends a container a minute; its marks would otherwise
/// be kept for the whole run.
const SPENT: u32 = u32::MAX;

/// Hosts, entity values and entity sets, each allocated once per input.
#[derive(Debug, Default)]
struct Shared {
    hosts: HashSet<Thin<str>>,
    names: Names,
    sets: HashSet<EntitySet>,
}

impl Shared {
    fn host(&mut self, host: &str) -> Thin<str> {
        if let Some(known) = self.hosts.get(host) {
            return known.clone();
        }
        let new = Thin::from(host);
        self.hosts.insert(new.clone());
        new
    }

    fn set(&mut self, entities: &[Entity]) -> EntitySet {
        if let Some(known) = self.sets.get(entities) {
            return known.clone();
        }
        let new: EntitySet = entities.iter().map(|e| self.names.entity(e)).collect();
        self.sets.insert(new.clone());
        new
    }
}

/// An event that may go on over the next records of its program.
#[derive(Debug)]
struct OpenContext {
    /// Index into [`ScanOutput::events`].
    event: usize,
    host: Option<Vec<u8>>,
    program: Option<Vec<u8>>,
    /// Records of other programs seen since (syslog interleaves them).
    passed: usize,
}

/// Raw events per chunk of [`ScanOutput`] (see [`ScanOutput::add_chunk`]).
const CHUNK_EVENTS: usize = 1 << 18;

/// Continuation lines kept per event.
const MAX_CONTEXT: usize = 32;
/// Other programs' records that may come between two continuation lines.
const MAX_INTERLEAVED: usize = 64;

/// A component version stated by a log line, on a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionFact {
    /// The version pattern that read it (its `component` names the thing).
    pub pattern: usize,
    pub host: Option<String>,
    pub version: String,
}

/// Distinct hosts kept per input.
const MAX_HOSTS: usize = 16;

impl ScanOutput {
    /// Appends the output of the buffer that follows this one.
    pub fn append(&mut self, mut next: ScanOutput) {
        let base = self.lines;
        let text_base = self.texts.append(std::mem::take(&mut next.texts));
        for e in next.chunks.iter_mut().flatten().chain(&mut next.events) {
            e.line += base;
            e.text = e.text.after(text_base);
            e.host = e.host.as_deref().map(|h| self.shared.host(h));
            e.entities = self.shared.set(&e.entities);
        }
        for r in &mut next.marks {
            r.line += base;
            r.entities = self.shared.set(&r.entities);
        }
        self.marks.append(&mut next.marks);
        for (_, entities) in &mut next.lifecycle {
            *entities = self.shared.set(entities);
        }
        self.lifecycle.append(&mut next.lifecycle);
        for d in std::mem::take(&mut next.judged) {
            if !self.judged.contains(&d) {
                self.judged.push(d);
            }
        }
        self.lines += next.lines;
        self.unparsed += next.unparsed;
        self.unframed += next.unframed;
        self.long_lines += next.long_lines;
        self.seal();
        next.seal();
        for chunk in next.chunks {
            self.add_chunk(chunk);
        }
        for link in next.links {
            let shared = self.shared.set(&link[..]);
            self.links.insert(shared);
        }
        self.time.append(next.time, base);
        for v in next.versions {
            self.note_version(v);
        }
        for host in next.hosts {
            self.note_host(host.as_bytes());
        }
        let shift = |(line, stamp): (u64, Stamp)| (line + base, stamp);
        self.first = self.first.or(next.first.map(shift));
        self.last = next.last.map(shift).or(self.last);
    }

    /// Every event, in line order.
    pub fn events(&self) -> impl Iterator<Item = &RawEvent> {
        self.chunks.iter().flatten().chain(&self.events)
    }

    /// Every event, in line order, to rewrite in place (the records
    /// [`cluster`](crate::cluster) scans point back at their input's lines).
    pub fn events_mut(&mut self) -> impl Iterator<Item = &mut RawEvent> {
        self.chunks.iter_mut().flatten().chain(&mut self.events)
    }

    /// Takes the events out, in line order, chunk by chunk.
    pub fn take_events(&mut self) -> Vec<Vec<RawEvent>> {
        self.seal();
        self.open = None;
        std::mem::take(&mut self.chunks)
    }

    /// Closes the chunk being scanned (an event still gathering its
    /// continuation lines cannot be in a closed chunk: nothing continues
    /// across buffers).
    fn seal(&mut self) {
        if !self.events.is_empty() {
            self.open = None;
            let events = std::mem::take(&mut self.events);
            self.add_chunk(events);
        }
    }

    /// Adds events to the last chunk until it holds [`CHUNK_EVENTS`]. A
    /// full chunk (about 36 MB) is above the C allocator's largest mmap
    /// threshold, so it is its own mapping and goes back to the OS when
    /// it is freed; chunks of one scanned piece each (under 4 MB) would
    /// stay in the allocator's heap after being freed, and a log whose
    /// every line matches would hold its events twice while placing them.
    fn add_chunk(&mut self, events: Vec<RawEvent>) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK_EVENTS => last.extend(events),
            _ if events.is_empty() => {}
            _ => self.chunks.push(events),
        }
    }

    /// Drops what only the buffer just scanned needed: the marks spent on
    /// its routine lines, and the last mark of each subject. The pieces of
    /// a file wait for each other before they are appended, so this is done
    /// as each ends.
    fn end_buffer(&mut self) {
        self.marks.retain(|m| m.pattern != SPENT);
        self.recent = HashMap::new();
    }

    /// Keeps the entities `m` names together, as one shared set.
    fn link(&mut self, m: &Match<'_>, host: Option<&str>) {
        if let Some(link) = link_of(m, host) {
            let shared = self.shared.set(&link);
            self.links.insert(shared);
        }
    }

    fn note_version(&mut self, fact: VersionFact) {
        if !self.versions.contains(&fact) {
            self.versions.push(fact);
        }
    }

    fn note_host(&mut self, host: &[u8]) {
        if self.hosts.len() < MAX_HOSTS && !self.hosts.iter().any(|h| h.as_bytes() == host) {
            self.hosts.push(String::from_utf8_lossy(host).into_owned());
        }
    }

    /// Takes one framed record: time samples always; events and links when
    /// it is a `candidate` (its text holds a literal of `stage`).
    fn take(
        &mut self,
        rules: &RuleSet,
        stage: Stage,
        envelope: &Envelope<'_>,
        line: u64,
        text: &[u8],
        candidate: bool,
    ) {
        // A decoded message (journal JSON's array of bytes, escapes) may
        // hold a literal the raw text does not show.
        let candidate = candidate
            || (matches!(envelope.message, Cow::Owned(_))
                && rules.candidates(stage, &envelope.message).next().is_some());
        if self.open.is_some() {
            self.continue_context(rules, envelope);
        }
        if let Some(Stamp::Local(header)) = envelope.stamp {
            self.time.header(line, header);
            // A dated reading may print its zone's abbreviation (time/learn.rs).
            if header.year.is_some() && line <= TIME_SAMPLE_LINES {
                if let Some(name) = crate::format::journal_full::abbreviation(text) {
                    self.time.abbreviation(header, name);
                }
            }
        }
        if self.first.is_none() {
            self.first = stamp_of(envelope).map(|stamp| (line, stamp));
        }
        if let Some(host) = envelope.host.as_deref() {
            if self.hosts.len() < MAX_HOSTS {
                self.note_host(host);
            }
        }
        let sampling = line <= TIME_SAMPLE_LINES;
        if !candidate && !sampling {
            return;
        }
        let matches = if candidate {
            rules.matches(stage, &envelope.message)
        } else {
            Vec::new()
        };
        let payload = parse_payload(&envelope.message);
        self.sample_time(line, envelope, payload.stamp);
        let stamp = Stamp::best(payload.stamp, envelope.stamp);
        let host: Option<Cow<'_, str>> = envelope.host.as_deref().map(String::from_utf8_lossy);
        for m in matches {
            if let (Some(version), Some(_)) =
                (m.version, &rules.grammar.patterns[m.pattern].component)
            {
                self.note_version(VersionFact {
                    pattern: m.pattern,
                    host: host.as_deref().map(String::from),
                    version: version.to_string(),
                });
                continue;
            }
            let pattern = &rules.grammar.patterns[m.pattern];
            if let Some(life) = pattern.life {
                let entities = self.shared.set(&entities_of(&m.entities, host.as_deref()));
                self.lifecycle.push((life, entities));
                if !pattern.resolves {
                    self.link(&m, host.as_deref());
                    continue;
                }
            }
            if !rules.feeds_detector(m.pattern) {
                self.link(&m, host.as_deref());
                continue;
            }
            let precedes = rules.precedes(m.pattern);
            let resolves = rules.grammar.patterns[m.pattern].resolves;
            if resolves || !precedes.is_empty() {
                self.link(&m, host.as_deref());
                // A mark only a sequence rule reads is spent within its
                // buffer, nearly always: its set is not shared until it
                // is kept (append).
                let named = entities_of(&m.entities, host.as_deref());
                let entities = if resolves {
                    self.shared.set(&named)
                } else {
                    EntitySet::from(named)
                };
                for &d in precedes {
                    if !self.judged.contains(&d) {
                        self.judged.push(d);
                    }
                    let subject = scan_subject(&rules.grammar.detectors[d].per, &entities);
                    if let (Some(subject), Some(stamp)) = (subject, stamp) {
                        self.recent.insert((d, subject), (stamp, self.marks.len()));
                    }
                }
                self.marks.push(Mark {
                    pattern: m.pattern as u32,
                    line,
                    stamp,
                    entities,
                });
                continue;
            }
            if let Some(mark) = self.routine(rules, &m, stamp, host.as_deref()) {
                // Its mark served the one line it was for, unless it also
                // ends an incident or another rule reads it.
                let pattern = self.marks[mark].pattern as usize;
                if !rules.grammar.patterns[pattern].resolves && rules.precedes(pattern).len() == 1 {
                    self.marks[mark].pattern = SPENT;
                }
                continue;
            }
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            envelope.message.hash(&mut hasher);
            let event = RawEvent {
                pattern: m.pattern,
                line,
                stamp,
                level: payload.level,
                entities: self.shared.set(&entities_of(&m.entities, host.as_deref())),
                host: host.as_deref().map(|h| self.shared.host(h)),
                message_hash: hasher.finish(),
                text: self.texts.push(text),
                context: Context::default(),
                weight: m
                    .count
                    .map_or(1, |c| u32::try_from(c).unwrap_or(u32::MAX).max(1)),
            };
            self.events.push(event);
            if rules.grammar.patterns[m.pattern].continuation.is_some() {
                self.open = Some(OpenContext {
                    event: self.events.len() - 1,
                    host: envelope.host.as_deref().map(<[u8]>::to_vec),
                    program: envelope.program.as_deref().map(<[u8]>::to_vec),
                    passed: 0,
                });
            }
        }
    }

    /// Whether `m` is a routine line its sequence rule can judge here: the
    /// index of the mark for its subject that came earlier in this buffer,
    /// within the rule's window. Such a line (a shim that disconnects right after its task
    /// was deleted: one per container that ends) is a state transition, not
    /// an event; any other line of the pattern is kept and judged with
    /// every input's marks when detecting ([`crate::detect`]).
    fn routine(
        &self,
        rules: &RuleSet,
        m: &Match<'_>,
        stamp: Option<Stamp>,
        host: Option<&str>,
    ) -> Option<usize> {
        let d = rules.routine_rule(m.pattern)?;
        let detector = &rules.grammar.detectors[d];
        let rule = detector.routine_after.as_ref()?;
        let subject = scan_subject(&detector.per, &entities_of(&m.entities, host))?;
        let (at, mark) = self.recent.get(&(d, subject))?;
        let ms = stamp?.millis_since(at)?;
        (0..=rule.within_s.saturating_mul(1000))
            .contains(&ms)
            .then_some(*mark)
    }

    /// Matches a line no format reads, as [`format::unframed`] says: from
    /// the first position where a pattern matches, with any time the line
    /// holds.
    fn take_unframed(&mut self, rules: &RuleSet, stage: Stage, line: u64, text: &[u8]) {
        // A message starts before the literals it holds.
        let last_literal = rules.candidates(stage, text).last().unwrap_or(0);
        let Some(start) = unframed::message_starts(text)
            .take_while(|&s| s <= last_literal)
            .find(|&s| !rules.matches(stage, &text[s..]).is_empty())
        else {
            return;
        };
        let envelope = Envelope {
            stamp: unframed::stamp_in(text),
            ..Envelope::bare(&text[start..])
        };
        self.unframed += 1;
        self.take(rules, stage, &envelope, line, text, true);
    }

    /// Adds `envelope`'s message to the open event's context when it
    /// continues that event's report. A record of the same program that
    /// does not, ends the report; other programs' records are passed over.
    fn continue_context(&mut self, rules: &RuleSet, envelope: &Envelope<'_>) {
        let Some(open) = &mut self.open else {
            return;
        };
        let same_source = envelope.host.as_deref() == open.host.as_deref()
            && envelope.program.as_deref() == open.program.as_deref();
        if !same_source {
            open.passed += 1;
            if open.passed > MAX_INTERLEAVED {
                self.open = None;
            }
            return;
        }
        let event = &mut self.events[open.event];
        let continues = rules.grammar.patterns[event.pattern]
            .continuation
            .as_ref()
            .is_some_and(|c| c.is_match(&envelope.message));
        if continues && event.context.len() < MAX_CONTEXT {
            let message = String::from_utf8_lossy(&envelope.message);
            event.context.push(message.trim().to_string());
        } else {
            self.open = None;
        }
    }

    /// Keeps what a record tells about the year, zone and boot time.
    fn sample_time(&mut self, line: u64, envelope: &Envelope<'_>, payload: Option<Stamp>) {
        // A local reading beside an absolute one, whichever carries which:
        // a syslog header over a logrus time, a journal time over klog's.
        match (envelope.stamp, payload) {
            (Some(Stamp::Local(local)), Some(Stamp::Absolute(absolute)))
            | (Some(Stamp::Absolute(absolute)), Some(Stamp::Local(local))) => {
                self.time.anchor(Anchor {
                    line,
                    local,
                    absolute,
                });
            }
            _ => {}
        }
        if let Some(Stamp::Absolute(t)) = payload {
            self.time.offset(t.offset().local_minus_utc());
        }
        if let Some(Stamp::Absolute(t)) = envelope.stamp {
            self.time.envelope_offset(t);
        }
        for stamp in [envelope.stamp, payload].into_iter().flatten() {
            if let Stamp::Local(PartialStamp { year: Some(y), .. }) = stamp {
                self.time.year(line, y);
            }
        }
        // The journal gives both clocks in one record; a syslog `kernel:`
        // line gives the header time and dmesg's time since boot.
        let since_boot = match (envelope.since_boot, payload) {
            (Some(d), _) | (None, Some(Stamp::SinceBoot(d))) => Some(d),
            _ => None,
        };
        let at = envelope.stamp.filter(|s| !matches!(s, Stamp::SinceBoot(_)));
        if let (Some(at), Some(since_boot)) = (at, since_boot) {
            self.time.boot(BootSample {
                line,
                at,
                since_boot,
            });
        }
    }
}

/// The subject a detector counting `per` would count a line naming
/// `entities` under, as far as the line alone tells (no pod index, no
/// host): a sequence rule's mark and line meet on it within one buffer.
fn scan_subject(per: &[crate::entity::Role], entities: &[Entity]) -> Option<Entity> {
    per.iter()
        .find_map(|&role| entities.iter().find(|e| e.value_for(role).is_some()))
        .cloned()
}

/// Scans a buffer of whole records (the last may lack its newline) for the
/// patterns of `stage`, framing and counting every record.
pub fn scan(buf: &[u8], framing: Framing, rules: &RuleSet, stage: Stage) -> ScanOutput {
    match framing {
        Framing::Lines(format) => split_pieces(buf, PIECE)
            .par_iter()
            .map(|piece| scan_piece(piece, format, rules, stage))
            .collect::<Vec<_>>()
            .into_iter()
            .fold(ScanOutput::default(), |mut acc, next| {
                acc.append(next);
                acc
            }),
        Framing::Entries(entries) => scan_entries(buf, entries, rules, stage),
        Framing::Cluster(_) => ScanOutput::default(),
    }
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

fn scan_piece(piece: &[u8], format: InputFormat, rules: &RuleSet, stage: Stage) -> ScanOutput {
    let mut out = ScanOutput::default();
    let mut hits = rules.candidates(stage, piece).peekable();
    let mut last_record: Option<(u64, Cow<'_, [u8]>)> = None;
    // Records a terminal wrapped, or written on two lines, come back whole
    // (format::wrap).
    let wrapped = format.wrap();
    for whole in format::wrap::lines(piece, wrapped, format::is_header, |l| format.is_record(l)) {
        // Hits before this line belong to lines already handled.
        while hits.next_if(|&h| h < whole.start).is_some() {}
        let candidate = hits.peek().is_some_and(|&h| h < whole.end);
        let number = out.lines + 1;
        out.lines += whole.physical;
        let (line, cut) = trim_line(&whole.text);
        out.long_lines += u64::from(cut);
        match format.frame(line) {
            Framed::Record(envelope) => {
                out.take(rules, stage, &envelope, number, line, candidate);
                last_record = Some((number, whole.text));
            }
            Framed::Blank => {}
            Framed::Unparsed => {
                out.unparsed += 1;
                if candidate {
                    out.take_unframed(rules, stage, number, line);
                }
            }
        }
    }
    // The last time is read once per piece, not on every line.
    out.last = last_record.and_then(|(n, line)| match format.frame(trim_line(&line).0) {
        Framed::Record(envelope) => stamp_of(&envelope).map(|stamp| (n, stamp)),
        _ => None,
    });
    out.end_buffer();
    out
}

/// When a record was written, by the program's payload or its envelope.
fn stamp_of(envelope: &Envelope<'_>) -> Option<Stamp> {
    Stamp::best(parse_payload(&envelope.message).stamp, envelope.stamp)
}

/// A format of many-line entries, entry by entry (sequentially: an export
/// entry's binary fields may hold blank lines, so the buffer cannot be cut
/// blindly).
fn scan_entries(buf: &[u8], format: EntryFormat, rules: &RuleSet, stage: Stage) -> ScanOutput {
    let mut out = ScanOutput::default();
    for entry in format.entries(buf) {
        let line = out.lines + 1;
        out.lines += entry.lines;
        let Some(envelope) = entry.envelope else {
            out.unparsed += 1;
            continue;
        };
        let candidate = rules.candidates(stage, &envelope.message).next().is_some();
        let message = envelope.message.clone();
        out.take(rules, stage, &envelope, line, &message, candidate);
        out.last = stamp_of(&envelope).map(|stamp| (line, stamp)).or(out.last);
    }
    out.end_buffer();
    out
}

/// The second pass over a buffer: the entity links on the records that
/// match a [`Stage::Links`] pattern and mention one of the `mentions`
/// containers. Only those records are looked at; nothing is counted.
pub fn scan_links(
    buf: &[u8],
    framing: Framing,
    rules: &RuleSet,
    mentions: &Mentions,
) -> HashSet<EntitySet> {
    later_pass(buf, framing, rules, |envelope, host| {
        if !mentions.in_line(&envelope.message) {
            return Vec::new();
        }
        let matches = rules.matches(Stage::Links, &envelope.message);
        matches.iter().filter_map(|m| link_of(m, host)).collect()
    })
    .into_iter()
    .collect()
}

/// The lifecycle pass over a buffer: what the records that match a
/// lifecycle pattern (a pattern's `life`) say started or ended, with the
/// entities they name, in order. Only node state judged on the logs needs
/// it (state/life.rs).
pub fn scan_lifecycle(
    buf: &[u8],
    framing: Framing,
    rules: &RuleSet,
) -> Vec<(crate::grammar::Life, EntitySet)> {
    later_pass(buf, framing, rules, |envelope, host| {
        let matches = rules.matches(Stage::Links, &envelope.message);
        matches
            .iter()
            .filter_map(|m| {
                let life = rules.grammar.patterns[m.pattern].life?;
                Some((life, EntitySet::from(entities_of(&m.entities, host))))
            })
            .collect()
    })
}

/// A pass after the first: what `found` takes from each record (with its
/// host) that holds a literal of a [`Stage::Links`] pattern, in order.
/// Nothing is counted: the first pass did.
fn later_pass<T: Send>(
    buf: &[u8],
    framing: Framing,
    rules: &RuleSet,
    found: impl Fn(&Envelope<'_>, Option<&str>) -> Vec<T> + Sync,
) -> Vec<T> {
    let found = |envelope: &Envelope<'_>| {
        let host = envelope.host.as_deref().map(String::from_utf8_lossy);
        found(envelope, host.as_deref())
    };
    match framing {
        Framing::Lines(format) => split_pieces(buf, PIECE)
            .par_iter()
            .flat_map_iter(|piece| {
                candidate_lines(piece, rules)
                    .filter_map(|line| match format.frame(line) {
                        Framed::Record(envelope) => Some(found(&envelope)),
                        _ => None,
                    })
                    .flatten()
                    .collect::<Vec<T>>()
            })
            .collect(),
        Framing::Entries(entries) => entries
            .entries(buf)
            .filter_map(|entry| entry.envelope)
            .flat_map(|envelope| found(&envelope))
            .collect(),
        Framing::Cluster(_) => Vec::new(),
    }
}

/// The lines of `piece` that hold a literal of a link pattern.
fn candidate_lines<'p>(piece: &'p [u8], rules: &'p RuleSet) -> impl Iterator<Item = &'p [u8]> + 'p {
    let mut next_line = 0usize;
    rules
        .candidates(Stage::Links, piece)
        .filter_map(move |hit| {
            if hit < next_line {
                return None;
            }
            let start = memchr::memrchr(b'\n', &piece[..hit]).map_or(0, |i| i + 1);
            let end = memchr::memchr(b'\n', &piece[hit..]).map_or(piece.len(), |i| hit + i);
            next_line = end + 1;
            Some(trim_line(&piece[start..end]).0)
        })
}

/// The entities a link pattern's match joins, if it names at least two.
fn link_of(m: &Match<'_>, host: Option<&str>) -> Option<EntitySet> {
    let entities = entities_of(&m.entities, host);
    (entities.len() > 1).then(|| entities.into())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// kubelet's PLEG `ContainerDied` (one per container that ends) is
    /// routine: a file's first pass keeps nothing of it, not even a link
    /// (memory would grow with every container the node ever ran); the
    /// lifecycle pass and stdin's single pass read it.
    #[test]
    fn lifecycle_lines_wait_for_the_pass_that_needs_them() {
        let rules = RuleSet::new(crate::grammar::Grammar::builtin().unwrap());
        // Real: longhorn/longhorn#3481 (kubelet 1.21 on EKS).
        let line: &[u8] = b"Jan 10 23:27:04 ip-10-9-57-91 kubelet: I0110 23:27:04.156926    3395 kubelet.go:1973] \"SyncLoop (PLEG): event for pod\" pod=\"longhorn-system/longhorn-ui-6f547c964-66km6\" event=&{ID:48114faa-a07b-4299-9f86-7616f50ca876 Type:ContainerDied Data:b74987752e764941d23a80e51ace957ae0839ea4b3969a6bb6eeb1fad317a58c}\n";
        let framing = Framing::detect(line);
        let first = scan(line, framing, &rules, Stage::Findings);
        assert!(first.lifecycle.is_empty() && first.links.is_empty());
        let id = "b74987752e764941d23a80e51ace957ae0839ea4b3969a6bb6eeb1fad317a58c";
        let ended = |lines: &[(crate::grammar::Life, EntitySet)]| {
            lines.iter().any(|(life, set)| {
                *life == crate::grammar::Life::Ended && set.contains(&Entity::Container(id.into()))
            })
        };
        assert!(ended(&scan_lifecycle(line, framing, &rules)));
        let single = scan(line, framing, &rules, Stage::All);
        assert!(ended(&single.lifecycle));
        assert_eq!(single.links.len(), 1);
    }

    /// A shim that disconnects right after dockerd saw its task deleted is
    /// a state transition, no event; one that disconnects with no mark
    /// before it stays an event, judged later with every input's marks.
    #[test]
    fn a_routine_line_after_its_mark_becomes_no_event() {
        let rules = RuleSet::new(crate::grammar::Grammar::builtin().unwrap());
        // Real: containerd/containerd PR 11815 (indentation dropped), then
        // the disconnect of containerd#6402 (time prefix restored).
        let log: &[u8] = b"INFO[2025-05-07T08:57:56.576773500Z] ignoring event                                container=589c33c88591a9936cb8fd64453e4b0c1357ae2f79d975c34645ff8f0aa10485 module=libcontainerd namespace=moby topic=/tasks/delete type=\"*events.TaskDelete\"
INFO[2025-05-07T08:57:56.576938958Z] shim disconnected                             id=589c33c88591a9936cb8fd64453e4b0c1357ae2f79d975c34645ff8f0aa10485 namespace=moby
INFO[2025-05-07T09:04:01.309515034Z] shim disconnected                             id=6ce9d405aaae9dfae615d0810ba46b4726c60607dd940233fe824b651158372e
";
        let out = scan(log, Framing::detect(log), &rules, Stage::Findings);
        let disconnect = rules
            .grammar
            .patterns
            .iter()
            .position(|p| p.id == "containerd.shim_disconnected")
            .unwrap();
        let events: Vec<u64> = out
            .events()
            .filter(|e| e.pattern == disconnect)
            .map(|e| e.line)
            .collect();
        assert_eq!(events, [3]);
        // The task delete made its disconnect routine: nothing keeps it.
        assert!(out.marks.is_empty());
    }

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
