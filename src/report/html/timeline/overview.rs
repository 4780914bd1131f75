//! The timeline's overview: every incident as a thin bar from its first to
//! its last event, colored by its severity, on its host's row (the hosts
//! with the most incidents get a row each, the others share the last). It
//! shows the whole span at a glance even when most lanes are not drawn.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::io::{self, Write};

use super::axis::Axis;
use super::{host_of, instant, plural, Esc};
use crate::report::{Incident, Report};

/// Rows at most.
const MAX_ROWS: usize = 8;
const ROW: f64 = 14.0;

/// The rows: a host, or the other hosts together, and its incidents.
pub(super) struct Overview<'a> {
    rows: Vec<(String, Vec<&'a Incident>)>,
}

impl<'a> Overview<'a> {
    pub fn new(report: &'a Report) -> Overview<'a> {
        let mut by_host: BTreeMap<&str, Vec<&Incident>> = BTreeMap::new();
        for incident in &report.incidents {
            by_host.entry(host_of(incident)).or_default().push(incident);
        }
        let mut rows: Vec<(String, Vec<&Incident>)> = by_host
            .into_iter()
            .map(|(host, list)| (host.to_string(), list))
            .collect();
        if rows.len() > MAX_ROWS {
            rows.sort_by_key(|(host, list)| (Reverse(list.len()), host.clone()));
            let rest = rows.split_off(MAX_ROWS - 1);
            let name = format!("{} other hosts", rest.len());
            rows.push((name, rest.into_iter().flat_map(|(_, list)| list).collect()));
        }
        Overview { rows }
    }

    pub fn height(&self) -> f64 {
        self.rows.len() as f64 * ROW
    }

    /// Its rows from `top`, a caption above them.
    pub fn print(&self, axis: &Axis, top: f64, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "<g class=\"overview\">\n<text class=\"caption\" x=\"10\" y=\"{:.0}\">every incident, by host</text>",
            top - 16.0
        )?;
        for (n, (host, incidents)) in self.rows.iter().enumerate() {
            let y = top + n as f64 * ROW;
            writeln!(
                out,
                "<text x=\"10\" y=\"{:.1}\">{} · {} incident{}</text>",
                y + 10.0,
                Esc(host),
                incidents.len(),
                plural(incidents.len())
            )?;
            // Worst rank first, so that the best-ranked is drawn on top.
            for i in incidents.iter().rev() {
                bar(i, axis, y + 2.0, out)?;
            }
        }
        writeln!(out, "</g>")
    }
}

/// An incident's bar, at least 2px wide, linking to its card.
fn bar(i: &Incident, axis: &Axis, y: f64, out: &mut dyn Write) -> io::Result<()> {
    let (Some(first), Some(last)) = (instant(&i.first_seen), instant(&i.last_seen)) else {
        return Ok(());
    };
    let x0 = axis.x(first.timestamp_millis());
    let x1 = axis.x(last.timestamp_millis()).max(x0 + 2.0);
    writeln!(
        out,
        "<a href=\"#incident-{r}\" data-severity=\"{s}\"><title>#{r} {s}: {}</title>\
         <rect class=\"mark sev-{s}\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.0}\"/></a>",
        Esc(&i.title),
        x1 - x0,
        ROW - 4.0,
        r = i.rank,
        s = i.severity,
    )
}
