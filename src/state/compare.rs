//! State against life: which cgroups, task directories and pod directories
//! belong to nothing alive.
//!
//! What is alive is [`Life`]'s to say: the runtimes' own listings (a
//! container `Running`, a sandbox `Ready`, a task `RUNNING`, a docker
//! container `Up`), else the pods' status in API dumps. A pod is alive when
//! that says so by UID, or when one of its containers' cgroups is a running
//! container's. Without either the logs decide what they can: an ID whose
//! cleanup the logs show failing is dead ([`LogLife`]); nothing else is
//! judged, and the findings say so rather than guess. A cgroup that a
//! listing shows holding a process is alive whatever else is said.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, FixedOffset};

use super::life::{Basis, Life, LogLifecycle};
use super::listing::{At, ListingKind};
use super::paths;
use super::NodeState;

/// Kinds of state findings (their words are in `grammars/state.toml`).
pub const CGROUP_ORPHANS: &str = "cgroup_orphans";
pub const RUNTIME_DIR_RESIDUE: &str = "runtime_dir_residue";
pub const POD_DIR_RESIDUE: &str = "pod_dir_residue";

/// A task directory younger than this may belong to a container being
/// created or removed right now.
pub const GRACE_S: i64 = 10 * 60;

/// The files a runc v2 task bundle holds while its shim can clean it up
/// (containerd/containerd@v2.0.0 cmd/containerd-shim-runc-v2/manager/manager_linux.go:296-320:
/// Stop reads `runtime` and fails without it, reads `options.json` and
/// goes on without it, warns without `init.pid`; `config.json` is the OCI
/// spec the bundle is made of, core/runtime/v2/bundle.go:108).
pub const BUNDLE_FILES: [&str; 4] = ["runtime", "init.pid", "config.json", "options.json"];

/// What the logs say is dead: IDs whose cleanup failed, pod UIDs whose
/// volumes kubelet reports orphaned.
#[derive(Debug, Default)]
pub struct LogLife {
    pub dead_containers: HashSet<String>,
    pub dead_pods: HashSet<String>,
}

/// One finding about the node's state.
#[derive(Clone, Debug, PartialEq)]
pub struct StateFinding {
    pub kind: &'static str,
    /// `node`, or the container ID or pod UID it is about.
    pub subject: String,
    pub containers: Vec<String>,
    pub pod_uids: Vec<String>,
    /// `namespace/name` where a listing names the pod.
    pub pods: Vec<String>,
    /// How many cgroups, directories.
    pub count: usize,
    /// Of how many of their kind (the share decides the severity of
    /// orphans).
    pub of: usize,
    pub oldest: Option<DateTime<FixedOffset>>,
    pub newest: Option<DateTime<FixedOffset>>,
    /// What else the listings show, one sentence each.
    pub facts: Vec<String>,
    pub evidence: Vec<At>,
    /// Judged on the logs' lifecycle alone (weaker evidence: its severity
    /// is one level less).
    pub weak: bool,
}

/// Every state finding, and notes on what could not be judged.
pub fn findings(
    state: &NodeState,
    logs: &LogLife,
    lifecycle: &LogLifecycle,
) -> (Vec<StateFinding>, Vec<String>) {
    let life = Life::new(state, lifecycle);
    let mut notes = Vec::new();
    let mut out = Vec::new();
    let cgroup_live_uids = cgroups(state, &life, &mut out, &mut notes);
    task_dirs(state, &life, logs, &mut out, &mut notes);
    pod_dirs(state, &life, logs, &cgroup_live_uids, &mut out, &mut notes);
    if let Some(fact) = life.basis_fact() {
        for f in &mut out {
            f.facts.push(fact.clone());
            f.weak = life.basis == Basis::Logs;
        }
    }
    (out, notes)
}

/// Cgroup orphans, per controller, and the `/proc/cgroups` gap; returns
/// the pod UIDs whose cgroups show them alive.
fn cgroups(
    state: &NodeState,
    life: &Life<'_>,
    out: &mut Vec<StateFinding>,
    notes: &mut Vec<String>,
) -> HashSet<String> {
    // (controller, uid, container) → the entry, once.
    let mut seen: BTreeMap<(String, String, Option<String>), usize> = BTreeMap::new();
    for (i, p) in state.paths.iter().enumerate() {
        if let Some(c) = paths::cgroup(&p.path) {
            let uid = c.pod_uid.unwrap_or_default();
            seen.entry((c.controller, uid, c.container)).or_insert(i);
        }
    }
    let busy = |i: usize| state.paths[i].has_procs == Some(true);
    let unjudged = |i: usize| busy(i) || life.too_new(state.paths[i].mtime);
    let mut live_uids: HashSet<String> = life.uids.clone();
    for ((_, uid, container), &i) in &seen {
        let live = container.as_deref().is_some_and(|id| life.alive(id)) || busy(i);
        if live {
            live_uids.insert(uid.clone());
        }
    }
    // A pod is judged when UIDs are known, or its containers' cgroups are listed.
    let listed_children: HashSet<&str> = seen
        .keys()
        .filter(|(_, _, c)| c.is_some())
        .map(|(_, uid, _)| uid.as_str())
        .collect();
    let mut per_controller: BTreeMap<&str, (usize, usize, Vec<usize>)> = BTreeMap::new();
    let mut pod_uids = BTreeSet::new();
    let mut containers = BTreeSet::new();
    if !seen.is_empty() && !life.judged() {
        notes.push(format!(
            "{} pod and container cgroups are listed but no runtime listing (crictl, ctr, docker) nor pods' status says what runs: cgroup orphans not judged",
            seen.len()
        ));
    }
    let mut out_of_scope = BTreeSet::new();
    for ((controller, uid, container), &i) in &seen {
        let slot = per_controller.entry(controller).or_default();
        slot.1 += 1;
        if !life.judged() || unjudged(i) {
            continue;
        }
        if life.basis == Basis::Pods && !life.judges_pod(uid) {
            out_of_scope.insert(uid.as_str());
            continue;
        }
        let orphan = match container {
            Some(id) => life.dead(id, Some(uid)),
            None => {
                life.judges_pod(uid)
                    && (life.knows_uids || listed_children.contains(uid.as_str()))
                    && !live_uids.contains(uid)
            }
        };
        if orphan {
            slot.0 += 1;
            slot.2.push(i);
            match container {
                Some(id) => {
                    containers.insert(id.clone());
                }
                None => {
                    pod_uids.insert(uid.clone());
                }
            }
        }
    }
    if !out_of_scope.is_empty() {
        notes.push(format!(
            "{} pods have cgroups but are not in the pods' status dumps, which cover one namespace: their cgroups not judged",
            out_of_scope.len()
        ));
    }
    let mut evidence = Vec::new();
    let mut facts = Vec::new();
    let (mut count, mut of) = (0, 0);
    for (controller, (orphans, total, entries)) in &per_controller {
        if *orphans == 0 {
            continue;
        }
        facts.push(format!(
            "{controller}: {orphans} of {total} pod and container cgroups belong to nothing running"
        ));
        evidence.extend(entries.iter().take(3).map(|&i| state.paths[i].at.clone()));
        if orphans > &count {
            (count, of) = (*orphans, *total);
        }
    }
    let gap = proc_cgroups_gap(state);
    let gap_count = gap.iter().map(|g| g.0).max().unwrap_or(0);
    for (n, sentence, at) in gap {
        facts.push(sentence);
        evidence.push(at);
        if count == 0 {
            (count, of) = (n, n);
        }
    }
    if count > 0 || gap_count > 0 {
        let pods = pod_uids
            .iter()
            .filter_map(|u| life.pod_names.get(u).cloned())
            .collect();
        out.push(StateFinding {
            kind: CGROUP_ORPHANS,
            subject: "node".into(),
            containers: containers.into_iter().collect(),
            pod_uids: pod_uids.into_iter().collect(),
            pods,
            count,
            of,
            oldest: None,
            newest: None,
            facts,
            evidence,
            weak: false,
        });
    }
    live_uids
}

/// Cgroups the kernel still counts (`/proc/cgroups` num_cgroups) beyond
/// the directories a whole-hierarchy listing shows: removed cgroups that
/// something (kernel memory charged to them, on old kernels) keeps alive.
/// Only for a controller whose whole tree is listed (its root path is in a
/// listing). `(gap, sentence, evidence)`.
fn proc_cgroups_gap(state: &NodeState) -> Vec<(usize, String, At)> {
    let mut out = Vec::new();
    for s in &state.subsystems {
        if s.hierarchy == 0 && s.num_cgroups <= 1 {
            continue;
        }
        // v1: /sys/fs/cgroup/<dir whose comma list holds the name>; v2
        // (hierarchy 0): the unified root.
        let root = state
            .paths
            .iter()
            .map(|p| p.path.trim_end_matches('/'))
            .find(|p| match p.strip_prefix("/sys/fs/cgroup/") {
                Some(dir) => {
                    s.hierarchy != 0 && !dir.contains('/') && dir.split(',').any(|c| c == s.name)
                }
                None => s.hierarchy == 0 && *p == "/sys/fs/cgroup",
            });
        let Some(root) = root else {
            continue;
        };
        let prefix = format!("{root}/");
        let visible = state
            .paths
            .iter()
            .filter(|p| p.path == root || p.path.starts_with(&prefix))
            .map(|p| p.path.as_str())
            .collect::<HashSet<_>>()
            .len() as u64;
        if s.num_cgroups > visible + visible / 10 + 100 {
            let gap = (s.num_cgroups - visible) as usize;
            out.push((
                gap,
                format!(
                    "{}: /proc/cgroups counts {} cgroups, {visible} directories exist under {root}: {gap} removed cgroups are still held by the kernel",
                    s.name, s.num_cgroups
                ),
                s.at.clone(),
            ));
        }
    }
    out
}

/// Task directories of IDs not running, older than the grace period.
fn task_dirs(
    state: &NodeState,
    life: &Life<'_>,
    logs: &LogLife,
    out: &mut Vec<StateFinding>,
    notes: &mut Vec<String>,
) {
    // id → (dir entry, files listed in it)
    let mut dirs: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
    let mut files: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (i, p) in state.paths.iter().enumerate() {
        let bare_ls = state.listings[p.at.listing].kind == ListingKind::LsLong
            && !p.path.contains('/')
            && p.path.len() == 64
            && p.path.bytes().all(|b| b.is_ascii_hexdigit());
        if let Some((_, id)) = paths::task_dir(&p.path) {
            dirs.entry(id).or_insert((i, BTreeSet::new()));
        } else if bare_ls {
            dirs.entry(p.path.to_ascii_lowercase())
                .or_insert((i, BTreeSet::new()));
        } else if let Some((id, file)) = paths::task_file(&p.path) {
            files.entry(id).or_default().insert(file);
        }
    }
    for (id, set) in files {
        if let Some(dir) = dirs.get_mut(&id) {
            dir.1 = set;
        }
    }
    if dirs.is_empty() {
        return;
    }
    if !life.judged() && logs.dead_containers.is_empty() {
        notes.push(format!(
            "{} containerd task directories are listed but no runtime listing says what runs: residue not judged",
            dirs.len()
        ));
        return;
    }
    let total = dirs.len();
    for (id, (i, listed)) in dirs {
        let entry = &state.paths[i];
        let dead = if life.judged() {
            life.dead(&id, None)
                || (life.basis == Basis::Logs && logs.dead_containers.contains(&id))
        } else {
            logs.dead_containers.contains(&id)
        };
        let taken = state.taken_of(entry.at.listing);
        let age = entry.mtime.zip(taken).map(|(m, t)| (t - m).num_seconds());
        if !dead || age.is_some_and(|a| a < GRACE_S) || life.too_new(entry.mtime) {
            continue;
        }
        let mut facts = Vec::new();
        if !listed.is_empty() {
            let lacks: Vec<&str> = BUNDLE_FILES
                .iter()
                .copied()
                .filter(|f| !listed.contains(*f))
                .collect();
            if lacks.is_empty() {
                facts.push("holds runtime, init.pid, config.json and options.json".to_string());
            } else {
                facts.push(format!("lacks {}", lacks.join(", ")));
            }
        }
        let mounted: Vec<&At> = state
            .mounts
            .iter()
            .filter(|(point, _)| point.contains(&id))
            .map(|(_, at)| at)
            .collect();
        if !mounted.is_empty() {
            facts.push(format!(
                "{} mount(s) under it still mounted (its rootfs)",
                mounted.len()
            ));
        }
        if let Some(a) = age {
            facts.push(format!("last modified {} before the listing", human(a)));
        }
        let mut evidence = vec![entry.at.clone()];
        evidence.extend(mounted.into_iter().take(2).cloned());
        out.push(StateFinding {
            kind: RUNTIME_DIR_RESIDUE,
            subject: id.clone(),
            pods: life.pod_of(&id).into_iter().collect(),
            containers: vec![id],
            pod_uids: Vec::new(),
            count: 1,
            of: total,
            oldest: entry.mtime,
            newest: entry.mtime,
            facts,
            evidence,
            weak: false,
        });
    }
}

/// Kubelet pod directories of pods not alive, with their volumes.
fn pod_dirs(
    state: &NodeState,
    life: &Life<'_>,
    logs: &LogLife,
    live_uids: &HashSet<String>,
    out: &mut Vec<StateFinding>,
    notes: &mut Vec<String>,
) {
    let mut dirs: BTreeMap<String, (Option<usize>, BTreeSet<String>)> = BTreeMap::new();
    let bare_ls = |p: &super::listing::PathEntry| {
        state.listings[p.at.listing].kind == ListingKind::LsLong
            && !p.path.contains('/')
            && crate::entity::pod_uid(&p.path).is_some_and(|u| u.len() == 36)
    };
    for (i, p) in state.paths.iter().enumerate() {
        let found = paths::pod_dir(&p.path)
            .or_else(|| bare_ls(p).then(|| (p.path.to_ascii_lowercase(), None)));
        let Some((uid, volume)) = found else {
            continue;
        };
        let slot = dirs.entry(uid).or_default();
        match volume {
            Some(v) => {
                slot.1.insert(v);
            }
            None if slot.0.is_none() => slot.0 = Some(i),
            None => {}
        }
    }
    if dirs.is_empty() {
        return;
    }
    let judged = life.knows_uids || !live_uids.is_empty();
    if !judged && logs.dead_pods.is_empty() {
        notes.push(format!(
            "{} kubelet pod directories are listed but no listing gives live pod UIDs (crictl -o json, docker ps, cgroups of running containers): pod residue not judged",
            dirs.len()
        ));
        return;
    }
    let total = dirs.len();
    for (uid, (entry, volumes)) in dirs {
        let dead = if judged {
            // A pod dump of one namespace judges its own pods only; the
            // logs' lifecycle judges no pod.
            !live_uids.contains(&uid)
                && match life.basis {
                    Basis::Pods | Basis::Logs => life.judges_pod(&uid),
                    Basis::Runtime | Basis::Unknown => true,
                }
        } else {
            logs.dead_pods.contains(&uid)
        };
        if !dead {
            continue;
        }
        let first = entry.map_or_else(
            || state.paths.iter().find(|p| p.path.contains(&uid)),
            |i| Some(&state.paths[i]),
        );
        let Some(first) = first else { continue };
        let mut facts = Vec::new();
        if volumes.is_empty() {
            facts.push("its volumes are not listed".to_string());
        } else {
            let list: Vec<&str> = volumes.iter().map(String::as_str).take(5).collect();
            facts.push(format!(
                "{} volume(s) left: {}",
                volumes.len(),
                list.join(", ")
            ));
        }
        let mounted = state
            .mounts
            .iter()
            .filter(|(p, _)| p.contains(&uid))
            .count();
        if mounted > 0 {
            facts.push(format!("{mounted} of its volumes still mounted"));
        }
        if let Some((m, t)) = first.mtime.zip(state.taken_of(first.at.listing)) {
            facts.push(format!(
                "last modified {} before the listing",
                human((t - m).num_seconds())
            ));
        }
        let mut evidence = vec![first.at.clone()];
        evidence.extend(
            state
                .paths
                .iter()
                .filter(|p| p.path.contains(&uid) && p.path.contains("/volumes/"))
                .take(2)
                .map(|p| p.at.clone()),
        );
        out.push(StateFinding {
            kind: POD_DIR_RESIDUE,
            subject: uid.clone(),
            containers: Vec::new(),
            pods: life.pod_names.get(&uid).cloned().into_iter().collect(),
            pod_uids: vec![uid],
            count: 1,
            of: total,
            oldest: first.mtime,
            newest: first.mtime,
            facts,
            evidence,
            weak: false,
        });
    }
}

/// `3d4h`, `2h10m`, `12m`, `40s`.
pub fn human(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}
