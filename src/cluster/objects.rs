//! Kubernetes API objects as `kubectl get -o json|yaml`, support bundles
//! and event exporters write them: a single object, a `List` (`EventList`,
//! `PodList`, `List` of mixed kinds), a JSON array, several JSON documents
//! one after another (`kubectl get -w -o json`) or YAML documents separated
//! by `---`, and watch wrappers (`{"type": "ADDED", "object": …}`,
//! eventrouter's `{"verb": "ADDED", "event": …}`).
//!
//! Shapes, from the API reference (kubernetes/kubernetes@v1.31.0
//! staging/src/k8s.io/api/core/v1/types.go `Event`, `PodStatus`,
//! `ContainerStatus`, `NodeCondition`; staging/src/k8s.io/api/events/v1/types.go
//! `Event`): core/v1 events name their object `involvedObject` and carry
//! `message`, `count`, `firstTimestamp`/`lastTimestamp`, `source.host`;
//! events.k8s.io/v1 name it `regarding` and carry `note`, `series`,
//! `eventTime`, `deprecated*` copies and `reportingInstance`.
//!
//! A JSON document cut short (a paste that stops mid-object) is read up to
//! its last complete member; what is left out is counted.

use std::collections::HashMap;

use serde_json::Value;

use super::model::{
    ApiTime, ClusterEvent, ContainerState, ContainerStatus, NodeCondition, NodeStatus, ObjectRef,
    Objects, PodStatus,
};

/// Reads JSON documents (one or several, possibly cut short).
pub fn read_json(text: &str) -> Objects {
    let mut out = Objects {
        lines: count_lines(text),
        ..Objects::default()
    };
    let lines = UidLines::new(text);
    let mut rest = text;
    while !rest.trim_start().is_empty() {
        let mut docs = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match docs.next() {
            Some(Ok(doc)) => {
                walk(&doc, &lines, &mut out);
                rest = &rest[docs.byte_offset()..];
            }
            _ => {
                // Cut short or broken: read what closes, count one unread
                // document, and stop (nothing after a broken document can
                // be framed reliably).
                if let Some(doc) = repair(rest).and_then(|s| serde_json::from_str::<Value>(&s).ok())
                {
                    walk(&doc, &lines, &mut out);
                }
                out.unread += 1;
                break;
            }
        }
    }
    out
}

/// Reads YAML documents.
pub fn read_yaml(text: &str) -> Objects {
    let mut out = Objects {
        lines: count_lines(text),
        ..Objects::default()
    };
    let lines = UidLines::new(text);
    for doc in serde_norway::Deserializer::from_str(text) {
        match <Value as serde::Deserialize>::deserialize(doc) {
            Ok(doc) => walk(&doc, &lines, &mut out),
            Err(_) => out.unread += 1,
        }
    }
    out
}

fn count_lines(text: &str) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64;
    newlines + u64::from(!text.is_empty() && !text.ends_with('\n'))
}

/// Visits every object in `v`: lists, arrays and watch wrappers are
/// opened; other kinds (services, deployments) are not podmortem's.
fn walk(v: &Value, lines: &UidLines, out: &mut Objects) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| walk(i, lines, out)),
        Value::Object(map) => {
            let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
            if let Some(items) = map.get("items").and_then(Value::as_array) {
                items.iter().for_each(|i| walk(i, lines, out));
            } else if kind == "Event"
                || map.contains_key("involvedObject")
                || map.contains_key("regarding")
            {
                event(v, lines, out);
            } else if kind == "Pod"
                || (kind.is_empty() && at(v, &["status", "containerStatuses"]).is_some())
            {
                pod(v, lines, out);
            } else if kind == "Node"
                || (kind.is_empty() && at(v, &["status", "nodeInfo"]).is_some())
            {
                node(v, lines, out);
            } else if let Some(inner) = map.get("event").or_else(|| map.get("object")) {
                walk(inner, lines, out);
            }
        }
        _ => {}
    }
}

fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    at(v, path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn int(v: &Value, path: &[&str]) -> Option<i64> {
    at(v, path).and_then(Value::as_i64)
}

fn time(v: &Value, path: &[&str]) -> Option<ApiTime> {
    let s = at(v, path)?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

fn event(v: &Value, lines: &UidLines, out: &mut Objects) {
    let object = at(v, &["involvedObject"]).or_else(|| at(v, &["regarding"]));
    let object = object.map_or_else(ObjectRef::default, |o| ObjectRef {
        kind: text(o, &["kind"]).unwrap_or_default(),
        namespace: text(o, &["namespace"]),
        name: text(o, &["name"]).unwrap_or_default(),
        uid: text(o, &["uid"]),
    });
    let count = [
        int(v, &["count"]),
        int(v, &["series", "count"]),
        int(v, &["deprecatedCount"]),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(1)
    .max(1) as u64;
    let first = time(v, &["firstTimestamp"])
        .or_else(|| time(v, &["deprecatedFirstTimestamp"]))
        .or_else(|| time(v, &["eventTime"]));
    let last = [
        time(v, &["lastTimestamp"]),
        time(v, &["series", "lastObservedTime"]),
        time(v, &["deprecatedLastTimestamp"]),
        time(v, &["eventTime"]),
        first,
        time(v, &["metadata", "creationTimestamp"]),
    ]
    .into_iter()
    .flatten()
    .next();
    let component = text(v, &["source", "component"])
        .or_else(|| text(v, &["deprecatedSource", "component"]))
        .or_else(|| text(v, &["reportingComponent"]))
        .or_else(|| text(v, &["reportingController"]));
    let host = text(v, &["source", "host"])
        .or_else(|| text(v, &["deprecatedSource", "host"]))
        .or_else(|| {
            // kubelet reports as `reportingInstance: <node>`; controllers
            // name their own pod there, which is no node.
            let kubelet = component.as_deref() == Some("kubelet");
            text(v, &["reportingInstance"]).filter(|_| kubelet)
        });
    out.saw(last);
    out.events.push(ClusterEvent {
        line: lines.of(text(v, &["metadata", "uid"]).as_deref()),
        object,
        kind: text(v, &["type"]).unwrap_or_default(),
        reason: text(v, &["reason"]).unwrap_or_default(),
        message: text(v, &["message"])
            .or_else(|| text(v, &["note"]))
            .unwrap_or_default(),
        count,
        first,
        last,
        component,
        host,
        row: None,
    });
}

fn pod(v: &Value, lines: &UidLines, out: &mut Objects) {
    let uid = text(v, &["metadata", "uid"]);
    let line = lines.of(uid.as_deref());
    let mut containers = Vec::new();
    for (key, init) in [
        ("initContainerStatuses", true),
        ("containerStatuses", false),
    ] {
        let statuses = at(v, &["status", key]).and_then(Value::as_array);
        for s in statuses.into_iter().flatten() {
            let state = at(s, &["state"]).and_then(|st| container_state(st, out));
            let last_state = at(s, &["lastState"]).and_then(|st| container_state(st, out));
            containers.push(ContainerStatus {
                line,
                name: text(s, &["name"]).unwrap_or_default(),
                id: text(s, &["containerID"]),
                last_id: text(s, &["lastState", "terminated", "containerID"]),
                init,
                restarts: int(s, &["restartCount"]).unwrap_or(0).max(0) as u64,
                state,
                last_state,
            });
        }
    }
    for c in at(v, &["status", "conditions"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.saw(time(c, &["lastProbeTime"]).max(time(c, &["lastTransitionTime"])));
    }
    let deletion = time(v, &["metadata", "deletionTimestamp"]);
    out.pods.push(PodStatus {
        line,
        namespace: text(v, &["metadata", "namespace"]),
        name: text(v, &["metadata", "name"]).unwrap_or_default(),
        uid,
        node: text(v, &["spec", "nodeName"]),
        deletion,
        grace_s: int(v, &["metadata", "deletionGracePeriodSeconds"]),
        phase: text(v, &["status", "phase"]),
        containers,
        sandbox: text(
            v,
            &[
                "metadata",
                "annotations",
                "cni.projectcalico.org/containerID",
            ],
        ),
    });
}

fn container_state(v: &Value, out: &mut Objects) -> Option<ContainerState> {
    if let Some(w) = v.get("waiting") {
        return Some(ContainerState::Waiting {
            reason: text(w, &["reason"]).unwrap_or_default(),
            message: text(w, &["message"]).unwrap_or_default(),
        });
    }
    if let Some(r) = v.get("running") {
        let started = time(r, &["startedAt"]);
        out.saw(started);
        return Some(ContainerState::Running { started });
    }
    let t = v.get("terminated")?;
    let finished = time(t, &["finishedAt"]);
    out.saw(finished);
    Some(ContainerState::Terminated {
        reason: text(t, &["reason"]).unwrap_or_default(),
        exit_code: int(t, &["exitCode"]),
        signal: int(t, &["signal"]).filter(|&s| s != 0),
        finished,
        message: text(t, &["message"]).unwrap_or_default(),
    })
}

fn node(v: &Value, lines: &UidLines, out: &mut Objects) {
    let line = lines.of(text(v, &["metadata", "uid"]).as_deref());
    let conditions = at(v, &["status", "conditions"]).and_then(Value::as_array);
    let conditions = conditions
        .into_iter()
        .flatten()
        .map(|c| {
            let heartbeat = time(c, &["lastHeartbeatTime"]);
            out.saw(heartbeat);
            NodeCondition {
                line,
                kind: text(c, &["type"]).unwrap_or_default(),
                status: text(c, &["status"]).unwrap_or_default(),
                reason: text(c, &["reason"]).unwrap_or_default(),
                message: text(c, &["message"]).unwrap_or_default(),
                last_transition: time(c, &["lastTransitionTime"]),
                last_heartbeat: heartbeat,
            }
        })
        .collect();
    out.nodes.push(NodeStatus {
        line,
        name: text(v, &["metadata", "name"]).unwrap_or_default(),
        conditions,
    });
}

/// The line where each `uid` value is first written: where an object
/// starts, near enough for evidence (`file:line`). Built in one pass.
struct UidLines(HashMap<String, u64>);

impl UidLines {
    fn new(text: &str) -> UidLines {
        let mut map = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let Some(at) = line.find("uid") else {
                continue;
            };
            let rest = line[at + 3..].trim_start_matches('"').trim_start();
            let Some(rest) = rest.strip_prefix(':') else {
                continue;
            };
            let rest = rest.trim_start();
            let value = match rest.strip_prefix(['"', '\'']) {
                Some(quoted) => quoted.split(['"', '\'']).next().unwrap_or_default(),
                None => rest.split([',', ' ', '}']).next().unwrap_or_default(),
            };
            if !value.is_empty() {
                map.entry(value.to_string()).or_insert(i as u64 + 1);
            }
        }
        UidLines(map)
    }

    fn of(&self, uid: Option<&str>) -> u64 {
        uid.and_then(|u| self.0.get(u)).copied().unwrap_or(0)
    }
}

/// Closes a JSON document cut short: drops the member being written when
/// the text ended and closes every open array and object. `None` when the
/// text does not start a JSON container.
fn repair(text: &str) -> Option<String> {
    let start = text.find(['{', '['])?;
    let body = &text[start..];
    let mut open: Vec<u8> = Vec::new();
    // Where the text can be cut: after an opening bracket or before a
    // comma, with the brackets open there.
    let mut cut = (0, Vec::new());
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in body.bytes().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                open.push(if b == b'{' { b'}' } else { b']' });
                cut = (i + 1, open.clone());
            }
            b'}' | b']' => {
                open.pop();
                if open.is_empty() {
                    return None; // complete: not cut short
                }
            }
            b',' => cut = (i, open.clone()),
            _ => {}
        }
    }
    let (at, closers) = cut;
    if closers.is_empty() {
        return None;
    }
    let mut fixed = body[..at].to_string();
    fixed.extend(closers.iter().rev().map(|&c| c as char));
    Some(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_cut_short_keeps_its_complete_members() {
        let cut = "{\n \"event\": {\n  \"reason\": \"OOMKilling\",\n  \"message\": \"x\",\n  \"firstTimestamp\": \"2023-06-13T14:35:38Z\",\n  \"lastTimes";
        let fixed = repair(cut).unwrap();
        let v: Value = serde_json::from_str(&fixed).unwrap();
        assert_eq!(v["event"]["reason"], "OOMKilling");
        assert!(v["event"].get("lastTimes").is_none());
        assert_eq!(repair("{\"a\": [1, 2]}"), None);
    }

    /// events.k8s.io/v1 (`kubectl get events.v1.events.k8s.io -o json`,
    /// field names from staging/src/k8s.io/api/events/v1/types.go) in a
    /// watch wrapper: `regarding`, `note`, `series`, `reportingInstance`.
    #[test]
    fn events_k8s_io_v1_in_a_watch_wrapper() {
        let doc = r#"{"type": "MODIFIED", "object": {
  "apiVersion": "events.k8s.io/v1", "kind": "Event",
  "metadata": {"name": "web-1.17bc", "namespace": "shop", "uid": "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"},
  "eventTime": "2024-03-12T09:41:05.120000Z",
  "series": {"count": 240, "lastObservedTime": "2024-03-12T10:01:05.000000Z"},
  "reportingController": "kubelet", "reportingInstance": "node-b",
  "action": "Killing", "reason": "FailedKillPod", "type": "Warning",
  "regarding": {"kind": "Pod", "namespace": "shop", "name": "web-1", "uid": "9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"},
  "note": "error killing pod: x"
}}
{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Event", "reason": "Pulled", "type": "Normal",
  "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-2"}, "message": "ok",
  "count": 1, "lastTimestamp": "2024-03-12T09:40:00Z", "source": {"component": "kubelet", "host": "node-a"}}}
"#;
        let o = read_json(doc);
        assert_eq!((o.events.len(), o.unread), (2, 0));
        let e = &o.events[0];
        assert_eq!((e.reason.as_str(), e.count), ("FailedKillPod", 240));
        assert_eq!(e.host.as_deref(), Some("node-b"));
        assert_eq!(e.message, "error killing pod: x");
        assert_eq!(
            e.last.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-03-12T10:01:05+00:00")
        );
        assert_eq!(e.line, 3);
        assert_eq!(o.events[1].host.as_deref(), Some("node-a"));
    }

    #[test]
    fn uid_lines_find_json_and_yaml_spellings() {
        let lines = UidLines::new("{\n  \"uid\": \"abc\",\n}\n  uid: def\n");
        assert_eq!(lines.of(Some("abc")), 2);
        assert_eq!(lines.of(Some("def")), 4);
        assert_eq!(lines.of(Some("zzz")), 0);
    }
}
