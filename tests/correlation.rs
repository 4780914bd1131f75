//! Correlation across sources and ID spellings, on small hand-built logs
//! made of the field report's real line forms.

mod common;

use common::{json_report, temp_log, CONTAINER, SANDBOX};

const CNI: &str = "May  1 10:47:56 ecs-prod-003 kubelet: 2023-05-01 10:47:56.429 [INFO][88861] ipam_plugin.go 314: Released address using handleID ContainerID=\"a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9\" HandleID=\"k8s-pod-network.a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9\" Workload=\"ecs--prod--003-k8s-fluentd--hjj42-eth0\"";

fn kill_line(hms: &str) -> String {
    format!(
        "May  1 {hms} ecs-prod-003 dockerd: time=\"2023-05-01T{hms}.148458112+08:00\" level=info msg=\"Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL\""
    )
}

fn termination_line(hms: &str) -> String {
    format!(
        "May  1 {hms} ecs-prod-003 kubelet: E0501 {hms}.635447    4568 kuberuntime_container.go:666] \"Container termination failed with gracePeriod\" err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" pod=\"kube-system/fluentd-hjj42\" podUID=d6097c23-9b88-4708-93e0-226bb313e7f3 containerName=\"fluentd\" containerID=\"docker://{CONTAINER}\" gracePeriod=5"
    )
}

#[test]
fn short_id_resolves_through_cni_and_joins_the_kubelet_pod() {
    // dockerd names the sandbox only by its 12-hex short ID; the full ID is
    // in the CNI line, which also names the workload; kubelet names the pod
    // and the app container.
    let lines = [
        CNI.to_string(),
        kill_line("11:00:00"),
        kill_line("11:00:22"),
        termination_line("11:00:30"),
        kill_line("11:00:44"),
    ];
    let log = temp_log((lines.join("\n") + "\n").as_bytes());
    let report = json_report(&[log.path().to_str().unwrap()], None);
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let incident = &incidents[0];
    assert_eq!(
        incident["pods"],
        serde_json::json!(["kube-system/fluentd-hjj42"])
    );
    assert_eq!(
        incident["containers"],
        serde_json::json!([SANDBOX, CONTAINER])
    );
    assert_eq!(incident["findings"][0]["count"], 3);
    assert_eq!(
        incident["findings"][0]["subject"],
        format!("container {SANDBOX}")
    );
}

#[test]
fn without_the_cni_line_the_findings_stay_apart() {
    let lines = [
        kill_line("11:00:00"),
        kill_line("11:00:22"),
        kill_line("11:00:44"),
        termination_line("11:00:30"),
    ];
    let log = temp_log((lines.join("\n") + "\n").as_bytes());
    let report = json_report(&[log.path().to_str().unwrap()], None);
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2);
    // The short ID could not be resolved: it is reported as seen.
    let loop_incident = incidents
        .iter()
        .find(|i| i["kind"] == "dockerd_stop_loop")
        .unwrap();
    assert_eq!(
        loop_incident["containers"],
        serde_json::json!(["a9acd5210705"])
    );
    assert_eq!(loop_incident["pods"], serde_json::json!([]));
}

#[test]
fn findings_on_one_pod_hours_apart_are_one_incident_until_the_logs_show_it_resolved() {
    let lines = [
        CNI.to_string(),
        kill_line("11:00:00"),
        kill_line("11:00:22"),
        kill_line("11:00:44"),
        termination_line("16:00:30"),
    ];
    let log = temp_log((lines.join("\n") + "\n").as_bytes());
    let unresolved = json_report(&[log.path().to_str().unwrap()], None);
    let incidents = unresolved["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(incidents[0]["findings"].as_array().unwrap().len(), 2);

    // Resolved in between: the stop at 16:00 is another story. The pod
    // removed from kubelet's sync loop (kubelet 1.22's form,
    // kubernetes/kubernetes#104648), or containerd completing a stop of its
    // container (containerd/containerd#4655's form).
    let removed = "May  1 12:00:00 ecs-prod-003 kubelet: I0501 12:00:00.287717    4568 kubelet.go:2045] \"SyncLoop REMOVE\" source=\"api\" pods=[kube-system/fluentd-hjj42]".to_string();
    let stopped = format!("May  1 12:00:00 ecs-prod-003 containerd: time=\"2023-05-01T12:00:00.712425853+08:00\" level=info msg=\"StopContainer for \\\"{SANDBOX}\\\" returns successfully\"");
    for resolution in [removed, stopped] {
        let mut lines = lines.to_vec();
        lines.insert(4, resolution.clone());
        let log = temp_log((lines.join("\n") + "\n").as_bytes());
        let resolved = json_report(&[log.path().to_str().unwrap()], None);
        let incidents = resolved["incidents"].as_array().unwrap();
        assert_eq!(incidents.len(), 2, "{resolution}\n{incidents:#?}");
    }
}

#[test]
fn two_lines_on_one_container_are_not_yet_a_loop() {
    let lines = [
        CNI.to_string(),
        kill_line("11:00:00"),
        kill_line("11:00:22"),
    ];
    let log = temp_log((lines.join("\n") + "\n").as_bytes());
    let report = json_report(&[log.path().to_str().unwrap()], None);
    assert_eq!(report["incidents"][0]["severity"], "low");
    // Three lines more than ten minutes apart are not a loop either.
    let lines = [
        CNI.to_string(),
        kill_line("11:00:00"),
        kill_line("11:09:00"),
        kill_line("11:18:00"),
    ];
    let log = temp_log((lines.join("\n") + "\n").as_bytes());
    let report = json_report(&[log.path().to_str().unwrap()], None);
    assert_eq!(report["incidents"][0]["severity"], "low");
    assert_eq!(report["incidents"][0]["findings"][0]["count"], 3);
}

#[test]
fn a_short_id_spelled_in_full_only_on_an_unmatched_line_is_resolved_in_files() {
    // systemd names the container in full; no pattern matches that line.
    let systemd =
        format!("May  1 10:59:00 ecs-prod-003 systemd: Started libcontainer container {SANDBOX}.");
    let lines = [
        systemd,
        kill_line("11:00:00"),
        kill_line("11:00:22"),
        kill_line("11:00:44"),
    ];
    let text = lines.join("\n") + "\n";
    let log = temp_log(text.as_bytes());
    let from_file = json_report(&[log.path().to_str().unwrap()], None);
    assert_eq!(
        from_file["incidents"][0]["containers"],
        serde_json::json!([SANDBOX])
    );
    // stdin cannot be read twice: the short ID stays as logged.
    let from_stdin = json_report(&["-"], Some(text.as_bytes()));
    assert_eq!(
        from_stdin["incidents"][0]["containers"],
        serde_json::json!(["a9acd5210705"])
    );
}

#[test]
fn a_docker_that_has_the_fix_is_said_to_have_it() {
    let version = "May  1 09:00:00 ecs-prod-003 dockerd: time=\"2023-05-01T09:00:00.5+08:00\" level=info msg=\"Docker daemon\" commit=311b9ff containerd-snapshotter=false storage-driver=overlay2 version=24.0.7";
    let lines = [
        version.to_string(),
        CNI.to_string(),
        kill_line("11:00:00"),
        kill_line("11:00:22"),
        kill_line("11:00:44"),
    ];
    let log = temp_log((lines.join("\n") + "\n").as_bytes());
    let report = json_report(&[log.path().to_str().unwrap()], None);
    let incident = &report["incidents"][0];
    assert_eq!(incident["versions"][0]["version"], "24.0.7");
    assert_eq!(incident["versions"][0]["has_fix"], true);
    assert!(incident["remediation_steps"][0]
        .as_str()
        .unwrap()
        .contains("already has moby PR 42956"));
}
