//! A copied `/etc/localtime` that is a file, not a link: compiled tz data
//! (TZif, RFC 8536) with no zone name in it. Its offsets are matched against
//! the zones chrono-tz compiles in, so that the host's zone keeps its rules
//! (and a name to show) without a tz database of ours: a zone matches when
//! it has every transition the file lists from 1970 on (the offset after
//! and just before each), and, past the file's last transition, the
//! offsets of the file's footer rule (its POSIX TZ string) in January and
//! July. The first matching zone in chrono-tz's (alphabetical) list is
//! taken, and how many others match is said: zones that match agree at
//! every instant a log can carry, so which one is only a name (often a
//! link's, `Asia/Chongqing` for `Asia/Shanghai`: chrono-tz does not tell
//! links apart). When none matches (tz data of another release with
//! different rules), a footer without daylight saving time still gives
//! its one offset; a footer with it gives nothing (evaluating its rule is
//! what a tz library does, and ours are chrono-tz's).

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, TimeZone};

use super::Zone;

/// What a TZif file gives: its transitions and footer.
#[derive(Debug, PartialEq, Eq)]
struct Tzif {
    /// (UTC seconds, offset in force from then, in seconds east).
    transitions: Vec<(i64, i32)>,
    /// The offset before the first transition.
    initial: i32,
    /// The footer's POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`), v2+.
    footer: Option<String>,
}

/// 1970-01-01: transitions before it are not checked (chrono-tz and the
/// file may keep different pre-1970 history; no node log is that old).
const SINCE: i64 = 0;

/// The zone of TZif `data`, with how it was found; `None` for data that
/// is not TZif or that matches nothing.
pub fn zone(data: &[u8]) -> Option<(Zone, String)> {
    let tzif = parse(data)?;
    let footer = tzif.footer.as_deref().and_then(footer_offsets);
    let mut matching = chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .filter(|tz| matches(&tzif, footer, *tz));
    if let Some(tz) = matching.next() {
        let label = match matching.count() {
            0 => format!("{} (its TZif rules)", tz.name()),
            n => format!("{} (its TZif rules, shared by {n} other zones)", tz.name()),
        };
        return Some((Zone::Named(tz), label));
    }
    match footer? {
        (std, None) => {
            let offset = FixedOffset::east_opt(std)?;
            Some((
                Zone::Fixed(offset),
                format!("{offset} (its TZif footer rule)"),
            ))
        }
        (_, Some(_)) => None,
    }
}

fn matches(tzif: &Tzif, footer: Option<(i32, Option<i32>)>, tz: chrono_tz::Tz) -> bool {
    let at = |secs: i64| {
        DateTime::from_timestamp(secs, 0).map(|t| {
            tz.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc()
        })
    };
    let mut before = tzif.initial;
    let mut last = SINCE;
    for &(when, offset) in &tzif.transitions {
        if when >= SINCE {
            if at(when) != Some(offset) || (before != offset && at(when - 1) != Some(before)) {
                return false;
            }
            last = when;
        }
        before = offset;
    }
    if tzif.transitions.iter().all(|&(when, _)| when < SINCE) && at(SINCE) != Some(before) {
        return false;
    }
    let Some((std, dst)) = footer else {
        return true;
    };
    // January and July of the three years after the last transition.
    let year = DateTime::from_timestamp(last, 0).map_or(1970, |t| {
        use chrono::Datelike;
        t.year()
    });
    (year + 1..=year + 3).all(|y| {
        let mid = |month| {
            NaiveDate::from_ymd_opt(y, month, 15)
                .and_then(|d| d.and_hms_opt(12, 0, 0))
                .map(|t| t.and_utc().timestamp())
                .and_then(at)
        };
        let (jan, jul) = (mid(1), mid(7));
        match dst {
            None => jan == Some(std) && jul == Some(std),
            Some(dst) => {
                let mut seen = [jan, jul];
                let mut want = [Some(std), Some(dst)];
                seen.sort_unstable();
                want.sort_unstable();
                seen == want
            }
        }
    })
}

/// Parses TZif data (RFC 8536 §3): the version 2+ block when present
/// (64-bit times and the footer), else version 1's.
fn parse(data: &[u8]) -> Option<Tzif> {
    let (v1, rest) = block(data, 4)?;
    if data.get(4).copied().unwrap_or(0) < b'2' {
        return Some(v1);
    }
    let (v2, rest) = block(rest, 8)?;
    let footer = rest
        .strip_prefix(b"\n")
        .and_then(|f| f.split(|&b| b == b'\n').next())
        .and_then(|f| std::str::from_utf8(f).ok())
        .filter(|f| !f.is_empty())
        .map(str::to_string);
    Some(Tzif { footer, ..v2 })
}

/// One header and data block with `width`-byte times; the bytes after it.
fn block(data: &[u8], width: usize) -> Option<(Tzif, &[u8])> {
    if data.get(..4)? != b"TZif" {
        return None;
    }
    let count = |i: usize| -> Option<usize> {
        let b = data.get(20 + 4 * i..24 + 4 * i)?;
        usize::try_from(u32::from_be_bytes(b.try_into().ok()?)).ok()
    };
    let (isut, isstd, leap, time, types, chars) = (
        count(0)?,
        count(1)?,
        count(2)?,
        count(3)?,
        count(4)?,
        count(5)?,
    );
    let body = data.get(44..)?;
    let times = body.get(..time.checked_mul(width)?)?;
    let indexes = body.get(time * width..time * (width + 1))?;
    let types_at = time * (width + 1);
    let type_bytes = body.get(types_at..types_at.checked_add(types.checked_mul(6)?)?)?;
    let len = types_at + types * 6 + chars + leap * (width + 4) + isstd + isut;
    let rest = body.get(len..)?;
    let utoff = |t: usize| -> Option<i32> {
        let b = type_bytes.get(6 * t..6 * t + 4)?;
        Some(i32::from_be_bytes(b.try_into().ok()?))
    };
    let mut transitions = Vec::with_capacity(time);
    for (i, &index) in indexes.iter().enumerate() {
        let raw = times.get(i * width..(i + 1) * width)?;
        let when = if width == 8 {
            i64::from_be_bytes(raw.try_into().ok()?)
        } else {
            i64::from(i32::from_be_bytes(raw.try_into().ok()?))
        };
        transitions.push((when, utoff(usize::from(index))?));
    }
    let tzif = Tzif {
        transitions,
        initial: utoff(0)?,
        footer: None,
    };
    Some((tzif, rest))
}

/// The standard and daylight saving offsets (seconds east) of a POSIX TZ
/// string (`CET-1CEST,M3.5.0,M10.5.0/3`, `<+08>-8`, `EST5EDT,…`): POSIX
/// counts hours west, so the sign is turned. The rule's dates are not read.
fn footer_offsets(tz: &str) -> Option<(i32, Option<i32>)> {
    let (std, rest) = offset_after_name(tz)?;
    if rest.is_empty() {
        return Some((std, None));
    }
    let (name, after) = name(rest)?;
    if name.is_empty() {
        return None;
    }
    // The DST offset defaults to an hour ahead of standard time.
    let dst = match after.chars().next() {
        Some(',') | None => std + 3600,
        _ => offset(after)?.0,
    };
    Some((std, Some(dst)))
}

fn offset_after_name(s: &str) -> Option<(i32, &str)> {
    let (name, rest) = name(s)?;
    if name.len() < 3 {
        return None;
    }
    offset(rest)
}

/// A zone name: letters, or anything between `<` and `>`.
fn name(s: &str) -> Option<(&str, &str)> {
    if let Some(quoted) = s.strip_prefix('<') {
        let end = quoted.find('>')?;
        return Some((&quoted[..end], &quoted[end + 1..]));
    }
    let end = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

/// `[+-]hh[:mm[:ss]]` hours west, as seconds east, and what follows.
fn offset(s: &str) -> Option<(i32, &str)> {
    let (sign, s) = match s.as_bytes().first()? {
        b'-' => (1, &s[1..]),
        b'+' => (-1, &s[1..]),
        _ => (-1, s),
    };
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(s.len());
    let mut secs = 0i32;
    let mut unit = 3600;
    for part in s[..end].split(':') {
        if part.is_empty() || part.len() > 3 || unit == 0 {
            return None;
        }
        secs += part.parse::<i32>().ok()? * unit;
        unit /= 60;
    }
    Some((sign * secs, &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footers_give_standard_and_summer_offsets_east() {
        assert_eq!(
            footer_offsets("CET-1CEST,M3.5.0,M10.5.0/3"),
            Some((3600, Some(7200)))
        );
        assert_eq!(footer_offsets("CST-8"), Some((8 * 3600, None)));
        assert_eq!(footer_offsets("<+0530>-5:30"), Some((19800, None)));
        assert_eq!(
            footer_offsets("EST5EDT,M3.2.0,M11.1.0"),
            Some((-5 * 3600, Some(-4 * 3600)))
        );
        assert_eq!(footer_offsets("<-03>3"), Some((-3 * 3600, None)));
        assert_eq!(footer_offsets(""), None);
        assert_eq!(footer_offsets("X"), None);
    }

    #[test]
    fn not_tzif_and_torn_tzif_give_nothing() {
        assert!(zone(b"Europe/Berlin\n").is_none());
        assert!(zone(b"TZif2").is_none());
        let berlin = include_bytes!("../../tests/fixtures/zones/Europe-Berlin.tzif");
        for cut in [10, 44, 100, berlin.len() / 2] {
            // Torn inside the v1 block: nothing; never a panic.
            let _ = zone(&berlin[..cut]);
        }
    }

    #[test]
    fn debian_berlin_is_read_as_berlin_rules() {
        let berlin = include_bytes!("../../tests/fixtures/zones/Europe-Berlin.tzif");
        let (zone, how) = zone(berlin).unwrap();
        let summer = NaiveDate::from_ymd_opt(2026, 7, 5)
            .and_then(|d| d.and_hms_opt(8, 0, 0))
            .unwrap();
        let winter = NaiveDate::from_ymd_opt(2026, 1, 5)
            .and_then(|d| d.and_hms_opt(8, 0, 0))
            .unwrap();
        assert_eq!(zone.offset_at(summer).local_minus_utc(), 7200);
        assert_eq!(zone.offset_at(winter).local_minus_utc(), 3600);
        assert!(how.contains("TZif"), "{how}");
    }
}
