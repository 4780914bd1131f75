//! The Markdown printer: a compact report for tickets, pull-request
//! comments and CI job summaries (GitHub-flavored Markdown). A heading with
//! the counts, one table row per incident, then a short section for each
//! incident of medium severity and above: findings, why, what to do,
//! references and one or two evidence lines.
//!
//! Log text is hostile input: in prose and table cells it is escaped so that
//! it cannot end a cell (`|`), open a code span (`` ` ``), format text or
//! inject HTML (`<`, `>`, `&` become entities); evidence lines go in fenced
//! code blocks whose fence is longer than any run of backticks they hold.
//! Control characters never pass through.

use std::io::{self, Write};

use super::text::{plural, seconds, CONTEXT_LINES};
use super::{Incident, Report};
use crate::severity::Severity;

/// Table rows at most; the JSON report lists every incident.
const MAX_ROWS: usize = 50;
/// Evidence lines per incident section.
const EVIDENCE_LINES: usize = 2;
const MAX_EVIDENCE_CHARS: usize = 240;

pub fn print(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let n = report.incidents.len();
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|&s| {
            let k = report.incidents.iter().filter(|i| i.severity == s).count();
            format!("{k} {s}")
        })
        .collect();
    writeln!(
        out,
        "## podmortem: {n} incident{} ({})",
        plural(n),
        counts.join(", ")
    )?;
    writeln!(out)?;
    let s = &report.stats;
    writeln!(
        out,
        "{} input{}, {} lines, {} unparsed.",
        report.inputs.len(),
        plural(report.inputs.len()),
        s.lines,
        s.unparsed
    )?;
    for e in &report.errors {
        writeln!(
            out,
            "- could not read {}: {}",
            text(&e.path),
            text(&e.message)
        )?;
    }
    for e in &report.skipped {
        writeln!(out, "- skipped {}: {}", text(&e.path), text(&e.message))?;
    }
    for note in &report.notes {
        writeln!(out, "- note: {}", text(note))?;
    }
    for period in report.conditions.iter().filter(|p| p.abnormal) {
        writeln!(out, "- condition: {}", text(&period.summary()))?;
    }
    for f in &report.fleet {
        writeln!(out)?;
        writeln!(
            out,
            "### Fleet #{} {}: {}",
            f.rank,
            f.severity,
            text(&f.title)
        )?;
        writeln!(out)?;
        for (label, value) in f.rows() {
            writeln!(out, "- {label}: {}", text(&value))?;
        }
    }
    if n == 0 {
        writeln!(out)?;
        writeln!(out, "No incidents found.")?;
        return Ok(());
    }

    writeln!(out)?;
    writeln!(
        out,
        "| # | severity | title | pods | first seen | last seen | findings |"
    )?;
    writeln!(out, "| ---: | --- | --- | --- | --- | --- | --- |")?;
    // A folded incident names thousands of pods: a row shows the first few.
    const MAX_PODS: usize = 10;
    for i in report.incidents.iter().take(MAX_ROWS) {
        let severity = if i.severity >= Severity::High {
            format!("**{}**", i.severity)
        } else {
            i.severity.to_string()
        };
        let pods = if i.pods.is_empty() {
            "—".to_string()
        } else {
            let mut shown: Vec<String> = i.pods.iter().take(MAX_PODS).map(|p| code(p)).collect();
            if i.pods.len() > MAX_PODS {
                shown.push(format!("… and {} more", i.pods.len() - MAX_PODS));
            }
            shown.join(", ")
        };
        let mut findings: Vec<String> = i
            .findings
            .iter()
            .map(|f| format!("{} ×{}", code(&f.kind), f.count))
            .collect();
        if let Some(folded) = &i.folded {
            findings.push(format!(
                "folded: {} incidents, {} times in all",
                folded.incidents, folded.count
            ));
        }
        writeln!(
            out,
            "| {} | {severity} | {} | {pods} | {} | {} | {} |",
            i.rank,
            text(&i.title),
            text(&seconds(&i.first_seen)),
            text(&seconds(&i.last_seen)),
            findings.join(", ")
        )?;
    }
    if n > MAX_ROWS {
        writeln!(out)?;
        writeln!(
            out,
            "… and {} more (`--format json` lists them all).",
            n - MAX_ROWS
        )?;
    }
    for i in report
        .incidents
        .iter()
        .filter(|i| i.severity >= Severity::Medium)
    {
        writeln!(out)?;
        section(i, out)?;
    }
    Ok(())
}

fn section(i: &Incident, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "### #{} {}: {}", i.rank, i.severity, text(&i.title))?;
    writeln!(out)?;
    let mut facts = vec![format!("kind {}", code(&i.kind))];
    if let Some(chain) = &i.chain {
        facts.push(format!("chain {}", code(chain)));
    }
    facts.push(format!("score {:.1}", i.score));
    if !i.hosts.is_empty() {
        facts.push(format!("hosts {}", codes(&i.hosts)));
    }
    if !i.containers.is_empty() {
        facts.push(format!("containers {}", codes(&i.containers)));
    }
    writeln!(out, "{}", facts.join(" · "))?;
    writeln!(out)?;
    for n in &i.nearby {
        writeln!(
            out,
            "Nearby on the same node, not tied to it: {} ({}, {})",
            code(&n.kind),
            n.severity,
            text(&n.subject)
        )?;
        writeln!(out)?;
    }
    writeln!(out, "**Findings**")?;
    writeln!(out)?;
    for f in &i.findings {
        let period = f
            .period_s
            .map(|p| format!(", every {p}s"))
            .unwrap_or_default();
        writeln!(
            out,
            "- {} {}: {}× from {} on {}{period}, {} → {}",
            code(&f.kind),
            f.severity,
            f.count,
            text(&f.source),
            text(&f.subject),
            text(&seconds(&f.first_seen)),
            text(&seconds(&f.last_seen)),
        )?;
    }
    writeln!(out)?;
    writeln!(out, "**Why**")?;
    for paragraph in i.explanation.split("\n\n") {
        let paragraph = rich(paragraph);
        if !paragraph.is_empty() {
            writeln!(out)?;
            writeln!(out, "{paragraph}")?;
        }
    }
    if !i.remediation_steps.is_empty() {
        writeln!(out)?;
        writeln!(out, "**What to do**")?;
        writeln!(out)?;
        for (n, advice) in i.remediation_advice.iter().enumerate() {
            match advice.warning() {
                Some(warning) => writeln!(
                    out,
                    "{}. **{}** {}",
                    n + 1,
                    rich(&warning),
                    rich(&advice.step)
                )?,
                None => writeln!(out, "{}. {}", n + 1, rich(&advice.step))?,
            }
        }
    }
    if !i.references.is_empty() {
        writeln!(out)?;
        writeln!(out, "**References**")?;
        writeln!(out)?;
        for r in &i.references {
            writeln!(out, "- {}", link(r))?;
        }
    }
    let lines: Vec<String> = i
        .findings
        .iter()
        .filter_map(|f| f.evidence.first())
        .take(EVIDENCE_LINES)
        .flat_map(|e| {
            let text: String = one_line(&e.text).chars().take(MAX_EVIDENCE_CHARS).collect();
            let context = e.context.iter().take(CONTEXT_LINES).map(|c| {
                let c: String = one_line(c).chars().take(MAX_EVIDENCE_CHARS).collect();
                format!("    {c}")
            });
            std::iter::once(format!("{}:{}  {text}", one_line(&e.file), e.line)).chain(context)
        })
        .collect();
    if !lines.is_empty() {
        writeln!(out)?;
        writeln!(out, "**Evidence**")?;
        writeln!(out)?;
        let longest = lines.iter().map(|l| backtick_run(l)).max().unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        writeln!(out, "{fence}text")?;
        for line in &lines {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "{fence}")?;
    }
    Ok(())
}

/// One line of log text with its control characters (ESC, BEL, CR, LF…)
/// made visible as `?`: safe inside a code block and at a terminal.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Untrusted text for prose and table cells: nothing in it can end a cell,
/// open a code span or a link, format text or inject HTML.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '|' | '*' | '_' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span holding `s` literally. Its delimiters are longer than any
/// run of backticks inside, and `|` is escaped as GitHub's tables require
/// (inside a table cell the backslash is dropped; kinds, pods and IDs hold
/// no `|` in practice).
fn code(s: &str) -> String {
    let s = one_line(s).replace('|', "\\|");
    let ticks = "`".repeat(backtick_run(&s) + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

fn codes(values: &[String]) -> String {
    values
        .iter()
        .map(|v| code(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Grammar prose (explanations, remediation steps), whose authors write
/// `code spans` on purpose: the spans are kept, the rest is escaped as
/// [`text`] minus the backslash escapes of formatting characters (an
/// author's `*` may be meant), so that it still cannot inject HTML.
fn rich(s: &str) -> String {
    let s = one_line(&s.replace('\n', " "));
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(start) = rest.find('`') {
        let run = rest[start..].len() - rest[start..].trim_start_matches('`').len();
        let ticks = &rest[start..start + run];
        let after = &rest[start + run..];
        // The span closes at the next run of exactly as many backticks.
        let close = find_run(after, run);
        escape_prose(&rest[..start], &mut out);
        match close {
            Some(end) => {
                out.push_str(ticks);
                out.push_str(&after[..end]);
                out.push_str(ticks);
                rest = &after[end + run..];
            }
            None => {
                for _ in 0..run {
                    out.push_str("\\`");
                }
                rest = after;
            }
        }
    }
    escape_prose(rest, &mut out);
    out.trim().to_string()
}

fn escape_prose(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            c => out.push(c),
        }
    }
}

/// Where a run of exactly `n` backticks starts in `s`.
fn find_run(s: &str, n: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let len = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if len == n {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

/// The longest run of backticks in `s`.
fn backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A reference: an autolink when it is a plain URL, else escaped text.
fn link(r: &str) -> String {
    let plain = (r.starts_with("https://") || r.starts_with("http://"))
        && r.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '`' | '|' | '\\'));
    if plain {
        format!("<{r}>")
    } else {
        text(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_cannot_break_a_table_or_inject_html() {
        assert_eq!(
            text("a|b `c` <script>&\x1b[31m"),
            "a\\|b \\`c\\` &lt;script&gt;&amp;?\\[31m"
        );
    }

    #[test]
    fn code_spans_outgrow_the_backticks_inside() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a``b"), "```a``b```");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a|b"), "`a\\|b`");
    }

    #[test]
    fn grammar_prose_keeps_its_code_spans() {
        assert_eq!(
            rich("read `/proc/<pid>/stack` & <b>"),
            "read `/proc/<pid>/stack` &amp; &lt;b&gt;"
        );
        assert_eq!(rich("unclosed ` tick <"), "unclosed \\` tick &lt;");
        assert_eq!(rich("``a`b`` c"), "``a`b`` c");
    }

    #[test]
    fn references_link_only_when_plain() {
        assert_eq!(link("https://x.io/a?b=1"), "<https://x.io/a?b=1>");
        assert_eq!(link("https://x.io/<a>"), "https://x.io/&lt;a&gt;");
    }
}
