//! logrus' JSON formatter, as dockerd (`"log-format": "json"` in
//! daemon.json) and containerd (`[debug] format = "json"`) write it:
//!
//! ```text
//! {"level":"info","msg":"Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL","time":"2023-05-02T00:10:24.148458112+08:00"}
//! {"id":"ff9fc16b6919…","level":"info","msg":"shim disconnected","time":"2023-05-01T10:48:54.306078409+08:00"}
//! ```
//! One object per line with logrus' default keys (`level`, `msg`, `time`,
//! then the entry's fields, in key order); objects without `msg` and
//! `level` are not logrus'.
//!
//! The stamp is the envelope's: `time` is a full RFC 3339 instant
//! ([`Stamp::Absolute`]); a line without `time` (a formatter with
//! `DisableTimestamp`) has none. The message is the whole line, borrowed
//! and still escaped, so that grammar patterns see the `msg` text and the
//! fields (`"id":"…"`, `"container":"…"`) alike; [`payload`] reads the
//! level (and the same time) from it, as [`super::parse_payload`] does for
//! any message that is a logrus JSON object, enveloped or not.

use std::borrow::Cow;

use chrono::DateTime;
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{Envelope, Level, Payload, PayloadForm};
use crate::time::Stamp;

/// The keys read; the others are skipped without being decoded.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    level: Cow<'a, str>,
    #[serde(rename = "msg")]
    _msg: IgnoredAny,
    #[serde(borrow, default)]
    time: Option<Cow<'a, str>>,
}

/// Parses `line` as a logrus JSON object, or `None`.
///
/// ```
/// use podmortem::time::Stamp;
/// let line = br#"{"level":"info","msg":"shim disconnected","time":"2023-05-01T10:48:54.306078409+08:00"}"#;
/// let e = podmortem::format::logrus_json::parse(line).unwrap();
/// assert!(matches!(e.stamp, Some(Stamp::Absolute(_))));
/// assert_eq!(e.message.as_ref(), &line[..]);
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    payload(line).map(|p| Envelope::raw(line, p))
}

/// The level and time of a message that is a logrus JSON object.
pub fn payload(msg: &[u8]) -> Option<Payload> {
    let (stamp, level) = read(msg)?;
    Some(Payload {
        form: PayloadForm::LogrusJson,
        stamp,
        level,
    })
}

fn read(line: &[u8]) -> Option<(Option<Stamp>, Option<Level>)> {
    // Reject on the first byte, and before decoding anything when there is
    // no `msg` key at all (a journal JSON record, say).
    if line.first() != Some(&b'{') || memchr::memmem::find(line, b"\"msg\"").is_none() {
        return None;
    }
    let record: Record<'_> = serde_json::from_slice(line).ok()?;
    let stamp = match record.time {
        Some(time) => Some(Stamp::Absolute(DateTime::parse_from_rfc3339(&time).ok()?)),
        None => None,
    };
    Some((stamp, Level::from_name(record.level.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerd_line_from_the_leak_report_in_json() {
        let line = br#"{"level":"info","msg":"Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL","time":"2023-05-02T00:10:24.148458112+08:00"}"#;
        let e = parse(line).unwrap();
        let Some(Stamp::Absolute(t)) = e.stamp else {
            panic!("absolute stamp expected")
        };
        assert_eq!(t.to_rfc3339(), "2023-05-02T00:10:24.148458112+08:00");
        assert!(matches!(e.message, Cow::Borrowed(m) if m == &line[..]));
        assert_eq!((e.host, e.program, e.pid), (None, None, None));
        let p = payload(line).unwrap();
        assert_eq!(
            (p.form, p.level, p.stamp),
            (PayloadForm::LogrusJson, Some(Level::Info), e.stamp)
        );
    }

    #[test]
    fn fields_escapes_and_a_missing_time() {
        let line = br#"{"id":"ff9fc16b6919dc7105b57a0d04eb597e163bf8f5f05d9039377fcba4fc529ead","level":"error","msg":"failed to \"delete\" shim\nretrying","namespace":"moby","time":"2023-05-01T10:48:54.306078409+08:00"}"#;
        assert_eq!(payload(line).unwrap().level, Some(Level::Error));
        assert!(parse(line).is_some());
        let untimed = parse(br#"{"level":"warning","msg":"x"}"#).unwrap();
        assert_eq!(untimed.stamp, None);
    }

    #[test]
    fn near_misses_are_rejected() {
        for line in [
            // journalctl -o json: no `msg`, no `level`.
            &br#"{"__REALTIME_TIMESTAMP":"1682910217635343","MESSAGE":"msg","_HOSTNAME":"ecs-prod-003"}"#[..],
            br#"{"msg":"no level","time":"2023-05-02T00:10:24+08:00"}"#,
            br#"{"level":"info","msg":"bad time","time":"yesterday"}"#,
            br#"{"level":"info","msg":"truncated"#,
            br#"time="2023-05-02T00:10:24+08:00" level=info msg="x""#,
            br#"[{"level":"info","msg":"x"}]"#,
            b"",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
