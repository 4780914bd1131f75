//! Binary journal files written by systemd's own code
//! (tests/fixtures/journal-file/make.sh: systemd-journal-remote of systemd
//! 252 fed the five-formats sample's export stream) read natively: they give
//! the export stream's records and incidents, a directory of one machine's
//! files reads as one journal in time order (like `journalctl -D`), and a
//! torn tail is read up to the cut and named.

mod common;

use std::io::Read;
use std::path::PathBuf;

use common::json_report;
use podmortem::format::journal_file::{JournalFile, Merged};
use serde_json::Value;

const FIXTURES: &str = "tests/fixtures/journal-file";

/// The committed `NAME.gz` fixture, decompressed.
fn fixture(name: &str) -> Vec<u8> {
    let gz = std::fs::File::open(format!("{FIXTURES}/{name}.gz")).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Writes fixtures, decompressed, under a temp dir: (dir, their paths).
fn on_disk(names: &[&str]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let paths = names
        .iter()
        .map(|name| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, fixture(name)).unwrap();
            path
        })
        .collect();
    (dir, paths)
}

fn export_of(files: &[&str]) -> (String, Merged) {
    let files = files
        .iter()
        .map(|n| (n.to_string(), JournalFile::open(fixture(n)).unwrap()))
        .collect();
    let mut merged = Merged::new(files);
    let mut out = Vec::new();
    merged.read_to_end(&mut out).unwrap();
    (String::from_utf8_lossy(&out).into_owned(), merged)
}

const MACHINE: [&str; 2] = [
    "machine/system.journal",
    "machine/system@0005fa98d995cf00-0000000000000001.journal",
];

#[test]
fn a_journal_file_renders_as_journalctl_exports_it() {
    let (ours, merged) = export_of(&["regular.journal"]);
    let journalctl = std::fs::read_to_string(format!("{FIXTURES}/regular.export")).unwrap();
    assert_eq!(merged.entries, 185);
    assert!(merged.problems.is_empty(), "{:?}", merged.problems);
    assert_eq!(ours, journalctl);
}

/// The `__REALTIME_TIMESTAMP` of every entry of an export stream, in order.
fn times(export: &str) -> Vec<u64> {
    export
        .lines()
        .filter_map(|l| l.strip_prefix("__REALTIME_TIMESTAMP="))
        .map(|t| t.parse().unwrap())
        .collect()
}

#[test]
fn one_machines_files_merge_in_time_order_compact_and_compressed() {
    let (merged_text, merged) = export_of(&MACHINE);
    assert!(merged.problems.is_empty(), "{:?}", merged.problems);
    let (regular, _) = export_of(&["regular.journal"]);
    // Odd and even entries were written to two files: merged, they are the
    // sample's entries in the sample's order, the compressed long one last.
    assert_eq!(times(&merged_text), times(&regular));
    assert_eq!(merged.entries, 185);
    let long = std::fs::read_to_string(format!("{FIXTURES}/long.export")).unwrap();
    let message = long.lines().find(|l| l.starts_with("MESSAGE=")).unwrap();
    assert!(
        message.len() > 512,
        "above journald's compression threshold"
    );
    assert!(merged_text.contains(message));
    let head = fixture(MACHINE[0]);
    assert_eq!(
        head[12] & 0b11100,
        0b11100,
        "compact, keyed hashes, zstd (systemd 252's defaults)"
    );
}

/// A report's incidents, with where the evidence stands blanked (a journal
/// file and an export file number their lines alike only entry by entry).
fn incidents(report: &Value) -> Value {
    let mut incidents = report["incidents"].clone();
    for incident in incidents.as_array_mut().unwrap() {
        for finding in incident["findings"].as_array_mut().unwrap() {
            for e in finding["evidence"].as_array_mut().unwrap() {
                e["file"] = Value::Null;
                e["line"] = Value::Null;
            }
        }
    }
    incidents
}

#[test]
fn a_journal_directory_gives_the_incidents_of_its_export() {
    let exports = json_report(
        &[
            "samples/five-formats/journal.export",
            &format!("{FIXTURES}/long.export"),
        ],
        None,
    );
    assert_eq!(exports["incidents"][0]["kind"], "dockerd_stop_loop");
    let (dir, _) = on_disk(&MACHINE);
    let machine = dir.path().join("machine");
    let report = json_report(&[machine.to_str().unwrap()], None);
    let inputs = report["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1, "one machine, one journal: {inputs:?}");
    assert_eq!(inputs[0]["format"], "journal-export");
    assert!(inputs[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("machine/*.journal"));
    assert!(report["skipped"].as_array().unwrap().is_empty());
    assert_eq!(incidents(&report), incidents(&exports));
}

#[test]
fn a_torn_journal_is_read_up_to_the_cut_and_the_cut_named() {
    let (text, merged) = export_of(&["torn.journal~"]);
    let read = times(&text).len();
    assert!(read > 20 && read < 185, "{read} entries read");
    let torn: u64 = merged.problems.values().sum();
    assert!(torn > 0, "the entries past the cut are counted");

    let (dir, paths) = on_disk(&["torn.journal~"]);
    let report = json_report(&[paths[0].to_str().unwrap()], None);
    let skipped = report["skipped"].as_array().unwrap();
    assert!(
        skipped.iter().any(|s| s["message"]
            .as_str()
            .unwrap()
            .contains("past the end of the file (torn tail)")),
        "{skipped:?}"
    );
    drop(dir);
}

#[test]
fn a_compressed_journal_in_a_sosreport_is_read() {
    let root = "sosreport-ecs-prod-003-2023-05-08-abcdefg";
    let mut tar = tar::Builder::new(Vec::new());
    for (name, path) in [
        (
            format!("{root}/sos_commands/process/ps_auxwww"),
            None::<&str>,
        ),
        (
            format!("{root}/var/log/journal/3d1219c7c4c5404aaa1f6d2a48adfda4/system.journal"),
            Some(MACHINE[0]),
        ),
        (
            format!("{root}/var/log/journal/3d1219c7c4c5404aaa1f6d2a48adfda4/system@1.journal"),
            Some(MACHINE[1]),
        ),
    ] {
        let content = path.map_or(b"USER PID\n".to_vec(), fixture);
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o640);
        header.set_cksum();
        tar.append_data(&mut header, &name, content.as_slice())
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join(format!("{root}.tar.gz"));
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&bundle).unwrap(),
        flate2::Compression::fast(),
    );
    std::io::copy(&mut tar.into_inner().unwrap().as_slice(), &mut gz).unwrap();
    gz.finish().unwrap();
    let report = json_report(&[bundle.to_str().unwrap()], None);
    assert_eq!(report["bundles"][0]["kind"], "sosreport");
    let inputs = report["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1, "{inputs:?}");
    let path = inputs[0]["path"].as_str().unwrap();
    assert!(
        path.ends_with("/var/log/journal/3d1219c7c4c5404aaa1f6d2a48adfda4/*.journal"),
        "{path}"
    );
    assert_eq!(report["incidents"][0]["kind"], "dockerd_stop_loop");
}
