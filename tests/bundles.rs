//! Support bundles end to end: a sosreport and a troubleshoot.sh bundle, as
//! the `.tar.gz` files support engineers receive, analyzed by the binary
//! without unpacking them. Their logs are the five-formats sample, placed
//! where each tool writes them.

mod common;

use std::io::Write;

use common::{podmortem, SANDBOX};

const SAMPLE: &str = "samples/five-formats";

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{SAMPLE}/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The journal lines of one program (as `journalctl -u <unit>` prints them).
fn journal_of(program: &str) -> Vec<u8> {
    let text = String::from_utf8(sample("journal-short-iso.txt")).unwrap();
    let tag = format!(" {program}[");
    let bare = format!(" {program}: ");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(&tag) || l.contains(&bare))
        .collect();
    (lines.join("\n") + "\n").into_bytes()
}

/// A tar holding `files` (path, content).
fn tar(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (entry, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_683_532_800); // 2023-05-08
        header.set_cksum();
        tar.append_data(&mut header, entry, content.as_slice())
            .unwrap();
    }
    tar.into_inner().unwrap()
}

/// The compressions a bundle comes in, each by its own crate's encoder.
#[derive(Clone, Copy, Debug)]
enum Packing {
    Gzip,
    Xz,
    Bzip2,
}

fn pack(bytes: &[u8], packing: Packing) -> Vec<u8> {
    match packing {
        Packing::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(bytes).unwrap();
            gz.finish().unwrap()
        }
        Packing::Xz => {
            let options = lzma_rust2::XzOptions::with_preset(1);
            let mut xz = lzma_rust2::XzWriter::new(Vec::new(), options).unwrap();
            xz.write_all(bytes).unwrap();
            xz.finish().unwrap()
        }
        Packing::Bzip2 => {
            let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            bz.write_all(bytes).unwrap();
            bz.finish().unwrap()
        }
    }
}

/// A zip holding `files`, deflated, as `zip -r` writes one from a tree.
fn zip(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (entry, content) in files {
        zip.start_file(*entry, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Writes `bytes` as `name` into a temp dir.
fn file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let path = path.to_str().unwrap().to_string();
    (dir, path)
}

/// Writes a `.tar.gz` holding `files` (path, content) into a temp dir.
fn tar_gz(name: &str, files: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, String) {
    file(name, &pack(&tar(files), Packing::Gzip))
}

fn analyze(bundle: &str) -> (Option<i32>, serde_json::Value) {
    let out = podmortem(
        &["analyze", "--format", "json", "--fail-on", "high", bundle],
        None,
    );
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report)
}

fn assert_seed_incident(report: &serde_json::Value) {
    let incident = &report["incidents"][0];
    assert_eq!(incident["severity"], "critical");
    assert_eq!(
        incident["pods"],
        serde_json::json!(["kube-system/fluentd-hjj42"])
    );
    assert!(incident["containers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == SANDBOX));
    // kubelet writes each failed stop as three lines in one instant.
    let counts: Vec<(String, u64, u64)> = incident["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["count"].as_u64().unwrap(),
                f["lines"].as_u64().unwrap(),
            )
        })
        .filter(|(kind, ..)| kind != "kernel_hung_task")
        .collect();
    assert_eq!(
        counts,
        [
            ("dockerd_stop_loop".to_string(), 174, 174),
            ("kubelet_stop_deadline".to_string(), 2, 6)
        ]
    );
}

#[test]
fn a_sosreport_tarball_is_read_in_place_and_its_logs_found() {
    let root = "sosreport-ecs-prod-003-2023-05-08-abcdefg";
    let (_dir, bundle) = tar_gz(
        "sosreport-ecs-prod-003-2023-05-08-abcdefg.tar.gz",
        &[
            (
                &format!("{root}/sos_commands/logs/journalctl_--no-pager"),
                sample("journal-short-iso.txt"),
            ),
            (
                &format!("{root}/sos_commands/kernel/dmesg"),
                sample("dmesg.txt"),
            ),
            (
                &format!("{root}/sos_commands/process/ps_auxwww"),
                b"USER PID %CPU\nroot 1 0.0 /usr/lib/systemd/systemd\n".to_vec(),
            ),
            (&format!("{root}/var/log/messages"), sample("messages")),
            (
                &format!("{root}/etc/hosts"),
                b"127.0.0.1 localhost\n".to_vec(),
            ),
        ],
    );
    let (code, report) = analyze(&bundle);
    assert_eq!(code, Some(1), "a critical incident fails --fail-on high");
    // The journal and /var/log/messages hold the same events: counted once.
    assert_seed_incident(&report);
    assert!(report["stats"]["duplicates"].as_u64().unwrap() >= 180);
    assert_eq!(report["bundles"][0]["kind"], "sosreport");
    // The journal dates the kernel's hung-task line; it names no container
    // of the pod, so it is shown nearby, not joined to the pod's incident.
    assert_eq!(
        report["incidents"][0]["nearby"][0]["kind"],
        "kernel_hung_task"
    );
    let names: Vec<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with(&bundle)), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("var/log/messages")));
    assert!(
        report["ignored"].as_u64().unwrap() >= 2,
        "ps output and /etc are not logs"
    );
    let formats: Vec<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["format"].as_str().unwrap())
        .collect();
    assert!(
        formats.contains(&"dmesg") && formats.contains(&"syslog") && formats.contains(&"iso"),
        "{formats:?}"
    );
}

/// The files of a sosreport with the seed's logs.
fn sosreport(root: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        (
            format!("{root}/sos_commands/logs/journalctl_--no-pager"),
            sample("journal-short-iso.txt"),
        ),
        (
            format!("{root}/sos_commands/kernel/dmesg"),
            sample("dmesg.txt"),
        ),
        (
            format!("{root}/sos_commands/process/ps_auxwww"),
            b"USER PID %CPU\nroot 1 0.0 /usr/lib/systemd/systemd\n".to_vec(),
        ),
        (format!("{root}/var/log/messages"), sample("messages")),
    ]
}

/// A report's incidents and statistics with the bundle's own name taken
/// out of every path, to compare bundles packed differently.
fn incidents_of(report: &serde_json::Value, bundle: &str) -> (String, serde_json::Value) {
    let incidents = report["incidents"].to_string().replace(bundle, "BUNDLE");
    (incidents, report["stats"]["duplicates"].clone())
}

#[test]
fn a_sosreport_as_tar_xz_tar_bz2_or_zip_gives_the_incidents_of_its_tar_gz() {
    let root = "sosreport-ecs-prod-003-2023-05-08-abcdefg";
    let files = sosreport(root);
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    let (_gz_dir, gz) = tar_gz(&format!("{root}.tar.gz"), &files);
    let (_, expected) = analyze(&gz);
    assert_seed_incident(&expected);
    let expected = incidents_of(&expected, &gz);
    let tarball = tar(&files);
    let zipped = zip(&files);
    let bundles = [
        (format!("{root}.tar.xz"), pack(&tarball, Packing::Xz)),
        (format!("{root}.tar.bz2"), pack(&tarball, Packing::Bzip2)),
        (format!("{root}.zip"), zipped.clone()),
        // A zip inside a tar is read once, from its local headers.
        (
            "case-01234567.tar".to_string(),
            tar(&[(&format!("{root}.zip"), zipped)]),
        ),
    ];
    for (name, bytes) in bundles {
        let (_dir, bundle) = file(&name, &bytes);
        let (code, report) = analyze(&bundle);
        assert_eq!(code, Some(1), "{name}");
        assert_eq!(report["bundles"][0]["kind"], "sosreport", "{name}");
        assert_eq!(report["inputs"].as_array().unwrap().len(), 3, "{name}");
        assert!(report["skipped"].as_array().unwrap().is_empty(), "{name}");
        let inner = if name.ends_with(".tar") {
            format!("{bundle}:{root}.zip")
        } else {
            bundle.clone()
        };
        assert_eq!(incidents_of(&report, &inner), expected, "{name}");
    }
}

#[test]
fn a_log_compressed_alone_as_xz_or_bz2_gives_the_incidents_of_the_plain_file() {
    let messages = sample("messages");
    let (_plain_dir, plain) = file("messages", &messages);
    let (_, expected) = analyze(&plain);
    let expected = incidents_of(&expected, &plain);
    assert_ne!(expected.0, "[]");
    for (name, packing) in [
        ("messages.xz", Packing::Xz),
        ("messages.bz2", Packing::Bzip2),
    ] {
        let (_dir, path) = file(name, &pack(&messages, packing));
        let (_, report) = analyze(&path);
        assert_eq!(incidents_of(&report, &path), expected, "{name}");
    }
}

#[test]
fn a_troubleshoot_bundle_is_read_from_its_host_collectors() {
    let root = "support-bundle-2023-05-08T10_00_00";
    let (_dir, bundle) = tar_gz(
        "support-bundle.tar.gz",
        &[
            (
                &format!("{root}/host-collectors/journald/kubelet.txt"),
                journal_of("kubelet"),
            ),
            (
                &format!("{root}/host-collectors/journald/kubelet-info.json"),
                b"{\"command\":\"journalctl -u kubelet\"}".to_vec(),
            ),
            (
                &format!("{root}/host-collectors/journald/docker.txt"),
                journal_of("dockerd"),
            ),
            (
                &format!("{root}/host-collectors/run-host/dmesg.txt"),
                sample("dmesg.txt"),
            ),
            (
                &format!("{root}/cluster-resources/pods/kube-system.json"),
                b"{\"items\":[]}".to_vec(),
            ),
        ],
    );
    let (code, report) = analyze(&bundle);
    assert_eq!(code, Some(1));
    assert_seed_incident(&report);
    assert_eq!(report["bundles"][0]["kind"], "troubleshoot");
    assert_eq!(report["inputs"].as_array().unwrap().len(), 3);
}

#[test]
fn a_corrupt_archive_is_named_and_the_other_inputs_still_analyzed() {
    let (dir, bundle) = tar_gz("bundle.tar.gz", &[("var/log/messages", sample("messages"))]);
    let bytes = std::fs::read(&bundle).unwrap();
    let cut = dir.path().join("cut.tar.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let messages = format!("{}/{SAMPLE}/messages", env!("CARGO_MANIFEST_DIR"));
    let out = podmortem(
        &[
            "analyze",
            "--format",
            "json",
            cut.to_str().unwrap(),
            &messages,
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_seed_incident(&report);
    let skipped = report["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["path"].as_str().unwrap().contains("cut.tar.gz")),
        "{skipped:?}"
    );
}
