//! The klog header that kubelet (and most Kubernetes components) print:
//!
//! ```text
//! E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="…"
//! ^level and MMDD  ^local time   ^pid ^source file:line ^ message (structured or free text)
//! ```
//! klog prints neither year nor zone; the caller's time context supplies both.

use nom::{
    bytes::complete::{take_till1, take_while, take_while1},
    character::complete::{char, one_of},
    sequence::terminated,
    IResult,
};

use super::lex::{clock, fixed_digits, number};
use super::{Level, Payload, PayloadForm};
use crate::time::{PartialStamp, Stamp};

/// Parses a klog header at the start of `msg`.
pub fn parse(msg: &[u8]) -> Option<Payload> {
    header(msg).ok().map(|(_, p)| p)
}

fn header(i: &[u8]) -> IResult<&[u8], Payload> {
    let (i, severity) = one_of("IWEF")(i)?;
    let (i, month) = fixed_digits(2)(i)?;
    let (i, day) = terminated(fixed_digits(2), char(' '))(i)?;
    let (i, (hour, minute, second, nanos)) = clock(i)?;
    let (i, _) = take_while1(|c| c == b' ')(i)?;
    let (i, _pid) = terminated(number, char(' '))(i)?;
    let (i, _file_line) = take_till1(|c| c == b']' || c == b' ')(i)?;
    let (i, _) = char(']')(i)?;
    let (i, _) = take_while(|c| c == b' ')(i)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    let level = match severity {
        'I' => Level::Info,
        'W' => Level::Warning,
        'E' => Level::Error,
        _ => Level::Fatal,
    };
    let stamp = PartialStamp::new(None, month, day, (hour, minute, second, nanos));
    Ok((
        i,
        Payload {
            form: PayloadForm::Klog,
            stamp: Some(Stamp::Local(stamp)),
            level: Some(level),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_kubelet_error() {
        let msg = br#"E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error""#;
        let p = parse(msg).unwrap();
        assert_eq!(p.level, Some(Level::Error));
        let Some(Stamp::Local(s)) = p.stamp else {
            panic!("local stamp expected")
        };
        assert_eq!(
            (s.month, s.day, s.hour, s.minute, s.second, s.nanos),
            (5, 1, 11, 3, 37, 635_343_000)
        );
    }

    #[test]
    fn info_line_with_six_digit_pid() {
        let msg =
            br#"I0501 23:37:46.243371  285578 scope.go:111] "RemoveContainer" containerID="fef3""#;
        assert_eq!(parse(msg).unwrap().level, Some(Level::Info));
    }

    #[test]
    fn near_misses_are_not_klog() {
        for msg in [
            &b"I1301 23:37:46.243371  1 scope.go:111] x"[..],
            b"X0501 23:37:46.243371  1 scope.go:111] x",
            b"I0501 23:37:46.243371 scope.go:111] x",
            b"Info: starting",
        ] {
            assert!(parse(msg).is_none(), "{}", String::from_utf8_lossy(msg));
        }
    }
}
