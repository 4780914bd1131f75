//! Syslog lines headed by a full RFC 3339 / ISO 8601 instant instead of the
//! RFC 3164 `May  1 11:03:56`:
//!
//! ```text
//! 2023-05-01T11:03:56+0800 ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343 …        journalctl -o short-iso
//! 2023-05-01T11:03:56+08:00 ecs-prod-003 kubelet[4568]: …                         (systemd ≥ 250 prints the colon)
//! 2023-05-01T11:03:56.123456+08:00 ecs-prod-003 kubelet[4568]: …                  journalctl -o short-iso-precise
//! 2023-05-01T11:03:56.123456+08:00 ecs-prod-003 dockerd: time="…" level=info …    rsyslog RSYSLOG_FileFormat
//! 2023-05-01T03:03:56Z ecs-prod-003 kernel: IPv6: ADDRCONF(NETDEV_CHANGE): …
//! 2025-01-18 08:42:12.584 ecs-prod-003 kubelet[4568]: …                            (a space, no zone: syslog-ng, rsyslog templates)
//! 2023-12-16T04:14:34Z systemd[1]: snap.microk8s.daemon-kubelite.service: …       snap logs (no host)
//! ```
//! With a `T`, the instant is complete (RFC 3339 §5.6, with journalctl's
//! `+0800` as an alternative offset spelling), so the stamp is
//! [`Stamp::Absolute`]. With a space between date and time the zone is
//! optional; without one the stamp is [`Stamp::Local`] with its year, and
//! the input's zone is inferred as for syslog. The fraction must follow a
//! dot: `dmesg --time-format iso` writes a comma and no syslog tag, and is
//! [`super::dmesg`]'s. Calico's `2023-05-01 10:47:56.381 [INFO][88861]
//! ipam.go 1172: …` has no syslog tag, and is [`super::cni`]'s.

use std::borrow::Cow;

use nom::{character::complete::char, sequence::terminated, IResult};

use super::lex::{datetime, fail, rfc3339, syslog_tag, word};
use super::Envelope;
use crate::time::Stamp;

/// Parses the header of `line`, or `None` when it is not an ISO-stamped
/// syslog line: `<RFC 3339 instant> <host> <program>[<pid>]: <message>`.
///
/// ```
/// let line = b"2023-05-01T11:03:56.123456+08:00 ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] x";
/// let e = podmortem::format::iso::parse(line).unwrap();
/// assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
/// assert_eq!(e.pid, Some(4568));
/// assert!(e.message.starts_with(b"E0501"));
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    // Reject on the first bytes: `YYYY-`.
    if line.len() < 20 || line[4] != b'-' || !line[0].is_ascii_digit() {
        return None;
    }
    envelope(line).ok().map(|(_, e)| e)
}

fn envelope(i: &[u8]) -> IResult<&[u8], Envelope<'_>> {
    let (i, stamp) = match i.get(10) {
        Some(b'T') => {
            let (i, at) = terminated(rfc3339(b'.'), char(' '))(i)?;
            (i, Stamp::Absolute(at))
        }
        Some(b' ') if i.get(19) != Some(&b',') => terminated(datetime, char(' '))(i)?,
        _ => return Err(fail(i)),
    };
    // No host name ends with the tag's colon: `snap logs` writes none.
    let (i, host) = match word(i)? {
        (_, first) if first.ends_with(b":") => (i, None),
        _ => {
            let (i, host) = terminated(word, char(' '))(i)?;
            (i, Some(Cow::Borrowed(host)))
        }
    };
    let (message, (program, pid)) = syslog_tag(i)?;
    Ok((
        &[],
        Envelope {
            stamp: Some(stamp),
            since_boot: None,
            host,
            program: Some(Cow::Borrowed(program)),
            pid,
            message: Cow::Borrowed(message),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(line: &[u8]) -> String {
        match parse(line).unwrap().stamp {
            Some(Stamp::Absolute(t)) => t.to_rfc3339(),
            other => panic!("absolute stamp expected, got {other:?}"),
        }
    }

    #[test]
    fn snap_logs_write_no_host() {
        // Real: canonical/microk8s#4342.
        let line = b"2023-12-16T04:14:34Z systemd[1]: snap.microk8s.daemon-kubelite.service: Scheduled restart job, restart counter is at 259.";
        let e = parse(line).unwrap();
        assert_eq!(instant(line), "2023-12-16T04:14:34+00:00");
        assert_eq!(e.host, None);
        assert_eq!(e.program.as_deref(), Some(&b"systemd"[..]));
        assert_eq!(e.pid, Some(1));
        assert!(e
            .message
            .starts_with(b"snap.microk8s.daemon-kubelite.service: "));
    }

    #[test]
    fn journal_short_iso_with_a_colonless_offset() {
        let line = br#"2023-05-01T11:03:37+0800 ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded" containerID="fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469""#;
        let e = parse(line).unwrap();
        assert_eq!(instant(line), "2023-05-01T11:03:37+08:00");
        assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
        assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(e.pid, Some(4568));
        assert!(e.message.starts_with(b"E0501 11:03:37.635343    4568"));
        assert_eq!(e.since_boot, None);
    }

    #[test]
    fn precise_and_rsyslog_high_precision_lines() {
        let line = br#"2023-05-02T00:10:24.148458+08:00 ecs-prod-003 dockerd: time="2023-05-02T00:10:24.148458112+08:00" level=info msg="Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL""#;
        assert_eq!(instant(line), "2023-05-02T00:10:24.148458+08:00");
        let e = parse(line).unwrap();
        assert_eq!(e.program.as_deref(), Some(&b"dockerd"[..]));
        assert_eq!(e.pid, None);
        assert!(e.message.starts_with(b"time=\"2023-05-02T00:10:24"));
    }

    #[test]
    fn utc_kernel_line() {
        let line = b"2023-05-01T03:22:19.000000Z ecs-prod-003 kernel: IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready";
        assert_eq!(instant(line), "2023-05-01T03:22:19+00:00");
        assert_eq!(
            parse(line).unwrap().message.as_ref(),
            b"IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready"
        );
    }

    #[test]
    fn a_space_and_milliseconds_without_a_zone() {
        // Composed from the header form (syslog-ng's ISO date without a
        // zone) and a seed kubelet message.
        let line = br#"2025-01-18 08:42:12.584 ecs-prod-003 kubelet[4568]: E0118 08:42:12.584123    4568 remote_runtime.go:276] "StopContainer from runtime service failed""#;
        let e = parse(line).unwrap();
        let Some(Stamp::Local(s)) = e.stamp else {
            panic!("local stamp expected")
        };
        assert_eq!(
            (s.year, s.month, s.day, s.hour, s.minute, s.second, s.nanos),
            (Some(2025), 1, 18, 8, 42, 12, 584_000_000)
        );
        assert_eq!(e.program.as_deref(), Some(&b"kubelet"[..]));
        assert!(e.message.starts_with(b"E0118"));
        assert_eq!(
            instant(b"2025-01-18 08:42:12.584+01:00 h p[1]: x"),
            "2025-01-18T08:42:12.584+01:00"
        );
    }

    #[test]
    fn near_misses_are_rejected() {
        for line in [
            // dmesg --time-format iso: comma fraction, no syslog tag.
            &b"2023-05-01T11:03:56,123456+08:00 usb 1-1: new high-speed USB device"[..],
            // CRI: stream and tag, no colon.
            b"2023-05-01T03:03:56.123456789Z stderr F E0501 11:03:37.635343    4568 x.go:1] x",
            // Calico CNI: space between date and time, no zone, no tag.
            b"2023-05-01 10:47:56.381 [INFO][88861] ipam.go 1172: Releasing all IPs",
            b"2023-05-01 10:47:56,381 ecs-prod-003 kubelet[4568]: x",
            // kubectl --timestamps of a klog line: `11` is not a program.
            b"2023-05-01T03:03:37.635343512Z E0501 11:03:37.635343    4568 x.go:1] y",
            // No zone.
            b"2023-05-01T11:03:56.123456 ecs-prod-003 kubelet[4568]: x",
            // No tag.
            b"2023-05-01T11:03:56+08:00 ecs-prod-003",
            b"2023-05-01T11:03:56+08:00 ecs-prod-003 kubelet[4568] x",
            b"May  1 11:03:56 ecs-prod-003 kubelet[4568]: x",
            b"",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
