//! The incidents: a card for each one of medium severity and above, in
//! rank order, and one table row for each low one, so that routine noise
//! does not bury the real failure. Every incident is the target
//! `#incident-N` of the timeline's marks and of related-incident links.
//!
//! Readable with hundreds of incidents: the first [`OPEN_CARDS`] cards show
//! why, what to do and the evidence; later ones are compact, their facts on
//! a few lines and those sections collapsed (`<details>`, which opens
//! without script), a card whose explanation,
//! steps and references are those of an earlier card links to it instead of
//! repeating them, and evidence is cut to [`EVIDENCE_PER_FINDING`] lines of
//! at most [`MAX_EVIDENCE_CHARS`] characters.

use std::collections::HashMap;
use std::io::{self, Write};

use super::display::{period, shorten, Esc, Id, Span, When};
use crate::report::text::plural;
use crate::report::{ComponentVersion, Evidence, FindingReport, Incident, Report};
use crate::severity::Severity;

/// Cards whose details start open.
const OPEN_CARDS: usize = 10;
/// Evidence lines per finding: the first ones and the last.
const EVIDENCE_PER_FINDING: usize = 3;
const MAX_EVIDENCE_CHARS: usize = 400;

/// What several incidents may have in common: why and what to do.
type Advice<'a> = (&'a str, &'a [String], &'a [String]);

pub(super) fn print(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let (cards, lows): (Vec<&Incident>, Vec<&Incident>) = report
        .incidents
        .iter()
        .partition(|i| i.severity > Severity::Low);
    writeln!(out, "<section id=\"incidents\">\n<h2>Incidents</h2>")?;
    if report.incidents.is_empty() {
        writeln!(out, "<p class=\"none\">No incidents found.</p>")?;
    }
    let mut told: HashMap<Advice, usize> = HashMap::new();
    for (n, incident) in cards.iter().enumerate() {
        card(incident, n < OPEN_CARDS, &mut told, out)?;
    }
    if !lows.is_empty() {
        low_table(&lows, out)?;
    }
    writeln!(out, "</section>")
}

fn card<'a>(
    i: &'a Incident,
    open: bool,
    told: &mut HashMap<Advice<'a>, usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "<article class=\"card sev-{s}{}\" id=\"incident-{r}\" data-severity=\"{s}\">\n\
         <header><a class=\"rank\" href=\"#incident-{r}\">#{r}</a> \
         <span class=\"badge sev-{s}\">{s}</span> <h3>{}</h3> \
         <span class=\"score\" title=\"ranking score\">score {:.1}</span></header>",
        if open { "" } else { " compact" },
        Esc(&i.title),
        i.score,
        s = i.severity,
        r = i.rank,
    )?;
    if let Some(why) = &i.suppressed {
        writeln!(
            out,
            "<p class=\"suppressed\"><b>Suppressed</b>: {} <span class=\"dim\">(shown, not failing the run)</span></p>",
            Esc(why)
        )?;
    }
    facts(i, out)?;
    findings(&i.findings, out)?;
    let advice: Advice = (&i.explanation, &i.remediation_steps, &i.references);
    match told.get(&advice) {
        Some(rank) => writeln!(
            out,
            "<p class=\"same\">Why and what to do: as for <a href=\"#incident-{rank}\">#{rank}</a>.</p>"
        )?,
        None => {
            told.insert(advice, i.rank);
            explanation(i, open, out)?;
        }
    }
    evidence(&i.findings, open, out)?;
    writeln!(out, "</article>")
}

/// Kind, chain, where, when, how much, related incidents and versions.
fn facts(i: &Incident, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<dl class=\"facts\">")?;
    let codes = |values: &[String]| {
        values
            .iter()
            .map(|v| Id(v).to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut rows = vec![("kind", Id(&i.kind).to_string())];
    if let Some(chain) = &i.chain {
        rows.push(("chain", Id(chain).to_string()));
    }
    for (name, values) in [
        ("hosts", &i.hosts),
        ("pods", &i.pods),
        ("containers", &i.containers),
    ] {
        if !values.is_empty() {
            rows.push((name, codes(values)));
        }
    }
    rows.push((
        "period",
        format!(
            "{} → {} <span class=\"dim\">({})</span>",
            When(&i.first_seen),
            When(&i.last_seen),
            Span(&i.first_seen, &i.last_seen)
        ),
    ));
    let count: usize = i.findings.iter().map(|f| f.count).sum();
    let lines: usize = i.findings.iter().map(|f| f.lines).sum();
    rows.push((
        "count",
        format!(
            "{count}× <span class=\"dim\">({lines} line{})</span>",
            plural(lines)
        ),
    ));
    if !i.related.is_empty() {
        let links: Vec<String> = i
            .related
            .iter()
            .map(|r| format!("<a href=\"#incident-{r}\">#{r}</a>"))
            .collect();
        rows.push(("related", links.join(" ")));
    }
    if !i.nearby.is_empty() {
        let nearby: Vec<String> = i
            .nearby
            .iter()
            .map(|n| {
                format!(
                    "{} <span class=\"dim\">({}, {}; on the same node at the same time, no entity ties it here)</span>",
                    Id(&n.kind),
                    Esc(n.severity.name()),
                    Esc(&n.subject)
                )
            })
            .collect();
        rows.push(("nearby", nearby.join("<br>")));
    }
    if !i.versions.is_empty() {
        let versions: Vec<String> = i.versions.iter().map(version).collect();
        rows.push(("versions", versions.join("<br>")));
    }
    for (name, value) in rows {
        writeln!(out, "<div><dt>{name}</dt><dd>{value}</dd></div>")?;
    }
    writeln!(out, "</dl>")
}

fn version(v: &ComponentVersion) -> String {
    let host = v
        .host
        .as_deref()
        .map(|h| format!(" on {}", Esc(h)))
        .unwrap_or_default();
    let (class, verdict) = if v.has_fix {
        ("fix", "has the fix")
    } else {
        ("nofix", "lacks the fix")
    };
    format!(
        "{} {}{host}: <span class=\"{class}\">{verdict}</span> <span class=\"dim\">(fixed in {})</span>",
        Esc(&v.component),
        Esc(&v.version),
        Esc(&v.fixed_in)
    )
}

fn findings(findings: &[FindingReport], out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<div class=\"scroll\"><table class=\"findings\">\n<thead><tr><th>finding</th>\
         <th>severity</th><th>source</th><th>subject</th><th class=\"num\">count</th>\
         <th class=\"num\">lines</th><th class=\"num\">every</th><th>first seen</th><th>last seen</th></tr></thead>\n<tbody>"
    )?;
    for f in findings {
        let every = f.period_s.map_or_else(|| "—".into(), period);
        writeln!(
            out,
            "<tr><td>{}</td><td><span class=\"badge sev-{s}\">{s}</span></td><td>{}</td>\
             <td><span title=\"{}\">{}</span></td><td class=\"num\">{}×</td><td class=\"num\">{}</td><td class=\"num\">{every}</td>\
             <td>{}</td><td>{}</td></tr>",
            Id(&f.kind),
            Esc(&f.sources.join(", ")),
            Esc(&f.subject),
            Esc(&shorten(&f.subject)),
            f.count,
            f.lines,
            When(&f.first_seen),
            When(&f.last_seen),
            s = f.severity,
        )?;
    }
    writeln!(out, "</tbody></table></div>")
}

/// Why, what to do and the references, collapsed unless `open`.
fn explanation(i: &Incident, open: bool, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<details class=\"why\"{}><summary>Why, and what to do</summary>",
        if open { " open" } else { "" }
    )?;
    for paragraph in i.explanation.split("\n\n").filter(|p| !p.trim().is_empty()) {
        writeln!(out, "<p>{}</p>", Prose(paragraph))?;
    }
    if !i.remediation_steps.is_empty() {
        writeln!(out, "<h4>What to do</h4>\n<ol class=\"steps\">")?;
        for advice in &i.remediation_advice {
            match advice.warning() {
                Some(warning) => writeln!(
                    out,
                    "<li class=\"destructive\"><strong>{}</strong> {}</li>",
                    Prose(&warning),
                    Prose(&advice.step)
                )?,
                None => writeln!(out, "<li>{}</li>", Prose(&advice.step))?,
            }
        }
        writeln!(out, "</ol>")?;
    }
    if !i.references.is_empty() {
        writeln!(out, "<h4>References</h4>\n<ul class=\"refs\">")?;
        for r in &i.references {
            writeln!(out, "<li>{}</li>", Reference(r))?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</details>")
}

/// The evidence lines with their `file:line`, collapsed unless `open`.
fn evidence(findings: &[FindingReport], open: bool, out: &mut dyn Write) -> io::Result<()> {
    let lines: Vec<&Evidence> = findings.iter().flat_map(|f| excerpt(&f.evidence)).collect();
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<details class=\"evidence\"{}><summary>Evidence <span class=\"dim\">({} line{}, file:line)</span></summary>\n<pre>",
        if open { " open" } else { "" },
        lines.len(),
        plural(lines.len())
    )?;
    for e in lines {
        let text: String = e.text.chars().take(MAX_EVIDENCE_CHARS).collect();
        let cut = if text.len() < e.text.len() { "…" } else { "" };
        writeln!(
            out,
            "<span class=\"loc\">{}:{}</span> {}{cut}",
            Esc(&e.file),
            e.line,
            Esc(&text)
        )?;
        for line in &e.context {
            let line: String = line.chars().take(MAX_EVIDENCE_CHARS).collect();
            writeln!(out, "<span class=\"context\">    {}</span>", Esc(&line))?;
        }
    }
    writeln!(out, "</pre></details>")
}

/// The first evidence lines and the last, at most [`EVIDENCE_PER_FINDING`].
fn excerpt(evidence: &[Evidence]) -> impl Iterator<Item = &Evidence> {
    let head = EVIDENCE_PER_FINDING.saturating_sub(1).min(evidence.len());
    let tail = evidence.len().min(EVIDENCE_PER_FINDING) - head;
    evidence[..head]
        .iter()
        .chain(&evidence[evidence.len() - tail..])
}

/// One row per low incident, in rank order.
fn low_table(lows: &[&Incident], out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<h3 id=\"low-incidents\">{} low incident{}</h3>\n<div class=\"scroll\"><table class=\"lows\">\n\
         <thead><tr><th class=\"num\">#</th><th>title</th><th>kind</th><th>first seen</th>\
         <th>for</th><th class=\"num\">count</th></tr></thead>\n<tbody>",
        lows.len(),
        plural(lows.len())
    )?;
    for i in lows {
        let count = i.count();
        let folded = i
            .folded
            .as_ref()
            .map(|f| {
                format!(
                    " <span class=\"badge muted\" title=\"{}\">folded ×{}</span>",
                    Esc(&f.describe()),
                    f.incidents
                )
            })
            .unwrap_or_default();
        let suppressed = i
            .suppressed
            .as_deref()
            .map(|why| {
                format!(
                    " <span class=\"badge muted\" title=\"{}\">suppressed</span>",
                    Esc(why)
                )
            })
            .unwrap_or_default();
        writeln!(
            out,
            "<tr id=\"incident-{r}\" data-severity=\"{}\"><td class=\"num\"><a href=\"#incident-{r}\">#{r}</a></td>\
             <td>{}{folded}{suppressed}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{count}×</td></tr>",
            i.severity,
            Esc(&shorten(&i.title)),
            Id(&i.kind),
            When(&i.first_seen),
            Span(&i.first_seen, &i.last_seen),
            r = i.rank,
        )?;
    }
    writeln!(out, "</tbody></table></div>")
}

/// Grammar prose (explanations, steps), whose authors write `code spans`:
/// the spans become `<code>`, everything is escaped, and an unpaired
/// backtick stays a backtick.
struct Prose<'a>(&'a str);

impl std::fmt::Display for Prose<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0.trim().replace('\n', " ");
        let parts: Vec<&str> = text.split('`').collect();
        // An odd number of parts means every backtick is paired.
        let paired = parts.len() % 2 == 1;
        for (n, part) in parts.iter().enumerate() {
            let last = n + 1 == parts.len();
            match (n % 2 == 1, paired || !last) {
                (true, true) => write!(f, "<code>{}</code>", Esc(part))?,
                (true, false) => write!(f, "`{}", Esc(part))?,
                (false, _) => write!(f, "{}", Esc(part))?,
            }
        }
        Ok(())
    }
}

/// A reference: a link when it is a plain http(s) URL, else text.
struct Reference<'a>(&'a str);

impl std::fmt::Display for Reference<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = self.0;
        let url = (r.starts_with("https://") || r.starts_with("http://"))
            && r.chars().all(|c| c.is_ascii_graphic());
        if url {
            write!(
                f,
                "<a href=\"{}\" rel=\"noreferrer\">{}</a>",
                Esc(r),
                Esc(r)
            )
        } else {
            write!(f, "{}", Esc(r))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_in_prose_become_code_and_stay_escaped() {
        assert_eq!(
            Prose("read `/proc/<pid>/stack` & <b>").to_string(),
            "read <code>/proc/&lt;pid&gt;/stack</code> &amp; &lt;b&gt;"
        );
        assert_eq!(Prose("a `b` c ` d").to_string(), "a <code>b</code> c ` d");
    }

    #[test]
    fn only_plain_urls_become_links() {
        assert_eq!(
            Reference("https://x.io/a?b=1&c").to_string(),
            "<a href=\"https://x.io/a?b=1&amp;c\" rel=\"noreferrer\">https://x.io/a?b=1&amp;c</a>"
        );
        assert_eq!(
            Reference("javascript:alert(1)").to_string(),
            "javascript:alert(1)"
        );
        assert_eq!(
            Reference("https://x.io/\"><b>").to_string(),
            "<a href=\"https://x.io/&quot;&gt;&lt;b&gt;\" rel=\"noreferrer\">https://x.io/&quot;&gt;&lt;b&gt;</a>"
        );
    }

    #[test]
    fn evidence_keeps_the_first_lines_and_the_last() {
        let line = |n| Evidence {
            file: "f".into(),
            line: n,
            ts: String::new(),
            relative: None,
            level: None,
            text: String::new(),
            context: Vec::new(),
        };
        let all: Vec<Evidence> = (1..=5).map(line).collect();
        let lines = |n: usize| -> Vec<u64> { excerpt(&all[..n]).map(|e| e.line).collect() };
        assert_eq!(lines(5), [1, 2, 5]);
        assert_eq!(lines(3), [1, 2, 3]);
        assert_eq!(lines(2), [1, 2]);
        assert_eq!(lines(0), Vec::<u64>::new());
    }
}
