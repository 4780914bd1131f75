//! Inputs and options that once ended a whole run (issue 10, "Nothing
//! crashes a run"): each test feeds the binary one of them next to the seed
//! log and checks that the run ends normally, names what it could not use,
//! and still reports the seed's incident.

mod common;

use common::{bless_switch, podmortem, temp_log, SEED};

/// The seed's incident kind: present when the seed log was analyzed.
const SEED_KIND: &str = "dockerd_stop_loop";

/// `podmortem analyze --format json ARGS`, with its exit code, parsed
/// report and stderr.
fn analyze_json(args: &[&str], stdin: Option<&[u8]>) -> (Option<i32>, serde_json::Value, String) {
    let mut all = vec!["analyze", "--format", "json"];
    all.extend_from_slice(args);
    let out = podmortem(&all, stdin);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is no JSON report ({e}); stderr: {stderr}"));
    (out.status.code(), report, stderr)
}

fn kinds(report: &serde_json::Value) -> Vec<String> {
    report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_string())
        .collect()
}

/// A kernel record of the seed's node as `journalctl -o json` prints it,
/// with a `_SOURCE_MONOTONIC_TIMESTAMP` of `monotonic` µs. Composed from
/// samples/five-formats/journal.json's kernel record.
fn kernel_json(monotonic: &str) -> String {
    format!(
        "{{\"__REALTIME_TIMESTAMP\":\"1682910303000000\",\"_BOOT_ID\":\"5c1e4f2a\",\
         \"_TRANSPORT\":\"kernel\",\"PRIORITY\":\"6\",\"_HOSTNAME\":\"ecs-prod-003\",\
         \"SYSLOG_IDENTIFIER\":\"kernel\",\"MESSAGE\":\"INFO: task fluentd:4242 blocked for \
         more than 120 seconds.\",\"_SOURCE_MONOTONIC_TIMESTAMP\":\"{monotonic}\"}}\n"
    )
}

/// The same record in the journal export format.
fn kernel_export(monotonic: &str) -> String {
    format!(
        "__REALTIME_TIMESTAMP=1682910303000000\n_BOOT_ID=5c1e4f2a\n_TRANSPORT=kernel\n\
         PRIORITY=6\n_HOSTNAME=ecs-prod-003\nSYSLOG_IDENTIFIER=kernel\n\
         MESSAGE=INFO: task fluentd:4242 blocked for more than 120 seconds.\n\
         _SOURCE_MONOTONIC_TIMESTAMP={monotonic}\n\n"
    )
}

/// Crash (1): `DateTime - TimeDelta overflowed` in time.rs took the whole
/// run down, whichever way the record came in.
#[test]
fn a_journal_record_with_an_absurd_monotonic_time_is_read() {
    let i64_max = i64::MAX.to_string();
    let json = temp_log(kernel_json(&i64_max).as_bytes());
    let export = temp_log(kernel_export(&i64_max).as_bytes());
    for file in [&json, &export] {
        let path = file.path().to_str().unwrap();
        let (code, report, stderr) = analyze_json(&[SEED, path], None);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(kinds(&report).contains(&SEED_KIND.to_string()), "{stderr}");
        let inputs = report["inputs"].as_array().unwrap();
        assert_eq!(inputs.len(), 2, "{stderr}");
        // The record is read; its wall-clock time still places it.
        assert_eq!(inputs[1]["unparsed"], 0);
        assert_eq!(inputs[1]["first"], "2023-05-01T11:05:03+08:00");
    }
    let (code, report, stderr) = analyze_json(&["-"], Some(kernel_json(&i64_max).as_bytes()));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(report["inputs"][0]["format"], "journal-json");
}

/// Crash (2): `--since 9999999999999s` overflowed the same subtraction.
#[test]
fn a_time_bound_beyond_the_calendar_keeps_everything_or_nothing() {
    let (code, report, stderr) = analyze_json(&["--since", "9999999999999s", SEED], None);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(kinds(&report).contains(&SEED_KIND.to_string()));
    assert_eq!(report["stats"]["outside_window"], 0);
    let (code, report, stderr) = analyze_json(&["--until", "9999999999999s", SEED], None);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(report["incidents"].as_array().unwrap().is_empty());
    assert!(report["stats"]["outside_window"].as_u64().unwrap() > 0);
    // Past what a duration can hold: refused with the flag named.
    let out = podmortem(&["analyze", "--since", "99999999999999999999s", SEED], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since 99999999999999999999s"));
}

/// A tar whose entry says it was modified in the year 318,857 (GNU
/// base-256 numbers hold any u64): its mtime overflowed `SystemTime`, or
/// panicked in chrono ("No such local time"). The mtime is not used; the
/// entry is read.
#[test]
fn an_archive_entry_with_an_absurd_mtime_is_read() {
    let seed = std::fs::read(SEED).unwrap();
    for mtime in [10_u64.pow(13), 1 << 62, u64::MAX] {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(seed.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_cksum();
        tar.append_data(&mut header, "var/log/messages", seed.as_slice())
            .unwrap();
        let archive = temp_log(&tar.into_inner().unwrap());
        let (code, report, stderr) = analyze_json(&[archive.path().to_str().unwrap()], None);
        assert_eq!(code, Some(0), "mtime {mtime}: {stderr}");
        assert!(kinds(&report).contains(&SEED_KIND.to_string()), "{stderr}");
    }
}

/// Suite hygiene (issue 10, section 6): only `PODMORTEM_BLESS=1` rewrites
/// expected outputs.
#[test]
fn only_bless_1_rewrites_expected_outputs() {
    use std::ffi::OsStr;
    assert!(bless_switch(Some(OsStr::new("1"))));
    assert!(!bless_switch(None));
    assert!(!bless_switch(Some(OsStr::new(""))));
    assert!(!bless_switch(Some(OsStr::new("0"))));
    for mistaken in ["true", "yes", "2", " 1"] {
        let caught = std::panic::catch_unwind(|| bless_switch(Some(OsStr::new(mistaken))));
        assert!(caught.is_err(), "PODMORTEM_BLESS={mistaken:?} is refused");
    }
}
