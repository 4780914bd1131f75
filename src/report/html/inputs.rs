//! The inputs section: each input read (format, hosts, time range, lines,
//! unparsed and long lines), what could not be read or was passed over,
//! the support bundles recognized, and the run's statistics.

use std::io::{self, Write};

use super::display::{Esc, When};
use crate::report::text::{human_bytes, plural};
use crate::report::{InputFailure, Report};

/// The inputs table, what could not be read, and the run's statistics.
pub(super) fn print(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<section id=\"inputs\">\n<h2>Inputs</h2>")?;
    writeln!(
        out,
        "<div class=\"scroll\"><table class=\"inputs\">\n<thead><tr><th>path</th><th>format</th>\
         <th>hosts</th><th>first</th><th>last</th><th class=\"num\">lines</th>\
         <th class=\"num\">unparsed</th><th class=\"num\">long lines</th></tr></thead>\n<tbody>"
    )?;
    for i in &report.inputs {
        let time = |t: &Option<String>| t.as_deref().map(When).map(|w| w.to_string());
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            Esc(&i.path),
            Esc(&i.format),
            Esc(&i.hosts.join(", ")),
            time(&i.first).unwrap_or_else(|| "—".into()),
            time(&i.last).unwrap_or_else(|| "—".into()),
            i.lines,
            i.unparsed,
            i.long_lines
        )?;
    }
    writeln!(out, "</tbody></table></div>")?;
    failures("Could not be read", &report.errors, out)?;
    failures("Skipped or read in part", &report.skipped, out)?;
    for note in &report.notes {
        writeln!(out, "<p class=\"note\">{}</p>", Esc(note))?;
    }
    if !report.bundles.is_empty() || report.ignored > 0 {
        let roots: Vec<String> = report
            .bundles
            .iter()
            .map(|b| format!("<code>{}</code>", Esc(&b.root)))
            .collect();
        writeln!(
            out,
            "<p>Support bundles: {}; {} non-log file{} inside not read.</p>",
            if roots.is_empty() {
                "none".to_string()
            } else {
                roots.join(", ")
            },
            report.ignored,
            plural(report.ignored)
        )?;
    }
    stats(report, out)?;
    writeln!(out, "</section>")
}

fn failures(heading: &str, list: &[InputFailure], out: &mut dyn Write) -> io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h3>{heading}</h3>\n<ul class=\"failures\">")?;
    for f in list {
        writeln!(
            out,
            "<li><code>{}</code>: {}</li>",
            Esc(&f.path),
            Esc(&f.message)
        )?;
    }
    writeln!(out, "</ul>")
}

fn stats(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.stats;
    writeln!(out, "<h3>Run</h3>\n<dl class=\"stats\">")?;
    let counts = [
        ("bytes", human_bytes(s.bytes)),
        ("lines", s.lines.to_string()),
        ("unparsed", s.unparsed.to_string()),
        ("long lines", s.long_lines.to_string()),
        ("untimed", s.untimed.to_string()),
        ("duplicates", s.duplicates.to_string()),
        ("outside window", s.outside_window.to_string()),
        ("events", s.events.to_string()),
        ("findings", s.findings.to_string()),
    ];
    for (name, value) in counts {
        writeln!(out, "<div><dt>{name}</dt><dd>{value}</dd></div>")?;
    }
    writeln!(
        out,
        "<div><dt>elapsed</dt><dd class=\"run-time\">{} ms</dd></div>\n\
         <div><dt>rate</dt><dd class=\"run-time\">{} MB/s</dd></div>\n</dl>",
        s.elapsed_ms, s.mb_per_s
    )
}
