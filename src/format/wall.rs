//! syslogd's console broadcast: what rsyslog (`*.emerg :omusrmsg:*`) and
//! sysklogd write to every terminal for an emergency message, and what
//! users paste from their shell when the kernel panics, locks up or leaks
//! a network device:
//!
//! ```text
//! Message from syslogd@zyr at Dec 10 05:25:44 ...
//!  kernel:[55716.328117] watchdog: BUG: soft lockup - CPU#0 stuck for 27s! [node:1984]
//! ```
//!
//! The header gives the host and the time (syslog's, without a year); the
//! record itself is on the next line, the syslog tag glued to the message
//! (`kernel:` with no blank after the colon), indented by one blank or not.
//! The two lines are one record: [`super::wrap::lines`] hands [`parse`] the
//! header with its body appended ([`is_header`]); a header alone is a
//! record with no message.

use std::borrow::Cow;

use nom::{bytes::complete::tag, bytes::complete::take_while, character::complete::char, IResult};

use super::lex::{clock, month_name, number, syslog_tag, word};
use super::Envelope;
use crate::time::{PartialStamp, Stamp};

/// The format's name in `inputs`.
pub const NAME: &str = "syslogd-wall";

/// Whether `line` is a broadcast header.
pub fn is_header(line: &[u8]) -> bool {
    line.starts_with(PREFIX)
}

/// Parses a broadcast header, with the body that followed it if joined.
///
/// ```
/// let e = podmortem::format::wall::parse(b"Message from syslogd@fnl9b at Mar 22 21:40:42 ...  kernel:unregister_netdevice: waiting for lo to become free. Usage count = 1").unwrap();
/// assert_eq!(e.host.as_deref(), Some(&b"fnl9b"[..]));
/// assert_eq!(e.program.as_deref(), Some(&b"kernel"[..]));
/// assert!(e.message.starts_with(b"unregister_netdevice: waiting"));
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    if !line.starts_with(PREFIX) {
        return None;
    }
    header(line).ok().map(|(_, e)| e)
}

const PREFIX: &[u8] = b"Message from syslogd@";

fn header(i: &[u8]) -> IResult<&[u8], Envelope<'_>> {
    let (i, _) = tag(PREFIX)(i)?;
    let (i, host) = word(i)?;
    let (i, _) = tag(&b" at "[..])(i)?;
    let (i, stamp) = stamp(i)?;
    let (i, _) = tag(&b" ..."[..])(i)?;
    let (body, _) = take_while(|c| c == b' ')(i)?;
    let (program, message) = match syslog_tag(body) {
        Ok((message, (program, _))) => (Some(program), message),
        Err(_) => (None, body),
    };
    Ok((
        &[],
        Envelope {
            stamp: Some(Stamp::Local(stamp)),
            since_boot: None,
            host: Some(Cow::Borrowed(host)),
            program: program.map(Cow::Borrowed),
            pid: None,
            message: Cow::Borrowed(message),
        },
    ))
}

/// `Mar 22 21:40:42` (the day padded with a blank or not).
fn stamp(i: &[u8]) -> IResult<&[u8], PartialStamp> {
    let (i, month) = month_name(i)?;
    let (i, _) = take_while(|c| c == b' ')(i)?;
    let (i, day) = number(i)?;
    let (i, _) = char(' ')(i)?;
    let (i, (hour, minute, second, nanos)) = clock(i)?;
    if !(1..=31).contains(&day) {
        return Err(super::lex::fail(i));
    }
    Ok((
        i,
        PartialStamp::new(None, month, day, (hour, minute, second, nanos)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_alone_is_a_record_without_message() {
        // Real: fluent/fluent-bit#11093.
        let e = parse(b"Message from syslogd@server at Oct 30 17:06:13 ...").unwrap();
        assert_eq!(e.host.as_deref(), Some(&b"server"[..]));
        assert_eq!(e.program, None);
        assert!(e.message.is_empty());
        assert!(matches!(e.stamp, Some(Stamp::Local(_))));
    }

    #[test]
    fn the_body_gives_program_and_message() {
        // Real: the ironfish-701 field case, header and body joined.
        let e = parse(b"Message from syslogd@zyr at Dec 10 05:25:44 ...  kernel:[55716.328117] watchdog: BUG: soft lockup - CPU#0 stuck for 27s! [node:1984]").unwrap();
        assert_eq!(e.program.as_deref(), Some(&b"kernel"[..]));
        assert!(e.message.starts_with(b"[55716.328117] watchdog: BUG"));
    }

    #[test]
    fn other_lines_are_not_broadcasts() {
        assert!(parse(b"Mar 22 21:40:42 fnl9b kernel: unregister_netdevice: waiting").is_none());
        // Real: k3s-io/k3s#8161, mangled by the paste: not read as one.
        assert!(parse(b"Message from' syslogdck3s7 at Aug9 15:16:53 kernel").is_none());
        assert!(parse(b"Message from syslogd@h at Foo 22 21:40:42 ...").is_none());
    }
}
