//! `talosctl dmesg`: Talos Linux has no shell, so its kernel log (and the
//! `[talos]` messages machined writes to /dev/kmsg) reaches a post-mortem
//! through talosctl, which prints each record as its syslog facility, its
//! level right-aligned in seven columns, the RFC 3339 time in brackets and
//! the message, with the node's address first when several nodes answer:
//!
//! ```text
//! 109.200.197.196: kern:    info: [2024-04-16T18:19:30.92421418Z]: XFS (sdb5): Ending clean mount
//! kern: warning: [2025-05-18T15:40:20.654317542Z]: RDX: 000000000052a1a4 RSI: 000000c002441020
//! user: warning: [2026-01-12T20:27:31.913975631Z]: [talos] Sending SIGKILL to cgroup {"component": …}
//! ```
//! (Real lines of siderolabs/talos#8733, #11046 and #12526.) The time is an
//! instant, so the stamp is [`Stamp::Absolute`]; `kern` records are the
//! kernel's, the others keep no program.

use std::borrow::Cow;

use nom::{
    bytes::complete::{tag, take_while1},
    character::complete::char,
    sequence::{delimited, terminated},
    IResult,
};

use super::lex::{fail, rfc3339};
use super::Envelope;
use crate::time::Stamp;

/// The syslog facilities (RFC 5424 §6.2.1 as Go's and Talos' names spell
/// them).
const FACILITIES: &[&[u8]] = &[
    b"kern",
    b"user",
    b"mail",
    b"daemon",
    b"auth",
    b"syslog",
    b"lpr",
    b"news",
    b"uucp",
    b"cron",
    b"authpriv",
    b"ftp",
    b"local0",
    b"local1",
    b"local2",
    b"local3",
    b"local4",
    b"local5",
    b"local6",
    b"local7",
];

/// The syslog severities.
const LEVELS: &[&[u8]] = &[
    b"emerg", b"alert", b"crit", b"err", b"warning", b"notice", b"info", b"debug",
];

/// Parses `line` as `talosctl dmesg` prints it, or `None`:
/// `[<node>: ]<facility>: <level>: [<RFC 3339 time>]: <message>`.
///
/// ```
/// let line = b"10.1.1.2: kern: warning: [2022-01-25T10:35:59.108125566Z]: lowmem_reserve[]: 0 0 0 0";
/// let e = podmortem::format::talos::parse(line).unwrap();
/// assert_eq!(e.host.as_deref(), Some(&b"10.1.1.2"[..]));
/// assert_eq!(e.program.as_deref(), Some(&b"kernel"[..]));
/// assert_eq!(e.message.as_ref(), b"lowmem_reserve[]: 0 0 0 0");
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    // Reject on the first bytes: a facility or a node address starts with
    // a letter or a digit and the line holds `: [` early.
    if !line.first()?.is_ascii_alphanumeric()
        || memchr::memmem::find(&line[..line.len().min(96)], b": [").is_none()
    {
        return None;
    }
    envelope(line)
        .or_else(|_| {
            let (rest, node) =
                terminated(take_while1(|c| c != b':' && c != b' '), tag(": "))(line)?;
            let (_, mut e) = envelope(rest)?;
            e.host = Some(Cow::Borrowed(node));
            Ok::<_, nom::Err<nom::error::Error<&[u8]>>>((&b""[..], e))
        })
        .ok()
        .map(|(_, e)| e)
}

fn envelope(i: &[u8]) -> IResult<&[u8], Envelope<'_>> {
    let (i, facility) = terminated(take_while1(|c: u8| c.is_ascii_alphanumeric()), tag(": "))(i)?;
    if !FACILITIES.contains(&facility) {
        return Err(fail(i));
    }
    let i = &i[i.iter().take_while(|&&c| c == b' ').count()..];
    let (i, level) = terminated(take_while1(|c: u8| c.is_ascii_alphabetic()), tag(": "))(i)?;
    if !LEVELS.contains(&level) {
        return Err(fail(i));
    }
    let (i, at) = terminated(delimited(char('['), rfc3339(b'.'), char(']')), tag(":"))(i)?;
    let message = i.strip_prefix(b" ").unwrap_or(i);
    Ok((
        &[],
        Envelope {
            stamp: Some(Stamp::Absolute(at)),
            since_boot: None,
            host: None,
            program: (facility == b"kern").then_some(Cow::Borrowed(&b"kernel"[..])),
            pid: None,
            message: Cow::Borrowed(message),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_with_and_without_a_node() {
        // Real: siderolabs/talos#8733, #11046, #12526.
        let e = parse(b"109.200.197.196: kern:  notice: [2024-04-16T18:19:36.42651618Z]: XFS (sdb6): Mounting V5 Filesystem").unwrap();
        assert_eq!(e.host.as_deref(), Some(&b"109.200.197.196"[..]));
        assert_eq!(e.message.as_ref(), b"XFS (sdb6): Mounting V5 Filesystem");
        let e = parse(b" kern:    info: [2025-05-18T15:40:20.654325542Z]: memory: usage 40964kB, limit 40960kB, failcnt 172".trim_ascii_start()).unwrap();
        assert_eq!(e.host, None);
        assert_eq!(e.program.as_deref(), Some(&b"kernel"[..]));
        let e = parse(br#"user: warning: [2026-01-12T20:27:31.913975631Z]: [talos] Sending SIGKILL to cgroup {"component": "controller-runtime"}"#).unwrap();
        assert_eq!(e.program, None);
        assert!(e.message.starts_with(b"[talos] Sending SIGKILL"));
        match e.stamp {
            Some(Stamp::Absolute(t)) => {
                assert_eq!(t.to_rfc3339(), "2026-01-12T20:27:31.913975631+00:00")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn near_misses_are_not_records() {
        for line in [
            &b"kern: warning: 2022-01-25T10:35:59Z: no brackets"[..],
            b"kernel: [ 480.096044] INFO: task kworker/u4:2:141 blocked for more than 120 seconds.",
            b"user: loud: [2026-01-12T20:27:31Z]: not a level",
            b"May  1 11:03:56 host kern: warning: [2022-01-25T10:35:59Z]: x",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
