//! State findings into the report: each joins the incidents of the same
//! container, pod or chain the logs already tell (the seed-002 story: the
//! logs' failed shim cleanup and the listing's task directory of that
//! container are one incident), or becomes an incident of its own.
//!
//! Words (titles, explanations, steps, chain stories) come from the
//! grammar's detectors and chains (`grammars/state.toml`); this module only
//! decides what joins what. The report is re-ranked afterwards, `related`
//! ranks renumbered.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::compare::{self, LogLife, StateFinding};
use super::life::LogLifecycle;
use super::NodeState;
use crate::grammar::Grammar;
use crate::rank::{self, Weighing};
use crate::report::{rfc3339, Advice, Evidence, FindingReport, Incident, Report, TimelineEntry};
use crate::severity::Severity;

/// The `source` of a state finding (logs name their component).
pub const SOURCE: &str = "node-state";
/// Evidence lines kept per finding.
const EVIDENCE: usize = 6;

/// Reads `state` against `report` and adds what it shows.
pub fn attach(report: &mut Report, grammar: &Grammar, state: &NodeState, lifecycle: &LogLifecycle) {
    let listed: HashSet<&str> = state.listings.iter().map(|l| l.path.as_str()).collect();
    report.skipped.retain(|s| !listed.contains(s.path.as_str()));
    report.listings = state.listings.clone();
    if state.listings.is_empty() {
        return;
    }
    let logs = log_life(report, grammar);
    let (found, notes) = compare::findings(state, &logs, lifecycle);
    report.notes.extend(state.notes.iter().cloned());
    report.notes.extend(notes);
    let mut alone: BTreeMap<&'static str, Vec<StateFinding>> = BTreeMap::new();
    for f in found {
        let Some(d) = grammar.detectors.iter().position(|d| d.kind == f.kind) else {
            continue;
        };
        let targets = targets(report, grammar, d, &f);
        match targets.split_first() {
            Some((&first, rest)) => {
                for &other in rest.iter().rev() {
                    let absorbed = report.incidents.remove(other);
                    absorb(&mut report.incidents[first], absorbed);
                }
                let finding = finding_report(grammar, d, &f, state);
                let incident = &mut report.incidents[first];
                add(incident, &f, finding, state);
                retell(incident, grammar);
            }
            None => alone.entry(f.kind).or_default().push(f),
        }
    }
    for (_, group) in alone {
        let f = gather(group);
        if let Some(d) = grammar.detectors.iter().position(|d| d.kind == f.kind) {
            let incident = new_incident(grammar, d, &f, state);
            report.incidents.push(incident);
        }
    }
    report.stats.findings = report.incidents.iter().map(|i| i.findings.len()).sum();
    rerank(report);
}

/// What the logs say is dead: containers whose cleanup failed, and pods
/// whose volumes kubelet calls orphaned (the kinds chained to the state
/// kinds).
fn log_life(report: &Report, grammar: &Grammar) -> LogLife {
    let chained = |kind: &str, state_kind: &str| {
        let a = grammar.detectors.iter().position(|d| d.kind == kind);
        let b = grammar.detectors.iter().position(|d| d.kind == state_kind);
        a.zip(b).is_some_and(|(a, b)| grammar.chained(a, b))
    };
    let mut life = LogLife::default();
    for f in report.incidents.iter().flat_map(|i| &i.findings) {
        if let Some(id) = f.subject.strip_prefix("container ") {
            if chained(&f.kind, compare::RUNTIME_DIR_RESIDUE) && id.len() == 64 {
                life.dead_containers.insert(id.to_string());
            }
        }
        if let Some(uid) = f.subject.strip_prefix("pod uid ") {
            if chained(&f.kind, compare::POD_DIR_RESIDUE) {
                life.dead_pods.insert(uid.to_string());
            }
        }
    }
    life
}

/// Indices of the incidents `f` joins, ascending: those with a kind of the
/// same chain family, and (for a finding about one container or pod) about
/// that container or pod.
fn targets(report: &Report, grammar: &Grammar, d: usize, f: &StateFinding) -> Vec<usize> {
    let root = grammar.chain_root(d);
    let family = |kind: &str| {
        grammar
            .detectors
            .iter()
            .position(|x| x.kind == kind)
            .is_some_and(|k| k != d && grammar.chain_root(k) == root)
    };
    report
        .incidents
        .iter()
        .enumerate()
        .filter(|(_, i)| i.findings.iter().any(|x| family(&x.kind)))
        .filter(|(_, i)| {
            if f.subject == "node" {
                return true;
            }
            let same_container = f.containers.iter().any(|id| {
                i.containers
                    .iter()
                    .any(|c| c.starts_with(id.as_str()) || id.starts_with(c.as_str()))
            });
            let same_pod = f.pod_uids.iter().any(|uid| {
                i.findings.iter().any(|x| {
                    x.subject.contains(uid.as_str())
                        || x.evidence.iter().any(|e| e.text.contains(uid.as_str()))
                })
            }) || f.pods.iter().any(|p| i.pods.contains(p));
            same_container || same_pod
        })
        .map(|(n, _)| n)
        .collect()
}

/// Several findings of one kind about single containers or pods as one
/// node-wide finding.
fn gather(mut group: Vec<StateFinding>) -> StateFinding {
    if group.len() == 1 {
        return group.remove(0);
    }
    let mut all = group.remove(0);
    let first_subject = all.subject.clone();
    all.facts = all
        .facts
        .iter()
        .map(|s| format!("{}: {s}", short(&first_subject)))
        .collect();
    for f in group {
        all.count += f.count;
        all.containers.extend(f.containers);
        all.pod_uids.extend(f.pod_uids);
        all.pods.extend(f.pods);
        all.oldest = min_opt(all.oldest, f.oldest);
        all.newest = all.newest.max(f.newest);
        all.facts.extend(
            f.facts
                .iter()
                .map(|s| format!("{}: {s}", short(&f.subject))),
        );
        all.evidence.extend(f.evidence);
    }
    all.pods.sort();
    all.pods.dedup();
    all.subject = "node".into();
    all
}

fn short(id: &str) -> &str {
    id.get(..13).unwrap_or(id)
}

fn min_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The level a count reaches; a leak that is most of what is there is one
/// level worse (orphans: half of a controller's pod cgroups).
fn severity(grammar: &Grammar, d: usize, f: &StateFinding) -> (Severity, usize) {
    let levels = &grammar.detectors[d].levels;
    let level = levels
        .iter()
        .rposition(|l| l.min_count <= f.count)
        .unwrap_or(0);
    let mut severity = levels.get(level).map_or(Severity::Low, |l| l.severity);
    if f.kind == compare::CGROUP_ORPHANS && f.of > 0 && f.count * 2 >= f.of && f.count >= 20 {
        severity = severity.raised();
    }
    // Life known from the logs alone is weaker evidence: one level less.
    if f.weak {
        severity = match severity {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            _ => Severity::Low,
        };
    }
    (severity, level)
}

fn subject(f: &StateFinding) -> String {
    match f.kind {
        _ if f.subject == "node" => "node".to_string(),
        compare::POD_DIR_RESIDUE => format!("pod uid {}", f.subject),
        _ => format!("container {}", f.subject),
    }
}

fn finding_report(
    grammar: &Grammar,
    d: usize,
    f: &StateFinding,
    state: &NodeState,
) -> FindingReport {
    let (severity, _) = severity(grammar, d, f);
    let listing = f.evidence.first().map_or(0, |a| a.listing);
    let taken = state.taken_of(listing).map(rfc3339).unwrap_or_default();
    let first = f.oldest.map(rfc3339).unwrap_or_else(|| taken.clone());
    let last = if taken.is_empty() {
        f.newest.map(rfc3339).unwrap_or_default()
    } else {
        taken.clone()
    };
    let mut evidence: Vec<Evidence> = f
        .evidence
        .iter()
        .take(EVIDENCE)
        .map(|at| Evidence {
            file: state.listings[at.listing].path.clone(),
            line: at.line,
            ts: String::new(),
            relative: None,
            level: None,
            text: at.text.clone(),
            context: Vec::new(),
        })
        .collect();
    // The facts read off the listings travel with the first line.
    if let Some(e) = evidence.first_mut() {
        e.context = f.facts.clone();
    }
    FindingReport {
        kind: f.kind.to_string(),
        source: SOURCE.to_string(),
        sources: vec![SOURCE.to_string()],
        severity,
        subject: subject(f),
        count: f.count,
        lines: f.evidence.len(),
        first_seen: first,
        last_seen: last,
        first_relative: None,
        last_relative: None,
        period_s: None,
        evidence,
    }
}

/// Adds a finding and what it names to an incident.
fn add(incident: &mut Incident, f: &StateFinding, finding: FindingReport, state: &NodeState) {
    incident.timeline.push(TimelineEntry {
        ts: finding.first_seen.clone(),
        relative: None,
        kind: finding.kind.clone(),
        text: format!(
            "{} ({}): {}",
            finding.subject,
            state.listings[f.evidence.first().map_or(0, |a| a.listing)]
                .kind
                .as_str(),
            f.facts.join("; ")
        ),
    });
    incident.timeline.sort_by(|a, b| a.ts.cmp(&b.ts));
    union(&mut incident.containers, &f.containers);
    union(&mut incident.pods, &f.pods);
    if !finding.first_seen.is_empty() && finding.first_seen < incident.first_seen {
        incident.first_seen = finding.first_seen.clone();
    }
    incident.findings.push(finding);
}

fn union(into: &mut Vec<String>, more: &[String]) {
    let mut set: BTreeSet<String> = into.drain(..).collect();
    set.extend(more.iter().cloned());
    into.extend(set);
}

/// Folds `other` into `into` (both about one story).
fn absorb(into: &mut Incident, other: Incident) {
    union(&mut into.containers, &other.containers);
    union(&mut into.pods, &other.pods);
    union(&mut into.hosts, &other.hosts);
    into.findings.extend(other.findings);
    into.timeline.extend(other.timeline);
    into.timeline.sort_by(|a, b| a.ts.cmp(&b.ts));
    into.nearby.extend(other.nearby);
    if other.first_seen < into.first_seen {
        into.first_seen = other.first_seen;
    }
    if other.last_seen > into.last_seen {
        into.last_seen = other.last_seen;
    }
    for v in other.versions {
        if !into.versions.contains(&v) {
            into.versions.push(v);
        }
    }
    for a in other.remediation_advice {
        if !into.remediation_advice.iter().any(|x| x.step == a.step) {
            into.remediation_advice.push(a);
        }
    }
}

/// A state finding that joins no log incident.
fn new_incident(grammar: &Grammar, d: usize, f: &StateFinding, state: &NodeState) -> Incident {
    let finding = finding_report(grammar, d, f, state);
    let mut incident = Incident {
        rank: 0,
        kind: f.kind.to_string(),
        chain: None,
        suppressed: None,
        related: Vec::new(),
        title: String::new(),
        severity: finding.severity,
        score: 0.0,
        first_seen: finding.first_seen.clone(),
        last_seen: finding.last_seen.clone(),
        duration_s: 0,
        first_relative: None,
        last_relative: None,
        nearby: Vec::new(),
        hosts: Vec::new(),
        pods: Vec::new(),
        containers: Vec::new(),
        findings: Vec::new(),
        timeline: Vec::new(),
        explanation: String::new(),
        remediation: String::new(),
        remediation_steps: Vec::new(),
        remediation_advice: Vec::new(),
        versions: Vec::new(),
        references: Vec::new(),
        folded: None,
    };
    add(&mut incident, f, finding, state);
    retell(&mut incident, grammar);
    incident
}

/// Title, story, steps, severity and score from the incident's findings,
/// as the report builder words a log incident: the chain its kinds tell
/// first, then each kind's explanation; the steps of every kind, in order.
fn retell(incident: &mut Incident, grammar: &Grammar) {
    let kinds: Vec<usize> = {
        let mut seen = Vec::new();
        let lead = std::iter::once(incident.kind.as_str());
        for kind in lead.chain(incident.findings.iter().map(|f| f.kind.as_str())) {
            if let Some(d) = grammar.detectors.iter().position(|d| d.kind == kind) {
                if !seen.contains(&d) {
                    seen.push(d);
                }
            }
        }
        seen
    };
    let chain = grammar
        .chains
        .iter()
        .filter(|c| c.told_by(&kinds))
        .max_by_key(|c| {
            let present = c.detectors.iter().filter(|d| kinds.contains(d)).count();
            (present, std::cmp::Reverse(c.name.as_str()))
        });
    incident.explanation = chain
        .map(|c| c.story.as_str())
        .into_iter()
        .chain(
            kinds
                .iter()
                .map(|&d| grammar.detectors[d].explanation.as_str()),
        )
        .collect::<Vec<_>>()
        .join("\n\n");
    for &d in &kinds {
        for step in &grammar.detectors[d].remediation {
            if !incident
                .remediation_advice
                .iter()
                .any(|a| a.step == step.text)
            {
                incident.remediation_advice.push(Advice::from_step(step));
            }
        }
        for r in &grammar.detectors[d].references {
            if !incident.references.contains(r) {
                incident.references.push(r.clone());
            }
        }
    }
    incident.remediation_steps = incident
        .remediation_advice
        .iter()
        .map(Advice::line)
        .collect();
    incident.remediation = incident
        .remediation_steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect::<Vec<_>>()
        .join("\n");
    let lead = incident
        .findings
        .iter()
        .max_by_key(|f| (f.severity, f.lines))
        .map(|f| (f.kind.clone(), f.severity));
    let worst = lead.as_ref().map_or(Severity::Low, |l| l.1);
    let subject = if incident.pods.is_empty() {
        incident
            .title
            .rsplit_once(" (")
            .map(|(_, s)| s.trim_end_matches(')').to_string())
            .unwrap_or_else(|| "node".to_string())
    } else {
        format!("pod {}", incident.pods.join(", "))
    };
    let lead_title = grammar
        .detectors
        .iter()
        .find(|d| d.kind == incident.kind)
        .map(|d| d.title.clone())
        .unwrap_or_default();
    let base = match (chain, incident.title.is_empty()) {
        (Some(c), _) => c.title.clone(),
        (None, true) => lead_title,
        (None, false) => incident
            .title
            .rsplit_once(" (")
            .map_or(incident.title.clone(), |(t, _)| t.to_string()),
    };
    incident.title = format!("{base} ({subject})");
    incident.chain = chain.map(|c| c.name.clone());
    let sources: BTreeSet<&str> = incident
        .findings
        .iter()
        .flat_map(|f| f.sources.iter().map(String::as_str))
        .collect();
    let weighing = Weighing {
        worst,
        sources: sources.len(),
        events: incident.findings.iter().map(|f| f.lines).sum(),
        minutes: incident.duration_s as f64 / 60.0,
    };
    incident.severity = rank::severity(weighing);
    incident.score = rank::score(weighing);
}

/// Ranks again by score, as the report builder orders incidents, and
/// renumbers `related`.
fn rerank(report: &mut Report) {
    report.incidents.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.first_seen.cmp(&b.first_seen))
            .then_with(|| a.title.cmp(&b.title))
    });
    let mut new_of = std::collections::HashMap::new();
    for (n, incident) in report.incidents.iter_mut().enumerate() {
        if incident.rank != 0 {
            new_of.insert(incident.rank, n + 1);
        }
        incident.rank = n + 1;
    }
    for incident in &mut report.incidents {
        incident.related = incident
            .related
            .iter()
            .filter_map(|r| new_of.get(r).copied())
            .collect();
    }
}
