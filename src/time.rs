//! Time without a clock: turns the partial timestamps that log headers print
//! (no year, no zone) into absolute instants.
//!
//! Parsers only record what a line says ([`Stamp`]); after a whole input has
//! been read, [`TimeContext::infer`] decides one year and one UTC offset for
//! it from the lines that do carry both (logrus `time="…+08:00"`), from lines
//! that carry a year (Calico CNI), or else from a fallback the caller supplies
//! (the file's mtime in the local zone). Nothing here reads the system clock,
//! so results depend only on the input and the options.

use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

pub mod api;
pub mod learn;
pub mod stated;
mod tzif;
mod zone;
pub use zone::Zone;

/// A wall-clock reading as a log line prints it: the year may be missing and
/// the zone always is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartialStamp {
    pub year: Option<i32>,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

impl PartialStamp {
    /// A reading from its date parts and a clock `(hour, minute, second,
    /// nanos)` as [`lex::clock`](crate::format) returns it.
    pub fn new(
        year: Option<i32>,
        month: u32,
        day: u32,
        clock: (u32, u32, u32, u32),
    ) -> PartialStamp {
        let (hour, minute, second, nanos) = clock;
        PartialStamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
        }
    }

    /// The local date-time in `year` (the stamp's own year wins), or `None`
    /// for an impossible date such as Feb 30.
    fn naive_in(&self, year: i32) -> Option<NaiveDateTime> {
        NaiveDate::from_ymd_opt(self.year.unwrap_or(year), self.month, self.day)?.and_hms_nano_opt(
            self.hour,
            self.minute,
            self.second,
            self.nanos,
        )
    }
}

/// What a line says about when it was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// A complete instant with its offset (logrus `time=`, RFC 3339).
    Absolute(DateTime<FixedOffset>),
    /// A local reading that needs the input's [`TimeContext`].
    Local(PartialStamp),
    /// Time since the kernel booted (`dmesg`'s `[  123.456789]`): needs the
    /// boot time.
    SinceBoot(Duration),
    /// Time since the writing process started (logrus on a terminal,
    /// `INFO[0042]`): no log says when that was.
    SinceStart(Duration),
}

impl Stamp {
    /// The time of a record from what its payload and its envelope say: the
    /// payload's, which is the program's own reading (syslog and journald
    /// stamp a line when they receive it), unless it is only time since boot
    /// and the envelope has a wall-clock time. Reading the program's own time
    /// whatever the envelope is what makes one event read from the journal
    /// and from /var/log/messages the same event.
    pub fn best(payload: Option<Stamp>, envelope: Option<Stamp>) -> Option<Stamp> {
        match (payload, envelope) {
            (Some(p), Some(wall)) if p.is_relative() && !wall.is_relative() => Some(wall),
            (p, e) => p.or(e),
        }
    }

    /// Whether it counts from an event of the node (boot, process start)
    /// rather than reading a wall clock.
    pub fn is_relative(self) -> bool {
        matches!(self, Stamp::SinceBoot(_) | Stamp::SinceStart(_))
    }

    /// Milliseconds from `earlier` to `self` as read, before any time
    /// context: two readings of one kind (and, for local ones, both with or
    /// both without a year) are on one clock. `None` otherwise, or for an
    /// impossible date.
    pub fn millis_since(&self, earlier: &Stamp) -> Option<i64> {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        match (self, earlier) {
            (Stamp::Absolute(a), Stamp::Absolute(b)) => {
                Some(a.signed_duration_since(*b).num_milliseconds())
            }
            (Stamp::Local(a), Stamp::Local(b)) if a.year.is_some() == b.year.is_some() => {
                // A leap year, so that Feb 29 of a yearless reading exists.
                let (a, b) = (a.naive_in(2000)?, b.naive_in(2000)?);
                Some(a.signed_duration_since(b).num_milliseconds())
            }
            (Stamp::SinceBoot(a), Stamp::SinceBoot(b))
            | (Stamp::SinceStart(a), Stamp::SinceStart(b)) => Some(ms(*a).saturating_sub(ms(*b))),
            _ => None,
        }
    }
}

/// When an event happened, as precisely as its line says: an instant, or a
/// place on its input's own axis when the line gives no wall clock (or one
/// that cannot be placed). Events on one axis can be ordered and, unless
/// only their line is known, measured against each other; events on
/// different axes cannot. Plain and `Copy`, so a detector can fold it into
/// its state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventTime {
    /// A wall-clock instant: every input shares this axis.
    Wall(DateTime<FixedOffset>),
    /// Time since the kernel booted, the boot time unknown: the axis of
    /// input `input` (one boot).
    SinceBoot { input: u32, since: Duration },
    /// Time since the writing process started.
    SinceStart { input: u32, since: Duration },
    /// No time at all: only the line's place in input `input`.
    Line { input: u32, line: u64 },
}

/// The axis an [`EventTime`] is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Axis {
    Wall,
    Boot(u32),
    Start(u32),
    Line(u32),
}

impl EventTime {
    /// The same local reading `seconds` further east: an earlier instant.
    /// Other axes and absurd offsets stay as they are.
    pub fn shifted_east(self, seconds: i64) -> EventTime {
        let EventTime::Wall(t) = self else {
            return self;
        };
        i32::try_from(i64::from(t.offset().local_minus_utc()) + seconds)
            .ok()
            .and_then(FixedOffset::east_opt)
            .and_then(|o| o.from_local_datetime(&t.naive_local()).single())
            .map_or(self, EventTime::Wall)
    }

    pub fn axis(&self) -> Axis {
        match *self {
            EventTime::Wall(_) => Axis::Wall,
            EventTime::SinceBoot { input, .. } => Axis::Boot(input),
            EventTime::SinceStart { input, .. } => Axis::Start(input),
            EventTime::Line { input, .. } => Axis::Line(input),
        }
    }

    pub fn wall(&self) -> Option<DateTime<FixedOffset>> {
        match *self {
            EventTime::Wall(t) => Some(t),
            _ => None,
        }
    }

    /// Seconds on a relative clock (`None` for wall time and line places).
    pub fn relative_secs(&self) -> Option<f64> {
        match *self {
            EventTime::SinceBoot { since, .. } | EventTime::SinceStart { since, .. } => {
                Some(since.as_secs_f64())
            }
            _ => None,
        }
    }

    /// Milliseconds from `earlier` to `self`: `None` when they are on
    /// different axes or the axis has no clock (line places only).
    pub fn millis_since(&self, earlier: &EventTime) -> Option<i64> {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        match (*self, *earlier) {
            (EventTime::Wall(a), EventTime::Wall(b)) => {
                Some(a.signed_duration_since(b).num_milliseconds())
            }
            (
                EventTime::SinceBoot { input: i, since: a },
                EventTime::SinceBoot { input: j, since: b },
            )
            | (
                EventTime::SinceStart { input: i, since: a },
                EventTime::SinceStart { input: j, since: b },
            ) if i == j => Some(ms(a).saturating_sub(ms(b))),
            _ => None,
        }
    }

    /// Whole seconds from `earlier` to `self`, as [`EventTime::millis_since`].
    pub fn seconds_since(&self, earlier: &EventTime) -> Option<i64> {
        self.millis_since(earlier).map(|ms| ms / 1000)
    }

    /// Lines from `earlier` to `self` when both are line places in one
    /// input.
    pub fn lines_since(&self, earlier: &EventTime) -> Option<i64> {
        match (*self, *earlier) {
            (EventTime::Line { input: i, line: a }, EventTime::Line { input: j, line: b })
                if i == j =>
            {
                Some(a as i64 - b as i64)
            }
            _ => None,
        }
    }

    /// How a report shows a time that is not on the wall clock:
    /// `+8123.0 s after boot`, `+42.0 s after start`, `line 412, time
    /// unknown`; `None` for wall time.
    pub fn relative_text(&self) -> Option<String> {
        match *self {
            EventTime::Wall(_) => None,
            EventTime::SinceBoot { since, .. } => {
                Some(format!("+{:.1} s after boot", since.as_secs_f64()))
            }
            EventTime::SinceStart { since, .. } => {
                Some(format!("+{:.1} s after start", since.as_secs_f64()))
            }
            EventTime::Line { line, .. } => Some(format!("line {line}, time unknown")),
        }
    }
}

impl Ord for EventTime {
    /// By axis (wall time first), then along it.
    fn cmp(&self, other: &EventTime) -> std::cmp::Ordering {
        let along = match (*self, *other) {
            (EventTime::Wall(a), EventTime::Wall(b)) => a.cmp(&b),
            (EventTime::SinceBoot { since: a, .. }, EventTime::SinceBoot { since: b, .. })
            | (EventTime::SinceStart { since: a, .. }, EventTime::SinceStart { since: b, .. }) => {
                a.cmp(&b)
            }
            (EventTime::Line { line: a, .. }, EventTime::Line { line: b, .. }) => a.cmp(&b),
            _ => std::cmp::Ordering::Equal,
        };
        self.axis().cmp(&other.axis()).then(along)
    }
}

impl PartialOrd for EventTime {
    fn partial_cmp(&self, other: &EventTime) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A record that gives both a wall-clock reading and the time since boot:
/// their difference is the boot time.
#[derive(Clone, Copy, Debug)]
pub struct BootSample {
    pub line: u64,
    pub at: Stamp,
    pub since_boot: Duration,
}

/// A record that carries both a local reading and an absolute instant (a
/// syslog header over a logrus time, or a journal timestamp over a klog
/// time): the difference between the two is the zone of the local reading.
#[derive(Clone, Copy, Debug)]
pub struct Anchor {
    /// The line it was read on (1-based), which places it among rollovers.
    pub line: u64,
    pub local: PartialStamp,
    pub absolute: DateTime<FixedOffset>,
}

/// Everything one input says about its own time, gathered while scanning in
/// parallel pieces and put together in line order by [`TimeSamples::append`].
#[derive(Clone, Debug, Default)]
pub struct TimeSamples {
    pub anchors: Vec<Anchor>,
    /// Years printed by stamps that have one (Calico), with their line.
    pub years: Vec<(u64, i32)>,
    pub boots: Vec<BootSample>,
    /// UTC offsets that programs printed with their own absolute times
    /// (logrus `+08:00`): the zone of an input with no local readings.
    pub offsets: Vec<i32>,
    /// Where the zone of local readings changes, as anchors show it: the
    /// first line of each stretch and its offset in seconds.
    pub zones: Vec<(u64, i32)>,
    pending_zone: Option<(u64, i32)>,
    /// Lines where yearless headers go from November/December to
    /// January/February: the year changes there.
    pub rollovers: Vec<u64>,
    /// The month of the first and last yearless header, and how many
    /// yearless headers of November or December were seen since the last
    /// rollover (a rollover needs a run of them, so that one stray line
    /// cannot move the year).
    first_month: Option<u32>,
    first_line: Option<u64>,
    last_month: Option<u32>,
    late_lines: u32,
    /// The first drop to January/February in this part that had too few
    /// late headers before it *within the part*, with their count: the part
    /// before may supply the rest.
    pending_drop: Option<(u64, u32)>,
    /// The last yearless header and its line: the fallback year rule reads
    /// it.
    last_local: Option<(u64, PartialStamp)>,
    /// Lines where local readings step back by 10 minutes to 2 hours within
    /// one day, with that day (month, day): where a clock went back, so
    /// that a repeated autumn hour reads its second instant from there
    /// (see `time/zone.rs`).
    pub folds: Vec<(u64, u32, u32)>,
    /// The first and the last local reading of this part, to find a fold
    /// where parts meet.
    first_clock: Option<(u64, PartialStamp)>,
    last_clock: Option<(u64, PartialStamp)>,
    /// Zone abbreviations printed beside dated local readings
    /// (journalctl `short-full`'s `CEST`): a few per abbreviation, for
    /// [`learn`] to find the zones they fit.
    pub abbreviations: Vec<(NaiveDateTime, String)>,
    /// Instants whose envelope printed a non-zero UTC offset (journalctl
    /// `short-iso`, RFC 5424): the zone of the host that wrote them, for
    /// its other inputs ([`learn`]). UTC is left out: log collectors
    /// write UTC whatever the host's zone.
    pub seen: Vec<DateTime<FixedOffset>>,
}

/// Whether the readings `prev` then `next` step back the way a clock going
/// back an hour makes them: same day, 10 minutes to 2 hours earlier.
fn folds_back(prev: &PartialStamp, next: &PartialStamp) -> bool {
    let secs = |p: &PartialStamp| i64::from(p.hour * 3600 + p.minute * 60 + p.second);
    let back = secs(prev) - secs(next);
    (prev.month, prev.day) == (next.month, next.day) && (600..=7200).contains(&back)
}

/// Samples of each kind kept per input: inference needs a handful.
const MAX_SAMPLES: usize = 64;
/// Yearless November/December headers needed before a drop to January or
/// February counts as a new year.
const LATE_LINES_FOR_ROLLOVER: u32 = 10;
/// Zone abbreviations and envelope offsets kept per input.
const ZONE_SAMPLES: usize = 16;

impl TimeSamples {
    /// Notes the yearless header of line `line`, in file order.
    pub fn header(&mut self, line: u64, stamp: PartialStamp) {
        if let Some((_, prev)) = &self.last_clock {
            if folds_back(prev, &stamp) && self.folds.len() < MAX_SAMPLES {
                self.folds.push((line, stamp.month, stamp.day));
            }
        }
        self.first_clock.get_or_insert((line, stamp));
        self.last_clock = Some((line, stamp));
        if stamp.year.is_some() {
            return;
        }
        let month = stamp.month;
        if let Some(prev) = self.last_month {
            if prev >= 11 && month <= 2 {
                if self.late_lines >= LATE_LINES_FOR_ROLLOVER {
                    self.rollovers.push(line);
                    self.late_lines = 0;
                } else if self.rollovers.is_empty() && self.pending_drop.is_none() {
                    self.pending_drop = Some((line, self.late_lines));
                }
            }
        }
        if month >= 11 {
            self.late_lines = self.late_lines.saturating_add(1);
        }
        if self.first_month.is_none() {
            self.first_month = Some(month);
            self.first_line = Some(line);
        }
        self.last_month = Some(month);
        self.last_local = Some((line, stamp));
    }

    pub fn anchor(&mut self, anchor: Anchor) {
        if let Some(secs) = anchor_offset_secs(&anchor) {
            self.zone(anchor.line, secs);
        }
        if self.anchors.len() < MAX_SAMPLES {
            self.anchors.push(anchor);
        }
    }

    /// Notes the zone an anchor shows at `line`. A change of zone (daylight
    /// saving time, a node whose zone was changed) counts once a second
    /// anchor confirms it, so one anchor with a late syslog stamp cannot
    /// split the file.
    fn zone(&mut self, line: u64, secs: i32) {
        match self.zones.last() {
            None => self.zones.push((line, secs)),
            Some(&(_, current)) if current == secs => self.pending_zone = None,
            Some(_) => match self.pending_zone {
                Some((at, pending)) if pending == secs => {
                    self.zones.push((at, secs));
                    self.pending_zone = None;
                }
                _ => self.pending_zone = Some((line, secs)),
            },
        }
    }

    pub fn year(&mut self, line: u64, year: i32) {
        if self.years.len() < MAX_SAMPLES {
            self.years.push((line, year));
        }
    }

    pub fn offset(&mut self, secs: i32) {
        if self.offsets.len() < MAX_SAMPLES {
            self.offsets.push(secs);
        }
    }

    /// Notes the zone abbreviation `name` printed beside the dated local
    /// reading `local`.
    pub fn abbreviation(&mut self, local: PartialStamp, name: &[u8]) {
        if let Some(local) = local.year.and_then(|y| local.naive_in(y)) {
            self.abbreviation_at(local, name);
        }
    }

    /// One sample per abbreviation and month.
    fn abbreviation_at(&mut self, local: NaiveDateTime, name: &[u8]) {
        let known = self.abbreviations.iter().any(|(at, n)| {
            n.as_bytes() == name && (at.year(), at.month()) == (local.year(), local.month())
        });
        if !known && self.abbreviations.len() < ZONE_SAMPLES {
            self.abbreviations
                .push((local, String::from_utf8_lossy(name).into_owned()));
        }
    }

    /// Notes an instant an envelope printed with its offset.
    pub fn envelope_offset(&mut self, at: DateTime<FixedOffset>) {
        let known = self
            .seen
            .iter()
            .any(|t| t.offset() == at.offset() && (t.year(), t.month()) == (at.year(), at.month()));
        if at.offset().local_minus_utc() != 0 && !known && self.seen.len() < ZONE_SAMPLES {
            self.seen.push(at);
        }
    }

    /// The last local reading of the input and its line.
    pub fn last_reading(&self) -> Option<(u64, PartialStamp)> {
        self.last_clock
    }

    pub fn boot(&mut self, sample: BootSample) {
        if self.boots.len() < MAX_SAMPLES {
            self.boots.push(sample);
        }
    }

    /// Appends the samples of the part of the input that follows, which
    /// starts after `lines_before` lines.
    pub fn append(&mut self, next: TimeSamples, lines_before: u64) {
        let shift = |line: u64| line + lines_before;
        if let (Some((_, prev)), Some((line, first))) = (&self.last_clock, &next.first_clock) {
            if folds_back(prev, first) {
                self.folds.push((shift(*line), first.month, first.day));
            }
        }
        self.folds
            .extend(next.folds.iter().map(|&(l, m, d)| (shift(l), m, d)));
        self.folds.truncate(MAX_SAMPLES);
        if self.first_clock.is_none() {
            self.first_clock = next.first_clock.map(|(l, s)| (shift(l), s));
        }
        if let Some((l, s)) = next.last_clock {
            self.last_clock = Some((shift(l), s));
        }
        // A drop that the part alone could not confirm: where the parts
        // meet, or inside the next part before its own first rollover.
        let boundary = match (self.last_month, next.first_month, next.first_line) {
            (Some(prev), Some(first), Some(at)) if prev >= 11 && first <= 2 => Some((at, 0)),
            _ => next.pending_drop,
        };
        let mut carried = false;
        if let Some((at, late_in_next)) = boundary {
            if self.late_lines.saturating_add(late_in_next) >= LATE_LINES_FOR_ROLLOVER {
                self.rollovers.push(shift(at));
                carried = true;
            }
        }
        self.late_lines = match (carried, next.rollovers.is_empty()) {
            (false, true) => self.late_lines.saturating_add(next.late_lines),
            (true, true) => 0,
            (_, false) => next.late_lines,
        };
        for a in next.anchors {
            if self.anchors.len() < MAX_SAMPLES {
                self.anchors.push(Anchor {
                    line: shift(a.line),
                    ..a
                });
            }
        }
        for (line, secs) in next.zones {
            self.zone(shift(line), secs);
        }
        for (line, y) in next.years {
            self.year(shift(line), y);
        }
        for b in next.boots {
            self.boot(BootSample {
                line: shift(b.line),
                ..b
            });
        }
        for o in next.offsets {
            self.offset(o);
        }
        for (local, name) in next.abbreviations {
            self.abbreviation_at(local, name.as_bytes());
        }
        for at in next.seen {
            self.envelope_offset(at);
        }
        self.rollovers.extend(next.rollovers.into_iter().map(shift));
        if self.first_month.is_none() {
            self.first_month = next.first_month;
            self.first_line = next.first_line.map(shift);
            self.pending_drop = next.pending_drop.map(|(line, late)| (shift(line), late));
        }
        if next.last_month.is_some() {
            self.last_month = next.last_month;
            self.last_local = next.last_local.map(|(line, s)| (shift(line), s));
        }
    }
}

/// Where a decision came from, reported so that a user can tell a guess from
/// a fact.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    Option,
    Logs,
    /// The zone other inputs of the same host (or run) revealed.
    OtherInputs,
    Fallback,
    /// The offset the Kubernetes API's times of the same events showed
    /// ([`api`]).
    Api,
}

/// The year and zone of one input, fixed once the input has been read.
#[derive(Clone, Debug)]
pub struct TimeContext {
    /// The year of yearless stamps before the first rollover.
    base_year: i32,
    /// Lines where the year of yearless stamps goes up by one.
    rollovers: Vec<u64>,
    /// Where the zone changes inside the input (first line, offset); empty
    /// when it does not.
    zones: Vec<(u64, FixedOffset)>,
    /// The input's zone (its most common one; with `rules`, the offset at
    /// its newest time).
    pub offset: FixedOffset,
    /// The zone's rules when it has them (an IANA zone, the local zone):
    /// local readings then take the offset of their own date.
    rules: Option<Zone>,
    /// Where local readings step back within a day (see
    /// [`TimeSamples::folds`]).
    folds: Vec<(u64, u32, u32)>,
    pub year_from: Provenance,
    pub zone_from: Provenance,
    /// When the kernel booted, if known: turns [`Stamp::SinceBoot`] into
    /// instants.
    pub boot: Option<DateTime<FixedOffset>>,
    /// What was learned of the zone from elsewhere, and where sources
    /// disagreed ([`learn`]), as the input's notes show it.
    pub notes: Vec<String>,
}

/// What the caller knows when the logs themselves say nothing.
#[derive(Clone, Copy, Debug)]
pub struct Fallback {
    /// The newest a line can be: the end of the day in a rotated file's
    /// name, else the file's mtime, else the run's start (stdin).
    pub not_after: DateTime<FixedOffset>,
    /// The zone to assume (the local zone of the machine running
    /// podmortem, or the zone other inputs of the host showed).
    pub zone: Zone,
}

/// User overrides (`--year`, `--tz`); they beat anything inferred.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    pub year: Option<i32>,
    pub zone: Option<Zone>,
    pub boot: Option<DateTime<FixedOffset>>,
}

impl TimeContext {
    /// Reads this input's local times `seconds` further east from now on
    /// (see [`api`]), as one fixed offset: a shift names no zone, so no
    /// rules. `None`, and nothing changed, when the offset would be absurd.
    pub fn shift_east(&mut self, seconds: i64) -> Option<()> {
        let east = |o: FixedOffset| {
            i32::try_from(i64::from(o.local_minus_utc()) + seconds)
                .ok()
                .and_then(FixedOffset::east_opt)
        };
        let zones: Option<Vec<(u64, FixedOffset)>> = self
            .zones
            .iter()
            .map(|&(line, o)| Some((line, east(o)?)))
            .collect();
        self.offset = east(self.offset)?;
        self.zones = zones?;
        self.rules = None;
        self.zone_from = Provenance::Api;
        Some(())
    }

    /// Decides year, zone and boot time for one input.
    ///
    /// The zone is the most common local-vs-instant difference among the
    /// anchors, rounded to 15 minutes (syslog may stamp a line a few seconds
    /// after the program did); without anchors, the offset programs printed
    /// with their own absolute times. The year of the first yearless line is
    /// derived from the anchors' years, else from the years stamps print,
    /// else from the fallback: the last yearless line cannot be newer than
    /// `fallback.not_after`. Each rollover (December to January) adds one.
    pub fn infer(samples: &TimeSamples, overrides: Overrides, fallback: Fallback) -> TimeContext {
        let inferred_offset = most_common(samples.anchors.iter().filter_map(anchor_offset_secs))
            .or_else(|| most_common(samples.offsets.iter().copied()))
            .and_then(FixedOffset::east_opt);
        let newest = fallback.not_after.naive_utc();
        let (offset, rules, zone_from) = match (overrides.zone, inferred_offset) {
            (Some(z), _) => (z.offset_at(newest), Some(z), Provenance::Option),
            (None, Some(o)) => (o, None, Provenance::Logs),
            (None, None) => (
                fallback.zone.offset_at(newest),
                Some(fallback.zone),
                Provenance::Fallback,
            ),
        };
        let rules = rules.filter(|z| z.has_rules());
        let rollovers = samples.rollovers.clone();
        let before = |line: u64| saturating_i32(rollovers.partition_point(|&r| r <= line));
        let anchor_bases = samples.anchors.iter().map(|a| {
            a.absolute
                .with_timezone(&offset)
                .year()
                .saturating_sub(before(a.line))
        });
        let printed_bases = samples
            .years
            .iter()
            .map(|&(line, y)| y.saturating_sub(before(line)));
        let logged = most_common(anchor_bases).or_else(|| most_common(printed_bases));
        let (base_year, year_from) = match (overrides.year, logged) {
            (Some(y), _) => (y, Provenance::Option),
            (None, Some(y)) => (y, Provenance::Logs),
            (None, None) => {
                let limit = fallback.not_after.with_timezone(&offset).naive_local();
                let last_year = match samples.last_local {
                    Some((_, last)) => match last.naive_in(limit.year()) {
                        Some(t) if t <= limit => limit.year(),
                        _ => limit.year() - 1,
                    },
                    None => limit.year(),
                };
                (
                    last_year.saturating_sub(saturating_i32(rollovers.len())),
                    Provenance::Fallback,
                )
            }
        };
        // Stretches in other zones, when the logs show the zone changing.
        let zones = match (overrides.zone, zone_from) {
            (None, Provenance::Logs) => samples
                .zones
                .iter()
                .filter_map(|&(line, secs)| Some((line, FixedOffset::east_opt(secs)?)))
                .collect(),
            _ => Vec::new(),
        };
        let mut ctx = TimeContext {
            base_year,
            rollovers,
            zones,
            offset,
            rules,
            folds: samples.folds.clone(),
            year_from,
            zone_from,
            boot: overrides.boot,
            notes: Vec::new(),
        };
        if ctx.boot.is_none() {
            // The median of the samples' boot times, to the second: journald
            // and syslog stamp lines a little after the kernel wrote them. A
            // sample whose time since boot reaches before the calendar can
            // count (a corrupt `_SOURCE_MONOTONIC_TIMESTAMP`) says nothing.
            let mut boots: Vec<i64> = samples
                .boots
                .iter()
                .filter_map(|b| {
                    let at = ctx.resolve(b.at, b.line)?;
                    let since = chrono::Duration::from_std(b.since_boot).ok()?;
                    Some(at.checked_sub_signed(since)?.timestamp())
                })
                .collect();
            boots.sort_unstable();
            ctx.boot = boots
                .get(boots.len() / 2)
                .and_then(|&secs| DateTime::from_timestamp(secs, 0))
                .map(|t| t.with_timezone(&offset));
        }
        ctx
    }

    /// The instant a stamp denotes in this context, in this context's offset.
    /// `None` for impossible dates (Feb 29 in a common year), for time since
    /// boot when the boot time is unknown, and for instants outside the
    /// years 0000–9999 that RFC 3339 can print (a corrupt journal timestamp,
    /// time since boot past the calendar): the caller counts them untimed.
    /// `line` is where the stamp was read: it decides the year of a yearless
    /// stamp when the input crosses New Year.
    pub fn resolve(&self, stamp: Stamp, line: u64) -> Option<DateTime<FixedOffset>> {
        let offset = self.offset_at(line);
        let at = match stamp {
            Stamp::Absolute(t) => match self.rules {
                Some(zone) => t.with_timezone(&zone.offset_at(t.naive_utc())),
                None => t.with_timezone(&offset),
            },
            Stamp::SinceBoot(d) => self
                .boot?
                .checked_add_signed(chrono::Duration::from_std(d).ok()?)?,
            Stamp::SinceStart(_) => return None,
            Stamp::Local(p) => {
                let rollovers = saturating_i32(self.rollovers.partition_point(|&r| r <= line));
                let naive = p.naive_in(self.base_year.saturating_add(rollovers))?;
                match self.rules {
                    Some(zone) => zone.resolve(naive, self.folded(line, &p, zone, naive))?,
                    None => offset.from_local_datetime(&naive).single()?,
                }
            }
        };
        (0..=9999).contains(&at.year()).then_some(at)
    }

    /// Where an event of input `input` read on `line` sits in time: its
    /// instant when the stamp resolves to one, else its place on the
    /// input's own axis (time since boot or start, else the line).
    pub fn place(&self, stamp: Option<Stamp>, line: u64, input: usize) -> EventTime {
        // Inputs are counted far below 2^32; events hold the index in 32 bits.
        let input = u32::try_from(input).unwrap_or(u32::MAX);
        match stamp {
            Some(s) => match (self.resolve(s, line), s) {
                (Some(t), _) => EventTime::Wall(t),
                (None, Stamp::SinceBoot(since)) => EventTime::SinceBoot { input, since },
                (None, Stamp::SinceStart(since)) => EventTime::SinceStart { input, since },
                (None, _) => EventTime::Line { input, line },
            },
            None => EventTime::Line { input, line },
        }
    }

    /// Whether the reading `p` on `line`, in a repeated hour of `zone`,
    /// comes after the clock went back that day.
    fn folded(&self, line: u64, p: &PartialStamp, zone: Zone, naive: NaiveDateTime) -> bool {
        zone.ambiguous(naive)
            && self
                .folds
                .iter()
                .any(|&(at, month, day)| at <= line && (month, day) == (p.month, p.day))
    }

    /// The zone local readings are in at `line`.
    fn offset_at(&self, line: u64) -> FixedOffset {
        match self.zones.partition_point(|&(start, _)| start <= line) {
            0 => self.zones.first().map_or(self.offset, |&(_, o)| o),
            i => self.zones[i - 1].1,
        }
    }
}

/// Seconds east of UTC that the header zone must have for `a` to hold,
/// rounded to the nearest quarter hour; `None` when absurd (> 18 h).
pub(crate) fn anchor_offset_secs(a: &Anchor) -> Option<i32> {
    let utc = a.absolute.naive_utc();
    let local = a.local.naive_in(a.absolute.year())?;
    let diff = local.signed_duration_since(utc).num_seconds();
    let quarter = 15 * 60;
    let rounded = (diff as f64 / quarter as f64).round() as i64 * quarter;
    (rounded.abs() <= 18 * 3600).then_some(rounded as i32)
}

/// A count of lines or rollovers as a number of years; a count beyond
/// `i32::MAX` (which no input reaches) stays at the edge.
fn saturating_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The most frequent value (the smallest among ties, for determinism).
fn most_common<T: Ord + Copy>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut all: Vec<T> = values.collect();
    all.sort_unstable();
    let mut best: Option<(T, usize)> = None;
    for run in all.chunk_by(|a, b| a == b) {
        if best.is_none_or(|(_, n)| run.len() > n) {
            best = Some((run[0], run.len()));
        }
    }
    best.map(|(v, _)| v)
}

/// A `--since`/`--until` bound: an instant, or a duration back from the
/// newest event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeBound {
    At(DateTime<FixedOffset>),
    Before(i64),
}

impl TimeBound {
    /// RFC 3339 (`2023-05-01T11:00:00+08:00`) or a duration (`2h`, `30m`).
    pub fn parse(text: &str) -> Option<TimeBound> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(TimeBound::At)
            .or_else(|| parse_duration(text).map(TimeBound::Before))
    }

    /// The instant this bound stands for, given the newest event. A
    /// duration reaching past the calendar's first instant (`--since
    /// 9999999999999s`) stands for that instant: every event is after it.
    pub fn at(self, newest: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        match self {
            TimeBound::At(t) => t,
            TimeBound::Before(secs) => chrono::Duration::try_seconds(secs)
                .and_then(|back| newest.checked_sub_signed(back))
                .unwrap_or_else(|| {
                    let edge = if secs >= 0 {
                        DateTime::<chrono::Utc>::MIN_UTC
                    } else {
                        DateTime::<chrono::Utc>::MAX_UTC
                    };
                    edge.with_timezone(newest.offset())
                }),
        }
    }
}

/// Parses a `--tz` value: `UTC`, `Z`, or `±HH:MM` / `±HHMM` / `±HH`.
pub fn parse_offset(text: &str) -> Option<FixedOffset> {
    if text.eq_ignore_ascii_case("utc") || text == "Z" {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// `30s`, `10m`, `2h`, `1d` as seconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(unit_at);
    let n: i64 = digits.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(month: u32, day: u32, h: u32, m: u32, s: u32) -> PartialStamp {
        PartialStamp {
            year: None,
            month,
            day,
            hour: h,
            minute: m,
            second: s,
            nanos: 0,
        }
    }

    fn fallback(at: &str) -> Fallback {
        let t = DateTime::parse_from_rfc3339(at).unwrap();
        Fallback {
            not_after: t,
            zone: Zone::Fixed(*t.offset()),
        }
    }

    /// Yearless syslog readings of 2023, one a line, through `--tz`.
    fn through(zone: &str, readings: &[(u32, u32, u32, u32)]) -> Vec<String> {
        let mut samples = TimeSamples::default();
        let stamps: Vec<PartialStamp> = readings
            .iter()
            .map(|&(mo, d, h, mi)| local(mo, d, h, mi, 0))
            .collect();
        for (i, &p) in stamps.iter().enumerate() {
            samples.header(i as u64 + 1, p);
        }
        let overrides = Overrides {
            zone: Zone::parse(zone),
            ..Overrides::default()
        };
        let ctx = TimeContext::infer(&samples, overrides, fallback("2023-12-01T00:00:00Z"));
        stamps
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let t = ctx.resolve(Stamp::Local(p), i as u64 + 1).unwrap();
                t.with_timezone(&chrono::Utc).to_rfc3339()
            })
            .collect()
    }

    #[test]
    fn a_named_zone_reads_both_sides_of_the_march_change() {
        // Europe/Berlin, 2023-03-26: at 02:00 CET clocks went to 03:00 CEST.
        let utc = through(
            "Europe/Berlin",
            &[
                (3, 26, 1, 30),
                (3, 26, 1, 59),
                (3, 26, 3, 0),
                (3, 26, 3, 30),
                (7, 1, 12, 0),
            ],
        );
        assert_eq!(
            utc,
            [
                "2023-03-26T00:30:00+00:00",
                "2023-03-26T00:59:00+00:00",
                "2023-03-26T01:00:00+00:00",
                "2023-03-26T01:30:00+00:00",
                "2023-07-01T10:00:00+00:00",
            ]
        );
        let shanghai = through("Asia/Shanghai", &[(1, 5, 8, 0), (7, 5, 8, 0)]);
        assert_eq!(
            shanghai,
            ["2023-01-05T00:00:00+00:00", "2023-07-05T00:00:00+00:00"]
        );
    }

    #[test]
    fn the_repeated_autumn_hour_is_resolved_by_order() {
        // Europe/Berlin, 2023-10-29: at 03:00 CEST clocks went back to 02:00
        // CET, so 02:00-02:59 came twice.
        let utc = through(
            "Europe/Berlin",
            &[
                (10, 29, 2, 15),
                (10, 29, 2, 45),
                (10, 29, 2, 5),
                (10, 29, 2, 40),
                (10, 29, 3, 10),
            ],
        );
        assert_eq!(
            utc,
            [
                "2023-10-29T00:15:00+00:00",
                "2023-10-29T00:45:00+00:00",
                "2023-10-29T01:05:00+00:00",
                "2023-10-29T01:40:00+00:00",
                "2023-10-29T02:10:00+00:00",
            ]
        );
        // New York went back at 02:00 EDT on 2023-11-05.
        let ny = through("America/New_York", &[(11, 5, 1, 30), (11, 5, 1, 10)]);
        assert_eq!(
            ny,
            ["2023-11-05T05:30:00+00:00", "2023-11-05T06:10:00+00:00"]
        );
    }

    fn anchored(line: u64, local: PartialStamp, absolute: &str) -> TimeSamples {
        let mut samples = TimeSamples::default();
        samples.anchor(Anchor {
            line,
            local,
            absolute: DateTime::parse_from_rfc3339(absolute).unwrap(),
        });
        samples
    }

    fn infer(samples: &TimeSamples, at: &str) -> TimeContext {
        TimeContext::infer(samples, Overrides::default(), fallback(at))
    }

    #[test]
    fn zone_and_year_come_from_a_logrus_anchor() {
        // Real pair from the dockerd leak report: syslog header and logrus time.
        let samples = anchored(
            1,
            local(5, 2, 0, 10, 24),
            "2023-05-02T00:10:24.148458112+08:00",
        );
        let ctx = infer(&samples, "2026-01-01T00:00:00Z");
        assert_eq!(ctx.offset, FixedOffset::east_opt(8 * 3600).unwrap());
        assert_eq!(
            (ctx.year_from, ctx.zone_from),
            (Provenance::Logs, Provenance::Logs)
        );
        let t = ctx
            .resolve(Stamp::Local(local(5, 1, 11, 3, 37)), 2)
            .unwrap();
        assert_eq!(t.to_rfc3339(), "2023-05-01T11:03:37+08:00");
    }

    #[test]
    fn a_header_a_few_seconds_late_and_a_utc_instant_still_give_the_zone() {
        let samples = anchored(1, local(5, 1, 11, 3, 56), "2023-05-01T03:03:37Z");
        assert_eq!(
            infer(&samples, "2026-01-01T00:00:00Z")
                .offset
                .local_minus_utc(),
            8 * 3600
        );
    }

    #[test]
    fn year_falls_back_to_the_newest_year_not_after_mtime() {
        let mut samples = TimeSamples::default();
        samples.header(1, local(2, 28, 23, 0, 0));
        let ctx = infer(&samples, "2024-03-01T12:00:00+01:00");
        assert_eq!(ctx.year_from, Provenance::Fallback);
        let feb = ctx
            .resolve(Stamp::Local(local(2, 28, 23, 0, 0)), 1)
            .unwrap();
        assert_eq!(feb.to_rfc3339(), "2024-02-28T23:00:00+01:00");
        // A file whose last line is in December, with a March mtime.
        let mut dec = TimeSamples::default();
        dec.header(1, local(12, 31, 23, 59, 59));
        let ctx = infer(&dec, "2024-03-01T12:00:00+01:00");
        let t = ctx
            .resolve(Stamp::Local(local(12, 31, 23, 59, 59)), 1)
            .unwrap();
        assert_eq!(t.to_rfc3339(), "2023-12-31T23:59:59+01:00");
    }

    #[test]
    fn year_hint_from_stamps_that_print_one() {
        let mut samples = TimeSamples::default();
        for (line, y) in [(1, 2023), (2, 2023), (3, 2022)] {
            samples.year(line, y);
        }
        let ctx = infer(&samples, "2026-01-01T00:00:00Z");
        assert_eq!(
            ctx.resolve(Stamp::Local(local(5, 1, 0, 0, 0)), 9)
                .unwrap()
                .year(),
            2023
        );
    }

    /// Yearless headers from Dec 31 to Jan 1, `late` December lines first.
    fn new_year(late: u64) -> TimeSamples {
        let mut samples = TimeSamples::default();
        for line in 1..=late {
            samples.header(line, local(12, 31, 23, 59, 0));
        }
        for line in late + 1..=late + 5 {
            samples.header(line, local(1, 1, 0, 0, 1));
        }
        samples
    }

    #[test]
    fn the_year_rolls_over_inside_a_file() {
        let samples = new_year(20);
        assert_eq!(samples.rollovers, vec![21]);
        let ctx = infer(&samples, "2024-01-02T00:00:00Z");
        let dec = ctx
            .resolve(Stamp::Local(local(12, 31, 23, 59, 0)), 20)
            .unwrap();
        let jan = ctx.resolve(Stamp::Local(local(1, 1, 0, 0, 1)), 21).unwrap();
        assert_eq!(dec.to_rfc3339(), "2023-12-31T23:59:00+00:00");
        assert_eq!(jan.to_rfc3339(), "2024-01-01T00:00:01+00:00");
        // With an anchor after the rollover, the year before it follows.
        let mut anchored = new_year(20);
        anchored.anchor(Anchor {
            line: 22,
            local: local(1, 1, 0, 0, 1),
            absolute: DateTime::parse_from_rfc3339("2019-01-01T00:00:01Z").unwrap(),
        });
        let ctx = infer(&anchored, "2026-01-01T00:00:00Z");
        assert_eq!(
            ctx.resolve(Stamp::Local(local(12, 31, 23, 59, 0)), 3)
                .unwrap()
                .year(),
            2018
        );
    }

    #[test]
    fn a_change_of_zone_inside_a_file_is_followed() {
        // Berlin leaves daylight saving time on 2023-10-29: the syslog
        // headers say so next to logrus' absolute times.
        let mut samples = TimeSamples::default();
        for (line, hms, abs) in [
            (1, (1, 0, 0), "2023-10-28T23:00:00Z"),
            (2, (1, 30, 0), "2023-10-28T23:30:00Z"),
            (3, (2, 10, 0), "2023-10-29T01:10:00Z"),
            (4, (2, 40, 0), "2023-10-29T01:40:00Z"),
            (5, (3, 0, 0), "2023-10-29T02:00:00Z"),
        ] {
            let mut l = local(10, 29, hms.0, hms.1, hms.2);
            l.year = None;
            samples.anchor(Anchor {
                line,
                local: l,
                absolute: DateTime::parse_from_rfc3339(abs).unwrap(),
            });
        }
        let ctx = infer(&samples, "2024-01-01T00:00:00Z");
        let before = ctx
            .resolve(Stamp::Local(local(10, 29, 1, 45, 0)), 2)
            .unwrap();
        let after = ctx
            .resolve(Stamp::Local(local(10, 29, 2, 45, 0)), 4)
            .unwrap();
        assert_eq!(before.to_rfc3339(), "2023-10-29T01:45:00+02:00");
        assert_eq!(after.to_rfc3339(), "2023-10-29T02:45:00+01:00");
    }

    #[test]
    fn one_late_anchor_does_not_change_the_zone() {
        let mut samples = TimeSamples::default();
        for (line, m, abs) in [
            (1, 0, "2023-05-01T03:00:00Z"),
            (2, 20, "2023-05-01T03:00:00Z"),
            (3, 2, "2023-05-01T03:02:00Z"),
        ] {
            samples.anchor(Anchor {
                line,
                local: local(5, 1, 11, m, 0),
                absolute: DateTime::parse_from_rfc3339(abs).unwrap(),
            });
        }
        assert_eq!(samples.zones, vec![(1, 8 * 3600)]);
    }

    #[test]
    fn one_stray_december_line_does_not_move_the_year() {
        let mut samples = TimeSamples::default();
        samples.header(1, local(1, 5, 0, 0, 0));
        samples.header(2, local(12, 31, 0, 0, 0));
        samples.header(3, local(1, 5, 0, 0, 1));
        assert!(samples.rollovers.is_empty());
    }

    #[test]
    fn a_rollover_where_parallel_pieces_meet_is_found() {
        for split in 1..25 {
            let whole = new_year(20);
            // The same lines scanned as two pieces.
            let mut first = TimeSamples::default();
            let mut second = TimeSamples::default();
            for line in 1..=25u64 {
                let stamp = if line <= 20 {
                    local(12, 31, 23, 59, 0)
                } else {
                    local(1, 1, 0, 0, 1)
                };
                if line <= split {
                    first.header(line, stamp);
                } else {
                    second.header(line - split, stamp);
                }
            }
            first.append(second, split);
            assert_eq!(first.rollovers, whole.rollovers, "split after line {split}");
        }
    }

    #[test]
    fn overrides_beat_the_logs() {
        let samples = anchored(1, local(5, 2, 0, 10, 24), "2023-05-02T00:10:24+08:00");
        let overrides = Overrides {
            year: Some(2021),
            zone: Zone::parse("-05:00"),
            boot: None,
        };
        let ctx = TimeContext::infer(&samples, overrides, fallback("2026-01-01T00:00:00Z"));
        let t = ctx
            .resolve(Stamp::Local(local(5, 2, 0, 10, 24)), 1)
            .unwrap();
        assert_eq!(t.to_rfc3339(), "2021-05-02T00:10:24-05:00");
        assert_eq!(ctx.zone_from, Provenance::Option);
    }

    #[test]
    fn boot_time_comes_from_records_that_give_both_clocks() {
        // journald: __REALTIME_TIMESTAMP and _SOURCE_MONOTONIC_TIMESTAMP.
        let at = DateTime::parse_from_rfc3339("2023-05-01T11:03:56.5+08:00").unwrap();
        let mut samples = TimeSamples::default();
        samples.boot(BootSample {
            line: 1,
            at: Stamp::Absolute(at),
            since_boot: Duration::from_secs_f64(3600.25),
        });
        let ctx = infer(&samples, "2026-01-01T00:00:00+08:00");
        assert_eq!(ctx.boot.unwrap().to_rfc3339(), "2023-05-01T10:03:56+08:00");
        let t = ctx
            .resolve(Stamp::SinceBoot(Duration::from_secs(7200)), 2)
            .unwrap();
        assert_eq!(t.to_rfc3339(), "2023-05-01T12:03:56+08:00");
        let none = infer(&TimeSamples::default(), "2026-01-01T00:00:00Z");
        assert_eq!(
            none.resolve(Stamp::SinceBoot(Duration::from_secs(1)), 1),
            None
        );
    }

    #[test]
    fn the_programs_own_stamp_wins_unless_it_is_time_since_boot() {
        let abs = Stamp::Absolute(DateTime::parse_from_rfc3339("2023-05-01T11:03:56Z").unwrap());
        let klog = Stamp::Local(local(5, 1, 11, 3, 37));
        let header = Stamp::Local(local(5, 1, 11, 3, 56));
        let boot = Stamp::SinceBoot(Duration::from_secs(5));
        assert_eq!(Stamp::best(Some(klog), Some(header)), Some(klog));
        assert_eq!(Stamp::best(Some(klog), Some(abs)), Some(klog));
        assert_eq!(Stamp::best(Some(abs), Some(header)), Some(abs));
        assert_eq!(Stamp::best(Some(boot), Some(header)), Some(header));
        assert_eq!(Stamp::best(None, Some(boot)), Some(boot));
    }

    #[test]
    fn events_without_wall_time_are_placed_on_their_inputs_axis() {
        let ctx = infer(&TimeSamples::default(), "2026-01-01T00:00:00Z");
        let boot = ctx.place(
            Some(Stamp::SinceBoot(Duration::from_millis(8_123_004))),
            7,
            2,
        );
        assert_eq!(
            boot,
            EventTime::SinceBoot {
                input: 2,
                since: Duration::from_millis(8_123_004)
            }
        );
        assert_eq!(boot.relative_text().unwrap(), "+8123.0 s after boot");
        let start = ctx.place(Some(Stamp::SinceStart(Duration::from_secs(42))), 9, 2);
        assert_eq!(start.relative_text().unwrap(), "+42.0 s after start");
        let line = ctx.place(None, 412, 2);
        assert_eq!(line.relative_text().unwrap(), "line 412, time unknown");
        // Feb 30 resolves to no instant: the line places it.
        let impossible = ctx.place(Some(Stamp::Local(local(2, 30, 1, 0, 0))), 5, 2);
        assert_eq!(impossible, EventTime::Line { input: 2, line: 5 });

        // One axis measures, others do not compare.
        let later = ctx.place(
            Some(Stamp::SinceBoot(Duration::from_millis(8_133_004))),
            8,
            2,
        );
        assert_eq!(later.millis_since(&boot), Some(10_000));
        let other_input = ctx.place(Some(Stamp::SinceBoot(Duration::from_secs(1))), 1, 3);
        assert_eq!(other_input.millis_since(&boot), None);
        assert_eq!(line.millis_since(&ctx.place(None, 400, 2)), None);
        assert_eq!(line.lines_since(&ctx.place(None, 400, 2)), Some(12));
        // Wall time sorts first, then each input's axes.
        let wall = EventTime::Wall(DateTime::parse_from_rfc3339("2023-05-01T00:00:00Z").unwrap());
        let mut all = vec![line, later, start, boot, wall];
        all.sort();
        assert_eq!(all, vec![wall, boot, later, start, line]);
    }

    #[test]
    fn time_bounds_are_instants_or_durations_back_from_the_newest_event() {
        let newest = DateTime::parse_from_rfc3339("2023-05-02T00:12:58+08:00").unwrap();
        let two_hours = TimeBound::parse("2h").unwrap();
        assert_eq!(
            two_hours.at(newest).to_rfc3339(),
            "2023-05-01T22:12:58+08:00"
        );
        let at = TimeBound::parse("2023-05-01T11:00:00Z").unwrap();
        assert_eq!(at.at(newest).to_rfc3339(), "2023-05-01T11:00:00+00:00");
        assert_eq!(TimeBound::parse("yesterday"), None);
    }

    #[test]
    fn time_arithmetic_at_the_calendar_edges_saturates_or_gives_no_time() {
        let newest = DateTime::parse_from_rfc3339("2023-05-02T00:12:58+08:00").unwrap();
        // `--since 9999999999999s` (issue 10): before every event.
        let far = TimeBound::parse("9999999999999s").unwrap();
        assert_eq!(far.at(newest), DateTime::<chrono::Utc>::MIN_UTC);
        assert_eq!(far.at(newest).offset(), newest.offset());
        assert_eq!(
            TimeBound::Before(i64::MAX).at(newest),
            DateTime::<chrono::Utc>::MIN_UTC
        );
        assert_eq!(
            TimeBound::Before(i64::MIN).at(newest),
            DateTime::<chrono::Utc>::MAX_UTC
        );
        // A journal record whose `_SOURCE_MONOTONIC_TIMESTAMP` is
        // i64::MAX µs: its boot sample is dropped, and time since such a
        // boot is no instant.
        let at = DateTime::parse_from_rfc3339("2023-05-01T11:03:56+08:00").unwrap();
        let mut samples = TimeSamples::default();
        samples.boot(BootSample {
            line: 1,
            at: Stamp::Absolute(at),
            since_boot: Duration::from_micros(i64::MAX as u64),
        });
        let ctx = infer(&samples, "2026-01-01T00:00:00+08:00");
        assert_eq!(ctx.boot, None);
        let overrides = Overrides {
            boot: Some(at),
            ..Overrides::default()
        };
        let ctx = TimeContext::infer(&samples, overrides, fallback("2026-01-01T00:00:00Z"));
        let huge = Stamp::SinceBoot(Duration::from_secs(u64::MAX));
        assert_eq!(ctx.resolve(huge, 1), None);
        let far_boot = Stamp::SinceBoot(Duration::from_micros(i64::MAX as u64));
        assert_eq!(ctx.resolve(far_boot, 1), None);
        // `--year` at the edge of i32: no instant, no overflow.
        let overrides = Overrides {
            year: Some(i32::MAX),
            ..Overrides::default()
        };
        let ctx = TimeContext::infer(&new_year(20), overrides, fallback("2024-01-02T00:00:00Z"));
        assert_eq!(ctx.resolve(Stamp::Local(local(1, 1, 0, 0, 1)), 22), None);
        // The last instant chrono holds is no time a report can print.
        let last = DateTime::<chrono::Utc>::MAX_UTC.fixed_offset();
        let ctx = infer(&TimeSamples::default(), "2026-01-01T00:00:00+08:00");
        assert_eq!(ctx.resolve(Stamp::Absolute(last), 1), None);
        let y9999 = DateTime::parse_from_rfc3339("9999-12-31T00:00:00Z").unwrap();
        assert!(ctx.resolve(Stamp::Absolute(y9999), 1).is_some());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Some(600));
        assert_eq!(parse_duration("30s"), Some(30));
        assert_eq!(parse_duration("1d"), Some(86400));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("5w"), None);
    }

    #[test]
    fn offsets_parse_in_the_usual_spellings() {
        for (text, secs) in [
            ("UTC", 0),
            ("Z", 0),
            ("+08:00", 28800),
            ("+0530", 19800),
            ("-03", -10800),
        ] {
            assert_eq!(
                parse_offset(text).map(|o| o.local_minus_utc()),
                Some(secs),
                "{text}"
            );
        }
        for bad in ["8", "+8:00", "CST", "+08:0x", ""] {
            assert_eq!(parse_offset(bad), None, "{bad}");
        }
    }
}
