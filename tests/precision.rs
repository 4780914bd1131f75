//! Precision: what joins an incident, what raises it, and what is the same
//! event twice (issue 9 §5). Lines are composed in the kernel's and
//! dockerd's message forms, in RHEL syslog envelopes.

mod common;

use common::{json_report, report_on_cst_log, temp_log, SANDBOX};

const CNI: &str = "May  1 10:47:56 ecs-prod-003 kubelet: 2023-05-01 10:47:56.429 [INFO][88861] ipam_plugin.go 314: Released address using handleID ContainerID=\"a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9\" HandleID=\"k8s-pod-network.a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9\" Workload=\"ecs--prod--003-k8s-fluentd--hjj42-eth0\"";

fn hung_task(host: &str, hms: &str) -> String {
    format!(
        "May  1 {hms} {host} kernel: INFO: task fluentd:4242 blocked for more than 120 seconds."
    )
}

#[test]
fn a_node_finding_no_entity_ties_to_a_pod_is_nearby_and_raises_nothing() {
    let lines = [
        CNI.to_string(),
        format!("May  1 11:00:00 ecs-prod-003 dockerd: time=\"2023-05-01T11:00:00.148458112+08:00\" level=info msg=\"Container {SANDBOX} failed to exit within 10 seconds of signal 15 - using the force\""),
        hung_task("ecs-prod-003", "11:00:30"),
    ];
    let report = report_on_cst_log(&(lines.join("\n") + "\n"));
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2, "{incidents:#?}");
    let pod = incidents
        .iter()
        .find(|i| i["kind"] == "dockerd_stop_loop")
        .unwrap();
    // One forced kill stays what it is: the hung task names no container.
    assert_eq!(pod["severity"], "low");
    assert_eq!(pod["findings"].as_array().unwrap().len(), 1);
    assert_eq!(pod["nearby"][0]["kind"], "kernel_hung_task");
    let node = incidents
        .iter()
        .find(|i| i["kind"] == "kernel_hung_task")
        .unwrap();
    assert_eq!(node["severity"], "high");
}

#[test]
fn the_same_kernel_line_on_two_nodes_is_two_events_and_on_one_node_once() {
    let a = temp_log((hung_task("node-a", "12:00:00") + "\n").as_bytes());
    let b = temp_log((hung_task("node-b", "12:00:00") + "\n").as_bytes());
    let a_again = temp_log((hung_task("node-a", "12:00:00") + "\n").as_bytes());
    let paths = [a.path(), b.path(), a_again.path()].map(|p| p.to_str().unwrap().to_string());
    let report = json_report(&["--year", "2023", &paths[0], &paths[1], &paths[2]], None);
    let mut hosts: Vec<String> = report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["hosts"][0].as_str().unwrap().to_string())
        .collect();
    hosts.sort();
    assert_eq!(hosts, ["node-a", "node-b"]);
    assert_eq!(report["stats"]["duplicates"], 1);
    assert_eq!(report["stats"]["events"], 2);
}

#[test]
fn a_leak_logging_every_twenty_minutes_for_five_hours_is_one_lasting_incident() {
    let lines: Vec<String> = (0..16)
        .map(|n| {
            let minutes = 20 * n;
            format!(
                "May  1 {:02}:{:02}:07 worker-7 kernel: unregister_netdevice: waiting for eth0 to become free. Usage count = 1",
                10 + minutes / 60,
                minutes % 60
            )
        })
        .collect();
    let report = report_on_cst_log(&(lines.join("\n") + "\n"));
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let finding = &incidents[0]["findings"][0];
    assert_eq!(finding["kind"], "netdev_refcount_leak");
    assert_eq!(finding["count"], 16);
    assert_eq!(finding["period_s"], 1200.0);
    // Never three in ten minutes, yet five hours of it: one level up.
    assert_eq!(incidents[0]["severity"], "high");
    // Two lines twenty minutes apart have not lasted: the level of one
    // window (one line is low: a wait that may have cleared).
    let brief = report_on_cst_log(&(lines[..2].join("\n") + "\n"));
    assert_eq!(brief["incidents"][0]["severity"], "low");
}
