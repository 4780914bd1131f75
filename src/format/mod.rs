//! Framing a line into its parts: the envelope (who wrote it, when, on which
//! host) and the payload header (the program's own time and level).
//!
//! Envelopes: [`syslog`] (RFC 3164 and journalctl `short`), or none for raw
//! component logs. Payloads: [`klog`], [`logrus`], [`cni`]. Every parser is a
//! pure function over bytes: no I/O, no clock, no allocation.
//! What the message *means* is left to the grammar patterns.

pub mod cni;
pub mod klog;
mod lex;
pub mod logrus;
pub mod syslog;

use crate::time::{PartialStamp, Stamp};

/// The header fields of one log line, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub stamp: Option<PartialStamp>,
    pub host: Option<&'a [u8]>,
    pub program: Option<&'a [u8]>,
    pub pid: Option<u32>,
    /// The rest of the line: what the program itself wrote.
    pub message: &'a [u8],
}

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

/// The framing of a whole input, decided once from its first lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// rsyslog's /var/log/messages, syslog, kern.log.
    Syslog,
    /// `journalctl` default output.
    JournalShort,
    /// A component's own log file with no envelope (kubelet.log, docker.log).
    Raw(PayloadForm),
    /// Nothing recognisable; every line is counted as unparsed.
    Unknown,
}

impl InputFormat {
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Syslog => "syslog",
            InputFormat::JournalShort => "journal-short",
            InputFormat::Raw(form) => form.name(),
            InputFormat::Unknown => "unknown",
        }
    }

    /// Frames one line (without its newline) in this format.
    pub fn frame(self, line: &[u8]) -> Framed<'_> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Framed::Blank;
        }
        match self {
            InputFormat::Syslog => syslog::parse(line).map_or(Framed::Unparsed, Framed::Record),
            InputFormat::JournalShort if line.starts_with(b"-- ") => Framed::Blank,
            InputFormat::JournalShort => {
                syslog::parse(line).map_or(Framed::Unparsed, Framed::Record)
            }
            InputFormat::Raw(_) => match parse_payload(line).form {
                PayloadForm::Plain => Framed::Unparsed,
                _ => Framed::Record(Envelope {
                    stamp: None,
                    host: None,
                    program: None,
                    pid: None,
                    message: line,
                }),
            },
            InputFormat::Unknown => Framed::Unparsed,
        }
    }
}

/// One line after framing.
#[derive(Debug, PartialEq, Eq)]
pub enum Framed<'a> {
    Record(Envelope<'a>),
    /// Empty lines and journalctl's `-- Boot …` separators: neither data nor
    /// errors.
    Blank,
    Unparsed,
}

/// Decides an input's format from a sample of its first lines: the framing
/// that parses most of them wins.
pub fn detect(sample: &[u8]) -> InputFormat {
    let mut syslog = 0usize;
    let mut journal_hints = 0usize;
    let mut payloads = [0usize; 3];
    let lines = sample
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(200);
    let mut total = 0usize;
    for line in lines {
        total += 1;
        if line.starts_with(b"-- ") {
            journal_hints += 1;
        } else if syslog::parse(line).is_some() {
            syslog += 1;
            journal_hints += usize::from(line.get(4) == Some(&b'0'));
        } else {
            match parse_payload(line).form {
                PayloadForm::Klog => payloads[0] += 1,
                PayloadForm::Logrus => payloads[1] += 1,
                PayloadForm::Cni => payloads[2] += 1,
                PayloadForm::Plain => {}
            }
        }
    }
    let best_raw = payloads.iter().copied().max().unwrap_or(0);
    if syslog > 0 && syslog >= best_raw {
        return if journal_hints > 0 {
            InputFormat::JournalShort
        } else {
            InputFormat::Syslog
        };
    }
    if best_raw == 0 || total == 0 {
        return InputFormat::Unknown;
    }
    let forms = [PayloadForm::Klog, PayloadForm::Logrus, PayloadForm::Cni];
    let winner = payloads.iter().position(|&n| n == best_raw).unwrap_or(0);
    InputFormat::Raw(forms[winner])
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGES: &str = r#"May  1 11:03:56 ecs-prod-003 kubelet: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed"
May  2 00:10:24 ecs-prod-003 dockerd: time="2023-05-02T00:10:24.148458112+08:00" level=info msg="x"
"#;

    #[test]
    fn detects_rsyslog_journal_and_raw_inputs() {
        assert_eq!(detect(MESSAGES.as_bytes()), InputFormat::Syslog);
        let journal =
            "-- Logs begin at Mon 2023-05-01 00:00:00 CST. --\nMay 01 11:03:56 n kubelet[1]: x\n";
        assert_eq!(detect(journal.as_bytes()), InputFormat::JournalShort);
        let kubelet_log =
            "I0501 23:37:46.243371  285578 scope.go:111] \"RemoveContainer\"\nnot klog\n";
        assert_eq!(
            detect(kubelet_log.as_bytes()),
            InputFormat::Raw(PayloadForm::Klog)
        );
        assert_eq!(detect(b"\x00\x01\x02binary\n"), InputFormat::Unknown);
        assert_eq!(detect(b""), InputFormat::Unknown);
    }

    #[test]
    fn framing_counts_continuations_as_unparsed_and_blank_lines_as_blank() {
        let f = InputFormat::Syslog;
        assert!(matches!(
            f.frame(MESSAGES.lines().next().unwrap().as_bytes()),
            Framed::Record(_)
        ));
        assert_eq!(f.frame(b"   goroutine 1 [running]:"), Framed::Unparsed);
        assert_eq!(f.frame(b"  "), Framed::Blank);
        assert_eq!(
            InputFormat::JournalShort.frame(b"-- Boot 4f2a --"),
            Framed::Blank
        );
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
