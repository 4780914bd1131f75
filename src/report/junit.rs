//! The JUnit XML printer, for the test reporters of Jenkins, GitLab and
//! GitHub Actions: every detector of the grammar is a test case, run once
//! per host, so a clean run shows passing tests and a sick node fails the
//! test of the incident's lead kind.
//!
//! ```text
//! <testsuites name="podmortem" tests failures errors time>
//!   <testsuite name="<host>|unknown-host" hostname tests failures errors skipped time>
//!     <testcase classname="podmortem.<source>" name="<kind>" time="0">
//!       <failure message="#1 critical: <title>" type="critical">…</failure>   (at or above --fail-on)
//!       <system-out>…</system-out>          (incidents below it; findings led by another kind)
//! ```
//! An incident on several hosts fails the test case of each. Several
//! incidents of one kind on one host make one `<failure>` that lists them
//! all. Log lines are hostile input: text and attributes are escaped, and
//! the characters XML 1.0 forbids (most C0 controls, such as ESC and BEL)
//! are dropped.
//!
//! The output conforms to Jenkins' JUnit schema (`junit-10.xsd` of the
//! xunit plugin, which tests/schemas.rs validates it against): it has no
//! `skipped` count on `<testsuites>`, only on each `<testsuite>`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use super::text::CONTEXT_LINES;
use super::{Incident, Report};
use crate::grammar::{Detector, Grammar};
use crate::severity::Severity;

/// The suite of incidents whose lines name no host.
pub const UNKNOWN_HOST: &str = "unknown-host";
const EVIDENCE_PER_FINDING: usize = 2;
const MAX_EVIDENCE_CHARS: usize = 500;

/// Prints the report; incidents at or above `fail_on` are failures.
pub fn print(
    report: &Report,
    grammar: &Grammar,
    fail_on: Severity,
    out: &mut dyn Write,
) -> io::Result<()> {
    // Test cases: every detector, sorted by kind (and, defensively, any
    // kind an incident names that the grammar does not).
    let mut cases: BTreeMap<&str, String> = grammar
        .detectors
        .iter()
        .map(|d| {
            (
                d.kind.as_str(),
                format!("podmortem.{}", detector_source(grammar, d)),
            )
        })
        .collect();
    for i in &report.incidents {
        for kind in std::iter::once(&i.kind).chain(i.findings.iter().map(|f| &f.kind)) {
            cases
                .entry(kind.as_str())
                .or_insert_with(|| "podmortem.unknown".to_string());
        }
    }

    let mut hosts: BTreeSet<&str> = report
        .inputs
        .iter()
        .flat_map(|i| i.hosts.iter().map(String::as_str))
        .chain(
            report
                .incidents
                .iter()
                .flat_map(|i| i.hosts.iter().map(String::as_str)),
        )
        .collect();
    hosts.remove(UNKNOWN_HOST);
    let mut suites: Vec<&str> = hosts.into_iter().collect();
    if suites.is_empty() || report.incidents.iter().any(|i| i.hosts.is_empty()) {
        suites.push(UNKNOWN_HOST);
    }

    let time = format!("{:.3}", report.stats.elapsed_ms as f64 / 1000.0);
    let mut body = String::new();
    let (mut tests, mut failures) = (0, 0);
    for &suite in &suites {
        let on_suite: Vec<&Incident> = report
            .incidents
            .iter()
            .filter(|i| {
                if suite == UNKNOWN_HOST {
                    i.hosts.is_empty()
                } else {
                    i.hosts.iter().any(|h| h == suite)
                }
            })
            .collect();
        let mut suite_body = String::new();
        let mut suite_failures = 0;
        for (&kind, classname) in &cases {
            let failing: Vec<&Incident> = on_suite
                .iter()
                .filter(|i| i.kind == kind && i.fails(fail_on))
                .copied()
                .collect();
            let passing: Vec<&Incident> = on_suite
                .iter()
                .filter(|i| i.kind == kind && !i.fails(fail_on))
                .copied()
                .collect();
            let led_elsewhere: Vec<&Incident> = on_suite
                .iter()
                .filter(|i| i.kind != kind && i.findings.iter().any(|f| f.kind == kind))
                .copied()
                .collect();
            let _ = write!(
                suite_body,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                attr(classname),
                attr(kind)
            );
            if failing.is_empty() && passing.is_empty() && led_elsewhere.is_empty() {
                suite_body.push_str("/>\n");
                continue;
            }
            suite_body.push_str(">\n");
            if let Some(first) = failing.first() {
                suite_failures += 1;
                let worst = failing
                    .iter()
                    .map(|i| i.severity)
                    .max()
                    .unwrap_or(first.severity);
                let mut message = format!("#{} {}: {}", first.rank, first.severity, first.title);
                if failing.len() > 1 {
                    let _ = write!(message, " (and {} more)", failing.len() - 1);
                }
                let text: Vec<String> = failing.iter().map(|i| describe(i)).collect();
                let _ = writeln!(
                    suite_body,
                    "      <failure message=\"{}\" type=\"{worst}\">{}</failure>",
                    attr(&message),
                    xml_text(&text.join("\n"))
                );
            }
            if !passing.is_empty() || !led_elsewhere.is_empty() {
                let mut text: Vec<String> = passing
                    .iter()
                    .map(|i| match &i.suppressed {
                        Some(why) => format!("suppressed ({why}):\n{}", describe(i)),
                        None => format!("below --fail-on {fail_on}:\n{}", describe(i)),
                    })
                    .collect();
                text.extend(led_elsewhere.iter().map(|i| {
                    format!(
                        "a finding of incident #{} {} (reported under {}): {}\n",
                        i.rank, i.severity, i.kind, i.title
                    )
                }));
                let _ = writeln!(
                    suite_body,
                    "      <system-out>{}</system-out>",
                    xml_text(&text.join("\n"))
                );
            }
            suite_body.push_str("    </testcase>\n");
        }
        let _ = writeln!(
            body,
            "  <testsuite name=\"{name}\" hostname=\"{name}\" tests=\"{}\" failures=\"{suite_failures}\" \
             errors=\"0\" skipped=\"0\" time=\"{time}\">",
            cases.len(),
            name = attr(suite),
        );
        body.push_str(&suite_body);
        body.push_str("  </testsuite>\n");
        tests += cases.len();
        failures += suite_failures;
    }
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    if report.redacted {
        writeln!(out, "<!-- {} -->", crate::redact::NOTE)?;
    }
    writeln!(
        out,
        "<testsuites name=\"podmortem\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" \
         time=\"{time}\">"
    )?;
    out.write_all(body.as_bytes())?;
    writeln!(out, "</testsuites>")
}

/// An incident as plain text: what a CI job's test page shows.
fn describe(i: &Incident) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "#{} {} (score {:.1}): {}",
        i.rank, i.severity, i.score, i.title
    );
    let _ = writeln!(s, "kind: {}", i.kind);
    if let Some(chain) = &i.chain {
        let _ = writeln!(s, "chain: {chain}");
    }
    let _ = writeln!(
        s,
        "when: {} → {} ({} s)",
        i.first_seen, i.last_seen, i.duration_s
    );
    for (name, values) in [
        ("hosts", &i.hosts),
        ("pods", &i.pods),
        ("containers", &i.containers),
    ] {
        if !values.is_empty() {
            let _ = writeln!(s, "{name}: {}", values.join(", "));
        }
    }
    s.push_str("findings:\n");
    for f in &i.findings {
        let period = f
            .period_s
            .map(|p| format!(", every {p}s"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {} {}: {}× from {} on {}{period}, {} → {}",
            f.kind, f.severity, f.count, f.source, f.subject, f.first_seen, f.last_seen
        );
    }
    s.push_str("why:\n");
    for paragraph in i.explanation.split("\n\n") {
        let _ = writeln!(s, "  {}", paragraph.trim().replace('\n', "\n  "));
    }
    if !i.remediation_steps.is_empty() {
        s.push_str("what to do:\n");
        for (n, step) in i.remediation_steps.iter().enumerate() {
            let _ = writeln!(s, "  {}. {step}", n + 1);
        }
    }
    if !i.references.is_empty() {
        s.push_str("references:\n");
        for r in &i.references {
            let _ = writeln!(s, "  {r}");
        }
    }
    s.push_str("evidence:\n");
    for f in &i.findings {
        for e in f.evidence.iter().take(EVIDENCE_PER_FINDING) {
            let text: String = e.text.chars().take(MAX_EVIDENCE_CHARS).collect();
            let _ = writeln!(s, "  {}:{}  {text}", e.file, e.line);
            for line in e.context.iter().take(CONTEXT_LINES) {
                let line: String = line.chars().take(MAX_EVIDENCE_CHARS).collect();
                let _ = writeln!(s, "      {line}");
            }
        }
    }
    s
}

/// The component a detector is about: the source of most of its patterns
/// (ties go to the one it lists first).
pub(crate) fn detector_source<'g>(grammar: &'g Grammar, d: &Detector) -> &'g str {
    let sources: Vec<&str> = d
        .patterns
        .iter()
        .map(|&p| grammar.patterns[p].source.as_str())
        .collect();
    let mut best = ("unknown", 0);
    for &s in &sources {
        let n = sources.iter().filter(|&&t| t == s).count();
        if n > best.1 {
            best = (s, n);
        }
    }
    best.0
}

/// Whether XML 1.0 allows the character at all (§2.2); DEL and the C1
/// controls, which it only discourages, are dropped as well.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (!c.is_control() && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Character data: `&`, `<`, `>` escaped (so `]]>` cannot appear either).
pub(crate) fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|&c| allowed(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// An attribute value in double quotes: all five entities, and tab, CR and
/// LF as character references so that attribute normalization keeps them.
pub(crate) fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|&c| allowed(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_forbidden_characters_dropped() {
        assert_eq!(
            xml_text("</testcase><script>]]>&\x1b[31m\x07\x00ok\u{FFFE}\u{85}"),
            "&lt;/testcase&gt;&lt;script&gt;]]&gt;&amp;[31mok"
        );
        assert_eq!(attr("a\"b'c\n\td<"), "a&quot;b&apos;c&#10;&#9;d&lt;");
    }
}
