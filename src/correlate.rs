//! Correlation: findings about the same pod (or, without a pod, the same
//! container) become one incident while their failure lasts. "The same
//! pod" is decided by the entity graph, so a dockerd finding on a sandbox
//! ID and a kubelet finding on a container ID of that pod land together.
//!
//! A pod's failure lasts until the logs show it resolved: a line of a
//! pattern marked `resolves` in the grammar (a successful stop, a new
//! sandbox or container, a removal) about an entity of the pod, between
//! two findings. Findings with no such line between them are one incident
//! however far apart (kubelet's failed stops and dockerd's stop loop on the
//! same stuck pod, 13 hours apart). Without a pod (a container no line
//! places, a node), findings that overlap or follow within the merge window
//! are one incident. Findings on different time axes (wall clock, one
//! input's time since boot, one input's lines) are never joined: their
//! times cannot be compared.
//!
//! Node-wide findings (a hung kernel task, PLEG) name no pod. One joins a
//! pod's incident, cause first, only when the grammar's chains say its kind
//! causes a kind of that incident *and* an entity ties it to the pod: an
//! entity of its lines (a PID, a cgroup, a container) in the pod's group,
//! or one of the pod's container IDs in the report the kernel printed with
//! it. A chained node finding on the same host at the same time with no
//! such tie is listed as nearby, and changes nothing. A finding joins at
//! most one incident.

use std::collections::{BTreeMap, HashMap};

use crate::detect::{Event, Finding};
use crate::entity::{Entity, EntityGraph};
use crate::grammar::Grammar;
use crate::time::EventTime;

/// Findings that tell one story, before ranking.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Indices into the findings, ordered by first event.
    pub findings: Vec<usize>,
    /// `namespace/name` of the pods the findings' entities belong to.
    pub pods: Vec<String>,
    /// Node-wide findings on the same host at the same time, chained to
    /// this cluster's kinds, that no entity ties to it.
    pub nearby: Vec<usize>,
    /// The entity group the cluster is about, if any.
    group: Option<usize>,
}

/// When the logs show a failure on an entity group resolved: the times of
/// the `resolves` lines about each group, in order. Only the times are kept
/// (a node writes such lines for every container that stops normally).
#[derive(Debug, Default)]
pub struct Resolutions {
    by_group: HashMap<usize, Vec<EventTime>>,
}

impl Resolutions {
    /// From the resolution lines of every input, each placed in time on its
    /// input's axis (`times`, in any order) with its resolved entities.
    pub fn new<'r>(
        resolutions: impl Iterator<Item = (EventTime, &'r [Entity])>,
        graph: &EntityGraph,
    ) -> Resolutions {
        let mut by_group: HashMap<usize, Vec<EventTime>> = HashMap::new();
        for (time, entities) in resolutions {
            let mut groups: Vec<usize> = entities.iter().filter_map(|x| graph.group(x)).collect();
            groups.sort_unstable();
            groups.dedup();
            for g in groups {
                by_group.entry(g).or_default().push(time);
            }
        }
        for times in by_group.values_mut() {
            times.sort_unstable();
        }
        Resolutions { by_group }
    }

    /// Whether a line resolved `group`'s failure after `after` and no later
    /// than `until` (both on one axis).
    fn between(&self, group: usize, after: EventTime, until: EventTime) -> bool {
        self.by_group.get(&group).is_some_and(|times| {
            let start = times.partition_point(|t| *t <= after);
            times.get(start).is_some_and(|t| *t <= until)
        })
    }
}

/// Groups findings into clusters; `merge_window_s` is how far apart in time
/// two findings may be and still be one incident when no pod's failure
/// holds them together.
pub fn correlate(
    grammar: &Grammar,
    findings: &[Finding],
    events: &[Event],
    graph: &EntityGraph,
    resolutions: &Resolutions,
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
        let group = match key {
            GroupKey::Group(g) => Some(g),
            GroupKey::Alone(_) | GroupKey::Node(..) => None,
        };
        let pods: Vec<String> = group
            .map(|g| {
                groups[&g]
                    .iter()
                    .filter_map(|e| match e {
                        Entity::Pod(p) => Some(p.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let new_cluster = |findings: Vec<usize>| Cluster {
            findings,
            pods: pods.clone(),
            nearby: Vec::new(),
            group,
        };
        members.sort_by_key(|&i| (findings[i].first(events).time, i));
        let mut current: Vec<usize> = Vec::new();
        let mut current_end: Option<EventTime> = None;
        for i in members {
            let f = &findings[i];
            let starts = f.first(events).time;
            let joins = current_end.is_some_and(|end| {
                let close = starts
                    .seconds_since(&end)
                    .is_some_and(|s| s <= merge_window_s)
                    // Placed by their lines alone, one input's findings are together.
                    || starts.lines_since(&end).is_some();
                let unresolved = starts.axis() == end.axis()
                    && !pods.is_empty()
                    && group.is_some_and(|g| !resolutions.between(g, end, starts));
                close || unresolved
            });
            if !joins && !current.is_empty() {
                clusters.push(new_cluster(std::mem::take(&mut current)));
            }
            let ends = f.last(events).time;
            current_end = Some(current_end.filter(|&e| joins && e > ends).unwrap_or(ends));
            current.push(i);
        }
        clusters.push(new_cluster(current));
    }
    attach_node_findings(grammar, findings, events, graph, merge_window_s, clusters)
}

/// Moves each node-wide finding into the one pod incident it is chained and
/// tied to (same host, overlapping within the window), or lists it as
/// nearby in those it is only chained to; the node incidents left empty
/// disappear.
fn attach_node_findings(
    grammar: &Grammar,
    findings: &[Finding],
    events: &[Event],
    graph: &EntityGraph,
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
    let mut nearby: Vec<(usize, usize)> = Vec::new(); // (pod cluster, finding)
    for (n, node) in clusters.iter().enumerate() {
        for &f in &node.findings {
            let Entity::Node(host) = &findings[f].entity else {
                continue;
            };
            let (start, end) = (
                findings[f].first(events).time,
                findings[f].last(events).time,
            );
            let mut tied_to: Option<usize> = None;
            for (p, pod) in clusters.iter().enumerate() {
                let chained = pod.findings.iter().any(|&g| {
                    !is_node(&findings[g])
                        && grammar.chained(findings[f].detector, findings[g].detector)
                });
                let Some((pod_start, pod_end)) = span(pod) else {
                    continue;
                };
                let near = start.seconds_since(&pod_end).is_some_and(|s| s <= window_s)
                    && pod_start.seconds_since(&end).is_some_and(|s| s <= window_s);
                let pod_hosts = hosts(pod);
                let same_host = pod_hosts.is_empty() || pod_hosts.contains(&&**host);
                if !(chained && near && same_host) {
                    continue;
                }
                if tied_to.is_none() && tied(&findings[f], pod, findings, events, graph) {
                    tied_to = Some(p);
                } else {
                    nearby.push((p, f));
                }
            }
            if let Some(p) = tied_to {
                moves.push((n, f, p));
            }
        }
    }
    for &(n, f, p) in &moves {
        clusters[n].findings.retain(|&x| x != f);
        clusters[p].findings.push(f);
    }
    for (p, f) in nearby {
        if !clusters[p].nearby.contains(&f) && !moves.iter().any(|&(_, m, _)| m == f) {
            clusters[p].nearby.push(f);
        }
    }
    for c in &mut clusters {
        c.findings
            .sort_by_key(|&i| (findings[i].first(events).time, i));
    }
    clusters.retain(|c| !c.findings.is_empty());
    clusters
}

/// Whether a node finding is about the pod of `cluster`: one of its lines
/// names an entity of the pod's group (a PID or cgroup the graph placed
/// there), or the report printed with it names one of the pod's
/// containers.
fn tied(
    node: &Finding,
    cluster: &Cluster,
    findings: &[Finding],
    events: &[Event],
    graph: &EntityGraph,
) -> bool {
    let Some(group) = cluster.group else {
        return false;
    };
    let containers: Vec<&str> = cluster
        .findings
        .iter()
        .flat_map(|&i| findings[i].events.iter())
        .flat_map(|&e| events[e].entities.iter())
        .filter_map(|x| match x {
            // A short ID of 12 is what `docker ps` prints; less is ambiguous.
            Entity::Container(id) if id.len() >= 12 => Some(&id[..12]),
            _ => None,
        })
        .collect();
    node.events.iter().map(|&e| &events[e]).any(|e| {
        e.entities.iter().any(|x| graph.group(x) == Some(group))
            || e.context
                .iter()
                .any(|line| containers.iter().any(|id| line.contains(id)))
    })
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKey {
    Group(usize),
    Alone(Entity),
    /// A node, and the first detector of the chains a finding's kind is in.
    Node(Entity, usize),
}
