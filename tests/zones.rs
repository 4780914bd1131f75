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
