//! One incident, five ways of collecting it: rsyslog's /var/log/messages,
//! `journalctl -o short-iso`, `journalctl -o json`, `journalctl -o export`,
//! and the components' own files (kubelet.log, docker.log, dmesg). podmortem
//! must report the same incidents from each (samples/five-formats, derived
//! from the field report's lines; see samples/README.md).

mod common;

use common::json_report;
use serde_json::Value;

const DIR: &str = "samples/five-formats";

fn incidents(files: &[&str]) -> Value {
    let paths: Vec<String> = files.iter().map(|f| format!("{DIR}/{f}")).collect();
    let mut args: Vec<&str> = paths.iter().map(String::as_str).collect();
    if files.contains(&"dmesg.txt") {
        // Raw dmesg prints seconds since boot and nothing that dates the
        // boot: the node's boot time, as the journal reveals it.
        args.extend(["--boot-time", "2023-05-01T10:04:59.5+08:00"]);
    }
    let report = json_report(&args, None);
    for input in report["inputs"].as_array().unwrap() {
        assert_eq!(input["unparsed"], 0, "{input}");
    }
    // Where the evidence stands differs by format; what it says does not.
    // Raw component logs do not name their host: hosts are compared apart,
    // and a node-wide finding's node is blanked.
    let text = serde_json::to_string(&report["incidents"])
        .unwrap()
        .replace("node ecs-prod-003", "node ?")
        .replace("node unknown host", "node ?");
    let mut incidents: Value = serde_json::from_str(&text).unwrap();
    for incident in incidents.as_array_mut().unwrap() {
        incident["hosts"] = Value::Null;
        for finding in incident["findings"].as_array_mut().unwrap() {
            for e in finding["evidence"].as_array_mut().unwrap() {
                e["file"] = Value::Null;
                e["line"] = Value::Null;
                e["text"] = Value::Null;
            }
        }
    }
    incidents
}

#[test]
fn every_collection_of_the_seed_case_gives_the_same_incidents() {
    let syslog = incidents(&["messages"]);
    for enveloped in [
        "messages",
        "journal-short-iso.txt",
        "journal.json",
        "journal.export",
    ] {
        let report = json_report(&[&format!("{DIR}/{enveloped}")], None);
        assert_eq!(
            report["incidents"][0]["hosts"],
            serde_json::json!(["ecs-prod-003"]),
            "{enveloped}"
        );
    }
    let first = &syslog[0];
    assert_eq!(first["kind"], "dockerd_stop_loop");
    assert_eq!(first["severity"], "critical");
    assert_eq!(
        first["pods"],
        serde_json::json!(["kube-system/fluentd-hjj42"])
    );
    assert_eq!(first["containers"].as_array().unwrap().len(), 2);
    for other in [
        &["journal-short-iso.txt"][..],
        &["journal.json"],
        &["journal.export"],
        &["kubelet.log", "docker.log", "dmesg.txt"],
    ] {
        assert_eq!(
            incidents(other),
            syslog,
            "{other:?} differs from /var/log/messages"
        );
    }
}

#[test]
fn newest_first_output_gives_the_same_incidents() {
    // `journalctl -r` prints the newest record first; order must not matter.
    let text = std::fs::read_to_string(format!(
        "{}/{DIR}/journal-short-iso.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.reverse();
    let reversed = common::temp_log((lines.join("\n") + "\n").as_bytes());
    let report = json_report(&[reversed.path().to_str().unwrap()], None);
    let forward = json_report(&[&format!("{DIR}/journal-short-iso.txt")], None);
    let counts = |r: &Value| -> Vec<(String, u64, String)> {
        r["incidents"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["kind"].as_str().unwrap().into(),
                    f["count"].as_u64().unwrap(),
                    f["first_seen"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    assert_eq!(counts(&report), counts(&forward));
    assert_eq!(report["incidents"][0]["severity"], "critical");
}
