//! The HTML printer: one self-contained page to read a post-mortem in a
//! browser, attach it to a ticket or print it. A header with what was read
//! and the counts by severity, an SVG timeline of the findings
//! ([`timeline`]), the ranked incidents as cards and the low ones as a table
//! ([`cards`]), then the inputs and the run's statistics ([`inputs`]).
//!
//! Self-contained: inline CSS (`style.css`), inline SVG and one small inline
//! script (`script.js`) that only adds filters and opens every collapsed
//! section before printing; the page reads fully without it. Its
//! Content-Security-Policy allows no request at all and no script but that
//! one, pinned by its hash: a log line that got past escaping could neither
//! run nor fetch anything.
//!
//! Log text is hostile input: every string from the report goes through
//! [`Esc`] ([`display`]). The page depends on the report only, never on the
//! clock, except for the run's own elapsed time and rate
//! (`class="run-time"`), which snapshot tests mask.

mod cards;
mod display;
mod inputs;
mod timeline;

use std::io::{self, Write};

use super::text::{human_bytes, plural};
use super::Report;
use crate::severity::Severity;
use display::{instant, Esc, Span, When};

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("script.js");
/// The base64 SHA-256 of [`SCRIPT`], for the Content-Security-Policy. After
/// editing `script.js`, the browser test (`tests/html.rs`) fails with
/// Chromium's message naming the new hash: `openssl dgst -sha256 -binary
/// src/report/html/script.js | base64` prints it too.
const SCRIPT_HASH: &str = "sha256-vue9jg40tSEMMuGOhXBQuyvdQlkQQfbRuwdX9zSqyl8=";

pub fn print(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    head(report, out)?;
    summary(report, out)?;
    filters(out)?;
    writeln!(out, "<main>")?;
    timeline::fleet::print(report, out)?;
    timeline::print(report, out)?;
    cards::print(report, out)?;
    inputs::print(report, out)?;
    writeln!(out, "</main>")?;
    writeln!(out, "<script>{SCRIPT}</script>")?;
    writeln!(out, "</body>\n</html>")
}

fn head(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let n = report.incidents.len();
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>")?;
    writeln!(out, "<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src '{SCRIPT_HASH}'\">"
    )?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(out, "<meta name=\"color-scheme\" content=\"light dark\">")?;
    writeln!(out, "<meta name=\"generator\" content=\"{}\">", version())?;
    writeln!(out, "<title>podmortem: {n} incident{}</title>", plural(n))?;
    writeln!(out, "<style>\n{STYLE}</style>\n</head>\n<body>")
}

/// The header: what was read, over which time, the counts by severity.
fn summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let n = report.incidents.len();
    writeln!(out, "<header class=\"page-head\" id=\"summary\">")?;
    writeln!(
        out,
        "<h1>{n} incident{} <span class=\"sub\">podmortem report</span></h1>",
        plural(n)
    )?;
    writeln!(out, "<ul class=\"counts\">")?;
    for s in Severity::ALL.iter().rev() {
        let k = report.incidents.iter().filter(|i| i.severity == *s).count();
        writeln!(
            out,
            "<li class=\"sev-{s}\"><span class=\"num\">{k}</span> {s}</li>"
        )?;
    }
    writeln!(out, "</ul>\n<dl class=\"meta\">")?;
    let paths: Vec<String> = report
        .inputs
        .iter()
        .take(3)
        .map(|i| format!("<code>{}</code>", Esc(&i.path)))
        .collect();
    let more = report.inputs.len().saturating_sub(paths.len());
    let more = match more {
        0 => String::new(),
        m => format!(" and <a href=\"#inputs\">{m} more</a>"),
    };
    writeln!(
        out,
        "<div><dt>inputs</dt><dd>{}{more}</dd></div>",
        paths.join(", ")
    )?;
    if let Some((first, last)) = log_span(report) {
        writeln!(
            out,
            "<div><dt>logs</dt><dd>{} → {} <span class=\"dim\">({})</span></dd></div>",
            When(first),
            When(last),
            Span(first, last)
        )?;
    }
    let s = &report.stats;
    writeln!(
        out,
        "<div><dt>read</dt><dd>{}, {} lines, {} unparsed</dd></div>",
        human_bytes(s.bytes),
        s.lines,
        s.unparsed
    )?;
    writeln!(out, "<div><dt>by</dt><dd>{}</dd></div>", version())?;
    writeln!(out, "</dl>")?;
    writeln!(
        out,
        "<nav><a href=\"#timeline\">Timeline</a> <a href=\"#incidents\">Incidents</a> \
         <a href=\"#inputs\">Inputs</a></nav>\n</header>"
    )
}

/// Severity toggles and a text filter: hidden until the script shows them,
/// since they do nothing without it.
fn filters(out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<div class=\"filters\" id=\"filters\" hidden>\n<span class=\"dim\">show</span>"
    )?;
    for s in Severity::ALL.iter().rev() {
        writeln!(
            out,
            "<button type=\"button\" class=\"sev-{s}\" data-sev=\"{s}\" aria-pressed=\"true\">{s}</button>"
        )?;
    }
    writeln!(
        out,
        "<input type=\"search\" placeholder=\"filter: pod, container, kind, text…\" \
         aria-label=\"filter incidents\">\n</div>"
    )
}

fn version() -> String {
    format!("podmortem {}", env!("CARGO_PKG_VERSION"))
}

/// The earliest and latest times of the inputs, as they print them.
fn log_span(report: &Report) -> Option<(&str, &str)> {
    let first = report
        .inputs
        .iter()
        .filter_map(|i| i.first.as_deref())
        .min_by_key(|t| instant(t))?;
    let last = report
        .inputs
        .iter()
        .filter_map(|i| i.last.as_deref())
        .max_by_key(|t| instant(t))?;
    Some((first, last))
}
