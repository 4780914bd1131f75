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

/// `n` copies of the seed log: a realistic file of any size.
fn seed_times(n: usize) -> Vec<u8> {
    std::fs::read(SEED).unwrap().repeat(n)
}

/// Crash (3): a file cut short while podmortem reads it (copy-truncate
/// rotation) killed the process with SIGBUS when files were memory-mapped:
/// exit 135, no report. Now what was read counts, and the file is named.
#[cfg(target_os = "linux")]
#[test]
fn a_file_truncated_while_it_is_read_keeps_what_was_read() {
    use std::process::{Command, Stdio};
    let big = temp_log(&seed_times(96));
    let path = big.path().to_str().unwrap().to_string();
    let child = Command::new(env!("CARGO_BIN_EXE_podmortem"))
        .args(["analyze", "--format", "json", &path, SEED])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        reading_past(child.id(), &path, 8 << 20),
        "podmortem ended before reading 8 MiB of the file"
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{:?}: {stderr}", out.status);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let note = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == path.as_str())
        .unwrap_or_else(|| panic!("the truncated file is named: {}", report["skipped"]));
    let message = note["message"].as_str().unwrap();
    assert!(
        message.contains("the file shrank while it was read"),
        "{message}"
    );
    assert!(
        message.contains("what came before was analyzed"),
        "{message}"
    );
    // What was read before the cut is analyzed, and so is the next input.
    assert!(report["inputs"][0]["bytes"].as_u64().unwrap() >= 8 << 20);
    assert!(report["inputs"][0]["lines"].as_u64().unwrap() > 0);
    assert!(report["inputs"][1]["path"] == SEED);
    assert!(kinds(&report).contains(&SEED_KIND.to_string()));
}

/// Waits until process `pid` has read `bytes` of the file at `path` (or
/// has it memory-mapped, as podmortem once did); false if it ended first.
#[cfg(target_os = "linux")]
fn reading_past(pid: u32, path: &str, bytes: u64) -> bool {
    let proc = format!("/proc/{pid}");
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(120) {
        let Ok(maps) = std::fs::read_to_string(format!("{proc}/maps")) else {
            return false;
        };
        if maps.contains(path) {
            return true;
        }
        for fd in std::fs::read_dir(format!("{proc}/fd"))
            .into_iter()
            .flatten()
        {
            let Ok(fd) = fd else { continue };
            if std::fs::read_link(fd.path()).is_ok_and(|target| target.to_str() == Some(path)) {
                let info = format!("{proc}/fdinfo/{}", fd.file_name().to_string_lossy());
                let pos = std::fs::read_to_string(info).ok().and_then(|info| {
                    let line = info.lines().find(|l| l.starts_with("pos:"))?;
                    line[4..].trim().parse::<u64>().ok()
                });
                if pos.is_some_and(|pos| pos >= bytes) {
                    return true;
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    false
}

/// Crash (4): a file larger than the address space allowed could not be
/// mapped; it was dropped with a note saying "what came before was
/// analyzed" although nothing was. Now it is read like any other: here
/// 512 MiB (a sparse hole between two copies of the seed) under a 384 MiB
/// address-space limit.
#[cfg(unix)]
#[test]
fn a_file_larger_than_the_address_space_is_read_to_its_end() {
    let seed = std::fs::read(SEED).unwrap();
    let mut big = temp_log(&seed);
    big.as_file_mut()
        .set_len(seed.len() as u64 + (512 << 20))
        .unwrap();
    let mut file = big.reopen().unwrap();
    std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0)).unwrap();
    std::io::Write::write_all(&mut file, &[b"\n".as_slice(), &seed].concat()).unwrap();
    let path = big.path().to_str().unwrap();
    let script = format!(
        "ulimit -v {}; exec \"$0\" analyze --format json \"$1\"",
        384 * 1024
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_podmortem"), path])
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["skipped"], serde_json::json!([]), "{stderr}");
    let input = &report["inputs"][0];
    assert!(input["bytes"].as_u64().unwrap() > 512 << 20);
    // Both copies of the seed were read: the seed's lines twice, and the
    // hole as one line.
    let seed_lines = seed.iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(input["lines"], 2 * seed_lines + 1);
    assert!(kinds(&report).contains(&SEED_KIND.to_string()));
}

/// Crash (6): a fifo that no process writes to blocked the run forever
/// (opening it waits for a writer). Now it is given a moment, named, and
/// the other inputs analyzed; a device is named without being opened.
#[cfg(unix)]
#[test]
fn a_fifo_without_a_writer_is_named_not_waited_on() {
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("journal");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let fifo = fifo.to_str().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_podmortem"))
        .args(["analyze", "--format", "json", fifo, "/dev/null", SEED])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("podmortem still waits on the fifo after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let message_of = |path: &str| {
        let errors = report["errors"].as_array().unwrap();
        let error = errors.iter().find(|e| e["path"] == path);
        error.unwrap_or_else(|| panic!("{path} is named: {errors:?}"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(message_of(fifo).starts_with("a fifo with no writer: nothing to read"));
    assert!(message_of("/dev/null").starts_with("a device, not a log file: not read"));
    assert!(stderr.contains("a fifo with no writer"), "{stderr}");
    assert!(kinds(&report).contains(&SEED_KIND.to_string()));
}

/// A writer that opens the fifo after podmortem did, and is slow to
/// write, is waited for (`<(journalctl …)` seeking through a journal).
#[cfg(unix)]
#[test]
fn a_fifo_whose_writer_is_slow_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("journal");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            // Silent past the time given to a missing writer.
            std::thread::sleep(std::time::Duration::from_secs(3));
            std::io::Write::write_all(&mut f, &std::fs::read(SEED).unwrap()).unwrap();
        })
    };
    let (code, report, stderr) = analyze_json(&[fifo.to_str().unwrap()], None);
    writer.join().unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(report["errors"], serde_json::json!([]));
    assert!(kinds(&report).contains(&SEED_KIND.to_string()));
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
