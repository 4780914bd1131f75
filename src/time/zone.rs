//! Time zones as rules rather than one offset: an IANA zone by name
//! (`--tz Europe/Berlin`), or the zone of the machine running podmortem,
//! whose offset is read at each line's own date, so that a file spanning a
//! change to or from daylight saving time reads both offsets, and July logs
//! read in winter get July's offset. The rules are the tz database's
//! (`chrono-tz` for names, the system's zoneinfo for the local zone, both
//! through chrono); nothing here holds a table of its own.
//!
//! A local reading in the hour repeated when clocks go back (02:30 on the
//! last Sunday of October in Berlin) denotes two instants: the first is
//! taken until the readings step back within that day (the clock went
//! back), the second from there on ([`TimeSamples`](super::TimeSamples)
//! notes where they step back). A reading in the hour skipped in spring
//! cannot come from a clock that kept time; it is read with the offset in
//! force before the change.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};

/// How local readings of an input map to instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// One offset all year (`--tz +08:00`, `UTC`, or what anchors show).
    Fixed(FixedOffset),
    /// An IANA zone (`--tz Asia/Shanghai`).
    Named(chrono_tz::Tz),
    /// The zone of the machine running podmortem (`TZ`, else
    /// `/etc/localtime`), when nothing else tells it.
    Local,
}

impl Zone {
    /// Parses a `--tz` value: `UTC`, `Z`, `±HH:MM` / `±HHMM` / `±HH`, or an
    /// IANA zone name such as `Europe/Berlin`.
    pub fn parse(text: &str) -> Option<Zone> {
        super::parse_offset(text)
            .map(Zone::Fixed)
            .or_else(|| text.parse().ok().map(Zone::Named))
    }

    /// The offset in force at the instant `utc`.
    pub fn offset_at(self, utc: NaiveDateTime) -> FixedOffset {
        match self {
            Zone::Fixed(o) => o,
            Zone::Named(tz) => tz.offset_from_utc_datetime(&utc).fix(),
            Zone::Local => chrono::Local.offset_from_utc_datetime(&utc).fix(),
        }
    }

    /// Whether the offset can change with the date.
    pub fn has_rules(self) -> bool {
        !matches!(self, Zone::Fixed(_))
    }

    /// The instant of the local reading `naive`: `later` picks the second
    /// of two instants in a repeated hour; a reading in a skipped hour takes
    /// the offset before the gap. `None` only past the calendar's ends.
    pub fn resolve(self, naive: NaiveDateTime, later: bool) -> Option<DateTime<FixedOffset>> {
        let fixed = |r: LocalResult<DateTime<FixedOffset>>| r;
        let result = match self {
            Zone::Fixed(o) => fixed(o.from_local_datetime(&naive)),
            Zone::Named(tz) => tz.from_local_datetime(&naive).map(|t| t.fixed_offset()),
            Zone::Local => chrono::Local
                .from_local_datetime(&naive)
                .map(|t| t.fixed_offset()),
        };
        match result {
            LocalResult::Single(t) => Some(t),
            LocalResult::Ambiguous(first, second) => Some(if later { second } else { first }),
            LocalResult::None => {
                // In the spring gap: the offset an hour earlier, before the
                // clocks moved.
                let before = naive.checked_sub_signed(chrono::Duration::hours(3))?;
                let offset = self.offset_at(before.and_utc().naive_utc());
                let utc = naive.checked_sub_signed(chrono::Duration::seconds(
                    offset.local_minus_utc().into(),
                ))?;
                Some(DateTime::<Utc>::from_naive_utc_and_offset(utc, Utc).with_timezone(&offset))
            }
        }
    }

    /// Whether `naive` falls in a repeated hour of this zone.
    pub fn ambiguous(self, naive: NaiveDateTime) -> bool {
        match self {
            Zone::Fixed(_) => false,
            Zone::Named(tz) => matches!(tz.from_local_datetime(&naive), LocalResult::Ambiguous(..)),
            Zone::Local => matches!(
                chrono::Local.from_local_datetime(&naive),
                LocalResult::Ambiguous(..)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    #[test]
    fn names_and_offsets_parse_and_nonsense_does_not() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(berlin, Zone::Named(chrono_tz::Europe::Berlin));
        assert!(matches!(Zone::parse("+08:00"), Some(Zone::Fixed(_))));
        assert!(matches!(Zone::parse("UTC"), Some(Zone::Fixed(_))));
        assert!(Zone::parse("Mars/Olympus").is_none());
        assert!(Zone::parse("0800").is_none());
    }

    #[test]
    fn berlin_reads_winter_and_summer_offsets_by_date() {
        let berlin = Zone::Named(chrono_tz::Europe::Berlin);
        // 2023-03-26: 02:00 CET became 03:00 CEST.
        let before = berlin.resolve(at(2023, 3, 26, 1, 59), false).unwrap();
        let after = berlin.resolve(at(2023, 3, 26, 3, 1), false).unwrap();
        assert_eq!(before.to_rfc3339(), "2023-03-26T01:59:00+01:00");
        assert_eq!(after.to_rfc3339(), "2023-03-26T03:01:00+02:00");
        assert_eq!((after - before).num_minutes(), 2);
        // In the gap: read with the winter offset.
        let gap = berlin.resolve(at(2023, 3, 26, 2, 30), false).unwrap();
        assert_eq!(gap.naive_utc(), at(2023, 3, 26, 1, 30));
        // 2023-10-29: 03:00 CEST went back to 02:00 CET.
        let repeated = at(2023, 10, 29, 2, 30);
        assert!(berlin.ambiguous(repeated) && !berlin.ambiguous(at(2023, 10, 29, 3, 30)));
        let first = berlin.resolve(repeated, false).unwrap();
        let second = berlin.resolve(repeated, true).unwrap();
        assert_eq!(first.naive_utc(), at(2023, 10, 29, 0, 30));
        assert_eq!(second.naive_utc(), at(2023, 10, 29, 1, 30));
        let ny = Zone::Named(chrono_tz::America::New_York);
        assert_eq!(
            ny.offset_at(at(2023, 7, 1, 12, 0)).local_minus_utc(),
            -4 * 3600
        );
        assert_eq!(
            ny.offset_at(at(2023, 1, 1, 12, 0)).local_minus_utc(),
            -5 * 3600
        );
    }
}
