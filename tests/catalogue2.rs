//! The catalogue's second pass (issue 15): image pull failures are told
//! per image with the pods waiting for it; runc's create failures are
//! counted from kubelet, containerd, dockerd and the docker client alike;
//! and a cluster dump's node conditions (`nodes.json`
//! `.status.conditions`) join the log-derived conditions on one timeline,
//! each period naming where it was read.
//!
//! Log lines are composed from the formats grammars/kubelet_node.toml cites
//! (host `worker-7`, May 1 2023, UTC+8, RHEL-style syslog); the node object
//! is composed in `kubectl get nodes -o json`'s shape.

mod common;

use common::{json_report, report_on_cst_log, temp_log};
use serde_json::Value;

fn incidents(report: &Value) -> &Vec<Value> {
    report["incidents"].as_array().expect("incidents")
}

fn kinds(incident: &Value) -> Vec<&str> {
    incident["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .expect("array")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// kubelet 1.21+'s pod worker while `pod`'s pull of `image` is backed off.
fn backoff(t: &str, pod: &str, image: &str) -> String {
    format!(
        "May  1 {t} worker-7 kubelet: E0501 {t}.145522    4568 pod_workers.go:965] \"Error syncing pod, skipping\" err=\"failed to \\\"StartContainer\\\" for \\\"app\\\" with ImagePullBackOff: \\\"Back-off pulling image \\\\\\\"{image}\\\\\\\"\\\"\" pod=\"{pod}\" podUID=bfeaeabc-c36c-4a99-87b2-881b379de2c9"
    )
}

#[test]
fn pull_back_offs_are_one_finding_per_image_with_the_pods_that_wait() {
    let bad = "registry.example.com/team/app:v2.3.9";
    let other = "docker.io/library/redis:7";
    let mut lines = Vec::new();
    for (n, pod) in ["default/app-5c9f7-2kq4d", "default/app-5c9f7-x8w2m"]
        .iter()
        .enumerate()
    {
        for k in 0..4 {
            lines.push(backoff(&format!("12:0{k}:{}0", n + 1), pod, bad));
        }
    }
    lines.push(backoff("12:05:00", "cache/redis-0", other));
    lines.sort_by(|a, b| a[..15].cmp(&b[..15]));
    let report = report_on_cst_log(&(lines.join("\n") + "\n"));
    let pulls: Vec<&Value> = incidents(&report)
        .iter()
        .filter(|i| kinds(i).contains(&"image_pull_failure"))
        .collect();
    assert_eq!(pulls.len(), 2, "{pulls:#?}");
    let of = |image: &str| {
        pulls
            .iter()
            .find(|i| i["title"].as_str().is_some_and(|t| t.contains(image)))
            .unwrap_or_else(|| panic!("no incident names {image}: {pulls:#?}"))
    };
    let app = of(bad);
    assert_eq!(
        strings(&app["pods"]),
        ["default/app-5c9f7-2kq4d", "default/app-5c9f7-x8w2m"]
    );
    assert!(app["title"]
        .as_str()
        .expect("title")
        .contains(&format!("image {bad}; pods default/app-5c9f7-2kq4d")));
    assert_eq!(strings(&of(other)["pods"]), ["cache/redis-0"]);
}

#[test]
fn runc_create_failures_are_counted_from_every_component_that_logs_them() {
    // The same cause (AppArmor) through containerd, dockerd and the client.
    let lines = [
        "May  1 12:10:02 worker-7 containerd: time=\"2023-05-01T12:10:02.127733410+08:00\" level=error msg=\"StartContainer for \\\"5e1cdf132517df24402e476e0f3b25db9ca5514928d6b0028cd51fd40ea50fce\\\" failed\" error=\"failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: unable to apply apparmor profile: apparmor failed to apply profile: write /proc/self/attr/apparmor/exec: invalid argument: unknown\"",
        "May  1 12:11:02 worker-7 dockerd: time=\"2023-05-01T12:11:02.204413212+08:00\" level=error msg=\"Handler for POST /v1.41/containers/4c1e07fa3f2d9b0bdc2e0bb1f6b4c5e2d7a9e8f1c3b5a7d9e1f3a5c7b9d1e3f5/start returned error: OCI runtime create failed: container_linux.go:367: starting container process caused: process_linux.go:495: container init caused: apply apparmor profile: apparmor failed to apply profile: write /proc/self/attr/exec: invalid argument: unknown\"",
    ];
    let report = report_on_cst_log(&(lines.join("\n") + "\n"));
    let found: usize = incidents(&report)
        .iter()
        .flat_map(|i| i["findings"].as_array().expect("findings"))
        .filter(|f| f["kind"] == "oci_create_failed")
        .map(|f| f["count"].as_u64().unwrap_or(0) as usize)
        .sum();
    assert_eq!(found, 2, "{report:#}");
    // A leaked memory cgroup in the same words is cgroup_leak_enospc's.
    let enospc = report_on_cst_log("May  1 12:12:02 worker-7 dockerd: time=\"2023-05-01T12:12:02.358113206+08:00\" level=error msg=\"Handler for POST /v1.40/containers/3b1f0c9a4d2e/start returned error: OCI runtime create failed: container_linux.go:370: starting container process caused: process_linux.go:326: applying cgroup configuration for process caused: mkdir /sys/fs/cgroup/memory/kubepods/besteffort/pod98211fca-b27e-4316-b1ae-c0d27925aa84/3b1f0c9a4d2e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a: cannot allocate memory: unknown\"\n");
    assert!(incidents(&enospc)
        .iter()
        .all(|i| !kinds(i).contains(&"oci_create_failed")));
}

/// `kubectl get nodes -o json` for worker-7: NotReady since 04:09:41Z
/// (12:09:41 in the logs' UTC+8), DiskPressure since 03:52:10Z, memory fine.
const NODES: &str = r#"{
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {
      "apiVersion": "v1",
      "kind": "Node",
      "metadata": { "name": "worker-7" },
      "status": {
        "conditions": [
          { "type": "MemoryPressure", "status": "False", "lastHeartbeatTime": "2023-05-01T04:20:00Z", "lastTransitionTime": "2023-04-30T22:00:00Z", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available" },
          { "type": "DiskPressure", "status": "True", "lastHeartbeatTime": "2023-05-01T04:20:00Z", "lastTransitionTime": "2023-05-01T03:52:10Z", "reason": "KubeletHasDiskPressure", "message": "kubelet has disk pressure" },
          { "type": "Ready", "status": "False", "lastHeartbeatTime": "2023-05-01T04:20:00Z", "lastTransitionTime": "2023-05-01T04:09:41Z", "reason": "KubeletNotReady", "message": "PLEG is not healthy: pleg was last seen active 3m1.2s ago; threshold is 3m0s" }
        ]
      }
    }
  ]
}
"#;

#[test]
fn node_object_conditions_join_the_log_conditions_on_one_timeline() {
    // kubelet's own word that the node was Ready before it went NotReady.
    let log = temp_log(b"May  1 11:30:00 worker-7 kubelet: I0501 11:30:00.001120    4568 kubelet_node_status.go:696] \"Recording event message for node\" node=\"worker-7\" event=\"NodeReady\"\n");
    let nodes = temp_log(NODES.as_bytes());
    let report = json_report(
        &[
            "--year",
            "2023",
            "--tz",
            "+08:00",
            log.path().to_str().expect("path"),
            nodes.path().to_str().expect("path"),
        ],
        None,
    );
    let conditions = report["conditions"].as_array().expect("conditions");
    let ready: Vec<&Value> = conditions
        .iter()
        .filter(|c| c["host"] == "worker-7" && c["condition"] == "Ready")
        .collect();
    // Ready from kubelet's event until the node object's transition.
    assert_eq!(ready.len(), 2, "{conditions:#?}");
    assert_eq!(ready[0]["status"], "True");
    assert_eq!(
        ready[0]["sources"],
        serde_json::json!(["kubelet.node_event"])
    );
    assert_eq!(ready[0]["to"], "2023-05-01T12:09:41+08:00");
    let not_ready = ready[1];
    assert_eq!(not_ready["status"], "False");
    assert_eq!(not_ready["abnormal"], true);
    assert_eq!(not_ready["reason"], "KubeletNotReady");
    assert_eq!(
        not_ready["sources"],
        serde_json::json!(["kubernetes.node_ready_condition"])
    );
    assert!(not_ready.get("to").is_none(), "{not_ready:#}");
    assert!(strings(&not_ready["during"]).contains(&"DiskPressure=True"));
    // The healthy memory condition is a period too, and no problem.
    assert!(conditions.iter().any(|c| c["condition"] == "MemoryPressure"
        && c["status"] == "False"
        && c["abnormal"] == false
        && c["sources"] == serde_json::json!(["kubernetes.node_condition_cleared"])));
}

#[test]
fn npd_condition_changes_are_counted_with_their_kernel_kind_and_timed() {
    // NPD's log of its KernelDeadlock condition (v0.8.13+ message), with no
    // kernel log beside it; composed as grammars/npd.toml's samples.
    let line = "May  1 11:05:04 worker-7 node-problem-detector[2345]: I0501 11:05:04.112233    2345 log_monitor.go:159] New status generated: &{Source:kernel-monitor Events:[{Severity:warn Timestamp:2023-05-01 11:05:03 +0800 CST Reason:DockerHung Message:Node condition KernelDeadlock is now: True, reason: DockerHung, message: \"task docker:4242 blocked for more than 120 seconds.\"}] Conditions:[{Type:KernelDeadlock Status:True Transition:2023-05-01 11:05:03 +0800 CST Reason:DockerHung Message:task docker:4242 blocked for more than 120 seconds.}]}\n";
    let report = report_on_cst_log(line);
    assert!(
        incidents(&report)
            .iter()
            .any(|i| kinds(i).contains(&"kernel_hung_task")),
        "{report:#}"
    );
    let deadlock = report["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .find(|c| c["condition"] == "KernelDeadlock")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(deadlock["status"], "True");
    assert_eq!(deadlock["abnormal"], true);
    assert_eq!(deadlock["reason"], "DockerHung");
    assert_eq!(deadlock["from"], "2023-05-01T11:05:04.112233+08:00");
    assert_eq!(
        deadlock["sources"],
        serde_json::json!(["npd.kernel_deadlock"])
    );
}
