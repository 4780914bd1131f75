//! From pipeline results to the report model: ranking, wording, evidence.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, SecondsFormat};

use super::{
    Advice, BundleSummary, ComponentVersion, EventRecord, Evidence, FindingReport, Incident,
    InputFailure, InputSummary, Nearby, RelativeTime, Report, Stats, TimelineEntry,
};
use crate::correlate::Cluster;
use crate::detect::{Event, Finding};
use crate::entity::Entity;
use crate::grammar::{self, Step};
use crate::matcher::RuleSet;
use crate::rank::{self, Weighing};
use crate::scan::{Texts, VersionFact};
use crate::time::EventTime;

/// Evidence lines shown per finding: the first few and the last few.
const EVIDENCE_HEAD: usize = 3;
const EVIDENCE_TAIL: usize = 2;

/// Everything the pipeline learned, ready to be reported.
#[derive(Debug)]
pub struct Analysis {
    pub inputs: Vec<InputSummary>,
    pub errors: Vec<InputFailure>,
    pub skipped: Vec<InputFailure>,
    pub bundles: Vec<BundleSummary>,
    pub ignored: usize,
    pub versions: Vec<VersionFact>,
    pub event_records: Vec<EventRecord>,
    pub events: Vec<Event>,
    /// Each input's matched lines, where [`Event::text`] points.
    pub texts: Vec<Texts>,
    pub findings: Vec<Finding>,
    pub clusters: Vec<Cluster>,
    pub stats: Stats,
}

pub fn build(rules: &RuleSet, analysis: Analysis) -> Report {
    let mut folder = super::fold::Folder::default();
    for cluster in &analysis.clusters {
        let (incident, span) = incident(rules, &analysis, cluster);
        folder.push(incident, span);
    }
    let mut incidents = folder.finish();
    incidents.sort_by(|(a, _), (b, _)| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.first_seen.cmp(&b.first_seen))
            .then_with(|| a.title.cmp(&b.title))
    });
    for (i, (incident, _)) in incidents.iter_mut().enumerate() {
        incident.rank = i + 1;
    }
    // Related incidents are a node's and a pod's that meet: only those
    // pairs are compared (a stop loop on 200k containers is 200k pod
    // incidents and a handful of node ones, not 200k squared pairs).
    let (nodes, pods): (Vec<usize>, Vec<usize>) =
        (0..incidents.len()).partition(|&i| incidents[i].1.node);
    let mut related: Vec<Vec<usize>> = vec![Vec::new(); incidents.len()];
    for &n in &nodes {
        for &p in &pods {
            let ((a, span), (b, other)) = (&incidents[n], &incidents[p]);
            if span.meets(other, &a.hosts, &b.hosts) {
                related[n].push(b.rank);
                related[p].push(a.rank);
            }
        }
    }
    for ranks in &mut related {
        ranks.sort_unstable();
    }
    let incidents = incidents
        .into_iter()
        .zip(related)
        .map(|((mut incident, _), related)| {
            incident.related = related;
            incident
        })
        .collect();
    let notes = time_notes(&analysis.stats);
    let conditions = super::conditions::periods(
        super::conditions::from_events(rules, &analysis.events, |e| {
            analysis.texts[e.input()].get(e.text)
        }),
        &super::conditions::finding_spans(rules, &analysis.events, &analysis.findings),
    );
    Report {
        listings: Vec::new(),
        notes,
        conditions,
        schema_version: super::SCHEMA_VERSION,
        inputs: analysis.inputs,
        errors: analysis.errors,
        skipped: analysis.skipped,
        bundles: analysis.bundles,
        ignored: analysis.ignored,
        incidents,
        fleet: Vec::new(),
        host_versions: host_versions(rules, &analysis.versions),
        events: analysis.event_records,
        stats: analysis.stats,
        redacted: false,
    }
}

/// Every version fact, named by its component, once.
fn host_versions(rules: &RuleSet, facts: &[VersionFact]) -> Vec<super::HostVersion> {
    let named: BTreeSet<super::HostVersion> = facts
        .iter()
        .filter_map(|f| {
            Some(super::HostVersion {
                host: f.host.clone(),
                component: rules.grammar.patterns[f.pattern].component.clone()?,
                version: f.version.clone(),
            })
        })
        .collect();
    named.into_iter().collect()
}

/// What a reader must know when some events have no wall-clock time.
fn time_notes(stats: &Stats) -> Vec<String> {
    if stats.untimed == 0 {
        return Vec::new();
    }
    vec![format!(
        "{} event{} had no wall-clock time: each is analyzed on its own input's clock \
         (seconds after boot or after its process started, or only its line) and shown so; \
         --boot-time RFC3339 places kernel times since boot",
        stats.untimed,
        if stats.untimed == 1 { "" } else { "s" }
    )]
}

/// When an incident happened, and whether it is about the node as a whole.
pub(super) struct Span {
    pub first: EventTime,
    pub last: EventTime,
    pub node: bool,
}

impl Span {
    /// Whether two incidents overlap in time (on one axis) on a common host
    /// (or a host unknown to one of them).
    fn meets(&self, other: &Span, hosts: &[String], other_hosts: &[String]) -> bool {
        let overlap = self.first.axis() == other.first.axis()
            && self.first <= other.last
            && other.first <= self.last;
        let common = hosts.is_empty()
            || other_hosts.is_empty()
            || hosts.iter().any(|h| other_hosts.contains(h));
        overlap && common
    }
}

fn incident(rules: &RuleSet, analysis: &Analysis, cluster: &Cluster) -> (Incident, Span) {
    let grammar = &rules.grammar;
    let events = &analysis.events;
    let findings: Vec<&Finding> = cluster
        .findings
        .iter()
        .map(|&i| &analysis.findings[i])
        .collect();
    // The leading finding names the incident: worst severity, then most events.
    let lead = findings
        .iter()
        .max_by_key(|f| {
            (
                f.severity,
                f.events.len(),
                std::cmp::Reverse(f.first(events).time),
            )
        })
        .copied()
        .unwrap_or(findings[0]);
    let lead_detector = &grammar.detectors[lead.detector];

    let incident_events: BTreeSet<usize> = findings
        .iter()
        .flat_map(|f| f.events.iter().copied())
        .collect();
    let first = findings
        .iter()
        .map(|f| f.first(events).time)
        .min()
        .unwrap_or(lead.first(events).time);
    let last = findings
        .iter()
        .map(|f| f.last(events).time)
        .max()
        .unwrap_or(lead.last(events).time);
    let sources: BTreeSet<&str> = incident_events
        .iter()
        .map(|&e| grammar.patterns[events[e].pattern()].source.as_str())
        .collect();
    let hosts: BTreeSet<String> = incident_events
        .iter()
        .filter_map(|&e| events[e].host.as_deref().map(String::from))
        .collect();
    let containers: BTreeSet<String> = incident_events
        .iter()
        .flat_map(|&e| events[e].entities.iter())
        .filter_map(|e| match e {
            Entity::Container(id) => Some(id.to_string()),
            _ => None,
        })
        .collect();
    let weighing = Weighing {
        worst: findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(lead.severity),
        sources: sources.len(),
        events: incident_events.len(),
        minutes: last.seconds_since(&first).unwrap_or(0) as f64 / 60.0,
    };

    // Detectors in the order of their findings, lead first, each once.
    let mut detectors: Vec<usize> = vec![lead.detector];
    for f in &findings {
        if !detectors.contains(&f.detector) {
            detectors.push(f.detector);
        }
    }
    // The chain whose story the incident's kinds tell (a cause and an
    // effect); the one with most kinds present when several do.
    let chain = grammar
        .chains
        .iter()
        .filter(|c| c.told_by(&detectors))
        .max_by_key(|c| {
            let present = c.detectors.iter().filter(|d| detectors.contains(d)).count();
            (present, std::cmp::Reverse(c.name.as_str()))
        });
    let explanation = chain
        .map(|c| c.story.as_str())
        .into_iter()
        .chain(
            detectors
                .iter()
                .map(|&d| grammar.detectors[d].explanation.as_str()),
        )
        .collect::<Vec<_>>()
        .join("\n\n");
    let (versions, version_steps) = version_notes(rules, analysis, &detectors, &hosts);
    let mut advice: Vec<Advice> = version_steps
        .into_iter()
        .map(|s| Advice::from_step(&Step::plain(s)))
        .collect();
    let mut references: Vec<String> = Vec::new();
    for &d in &detectors {
        for step in &grammar.detectors[d].remediation {
            if !advice.iter().any(|a| a.step == step.text) {
                advice.push(Advice::from_step(step));
            }
        }
        for r in &grammar.detectors[d].references {
            if !references.contains(r) {
                references.push(r.clone());
            }
        }
    }
    let steps: Vec<String> = advice.iter().map(Advice::line).collect();
    // An image's incident lists the pods its lines name (no entity group
    // holds them: pods sharing an image stay apart).
    let pods: Vec<String> = match (&lead.entity, cluster.pods.is_empty()) {
        (Entity::Image(_), true) => incident_events
            .iter()
            .flat_map(|&e| events[e].entities.iter())
            .filter_map(|e| match e {
                Entity::Pod(p) => Some(p.to_string()),
                _ => None,
            })
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect(),
        _ => cluster.pods.clone(),
    };
    let subject = if let (Entity::Image(_), false) = (&lead.entity, pods.is_empty()) {
        format!("{}; pods {}", describe(&lead.entity), pods.join(", "))
    } else if cluster.pods.is_empty() {
        describe(&lead.entity)
    } else {
        format!("pod {}", cluster.pods.join(", "))
    };
    let mut timeline: Vec<(EventTime, TimelineEntry)> = findings
        .iter()
        .flat_map(|f| timeline_entries(rules, events, f))
        .collect();
    timeline.sort_by_key(|(t, _)| *t);

    let span = Span {
        first,
        last,
        node: findings.iter().all(|f| matches!(f.entity, Entity::Node(_))),
    };
    let incident = Incident {
        rank: 0,
        related: Vec::new(),
        suppressed: None,
        kind: lead_detector.kind.clone(),
        title: format!(
            "{} ({subject})",
            chain.map_or(lead_detector.title_at(lead.level), |c| c.title.as_str())
        ),
        chain: chain.map(|c| c.name.clone()),
        severity: rank::severity(weighing),
        score: rank::score(weighing),
        first_seen: when(first),
        last_seen: when(last),
        duration_s: last.seconds_since(&first).unwrap_or(0),
        first_relative: RelativeTime::of(first),
        last_relative: RelativeTime::of(last),
        nearby: cluster
            .nearby
            .iter()
            .map(|&i| {
                let f = &analysis.findings[i];
                Nearby {
                    kind: grammar.detectors[f.detector].kind.clone(),
                    subject: describe(&f.entity),
                    severity: f.severity,
                    first_seen: when(f.first(events).time),
                    last_seen: when(f.last(events).time),
                }
            })
            .collect(),
        hosts: hosts.into_iter().collect(),
        pods,
        containers: containers.into_iter().collect(),
        findings: findings
            .iter()
            .map(|f| finding_report(rules, analysis, f))
            .collect(),
        timeline: timeline.into_iter().map(|(_, entry)| entry).collect(),
        explanation,
        remediation: steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {s}", i + 1))
            .collect::<Vec<_>>()
            .join("\n"),
        remediation_steps: steps,
        remediation_advice: advice,
        versions,
        references,
        folded: None,
    };
    (incident, span)
}

fn finding_report(rules: &RuleSet, analysis: &Analysis, f: &Finding) -> FindingReport {
    let events = &analysis.events;
    let mut per_source: BTreeMap<&str, usize> = BTreeMap::new();
    for &e in &f.events {
        *per_source
            .entry(rules.grammar.patterns[events[e].pattern()].source.as_str())
            .or_default() += 1;
    }
    let source = per_source
        .iter()
        .max_by_key(|(name, n)| (**n, std::cmp::Reverse(**name)))
        .map(|(name, _)| name.to_string())
        .unwrap_or_default();
    let picked: BTreeSet<usize> = f
        .events
        .iter()
        .take(EVIDENCE_HEAD)
        .chain(f.events.iter().rev().take(EVIDENCE_TAIL))
        .copied()
        .collect();
    let mut picked: Vec<usize> = picked.into_iter().collect();
    picked.sort_by_key(|&e| (events[e].time, e));
    FindingReport {
        kind: rules.grammar.detectors[f.detector].kind.clone(),
        source,
        sources: per_source.keys().map(|s| s.to_string()).collect(),
        severity: f.severity,
        subject: describe(&f.entity),
        count: f.occurrences,
        lines: f.events.len(),
        first_seen: when(f.first(events).time),
        last_seen: when(f.last(events).time),
        first_relative: RelativeTime::of(f.first(events).time),
        last_relative: RelativeTime::of(f.last(events).time),
        period_s: f.period_s,
        evidence: picked
            .into_iter()
            .map(|e| Evidence {
                file: analysis.inputs[events[e].input()].path.clone(),
                line: events[e].line,
                ts: when(events[e].time),
                relative: RelativeTime::of(events[e].time),
                level: events[e].level,
                text: analysis.texts[events[e].input()].get(events[e].text),
                context: events[e].context.to_vec(),
            })
            .collect(),
    }
}

/// The versions the logs state for the components whose version decides a
/// detector's fix, on the incident's hosts; and, first among the steps,
/// whether each one has the fix.
fn version_notes(
    rules: &RuleSet,
    analysis: &Analysis,
    detectors: &[usize],
    hosts: &BTreeSet<String>,
) -> (Vec<ComponentVersion>, Vec<String>) {
    let grammar = &rules.grammar;
    let mut seen: Vec<ComponentVersion> = Vec::new();
    let mut steps = Vec::new();
    for &d in detectors {
        let Some(fixed) = &grammar.detectors[d].fixed_in else {
            continue;
        };
        for fact in &analysis.versions {
            let component = grammar.patterns[fact.pattern].component.as_deref();
            let on_host = hosts.is_empty() || fact.host.as_ref().is_none_or(|h| hosts.contains(h));
            if component != Some(fixed.component.as_str()) || !on_host {
                continue;
            }
            let where_ = fact
                .host
                .as_deref()
                .map(|h| format!(" on {h}"))
                .unwrap_or_default();
            steps.push(if grammar::older(&fact.version, &fixed.version) {
                format!(
                    "The logs show {} {}{where_}, older than {}: this node has the bug that {} fixes; upgrading is the lasting fix.",
                    fixed.component, fact.version, fixed.version, fixed.fix
                )
            } else {
                format!(
                    "The logs show {} {}{where_}, which already has {} ({}): look for another cause first.",
                    fixed.component, fact.version, fixed.fix, fixed.version
                )
            });
            let version = ComponentVersion {
                component: fixed.component.clone(),
                version: fact.version.clone(),
                host: fact.host.clone(),
                fixed_in: fixed.version.clone(),
                has_fix: !grammar::older(&fact.version, &fixed.version),
            };
            if !seen.contains(&version) {
                seen.push(version);
            }
        }
    }
    steps.dedup();
    (seen, steps)
}

/// A finding's start and (when it has more than one line) its end.
fn timeline_entries(
    rules: &RuleSet,
    events: &[Event],
    f: &Finding,
) -> Vec<(EventTime, TimelineEntry)> {
    let kind = &rules.grammar.detectors[f.detector].kind;
    let who = describe(&f.entity);
    let entry = |t: EventTime, text: String| {
        (
            t,
            TimelineEntry {
                ts: when(t),
                relative: RelativeTime::of(t),
                kind: kind.clone(),
                text,
            },
        )
    };
    let mut out = vec![entry(
        f.first(events).time,
        format!("first {kind} line for {who}"),
    )];
    if f.events.len() > 1 {
        let text = format!("last of {} {kind} lines for {who}", f.events.len());
        out.push(entry(f.last(events).time, text));
    }
    out
}

fn describe(e: &Entity) -> String {
    match e {
        Entity::Container(id) => format!("container {id}"),
        Entity::Pod(p) => format!("pod {p}"),
        Entity::PodName(p) => format!("pod {p}"),
        Entity::PodUid(u) => format!("pod uid {u}"),
        Entity::Node(n) => format!("node {n}"),
        Entity::Pid(p) => format!("process {p}"),
        Entity::Image(i) => format!("image {i}"),
    }
}

/// An event's time as every report prints it: RFC 3339 for a wall-clock
/// time, else its place on its input's own clock (`+8123.0 s after boot`,
/// `line 412, time unknown`).
pub fn when(t: EventTime) -> String {
    match t {
        EventTime::Wall(t) => rfc3339(t),
        other => other.relative_text().unwrap_or_default(),
    }
}

/// Times as every report prints them: RFC 3339 with the input's offset.
pub fn rfc3339(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}
