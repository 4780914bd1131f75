//! journalctl's `-o short-full` output: the weekday, the full date, the time
//! and the zone abbreviation, then the usual `host unit[pid]: message`.
//!
//! ```text
//! Mon 2023-05-01 11:03:37 CST ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343 …
//! Mon 2023-05-01 11:03:37.635343 CST ecs-prod-003 kubelet[4568]: …   (a fraction of a second is accepted)
//! Mon 2023-05-01 03:03:37 UTC ecs-prod-003 kernel: IPv6: ADDRCONF(NETDEV_CHANGE): …
//! Mon 2023-05-01 11:03:37 +08 ecs-prod-003 kubelet[4568]: …            (zones without an abbreviation)
//! ```
//! The format is systemd's `format_timestamp()` (`%a %Y-%m-%d %H:%M:%S %Z`,
//! journalctl(1) `short-full`). A zone abbreviation does not name one
//! offset (`CST` is China, US Central and Cuba Standard Time), so such
//! stamps are [`Stamp::Local`] with their year, and the input's zone is
//! inferred as for syslog; `UTC`, `GMT` and numeric zones (`+08`, `-0330`)
//! are exact and give [`Stamp::Absolute`]. The weekday is not checked
//! against the date.

use std::borrow::Cow;

use chrono::FixedOffset;
use nom::{character::complete::char, sequence::terminated, IResult};

use super::lex::{clock, date, fail, instant, space, syslog_tag, weekday, word};
use super::Envelope;
use crate::time::{parse_offset, PartialStamp, Stamp};

/// Parses the header of `line`, or `None` when it is not a `short-full`
/// line: `<weekday> <YYYY-MM-DD> <hh:mm:ss[.ffffff]> <zone> <host> <program>[<pid>]: <message>`.
///
/// ```
/// let line = b"Mon 2023-05-01 11:03:37 CST ecs-prod-003 kubelet[4568]: E0501 x";
/// let e = podmortem::format::journal_full::parse(line).unwrap();
/// assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
/// assert_eq!(e.message.as_ref(), b"E0501 x");
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    // A weekday, then a space and a four-digit year within a few bytes.
    let first = *line.first()?;
    if first.is_ascii_digit() || matches!(first, b' ' | b'[' | b'{' | b'<') {
        return None;
    }
    envelope(line).ok().map(|(_, e)| e)
}

fn envelope(i: &[u8]) -> IResult<&[u8], Envelope<'_>> {
    let (i, _) = terminated(weekday, char(' '))(i)?;
    let (i, ymd) = terminated(date, char(' '))(i)?;
    let (i, hms) = clock(i)?;
    let (i, _) = space(i)?;
    let (i, zone) = terminated(word, char(' '))(i)?;
    let (i, host) = terminated(word, char(' '))(i)?;
    let (message, (program, pid)) = syslog_tag(i)?;
    let stamp = stamp(zone, ymd, hms).ok_or_else(|| fail(zone))?;
    Ok((
        &[],
        Envelope {
            stamp: Some(stamp),
            since_boot: None,
            host: Some(Cow::Borrowed(host)),
            program: Some(Cow::Borrowed(program)),
            pid,
            message: Cow::Borrowed(message),
        },
    ))
}

/// The stamp a zone makes of a date and time: exact for `UTC`, `GMT` and
/// numeric zones, local (with its year) for abbreviations; `None` when the
/// zone is neither, or the date impossible.
fn stamp(
    zone: &[u8],
    (year, month, day): (i32, u32, u32),
    (hour, minute, second, nanos): (u32, u32, u32, u32),
) -> Option<Stamp> {
    let exact = match zone {
        b"UTC" | b"GMT" => FixedOffset::east_opt(0),
        [b'+' | b'-', ..] => parse_offset(std::str::from_utf8(zone).ok()?),
        _ if is_abbreviation(zone) => {
            return Some(Stamp::Local(PartialStamp::new(
                Some(year),
                month,
                day,
                (hour, minute, second, nanos),
            )));
        }
        _ => None,
    }?;
    let at = instant(exact, (year, month, day), (hour, minute, second, nanos))?;
    Some(Stamp::Absolute(at))
}

/// Whether a zone word is an abbreviation (`CEST`): letters, 2 to 6, not
/// `UTC` or `GMT`.
fn is_abbreviation(zone: &[u8]) -> bool {
    !matches!(zone, b"UTC" | b"GMT")
        && (2..=6).contains(&zone.len())
        && zone.iter().all(u8::is_ascii_alphabetic)
}

/// The zone abbreviation of a `short-full` line (`CEST`), which its
/// [`Stamp::Local`] leaves out: [`learn`](crate::time::learn) finds the
/// zones that print it. `None` for other lines and exact zones.
pub fn abbreviation(line: &[u8]) -> Option<&[u8]> {
    fn zone(i: &[u8]) -> IResult<&[u8], &[u8]> {
        let (i, _) = terminated(weekday, char(' '))(i)?;
        let (i, _) = terminated(date, char(' '))(i)?;
        let (i, _) = clock(i)?;
        let (i, _) = space(i)?;
        terminated(word, char(' '))(i)
    }
    let (_, name) = zone(line).ok()?;
    is_abbreviation(name).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_line_in_an_abbreviated_zone_is_local_with_its_year() {
        let line = br#"Mon 2023-05-01 11:03:37 CST ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded" containerID="fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469""#;
        let e = parse(line).unwrap();
        let Some(Stamp::Local(s)) = e.stamp else {
            panic!("local stamp expected")
        };
        assert_eq!(
            (s.year, s.month, s.day, s.hour, s.minute, s.second),
            (Some(2023), 5, 1, 11, 3, 37)
        );
        assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
        assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(e.pid, Some(4568));
        assert!(e.message.starts_with(b"E0501 11:03:37.635343    4568"));
    }

    #[test]
    fn utc_gmt_and_numeric_zones_are_exact() {
        for (line, expected) in [
            (
                &b"Mon 2023-05-01 03:22:19 UTC ecs-prod-003 kernel: IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready"[..],
                "2023-05-01T03:22:19+00:00",
            ),
            (
                b"Tue 2023-05-02 00:10:24.148458 GMT ecs-prod-003 dockerd[1201]: time=\"2023-05-02T00:10:24.148458112+08:00\" level=info msg=\"x\"",
                "2023-05-02T00:10:24.148458+00:00",
            ),
            (
                b"Tue 2023-05-02 00:10:24 +08 ecs-prod-003 dockerd[1201]: x",
                "2023-05-02T00:10:24+08:00",
            ),
        ] {
            let Some(Stamp::Absolute(t)) = parse(line).unwrap().stamp else {
                panic!("absolute stamp expected")
            };
            assert_eq!(t.to_rfc3339(), expected);
        }
    }

    #[test]
    fn near_misses_are_rejected() {
        for line in [
            // Plain `short`: no weekday, no year.
            &b"May 01 11:03:56 ecs-prod-003 kubelet[4568]: x"[..],
            b"Mon 2023-05-01 11:03:56 CST ecs-prod-003",
            b"Mon 2023-05-01 11:03:56 ecs-prod-003 kubelet[4568]: x",
            b"Mon 2023-05-01 11:03:56 C5T ecs-prod-003 kubelet[4568]: x",
            b"Mon 2023-02-30 11:03:56 UTC ecs-prod-003 kubelet[4568]: x",
            b"Mon May  1 11:03:56 2023 x",
            b"INFO[0001] Mon 2023-05-01 11:03:56 CST h p: x",
            b"",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
