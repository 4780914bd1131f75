//! Attribution: findings land on the container and pod they hurt even when
//! their lines do not name it — a hung task by its PID, an OOM report's
//! lines without a cgroup, kubelet's pod-level kill errors — and a failure
//! that writes several lines at once counts once.

mod common;

use common::report_on_cst_log;
use serde_json::Value;

/// The seed case's stuck container and its pod.
const C: &str = "fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469";
const UID: &str = "d6097c23-9b88-4708-93e0-226bb313e7f3";
/// A container of another pod, killed by its memory limit.
const OOM_C: &str = "178ec18073cc6ac7be2de8d9869daf162a6349dd056b6535849112c53ec3102a";
const OOM_UID: &str = "10d16a28-60ff-475f-a631-510d9792219f";

fn report_of(lines: &[String]) -> Value {
    report_on_cst_log(&(lines.join("\n") + "\n"))
}

/// The findings of every incident, with the incident's rank.
fn findings(report: &Value) -> Vec<(u64, Value)> {
    report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            let rank = i["rank"].as_u64().unwrap();
            i["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |f| (rank, f.clone()))
        })
        .collect()
}

fn stuck_container() -> Vec<String> {
    let mut lines = vec![format!(
        "May  1 11:00:00 ecs-prod-003 kubelet: I0501 11:00:00.166102    4568 kuberuntime_container.go:709] \"Killing container with a grace period\" pod=\"kube-system/fluentd-hjj42\" podUID={UID} containerName=\"fluentd\" containerID=\"docker://{C}\" gracePeriod=5"
    )];
    for n in 0..6 {
        let s = 10 + n * 11;
        lines.push(format!(
            "May  1 11:01:{s:02} ecs-prod-003 dockerd: time=\"2023-05-01T11:01:{s:02}.653159261+08:00\" level=info msg=\"Container {} failed to exit within 10 seconds of signal 15 - using the force\"",
            &C[..12]
        ));
    }
    lines
}

#[test]
fn a_hung_task_lands_on_the_container_a_line_ties_its_pid_to() {
    let mut lines = stuck_container();
    lines.push(format!(
        "May  1 11:02:30 ecs-prod-003 systemd: docker-{C}.scope: Killing process 4242 (fluentd) with signal SIGKILL."
    ));
    lines.push(
        "May  1 11:05:03 ecs-prod-003 kernel: INFO: task fluentd:4242 blocked for more than 120 seconds."
            .to_string(),
    );
    // Another host's task with the same PID: not that container's.
    lines.push(
        "May  1 11:05:04 other-node kernel: INFO: task java:4242 blocked for more than 120 seconds."
            .to_string(),
    );
    let report = report_of(&lines);
    let hung: Vec<(u64, Value)> = findings(&report)
        .into_iter()
        .filter(|(_, f)| f["kind"] == "kernel_hung_task")
        .collect();
    assert_eq!(hung.len(), 2, "{report:#}");
    let (rank, on_container) = &hung
        .iter()
        .find(|(_, f)| f["subject"] == format!("container {C}"))
        .unwrap_or_else(|| panic!("no hung task on the container: {hung:#?}"));
    let incident = &report["incidents"][(*rank - 1) as usize];
    assert_eq!(
        incident["pods"],
        serde_json::json!(["kube-system/fluentd-hjj42"])
    );
    assert_eq!(incident["chain"], "unkillable_container");
    assert_eq!(on_container["count"], 1);
    assert!(hung
        .iter()
        .any(|(r, f)| f["subject"] == "node other-node" && r != rank));
}

#[test]
fn without_a_tie_the_hung_task_stays_on_its_node() {
    let mut lines = stuck_container();
    lines.push(
        "May  1 11:05:03 ecs-prod-003 kernel: INFO: task fluentd:4242 blocked for more than 120 seconds."
            .to_string(),
    );
    let report = report_of(&lines);
    let hung: Vec<Value> = findings(&report)
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| f["kind"] == "kernel_hung_task")
        .collect();
    assert_eq!(hung.len(), 1);
    assert_eq!(hung[0]["subject"], "node ecs-prod-003");
}

#[test]
fn the_lines_of_one_oom_kill_are_one_occurrence_on_the_victims_container() {
    let lines = [
        // The allocating task: no cgroup on this line.
        "Jun 24 18:49:43 aks-node-2 kernel: [ 8341.856700] stress invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=872".to_string(),
        "Jun 24 18:49:43 aks-node-2 kernel: [ 8341.856800] memory: usage 2097152kB, limit 2097152kB, failcnt 1532".to_string(),
        format!("Jun 24 18:49:43 aks-node-2 kernel: [ 8341.856856] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-{OOM_C}.scope,mems_allowed=0,oom_memcg=/kubepods.slice,task_memcg=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{OOM_C}.scope,task=stress,pid=68061,uid=0", OOM_UID.replace('-', "_")),
        // The victim by PID only.
        "Jun 24 18:49:43 aks-node-2 kernel: [ 8341.856870] Memory cgroup out of memory: Killed process 68061 (stress) total-vm:4195088kB, anon-rss:2884696kB, file-rss:288kB, shmem-rss:0kB, UID:0 pgtables:5696kB oom_score_adj:872".to_string(),
        // A second kill a minute later, same container.
        format!("Jun 24 18:50:51 aks-node-2 kernel: [ 8409.101010] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-{OOM_C}.scope,mems_allowed=0,oom_memcg=/kubepods.slice,task_memcg=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{OOM_C}.scope,task=stress,pid=68190,uid=0", OOM_UID.replace('-', "_")),
        "Jun 24 18:50:51 aks-node-2 kernel: [ 8409.101020] Memory cgroup out of memory: Killed process 68190 (stress) total-vm:4195088kB, anon-rss:2884696kB, file-rss:288kB, shmem-rss:0kB, UID:0 pgtables:5696kB oom_score_adj:872".to_string(),
    ];
    let report = report_of(&lines);
    let all = findings(&report);
    assert_eq!(
        all.len(),
        1,
        "one finding, no node-level leftover: {all:#?}"
    );
    let oom = &all[0].1;
    assert_eq!(oom["kind"], "oom_kill");
    assert_eq!(oom["subject"], format!("container {OOM_C}"));
    assert_eq!((&oom["count"], &oom["lines"]), (&2.into(), &5.into()));
    // The cgroup's usage and limit stay with the report's first line.
    assert_eq!(
        oom["evidence"][0]["context"],
        serde_json::json!([
            "[ 8341.856800] memory: usage 2097152kB, limit 2097152kB, failcnt 1532"
        ])
    );
}

#[test]
fn a_pod_level_kill_error_counts_toward_the_stuck_container() {
    let mut lines = stuck_container();
    lines.push(format!(
        "May  1 11:03:37 ecs-prod-003 kubelet: E0501 11:03:37.635343    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\" err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" containerID=\"{C}\""
    ));
    // Ten minutes later kubelet reports only the pod.
    lines.push(format!(
        "May  1 11:13:56 ecs-prod-003 kubelet: E0501 11:13:56.985301    4568 pod_workers.go:951] \"Error syncing pod, skipping\" err=\"failed to \\\"KillPodSandbox\\\" for \\\"{UID}\\\" with KillPodSandboxError: \\\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\\\"\" pod=\"kube-system/fluentd-hjj42\" podUID={UID}"
    ));
    let report = report_of(&lines);
    let deadlines: Vec<Value> = findings(&report)
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| f["kind"] == "kubelet_stop_deadline")
        .collect();
    assert_eq!(deadlines.len(), 1, "{deadlines:#?}");
    assert_eq!(deadlines[0]["subject"], format!("container {C}"));
    assert_eq!(deadlines[0]["count"], 2);
    assert_eq!(
        deadlines[0]["last_seen"],
        "2023-05-01T11:13:56.985301+08:00"
    );
}

#[test]
fn a_hung_tasks_state_and_call_trace_fold_into_its_event() {
    let report = report_of(&[
        "May  1 11:05:03 ecs-prod-003 kernel: INFO: task fluentd:4242 blocked for more than 120 seconds.".to_string(),
        "May  1 11:05:03 ecs-prod-003 kernel:       Not tainted 4.19.25-200.1.el7.bclinux.x86_64 #1".to_string(),
        "May  1 11:05:03 ecs-prod-003 kernel: \"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.".to_string(),
        "May  1 11:05:03 ecs-prod-003 kernel: fluentd         D    0  4242      1 0x00000080".to_string(),
        // syslog interleaves other programs' lines.
        "May  1 11:05:03 ecs-prod-003 kubelet: I0501 11:05:03.000001    4568 kubelet.go:2098] \"SyncLoop (probe)\"".to_string(),
        "May  1 11:05:03 ecs-prod-003 kernel: Call Trace:".to_string(),
        "May  1 11:05:03 ecs-prod-003 kernel:  ? __schedule+0x2a0/0x880".to_string(),
        "May  1 11:05:03 ecs-prod-003 kernel:  rpc_wait_bit_killable+0x1e/0xa0 [sunrpc]".to_string(),
        // The report is over: the kernel goes on about something else.
        "May  1 11:05:04 ecs-prod-003 kernel: IPv6: ADDRCONF(NETDEV_CHANGE): cali1a2b3c4d5e6: link becomes ready".to_string(),
        "May  1 11:05:04 ecs-prod-003 kernel:  schedule+0x28/0x80".to_string(),
    ]);
    let all = findings(&report);
    let hung = &all[0].1;
    assert_eq!(hung["kind"], "kernel_hung_task");
    assert_eq!(hung["lines"], 1);
    assert_eq!(
        hung["evidence"][0]["context"],
        serde_json::json!([
            "Not tainted 4.19.25-200.1.el7.bclinux.x86_64 #1",
            "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
            "fluentd         D    0  4242      1 0x00000080",
            "Call Trace:",
            "? __schedule+0x2a0/0x880",
            "rpc_wait_bit_killable+0x1e/0xa0 [sunrpc]",
        ])
    );
}

#[test]
fn an_oom_before_4_19_lands_on_the_container_its_cpuset_line_names() {
    // A 3.10–4.18 memcg OOM: no oom-kill summary, and here no `Task in`
    // line either; only the cpuset line names the container.
    let report = report_of(&[
        "Dec  7 00:13:22 node-1 kernel: java invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=-998".to_string(),
        format!("Dec  7 00:13:22 node-1 kernel: java cpuset={OOM_C} mems_allowed=0"),
        "Dec  7 00:13:22 node-1 kernel: Memory cgroup out of memory: Kill process 14881 (java) score 0 or sacrifice child".to_string(),
        "Dec  7 00:13:22 node-1 kernel: Killed process 14881 (java) total-vm:20255636kB, anon-rss:466160kB, file-rss:13684kB".to_string(),
        // The systemd driver names the cgroup by its scope.
        "Dec  7 00:20:05 node-1 kernel: php-fpm7 invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=997".to_string(),
        format!("Dec  7 00:20:05 node-1 kernel: php-fpm7 cpuset=docker-{C}.scope mems_allowed=0-1"),
        "Dec  7 00:20:05 node-1 kernel: Memory cgroup out of memory: Kill process 26865 (php-fpm7) score 1994 or sacrifice child".to_string(),
    ]);
    let ooms: Vec<Value> = findings(&report)
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| f["kind"] == "oom_kill")
        .collect();
    let subjects: Vec<&str> = ooms.iter().filter_map(|f| f["subject"].as_str()).collect();
    assert_eq!(
        subjects.len(),
        2,
        "one finding per container, none on the node: {ooms:#?}"
    );
    assert!(
        subjects.contains(&format!("container {OOM_C}").as_str()),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&format!("container {C}").as_str()),
        "{subjects:?}"
    );
    assert!(ooms.iter().all(|f| f["count"] == 1), "{ooms:#?}");
}

#[test]
fn a_static_pods_cgroup_is_its_undashed_uid_and_names_the_container() {
    // A static pod's UID is its manifest hash: 32 hex digits, no dashes.
    let uid = "1883213d8fec799ee2b7bf9f2185a5c7";
    let line = |at: &str, level: &str, msg: &str, controller: &str| {
        format!(
            "May  1 11:15:{at} ecs-prod-003 kubelet: time=\"2023-05-01T11:15:{at}+08:00\" level={level} msg=\"{msg}\" error=\"rmdir /sys/fs/cgroup/{controller}/kubepods/burstable/pod{uid}/{C}: device or resource busy\""
        )
    };
    let report = report_of(&[
        line(
            "10",
            "warning",
            "Failed to remove cgroup (will retry)",
            "freezer",
        ),
        line("10", "error", "Failed to remove cgroup", "freezer"),
    ]);
    let found: Vec<(u64, Value)> = findings(&report)
        .into_iter()
        .filter(|(_, f)| f["kind"] == "cgroup_remove_failed")
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    let (rank, finding) = &found[0];
    assert_eq!(finding["subject"], format!("pod uid {uid}"));
    // The final failure makes it at least medium.
    assert_eq!(finding["severity"], "medium");
    let incident = &report["incidents"][(*rank - 1) as usize];
    assert_eq!(incident["containers"], serde_json::json!([C]));
}

#[test]
fn a_lone_retry_of_a_cgroup_removal_is_low() {
    let report = report_of(&[format!(
        "May 01 11:15:10 ecs-prod-003 kubelet[4568]: time=\"2023-05-01T11:15:10+08:00\" level=warning msg=\"Failed to remove cgroup (will retry)\" error=\"rmdir /sys/fs/cgroup/memory/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{C}.scope: device or resource busy\"",
        UID.replace('-', "_")
    )]);
    let found: Vec<Value> = findings(&report)
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| f["kind"] == "cgroup_remove_failed")
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["severity"], "low");
}

#[test]
fn a_5_x_oom_without_its_summary_lands_on_the_cgroup_that_hit_its_limit() {
    // The oom-kill summary is not in the excerpt; the stats header (5.0+:
    // only the cgroup that hit its limit) names the container.
    let report = report_of(&[
        "Jun 24 18:49:43 aks-node-2 kernel: [ 8341.856700] stress invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=872".to_string(),
        format!("Jun 24 18:49:43 aks-node-2 kernel: [ 8341.856803] Memory cgroup stats for /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{OOM_C}.scope:", OOM_UID.replace('-', "_")),
        "Jun 24 18:49:43 aks-node-2 kernel: [ 8341.856870] Memory cgroup out of memory: Killed process 68061 (stress) total-vm:4195088kB, anon-rss:2884696kB, file-rss:288kB, shmem-rss:0kB, UID:0 pgtables:5696kB oom_score_adj:872".to_string(),
    ]);
    let all = findings(&report);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].1["kind"], "oom_kill");
    assert_eq!(all[0].1["subject"], format!("container {OOM_C}"));
    assert_eq!(all[0].1["count"], 1);
}
