//! The fleet section: each fleet incident as a card (its one-sentence
//! verdict, the version split) over a hosts × time lane view: one row per
//! host of the fleet, the hosts hit first with a bar from their first to
//! their last line of the kind (linking to their own incident), then the
//! clean hosts, each row labeled with the versions it runs. It shares the
//! timeline's axis, so that times read the same in both.

use std::io::{self, Write};

use super::axis::Axis;
use super::{PLOT_LEFT, ROW, TOP, WIDTH};
use crate::report::fleet::FleetIncident;
use crate::report::html::display::{instant, Esc, When};
use crate::report::Report;

/// Host rows drawn per fleet incident; a note counts the others.
const MAX_HOSTS: usize = 60;

pub(in crate::report::html) fn print(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.fleet.is_empty() {
        return Ok(());
    }
    writeln!(out, "<section id=\"fleet\">\n<h2>Fleet</h2>")?;
    for f in &report.fleet {
        card(f, report, out)?;
    }
    writeln!(out, "</section>")
}

fn card(f: &FleetIncident, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = f.severity;
    writeln!(
        out,
        "<article class=\"card sev-{s}\" id=\"fleet-{r}\" data-severity=\"{s}\">\n\
         <header><span class=\"badge sev-{s}\">{s}</span> <h3>Fleet #{r}: {}</h3></header>",
        Esc(&f.title),
        r = f.rank,
    )?;
    writeln!(
        out,
        "<p>{} → {}; per-host incidents {}</p>",
        When(&f.first_seen),
        When(&f.last_seen),
        f.incidents
            .iter()
            .map(|r| format!("<a href=\"#incident-{r}\">#{r}</a>"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(out, "<ul>")?;
    for (label, value) in f.rows().into_iter().filter(|(l, _)| *l == "versions") {
        writeln!(out, "<li>{label}: {}</li>", Esc(&value))?;
    }
    writeln!(out, "</ul>")?;
    lanes(f, report, out)?;
    writeln!(out, "</article>")
}

/// The hosts × time view of one fleet incident.
fn lanes(f: &FleetIncident, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let spans: Vec<(i64, i64)> = f
        .hosts
        .iter()
        .filter_map(|h| Some((instant(&h.first_seen)?, instant(&h.last_seen)?)))
        .map(|(a, b)| (a.timestamp_millis(), b.timestamp_millis()))
        .collect();
    let (Some(start), Some(end), Some(zone)) = (
        spans.iter().map(|s| s.0).min(),
        spans.iter().map(|s| s.1).max(),
        instant(&f.first_seen).map(|t| *t.offset()),
    ) else {
        return Ok(());
    };
    let axis = Axis::new(start, end, zone);
    let rows = f.hosts.len() + f.clean_hosts.len();
    let drawn = rows.min(MAX_HOSTS);
    let bottom = TOP + drawn as f64 * ROW + 4.0;
    let height = bottom + if rows > drawn { 22.0 } else { 6.0 };
    writeln!(
        out,
        "<div class=\"scroll\"><svg class=\"timeline fleet\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
         width=\"{WIDTH}\" height=\"{height:.0}\" role=\"img\" aria-label=\"hosts over time\">"
    )?;
    writeln!(
        out,
        "<text class=\"caption\" x=\"10\" y=\"{:.0}\">hosts × time · {}</text>",
        TOP - 30.0,
        Esc(&axis.caption())
    )?;
    axis.print(TOP, bottom, out)?;
    let versions_of = |host: &str| -> String {
        let mut v: Vec<String> = report
            .host_versions
            .iter()
            .filter(|v| v.host.as_deref() == Some(host))
            .map(|v| format!("{} {}", v.component, v.version))
            .collect();
        v.dedup();
        v.join(", ")
    };
    let mut y = TOP;
    for h in f.hosts.iter().take(drawn) {
        writeln!(
            out,
            "<text x=\"10\" y=\"{:.1}\">{} · {}</text>",
            y + 10.0,
            Esc(&h.host),
            Esc(&versions_of(&h.host))
        )?;
        if let (Some(a), Some(b)) = (instant(&h.first_seen), instant(&h.last_seen)) {
            let x0 = axis.x(a.timestamp_millis());
            let x1 = axis.x(b.timestamp_millis()).max(x0 + 2.0);
            let r = h.incidents.first().copied().unwrap_or(0);
            writeln!(
                out,
                "<a href=\"#incident-{r}\"><title>{}: {} → {}</title>\
                 <rect class=\"mark sev-{s}\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.0}\"/></a>",
                Esc(&h.host),
                Esc(&h.first_seen),
                Esc(&h.last_seen),
                y + 2.0,
                x1 - x0,
                ROW - 4.0,
                s = f.severity,
            )?;
        }
        y += ROW;
    }
    for host in f
        .clean_hosts
        .iter()
        .take(drawn.saturating_sub(f.hosts.len()))
    {
        writeln!(
            out,
            "<text class=\"clean\" x=\"10\" y=\"{:.1}\">{} · {} · clean</text>",
            y + 10.0,
            Esc(host),
            Esc(&versions_of(host))
        )?;
        y += ROW;
    }
    if rows > drawn {
        writeln!(
            out,
            "<text class=\"note\" x=\"{PLOT_LEFT}\" y=\"{:.1}\">{} more host{} not drawn (--format json lists them all)</text>",
            bottom + 15.0,
            rows - drawn,
            if rows - drawn == 1 { "" } else { "s" }
        )?;
    }
    writeln!(out, "</svg></div>")
}
