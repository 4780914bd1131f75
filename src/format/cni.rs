//! The Calico CNI plugin's log form, which kubelet passes through to syslog:
//!
//! ```text
//! 2023-05-01 10:47:56.381 [INFO][88861] ipam.go 1172: Releasing all IPs with handle '…'
//! ^local date and time     ^level ^pid  ^file line: message
//! ```
//! It carries a year but no zone.

use nom::{
    bytes::complete::take_while1,
    character::complete::char,
    sequence::{delimited, preceded, terminated},
    IResult,
};

use super::lex::{clock, fixed_digits, number};
use super::{Level, Payload, PayloadForm};
use crate::time::{PartialStamp, Stamp};

/// Parses a Calico CNI header at the start of `msg`.
pub fn parse(msg: &[u8]) -> Option<Payload> {
    header(msg).ok().map(|(_, p)| p)
}

fn header(i: &[u8]) -> IResult<&[u8], Payload> {
    let (i, year) = fixed_digits(4)(i)?;
    let (i, month) = preceded(char('-'), fixed_digits(2))(i)?;
    let (i, day) = delimited(char('-'), fixed_digits(2), char(' '))(i)?;
    let (i, (hour, minute, second, nanos)) = terminated(clock, char(' '))(i)?;
    let (i, level) = delimited(
        char('['),
        take_while1(|c: u8| c.is_ascii_alphabetic()),
        char(']'),
    )(i)?;
    let (i, _pid) = delimited(char('['), number, char(']'))(i)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    let stamp = PartialStamp::new(Some(year as i32), month, day, (hour, minute, second, nanos));
    Ok((
        i,
        Payload {
            form: PayloadForm::Cni,
            stamp: Some(Stamp::Local(stamp)),
            level: Level::from_name(level),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calico_ipam_line() {
        let msg = b"2023-05-01 10:47:56.381 [INFO][88861] ipam.go 1172: Releasing all IPs with handle 'k8s-pod-network.a9ac'";
        let p = parse(msg).unwrap();
        assert_eq!(p.level, Some(Level::Info));
        let Some(Stamp::Local(s)) = p.stamp else {
            panic!("local stamp expected")
        };
        assert_eq!(
            (s.year, s.month, s.day, s.nanos),
            (Some(2023), 5, 1, 381_000_000)
        );
    }

    #[test]
    fn warning_level_is_spelled_out() {
        let msg = b"2023-05-01 20:29:34.903 [WARNING][286452] ipam_plugin.go 312: Asked to release address but it doesn't exist.";
        assert_eq!(parse(msg).unwrap().level, Some(Level::Warning));
    }

    #[test]
    fn iso_dates_without_the_bracketed_level_are_not_cni() {
        assert!(parse(b"2023-05-01 10:47:56.381 INFO ipam.go: x").is_none());
    }
}
