//! Chains: findings that cause one another become one incident that tells
//! the story, and it ranks above the isolated noise around it. One fixture
//! per chain.

mod common;

use common::report_on_cst_log;

const C: &str = "83bf797db1414d96259aa29a7325f107360383ff418ffbd3c356b14ef09f6aa2";
const OTHER: &str = "3f1c0d2b7e9a4c6f8e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f";

/// Isolated, routine-looking trouble on the same node at the same time.
fn noise() -> Vec<String> {
    vec![
        format!("May  1 12:10:00 worker-7 dockerd: time=\"2023-05-01T12:10:00.1+08:00\" level=info msg=\"Container {OTHER} failed to exit within 30 seconds of signal 15 - using the force\""),
        "May  1 12:20:00 worker-7 kernel: EXT4-fs (sdb1): Remounting filesystem read-only".to_string(),
    ]
}

fn incidents_of(lines: Vec<String>) -> Vec<serde_json::Value> {
    let mut lines = lines;
    lines.sort_by(|a, b| a[..15].cmp(&b[..15]));
    let report = report_on_cst_log(&(lines.join("\n") + "\n"));
    report["incidents"].as_array().unwrap().clone()
}

#[test]
fn a_dead_shim_and_the_stops_it_blocks_are_one_story() {
    let mut lines = noise();
    lines.push(format!(
        "May  1 12:00:01 worker-7 containerd: time=\"2023-05-01T12:00:01.482193004+08:00\" level=warning msg=\"failed to clean up after shim disconnected\" error=\"io.containerd.runc.v2: open /run/containerd/io.containerd.runtime.v2.task/k8s.io/{C}/runtime: no such file or directory: exit status 1\" id={C} namespace=k8s.io"
    ));
    for (n, hms) in ["12:02:00", "12:04:00"].iter().enumerate() {
        lines.push(format!(
            "May  1 {hms} worker-7 kubelet: E0501 {hms}.00000{n}    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\" err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" containerID=\"{C}\""
        ));
    }
    let incidents = incidents_of(lines);
    let first = &incidents[0];
    assert_eq!(first["chain"], "dead_shim_residue", "{first:#}");
    assert_eq!(first["containers"], serde_json::json!([C]));
    assert!(first["explanation"]
        .as_str()
        .unwrap()
        .starts_with("containerd could not clean up after a shim"));
    let kinds: Vec<&str> = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"containerd_shim_cleanup") && kinds.contains(&"kubelet_stop_deadline"),
        "{kinds:?}"
    );
    // The isolated troubles are still there, ranked below.
    assert!(incidents.len() >= 3);
    assert!(incidents[1..]
        .iter()
        .all(|i| i["score"].as_f64() < first["score"].as_f64()));
}

#[test]
fn kmem_exhaustion_and_the_pods_that_cannot_start_are_one_story() {
    let mut lines = noise();
    // The boot banner: a kernel that still leaks per-cgroup slab caches.
    lines.push("May  1 00:00:01 worker-7 kernel: Linux version 3.10.0-1160.el7.x86_64 (mockbuild@kbuilder.bsys.centos.org) (gcc version 4.8.5 20150623 (Red Hat 4.8.5-44) (GCC) ) #1 SMP Mon Oct 19 16:18:59 UTC 2020".to_string());
    for s in 0..3 {
        lines.push(format!("May  1 12:0{s}:05 worker-7 kernel: SLUB: Unable to allocate memory on node -1 (gfp=0x20)"));
    }
    lines.push("May  1 12:05:27 worker-7 kubelet: E0501 12:05:27.361207    1210 pod_workers.go:191] Error syncing pod bfeaeabc-c36c-4a99-87b2-881b379de2c9 (\"busybox-7c9b7d9b9-x2kq4_default(bfeaeabc-c36c-4a99-87b2-881b379de2c9)\"), skipping: failed to ensure that the pod: bfeaeabc-c36c-4a99-87b2-881b379de2c9 cgroups exist and are correctly applied: failed to create container for [kubepods besteffort podbfeaeabc-c36c-4a99-87b2-881b379de2c9] : mkdir /sys/fs/cgroup/memory/kubepods/besteffort/podbfeaeabc-c36c-4a99-87b2-881b379de2c9: cannot allocate memory".to_string());
    let incidents = incidents_of(lines);
    let first = &incidents[0];
    assert_eq!(first["chain"], "cgroup_exhaustion", "{first:#}");
    assert_eq!(first["hosts"], serde_json::json!(["worker-7"]));
    assert!(first["title"]
        .as_str()
        .unwrap()
        .starts_with("Leaked cgroups have exhausted the node"));
    assert_eq!(
        first["versions"],
        serde_json::json!([{"component": "kernel", "version": "3.10.0-1160.el7.x86_64", "host": "worker-7", "fixed_in": "5.9", "has_fix": false}])
    );
    assert!(first["remediation_steps"][0]
        .as_str()
        .unwrap()
        .starts_with("The logs show kernel 3.10.0-1160.el7.x86_64 on worker-7, older than 5.9"));
    assert!(incidents[1..]
        .iter()
        .all(|i| i["score"].as_f64() < first["score"].as_f64()));
}

#[test]
fn a_hung_task_whose_pid_a_line_places_in_the_container_tells_the_unkillable_story() {
    const STUCK: &str = "fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469";
    let mut lines = noise();
    lines.push(format!(
        "May  1 12:03:00 worker-7 kubelet: E0501 12:03:00.635343    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\" err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" containerID=\"{STUCK}\""
    ));
    lines.push("May  1 12:05:03 worker-7 kernel: INFO: task fluentd:4242 blocked for more than 120 seconds.".to_string());
    // The tie: systemd names PID 4242 inside the container's scope.
    lines.push(format!(
        "May  1 12:04:02 worker-7 systemd: docker-{STUCK}.scope: Killing process 4242 (fluentd) with signal SIGKILL."
    ));
    let incidents = incidents_of(lines.clone());
    let first = &incidents[0];
    assert_eq!(first["chain"], "unkillable_container", "{first:#}");
    // Without the tie the hung task stays apart, nearby: it names no container.
    lines.pop();
    let incidents = incidents_of(lines);
    let stop = incidents
        .iter()
        .find(|i| i["kind"] == "kubelet_stop_deadline")
        .unwrap();
    assert_eq!(stop["chain"], serde_json::Value::Null);
    assert_eq!(stop["nearby"][0]["kind"], "kernel_hung_task");
}
