//! `--tz` by IANA name: each line's offset is the zone's at that line's
//! date, across the changes to and from daylight saving time.
//!
//! The lines are composed: the seed's kubelet StopContainer line
//! (samples/dockerd-stop-loop/messages, line 101) with its syslog header and
//! klog time moved to either side of Europe/Berlin's changes of 2023
//! (26 March 02:00 CET → 03:00 CEST; 29 October 03:00 CEST → 02:00 CET).

mod common;

use common::{events_ndjson, temp_log};

fn kubelet(month: &str, klog_month: &str, day: &str, clock: &str) -> String {
    format!(
        "{month} {day} {clock} ecs-prod-003 kubelet: E{klog_month}{day} {clock}.635343    4568 \
         remote_runtime.go:276] \"StopContainer from runtime service failed\" \
         err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" \
         containerID=\"fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469\"\n"
    )
}

/// The UTC instants of the events of `log` read with `--tz zone`.
fn utc_of(log: &str, zone: &str) -> Vec<String> {
    let file = temp_log(log.as_bytes());
    events_ndjson(&[
        "--year",
        "2023",
        "--tz",
        zone,
        file.path().to_str().unwrap(),
    ])
    .iter()
    .map(|e| {
        let ts = chrono::DateTime::parse_from_rfc3339(e["ts"].as_str().unwrap()).unwrap();
        ts.with_timezone(&chrono::Utc)
            .format("%m-%d %H:%M:%S")
            .to_string()
    })
    .collect()
}

#[test]
fn berlin_lines_either_side_of_the_march_change_get_their_own_offsets() {
    let log = kubelet("Mar", "03", "26", "01:59:30") + &kubelet("Mar", "03", "26", "03:00:30");
    assert_eq!(
        utc_of(&log, "Europe/Berlin"),
        ["03-26 00:59:30", "03-26 01:00:30"],
        "a minute apart in UTC, an hour and a minute apart on the clock"
    );
    // A fixed offset reads both lines with one offset.
    assert_eq!(utc_of(&log, "+01:00"), ["03-26 00:59:30", "03-26 02:00:30"]);
}

#[test]
fn berlin_autumn_repeated_hour_is_read_in_order() {
    let log = kubelet("Oct", "10", "29", "02:20:00")
        + &kubelet("Oct", "10", "29", "02:50:00")
        + &kubelet("Oct", "10", "29", "02:10:00")
        + &kubelet("Oct", "10", "29", "03:05:00");
    assert_eq!(
        utc_of(&log, "Europe/Berlin"),
        [
            "10-29 00:20:00",
            "10-29 00:50:00",
            "10-29 01:10:00",
            "10-29 02:05:00"
        ]
    );
}

#[test]
fn unknown_zone_names_are_refused_with_what_to_use() {
    let out = common::podmortem(&["analyze", "--tz", "Europe/Atlantis", "x.log"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("IANA zone name"));
}

// ---------------------------------------------------------------------
// Zones learned from what a host's inputs state (issue 11 §3). The log
// lines are composed as above (the seed's kubelet line under a syslog
// header); the zone files are real formats: systemd's `timedatectl status`
// layout, a one-line `/etc/timezone`, a link into zoneinfo, and Debian's
// compiled Europe/Berlin (tests/fixtures/zones/README.md).

const TIMEDATECTL_BERLIN: &str = "               Local time: Sun 2026-07-05 12:00:00 CEST\n\
    \x20          Universal time: Sun 2026-07-05 10:00:00 UTC\n\
    \x20                RTC time: Sun 2026-07-05 10:00:00\n\
    \x20               Time zone: Europe/Berlin (CEST, +0200)\n\
    System clock synchronized: yes\n\
    \x20             NTP service: active\n\
    \x20         RTC in local TZ: no\n";

/// A directory holding `files` (path, bytes) below it.
fn bundle_dir(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

/// The UTC instants (month-day hour:minute) of the events of `args`.
fn utc_events(args: &[&str]) -> Vec<String> {
    let mut all = vec!["--year", "2026"];
    all.extend_from_slice(args);
    events_ndjson(&all)
        .iter()
        .map(|e| {
            let ts = chrono::DateTime::parse_from_rfc3339(e["ts"].as_str().unwrap()).unwrap();
            ts.with_timezone(&chrono::Utc)
                .format("%m-%d %H:%M")
                .to_string()
        })
        .collect()
}

/// The notes `podmortem inputs` gives each input, by the input's name
/// below `root`.
fn input_notes(args: &[&str], root: &str) -> Vec<(String, Vec<String>)> {
    let mut all = vec!["inputs", "--format", "json"];
    if !args.contains(&"--year") {
        all.extend(["--year", "2026"]);
    }
    all.extend_from_slice(args);
    let out = common::podmortem(&all, None);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let path = i["path"].as_str().unwrap();
            let path = path.split_once(root).map_or(path, |(_, rest)| rest);
            let notes = i["inferred"].as_array().unwrap().iter();
            let notes = notes.map(|n| n.as_str().unwrap().to_string()).collect();
            (path.to_string(), notes)
        })
        .collect()
}

fn july_and_january() -> String {
    kubelet("Jul", "07", "05", "10:00:00") + &kubelet("Jan", "01", "05", "10:00:00")
}

#[test]
fn a_sos_bundle_timedatectl_gives_its_syslog_the_zone_with_summer_time() {
    let log = july_and_january();
    let dir = bundle_dir(&[
        (
            "sosreport-n1/sos_commands/systemd/timedatectl",
            TIMEDATECTL_BERLIN.as_bytes(),
        ),
        ("sosreport-n1/var/log/messages", log.as_bytes()),
    ]);
    let root = dir.path().to_str().unwrap();
    // TZ=UTC on this side (tests/common): without the bundle's word the
    // lines would read as UTC.
    let mut got = utc_events(&[root]);
    got.sort();
    assert_eq!(got, ["01-05 09:00", "07-05 08:00"]);
    let notes = input_notes(&[root], "sosreport-n1/");
    let messages = notes.iter().find(|(p, _)| p == "var/log/messages").unwrap();
    assert!(
        messages
            .1
            .iter()
            .any(|n| n.starts_with("zone Europe/Berlin (timedatectl ")
                && n.ends_with("sos_commands/systemd/timedatectl)")),
        "{notes:?}"
    );
    // The timedatectl output is no input of its own.
    assert_eq!(notes.len(), 1, "{notes:?}");
}

#[test]
fn a_tar_bundle_with_a_localtime_link_names_the_zone() {
    let log = july_and_january();
    let mut tar = tar::Builder::new(Vec::new());
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    link.set_mode(0o777);
    tar.append_link(
        &mut link,
        "node1/etc/localtime",
        "../usr/share/zoneinfo/Europe/Berlin",
    )
    .unwrap();
    let mut file = tar::Header::new_gnu();
    file.set_size(log.len() as u64);
    file.set_mode(0o644);
    tar.append_data(&mut file, "node1/var/log/syslog", log.as_bytes())
        .unwrap();
    let bytes = tar.into_inner().unwrap();
    let archive = temp_log(&bytes);
    let path = archive.path().to_str().unwrap();
    let mut got = utc_events(&[path]);
    got.sort();
    assert_eq!(got, ["01-05 09:00", "07-05 08:00"]);
    let notes = input_notes(&[path], ":node1/");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0]
            .1
            .iter()
            .any(|n| n.starts_with("zone Europe/Berlin (/etc/localtime ")),
        "{notes:?}"
    );
}

#[test]
fn a_copied_localtime_file_is_read_by_its_tzif_rules() {
    let tzif = include_bytes!("fixtures/zones/Europe-Berlin.tzif");
    let log = july_and_january();
    let dir = bundle_dir(&[
        ("etc/localtime", &tzif[..]),
        ("var/log/syslog", log.as_bytes()),
    ]);
    let root = dir.path().to_str().unwrap();
    let mut got = utc_events(&[root]);
    got.sort();
    assert_eq!(got, ["01-05 09:00", "07-05 08:00"]);
    let notes = input_notes(&[root], "/var/log/");
    assert!(
        notes[0]
            .1
            .iter()
            .any(|n| n.contains("TZif") && n.contains("/etc/localtime")),
        "{notes:?}"
    );
}

/// journalctl `-o short-full` of the same host (composed: the seed's
/// kubelet line under systemd's `%a %Y-%m-%d %H:%M:%S %Z` header).
fn short_full(abbreviation: &str) -> String {
    format!(
        "Sun 2026-07-05 10:00:00 {abbreviation} ecs-prod-003 kubelet[4568]: E0705 10:00:00.635343    4568 \
         remote_runtime.go:276] \"StopContainer from runtime service failed\" \
         err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" \
         containerID=\"fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469\"\n"
    )
}

#[test]
fn short_full_abbreviations_teach_the_hosts_other_file_its_zone() {
    // The journal in summer (CEST), the syslog file in winter: learned
    // from July, read in January, the winter offset.
    let winter = kubelet("Jan", "01", "05", "10:00:00");
    let dir = bundle_dir(&[
        ("journal.txt", short_full("CEST").as_bytes()),
        ("messages", winter.as_bytes()),
    ]);
    let root = dir.path().to_str().unwrap();
    let mut got = utc_events(&[root]);
    got.sort();
    assert_eq!(got, ["01-05 09:00", "07-05 08:00"]);
    let notes = input_notes(&[root], "/");
    let messages = notes.iter().find(|(p, _)| p.ends_with("messages")).unwrap();
    assert!(
        messages.1.iter().any(|n| n
            .starts_with("zone CEST (short-full abbreviations: the rules of ")
            && n.contains("journal.txt")),
        "{notes:?}"
    );
    // An abbreviation of several zones teaches nothing, and says so.
    let cst = temp_log(short_full("CST").as_bytes());
    let notes = input_notes(&[cst.path().to_str().unwrap()], "/");
    assert!(
        notes[0]
            .1
            .iter()
            .any(|n| n.contains("CST") && n.contains("not learned")),
        "{notes:?}"
    );
}

#[test]
fn tz_beats_what_the_bundle_states() {
    let log = kubelet("Jul", "07", "05", "10:00:00");
    let dir = bundle_dir(&[
        ("etc/timezone", b"Europe/Berlin\n"),
        ("var/log/messages", log.as_bytes()),
    ]);
    let root = dir.path().to_str().unwrap();
    assert_eq!(utc_events(&[root]), ["07-05 08:00"]);
    assert_eq!(
        utc_events(&["--tz", "Asia/Shanghai", root]),
        ["07-05 02:00"]
    );
    let notes = input_notes(&["--tz", "Asia/Shanghai", root], "/var/log/");
    assert!(
        notes[0]
            .1
            .iter()
            .any(|n| n.contains("Europe/Berlin") && n.contains("--tz used")),
        "{notes:?}"
    );
}

#[test]
fn sources_that_disagree_are_named() {
    let log = kubelet("Jul", "07", "05", "10:00:00");
    // timedatectl says Berlin, a stale /etc/timezone Shanghai: timedatectl
    // (what systemd had in force) is taken, the disagreement noted.
    let dir = bundle_dir(&[
        ("etc/timezone", b"Asia/Shanghai\n"),
        (
            "sos_commands/systemd/timedatectl",
            TIMEDATECTL_BERLIN.as_bytes(),
        ),
        ("var/log/messages", log.as_bytes()),
    ]);
    let root = dir.path().to_str().unwrap();
    assert_eq!(utc_events(&[root]), ["07-05 08:00"]);
    let notes = input_notes(&[root], "/var/log/");
    assert!(
        notes[0]
            .1
            .iter()
            .any(|n| n.starts_with("zone sources disagree: Europe/Berlin")
                && n.contains("Asia/Shanghai")),
        "{notes:?}"
    );
    // The host's lines show +08:00 (dockerd's logrus time under the syslog
    // header): the lines win over a bundle that says Berlin.
    let dockerd = "Jul  5 10:00:00 ecs-prod-003 dockerd[1203]: time=\"2026-07-05T10:00:00.148458112+08:00\" \
                   level=info msg=\"Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL\"\n";
    let dir = bundle_dir(&[
        ("etc/timezone", b"Europe/Berlin\n"),
        ("var/log/docker", dockerd.as_bytes()),
        ("var/log/messages", log.as_bytes()),
    ]);
    let root = dir.path().to_str().unwrap();
    let mut got = utc_events(&[root]);
    got.sort();
    assert_eq!(got, ["07-05 02:00", "07-05 02:00"]);
    let notes = input_notes(&[root], "/var/log/");
    let messages = notes.iter().find(|(p, _)| p == "messages").unwrap();
    assert!(
        messages
            .1
            .iter()
            .any(|n| n.starts_with("zone Europe/Berlin")
                && n.contains("not applied")
                && n.contains("+08:00")),
        "{notes:?}"
    );
}

/// One `FailedKillPod` event of the seed's pod at `at` (UTC), shaped as
/// tests/fixtures/cluster/seed/events.json (composed: one event per
/// failure rather than one counted event, so that each is a moment).
fn failed_kill_pod(n: usize, at: &str) -> String {
    format!(
        r#"{{"apiVersion": "v1", "count": 1, "eventTime": null, "firstTimestamp": "{at}",
 "involvedObject": {{"apiVersion": "v1", "kind": "Pod", "name": "fluentd-hjj42",
   "namespace": "kube-system", "uid": "d6097c23-9b88-4708-93e0-226bb313e7f3"}},
 "kind": "Event", "lastTimestamp": "{at}",
 "message": "error killing pod: failed to \"KillContainer\" for \"fluentd\" with KillContainerError: \"rpc error: code = Unknown desc = operation timeout: context deadline exceeded\"",
 "metadata": {{"creationTimestamp": "{at}", "name": "fluentd-hjj42.175b1b1e9a0f4c2{n}", "namespace": "kube-system"}},
 "reason": "FailedKillPod", "source": {{"component": "kubelet", "host": "ecs-prod-003"}}, "type": "Warning"}}"#
    )
}

/// Issue 17: the API's UTC times of kubelet's FailedKillPod events against
/// kubelet's own lines for the same container (tied to the pod by the
/// seed's pods.json), in a file that gives no zone.
#[test]
fn api_event_times_show_a_node_log_read_in_the_wrong_zone() {
    let events = [
        "2023-05-01T03:03:37Z",
        "2023-05-01T03:13:57Z",
        "2023-05-01T03:23:57Z",
    ]
    .iter()
    .enumerate()
    .map(|(n, at)| failed_kill_pod(n, at))
    .collect::<Vec<_>>()
    .join(",\n");
    let events = format!("{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{events}]}}\n");
    let pods = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/cluster/seed/pods.json"
    ))
    .unwrap();
    // kubelet's lines at Beijing time, in a file that does not say so.
    let log = kubelet("May", "05", "01", "11:03:37")
        + &kubelet("May", "05", "01", "11:13:56")
        + &kubelet("May", "05", "01", "11:23:56");
    let dir = bundle_dir(&[
        ("events.json", events.as_bytes()),
        ("pods.json", &pods),
        ("kubelet.log", log.as_bytes()),
    ]);
    let root = dir.path().to_str().unwrap();
    let note = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push(root);
        let notes = input_notes(&all, "/");
        let kubelet = notes
            .iter()
            .find(|(p, _)| p.ends_with("kubelet.log"))
            .unwrap();
        kubelet.1.iter().find(|n| n.contains("API")).cloned()
    };
    // Nothing stated the file's zone: its lines are read again at +08:00.
    let shifted = note(&["--year", "2023"]).expect("a note on kubelet.log");
    assert!(
        shifted.contains("+08:00") && shifted.contains("3 cases") && shifted.contains("read again"),
        "{shifted}"
    );
    let report = common::json_report(&["--year", "2023", root], None);
    let input = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("kubelet.log"))
        .unwrap();
    assert_eq!(input["zone_from"], "api");
    let stop = report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["findings"].as_array().unwrap())
        .find(|f| f["kind"] == "kubelet_stop_deadline")
        .unwrap();
    let first = stop["first_seen"].as_str().unwrap();
    assert!(
        first.starts_with("2023-05-01T11:03:37") && first.ends_with("+08:00"),
        "{first}"
    );
    // A zone the user gave is kept: the note says it looks wrong.
    let kept = note(&["--year", "2023", "--tz", "UTC"]).expect("a note on kubelet.log");
    assert!(kept.contains("looks wrong"), "{kept}");
    // Read in the right zone, the lines and the API agree: no note.
    assert_eq!(note(&["--year", "2023", "--tz", "Asia/Shanghai"]), None);
}
