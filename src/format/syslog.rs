//! The syslog envelope: RFC 3164 lines as rsyslog writes /var/log/messages,
//! and journalctl's default `short` output, which has the same shape.
//!
//! ```text
//! May  2 00:10:24 ecs-prod-003 dockerd: time="…" level=info msg="…"
//! May 01 11:03:56 ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343 …
//! <30>May  1 11:03:56 host kubelet[4568]: …        (optional priority)
//! Oct 26 19:07:41  kubelet[1606]: …                 (no host: a sender that gave none)
//! Mar 10 09:54:53 hostname gsad main[8990]: …       (a tag with a space, before a pid)
//! ```
//! Only the header is read here; the message is left to the payload parsers.
//! RFC 3164 §4.1.3 ends a TAG at a space, but senders do write tags with
//! spaces (wazuh/wazuh#438, syslog-ng/syslog-ng#1591): a tag with spaces is
//! read when a `[pid]:` closes it within [`MAX_SPACED_TAG`] bytes, so that
//! words of a message are never taken for a tag.

use nom::{
    bytes::complete::take_while1,
    character::complete::char,
    combinator::opt,
    sequence::{delimited, terminated},
    IResult,
};

use super::lex::{clock, month_name, number};
use super::Envelope;
use std::borrow::Cow;

use crate::time::{PartialStamp, Stamp};

/// Parses the header of `line`, or `None` when it is not a syslog line.
///
/// ```
/// let line = b"May  2 00:10:24 ecs-prod-003 dockerd: time=\"2023-05-02T00:10:24+08:00\" level=info";
/// let e = podmortem::format::syslog::parse(line).unwrap();
/// assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
/// assert!(e.message.starts_with(b"time="));
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    envelope(line).ok().map(|(_, e)| e)
}

/// The longest tag with spaces read (RFC 3164 allows 32 bytes).
const MAX_SPACED_TAG: usize = 48;

fn envelope(i: &[u8]) -> IResult<&[u8], Envelope<'_>> {
    let (i, _) = opt(priority)(i)?;
    let (i, stamp) = terminated(stamp, char(' '))(i)?;
    let header = i;
    let (i, host) = if i.first() == Some(&b' ') {
        (&i[1..], None)
    } else {
        let (i, host) = terminated(word, char(' '))(i)?;
        (i, Some(host))
    };
    let (i, (host, (program, pid))) = match tag(i) {
        Ok((i, read)) => (i, (host, read)),
        Err(_) => unusual_tag(header, i, host)?,
    };
    let (message, _) = opt(char(' '))(i)?;
    let envelope = Envelope {
        stamp: Some(Stamp::Local(stamp)),
        since_boot: None,
        host: host.map(Cow::Borrowed),
        program: Some(Cow::Borrowed(program)),
        pid,
        message: Cow::Borrowed(message),
    };
    Ok((&[], envelope))
}

/// `kubelet[4568]:` or `kernel:`.
#[inline(always)]
fn tag(i: &[u8]) -> IResult<&[u8], (&[u8], Option<u32>)> {
    let (i, program) = take_while1(|c| !matches!(c, b'[' | b':' | b' '))(i)?;
    let (i, pid) = opt(delimited(char('['), number, char(']')))(i)?;
    let (i, _) = char(':')(i)?;
    Ok((i, (program, pid)))
}

/// The tag of a header the common form does not fit: one with spaces
/// after the host, or a header without a host at all (`May 17 16:45:26
/// kubelet[3292]: …`, where the word taken for the host is the tag; only
/// with a pid, or the kernel's `kernel:`, so that `host: message` is never
/// read as a tag).
#[inline(never)]
#[allow(clippy::type_complexity)]
fn unusual_tag<'a>(
    header: &'a [u8],
    after_host: &'a [u8],
    host: Option<&'a [u8]>,
) -> IResult<&'a [u8], (Option<&'a [u8]>, (&'a [u8], Option<u32>))> {
    if let Ok((rest, read)) = spaced_tag(after_host) {
        return Ok((rest, (host, read)));
    }
    let (rest, (program, pid)) = tag(header)?;
    // The kernel's records carry no pid: `May 17 18:48:11 kernel: [ 6141.9…] …`
    // from a sender that gave no host is the kernel's, not host `kernel:`.
    if pid.is_none() && program != b"kernel" {
        return Err(super::lex::fail(header));
    }
    Ok((rest, (None, (program, pid))))
}

/// `gsad main[8990]:`: words up to a `[pid]:` close by.
#[inline(never)]
fn spaced_tag(i: &[u8]) -> IResult<&[u8], (&[u8], Option<u32>)> {
    let head = &i[..i.len().min(MAX_SPACED_TAG)];
    let open = memchr::memchr2(b'[', b':', head)
        .filter(|&at| head[at] == b'[' && at > 0 && head[at - 1] != b' ')
        .ok_or_else(|| super::lex::fail(i))?;
    let (rest, pid) = delimited(char('['), number, char(']'))(&i[open..])?;
    let (rest, _) = char(':')(rest)?;
    Ok((rest, (&i[..open], Some(pid))))
}

/// `<PRI>` as sent on the wire; kept by some collectors.
fn priority(i: &[u8]) -> IResult<&[u8], u32> {
    delimited(char('<'), number, char('>'))(i)
}

/// `May  2 00:10:24` (rsyslog pads the day with a space, journalctl with a
/// zero; both are accepted).
fn stamp(i: &[u8]) -> IResult<&[u8], PartialStamp> {
    let (i, month) = terminated(month_name, char(' '))(i)?;
    let (i, _) = opt(char(' '))(i)?;
    let (i, day) = terminated(number, char(' '))(i)?;
    let (i, (hour, minute, second, nanos)) = clock(i)?;
    if !(1..=31).contains(&day) {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    Ok((
        i,
        PartialStamp::new(None, month, day, (hour, minute, second, nanos)),
    ))
}

fn word(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while1(|c| c != b' ')(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rhel_messages_line_without_pid() {
        let line = br#"May  2 00:10:24 ecs-prod-003 dockerd: time="2023-05-02T00:10:24.148458112+08:00" level=info msg="x""#;
        let e = parse(line).unwrap();
        let Some(Stamp::Local(s)) = e.stamp else {
            panic!("local stamp expected")
        };
        assert_eq!(
            (s.month, s.day, s.hour, s.minute, s.second),
            (5, 2, 0, 10, 24)
        );
        assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
        assert_eq!(e.program.as_deref(), Some(&b"dockerd"[..]));
        assert_eq!(e.pid, None);
        assert!(e.message.starts_with(b"time=\"2023"));
    }

    #[test]
    fn journal_short_line_with_pid_and_zero_padded_day() {
        let e = parse(b"May 01 11:03:56 node-1 kubelet[4568]: E0501 11:03:37.635343 hi").unwrap();
        assert!(matches!(e.stamp, Some(Stamp::Local(s)) if s.day == 1));
        assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(e.pid, Some(4568));
        assert_eq!(e.message.as_ref(), b"E0501 11:03:37.635343 hi");
    }

    #[test]
    fn kernel_line_and_priority_prefix() {
        let e = parse(b"<4>Nov 25 03:18:00 host kernel: [ 12.5] oops").unwrap();
        assert_eq!(e.program.as_deref(), Some(&b"kernel"[..]));
        assert_eq!(e.message.as_ref(), b"[ 12.5] oops");
    }

    #[test]
    fn a_line_without_a_host() {
        // The header as the issue's field case printed it (Oct 26, pid
        // 1606); the message is a seed kubelet line's.
        let e = parse(br#"Oct 26 19:07:41  kubelet[1606]: E1026 19:07:41.635343    1606 remote_runtime.go:276] "StopContainer from runtime service failed""#).unwrap();
        assert_eq!(e.host, None);
        assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(e.pid, Some(1606));
        assert!(e.message.starts_with(b"E1026"));
    }

    #[test]
    fn a_line_without_a_host_field_at_all() {
        // mattshma/bigdata#114 (tests/field/mattshma-114-orphaned-nohost),
        // cut after the tag.
        let e = parse(b"May 17 16:45:26 kubelet[3292]: E0517 16:45:26.176639    3292 kubelet_volumes.go:128] Orphaned pod").unwrap();
        assert_eq!(e.host, None);
        assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(e.pid, Some(3292));
        assert!(e.message.starts_with(b"E0517"));
        assert!(parse(b"May 17 16:45:26 kubelet: E0517 16:45:26.176639 x").is_none());
    }

    #[test]
    fn the_kernel_without_a_host() {
        // Real: raspberrypi/linux#1587 (the syslog of a sender with no host).
        let e = parse(b"May 17 18:48:11 kernel: [ 6141.921740] INFO: task kworker/u8:0:5 blocked for more than 120 seconds.").unwrap();
        assert_eq!(e.host, None);
        assert_eq!(e.program.as_deref(), Some(&b"kernel"[..]));
        assert!(e.message.starts_with(b"[ 6141.921740] INFO: task"));
        // Any other word before a colon is still a host, not a tag.
        assert!(parse(b"May 17 18:48:11 sshd: Accepted publickey").is_none());
    }

    #[test]
    fn a_tag_with_a_space_before_its_pid() {
        // wazuh/wazuh#438, verbatim.
        let e = parse(b"Mar 10 09:54:53 hostname gsad main[8990]: Starting GSAD version 7.0.2")
            .unwrap();
        assert_eq!(e.host.as_deref(), Some(&b"hostname"[..]));
        assert_eq!(e.program.as_deref(), Some(&b"gsad main"[..]));
        assert_eq!(e.pid, Some(8990));
        assert_eq!(e.message.as_ref(), b"Starting GSAD version 7.0.2");
        // Words of a message are not a tag.
        assert!(parse(b"Mar 10 09:54:53 hostname some text: with a colon").is_none());
        assert!(parse(b"Mar 10 09:54:53 hostname some text [1]: x").is_none());
    }

    #[test]
    fn rejects_what_is_not_a_syslog_header() {
        for line in [
            &b"E0501 11:03:37.635343    4568 remote_runtime.go:276] x"[..],
            b"time=\"2023-05-02T00:10:24+08:00\" level=info msg=x",
            b"May 32 00:10:24 host prog: x",
            b"May  2 00:10:24 host",
            b"",
            b"\xff\xfe garbage",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
