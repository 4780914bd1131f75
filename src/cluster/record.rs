//! Kubernetes objects as records the grammar matches: each fact becomes
//! one line of text, written as RFC 5424 syslog so that the production
//! scanner frames it (time, node as host, `kubernetes` as program) and
//! `grammars/kubernetes.toml` says what it means, like any log line. What
//! a record says is fixed here; what it *means* (which reasons are
//! trouble, how many repeats matter) is only in the grammar.
//!
//! The records (MSGID, then MSG), one per fact:
//!
//! ```text
//! event    Warning FailedKillPod pod kube-system/fluentd-hjj42 (x12) from kubelet: error killing pod: …
//! message  error killing pod: …                    (the event's or condition's own text, alone)
//! link     pod kube-system/fluentd-hjj42 has uid 5e0c…-… container fluentd id docker://a9ac…
//! link     pod kube-system/fluentd-hjj42 has uid 5e0c…-… sandbox id a9ac…
//! state    pod kube-system/loki-0 container loki - last state terminated: reason OOMKilled, exit code 137, restarts 1
//! pod      pod kube-system/fluentd-hjj42 has uid 5e0c… on node n still terminating 812 min past its grace period: …
//! node     node etkhub has condition Ready False since 2019-06-02T21:39:37Z: reason KubeletNotReady
//! ```
//!
//! Each record holds words no kubectl output or log line writes (`Warning
//! <Reason>` with one space, `from -`, `has uid`, `has condition`), so
//! that the grammar's literals for records never fire first on a pasted
//! line that is not one (the prefilter reports one literal a line).
//!
//! An event's time is when it last happened, a container's last
//! termination when it finished, a condition's its last transition; a
//! waiting container is as of the newest time the input states; a pod
//! still listed past its deletion's grace period is placed when it should
//! have been gone. Rows of kubectl's tables have no time.

use std::collections::HashMap;
use std::fmt::Write;

use super::model::{ApiTime, ClusterEvent, ContainerState, Objects, PodStatus};

/// One fact, ready to be framed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Line of the input the fact was read from (0: unknown).
    pub line: u64,
    pub at: Option<ApiTime>,
    pub host: Option<String>,
    /// The MSGID: `event`, `message`, `link`, `state`, `pod`, `node`.
    pub class: &'static str,
    pub warning: bool,
    pub message: String,
    /// What evidence shows: the row as written, or the event record.
    pub evidence: String,
}

/// Every record of `objects`, in input order. `collected` is when the
/// input was collected, when known (its modification time).
pub fn records(objects: &Objects, collected: Option<ApiTime>) -> Vec<Record> {
    let collected = objects.newest.max(collected);
    let node_of: HashMap<(Option<&str>, &str), &str> = objects
        .pods
        .iter()
        .filter_map(|p| {
            Some((
                (p.namespace.as_deref(), p.name.as_str()),
                p.node.as_deref()?,
            ))
        })
        .collect();
    let mut out = Vec::new();
    for e in &objects.events {
        event(e, &node_of, &mut out);
    }
    for p in &objects.pods {
        pod(p, objects.newest, collected, &mut out);
    }
    for n in &objects.nodes {
        for c in &n.conditions {
            let header = format!(
                "node {} has condition {} {} since {}: reason {}",
                word(&n.name),
                word(&c.kind),
                word(&c.status),
                c.last_transition.map_or("-".into(), stamp),
                word(&c.reason),
            );
            let base = Record {
                line: c.line.max(n.line),
                at: c.last_transition,
                host: Some(n.name.clone()),
                class: "node",
                warning: false,
                message: header.clone(),
                evidence: header,
            };
            with_message(base, &c.message, &mut out);
        }
    }
    out
}

fn event(e: &ClusterEvent, node_of: &HashMap<(Option<&str>, &str), &str>, out: &mut Vec<Record>) {
    let o = &e.object;
    let object = match (o.kind.as_str(), &o.namespace) {
        (_, _) if o.name.is_empty() => String::new(),
        ("Node", _) => format!(" node {}", word(&o.name)),
        ("Pod", Some(ns)) => format!(" pod {}/{}", word(ns), word(&o.name)),
        ("Pod", None) => format!(" pod {}", word(&o.name)),
        (kind, Some(ns)) => format!(
            " {} {}/{}",
            word(&kind.to_ascii_lowercase()),
            word(ns),
            word(&o.name)
        ),
        (kind, None) => format!(" {} {}", word(&kind.to_ascii_lowercase()), word(&o.name)),
    };
    let object = object.replace("  ", " ");
    let mut header = format!("{} {}{object}", word(&e.kind), word(&e.reason));
    if e.count > 1 {
        let _ = write!(header, " (x{})", e.count);
    }
    let from = e.component.as_deref().map_or("-".to_string(), one_line);
    let _ = write!(header, " from {from}");
    let _ = write!(header, ": {}", one_line(&e.message));
    let host = e.host.clone().or_else(|| match o.kind.as_str() {
        "Node" => Some(o.name.clone()),
        "Pod" => node_of
            .get(&(o.namespace.as_deref(), o.name.as_str()))
            .map(|n| n.to_string()),
        _ => None,
    });
    let base = Record {
        line: e.line,
        at: e.last,
        host,
        class: "event",
        warning: e.kind == "Warning",
        evidence: e.row.clone().unwrap_or_else(|| header.clone()),
        message: header,
    };
    with_message(base, &e.message, out);
}

/// `base`, then its own text alone as a `message` record (where log
/// patterns find the node's lines an event or condition carries).
fn with_message(base: Record, message: &str, out: &mut Vec<Record>) {
    let message = one_line(message);
    let alone = (!message.is_empty()).then(|| Record {
        class: "message",
        message,
        ..base.clone()
    });
    out.push(base);
    out.extend(alone);
}

/// A pod's links and states; `observed` is the newest time its input
/// states, `collected` the input's collection, at the latest.
fn pod(
    p: &PodStatus,
    observed: Option<ApiTime>,
    collected: Option<ApiTime>,
    out: &mut Vec<Record>,
) {
    let name = match &p.namespace {
        Some(ns) => format!("pod {}/{}", word(ns), word(&p.name)),
        None => format!("pod {}", word(&p.name)),
    };
    let uid = p.uid.as_deref().map_or("-".to_string(), word);
    let record = |line: u64, at: Option<ApiTime>, class: &'static str, message: String| Record {
        line: line.max(p.line),
        at,
        host: p.node.clone(),
        class,
        warning: class != "link",
        evidence: message.clone(),
        message,
    };
    let mut linked = false;
    for c in &p.containers {
        let id = c.id.as_deref().map_or("-".to_string(), word);
        if c.id.is_some() {
            linked = true;
            let link = format!("{name} has uid {uid} container {} id {id}", word(&c.name));
            out.push(record(c.line, None, "link", link));
        }
        for (which, state) in [("state", &c.state), ("last state", &c.last_state)] {
            let (at, what) = match state {
                Some(ContainerState::Terminated {
                    reason,
                    exit_code,
                    signal,
                    finished,
                    message,
                }) => {
                    let mut what = format!("terminated: reason {}", word(reason));
                    if let Some(code) = exit_code {
                        let _ = write!(what, ", exit code {code}");
                    }
                    if let Some(signal) = signal {
                        let _ = write!(what, ", signal {signal}");
                    }
                    let _ = write!(what, ", restarts {}", c.restarts);
                    if !message.is_empty() {
                        let _ = write!(what, ": {}", one_line(message));
                    }
                    (finished.or(observed), what)
                }
                Some(ContainerState::Waiting { reason, message }) => {
                    let mut what =
                        format!("waiting: reason {}, restarts {}", word(reason), c.restarts);
                    if !message.is_empty() {
                        let _ = write!(what, ": {}", one_line(message));
                    }
                    (observed, what)
                }
                _ => continue,
            };
            let init = if c.init {
                "init container"
            } else {
                "container"
            };
            let message = format!("{name} {init} {} {id} {which} {what}", word(&c.name));
            out.push(record(c.line, at, "state", message));
        }
    }
    if let Some(sandbox) = &p.sandbox {
        linked = true;
        let link = format!("{name} has uid {uid} sandbox id {}", word(sandbox));
        out.push(record(p.line, None, "link", link));
    }
    if !linked && p.uid.is_some() {
        out.push(record(
            p.line,
            None,
            "link",
            format!("{name} has uid {uid}"),
        ));
    }
    let grace = p.grace_s.unwrap_or(0);
    let gone_by = p.deletion.map(|d| d + chrono::Duration::seconds(grace));
    if let (Some(deletion), Some(gone_by), Some(now)) = (p.deletion, gone_by, collected) {
        let past = now.signed_duration_since(gone_by).num_minutes();
        if past > 0 {
            let node = p.node.as_deref().map_or("-".to_string(), word);
            let message = format!(
                "{name} has uid {uid} on node {node} still terminating {past} min past its grace period: deletion requested {}, grace {grace}s, still listed at {}",
                stamp(deletion),
                stamp(now)
            );
            out.push(record(p.line, Some(gone_by), "pod", message));
        }
    }
}

/// The records as RFC 5424 lines, one a record, in order.
pub fn syslog_text(records: &[Record]) -> String {
    let mut text = String::new();
    for r in records {
        // facility user (1); severity warning (4) or notice (5).
        let pri = if r.warning { 12 } else { 13 };
        let at = r.at.map_or("-".to_string(), stamp);
        let host = r.host.as_deref().map_or("-".to_string(), word);
        let _ = writeln!(
            text,
            "<{pri}>1 {at} {host} kubernetes - {} - {}",
            r.class, r.message
        );
    }
    text
}

fn stamp(t: ApiTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A value that must stay one word of the record.
fn word(s: &str) -> String {
    if s.is_empty() {
        return "-".into();
    }
    s.split_whitespace().collect::<Vec<_>>().join("_")
}

fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}
