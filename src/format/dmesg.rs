//! The kernel ring buffer as `dmesg` (util-linux) prints it, and as
//! `journalctl -o short-monotonic` prints the journal:
//!
//! ```text
//! [ 4174.552171] INFO: task fluentd:4242 blocked for more than 120 seconds.     dmesg
//! <6>[ 4174.552171] IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link …       dmesg -r (raw priority)
//! kern  :warn  : [ 4174.552171] INFO: task fluentd:4242 blocked …               dmesg -x (facility, level)
//! [Mon May  1 11:03:56 2023] INFO: task fluentd:4242 blocked …                  dmesg -T (ctime, locale's names)
//! 2023-05-01T11:03:56,552171+08:00 INFO: task fluentd:4242 blocked …            dmesg --time-format iso
//! [ 4174.552171] ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343 …           journalctl -o short-monotonic
//! [ 4174.552171] ecs-prod-003 kernel: INFO: task fluentd:4242 blocked …
//! ```
//! Seconds since boot give [`Stamp::SinceBoot`]; `-T` gives a local reading
//! with its year (dmesg(1) warns it may be off after a suspend); the ISO
//! form gives an instant. The program of a dmesg line is `kernel`.
//!
//! A monotonic stamp followed by `host program[pid]:` or `host kernel:` is
//! journalctl's, and gives host, program and pid; any other text after the
//! stamp is a kernel message (`usb 1-1: new high-speed USB device …` has the
//! shape of a host and a tag, but neither a pid nor the `kernel` tag). The
//! `-x` level is not kept: an envelope has no level.
//!
//! A monotonic stamp followed by a bare `kernel: ` tag (journal dumps in CI
//! logs: `[ 8123.004512] kernel: INFO: task …`) loses the tag, so that the
//! message starts where the kernel's does.
//!
//! [`payload`] reads the same `[ 4174.552171] ` stamp at the start of a
//! message, as in a syslog `kernel: [ 4174.552171] …` line, whose header
//! time and this time since boot together reveal the boot time.
//!
//! Kernel lines with no time at all (`dmesg -t`, `journalctl -k -o cat`,
//! test lines written to /dev/kmsg) have no envelope to recognize: an input
//! that no other format reads is read by [`parse_untimed`] when most of
//! its lines have the shape of printk messages ([`looks_untimed`]), and its
//! events are placed by their line alone.

use std::borrow::Cow;
use std::time::Duration;

use nom::{
    branch::alt,
    bytes::complete::{take_while, take_while_m_n},
    character::complete::char,
    combinator::opt,
    sequence::{delimited, preceded, terminated},
    IResult,
};

use super::lex::{
    clock, fail, fixed_digits, fraction, month_name, number, rfc3339, space, syslog_tag, weekday,
    word,
};
use super::{Envelope, Payload, PayloadForm};
use crate::time::{PartialStamp, Stamp};

const KERNEL: &[u8] = b"kernel";

/// Parses `line` as a dmesg or `short-monotonic` line, or `None`.
///
/// ```
/// use podmortem::time::Stamp;
/// let e = podmortem::format::dmesg::parse(b"[ 4174.552171] INFO: task fluentd:4242 blocked").unwrap();
/// assert_eq!(e.stamp, Some(Stamp::SinceBoot(std::time::Duration::from_micros(4_174_552_171))));
/// assert_eq!(e.program.as_deref(), Some(&b"kernel"[..]));
/// assert_eq!(e.message.as_ref(), b"INFO: task fluentd:4242 blocked");
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    match line.first()? {
        b'[' | b'<' | b' ' | b'a'..=b'z' => {}
        b'0'..=b'9' if line.get(19) == Some(&b',') => {}
        _ => return None,
    }
    envelope(line).ok().map(|(_, e)| e)
}

/// Reads a `[ 4174.552171] ` time since boot at the start of a message.
pub fn payload(msg: &[u8]) -> Option<Payload> {
    let (_, since) = terminated(since_boot, alt((char(' '), end)))(msg).ok()?;
    Some(Payload {
        form: PayloadForm::Dmesg,
        stamp: Some(Stamp::SinceBoot(since)),
        level: None,
    })
}

fn envelope(i: &[u8]) -> IResult<&[u8], Envelope<'_>> {
    let (i, _) = opt(alt((facility_level, level_word)))(i)?;
    let (i, _) = opt(priority)(i)?;
    let (i, stamp) = alt((
        |i| since_boot(i).map(|(i, d)| (i, Stamp::SinceBoot(d))),
        |i| ctime(i).map(|(i, s)| (i, Stamp::Local(s))),
        |i| rfc3339(b',')(i).map(|(i, t)| (i, Stamp::Absolute(t))),
    ))(i)?;
    let (i, _) = opt(caller)(i)?;
    let (message, _) = alt((char(' '), end))(i)?;
    let mut envelope = Envelope {
        stamp: Some(stamp),
        since_boot: None,
        host: None,
        program: Some(Cow::Borrowed(KERNEL)),
        pid: None,
        message: Cow::Borrowed(message),
    };
    if let Stamp::SinceBoot(_) = stamp {
        match journal_header(message) {
            Ok((message, (host, (program, pid)))) if pid.is_some() || program == KERNEL => {
                envelope.host = Some(Cow::Borrowed(host));
                envelope.program = Some(Cow::Borrowed(program));
                envelope.pid = pid;
                envelope.message = Cow::Borrowed(message);
            }
            _ => {
                if let Some(rest) = message.strip_prefix(KERNEL_TAG) {
                    envelope.message = Cow::Borrowed(rest);
                }
            }
        }
    }
    Ok((&[], envelope))
}

/// The tag journald and syslog give kernel records.
const KERNEL_TAG: &[u8] = b"kernel: ";

/// Parses `line` as a kernel message with no time (`dmesg -t`, `journalctl
/// -k -o cat`): an optional `dmesg -x` facility and level or `dmesg -r`
/// priority, an optional `kernel: ` tag (or `kernel:` glued, as syslogd's
/// console broadcast writes it), then the message. Blank lines are not
/// messages.
///
/// ```
/// let e = podmortem::format::dmesg::parse_untimed(b"kernel: INFO: task containerd-shim:1234 blocked for more than 120 seconds.").unwrap();
/// assert_eq!(e.stamp, None);
/// assert_eq!(e.program.as_deref(), Some(&b"kernel"[..]));
/// assert!(e.message.starts_with(b"INFO: task"));
/// ```
pub fn parse_untimed(line: &[u8]) -> Option<Envelope<'_>> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let (i, _) = opt(facility_level)(line).ok()?;
    let (i, _) = opt(priority)(i).ok()?;
    // syslogd's broadcast writes the tag glued: `kernel:NMI watchdog: …`.
    let message = i
        .strip_prefix(KERNEL_TAG)
        .or_else(|| i.strip_prefix(b"kernel:"))
        .unwrap_or(i);
    Some(Envelope {
        stamp: None,
        since_boot: None,
        host: None,
        program: Some(Cow::Borrowed(KERNEL)),
        pid: None,
        message: Cow::Borrowed(message),
    })
}

/// Whether most of `lines` (a sample of an input no other format reads)
/// have the shape of printk messages: a subsystem or driver prefix and a
/// colon (`INFO: task …`, `usb 1-1: …`, `EXT4-fs (sda1): …`, `task
/// docker:7 blocked …`), or an indented continuation (a call trace).
/// Prose, binary noise and program output without such prefixes do not.
pub fn looks_untimed<'l>(lines: impl Iterator<Item = &'l [u8]>) -> bool {
    let (mut shaped, mut total) = (0usize, 0usize);
    for line in lines.filter(|l| !l.iter().all(u8::is_ascii_whitespace)) {
        total += 1;
        let message = parse_untimed(line).map(|e| e.message);
        shaped += usize::from(message.is_some_and(|m| printk_shaped(&m)));
    }
    total > 0 && shaped * 2 > total
}

/// `prefix: `, `prefix device: `, `prefix (device): ` or `prefix x:y` within
/// the first words, or a line indented as the kernel indents continuations.
fn printk_shaped(message: &[u8]) -> bool {
    if message.starts_with(b" ") || message.starts_with(b"\t") {
        return message.iter().any(u8::is_ascii_alphanumeric);
    }
    let head = &message[..message.len().min(48)];
    let Some(colon) = head.iter().position(|&c| c == b':') else {
        return false;
    };
    let prefix = &head[..colon];
    let words = prefix.split(|&c| c == b' ').count();
    prefix.first().is_some_and(u8::is_ascii_alphanumeric)
        && words <= 2
        && prefix.iter().all(|&c| c.is_ascii_graphic() || c == b' ')
}

/// `kern  :warn  : ` as `dmesg -x` prints it (`%-6s:%-6s: `).
fn facility_level(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let name = |i| take_while_m_n(2, 8, |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit())(i);
    let pad = |i| take_while(|c| c == b' ')(i);
    let (i, _) = terminated(name, pad)(i)?;
    let (i, level) = delimited(char(':'), name, pad)(i)?;
    let (i, _) = char(':')(i)?;
    let (i, _) = char(' ')(i)?;
    Ok((i, level))
}

/// `   err ` before the stamp: `dmesg -x` with its facility column cut
/// (`dmesg -x | awk '{$1=""; print}'`, systemd/systemd#23638), a level name
/// alone, right-aligned or not.
fn level_word(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (i, _) = take_while(|c| c == b' ')(i)?;
    let (i, level) = take_while_m_n(3, 7, |c: u8| c.is_ascii_lowercase())(i)?;
    if !matches!(
        level,
        b"emerg"
            | b"alert"
            | b"crit"
            | b"err"
            | b"warn"
            | b"warning"
            | b"notice"
            | b"info"
            | b"debug"
    ) {
        return Err(fail(i));
    }
    let (i, _) = take_while_m_n(1, 8, |c| c == b' ')(i)?;
    Ok((i, level))
}

/// `<6>`, the console log level `dmesg -r` keeps.
fn priority(i: &[u8]) -> IResult<&[u8], u32> {
    let (i, _) = char('<')(i)?;
    let (i, level) = number(i)?;
    let (i, _) = char('>')(i)?;
    Ok((i, level))
}

/// `[ 4174.552171]`: seconds since boot, right-aligned in at least five
/// columns, and a fraction (microseconds).
fn since_boot(i: &[u8]) -> IResult<&[u8], Duration> {
    let (i, _) = char('[')(i)?;
    let (i, _) = take_while(|c| c == b' ')(i)?;
    let (i, secs) = number(i)?;
    let (i, nanos) = preceded(char('.'), fraction)(i)?;
    let (i, _) = char(']')(i)?;
    Ok((i, Duration::new(u64::from(secs), nanos)))
}

/// `[    C1]` or `[ T4242]`: the CPU or task that printed the record, after
/// the time when the kernel is built with CONFIG_PRINTK_CALLER (5.1+,
/// syzbot's and some distributions' kernels). Not kept.
fn caller(i: &[u8]) -> IResult<&[u8], ()> {
    let (i, _) = char('[')(i)?;
    let (i, _) = take_while(|c| c == b' ')(i)?;
    let (i, _) = alt((char('C'), char('T')))(i)?;
    let (i, _) = number(i)?;
    let (i, _) = char(']')(i)?;
    Ok((i, ()))
}

/// `[Mon May  1 11:03:56 2023]`: `dmesg -T`'s `%a %b %e %H:%M:%S %Y`, with
/// the locale's weekday and month names.
fn ctime(i: &[u8]) -> IResult<&[u8], PartialStamp> {
    let (i, _) = char('[')(i)?;
    let (i, _) = terminated(weekday, char(' '))(i)?;
    let (i, month) = month_name(i)?;
    let (i, _) = space(i)?;
    let (i, _) = opt(space)(i)?;
    let (i, day) = number(i)?;
    let (i, _) = space(i)?;
    let (i, (hour, minute, second, nanos)) = clock(i)?;
    let (i, _) = space(i)?;
    let (i, year) = terminated(fixed_digits(4), char(']'))(i)?;
    if !(1..=31).contains(&day) {
        return Err(fail(i));
    }
    Ok((
        i,
        PartialStamp::new(Some(year as i32), month, day, (hour, minute, second, nanos)),
    ))
}

/// A host, then a program and its pid.
type JournalHeader<'a> = (&'a [u8], (&'a [u8], Option<u32>));

/// `ecs-prod-003 kubelet[4568]: ` after a `short-monotonic` stamp.
fn journal_header(i: &[u8]) -> IResult<&[u8], JournalHeader<'_>> {
    let (i, host) = terminated(word, char(' '))(i)?;
    let (i, tag) = syslog_tag(i)?;
    Ok((i, (host, tag)))
}

/// The end of the line (an empty message).
fn end(i: &[u8]) -> IResult<&[u8], char> {
    if i.is_empty() {
        Ok((i, ' '))
    } else {
        Err(fail(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn since(e: &Envelope<'_>) -> Duration {
        match e.stamp {
            Some(Stamp::SinceBoot(d)) => d,
            other => panic!("time since boot expected, got {other:?}"),
        }
    }

    #[test]
    fn raw_lines_are_the_kernels() {
        let line =
            b"[ 4174.552171] IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready";
        let e = parse(line).unwrap();
        assert_eq!(since(&e), Duration::from_micros(4_174_552_171));
        assert_eq!(e.program.as_deref(), Some(KERNEL));
        assert_eq!((e.host, e.pid), (None, None));
        assert_eq!(
            e.message.as_ref(),
            b"IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready"
        );
        let e = parse(b"[    0.000000] Linux version 4.19.90-23.8.v2101.ky10.x86_64").unwrap();
        assert_eq!(since(&e), Duration::ZERO);
        let e =
            parse(b"<6>[    3.532145] usb 1-1: new high-speed USB device number 2 using xhci_hcd")
                .unwrap();
        assert_eq!(e.program.as_deref(), Some(KERNEL), "not host `usb`");
        assert!(e.message.starts_with(b"usb 1-1: new"));
        let e = parse(b"[   12.000001] systemd[1]: Started Journal Service.").unwrap();
        assert_eq!(e.program.as_deref(), Some(KERNEL));
        assert_eq!(e.message.as_ref(), b"systemd[1]: Started Journal Service.");
    }

    #[test]
    fn the_printk_caller_after_the_time_is_passed_over() {
        // Real: lf-edge/eve#2653 (a 5.10 console, CONFIG_PRINTK_CALLER).
        let e = parse(b"[  129.338433][    C1] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [002-logging:310]").unwrap();
        assert_eq!(since(&e), Duration::from_micros(129_338_433));
        assert!(e.message.starts_with(b"watchdog: BUG: soft lockup"));
        let e = parse(b"[   93.255636][ T6320] XFS (loop4): metadata I/O error").unwrap();
        assert_eq!(e.message.as_ref(), b"XFS (loop4): metadata I/O error");
        assert!(parse(b"[  129.338433][x] watchdog").is_none());
    }

    #[test]
    fn a_level_name_alone_before_the_stamp() {
        // Real: systemd/systemd#23638 (dmesg -x, facility cut by awk).
        let e = parse(
            b" err [129398.233826] INFO: task exe:1990875 blocked for more than 120 seconds.",
        )
        .unwrap();
        assert_eq!(
            e.stamp,
            Some(Stamp::SinceBoot(Duration::from_micros(129_398_233_826)))
        );
        assert!(e.message.starts_with(b"INFO: task exe:1990875"));
        assert!(parse(b" loud [129398.233826] x").is_none());
    }

    #[test]
    fn facility_and_level_prefix() {
        let e = parse(b"kern  :warn  : [ 4174.552171] INFO: task fluentd:4242 blocked for more than 120 seconds.").unwrap();
        assert_eq!(since(&e), Duration::from_micros(4_174_552_171));
        assert!(e.message.starts_with(b"INFO: task fluentd:4242"));
        let e = parse(b"daemon:info  : [   10.1] systemd[1]: Started x").unwrap();
        assert_eq!(e.message.as_ref(), b"systemd[1]: Started x");
    }

    #[test]
    fn human_readable_times_in_english_and_other_locales() {
        for line in [
            &b"[Mon May  1 11:03:56 2023] INFO: task fluentd:4242 blocked"[..],
            "[Mo Mai  1 11:03:56 2023] INFO: task fluentd:4242 blocked".as_bytes(),
            "[月  5月  1 11:03:56 2023] INFO: task fluentd:4242 blocked".as_bytes(),
            b"kern  :err   : [Mon May  1 11:03:56 2023] INFO: task fluentd:4242 blocked",
        ] {
            let e = parse(line).unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(line)));
            let Some(Stamp::Local(s)) = e.stamp else {
                panic!("local stamp expected")
            };
            assert_eq!(
                (s.year, s.month, s.day, s.hour, s.minute, s.second),
                (Some(2023), 5, 1, 11, 3, 56)
            );
            assert_eq!(e.message.as_ref(), b"INFO: task fluentd:4242 blocked");
        }
    }

    #[test]
    fn iso_times_are_instants() {
        let e = parse(b"2023-05-01T11:03:56,552171+08:00 INFO: task fluentd:4242 blocked").unwrap();
        let Some(Stamp::Absolute(t)) = e.stamp else {
            panic!("absolute stamp expected")
        };
        assert_eq!(t.to_rfc3339(), "2023-05-01T11:03:56.552171+08:00");
        assert_eq!(e.program.as_deref(), Some(KERNEL));
    }

    #[test]
    fn journal_short_monotonic_gives_host_program_and_pid() {
        let line = br#"[ 4174.552171] ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded" containerID="fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469""#;
        let e = parse(line).unwrap();
        assert_eq!(since(&e), Duration::from_micros(4_174_552_171));
        assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
        assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(e.pid, Some(4568));
        assert!(e.message.starts_with(b"E0501 11:03:37.635343"));
        let e = parse(b"[    3.532145] ecs-prod-003 kernel: usb 1-1: new high-speed USB device")
            .unwrap();
        assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
        assert_eq!(e.message.as_ref(), b"usb 1-1: new high-speed USB device");
    }

    #[test]
    fn payload_stamp_inside_a_syslog_kernel_line() {
        let p = payload(b"[ 4174.552171] INFO: task fluentd:4242 blocked").unwrap();
        assert_eq!(p.form, PayloadForm::Dmesg);
        assert_eq!(
            p.stamp,
            Some(Stamp::SinceBoot(Duration::from_micros(4_174_552_171)))
        );
        assert_eq!(
            payload(b"[ 12.5] oops").unwrap().stamp,
            Some(Stamp::SinceBoot(Duration::from_millis(12_500)))
        );
        for msg in [
            &b"[drm] Initialized"[..],
            b"[ 12] x",
            b"[ 12.5]x",
            b"IPv6: x",
        ] {
            assert!(payload(msg).is_none(), "{}", String::from_utf8_lossy(msg));
        }
    }

    #[test]
    fn a_bare_kernel_tag_after_a_monotonic_stamp_is_dropped() {
        // Composed in the form of journal dumps pasted into CI logs.
        let e = parse(b"[ 8123.004512] kernel: INFO: task containerd-shim:1234 blocked for more than 120 seconds.").unwrap();
        assert_eq!(since(&e), Duration::from_micros(8_123_004_512));
        assert_eq!(e.host, None);
        assert!(e.message.starts_with(b"INFO: task containerd-shim:1234"));
    }

    #[test]
    fn kernel_lines_without_time_are_read_by_their_shape() {
        let dmesg_t = [
            &b"IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready"[..],
            b"INFO: task containerd-shim:1234 blocked for more than 120 seconds.",
            b"      Not tainted 4.19.25-200.1.el7.bclinux.x86_64 #1",
            b"task docker:7 blocked for more than 300 seconds.",
            b"EXT4-fs (sda1): re-mounted. Opts: (null)",
        ];
        assert!(looks_untimed(dmesg_t.iter().copied()));
        let e = parse_untimed(b"kern  :err   : INFO: task x:1 blocked").unwrap();
        assert_eq!(e.message.as_ref(), b"INFO: task x:1 blocked");
        assert_eq!(e.stamp, None);
        let prose = [
            &b"This is a note about the node"[..],
            b"we restarted it twice and then it worked",
            b"\x00\x01\x02",
        ];
        assert!(!looks_untimed(prose.iter().copied()));
        assert!(parse_untimed(b"   ").is_none());
    }

    #[test]
    fn near_misses_are_rejected() {
        for line in [
            // ISO with a dot and a syslog tag: `iso`'s.
            &b"2023-05-01T11:03:56.552171+08:00 ecs-prod-003 kernel: x"[..],
            b"2023-05-01T03:03:56.123456789Z stderr F x",
            b"[drm] Initialized",
            b"[Mon 2023-05-01 11:03:56] x",
            b"[Mon May 32 11:03:56 2023] x",
            b"[ 4174.552171]INFO",
            b"kernel: [ 4174.552171] x",
            b"time=\"2023-05-02T00:10:24+08:00\" level=info msg=x",
            b"",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
