//! Framing a line into its parts: the envelope (who wrote it, when, on which
//! host) and the payload header (the program's own time and level).
//!
//! Every way of writing a log line that podmortem reads is a [`LineFormat`]
//! in [`LINE_FORMATS`]: an envelope such as [`syslog`], or a component's own
//! format written without one (raw [`klog`], [`logrus`], [`cni`]). An input's
//! format is detected from its first lines ([`detect`]); a line that does not
//! fit it is tried against the others, so files that mix formats still read.
//! Payload headers inside a message ([`parse_payload`]) give the program's
//! own, more precise time and its level.
//!
//! Every parser is a pure function over bytes: no I/O, no clock. Borrowed
//! data stays borrowed; only formats that escape their text (JSON) allocate.
//! What the message *means* is left to the grammar patterns.

pub mod cni;
pub mod journal_export;
pub mod klog;
mod lex;
pub mod logrus;
pub mod syslog;

use std::borrow::Cow;

use crate::time::Stamp;

/// The header fields of one log record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// When the envelope says the record was written.
    pub stamp: Option<Stamp>,
    /// Time since boot when the envelope gives it besides `stamp` (journal
    /// `_SOURCE_MONOTONIC_TIMESTAMP`): the pair reveals the boot time.
    pub since_boot: Option<std::time::Duration>,
    pub host: Option<Cow<'a, [u8]>>,
    pub program: Option<Cow<'a, [u8]>>,
    pub pid: Option<u32>,
    /// What the program itself wrote.
    pub message: Cow<'a, [u8]>,
}

impl<'a> Envelope<'a> {
    /// A record with no envelope: the whole line is the message.
    pub fn bare(line: &'a [u8]) -> Envelope<'a> {
        Envelope {
            stamp: None,
            since_boot: None,
            host: None,
            program: None,
            pid: None,
            message: Cow::Borrowed(line),
        }
    }
}

/// One way of writing log lines, and its parser.
#[derive(Clone, Copy)]
pub struct LineFormat {
    /// Reported in `inputs` (`syslog`, `klog`, …).
    pub name: &'static str,
    parse: for<'a> fn(&'a [u8]) -> Option<Envelope<'a>>,
}

impl LineFormat {
    pub fn parse<'a>(&self, line: &'a [u8]) -> Option<Envelope<'a>> {
        (self.parse)(line)
    }
}

impl std::fmt::Debug for LineFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Every line format, in the order ties in detection are broken and a line
/// that does not fit its input's format is tried against the others.
pub const LINE_FORMATS: &[LineFormat] = &[
    LineFormat {
        name: "syslog",
        parse: syslog::parse,
    },
    LineFormat {
        name: "klog",
        parse: |line| klog::parse(line).map(|_| Envelope::bare(line)),
    },
    LineFormat {
        name: "logrus",
        parse: |line| logrus::parse(line).map(|_| Envelope::bare(line)),
    },
    LineFormat {
        name: "cni",
        parse: |line| cni::parse(line).map(|_| Envelope::bare(line)),
    },
];

/// What the payload header says; the message text stays where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payload {
    pub form: PayloadForm,
    pub stamp: Option<Stamp>,
    pub level: Option<Level>,
}

/// Which program-level format a message is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PayloadForm {
    Klog,
    Logrus,
    Cni,
    /// Free text: no header podmortem knows.
    Plain,
}

impl PayloadForm {
    pub fn name(self) -> &'static str {
        match self {
            PayloadForm::Klog => "klog",
            PayloadForm::Logrus => "logrus",
            PayloadForm::Cni => "cni",
            PayloadForm::Plain => "plain",
        }
    }
}

/// A message's severity as its program labelled it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
    Fatal,
}

impl Level {
    /// Reads logrus and Calico level names (`info`, `WARNING`, `warn`…).
    pub fn from_name(name: &[u8]) -> Option<Level> {
        let lower = name.to_ascii_lowercase();
        Some(match lower.as_slice() {
            b"trace" | b"debug" => Level::Debug,
            b"info" => Level::Info,
            b"warn" | b"warning" => Level::Warning,
            b"error" => Level::Error,
            b"fatal" | b"panic" => Level::Fatal,
            _ => return None,
        })
    }
}

/// Reads the payload header of a message, whichever known form it is in.
pub fn parse_payload(msg: &[u8]) -> Payload {
    let parsed = match msg.first() {
        Some(b'I' | b'W' | b'E' | b'F') => klog::parse(msg),
        Some(b't') => logrus::parse(msg),
        Some(b'0'..=b'9') => cni::parse(msg),
        _ => None,
    };
    parsed.unwrap_or(Payload {
        form: PayloadForm::Plain,
        stamp: None,
        level: None,
    })
}

/// The framing of a whole input, decided once from its first lines: the
/// line format most of them are in, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputFormat {
    primary: Option<usize>,
}

impl InputFormat {
    /// An input in which nothing is recognisable.
    pub const UNKNOWN: InputFormat = InputFormat { primary: None };

    pub fn name(self) -> &'static str {
        self.primary.map_or("unknown", |i| LINE_FORMATS[i].name)
    }

    /// Frames one line (without its newline): in the input's format, else in
    /// the first other format that reads it.
    pub fn frame(self, line: &[u8]) -> Framed<'_> {
        if line.iter().all(u8::is_ascii_whitespace) || line.starts_with(b"-- ") {
            return Framed::Blank;
        }
        let Some(primary) = self.primary else {
            return Framed::Unparsed;
        };
        if let Some(e) = LINE_FORMATS[primary].parse(line) {
            return Framed::Record(e);
        }
        LINE_FORMATS
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != primary)
            .find_map(|(_, f)| f.parse(line))
            .map_or(Framed::Unparsed, Framed::Record)
    }
}

/// One line after framing.
#[derive(Debug, PartialEq, Eq)]
pub enum Framed<'a> {
    Record(Envelope<'a>),
    /// Empty lines and journalctl's `-- Boot …` / `-- Logs begin …`
    /// separators: neither data nor errors.
    Blank,
    Unparsed,
}

/// Decides an input's format from a sample of its first lines: the format
/// that reads most of them wins (the earlier in [`LINE_FORMATS`] on a tie).
pub fn detect(sample: &[u8]) -> InputFormat {
    let mut counts = vec![0usize; LINE_FORMATS.len()];
    let lines = sample
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace) && !l.starts_with(b"-- "))
        .take(200);
    for line in lines {
        for (count, format) in counts.iter_mut().zip(LINE_FORMATS) {
            *count += usize::from(format.parse(line).is_some());
        }
    }
    let best = counts.iter().copied().max().unwrap_or(0);
    InputFormat {
        primary: (best > 0).then(|| counts.iter().position(|&n| n == best).unwrap_or(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGES: &str = r#"May  1 11:03:56 ecs-prod-003 kubelet: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed"
May  2 00:10:24 ecs-prod-003 dockerd: time="2023-05-02T00:10:24.148458112+08:00" level=info msg="x"
"#;

    #[test]
    fn detects_rsyslog_journal_and_raw_inputs() {
        assert_eq!(detect(MESSAGES.as_bytes()).name(), "syslog");
        let journal =
            "-- Logs begin at Mon 2023-05-01 00:00:00 CST. --\nMay 01 11:03:56 n kubelet[1]: x\n";
        assert_eq!(detect(journal.as_bytes()).name(), "syslog");
        let kubelet_log =
            "I0501 23:37:46.243371  285578 scope.go:111] \"RemoveContainer\"\nnot klog\n";
        assert_eq!(detect(kubelet_log.as_bytes()).name(), "klog");
        assert_eq!(detect(b"\x00\x01\x02binary\n"), InputFormat::UNKNOWN);
        assert_eq!(detect(b""), InputFormat::UNKNOWN);
    }

    #[test]
    fn a_line_in_another_format_is_still_read() {
        let syslog = detect(MESSAGES.as_bytes());
        let klog = b"E0501 11:03:37.635343    4568 remote_runtime.go:276] x";
        assert!(matches!(syslog.frame(klog), Framed::Record(e) if e.message.as_ref() == klog));
    }

    #[test]
    fn framing_counts_continuations_as_unparsed_and_blank_lines_as_blank() {
        let f = detect(MESSAGES.as_bytes());
        let first = MESSAGES.lines().next().unwrap().as_bytes();
        assert!(matches!(f.frame(first), Framed::Record(_)));
        assert_eq!(f.frame(b"   goroutine 1 [running]:"), Framed::Unparsed);
        assert_eq!(f.frame(b"  "), Framed::Blank);
        assert_eq!(f.frame(b"-- Boot 4f2a --"), Framed::Blank);
        assert_eq!(InputFormat::UNKNOWN.frame(first), Framed::Unparsed);
    }

    #[test]
    fn every_format_has_a_distinct_name() {
        let mut names: Vec<&str> = LINE_FORMATS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), LINE_FORMATS.len());
    }

    #[test]
    fn payload_dispatch_reads_each_form() {
        let cases: [(&[u8], PayloadForm); 4] = [
            (
                b"E0501 11:03:37.635343    4568 f.go:1] x",
                PayloadForm::Klog,
            ),
            (
                b"time=\"2023-05-02T00:10:24+08:00\" level=info msg=x",
                PayloadForm::Logrus,
            ),
            (
                b"2023-05-01 10:47:56.381 [INFO][88861] ipam.go 1172: x",
                PayloadForm::Cni,
            ),
            (b"Started Session 1 of user root.", PayloadForm::Plain),
        ];
        for (msg, form) in cases {
            assert_eq!(
                parse_payload(msg).form,
                form,
                "{}",
                String::from_utf8_lossy(msg)
            );
        }
    }
}
