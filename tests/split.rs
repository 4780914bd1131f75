//! A log read whole and the same log cut in two files give the same
//! incidents: what detection and correlation conclude may not depend on
//! where an input ends (rotation cuts a node's log anywhere). This pins the
//! property that streaming detectors must keep when their states merge
//! (issue 10 §1: "merge tested by splitting inputs").

mod common;

use common::json_report;
use serde_json::Value;

/// What an incident says, without where its evidence was read (file and
/// line differ between the whole log and its halves by construction).
fn gist(report: &Value) -> Vec<Value> {
    report["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .map(|i| {
            let findings: Vec<Value> = i["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|f| {
                    serde_json::json!([
                        f["kind"],
                        f["subject"],
                        f["severity"],
                        f["count"],
                        f["lines"],
                        f["first_seen"],
                        f["last_seen"],
                        f["period_s"]
                    ])
                })
                .collect();
            serde_json::json!([
                i["kind"],
                i["severity"],
                i["title"],
                i["pods"],
                i["containers"],
                i["first_seen"],
                i["last_seen"],
                findings
            ])
        })
        .collect()
}

#[test]
fn a_log_cut_anywhere_in_two_gives_the_incidents_of_the_whole() {
    let path = "samples/dockerd-stop-loop/messages";
    let text = std::fs::read_to_string(path).expect("sample");
    let lines: Vec<&str> = text.lines().collect();
    let args = ["--year", "2023", "--tz", "+08:00"];
    let mut whole_args = args.to_vec();
    whole_args.push(path);
    let whole = json_report(&whole_args, None);
    assert!(
        !gist(&whole).is_empty(),
        "the sample must give incidents for this test to mean anything"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    for cut in [
        1,
        lines.len() / 5,
        lines.len() / 2,
        lines.len() * 4 / 5,
        lines.len() - 1,
    ] {
        let (a, b) = lines.split_at(cut);
        let first = dir.path().join(format!("messages-{cut}-a"));
        let second = dir.path().join(format!("messages-{cut}-b"));
        std::fs::write(&first, a.join("\n") + "\n").expect("write");
        std::fs::write(&second, b.join("\n") + "\n").expect("write");
        let mut split_args = args.to_vec();
        split_args.push(first.to_str().expect("utf-8 path"));
        split_args.push(second.to_str().expect("utf-8 path"));
        let split = json_report(&split_args, None);
        assert_eq!(gist(&split), gist(&whole), "cut after line {cut}");
        assert_eq!(
            split["stats"]["events"], whole["stats"]["events"],
            "cut after line {cut}"
        );
    }
}
