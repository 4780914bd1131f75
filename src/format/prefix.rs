//! What tools and pastes put before every line of a log, learned once per
//! input and stripped before the line is framed.
//!
//! ```text
//! messages-20240402.gz:7612:May  1 11:03:56 ecs-prod-003 kubelet: E0501 …     grep -Hn, zgrep -Hn   (context lines: `…gz-7611-…`)
//! 7612:May  1 11:03:56 ecs-prod-003 kubelet: E0501 …                          grep -n
//! [pod/kube-proxy-8x2lq/kube-proxy] E0501 11:03:37.635343 …                    kubectl logs --prefix
//! 2023-05-01T03:03:37.635343512Z E0501 11:03:37.635343 …                       kubectl logs --timestamps, docker logs -t
//! 2021-04-25 14:52:32 Start parsing parameters                                 any ISO date and time before free text
//!   12 [57539.949044] Out of memory: Killed process 328391 …                    cat -n, nl, an editor's line numbers
//! Nov 18, 2020 @ 14:17:57.697<TAB>E0501 11:03:37.635343 …                    Kibana / OpenSearch Discover (tab, space or nothing)
//! > May  1 11:03:56 ecs-prod-003 kubelet: …                                   pasted as a quote, a list (`* `, `- `), indented or as inline code
//! ```
//! The layers nest in this order (a pasted quote of grep output of
//! `kubectl logs --prefix --timestamps`): [`Layer`]. Which layers an input
//! has is decided once, from its first lines ([`Prefix::learn`]), never
//! guessed line by line: a layer is learned when at least 4 in 5 of the
//! sample lines carry it, and the caller keeps the prefix only when more
//! lines frame with it than without (see [`super::detect`]). On each line
//! a layer that does not fit is passed over, so a line that lacks it (a
//! grep `--` separator, a line pasted without its quote) still reads.
//!
//! The timestamp layers (`--timestamps`, Kibana) are an envelope of their
//! own: their time is the record's when the rest has no envelope (a raw
//! klog or logrus line, or free text), as for CRI logs.

use nom::{
    character::complete::char,
    sequence::{preceded, terminated},
    IResult,
};

use super::lex::{clock, date, datetime, fixed_digits, month_name, number, space, syslog_tag};
use crate::time::{PartialStamp, Stamp};

/// The longest learned string (a file name grep prints, a quote).
const LEARNED_MAX: usize = 64;
/// Layers at most in one input.
const MAX_LAYERS: usize = 4;
/// Bytes that quote or indent a pasted line (markdown's backticks too: a
/// record pasted as inline code, ```` ```May  1 … ```` ).
const QUOTE_BYTES: &[u8] = b" \t>*-+|`";

/// A constant string learned from an input, kept inline so that an input's
/// framing stays `Copy`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Learned {
    len: u8,
    bytes: [u8; LEARNED_MAX],
}

impl Learned {
    fn new(text: &[u8]) -> Option<Learned> {
        if text.is_empty() || text.len() > LEARNED_MAX {
            return None;
        }
        let mut bytes = [0; LEARNED_MAX];
        bytes[..text.len()].copy_from_slice(text);
        Some(Learned {
            len: text.len() as u8,
            bytes,
        })
    }

    pub fn get(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for Learned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.get()))
    }
}

/// One thing put before every line, outermost first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// A constant quote or indentation: `> `, `* `, `- `, four spaces.
    Quote(Learned),
    /// grep's `FILE:` (`-H`) and `N:` (`-n`), `-` instead of `:` on
    /// context lines (GNU grep's `--context` output).
    Grep {
        file: Option<Learned>,
        numbered: bool,
    },
    /// `cat -n`, `nl`: a right-aligned line number, then a tab or spaces.
    LineNumber,
    /// `kubectl logs --prefix`: `[pod/NAME/CONTAINER] ` (kubectl ≥ 1.17).
    Kubectl,
    /// An ISO 8601 date and time and a space: `kubectl logs --timestamps`,
    /// `docker logs -t` (Go's RFC3339Nano), scripts' `date '+%F %T'`.
    Stamp,
    /// Kibana's and OpenSearch Dashboards' default date format
    /// (`MMM D, YYYY @ HH:mm:ss.SSS`), then a tab, spaces or nothing.
    Kibana,
    /// Any other string every line starts with, up to a space: a build
    /// tool's target (`  +greet | `), a fan-out tool's host (`10.0.0.3: `).
    Constant(Learned),
}

impl Layer {
    /// What `podmortem inputs` says was inferred.
    pub fn note(self) -> &'static str {
        match self {
            Layer::Quote(_) => "quote or indentation stripped",
            Layer::Grep {
                file: Some(_),
                numbered: true,
            } => "grep -Hn prefix stripped",
            Layer::Grep {
                file: Some(_),
                numbered: false,
            } => "grep -H prefix stripped",
            Layer::Grep { file: None, .. } => "grep -n prefix stripped",
            Layer::LineNumber => "line numbers stripped",
            Layer::Kubectl => "kubectl --prefix stripped",
            Layer::Stamp => "leading timestamp read (kubectl/docker --timestamps)",
            Layer::Kibana => "Kibana/OpenSearch Discover time read",
            Layer::Constant(_) => "constant line prefix stripped",
        }
    }

    /// Whether the layer gives each line a time (an envelope of its own).
    pub fn gives_time(self) -> bool {
        matches!(self, Layer::Stamp | Layer::Kibana)
    }

    /// Whether the layer is an envelope by itself: a time, or the container
    /// `kubectl --prefix` names; the rest is then the message even when no
    /// format reads it.
    pub fn is_envelope(self) -> bool {
        self.gives_time() || self == Layer::Kubectl
    }

    /// `line` without this layer, or `None` when the line does not carry
    /// it; what the layer says goes to `outer`.
    fn strip<'a>(self, line: &'a [u8], outer: &mut Outer<'a>) -> Option<&'a [u8]> {
        match self {
            Layer::Quote(quote) | Layer::Constant(quote) => line.strip_prefix(quote.get()),
            Layer::Grep { file, numbered } => grep(line, file, numbered),
            Layer::LineNumber => line_number(line),
            Layer::Kubectl => {
                let (rest, container) = kubectl(line)?;
                outer.program = Some(container);
                Some(rest)
            }
            Layer::Stamp => {
                let (rest, at) = terminated(datetime, space)(line).ok()?;
                outer.stamp = Some(at);
                Some(rest)
            }
            Layer::Kibana => {
                let (rest, at) = kibana(line).ok()?;
                outer.stamp = Some(Stamp::Local(at));
                Some(rest)
            }
        }
    }
}

/// What the stripped layers said about the record.
#[derive(Debug, Default)]
pub struct Outer<'a> {
    pub stamp: Option<Stamp>,
    /// The container `kubectl --prefix` names.
    pub program: Option<&'a [u8]>,
}

/// The layers of an input, outermost first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    layers: [Option<Layer>; MAX_LAYERS],
}

impl Prefix {
    /// Lines as their program wrote them.
    pub const NONE: Prefix = Prefix {
        layers: [None; MAX_LAYERS],
    };

    #[inline]
    pub fn is_none(&self) -> bool {
        self.layers[0].is_none()
    }

    pub fn layers(&self) -> impl Iterator<Item = Layer> + '_ {
        self.layers.iter().map_while(|l| *l)
    }

    /// Strips every layer that `line` carries; a layer it lacks is passed
    /// over.
    pub fn strip<'a>(&self, line: &'a [u8]) -> (&'a [u8], Outer<'a>) {
        let mut outer = Outer::default();
        let mut rest = line;
        for layer in self.layers() {
            if let Some(r) = layer.strip(rest, &mut outer) {
                rest = r;
            }
        }
        (rest, outer)
    }

    /// Learns the layers most of `lines` (non-blank sample lines) carry.
    pub fn learn(lines: &[&[u8]]) -> Prefix {
        let mut prefix = Prefix::NONE;
        let mut current: Vec<&[u8]> = lines.to_vec();
        let learners: [Learner; 6] = [
            learn_quote,
            learn_grep,
            |lines| shared(lines, Layer::LineNumber),
            |lines| shared(lines, Layer::Kubectl),
            |lines| shared(lines, Layer::Stamp),
            |lines| shared(lines, Layer::Kibana),
        ];
        let mut n = 0;
        for learn in learners {
            let Some(layer) = learn(&current) else {
                continue;
            };
            prefix.layers[n] = Some(layer);
            n += 1;
            let mut outer = Outer::default();
            for line in &mut current {
                let whole: &[u8] = line;
                *line = layer.strip(whole, &mut outer).unwrap_or(whole);
            }
            if n == MAX_LAYERS {
                break;
            }
        }
        prefix
    }
}

impl Prefix {
    /// These layers and, inside them, the longest string most `lines`
    /// start with that ends at a space ([`Layer::Constant`]), if there is
    /// one and a layer is left for it: the unknown prefix issue 9 asks to
    /// learn. The caller keeps it only when more lines read with it.
    pub fn with_constant(&self, lines: &[&[u8]]) -> Option<Prefix> {
        let n = self.layers().count();
        if n == MAX_LAYERS || lines.len() < 3 {
            return None;
        }
        let inner: Vec<&[u8]> = lines.iter().map(|l| self.strip(l).0).collect();
        let mut best: Option<&[u8]> = None;
        for line in inner.iter().take(8) {
            let head = &line[..line.len().min(LEARNED_MAX)];
            for end in (1..head.len()).rev().filter(|&i| head[i] == b' ') {
                let constant = &head[..=end];
                if best.is_some_and(|b| b.len() >= constant.len()) {
                    break;
                }
                // Blanks alone are the quote learner's; a constant names
                // something.
                if !constant.iter().any(u8::is_ascii_alphanumeric) {
                    break;
                }
                let hits = inner.iter().filter(|l| l.starts_with(constant)).count();
                if most(hits, inner.len()) {
                    best = Some(constant);
                    break;
                }
            }
        }
        let mut prefix = *self;
        prefix.layers[n] = Some(Layer::Constant(Learned::new(best?)?));
        Some(prefix)
    }
}

/// Learns one kind of layer from sample lines.
type Learner = fn(&[&[u8]]) -> Option<Layer>;

/// Whether at least 4 in 5 of `n` lines is `hits`.
fn most(hits: usize, n: usize) -> bool {
    n > 0 && hits * 5 >= n * 4
}

/// `layer` when most lines carry it.
fn shared(lines: &[&[u8]], layer: Layer) -> Option<Layer> {
    let mut outer = Outer::default();
    let hits = lines
        .iter()
        .filter(|l| layer.strip(l, &mut outer).is_some())
        .count();
    most(hits, lines.len()).then_some(layer)
}

/// The longest run of quote bytes that most lines start with.
fn learn_quote(lines: &[&[u8]]) -> Option<Layer> {
    let mut best: Option<&[u8]> = None;
    for line in lines.iter().take(8) {
        let run = line.iter().take_while(|b| QUOTE_BYTES.contains(b)).count();
        for len in (1..=run.min(LEARNED_MAX)).rev() {
            let quote = &line[..len];
            if best.is_some_and(|b| b.len() >= len) {
                break;
            }
            let hits = lines.iter().filter(|l| l.starts_with(quote)).count();
            if most(hits, lines.len()) {
                best = Some(quote);
                break;
            }
        }
    }
    best.and_then(Learned::new).map(Layer::Quote)
}

/// grep's file name (the most common path-like word before a `:`) and line
/// numbers, when most lines carry them. A line that starts with a date
/// (`2023-05-01…`) is not taken for `2023-` of grep's context lines.
fn learn_grep(lines: &[&[u8]]) -> Option<Layer> {
    let undated: Vec<&[u8]> = lines.iter().copied().filter(|l| date(l).is_err()).collect();
    if !most(undated.len(), lines.len()) {
        return None;
    }
    let mut names: Vec<(&[u8], usize)> = Vec::new();
    for line in &undated {
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = &line[..colon];
        if !path_like(name) {
            continue;
        }
        match names.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => names.push((name, 1)),
        }
    }
    let file = names
        .iter()
        .max_by_key(|(_, count)| *count)
        .and_then(|(name, _)| Learned::new(name))
        .filter(|name| {
            let hits = undated
                .iter()
                .filter(|l| grep(l, Some(*name), false).is_some())
                .count();
            most(hits, lines.len())
        });
    let numbered = {
        let hits = undated
            .iter()
            .filter(|l| {
                let rest = match file {
                    Some(f) => grep(l, Some(f), false),
                    None => Some(**l),
                };
                rest.is_some_and(|r| grep(r, None, true).is_some())
            })
            .count();
        most(hits, lines.len())
    };
    (file.is_some() || numbered).then_some(Layer::Grep { file, numbered })
}

/// Whether `name` can be a file name grep printed: a path of common
/// characters, not a number (grep's line number), no spaces.
fn path_like(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= LEARNED_MAX
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"._/-+@~".contains(&b))
        && !name.iter().all(u8::is_ascii_digit)
}

/// `line` without grep's `FILE:` and `N:` (or `FILE-`, `N-`). `file` is the
/// name most lines carry; a matching line of another file (`grep -n x
/// messages*`) is read by the path before its first `:` (its context lines,
/// `NAME-N-`, cannot be told apart from a name with dashes, and are not).
fn grep(line: &[u8], file: Option<Learned>, numbered: bool) -> Option<&[u8]> {
    let mut rest = line;
    if let Some(file) = file {
        rest = match rest.strip_prefix(file.get()).and_then(separator) {
            Some(rest) => rest,
            None => {
                let colon = memchr::memchr(b':', &rest[..rest.len().min(LEARNED_MAX + 1)])?;
                path_like(&rest[..colon]).then(|| &rest[colon + 1..])?
            }
        };
    }
    if numbered {
        let digits = rest
            .iter()
            .take(13)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 12 {
            return None;
        }
        rest = separator(&rest[digits..])?;
    }
    Some(rest)
}

/// `line` without `cat -n`'s or `nl`'s number: spaces, digits, then a tab
/// or spaces.
fn line_number(line: &[u8]) -> Option<&[u8]> {
    let pad = line.iter().take_while(|&&b| b == b' ').count();
    let digits = line[pad..]
        .iter()
        .take(10)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let rest = &line[pad + digits..];
    let gap = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    (gap > 0).then(|| &rest[gap..])
}

fn separator(rest: &[u8]) -> Option<&[u8]> {
    match rest {
        [b':' | b'-', tail @ ..] => Some(tail),
        _ => None,
    }
}

/// A syslog-style tag at the start of what a prefix's time leaves, after
/// any indentation: `(program, pid, message)`. Without a PID the tag is
/// taken only when a known payload follows it (`    default: time="…"
/// level=error …`, a CI runner's machine label), so that free text's
/// `Warning: …` keeps its first word.
///
/// ```text
/// 2023-12-16T04:14:34Z systemd[1]: snap.microk8s.daemon-kubelite.service: Scheduled restart job …   snap logs
/// 2023-12-01T00:21:16.6665871Z     default: time="2023-12-01T00:18:12.888Z" level=error msg="…"   GitHub Actions, Vagrant
/// ```
pub fn tag(rest: &[u8]) -> Option<(&[u8], Option<u32>, &[u8])> {
    let start = rest.iter().position(|&b| b != b' ' && b != b'\t')?;
    let (message, (program, pid)) = syslog_tag(&rest[start..]).ok()?;
    let named = program
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'@'));
    let known = || super::parse_payload(message).form != super::PayloadForm::Plain;
    (named && !message.is_empty() && (pid.is_some() || known())).then_some((program, pid, message))
}

/// `[pod/NAME/CONTAINER] `: the rest and the container.
fn kubectl(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let inner = line.strip_prefix(b"[")?;
    let close = memchr::memchr(b']', &inner[..inner.len().min(256)])?;
    let (source, rest) = (&inner[..close], &inner[close + 1..]);
    if source.contains(&b' ') || source.iter().filter(|&&b| b == b'/').count() != 2 {
        return None;
    }
    let container = &source[memchr::memrchr(b'/', source)? + 1..];
    Some((rest.strip_prefix(b" ")?, container))
}

/// `Nov 18, 2020 @ 14:17:57.697` and what separates it from the message.
fn kibana(i: &[u8]) -> IResult<&[u8], PartialStamp> {
    let (i, month) = terminated(month_name, space)(i)?;
    let (i, day) = terminated(number, char(','))(i)?;
    let (i, year) = preceded(space, fixed_digits(4))(i)?;
    let (i, _) = preceded(space, terminated(char('@'), space))(i)?;
    let (i, hms) = clock(i)?;
    if !(1..=31).contains(&day) {
        return Err(super::lex::fail(i));
    }
    let skip = i.iter().take_while(|&&b| b == b'\t' || b == b' ').count();
    Ok((
        &i[skip..],
        PartialStamp::new(Some(year as i32), month, day, hms),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learned(text: &str) -> Vec<Layer> {
        let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
        Prefix::learn(&lines).layers().collect()
    }

    const SYSLOG: &str = r#"May  1 11:03:56 ecs-prod-003 kubelet: E0501 11:03:37.635343    4568 remote_runtime.go:276] "StopContainer from runtime service failed""#;

    #[test]
    fn grep_file_and_line_numbers_with_context_lines() {
        // Composed: grep -Hn -C1 output around a seed line.
        let text = format!(
            "messages-20230507:100-{SYSLOG}\nmessages-20230507:101:{SYSLOG}\nmessages-20230507-102-{SYSLOG}\n"
        );
        let layers = learned(&text);
        let [Layer::Grep {
            file: Some(file),
            numbered: true,
        }] = layers[..]
        else {
            panic!("{layers:?}")
        };
        assert_eq!(file.get(), b"messages-20230507");
        let prefix = Prefix::learn(&text.lines().map(str::as_bytes).collect::<Vec<_>>());
        for line in text.lines() {
            assert_eq!(prefix.strip(line.as_bytes()).0, SYSLOG.as_bytes());
        }
    }

    #[test]
    fn grep_over_several_files() {
        // Composed: `zgrep -n kubelet messages*` over three rotated files.
        let text = format!(
            "messages-20230505.gz:12:{SYSLOG}\nmessages-20230506.gz:7:{SYSLOG}\nmessages-20230507.gz:3:{SYSLOG}\nmessages-20230507.gz:9:{SYSLOG}\n"
        );
        let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
        let prefix = Prefix::learn(&lines);
        assert!(matches!(
            prefix.layers().collect::<Vec<_>>()[..],
            [Layer::Grep {
                file: Some(_),
                numbered: true
            }]
        ));
        for line in lines {
            assert_eq!(prefix.strip(line).0, SYSLOG.as_bytes());
        }
    }

    #[test]
    fn grep_line_numbers_alone_and_file_alone() {
        let numbered = format!("7612:{SYSLOG}\n7613-{SYSLOG}\n");
        assert_eq!(
            learned(&numbered),
            [Layer::Grep {
                file: None,
                numbered: true
            }]
        );
        let named = format!("/var/log/messages:{SYSLOG}\n/var/log/messages:{SYSLOG}\n");
        assert!(matches!(
            learned(&named)[..],
            [Layer::Grep {
                file: Some(_),
                numbered: false
            }]
        ));
    }

    #[test]
    fn dated_lines_are_not_grep_output() {
        let iso = "2023-05-01T11:03:56.123456+08:00 ecs-prod-003 kubelet[4568]: x\n2023-05-01T11:03:57.123456+08:00 ecs-prod-003 kubelet[4568]: y\n";
        assert!(learned(iso)
            .iter()
            .all(|l| !matches!(l, Layer::Grep { .. })));
    }

    #[test]
    fn kubectl_prefix_then_timestamps() {
        // Composed: `kubectl logs --prefix --timestamps` of a klog line.
        let text = "[pod/kube-proxy-8x2lq/kube-proxy] 2023-05-01T03:03:37.635343512Z E0501 11:03:37.635343       1 proxier.go:1] x\n";
        assert_eq!(learned(text), [Layer::Kubectl, Layer::Stamp]);
        let prefix = Prefix::learn(&[text.trim_end().as_bytes()]);
        let (rest, outer) = prefix.strip(text.trim_end().as_bytes());
        assert!(rest.starts_with(b"E0501"));
        assert_eq!(outer.program, Some(&b"kube-proxy"[..]));
        assert!(matches!(outer.stamp, Some(Stamp::Absolute(_))));
    }

    #[test]
    fn line_numbers_and_iso_stamps_before_free_text() {
        // ert-9320 (tests/field/ert-9320-numbered-dmesg-oom), cut.
        let numbered = "  1 [57539.949044] Out of memory: Killed process 328391\n  2 [625328.156297] Out of memory: Killed process 1597132\n";
        assert_eq!(learned(numbered).last(), Some(&Layer::LineNumber));
        let lines: Vec<&[u8]> = numbered.lines().map(str::as_bytes).collect();
        assert!(Prefix::learn(&lines)
            .strip(lines[1])
            .0
            .starts_with(b"[625328.156297]"));
        // nwjs/armv7 #45 (tests/field/nwjs-armv7-45-overlay-mount-buildlog).
        let script = "2021-04-25 14:52:32 TODO install curl, python, docker if needed\n2021-04-25 14:52:32 Start parsing parameters\n";
        assert_eq!(learned(script), [Layer::Stamp]);
        let (rest, outer) = Prefix::learn(&[script.lines().next().unwrap().as_bytes()])
            .strip(script.lines().next().unwrap().as_bytes());
        assert!(rest.starts_with(b"TODO"));
        assert!(matches!(outer.stamp, Some(Stamp::Local(p)) if p.year == Some(2021)));
    }

    #[test]
    fn kibana_stamps_glued_or_tab_separated() {
        for line in [
            "Nov 18, 2020 @ 14:17:57.697\tE1118 14:17:57.697000    4568 x.go:1] y",
            "Nov 18, 2020 @ 14:17:57.697E1118 14:17:57.697000    4568 x.go:1] y",
        ] {
            let (rest, at) = kibana(line.as_bytes()).unwrap();
            assert!(rest.starts_with(b"E1118"), "{line}");
            assert_eq!(
                (at.year, at.month, at.day, at.hour, at.nanos),
                (Some(2020), 11, 18, 14, 697_000_000)
            );
        }
        assert!(kibana(b"Nov 18 2020 14:17:57.697 x").is_err());
    }

    #[test]
    fn quotes_lists_and_indentation() {
        for (quote, text) in [
            ("> ", format!("> {SYSLOG}\n> {SYSLOG}\n")),
            ("* ", format!("* {SYSLOG}\n* {SYSLOG}\n")),
            ("    ", format!("    {SYSLOG}\n    {SYSLOG}\n        x\n")),
        ] {
            let layers = learned(&text);
            let [Layer::Quote(q)] = layers[..] else {
                panic!("{layers:?}")
            };
            assert_eq!(q.get(), quote.as_bytes());
        }
        assert!(learned(&format!("{SYSLOG}\n{SYSLOG}\n")).is_empty());
    }

    #[test]
    fn a_layer_a_line_lacks_is_passed_over() {
        let prefix = Prefix {
            layers: [
                Some(Layer::Grep {
                    file: None,
                    numbered: true,
                }),
                None,
                None,
                None,
            ],
        };
        assert_eq!(prefix.strip(SYSLOG.as_bytes()).0, SYSLOG.as_bytes());
        assert_eq!(
            prefix.strip(format!("12:{SYSLOG}").as_bytes()).0,
            SYSLOG.as_bytes()
        );
    }

    #[test]
    fn a_tag_after_a_prefix_time() {
        // Real: canonical/microk8s#4342 (`snap logs`) and
        // containerd/containerd#9446 (GitHub Actions, then Vagrant's label).
        let (program, pid, message) =
            tag(b"systemd[1]: snap.microk8s.daemon-kubelite.service: Scheduled restart job")
                .unwrap();
        assert_eq!((program, pid), (&b"systemd"[..], Some(1)));
        assert!(message.starts_with(b"snap.microk8s"));
        let (program, pid, message) =
            tag(br#"    default: time="2023-12-01T00:18:12.888205053Z" level=error msg="failed to delete shim""#).unwrap();
        assert_eq!((program, pid), (&b"default"[..], None));
        assert!(message.starts_with(b"time="));
        // Free text keeps its first word.
        assert!(tag(b"Warning: disk almost full").is_none());
        assert!(tag(b"Start parsing parameters").is_none());
    }

    #[test]
    fn a_constant_string_inside_the_known_layers() {
        // Real: earthly/earthly#1870 (a build target before containerd's
        // lines) and kubernetes/kubernetes#61117 (a fan-out tool's host).
        let lines: Vec<&[u8]> = vec![
            br#"              +greet | time="2022-05-05T06:01:30.274013434Z" level=info msg="loading plugin""#,
            br#"              +greet | time="2022-05-05T06:01:30.274085249Z" level=info msg="loading plugin""#,
            br#"              +greet | time="2022-05-05T06:01:30.274161415Z" level=info msg="loading plugin""#,
        ];
        let prefix = Prefix::learn(&lines).with_constant(&lines).unwrap();
        assert!(prefix.strip(lines[0]).0.starts_with(b"time="));
        let hosts: Vec<&[u8]> = vec![
            br#"10.200.1.3: {"ts":1753121332053.952,"msg":"a"}"#,
            br#"10.200.1.3: {"ts":1753121332054.528,"msg":"b"}"#,
            br#"10.200.1.3: {"ts":1753121332054.56,"msg":"c"}"#,
        ];
        let prefix = Prefix::NONE.with_constant(&hosts).unwrap();
        assert!(prefix.strip(hosts[0]).0.starts_with(b"{"));
        // Blanks alone are no constant, and too few lines teach nothing.
        assert!(Prefix::NONE
            .with_constant(&[&b"   a x"[..], b"   b y", b"   c z"])
            .is_none());
        assert!(Prefix::NONE
            .with_constant(&[&b"host: a"[..], b"host: b"])
            .is_none());
    }
}
