//! Lexemes shared by the line parsers: fixed-width numbers, clock readings,
//! month names, dates, UTC offsets, RFC 3339 instants and the syslog tag.
//! Each parser module composes these; none re-implements them.

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::time::{PartialStamp, Stamp};
use nom::{
    branch::alt,
    bytes::complete::{take_while1, take_while_m_n},
    character::complete::{char, one_of},
    combinator::{map_opt, opt},
    sequence::preceded,
    IResult,
};

/// Exactly `n` ASCII digits as a number.
pub fn fixed_digits(n: usize) -> impl Fn(&[u8]) -> IResult<&[u8], u32> {
    move |i| {
        map_opt(
            take_while_m_n(n, n, |c: u8| c.is_ascii_digit()),
            ascii_number,
        )(i)
    }
}

/// One or more ASCII digits (at most 10) as a number.
pub fn number(i: &[u8]) -> IResult<&[u8], u32> {
    map_opt(
        take_while_m_n(1, 10, |c: u8| c.is_ascii_digit()),
        ascii_number,
    )(i)
}

fn ascii_number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// A time of day `hh:mm:ss` with an optional `.fraction` (1–9 digits),
/// as `(hour, minute, second, nanos)`.
pub fn clock(i: &[u8]) -> IResult<&[u8], (u32, u32, u32, u32)> {
    let (i, hour) = fixed_digits(2)(i)?;
    let (i, minute) = preceded(char(':'), fixed_digits(2))(i)?;
    let (i, second) = preceded(char(':'), fixed_digits(2))(i)?;
    let (i, nanos) = opt(preceded(alt((char('.'), char(','))), fraction))(i)?;
    if hour > 23 || minute > 59 || second > 60 {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    Ok((i, (hour, minute, second, nanos.unwrap_or(0))))
}

/// Fractional seconds as nanoseconds; digits past the ninth are dropped.
pub fn fraction(i: &[u8]) -> IResult<&[u8], u32> {
    let (rest, digits) = take_while_m_n(1, 12, |c: u8| c.is_ascii_digit())(i)?;
    let nanos = digits
        .iter()
        .chain(std::iter::repeat(&b'0'))
        .take(9)
        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    Ok((rest, nanos))
}

/// A month name as `%b` prints it, as 1–12: English (`Jan`…`Dec`) or one
/// of the other locales in [`MONTH_NAMES`], or a CJK numeric month (`5月`,
/// ` 5月` as ja_JP pads it, `5월`). journalctl's `short` output and
/// `dmesg -T` print the month in the system locale; rsyslog always in
/// English, so English is tried first, on three bytes (and inline: syslog
/// reads a month on every line).
#[inline]
pub fn month_name(i: &[u8]) -> IResult<&[u8], u32> {
    if let [a, b, c, next @ ..] = i {
        let key = u32::from_le_bytes([*a, *b, *c, 0]);
        // `Sep` must not cut `Sept` short: a letter or a dot after the three
        // bytes sends the word to the full table.
        let whole = next
            .first()
            .is_none_or(|&c| !c.is_ascii_alphabetic() && c != b'.');
        if let (Some(p), true) = (ENGLISH.iter().position(|&k| k == key), whole) {
            return Ok((next, p as u32 + 1));
        }
    }
    localized_month(i)
}

/// The longest name in [`MONTH_NAMES`] that `i` starts with, else a CJK
/// numeric month. Kept out of line: English lines never get here.
#[inline(never)]
fn localized_month(i: &[u8]) -> IResult<&[u8], u32> {
    if let Some((name, month)) = MONTH_NAMES
        .iter()
        .filter(|(name, _)| i.starts_with(name.as_bytes()))
        .max_by_key(|(name, _)| name.len())
    {
        return Ok((&i[name.len()..], *month));
    }
    numeric_month(i)
}

/// The English names at the head of [`MONTH_NAMES`], each as one number.
const ENGLISH: [u32; 12] = {
    let mut keys = [0; 12];
    let mut m = 0;
    while m < 12 {
        let name = MONTH_NAMES[m].0.as_bytes();
        keys[m] = u32::from_le_bytes([name[0], name[1], name[2], 0]);
        m += 1;
    }
    keys
};

/// Month abbreviations (glibc's `abmon`, plus older spellings still seen),
/// English first. Where one spelling is a prefix of another (`mar`,
/// `mars`), the longest that fits wins.
pub const MONTH_NAMES: &[(&str, u32)] = &[
    // English (C, en_US), in order: [`month_name`]'s fast path reads these.
    ("Jan", 1),
    ("Feb", 2),
    ("Mar", 3),
    ("Apr", 4),
    ("May", 5),
    ("Jun", 6),
    ("Jul", 7),
    ("Aug", 8),
    ("Sep", 9),
    ("Oct", 10),
    ("Nov", 11),
    ("Dec", 12),
    // So that `Sept` is not read as `Sep` and a stray `t`.
    ("Sept", 9),
    // German (de_DE; `Mrz` before glibc 2.26)
    ("Mär", 3),
    ("Mrz", 3),
    ("Mai", 5),
    ("Okt", 10),
    ("Dez", 12),
    // French (fr_FR; `fév`, `avr`, `aoû`, `déc` in older glibc)
    ("janv.", 1),
    ("févr.", 2),
    ("fév", 2),
    ("mars", 3),
    ("avr.", 4),
    ("avr", 4),
    ("avril", 4),
    ("mai", 5),
    ("juin", 6),
    ("juil.", 7),
    ("août", 8),
    ("aoû", 8),
    ("sept.", 9),
    ("oct.", 10),
    ("nov.", 11),
    ("déc.", 12),
    ("déc", 12),
    // Spanish (es_ES)
    ("ene", 1),
    ("feb", 2),
    ("mar", 3),
    ("abr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("ago", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dic", 12),
    // Italian (it_IT)
    ("gen", 1),
    ("apr", 4),
    ("mag", 5),
    ("giu", 6),
    ("lug", 7),
    ("set", 9),
    ("ott", 10),
    // Portuguese (pt_PT, pt_BR)
    ("jan", 1),
    ("fev", 2),
    ("out", 10),
    ("dez", 12),
    // Dutch (nl_NL)
    ("mrt", 3),
    ("mei", 5),
    ("aug", 8),
    ("okt", 10),
    ("dec", 12),
];

/// `5月`, ` 5月`, `12月` (Chinese, Japanese) and `5월` (Korean).
fn numeric_month(i: &[u8]) -> IResult<&[u8], u32> {
    let (i, _) = opt(space)(i)?;
    let (i, month) = map_opt(
        take_while_m_n(1, 2, |c: u8| c.is_ascii_digit()),
        ascii_number,
    )(i)?;
    let i = ["月", "월"]
        .iter()
        .find_map(|suffix| i.strip_prefix(suffix.as_bytes()))
        .ok_or_else(|| fail(i))?;
    if !(1..=12).contains(&month) {
        return Err(fail(i));
    }
    Ok((i, month))
}

/// `YYYY-MM-DD` as `(year, month, day)`.
pub fn date(i: &[u8]) -> IResult<&[u8], (i32, u32, u32)> {
    let (i, year) = fixed_digits(4)(i)?;
    let (i, month) = preceded(char('-'), fixed_digits(2))(i)?;
    let (i, day) = preceded(char('-'), fixed_digits(2))(i)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(fail(i));
    }
    Ok((i, (year as i32, month, day)))
}

/// A UTC offset: `Z`, `±HH:MM` or `±HHMM`.
pub fn utc_offset(i: &[u8]) -> IResult<&[u8], FixedOffset> {
    let (i, sign) = one_of("Zz+-")(i)?;
    let sign = match sign {
        '+' => 1,
        '-' => -1,
        _ => return Ok((i, FixedOffset::east_opt(0).ok_or_else(|| fail(i))?)),
    };
    let (i, hours) = fixed_digits(2)(i)?;
    let (i, _) = opt(|i| char(':')(i))(i)?;
    let (i, minutes) = fixed_digits(2)(i)?;
    if hours > 23 || minutes > 59 {
        return Err(fail(i));
    }
    let offset = FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60) as i32);
    Ok((i, offset.ok_or_else(|| fail(i))?))
}

/// An RFC 3339 instant, `2023-05-01T11:03:56.123456+08:00`, whose fraction
/// (if any) follows `mark` (`.` as RFC 3339 has it, `,` as `dmesg` prints
/// it); the offset may also be `+0800` (journalctl `short-iso`) or `Z`.
pub fn rfc3339(mark: u8) -> impl Fn(&[u8]) -> IResult<&[u8], DateTime<FixedOffset>> {
    move |i| {
        let (i, (year, month, day)) = date(i)?;
        let (i, _) = char('T')(i)?;
        if matches!(i.get(8), Some(b'.' | b',')) && i[8] != mark {
            return Err(fail(i));
        }
        let (i, (hour, minute, second, nanos)) = clock(i)?;
        let (i, offset) = utc_offset(i)?;
        let instant = instant(offset, (year, month, day), (hour, minute, second, nanos));
        Ok((i, instant.ok_or_else(|| fail(i))?))
    }
}

/// An ISO 8601 date and time with `T` or a space between them and an
/// optional offset: `2025-01-18 08:42:12.584`,
/// `2023-05-01T11:03:56.123456+08:00`. With an offset it is an instant,
/// without one a local reading with its year.
pub fn datetime(i: &[u8]) -> IResult<&[u8], Stamp> {
    let (i, (year, month, day)) = date(i)?;
    let (i, _) = one_of("T ")(i)?;
    let (i, hms) = clock(i)?;
    let (i, offset) = opt(utc_offset)(i)?;
    let stamp = match offset {
        Some(offset) => {
            Stamp::Absolute(instant(offset, (year, month, day), hms).ok_or_else(|| fail(i))?)
        }
        None => {
            NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| fail(i))?;
            Stamp::Local(PartialStamp::new(Some(year), month, day, hms))
        }
    };
    Ok((i, stamp))
}

/// The instant a date and clock reading denote at `offset`; `None` for
/// impossible dates (Feb 30). A leap second (`:60`) is kept as chrono keeps
/// it.
pub fn instant(
    offset: FixedOffset,
    (year, month, day): (i32, u32, u32),
    (hour, minute, second, nanos): (u32, u32, u32, u32),
) -> Option<DateTime<FixedOffset>> {
    let (second, nanos) = if second == 60 {
        (59, nanos + 1_000_000_000)
    } else {
        (second, nanos)
    };
    NaiveDate::from_ymd_opt(year, month, day)?
        .and_hms_nano_opt(hour, minute, second, nanos)?
        .and_local_timezone(offset)
        .single()
}

/// A weekday as `%a` prints it (`Mon`, or the locale's: `Mo`, `lun.`,
/// `月`): a short word of letters, dots or non-ASCII bytes. Not checked
/// against the date.
pub fn weekday(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while_m_n(1, 16, |c: u8| {
        c.is_ascii_alphabetic() || c == b'.' || c >= 0x80
    })(i)
}

/// A run of bytes up to the next space (a host name, a zone).
pub fn word(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while1(|c| c != b' ')(i)
}

/// The syslog TAG and the colon after it: `kubelet[4568]: ` or `kernel: `,
/// as `(program, pid)`; one space after the colon is part of the header.
/// A program is not all digits: `11:03:37` after a word is a klog time,
/// not a tag.
pub fn syslog_tag(i: &[u8]) -> IResult<&[u8], (&[u8], Option<u32>)> {
    let (i, program) = take_while1(|c| !matches!(c, b'[' | b':' | b' '))(i)?;
    if program.iter().all(u8::is_ascii_digit) {
        return Err(fail(i));
    }
    let (i, pid) = opt(pid)(i)?;
    let (i, _) = char(':')(i)?;
    let (i, _) = opt(space)(i)?;
    Ok((i, (program, pid)))
}

/// `[4568]`.
fn pid(i: &[u8]) -> IResult<&[u8], u32> {
    let (i, _) = char('[')(i)?;
    let (i, pid) = number(i)?;
    let (i, _) = char(']')(i)?;
    Ok((i, pid))
}

/// One space, the separator of header fields.
///
/// The newer parsers write `opt(space)` or a plain sequence where
/// [`super::syslog`] writes `opt(char(' '))`, `terminated(month_name,
/// char(' '))` or `delimited(char('['), number, char(']'))`: a generic nom
/// instance that other parsers share is no longer inlined into syslog's,
/// which made the syslog fast path 11% slower (4% without the sharing).
pub fn space(i: &[u8]) -> IResult<&[u8], char> {
    char(' ')(i)
}

/// A nom error for a parse that read the right shape but a wrong value.
pub fn fail(i: &[u8]) -> nom::Err<nom::error::Error<&[u8]>> {
    nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_fractions_of_any_precision() {
        assert_eq!(
            clock(b"11:03:37.635343 x").unwrap().1,
            (11, 3, 37, 635_343_000)
        );
        assert_eq!(clock(b"00:10:24").unwrap().1, (0, 10, 24, 0));
        assert_eq!(clock(b"10:47:56,381").unwrap().1, (10, 47, 56, 381_000_000));
        assert_eq!(
            clock(b"00:10:24.148458112999").unwrap().1,
            (0, 10, 24, 148_458_112)
        );
        assert!(clock(b"25:00:00").is_err());
        assert!(clock(b"1:00:00").is_err());
    }

    #[test]
    fn english_months_take_three_bytes() {
        assert_eq!(month_name(b"May  2").unwrap(), (&b"  2"[..], 5));
        assert_eq!(month_name(b"Dec").unwrap().1, 12);
        assert_eq!(month_name(b"Sep 30").unwrap(), (&b" 30"[..], 9));
        assert_eq!(month_name(b"Sept 30").unwrap(), (&b" 30"[..], 9));
        assert!(month_name(b"MAY 1").is_err());
        assert!(month_name(b"Mon 2023").is_err());
    }

    #[test]
    fn months_in_other_locales() {
        for (text, month) in [
            ("Mär 01", 3),
            ("Mrz 01", 3),
            ("Mai 01", 5),
            ("Okt 01", 10),
            ("Dez 01", 12),
            ("janv. 01", 1),
            ("févr. 01", 2),
            ("mars 01", 3),
            ("avr. 01", 4),
            ("mai 01", 5),
            ("juin 01", 6),
            ("juil. 01", 7),
            ("août 01", 8),
            ("sept. 01", 9),
            ("déc. 01", 12),
            ("ene 01", 1),
            ("mar 01", 3),
            ("may 01", 5),
            ("ago 01", 8),
            ("dic 01", 12),
            ("5月 01", 5),
            (" 5月 01", 5),
            ("12月 01", 12),
            (" 5월 01", 5),
        ] {
            let (rest, m) = month_name(text.as_bytes()).unwrap();
            assert_eq!((rest, m), (&b" 01"[..], month), "{text}");
        }
        for bad in ["13月 01", "5 01", "Mo 01", "", "月"] {
            assert!(month_name(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn month_table_is_consistent() {
        for (i, (name, month)) in MONTH_NAMES.iter().enumerate() {
            assert!((1..=12).contains(month), "{name}");
            assert!(
                MONTH_NAMES[i + 1..].iter().all(|(other, _)| other != name),
                "{name} twice"
            );
        }
        for (month, (_, m)) in (1..=12).zip(&MONTH_NAMES[..12]) {
            assert_eq!(month, *m, "English first, in order");
        }
    }

    #[test]
    fn rfc3339_instants_and_their_offsets() {
        let at = |text: &str, mark| {
            rfc3339(mark)(text.as_bytes())
                .map(|(rest, t)| (t.to_rfc3339(), rest.len()))
                .ok()
        };
        assert_eq!(
            at("2023-05-01T11:03:56.123456+08:00 x", b'.'),
            Some(("2023-05-01T11:03:56.123456+08:00".into(), 2))
        );
        assert_eq!(
            at("2023-05-01T11:03:56+0800", b'.'),
            Some(("2023-05-01T11:03:56+08:00".into(), 0))
        );
        assert_eq!(
            at("2023-05-01T03:03:56.123456789Z", b'.'),
            Some(("2023-05-01T03:03:56.123456789+00:00".into(), 0))
        );
        assert_eq!(
            at("2023-05-01T11:03:56,123456+08:00", b','),
            Some(("2023-05-01T11:03:56.123456+08:00".into(), 0))
        );
        assert_eq!(
            at("2016-12-31T23:59:60Z", b'.').map(|(_, n)| n),
            Some(0),
            "leap second"
        );
        for bad in [
            "2023-05-01T11:03:56,123456+08:00",
            "2023-05-01 11:03:56+08:00",
            "2023-02-30T11:03:56Z",
            "2023-13-01T11:03:56Z",
            "2023-05-01T11:03:56",
            "2023-05-01T11:03:56+8:00",
            "2023-05-01T11:03:56+24:00",
        ] {
            assert_eq!(at(bad, b'.'), None, "{bad}");
        }
    }

    #[test]
    fn iso_datetimes_with_a_space_or_a_t() {
        let local = |text: &str| match datetime(text.as_bytes()) {
            Ok((_, Stamp::Local(p))) => Some((p.year, p.month, p.day, p.hour, p.nanos)),
            _ => None,
        };
        assert_eq!(
            local("2025-01-18 08:42:12.584 host"),
            Some((Some(2025), 1, 18, 8, 584_000_000))
        );
        assert!(matches!(
            datetime(b"2023-05-01T11:03:56.123456+08:00"),
            Ok((_, Stamp::Absolute(_)))
        ));
        assert_eq!(local("2023-02-30 11:03:56"), None);
        assert_eq!(local("2023-05-01_11:03:56"), None);
    }

    #[test]
    fn syslog_tags_with_and_without_pid() {
        assert_eq!(
            syslog_tag(b"kubelet[4568]: E0501").unwrap(),
            (&b"E0501"[..], (&b"kubelet"[..], Some(4568)))
        );
        assert_eq!(
            syslog_tag(b"kernel: [ 1.0]").unwrap(),
            (&b"[ 1.0]"[..], (&b"kernel"[..], None))
        );
        assert!(syslog_tag(b"stderr F x").is_err());
        assert!(syslog_tag(b"11:03:37.635343 x").is_err(), "a klog time");
        assert!(syslog_tag(b": x").is_err());
    }
}
