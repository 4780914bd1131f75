//! Reading inputs as collected: the journal export format, two collections
//! of one node's logs, time windows, New Year inside a file, raw logs
//! without a zone, and the `inputs` listing.

mod common;

use common::{json_report, podmortem, temp_log, CONTAINER, SEED};

/// The seed's kubelet lines, as `journalctl -o export` writes them.
fn kubelet_export() -> String {
    let seed = std::fs::read_to_string(SEED).unwrap();
    let mut out = String::new();
    for (n, line) in seed
        .lines()
        .filter(|l| l.contains(" kubelet: E0501 "))
        .enumerate()
    {
        let message = line.split_once(" kubelet: ").unwrap().1;
        // The klog time (local, +08:00) is when kubelet wrote it; journald
        // received it a little later.
        let realtime = 1_682_910_236_000_000u64 + n as u64 * 1_000_000;
        out.push_str(&format!(
            "__CURSOR=s=1;i={n}\n__REALTIME_TIMESTAMP={realtime}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID=5c1e\n_TRANSPORT=stdout\n_HOSTNAME=ecs-prod-003\nSYSLOG_IDENTIFIER=kubelet\n_PID=4568\nMESSAGE={message}\n\n",
            7_265_418_733u64 + n as u64
        ));
    }
    out
}

#[test]
fn journal_export_entries_are_read_as_records() {
    let export = temp_log(kubelet_export().as_bytes());
    let report = json_report(&[export.path().to_str().unwrap()], None);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "journal-export");
    assert_eq!(input["hosts"], serde_json::json!(["ecs-prod-003"]));
    assert_eq!(input["unparsed"], 0);
    let finding = &report["incidents"][0]["findings"][0];
    assert_eq!(finding["kind"], "kubelet_stop_deadline");
    // Two failed stops, each written as three lines in one instant.
    assert_eq!(
        (&finding["count"], &finding["lines"]),
        (&2.into(), &6.into())
    );
    // The klog time, placed by the zone the journal's own clock reveals.
    assert_eq!(finding["first_seen"], "2023-05-01T11:03:37.635343+08:00");
    assert_eq!(input["zone_from"], "logs");
    // Evidence points at the line where the entry starts.
    let evidence = &finding["evidence"][0];
    assert_eq!(evidence["line"], 1);
    assert!(evidence["text"]
        .as_str()
        .unwrap()
        .starts_with("E0501 11:03:37.635343"));
}

#[test]
fn the_same_events_in_two_collections_count_once() {
    let export = temp_log(kubelet_export().as_bytes());
    let alone = json_report(&[SEED], None);
    let both = json_report(&[SEED, export.path().to_str().unwrap()], None);
    assert_eq!(both["stats"]["duplicates"], 6);
    assert_eq!(
        alone["incidents"][0]["findings"],
        both["incidents"][0]["findings"]
    );
}

#[test]
fn since_and_until_keep_a_window_of_events() {
    let report = json_report(
        &[
            "--since",
            "2023-05-01T11:00:00+08:00",
            "--until",
            "2023-05-01T11:10:00+08:00",
            SEED,
        ],
        None,
    );
    let findings = report["incidents"][0]["findings"].as_array().unwrap();
    let deadline = findings
        .iter()
        .find(|f| f["kind"] == "kubelet_stop_deadline")
        .unwrap();
    assert_eq!(
        (&deadline["count"], &deadline["lines"]),
        (&1.into(), &3.into()),
        "only the 11:03 retry is inside the window"
    );
    assert!(report["stats"]["outside_window"].as_u64().unwrap() > 4000);
    // Relative bounds count back from the newest event (00:12:58 on May 2).
    let last_hour = json_report(&["--since", "1h", SEED], None);
    let first = last_hour["incidents"][0]["first_seen"].as_str().unwrap();
    assert!(first >= "2023-05-01T23:12:58", "{first}");
    let out = podmortem(&["analyze", "--since", "last tuesday", SEED], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since last tuesday"));
}

#[test]
fn new_year_inside_a_file_moves_the_year_of_the_lines_after_it() {
    let mut text = String::new();
    for s in 0..20 {
        text.push_str(&format!(
            "Dec 31 23:59:{s:02} node-1 systemd: Started Session {s} of user root.\n"
        ));
    }
    let deadline = |md: &str, hms: &str| {
        format!(
        "node-1 kubelet: E{md} {hms}.000001    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\" err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" containerID=\"{CONTAINER}\"\n"
    )
    };
    text.push_str(&format!("Dec 31 23:59:30 {}", deadline("1231", "23:59:30")));
    text.push_str(&format!("Jan  1 00:00:10 {}", deadline("0101", "00:00:10")));
    let log = temp_log(text.as_bytes());
    // Copied on Jan 2 2024: the last line is from 2024.
    let mtime = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_704_153_600);
    log.as_file().set_modified(mtime).unwrap();
    let report = json_report(&[log.path().to_str().unwrap()], None);
    let finding = &report["incidents"][0]["findings"][0];
    assert_eq!(finding["first_seen"], "2023-12-31T23:59:30.000001+00:00");
    assert_eq!(finding["last_seen"], "2024-01-01T00:00:10.000001+00:00");
}

#[test]
fn a_raw_log_without_zone_takes_the_zone_the_other_inputs_reveal() {
    // kubelet.log prints local klog times; docker.log's logrus times carry +08:00.
    let kubelet = temp_log(format!(
        "I0501 11:03:30.000000    4568 kubelet.go:2098] \"SyncLoop (probe)\"\n\
         E0501 11:03:37.635343    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\" err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" containerID=\"{CONTAINER}\"\n"
    ).as_bytes());
    let docker = temp_log(b"time=\"2023-05-01T11:03:40.148458112+08:00\" level=info msg=\"Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL\"\n");
    let report = json_report(
        &[
            "--year",
            "2023",
            kubelet.path().to_str().unwrap(),
            docker.path().to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(report["inputs"][0]["zone_from"], "other_inputs");
    let deadline = report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["findings"].as_array().unwrap())
        .find(|f| f["kind"] == "kubelet_stop_deadline")
        .unwrap();
    assert_eq!(deadline["first_seen"], "2023-05-01T11:03:37.635343+08:00");
}

#[test]
fn inputs_lists_format_hosts_range_and_counts() {
    let export = temp_log(kubelet_export().as_bytes());
    let out = podmortem(&["inputs", SEED, export.path().to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with(&format!("{SEED}  syslog  hosts ecs-prod-003  2023-05-01T10:45:00+08:00 → 2023-05-04T10:18:14+08:00  4833 lines, 0 unparsed")), "{}", lines[0]);
    assert!(
        lines[1].contains("journal-export  hosts ecs-prod-003"),
        "{}",
        lines[1]
    );
    let json: serde_json::Value =
        serde_json::from_slice(&podmortem(&["inputs", "--format", "json", SEED], None).stdout)
            .unwrap();
    assert_eq!(json["inputs"][0]["lines"], 4833);
    assert!(json.get("incidents").is_none());
}

/// The seed's lines as a user's editor or tool may have saved them.
fn seed_text() -> String {
    std::fs::read_to_string(SEED).unwrap()
}

/// `podmortem inputs --format json` of one file.
fn inputs_of(bytes: &[u8]) -> serde_json::Value {
    let log = temp_log(bytes);
    let out = podmortem(
        &["inputs", "--format", "json", log.path().to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn utf16_files_with_a_byte_order_mark_are_decoded() {
    let seed = seed_text();
    let lines = seed.lines().count();
    // PowerShell's `>` writes UTF-16LE with a BOM and CRLF line ends.
    let crlf = seed.replace('\n', "\r\n");
    let le: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(crlf.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let be: Vec<u8> = [0xfe, 0xff]
        .into_iter()
        .chain(seed.encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    for (bytes, note) in [(le, "UTF-16LE decoded"), (be, "UTF-16BE decoded")] {
        let input = &inputs_of(&bytes)["inputs"][0];
        assert_eq!(input["format"], "syslog", "{note}");
        assert_eq!(input["lines"], lines, "{note}");
        assert_eq!(input["unparsed"], 0, "{note}");
        assert_eq!(input["inferred"], serde_json::json!([note]));
        let log = temp_log(&bytes);
        let report = json_report(
            &[
                "--year",
                "2023",
                "--tz",
                "+08:00",
                log.path().to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(
            report["incidents"][0]["kind"], "dockerd_stop_loop",
            "{note}"
        );
    }
}

#[test]
fn lines_ended_by_a_carriage_return_alone_are_read() {
    let seed = seed_text();
    let cr = seed.replace('\n', "\r");
    let input = &inputs_of(cr.as_bytes())["inputs"][0];
    assert_eq!(input["lines"], seed.lines().count());
    assert_eq!(input["unparsed"], 0);
    assert_eq!(
        input["inferred"],
        serde_json::json!(["CR line ends read as newlines"])
    );
    let text = String::from_utf8(
        podmortem(
            &["inputs", temp_log(cr.as_bytes()).path().to_str().unwrap()],
            None,
        )
        .stdout,
    )
    .unwrap();
    assert!(
        text.contains("syslog (CR line ends read as newlines)"),
        "{text}"
    );
}

#[test]
fn an_export_whose_first_entries_hold_binary_fields_is_read() {
    // journalctl -o export of a real journal file whose second entry's
    // MESSAGE holds control characters, so it is written as a binary field
    // (a length, then raw bytes with NULs): tests/fixtures/journalctl/.
    let report = json_report(&["tests/fixtures/journalctl/export.txt"], None);
    assert!(
        report["skipped"].as_array().unwrap().is_empty(),
        "{}",
        report["skipped"]
    );
    let input = &report["inputs"][0];
    assert_eq!(
        (&input["format"], &input["unparsed"]),
        (&"journal-export".into(), &0.into())
    );
    let events = common::events_ndjson(&["tests/fixtures/journalctl/export.txt"]);
    // The binary MESSAGE's dockerd kill (ANSI-coloured logrus TTY) is one of them.
    assert!(events
        .iter()
        .any(|e| e["pattern"] == "dockerd.kill_timeout_sigkill" && e["line"] == 15));
}

#[test]
fn journal_json_messages_given_as_bytes_are_matched() {
    // `journalctl -o json` writes a MESSAGE with control characters as an
    // array of bytes: the literal prefilter must see the decoded message.
    let events = common::events_ndjson(&["tests/fixtures/journalctl/json.txt"]);
    assert!(
        events
            .iter()
            .any(|e| e["pattern"] == "dockerd.kill_timeout_sigkill" && e["line"] == 2),
        "{events:?}"
    );
}
