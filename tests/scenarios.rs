//! The binary on the shipped samples: the field case must come out as an
//! expert would write it up. Each sample directory holds its inputs (all
//! analyzed together) and the expected incidents (`expected.json`); run with `PODMORTEM_BLESS=1` to
//! rewrite them after a deliberate change, and review the diff.

mod common;

use common::{json_report, podmortem, CONTAINER, SANDBOX, SEED};
use serde_json::Value;

#[test]
fn seed_case_ranks_the_fluentd_stop_loop_first() {
    let report = json_report(&[SEED], None);
    assert_eq!(report["schema_version"], 1);
    let first = &report["incidents"][0];
    assert_eq!(first["rank"], 1);
    assert_eq!(first["kind"], "dockerd_stop_loop");
    // No hung kernel task in these logs: the effects alone tell no chain.
    assert_eq!(first["chain"], serde_json::Value::Null);
    assert_eq!(first["severity"], "critical");
    assert_eq!(
        first["pods"],
        serde_json::json!(["kube-system/fluentd-hjj42"])
    );
    assert_eq!(first["containers"], serde_json::json!([SANDBOX, CONTAINER]));
    assert_eq!(first["hosts"], serde_json::json!(["ecs-prod-003"]));

    let findings = first["findings"].as_array().unwrap();
    let kinds: Vec<&str> = findings
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["dockerd_stop_loop", "kubelet_stop_deadline"]);

    let stop_loop = &findings[0];
    assert_eq!(stop_loop["source"], "dockerd");
    assert_eq!(stop_loop["severity"], "high");
    assert_eq!(stop_loop["subject"], format!("container {SANDBOX}"));
    let count = stop_loop["count"].as_u64().unwrap();
    assert_eq!(
        count as usize,
        loop_lines_in_seed(),
        "every stop/kill line counts, short and full IDs alike"
    );
    let period = stop_loop["period_s"].as_f64().unwrap();
    assert!((10.0..=12.0).contains(&period), "period {period}");
    // The real lines of the report end the loop.
    assert_eq!(
        stop_loop["last_seen"],
        "2023-05-02T00:12:58.429207582+08:00"
    );

    let deadline = &findings[1];
    assert_eq!(deadline["source"], "kubelet");
    assert_eq!(deadline["subject"], format!("container {CONTAINER}"));
    // Two failed stops, each written as three lines in one instant.
    assert_eq!(
        (&deadline["count"], &deadline["lines"]),
        (&2.into(), &6.into())
    );
    assert_eq!(deadline["first_seen"], "2023-05-01T11:03:37.635343+08:00");
    assert_eq!(deadline["last_seen"], "2023-05-01T11:13:56.985160+08:00");
    let evidence = &deadline["evidence"][0];
    assert_eq!(evidence["file"], SEED);
    assert_eq!(evidence["level"], "error", "klog E lines are errors");
    assert_eq!(
        stop_loop["evidence"][0]["level"], "info",
        "dockerd logs the loop at info"
    );
    assert!(evidence["text"]
        .as_str()
        .unwrap()
        .contains("StopContainer from runtime service failed"));
    let line = evidence["line"].as_u64().unwrap() as usize;
    let seed = std::fs::read_to_string(SEED).unwrap();
    assert_eq!(
        seed.lines().nth(line - 1),
        evidence["text"].as_str(),
        "evidence points at its line"
    );

    let explanation = first["explanation"].as_str().unwrap();
    for needle in ["D state", "Z state", "goroutines", "42956", "20.10.10"] {
        assert!(explanation.contains(needle), "explanation lacks {needle}");
    }
    let remediation = first["remediation"].as_str().unwrap();
    for needle in ["D", "20.10.10", "live-restore"] {
        assert!(remediation.contains(needle), "remediation lacks {needle}");
    }
    // The logs state the running Docker: older than the fix.
    assert_eq!(
        first["versions"],
        serde_json::json!([{"component": "docker", "version": "19.03.15", "host": "ecs-prod-003", "fixed_in": "20.10.10", "has_fix": false}])
    );
    assert!(first["remediation_steps"][0]
        .as_str()
        .unwrap()
        .contains("docker 19.03.15 on ecs-prod-003, older than 20.10.10"));
    assert!(first["references"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r.as_str().unwrap().contains("moby/pull/42956")));
}

fn loop_lines_in_seed() -> usize {
    let seed = std::fs::read_to_string(SEED).unwrap();
    seed.lines()
        .filter(|l| l.contains(&SANDBOX[..12]) && l.contains("failed to exit within"))
        .count()
}

#[test]
fn a_one_off_forced_kill_is_a_low_incident_below_the_loop() {
    let report = json_report(&[SEED], None);
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2);
    let decoy = &incidents[1];
    assert_eq!(decoy["severity"], "low");
    assert_eq!(decoy["findings"][0]["count"], 1);
    assert!(decoy["score"].as_f64() < incidents[0]["score"].as_f64());
}

#[test]
fn stdin_and_the_file_give_the_same_incidents() {
    let from_file = json_report(&[SEED], None);
    let bytes = std::fs::read(SEED).unwrap();
    let from_stdin = json_report(&["-"], Some(&bytes));
    assert_eq!(
        without_files(&from_file["incidents"]),
        without_files(&from_stdin["incidents"])
    );
    assert_eq!(from_stdin["inputs"][0]["path"], "-");
    assert_eq!(
        from_stdin["inputs"][0]["lines"],
        from_file["inputs"][0]["lines"]
    );
}

/// The incidents with evidence file names blanked (stdin is called `-`).
fn without_files(incidents: &Value) -> Value {
    let mut copy = incidents.clone();
    for incident in copy.as_array_mut().unwrap() {
        for finding in incident["findings"].as_array_mut().unwrap() {
            for e in finding["evidence"].as_array_mut().unwrap() {
                e["file"] = Value::Null;
            }
        }
    }
    copy
}

#[test]
fn one_thread_and_many_give_identical_reports() {
    let one = json_report(&["--threads", "1", SEED], None);
    let many = json_report(&["--threads", "4", SEED], None);
    assert_eq!(one["incidents"], many["incidents"]);
    assert_eq!(one["inputs"], many["inputs"]);
}

#[test]
fn text_report_names_the_pod_containers_findings_and_evidence() {
    let out = podmortem(&["analyze", SEED], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.split("\n#2 ").next().unwrap();
    assert!(first.contains("#1 CRITICAL"), "{first}");
    assert!(first.contains("pod kube-system/fluentd-hjj42"));
    assert!(first.contains(SANDBOX) && first.contains(CONTAINER));
    assert!(first.contains("dockerd_stop_loop") && first.contains("kubelet_stop_deadline"));
    assert!(first.contains("every 11s"));
    assert!(
        first.contains(&format!("{SEED}:")),
        "evidence cites file:line"
    );
    assert!(
        first.contains("2023-05-02T00:12:58+08:00"),
        "times are RFC 3339 with offset"
    );
}

/// The seed report's real lines alone (samples/dockerd-stop-loop-real):
/// kubelet's failed stops on May 1 11:03–11:13 and dockerd's loop on May 2
/// 00:10–00:12, 13 hours apart with nothing in between that resolves the
/// pod (kubelet's `RemoveContainer` request at 23:37 is no removal), are
/// one incident on the pod.
#[test]
fn the_seed_reports_real_lines_alone_are_one_incident() {
    let report = json_report(&["samples/dockerd-stop-loop-real/messages"], None);
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let incident = &incidents[0];
    assert_eq!(
        incident["pods"],
        serde_json::json!(["kube-system/fluentd-hjj42"])
    );
    assert_eq!(
        incident["containers"],
        serde_json::json!([SANDBOX, CONTAINER])
    );
    let mut kinds: Vec<&str> = incident["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["dockerd_stop_loop", "kubelet_stop_deadline"]);
    assert_eq!(incident["severity"], "critical");
}

#[test]
fn samples_match_their_expected_incidents() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut checked = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let expected_path = dir.join("expected.json");
        // Every file of the directory is one input of the scenario.
        let mut inputs: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n != "expected.json" && n != "README.md")
            })
            .map(|p| {
                p.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        inputs.sort();
        let rel = inputs.join(" ");
        let args: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let report = json_report(&args, None);
        let actual = serde_json::to_string_pretty(&report["incidents"]).unwrap() + "\n";
        if common::blessing() {
            std::fs::write(&expected_path, &actual).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!(
                "{} missing: run with PODMORTEM_BLESS=1",
                expected_path.display()
            )
        });
        assert_eq!(
            actual, expected,
            "{rel}: incidents differ from expected.json"
        );
        checked += 1;
    }
    assert!(checked >= 1);
}
