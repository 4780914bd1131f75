//! What podmortem keeps of the Kubernetes objects it reads: plain data, the
//! same whichever form it came in (API objects in JSON or YAML, a
//! `kubectl get events` table, `kubectl describe` text). Readers fill it;
//! [`record`](super::record) turns it into records the grammar matches.
//! Node conditions are exposed as they are for other consumers (the
//! conditions timeline).

use chrono::{DateTime, Utc};

/// An instant as the API server writes it: always UTC.
pub type ApiTime = DateTime<Utc>;

/// One Kubernetes Event (core/v1 or events.k8s.io/v1), or one row of a
/// table of events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterEvent {
    /// 1-based line of the input where it is written (0: unknown).
    pub line: u64,
    /// The object it is about (`involvedObject` / `regarding`).
    pub object: ObjectRef,
    /// `Warning` or `Normal`.
    pub kind: String,
    pub reason: String,
    /// `message` (core/v1) or `note` (events.k8s.io/v1).
    pub message: String,
    /// How many times it happened: `count`, `series.count`,
    /// `deprecatedCount`, or a table's `(x12 over 1h)`; at least 1.
    pub count: u64,
    pub first: Option<ApiTime>,
    /// The last time it happened: `lastTimestamp`,
    /// `series.lastObservedTime`, `eventTime`, …
    pub last: Option<ApiTime>,
    /// The reporting component (`kubelet`, `kernel-monitor`).
    pub component: Option<String>,
    /// The node that reported it (`source.host`, `reportingInstance` of
    /// kubelet, a table's `kubelet, node-1`).
    pub host: Option<String>,
    /// The row as written, for tables (evidence quotes it).
    pub row: Option<String>,
}

/// What an event is about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectRef {
    /// `Pod`, `Node`, `ReplicaSet`… (empty when a table does not say).
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: Option<String>,
}

/// A pod's identity and status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodStatus {
    pub line: u64,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: Option<String>,
    /// `spec.nodeName` (describe: `Node: name/ip`).
    pub node: Option<String>,
    /// `metadata.deletionTimestamp`: when the pod was asked to go, plus
    /// its grace period (the pod is removed by then, unless it is stuck).
    pub deletion: Option<ApiTime>,
    pub grace_s: Option<i64>,
    /// `status.phase`: `Pending`, `Running`, `Succeeded`, `Failed`,
    /// `Unknown` (what runs on the node, for `state`'s liveness).
    pub phase: Option<String>,
    /// Init containers first, then containers, as the status lists them.
    pub containers: Vec<ContainerStatus>,
    /// The pod's sandbox ID, where Calico writes it on the pod
    /// (annotation `cni.projectcalico.org/containerID`, as
    /// projectcalico/calico#7220's `kubectl describe` shows).
    pub sandbox: Option<String>,
}

/// One entry of `status.containerStatuses` or `initContainerStatuses`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerStatus {
    pub line: u64,
    pub name: String,
    /// `containerd://<id>`, `docker://<id>`, `cri-o://<id>` as written.
    pub id: Option<String>,
    /// The container before it, where `lastState.terminated.containerID`
    /// gives it (dead: `state` reads it to find its leftovers).
    pub last_id: Option<String>,
    pub init: bool,
    pub restarts: u64,
    pub state: Option<ContainerState>,
    pub last_state: Option<ContainerState>,
}

/// A container's `state` or `lastState`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerState {
    Waiting {
        reason: String,
        message: String,
    },
    Running {
        started: Option<ApiTime>,
    },
    Terminated {
        reason: String,
        exit_code: Option<i64>,
        signal: Option<i64>,
        finished: Option<ApiTime>,
        message: String,
    },
}

/// A node and its conditions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStatus {
    pub line: u64,
    pub name: String,
    pub conditions: Vec<NodeCondition>,
}

/// One of `status.conditions` of a node (`Ready`, `MemoryPressure`, and
/// node-problem-detector's `KernelDeadlock`, `ReadonlyFilesystem`…).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeCondition {
    pub line: u64,
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    pub message: String,
    pub last_transition: Option<ApiTime>,
    pub last_heartbeat: Option<ApiTime>,
}

/// Everything read from one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Objects {
    pub events: Vec<ClusterEvent>,
    pub pods: Vec<PodStatus>,
    pub nodes: Vec<NodeStatus>,
    /// Lines of the input.
    pub lines: u64,
    /// Documents, objects or rows that could not be read (counted as
    /// unparsed).
    pub unread: u64,
    /// The newest instant the input states: when it was collected, at the
    /// earliest.
    pub newest: Option<ApiTime>,
}

impl Objects {
    /// Notes an instant the input states.
    pub fn saw(&mut self, at: Option<ApiTime>) {
        if at > self.newest {
            self.newest = at;
        }
    }
}
