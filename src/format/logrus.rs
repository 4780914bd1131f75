//! logrus' text formatter as dockerd and containerd write it:
//!
//! ```text
//! time="2023-05-02T00:10:24.148458112+08:00" level=info msg="Container a9acd5210705 failed …" key=value
//! ```
//! The `time` field is a full RFC 3339 instant, which makes these lines the
//! anchors from which the year and zone of the other lines are inferred.
//! A record pasted without its `time` field (`level=error msg="failed to
//! delete" cmd=…`, as threads quote containerd) is still logrus', with no
//! time of its own.

use chrono::DateTime;
use nom::{
    bytes::complete::{tag, take_till1, take_while1},
    sequence::{delimited, preceded},
    IResult,
};

use super::{Level, Payload, PayloadForm};
use crate::time::Stamp;

/// Parses the `time="…" level=…` prefix of a logrus text line.
pub fn parse(msg: &[u8]) -> Option<Payload> {
    prefix(msg).ok().map(|(_, p)| p)
}

fn prefix(i: &[u8]) -> IResult<&[u8], Payload> {
    if i.starts_with(b"level=") {
        return untimed(i);
    }
    let (i, time) = delimited(tag("time=\""), take_till1(|c| c == b'"'), tag("\""))(i)?;
    let (i, level) = preceded(tag(" level="), take_while1(|c: u8| c.is_ascii_alphabetic()))(i)?;
    let stamp = std::str::from_utf8(time)
        .ok()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(Stamp::Absolute);
    let Some(stamp) = stamp else {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    };
    Ok((
        i,
        Payload {
            form: PayloadForm::Logrus,
            stamp: Some(stamp),
            level: Level::from_name(level),
        },
    ))
}

/// `level=error msg=…`: the record without its time.
fn untimed(i: &[u8]) -> IResult<&[u8], Payload> {
    let (i, level) = preceded(tag("level="), take_while1(|c: u8| c.is_ascii_alphabetic()))(i)?;
    let Some(level) = Level::from_name(level) else {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    };
    let (i, _) = tag(" msg=")(i)?;
    Ok((
        i,
        Payload {
            form: PayloadForm::Logrus,
            stamp: None,
            level: Some(level),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerd_line_from_the_leak_report() {
        let msg = br#"time="2023-05-02T00:10:24.148458112+08:00" level=info msg="Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL""#;
        let p = parse(msg).unwrap();
        assert_eq!(p.level, Some(Level::Info));
        let Some(Stamp::Absolute(t)) = p.stamp else {
            panic!("absolute stamp expected")
        };
        assert_eq!(t.to_rfc3339(), "2023-05-02T00:10:24.148458112+08:00");
    }

    #[test]
    fn utc_and_warning_levels() {
        let p = parse(br#"time="2023-05-01T16:00:00Z" level=warning msg="x""#).unwrap();
        assert_eq!(p.level, Some(Level::Warning));
    }

    #[test]
    fn without_its_time() {
        // Real: kata-containers/kata-containers#11328 (containerd's record
        // as the thread quotes it).
        let p = parse(br#"level=error msg="failed to delete" cmd="/usr/local/bin/containerd-shim-kata-v2 -namespace k8s.io" error="exit status 1" namespace=k8s.io"#).unwrap();
        assert_eq!(
            (p.form, p.stamp, p.level),
            (PayloadForm::Logrus, None, Some(Level::Error))
        );
    }

    #[test]
    fn not_logrus() {
        assert!(parse(br#"time="yesterday" level=info msg="x""#).is_none());
        assert!(parse(br#"level=loud msg="x""#).is_none());
        assert!(parse(br#"level=info and more"#).is_none());
    }
}
