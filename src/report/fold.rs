//! Folding the routine tail: a node writes the same low-level failure for
//! many subjects (a CrashLoopBackOff on every pod of a bad rollout, a forced
//! stop for every container that ignores SIGTERM). Past [`FOLD_OVER`] low
//! incidents of the same kinds on one host, they become one incident that
//! lists every pod and container and shows the worst of them as its example,
//! with how many it stands for ([`super::Folded`]).
//!
//! Why here and why only low: the report held ~6 KB per incident (the
//! explanation, advice and evidence of each), so on a 1 GiB node log with
//! 22,000 crash-looping pods the report, not the logs, set the memory
//! (296 MB); folded as they are built, at most [`FOLD_OVER`] of a kind are
//! held at once. A medium or worse incident is a subject someone must act
//! on, and stays on its own whatever the count.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::build::Span;
use super::{Folded, Incident};
use crate::severity::Severity;
use crate::time::{Axis, EventTime};

/// More low incidents than this of one kind set on one host are folded.
pub const FOLD_OVER: usize = 10;

/// What decides that two incidents are alike: the hosts, the kinds of
/// their findings, and the time axis (times on different axes cannot be
/// compared, so they are never one span).
type Key = (Vec<String>, Vec<String>, Axis);

/// Incidents as they are built, with the low ones of a crowded kind folded.
#[derive(Default)]
pub struct Folder {
    kept: Vec<(Incident, Span)>,
    /// Per key: the low incidents held while fewer than [`FOLD_OVER`] came,
    /// then their fold.
    groups: BTreeMap<Key, Group>,
}

enum Group {
    Few(Vec<(Incident, Span)>),
    Folded(Box<Fold>),
}

struct Fold {
    /// The incident shown as the example: the one ranked first.
    example: (Incident, Span),
    totals: Totals,
}

/// What the folded incidents stand for together.
struct Totals {
    incidents: usize,
    count: usize,
    lines: usize,
    pods: BTreeSet<String>,
    containers: BTreeSet<String>,
    first: (EventTime, String),
    last: (EventTime, String),
}

impl Folder {
    pub fn push(&mut self, incident: Incident, when: Span) {
        if incident.severity > Severity::Low {
            self.kept.push((incident, when));
            return;
        }
        let key = key(&incident, &when);
        let group = self
            .groups
            .entry(key)
            .or_insert_with(|| Group::Few(Vec::new()));
        match group {
            Group::Few(few) => {
                few.push((incident, when));
                if few.len() > FOLD_OVER {
                    let mut held = std::mem::take(few).into_iter();
                    if let Some(first) = held.next() {
                        let mut fold = Fold::new(first);
                        held.for_each(|(i, w)| fold.add(i, w));
                        *group = Group::Folded(Box::new(fold));
                    }
                }
            }
            Group::Folded(fold) => fold.add(incident, when),
        }
    }

    /// Every incident: those kept whole and one per fold.
    pub fn finish(self) -> Vec<(Incident, Span)> {
        let mut out = self.kept;
        for group in self.groups.into_values() {
            match group {
                Group::Few(few) => out.extend(few),
                Group::Folded(fold) => out.push(fold.finish()),
            }
        }
        out
    }
}

fn key(incident: &Incident, when: &Span) -> Key {
    let kinds: BTreeSet<&str> = incident.findings.iter().map(|f| f.kind.as_str()).collect();
    (
        incident.hosts.clone(),
        kinds.into_iter().map(str::to_string).collect(),
        when.first.axis(),
    )
}

impl Fold {
    fn new((incident, when): (Incident, Span)) -> Fold {
        let mut totals = Totals {
            incidents: 0,
            count: 0,
            lines: 0,
            pods: BTreeSet::new(),
            containers: BTreeSet::new(),
            first: (when.first, incident.first_seen.clone()),
            last: (when.last, incident.last_seen.clone()),
        };
        totals.count(&incident, &when);
        Fold {
            example: (incident, when),
            totals,
        }
    }

    fn add(&mut self, incident: Incident, when: Span) {
        self.totals.count(&incident, &when);
        if worse(&incident, &self.example.0) {
            self.example = (incident, when);
        }
    }

    fn finish(self) -> (Incident, Span) {
        let (mut incident, example) = self.example;
        let totals = self.totals;
        let when = Span {
            first: totals.first.0,
            last: totals.last.0,
            node: example.node,
        };
        incident.title = format!(
            "{}, and {} more like it on this node",
            incident.title,
            totals.incidents - 1
        );
        incident.first_seen = totals.first.1;
        incident.last_seen = totals.last.1;
        incident.duration_s = when.last.seconds_since(&when.first).unwrap_or(0);
        incident.pods = totals.pods.into_iter().collect();
        incident.containers = totals.containers.into_iter().collect();
        incident.folded = Some(Folded {
            incidents: totals.incidents,
            count: totals.count,
            lines: totals.lines,
        });
        (incident, when)
    }
}

impl Totals {
    /// Adds what `incident` stands for.
    fn count(&mut self, incident: &Incident, when: &Span) {
        self.incidents += 1;
        self.count += incident.findings.iter().map(|f| f.count).sum::<usize>();
        self.lines += incident.findings.iter().map(|f| f.lines).sum::<usize>();
        self.pods.extend(incident.pods.iter().cloned());
        self.containers.extend(incident.containers.iter().cloned());
        if when.first < self.first.0 {
            self.first = (when.first, incident.first_seen.clone());
        }
        if when.last > self.last.0 {
            self.last = (when.last, incident.last_seen.clone());
        }
    }
}

/// Whether `a` ranks before `b` as the report orders incidents (score, then
/// the earlier, then by title), so that the example does not depend on the
/// order incidents were built in.
fn worse(a: &Incident, b: &Incident) -> bool {
    b.score
        .total_cmp(&a.score)
        .then_with(|| a.first_seen.cmp(&b.first_seen))
        .then_with(|| a.title.cmp(&b.title))
        == Ordering::Less
}
