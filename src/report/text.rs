//! The text printer: the ranked incidents as a person reads them at a
//! terminal or in a ticket. Incidents of medium severity and above get a
//! full card (findings, timeline, explanation, remediation, evidence); low
//! ones a line each, so that routine noise does not bury the real failure. Log text is sanitized: control characters and
//! escape sequences from log lines never reach the terminal raw.

use std::io::{self, Write};

use super::fleet::FleetIncident;
use super::{Incident, Report};
use crate::severity::Severity;

const WIDTH: usize = 100;
/// Low incidents are listed one line each, at most this many.
const LOW_LINES: usize = 20;
const EVIDENCE_PER_FINDING: usize = 2;
const MAX_EVIDENCE_CHARS: usize = 240;
/// Lines of an evidence line's context shown (a call trace's first frames
/// say what the task waits on).
pub(super) const CONTEXT_LINES: usize = 8;

/// Whether to color severities (ANSI escapes): decided by the caller from
/// `--color`, the terminal and `NO_COLOR`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// A severity's name as the card shows it, colored when asked.
    fn severity(self, s: Severity, text: &str) -> String {
        let code = match s {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "2",
        };
        self.paint(code, text)
    }

    /// `text` in the SGR color `code` (`"31"`, `"1;31"`, `"2"` for dim),
    /// when coloring; as it is otherwise. `text` must be clean already.
    pub(super) fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

pub fn print(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
    header(report, out)?;
    for f in &report.fleet {
        writeln!(out)?;
        print_fleet(f, style, out)?;
    }
    let (cards, lows): (Vec<&Incident>, Vec<&Incident>) = report
        .incidents
        .iter()
        .partition(|i| i.severity > Severity::Low);
    for incident in cards {
        writeln!(out)?;
        print_incident(incident, style, out)?;
    }
    if !lows.is_empty() {
        writeln!(out)?;
        writeln!(out, "{} low incident{}:", lows.len(), plural(lows.len()))?;
        for i in lows.iter().take(LOW_LINES) {
            writeln!(
                out,
                "  #{} {}  {}×  {}",
                i.rank,
                seconds(&i.first_seen),
                i.count(),
                clean(&i.title)
            )?;
        }
        if lows.len() > LOW_LINES {
            writeln!(
                out,
                "  … and {} more (--format json lists them all)",
                lows.len() - LOW_LINES
            )?;
        }
    }
    writeln!(out)?;
    footer(report, out)
}

fn header(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.stats;
    let n = report.incidents.len();
    writeln!(
        out,
        "podmortem: {n} incident{} in {} input{} ({}, {} lines, {} unparsed{})",
        plural(n),
        report.inputs.len(),
        plural(report.inputs.len()),
        human_bytes(s.bytes),
        s.lines,
        s.unparsed,
        unframed(s.unframed)
    )?;
    for e in &report.errors {
        writeln!(
            out,
            "  could not read {}: {}",
            clean(&e.path),
            clean(&e.message)
        )?;
    }
    for note in &report.notes {
        writeln!(out, "  note: {}", clean(note))?;
    }
    for period in report.conditions.iter().filter(|p| p.abnormal) {
        writeln!(out, "  condition: {}", clean(&period.summary()))?;
    }
    Ok(())
}

/// A fleet incident: before the per-host incidents it groups.
fn print_fleet(f: &FleetIncident, style: Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "FLEET #{} {}  {}",
        f.rank,
        style.severity(f.severity, &f.severity.name().to_uppercase()),
        clean(&f.title)
    )?;
    for (label, value) in f.rows() {
        field(out, label, &value)?;
    }
    Ok(())
}

fn print_incident(i: &Incident, style: Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "#{} {}  score {:.1}  {}",
        i.rank,
        style.severity(i.severity, &i.severity.name().to_uppercase()),
        i.score,
        clean(&i.title)
    )?;
    field(out, "kind", &i.kind)?;
    if let Some(chain) = &i.chain {
        field(out, "chain", chain)?;
    }
    if let Some(why) = &i.suppressed {
        field(out, "suppressed", why)?;
    }
    if !i.related.is_empty() {
        let ranks: Vec<String> = i.related.iter().map(|r| format!("#{r}")).collect();
        field(out, "related", &ranks.join(", "))?;
    }
    field(
        out,
        "when",
        &format!(
            "{} → {}  ({})",
            seconds(&i.first_seen),
            seconds(&i.last_seen),
            if i.first_relative.as_ref().is_some_and(|r| r.clock == "line") {
                "duration unknown".to_string()
            } else {
                human_duration(i.duration_s)
            }
        ),
    )?;
    list(out, "hosts", &i.hosts)?;
    let nearby: Vec<String> = i
        .nearby
        .iter()
        .map(|n| {
            format!(
                "{} ({}, {}) on the same node at the same time; no entity ties it here",
                n.kind,
                n.severity.name(),
                n.subject
            )
        })
        .collect();
    list(out, "nearby", &nearby)?;
    list(out, "pods", &i.pods)?;
    list(out, "containers", &i.containers)?;
    writeln!(out, "    findings")?;
    let kind_width = i.findings.iter().map(|f| f.kind.len()).max().unwrap_or(0);
    for f in &i.findings {
        let period = f
            .period_s
            .map(|p| format!("every {p}s"))
            .unwrap_or_default();
        writeln!(
            out,
            "      {:kind_width$}  {}  {:10}  {:>6}×  {:14}  {} → {}",
            f.kind,
            style.severity(f.severity, &format!("{:8}", f.severity.name())),
            clean(&f.source),
            f.count,
            period,
            seconds(&f.first_seen),
            seconds(&f.last_seen),
        )?;
    }
    writeln!(out, "    timeline")?;
    for t in &i.timeline {
        writeln!(out, "      {}  {}", seconds(&t.ts), clean(&t.text))?;
    }
    writeln!(out, "    why")?;
    for (n, paragraph) in i.explanation.split("\n\n").enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        for line in wrap(&clean(paragraph), WIDTH - 6) {
            writeln!(out, "      {line}")?;
        }
    }
    writeln!(out, "    what to do")?;
    for (n, step) in i.remediation_steps.iter().enumerate() {
        let mut lines = wrap(&clean(step), WIDTH - 9).into_iter();
        writeln!(out, "      {}. {}", n + 1, lines.next().unwrap_or_default())?;
        for line in lines {
            writeln!(out, "         {line}")?;
        }
    }
    if !i.references.is_empty() {
        writeln!(out, "    references")?;
        for r in &i.references {
            writeln!(out, "      {}", clean(r))?;
        }
    }
    writeln!(out, "    evidence")?;
    for f in &i.findings {
        for e in f.evidence.iter().take(EVIDENCE_PER_FINDING) {
            let text: String = clean(&e.text).chars().take(MAX_EVIDENCE_CHARS).collect();
            writeln!(out, "      {}:{}  {text}", clean(&e.file), e.line)?;
            for line in e.context.iter().take(CONTEXT_LINES) {
                let line: String = clean(line).chars().take(MAX_EVIDENCE_CHARS).collect();
                writeln!(out, "          {line}")?;
            }
        }
    }
    Ok(())
}

fn footer(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    not_read_notes(report, out)?;
    for input in &report.inputs {
        writeln!(
            out,
            "input {}: {}{}, {} lines, {} unparsed{}, times read as UTC{} (year from {}, zone from {})",
            clean(&input.path),
            input.format,
            inferred(&input.inferred),
            input.lines,
            input.unparsed,
            unframed(input.unframed),
            input.utc_offset,
            provenance(input.year_from),
            provenance(input.zone_from),
        )?;
    }
    let s = &report.stats;
    writeln!(
        out,
        "analyzed {} in {} ms ({} MB/s)",
        human_bytes(s.bytes),
        s.elapsed_ms,
        s.mb_per_s
    )
}

/// `podmortem inputs`: one line per input.
pub fn print_inputs(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for e in &report.errors {
        writeln!(
            out,
            "could not read {}: {}",
            clean(&e.path),
            clean(&e.message)
        )?;
    }
    for i in &report.inputs {
        let range = match (&i.first, &i.last) {
            (Some(first), Some(last)) => format!("{} → {}", seconds(first), seconds(last)),
            _ => "no times".to_string(),
        };
        let hosts = if i.hosts.is_empty() {
            "-".to_string()
        } else {
            i.hosts.join(",")
        };
        writeln!(
            out,
            "{}  {}{}  hosts {}  {}  {} lines, {} unparsed{}",
            clean(&i.path),
            i.format,
            inferred(&i.inferred),
            clean(&hosts),
            range,
            i.lines,
            i.unparsed,
            unframed(i.unframed)
        )?;
    }
    for l in &report.listings {
        writeln!(
            out,
            "{}  listing: {}  {} entries{}",
            clean(&l.path),
            l.kind.as_str(),
            l.entries,
            if l.unread > 0 {
                format!(", {} lines not understood", l.unread)
            } else {
                String::new()
            }
        )?;
    }
    not_read_notes(report, out)?;
    if report.redacted {
        writeln!(out, "note: {}", crate::redact::NOTE)?;
    }
    Ok(())
}

/// ` (grep -n prefix stripped; UTF-16LE decoded)`, or nothing.
fn inferred(notes: &[String]) -> String {
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

/// `, 3 matched without envelope`, or nothing.
fn unframed(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} matched without envelope")
    }
}

/// Bundles recognized, files passed over, files that are not logs.
fn not_read_notes(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for b in &report.bundles {
        writeln!(out, "bundle: {} ({})", clean(&b.root), b.kind)?;
    }
    for s in &report.skipped {
        writeln!(out, "skipped {}: {}", clean(&s.path), clean(&s.message))?;
    }
    if report.ignored > 0 {
        writeln!(
            out,
            "ignored {} files of support bundles that are not logs",
            report.ignored
        )?;
    }
    Ok(())
}

fn provenance(p: crate::time::Provenance) -> &'static str {
    match p {
        crate::time::Provenance::Option => "the command line",
        crate::time::Provenance::Logs => "the logs",
        crate::time::Provenance::OtherInputs => "the other inputs",
        crate::time::Provenance::Fallback => "file time and local zone",
        crate::time::Provenance::Api => "the Kubernetes API's times of the same events",
    }
}

fn field(out: &mut dyn Write, name: &str, value: &str) -> io::Result<()> {
    writeln!(out, "    {name:11} {}", clean(value))
}

fn list(out: &mut dyn Write, name: &str, values: &[String]) -> io::Result<()> {
    match values.split_first() {
        None => Ok(()),
        Some((first, rest)) => {
            field(out, name, first)?;
            for v in rest {
                writeln!(out, "    {:11} {}", "", clean(v))?;
            }
            Ok(())
        }
    }
}

/// Replaces control characters (ESC, CR, BEL…) with `?` so that a log line
/// cannot move the cursor, recolor or retitle the user's terminal.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { '?' } else { c })
        .collect()
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// An RFC 3339 time without its fraction of a second, for reading.
pub(super) fn seconds(ts: &str) -> String {
    match (ts.find('.'), ts.rfind(['+', '-', 'Z'])) {
        (Some(dot), Some(zone)) if dot < zone => format!("{}{}", &ts[..dot], &ts[zone..]),
        _ => ts.to_string(),
    }
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(super) fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

pub(super) fn human_duration(secs: i64) -> String {
    let (d, h, m, s) = (
        secs / 86400,
        secs % 86400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s:02}s"),
        (0, _, _) => format!("{h}h{m:02}m"),
        _ => format!("{d}d{h:02}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_defused() {
        assert_eq!(
            clean("evil \x1b]0;pwned\x07 line\r"),
            "evil ?]0;pwned? line?"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(42), "42s");
        assert_eq!(human_duration(11 * 60 + 3), "11m03s");
        assert_eq!(human_duration(13 * 3600 + 32 * 60 + 55), "13h32m");
        assert_eq!(human_duration(2 * 86400 + 5 * 3600), "2d05h");
    }

    #[test]
    fn fractions_of_seconds_are_dropped_for_reading() {
        assert_eq!(
            seconds("2023-05-02T00:12:58.429207582+08:00"),
            "2023-05-02T00:12:58+08:00"
        );
        assert_eq!(
            seconds("2023-05-02T00:12:58-05:00"),
            "2023-05-02T00:12:58-05:00"
        );
        assert_eq!(seconds("2023-05-02T00:12:58.5Z"), "2023-05-02T00:12:58Z");
    }

    #[test]
    fn wrapping_keeps_words_whole() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
    }
}
