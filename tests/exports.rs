//! Cloud log exports (issue 11 §4): each vendor's export of the seed's lines
//! is detected by its content and gives the same events, and whole exports
//! of the seed give the seed's incidents.

mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use common::{events_ndjson, json_report, podmortem, temp_log, SEED};
use serde_json::{json, Value};

/// Each fixture (tests/fixtures/cloud/README.md) and the format it must be
/// read as.
const FIXTURES: &[(&str, &str)] = &[
    ("azure-syslog.csv", "azure-syslog-csv"),
    ("azure-syslog.json", "azure-syslog-json"),
    ("cloud-logging.json", "cloud-logging-json"),
    ("cloudwatch-filter-log-events.json", "cloudwatch-json"),
    ("cloudwatch-get-log-events.json", "cloudwatch-json"),
    ("cloudwatch-insights.csv", "cloudwatch-insights-csv"),
    ("cloudwatch-insights.json", "cloudwatch-insights-json"),
    ("elasticsearch-search.json", "elasticsearch-hits"),
    ("fluent-bit.ndjson", "cloud-record"),
    ("loki.jsonl", "cloud-record"),
];

/// The seed lines every fixture carries (lines 6-9, 101 and 167).
fn seed_lines() -> String {
    let seed = std::fs::read_to_string(SEED).unwrap();
    let lines: Vec<&str> = seed.lines().collect();
    [6, 7, 8, 9, 101, 167]
        .iter()
        .map(|&n| format!("{}\n", lines[n - 1]))
        .collect()
}

/// The (instant, pattern, host) of every event `podmortem events` finds.
fn events_of(path: &str) -> BTreeSet<(i64, String, String)> {
    events_ndjson(&["--year", "2023", "--tz", "+08:00", path])
        .iter()
        .map(|e| {
            let ts = DateTime::parse_from_rfc3339(e["ts"].as_str().unwrap())
                .unwrap_or_else(|_| panic!("{path}: a wall-clock time: {e}"));
            (
                ts.timestamp_micros(),
                e["pattern"].as_str().unwrap().to_string(),
                e["host"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

#[test]
fn every_vendor_export_of_the_seed_lines_reads_as_the_lines() {
    let syslog = temp_log(seed_lines().as_bytes());
    let want = events_of(syslog.path().to_str().unwrap());
    assert_eq!(want.len(), 6, "{want:?}");
    for (file, format) in FIXTURES {
        let path = format!("tests/fixtures/cloud/{file}");
        let inputs = podmortem(&["inputs", "--format", "json", &path], None);
        let inputs: Value = serde_json::from_slice(&inputs.stdout).unwrap();
        let input = &inputs["inputs"][0];
        assert_eq!(input["format"], *format, "{file}");
        assert_eq!(input["unparsed"], 0, "{file}: {input}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(input["lines"], text.lines().count(), "{file}");
        assert_eq!(input["hosts"], json!(["ecs-prod-003"]), "{file}");
        assert_eq!(events_of(&path), want, "{file}");
    }
}

/// The seed's lines as `(instant, host, program, message, line)`.
fn seed_records() -> Vec<(DateTime<FixedOffset>, String, String, String, String)> {
    let cst = FixedOffset::east_opt(8 * 3600).unwrap();
    std::fs::read_to_string(SEED)
        .unwrap()
        .lines()
        .map(|line| {
            let at = NaiveDateTime::parse_from_str(
                &format!("2023 {}", &line[..15]),
                "%Y %b %e %H:%M:%S",
            )
            .unwrap();
            let at = cst.from_local_datetime(&at).unwrap();
            let (host, rest) = line[16..].split_once(' ').unwrap();
            let (program, message) = rest.split_once(": ").unwrap();
            (
                at,
                host.to_string(),
                program.to_string(),
                message.to_string(),
                line.to_string(),
            )
        })
        .collect()
}

/// What makes two reports find the same thing: each incident's kind,
/// severity, entities and findings (counts, lines, first and last instant).
fn findings(report: &Value) -> Vec<Value> {
    let instant = |v: &Value| {
        DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .timestamp_micros()
    };
    report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let findings: Vec<Value> = i["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    json!([
                        f["kind"],
                        f["severity"],
                        f["subject"],
                        f["count"],
                        f["lines"],
                        instant(&f["first_seen"]),
                        instant(&f["last_seen"])
                    ])
                })
                .collect();
            json!([
                i["kind"],
                i["severity"],
                i["hosts"],
                i["pods"],
                i["containers"],
                findings
            ])
        })
        .collect()
}

#[test]
fn cloudwatch_and_cloud_logging_exports_of_the_seed_give_its_incidents() {
    let want = findings(&json_report(&[SEED], None));
    assert!(!want.is_empty());
    let records = seed_records();
    // `aws logs filter-log-events` of the CloudWatch agent's stream of
    // /var/log/messages: each event's message is the line.
    let events: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(n, (at, _, _, _, line))| {
            json!({ "logStreamName": "i-0f3c2a7d9b1e45a60", "timestamp": at.timestamp_millis(),
                    "message": line, "ingestionTime": at.timestamp_millis() + 1000,
                    "eventId": format!("{n:056}") })
        })
        .collect();
    let cloudwatch =
        serde_json::to_string_pretty(&json!({ "events": events, "searchedLogStreams": [] }))
            .unwrap();
    // `gcloud logging read --format=json` of GKE's node journal: newest
    // first, the journal's fields in jsonPayload, or the text alone.
    let entries: Vec<Value> = records
        .iter()
        .rev()
        .enumerate()
        .map(|(n, (at, host, program, message, _))| {
            let t = at.to_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let mut e = json!({ "insertId": format!("{n:x}"), "logName": format!("projects/p/logs/{program}"),
                    "resource": { "type": "k8s_node", "labels": { "node_name": host, "project_id": "p" } },
                    "timestamp": t, "receiveTimestamp": t });
            if n % 2 == 0 {
                e["jsonPayload"] = json!({ "_HOSTNAME": host, "SYSLOG_IDENTIFIER": program, "MESSAGE": message });
            } else {
                e["textPayload"] = json!(message);
            }
            e
        })
        .collect();
    let cloud_logging = serde_json::to_string_pretty(&entries).unwrap();
    for (name, export) in [("cloudwatch", cloudwatch), ("cloud logging", cloud_logging)] {
        let file = temp_log(export.as_bytes());
        let got = json_report(&[file.path().to_str().unwrap()], None);
        assert_eq!(got["inputs"][0]["unparsed"], 0, "{name}");
        assert_eq!(findings(&got), want, "{name}");
    }
}
