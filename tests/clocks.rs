//! No failure line is lost for want of a clock: lines with only time since
//! boot, time since the process started, or no time at all are detected
//! and correlated on their input's own axis, and shown as such.
//!
//! The kernel and dockerd lines below are composed in the message forms of
//! the kernel's hung-task watchdog (kernel/hung_task.c) and of dockerd's
//! stop (daemon/stop.go), in the envelopes named by each test.

mod common;

use common::{json_report, podmortem, temp_log, SANDBOX};

/// `dmesg -t` (or `journalctl -k -o cat`): kernel messages, no time at all.
const DMESG_T: &str = "IPv6: ADDRCONF(NETDEV_CHANGE): cali78ab8b22dca: link becomes ready
INFO: task containerd-shim:1234 blocked for more than 120 seconds.
      Not tainted 4.19.25-200.1.el7.bclinux.x86_64 #1
\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.
containerd-shim D    0  1234      1 0x00000080
Call Trace:
 __schedule+0x2a2/0x6e0
";

#[test]
fn a_file_of_untimed_kernel_lines_is_read_and_its_hung_task_fails_the_run() {
    let log = temp_log(DMESG_T.as_bytes());
    let path = log.path().to_str().unwrap();
    let out = podmortem(&["analyze", "--fail-on", "high", path], None);
    assert_eq!(out.status.code(), Some(1), "a hung task is high");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("line 2, time unknown"), "{text}");
    assert!(
        text.contains("--boot-time"),
        "the note says what places them"
    );

    let report = json_report(&[path], None);
    assert_eq!(report["inputs"][0]["format"], "kernel-untimed");
    assert_eq!(report["inputs"][0]["unparsed"], 0);
    assert_eq!(report["stats"]["untimed"], 1);
    let incident = &report["incidents"][0];
    assert_eq!(incident["kind"], "kernel_hung_task");
    assert_eq!(incident["severity"], "high");
    assert_eq!(incident["first_seen"], "line 2, time unknown");
    assert_eq!(
        incident["first_relative"],
        serde_json::json!({"clock": "line", "input": 0, "line": 2})
    );
    // The call trace is kept with it, as for timed lines.
    let evidence = &incident["findings"][0]["evidence"][0];
    assert_eq!(evidence["context"][3], "Call Trace:");
}

#[test]
fn raw_dmesg_without_a_boot_time_is_analyzed_after_boot_and_placed_by_boot_time() {
    let dmesg =
        "[ 8123.004512] INFO: task containerd-shim:1234 blocked for more than 120 seconds.\n";
    let log = temp_log(dmesg.as_bytes());
    let path = log.path().to_str().unwrap();
    let report = json_report(&[path], None);
    let incident = &report["incidents"][0];
    assert_eq!(incident["kind"], "kernel_hung_task");
    assert_eq!(incident["first_seen"], "+8123.0 s after boot");
    assert_eq!(incident["first_relative"]["clock"], "since_boot");
    assert_eq!(incident["first_relative"]["seconds"], 8123.004512);

    let placed = json_report(&["--boot-time", "2023-05-01T10:00:00+08:00", path], None);
    let incident = &placed["incidents"][0];
    assert_eq!(incident["first_seen"], "2023-05-01T12:15:23.004512+08:00");
    assert!(incident.get("first_relative").is_none());
    assert_eq!(placed["stats"]["untimed"], 0);
}

#[test]
fn a_journal_dump_keeps_its_kernel_lines_after_the_monotonic_stamp() {
    // `journalctl -o short-monotonic` pasted without its host, as CI logs do.
    let dump = "[ 8123.004512] kernel: INFO: task containerd-shim:1234 blocked for more than 120 seconds.\n";
    let log = temp_log(dump.as_bytes());
    let report = json_report(&[log.path().to_str().unwrap()], None);
    assert_eq!(report["incidents"][0]["kind"], "kernel_hung_task");
}

#[test]
fn logrus_seconds_since_start_give_periods_on_the_process_clock() {
    let line = |secs: u32| {
        format!("INFO[{secs:04}] Container {SANDBOX} failed to exit within 10 seconds of signal 15 - using the force\n")
    };
    let log = temp_log((line(42) + &line(53) + &line(64)).as_bytes());
    let report = json_report(&[log.path().to_str().unwrap()], None);
    let finding = &report["incidents"][0]["findings"][0];
    assert_eq!(finding["kind"], "dockerd_stop_loop");
    assert_eq!(finding["count"], 3);
    assert_eq!(finding["period_s"], 11.0);
    assert_eq!(finding["first_seen"], "+42.0 s after start");
    assert_eq!(finding["severity"], "high");
}

#[test]
fn untimed_events_never_join_wall_clock_ones_of_another_input() {
    let untimed = temp_log(DMESG_T.as_bytes());
    let timed = temp_log(
        b"May  1 11:00:00 ecs-prod-003 kernel: INFO: task fluentd:4242 blocked for more than 120 seconds.\n",
    );
    let report = json_report(
        &[
            "--year",
            "2023",
            untimed.path().to_str().unwrap(),
            timed.path().to_str().unwrap(),
        ],
        None,
    );
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2, "{incidents:#?}");
}
