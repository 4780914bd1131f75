//! The everyday failure catalogue (issue 15): each kind fires on the lines a
//! sick node writes and stays at most low on what a healthy node writes now
//! and then (one eviction round, one pull retry, one reserved name); chains
//! join a cause with its effects; the node's conditions come out as periods.
//!
//! Lines are composed for the tests from the formats and real lines the
//! grammar files cite (grammars/kubelet_node.toml and the others); host
//! `worker-7`, May 1, RHEL-style syslog envelopes.

mod common;

use common::report_on_cst_log;
use serde_json::Value;

fn report(mut lines: Vec<String>) -> Value {
    lines.sort_by(|a, b| a[..15].cmp(&b[..15]));
    report_on_cst_log(&(lines.join("\n") + "\n"))
}

/// Every finding of `kind` in the report, with its severity.
fn findings<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .flat_map(|i| i["findings"].as_array().expect("findings"))
        .filter(|f| f["kind"] == kind)
        .collect()
}

fn worst(report: &Value, kind: &str) -> Option<String> {
    let rank = |s: &str| {
        ["low", "medium", "high", "critical"]
            .iter()
            .position(|x| *x == s)
    };
    findings(report, kind)
        .iter()
        .filter_map(|f| f["severity"].as_str())
        .max_by_key(|s| rank(s))
        .map(str::to_string)
}

fn every_incident_at_most_low(report: &Value) -> bool {
    report["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .all(|i| i["severity"] == "low")
}

fn hms(minute: u32, second: u32) -> String {
    format!("12:{minute:02}:{second:02}")
}

fn reclaim(t: &str, resource: &str) -> String {
    format!("May  1 {t} worker-7 kubelet: I0501 {t}.101222    4568 eviction_manager.go:339] \"Eviction manager: attempting to reclaim\" resourceName=\"{resource}\"")
}

fn evicted(t: &str, pod: &str) -> String {
    format!("May  1 {t} worker-7 kubelet: I0501 {t}.331021    4568 eviction_manager.go:596] \"Eviction manager: pod is evicted successfully\" pod=\"{pod}\"")
}

#[test]
fn one_eviction_round_is_low_and_rounds_that_go_on_are_an_incident() {
    // A rollout leaves one BestEffort pod to evict: one round, then calm.
    let once = report(vec![
        reclaim("12:00:00", "memory"),
        evicted("12:00:01", "default/batch-worker-7d9f8-x2kq4"),
    ]);
    assert_eq!(
        worst(&once, "node_pressure_eviction").as_deref(),
        Some("low")
    );
    assert!(every_incident_at_most_low(&once), "{once:#}");

    // The disk stays full: a round every ten seconds for two minutes.
    let mut lines = Vec::new();
    for n in 0..12 {
        let t = hms(n / 6, (n % 6) * 10);
        lines.push(reclaim(&t, "ephemeral-storage"));
        lines.push(evicted(&t, &format!("default/web-{n}")));
    }
    let long = report(lines);
    assert_eq!(
        worst(&long, "node_pressure_eviction").as_deref(),
        Some("medium")
    );
}

#[test]
fn a_full_disk_then_failed_image_gc_then_evictions_is_one_chained_story() {
    let mut lines = vec![
        "May  1 11:52:10 worker-7 containerd: time=\"2023-05-01T11:52:10.331022154+08:00\" level=error msg=\"PullImage \\\"registry.example.com/team/app:v2.4.0\\\" failed\" error=\"failed to pull and unpack image \\\"registry.example.com/team/app:v2.4.0\\\": failed to extract layer sha256:be4eae0b2583281e2cd171c52a0b283a5e6f84e6b86066a18e205a10cb507fcd: write /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/105/fs/usr/lib/libssl.so.3: no space left on device: unknown\"".to_string(),
        "May  1 11:55:00 worker-7 kubelet: E0501 11:55:00.581006    4568 kubelet.go:1302] \"Image garbage collection failed multiple times in a row\" err=\"failed to garbage collect required amount of images. Wanted to free 96299243888 bytes, but freed 0 bytes\"".to_string(),
    ];
    for n in 0..6 {
        let t = format!("11:56:{:02}", n * 10);
        lines.push(reclaim(&t, "nodefs"));
        lines.push(evicted(&t, &format!("default/web-{n}")));
    }
    let report = report(lines);
    let first = &report["incidents"][0];
    assert_eq!(first["chain"], "disk_full_evictions", "{first:#}");
    let kinds: Vec<&str> = first["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    for kind in ["disk_full", "node_pressure_eviction"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    // The evicted pods are on the evidence (a node-wide finding does not
    // list them as the incident's pods).
    let evidence: Vec<&str> = first["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "node_pressure_eviction")
        .flat_map(|f| f["evidence"].as_array().expect("evidence"))
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert!(
        evidence.iter().any(|t| t.contains("pod=\"default/web-")),
        "{evidence:#?}"
    );
}

fn status_failed(t: &str) -> String {
    format!("May  1 {t} worker-7 kubelet: E0501 {t}.114507    4568 kubelet_node_status.go:540] \"Error updating node status, will retry\" err=\"error getting node \\\"worker-7\\\": Get \\\"https://10.0.0.1:6443/api/v1/nodes/worker-7?timeout=10s\\\": http2: client connection lost\"")
}

#[test]
fn one_failed_status_update_is_low_and_a_node_that_cannot_report_is_high() {
    let once = report(vec![status_failed("12:00:00")]);
    assert_eq!(worst(&once, "node_not_ready").as_deref(), Some("low"));
    assert!(every_incident_at_most_low(&once));

    let lines: Vec<String> = (0..15)
        .map(|n| status_failed(&hms(n / 6, (n % 6) * 10)))
        .collect();
    let long = report(lines);
    assert_eq!(worst(&long, "node_not_ready").as_deref(), Some("high"));
}

#[test]
fn an_expired_certificate_is_an_incident_from_the_first_line() {
    let report = report(vec![
        "Apr 26 10:18:22 worker-7 kubelet[1210]: E0426 10:18:22.410212    1210 kubelet_node_status.go:540] \"Error updating node status, will retry\" err=\"error getting node \\\"worker-7\\\": Get \\\"https://10.0.0.1:6443/api/v1/nodes/worker-7?timeout=10s\\\": x509: certificate has expired or is not yet valid: current time 2021-04-26T10:18:22+02:00 is after 2021-04-07T03:12:06Z\"".to_string(),
    ]);
    assert_eq!(
        worst(&report, "certificate_error").as_deref(),
        Some("medium")
    );
}

#[test]
fn ip_exhaustion_names_the_pod_and_repeats_into_an_incident() {
    let line = |t: &str| {
        format!("May  1 {t} worker-7 kubelet: E0501 {t}.994703   24727 kuberuntime_manager.go:646] createPodSandbox for pod \"myzep-79945ccb7f-rz8ld_myzep(4ae2623a-8519-11e8-9f37-005056021169)\" failed: rpc error: code = Unknown desc = NetworkPlugin cni failed to set up pod \"myzep-79945ccb7f-rz8ld_myzep\" network: failed to allocate for range 0: no IP addresses available in range set: 10.42.0.1-10.42.0.254")
    };
    let once = report(vec![line("12:00:00")]);
    assert_eq!(worst(&once, "cni_failure").as_deref(), Some("low"));
    let lines: Vec<String> = (0..4).map(|n| line(&hms(n, 0))).collect();
    let report = report(lines);
    assert_eq!(worst(&report, "cni_failure").as_deref(), Some("medium"));
    let incident = &report["incidents"][0];
    assert_eq!(
        incident["pods"],
        serde_json::json!(["myzep/myzep-79945ccb7f-rz8ld"])
    );
}

fn pull_failed(t: &str) -> String {
    format!("May  1 {t} worker-7 kubelet: E0501 {t}.712345    4568 remote_image.go:113] PullImage \"registry.example.com/team/app:v2.3.9\" from image service failed: rpc error: code = Unknown desc = Error response from daemon: manifest for registry.example.com/team/app:v2.3.9 not found: manifest unknown: manifest unknown")
}

#[test]
fn one_pull_retry_is_no_loop_but_a_pull_back_off_is() {
    let retry = report(vec![pull_failed("12:00:00"), pull_failed("12:00:15")]);
    assert_eq!(worst(&retry, "image_pull_failure").as_deref(), Some("low"));
    assert!(every_incident_at_most_low(&retry));
    // kubelet's back-off: 10 s, 20 s, 40 s, 80 s, 160 s, 300 s…
    let at = [0, 10, 30, 70, 150, 310, 610, 910];
    let lines: Vec<String> = at
        .iter()
        .map(|s| pull_failed(&hms(s / 60, s % 60)))
        .collect();
    let loop_ = report(lines);
    assert_eq!(
        worst(&loop_, "image_pull_failure").as_deref(),
        Some("medium")
    );
}

const C: &str = "83bf797db1414d96259aa29a7325f107360383ff418ffbd3c356b14ef09f6aa2";
const UID: &str = "d6097c23-9b88-4708-93e0-226bb313e7f3";

fn backoff(t: &str, b: &str) -> String {
    format!("May  1 {t} worker-7 kubelet: E0501 {t}.145522    4568 pod_workers.go:965] \"Error syncing pod, skipping\" err=\"failed to \\\"StartContainer\\\" for \\\"fluentd\\\" with CrashLoopBackOff: \\\"back-off {b} restarting failed container=fluentd pod=fluentd-hjj42_kube-system({UID})\\\"\" pod=\"kube-system/fluentd-hjj42\" podUID={UID}")
}

#[test]
fn a_crash_loop_is_joined_with_the_oom_kill_that_causes_it() {
    let mut lines = vec![
        // kubelet names the container with its pod (the join).
        format!("May  1 12:00:00 worker-7 kubelet: I0501 12:00:00.166102    4568 kuberuntime_container.go:709] \"Killing container with a grace period\" pod=\"kube-system/fluentd-hjj42\" podUID={UID} containerName=\"fluentd\" containerID=\"containerd://{C}\" gracePeriod=30"),
        format!("May  1 12:00:30 worker-7 kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-{C}.scope,mems_allowed=0,oom_memcg=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{C}.scope,task_memcg=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{C}.scope,task=fluentd,pid=4242,uid=0", UID.replace('-', "_"), UID.replace('-', "_")),
        format!("May  1 12:00:30 worker-7 kernel: Memory cgroup out of memory: Killed process 4242 (fluentd) total-vm:1048576kB, anon-rss:524288kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1024kB oom_score_adj:999"),
    ];
    for n in 0..12 {
        lines.push(backoff(&hms(1 + n / 4, (n % 4) * 15), "5m0s"));
    }
    let report = report(lines);
    let chained = report["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .find(|i| i["chain"] == "oom_crashloop");
    let incident = chained.unwrap_or_else(|| panic!("no oom_crashloop chain: {report:#}"));
    assert_eq!(
        incident["pods"],
        serde_json::json!(["kube-system/fluentd-hjj42"])
    );
    // A crash loop alone stays low, however long it lasts.
    assert_eq!(worst(&report, "crashloop").as_deref(), Some("low"));
}

#[test]
fn one_back_off_line_is_low() {
    let report = report(vec![backoff("12:00:00", "10s")]);
    assert_eq!(worst(&report, "crashloop").as_deref(), Some("low"));
    assert!(every_incident_at_most_low(&report));
}

#[test]
fn a_full_conntrack_table_is_an_incident_from_the_first_line() {
    let report = report(vec![
        "May  1 12:00:00 worker-7 kernel: nf_conntrack: nf_conntrack: table full, dropping packet"
            .to_string(),
    ]);
    assert_eq!(worst(&report, "conntrack_full").as_deref(), Some("medium"));
}

#[test]
fn open_file_and_process_limits_are_counted_per_node() {
    let line = |t: &str| {
        format!("May  1 {t} worker-7 kube-apiserver[14542]: I0501 {t}.961899   14542 logs.go:41] http: Accept error: accept tcp [::]:8080: accept4: too many open files; retrying in 10ms")
    };
    let once = report(vec![line("12:00:00")]);
    assert_eq!(worst(&once, "fd_limits").as_deref(), Some("low"));
    let mut lines: Vec<String> = (0..3).map(|n| line(&hms(0, n * 2))).collect();
    lines.push("May  1 12:00:08 worker-7 bash[22871]: /usr/local/bin/entrypoint.sh: fork: retry: Resource temporarily unavailable".to_string());
    let report = report(lines);
    assert_eq!(worst(&report, "fd_limits").as_deref(), Some("medium"));
}

#[test]
fn a_reserved_name_once_is_low_and_one_that_stays_reserved_is_not() {
    let line = |t: &str| {
        format!("May  1 {t} worker-7 crio[2687]: time=\"2023-05-01 {t}.106238240+08:00\" level=warning msg=\"error reserving pod name k8s_coredns-648f7fb587-vwgc5_kube-system_8b9d0873-39dc-4863-84e8-fbad3006d86a_0 for id bde18661896527a7f2baa1123840170c5a114113199f9b0b7343737ee0d0739a: name is reserved\"")
    };
    let once = report(vec![line("12:00:00")]);
    assert_eq!(worst(&once, "name_reserved").as_deref(), Some("low"));
    let lines: Vec<String> = (0..6).map(|n| line(&hms(n, 0))).collect();
    let report = report(lines);
    assert_eq!(worst(&report, "name_reserved").as_deref(), Some("medium"));
    assert_eq!(
        report["incidents"][0]["pods"],
        serde_json::json!(["kube-system/coredns-648f7fb587-vwgc5"])
    );
}

#[test]
fn an_oci_create_failure_names_its_cause_line_and_pod() {
    let line = |t: &str| {
        format!("May  1 {t} worker-7 kubelet: E0501 {t}.641100    4568 pod_workers.go:191] Error syncing pod bfeaeabc-c36c-4a99-87b2-881b379de2c9 (\"arm-only-5f7c9-x2kq4_default(bfeaeabc-c36c-4a99-87b2-881b379de2c9)\"), skipping: failed to \"StartContainer\" for \"app\" with RunContainerError: \"failed to start container \\\"0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c\\\": Error response from daemon: OCI runtime create failed: container_linux.go:349: starting container process caused \\\"exec: \\\\\\\"/app\\\\\\\": exec format error\\\": unknown\"")
    };
    let report = report((0..5).map(|n| line(&hms(n, 0))).collect());
    assert_eq!(
        worst(&report, "oci_create_failed").as_deref(),
        Some("medium")
    );
    assert_eq!(
        report["incidents"][0]["pods"],
        serde_json::json!(["default/arm-only-5f7c9-x2kq4"])
    );
}

#[test]
fn the_node_conditions_come_out_as_periods_with_what_overlapped() {
    let report = report(vec![
        "May  1 11:52:10 worker-7 kubelet: I0501 11:52:10.357120    4568 kubelet_node_status.go:696] \"Recording event message for node\" node=\"worker-7\" event=\"NodeHasDiskPressure\"".to_string(),
        "May  1 11:53:04 worker-7 dockerd: time=\"2023-05-01T11:53:04.882001927+08:00\" level=error msg=\"Error writing log message\" driver=json-file error=\"write /var/lib/docker/containers/f1982cd460ea4bd8eb2ee078bf12f24a2cab92500c73f3c7ef09831403dc40f6/f1982cd460ea4bd8eb2ee078bf12f24a2cab92500c73f3c7ef09831403dc40f6-json.log: no space left on device\"".to_string(),
        "May  1 12:09:41 worker-7 kubelet: I0501 12:09:41.357386    4568 setters.go:546] \"Node became not ready\" node=\"worker-7\" condition={Type:Ready Status:False LastHeartbeatTime:2023-05-01 12:09:41.357320576 +0800 CST m=+6391.653089090 LastTransitionTime:2023-05-01 12:09:41.357320576 +0800 CST m=+6391.653089090 Reason:KubeletNotReady Message:PLEG is not healthy: pleg was last seen active 3m1.2s ago; threshold is 3m0s}".to_string(),
        "May  1 12:34:00 worker-7 kubelet: I0501 12:34:00.001120    4568 kubelet_node_status.go:696] \"Recording event message for node\" node=\"worker-7\" event=\"NodeReady\"".to_string(),
    ]);
    let conditions = report["conditions"].as_array().expect("conditions");
    let not_ready = conditions
        .iter()
        .find(|c| c["condition"] == "Ready" && c["status"] == "False")
        .unwrap_or_else(|| panic!("{conditions:#?}"));
    assert_eq!(not_ready["host"], "worker-7");
    // The times are kubelet's own (klog's microseconds), in the input's zone.
    assert_eq!(not_ready["from"], "2023-05-01T12:09:41.357386+08:00");
    assert_eq!(not_ready["to"], "2023-05-01T12:34:00.001120+08:00");
    assert_eq!(not_ready["reason"], "KubeletNotReady");
    assert!(not_ready["message"]
        .as_str()
        .expect("message")
        .starts_with("PLEG is not healthy"));
    let during: Vec<&str> = not_ready["during"]
        .as_array()
        .expect("during")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(during.contains(&"DiskPressure=True"), "{during:?}");
    assert!(during.contains(&"pleg_unhealthy"), "{during:?}");
    // Ready again: a period that is no problem and lasts to the end.
    assert!(conditions
        .iter()
        .any(|c| c["condition"] == "Ready" && c["status"] == "True" && c["abnormal"] == false));
}

#[test]
fn a_report_without_condition_lines_has_no_conditions_key() {
    let report = report(vec![pull_failed("12:00:00")]);
    assert!(report.get("conditions").is_none(), "{report:#}");
}
