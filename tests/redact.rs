//! `--redact` (issue 11 §5): no host name, address, user, email or secret of
//! the input is left in any output format, and the output says it was
//! redacted; pods and containers stay unless `--redact-pods`.

mod common;

use std::io::Write;

use common::{podmortem, CONTAINER, SEED};

/// What the composed input names and the output must not.
const HOST: &str = "ip-10-0-1-2.ec2.internal";
const PRIVATE: &[&str] = &[
    HOST,
    "ip-10-0-1-2",
    "10.20.30.40",
    "2001:db8::7",
    "alice",
    "hunter2",
    "eyJhbGciOiJIUzI1NiJ9",
];

/// The seed's lines on a node named `HOST`, each dockerd line (composed:
/// the seed's real line with fields appended) also naming a peer address,
/// a user, an email, a password and a bearer token. Written to a file whose
/// name holds the host name, as sos reports name theirs.
fn composed_input() -> tempfile::NamedTempFile {
    let seed = std::fs::read_to_string(SEED).unwrap();
    let mut text = String::new();
    for line in seed.lines() {
        let line = line.replace("ecs-prod-003", HOST);
        text.push_str(&line);
        if line.contains(" dockerd: ") {
            text.push_str(" peer=10.20.30.40 via=[2001:db8::7]:443 user=alice mail=alice@example.com password=hunter2 Authorization: Bearer eyJhbGciOiJIUzI1NiJ9");
        }
        text.push('\n');
    }
    let mut file = tempfile::Builder::new()
        .prefix(&format!("sosreport-{HOST}-"))
        .suffix(".messages")
        .tempfile()
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

/// Every output: `analyze` in each format, `inputs` and `events`.
fn outputs(path: &str, extra: &[&str]) -> Vec<(String, String)> {
    let mut runs: Vec<Vec<&str>> = ["text", "json", "markdown", "junit", "sarif", "html"]
        .iter()
        .map(|f| vec!["analyze", "--format", f])
        .collect();
    runs.push(vec!["inputs", "--format", "json"]);
    runs.push(vec!["inputs"]);
    runs.push(vec!["events"]);
    runs.push(vec!["events", "--format", "ndjson"]);
    runs.into_iter()
        .map(|mut args| {
            let name = args.join(" ");
            args.extend_from_slice(extra);
            args.push(path);
            let out = podmortem(&args, None);
            // JUnit fails the run on the seed's critical incident.
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            (name, String::from_utf8(out.stdout).unwrap())
        })
        .collect()
}

#[test]
fn no_host_address_user_or_secret_is_left_in_any_format() {
    let input = composed_input();
    let path = input.path().to_str().unwrap();
    // Without --redact every output names them: the test can fail.
    for (name, out) in outputs(path, &[]) {
        assert!(out.contains(HOST), "{name} names the host unredacted");
    }
    let events = outputs(path, &["--redact"]);
    for (name, out) in &events {
        for private in PRIVATE {
            assert!(!out.contains(private), "{name} still holds {private}");
        }
        assert!(out.contains("host-1"), "{name}: no pseudonym");
        if !name.ends_with("ndjson") {
            assert!(out.contains("redacted"), "{name} does not say so");
        }
        // Pods and containers stay.
        assert!(
            out.contains(&CONTAINER[..12]) || name.starts_with("inputs"),
            "{name}"
        );
    }
    let json = &events[1].1;
    let report: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(report["redacted"], true);
    let evidence = report["incidents"][0]["findings"][0]["evidence"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        evidence.contains("peer=ip-1 via=[ip-2]:443 user=user-1 mail=email-1 password=secret-2 Authorization: Bearer secret-1"),
        "{evidence}"
    );
}

#[test]
fn redact_pods_also_replaces_pods_and_containers() {
    let input = composed_input();
    let path = input.path().to_str().unwrap();
    for (name, out) in outputs(path, &["--redact", "--redact-pods"]) {
        assert!(!out.contains("fluentd-hjj42"), "{name} names the pod");
        assert!(
            !out.contains(&CONTAINER[..12]),
            "{name} names the container"
        );
        if name.starts_with("analyze") {
            assert!(out.contains("kube-system/pod-1"), "{name}");
            assert!(out.contains("container-"), "{name}");
        }
    }
}
