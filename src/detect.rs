//! Detection: the events of a detector's patterns, grouped by the entity the
//! detector counts `per`, cut where the failure stopped for a long time
//! (see [`recur_gap_s`]), and graded by the grammar's `levels` on how many
//! times the failure happened within the window. A failure that keeps
//! coming back is one finding however sparse: a netdev leak logging every
//! 20 minutes for hours is one finding, and once it has lasted
//! [`LASTING_S`] it reaches one level more than its densest window (when
//! its total count reaches that level's `min_count`). One stretch that
//! reaches a level is one [`Finding`].
//!
//! Events without a wall-clock time are detected on their input's own
//! axis ([`EventTime`]): by time since boot or start when the line gives
//! it, else by their lines, which have no gaps to measure: one input's are
//! one stretch, all within one window.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::entity::{Entity, EntityGraph, EntitySet, Role};
use crate::scan::TextRef;
use crate::thin::Thin;

/// The node of records whose envelope names no host (raw component logs).
const UNKNOWN_HOST: &str = "unknown host";
use crate::grammar::Detector;
use crate::matcher::RuleSet;
use crate::severity::Severity;
use crate::time::EventTime;

mod routine;
pub use routine::{PlacedMark, Precursors};

/// A matched line with its instant and resolved entities. Its host and
/// entity set are shared with the other events that name the same, and its
/// text stays in its input's [`crate::scan::Texts`].
#[derive(Clone, Debug)]
pub struct Event {
    /// Its pattern and its input, as indices in 32 bits each (a log whose
    /// every line matches holds millions of events): read them with
    /// [`Event::pattern`] and [`Event::input`].
    pub pattern: u32,
    pub input: u32,
    pub line: u64,
    /// Its instant, or its place on its input's own axis.
    pub time: EventTime,
    pub level: Option<crate::format::Level>,
    pub host: Option<Thin<str>>,
    pub entities: EntitySet,
    /// A hash of what the program wrote, without envelope.
    pub message_hash: u64,
    /// The whole line (or journal message), for evidence.
    pub text: TextRef,
    /// The lines that continued it (a hung task's call trace).
    pub context: crate::scan::Context,
    /// How many occurrences the line stands for (issue 17: a Kubernetes
    /// event's `count`, from its pattern's `count` capture); 1 for a log
    /// line.
    pub weight: u32,
}

/// A detector's conclusion about one entity over one stretch of time.
#[derive(Clone, Debug)]
pub struct Finding {
    pub detector: usize,
    pub entity: Entity,
    pub severity: Severity,
    /// Indices into the event list, in time order.
    pub events: Vec<usize>,
    /// How many times it happened: its lines, with the lines one failure
    /// writes at once counted once.
    pub occurrences: usize,
    /// Median seconds between consecutive retries; `None` for one retry.
    pub period_s: Option<f64>,
    /// The level reached (an index into the detector's levels).
    pub level: usize,
}

impl Event {
    /// Its pattern's index in the grammar.
    pub fn pattern(&self) -> usize {
        self.pattern as usize
    }

    /// The index of the input it came from.
    pub fn input(&self) -> usize {
        self.input as usize
    }
}

impl Finding {
    pub fn first<'e>(&self, events: &'e [Event]) -> &'e Event {
        &events[self.events[0]]
    }

    pub fn last<'e>(&self, events: &'e [Event]) -> &'e Event {
        &events[self.events[self.events.len() - 1]]
    }
}

/// Runs every detector over `events` (which must be sorted by time);
/// `graph` says which pod a UID or name belongs to, and which containers
/// are in one pod.
pub fn detect(
    rules: &RuleSet,
    events: &[Event],
    graph: &EntityGraph,
    precursors: &Precursors,
) -> Vec<Finding> {
    let pods = PodIndex::new(graph);
    let detectors = &rules.grammar.detectors;
    let mut findings = Vec::new();
    for (d, detector) in detectors.iter().enumerate() {
        // An event's subject follows from its shared entity set and host:
        // worked out once per distinct pair, and shared, not copied per line.
        let mut known: HashMap<(usize, usize), Option<Arc<Entity>>> = HashMap::new();
        let mut subjects: Vec<(usize, Arc<Entity>)> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| detector.patterns.contains(&e.pattern()))
            .filter_map(|(i, e)| {
                let host = e.host.as_ref().map_or(0, Thin::address);
                let set = e.entities.address();
                let found = known
                    .entry((set, host))
                    .or_insert_with(|| subject(&detector.per, e, &pods).map(Arc::new));
                Some((i, found.clone()?))
            })
            .filter(|(i, subject)| {
                detector
                    .routine_after
                    .as_ref()
                    .is_none_or(|rule| precursors.counts(d, rule.within_s, subject, &events[*i]))
            })
            .collect();
        drop(known);
        if detector.per.len() > 1 {
            join_same_instant(&mut subjects, events);
        }
        let mut per_entity: BTreeMap<Entity, Vec<usize>> = BTreeMap::new();
        for (i, subject) in subjects {
            match per_entity.get_mut(&*subject) {
                Some(indices) => indices.push(i),
                None => {
                    per_entity.insert(Entity::clone(&subject), vec![i]);
                }
            }
        }
        if detector.per.contains(&Role::Container) {
            fold_pods_into_containers(&mut per_entity, graph);
        }
        for (entity, indices) in per_entity {
            for burst in bursts(&indices, events, recur_gap_s(detector.window_s)) {
                let floor = burst
                    .iter()
                    .filter_map(|&i| rules.grammar.patterns[events[i].pattern()].severity)
                    .max();
                // A floored line is a finding on its own, below every level.
                let graded = match (grade(detector, burst, events), floor) {
                    (Some(level), _) => {
                        let reached = detector.levels[level].severity;
                        Some((level, floor.map_or(reached, |f| reached.max(f))))
                    }
                    (None, Some(floor)) => Some((0, floor)),
                    (None, None) => None,
                };
                if let Some((level, severity)) = graded {
                    findings.push(Finding {
                        detector: d,
                        entity: entity.clone(),
                        severity,
                        level,
                        occurrences: occurrences(burst, events).iter().map(|o| o.1).sum::<u64>()
                            as usize,
                        events: burst.to_vec(),
                        period_s: median_gap(burst, events),
                    });
                }
            }
        }
    }
    findings
}

/// The entity a detector counts `event` under: the first of its `per`
/// roles the line names. A pod may be named by its UID or bare name, when
/// the entity graph ties that to one `namespace/name`.
fn subject(per: &[Role], event: &Event, pods: &PodIndex) -> Option<Entity> {
    subject_of(per, &event.entities, event.host.as_deref(), pods)
}

/// [`subject`] of a line naming `entities` on `host`.
fn subject_of(
    per: &[Role],
    entities: &[Entity],
    host: Option<&str>,
    pods: &PodIndex,
) -> Option<Entity> {
    per.iter().find_map(|&role| match role {
        Role::Node => Some(Entity::Node(Arc::from(host.unwrap_or(UNKNOWN_HOST)))),
        Role::Pod => entities
            .iter()
            .find(|e| matches!(e, Entity::Pod(_)))
            .or_else(|| entities.iter().find_map(|e| pods.pod_of(e)))
            .cloned(),
        role => entities
            .iter()
            .find(|e| e.value_for(role).is_some())
            .cloned(),
    })
}

/// How many lines on each side a node-fallback line looks at.
const NEIGHBOURS: usize = 16;

/// A line that fell back to its node joins the more specific subject of a
/// line the same program wrote in the same instant on the same host: the
/// kernel's `invoked oom-killer` names no cgroup, the `oom-kill:` summary
/// printed with it does.
fn join_same_instant(subjects: &mut [(usize, Arc<Entity>)], events: &[Event]) {
    let specific = |s: &(usize, Arc<Entity>)| !matches!(*s.1, Entity::Node(_));
    for k in 0..subjects.len() {
        if specific(&subjects[k]) {
            continue;
        }
        let at = &events[subjects[k].0];
        let close = |j: &usize| {
            let e = &events[subjects[*j].0];
            same_instant(&e.time, &at.time) && e.host == at.host
        };
        // A report is a handful of lines; a flood of one instant is not
        // searched end to end for every line of it.
        let before = (0..k).rev().take_while(|j| close(j)).take(NEIGHBOURS);
        let after = (k + 1..subjects.len())
            .take_while(|j| close(j))
            .take(NEIGHBOURS);
        if let Some(j) = before.chain(after).find(|&j| specific(&subjects[j])) {
            subjects[k].1 = subjects[j].1.clone();
        }
    }
}

/// Lines counted under a pod join the count of that pod's container when
/// the detector counts exactly one container of the pod: kubelet's
/// `KillPodSandbox` error names only the pod, yet it is one more failure
/// to stop the container that is stuck.
fn fold_pods_into_containers(per_entity: &mut BTreeMap<Entity, Vec<usize>>, graph: &EntityGraph) {
    // The counted containers of each group: one pass, not one per pod.
    let mut containers: HashMap<usize, Vec<&Entity>> = HashMap::new();
    for e in per_entity.keys() {
        if let (Entity::Container(_), Some(group)) = (e, graph.group(e)) {
            containers.entry(group).or_default().push(e);
        }
    }
    let moves: Vec<(Entity, Entity)> = per_entity
        .keys()
        .filter(|e| !matches!(e, Entity::Container(_) | Entity::Node(_)))
        .filter_map(|pod| match containers.get(&graph.group(pod)?)?.as_slice() {
            [only] => Some((pod.clone(), (*only).clone())),
            _ => None,
        })
        .collect();
    for (pod, container) in moves {
        let moved = per_entity.remove(&pod).unwrap_or_default();
        let into = per_entity.entry(container).or_default();
        into.extend(moved);
        // Event indices follow time order.
        into.sort_unstable();
    }
}

/// The `namespace/name` pod of each entity group that has exactly one.
struct PodIndex<'g> {
    graph: &'g EntityGraph,
    pod_of_group: HashMap<usize, Entity>,
}

impl<'g> PodIndex<'g> {
    fn new(graph: &'g EntityGraph) -> PodIndex<'g> {
        let pod_of_group = graph
            .groups()
            .into_iter()
            .filter_map(|(group, members)| {
                let mut pods = members.into_iter().filter(|e| matches!(e, Entity::Pod(_)));
                match (pods.next(), pods.next()) {
                    (Some(only), None) => Some((group, only.clone())),
                    _ => None,
                }
            })
            .collect();
        PodIndex {
            graph,
            pod_of_group,
        }
    }

    fn pod_of(&self, e: &Entity) -> Option<&Entity> {
        self.pod_of_group.get(&self.graph.group(e)?)
    }
}

/// How long a failure must stop before it counts as over: six windows, and
/// at least an hour. Shorter pauses are the same failure coming back.
fn recur_gap_s(window_s: i64) -> i64 {
    window_s.saturating_mul(6).max(3600)
}

/// How long a failure must keep coming back to reach one level more than
/// its densest window.
pub const LASTING_S: i64 = 3600;

/// Splits time-ordered events where their axis changes, or where two are
/// more than `gap_s` apart. Events placed by their line alone have no gaps
/// to measure: one input's are one burst.
fn bursts<'i>(indices: &'i [usize], events: &[Event], gap_s: i64) -> Vec<&'i [usize]> {
    let together = |a: usize, b: usize| {
        let (a, b) = (&events[a].time, &events[b].time);
        a.axis() == b.axis() && b.seconds_since(a).is_none_or(|s| s <= gap_s)
    };
    indices.chunk_by(|&a, &b| together(a, b)).collect()
}

/// The highest level whose `min_count` occurrences fall within one window;
/// or, for a failure that has kept coming back for [`LASTING_S`], one level
/// more when its total count reaches that level's `min_count`.
fn grade(detector: &Detector, burst: &[usize], events: &[Event]) -> Option<usize> {
    let times = occurrences(burst, events);
    let windowed = densest(detector, &times);
    let lasting = match (times.first(), times.last()) {
        (Some(first), Some(last)) => last
            .0
            .seconds_since(&first.0)
            .is_some_and(|s| s >= LASTING_S),
        _ => false,
    };
    if !lasting {
        return windowed;
    }
    let total: u64 = times.iter().map(|o| o.1).sum();
    let next = windowed.map_or(0, |l| l + 1);
    match detector.levels.get(next) {
        Some(level) if total >= level.min_count as u64 => Some(next),
        _ => windowed,
    }
}

/// The highest level whose `min_count` of the weighted `times` fall
/// within one window.
fn densest(detector: &Detector, times: &[(EventTime, u64)]) -> Option<usize> {
    let mut most = 0u64;
    let mut within = 0u64;
    let mut start = 0usize;
    for end in 0..times.len() {
        within += times[end].1;
        // Unmeasurable gaps (line places) are within the window.
        while times[end]
            .0
            .seconds_since(&times[start].0)
            .is_some_and(|s| s > detector.window_s)
        {
            within -= times[start].1;
            start += 1;
        }
        most = most.max(within);
    }
    detector
        .levels
        .iter()
        .rposition(|l| most >= l.min_count as u64)
}

/// When each occurrence began, and how many it stands for. Programs log
/// one failure as several lines in the same instant (kubelet's failed
/// stop, the kernel's OOM report), so lines less than [`SAME_RETRY_MS`]
/// after the previous one are the same occurrence — unless the same
/// pattern matches again: two hung tasks in one second are two. An
/// occurrence weighs as its heaviest line ([`Event::weight`]: an event the
/// API server folded twelve repeats into is twelve).
fn occurrences(burst: &[usize], events: &[Event]) -> Vec<(EventTime, u64)> {
    let mut starts: Vec<(EventTime, u64)> = Vec::new();
    let mut patterns_in_current: Vec<usize> = Vec::new();
    let mut previous: Option<&Event> = None;
    for &i in burst {
        let e = &events[i];
        let continues = previous.is_some_and(|p| {
            same_instant(&e.time, &p.time) && !patterns_in_current.contains(&e.pattern())
        });
        match starts.last_mut() {
            Some(last) if continues => last.1 = last.1.max(u64::from(e.weight)),
            _ => {
                starts.push((e.time, u64::from(e.weight.max(1))));
                patterns_in_current.clear();
            }
        }
        patterns_in_current.push(e.pattern());
        previous = Some(e);
    }
    starts
}

/// Lines less than this far apart are one retry (kubelet logs a failed stop
/// as three lines in the same millisecond).
const SAME_RETRY_MS: i64 = 1000;

/// Without a clock, lines at most this many apart in one input may be one
/// report (the kernel's OOM report prints its memory and task tables
/// between its first and last line).
const SAME_REPORT_LINES: i64 = 200;

/// Whether two events may be lines of one occurrence: less than
/// [`SAME_RETRY_MS`] apart, or, placed by their line alone, less than
/// [`SAME_REPORT_LINES`] apart in the same input.
fn same_instant(a: &EventTime, b: &EventTime) -> bool {
    match (a.millis_since(b), a.lines_since(b)) {
        (Some(ms), _) => ms.abs() < SAME_RETRY_MS,
        (None, Some(lines)) => lines.abs() < SAME_REPORT_LINES,
        (None, None) => false,
    }
}

/// The median time between retries, in seconds to one decimal.
fn median_gap(burst: &[usize], events: &[Event]) -> Option<f64> {
    let mut gaps: Vec<i64> = burst
        .windows(2)
        .filter_map(|w| events[w[1]].time.millis_since(&events[w[0]].time))
        .filter(|&ms| ms >= SAME_RETRY_MS)
        .collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    let mid = gaps.len() / 2;
    let median_ms = if gaps.len() % 2 == 0 {
        (gaps[mid - 1] + gaps[mid]) as f64 / 2.0
    } else {
        gaps[mid] as f64
    };
    Some((median_ms / 100.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    /// Every matched line is held as an event until the report: 400 MiB
    /// of lines that all match are two million of them (issue 10's 300 MiB
    /// budget for that input needs events this small).
    #[test]
    fn an_event_stays_within_88_bytes() {
        assert!(std::mem::size_of::<super::Event>() <= 88);
        assert!(std::mem::size_of::<crate::scan::RawEvent>() <= 96);
    }
}
