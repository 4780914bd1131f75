//! Flags, exit codes and bad input, through the real binary.

mod common;

use common::{json_report, podmortem, report_on_cst_log, temp_log, CONTAINER, SANDBOX, SEED};

#[test]
fn exit_codes_follow_fail_on() {
    let code = |args: &[&str]| podmortem(args, None).status.code();
    assert_eq!(code(&["analyze", SEED]), Some(0));
    assert_eq!(code(&["analyze", "--fail-on", "critical", SEED]), Some(1));
    assert_eq!(code(&["analyze", "--fail-on", "high", SEED]), Some(1));
    let quiet = temp_log(b"May  1 11:03:56 node systemd: Started Session 1 of user root.\n");
    assert_eq!(
        code(&[
            "analyze",
            "--fail-on",
            "low",
            quiet.path().to_str().unwrap()
        ]),
        Some(0)
    );
}

#[test]
fn usage_errors_exit_2_and_say_what_to_do() {
    for (args, needle) in [
        (&["analyze", "--tz", "CST", SEED][..], "--tz CST"),
        (
            &["analyze", "--merge-window", "soon", SEED][..],
            "--merge-window soon",
        ),
        (
            &["analyze", "--fail-on", "urgent", SEED][..],
            "unknown severity",
        ),
        (&["analyze"][..], "PATH"),
    ] {
        let out = podmortem(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn a_missing_file_is_named_and_the_other_inputs_still_analyzed() {
    let out = podmortem(
        &["analyze", "--format", "json", "no/such/messages", SEED],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no/such/messages") && stderr.contains("not found"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"][0]["path"], "no/such/messages");
    assert_eq!(report["incidents"][0]["kind"], "dockerd_stop_loop");

    let alone = podmortem(&["analyze", "no/such/messages"], None);
    assert_eq!(alone.status.code(), Some(2), "nothing could be read");
    assert!(String::from_utf8_lossy(&alone.stderr).contains("no/such/messages"));
}

#[test]
fn garbage_invalid_utf8_and_giant_lines_are_counted_not_fatal() {
    let mut bytes = std::fs::read(SEED).unwrap();
    bytes.extend_from_slice(b"\xff\xfe\x00\x01 binary garbage \xc3\x28\n");
    bytes.extend_from_slice(b"   goroutine 1 [running]:\n");
    bytes.extend_from_slice(&vec![b'x'; 200_000]);
    bytes.extend_from_slice(b"\n\n");
    // An invalid UTF-8 byte inside a matching line does not lose the line.
    bytes.extend_from_slice(
        format!("May  2 00:13:09 ecs-prod-003 dockerd: time=\"2023-05-02T00:13:09.1+08:00\" level=info msg=\"Container {} failed to exit within 10 seconds of kill - trying direct SIGKILL ", &SANDBOX[..12])
            .as_bytes(),
    );
    bytes.extend_from_slice(b"\xff\"\n");
    let log = temp_log(&bytes);
    let report = json_report(&[log.path().to_str().unwrap()], None);
    let input = &report["inputs"][0];
    assert_eq!(input["unparsed"], 3, "garbage, continuation and giant line");
    assert_eq!(input["long_lines"], 1);
    let last = &report["incidents"][0]["findings"][0]["last_seen"];
    assert_eq!(last, "2023-05-02T00:13:09.100+08:00");
}

#[test]
fn raw_kubelet_log_without_envelope_is_read() {
    let report = report_on_cst_log(&format!(
        "I0501 11:03:30.000000    4568 kubelet.go:2098] \"SyncLoop (probe)\" probe=\"readiness\"\n\
         E0501 11:03:37.635343    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\" err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" containerID=\"{CONTAINER}\"\n"
    ));
    assert_eq!(report["inputs"][0]["format"], "klog");
    assert_eq!(report["inputs"][0]["unparsed"], 0);
    let finding = &report["incidents"][0]["findings"][0];
    assert_eq!(finding["kind"], "kubelet_stop_deadline");
    assert_eq!(finding["first_seen"], "2023-05-01T11:03:37.635343+08:00");
    assert_eq!(report["inputs"][0]["year_from"], "option");
}

#[test]
fn year_and_zone_overrides_beat_what_the_logs_say() {
    let report = json_report(&["--year", "2021", "--tz", "UTC", SEED], None);
    let finding = |kind: &str| {
        let all = report["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| i["findings"].as_array().unwrap());
        all.clone().find(|f| f["kind"] == kind).cloned().unwrap()
    };
    // Local klog times are read in the year and zone given.
    assert_eq!(
        finding("kubelet_stop_deadline")["first_seen"],
        "2021-05-01T11:03:37.635343+00:00"
    );
    // Absolute logrus times keep their instant, shown in the chosen zone.
    assert_eq!(
        finding("dockerd_stop_loop")["last_seen"],
        "2023-05-01T16:12:58.429207582+00:00"
    );
}

#[test]
fn without_clues_the_year_comes_from_the_file_time() {
    let log = temp_log(format!(
        "Dec 31 23:59:00 node kubelet: E1231 23:59:00.000001    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\" err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" containerID=\"{CONTAINER}\"\n"
    ).as_bytes());
    let mtime = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_704_153_600); // 2024-01-02T00:00:00Z
    log.as_file().set_modified(mtime).unwrap();
    let report = json_report(&[log.path().to_str().unwrap()], None);
    assert_eq!(report["inputs"][0]["year_from"], "fallback");
    assert_eq!(
        report["incidents"][0]["first_seen"],
        "2023-12-31T23:59:00.000001+00:00"
    );
}

/// A user's pattern: kubelet's failed readiness probe, per pod.
const READINESS_PATTERN: &str = r#"
source = "kubelet"

[[pattern]]
id = "site.readiness_failed"
literal = "Probe failed"
regex = '"Probe failed" probeType="Readiness" pod="(?P<pod>[^"]+)"'
[[pattern.sample]]
line = 'May  1 11:00:00 node-1 kubelet: I0501 11:00:00.000001    4568 prober.go:116] "Probe failed" probeType="Readiness" pod="shop/cart-0" podUID=d6097c23-9b88-4708-93e0-226bb313e7f3'
fields = { pod = "shop/cart-0" }
[[pattern.reject]]
line = 'May  1 11:00:00 node-1 kubelet: I0501 11:00:00.000001    4568 prober.go:116] "Probe failed" probeType="Liveness" pod="shop/cart-0"'
"#;

#[test]
fn a_patterns_severity_floor_lifts_the_findings_that_count_it() {
    let dir = tempfile::tempdir().unwrap();
    // One detector, two patterns: a probe that fails is a nuisance once; a
    // kill by the liveness probe is worse on its first occurrence.
    std::fs::write(
        dir.path().join("probes.toml"),
        [
            READINESS_PATTERN,
            r#"

[[pattern]]
id = "site.liveness_kill"
literal = "failed liveness probe"
severity = "high"
regex = '"Container failed liveness probe, will be restarted" pod="(?P<pod>[^"]+)"'
[[pattern.sample]]
line = 'I0501 11:00:00.000001    4568 kuberuntime_manager.go:1010] "Container failed liveness probe, will be restarted" pod="shop/cart-1"'
fields = { pod = "shop/cart-1" }
[[pattern.reject]]
line = 'I0501 11:00:00.000001    4568 prober.go:116] "Probe failed" probeType="Liveness" pod="shop/cart-1"'

[[detector]]
kind = "probe_trouble"
title = "A pod fails its probes"
patterns = ["site.readiness_failed", "site.liveness_kill"]
per = "pod"
window = "10m"
levels = [{ min_count = 1, severity = "low" }]
explanation = "Probes fail."
remediation = ["Check the probe."]
"#,
        ]
        .concat(),
    )
    .unwrap();
    let log = temp_log(
        b"I0501 11:00:00.000001    4568 prober.go:116] \"Probe failed\" probeType=\"Readiness\" pod=\"shop/cart-0\"\n\
          I0501 11:00:05.000001    4568 kuberuntime_manager.go:1010] \"Container failed liveness probe, will be restarted\" pod=\"shop/cart-1\"\n",
    );
    let report = json_report(
        &[
            "--grammars",
            dir.path().to_str().unwrap(),
            log.path().to_str().unwrap(),
        ],
        None,
    );
    let severity_of = |pod: &str| {
        let incidents = report["incidents"].as_array().unwrap();
        let incident = incidents.iter().find(|i| i["pods"][0] == pod).unwrap();
        incident["severity"].as_str().unwrap().to_string()
    };
    assert_eq!(severity_of("shop/cart-0"), "low");
    assert_eq!(severity_of("shop/cart-1"), "high");
}

#[test]
fn a_users_grammar_directory_adds_a_detector_without_recompiling() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("probes.toml"),
        [
            READINESS_PATTERN,
            r#"

[[detector]]
kind = "readiness_flapping"
title = "A pod keeps failing its readiness probe"
patterns = ["site.readiness_failed"]
per = "pod"
window = "10m"
levels = [{ min_count = 3, severity = "medium" }]
explanation = "Readiness fails again and again."
remediation = ["Check the probe."]
"#,
        ]
        .concat(),
    )
    .unwrap();
    let lines: String = (0..3)
        .map(|n| format!("May  1 11:0{n}:00 node-1 kubelet: I0501 11:0{n}:00.000001    4568 prober.go:116] \"Probe failed\" probeType=\"Readiness\" pod=\"shop/cart-0\" podUID=d6097c23-9b88-4708-93e0-226bb313e7f3\n"))
        .collect();
    let log = temp_log(lines.as_bytes());
    let log = log.path().to_str().unwrap();
    let grammars = dir.path().to_str().unwrap();

    let without = json_report(&[log], None);
    assert_eq!(without["incidents"].as_array().unwrap().len(), 0);
    let with = json_report(&["--grammars", grammars, log], None);
    let incident = &with["incidents"][0];
    assert_eq!(incident["kind"], "readiness_flapping");
    assert_eq!(incident["severity"], "medium");
    assert_eq!(incident["pods"], serde_json::json!(["shop/cart-0"]));
    assert_eq!(incident["findings"][0]["count"], 3);

    // A sample that its own pattern does not match is refused before analysis.
    let wrong = std::fs::read_to_string(dir.path().join("probes.toml"))
        .unwrap()
        .replace(
            "fields = { pod = \"shop/cart-0\" }",
            "fields = { pod = \"shop/cart-1\" }",
        );
    std::fs::write(dir.path().join("probes.toml"), wrong).unwrap();
    let out = podmortem(&["analyze", "--grammars", grammars, log], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("probes.toml:5: pattern 'site.readiness_failed': fields"),
        "{stderr}"
    );

    std::fs::write(
        dir.path().join("broken.toml"),
        "source = 'x'\n[[pattern]]\nid = 'p'\n",
    )
    .unwrap();
    let out = podmortem(&["analyze", "--grammars", grammars, log], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.toml") && stderr.contains("missing field"),
        "{stderr}"
    );
}

#[test]
fn grammars_list_and_check() {
    let out = podmortem(&["grammars", "list"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let loop_line = text
        .lines()
        .find(|l| l.starts_with("dockerd_stop_loop"))
        .unwrap();
    assert!(
        loop_line.contains("low ×1, high ×3 per container in 10m") && loop_line.contains("dockerd"),
        "{loop_line}"
    );

    let dir = tempfile::tempdir().unwrap();
    let grammar = |sample: &str| {
        format!(
            "source = 'site-agent'\n[[pattern]]\nid = 'site.pleg'\nliteral = 'disk pressure for'\nregex = 'disk pressure for (?P<ago>\\S+) on /var/lib/docker'\n[[pattern.sample]]\nline = 'May  1 11:00:00 node-1 site-agent[77]: disk pressure for 3m0.5s on /var/lib/docker'\nfields = {{ ago = '{sample}' }}\n[[pattern.reject]]\nline = 'May  1 11:00:00 node-1 site-agent[77]: no disk pressure on /var/lib/docker'\n"
        )
    };
    std::fs::write(dir.path().join("site.toml"), grammar("3m0.5s")).unwrap();
    let ok = podmortem(&["grammars", "check", dir.path().to_str().unwrap()], None);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("ok: "));
    std::fs::write(dir.path().join("site.toml"), grammar("3m")).unwrap();
    let bad = podmortem(&["grammars", "check", dir.path().to_str().unwrap()], None);
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(
        text.contains("site.toml:3: pattern 'site.pleg': fields"),
        "{text}"
    );
    std::fs::write(
        dir.path().join("site.toml"),
        "source = 'x'\n[[pattern]]\nid = 'p'\nliteral = 'a'\nregex = '('\n",
    )
    .unwrap();
    let broken = podmortem(&["grammars", "check", dir.path().to_str().unwrap()], None);
    assert_eq!(broken.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&broken.stderr).contains("site.toml:3: pattern 'p': invalid regex")
    );
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let bash = podmortem(&["completions", "bash"], None);
    assert_eq!(bash.status.code(), Some(0));
    let script = String::from_utf8(bash.stdout).unwrap();
    assert!(
        script.contains("_podmortem") && script.contains("--fail-on") && script.contains("events")
    );
    let man = podmortem(&["man"], None);
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH podmortem"),
        "{}",
        &page[..page.len().min(200)]
    );
    assert!(page.contains("analyze") && page.contains("inputs"));
}

#[test]
fn color_is_asked_for_or_follows_the_terminal() {
    let always = podmortem(&["analyze", "--color", "always", SEED], None);
    let text = String::from_utf8(always.stdout).unwrap();
    assert!(
        text.contains("#1 \x1b[1;31mCRITICAL\x1b[0m"),
        "{}",
        &text[..300]
    );
    // Not a terminal (a pipe here): no escapes unless asked; never means never.
    for args in [
        &["analyze", SEED][..],
        &["analyze", "--color", "never", SEED],
    ] {
        let out = String::from_utf8(podmortem(args, None).stdout).unwrap();
        assert!(!out.contains('\x1b'), "{args:?}");
    }
}

#[test]
fn no_progress_display_in_pipes_and_quiet_is_accepted() {
    for args in [
        &["analyze", SEED][..],
        &["analyze", "--quiet", SEED],
        &["inputs", "-q", SEED],
    ] {
        let out = podmortem(args, None);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
