//! The node's conditions over time: Ready, MemoryPressure, DiskPressure,
//! PIDPressure, NetworkUnavailable and node-problem-detector's own
//! (KernelDeadlock, ReadonlyFilesystem, FrequentKubeletRestart…), as periods
//! ("Ready=False from 10:42 to 11:07, KubeletNotReady: PLEG is not healthy,
//! while DiskPressure=True and disk_full").
//!
//! Why a module of its own: a condition is a state, not a failure to count,
//! so it is not a detector. Observations come from two places, through one
//! plain type ([`Observation`]): matched log lines (this module reads them
//! from the events, [`from_events`]) and the node objects of a cluster dump
//! (`.status.conditions`, read elsewhere and handed in as observations).
//! What a line says about a condition is the grammar's: a pattern that
//! captures `condition` and `status` (and optionally `reason`, `message`)
//! states it outright; one that captures `node_event` names one of kubelet's
//! node events (`NodeNotReady`, `NodeHasDiskPressure`…), whose meaning is
//! the Kubernetes API's, tabled in [`NODE_EVENTS`].

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::detect::{Event, Finding};
use crate::matcher::RuleSet;
use crate::time::EventTime;

/// kubelet's node event reasons (pkg/kubelet/events/event.go) and the
/// condition each one reports.
pub const NODE_EVENTS: &[(&str, &str, &str)] = &[
    ("NodeReady", "Ready", "True"),
    ("NodeNotReady", "Ready", "False"),
    ("NodeHasSufficientMemory", "MemoryPressure", "False"),
    ("NodeHasInsufficientMemory", "MemoryPressure", "True"),
    ("NodeHasNoDiskPressure", "DiskPressure", "False"),
    ("NodeHasDiskPressure", "DiskPressure", "True"),
    ("NodeHasSufficientPID", "PIDPressure", "False"),
    ("NodeHasInsufficientPID", "PIDPressure", "True"),
];

/// One reading of one condition of one node at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub host: String,
    pub at: DateTime<FixedOffset>,
    /// `Ready`, `DiskPressure`, `KernelDeadlock`…
    pub condition: String,
    /// `True`, `False` or `Unknown`, as the API spells them.
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    /// Where it was read: a pattern id, or `node object` for a cluster dump.
    pub source: String,
}

/// A stretch of time during which a condition kept one status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConditionPeriod {
    pub host: String,
    pub condition: String,
    pub status: String,
    /// Whether this status is a problem (`Ready` not `True`, any other
    /// condition `True`).
    pub abnormal: bool,
    pub from: String,
    /// The first reading of another status; absent while it lasts to the
    /// end of the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The last reading of this status.
    pub last_seen: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Other abnormal conditions and node findings on the same host that
    /// overlap this period (`DiskPressure=True`, `disk_full`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub during: Vec<String>,
    pub sources: Vec<String>,
}

/// Whether a condition's status is a problem.
pub fn abnormal(condition: &str, status: &str) -> bool {
    if condition == "Ready" {
        status != "True"
    } else {
        status == "True"
    }
}

impl ConditionPeriod {
    /// One line for the text and markdown reports: `worker-7 Ready=False
    /// from … to …: KubeletNotReady (PLEG is not healthy…), while
    /// DiskPressure=True, disk_full`.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} {}={} from {} to {}",
            self.host,
            self.condition,
            self.status,
            self.from,
            self.to.as_deref().unwrap_or("the end of the logs")
        );
        if let Some(reason) = &self.reason {
            line.push_str(&format!(": {reason}"));
        }
        if let Some(message) = &self.message {
            line.push_str(&format!(" ({message})"));
        }
        if !self.during.is_empty() {
            line.push_str(&format!(", while {}", self.during.join(", ")));
        }
        line
    }
}

/// Whether a pattern's lines state a condition: it captures `condition`
/// and `status`, or `node_event`. The matcher reads such patterns in its
/// first pass even when no detector counts them.
pub fn states_condition(regex: &regex::bytes::Regex) -> bool {
    let names: Vec<&str> = regex.capture_names().flatten().collect();
    names.contains(&"node_event") || (names.contains(&"condition") && names.contains(&"status"))
}

/// The observations the matched lines make, from the patterns' captures.
/// Lines without a wall-clock time or a host are passed over: a condition
/// is a state of a named node on the shared clock.
/// `text` gives an event's line back (events hold no text).
pub fn from_events(
    rules: &RuleSet,
    events: &[Event],
    text_of: impl Fn(&Event) -> String,
) -> Vec<Observation> {
    let patterns = &rules.grammar.patterns;
    // Only the lines of patterns that state a condition are read back.
    let stating: Vec<bool> = patterns
        .iter()
        .map(|p| states_condition(&p.regex))
        .collect();
    let mut out = Vec::new();
    for event in events {
        if !stating[event.pattern()] {
            continue;
        }
        let (EventTime::Wall(at), Some(host)) = (event.time, event.host.as_ref()) else {
            continue;
        };
        let pattern = &patterns[event.pattern()];
        let line = text_of(event);
        let Some(caps) = pattern.regex.captures(line.as_bytes()) else {
            continue;
        };
        let text = |name: &str| {
            caps.name(name)
                .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
        };
        let stated = match (text("condition"), text("status")) {
            (Some(condition), Some(status)) => Some((condition, status)),
            _ => text("node_event").and_then(|reason| {
                NODE_EVENTS
                    .iter()
                    .find(|(r, _, _)| *r == reason)
                    .map(|(_, c, s)| (c.to_string(), s.to_string()))
            }),
        };
        if let Some((condition, status)) = stated {
            out.push(Observation {
                host: host.to_string(),
                at,
                condition,
                status,
                reason: text("reason").or_else(|| text("node_event")),
                message: text("message"),
                source: pattern.id.clone(),
            });
        }
    }
    out
}

/// A node-wide finding's span, for [`ConditionPeriod::during`].
#[derive(Clone, Debug)]
pub struct FindingSpan {
    pub host: String,
    pub kind: String,
    pub first: DateTime<FixedOffset>,
    pub last: DateTime<FixedOffset>,
}

/// The spans of the findings whose lines are all on the wall clock.
pub fn finding_spans(rules: &RuleSet, events: &[Event], findings: &[Finding]) -> Vec<FindingSpan> {
    findings
        .iter()
        .filter_map(|f| {
            let (EventTime::Wall(first), EventTime::Wall(last)) =
                (f.first(events).time, f.last(events).time)
            else {
                return None;
            };
            Some(FindingSpan {
                host: f.first(events).host.as_deref()?.to_string(),
                kind: rules.grammar.detectors[f.detector].kind.clone(),
                first,
                last,
            })
        })
        .collect()
}

/// A period with its start and, once another status is read, its end.
type Stretch = (
    ConditionPeriod,
    DateTime<FixedOffset>,
    Option<DateTime<FixedOffset>>,
);
/// An abnormal period's host, start, end and `Condition=Status` label.
type Window = (
    String,
    DateTime<FixedOffset>,
    Option<DateTime<FixedOffset>>,
    String,
);

/// The periods the observations make, per host and condition, in time
/// order: a period starts at the first reading of a status and ends at the
/// first reading of another.
pub fn periods(
    mut observations: Vec<Observation>,
    findings: &[FindingSpan],
) -> Vec<ConditionPeriod> {
    observations.sort_by(|a, b| (&a.host, &a.condition, a.at).cmp(&(&b.host, &b.condition, b.at)));
    let mut spans: Vec<Stretch> = Vec::new();
    for obs in observations {
        if let Some((open, _, end)) = spans.last_mut() {
            if open.host == obs.host && open.condition == obs.condition && end.is_none() {
                if open.status == obs.status {
                    open.last_seen = crate::report::rfc3339(obs.at);
                    if !open.sources.contains(&obs.source) {
                        open.sources.push(obs.source);
                    }
                    if open.message.is_none() {
                        open.message = obs.message;
                    }
                    continue;
                }
                open.to = Some(crate::report::rfc3339(obs.at));
                *end = Some(obs.at);
            }
        }
        let start = obs.at;
        spans.push((
            ConditionPeriod {
                abnormal: abnormal(&obs.condition, &obs.status),
                from: crate::report::rfc3339(obs.at),
                to: None,
                last_seen: crate::report::rfc3339(obs.at),
                host: obs.host,
                condition: obs.condition,
                status: obs.status,
                reason: obs.reason,
                message: obs.message,
                during: Vec::new(),
                sources: vec![obs.source],
            },
            start,
            None,
        ));
    }
    // What else was wrong on the host meanwhile.
    let windows: Vec<Window> = spans
        .iter()
        .filter(|(p, _, _)| p.abnormal)
        .map(|(p, from, to)| {
            (
                p.host.clone(),
                *from,
                *to,
                format!("{}={}", p.condition, p.status),
            )
        })
        .collect();
    let overlaps = |a0: DateTime<FixedOffset>,
                    a1: Option<DateTime<FixedOffset>>,
                    b0: DateTime<FixedOffset>,
                    b1: Option<DateTime<FixedOffset>>| {
        // A finding whose last line is the period's first reading (the PLEG
        // line that turned the node NotReady) overlaps it.
        a1.is_none_or(|a1| b0 < a1) && b1.is_none_or(|b1| a0 <= b1)
    };
    let mut out = Vec::with_capacity(spans.len());
    for (mut period, from, to) in spans {
        if period.abnormal {
            let mut during: BTreeSet<String> = BTreeSet::new();
            for (host, w0, w1, label) in &windows {
                let own = label == &format!("{}={}", period.condition, period.status);
                if host == &period.host && !own && overlaps(from, to, *w0, *w1) {
                    during.insert(label.clone());
                }
            }
            for span in findings {
                if span.host == period.host && overlaps(from, to, span.first, Some(span.last)) {
                    during.insert(span.kind.clone());
                }
            }
            period.during = during.into_iter().collect();
        }
        out.push(period);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hms: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("2023-05-01T{hms}+08:00")).expect("test time")
    }

    fn obs(host: &str, hms: &str, condition: &str, status: &str) -> Observation {
        Observation {
            host: host.into(),
            at: at(hms),
            condition: condition.into(),
            status: status.into(),
            reason: None,
            message: None,
            source: "test".into(),
        }
    }

    #[test]
    fn a_not_ready_stretch_ends_at_the_next_ready_and_names_what_overlapped() {
        let list = vec![
            obs("w7", "10:50:00", "DiskPressure", "True"),
            obs("w7", "10:42:00", "Ready", "False"),
            obs("w7", "10:43:00", "Ready", "False"),
            obs("w7", "11:07:00", "Ready", "True"),
            obs("w8", "10:44:00", "Ready", "False"),
        ];
        let findings = [FindingSpan {
            host: "w7".into(),
            kind: "disk_full".into(),
            first: at("10:30:00"),
            last: at("10:45:00"),
        }];
        let periods = periods(list, &findings);
        let ready: Vec<&ConditionPeriod> = periods
            .iter()
            .filter(|p| p.host == "w7" && p.condition == "Ready")
            .collect();
        assert_eq!(ready.len(), 2);
        assert_eq!(ready[0].status, "False");
        assert!(ready[0].abnormal);
        assert_eq!(ready[0].from, "2023-05-01T10:42:00+08:00");
        assert_eq!(ready[0].to.as_deref(), Some("2023-05-01T11:07:00+08:00"));
        assert_eq!(ready[0].last_seen, "2023-05-01T10:43:00+08:00");
        assert_eq!(ready[0].during, vec!["DiskPressure=True", "disk_full"]);
        assert!(!ready[1].abnormal && ready[1].to.is_none());
        // Another host's NotReady is its own, and sees no disk trouble.
        let other = periods.iter().find(|p| p.host == "w8").expect("w8");
        assert!(other.during.is_empty());
    }

    #[test]
    fn pressure_is_abnormal_when_true_and_ready_when_not_true() {
        assert!(abnormal("DiskPressure", "True"));
        assert!(!abnormal("DiskPressure", "False"));
        assert!(abnormal("Ready", "Unknown"));
        assert!(!abnormal("Ready", "True"));
    }
}
