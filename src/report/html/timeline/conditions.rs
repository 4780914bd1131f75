//! The timeline's condition lane: for each node and condition that was ever
//! abnormal (Ready not True, a pressure or node-problem-detector condition
//! True), a row whose bars are the abnormal periods, from their first
//! reading to the next reading of another status (to the plot's right edge
//! while they last to the end of the logs). It sits under the overview, on
//! the same axis, so that "NotReady from 10:42 to 11:07" lines up with the
//! findings that explain it; the tooltip gives the reason and what else
//! was wrong meanwhile. The periods are the report's ([`ConditionPeriod`]);
//! nothing is re-derived here.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::axis::Axis;
use super::{instant, Esc, PLOT_RIGHT};
use crate::report::conditions::ConditionPeriod;
use crate::report::Report;

/// Rows at most; the others are counted in the caption.
const MAX_ROWS: usize = 8;
const ROW: f64 = 14.0;

pub(super) struct Conditions<'a> {
    rows: Vec<(String, Vec<&'a ConditionPeriod>)>,
    hidden: usize,
}

impl<'a> Conditions<'a> {
    pub fn new(report: &'a Report) -> Conditions<'a> {
        let mut rows: BTreeMap<(&str, &str), Vec<&ConditionPeriod>> = BTreeMap::new();
        for period in report.conditions.iter().filter(|p| p.abnormal) {
            rows.entry((period.host.as_str(), period.condition.as_str()))
                .or_default()
                .push(period);
        }
        let mut rows: Vec<(String, Vec<&ConditionPeriod>)> = rows
            .into_iter()
            .map(|((host, condition), list)| (format!("{host} · {condition}"), list))
            .collect();
        let hidden = rows.len().saturating_sub(MAX_ROWS);
        rows.truncate(MAX_ROWS);
        Conditions { rows, hidden }
    }

    /// Milliseconds of the first and last instant drawn, and the first's
    /// zone, for the axis.
    pub fn span(&self) -> Option<(i64, i64, chrono::FixedOffset)> {
        let times: Vec<chrono::DateTime<chrono::FixedOffset>> = self
            .rows
            .iter()
            .flat_map(|(_, list)| list)
            .flat_map(|p| [instant(&p.from), end(p)])
            .flatten()
            .collect();
        let first = times.iter().min()?;
        let last = times.iter().max()?;
        Some((
            first.timestamp_millis(),
            last.timestamp_millis(),
            first.timezone(),
        ))
    }

    pub fn height(&self) -> f64 {
        if self.rows.is_empty() {
            0.0
        } else {
            self.rows.len() as f64 * ROW + 20.0
        }
    }

    /// Its rows from `top`, a caption above them.
    pub fn print(&self, axis: &Axis, top: f64, out: &mut dyn Write) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let more = if self.hidden > 0 {
            format!(" ({} more not drawn)", self.hidden)
        } else {
            String::new()
        };
        writeln!(
            out,
            "<g class=\"conditions\">\n<text class=\"caption\" x=\"10\" y=\"{:.0}\">node conditions{more}</text>",
            top + 6.0
        )?;
        let top = top + 20.0;
        for (n, (label, periods)) in self.rows.iter().enumerate() {
            let y = top + n as f64 * ROW;
            writeln!(
                out,
                "<text x=\"10\" y=\"{:.1}\">{}</text>",
                y + 10.0,
                Esc(label)
            )?;
            for period in periods {
                bar(period, axis, y + 2.0, out)?;
            }
        }
        writeln!(out, "</g>")
    }
}

/// Where an abnormal period's bar ends: the next reading of another status,
/// else its last reading.
fn end(period: &ConditionPeriod) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    period
        .to
        .as_deref()
        .and_then(instant)
        .or_else(|| instant(&period.last_seen))
}

/// A period's bar, at least 2px wide: NotReady as high, the others medium.
fn bar(period: &ConditionPeriod, axis: &Axis, y: f64, out: &mut dyn Write) -> io::Result<()> {
    let (Some(from), Some(to)) = (instant(&period.from), end(period)) else {
        return Ok(());
    };
    let x0 = axis.x(from.timestamp_millis());
    // A status that lasts to the end of the logs runs to the plot's edge.
    let x1 = if period.to.is_none() {
        PLOT_RIGHT
    } else {
        axis.x(to.timestamp_millis())
    }
    .max(x0 + 2.0);
    let severity = if period.condition == "Ready" {
        "high"
    } else {
        "medium"
    };
    let tip = period.summary();
    writeln!(
        out,
        "<g><title>{}</title><rect class=\"mark sev-{severity}\" x=\"{x0:.1}\" y=\"{y:.1}\" \
         width=\"{:.1}\" height=\"{:.0}\"/></g>",
        Esc(&tip),
        x1 - x0,
        ROW - 4.0,
    )
}
