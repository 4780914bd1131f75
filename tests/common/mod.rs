//! Running the real binary from integration tests.

#![allow(dead_code)] // each test crate uses a different part of this module

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub const SEED: &str = "samples/dockerd-stop-loop/messages";
pub const SANDBOX: &str = "a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9";
pub const CONTAINER: &str = "fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469";

/// Runs `podmortem ARGS` in the crate root, with `stdin` piped in if given.
pub fn podmortem(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_podmortem"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TZ", "UTC")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("podmortem binary runs");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(bytes).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Runs with `--format json` and parses the report.
pub fn json_report(args: &[&str], stdin: Option<&[u8]>) -> serde_json::Value {
    let mut all = vec!["analyze", "--format", "json"];
    all.extend_from_slice(args);
    let out = podmortem(&all, stdin);
    assert!(
        out.status.code() == Some(0),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// The JSON report on `text` written to a file, read as the field report's
/// node was: its logs of 2023 in UTC+8 (`--year 2023 --tz +08:00`).
pub fn report_on_cst_log(text: &str) -> serde_json::Value {
    let log = temp_log(text.as_bytes());
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

/// Writes `text` to a fresh temporary file and returns its guard.
pub fn temp_log(text: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text).unwrap();
    f
}

/// Whether this run rewrites snapshots and `expected.json` files: only
/// when `PODMORTEM_BLESS` is exactly `1`.
pub fn blessing() -> bool {
    bless_switch(std::env::var_os("PODMORTEM_BLESS").as_deref())
}

/// [`blessing`] for a given value of `PODMORTEM_BLESS`: `1` rewrites; unset,
/// empty or `0` compares. Any other value is a mistake (`true`, `yes`,
/// `PODMORTEM_BLESS=` meant for another variable) and stops the test
/// rather than being read one way or the other.
pub fn bless_switch(value: Option<&std::ffi::OsStr>) -> bool {
    match value.map(|v| v.to_str()) {
        None => false,
        Some(Some("1")) => true,
        Some(Some("" | "0")) => false,
        Some(other) => panic!(
            "PODMORTEM_BLESS={other:?}: set it to 1 to rewrite the expected outputs, \
             or unset it to compare with them"
        ),
    }
}

/// Compares with `tests/snapshots/NAME`, rewriting it when [`blessing`].
pub fn snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if blessing() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing: run with PODMORTEM_BLESS=1", path.display()));
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
        panic!(
            "{name} differs from the snapshot from line {}:\n  actual:   {:?}\n  expected: {:?}\n\
             (run with PODMORTEM_BLESS=1 after a deliberate change, and review the diff)",
            line + 1,
            actual.lines().nth(line),
            expected.lines().nth(line)
        );
    }
}

/// `podmortem events --format ndjson ARGS`: every event, parsed.
pub fn events_ndjson(args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["events", "--format", "ndjson"];
    all.extend_from_slice(args);
    let out = podmortem(&all, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Three dockerd force-kills of one container, ten seconds apart (a high
/// `dockerd_stop_loop`), each carrying `hostile` after the matched text.
pub fn hostile_dockerd_log(hostile: &str) -> tempfile::NamedTempFile {
    let lines: String = [36, 46, 56]
        .iter()
        .map(|s| {
            format!(
                "May  2 00:10:{s} node-1 dockerd: Container a9acd5210705 failed to exit within \
                 10 seconds of signal 15 - using the force {hostile}\n"
            )
        })
        .collect();
    temp_log(lines.as_bytes())
}

/// Writes the seed log as `var/log/messages` in a gzipped tar at `archive`
/// (a node's bundle), with the entry's mtime when given.
pub fn seed_bundle(archive: &std::path::Path, mtime: Option<u64>) {
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(archive).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    let seed = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SEED)).unwrap();
    let mut header = tar::Header::new_gnu();
    header.set_size(seed.len() as u64);
    header.set_mode(0o644);
    if let Some(mtime) = mtime {
        header.set_mtime(mtime);
    }
    header.set_cksum();
    tar.append_data(&mut header, "var/log/messages", seed.as_slice())
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
}
