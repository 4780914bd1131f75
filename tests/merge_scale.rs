//! `podmortem merge` at scale (issue 13 §4): many per-host reports of many
//! incidents each, merged with memory that follows the number of incidents,
//! not the reports' text. A test binary of its own, its tests one at a
//! time: a child's peak resident size counts its parent's peak while it
//! is spawned (the child shares the parent's memory until it runs the
//! program), so the parent must never hold much: it reads the merged
//! reports through [`Merged`], which keeps a rank per incident.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::json_report;
use serde::de::IgnoredAny;
use serde::Deserialize;

/// What the tests check of a merged report, read without holding it.
#[derive(Deserialize)]
struct Merged {
    incidents: Vec<Ranked>,
    fleet: Vec<Fleet>,
}

#[derive(Deserialize)]
struct Ranked {
    rank: usize,
}

#[derive(Deserialize)]
struct Fleet {
    hosts: Vec<IgnoredAny>,
}

fn read_merged(path: &Path) -> Merged {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    serde_json::from_reader(file).unwrap()
}

/// One test at a time (see the module's doc).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `reports` per-host reports of `per_report` incidents each in `dir`,
/// made from one real per-host report (the seed's, samples/, whose second
/// incident, a dockerd_stop_loop of ~9 KB of JSON, is copied with a kind
/// and times per copy and host) and printed as `analyze --format json`
/// prints.
fn many_reports(dir: &Path, reports: usize, per_report: usize) -> Vec<PathBuf> {
    let template = json_report(&[common::SEED], None);
    let incident = template["incidents"][1].clone();
    assert_eq!(incident["kind"], "dockerd_stop_loop");
    let mut paths = Vec::with_capacity(reports);
    for r in 0..reports {
        let host = format!("node-{r:05}");
        let mut report = template.clone();
        report["inputs"][0]["hosts"] = serde_json::json!([host]);
        report["inputs"][0]["path"] = format!("/{host}/var/log/messages").into();
        report["host_versions"][0]["host"] = host.clone().into();
        report["incidents"] = (0..per_report)
            .map(|k| {
                let mut i = incident.clone();
                i["rank"] = (k + 1).into();
                i["kind"] = format!("kind_{k:02}").into();
                i["hosts"] = serde_json::json!([host]);
                i["related"] = serde_json::json!([]);
                let minute = (r + k) % 60;
                i["first_seen"] = format!("2023-05-02T{:02}:{minute:02}:06+08:00", k % 24).into();
                i["last_seen"] = format!("2023-05-02T{:02}:{minute:02}:44+08:00", k % 24).into();
                i
            })
            .collect();
        let path = dir.join(format!("{host}.json"));
        // Through the report type: its fields in the order analyze prints.
        let report: podmortem::report::Report = serde_json::from_value(report).unwrap();
        std::fs::write(&path, serde_json::to_vec_pretty(&report).unwrap()).unwrap();
        paths.push(path);
    }
    paths
}

/// The children waited for so far: their largest resident size (KiB) and
/// their CPU time (user and system, seconds).
fn children_usage() -> (i64, f64) {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (usage.ru_maxrss, secs(usage.ru_utime) + secs(usage.ru_stime))
}

/// What one `podmortem merge --format json` took.
struct Timed {
    wall: f64,
    cpu: f64,
    /// The largest resident size of the children so far.
    rss_mib: i64,
    /// The reports' JSON.
    bytes: u64,
}

/// `podmortem merge --format json` over `reports`, its output written to
/// `merged`.
fn timed_merge(reports: &[PathBuf], merged: &Path) -> Timed {
    let (_, cpu_before) = children_usage();
    let started = std::time::Instant::now();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_podmortem"))
        .args(["merge", "--format", "json"])
        .args(reports)
        .stdout(std::fs::File::create(merged).unwrap())
        .status()
        .unwrap();
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(status.code(), Some(0));
    let (rss_kib, cpu_after) = children_usage();
    Timed {
        wall,
        cpu: cpu_after - cpu_before,
        rss_mib: rss_kib / 1024,
        bytes: reports.iter().map(|p| p.metadata().unwrap().len()).sum(),
    }
}

fn print(what: &str, t: &Timed) {
    eprintln!(
        "merged {what} ({:.1} MB of JSON) in {:.2} s ({:.2} s CPU), peak RSS {} MiB",
        t.bytes as f64 / 1e6,
        t.wall,
        t.cpu,
        t.rss_mib
    );
}

/// Many reports of 50 incidents each. `PODMORTEM_MERGE_REPORTS` sets how
/// many (200 by default, for a debug build); the README's figure is this
/// test in release with 10,000. `PODMORTEM_MERGE_KEEP=DIR` writes the
/// reports into DIR and keeps them, to time `podmortem merge DIR/*.json`
/// on its own.
#[test]
fn merging_many_reports_keeps_up() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let reports: usize = std::env::var("PODMORTEM_MERGE_REPORTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    const PER_REPORT: usize = 50;
    let temp = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("PODMORTEM_MERGE_KEEP").map(PathBuf::from);
    let dir = kept.as_deref().unwrap_or(temp.path());
    std::fs::create_dir_all(dir).unwrap();
    let paths = many_reports(dir, reports, PER_REPORT);
    let out = temp.path().join("merged.json");
    let t = timed_merge(&paths, &out);
    print(&format!("{reports} reports x {PER_REPORT} incidents"), &t);
    let merged = read_merged(&out);
    assert_eq!(merged.incidents.len(), reports * PER_REPORT);
    assert!(merged
        .incidents
        .iter()
        .enumerate()
        .all(|(i, r)| r.rank == i + 1));
    assert_eq!(
        merged.fleet.len(),
        PER_REPORT,
        "one fleet incident per kind"
    );
    assert!(merged.fleet.iter().all(|f| f.hosts.len() == reports));
    if reports >= 10_000 && !cfg!(debug_assertions) {
        // Under 10 s on two cores: CPU time, since the machines are shared
        // and their wall time says more about the others than the merge.
        assert!(t.cpu < 20.0, "{:.1} s CPU", t.cpu);
    }
}

/// A merge holds what it needs of each incident, not the reports: 2,000
/// reports of 20 incidents (~360 MB of JSON) merged with a peak resident
/// size under half the JSON (merges that held every report took ~1.5
/// times it), in under a minute even in a debug build (a step quadratic
/// in reports or incidents would take far longer), every incident written.
#[test]
fn a_merge_holds_no_report_whole() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let paths = many_reports(dir.path(), 2_000, 20);
    let out = dir.path().join("merged.json");
    let t = timed_merge(&paths, &out);
    print("2,000 reports x 20 incidents", &t);
    assert!(
        (t.rss_mib as u64) < t.bytes / 2 / (1 << 20),
        "{} MiB for {} MB of reports",
        t.rss_mib,
        t.bytes / 1_000_000
    );
    assert!(t.wall < 60.0, "{:.1} s", t.wall);
    let merged = read_merged(&out);
    assert_eq!(merged.incidents.len(), 40_000);
    assert!(merged
        .incidents
        .iter()
        .enumerate()
        .all(|(i, r)| r.rank == i + 1));
    assert_eq!(merged.fleet.len(), 20);
}

/// `podmortem merge`'s two passes over the same reports, in process.
fn merge_in_process(paths: &[PathBuf]) -> podmortem::report::merge::Merged {
    use podmortem::report::merge::{skim, Merge};
    let mut merge = Merge::default();
    for path in paths {
        merge.add(path.clone(), skim::read(path).unwrap()).unwrap();
    }
    merge.finish(podmortem::report::fleet::FleetOptions::default())
}

/// Each report is opened once: its incidents are read again from the
/// file read first. One replaced after it was read (a new file renamed
/// over it, as a DaemonSet rewrites its report) is merged as it was read;
/// one cut short in place is an error that names it, never a merged report
/// with a torn incident.
#[cfg(unix)]
#[test]
fn a_report_changed_between_the_passes() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let paths = many_reports(dir.path(), 3, 4);
    let mut expected = Vec::new();
    merge_in_process(&paths).write_json(&mut expected).unwrap();
    let original = std::fs::read(&paths[1]).unwrap();

    let merged = merge_in_process(&paths);
    let other = dir.path().join("other.json");
    std::fs::write(&other, &original[..original.len() / 2]).unwrap();
    std::fs::rename(&other, &paths[1]).unwrap();
    let mut out = Vec::new();
    merged.write_json(&mut out).unwrap();
    assert!(out == expected, "a report renamed over is read as it was");

    std::fs::write(&paths[1], &original).unwrap();
    let merged = merge_in_process(&paths);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&paths[1])
        .unwrap()
        .set_len(original.len() as u64 / 2)
        .unwrap();
    let error = format!("{:#}", merged.write_json(&mut Vec::new()).unwrap_err());
    assert!(
        error.contains(&format!(
            "{}: changed while it was merged",
            paths[1].display()
        )),
        "{error}"
    );
}
