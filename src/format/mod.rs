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

pub mod cloud;
pub mod cloud_doc;
pub mod cni;
pub mod cri;
pub mod dmesg;
pub mod env_logger;
pub mod iso;
pub mod journal_delta;
pub mod journal_export;
pub mod journal_file;
pub mod journal_full;
pub mod journal_json;
pub mod journal_unix;
pub mod journal_verbose;
pub mod klog;
mod lex;
pub mod logrus;
pub mod logrus_json;
pub mod logrus_tty;
pub mod prefix;
pub mod rfc5424;
pub mod status;
pub mod syslog;
pub mod talos;
pub mod unframed;
pub mod wall;
pub mod wrap;

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
    /// A component's own line with no envelope around it: the whole line
    /// is the message, and the payload header's time is the record's.
    pub fn raw(line: &'a [u8], payload: Payload) -> Envelope<'a> {
        Envelope {
            stamp: payload.stamp,
            ..Envelope::bare(line)
        }
    }

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

/// Whether `line` is the header of a record whose text follows on the next
/// lines ([`wall`], [`status`]): [`wrap::lines`] joins them.
pub fn is_header(line: &[u8]) -> bool {
    wall::is_header(line) || status::is_header(line)
}

/// Every line format, in the order ties in detection are broken and a line
/// that does not fit its input's format is tried against the others: the
/// common and cheap first (syslog stays first), JSON, which must be
/// decoded, last. Each rejects a line that is not its own on its first
/// bytes, and no two read the same line (see the tests).
pub const LINE_FORMATS: &[LineFormat] = &[
    LineFormat {
        name: "syslog",
        parse: syslog::parse,
    },
    LineFormat {
        name: "klog",
        parse: |line| klog::parse(line).map(|p| Envelope::raw(line, p)),
    },
    LineFormat {
        name: "logrus",
        parse: |line| logrus::parse(line).map(|p| Envelope::raw(line, p)),
    },
    LineFormat {
        name: "cni",
        parse: |line| cni::parse(line).map(|p| Envelope::raw(line, p)),
    },
    LineFormat {
        name: "iso",
        parse: iso::parse,
    },
    LineFormat {
        name: "cri",
        parse: cri::parse,
    },
    LineFormat {
        name: "dmesg",
        parse: dmesg::parse,
    },
    LineFormat {
        name: "journal-full",
        parse: journal_full::parse,
    },
    LineFormat {
        name: "journal-unix",
        parse: journal_unix::parse,
    },
    LineFormat {
        name: "journal-delta",
        parse: journal_delta::parse,
    },
    LineFormat {
        name: "rfc5424",
        parse: rfc5424::parse,
    },
    LineFormat {
        name: "talosctl-dmesg",
        parse: talos::parse,
    },
    LineFormat {
        name: "env-logger",
        parse: env_logger::parse,
    },
    LineFormat {
        name: "logrus-tty",
        parse: logrus_tty::parse,
    },
    LineFormat {
        name: "logrus-json",
        parse: logrus_json::parse,
    },
    LineFormat {
        name: "journal-json",
        parse: journal_json::parse,
    },
    LineFormat {
        name: cloud::NAME,
        parse: cloud::parse,
    },
    LineFormat {
        name: wall::NAME,
        parse: wall::parse,
    },
    LineFormat {
        name: status::NAME,
        parse: status::parse,
    },
    // Last, and never tried on other inputs' lines: it reads any text.
    LineFormat {
        name: UNTIMED_KERNEL,
        parse: dmesg::parse_untimed,
    },
];

/// Kernel messages with no envelope and no time ([`dmesg::parse_untimed`]):
/// an input's format only when no other format reads its lines and they
/// look like the kernel's ([`dmesg::looks_untimed`]).
const UNTIMED_KERNEL: &str = "kernel-untimed";

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
    /// The kernel's `[ 4174.552171] ` time since boot.
    Dmesg,
    LogrusJson,
    LogrusTty,
    /// Free text: no header podmortem knows.
    Plain,
}

impl PayloadForm {
    pub fn name(self) -> &'static str {
        match self {
            PayloadForm::Klog => "klog",
            PayloadForm::Logrus => "logrus",
            PayloadForm::Cni => "cni",
            PayloadForm::Dmesg => "dmesg",
            PayloadForm::LogrusJson => "logrus-json",
            PayloadForm::LogrusTty => "logrus-tty",
            PayloadForm::Plain => "plain",
        }
    }
}

/// A message's severity as its program labelled it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
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
        Some(b'I' | b'W' | b'E' | b'F') => klog::parse(msg).or_else(|| logrus_tty::payload(msg)),
        Some(b't') => logrus::parse(msg),
        Some(b'0'..=b'9') => cni::parse(msg),
        Some(b'[') => dmesg::payload(msg),
        Some(b'{') => logrus_json::payload(msg),
        Some(b'D' | b'P' | b'T' | 0x1b) => logrus_tty::payload(msg),
        _ => None,
    };
    parsed.unwrap_or(Payload {
        form: PayloadForm::Plain,
        stamp: None,
        level: None,
    })
}

/// The framing of a whole input, decided once from its first lines: the
/// line format most of them are in, if any, and what tools or pastes put
/// before every line ([`prefix`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputFormat {
    primary: Option<usize>,
    prefix: prefix::Prefix,
    /// The terminal width its records were wrapped at, if they were
    /// ([`wrap`]).
    wrap: wrap::Width,
}

impl InputFormat {
    /// An input in which nothing is recognisable.
    pub const UNKNOWN: InputFormat = InputFormat {
        primary: None,
        prefix: prefix::Prefix::NONE,
        wrap: wrap::Width::NONE,
    };

    /// The line format of [`LINE_FORMATS`] called `name`, without prefix:
    /// for lines whose writer is known (the records
    /// [`cluster`](crate::cluster) writes).
    pub fn named(name: &str) -> Option<InputFormat> {
        Some(InputFormat {
            primary: Some(LINE_FORMATS.iter().position(|f| f.name == name)?),
            prefix: prefix::Prefix::NONE,
            wrap: wrap::Width::NONE,
        })
    }

    /// The line format; `timestamped` when only a prefix's time frames the
    /// lines (`docker logs -t` of free text), `kubectl-prefixed` when only
    /// `kubectl --prefix` does.
    pub fn name(self) -> &'static str {
        match self.primary {
            Some(i) => LINE_FORMATS[i].name,
            None if self.prefix.layers().any(|l| l.gives_time()) => "timestamped",
            None if self.prefix.layers().any(|l| l.is_envelope()) => "kubectl-prefixed",
            None => "unknown",
        }
    }

    /// What was inferred about the lines besides their format
    /// (`grep -n prefix stripped`).
    pub fn notes(self) -> Vec<&'static str> {
        let mut notes: Vec<&'static str> = self.prefix.layers().map(prefix::Layer::note).collect();
        if self.wrap.columns().is_some() {
            notes.push("terminal-wrapped records rejoined");
        }
        notes
    }

    /// The terminal width the input's records were wrapped at ([`wrap`]).
    pub fn wrap(self) -> wrap::Width {
        self.wrap
    }

    /// Whether `line` frames as a record.
    pub fn is_record(&self, line: &[u8]) -> bool {
        matches!(self.frame(line), Framed::Record(_))
    }

    /// Frames one line (without its newline): in the input's format, else in
    /// the first other format that reads it. The input's prefix is stripped
    /// first; its time is the record's when the rest has no envelope.
    #[inline]
    pub fn frame<'a>(&self, line: &'a [u8]) -> Framed<'a> {
        if is_blank(line) {
            return Framed::Blank;
        }
        if self.prefix.is_none() {
            return self.frame_bare(line);
        }
        let (rest, outer) = self.prefix.strip(line);
        if is_blank(rest) {
            return Framed::Blank;
        }
        match self.frame_bare(rest) {
            Framed::Record(mut e) => {
                if e.host.is_none() && outer.stamp.is_some() {
                    if let Some(Stamp::SinceBoot(d)) = e.stamp {
                        e.since_boot = Some(d);
                    }
                    e.stamp = outer.stamp;
                }
                if e.program.is_none() {
                    e.program = outer.program.map(Cow::Borrowed);
                }
                Framed::Record(e)
            }
            Framed::Unparsed if outer.stamp.is_some() || outer.program.is_some() => {
                // The prefix's time, then a tag naming the writer: `snap
                // logs`' `systemd[1]: …`, a CI runner's `    default: time=…`.
                if let Some((program, pid, message)) = prefix::tag(rest) {
                    return Framed::Record(Envelope {
                        stamp: outer.stamp,
                        program: Some(Cow::Borrowed(program)),
                        pid,
                        ..Envelope::bare(message)
                    });
                }
                Framed::Record(Envelope {
                    stamp: outer.stamp,
                    program: outer.program.map(Cow::Borrowed),
                    ..Envelope::bare(rest)
                })
            }
            other => other,
        }
    }

    #[inline(always)]
    fn frame_bare<'a>(&self, line: &'a [u8]) -> Framed<'a> {
        let Some(primary) = self.primary else {
            return Framed::Unparsed;
        };
        if let Some(e) = LINE_FORMATS[primary].parse(line) {
            return Framed::Record(e);
        }
        let other = |line| {
            LINE_FORMATS
                .iter()
                .enumerate()
                .filter(|(i, f)| *i != primary && f.name != UNTIMED_KERNEL)
                .find_map(|(_, f)| f.parse(line))
        };
        if let Some(e) = other(line) {
            return Framed::Record(e);
        }
        // A markdown code span or fence glued to the record (```May 1 …```,
        // `E0501 …`): the first line of a pasted block, or an inline quote.
        match line.iter().position(|&b| b != b'`') {
            Some(start) if start > 0 => LINE_FORMATS[primary]
                .parse(&line[start..])
                .or_else(|| other(&line[start..]))
                .map_or(Framed::Unparsed, Framed::Record),
            _ => Framed::Unparsed,
        }
    }
}

/// Neither data nor errors: empty lines, journalctl's `-- Boot …` / `-- Logs
/// begin …` separators and `journalctl -x`'s catalog text under a record
/// (`-- Subject: …` before systemd 246, `░░ Subject: …` since), grep's `--`
/// between context groups, and what is left of a pasted quote on an empty
/// line (`>`).
#[inline]
fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'*' | b'-' | b'|'))
        || line.starts_with(b"-- ")
        || line.starts_with(CATALOG)
}

/// What `journalctl -x` puts before each line of catalog text since systemd
/// 246 (two U+2591 LIGHT SHADE).
const CATALOG: &[u8] = "\u{2591}\u{2591}".as_bytes();

/// One line after framing.
#[derive(Debug, PartialEq, Eq)]
pub enum Framed<'a> {
    Record(Envelope<'a>),
    /// Empty lines and separators ([`is_blank`]): neither data nor errors.
    Blank,
    Unparsed,
}

/// The formats whose records span many lines, read entry by entry rather
/// than line by line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryFormat {
    /// `journalctl -o export` ([`journal_export`]).
    Export,
    /// `journalctl -o verbose` ([`journal_verbose`]).
    Verbose,
    /// `journalctl -o json-pretty` ([`journal_json::pretty_entries`]).
    JsonPretty,
    /// A cloud log export printed as one JSON document
    /// ([`cloud_doc::Document`]).
    Document(cloud_doc::Document),
    /// A cloud log export as a CSV table ([`cloud_doc::Columns`]).
    Csv(cloud_doc::Columns),
}

impl EntryFormat {
    /// Decides from the first bytes of an input.
    pub fn detect(sample: &[u8]) -> Option<EntryFormat> {
        if journal_export::looks_like(sample) {
            Some(EntryFormat::Export)
        } else if journal_verbose::looks_like(sample) {
            Some(EntryFormat::Verbose)
        } else if let Some(document) = cloud_doc::Document::detect(sample) {
            // Before json-pretty, whose `{` line then a quoted key a
            // pretty-printed export has too.
            Some(EntryFormat::Document(document))
        } else if journal_json::looks_pretty(sample) {
            Some(EntryFormat::JsonPretty)
        } else {
            cloud_doc::Columns::detect(sample).map(EntryFormat::Csv)
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            EntryFormat::Export => "journal-export",
            EntryFormat::Verbose => "journal-verbose",
            EntryFormat::JsonPretty => "journal-json-pretty",
            EntryFormat::Document(document) => document.name(),
            EntryFormat::Csv(columns) => columns.name(),
        }
    }

    /// The entries of `buf`, in order.
    pub fn entries(self, buf: &[u8]) -> Box<dyn Iterator<Item = journal_export::Entry<'_>> + '_> {
        match self {
            EntryFormat::Export => Box::new(journal_export::entries(buf)),
            EntryFormat::Verbose => Box::new(journal_verbose::entries(buf)),
            EntryFormat::JsonPretty => Box::new(journal_json::pretty_entries(buf)),
            EntryFormat::Document(document) => Box::new(document.entries(buf)),
            EntryFormat::Csv(columns) => Box::new(columns.entries(buf)),
        }
    }

    /// Where the last whole entry of a full block of a stream ends.
    pub fn record_end(self, buf: &[u8]) -> Option<usize> {
        match self {
            EntryFormat::Export => memchr::memmem::rfind(buf, b"\n\n").map(|i| i + 2),
            EntryFormat::Verbose => journal_verbose::record_end(buf),
            EntryFormat::JsonPretty => journal_json::pretty_record_end(buf),
            EntryFormat::Document(document) => document.record_end(buf),
            EntryFormat::Csv(columns) => columns.record_end(buf),
        }
    }
}

/// Sample lines looked at to decide an input's format.
const SAMPLE_LINES: usize = 200;

/// Decides an input's format from a sample of its first lines: the format
/// that reads most of them wins (the earlier in [`LINE_FORMATS`] on a tie).
/// Never the untimed kernel format: see [`detect_with`].
pub fn detect(sample: &[u8]) -> InputFormat {
    detect_with(sample, &|_| false)
}

/// [`detect`], learning a prefix when fewer than 9 in 10 lines read
/// ([`prefix::Prefix::learn`], kept if more lines read with it); and when no
/// format reads the sample, kernel messages without time: most lines have
/// their shape ([`dmesg::looks_untimed`]) and `is_kernel` (the grammar's
/// kernel patterns) recognizes one of them, so that a config file of
/// `key: value` lines is not taken for the kernel's.
pub fn detect_with(sample: &[u8], is_kernel: &dyn Fn(&[u8]) -> bool) -> InputFormat {
    let mut format = detect_lines(sample, is_kernel);
    let consecutive: Vec<&[u8]> = sample
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take(SAMPLE_LINES)
        .collect();
    format.wrap = wrap::Width::learn(&consecutive, &|l| format.is_record(l));
    format
}

/// [`detect_with`] but for the wrap width.
fn detect_lines(sample: &[u8], is_kernel: &dyn Fn(&[u8]) -> bool) -> InputFormat {
    let lines: Vec<&[u8]> = sample
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !is_blank(l))
        .take(SAMPLE_LINES)
        .collect();
    let bare = best_format(&lines, prefix::Prefix::NONE);
    if bare.read * 10 >= lines.len() * 9 {
        return bare.format;
    }
    let learned = prefix::Prefix::learn(&lines);
    let mut chosen = bare;
    // The known layers, then a constant string inside them.
    for candidate in [Some(learned), learned.with_constant(&lines)]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_none())
    {
        let with_prefix = best_format(&lines, candidate);
        if with_prefix.read > chosen.read {
            chosen = with_prefix;
        }
    }
    let kernel_message =
        |line: &&[u8]| dmesg::parse_untimed(line).is_some_and(|e| is_kernel(&e.message));
    if chosen.read == 0
        && dmesg::looks_untimed(lines.iter().copied())
        && lines.iter().any(kernel_message)
    {
        return InputFormat {
            primary: LINE_FORMATS.iter().position(|f| f.name == UNTIMED_KERNEL),
            prefix: prefix::Prefix::NONE,
            wrap: wrap::Width::NONE,
        };
    }
    chosen.format
}

/// The best format for `lines` under `prefix`, and how many lines it reads.
struct Candidate {
    format: InputFormat,
    read: usize,
}

fn best_format(lines: &[&[u8]], prefix: prefix::Prefix) -> Candidate {
    let mut counts = vec![0usize; LINE_FORMATS.len()];
    let mut read = 0;
    for line in lines {
        let (rest, outer) = prefix.strip(line);
        let mut any = outer.stamp.is_some() || outer.program.is_some();
        for (count, format) in counts.iter_mut().zip(LINE_FORMATS) {
            let reads = format.name != UNTIMED_KERNEL && format.parse(rest).is_some();
            *count += usize::from(reads);
            any |= reads;
        }
        read += usize::from(any);
    }
    let best = counts.iter().copied().max().unwrap_or(0);
    Candidate {
        format: InputFormat {
            primary: (best > 0).then(|| counts.iter().position(|&n| n == best).unwrap_or(0)),
            prefix,
            wrap: wrap::Width::NONE,
        },
        read,
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
        // Real: hzyitc/armbian-onecloud#94 (`journalctl -xe`, systemd 247).
        assert_eq!(f.frame("░░ Subject: Unit failed".as_bytes()), Framed::Blank);
        assert_eq!(f.frame("░░ ".as_bytes()), Framed::Blank);
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
        let cases: [(&[u8], PayloadForm); 10] = [
            (
                b"E0501 11:03:37.635343    4568 f.go:1] x",
                PayloadForm::Klog,
            ),
            (
                b"[ 4174.552171] INFO: task fluentd:4242 blocked for more than 120 seconds.",
                PayloadForm::Dmesg,
            ),
            (
                br#"{"level":"info","msg":"shim disconnected","time":"2023-05-01T10:48:54.306078409+08:00"}"#,
                PayloadForm::LogrusJson,
            ),
            (
                b"INFO[2023-05-02T00:10:24.148458112+08:00] Container a9acd5210705 failed",
                PayloadForm::LogrusTty,
            ),
            (b"DEBU[0000] x", PayloadForm::LogrusTty),
            (b"[drm] Initialized", PayloadForm::Plain),
            (b"Info: starting", PayloadForm::Plain),
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

    /// Real lines (message bodies from the seed report) in every format,
    /// each under the name of the one format that must read it.
    const SAMPLES: &[(&str, &[&str])] = &[
        (
            "syslog",
            &[
                r#"May  2 00:10:24 ecs-prod-003 dockerd: time="2023-05-02T00:10:24.148458112+08:00" level=info msg="Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL""#,
                r#"May 01 11:03:37 ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded" containerID="fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469""#,
                "May  1 11:22:19 ecs-prod-003 kernel: [ 4174.552171] IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready",
                "Mai 01 11:08:12 ecs-prod-003 systemd[1]: Started Session 9820 of user root.",
                "mai 01 11:08:12 ecs-prod-003 systemd-logind[812]: New session 9820 of user root.",
                "may 01 11:08:12 ecs-prod-003 systemd[1]: Started Session 9820 of user root.",
                "janv. 01 11:08:12 ecs-prod-003 systemd[1]: Started Session 9820 of user root.",
                " 5月 01 11:08:12 ecs-prod-003 systemd[1]: Started Session 9820 of user root.",
                "5月 01 11:08:12 ecs-prod-003 systemd[1]: Started Session 9820 of user root.",
                r#"May  1 11:03:56  kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed""#,
            ],
        ),
        (
            "klog",
            &[
                r#"E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded" containerID="fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469""#,
                r#"I0501 23:37:46.243371  285578 scope.go:111] "RemoveContainer" containerID="fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469""#,
            ],
        ),
        (
            "logrus",
            &[
                r#"time="2023-05-02T00:10:24.148458112+08:00" level=info msg="Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL""#,
            ],
        ),
        (
            "cni",
            &[
                "2023-05-01 10:47:56.381 [INFO][88861] ipam.go 1172: Releasing all IPs with handle 'k8s-pod-network.a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9'",
            ],
        ),
        (
            "iso",
            &[
                r#"2023-05-01T11:03:37+0800 ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded" containerID="fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469""#,
                r#"2023-05-02T00:10:24.148458+08:00 ecs-prod-003 dockerd: time="2023-05-02T00:10:24.148458112+08:00" level=info msg="Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL""#,
                "2023-05-01T03:22:19Z ecs-prod-003 kernel: IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready",
                r#"2023-05-01 11:03:37.635 ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed""#,
            ],
        ),
        (
            "cri",
            &[
                r#"2023-05-01T11:03:37.635343512+08:00 stderr F E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded""#,
                r#"2023-05-01T16:10:24.148458112Z stdout P time="2023-05-02T00:10:24.148458112+08:00" level=info msg="Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL""#,
            ],
        ),
        (
            "dmesg",
            &[
                "[ 4174.552171] IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready",
                "[    3.532145] usb 1-1: new high-speed USB device number 2 using xhci_hcd",
                "kern  :warn  : [ 4174.552171] INFO: task fluentd:4242 blocked for more than 120 seconds.",
                "[Mon May  1 11:22:19 2023] IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready",
                "2023-05-01T11:22:19,552171+08:00 IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready",
                r#"[ 4174.552171] ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed""#,
            ],
        ),
        (
            "journal-full",
            &[
                r#"Mon 2023-05-01 11:03:37 CST ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded""#,
                "Mon 2023-05-01 03:22:19 UTC ecs-prod-003 kernel: IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready",
            ],
        ),
        (
            "journal-unix",
            &[
                r#"1682910217.635343 ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed""#,
            ],
        ),
        (
            "journal-delta",
            &[
                r#"[ 7265.418733 <    1.000000 >] ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed""#,
            ],
        ),
        (
            "env-logger",
            &[
                "[2026-09-10T01:28:06.838797Z ERROR init_or_kernel] [   26.869570] EXT4-fs error (device vda): ext4_lookup:1821: inode #97: comm nebula-init: deleted inode referenced: 1140",
            ],
        ),
        (
            "talosctl-dmesg",
            &[
                "109.200.197.196: kern:    info: [2024-04-16T18:19:30.92421418Z]: XFS (sdb5): Ending clean mount",
                r#"user: warning: [2026-01-12T20:27:31.913975631Z]: [talos] Sending SIGKILL to cgroup {"component": "controller-runtime"}"#,
            ],
        ),
        (
            "rfc5424",
            &[
                r#"<165>1 2023-05-01T11:03:37.635343+08:00 ecs-prod-003 kubelet 4568 - - E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed""#,
                r#"<30>1 2023-05-01T16:10:24Z ecs-prod-003 dockerd - - [meta sequenceId="7"] time="2023-05-02T00:10:24.148458112+08:00" level=info msg="Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL""#,
            ],
        ),
        (
            "logrus-tty",
            &[
                "INFO[2023-05-02T00:10:24.148458112+08:00] Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL  container=a9acd5210705",
                "WARN[0001] Running modprobe bridge br_netfilter failed with message: ip: can't find device 'bridge'",
                "ERRO[0012] Handler for POST /containers/fef3e1fbee14/stop returned error: cannot stop container",
            ],
        ),
        (
            "logrus-json",
            &[
                r#"{"level":"info","msg":"Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL","time":"2023-05-02T00:10:24.148458112+08:00"}"#,
                r#"{"id":"ff9fc16b6919dc7105b57a0d04eb597e163bf8f5f05d9039377fcba4fc529ead","level":"info","msg":"shim disconnected","time":"2023-05-01T10:48:54.306078409+08:00"}"#,
            ],
        ),
        (
            "journal-json",
            &[
                r#"{"__REALTIME_TIMESTAMP":"1682910217635343","_TRANSPORT":"stdout","_HOSTNAME":"ecs-prod-003","SYSLOG_IDENTIFIER":"kubelet","_PID":"4568","MESSAGE":"E0501 11:03:37.635343    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\""}"#,
                "\x1e{\"__REALTIME_TIMESTAMP\":\"1682911339000000\",\"_SOURCE_MONOTONIC_TIMESTAMP\":\"4174552171\",\"_TRANSPORT\":\"kernel\",\"MESSAGE\":\"IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready\"}",
                r#"{"__REALTIME_TIMESTAMP":"1682957424148458","SYSLOG_IDENTIFIER":"dockerd","MESSAGE":"time=\"2023-05-02T00:10:24.148458112+08:00\" level=info msg=\"Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL\""}"#,
            ],
        ),
        (
            cloud::NAME,
            &[
                // Loki `logcli --output=jsonl`, Fluent Bit's systemd input
                // (tests/fixtures/cloud).
                r#"{"labels": {"host": "ecs-prod-003", "job": "systemd-journal", "unit": "kubelet.service"}, "line": "E0501 11:03:37.635343    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\"", "timestamp": "2023-05-01T11:03:56.000000+08:00"}"#,
                r#"{"@timestamp":"2023-05-01T02:48:02.000Z","_HOSTNAME":"ecs-prod-003","_SYSTEMD_UNIT":"dockerd.service","SYSLOG_IDENTIFIER":"dockerd","_TRANSPORT":"stdout","PRIORITY":"6","MESSAGE":"time=\"2023-05-01T10:48:02.621505552+08:00\" level=info msg=\"Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL\""}"#,
            ],
        ),
        (
            wall::NAME,
            &[
                // Real: radiasoft/devops#141, header alone and with its body.
                "Message from syslogd@fnl9b at Mar 22 21:40:42 ...",
                "Message from syslogd@fnl9b at Mar 22 21:40:42 ...  kernel:unregister_netdevice: waiting for lo to become free. Usage count = 1",
            ],
        ),
        (
            status::NAME,
            &[
                // Real: docker/for-linux#646.
                "● docker.service - Docker Application Container Engine",
            ],
        ),
        (
            UNTIMED_KERNEL,
            &[
                "INFO: task containerd-shim:1234 blocked for more than 120 seconds.",
                "IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready",
            ],
        ),
    ];

    #[test]
    fn every_format_has_samples() {
        let mut sampled: Vec<&str> = SAMPLES.iter().map(|(name, _)| *name).collect();
        let mut names: Vec<&str> = LINE_FORMATS.iter().map(|f| f.name).collect();
        sampled.sort_unstable();
        names.sort_unstable();
        assert_eq!(sampled, names);
    }

    #[test]
    fn each_sample_is_read_by_its_format_and_no_other() {
        for (name, lines) in SAMPLES {
            for line in *lines {
                // The untimed kernel format reads any text, and is only
                // ever an input's format when no other reads its lines.
                let readers: Vec<&str> = LINE_FORMATS
                    .iter()
                    .filter(|f| f.name != UNTIMED_KERNEL && f.parse(line.as_bytes()).is_some())
                    .map(|f| f.name)
                    .collect();
                let expected: &[&str] = if *name == UNTIMED_KERNEL {
                    &[]
                } else {
                    &[*name]
                };
                assert_eq!(readers, expected, "{line}");
            }
        }
    }

    #[test]
    fn detection_picks_each_format_from_its_samples() {
        for (name, lines) in SAMPLES {
            // A journal-style preamble and a continuation line that nothing
            // reads must not change the outcome.
            let input = format!(
                "-- Logs begin at Mon 2023-05-01 00:00:00 CST. --\n{}\n   goroutine 1 [running]:\n",
                lines.join("\n")
            );
            // A stand-in for the grammar's kernel patterns.
            let hung_task = |msg: &[u8]| msg.starts_with(b"INFO: task ");
            assert_eq!(
                detect_with(input.as_bytes(), &hung_task).name(),
                *name,
                "{input}"
            );
        }
        // Lines of the kernel's shape that no kernel pattern knows (a
        // config file) are no kernel log.
        let config = "apiVersion: v1\nkind: Pod\nmetadata: x\n";
        assert_eq!(
            detect_with(config.as_bytes(), &|_| false),
            InputFormat::UNKNOWN
        );
    }

    #[test]
    fn a_kernel_line_in_syslog_gives_the_header_time_and_the_time_since_boot() {
        let line = b"May  1 11:22:19 ecs-prod-003 kernel: [ 4174.552171] IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready";
        let Framed::Record(e) = detect(MESSAGES.as_bytes()).frame(line) else {
            panic!("syslog line expected")
        };
        assert!(matches!(e.stamp, Some(Stamp::Local(_))));
        let p = parse_payload(&e.message);
        assert_eq!(p.form, PayloadForm::Dmesg);
        assert_eq!(
            p.stamp,
            Some(Stamp::SinceBoot(std::time::Duration::from_micros(
                4_174_552_171
            )))
        );
    }

    #[test]
    fn localized_syslog_months_read_as_english_ones() {
        let english = syslog::parse(b"May 01 11:08:12 n systemd[1]: x").unwrap();
        for line in [
            "Mai 01 11:08:12 n systemd[1]: x",
            "mai 01 11:08:12 n systemd[1]: x",
            "may 01 11:08:12 n systemd[1]: x",
            " 5月 01 11:08:12 n systemd[1]: x",
            "5월 01 11:08:12 n systemd[1]: x",
        ] {
            assert_eq!(
                syslog::parse(line.as_bytes()),
                Some(english.clone()),
                "{line}"
            );
        }
        assert_eq!(
            syslog::parse("Mär 31 23:59:59 n k: x".as_bytes()).map(|e| e.stamp),
            syslog::parse(b"Mar 31 23:59:59 n k: x").map(|e| e.stamp)
        );
    }

    #[test]
    fn mixed_inputs_read_lines_of_the_new_formats() {
        let cri = SAMPLES
            .iter()
            .find(|(name, _)| *name == "cri")
            .map(|(_, lines)| lines[0])
            .unwrap();
        let f = detect(MESSAGES.as_bytes());
        let Framed::Record(e) = f.frame(cri.as_bytes()) else {
            panic!("CRI line expected to be read")
        };
        assert_eq!(parse_payload(&e.message).form, PayloadForm::Klog);
        let dmesg =
            detect(b"[    0.000000] Linux version 4.19.90\n[    0.000000] Command line: ro\n");
        assert_eq!(dmesg.name(), "dmesg");
        assert!(matches!(
            dmesg.frame(MESSAGES.lines().next().unwrap().as_bytes()),
            Framed::Record(e) if e.host.is_some()
        ));
    }
}
