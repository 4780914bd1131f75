//! The SVG timeline. On one time axis ([`axis`]): first an overview
//! ([`overview`]), every incident as a thin bar on its host's row, so that
//! the whole span reads at a glance however many incidents there are; then
//! one lane per host (its node-wide findings), pod, or container without a
//! known pod, where every finding is a bar from its first to its last line
//! (a diamond when it is one instant), colored by its severity and labeled
//! with its incident's rank ([`layout`]). An incident whose findings lie on
//! several lanes (a chain: a hung kernel task on the host, the stuck pod)
//! gets a band around them and a connector through their starts, in time
//! order. Every mark links to its incident's card.
//!
//! Only the lanes of the best-ranked incidents are drawn (at most
//! [`MAX_LANES`]; a note counts the others). Where a finding is drawn is
//! read from the report (its subject, its incident's hosts and pods); what
//! the incidents are is never re-derived here.

mod axis;
mod conditions;
pub(super) mod fleet;
mod layout;
mod overview;

use std::collections::BTreeMap;
use std::io::{self, Write};

use axis::Axis;
use conditions::Conditions;
use layout::{lane_height, Layout, Placed, Tag};
use overview::Overview;

use super::display::{instant, period, readable_time, shorten, Esc, Span};
use crate::report::text::plural;
use crate::report::{FindingReport, Incident, Report};
use crate::severity::Severity;

/// Lanes drawn at most, best-ranked first.
const MAX_LANES: usize = 40;
/// Rows of marks in one lane; past them, marks overlap in the emptiest row.
const MAX_ROWS: usize = 4;
const WIDTH: f64 = 1200.0;
/// The labels' column ends here; the plot runs from here to the right.
const PLOT_LEFT: f64 = 270.0;
const PLOT_RIGHT: f64 = 1176.0;
/// The legend and the tick labels, above the overview.
const TOP: f64 = 64.0;
const ROW: f64 = 16.0;
const BAR: f64 = 12.0;
const LANE_PAD: f64 = 4.0;
/// Width of a character of an 11px label, to fit labels without measuring.
const CHAR_W: f64 = 6.4;
/// The legend's room for a severity (the longest name is `critical`).
const LEGEND_SLOT: f64 = 78.0;
/// Lane labels longer than this are cut (the full label is in a tooltip).
const LABEL_CHARS: usize = 40;

pub(super) fn print(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<section id=\"timeline\">\n<h2>Timeline</h2>")?;
    let lanes = lanes(report);
    let conditions = Conditions::new(report);
    let Some(axis) = axis(&lanes, &conditions) else {
        writeln!(
            out,
            "<p class=\"none\">No findings to draw.</p>\n</section>"
        )?;
        return Ok(());
    };
    let total = lanes.len();
    let drawn = select(lanes);
    let hidden = total - drawn.iter().filter(|l| !l.marks.is_empty()).count();
    let overview = Overview::new(report);
    let conditions_top = TOP + 8.0 + overview.height();
    let lanes_top = conditions_top + conditions.height() + 12.0;
    let layout = Layout::new(&drawn, &axis, lanes_top);
    let height = layout.bottom + if hidden > 0 { 26.0 } else { 8.0 };
    writeln!(
        out,
        "<div class=\"scroll\"><svg class=\"timeline\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
         width=\"{WIDTH}\" height=\"{height:.0}\" role=\"img\" aria-labelledby=\"timeline-title\">\n\
         <title id=\"timeline-title\">Incidents and findings over time</title>"
    )?;
    legend(&axis, out)?;
    axis.print(TOP, layout.bottom, out)?;
    overview.print(&axis, TOP + 8.0, out)?;
    conditions.print(&axis, conditions_top, out)?;
    writeln!(
        out,
        "<line class=\"rule\" x1=\"0\" x2=\"{WIDTH}\" y1=\"{:.1}\" y2=\"{0:.1}\"/>",
        lanes_top - 0.5
    )?;
    for (lane, place) in drawn.iter().zip(&layout.lanes) {
        lane_label(lane, *place, out)?;
    }
    incidents(&layout, out)?;
    if hidden > 0 {
        writeln!(
            out,
            "<text class=\"note\" x=\"{PLOT_LEFT}\" y=\"{:.1}\">{hidden} more lane{} not drawn: \
             lower-ranked incidents, all in the overview above and listed below</text>",
            layout.bottom + 17.0,
            plural(hidden)
        )?;
    }
    writeln!(out, "</svg></div>\n</section>")
}

/// Where a finding is drawn: its host, and the pod or container it is about
/// (`None`: node-wide, on the host's own lane).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct LaneKey {
    host: String,
    entity: Option<String>,
}

impl LaneKey {
    fn of(incident: &Incident, finding: &FindingReport) -> LaneKey {
        if let Some(node) = finding.subject.strip_prefix("node ") {
            return LaneKey {
                host: node.to_string(),
                entity: None,
            };
        }
        let entity = if incident.pods.is_empty() {
            finding.subject.clone()
        } else {
            format!("pod {}", incident.pods.join(", "))
        };
        LaneKey {
            host: host_of(incident).to_string(),
            entity: Some(entity),
        }
    }

    /// What the lane's label says: the host, a pod (`ns/name`, which its
    /// indentation under the host already tells), or a shortened subject.
    fn label(&self) -> String {
        match &self.entity {
            None => self.host.clone(),
            Some(entity) => shorten(entity.strip_prefix("pod ").unwrap_or(entity)),
        }
    }
}

/// The host an incident is drawn on: its first (most have one).
fn host_of(incident: &Incident) -> &str {
    incident
        .hosts
        .first()
        .map_or("unknown host", String::as_str)
}

/// A finding and its incident, with its times in milliseconds.
struct Mark<'a> {
    incident: &'a Incident,
    finding: &'a FindingReport,
    start: i64,
    end: i64,
}

struct Lane<'a> {
    key: LaneKey,
    /// The best rank among its incidents.
    best: usize,
    marks: Vec<Mark<'a>>,
}

/// Every finding placed in its lane.
fn lanes(report: &Report) -> Vec<Lane<'_>> {
    let mut lanes: BTreeMap<LaneKey, Lane> = BTreeMap::new();
    for incident in &report.incidents {
        for finding in &incident.findings {
            let (Some(first), Some(last)) =
                (instant(&finding.first_seen), instant(&finding.last_seen))
            else {
                continue;
            };
            let key = LaneKey::of(incident, finding);
            let lane = lanes.entry(key.clone()).or_insert_with(|| Lane {
                key,
                best: incident.rank,
                marks: Vec::new(),
            });
            lane.best = lane.best.min(incident.rank);
            lane.marks.push(Mark {
                incident,
                finding,
                start: first.timestamp_millis(),
                end: last.timestamp_millis(),
            });
        }
    }
    lanes.into_values().collect()
}

/// An axis over every finding and every abnormal condition period, in the
/// zone of the earliest finding (of the earliest period without findings).
fn axis(lanes: &[Lane], conditions: &Conditions) -> Option<Axis> {
    let marks = || lanes.iter().flat_map(|l| &l.marks);
    let found = marks().min_by_key(|m| m.start).and_then(|first| {
        let end = marks().map(|m| m.end).max()?;
        let zone = instant(&first.finding.first_seen)?.timezone();
        Some((first.start, end, zone))
    });
    let (start, end, zone) = match (found, conditions.span()) {
        (Some((s0, e0, zone)), Some((s1, e1, _))) => (s0.min(s1), e0.max(e1), zone),
        (Some(span), None) | (None, Some(span)) => span,
        (None, None) => return None,
    };
    Some(Axis::new(start, end, zone))
}

/// The [`MAX_LANES`] best-ranked lanes, grouped by host: each host's own
/// lane first (empty when it has no node-wide finding: it heads the group),
/// then its pods and containers by rank.
fn select(mut lanes: Vec<Lane<'_>>) -> Vec<Lane<'_>> {
    lanes.sort_by(|a, b| (a.best, &a.key).cmp(&(b.best, &b.key)));
    lanes.truncate(MAX_LANES);
    let mut hosts: Vec<String> = Vec::new();
    for lane in &lanes {
        if !hosts.contains(&lane.key.host) {
            hosts.push(lane.key.host.clone());
        }
    }
    for host in &hosts {
        if !lanes
            .iter()
            .any(|l| &l.key.host == host && l.key.entity.is_none())
        {
            lanes.push(Lane {
                key: LaneKey {
                    host: host.clone(),
                    entity: None,
                },
                best: usize::MAX,
                marks: Vec::new(),
            });
        }
    }
    let group = |lane: &Lane| hosts.iter().position(|h| *h == lane.key.host);
    lanes.sort_by_key(|l| (group(l), l.key.entity.is_some(), l.best));
    lanes
}

fn legend(axis: &Axis, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<g class=\"legend\">")?;
    let mut x = PLOT_LEFT;
    for s in Severity::ALL.iter().rev() {
        writeln!(
            out,
            "<rect class=\"sev-{s}\" x=\"{x}\" y=\"8\" width=\"14\" height=\"10\" rx=\"2\"/>\
             <text x=\"{:.0}\" y=\"17\">{s}</text>",
            x + 19.0
        )?;
        x += LEGEND_SLOT;
    }
    writeln!(
        out,
        "<path class=\"instant\" d=\"{}\"/><text x=\"{:.0}\" y=\"17\">one instant</text>",
        diamond(x + 6.0, 13.0, BAR / 2.0),
        x + 17.0
    )?;
    x += 100.0;
    writeln!(
        out,
        "<rect class=\"band\" x=\"{x}\" y=\"6\" width=\"22\" height=\"14\" rx=\"3\"/>\
         <text x=\"{:.0}\" y=\"17\">one incident across lanes</text>",
        x + 28.0
    )?;
    writeln!(
        out,
        "<text class=\"zone\" x=\"{PLOT_RIGHT}\" y=\"17\" text-anchor=\"end\">{}</text>\n</g>",
        axis.caption()
    )
}

/// A lane's shading and label. A host's lane heads its group.
fn lane_label(lane: &Lane, (top, rows): (f64, usize), out: &mut dyn Write) -> io::Result<()> {
    let label = lane.key.label();
    let host = lane.key.entity.is_none();
    let shown: String = if label.chars().count() > LABEL_CHARS {
        label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
    } else {
        label.clone()
    };
    let what = match &lane.key.entity {
        Some(entity) => entity.clone(),
        None => "node-wide findings".to_string(),
    };
    writeln!(
        out,
        "<g class=\"lane{}\" data-lane=\"{}\"><title>{} · {}: {} finding{}</title>\
         <rect class=\"lane-bg\" x=\"0\" y=\"{top:.1}\" width=\"{WIDTH}\" height=\"{:.1}\"/>\
         <text x=\"{}\" y=\"{:.1}\">{}</text></g>",
        if host { " host" } else { "" },
        Esc(&label),
        Esc(&lane.key.host),
        Esc(&what),
        lane.marks.len(),
        plural(lane.marks.len()),
        lane_height(rows),
        if host { 10 } else { 24 },
        top + LANE_PAD + BAR - 2.0,
        Esc(&shown)
    )
}

/// Each incident's marks and labels in one group, worst rank first so that
/// the best-ranked is drawn on top.
fn incidents(layout: &Layout, out: &mut dyn Write) -> io::Result<()> {
    let mut by_rank: BTreeMap<usize, (Vec<&Placed>, Vec<&Tag>)> = BTreeMap::new();
    for p in &layout.placed {
        by_rank.entry(p.mark.incident.rank).or_default().0.push(p);
    }
    for t in &layout.tags {
        by_rank.entry(t.rank).or_default().1.push(t);
    }
    for (placed, tags) in by_rank.values().rev() {
        let incident = placed[0].mark.incident;
        writeln!(
            out,
            "<g class=\"incident\" data-incident=\"{}\" data-severity=\"{}\">",
            incident.rank, incident.severity
        )?;
        band(incident, placed, out)?;
        for p in placed {
            mark(incident, p, out)?;
        }
        for t in tags {
            writeln!(
                out,
                "<a href=\"#incident-{}\"><text class=\"tag\" x=\"{:.1}\" y=\"{:.1}\"{}>{}</text></a>",
                incident.rank,
                t.x,
                t.y,
                if t.before { " text-anchor=\"end\"" } else { "" },
                Esc(&t.text)
            )?;
        }
        writeln!(out, "</g>")?;
    }
    Ok(())
}

/// When an incident's findings lie in several rows: a band around them
/// and a connector through their starts, in time order.
fn band(incident: &Incident, placed: &[&Placed], out: &mut dyn Write) -> io::Result<()> {
    let top = placed.iter().map(|p| p.y).fold(f64::MAX, f64::min);
    let bottom = placed.iter().map(|p| p.y + p.h).fold(f64::MIN, f64::max);
    if bottom - top <= BAR {
        return Ok(());
    }
    let left = placed.iter().map(|p| p.x0).fold(f64::MAX, f64::min) - 3.0;
    let right = placed.iter().map(|p| p.x1).fold(f64::MIN, f64::max) + 3.0;
    writeln!(
        out,
        "<rect class=\"band sev-{}\" x=\"{left:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\"/>",
        incident.severity,
        top - 2.0,
        right - left,
        bottom - top + 4.0
    )?;
    let mut starts: Vec<&&Placed> = placed.iter().collect();
    starts.sort_by_key(|p| p.mark.start);
    let points: Vec<String> = starts
        .iter()
        .map(|p| format!("{:.1},{:.1}", p.x0, p.y + p.h / 2.0))
        .collect();
    writeln!(out, "<path class=\"link\" d=\"M{}\"/>", points.join("L"))
}

fn mark(incident: &Incident, p: &Placed, out: &mut dyn Write) -> io::Result<()> {
    let f = p.mark.finding;
    write!(
        out,
        "<a href=\"#incident-{}\"><title>{}</title>",
        incident.rank,
        tooltip(incident, f)
    )?;
    if p.mark.start == p.mark.end {
        write!(
            out,
            "<path class=\"mark sev-{}\" d=\"{}\"/>",
            f.severity,
            diamond((p.x0 + p.x1) / 2.0, p.y + p.h / 2.0, p.h / 2.0 + 1.0)
        )?;
    } else {
        write!(
            out,
            "<rect class=\"mark sev-{}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"1.5\"/>",
            f.severity,
            p.x0,
            p.y,
            p.x1 - p.x0,
            p.h
        )?;
    }
    writeln!(out, "</a>")
}

/// What a mark's tooltip says, one fact a line.
fn tooltip(incident: &Incident, f: &FindingReport) -> String {
    let mut lines = vec![format!(
        "#{} {}: {}",
        incident.rank, incident.severity, incident.title
    )];
    if let Some(chain) = &incident.chain {
        lines.push(format!("chain {chain}"));
    }
    let every = f
        .period_s
        .map(|p| format!(", every {}", period(p)))
        .unwrap_or_default();
    lines.push(format!(
        "{} ({}) from {}: {}× in {} line{}{every}",
        f.kind,
        f.severity,
        f.source,
        f.count,
        f.lines,
        plural(f.lines)
    ));
    lines.push(shorten(&f.subject));
    lines.push(format!(
        "{} → {} ({})",
        readable_time(&f.first_seen),
        readable_time(&f.last_seen),
        Span(&f.first_seen, &f.last_seen)
    ));
    lines
        .iter()
        .map(|l| Esc(l).to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A diamond of half-height `r` centered on (x, y).
fn diamond(x: f64, y: f64, r: f64) -> String {
    format!(
        "M{x:.1},{:.1}l{r:.1},{r:.1}l-{r:.1},{r:.1}l-{r:.1},-{r:.1}z",
        y - r
    )
}
