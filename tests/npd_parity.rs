//! node-problem-detector parity: one realistic line per rule NPD ships
//! (docs/npd-parity.md), run through the real binary, is counted under the
//! kind the table names; the counted rules reach a finding where NPD's
//! counters or permanent conditions would fire; and the table and this list
//! agree row for row.

mod common;

use std::collections::BTreeMap;

use common::{events_ndjson, report_on_cst_log, temp_log};

/// One row of docs/npd-parity.md's rule table, with a line it stands for.
struct Rule {
    /// The NPD config files, as the table's first column names them.
    config: &'static str,
    reason: &'static str,
    /// The finding kind and pattern that count the line; `None` where
    /// podmortem does not cover the rule.
    kind: Option<&'static str>,
    pattern: Option<&'static str>,
    /// A line in a syslog envelope; its time is added by the test.
    message: &'static str,
}

const KERNEL: &str = "kernel-monitor.json, kernel-monitor-filelog.json";

const RULES: &[Rule] = &[
    Rule {
        config: KERNEL,
        reason: "OOMKilling",
        kind: Some("oom_kill"),
        pattern: Some("kernel.oom_killed_process"),
        message: "kernel: Memory cgroup out of memory: Killed process 26865 (php-fpm7) total-vm:367860kB, anon-rss:177544kB, file-rss:1720kB, shmem-rss:13216kB",
    },
    Rule {
        config: KERNEL,
        reason: "OOMKilling",
        kind: Some("oom_kill"),
        pattern: Some("kernel.oom_kill_process_legacy"),
        message: "kernel: Memory cgroup out of memory: Kill process 1012 (heapster) score 1035 or sacrifice child",
    },
    Rule {
        config: KERNEL,
        reason: "TaskHung",
        kind: Some("kernel_hung_task"),
        pattern: Some("kernel.hung_task"),
        message: "kernel: INFO: task fluentd:4242 blocked for more than 120 seconds.",
    },
    Rule {
        config: KERNEL,
        reason: "DockerHung",
        kind: Some("kernel_hung_task"),
        pattern: Some("kernel.hung_task"),
        message: "kernel: INFO: task docker:3946 blocked for more than 120 seconds.",
    },
    Rule {
        config: KERNEL,
        reason: "AUFSUmountHung",
        kind: Some("kernel_hung_task"),
        pattern: Some("kernel.hung_task"),
        message: "kernel: INFO: task umount.aufs:21568 blocked for more than 120 seconds.",
    },
    Rule {
        config: KERNEL,
        reason: "UnregisterNetDevice",
        kind: Some("netdev_refcount_leak"),
        pattern: Some("kernel.unregister_netdevice_wait"),
        message: "kernel: unregister_netdevice: waiting for eth0 to become free. Usage count = 1",
    },
    Rule {
        config: "kernel-monitor.json",
        reason: "UnregisterNetDeviceIssue",
        kind: Some("netdev_refcount_leak"),
        pattern: Some("kernel.unregister_netdevice_wait"),
        message: "kernel: [14166.618311] unregister_netdevice: waiting for lo to become free. Usage count = 1",
    },
    Rule {
        config: "kernel-monitor-counter.json",
        reason: "UnregisterNetDevice",
        kind: Some("netdev_refcount_leak"),
        pattern: Some("kernel.unregister_netdevice_wait"),
        message: "kernel: unregister_netdevice: waiting for eth0 to become free. Usage count = 21",
    },
    Rule {
        config: KERNEL,
        reason: "KernelOops",
        kind: Some("kernel_oops"),
        pattern: Some("kernel.oops_null_deref"),
        message: "kernel: BUG: unable to handle kernel NULL pointer dereference at 0000000000000158",
    },
    Rule {
        config: KERNEL,
        reason: "KernelOops",
        kind: Some("kernel_oops"),
        pattern: Some("kernel.oops_die"),
        message: "kernel: divide error: 0000 [#1] SMP NOPTI",
    },
    Rule {
        config: KERNEL,
        reason: "KernelPanic",
        kind: Some("kernel_oops"),
        pattern: Some("kernel.oops_null_deref"),
        message: "kernel: [41425910.848667] BUG: unable to handle kernel NULL pointer dereference at (null)",
    },
    Rule {
        config: KERNEL,
        reason: "KernelPanic",
        kind: Some("kernel_oops"),
        pattern: Some("kernel.oops_die"),
        message: "kernel: [3966658.307702] divide error: 0000 [#1] SMP",
    },
    Rule {
        config: "kernel-monitor.json",
        reason: "Ext4Error",
        kind: Some("filesystem_error"),
        pattern: Some("kernel.ext4_error"),
        message: "kernel: EXT4-fs error (device sdf) in ext4_reserve_inode_write:5795: Journal has aborted",
    },
    Rule {
        config: "kernel-monitor.json",
        reason: "Ext4Warning",
        kind: Some("filesystem_warning"),
        pattern: Some("kernel.ext4_warning"),
        message: "kernel: EXT4-fs warning (device sda4): ext4_dx_add_entry:2199: inode #21901881: comm minio: Directory index full!",
    },
    Rule {
        config: "kernel-monitor.json",
        reason: "IOError",
        kind: Some("io_error"),
        pattern: Some("kernel.buffer_io_error"),
        message: "kernel: Buffer I/O error on dev sdd, logical block 0, lost async page write",
    },
    Rule {
        config: "kernel-monitor.json",
        reason: "XfsHasShutdown",
        kind: Some("filesystem_error"),
        pattern: Some("kernel.xfs_shutdown"),
        message: "kernel: XFS (dm-4): I/O Error Detected. Shutting down filesystem",
    },
    Rule {
        config: "kernel-monitor.json",
        reason: "MemoryReadError",
        kind: Some("hardware_error"),
        pattern: Some("kernel.edac_error"),
        message: "kernel: EDAC MC2: 1 CE memory read error on CPU_SrcID#0_MC#2_Chan#0_DIMM#0 (channel:0 slot:0 page:0x90ba03 offset:0x400 grain:32 syndrome:0x0 -  err_code:0x0080:0x0090)",
    },
    Rule {
        config: "kernel-monitor.json",
        reason: "CperHardwareErrorCorrected",
        kind: Some("hardware_error"),
        pattern: Some("kernel.cper_severity"),
        message: "kernel: {7415}[Hardware Error]: event severity: corrected",
    },
    Rule {
        config: "kernel-monitor.json",
        reason: "CperHardwareErrorRecoverable",
        kind: Some("hardware_error"),
        pattern: Some("kernel.cper_severity"),
        message: "kernel: {1}[Hardware Error]: event severity: recoverable",
    },
    Rule {
        config: "kernel-monitor.json",
        reason: "CperHardwareErrorFatal",
        kind: Some("hardware_error"),
        pattern: Some("kernel.cper_fatal"),
        message: "kernel: {1}[Hardware Error]: event severity: fatal",
    },
    Rule {
        config: "kernel-monitor.json, readonly-monitor.json",
        reason: "FilesystemIsReadOnly",
        kind: Some("readonly_remount"),
        pattern: Some("kernel.ext_remount_ro"),
        message: "kernel: EXT4-fs (sda1): Remounting filesystem read-only",
    },
    Rule {
        config: "kernel-monitor-filelog.json",
        reason: "TCPMemOverFlow",
        kind: Some("tcp_memory_exhausted"),
        pattern: Some("kernel.tcp_out_of_memory"),
        message: "kernel: TCP: out of memory -- consider tuning tcp_mem",
    },
    Rule {
        config: "kernel-monitor-filelog.json",
        reason: "TCPSkOverFlow",
        kind: Some("tcp_memory_exhausted"),
        pattern: Some("kernel.tcp_orphans"),
        message: "kernel: [3013902.907527] TCP: too many orphaned sockets",
    },
    Rule {
        config: "docker-monitor.json, docker-monitor-filelog.json",
        reason: "CorruptDockerImage",
        kind: Some("docker_image_corrupt"),
        pattern: Some("dockerd.register_layer_failed"),
        message: r#"dockerd[1002]: time="2023-05-01T11:23:00.511027834+08:00" level=error msg="Error trying v2 registry: failed to register layer: rename /var/lib/docker/image/overlay2/layerdb/tmp/write-set-093471513 /var/lib/docker/image/overlay2/layerdb/sha256/5c1e3c2a8d9f0b7e6a4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29: directory not empty""#,
    },
    Rule {
        config: "docker-monitor.json",
        reason: "CorruptDockerOverlay2",
        kind: Some("docker_image_corrupt"),
        pattern: Some("dockerd.overlay2_readlink"),
        message: r#"dockerd[1002]: time="2023-05-01T11:24:00.044107556+08:00" level=error msg="Handler for GET /v1.40/containers/8b1ec69a224d/json returned error: readlink /var/lib/docker/overlay2/l: invalid argument""#,
    },
    Rule {
        config: "docker-monitor-counter.json",
        reason: "CorruptDockerOverlay2",
        kind: Some("docker_image_corrupt"),
        pattern: Some("dockerd.overlay2_readlink"),
        message: r#"dockerd[1002]: time="2023-05-01T11:25:00.198331206+08:00" level=error msg="Handler for GET /v1.40/containers/a9acd5210705/json returned error: readlink /var/lib/docker/overlay2/l/4GWADAHD5OC5SYHTIOEPIBN64E: invalid argument""#,
    },
    Rule {
        config: "docker-monitor.json",
        reason: "DockerContainerStartupFailure",
        kind: Some("oci_runtime_dead_process"),
        pattern: Some("dockerd.start_dead_process"),
        message: r#"dockerd[1002]: time="2023-05-01T11:26:00.394884980+08:00" level=error msg="Handler for POST /v1.40/containers/4a9d55f43a7f/start returned error: OCI runtime start failed: container process is already dead: unknown""#,
    },
    Rule {
        config: "systemd-monitor.json",
        reason: "KubeletStart",
        kind: Some("kubelet_frequent_starts"),
        pattern: Some("systemd.kubelet_started"),
        message: "systemd[1]: Started Kubernetes kubelet.",
    },
    Rule {
        config: "systemd-monitor.json",
        reason: "DockerStart",
        kind: Some("docker_frequent_starts"),
        pattern: Some("systemd.docker_starting"),
        message: "systemd[1]: Starting Docker Application Container Engine...",
    },
    Rule {
        config: "systemd-monitor.json",
        reason: "ContainerdStart",
        kind: Some("containerd_frequent_starts"),
        pattern: Some("systemd.containerd_starting"),
        message: "systemd[1]: Starting containerd container runtime...",
    },
    Rule {
        config: "systemd-monitor-counter.json",
        reason: "FrequentKubeletRestart",
        kind: Some("kubelet_frequent_starts"),
        pattern: Some("systemd.kubelet_started"),
        message: "systemd[1]: Started kubelet.service - Kubernetes kubelet.",
    },
    Rule {
        config: "systemd-monitor-counter.json",
        reason: "FrequentDockerRestart",
        kind: Some("docker_frequent_starts"),
        pattern: Some("systemd.docker_starting"),
        message: "systemd[1]: Starting docker.service - Docker Application Container Engine...",
    },
    Rule {
        config: "systemd-monitor-counter.json",
        reason: "FrequentContainerdRestart",
        kind: Some("containerd_frequent_starts"),
        pattern: Some("systemd.containerd_starting"),
        message: "systemd[1]: Starting containerd.service - containerd container runtime...",
    },
    Rule {
        config: "disk-log-message-filelog.json",
        reason: "DiskBadBlock",
        kind: Some("disk_bad_sectors"),
        pattern: Some("smartd.many_bad_sectors"),
        message: "smartd[812]: Device: /dev/sda [SAT], 128 Currently unreadable (pending) sectors",
    },
];

/// `message` as a RHEL /var/log/messages line of the field report's node,
/// `minute` minutes after 10:00 on May 1st.
fn syslog(minute: usize, second: usize, message: &str) -> String {
    format!(
        "May  1 {:02}:{:02}:{:02} ecs-prod-003 {message}\n",
        10 + minute / 60,
        minute % 60,
        second
    )
}

/// `podmortem events` over `text` (2023, UTC+8): each matched line's
/// number, with its pattern and kinds.
fn events_by_line(text: &str) -> BTreeMap<u64, (String, Vec<String>)> {
    let log = temp_log(text.as_bytes());
    let path = log.path().to_str().unwrap();
    events_ndjson(&["--year", "2023", "--tz", "+08:00", path])
        .iter()
        .map(|e| {
            let kinds = e["kinds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_string())
                .collect();
            (
                e["line"].as_u64().unwrap(),
                (e["pattern"].as_str().unwrap().to_string(), kinds),
            )
        })
        .collect()
}

#[test]
fn every_npd_rule_line_is_counted_under_its_kind() {
    let text: String = RULES
        .iter()
        .enumerate()
        .map(|(i, r)| syslog(i, 0, r.message))
        .collect();
    let events = events_by_line(&text);
    let mut wrong = Vec::new();
    for (i, rule) in RULES.iter().enumerate() {
        let got = events.get(&(i as u64 + 1));
        let ok = match (rule.pattern, rule.kind, got) {
            (Some(pattern), Some(kind), Some((p, kinds))) => {
                p == pattern && kinds.iter().any(|k| k == kind)
            }
            (None, None, None) => true,
            _ => false,
        };
        if !ok {
            wrong.push(format!(
                "{} {}: expected {:?}/{:?}, got {got:?}",
                rule.config, rule.reason, rule.kind, rule.pattern
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

const ORDER: [&str; 4] = ["low", "medium", "high", "critical"];

/// The highest severity of any finding of `kind` in the report on `text`.
fn severity_of(text: &str, kind: &str) -> Option<&'static str> {
    let report = report_on_cst_log(text);
    report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["findings"].as_array().unwrap())
        .filter(|f| f["kind"] == kind)
        .filter_map(|f| ORDER.iter().position(|s| f["severity"] == *s))
        .max()
        .map(|i| ORDER[i])
}

/// `count` copies of `message`, `every` seconds apart from 10:00:00.
fn repeated(message: &str, count: usize, every: usize) -> String {
    (0..count)
        .map(|i| syslog(i * every / 60, i * every % 60, message))
        .collect()
}

fn rule(config: &str, reason: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.config == config && r.reason == reason)
        .unwrap_or_else(|| panic!("no rule {config} {reason}"))
}

#[test]
fn npd_counters_reach_a_finding_at_their_count() {
    // log-counter --count=3 --lookback=20m: the line repeats every 10 s.
    let netdev = rule("kernel-monitor-counter.json", "UnregisterNetDevice");
    assert_eq!(
        severity_of(&repeated(netdev.message, 3, 10), "netdev_refcount_leak"),
        Some("high")
    );
    // --count=10 --lookback=5m; one line alone is only medium.
    let overlay = rule("docker-monitor-counter.json", "CorruptDockerOverlay2");
    assert_eq!(
        severity_of(&repeated(overlay.message, 10, 20), "docker_image_corrupt"),
        Some("high")
    );
    assert_eq!(
        severity_of(&repeated(overlay.message, 1, 20), "docker_image_corrupt"),
        Some("medium")
    );
    // --count=5 --lookback=20m, one unit at a time: four starts are no
    // finding, five are, ten a restart loop.
    for (reason, kind) in [
        ("FrequentKubeletRestart", "kubelet_frequent_starts"),
        ("FrequentDockerRestart", "docker_frequent_starts"),
        ("FrequentContainerdRestart", "containerd_frequent_starts"),
    ] {
        let start = rule("systemd-monitor-counter.json", reason);
        assert_eq!(severity_of(&repeated(start.message, 4, 120), kind), None);
        assert_eq!(
            severity_of(&repeated(start.message, 5, 120), kind),
            Some("medium"),
            "{reason}"
        );
        assert_eq!(
            severity_of(&repeated(start.message, 10, 60), kind),
            Some("high"),
            "{reason}"
        );
    }
}

#[test]
fn a_boot_that_starts_every_runtime_once_raises_nothing() {
    let boot: String = ["ContainerdStart", "DockerStart", "KubeletStart"]
        .iter()
        .enumerate()
        .map(|(i, reason)| syslog(0, i * 2, rule("systemd-monitor.json", reason).message))
        .collect();
    let report = report_on_cst_log(&boot);
    assert_eq!(report["incidents"].as_array().unwrap().len(), 0, "{report}");
}

#[test]
fn npd_permanent_conditions_are_high_or_worse_on_one_line() {
    for (config, reason, kind, severity) in [
        (
            "kernel-monitor.json",
            "XfsHasShutdown",
            "filesystem_error",
            "high",
        ),
        (KERNEL, "DockerHung", "kernel_hung_task", "high"),
        (KERNEL, "AUFSUmountHung", "kernel_hung_task", "high"),
        (
            "kernel-monitor.json, readonly-monitor.json",
            "FilesystemIsReadOnly",
            "readonly_remount",
            "high",
        ),
        (
            "kernel-monitor.json",
            "CperHardwareErrorFatal",
            "hardware_error",
            "critical",
        ),
        (
            "disk-log-message-filelog.json",
            "DiskBadBlock",
            "disk_bad_sectors",
            "high",
        ),
    ] {
        let line = syslog(0, 0, rule(config, reason).message);
        assert_eq!(severity_of(&line, kind), Some(severity), "{reason}");
    }
    // A corrected record is not: the same detector stays medium.
    let corrected = syslog(
        0,
        0,
        rule("kernel-monitor.json", "CperHardwareErrorCorrected").message,
    );
    assert_eq!(severity_of(&corrected, "hardware_error"), Some("medium"));
    // Nor are a few bad sectors, below NPD's hundred.
    let few = syslog(
        0,
        0,
        "smartd[812]: Device: /dev/sda [SAT], 8 Currently unreadable (pending) sectors",
    );
    assert_eq!(severity_of(&few, "disk_bad_sectors"), Some("medium"));
}

/// The cells of a markdown table row, `\|` kept as `|` inside a cell.
fn cells(row: &str) -> Vec<String> {
    let row = row.trim().trim_start_matches('|').trim_end_matches('|');
    row.replace("\\|", "\u{0}")
        .split('|')
        .map(|c| c.replace('\u{0}', "|").trim().to_string())
        .collect()
}

/// `kind` or `pattern` cell: a code span, or `—` for none.
fn code_or_none(cell: &str) -> Option<String> {
    (cell != "—").then(|| cell.trim_matches('`').to_string())
}

#[test]
fn the_parity_table_and_this_test_list_the_same_rules() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/npd-parity.md"))
        .unwrap();
    let table = doc
        .split("## Rules")
        .nth(1)
        .expect("a Rules section")
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2); // header and separator
    let mut documented: Vec<(String, String, Option<String>, Option<String>)> = table
        .map(|row| {
            let c = cells(row);
            assert_eq!(c.len(), 7, "{row}");
            (
                c[0].clone(),
                c[1].clone(),
                code_or_none(&c[4]),
                code_or_none(&c[5]),
            )
        })
        .collect();
    let mut tested: Vec<(String, String, Option<String>, Option<String>)> = RULES
        .iter()
        .map(|r| {
            (
                r.config.to_string(),
                r.reason.to_string(),
                r.kind.map(str::to_string),
                r.pattern.map(str::to_string),
            )
        })
        .collect();
    documented.sort();
    tested.sort();
    assert_eq!(documented, tested);
}
