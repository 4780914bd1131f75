//! The node's state beside its logs (issue 14): listings of cgroup trees,
//! containerd task directories and kubelet pod directories, compared with
//! what the runtimes list as running, joined with the log findings.
//! The listings in tests/fixtures/state are composed in the real tools'
//! formats (tests/fixtures/state/PROVENANCE.md says what each holds).

mod common;

use std::collections::BTreeSet;

use common::{json_report, podmortem};
use serde_json::Value;

const V1: &str = "tests/fixtures/state/cgroupfs-v1-containerd";
const V2: &str = "tests/fixtures/state/systemd-v2-docker";

// cgroupfs-v1-containerd
const LIVE_V1: [&str; 2] = [
    "a1f3c5e7092b4d6f8a0c2e4f6a8b0c1d3e5f7a9b1c3d5e7f9a0b2c4d6e8f0a1b",
    "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b",
];
const EXITED: &str = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf0123456789abcdef0123456789abcdef";
const DEAD_POD_CONTAINER: &str = "c2c3c4c5c6c7c8c9cacbcccdcecf0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b";
const R1: &str = "83bf797db1414d96259aa29a7325f107360383ff418ffbd3c356b14ef09f6aa2";
const R2: &str = "e2d4f6a8b0c2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4";
const YOUNG: &str = "f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5";
const LIVE_POD_V1: &str = "1c7c3a4e-3b8e-4e4e-9d1e-7b8f0e0f6b1a";

// systemd-v2-docker
const LIVE_V2: [&str; 2] = [
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeef00112233445566778899aabbccddeeff",
    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff00112233445566778899aabbccddeeff",
];
const DEAD_V2: &str = "0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223242526272829";
const DEAD_POD_V2: &str = "0008e5b2-6008-45b9-89cd-1aa60f896e24";
const LIVE_POD_V2: &str = "3a3b3c3d-4e4f-4a5b-8c6d-7e8f9a0b1c2d";

/// The state findings of a report: (kind, subject, its incident).
fn state_findings(report: &Value) -> Vec<(String, String, Value, Value)> {
    let mut out = Vec::new();
    for incident in report["incidents"].as_array().unwrap() {
        for f in incident["findings"].as_array().unwrap() {
            if f["source"] == "node-state" {
                out.push((
                    f["kind"].as_str().unwrap().to_string(),
                    f["subject"].as_str().unwrap().to_string(),
                    f.clone(),
                    incident.clone(),
                ));
            }
        }
    }
    out
}

/// Every text a state finding shows: evidence lines and the facts.
fn texts(finding: &Value) -> String {
    let mut all = String::new();
    for e in finding["evidence"].as_array().unwrap() {
        all.push_str(e["text"].as_str().unwrap());
        all.push('\n');
        for c in e["context"].as_array().into_iter().flatten() {
            all.push_str(c.as_str().unwrap());
            all.push('\n');
        }
    }
    all
}

#[test]
fn inputs_names_every_listing_by_its_content() {
    let out = podmortem(&["inputs", "--format", "json", V1, V2], None);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: BTreeSet<(String, String)> = report["listings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let path = l["path"].as_str().unwrap();
            let leaf = path.rsplit('/').next().unwrap().to_string();
            (leaf, l["kind"].as_str().unwrap().to_string())
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("crictl-pods.json", "crictl_pods"),
        ("crictl_ps_-a", "crictl_ps"),
        ("ctr-tasks.txt", "ctr_tasks"),
        ("find-cgroup.txt", "find"),
        ("ls-run-containerd.txt", "ls_long"),
        ("proc_cgroups", "proc_cgroups"),
        ("proc_self_mountinfo", "mountinfo"),
        ("cgroup-tree.txt", "find"),
        ("docker_ps_json.txt", "docker_ps"),
        ("ls-laR-kubelet-pods.txt", "ls_long"),
        ("mount.txt", "mount"),
        ("systemd-cgls.txt", "systemd_cgls"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(kinds, expected);
    // The text form names them too, and no listing is passed over as "not a log".
    let text = podmortem(&["inputs", V1], None);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("ls-run-containerd.txt  listing: ls -l"),
        "{stdout}"
    );
    assert!(!stdout.contains("not a log"), "{stdout}");
}

#[test]
fn the_seed_002_story_end_to_end() {
    let report = json_report(&[V1], None);
    let found = state_findings(&report);
    let residue: Vec<&(String, String, Value, Value)> = found
        .iter()
        .filter(|(kind, ..)| kind == "runtime_dir_residue")
        .collect();
    let subjects: BTreeSet<&str> = residue.iter().map(|(_, s, ..)| s.as_str()).collect();
    assert_eq!(
        subjects,
        BTreeSet::from([
            format!("container {R1}").as_str(),
            format!("container {R2}").as_str()
        ]),
        "exactly the two old, dead task directories"
    );
    // R1: the log's failed cleanup and the listing's directory are one
    // incident, told by the chain, with what the bundle lacks and its mount.
    let (_, _, finding, incident) = residue.iter().find(|(_, s, ..)| s.ends_with(R1)).unwrap();
    assert_eq!(incident["chain"], "task_dir_residue");
    let kinds: BTreeSet<&str> = incident["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["containerd_shim_cleanup", "runtime_dir_residue"])
    );
    let shown = texts(finding);
    assert!(shown.contains("lacks runtime\n"), "{shown}");
    assert!(
        shown.contains(&format!("{R1}/rootfs")),
        "the mount line: {shown}"
    );
    assert!(
        shown.contains("last modified 1h47m before the listing"),
        "{shown}"
    );
    let explanation = incident["explanation"].as_str().unwrap();
    assert!(
        explanation.contains("Before containerd 2.1.0"),
        "{explanation}"
    );
    let advice = incident["remediation_advice"].as_array().unwrap();
    let delete = advice
        .iter()
        .find(|a| {
            a["step"]
                .as_str()
                .unwrap()
                .contains("ctr -n k8s.io task delete <id>")
        })
        .expect("the ctr task delete step");
    assert_eq!(delete["destructive"], true);
    assert!(advice.iter().any(|a| a["step"]
        .as_str()
        .unwrap()
        .contains("Upgrade containerd to 2.1.0")));
    // R2 lacks init.pid and has no log line: an incident of its own.
    let (_, _, finding, incident) = residue.iter().find(|(_, s, ..)| s.ends_with(R2)).unwrap();
    assert!(texts(finding).contains("lacks init.pid\n"));
    assert_eq!(incident["kind"], "runtime_dir_residue");
    // Live and young IDs never appear in a state finding.
    let all: String = found.iter().map(|(_, _, f, _)| texts(f)).collect();
    for id in LIVE_V1.iter().chain([&YOUNG]) {
        assert!(!all.contains(id), "{id} reported:\n{all}");
    }
}

#[test]
fn cgroup_orphans_per_controller_join_the_exhaustion_incident() {
    let report = json_report(&[V1], None);
    let found = state_findings(&report);
    let orphans: Vec<_> = found
        .iter()
        .filter(|(k, ..)| k == "cgroup_orphans")
        .collect();
    assert_eq!(orphans.len(), 1);
    let (_, subject, finding, incident) = orphans[0];
    assert_eq!(subject, "node");
    let containers: BTreeSet<&str> = incident["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(containers, BTreeSet::from([EXITED, DEAD_POD_CONTAINER]));
    let shown = texts(finding);
    for line in [
        "memory: 3 of 6 pod and container cgroups belong to nothing running",
        "cpu,cpuacct: 3 of 6 pod and container cgroups belong to nothing running",
        "memory: /proc/cgroups counts 65529 cgroups, 14 directories exist under /sys/fs/cgroup/memory",
    ] {
        assert!(shown.contains(line), "{line}\n{shown}");
    }
    // The live pod's own cgroup is no orphan (its exited container's is).
    assert!(!shown.contains(&format!("pod{LIVE_POD_V1}\n")), "{shown}");
    assert_eq!(incident["chain"], "cgroup_exhaustion");
    let kinds: BTreeSet<&str> = incident["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "cgroup_leak_enospc",
            "cgroup_remove_failed",
            "cgroup_orphans"
        ])
    );
    let rmdir = incident["remediation_advice"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["step"].as_str().unwrap().contains("`rmdir <cgroup_dir>`"))
        .expect("the rmdir step");
    assert_eq!(
        rmdir["after"],
        "`cat <cgroup_dir>/cgroup.procs` prints nothing"
    );
    // Ranks stay a permutation after the join.
    let ranks: Vec<u64> = report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["rank"].as_u64().unwrap())
        .collect();
    assert_eq!(ranks, (1..=ranks.len() as u64).collect::<Vec<_>>());
}

#[test]
fn systemd_driver_v2_docker_and_pod_directories() {
    let report = json_report(&[V2], None);
    let found = state_findings(&report);
    let orphans: Vec<_> = found
        .iter()
        .filter(|(k, ..)| k == "cgroup_orphans")
        .collect();
    assert_eq!(orphans.len(), 1);
    let (_, _, finding, incident) = orphans[0];
    assert_eq!(incident["containers"], serde_json::json!([DEAD_V2]));
    assert_eq!(incident["pods"], serde_json::json!(["batch/job-x"]));
    assert!(texts(finding)
        .contains("unified: 2 of 5 pod and container cgroups belong to nothing running"));

    let residue: Vec<_> = found
        .iter()
        .filter(|(k, ..)| k == "pod_dir_residue")
        .collect();
    assert_eq!(residue.len(), 1, "only the dead pod's directory");
    let (_, subject, finding, incident) = residue[0];
    assert_eq!(subject, &format!("pod uid {DEAD_POD_V2}"));
    assert_eq!(incident["chain"], "leaked_pod_volumes");
    assert_eq!(incident["kind"], "orphaned_pod_volumes");
    let shown = texts(finding);
    assert!(
        shown.contains("2 volume(s) left: kubernetes.io~nfs/shared-data, kubernetes.io~secret/default-token-x8d2k"),
        "{shown}"
    );
    assert!(shown.contains("1 of its volumes still mounted"), "{shown}");
    let all: String = found.iter().map(|(_, _, f, _)| texts(f)).collect();
    for id in LIVE_V2.iter().chain([&LIVE_POD_V2]) {
        assert!(!all.contains(id), "{id} reported:\n{all}");
    }
}

#[test]
fn without_a_runtime_listing_nothing_is_judged_and_the_report_says_so() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["find-cgroup.txt", "ls-run-containerd.txt"] {
        std::fs::copy(format!("{V1}/{name}"), dir.path().join(name)).unwrap();
    }
    let report = json_report(&[dir.path().to_str().unwrap()], None);
    assert!(state_findings(&report).is_empty());
    let notes = report["notes"].to_string();
    assert!(notes.contains("cgroup orphans not judged"), "{notes}");
    assert!(notes.contains("residue not judged"), "{notes}");
}

/// On this machine itself: what is readable is collected, the rest named,
/// and the bundle goes straight into `analyze` and `inputs`.
#[test]
fn collect_writes_a_bundle_that_analyze_reads() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("node.tar.gz");
    let bundle = bundle.to_str().unwrap();
    let out = podmortem(&["collect", "-q", "-o", bundle, "--max-size", "32M"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("bytes before compression"), "{stdout}");
    let inputs = podmortem(&["inputs", "--format", "json", bundle], None);
    assert_eq!(inputs.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&inputs.stdout).unwrap();
    let listings: Vec<(String, String)> = report["listings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["path"].as_str().unwrap().to_string(),
                l["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |leaf: &str, kind: &str| listings.iter().any(|(p, k)| p.ends_with(leaf) && k == kind);
    // Every Linux machine has /proc/cgroups and mountinfo; the notes
    // always come.
    assert!(
        has(":state/proc-cgroups.txt", "proc_cgroups"),
        "{listings:?}"
    );
    assert!(has(":state/mountinfo.txt", "mountinfo"), "{listings:?}");
    assert!(has(":collect-notes.txt", "collect_notes"), "{listings:?}");
    if std::path::Path::new("/sys/fs/cgroup").is_dir() {
        assert!(has(":state/cgroup-dirs.txt", "find"), "{listings:?}");
    }
    let analyzed = podmortem(&["analyze", "--format", "json", bundle], None);
    assert_eq!(analyzed.status.code(), Some(0));
    // What is absent here is named, not silently missing.
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !std::path::Path::new("/run/containerd/io.containerd.runtime.v2.task").is_dir() {
        assert!(
            stderr.contains("io.containerd.runtime.v2.task: absent"),
            "{stderr}"
        );
    }
}

// Liveness from the pods' status (issue 14 §2): tests/fixtures/state/pods
// holds composed troubleshoot.sh `cluster-resources/pods/<ns>.json` for the
// cgroupfs-v1-containerd scenario: web-0 running (its container a1f3c5e7…,
// its previous one b0b1b2b3… in `lastState`), a completed job pod whose
// cgroups are gone, kube-proxy in kube-system. Pod 9d2f6a10-… is not
// listed: it was deleted.
const PODS: &str = "tests/fixtures/state/pods";
const DEAD_POD_V1: &str = "9d2f6a10-5e3c-4b7a-8c1d-2e4f6a8b0c3d";
const SANDBOX_V1: &str = "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b2c4d6e8f0a1b";

/// A bundle of V1's cgroup tree and task directories with the pod dumps
/// `namespaces` (no runtime listing).
fn bundle_with_pods(namespaces: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["find-cgroup.txt", "ls-run-containerd.txt"] {
        std::fs::copy(format!("{V1}/{name}"), dir.path().join(name)).unwrap();
    }
    let pods = dir.path().join("cluster-resources/pods");
    std::fs::create_dir_all(&pods).unwrap();
    for ns in namespaces {
        std::fs::copy(format!("{PODS}/{ns}.json"), pods.join(format!("{ns}.json"))).unwrap();
    }
    dir
}

#[test]
fn the_pods_status_says_who_is_alive_without_a_runtime_listing() {
    let dir = bundle_with_pods(&["default", "kube-system"]);
    let report = json_report(&[dir.path().to_str().unwrap()], None);
    let found = state_findings(&report);
    let orphans: Vec<_> = found
        .iter()
        .filter(|(k, ..)| k == "cgroup_orphans")
        .collect();
    assert_eq!(orphans.len(), 1, "{found:?}");
    let (_, _, finding, incident) = orphans[0];
    // The deleted pod's container, and web-0's previous container the
    // status names in `lastState`; not the sandbox nobody names.
    let containers: BTreeSet<&str> = incident["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(containers, BTreeSet::from([EXITED, DEAD_POD_CONTAINER]));
    let shown = texts(finding);
    assert!(
        shown.contains("memory: 3 of 6 pod and container cgroups belong to nothing running"),
        "{shown}"
    );
    assert!(shown.contains(&format!("pod{DEAD_POD_V1}")), "{shown}");
    // The finding says what life was read from.
    let said = finding.to_string();
    assert!(
        said.contains("no runtime listing: alive is what the pods' status says"),
        "{said}"
    );
    assert!(
        said.contains("cluster-resources/pods/default.json"),
        "{said}"
    );
    // Live ones never reported: web-0, its container, its sandbox; and no
    // task directory is judged (the pods' status names no sandbox, and
    // these directories belong to no cgroup of a dead pod).
    let all: String = found.iter().map(|(_, _, f, _)| texts(f)).collect();
    for id in [LIVE_V1[0], SANDBOX_V1, LIVE_POD_V1] {
        assert!(!all.contains(&format!("{id}\n")), "{id} reported:\n{all}");
    }
    assert!(
        found.iter().all(|(k, ..)| k == "cgroup_orphans"),
        "{found:?}"
    );
}

#[test]
fn a_pods_dump_of_one_namespace_judges_its_own_pods_only() {
    let dir = bundle_with_pods(&["default"]);
    let report = json_report(&[dir.path().to_str().unwrap()], None);
    let found = state_findings(&report);
    let (_, _, _, incident) = found
        .iter()
        .find(|(k, ..)| k == "cgroup_orphans")
        .expect("web-0's previous container");
    // The deleted pod is in no dump: a namespace not dumped, maybe.
    assert_eq!(incident["containers"], serde_json::json!([EXITED]));
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("1 pods have cgroups but are not in the pods' status dumps"),
        "{notes}"
    );
}

#[test]
fn pods_none_running_judge_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        format!("{V1}/find-cgroup.txt"),
        dir.path().join("find-cgroup.txt"),
    )
    .unwrap();
    // Composed: a namespace whose only pod completed (the job pod of
    // tests/fixtures/state/pods/default.json): nothing is said to run.
    std::fs::write(
        dir.path().join("pods.json"),
        "{\n  \"kind\": \"PodList\",\n  \"apiVersion\": \"v1\",\n  \"items\": [\n    {\n      \"metadata\": {\"name\": \"report-28871\", \"namespace\": \"default\", \"uid\": \"4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f60718\"},\n      \"status\": {\"phase\": \"Succeeded\", \"containerStatuses\": [{\"name\": \"report\", \"state\": {\"terminated\": {\"exitCode\": 0, \"reason\": \"Completed\"}}, \"containerID\": \"containerd://d4d5d6d7d8d9dadbdcdddedf00112233445566778899aabbccddeeff00112233\"}]}\n    }\n  ]\n}\n",
    )
    .unwrap();
    let report = json_report(&[dir.path().to_str().unwrap()], None);
    assert!(state_findings(&report).is_empty());
    assert!(report["notes"]
        .to_string()
        .contains("cgroup orphans not judged"));
}

#[test]
fn the_logs_lifecycle_judges_only_what_it_saw_end() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        format!("{V1}/find-cgroup.txt"),
        dir.path().join("find-cgroup.txt"),
    )
    .unwrap();
    std::fs::copy(
        "tests/fixtures/state/logs-only/containerd.log",
        dir.path().join("containerd.log"),
    )
    .unwrap();
    let report = json_report(&[dir.path().to_str().unwrap()], None);
    let found = state_findings(&report);
    assert_eq!(found.len(), 1, "{found:?}");
    let (kind, _, finding, incident) = &found[0];
    assert_eq!(kind, "cgroup_orphans");
    // Only the containers the logs show ended (containerd's stop and
    // removal, kubelet's ContainerDied): not the pod whose container died
    // (the logs never say the pod ended), nor the live ones.
    let containers: BTreeSet<&str> = incident["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(containers, BTreeSet::from([EXITED, DEAD_POD_CONTAINER]));
    let shown = texts(finding);
    assert!(
        shown.contains("memory: 2 of 6 pod and container cgroups belong to nothing running"),
        "{shown}"
    );
    assert!(shown.contains("weaker evidence"), "{shown}");
    assert_eq!(finding["severity"], "low");
    for id in [LIVE_V1[0], SANDBOX_V1] {
        assert!(
            !shown.contains(&format!("{id}\n")),
            "{id} reported:\n{shown}"
        );
    }
    assert!(!shown.contains(&format!("pod{DEAD_POD_V1}\n")), "{shown}");
}
