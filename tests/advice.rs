//! Advice people act on during an outage: a remediation step that can stop
//! workloads or delete data is marked in the grammar, refused when it is
//! not, and printed with its warning and its condition in every format.

mod common;

use common::{podmortem, temp_log};

/// A user grammar (lines composed for the test, from a site's own agent):
/// one pattern, one detector whose second step is
/// destructive and names the check that makes it safe; `second_step` is
/// the TOML of that step.
fn grammar(second_step: &str) -> String {
    format!(
        r#"
source = "site-agent"

[[pattern]]
id = "site.orphaned"
literal = "leftover pod directory"
regex = 'leftover pod directory (?P<pod_uid>[0-9a-f-]{{36}})'
[[pattern.sample]]
line = 'May  1 11:00:00 node-1 site-agent: leftover pod directory d6097c23-9b88-4708-93e0-226bb313e7f3'
fields = {{ pod_uid = "d6097c23-9b88-4708-93e0-226bb313e7f3" }}
[[pattern.reject]]
line = 'May  1 11:00:00 node-1 site-agent: pod directory removed'

[[detector]]
kind = "site_orphans"
title = "A pod directory is left behind"
patterns = ["site.orphaned"]
per = "pod_uid"
window = "10m"
levels = [{{ min_count = 1, severity = "high" }}]
explanation = "The pod's directory still holds volumes."
sources = [{{ cite = "https://github.com/kubernetes/kubernetes/issues/60987", shows = "orphaned pod directories" }}]
remediation = [
  "Check that nothing is mounted: `findmnt | grep <pod_uid>` must print nothing.",
  {second_step},
]
"#
    )
}

const MARKED: &str = r#"{ step = "Remove the directory: `rm -r --one-file-system /var/lib/kubelet/pods/<pod_uid>`.", destructive = true, after = "`findmnt | grep <pod_uid>` prints nothing" }"#;

const LINE: &[u8] =
    b"May  1 11:00:00 node-1 site-agent: leftover pod directory d6097c23-9b88-4708-93e0-226bb313e7f3\n";

#[test]
fn grammars_check_refuses_an_unmarked_rm_rf_and_says_how_to_mark_it() {
    let dir = tempfile::tempdir().unwrap();
    let unmarked = r#""Remove the directory: `rm -rf /var/lib/kubelet/pods/<pod_uid>`.""#;
    std::fs::write(dir.path().join("orphans.toml"), grammar(unmarked)).unwrap();
    let dir = dir.path().to_str().unwrap();
    for args in [
        &["grammars", "check", dir][..],
        &[
            "analyze",
            "--grammars",
            dir,
            "samples/dockerd-stop-loop/messages",
        ][..],
    ] {
        let out = podmortem(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("orphans.toml:")
                && stderr.contains("detector 'site_orphans': remediation step 2 holds rm -r (`rm -rf`), which can stop workloads or delete data, but is not marked")
                && stderr.contains("destructive = true, after ="),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_marked_step_prints_its_warning_and_condition_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("orphans.toml"), grammar(MARKED)).unwrap();
    let log = temp_log(LINE);
    let (dir, log) = (dir.path().to_str().unwrap(), log.path().to_str().unwrap());
    let run = |format: &str| {
        let out = podmortem(
            &["analyze", "--format", format, "--grammars", dir, log],
            None,
        );
        // JUnit fails the run on a high incident; the report is written.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };

    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let incident = &json["incidents"][0];
    assert_eq!(incident["kind"], "site_orphans");
    assert_eq!(
        incident["remediation_advice"],
        serde_json::json!([
            { "step": "Check that nothing is mounted: `findmnt | grep <pod_uid>` must print nothing.", "destructive": false },
            { "step": "Remove the directory: `rm -r --one-file-system /var/lib/kubelet/pods/<pod_uid>`.", "destructive": true, "after": "`findmnt | grep <pod_uid>` prints nothing" },
        ])
    );
    let warned = "⚠ DESTRUCTIVE (can stop workloads or delete data), only once `findmnt | grep <pod_uid>` prints nothing: Remove the directory";
    assert!(incident["remediation_steps"][1]
        .as_str()
        .unwrap()
        .starts_with(warned));
    assert!(!incident["remediation_steps"][0]
        .as_str()
        .unwrap()
        .contains("DESTRUCTIVE"));

    let text = run("text");
    let step = text
        .lines()
        .find(|l| l.trim_start().starts_with("2. "))
        .expect("the second step");
    assert!(
        step.contains("2. ⚠ DESTRUCTIVE (can stop workloads or delete data)"),
        "{text}"
    );
    assert!(
        text.contains("prints nothing: Remove the directory"),
        "{text}"
    );

    // The other formats carry the same line (escaped as each needs).
    for format in ["markdown", "html", "junit", "sarif"] {
        let out = run(format);
        assert!(
            out.contains("⚠ DESTRUCTIVE (can stop workloads or delete data)"),
            "{format}:\n{out}"
        );
    }
}

/// containerd PR 11043 (the runc shim's delete of a bundle that lost its
/// `runtime` file) is first in containerd 2.1.0: a node whose logs state an
/// older containerd is told it has the bug. The failure line is report
/// 002's (tests/chains.rs); the start line is composed in the form of the
/// real `starting containerd` samples of grammars/containerd.toml (the
/// revision is v1.7.2's commit).
#[test]
fn a_containerd_without_pr_11043_is_told_it_has_the_bug() {
    let c = "83bf797db1414d96259aa29a7325f107360383ff418ffbd3c356b14ef09f6aa2";
    let log = format!(
        "May  1 11:00:00 worker-7 containerd: time=\"2023-05-01T11:00:00.000000000+08:00\" level=info msg=\"starting containerd\" revision=0cae528dd6cb557f7201036e9f43420650207b58 version=v1.7.2\n\
         May  1 12:00:01 worker-7 containerd: time=\"2023-05-01T12:00:01.482193004+08:00\" level=warning msg=\"failed to clean up after shim disconnected\" error=\"io.containerd.runc.v2: open /run/containerd/io.containerd.runtime.v2.task/k8s.io/{c}/runtime: no such file or directory: exit status 1\" id={c} namespace=k8s.io\n"
    );
    let report = common::report_on_cst_log(&log);
    let incident = &report["incidents"][0];
    assert_eq!(incident["kind"], "containerd_shim_cleanup", "{incident:#}");
    assert_eq!(
        incident["versions"],
        serde_json::json!([{"component": "containerd", "version": "v1.7.2", "host": "worker-7", "fixed_in": "2.1.0", "has_fix": false}])
    );
    assert!(incident["remediation_steps"][0]
        .as_str()
        .unwrap()
        .starts_with("The logs show containerd v1.7.2 on worker-7, older than 2.1.0: this node has the bug that containerd PR 11043"));
}
