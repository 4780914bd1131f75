//! Where each mark goes. A lane's incidents are packed into rows, first fit
//! in time order; one incident's findings in a lane share its row as thin
//! stacked bars, so that the incident reads as one. Its label (rank, and
//! chain), in the first lane it appears in, goes right of it, else left,
//! else over it, and takes room in the row so that labels never overlap.

use std::collections::{BTreeMap, BTreeSet};

use super::axis::Axis;
use super::{Lane, Mark, BAR, CHAR_W, LANE_PAD, MAX_ROWS, PLOT_LEFT, ROW, WIDTH};

/// A finding's mark, placed: its extent on x, its top and height.
pub(super) struct Placed<'a> {
    pub mark: &'a Mark<'a>,
    pub x0: f64,
    pub x1: f64,
    pub y: f64,
    pub h: f64,
}

/// An incident's label in a lane.
pub(super) struct Tag {
    pub rank: usize,
    pub text: String,
    pub x: f64,
    pub y: f64,
    /// Anchored at its end: it stands left of the marks.
    pub before: bool,
}

/// Every drawn lane's top and rows, and every mark's and label's place.
pub(super) struct Layout<'a> {
    pub lanes: Vec<(f64, usize)>,
    pub placed: Vec<Placed<'a>>,
    pub tags: Vec<Tag>,
    pub bottom: f64,
    /// The incidents labeled so far.
    labeled: BTreeSet<usize>,
}

impl<'a> Layout<'a> {
    /// Lays `lanes` out one under the other from `top`.
    pub fn new(lanes: &'a [Lane<'a>], axis: &Axis, top: f64) -> Layout<'a> {
        let mut layout = Layout {
            lanes: Vec::new(),
            placed: Vec::new(),
            tags: Vec::new(),
            bottom: top,
            labeled: BTreeSet::new(),
        };
        for lane in lanes {
            let top = layout.bottom;
            let rows = layout.place(lane, axis, top);
            layout.lanes.push((top, rows));
            layout.bottom = top + lane_height(rows);
        }
        layout
    }

    /// Packs a lane's incidents into rows; returns how many it took. Past
    /// [`MAX_ROWS`], an incident overlaps where it hides least, unlabeled.
    fn place(&mut self, lane: &'a Lane<'a>, axis: &Axis, top: f64) -> usize {
        let mut by_incident: BTreeMap<usize, Vec<&'a Mark<'a>>> = BTreeMap::new();
        for mark in &lane.marks {
            by_incident
                .entry(mark.incident.rank)
                .or_default()
                .push(mark);
        }
        let mut groups: Vec<Group> = by_incident
            .into_iter()
            .map(|(rank, marks)| Group::new(marks, axis, self.labeled.insert(rank)))
            .collect();
        groups.sort_by(|a, b| a.from.total_cmp(&b.from).then(a.rank.cmp(&b.rank)));
        let mut row_ends: Vec<f64> = Vec::new();
        for mut group in groups {
            let row = match row_ends.iter().position(|end| *end + 4.0 <= group.from) {
                Some(row) => row,
                None if row_ends.len() < MAX_ROWS => {
                    row_ends.push(f64::MIN);
                    row_ends.len() - 1
                }
                None => {
                    group.tag = None;
                    (0..row_ends.len())
                        .min_by(|a, b| row_ends[*a].total_cmp(&row_ends[*b]))
                        .unwrap_or(0)
                }
            };
            row_ends[row] = row_ends[row].max(group.to);
            self.put(group, top + LANE_PAD + row as f64 * ROW);
        }
        row_ends.len()
    }

    /// Places a group's marks as slices of one row's height, and its label.
    fn put(&mut self, group: Group<'a>, y: f64) {
        let k = group.marks.len() as f64;
        let h = ((BAR + 1.0) / k - 1.0).max(2.0);
        for (n, (mark, (x0, x1))) in group.marks.into_iter().enumerate() {
            let offset = (n as f64 * (h + 1.0)).min(BAR - h);
            self.placed.push(Placed {
                mark,
                x0,
                x1,
                y: y + offset,
                h,
            });
        }
        if let Some((text, x, before)) = group.tag {
            self.tags.push(Tag {
                rank: group.rank,
                text,
                x,
                y: y + BAR - 2.0,
                before,
            });
        }
    }
}

/// One incident's marks in one lane, and its label.
struct Group<'a> {
    rank: usize,
    marks: Vec<(&'a Mark<'a>, (f64, f64))>,
    tag: Option<(String, f64, bool)>,
    /// The room it takes in its row, label included.
    from: f64,
    to: f64,
}

impl<'a> Group<'a> {
    fn new(mut marks: Vec<&'a Mark<'a>>, axis: &Axis, labeled: bool) -> Group<'a> {
        marks.sort_by(|a, b| (a.start, &a.finding.kind).cmp(&(b.start, &b.finding.kind)));
        let incident = marks[0].incident;
        let marks: Vec<_> = marks.into_iter().map(|m| (m, extent(m, axis))).collect();
        let x0 = marks.iter().map(|(_, e)| e.0).fold(f64::MAX, f64::min);
        let x1 = marks.iter().map(|(_, e)| e.1).fold(f64::MIN, f64::max);
        let text = match &incident.chain {
            Some(chain) => format!("#{} {chain}", incident.rank),
            None => format!("#{}", incident.rank),
        };
        let w = text.chars().count() as f64 * CHAR_W;
        let (tag, from, to) = if !labeled {
            (None, x0, x1)
        } else if x1 + 4.0 + w <= WIDTH - 4.0 {
            (Some((text, x1 + 4.0, false)), x0, x1 + 4.0 + w)
        } else if x0 - 4.0 - w >= PLOT_LEFT {
            (Some((text, x0 - 4.0, true)), x0 - 4.0 - w, x1)
        } else {
            (Some((text, x0 + 4.0, false)), x0, x1)
        };
        Group {
            rank: incident.rank,
            marks,
            tag,
            from,
            to,
        }
    }
}

pub(super) fn lane_height(rows: usize) -> f64 {
    rows.max(1) as f64 * ROW + 2.0 * LANE_PAD
}

/// A bar's extent on x (at least 3px wide), or a diamond's.
fn extent(mark: &Mark, axis: &Axis) -> (f64, f64) {
    let x0 = axis.x(mark.start);
    if mark.start == mark.end {
        (x0 - BAR / 2.0, x0 + BAR / 2.0)
    } else {
        (x0, axis.x(mark.end).max(x0 + 3.0))
    }
}
