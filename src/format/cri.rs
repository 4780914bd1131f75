//! Container logs as the CRI runtimes (containerd, CRI-O) write them for
//! kubelet, under `/var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log`:
//!
//! ```text
//! 2023-05-01T11:03:37.635343512+08:00 stderr F E0501 11:03:37.635343       1 controller.go:114] …
//! 2023-05-01T03:03:56.123456789Z stdout P first part of a long line…
//! ^RFC 3339 (Go's RFC3339Nano)        ^stream ^tag ^content
//! ```
//! The layout is the Kubernetes "CRI container log format" (kubelet's
//! `pkg/kubelet/kuberuntime/logs`): the time, `stdout` or `stderr`, the tag
//! `F` (a full line) or `P` (a partial line, continued by the next record)
//! and the content. The content is what the container wrote, often klog or
//! logrus, which [`super::parse_payload`] reads. The container is named by
//! the file's path, not by the line, so the envelope has no program. A
//! partial line is a record of its own.

use std::borrow::Cow;

use nom::{
    branch::alt,
    bytes::complete::tag,
    character::complete::{char, one_of},
    sequence::terminated,
    IResult,
};

use super::lex::{fail, rfc3339};
use super::Envelope;
use crate::time::Stamp;

/// Parses `line` as a CRI log line, or `None`:
/// `<RFC 3339 time> <stdout|stderr> <F|P> <content>`.
///
/// ```
/// let line = b"2023-05-01T03:03:37.635343512Z stderr F E0501 11:03:37.635343 x";
/// let e = podmortem::format::cri::parse(line).unwrap();
/// assert_eq!(e.message.as_ref(), b"E0501 11:03:37.635343 x");
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    if line.len() < 20 || line[4] != b'-' || !line[0].is_ascii_digit() {
        return None;
    }
    record(line).ok().map(|(_, e)| e)
}

fn record(i: &[u8]) -> IResult<&[u8], Envelope<'_>> {
    let (i, stamp) = terminated(rfc3339(b'.'), char(' '))(i)?;
    let (i, _stream) = terminated(alt((tag("stdout"), tag("stderr"))), char(' '))(i)?;
    let (i, _tag) = one_of("FP")(i)?;
    let content = match i {
        [] => i,
        [b' ', rest @ ..] => rest,
        _ => return Err(fail(i)),
    };
    Ok((
        &[],
        Envelope {
            stamp: Some(Stamp::Absolute(stamp)),
            since_boot: None,
            host: None,
            program: None,
            pid: None,
            message: Cow::Borrowed(content),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klog_content_on_stderr() {
        let line = br#"2023-05-01T11:03:37.635343512+08:00 stderr F E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded" containerID="fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469""#;
        let e = parse(line).unwrap();
        let Some(Stamp::Absolute(t)) = e.stamp else {
            panic!("absolute stamp expected")
        };
        assert_eq!(t.to_rfc3339(), "2023-05-01T11:03:37.635343512+08:00");
        assert!(e.message.starts_with(b"E0501 11:03:37.635343    4568"));
        assert_eq!((e.host, e.program, e.pid), (None, None, None));
    }

    #[test]
    fn logrus_content_partial_lines_and_empty_lines() {
        let line = br#"2023-05-01T16:10:24.148458112Z stdout P time="2023-05-02T00:10:24.148458112+08:00" level=info msg="Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL""#;
        assert!(parse(line)
            .unwrap()
            .message
            .starts_with(b"time=\"2023-05-02T00:10:24.148458112+08:00\""));
        assert!(parse(b"2023-05-01T16:10:24Z stdout F")
            .unwrap()
            .message
            .is_empty());
        assert!(parse(b"2023-05-01T16:10:24Z stdout F ")
            .unwrap()
            .message
            .is_empty());
    }

    #[test]
    fn near_misses_are_rejected() {
        for line in [
            // An ISO syslog line: host and tag, not stream and F/P.
            &b"2023-05-01T11:03:56.123456+08:00 ecs-prod-003 kubelet[4568]: x"[..],
            b"2023-05-01T16:10:24Z stdout X x",
            b"2023-05-01T16:10:24Z stdin F x",
            b"2023-05-01T16:10:24Z stdout Fx",
            b"2023-05-01T16:10:24 stdout F x",
            b"2023-05-01T16:10:24,123456Z stdout F x",
            b"2023-05-01 10:47:56.381 [INFO][88861] ipam.go 1172: x",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
