//! What kubectl prints for people: the `kubectl get events` table and
//! `kubectl describe pod|node` text, as SREs paste them.
//!
//! ```text
//! LAST SEEN   TYPE      REASON          OBJECT                 MESSAGE
//! 4m37s       Normal    Pulling         pod/nginx-7759cfdc55   Pulling image "nginx:1.7.9"
//!
//! Name:         loki-0
//! Namespace:    shoot--project-shoot
//! Node:         node-1/10.250.0.7
//! Containers:
//!   loki:
//!     Container ID:   containerd://3e39…
//!     State:          Running
//!     Last State:     Terminated
//!       Reason:       OOMKilled
//!       Exit Code:    137
//!     Restart Count:  1
//! Conditions:
//!   Type    Status  LastHeartbeatTime                LastTransitionTime               Reason           Message
//!   Ready   False   Mon, 03 Jun 2019 13:54:18 +0000  Sun, 02 Jun 2019 21:39:37 +0000  KubeletNotReady  PLEG is not healthy: …
//! Events:
//!   Type     Reason             Age                   From                  Message
//!   Warning  ContainerGCFailed  4m (x211 over 3h34m)  kubelet, aks-pool-0   rpc error: …
//! ```
//!
//! Columns are separated by at least two spaces (kubectl's tabwriter pads
//! with three, pastes sometimes lose one), the message is the rest of the
//! row. Ages are relative to when kubectl ran, which the text does not
//! say: rows read here have no time. Lines of other sections (labels,
//! volumes, tolerations) are passed over; rows of a table that do not
//! have its shape are counted unread.

use std::sync::OnceLock;

use regex::Regex;

use super::model::{
    ApiTime, ClusterEvent, ContainerState, ContainerStatus, NodeCondition, NodeStatus, ObjectRef,
    Objects, PodStatus,
};

struct Shapes {
    events_header: Regex,
    event_row: Regex,
    conditions_header: Regex,
    condition_row: Regex,
    table_header: Regex,
    table_row: Regex,
    old_header: Regex,
    old_row: Regex,
    wide_header: Regex,
    wide_row: Regex,
    count: Regex,
    field: Regex,
    container: Regex,
    command: Regex,
    command_ns: Regex,
}

fn shapes() -> &'static Shapes {
    static SHAPES: OnceLock<Shapes> = OnceLock::new();
    // The expressions are literals checked by the tests below.
    SHAPES.get_or_init(|| Shapes {
        events_header: re(r"^\s*Type\s+Reason\s+Age\s+From\s+Message\s*$"),
        event_row: re(r"^\s*(Normal|Warning)\s+(\S+)\s+(\S.*?)\s{2,}(\S.*?)\s{2,}(.*?)\s*$"),
        conditions_header: re(
            r"^\s*Type\s+Status\s+LastHeartbeatTime\s+LastTransitionTime\s+Reason\s+Message\s*$",
        ),
        condition_row: re(concat!(
            r"^\s*(\w+)\s+(True|False|Unknown)\s+",
            r"(\w{3}, \d{2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4})\s+",
            r"(\w{3}, \d{2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4})\s+(\S+)\s+(.*?)\s*$"
        )),
        table_header: re(r"^\s*(NAMESPACE\s+)?LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\s*$"),
        table_row: re(concat!(
            r"^\s*(?:(\S+)\s+)??((?:(?:\d+[smhdy])+|<unknown>|<invalid>)(?: \(x\d+ over \S+\))?)",
            r"\s+(Normal|Warning)\s+(\S+)\s+(\S+)\s+(.*?)\s*$"
        )),
        // Before kubectl 1.14 (its own printer's `eventColumns`,
        // pkg/printers/internalversion/printers.go: `LASTSEEN FIRSTSEEN
        // COUNT NAME KIND SUBOBJECT TYPE REASON SOURCE MESSAGE`), the
        // source as `{kubelet node-1}` in 2016's pastes, `kubelet, node-1`
        // later (kubernetes/kubernetes#29838, the field cases).
        old_header: re(concat!(
            r"^\s*(NAMESPACE\s+)?LASTSEEN\s+FIRSTSEEN\s+COUNT\s+NAME\s+KIND\s+SUBOBJECT\s+",
            r"TYPE\s+REASON(?:\s+SOURCE\s+MESSAGE)?\s*$"
        )),
        old_row: re(concat!(
            r"^\s*(?:(\S+)\s+)??(AGE)\s+(?:AGE)\s+(\d+)\s+(\S+)\s+([A-Z]\w*)\s+(?:(\S+)\s+)?",
            r"(Normal|Warning)\s+(\S+)\s+(\{[^}]*\}|[-\w.]+(?:, [-\w.]+)?)\s+(.*?)\s*$"
        )
        .replace("AGE", AGE)
        .as_str()),
        // `-o wide` since 1.14: the columns of priority 1 added
        // (kubernetes@v1.14.0 pkg/printers/internalversion/printers.go:
        // `Last Seen, Type, Reason, Object, Subobject, Source, Message,
        // First Seen, Count, Name`).
        wide_header: re(concat!(
            r"^\s*(NAMESPACE\s+)?LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+SUBOBJECT\s+SOURCE\s+",
            r"MESSAGE\s+FIRST SEEN\s+COUNT\s+NAME\s*$"
        )),
        wide_row: re(concat!(
            r"^\s*(?:(\S+)\s+)??(AGE)\s+(Normal|Warning)\s+(\S+)\s+(\S+/\S+)\s+(?:(\S+)\s+)??",
            r"([-\w.]+(?:, [-\w.]+)?)\s+(.*?)\s{2,}(?:AGE)\s+(\d+)\s+(\S+)\s*$"
        )
        .replace("AGE", AGE)
        .as_str()),
        count: re(r"\(x(\d+) over [^)]*\)"),
        field: re(r"^(\s*)([A-Z][A-Za-z ]*):\s*(.*?)\s*$"),
        container: re(r"^\s{1,4}([a-z0-9]([-a-z0-9.]*[a-z0-9])?):\s*$"),
        command: re(r"kubectl\s.*\bdescribe\s+(pods?|po|nodes?|no)(?:/|\s+)([a-z0-9][-a-z0-9.]*)"),
        command_ns: re(r"\s(?:-n|--namespace)(?:\s+|=)([a-z0-9][-a-z0-9]*)"),
    })
}

/// An age as kubectl prints it: `13m`, `2d5h`, `<unknown>`, `<invalid>`.
const AGE: &str = r"(?:(?:\d+[smhdy])+|<unknown>|<invalid>)";

fn re(pattern: &str) -> Regex {
    // Only called on the literal expressions of `shapes`, which the tests
    // compile: a failure here is a bug caught there.
    Regex::new(pattern).expect("literal expression")
}

/// Whether `head` holds a `kubectl get events` table: its header, or
/// (pastes often leave the header out) mostly its rows, two at least,
/// whose objects are `kind/name`.
pub fn is_events_table(head: &str) -> bool {
    let s = shapes();
    let (mut rows, mut lines) = (0, 0);
    for line in head.lines().filter(|l| !l.trim().is_empty()) {
        if s.table_header.is_match(line)
            || s.old_header.is_match(line)
            || s.wide_header.is_match(line)
        {
            return true;
        }
        lines += 1;
        let current = s
            .table_row
            .captures(line)
            .is_some_and(|c| c[5].contains('/'));
        rows += usize::from(current || s.old_row.is_match(line) || s.wide_row.is_match(line));
    }
    rows >= 2 && rows * 2 >= lines
}

/// Whether `head` looks like `kubectl describe` output: an events or a
/// node conditions table, a container's state block, or (a paste of the
/// rows alone) mostly rows of an events table, two at least.
pub fn is_describe(head: &str) -> bool {
    let s = shapes();
    let mut state = false;
    let mut restarts = false;
    let (mut rows, mut lines) = (0, 0);
    for line in head.lines().filter(|l| !l.trim().is_empty()) {
        if s.events_header.is_match(line) || s.conditions_header.is_match(line) {
            return true;
        }
        let t = line.trim_start();
        state |= t.starts_with("State:") || t.starts_with("Last State:");
        restarts |= t.starts_with("Restart Count:");
        lines += 1;
        rows += usize::from(s.event_row.captures(line).is_some_and(|c| is_age(&c[3])));
    }
    (state && restarts) || (rows >= 2 && rows * 2 >= lines)
}

/// `2m14s`, `7d18h`, `<invalid>`: the start of an Age column.
fn is_age(cell: &str) -> bool {
    cell.starts_with(|c: char| c.is_ascii_digit() || c == '<')
}

/// Which columns a `kubectl get events` table has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `LAST SEEN TYPE REASON OBJECT MESSAGE` (1.14 on).
    Current,
    /// `LASTSEEN FIRSTSEEN COUNT NAME KIND SUBOBJECT TYPE REASON SOURCE
    /// MESSAGE` (before 1.14).
    Old,
    /// `-o wide`: `LAST SEEN TYPE REASON OBJECT SUBOBJECT SOURCE MESSAGE
    /// FIRST SEEN COUNT NAME`.
    Wide,
}

/// Reads a `kubectl get events` table (one or several, in any of its
/// layouts, with or without the `NAMESPACE` column).
pub fn read_events_table(text: &str) -> Objects {
    let s = shapes();
    let mut out = Objects::default();
    // The layout and whether it has a namespace column, from the header.
    let mut header: Option<(Layout, bool)> = None;
    for (i, line) in text.lines().enumerate() {
        out.lines += 1;
        let headers = [
            (Layout::Current, &s.table_header),
            (Layout::Old, &s.old_header),
            (Layout::Wide, &s.wide_header),
        ];
        if let Some((layout, c)) = headers
            .iter()
            .find_map(|(l, re)| Some((*l, re.captures(line)?)))
        {
            header = Some((layout, c.get(1).is_some()));
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        // Without a header (a paste of rows), any layout is taken.
        let row = match header.map(|h| h.0) {
            Some(layout) => event_row(layout, line),
            None => [Layout::Current, Layout::Old, Layout::Wide]
                .into_iter()
                .find_map(|l| event_row(l, line)),
        };
        let Some(mut event) = row else {
            out.unread += 1;
            continue;
        };
        if header.is_some_and(|(_, n)| n != event.object.namespace.is_some()) {
            out.unread += 1;
            continue;
        }
        event.line = i as u64 + 1;
        event.row = Some(line.trim().to_string());
        out.events.push(event);
    }
    out
}

/// One row of a table of `layout`, if it has its shape.
/// The object a row's `kind/name` column names (`pod/web-0`); a bare name
/// is of no known kind.
fn object(namespace: Option<String>, column: &str) -> ObjectRef {
    let (kind, name) = match column.split_once('/') {
        Some((k, n)) => (kind_name(k), n.to_string()),
        None => (String::new(), column.to_string()),
    };
    ObjectRef {
        kind,
        namespace,
        name,
        uid: None,
    }
}

fn event_row(layout: Layout, line: &str) -> Option<ClusterEvent> {
    let s = shapes();
    let text = |c: &regex::Captures<'_>, n: usize| c.get(n).map(|m| m.as_str().to_string());
    match layout {
        Layout::Current => {
            let c = s.table_row.captures(line)?;
            Some(ClusterEvent {
                object: object(text(&c, 1), &c[5]),
                kind: c[3].to_string(),
                reason: c[4].to_string(),
                message: c[6].to_string(),
                count: count_in(&c[2]),
                ..ClusterEvent::default()
            })
        }
        Layout::Old => {
            let c = s.old_row.captures(line)?;
            let (component, host) = source(&c[9]);
            Some(ClusterEvent {
                object: ObjectRef {
                    kind: c[5].to_string(),
                    namespace: text(&c, 1),
                    name: c[4].to_string(),
                    uid: None,
                },
                kind: c[7].to_string(),
                reason: c[8].to_string(),
                message: c[10].to_string(),
                count: c[3].parse::<u64>().unwrap_or(1).max(1),
                component,
                host,
                ..ClusterEvent::default()
            })
        }
        Layout::Wide => {
            let c = s.wide_row.captures(line)?;
            let (component, host) = source(&c[7]);
            Some(ClusterEvent {
                object: object(text(&c, 1), &c[5]),
                kind: c[3].to_string(),
                reason: c[4].to_string(),
                message: c[8].to_string(),
                count: c[9].parse::<u64>().unwrap_or(1).max(1),
                component,
                host,
                ..ClusterEvent::default()
            })
        }
    }
}

/// The reporting component and host of a SOURCE cell: `{kubelet node-1}`,
/// `{default-scheduler }`, `kubelet, node-1`, `replicaset-controller`.
fn source(cell: &str) -> (Option<String>, Option<String>) {
    let cell = cell.trim_start_matches('{').trim_end_matches('}');
    let (component, host) = match cell.split_once(", ") {
        Some((c, h)) => (c, Some(h)),
        None => match cell.split_once(' ') {
            Some((c, h)) => (c, Some(h)),
            None => (cell, None),
        },
    };
    let host = host.map(str::trim).filter(|h| !h.is_empty());
    (
        Some(component.trim().to_string()).filter(|c| !c.is_empty()),
        host.map(str::to_string),
    )
}

/// `pod` → `Pod`, `replicaset` → `ReplicaSet` for the kinds podmortem
/// uses; others keep their spelling.
fn kind_name(lower: &str) -> String {
    match lower {
        "pod" => "Pod".into(),
        "node" => "Node".into(),
        other => other.to_string(),
    }
}

fn count_in(age: &str) -> u64 {
    shapes()
        .count
        .captures(age)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// Which table the rows below a header belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    None,
    Events,
    Conditions,
}

/// The object being described.
#[derive(Default)]
struct Described {
    name: Option<String>,
    namespace: Option<String>,
    node: Option<String>,
    is_node: bool,
    containers: Vec<ContainerStatus>,
    conditions: Vec<NodeCondition>,
    events: Vec<ClusterEvent>,
    line: u64,
    /// Which state the `Reason:`/`Exit Code:` lines below belong to.
    last: bool,
}

/// Reads `kubectl describe` output: one or several objects.
pub fn read_describe(text: &str) -> Objects {
    let s = shapes();
    let mut out = Objects::default();
    let mut obj = Described::default();
    let mut table = Table::None;
    let mut in_containers = false;
    for (i, line) in text.lines().enumerate() {
        out.lines += 1;
        let n = i as u64 + 1;
        if let Some(c) = s.command.captures(line) {
            finish(&mut obj, &mut out);
            obj.name = Some(c[2].to_string());
            obj.is_node = c[1].starts_with('n');
            obj.namespace = s.command_ns.captures(line).map(|c| c[1].to_string());
            obj.line = n;
            continue;
        }
        if s.events_header.is_match(line) {
            table = Table::Events;
            continue;
        }
        if s.conditions_header.is_match(line) {
            table = Table::Conditions;
            obj.is_node = true;
            continue;
        }
        let trimmed = line.trim();
        if trimmed.starts_with("----") || trimmed.is_empty() {
            continue;
        }
        match table {
            Table::Events => {
                if let Some(c) = s.event_row.captures(line) {
                    obj.events.push(described_event(&c, n, line));
                    continue;
                }
            }
            Table::Conditions => {
                if let Some(c) = s.condition_row.captures(line) {
                    let heartbeat = rfc1123(&c[3]);
                    out.saw(heartbeat);
                    obj.conditions.push(NodeCondition {
                        line: n,
                        kind: c[1].to_string(),
                        status: c[2].to_string(),
                        reason: c[5].to_string(),
                        message: c[6].to_string(),
                        last_transition: rfc1123(&c[4]),
                        last_heartbeat: heartbeat,
                    });
                    continue;
                }
            }
            // Rows pasted without their header.
            Table::None => {
                if let Some(c) = s.event_row.captures(line).filter(|c| is_age(&c[3])) {
                    obj.events.push(described_event(&c, n, line));
                    continue;
                }
            }
        }
        let Some(f) = s.field.captures(line) else {
            if in_containers {
                if let Some(c) = s.container.captures(line) {
                    obj.containers.push(ContainerStatus {
                        line: n,
                        name: c[1].to_string(),
                        ..ContainerStatus::default()
                    });
                }
            }
            continue;
        };
        let (indent, key, value) = (f[1].len(), &f[2], f[3].to_string());
        if indent <= 1 {
            // A top-level field ends any table or section above it.
            table = Table::None;
            in_containers = matches!(key, "Containers" | "Init Containers");
        }
        field(&mut obj, &mut out, indent, key, value, n);
    }
    finish(&mut obj, &mut out);
    out
}

fn described_event(c: &regex::Captures<'_>, line: u64, row: &str) -> ClusterEvent {
    let from = c[4].to_string();
    // Before 1.18 kubectl printed `kubelet, <node>`; later `kubelet`.
    let (component, host) = match from.split_once(", ") {
        Some((component, host)) => (component.to_string(), Some(host.to_string())),
        None => (from, None),
    };
    ClusterEvent {
        line,
        kind: c[1].to_string(),
        reason: c[2].to_string(),
        message: c[5].to_string(),
        count: count_in(&c[3]),
        component: Some(component),
        host,
        row: Some(row.trim().to_string()),
        ..ClusterEvent::default()
    }
}

/// One `Key: value` line of the object being described.
fn field(obj: &mut Described, out: &mut Objects, indent: usize, key: &str, value: String, n: u64) {
    if indent <= 1 {
        match key {
            "Name" => {
                let again = obj.name.as_deref() != Some(value.as_str());
                if again && (obj.name.is_some() || !obj.containers.is_empty()) {
                    finish(obj, out);
                }
                obj.name = Some(value);
                obj.line = n;
            }
            "Namespace" => obj.namespace = Some(value),
            "Node" => obj.node = value.split('/').next().map(str::to_string),
            "Roles" | "Taints" | "Unschedulable" => obj.is_node = true,
            _ => {}
        }
        return;
    }
    let value_i64 = || value.parse::<i64>().ok();
    let Some(c) = obj.containers.last_mut() else {
        return;
    };
    fn state(last: bool, c: &mut ContainerStatus) -> Option<&mut ContainerState> {
        if last {
            c.last_state.as_mut()
        } else {
            c.state.as_mut()
        }
    }
    match key {
        "Container ID" if !value.is_empty() => c.id = Some(value),
        "State" | "Last State" => {
            obj.last = key == "Last State";
            let st = match value.as_str() {
                "Terminated" => ContainerState::Terminated {
                    reason: String::new(),
                    exit_code: None,
                    signal: None,
                    finished: None,
                    message: String::new(),
                },
                "Waiting" => ContainerState::Waiting {
                    reason: String::new(),
                    message: String::new(),
                },
                _ => ContainerState::Running { started: None },
            };
            if obj.last {
                c.last_state = Some(st);
            } else {
                c.state = Some(st);
            }
        }
        "Restart Count" => c.restarts = value.parse().unwrap_or(0),
        "Reason" | "Message" | "Exit Code" | "Signal" | "Finished" => {
            let finished = (key == "Finished").then(|| rfc1123(&value)).flatten();
            out.saw(finished);
            match state(obj.last, c) {
                Some(ContainerState::Terminated {
                    reason,
                    exit_code,
                    signal,
                    finished: f,
                    message,
                }) => match key {
                    "Reason" => *reason = value,
                    "Message" => *message = value,
                    "Exit Code" => *exit_code = value_i64(),
                    "Signal" => *signal = value_i64(),
                    _ => *f = finished,
                },
                Some(ContainerState::Waiting { reason, message }) => match key {
                    "Reason" => *reason = value,
                    "Message" => *message = value,
                    _ => {}
                },
                _ => {}
            }
        }
        _ => {}
    }
}

/// Ends the object being described: its pod or node, and its events named
/// after it.
fn finish(obj: &mut Described, out: &mut Objects) {
    let obj = std::mem::take(obj);
    let name = obj.name.clone().unwrap_or_default();
    let object = if obj.is_node {
        ObjectRef {
            kind: "Node".into(),
            name: name.clone(),
            ..ObjectRef::default()
        }
    } else if obj.name.is_some() {
        ObjectRef {
            kind: "Pod".into(),
            namespace: obj.namespace.clone(),
            name: name.clone(),
            uid: None,
        }
    } else {
        ObjectRef::default()
    };
    let host = if obj.is_node {
        obj.name.clone()
    } else {
        obj.node.clone()
    };
    for mut e in obj.events {
        e.object = object.clone();
        e.host = e.host.or_else(|| host.clone());
        out.events.push(e);
    }
    if obj.is_node {
        if !obj.conditions.is_empty() {
            out.nodes.push(NodeStatus {
                line: obj.line,
                name,
                conditions: obj.conditions,
            });
        }
    } else if !obj.containers.is_empty() {
        out.pods.push(PodStatus {
            line: obj.line,
            namespace: obj.namespace,
            name,
            node: obj.node,
            containers: obj.containers,
            ..PodStatus::default()
        });
    }
}

/// `Mon, 03 Jun 2019 13:54:18 +0000`, as `kubectl describe` prints times.
fn rfc1123(s: &str) -> Option<ApiTime> {
    chrono::DateTime::parse_from_str(s.trim(), "%a, %d %b %Y %H:%M:%S %z")
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shapes_compile() {
        let _ = shapes();
    }

    /// Rows from kubernetes/kubernetes#72533 and rootsongjc/kubernetes-handbook#313.
    #[test]
    fn describe_events_rows() {
        let text = "  Type     Reason             Age                   From                               Message\n  ----     ------             ----                  ----                               -------\n  Warning  ContainerGCFailed  4m (x211 over 3h34m)  kubelet, aks-agentpool-18316292-0  rpc error: code = Unknown desc = Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n";
        assert!(is_describe(text));
        let o = read_describe(text);
        assert_eq!(o.events.len(), 1);
        let e = &o.events[0];
        assert_eq!(
            (e.kind.as_str(), e.reason.as_str(), e.count),
            ("Warning", "ContainerGCFailed", 211)
        );
        assert_eq!(e.host.as_deref(), Some("aks-agentpool-18316292-0"));
        assert!(e.message.starts_with("rpc error: code = Unknown"));
    }

    /// From gardener/gardener#5757 (the reporter's elisions kept).
    #[test]
    fn describe_pod_last_state() {
        let text = "kubectl  -n shoot--project-shoot describe pod loki-0\n...\nContainers:\n....\n  loki:\n---\n    State:          Running\n      Started:      Wed, 06 Apr 2022 13:32:05 +0300\n    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n      Started:      Wed, 06 Apr 2022 13:17:21 +0300\n      Finished:     Wed, 06 Apr 2022 13:32:04 +0300\n    Ready:          True\n    Restart Count:  1\n";
        assert!(is_describe(text));
        let o = read_describe(text);
        assert_eq!(o.pods.len(), 1);
        let p = &o.pods[0];
        assert_eq!(
            (p.namespace.as_deref(), p.name.as_str()),
            (Some("shoot--project-shoot"), "loki-0")
        );
        let c = &p.containers[0];
        assert_eq!((c.name.as_str(), c.restarts), ("loki", 1));
        match &c.last_state {
            Some(ContainerState::Terminated {
                reason,
                exit_code,
                finished,
                ..
            }) => {
                assert_eq!((reason.as_str(), *exit_code), ("OOMKilled", Some(137)));
                assert_eq!(
                    finished.map(|t| t.to_rfc3339()).as_deref(),
                    Some("2022-04-06T10:32:04+00:00")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    /// From kubernetes/kubernetes#29838 (2016, before kubectl 1.14: the
    /// source in braces) and kubernetes/website's secret page (`kubelet,
    /// 127.0.0.1`, its header cut after REASON as the page prints it).
    #[test]
    fn old_events_table_rows() {
        let text = "LASTSEEN   FIRSTSEEN   COUNT     NAME                                KIND         SUBOBJECT                         TYPE      REASON              SOURCE                                   MESSAGE\n13m        13m         1         nginx-deployment-3392909933-1tfwp   Pod                                            Normal    Scheduled           {default-scheduler }                     Successfully assigned nginx-deployment-3392909933-1tfwp to kubernetes-minion-group-kcbf\n13m        13m         1         nginx-deployment-3392909933-1tfwp   Pod          spec.containers{nginx}            Normal    Pulling             {kubelet kubernetes-minion-group-kcbf}   pulling image \"nginx\"\n";
        assert!(is_events_table(text));
        let o = read_events_table(text);
        assert_eq!((o.unread, o.events.len()), (0, 2));
        let e = &o.events[1];
        assert_eq!(
            (e.object.kind.as_str(), e.object.name.as_str()),
            ("Pod", "nginx-deployment-3392909933-1tfwp")
        );
        assert_eq!(
            (e.reason.as_str(), e.message.as_str()),
            ("Pulling", "pulling image \"nginx\"")
        );
        assert_eq!(e.component.as_deref(), Some("kubelet"));
        assert_eq!(e.host.as_deref(), Some("kubernetes-minion-group-kcbf"));
        assert_eq!(o.events[0].component.as_deref(), Some("default-scheduler"));
        assert_eq!(o.events[0].host, None);
        let docs = "LASTSEEN   FIRSTSEEN   COUNT     NAME            KIND      SUBOBJECT                         TYPE      REASON\n0s         0s          1         dapi-test-pod   Pod                                         Warning   InvalidEnvironmentVariableNames   kubelet, 127.0.0.1      Keys [1badkey, 2alsobad] from the EnvFrom secret default/mysecret were skipped since they are considered invalid environment variable names.\n";
        let o = read_events_table(docs);
        assert_eq!(o.events.len(), 1);
        let e = &o.events[0];
        assert_eq!(e.reason, "InvalidEnvironmentVariableNames");
        assert_eq!(e.host.as_deref(), Some("127.0.0.1"));
        assert!(e.message.starts_with("Keys [1badkey"));
        // The count column counts.
        let counted = "LASTSEEN   FIRSTSEEN   COUNT     NAME              KIND         SUBOBJECT                TYPE      REASON                  SOURCE                                  MESSAGE\n1m         2m          15        pause-7774d79b5   ReplicaSet                            Warning   FailedCreate            replicaset-controller                   Error creating: pods \"pause-7774d79b5-\" is forbidden: no providers available to validate pod request\n";
        let o = read_events_table(counted);
        assert_eq!(o.events[0].count, 15);
        assert_eq!(o.events[0].object.kind, "ReplicaSet");
    }

    /// Composed: `kubectl get events -o wide` in the columns of kubectl's
    /// event table (Last Seen, Type, Reason, Object, Subobject, Source,
    /// Message, First Seen, Count, Name; pkg/printers/internalversion/
    /// printers.go), with a row of kubernetes/kubernetes#72533's event.
    #[test]
    fn wide_events_table_rows() {
        let text = "LAST SEEN   TYPE      REASON              OBJECT                    SUBOBJECT   SOURCE                              MESSAGE                                                   FIRST SEEN   COUNT   NAME\n4m          Warning   ContainerGCFailed   node/aks-agentpool-0                  kubelet, aks-agentpool-18316292-0   rpc error: code = Unknown desc = Cannot connect to the Docker daemon   3h34m        211     aks-agentpool-0.15a2b3c4d5e6f7a8\n";
        assert!(is_events_table(text));
        let o = read_events_table(text);
        assert_eq!((o.unread, o.events.len()), (0, 1));
        let e = &o.events[0];
        assert_eq!((e.object.kind.as_str(), e.count), ("Node", 211));
        assert_eq!(e.host.as_deref(), Some("aks-agentpool-18316292-0"));
        assert_eq!(
            e.message,
            "rpc error: code = Unknown desc = Cannot connect to the Docker daemon"
        );
    }

    /// From oomichi/try-kubernetes#129 (a deployment's events).
    #[test]
    fn events_table_rows() {
        let text = "LAST SEEN   TYPE     REASON              OBJECT                                   MESSAGE\n4m37s       Normal   Pulling                   pod/nginx-deployment-7759cfdc55-2xczh    Pulling image \"nginx:1.7.9\"\n4m38s       Normal   ScalingReplicaSet         deployment/nginx-deployment              Scaled up replica set nginx-deployment-7759cfdc55 to 1\n";
        assert!(is_events_table(text));
        let o = read_events_table(text);
        assert_eq!(o.unread, 0);
        assert_eq!(o.events.len(), 2);
        assert_eq!(o.events[0].object.kind, "Pod");
        assert_eq!(o.events[0].object.name, "nginx-deployment-7759cfdc55-2xczh");
        assert_eq!(o.events[1].reason, "ScalingReplicaSet");
        let all = "NAMESPACE   LAST SEEN   TYPE      REASON    OBJECT        MESSAGE\nkube-system 2m (x3 over 10m)   Warning   Unhealthy   pod/coredns-1   Readiness probe failed: x\n";
        let o = read_events_table(all);
        assert_eq!(o.events[0].object.namespace.as_deref(), Some("kube-system"));
        assert_eq!(o.events[0].count, 3);
    }
}
