//! The cluster's side of a post-mortem (issue 17): Kubernetes objects and
//! kubectl output read beside the node's logs, by the binary.
//!
//! - the seed case seen from the API: the node log names only containers;
//!   the pods list ties them to their pod and the FailedKillPod event
//!   joins the incident as evidence from `kubernetes`;
//! - a troubleshoot.sh bundle (`.tar.gz`) holding events, pods and nodes
//!   beside a node journal, each object file named by `inputs`;
//! - a `kubectl get events` table;
//! - the events of a healthy rollout stay quiet.

mod common;

use std::io::Write;

use common::podmortem;
use serde_json::Value;

fn root(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// The real lines of samples/dockerd-stop-loop-real that name containers
/// only: dockerd's stop loop on the sandbox and kubelet's failed
/// `StopContainer` of the fluentd container. None names the pod.
fn node_lines() -> String {
    let text = std::fs::read_to_string(root("samples/dockerd-stop-loop-real/messages")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains(" dockerd: ") || l.contains("\"StopContainer from runtime service failed\"")
        })
        .collect();
    assert!(lines
        .iter()
        .all(|l| !l.contains("fluentd-hjj42") && !l.contains("hjj42")));
    lines.join("\n") + "\n"
}

fn report(args: &[&str]) -> Value {
    let mut all = vec!["analyze", "--format", "json"];
    all.extend_from_slice(args);
    let out = podmortem(&all, None);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn kinds(incident: &Value) -> Vec<&str> {
    incident["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn the_seed_case_seen_from_the_api_is_one_incident_on_the_pod() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("messages"), node_lines()).unwrap();
    for f in ["pods.json", "events.json"] {
        std::fs::copy(
            root(&format!("tests/fixtures/cluster/seed/{f}")),
            dir.path().join(f),
        )
        .unwrap();
    }
    let r = report(&[dir.path().to_str().unwrap()]);
    let incidents = r["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let i = &incidents[0];
    assert_eq!(i["kind"], "dockerd_stop_loop");
    assert_eq!(strings(&i["pods"]), ["kube-system/fluentd-hjj42"]);
    let containers = strings(&i["containers"]);
    assert!(
        containers.contains(&"a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9")
    );
    assert!(
        containers.contains(&"fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469")
    );
    let kinds = kinds(i);
    for k in [
        "dockerd_stop_loop",
        "kubelet_stop_deadline",
        "k8s_event",
        "pod_stuck_terminating",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    // The event is evidence from its own source, at its API time (UTC,
    // 16:12:58Z = the last dockerd line's 00:12:58+08:00), quoting it.
    let event = i["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "k8s_event")
        .unwrap();
    assert_eq!(event["source"], "kubernetes");
    assert_eq!(event["last_seen"], "2023-05-02T00:12:58+08:00");
    let evidence = event["evidence"].to_string();
    assert!(
        evidence.contains("FailedKillPod") && evidence.contains("(x42)"),
        "{evidence}"
    );
    assert!(evidence.contains("events.json"), "{evidence}");
}

#[test]
fn without_the_api_objects_the_pod_is_unknown() {
    let log = common::temp_log(node_lines().as_bytes());
    let r = report(&[log.path().to_str().unwrap()]);
    let pods: Vec<&str> = r["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| strings(&i["pods"]))
        .collect();
    assert!(pods.is_empty(), "{pods:?}");
}

/// Writes a `.tar.gz` holding `files` (path, content) into a temp dir.
fn tar_gz(name: &str, files: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    for (entry, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_683_000_000); // 2023-05-02T04:00:00Z, when collected
        header.set_cksum();
        tar.append_data(&mut header, entry, content.as_slice())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    let path = path.to_str().unwrap().to_string();
    (dir, path)
}

/// A troubleshoot.sh support bundle as its collectors lay it out
/// (replicatedhq/troubleshoot@5bf008f pkg/collect/cluster_resources.go):
/// `cluster-resources/events/<ns>.json`, `pods/<ns>.json`, `nodes.json`,
/// and a journald host collector's node log.
#[test]
fn a_troubleshoot_bundle_reads_events_pods_and_nodes_beside_the_node_log() {
    let fixture = |f: &str| std::fs::read(root(&format!("tests/fixtures/cluster/{f}"))).unwrap();
    let top = "support-bundle-2023-05-02T04_00_00";
    let files = [
        (
            format!("{top}/version.yaml"),
            b"apiVersion: troubleshoot.sh/v1beta2\n".to_vec(),
        ),
        (
            format!("{top}/host-collectors/journald/docker.txt"),
            node_lines().into_bytes(),
        ),
        (
            format!("{top}/host-collectors/journald/docker-info.json"),
            b"{\"command\":\"journalctl\"}".to_vec(),
        ),
        (
            format!("{top}/cluster-resources/events/kube-system.json"),
            fixture("seed/events.json"),
        ),
        (
            format!("{top}/cluster-resources/pods/kube-system.json"),
            fixture("seed/pods.json"),
        ),
        (
            format!("{top}/cluster-resources/nodes.json"),
            fixture("troubleshoot/nodes.json"),
        ),
        (
            format!("{top}/cluster-resources/pods-errors.json"),
            b"[]".to_vec(),
        ),
        (
            format!("{top}/cluster-resources/services/kube-system.json"),
            b"{\"kind\":\"ServiceList\",\"items\":[]}".to_vec(),
        ),
    ];
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    let (_dir, bundle) = tar_gz("support-bundle.tar.gz", &files);

    let out = podmortem(&["inputs", "--format", "json", &bundle], None);
    let inputs: Value = serde_json::from_slice(&out.stdout).unwrap();
    let formats: Vec<(String, String)> = inputs["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let path = i["path"].as_str().unwrap();
            let leaf = path.rsplit_once(&format!("{top}/")).unwrap().1.to_string();
            (leaf, i["format"].as_str().unwrap().to_string())
        })
        .collect();
    let want = [
        ("host-collectors/journald/docker.txt", "syslog"),
        (
            "cluster-resources/events/kube-system.json",
            "k8s-events-json",
        ),
        ("cluster-resources/pods/kube-system.json", "k8s-pods-json"),
        ("cluster-resources/nodes.json", "k8s-nodes-json"),
    ];
    for (path, format) in want {
        assert!(
            formats.iter().any(|(p, f)| p == path && f == format),
            "{path} as {format} not in {formats:?}"
        );
    }
    assert_eq!(formats.len(), 4, "{formats:?}");

    let r = report(&[&bundle]);
    let incidents = r["incidents"].as_array().unwrap();
    let seed = incidents
        .iter()
        .find(|i| i["kind"] == "dockerd_stop_loop")
        .expect("the stop loop");
    assert_eq!(strings(&seed["pods"]), ["kube-system/fluentd-hjj42"]);
    assert!(kinds(seed).contains(&"k8s_event"));
    // The node went NotReady while its runtime hung: its condition is a
    // finding of its own, on the node, since its last transition.
    let node = incidents
        .iter()
        .find(|i| kinds(i).contains(&"k8s_node_condition"))
        .expect("the node's Ready condition");
    assert_eq!(node["first_seen"], "2023-05-02T00:14:12+08:00");
    assert_eq!(strings(&node["hosts"]), ["ecs-prod-003"]);
}

/// Rows of a `kubectl get events -A` table: the FailedCreatePodSandBox
/// row is kubernetes-sigs/nfs-subdir-external-provisioner#257's describe
/// row (its message verbatim) in the table's columns (composed); the
/// others are the deployment of oomichi/try-kubernetes#129 (verbatim).
#[test]
fn a_kubectl_get_events_table() {
    let table = std::fs::read(root("tests/fixtures/cluster/get-events-warning.txt")).unwrap();
    let log = common::temp_log(&table);
    let out = podmortem(&["inputs", log.path().to_str().unwrap()], None);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("kubectl-events-table"), "{listing}");
    let r = report(&[log.path().to_str().unwrap()]);
    let incidents = r["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(incidents[0]["kind"], "k8s_event");
    assert_eq!(
        strings(&incidents[0]["pods"]),
        ["a/nfs-client-provisioner-59c5f46f5-d4nds"]
    );
    assert_eq!(r["stats"]["unparsed"], 0);
}

fn worst(r: &Value) -> Option<&str> {
    let order = ["low", "medium", "high", "critical"];
    r["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["severity"].as_str().unwrap())
        .max_by_key(|s| order.iter().position(|o| o == s))
}

#[test]
fn a_healthy_rollout_stays_quiet() {
    // oomichi/try-kubernetes#129: a deployment's events, verbatim.
    let table = std::fs::read(root("tests/fixtures/cluster/get-events-rollout.txt")).unwrap();
    let log = common::temp_log(&table);
    let r = report(&[log.path().to_str().unwrap()]);
    assert_eq!(r["incidents"].as_array().unwrap().len(), 0, "{r:#}");
    assert_eq!(r["inputs"][0]["format"], "kubectl-events-table");
    // A rolling update as `kubectl get events -o yaml` (composed): a
    // readiness probe failing three times while the new pod starts.
    let yaml = common::temp_log(
        &std::fs::read(root("tests/fixtures/cluster/rollout-events.yaml")).unwrap(),
    );
    let r = report(&[yaml.path().to_str().unwrap()]);
    assert_eq!(r["inputs"][0]["format"], "k8s-events-yaml");
    assert!(worst(&r).is_none(), "{r:#}");
}

/// An event the API server folded repeats into counts them all (issue 17:
/// `count`, and `series.count` in events.k8s.io/v1). Composed: a
/// FailedMount of a pod as `kubectl get events -o json` writes it, with the
/// message of kubernetes-sigs/nfs-subdir-external-provisioner#257, counted
/// 12 times; then the same as one event of each API, 240 times in series.
#[test]
fn an_events_count_is_its_findings_occurrences() {
    let core = |count: u64| {
        format!(
            r#"{{"apiVersion": "v1", "kind": "List", "items": [{{
  "apiVersion": "v1", "kind": "Event",
  "metadata": {{"name": "web-1.17a1", "namespace": "a"}},
  "involvedObject": {{"kind": "Pod", "namespace": "a", "name": "web-1"}},
  "reason": "FailedMount", "type": "Warning", "count": {count},
  "message": "MountVolume.SetUp failed for volume \"pvc-7b8\" : mount failed: exit status 32",
  "firstTimestamp": "2024-03-12T09:00:00Z", "lastTimestamp": "2024-03-12T09:40:00Z",
  "source": {{"component": "kubelet", "host": "node-a"}}}}]}}
"#
        )
    };
    let count_of = |text: String| {
        let log = common::temp_log(text.as_bytes());
        let r = report(&[log.path().to_str().unwrap()]);
        let findings: Vec<Value> = r["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| i["findings"].as_array().unwrap().clone())
            .filter(|f| f["kind"] == "k8s_event")
            .collect();
        assert_eq!(findings.len(), 1, "{r:#}");
        findings[0]["count"].as_u64().unwrap()
    };
    assert_eq!(count_of(core(1)), 1);
    assert_eq!(count_of(core(12)), 12);
    let series = r#"{"apiVersion": "events.k8s.io/v1", "kind": "EventList", "items": [{
  "apiVersion": "events.k8s.io/v1", "kind": "Event",
  "metadata": {"name": "web-1.17a2", "namespace": "a"},
  "regarding": {"kind": "Pod", "namespace": "a", "name": "web-1"},
  "reason": "FailedMount", "type": "Warning",
  "note": "MountVolume.SetUp failed for volume \"pvc-7b8\" : mount failed: exit status 32",
  "eventTime": "2024-03-12T09:00:00.000000Z",
  "series": {"count": 240, "lastObservedTime": "2024-03-12T10:01:05.000000Z"},
  "reportingController": "kubelet", "reportingInstance": "node-a"}]}
"#;
    assert_eq!(count_of(series.to_string()), 240);
}
