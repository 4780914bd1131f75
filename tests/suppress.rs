//! Known incidents in CI: a baseline report and accepted incidents with a
//! reason and an expiry are still reported, marked, and do not fail the run.

mod common;

use common::{podmortem, SEED};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_baseline_marks_known_incidents_and_lets_the_gate_pass() {
    let dir = tempfile::tempdir().unwrap();
    let before = podmortem(&["analyze", "--format", "json", SEED], None);
    let baseline = write(
        &dir,
        "baseline.json",
        &String::from_utf8(before.stdout).unwrap(),
    );
    assert_eq!(
        podmortem(&["analyze", "--fail-on", "high", SEED], None)
            .status
            .code(),
        Some(1)
    );
    let out = podmortem(
        &[
            "analyze",
            "--format",
            "json",
            "--fail-on",
            "high",
            "--baseline",
            &baseline,
            SEED,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "known incidents do not fail");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["incidents"][0]["suppressed"],
        "in the baseline report"
    );
    assert_eq!(
        report["incidents"][0]["severity"], "critical",
        "still reported as it is"
    );
    // JUnit: the known incident passes, and says why.
    let junit = podmortem(
        &[
            "analyze",
            "--format",
            "junit",
            "--baseline",
            &baseline,
            SEED,
        ],
        None,
    );
    assert_eq!(junit.status.code(), Some(0));
    let xml = String::from_utf8(junit.stdout).unwrap();
    assert!(xml.contains("failures=\"0\"") && xml.contains("suppressed (in the baseline report)"));
}

#[test]
fn suppress_rules_apply_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let rules = |expires: &str| {
        format!(
            "[[suppress]]\nkind = \"dockerd_stop_loop\"\npod = \"kube-system/fluentd-hjj42\"\nreason = \"OPS-1234: node drained, Docker upgrade scheduled\"\nexpires = \"{expires}\"\n"
        )
    };
    let live = write(&dir, "live.toml", &rules("2999-12-31"));
    let out = podmortem(
        &["analyze", "--fail-on", "high", "--suppress", &live, SEED],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("suppressed  OPS-1234"));

    let expired = write(&dir, "expired.toml", &rules("2020-01-01"));
    let out = podmortem(
        &["analyze", "--fail-on", "high", "--suppress", &expired, SEED],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "an expired rule no longer applies"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("expired, no longer applied: OPS-1234"));

    // A rule for another pod does not touch this incident.
    let other = write(
        &dir,
        "other.toml",
        "[[suppress]]\npod = \"default/web-1\"\nreason = \"not this one\"\n",
    );
    assert_eq!(
        podmortem(
            &["analyze", "--fail-on", "high", "--suppress", &other, SEED],
            None
        )
        .status
        .code(),
        Some(1)
    );

    let bad = write(
        &dir,
        "bad.toml",
        "[[suppress]]\nkind = \"x\"\nreason = \"r\"\nexpires = \"next week\"\n",
    );
    let out = podmortem(&["analyze", "--suppress", &bad, SEED], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use YYYY-MM-DD"));
}
