//! journalctl's `-o short-unix` output: seconds since the epoch with their
//! microseconds, then the usual `host unit[pid]: message`.
//!
//! ```text
//! 1682910217.635343 ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] …
//! 1682910219.635343 ecs-prod-003 kernel: INFO: task fluentd:4242 blocked for more than 120 seconds.
//! ```
//! (As systemd 252's journalctl prints it: `tests/fixtures/journalctl/short-unix.txt`.)
//! The time is an instant in UTC, so the stamp is [`Stamp::Absolute`].

use std::borrow::Cow;

use chrono::DateTime;
use nom::{
    bytes::complete::take_while_m_n, character::complete::char, sequence::terminated, IResult,
};

use super::lex::{fail, fraction, syslog_tag, word};
use super::Envelope;
use crate::time::Stamp;

/// Parses `line` as a `short-unix` line, or `None`:
/// `<seconds>.<fraction> <host> <program>[<pid>]: <message>`.
///
/// ```
/// let line = b"1682910217.635343 ecs-prod-003 kubelet[4568]: E0501 x";
/// let e = podmortem::format::journal_unix::parse(line).unwrap();
/// assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
/// assert_eq!(e.message.as_ref(), b"E0501 x");
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    // Ten digits and a dot (the epoch seconds of 2001–2286).
    if line.get(10) != Some(&b'.') || !line[0].is_ascii_digit() {
        return None;
    }
    envelope(line).ok().map(|(_, e)| e)
}

fn envelope(i: &[u8]) -> IResult<&[u8], Envelope<'_>> {
    let (i, seconds) = take_while_m_n(10, 10, |c: u8| c.is_ascii_digit())(i)?;
    let (i, _) = char('.')(i)?;
    let (i, nanos) = terminated(fraction, char(' '))(i)?;
    let (i, host) = terminated(word, char(' '))(i)?;
    let (message, (program, pid)) = syslog_tag(i)?;
    let seconds: i64 = std::str::from_utf8(seconds)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| fail(i))?;
    let at = DateTime::from_timestamp(seconds, nanos).ok_or_else(|| fail(i))?;
    Ok((
        &[],
        Envelope {
            stamp: Some(Stamp::Absolute(at.fixed_offset())),
            since_boot: None,
            host: Some(Cow::Borrowed(host)),
            program: Some(Cow::Borrowed(program)),
            pid,
            message: Cow::Borrowed(message),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journalctl_short_unix_lines() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/journalctl/short-unix.txt"
        ))
        .unwrap();
        let lines: Vec<Envelope<'_>> = text.lines().map(|l| parse(l.as_bytes()).unwrap()).collect();
        let Some(Stamp::Absolute(t)) = lines[0].stamp else {
            panic!("absolute stamp expected")
        };
        assert_eq!(t.to_rfc3339(), "2023-05-01T03:03:37.635343+00:00");
        assert_eq!(lines[0].pid, Some(4568));
        assert_eq!(lines[2].program.as_deref(), Some(&b"kernel"[..]));
        assert!(lines[2].message.starts_with(b"INFO: task fluentd:4242"));
    }

    #[test]
    fn near_misses_are_rejected() {
        for line in [
            &b"[ 7265.418733] ecs-prod-003 kubelet[4568]: x"[..],
            b"1682910217 ecs-prod-003 kubelet[4568]: x",
            b"1682910217.635343 ecs-prod-003",
            b"2023-05-01 10:47:56.381 [INFO][88861] ipam.go 1172: x",
            b"",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
