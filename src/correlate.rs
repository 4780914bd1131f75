//! Correlation: findings about the same pod (or, without a pod, the same
//! container) that overlap in time or follow each other within the merge
//! window become one incident. "The same pod" is decided by the entity
//! graph, so a dockerd finding on a sandbox ID and a kubelet finding on a
//! container ID of that pod land together.
//!
//! Node-wide findings (a hung kernel task, PLEG) name no pod. When the
//! grammar's chains say such a finding causes a kind found in a pod's
//! incident on the same host in the same window, it joins that incident:
//! the incident then tells the whole story, cause first.

use std::collections::BTreeMap;

use crate::detect::{Event, Finding};
use crate::entity::{Entity, EntityGraph};
use crate::grammar::Grammar;

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
    grammar: &Grammar,
    findings: &[Finding],
    events: &[Event],
    graph: &EntityGraph,
    merge_window_s: i64,
) -> Vec<Cluster> {
    // Key: the entity group, or the finding's own entity when no line linked it.
    let mut by_group: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let key = match (graph.group(&f.entity), &f.entity) {
            (Some(g), _) => GroupKey::Group(g),
            // A node's findings share an incident only when they are of one
            // kind or chained: a read-only disk and a kmem leak on the same
            // node at the same hour are two stories.
            (None, Entity::Node(_)) => {
                GroupKey::Node(f.entity.clone(), grammar.chain_root(f.detector))
            }
            (None, _) => GroupKey::Alone(f.entity.clone()),
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
            GroupKey::Alone(_) | GroupKey::Node(..) => Vec::new(),
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
    attach_node_findings(grammar, findings, events, merge_window_s, clusters)
}

/// Moves each node-wide finding into the pod incidents it is chained to
/// (same host, overlapping within the window); the node incidents left empty
/// disappear.
fn attach_node_findings(
    grammar: &Grammar,
    findings: &[Finding],
    events: &[Event],
    window_s: i64,
    mut clusters: Vec<Cluster>,
) -> Vec<Cluster> {
    let is_node = |f: &Finding| matches!(f.entity, Entity::Node(_));
    let span = |c: &Cluster| {
        let first = c
            .findings
            .iter()
            .map(|&i| findings[i].first(events).time)
            .min();
        let last = c
            .findings
            .iter()
            .map(|&i| findings[i].last(events).time)
            .max();
        first.zip(last)
    };
    let hosts = |c: &Cluster| -> Vec<&str> {
        c.findings
            .iter()
            .flat_map(|&i| {
                findings[i]
                    .events
                    .iter()
                    .filter_map(|&e| events[e].host.as_deref())
            })
            .collect()
    };
    let mut moves: Vec<(usize, usize, usize)> = Vec::new(); // (node cluster, finding, pod cluster)
    for (n, node) in clusters.iter().enumerate() {
        for &f in &node.findings {
            let Entity::Node(host) = &findings[f].entity else {
                continue;
            };
            let (start, end) = (
                findings[f].first(events).time,
                findings[f].last(events).time,
            );
            for (p, pod) in clusters.iter().enumerate() {
                let chained = pod.findings.iter().any(|&g| {
                    !is_node(&findings[g])
                        && grammar.chained(findings[f].detector, findings[g].detector)
                });
                let Some((pod_start, pod_end)) = span(pod) else {
                    continue;
                };
                let near = (start - pod_end).num_seconds() <= window_s
                    && (pod_start - end).num_seconds() <= window_s;
                let pod_hosts = hosts(pod);
                let same_host = pod_hosts.is_empty() || pod_hosts.contains(&host.as_str());
                if chained && near && same_host {
                    moves.push((n, f, p));
                }
            }
        }
    }
    for &(n, f, p) in &moves {
        clusters[n].findings.retain(|&x| x != f);
        if !clusters[p].findings.contains(&f) {
            clusters[p].findings.push(f);
        }
    }
    for c in &mut clusters {
        c.findings
            .sort_by_key(|&i| (findings[i].first(events).time, i));
    }
    clusters.retain(|c| !c.findings.is_empty());
    clusters
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKey {
    Group(usize),
    Alone(Entity),
    /// A node, and the first detector of the chains a finding's kind is in.
    Node(Entity, usize),
}
