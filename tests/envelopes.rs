//! Every detector's lines are found whatever envelope carries them: the
//! message of each grammar sample, re-wrapped as `/var/log/messages`
//! (RFC 3164), `journalctl -o short-iso` and `journalctl -o json`, must come
//! out of `podmortem events` as an event of the sample's own pattern, on its
//! own line. (The samples themselves cover the raw forms: bare klog, logrus,
//! dmesg.)

mod common;

use common::{events_ndjson, temp_log};
use podmortem::format::{self, unframed, Framed};
use podmortem::grammar::Grammar;

/// A sample's pattern and message, for every pattern that feeds a detector
/// (version and link patterns make no events).
fn detector_samples() -> Vec<(String, String, String)> {
    let grammar = Grammar::builtin().unwrap();
    let uses = grammar.detectors_of_pattern();
    let mut out = Vec::new();
    for (p, pattern) in grammar.patterns.iter().enumerate() {
        if uses[p].is_empty() {
            continue;
        }
        for sample in &pattern.samples {
            let bytes = sample.line.as_bytes();
            let message = match format::detect(bytes).frame(bytes) {
                Framed::Record(envelope) => envelope.message.into_owned(),
                // A bare or quoted message: from where its pattern matches,
                // as the scanner reads a line in no envelope.
                _ => {
                    let start = unframed::message_starts(bytes)
                        .find(|&s| pattern.regex.is_match(&bytes[s..]))
                        .unwrap_or_else(|| {
                            panic!("{}: sample not read: {}", pattern.id, sample.line)
                        });
                    bytes[start..].to_vec()
                }
            };
            let message = String::from_utf8(message).unwrap();
            out.push((pattern.id.clone(), pattern.source.clone(), message));
        }
    }
    out
}

/// The ids of the patterns `podmortem events` found on each line of `text`.
fn patterns_per_line(text: &str, lines: usize) -> Vec<Vec<String>> {
    let log = temp_log(text.as_bytes());
    let path = log.path().to_str().unwrap();
    let mut found = vec![Vec::new(); lines];
    for event in events_ndjson(&["--year", "2023", "--tz", "+08:00", path]) {
        let line = event["line"].as_u64().unwrap() as usize;
        found[line - 1].push(event["pattern"].as_str().unwrap().to_string());
    }
    found
}

/// Wraps each message in one envelope, one record per line, a second apart.
fn check_envelope(name: &str, wrap: impl Fn(usize, &str, &str) -> String) {
    let samples = detector_samples();
    assert!(samples.len() > 100, "only {} samples", samples.len());
    let text: String = samples
        .iter()
        .enumerate()
        .map(|(i, (_, source, message))| wrap(i, source, message) + "\n")
        .collect();
    let found = patterns_per_line(&text, samples.len());
    let missed: Vec<String> = samples
        .iter()
        .zip(&found)
        .filter(|((id, ..), got)| !got.contains(id))
        .map(|((id, _, message), got)| format!("{id} (found {got:?}): {message}"))
        .collect();
    assert!(
        missed.is_empty(),
        "{name}: {} of {} samples lost:\n{}",
        missed.len(),
        samples.len(),
        missed.join("\n")
    );
}

/// The program name a component logs under.
fn program(source: &str) -> &str {
    match source {
        "kernel" => "kernel",
        "systemd" => "systemd",
        other => other,
    }
}

#[test]
fn every_detector_sample_is_found_in_a_syslog_file() {
    check_envelope("syslog", |i, source, message| {
        let (m, s) = (i / 60, i % 60);
        format!(
            "May  1 11:{m:02}:{s:02} node-1 {}[{}]: {message}",
            program(source),
            1000 + i
        )
    });
}

#[test]
fn every_detector_sample_is_found_in_journal_short_iso() {
    check_envelope("short-iso", |i, source, message| {
        let (m, s) = (i / 60, i % 60);
        format!(
            "2023-05-01T11:{m:02}:{s:02}+0800 node-1 {}[{}]: {message}",
            program(source),
            1000 + i
        )
    });
}

#[test]
fn every_detector_sample_is_found_in_journal_json() {
    // 2023-05-01T11:00:00+08:00 in microseconds since the epoch.
    const START_US: u64 = 1_682_910_000_000_000;
    check_envelope("json", |i, source, message| {
        let transport = if source == "kernel" {
            "kernel"
        } else {
            "syslog"
        };
        serde_json::json!({
            "__REALTIME_TIMESTAMP": (START_US + i as u64 * 1_000_000).to_string(),
            "_HOSTNAME": "node-1",
            "_TRANSPORT": transport,
            "SYSLOG_IDENTIFIER": program(source),
            "_PID": (1000 + i).to_string(),
            "MESSAGE": message,
        })
        .to_string()
    });
}

// ---------------------------------------------------------------------------
// What tools and pastes put around lines (issue 9 §2). Each case is a file
// as a user would hand it over; the report must find the failure in it, read
// every line, and say what it inferred.

use common::{json_report, podmortem, SEED};

/// The seed's lines that carry failures (kubelet's failed stops, dockerd's
/// forced kills), verbatim.
fn seed_failures() -> Vec<String> {
    let seed = std::fs::read_to_string(SEED).unwrap();
    let pick = |needle: &str| -> Vec<String> {
        seed.lines()
            .filter(|l| l.contains(needle))
            .take(6)
            .map(String::from)
            .collect()
    };
    let mut lines = pick("kubelet: E0501");
    lines.extend(pick("trying direct SIGKILL"));
    lines
}

/// The instant an RFC 3339 time denotes, whatever offset it is printed in.
fn instant(text: &serde_json::Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(text.as_str().unwrap()).unwrap()
}

/// The JSON report of `text` read as the seed's node (2023, UTC+8).
fn report_of(text: &[u8]) -> serde_json::Value {
    let log = temp_log(text);
    json_report(
        &[
            "--year",
            "2023",
            "--tz",
            "+08:00",
            log.path().to_str().unwrap(),
        ],
        None,
    )
}

/// Asserts that the report read every line, found both seed failures, and
/// inferred `note`.
fn assert_reads_seed_failures(report: &serde_json::Value, note: &str) {
    let input = &report["inputs"][0];
    assert_eq!(input["unparsed"], 0, "{input}");
    assert!(
        input["inferred"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == note),
        "{input}"
    );
    let kinds: Vec<&str> = report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["findings"].as_array().unwrap())
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for kind in ["dockerd_stop_loop", "kubelet_stop_deadline"] {
        assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
    }
}

#[test]
fn grep_hn_output_with_context_lines_is_read() {
    // grep -Hn -C1 prints `FILE:N:` before a matching line, `FILE-N-` before
    // a context line and `--` between groups (GNU grep manual, "Output Line
    // Prefix Fields"); the lines are the seed's, the prefixes composed.
    let text: String = seed_failures()
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let sep = if i % 3 == 0 { '-' } else { ':' };
            let group = if i % 3 == 2 { "--\n" } else { "" };
            format!("messages-20230507.gz{sep}{}{sep}{line}\n{group}", 7611 + i)
        })
        .collect();
    assert_reads_seed_failures(&report_of(text.as_bytes()), "grep -Hn prefix stripped");
}

#[test]
fn grep_n_and_grep_h_output_are_read() {
    let numbered: String = seed_failures()
        .iter()
        .enumerate()
        .map(|(i, line)| format!("{}:{line}\n", 7612 + i))
        .collect();
    assert_reads_seed_failures(&report_of(numbered.as_bytes()), "grep -n prefix stripped");
    let named: String = seed_failures()
        .iter()
        .map(|line| format!("/var/log/messages:{line}\n"))
        .collect();
    assert_reads_seed_failures(&report_of(named.as_bytes()), "grep -H prefix stripped");
}

#[test]
fn pasted_quotes_lists_and_indentation_are_read() {
    for (quote, note) in [
        ("> ", "quote or indentation stripped"),
        ("* ", "quote or indentation stripped"),
        ("- ", "quote or indentation stripped"),
        ("    ", "quote or indentation stripped"),
    ] {
        let text: String = seed_failures()
            .iter()
            .map(|line| format!("{quote}{line}\n"))
            .collect();
        // A quoted paste keeps its empty quoted lines.
        let text = format!("{}\n{}\n{text}", quote.trim_end(), quote.trim_end());
        assert_reads_seed_failures(&report_of(text.as_bytes()), note);
    }
}

#[test]
fn minikube_logs_pasted_with_bullets_are_read() {
    // kubernetes/minikube#5956, verbatim: `minikube logs` output pasted
    // with `* ` before each line.
    let text = r#"* Nov 21 12:45:07 dechedocker10v dockerd[1285]: time="2019-11-21T12:45:07.629768799+01:00" level=info msg="ignoring event" module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"
* Nov 21 12:45:08 dechedocker10v dockerd[1285]: time="2019-11-21T12:45:08.119627184+01:00" level=info msg="ignoring event" module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"
* Nov 21 12:45:08 dechedocker10v dockerd[1285]: time="2019-11-21T12:45:08.611915143+01:00" level=info msg="ignoring event" module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"
* Nov 21 12:45:09 dechedocker10v dockerd[1285]: time="2019-11-21T12:45:09.105334063+01:00" level=info msg="ignoring event" module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"
*
"#;
    // kubernetes/minikube#3828, verbatim, in the same paste form.
    let force = r#"* Sep 14 23:49:24 bauerbob dockerd[684]: time="2019-09-14T23:49:24.478788576+02:00" level=info msg="Container 52964255e546529209af89231a8d97444c427dcc55097e9e940c8737cda3e2e0 failed to exit within 0 seconds of signal 15 - using the force""#;
    let log = temp_log(format!("{text}{force}\n").as_bytes());
    let report = json_report(&["--year", "2019", log.path().to_str().unwrap()], None);
    let input = &report["inputs"][0];
    assert_eq!(
        (&input["format"], &input["unparsed"]),
        (&"syslog".into(), &0.into())
    );
    assert_eq!(
        input["hosts"],
        serde_json::json!(["dechedocker10v", "bauerbob"])
    );
    let finding = &report["incidents"][0]["findings"][0];
    assert_eq!(finding["kind"], "dockerd_stop_loop");
    assert_eq!(
        instant(&finding["first_seen"]),
        instant(&"2019-09-14T23:49:24.478788576+02:00".into())
    );
}

#[test]
fn kubectl_logs_prefix_and_timestamps_are_read() {
    // `kubectl logs --prefix` writes `[pod/NAME/CONTAINER] ` before each
    // line (kubectl ≥ 1.17; geerlingguy/ansible-for-kubernetes#75 shows
    // `[pod/echo-req-7cfd7bf68f-nk5kr/hello] 172.17.0.1 - - …`), and
    // `--timestamps` Go's RFC3339Nano in UTC (moby/moby#16395:
    // `2015-09-18T11:30:13.368899817Z 1`). Composed around the seed's
    // kubelet messages (klog, local time +08:00).
    let klog: Vec<String> = seed_failures()
        .iter()
        .filter_map(|l| l.split_once(" kubelet: ").map(|(_, m)| m.to_string()))
        .collect();
    assert!(klog.len() >= 2);
    let text: String = klog
        .iter()
        .enumerate()
        .map(|(i, m)| {
            format!(
                "[pod/kubelet-debug-x7k2p/kubelet] 2023-05-01T03:03:{:02}.635343512Z {m}\n",
                37 + i
            )
        })
        .collect();
    let log = temp_log(text.as_bytes());
    let report = json_report(&[log.path().to_str().unwrap()], None);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "klog");
    assert_eq!(input["unparsed"], 0);
    assert_eq!(
        input["inferred"],
        serde_json::json!([
            "kubectl --prefix stripped",
            "leading timestamp read (kubectl/docker --timestamps)"
        ])
    );
    // The klog local time beside the UTC stamp reveals the zone.
    assert_eq!(input["utc_offset"], "+08:00");
    let finding = &report["incidents"][0]["findings"][0];
    assert_eq!(finding["kind"], "kubelet_stop_deadline");
    assert_eq!(finding["first_seen"], "2023-05-01T11:03:37.635343+08:00");
}

#[test]
fn docker_logs_t_of_free_text_is_timestamped() {
    // moby/moby#16395, verbatim (`docker logs -t` of a counter).
    let text = "2015-09-18T11:30:13.368899817Z 1\n2015-09-18T11:30:13.871609615Z 2\n2015-09-18T11:30:14.376469980Z 3\n2015-09-18T11:30:14.878498664Z 4\n2015-09-18T11:30:15.383748382Z 5\n";
    let log = temp_log(text.as_bytes());
    let report = json_report(&[log.path().to_str().unwrap()], None);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "timestamped");
    assert_eq!(input["unparsed"], 0);
    assert_eq!(input["first"], "2015-09-18T11:30:13.368899817+00:00");
    assert_eq!(input["last"], "2015-09-18T11:30:15.383748382+00:00");
}

#[test]
fn kibana_discover_copies_are_read() {
    // Kibana's and OpenSearch Dashboards' default `dateFormat` is
    // `MMM D, YYYY @ HH:mm:ss.SSS`; a copied Discover row puts the message
    // after a tab (or nothing, when only the text was selected). Composed
    // around the seed's dockerd messages.
    let messages: Vec<String> = seed_failures()
        .iter()
        .filter_map(|l| l.split_once(" dockerd: ").map(|(_, m)| m.to_string()))
        .collect();
    for glue in ["\t", ""] {
        let text: String = messages
            .iter()
            .enumerate()
            .map(|(i, m)| format!("May 1, 2023 @ 10:48:{:02}.453{glue}{m}\n", 12 + i))
            .collect();
        let log = temp_log(text.as_bytes());
        let report = json_report(&["--tz", "+08:00", log.path().to_str().unwrap()], None);
        let input = &report["inputs"][0];
        assert_eq!(input["unparsed"], 0, "{input}");
        assert_eq!(
            input["inferred"],
            serde_json::json!(["Kibana/OpenSearch Discover time read"])
        );
        assert_eq!(
            input["year_from"], "logs",
            "the Kibana stamp prints its year"
        );
        assert_eq!(
            report["incidents"][0]["findings"][0]["kind"],
            "dockerd_stop_loop"
        );
    }
}

#[test]
fn syslog_headers_without_host_with_spaced_tags_and_iso_dates_with_a_space() {
    let kubelet = seed_failures()
        .into_iter()
        .find(|l| l.contains(" kubelet: "))
        .unwrap();
    let (_, message) = kubelet.split_once(" kubelet: ").unwrap();
    // Headers composed in the forms the issue names: no host (two spaces),
    // an ISO date with a space and milliseconds, no zone.
    let text = format!(
        "May  1 11:03:56  kubelet[4568]: {message}\n2023-05-01 11:04:56.584 ecs-prod-003 kubelet[4568]: {message}\nMar 10 09:54:53 hostname gsad main[8990]: Starting GSAD version 7.0.2\n"
    );
    let report = report_of(text.as_bytes());
    assert_eq!(report["inputs"][0]["unparsed"], 0);
    let finding = &report["incidents"][0]["findings"][0];
    assert_eq!(finding["kind"], "kubelet_stop_deadline");
    assert_eq!(finding["lines"], 2);
}

#[test]
fn a_line_in_an_unknown_envelope_is_still_matched_and_counted() {
    // Composed: a collector's `host | time | program | message` lines
    // around a real hung-task report (grammars/kernel.toml's sample).
    let text = "node-7 | 2023-05-01T11:22:19.552+08:00 | kernel | INFO: task fluentd:4242 blocked for more than 120 seconds.\nnode-7 | 2023-05-01T11:22:19.553+08:00 | kernel | Not tainted 4.19.90\n";
    let log = temp_log(text.as_bytes());
    let path = log.path().to_str().unwrap();
    let out = podmortem(&["analyze", "--format", "json", path], None);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let input = &report["inputs"][0];
    assert_eq!(
        (&input["unparsed"], &input["unframed"]),
        (&2.into(), &1.into())
    );
    assert_eq!(report["stats"]["unframed"], 1);
    let finding = &report["incidents"][0]["findings"][0];
    assert_eq!(finding["kind"], "kernel_hung_task");
    assert_eq!(
        instant(&finding["first_seen"]),
        instant(&"2023-05-01T11:22:19.552+08:00".into())
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 of 2 lines in no known envelope (1 matched without envelope)"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------
// Every `journalctl -o` mode, as systemd 252's journalctl printed one real
// journal file (tests/fixtures/journalctl/: `node.export` imported with
// systemd-journal-remote, then `journalctl --file … -o MODE`, TZ=Asia/Shanghai).

/// The patterns `podmortem events` finds in a fixture, in order.
fn fixture_patterns(mode: &str, extra: &[&str]) -> (String, Vec<String>) {
    let path = format!("tests/fixtures/journalctl/{mode}");
    let report = json_report(&[&path], None);
    let format = report["inputs"][0]["format"].as_str().unwrap().to_string();
    assert_eq!(report["inputs"][0]["unparsed"], 0, "{mode}");
    let mut args = vec!["--year", "2023"];
    args.extend_from_slice(extra);
    args.push(&path);
    let patterns = events_ndjson(&args)
        .iter()
        .map(|e| e["pattern"].as_str().unwrap().to_string())
        .collect();
    (format, patterns)
}

#[test]
fn every_journalctl_output_mode_reads_with_its_events() {
    let all = [
        "kubelet.stop_container_deadline",
        "dockerd.kill_timeout_sigkill",
        "kernel.hung_task",
        "dockerd.kill_timeout_sigkill",
    ];
    for (mode, format) in [
        ("short.txt", "syslog"),
        ("short-precise.txt", "syslog"),
        ("short-iso.txt", "iso"),
        ("short-iso-precise.txt", "iso"),
        ("short-full.txt", "journal-full"),
        ("with-unit.txt", "journal-full"),
        ("short-unix.txt", "journal-unix"),
        ("json.txt", "journal-json"),
        ("json-seq.txt", "journal-json"),
        ("json-sse.txt", "journal-json"),
        ("json-pretty.txt", "journal-json-pretty"),
        ("export.txt", "journal-export"),
        ("node.export", "journal-export"),
    ] {
        assert_eq!(
            fixture_patterns(mode, &[]),
            (format.to_string(), all.map(String::from).to_vec()),
            "{mode}"
        );
    }
    // verbose prints a binary MESSAGE as `[138B blob data]`: that one is
    // not in the text at all.
    let (format, patterns) = fixture_patterns("verbose.txt", &[]);
    assert_eq!(format, "journal-verbose");
    assert_eq!(patterns, [all[0], all[2], all[3]]);
}

#[test]
fn journalctl_monotonic_modes_read_their_envelope() {
    // Times since boot place the kernel line once the boot time is known;
    // the other lines carry their program's own time.
    for (mode, format) in [
        ("short-monotonic.txt", "dmesg"),
        ("short-delta.txt", "journal-delta"),
    ] {
        let (got, patterns) =
            fixture_patterns(mode, &["--boot-time", "2023-05-01T09:02:32.217+08:00"]);
        assert_eq!(got, format);
        assert!(
            patterns
                .iter()
                .any(|p| p == "kubelet.stop_container_deadline"),
            "{mode}: {patterns:?}"
        );
        assert!(
            patterns.iter().any(|p| p == "kernel.hung_task"),
            "{mode}: {patterns:?}"
        );
    }
}
