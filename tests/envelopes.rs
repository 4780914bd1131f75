//! Every detector's lines are found whatever envelope carries them: the
//! message of each grammar sample, re-wrapped as `/var/log/messages`
//! (RFC 3164), `journalctl -o short-iso` and `journalctl -o json`, must come
//! out of `podmortem events` as an event of the sample's own pattern, on its
//! own line. (The samples themselves cover the raw forms: bare klog, logrus,
//! dmesg.)

mod common;

use common::{events_ndjson, temp_log};
use podmortem::format::{self, Framed};
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
            let Framed::Record(envelope) = format::detect(bytes).frame(bytes) else {
                panic!("{}: sample not framed: {}", pattern.id, sample.line);
            };
            let message = String::from_utf8(envelope.message.into_owned()).unwrap();
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
