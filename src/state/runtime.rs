//! What the container runtimes list: `crictl ps -a` / `crictl pods`
//! (table and `-o json`), `ctr containers ls` / `ctr tasks ls`, and
//! `docker ps -a` (table and `--format '{{json .}}'`).
//!
//! The tables are Go `text/tabwriter` output: every cell of a column
//! starts where its header starts (crictl pads with 3 spaces,
//! kubernetes-sigs/cri-tools@v1.36.0 cmd/crictl/display.go:52; ctr with 4,
//! containerd/containerd@v2.1.0 cmd/ctr/commands/tasks/list.go:59; docker
//! with 3), so a row is cut at the header's column starts. Headers hold
//! single spaces (`POD ID`, `CONTAINER ID`), columns are apart by at least
//! two.

use serde_json::Value;

use super::listing::{At, Facts, ListingKind, RuntimeEntry};

/// Reads one runtime listing into `facts.runtime`.
pub fn read(kind: ListingKind, text: &str, at: &dyn Fn(usize, &str) -> At, facts: &mut Facts) {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        read_json(kind, text, at, facts);
        return;
    }
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let Some((_, header)) = lines.next() else {
        return;
    };
    let columns = columns(header);
    for (i, line) in lines {
        let cell = |name: &str| cell(line, &columns, name);
        let entry = match kind {
            // cri-tools@v1.36.0 cmd/crictl/container.go:1355: CONTAINER IMAGE
            // CREATED STATE NAME ATTEMPT POD ID POD NAMESPACE (POD and
            // NAMESPACE since v1.26); convertContainerState gives Running,
            // Exited, Created, Unknown.
            ListingKind::CrictlPs => cell("CONTAINER")
                .or_else(|| cell("CONTAINER ID"))
                .map(|id| RuntimeEntry {
                    id,
                    sandbox: false,
                    running: cell("STATE").as_deref() == Some("Running"),
                    pod_id: cell("POD ID"),
                    pod_uid: None,
                    pod: cell("POD")
                        .zip(cell("NAMESPACE"))
                        .map(|(name, ns)| format!("{ns}/{name}")),
                    at: at(i, line),
                }),
            // sandbox.go:651: POD ID CREATED STATE NAME NAMESPACE ATTEMPT
            // RUNTIME; convertPodState gives Ready, NotReady.
            ListingKind::CrictlPods => cell("POD ID").map(|id| RuntimeEntry {
                pod: cell("NAME")
                    .zip(cell("NAMESPACE"))
                    .map(|(name, ns)| format!("{ns}/{name}")),
                running: cell("STATE").as_deref() == Some("Ready"),
                pod_id: Some(id.clone()),
                id,
                sandbox: true,
                pod_uid: None,
                at: at(i, line),
            }),
            // ctr containers ls (containers.go:126): CONTAINER IMAGE RUNTIME;
            // it says nothing of state: a container known, not running.
            ListingKind::CtrContainers => cell("CONTAINER").map(|id| RuntimeEntry {
                id,
                sandbox: false,
                running: false,
                pod_id: None,
                pod_uid: None,
                pod: None,
                at: at(i, line),
            }),
            // ctr tasks ls (list.go:60): TASK PID STATUS, the task API's
            // status names (RUNNING, STOPPED, PAUSED, CREATED, UNKNOWN).
            ListingKind::CtrTasks => cell("TASK").map(|id| RuntimeEntry {
                id,
                sandbox: false,
                running: matches!(cell("STATUS").as_deref(), Some("RUNNING" | "PAUSED")),
                pod_id: None,
                pod_uid: None,
                pod: None,
                at: at(i, line),
            }),
            // docker/cli@v29.7.2 cli/command/formatter/container.go:22:
            // ID IMAGE COMMAND CREATED STATUS PORTS NAMES, STATUS `Up …`
            // while it runs.
            ListingKind::DockerPs => cell("CONTAINER ID").map(|id| {
                docker_entry(
                    id,
                    cell("STATUS").is_some_and(|s| s.starts_with("Up")),
                    cell("NAMES").as_deref(),
                    at(i, line),
                )
            }),
            _ => None,
        };
        match entry {
            Some(mut e) if is_hex(&e.id) => {
                e.id.make_ascii_lowercase();
                facts.runtime.push(e);
            }
            _ => facts.unread += 1,
        }
    }
}

/// Column names and the byte where each starts.
fn columns(header: &str) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    let mut start: Option<usize> = None;
    let bytes = header.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let gap = b == b' ' && bytes.get(i + 1).is_none_or(|&n| n == b' ');
        let gap = gap || b == b'\t';
        match (start, gap) {
            (None, false) if b != b' ' => start = Some(i),
            (Some(s), true) => {
                out.push((header[s..i].to_string(), s));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((header[s..].trim_end().to_string(), s));
    }
    out
}

/// The cell of column `name` in `row`, trimmed; `None` when empty.
fn cell(row: &str, columns: &[(String, usize)], name: &str) -> Option<String> {
    let i = columns.iter().position(|(n, _)| n == name)?;
    let start = columns[i].1;
    let end = columns.get(i + 1).map_or(row.len(), |c| c.1).min(row.len());
    let text = row.get(start..end)?.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn is_hex(id: &str) -> bool {
    id.len() >= 12 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A docker container; dockershim and cri-dockerd name Kubernetes
/// containers `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>`
/// (`k8s_POD_…` for the sandbox; kubernetes@v1.23.0
/// pkg/kubelet/dockershim/naming.go).
fn docker_entry(id: String, running: bool, names: Option<&str>, at: At) -> RuntimeEntry {
    let parts: Vec<&str> = names.unwrap_or_default().split('_').collect();
    let k8s = parts.len() == 6 && parts[0] == "k8s";
    RuntimeEntry {
        id,
        sandbox: k8s && parts[1] == "POD",
        running,
        pod_id: None,
        pod_uid: k8s.then(|| parts[4].to_ascii_lowercase()),
        pod: k8s.then(|| format!("{}/{}", parts[3], parts[2])),
        at,
    }
}

/// `crictl … -o json` (the CRI's ListContainersResponse /
/// ListPodSandboxResponse as protobuf JSON: `id`, `podSandboxId`, `state`
/// `CONTAINER_RUNNING` / `SANDBOX_READY`, `metadata.uid`, the pod labels),
/// and docker's one object a line.
fn read_json(kind: ListingKind, text: &str, at: &dyn Fn(usize, &str) -> At, facts: &mut Facts) {
    let line_of = |id: &str| {
        text.lines()
            .enumerate()
            .find(|(_, l)| l.contains(id))
            .map_or_else(|| at(0, id), |(i, l)| at(i, l.trim()))
    };
    let str_at = |v: &Value, path: &[&str]| -> Option<String> {
        path.iter()
            .try_fold(v, |v, key| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if kind == ListingKind::DockerPs {
        for (i, line) in text.lines().enumerate() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                facts.unread += u64::from(!line.trim().is_empty());
                continue;
            };
            let Some(id) = str_at(&v, &["ID"]).filter(|id| is_hex(id)) else {
                facts.unread += 1;
                continue;
            };
            let running = str_at(&v, &["State"]).as_deref() == Some("running")
                || str_at(&v, &["Status"]).is_some_and(|s| s.starts_with("Up"));
            let names = str_at(&v, &["Names"]);
            let entry = docker_entry(
                id.to_ascii_lowercase(),
                running,
                names.as_deref(),
                at(i, line),
            );
            facts.runtime.push(entry);
        }
        return;
    }
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        facts.unread += text.lines().count() as u64;
        return;
    };
    let (list, sandbox) = match kind {
        ListingKind::CrictlPods => ("items", true),
        _ => ("containers", false),
    };
    for item in doc
        .get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = str_at(item, &["id"]).filter(|id| is_hex(id)) else {
            facts.unread += 1;
            continue;
        };
        let label = |key: &str| str_at(item, &["labels", key]);
        let state = str_at(item, &["state"]).unwrap_or_default();
        let (uid, name, ns) = if sandbox {
            (
                str_at(item, &["metadata", "uid"]),
                str_at(item, &["metadata", "name"]),
                str_at(item, &["metadata", "namespace"]),
            )
        } else {
            (
                label("io.kubernetes.pod.uid"),
                label("io.kubernetes.pod.name"),
                label("io.kubernetes.pod.namespace"),
            )
        };
        facts.runtime.push(RuntimeEntry {
            at: line_of(&id),
            id: id.to_ascii_lowercase(),
            sandbox,
            running: state == "CONTAINER_RUNNING" || state == "SANDBOX_READY",
            pod_id: if sandbox {
                Some(id.to_ascii_lowercase())
            } else {
                str_at(item, &["podSandboxId"])
            },
            pod_uid: uid.map(|u| u.to_ascii_lowercase()),
            pod: name.zip(ns).map(|(name, ns)| format!("{ns}/{name}")),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_keep_names_with_one_space() {
        let header = "CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID              POD";
        let names: Vec<String> = columns(header).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "CONTAINER",
                "IMAGE",
                "CREATED",
                "STATE",
                "NAME",
                "ATTEMPT",
                "POD ID",
                "POD"
            ]
        );
    }

    #[test]
    fn docker_names_give_the_pod() {
        let at = At {
            listing: 0,
            line: 1,
            text: String::new(),
        };
        let e = docker_entry(
            "a9acd5210705".into(),
            true,
            Some("k8s_POD_fluentd-hjj42_kube-system_1c7c3a4e-3b8e-4e4e-9d1e-7b8f0e0f6b1a_0"),
            at,
        );
        assert!(e.sandbox);
        assert_eq!(e.pod.as_deref(), Some("kube-system/fluentd-hjj42"));
        assert_eq!(
            e.pod_uid.as_deref(),
            Some("1c7c3a4e-3b8e-4e4e-9d1e-7b8f0e0f6b1a")
        );
    }
}
