//! Detection: the events of a detector's patterns, grouped by the entity the
//! detector counts `per`, cut into bursts, and graded by the grammar's
//! `levels`. One burst that reaches a level is one [`Finding`].

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};

use crate::entity::{Entity, Role};

/// The node of records whose envelope names no host (raw component logs).
const UNKNOWN_HOST: &str = "unknown host";
use crate::grammar::Detector;
use crate::matcher::RuleSet;
use crate::severity::Severity;

/// A matched line with its instant and resolved entities.
#[derive(Clone, Debug)]
pub struct Event {
    pub pattern: usize,
    /// Index of the input it came from.
    pub input: usize,
    pub line: u64,
    pub time: DateTime<FixedOffset>,
    pub level: Option<crate::format::Level>,
    pub host: Option<String>,
    pub entities: Vec<Entity>,
    /// What the program wrote, without envelope.
    pub message: String,
    /// The whole line (or journal message), for evidence.
    pub text: String,
}

/// A detector's conclusion about one entity over one stretch of time.
#[derive(Clone, Debug)]
pub struct Finding {
    pub detector: usize,
    pub entity: Entity,
    pub severity: Severity,
    /// Indices into the event list, in time order.
    pub events: Vec<usize>,
    /// Median seconds between consecutive retries; `None` for one retry.
    pub period_s: Option<f64>,
    /// The level reached (an index into the detector's levels).
    pub level: usize,
}

impl Finding {
    pub fn first<'e>(&self, events: &'e [Event]) -> &'e Event {
        &events[self.events[0]]
    }

    pub fn last<'e>(&self, events: &'e [Event]) -> &'e Event {
        &events[self.events[self.events.len() - 1]]
    }
}

/// Runs every detector over `events` (which must be sorted by time).
pub fn detect(rules: &RuleSet, events: &[Event]) -> Vec<Finding> {
    let detectors = &rules.grammar.detectors;
    let mut findings = Vec::new();
    for (d, detector) in detectors.iter().enumerate() {
        let mut per_entity: BTreeMap<Entity, Vec<usize>> = BTreeMap::new();
        for (i, event) in events.iter().enumerate() {
            if !detector.patterns.contains(&event.pattern) {
                continue;
            }
            let subject = match detector.per {
                Role::Node => Some(Entity::Node(
                    event.host.clone().unwrap_or_else(|| UNKNOWN_HOST.into()),
                )),
                role => event
                    .entities
                    .iter()
                    .find(|e| e.value_for(role).is_some())
                    .cloned(),
            };
            if let Some(subject) = subject {
                per_entity.entry(subject).or_default().push(i);
            }
        }
        for (entity, indices) in per_entity {
            for burst in bursts(&indices, events, detector.window_s) {
                if let Some(level) = grade(detector, burst, events) {
                    findings.push(Finding {
                        detector: d,
                        entity: entity.clone(),
                        severity: detector.levels[level].severity,
                        level,
                        events: burst.to_vec(),
                        period_s: median_gap(burst, events),
                    });
                }
            }
        }
    }
    findings
}

/// Splits time-ordered events wherever two are more than `window_s` apart.
fn bursts<'i>(indices: &'i [usize], events: &[Event], window_s: i64) -> Vec<&'i [usize]> {
    let gap = |a: usize, b: usize| (events[b].time - events[a].time).num_seconds();
    indices.chunk_by(|&a, &b| gap(a, b) <= window_s).collect()
}

/// The highest level whose `min_count` events fall within one window.
fn grade(detector: &Detector, burst: &[usize], events: &[Event]) -> Option<usize> {
    let mut most = 0usize;
    let mut start = 0usize;
    for end in 0..burst.len() {
        while (events[burst[end]].time - events[burst[start]].time).num_seconds()
            > detector.window_s
        {
            start += 1;
        }
        most = most.max(end - start + 1);
    }
    detector.levels.iter().rposition(|l| most >= l.min_count)
}

/// Lines less than this far apart are one retry (kubelet logs a failed stop
/// as three lines in the same millisecond).
const SAME_RETRY_MS: i64 = 1000;

/// The median time between retries, in seconds to one decimal.
fn median_gap(burst: &[usize], events: &[Event]) -> Option<f64> {
    let mut gaps: Vec<i64> = burst
        .windows(2)
        .map(|w| (events[w[1]].time - events[w[0]].time).num_milliseconds())
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
