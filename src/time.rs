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
}

impl Stamp {
    /// The better of what a payload and its envelope say: an absolute
    /// instant beats a local reading, which beats time since boot; on a tie
    /// the payload wins (it is the program's own, usually more precise,
    /// reading; syslog stamps a line when it receives it).
    pub fn best(payload: Option<Stamp>, envelope: Option<Stamp>) -> Option<Stamp> {
        fn rank(s: &Stamp) -> u8 {
            match s {
                Stamp::Absolute(_) => 3,
                Stamp::Local(_) => 2,
                Stamp::SinceBoot(_) => 1,
            }
        }
        match (payload, envelope) {
            (Some(p), Some(e)) if rank(&e) > rank(&p) => Some(e),
            (p, e) => p.or(e),
        }
    }
}

/// A record that gives both a wall-clock reading and the time since boot:
/// their difference is the boot time.
#[derive(Clone, Copy, Debug)]
pub struct BootSample {
    pub at: Stamp,
    pub since_boot: Duration,
}

/// A line that carries both a local header reading and an absolute instant:
/// the difference between the two is the zone the header was written in.
#[derive(Clone, Copy, Debug)]
pub struct Anchor {
    pub local: PartialStamp,
    pub absolute: DateTime<FixedOffset>,
}

/// Where a decision came from, reported so that a user can tell a guess from
/// a fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    Option,
    Logs,
    Fallback,
}

/// The year and zone of one input, fixed once the input has been read.
#[derive(Clone, Copy, Debug)]
pub struct TimeContext {
    year: YearRule,
    pub offset: FixedOffset,
    pub year_from: Provenance,
    pub zone_from: Provenance,
    /// When the kernel booted, if known: turns [`Stamp::SinceBoot`] into
    /// instants.
    pub boot: Option<DateTime<FixedOffset>>,
}

#[derive(Clone, Copy, Debug)]
enum YearRule {
    Fixed(i32),
    /// The latest year that does not put the stamp after this instant: logs
    /// cannot be newer than the file that holds them.
    NotAfter(NaiveDateTime),
}

/// What the caller knows when the logs themselves say nothing.
#[derive(Clone, Copy, Debug)]
pub struct Fallback {
    /// The newest a line can be: the file's mtime (or the run's start for
    /// stdin), in `offset`.
    pub not_after: DateTime<FixedOffset>,
    /// The zone to assume (the local zone of the machine running podmortem).
    pub offset: FixedOffset,
}

/// User overrides (`--year`, `--tz`); they beat anything inferred.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    pub year: Option<i32>,
    pub offset: Option<FixedOffset>,
    pub boot: Option<DateTime<FixedOffset>>,
}

impl TimeContext {
    /// Decides year and zone for one input.
    ///
    /// The zone is the most common header-vs-instant difference among
    /// `anchors`, rounded to 15 minutes (syslog may stamp a line a few
    /// seconds after the program did). The year is the anchors' year, else
    /// the most common of `years` (stamps that print one), else the fallback
    /// rule.
    pub fn infer(
        anchors: &[Anchor],
        years: &[i32],
        boots: &[BootSample],
        overrides: Overrides,
        fallback: Fallback,
    ) -> TimeContext {
        let inferred_offset = most_common(anchors.iter().filter_map(anchor_offset_secs))
            .and_then(FixedOffset::east_opt);
        let (offset, zone_from) = match (overrides.offset, inferred_offset) {
            (Some(o), _) => (o, Provenance::Option),
            (None, Some(o)) => (o, Provenance::Logs),
            (None, None) => (fallback.offset, Provenance::Fallback),
        };
        let anchor_years = anchors
            .iter()
            .map(|a| a.absolute.with_timezone(&offset).year());
        let logged_year = most_common(anchor_years).or_else(|| most_common(years.iter().copied()));
        let (year, year_from) = match (overrides.year, logged_year) {
            (Some(y), _) => (YearRule::Fixed(y), Provenance::Option),
            (None, Some(y)) => (YearRule::Fixed(y), Provenance::Logs),
            (None, None) => (
                YearRule::NotAfter(fallback.not_after.with_timezone(&offset).naive_local()),
                Provenance::Fallback,
            ),
        };
        let mut ctx = TimeContext {
            year,
            offset,
            year_from,
            zone_from,
            boot: overrides.boot,
        };
        if ctx.boot.is_none() {
            // The median of the samples' boot times, to the second: journald
            // and syslog stamp lines a little after the kernel wrote them.
            let mut boots: Vec<i64> = boots
                .iter()
                .filter_map(|b| {
                    let at = ctx.resolve(b.at)?;
                    let since = chrono::Duration::from_std(b.since_boot).ok()?;
                    Some((at - since).timestamp())
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
    /// `None` for impossible dates (Feb 29 in a common year) and for time
    /// since boot when the boot time is unknown.
    pub fn resolve(&self, stamp: Stamp) -> Option<DateTime<FixedOffset>> {
        let naive = match stamp {
            Stamp::Absolute(t) => return Some(t.with_timezone(&self.offset)),
            Stamp::SinceBoot(d) => return Some(self.boot? + chrono::Duration::from_std(d).ok()?),
            Stamp::Local(p) => match self.year {
                YearRule::Fixed(y) => p.naive_in(y)?,
                YearRule::NotAfter(limit) => {
                    let this_year = p.naive_in(limit.year());
                    match this_year {
                        Some(t) if t <= limit => t,
                        _ => p.naive_in(limit.year() - 1)?,
                    }
                }
            },
        };
        self.offset.from_local_datetime(&naive).single()
    }
}

/// Seconds east of UTC that the header zone must have for `a` to hold,
/// rounded to the nearest quarter hour; `None` when absurd (> 18 h).
fn anchor_offset_secs(a: &Anchor) -> Option<i32> {
    let utc = a.absolute.naive_utc();
    let local = a.local.naive_in(a.absolute.year())?;
    let diff = local.signed_duration_since(utc).num_seconds();
    let quarter = 15 * 60;
    let rounded = (diff as f64 / quarter as f64).round() as i64 * quarter;
    (rounded.abs() <= 18 * 3600).then_some(rounded as i32)
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
            offset: *t.offset(),
        }
    }

    #[test]
    fn zone_and_year_come_from_a_logrus_anchor() {
        // Real pair from the dockerd leak report: syslog header and logrus time.
        let anchor = Anchor {
            local: local(5, 2, 0, 10, 24),
            absolute: DateTime::parse_from_rfc3339("2023-05-02T00:10:24.148458112+08:00").unwrap(),
        };
        let ctx = TimeContext::infer(
            &[anchor],
            &[],
            &[],
            Overrides::default(),
            fallback("2026-01-01T00:00:00Z"),
        );
        assert_eq!(ctx.offset, FixedOffset::east_opt(8 * 3600).unwrap());
        assert_eq!(
            (ctx.year_from, ctx.zone_from),
            (Provenance::Logs, Provenance::Logs)
        );
        let t = ctx.resolve(Stamp::Local(local(5, 1, 11, 3, 37))).unwrap();
        assert_eq!(t.to_rfc3339(), "2023-05-01T11:03:37+08:00");
    }

    #[test]
    fn a_header_a_few_seconds_late_still_gives_the_zone() {
        let anchor = Anchor {
            local: local(5, 1, 11, 3, 56),
            absolute: DateTime::parse_from_rfc3339("2023-05-01T03:03:37Z").unwrap(),
        };
        let ctx = TimeContext::infer(
            &[anchor],
            &[],
            &[],
            Overrides::default(),
            fallback("2026-01-01T00:00:00Z"),
        );
        assert_eq!(ctx.offset.local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn year_falls_back_to_the_newest_year_not_after_mtime() {
        let ctx = TimeContext::infer(
            &[],
            &[],
            &[],
            Overrides::default(),
            fallback("2024-03-01T12:00:00+01:00"),
        );
        assert_eq!(ctx.year_from, Provenance::Fallback);
        let feb = ctx.resolve(Stamp::Local(local(2, 28, 23, 0, 0))).unwrap();
        assert_eq!(feb.to_rfc3339(), "2024-02-28T23:00:00+01:00");
        // December cannot be in the future of a March mtime: previous year.
        let dec = ctx
            .resolve(Stamp::Local(local(12, 31, 23, 59, 59)))
            .unwrap();
        assert_eq!(dec.to_rfc3339(), "2023-12-31T23:59:59+01:00");
    }

    #[test]
    fn year_hint_from_stamps_that_print_one() {
        let ctx = TimeContext::infer(
            &[],
            &[2023, 2023, 2022],
            &[],
            Overrides::default(),
            fallback("2026-01-01T00:00:00Z"),
        );
        assert_eq!(
            ctx.resolve(Stamp::Local(local(5, 1, 0, 0, 0)))
                .unwrap()
                .year(),
            2023
        );
    }

    #[test]
    fn overrides_beat_the_logs() {
        let anchor = Anchor {
            local: local(5, 2, 0, 10, 24),
            absolute: DateTime::parse_from_rfc3339("2023-05-02T00:10:24+08:00").unwrap(),
        };
        let overrides = Overrides {
            year: Some(2021),
            offset: parse_offset("-05:00"),
            boot: None,
        };
        let ctx = TimeContext::infer(
            &[anchor],
            &[],
            &[],
            overrides,
            fallback("2026-01-01T00:00:00Z"),
        );
        let t = ctx.resolve(Stamp::Local(local(5, 2, 0, 10, 24))).unwrap();
        assert_eq!(t.to_rfc3339(), "2021-05-02T00:10:24-05:00");
        assert_eq!(ctx.zone_from, Provenance::Option);
    }

    #[test]
    fn boot_time_comes_from_records_that_give_both_clocks() {
        // journald: __REALTIME_TIMESTAMP and _SOURCE_MONOTONIC_TIMESTAMP.
        let at = DateTime::parse_from_rfc3339("2023-05-01T11:03:56.5+08:00").unwrap();
        let sample = BootSample {
            at: Stamp::Absolute(at),
            since_boot: Duration::from_secs_f64(3600.25),
        };
        let ctx = TimeContext::infer(
            &[],
            &[],
            &[sample],
            Overrides::default(),
            fallback("2026-01-01T00:00:00+08:00"),
        );
        assert_eq!(ctx.boot.unwrap().to_rfc3339(), "2023-05-01T10:03:56+08:00");
        let t = ctx
            .resolve(Stamp::SinceBoot(Duration::from_secs(7200)))
            .unwrap();
        assert_eq!(t.to_rfc3339(), "2023-05-01T12:03:56+08:00");
        let none = TimeContext::infer(
            &[],
            &[],
            &[],
            Overrides::default(),
            fallback("2026-01-01T00:00:00Z"),
        );
        assert_eq!(none.resolve(Stamp::SinceBoot(Duration::from_secs(1))), None);
    }

    #[test]
    fn the_best_stamp_is_the_most_complete_then_the_payloads() {
        let abs = Stamp::Absolute(DateTime::parse_from_rfc3339("2023-05-01T11:03:56Z").unwrap());
        let klog = Stamp::Local(local(5, 1, 11, 3, 37));
        let header = Stamp::Local(local(5, 1, 11, 3, 56));
        let boot = Stamp::SinceBoot(Duration::from_secs(5));
        assert_eq!(Stamp::best(Some(klog), Some(header)), Some(klog));
        assert_eq!(Stamp::best(Some(klog), Some(abs)), Some(abs));
        assert_eq!(Stamp::best(Some(boot), Some(header)), Some(header));
        assert_eq!(Stamp::best(None, Some(boot)), Some(boot));
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
