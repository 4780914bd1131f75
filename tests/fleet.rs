//! A fleet of nodes: the logs of several hosts, some hit by the same planted
//! failure (a dockerd stop loop) on an old Docker and some on a fixed one
//! and clean, analyzed in one run and as separate reports merged; both
//! must give the same single fleet incident, naming exactly the hosts hit
//! and the version split. Also: `podmortem merge` on bad input, and the
//! committed JSON Schema (`schema/report.schema.json`) against the types
//! and against every report these tests make.

mod common;

use std::path::{Path, PathBuf};

use common::{json_report, podmortem};
use serde_json::Value;

/// Hosts hit by the stop loop, on Docker 19.03.15 (before moby PR 42956).
const HIT: [&str; 3] = ["node-a", "node-b", "node-c"];
/// Hosts on Docker 20.10.12 (with the fix), without the failure.
const CLEAN: [&str; 2] = ["node-d", "node-e"];

/// One host's `/var/log/messages` of 2023-05-02 (UTC+8). Composed from the
/// seed report's real lines (samples/dockerd-stop-loop/messages: dockerd's
/// "failed to exit within 10 seconds of signal 15 - using the force" and
/// the "Docker daemon" start line in moby's form, see grammars/dockerd.toml),
/// with the host name, container ID, version and times changed per host.
fn messages(host: &str, version: &str, stop_loop_at_minute: Option<u32>) -> String {
    let mut log = format!(
        "May  2 00:00:01 {host} dockerd: time=\"2023-05-02T00:00:01.521245327+08:00\" level=info \
         msg=\"Docker daemon\" commit=99e3ed8919 graphdriver(s)=overlay2 version={version}\n\
         May  2 00:00:02 {host} systemd[1]: Started Docker Application Container Engine.\n"
    );
    if let Some(minute) = stop_loop_at_minute {
        // A container ID of the host's own: the hosts share nothing but the bug.
        let id: String = format!(
            "{:0<64}",
            format!("a9acd52107{:02x}", host.len() + minute as usize)
        );
        for s in [6, 18, 31, 44] {
            log.push_str(&format!(
                "May  2 00:{minute:02}:{s:02} {host} dockerd: time=\"2023-05-02T00:{minute:02}:{s:02}.621505552+08:00\" \
                 level=info msg=\"Container {id} failed to exit within 10 seconds of signal 15 - using the force\"\n"
            ));
        }
    }
    log.push_str(&format!(
        "May  2 01:00:00 {host} systemd[1]: Starting Cleanup of Temporary Directories...\n"
    ));
    log
}

/// The five hosts' logs in `dir`, one file per host.
fn fleet_logs(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for (i, host) in HIT.iter().enumerate() {
        let path = dir.join(format!("{host}.messages"));
        std::fs::write(&path, messages(host, "19.03.15", Some(10 + 7 * i as u32))).unwrap();
        paths.push(path);
    }
    for host in CLEAN {
        let path = dir.join(format!("{host}.messages"));
        std::fs::write(&path, messages(host, "20.10.12", None)).unwrap();
        paths.push(path);
    }
    paths
}

const TIME: [&str; 4] = ["--year", "2023", "--tz", "+08:00"];

fn analyze_json(paths: &[PathBuf], extra: &[&str]) -> Value {
    let mut args: Vec<&str> = TIME.to_vec();
    args.extend_from_slice(extra);
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    json_report(&args, None)
}

/// Each host analyzed on its own, its JSON report written beside its log.
fn per_host_reports(paths: &[PathBuf]) -> Vec<PathBuf> {
    paths
        .iter()
        .map(|log| {
            let report = analyze_json(std::slice::from_ref(log), &[]);
            assert!(report.get("fleet").is_none(), "one host makes no fleet");
            let path = log.with_extension("json");
            std::fs::write(&path, serde_json::to_vec(&report).unwrap()).unwrap();
            path
        })
        .collect()
}

fn merge(reports: &[PathBuf], format: &str) -> std::process::Output {
    let mut args = vec!["merge", "--format", format];
    args.extend(reports.iter().map(|p| p.to_str().unwrap()));
    podmortem(&args, None)
}

fn merge_json(reports: &[PathBuf]) -> Value {
    let out = merge(reports, "json");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

/// The one fleet incident, checked host by host and version by version.
fn check_fleet_incident(report: &Value) {
    let fleet = report["fleet"].as_array().expect("a fleet array");
    assert_eq!(fleet.len(), 1, "{fleet:#?}");
    let f = &fleet[0];
    assert_eq!(f["scope"], "fleet");
    assert_eq!(f["kind"], "dockerd_stop_loop");
    assert_eq!(f["fleet_size"], 5);
    let hosts: Vec<&str> = f["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, HIT);
    assert_eq!(strings(&f["clean_hosts"]), CLEAN);
    // First and last per host: each host's own loop.
    for (i, h) in f["hosts"].as_array().unwrap().iter().enumerate() {
        let minute = 10 + 7 * i;
        assert_eq!(
            h["first_seen"],
            format!("2023-05-02T00:{minute:02}:06.621505552+08:00")
        );
        assert_eq!(
            h["last_seen"],
            format!("2023-05-02T00:{minute:02}:44.621505552+08:00")
        );
        assert_eq!(
            h["versions"],
            serde_json::json!([{ "component": "docker", "version": "19.03.15" }])
        );
    }
    let docker = &f["versions"][0];
    assert_eq!(docker["component"], "docker");
    assert_eq!(
        docker["affected"],
        serde_json::json!([{ "version": "19.03.15", "hosts": HIT }])
    );
    assert_eq!(
        docker["clean"],
        serde_json::json!([{ "version": "20.10.12", "hosts": CLEAN }])
    );
    assert_eq!(docker["splits"], true);
    assert_eq!(
        f["title"],
        "dockerd_stop_loop on 3 of 5 hosts, all on docker 19.03.15; \
         the 2 hosts on docker 20.10.12 are clean"
    );
    // The per-host incidents it groups are the report's, one per host.
    let ranks: Vec<u64> = f["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_u64().unwrap())
        .collect();
    assert_eq!(ranks.len(), 3);
    let mut grouped_hosts: Vec<&str> = ranks
        .iter()
        .map(|r| {
            let incident = &report["incidents"][(*r - 1) as usize];
            assert_eq!(incident["rank"], *r);
            assert_eq!(incident["kind"], "dockerd_stop_loop");
            incident["hosts"][0].as_str().unwrap()
        })
        .collect();
    grouped_hosts.sort_unstable();
    assert_eq!(grouped_hosts, HIT);
}

#[test]
fn one_run_over_many_hosts_finds_one_fleet_incident_with_the_version_split() {
    let dir = tempfile::tempdir().unwrap();
    let report = analyze_json(&fleet_logs(dir.path()), &[]);
    check_fleet_incident(&report);
    // Per-host incidents stay per host.
    assert!(report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["hosts"].as_array().unwrap().len() == 1));
}

#[test]
fn fleet_min_above_the_hosts_hit_gives_no_fleet_incident() {
    let dir = tempfile::tempdir().unwrap();
    let paths = fleet_logs(dir.path());
    let report = analyze_json(&paths, &["--fleet-min", "4"]);
    assert!(report.get("fleet").is_none());
    let report = analyze_json(&paths, &["--fleet-min", "3"]);
    assert_eq!(report["fleet"].as_array().unwrap().len(), 1);
    // Loops 7 minutes apart: a 5-minute window chains none of them.
    let report = analyze_json(&paths, &["--fleet-window", "5m"]);
    assert!(report.get("fleet").is_none());
}

#[test]
fn merging_per_host_reports_gives_the_fleet_incident_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let paths = fleet_logs(dir.path());
    let whole = analyze_json(&paths, &[]);
    let reports = per_host_reports(&paths);
    let merged = merge_json(&reports);
    check_fleet_incident(&merged);
    assert_eq!(merged["fleet"], whole["fleet"]);
    assert_eq!(merged["incidents"], whole["incidents"]);
    assert_eq!(merged["host_versions"], whole["host_versions"]);
    assert_eq!(merged["inputs"], whole["inputs"]);
    assert_eq!(merged["stats"]["events"], whole["stats"]["events"]);
    assert_eq!(merged["stats"]["lines"], whole["stats"]["lines"]);
    // Merging is idempotent: a merged report merges like its parts.
    let merged_path = dir.path().join("merged.json");
    std::fs::write(&merged_path, serde_json::to_vec(&merged).unwrap()).unwrap();
    let again = merge_json(&[merged_path]);
    assert_eq!(again["fleet"], merged["fleet"]);
    assert_eq!(again["incidents"], merged["incidents"]);
}

#[test]
fn text_markdown_and_html_show_the_fleet_incident_first() {
    let dir = tempfile::tempdir().unwrap();
    let reports = per_host_reports(&fleet_logs(dir.path()));
    // Markdown escapes the kind's underscores: the rest of the title is
    // the same in every format.
    let title = "on 3 of 5 hosts, all on docker 19.03.15; the 2 hosts on docker 20.10.12 are clean";
    for format in ["text", "markdown", "html"] {
        let out = merge(&reports, format);
        assert_eq!(out.status.code(), Some(0), "{format}");
        let page = String::from_utf8(out.stdout).unwrap();
        let fleet_at = page
            .find(title)
            .unwrap_or_else(|| panic!("{format}: no fleet title in\n{page}"));
        let first_host_incident = page
            .find("dockerd cannot stop a container")
            .unwrap_or_else(|| panic!("{format}: no per-host incident in\n{page}"));
        assert!(
            fleet_at < first_host_incident,
            "{format}: the fleet incident comes first"
        );
    }
    // The HTML lane view: a row per host, hit ones with a bar to their incident.
    let page = String::from_utf8(merge(&reports, "html").stdout).unwrap();
    let lanes = &page[page.find("<section id=\"fleet\">").unwrap()..];
    let lanes = &lanes[..lanes.find("</section>").unwrap()];
    for host in HIT {
        assert!(
            lanes.contains(&format!(">{host} · docker 19.03.15</text>")),
            "{host}"
        );
    }
    for host in CLEAN {
        assert!(
            lanes.contains(&format!(">{host} · docker 20.10.12 · clean</text>")),
            "{host}"
        );
    }
    assert_eq!(lanes.matches("<rect class=\"mark sev-").count(), HIT.len());
}

#[test]
fn merge_refuses_what_is_not_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let not_json = dir.path().join("log.json");
    std::fs::write(&not_json, "May  2 00:00:01 node-a dockerd: hello\n").unwrap();
    let out = merge(std::slice::from_ref(&not_json), "json");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a podmortem JSON report"), "{stderr}");

    let reports = per_host_reports(&fleet_logs(dir.path()));
    let mut future: Value = serde_json::from_slice(&std::fs::read(&reports[0]).unwrap()).unwrap();
    future["schema_version"] = 99.into();
    let future_path = dir.path().join("future.json");
    std::fs::write(&future_path, serde_json::to_vec(&future).unwrap()).unwrap();
    let out = merge(&[reports[1].clone(), future_path], "json");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schema_version 99"));
}

fn committed_schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

#[test]
fn the_committed_schema_is_the_one_the_types_generate() {
    let out = podmortem(&["schema"], None);
    assert_eq!(out.status.code(), Some(0));
    let generated = String::from_utf8(out.stdout).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json");
    if common::blessing() {
        std::fs::write(&path, &generated).unwrap();
    }
    assert_eq!(
        generated,
        std::fs::read_to_string(&path).unwrap(),
        "schema/report.schema.json is stale: run with PODMORTEM_BLESS=1 and review the diff"
    );
    let schema: Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(
        schema["title"],
        format!("podmortem report, schema_version {}", 1)
    );
}

#[test]
fn every_report_validates_against_the_committed_schema() {
    let validator = jsonschema::validator_for(&committed_schema()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = fleet_logs(dir.path());
    let reports = per_host_reports(&paths);
    let mut all = vec![analyze_json(&paths, &[]), merge_json(&reports)];
    all.extend(
        reports
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()),
    );
    // The seed case, a missing input, and times known only since boot.
    all.push(json_report(&[common::SEED, "does/not/exist.log"], None));
    let dmesg = common::temp_log(
        b"[ 8123.456789] Memory cgroup out of memory: Killed process 4242 (java) \
          total-vm:4000000kB, anon-rss:2000000kB, file-rss:0kB, shmem-rss:0kB, UID:0 \
          pgtables:5000kB oom_score_adj:999\n",
    );
    all.push(json_report(&[dmesg.path().to_str().unwrap()], None));
    for report in &all {
        let errors: Vec<String> = validator
            .iter_errors(report)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
    // And the schema is no rubber stamp.
    let mut broken = all[0].clone();
    broken["fleet"][0]["scope"] = "host".into();
    assert!(!validator.is_valid(&broken));
}

/// `analyze --each` analyzes the hosts one at a time and merges their
/// reports: the report of one run over all of them, with no host's
/// events held beside another's.
#[test]
fn analyzing_each_host_apart_gives_the_report_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let paths = fleet_logs(dir.path());
    let whole = analyze_json(&paths, &[]);
    let each = analyze_json(&paths, &["--each"]);
    check_fleet_incident(&each);
    for key in ["fleet", "incidents", "host_versions", "inputs", "errors"] {
        assert_eq!(each[key], whole[key], "{key}");
    }
    for key in ["events", "lines", "bytes", "findings"] {
        assert_eq!(each["stats"][key], whole["stats"][key], "{key}");
    }
    // The text report too, but for the time the runs took.
    let text = |extra: &[&str]| {
        let mut args = vec![
            "analyze", "--year", "2023", "--tz", "+08:00", "--color", "never",
        ];
        args.extend_from_slice(extra);
        args.extend(paths.iter().map(|p| p.to_str().unwrap()));
        let out = podmortem(&args, None);
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.contains(" MB/s") && !l.contains(" ms"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(text(&["--each"]), text(&[]));
}

/// The merged JSON is written from the reports' bytes; the other formats
/// print the report built whole. Both must be the same report: with a
/// report printed compact (read whole, printed anew) and one timed on its
/// input's own clock (its input index shifted), the JSON written equals
/// the built report printed.
#[test]
fn the_merged_json_written_from_the_reports_is_the_built_report_printed() {
    use podmortem::report::{fleet::FleetOptions, json, merge};
    let dir = tempfile::tempdir().unwrap();
    let reports = per_host_reports(&fleet_logs(dir.path()));
    // Composed: a kernel OOM kill with seconds since boot only.
    let dmesg = dir.path().join("dmesg.txt");
    std::fs::write(
        &dmesg,
        "[ 8123.456789] Memory cgroup out of memory: Killed process 4242 (java) \
         total-vm:4000000kB, anon-rss:2000000kB, file-rss:0kB, shmem-rss:0kB, UID:0 \
         pgtables:5000kB oom_score_adj:999\n",
    )
    .unwrap();
    let untimed = dir.path().join("dmesg.json");
    let report = json_report(&[dmesg.to_str().unwrap()], None);
    assert!(report["incidents"][0]["first_relative"].is_object());
    std::fs::write(&untimed, serde_json::to_vec_pretty(&report).unwrap()).unwrap();
    let compact = dir.path().join("compact.json");
    let report: Value = serde_json::from_slice(&std::fs::read(&reports[1]).unwrap()).unwrap();
    std::fs::write(&compact, serde_json::to_vec(&report).unwrap()).unwrap();
    let paths = [reports[0].clone(), untimed, compact, reports[2].clone()];
    let merged = || {
        let mut m = merge::Merge::default();
        for p in &paths {
            m.add(p.clone(), merge::skim::read(p).unwrap()).unwrap();
        }
        m.finish(FleetOptions::default())
    };
    let mut written = Vec::new();
    merged().write_json(&mut written).unwrap();
    let mut printed = Vec::new();
    json::print(&merged().into_report().unwrap(), &mut printed).unwrap();
    assert_eq!(
        String::from_utf8(written.clone()).unwrap(),
        String::from_utf8(printed).unwrap()
    );
    // The untimed incident's times point at its input in the merged inputs.
    let written: Value = serde_json::from_slice(&written).unwrap();
    let oom = written["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["first_relative"].is_object())
        .unwrap();
    let input = oom["first_relative"]["input"].as_u64().unwrap() as usize;
    assert_eq!(input, 1, "after the first report's one input");
    assert_eq!(
        written["inputs"][input]["path"],
        dmesg.to_str().unwrap(),
        "{oom:#}"
    );
}
