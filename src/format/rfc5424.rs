//! The syslog protocol of RFC 5424 (§6), as rsyslog writes it with the
//! `RSYSLOG_SyslogProtocol23Format` template and as collectors forward it:
//!
//! ```text
//! <165>1 2023-05-01T11:03:56.123456+08:00 ecs-prod-003 kubelet 4568 - - E0501 11:03:37.635343 …
//! <30>1 2023-05-01T03:03:56Z ecs-prod-003 dockerd 1201 - [meta sequenceId="7"] time="…" level=info …
//! ^PRI ^VERSION ^TIMESTAMP         ^HOSTNAME  ^APP-NAME ^PROCID ^MSGID ^STRUCTURED-DATA ^MSG
//! ```
//! `-` is the nil value of any header field and of the structured data;
//! MSG may start with a UTF-8 byte order mark, which is dropped. The
//! timestamp is a full RFC 3339 instant ([`Stamp::Absolute`]); APP-NAME is
//! the program, PROCID the pid when it is a number. The structured data is
//! header, not message: the message is MSG alone.

use std::borrow::Cow;

use nom::{
    bytes::complete::{tag, take_while_m_n},
    character::complete::char,
    combinator::value,
    multi::many1_count,
    sequence::{delimited, terminated},
    IResult,
};

use super::lex::{fail, number, rfc3339};
use super::Envelope;
use crate::time::Stamp;

/// Parses `line` as an RFC 5424 message, or `None` when it is not one:
/// `<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]`.
///
/// ```
/// let line = b"<165>1 2023-05-01T11:03:56.123456+08:00 ecs-prod-003 kubelet 4568 - - E0501 x";
/// let e = podmortem::format::rfc5424::parse(line).unwrap();
/// assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
/// assert_eq!(e.pid, Some(4568));
/// assert_eq!(e.message.as_ref(), b"E0501 x");
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    if line.first() != Some(&b'<') {
        return None;
    }
    envelope(line).ok().map(|(_, e)| e)
}

fn envelope(i: &[u8]) -> IResult<&[u8], Envelope<'_>> {
    let (i, _) = priority(i)?;
    let (i, _) = terminated(version, char(' '))(i)?;
    let (i, stamp) = terminated(timestamp, char(' '))(i)?;
    let (i, host) = terminated(field(255), char(' '))(i)?;
    let (i, app) = terminated(field(48), char(' '))(i)?;
    let (i, procid) = terminated(field(128), char(' '))(i)?;
    let (i, _msgid) = terminated(field(32), char(' '))(i)?;
    let (i, _) = structured_data(i)?;
    let message = match i {
        [] => i,
        [b' ', rest @ ..] => rest.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(rest),
        _ => return Err(fail(i)),
    };
    Ok((
        &[],
        Envelope {
            stamp: stamp.map(Stamp::Absolute),
            since_boot: None,
            host: host.map(Cow::Borrowed),
            program: app.map(Cow::Borrowed),
            pid: procid.and_then(|p| std::str::from_utf8(p).ok()?.parse().ok()),
            message: Cow::Borrowed(message),
        },
    ))
}

/// `<PRI>`: facility × 8 + severity, 0–191.
fn priority(i: &[u8]) -> IResult<&[u8], u32> {
    let (rest, pri) = delimited(char('<'), digits(3), char('>'))(i)?;
    if pri > 191 {
        return Err(fail(i));
    }
    Ok((rest, pri))
}

/// The protocol version: `1` (a non-zero digit, up to three digits).
fn version(i: &[u8]) -> IResult<&[u8], u32> {
    if i.first() == Some(&b'0') {
        return Err(fail(i));
    }
    digits(3)(i)
}

/// One to `max` ASCII digits as a number.
fn digits(max: usize) -> impl Fn(&[u8]) -> IResult<&[u8], u32> {
    move |i| {
        let (rest, text) = take_while_m_n(1, max, |c: u8| c.is_ascii_digit())(i)?;
        Ok((rest, number(text)?.1))
    }
}

/// An RFC 3339 instant, or `-` when the sender did not know the time.
fn timestamp(i: &[u8]) -> IResult<&[u8], Option<chrono::DateTime<chrono::FixedOffset>>> {
    match i.first() {
        Some(b'-') => Ok((&i[1..], None)),
        _ => rfc3339(b'.')(i).map(|(i, t)| (i, Some(t))),
    }
}

/// A header field of 1 to `max` printable US-ASCII bytes, `None` for `-`.
fn field(max: usize) -> impl Fn(&[u8]) -> IResult<&[u8], Option<&[u8]>> {
    move |i| {
        let (i, text) = take_while_m_n(1, max, |c: u8| (33..=126).contains(&c))(i)?;
        Ok((i, (text != b"-").then_some(text)))
    }
}

/// `-`, or one or more `[SD-ID param="value" …]` elements.
fn structured_data(i: &[u8]) -> IResult<&[u8], ()> {
    if let Some(rest) = i.strip_prefix(b"-") {
        return Ok((rest, ()));
    }
    value((), many1_count(sd_element))(i)
}

/// `[exampleSDID@32473 iut="3" eventSource="Application"]`.
fn sd_element(i: &[u8]) -> IResult<&[u8], ()> {
    let (i, _) = char('[')(i)?;
    let (mut i, _) = sd_name(i)?;
    while let Some(rest) = i.strip_prefix(b" ") {
        let (rest, _) = terminated(sd_name, tag("=\""))(rest)?;
        i = param_value(rest)?.0;
    }
    let (i, _) = char(']')(i)?;
    Ok((i, ()))
}

/// An SD-ID or PARAM-NAME: 1–32 printable bytes other than `= ]"` and space.
fn sd_name(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while_m_n(1, 32, |c: u8| {
        (33..=126).contains(&c) && !matches!(c, b'=' | b']' | b'"')
    })(i)
}

/// The rest of a PARAM-VALUE after its opening quote, through the closing
/// quote; `\"`, `\\` and `\]` are escapes.
fn param_value(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let mut at = 0;
    while at < i.len() {
        match i[at] {
            b'\\' => at += 2,
            b'"' => return Ok((&i[at + 1..], &i[..at])),
            _ => at += 1,
        }
    }
    Err(fail(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_line_with_nil_msgid_and_structured_data() {
        let line = br#"<165>1 2023-05-01T11:03:37.635343+08:00 ecs-prod-003 kubelet 4568 - - E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded" containerID="fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469""#;
        let e = parse(line).unwrap();
        let Some(Stamp::Absolute(t)) = e.stamp else {
            panic!("absolute stamp expected")
        };
        assert_eq!(t.to_rfc3339(), "2023-05-01T11:03:37.635343+08:00");
        assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
        assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(e.pid, Some(4568));
        assert!(e.message.starts_with(b"E0501 11:03:37.635343    4568"));
    }

    #[test]
    fn structured_data_with_escapes_and_a_bom() {
        let line = b"<30>1 2023-05-01T16:10:24Z ecs-prod-003 dockerd - ID47 [meta sequenceId=\"7\" note=\"a \\\"q\\\" and \\] in\"][origin ip=\"10.0.0.3\"] \xEF\xBB\xBFtime=\"2023-05-02T00:10:24.148458112+08:00\" level=info msg=\"Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL\"";
        let e = parse(line).unwrap();
        assert_eq!(e.program.as_deref(), Some(&b"dockerd"[..]));
        assert_eq!(e.pid, None, "nil PROCID");
        assert!(e.message.starts_with(b"time=\"2023-05-02T00:10:24"));
    }

    #[test]
    fn nil_fields_and_no_message() {
        let e = parse(b"<13>1 - - - - - -").unwrap();
        assert_eq!(
            (e.stamp, e.host, e.program, e.pid),
            (None, None, None, None)
        );
        assert!(e.message.is_empty());
        let e = parse(b"<13>1 2023-05-01T11:03:56+08:00 h systemd abc - - Started").unwrap();
        assert_eq!(e.pid, None, "PROCID is not a number");
        assert_eq!(e.message.as_ref(), b"Started");
    }

    #[test]
    fn near_misses_are_rejected() {
        for line in [
            // RFC 3164 with a priority: syslog's.
            &b"<30>May  1 11:03:56 ecs-prod-003 kubelet[4568]: x"[..],
            b"<192>1 2023-05-01T11:03:56Z h app - - - x",
            b"<13>0 2023-05-01T11:03:56Z h app - - - x",
            b"<13>1 2023-05-01 11:03:56 h app - - - x",
            b"<13>1 2023-05-01T11:03:56Z h app - - [unterminated x=\"1\" x",
            b"<13>1 2023-05-01T11:03:56Z h app - - noSD",
            b"<13>1 2023-05-01T11:03:56Z h app -",
            b"<6>[    3.532145] usb 1-1: new high-speed USB device number 2 using xhci_hcd",
            b"1 2023-05-01T11:03:56Z h app - - - x",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
