//! journalctl's `-o short-delta` output: the time since boot, the time
//! since the previous entry in angle brackets, then `host unit[pid]: message`.
//!
//! ```text
//! [ 7265.418733                ] ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343 …     (the first entry: no delta)
//! [ 7266.418733 <    1.000000 >] ecs-prod-003 dockerd[1203]: INFO[2023-05-01T11:03:38…] …
//! [ 7267.417733 <    0.999000 >] ecs-prod-003 kernel: INFO: task fluentd:4242 blocked …
//! ```
//! (As systemd 252's journalctl prints it: `tests/fixtures/journalctl/short-delta.txt`.)
//! The first number is `short-monotonic`'s, so the stamp is
//! [`Stamp::SinceBoot`], placed by the boot time as dmesg's is; the delta
//! is not kept.

use std::borrow::Cow;
use std::time::Duration;

use nom::{
    bytes::complete::{take_while, take_while1},
    character::complete::char,
    combinator::opt,
    sequence::{delimited, preceded, terminated},
    IResult,
};

use super::lex::{fraction, number, syslog_tag, word};
use super::Envelope;
use crate::time::Stamp;

/// Parses `line` as a `short-delta` line, or `None`:
/// `[<seconds>.<µs> [<<delta> >]] <host> <program>[<pid>]: <message>`.
///
/// ```
/// let line = b"[ 7266.418733 <    1.000000 >] ecs-prod-003 dockerd[1203]: x";
/// let e = podmortem::format::journal_delta::parse(line).unwrap();
/// assert_eq!(e.program.as_deref(), Some(&b"dockerd"[..]));
/// assert_eq!(e.message.as_ref(), b"x");
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    if line.first() != Some(&b'[') {
        return None;
    }
    envelope(line).ok().map(|(_, e)| e)
}

fn envelope(i: &[u8]) -> IResult<&[u8], Envelope<'_>> {
    let (i, since) = preceded(char('['), preceded(spaces, seconds))(i)?;
    // The delta, or the blank that stands for it on the first entry; a
    // plain `[ 4174.552171]` (dmesg, short-monotonic) has neither.
    let (i, pad) = spaces(i)?;
    let (i, delta) = opt(delimited(
        char('<'),
        preceded(spaces, seconds),
        preceded(spaces, char('>')),
    ))(i)?;
    if pad.is_empty() || (delta.is_none() && pad.len() < 8) {
        return Err(super::lex::fail(i));
    }
    let (i, _) = terminated(char(']'), char(' '))(i)?;
    let (i, host) = terminated(word, char(' '))(i)?;
    let (message, (program, pid)) = syslog_tag(i)?;
    Ok((
        &[],
        Envelope {
            stamp: Some(Stamp::SinceBoot(since)),
            since_boot: None,
            host: Some(Cow::Borrowed(host)),
            program: Some(Cow::Borrowed(program)),
            pid,
            message: Cow::Borrowed(message),
        },
    ))
}

fn spaces(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(|c| c == b' ')(i)
}

/// `7265.418733` as a duration.
fn seconds(i: &[u8]) -> IResult<&[u8], Duration> {
    let (i, whole) = terminated(number, char('.'))(i)?;
    let (rest, _) = take_while1(|c: u8| c.is_ascii_digit())(i)?;
    let (_, nanos) = fraction(i)?;
    Ok((rest, Duration::new(u64::from(whole), nanos)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journalctl_short_delta_lines() {
        let text = include_str!("../../tests/fixtures/journalctl/short-delta.txt");
        let all: Vec<Envelope<'_>> = text.lines().map(|l| parse(l.as_bytes()).unwrap()).collect();
        assert_eq!(
            all[0].stamp,
            Some(Stamp::SinceBoot(Duration::from_micros(7_265_418_733)))
        );
        assert_eq!(all[0].program.as_deref(), Some(&b"kubelet"[..]));
        assert!(all[0].message.starts_with(b"E0501"));
        assert_eq!(all[2].program.as_deref(), Some(&b"kernel"[..]));
    }

    #[test]
    fn dmesg_and_short_monotonic_are_not_short_delta() {
        for line in [
            &b"[ 4174.552171] INFO: task fluentd:4242 blocked"[..],
            b"[ 7265.418733] ecs-prod-003 kubelet[4568]: x",
            b"[pod/a/b] x",
            b"",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
