//! Who is alive on the node, which [`compare`](super::compare) sets the
//! listings against.
//!
//! The runtimes' own listings say it best (a container `Running`, a
//! sandbox `Ready`): they list sandboxes too, and were taken with the
//! cgroup tree. Without them, the pods' status the API server recorded
//! (`kubectl get pods -o json|yaml`, troubleshoot's
//! `cluster-resources/pods/<ns>.json`) says which pods run (phase `Running`
//! or `Pending`) and the IDs of their containers (`containerStatuses`),
//! but not their sandboxes' IDs, and a dump of one namespace says nothing
//! of the others. So on that basis:
//!
//! - a pod is judged only when the dumps list it (in any phase), or when
//!   they span several namespaces (a whole-cluster dump);
//! - a container's cgroup is dead when its pod is, or when the status
//!   shows that container terminated (`state` or `lastState`); an unknown
//!   ID under a live pod may be its sandbox's, and is not judged;
//! - a cgroup or directory newer than the dump is not judged (the pod may
//!   have come after it).
//!
//! Without either, the logs' lifecycle lines (grammar patterns marked
//! `life`: containerd's `StopContainer … returns successfully`,
//! `RunPodSandbox … returns sandbox id …`) say which containers ended; only
//! those are dead, the pods are not judged, and the findings say that this
//! is weaker evidence. With none of these, nothing is judged: "nothing
//! known alive" never makes everything an orphan.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use regex::bytes::Regex;

use super::{paths, NodeState};
use crate::cluster::{self, Syntax};
use crate::entity::{Entity, EntitySet, Name};
use crate::grammar::Life as Said;

/// What the logs' lifecycle lines say: the full IDs of containers and
/// sandboxes started, and of those that ended.
#[derive(Debug, Default)]
pub struct LogLifecycle {
    pub started: HashSet<Name>,
    pub ended: HashSet<Name>,
}

impl LogLifecycle {
    /// From the lifecycle lines of every input (a pattern's `life`, with
    /// the entities its line names).
    pub fn of<'l>(lines: impl Iterator<Item = &'l (Said, EntitySet)>) -> Self {
        let mut out = LogLifecycle::default();
        for (said, entities) in lines {
            for e in entities.iter() {
                if let Entity::Container(id) = e {
                    match said {
                        Said::Started => out.started.insert(id.clone()),
                        Said::Ended => out.ended.insert(id.clone()),
                    };
                }
            }
        }
        out
    }

    fn is_empty(&self) -> bool {
        self.started.is_empty() && self.ended.is_empty()
    }
}

/// Whether `state` has something to judge and no listing nor pods' status
/// that says who is alive: then, and only then, the logs' lifecycle lines
/// are read (a later pass over the files, since they are routine lines).
pub fn needs_logs(state: &NodeState) -> bool {
    !state.paths.is_empty() && !knows_life(state)
}

/// Whether a runtime listing or a running pod's status says who is alive.
fn knows_life(state: &NodeState) -> bool {
    !state.runtime.is_empty() || state.pods.iter().any(|p| p.running)
}

/// A pod as a status dump shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodLife {
    pub uid: Option<String>,
    pub namespace: Option<String>,
    /// `namespace/name`, or the name alone.
    pub pod: String,
    /// Phase `Running` or `Pending` (a dump without phase: any container
    /// running).
    pub running: bool,
    /// Its containers' IDs, lower-case hex without `containerd://`,
    /// `docker://`, `cri-o://`, but those terminated.
    pub containers: Vec<String>,
    /// IDs of its terminated containers and of those before them
    /// (`lastState`): dead, whatever the pod's phase.
    pub exited: Vec<String>,
}

/// Whether the first bytes of an input are pods in JSON or YAML: a pod's
/// kind or status key, and no event's key (an event's `involvedObject`
/// says `"kind": "Pod"` too; events and nodes say nothing of what runs).
pub fn pods_syntax(head: &[u8]) -> Option<Syntax> {
    static CUES: OnceLock<(Regex, Regex)> = OnceLock::new();
    let (pod, event) = CUES.get_or_init(|| {
        let re = |p: &str| Regex::new(p).expect("literal expression, compiled by the tests");
        (
            re(
                r#"(?m)"kind"\s*:\s*"Pod(?:List)?"|"containerStatuses"\s*:|^\s*(?:- )?\s*(?:kind:\s*Pod(?:List)?|containerStatuses:)\s*$"#,
            ),
            re(r#"(?m)"(?:involvedObject|regarding)"\s*:|^\s*(?:- )?\s*(?:involvedObject|regarding):"#),
        )
    });
    match cluster::recognize(head)? {
        syntax @ (Syntax::Json | Syntax::Yaml) if pod.is_match(head) && !event.is_match(head) => {
            Some(syntax)
        }
        _ => None,
    }
}

/// Reads a pods dump into `state`: its pods, and when it was taken (the
/// newest time it states, else its file's time).
pub fn read_pods(
    state: &mut NodeState,
    path: &str,
    syntax: Syntax,
    text: &str,
    modified: Option<DateTime<FixedOffset>>,
) {
    let objects = cluster::parse(syntax, text);
    let taken = objects.newest.map(|t| t.fixed_offset()).or(modified);
    state.pod_dumps.push((path.to_string(), taken));
    for p in objects.pods {
        let running = match p.phase.as_deref() {
            Some(phase) => matches!(phase, "Running" | "Pending"),
            None => p.containers.iter().any(|c| {
                matches!(
                    c.state,
                    Some(cluster::model::ContainerState::Running { .. })
                )
            }),
        };
        let bare = |id: &str| {
            id.rsplit_once("://")
                .map_or(id, |(_, bare)| bare)
                .to_ascii_lowercase()
        };
        let (mut containers, mut exited) = (Vec::new(), Vec::new());
        for c in &p.containers {
            let terminated = matches!(
                c.state,
                Some(cluster::model::ContainerState::Terminated { .. })
            );
            if let Some(id) = c.id.as_deref().map(bare).filter(|id| !id.is_empty()) {
                if terminated {
                    exited.push(id);
                } else {
                    containers.push(id);
                }
            }
            exited.extend(c.last_id.as_deref().map(bare).filter(|id| !id.is_empty()));
        }
        state.pods.push(PodLife {
            uid: p.uid.map(|u| u.to_ascii_lowercase()),
            pod: match &p.namespace {
                Some(ns) => format!("{ns}/{}", p.name),
                None => p.name.clone(),
            },
            namespace: p.namespace,
            running,
            containers,
            exited,
        });
    }
}

/// What life is known from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// A runtime listing (crictl, ctr, docker).
    Runtime,
    /// The pods' status in API dumps.
    Pods,
    /// The logs' lifecycle lines: weaker evidence.
    Logs,
    /// Nothing: no judgement.
    Unknown,
}

/// Who is alive, and how that is known.
pub struct Life<'s> {
    state: &'s NodeState,
    pub basis: Basis,
    /// IDs (full or truncated) of running containers and ready sandboxes.
    running: Vec<&'s str>,
    /// Pod UIDs alive.
    pub uids: HashSet<String>,
    /// `namespace/name` by UID.
    pub pod_names: HashMap<String, String>,
    /// Whether the basis gives pod UIDs.
    pub knows_uids: bool,
    /// Pod UIDs the pod dumps list, in any phase.
    listed: HashSet<String>,
    /// Whether the pod dumps span several namespaces.
    whole_cluster: bool,
    /// When the newest pod dump was taken.
    pods_taken: Option<DateTime<FixedOffset>>,
    /// Container ID → pod UID, from the cgroup paths.
    uid_of: HashMap<String, String>,
    /// Containers the pods' status shows terminated.
    exited: HashSet<&'s str>,
    /// Containers and sandboxes the logs show ended.
    ended: Vec<&'s str>,
}

impl<'s> Life<'s> {
    pub fn new(state: &'s NodeState, logs: &'s LogLifecycle) -> Life<'s> {
        let basis = if !state.runtime.is_empty() {
            Basis::Runtime
        } else if knows_life(state) {
            Basis::Pods
        } else if !logs.is_empty() {
            Basis::Logs
        } else {
            Basis::Unknown
        };
        let namespaces: BTreeSet<&str> = state
            .pods
            .iter()
            .filter_map(|p| p.namespace.as_deref())
            .collect();
        let mut life = Life {
            state,
            basis,
            running: Vec::new(),
            uids: HashSet::new(),
            pod_names: HashMap::new(),
            knows_uids: state.runtime.iter().any(|r| r.pod_uid.is_some()) || basis == Basis::Pods,
            listed: HashSet::new(),
            whole_cluster: namespaces.len() > 1,
            pods_taken: state.pod_dumps.iter().filter_map(|d| d.1).max(),
            uid_of: HashMap::new(),
            exited: HashSet::new(),
            ended: Vec::new(),
        };
        if basis == Basis::Logs {
            life.ended.extend(logs.ended.iter().map(|id| &**id));
            life.running.extend(
                logs.started
                    .iter()
                    .filter(|id| !logs.ended.contains(*id))
                    .map(|id| &**id),
            );
        }
        for r in &state.runtime {
            if let (Some(uid), Some(pod)) = (&r.pod_uid, &r.pod) {
                life.pod_names.insert(uid.clone(), pod.clone());
            }
            if r.running {
                life.running.push(&r.id);
                if let Some(uid) = &r.pod_uid {
                    life.uids.insert(uid.clone());
                }
            }
        }
        // Pods the API server lists as running are alive on any basis: a
        // runtime listing may have missed them, never the other way round.
        for p in &state.pods {
            if let Some(uid) = &p.uid {
                life.listed.insert(uid.clone());
                life.pod_names
                    .entry(uid.clone())
                    .or_insert_with(|| p.pod.clone());
                if p.running {
                    life.uids.insert(uid.clone());
                }
            }
            if p.running {
                life.running.extend(p.containers.iter().map(String::as_str));
            }
            life.exited.extend(p.exited.iter().map(String::as_str));
        }
        for p in &state.paths {
            if let Some(c) = paths::cgroup(&p.path) {
                if let (Some(uid), Some(id)) = (c.pod_uid, c.container) {
                    life.uid_of.insert(id, uid);
                }
            }
        }
        life
    }

    /// Whether anything says what is alive.
    pub fn judged(&self) -> bool {
        self.basis != Basis::Unknown
    }

    /// Whether `id` (full or truncated) is a running container or sandbox.
    pub fn alive(&self, id: &str) -> bool {
        self.running
            .iter()
            .any(|r| id.starts_with(r) || r.starts_with(id))
    }

    /// Whether the basis can say if the pod `uid` is alive.
    pub fn judges_pod(&self, uid: &str) -> bool {
        match self.basis {
            Basis::Runtime => true,
            Basis::Pods => self.whole_cluster || self.listed.contains(uid),
            Basis::Logs | Basis::Unknown => false,
        }
    }

    /// Whether the container or sandbox `id` is known dead; `uid` is its
    /// pod's where a path says it.
    pub fn dead(&self, id: &str, uid: Option<&str>) -> bool {
        if self.alive(id) {
            return false;
        }
        match self.basis {
            Basis::Runtime => true,
            Basis::Pods if self.exited.contains(id) => true,
            Basis::Pods => {
                let uid = uid.or_else(|| self.uid_of.get(id).map(String::as_str));
                uid.is_some_and(|u| self.judges_pod(u) && !self.uids.contains(u))
            }
            Basis::Logs => self
                .ended
                .iter()
                .any(|e| e.starts_with(id) || id.starts_with(e)),
            Basis::Unknown => false,
        }
    }

    /// Whether an entry modified at `mtime` came after what the basis
    /// saw (a pod dump taken earlier cannot know it).
    pub fn too_new(&self, mtime: Option<DateTime<FixedOffset>>) -> bool {
        self.basis == Basis::Pods && mtime.zip(self.pods_taken).is_some_and(|(m, t)| m > t)
    }

    /// The pod a container belongs to: by the runtime listing that names
    /// it, else by its cgroup's pod UID.
    pub fn pod_of(&self, id: &str) -> Option<String> {
        self.runtime_pod_of(id).or_else(|| {
            let uid = self.uid_of.get(id)?;
            self.pod_names.get(uid).cloned()
        })
    }

    fn runtime_pod_of(&self, id: &str) -> Option<String> {
        let runtime = &self.state.runtime;
        let r = runtime
            .iter()
            .find(|r| !r.sandbox && (id.starts_with(r.id.as_str()) || r.id.starts_with(id)))?;
        r.pod.clone().or_else(|| {
            let sandbox = r.pod_id.as_deref()?;
            runtime
                .iter()
                .find(|s| {
                    s.sandbox && (s.id.starts_with(sandbox) || sandbox.starts_with(s.id.as_str()))
                })
                .and_then(|s| s.pod.clone())
        })
    }

    /// What a finding on this basis must say of it, if anything.
    pub fn basis_fact(&self) -> Option<String> {
        match self.basis {
            Basis::Pods => {}
            Basis::Logs => {
                return Some(
                    "no runtime listing nor pods' status: dead is what the logs say (the container stopped or removed), weaker evidence; pods not judged"
                        .to_string(),
                )
            }
            Basis::Runtime | Basis::Unknown => return None,
        }
        let dumps: Vec<&str> = self
            .state
            .pod_dumps
            .iter()
            .map(|d| d.0.as_str())
            .take(3)
            .collect();
        let taken = self
            .pods_taken
            .map_or_else(String::new, |t| format!(" as of {}", t.to_rfc3339()));
        Some(format!(
            "no runtime listing: alive is what the pods' status says{taken} ({}); sandboxes are not judged",
            dumps.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_are_told_from_events_and_nodes() {
        assert_eq!(
            pods_syntax(b"{\n  \"kind\": \"PodList\",\n  \"apiVersion\": \"v1\",\n"),
            Some(Syntax::Json)
        );
        assert_eq!(
            pods_syntax(b"apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n"),
            Some(Syntax::Yaml)
        );
        assert_eq!(
            pods_syntax(b"{\"kind\": \"EventList\", \"items\": [{\"involvedObject\": {\"kind\": \"Pod\"}}]}"),
            None
        );
    }
}
