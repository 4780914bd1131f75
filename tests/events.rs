//! `podmortem events`: the drill-down into the normalized events of one
//! container, pod or kind, as a person types them.

mod common;

use common::{events_ndjson, podmortem, SANDBOX};

const FIVE: &str = "samples/five-formats";

#[test]
fn a_short_container_id_selects_that_containers_events_with_their_pod() {
    let events = events_ndjson(&["--container", &SANDBOX[..12], &format!("{FIVE}/messages")]);
    assert_eq!(events.len(), 174, "the whole dockerd loop");
    assert!(events
        .iter()
        .all(|e| e["containers"][0] == SANDBOX && e["pods"][0] == "kube-system/fluentd-hjj42"));
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["ts"].as_str() <= w[1]["ts"].as_str()),
        "time order"
    );
    // A window still knows who is who: the pod comes from lines outside it.
    let late = events_ndjson(&[
        "--container",
        "a9acd",
        "--since",
        "2023-05-01T11:19:50+08:00",
        &format!("{FIVE}/messages"),
    ]);
    assert_eq!(late.len(), 1);
    assert_eq!(late[0]["pods"][0], "kube-system/fluentd-hjj42");
}

#[test]
fn pod_and_kind_select_across_every_input_merged_in_time() {
    let events = events_ndjson(&[
        "--pod",
        "fluentd-hjj42",
        "--kind",
        "kubelet_stop_deadline",
        &format!("{FIVE}/messages"),
        &format!("{FIVE}/journal.json"),
    ]);
    // The journal holds the same six lines: counted once.
    assert_eq!(events.len(), 6);
    assert!(events
        .iter()
        .all(|e| e["kinds"][0] == "kubelet_stop_deadline" && e["source"] == "kubelet"));
    assert_eq!(events[0]["ts"], "2023-05-01T11:03:37.635343+08:00");
    assert_eq!(events[0]["file"], format!("{FIVE}/messages"));
}

#[test]
fn text_lines_are_aligned_and_counted() {
    let out = podmortem(
        &[
            "events",
            "--kind",
            "kernel_hung_task",
            &format!("{FIVE}/messages"),
        ],
        None,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("2023-05-01T11:05:03+08:00  kernel"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(&format!("{FIVE}/messages:98")));
    assert!(lines[1].starts_with("1 of "));
}

#[test]
fn mistyped_selections_are_usage_errors() {
    for (args, needle) in [
        (
            &[
                "events",
                "--container",
                "xyz",
                "samples/five-formats/messages",
            ][..],
            "--container xyz",
        ),
        (
            &[
                "events",
                "--kind",
                "dockerd_loop",
                "samples/five-formats/messages",
            ][..],
            "no such finding kind",
        ),
    ] {
        let out = podmortem(args, None);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{args:?}"
        );
    }
}

#[test]
fn text_is_colored_by_source_only_when_asked_and_log_escapes_stay_defused() {
    let hostile = common::hostile_dockerd_log("\x1b[2J\x1b]0;owned\x07");
    let path = hostile.path().to_str().unwrap();
    let text = |color: &str| {
        let out = podmortem(&["events", "--color", color, path], None);
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let colored = text("always");
    let first = colored.lines().next().unwrap();
    assert!(
        first.contains("\x1b[36mdockerd   \x1b[0m"),
        "dockerd in its color: {first:?}"
    );
    // The only escapes are podmortem's own color codes: none from the log.
    assert!(!colored.contains("\x1b[2J") && !colored.contains("\x1b]0"));
    let plain = text("never");
    assert!(!plain.contains('\x1b'), "{plain:?}");
    assert!(plain.lines().next().unwrap().contains("-05-02T00:10:36"));
    // auto: a pipe is not a terminal.
    assert!(!text("auto").contains('\x1b'));
}
