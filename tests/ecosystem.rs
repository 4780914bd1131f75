//! Fitting the ecosystem (issue 11 §6): the kubectl plugin, `podmortem node`
//! against an API server, man pages per subcommand, `inputs --help`, and
//! `grammars check` on the built-in directory.
//!
//! The node test runs a real kubectl (`PODMORTEM_KUBECTL`, else `kubectl` on
//! PATH; CI installs Debian's `kubernetes-client`, see .ci/install-tools)
//! against a local HTTP server on 127.0.0.1 that answers the node proxy's
//! log endpoints as a kubelet does. Without kubectl it prints `SKIPPED` and
//! passes, unless `PODMORTEM_REQUIRE_KUBECTL=1` (CI), which makes it fail.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use chrono::{FixedOffset, NaiveDateTime, TimeZone};
use common::{podmortem, CONTAINER, SANDBOX, SEED};

const BIN: &str = env!("CARGO_BIN_EXE_podmortem");

/// kubectl, if there is one.
fn kubectl() -> Option<PathBuf> {
    if let Some(k) = std::env::var_os("PODMORTEM_KUBECTL") {
        return Some(PathBuf::from(k));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|k| k.is_file())
}

/// kubectl, or `None` after saying SKIPPED (a failure when CI requires it).
fn require_kubectl() -> Option<PathBuf> {
    match kubectl() {
        Some(k) => Some(k),
        None if std::env::var("PODMORTEM_REQUIRE_KUBECTL").as_deref() == Ok("1") => {
            panic!("PODMORTEM_REQUIRE_KUBECTL=1 but no kubectl found: run .ci/install-tools")
        }
        None => {
            eprintln!("SKIPPED: no kubectl found (install Debian's kubernetes-client, see .ci/install-tools)");
            None
        }
    }
}

/// The seed's lines of one program as the node log query returns them:
/// `journalctl --utc -o short-precise` (composed from the seed's real
/// lines: the journal header, with a pid, in UTC).
fn journal_of(program: &str, pid: u32) -> String {
    let cst = FixedOffset::east_opt(8 * 3600).unwrap();
    std::fs::read_to_string(SEED)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let (host, rest) = line[16..].split_once(' ')?;
            let message = rest.strip_prefix(&format!("{program}: "))?;
            let at = NaiveDateTime::parse_from_str(
                &format!("2023 {}", &line[..15]),
                "%Y %b %e %H:%M:%S",
            )
            .ok()?;
            let utc = cst.from_local_datetime(&at).unwrap().to_utc();
            Some(format!(
                "{} {host} {program}[{pid}]: {message}\n",
                utc.format("%b %d %H:%M:%S%.6f")
            ))
        })
        .collect()
}

/// Serves the node proxy's log endpoints for node `ecs-prod-003` on
/// 127.0.0.1, recording each request's path.
fn serve() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let base = "/api/v1/nodes/ecs-prod-003/proxy/logs/";
    let kubelet = journal_of("kubelet", 4568);
    let docker = journal_of("dockerd", 1201);
    let messages = std::fs::read_to_string(SEED).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let path = request.split(' ').nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push(path.clone());
            let body = match path.strip_prefix(base) {
                Some("?query=kubelet") => Some(kubelet.as_str()),
                Some("?query=docker") => Some(docker.as_str()),
                Some("messages") => Some(messages.as_str()),
                _ => None,
            };
            let response = match body {
                Some(text) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                ),
                None => {
                    let status = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}"#;
                    format!(
                        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{status}",
                        status.len()
                    )
                }
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (port, seen)
}

fn kubeconfig(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: local\n  context:\n    cluster: local\n    user: sre\ncurrent-context: local\nusers:\n- name: sre\n  user:\n    token: not-sent-over-http\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn node_fetches_through_kubectl_and_analyzes() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let (port, seen) = serve();
    let dir = tempfile::tempdir().unwrap();
    let config = kubeconfig(dir.path(), port);
    let saved = dir.path().join("saved");
    let out = Command::new(BIN)
        .args(["node", "ecs-prod-003", "--format", "json", "--kubeconfig"])
        .arg(&config)
        .arg("--save")
        .arg(&saved)
        .env("PODMORTEM_KUBECTL", &kubectl)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let top = &report["incidents"][0];
    assert_eq!(top["kind"], "dockerd_stop_loop", "{stderr}");
    assert_eq!(
        top["pods"],
        serde_json::json!(["kube-system/fluentd-hjj42"])
    );
    assert_eq!(top["containers"], serde_json::json!([SANDBOX, CONTAINER]));
    let inputs: Vec<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(inputs.len(), 3, "{inputs:?}");
    assert!(saved.join("kubelet.journal.txt").is_file());
    // Every endpoint was asked, of the server only the kubeconfig names.
    let seen = seen.lock().unwrap();
    for want in [
        "?query=kubelet",
        "?query=containerd",
        "?query=docker",
        "?query=crio",
        "messages",
        "kern.log",
    ] {
        let path = format!("/api/v1/nodes/ecs-prod-003/proxy/logs/{want}");
        assert!(seen.contains(&path), "{path} not asked: {seen:?}");
    }
    assert!(
        stderr.contains("?query=crio"),
        "a missing endpoint is named"
    );
}

#[test]
fn node_without_logs_is_an_error() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let (port, _) = serve();
    let dir = tempfile::tempdir().unwrap();
    let config = kubeconfig(dir.path(), port);
    let out = Command::new(BIN)
        .args(["node", "no-such-node", "--kubeconfig"])
        .arg(&config)
        .env("PODMORTEM_KUBECTL", &kubectl)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no log could be fetched"));
}

#[test]
fn linked_as_kubectl_podmortem_it_is_a_kubectl_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("kubectl-podmortem");
    std::os::unix::fs::symlink(BIN, &plugin).unwrap();
    let help = Command::new(&plugin).arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("Usage: kubectl podmortem"), "{help}");
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let path = std::env::join_paths(std::iter::once(dir.path().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new(kubectl)
        .args(["podmortem", "analyze", "--format", "json", SEED])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["incidents"][0]["kind"], "dockerd_stop_loop");
}

#[test]
fn man_writes_a_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = podmortem(&["man", "--dir", dir.path().to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    for page in [
        "podmortem.1",
        "podmortem-analyze.1",
        "podmortem-inputs.1",
        "podmortem-events.1",
        "podmortem-node.1",
        "podmortem-grammars.1",
        "podmortem-grammars-check.1",
        "podmortem-man.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
    // The top page names only pages that exist.
    let top = std::fs::read_to_string(dir.path().join("podmortem.1")).unwrap();
    for named in top.split("\\fBpodmortem\\-").skip(1) {
        let name = named.split('\\').next().unwrap();
        assert!(
            dir.path().join(format!("podmortem-{name}.1")).is_file(),
            "podmortem-{name}(1) named but not written"
        );
    }
}

#[test]
fn inputs_help_lists_only_its_formats() {
    let out = podmortem(&["inputs", "--help"], None);
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("[possible values: text, json]"), "{help}");
    for other in ["markdown", "junit", "sarif", "html"] {
        assert!(!help.contains(other), "{other} in inputs --help");
    }
}

#[test]
fn grammars_check_reads_the_built_in_directory() {
    let out = podmortem(&["grammars", "check", "grammars/"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
