//! Correlation: findings about the same pod (or, without a pod, the same
//! container) that overlap in time or follow each other within the merge
//! window become one incident. "The same pod" is decided by the entity
//! graph, so a dockerd finding on a sandbox ID and a kubelet finding on a
//! container ID of that pod land together.

use std::collections::BTreeMap;

use crate::detect::{Event, Finding};
use crate::entity::{Entity, EntityGraph};

/// Findings that tell one story, before ranking.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Indices into the findings, ordered by first event.
    pub findings: Vec<usize>,
    /// `namespace/name` of the pods the findings' entities belong to.
    pub pods: Vec<String>,
}

/// Groups findings into clusters; `merge_window_s` is how far apart in time
/// two findings on one pod may be and still be one incident.
pub fn correlate(
    findings: &[Finding],
    events: &[Event],
    graph: &EntityGraph,
    merge_window_s: i64,
) -> Vec<Cluster> {
    // Key: the entity group, or the finding's own entity when no line linked it.
    let mut by_group: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let key = match graph.group(&f.entity) {
            Some(g) => GroupKey::Group(g),
            None => GroupKey::Alone(f.entity.clone()),
        };
        by_group.entry(key).or_default().push(i);
    }
    let groups = graph.groups();
    let mut clusters = Vec::new();
    for (key, mut members) in by_group {
        let pods = match key {
            GroupKey::Group(g) => groups[&g]
                .iter()
                .filter_map(|e| match e {
                    Entity::Pod(p) => Some(p.clone()),
                    _ => None,
                })
                .collect(),
            GroupKey::Alone(_) => Vec::new(),
        };
        members.sort_by_key(|&i| (findings[i].first(events).time, i));
        let mut current: Vec<usize> = Vec::new();
        let mut current_end = None;
        for i in members {
            let f = &findings[i];
            let starts = f.first(events).time;
            let joins = current_end.is_some_and(|end: chrono::DateTime<chrono::FixedOffset>| {
                (starts - end).num_seconds() <= merge_window_s
            });
            if !joins && !current.is_empty() {
                clusters.push(Cluster {
                    findings: std::mem::take(&mut current),
                    pods: pods.clone(),
                });
            }
            let ends = f.last(events).time;
            current_end = Some(current_end.filter(|&e| joins && e > ends).unwrap_or(ends));
            current.push(i);
        }
        clusters.push(Cluster {
            findings: current,
            pods,
        });
    }
    clusters
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKey {
    Group(usize),
    Alone(Entity),
}
