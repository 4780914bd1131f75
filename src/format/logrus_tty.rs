//! logrus' text formatter when it writes to a terminal (dockerd or
//! containerd run in the foreground, `dockerd --debug` output pasted into a
//! file): a four-letter level, the time in brackets, the message padded to
//! 44 columns, then the fields.
//!
//! ```text
//! INFO[2019-04-11T10:39:37.413880563-07:00] Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL  container=a9acd5210705
//! WARN[0001] Running modprobe bridge br_netfilter failed with message: …
//! \x1b[36mINFO\x1b[0m[0000] Starting up                                    (colors kept)
//! ```
//! The layout is logrus' `TextFormatter.printColored`: the level is
//! upper-case and cut to four letters (`ERRO`, `FATA`, `DEBU`; whole with
//! `DisableLevelTruncation`), optionally wrapped in ANSI color codes; the
//! time is the entry's time in RFC 3339 when the formatter has
//! `FullTimestamp` (dockerd sets it, with nanoseconds), else the whole
//! seconds since the process started (`[0001]`).
//!
//! An RFC 3339 time gives [`Stamp::Absolute`]. Seconds since the process
//! started give [`Stamp::SinceStart`]: no wall time, but events on that
//! clock are ordered and their periods measured on the input's own axis.
//! Other time layouts are not read. Like raw [`super::logrus`] lines, the message is the whole line:
//! [`payload`] reads the level (and time) from it.

use std::time::Duration;

use nom::{
    bytes::complete::{tag, take_while1, take_while_m_n},
    character::complete::char,
    combinator::opt,
    sequence::delimited,
    IResult,
};

use super::lex::{fail, rfc3339};
use super::{Envelope, Level, Payload, PayloadForm};
use crate::time::Stamp;

/// Parses `line` as a logrus terminal line, or `None`:
/// `LEVL[<RFC 3339 time or seconds>] <message>  key=value…`.
///
/// ```
/// let line = b"INFO[2019-04-11T10:39:37.413880563-07:00] Container a9acd5210705 failed";
/// let e = podmortem::format::logrus_tty::parse(line).unwrap();
/// assert!(e.stamp.is_some());
/// assert_eq!(e.message.as_ref(), &line[..]);
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    payload(line).map(|p| Envelope::raw(line, p))
}

/// The level and time of a message that starts with a logrus terminal
/// header.
pub fn payload(msg: &[u8]) -> Option<Payload> {
    let (stamp, level) = read(msg)?;
    Some(Payload {
        form: PayloadForm::LogrusTty,
        stamp,
        level: Some(level),
    })
}

fn read(line: &[u8]) -> Option<(Option<Stamp>, Level)> {
    if !matches!(line.first(), Some(b'A'..=b'Z' | 0x1b)) {
        return None;
    }
    header(line).ok().map(|(_, (level, at))| (Some(at), level))
}

fn header(i: &[u8]) -> IResult<&[u8], (Level, Stamp)> {
    let (i, _) = opt(color)(i)?;
    let (i, level) = level(i)?;
    let (i, _) = opt(tag("\x1b[0m"))(i)?;
    let (i, at) = delimited(char('['), time, char(']'))(i)?;
    if !matches!(i, [] | [b' ', ..]) {
        return Err(fail(i));
    }
    Ok((i, (level, at)))
}

/// `\x1b[36m`: the ANSI color the level is printed in.
fn color(i: &[u8]) -> IResult<&[u8], &[u8]> {
    delimited(
        tag("\x1b["),
        take_while_m_n(1, 3, |c: u8| c.is_ascii_digit()),
        char('m'),
    )(i)
}

/// `INFO`, `WARN`, `ERRO`, `FATA`, `PANI`, `DEBU`, `TRAC`, or the whole
/// upper-case name.
fn level(i: &[u8]) -> IResult<&[u8], Level> {
    let (rest, name) = take_while_m_n(4, 7, |c: u8| c.is_ascii_uppercase())(i)?;
    let level = match name {
        b"INFO" => Level::Info,
        b"WARN" | b"WARNING" => Level::Warning,
        b"ERRO" | b"ERROR" => Level::Error,
        b"FATA" | b"FATAL" | b"PANI" | b"PANIC" => Level::Fatal,
        b"DEBU" | b"DEBUG" | b"TRAC" | b"TRACE" => Level::Debug,
        _ => return Err(fail(i)),
    };
    Ok((rest, level))
}

/// An RFC 3339 time, or the whole seconds since the process started.
fn time(i: &[u8]) -> IResult<&[u8], Stamp> {
    if let Ok((rest, at)) = rfc3339(b'.')(i) {
        return Ok((rest, Stamp::Absolute(at)));
    }
    let (rest, digits) = take_while1(|c: u8| c.is_ascii_digit())(i)?;
    // At most 20 digits fit a u64; longer is not a logrus counter.
    let secs = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse::<u64>().ok())
        .ok_or_else(|| fail(i))?;
    Ok((rest, Stamp::SinceStart(Duration::from_secs(secs))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerd_full_timestamp_line() {
        let line = b"INFO[2023-05-02T00:10:24.148458112+08:00] Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL  container=a9acd5210705";
        let e = parse(line).unwrap();
        let Some(Stamp::Absolute(t)) = e.stamp else {
            panic!("absolute stamp expected")
        };
        assert_eq!(t.to_rfc3339(), "2023-05-02T00:10:24.148458112+08:00");
        assert_eq!(e.message.as_ref(), &line[..]);
        let p = payload(line).unwrap();
        assert_eq!(
            (p.form, p.level, p.stamp),
            (PayloadForm::LogrusTty, Some(Level::Info), e.stamp)
        );
    }

    #[test]
    fn seconds_since_start_are_a_relative_stamp() {
        let line = b"WARN[0001] Running modprobe bridge br_netfilter failed with message: ip: can't find device 'bridge'";
        let e = parse(line).unwrap();
        assert_eq!(e.stamp, Some(Stamp::SinceStart(Duration::from_secs(1))));
        assert_eq!(payload(line).unwrap().level, Some(Level::Warning));
    }

    #[test]
    fn colored_and_untruncated_levels() {
        let line = b"\x1b[31mERRO\x1b[0m[2023-05-01T11:03:37-07:00] Handler for POST /containers/fef3e1fbee14/stop returned error: cannot stop container \x1b[31mcontainer\x1b[0m=fef3e1fbee14";
        let p = payload(line).unwrap();
        assert_eq!(p.level, Some(Level::Error));
        assert!(matches!(p.stamp, Some(Stamp::Absolute(_))));
        let p = payload(b"WARNING[0012] x").unwrap();
        assert_eq!(p.level, Some(Level::Warning));
        assert_eq!(payload(b"FATA[0000]").unwrap().level, Some(Level::Fatal));
    }

    #[test]
    fn near_misses_are_rejected() {
        for line in [
            // klog's level letter is followed by the date, not a bracket.
            &b"E0501 11:03:37.635343    4568 remote_runtime.go:276] x"[..],
            b"INFO[2023-05-01 11:03:37] custom time layout",
            b"INFO[] x",
            b"INFO[0001]x",
            b"NOTE[0001] x",
            b"Info[0001] x",
            b"[ 4174.552171] x",
            b"",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
