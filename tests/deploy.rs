//! The Kubernetes manifests of `deploy/`: valid against the Kubernetes API's
//! schemas, and their scripts really run podmortem as they say.
//!
//! - Every manifest is validated by `kubernetes-validate --strict` (PyPI; it
//!   carries the API's JSON schemas, so nothing is fetched), installed by
//!   `.ci/install-manifest-validator`. Without it the test says `SKIPPED: …`
//!   and passes, unless `PODMORTEM_REQUIRE_MANIFEST_VALIDATOR=1` (as in CI).
//! - Every podmortem command line in them names a real subcommand and real
//!   flags (checked against the binary's own `--help`).
//! - Their shell scripts run here, on real files: the DaemonSet's loop on a
//!   directory of logs (its `sleep` made to stop the loop after one round),
//!   the Indexed Job's pod 0 on a directory of bundles, then the merge Job
//!   on what they wrote.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::podmortem;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn manifests() -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(deploy_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    all.sort();
    all
}

fn read(name: &str) -> String {
    std::fs::read_to_string(deploy_dir().join(name)).unwrap()
}

/// The shell scripts of a manifest: each block scalar (`- |`) of a
/// container's `args`, dedented.
fn scripts(manifest: &str) -> Vec<String> {
    let lines: Vec<&str> = manifest.lines().collect();
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if line.trim() != "- |" {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body: Vec<&str> = lines[n + 1..]
            .iter()
            .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
            .copied()
            .collect();
        let strip = body
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        let text: Vec<&str> = body.iter().map(|l| l.get(strip..).unwrap_or("")).collect();
        out.push(text.join("\n") + "\n");
    }
    out
}

#[test]
fn manifests_are_valid_kubernetes_resources() {
    let found = Command::new("kubernetes-validate")
        .arg("--version")
        .output();
    if found.is_err() {
        if std::env::var("PODMORTEM_REQUIRE_MANIFEST_VALIDATOR").as_deref() == Ok("1") {
            panic!("kubernetes-validate missing, and PODMORTEM_REQUIRE_MANIFEST_VALIDATOR=1; run .ci/install-manifest-validator");
        }
        eprintln!("SKIPPED: kubernetes-validate missing; run .ci/install-manifest-validator");
        return;
    }
    let all = manifests();
    assert!(all.len() >= 4, "{all:?}");
    for path in &all {
        let out = Command::new("kubernetes-validate")
            .args(["--strict", "--no-warn"])
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}:\n{}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // And the validator is no rubber stamp: a DaemonSet without a selector
    // and with a misspelt field fails.
    let broken = read("daemonset.yaml")
        .replace("  selector:\n", "  selectr:\n")
        .replace("readOnly: true", "readonly: true");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, broken).unwrap();
    let out = Command::new("kubernetes-validate")
        .args(["--strict", "--no-warn"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn every_podmortem_command_in_the_manifests_is_a_real_one() {
    let mut checked = 0;
    for path in manifests() {
        let text = std::fs::read_to_string(&path).unwrap();
        for script in scripts(&text) {
            for line in script.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                let Some(at) = words.iter().position(|w| *w == "podmortem") else {
                    continue;
                };
                let sub = words[at + 1];
                let help = podmortem(&[sub, "--help"], None);
                assert_eq!(
                    help.status.code(),
                    Some(0),
                    "{}: `podmortem {sub}` is no subcommand",
                    path.display()
                );
                let help = String::from_utf8(help.stdout).unwrap();
                for flag in words[at + 2..].iter().filter(|w| w.starts_with("--")) {
                    assert!(
                        help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                        "{}: `podmortem {sub}` has no {flag}",
                        path.display()
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "{checked} podmortem commands found");
}

/// A directory on PATH holding a `sleep` that fails: under `set -e` the
/// DaemonSet's loop then stops after its first round.
fn sleep_that_stops(dir: &Path) -> String {
    let sleep = dir.join("sleep");
    std::fs::write(&sleep, "#!/bin/sh\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sleep, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_podmortem")).parent().unwrap();
    format!(
        "{}:{}:{}",
        dir.display(),
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs a manifest's script with its mount paths moved under `root`.
fn run_script(
    script: &str,
    root: &Path,
    path_var: &str,
    env: &[(&str, &str)],
) -> std::process::Output {
    let script = script
        .replace(
            "/host/var/log",
            &root.join("host/var/log").display().to_string(),
        )
        .replace("/reports", &root.join("reports").display().to_string());
    Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .env("PATH", path_var)
        .env("TZ", "UTC")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Composed from the seed report's real dockerd lines
/// (samples/dockerd-stop-loop/messages), the host renamed.
fn stop_loop_log(host: &str) -> String {
    [6, 18, 31]
        .iter()
        .map(|s| {
            format!(
                "May  2 00:10:{s:02} {host} dockerd: time=\"2023-05-02T00:10:{s:02}.621505552+08:00\" \
                 level=info msg=\"Container a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9 \
                 failed to exit within 10 seconds of signal 15 - using the force\"\n"
            )
        })
        .collect()
}

#[test]
fn the_manifests_scripts_analyze_per_node_and_per_bundle_then_merge() {
    let root = tempfile::tempdir().unwrap();
    let reports = root.path().join("reports");
    std::fs::create_dir_all(reports.join("bundles")).unwrap();
    let varlog = root.path().join("host/var/log");
    std::fs::create_dir_all(&varlog).unwrap();
    std::fs::write(varlog.join("messages"), stop_loop_log("node-a")).unwrap();
    std::fs::write(reports.join("bundles/node-b.log"), stop_loop_log("node-b")).unwrap();
    let path_var = sleep_that_stops(root.path());

    // The DaemonSet on node-a, one round. Its `--since 24h` counts back
    // from the newest line, so old logs still make a report.
    let daemonset = scripts(&read("daemonset.yaml"));
    assert_eq!(daemonset.len(), 1);
    let out = run_script(
        &daemonset[0],
        root.path(),
        &path_var,
        &[("NODE_NAME", "node-a")],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "stopped by the fake sleep: {out:?}"
    );
    let node: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("node-a.json")).unwrap()).unwrap();
    assert_eq!(node["incidents"][0]["hosts"][0], "node-a");

    // The Indexed Job's pod 0.
    let job = scripts(&read("bundles-job.yaml"));
    let out = run_script(
        &job[0],
        root.path(),
        &path_var,
        &[("JOB_COMPLETION_INDEX", "0")],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(reports.join("bundle-0.json").is_file());

    // The merge: one fleet incident over both.
    let merge = scripts(&read("merge-job.yaml"));
    let out = run_script(&merge[0], root.path(), &path_var, &[]);
    assert!(out.status.success(), "{out:?}");
    let fleet: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("fleet.json")).unwrap()).unwrap();
    assert_eq!(fleet["fleet"][0]["kind"], "dockerd_stop_loop");
    assert_eq!(fleet["fleet"][0]["fleet_size"], 2);
    let html = std::fs::read_to_string(reports.join("fleet.html")).unwrap();
    assert!(html.contains("dockerd_stop_loop on 2 of 2 hosts"));
}
