//! Folding the routine tail (src/report/fold.rs): many low incidents of one
//! kind on one host become one that lists every subject; a worse incident
//! stays whole. Lines are composed in dockerd's pre-20.10.10 wording, in a
//! RHEL syslog envelope, one forced stop per container (each one low on its
//! own: a container that ignored SIGTERM).

mod common;

use common::{podmortem, report_on_cst_log, temp_log};

/// A 64-hex container ID, distinct per `n`.
fn id(n: usize) -> String {
    format!(
        "{n:04x}{}",
        "a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa2342236"
    )
}

fn forced_stop(n: usize, minute: usize) -> String {
    format!(
        "May  1 11:{minute:02}:00 ecs-prod-003 dockerd: time=\"2023-05-01T11:{minute:02}:00.148458112+08:00\" level=info msg=\"Container {} failed to exit within 10 seconds of signal 15 - using the force\"",
        id(n)
    )
}

/// One forced stop on each of `containers` containers, a minute apart,
/// and three within a minute on one more (a loop: high).
fn log(containers: usize) -> String {
    let mut lines: Vec<String> = (0..containers).map(|n| forced_stop(n, n % 60)).collect();
    for _ in 0..3 {
        lines.push(forced_stop(9999, 59));
    }
    lines.join("\n") + "\n"
}

/// The report on `log` in `format`, read as the field report's node was.
fn report_in(format: &str, log: &str) -> String {
    let file = temp_log(log.as_bytes());
    let out = podmortem(
        &[
            "analyze",
            "--year",
            "2023",
            "--tz",
            "+08:00",
            "--format",
            format,
            file.path().to_str().unwrap(),
        ],
        None,
    );
    String::from_utf8(out.stdout).unwrap()
}

fn incidents(report: &serde_json::Value) -> &Vec<serde_json::Value> {
    report["incidents"].as_array().unwrap()
}

#[test]
fn ten_low_incidents_of_a_kind_stay_apart() {
    let report = report_on_cst_log(&log(10));
    let low: Vec<_> = incidents(&report)
        .iter()
        .filter(|i| i["severity"] == "low")
        .collect();
    assert_eq!(low.len(), 10);
    assert!(low.iter().all(|i| i.get("folded").is_none()));
}

#[test]
fn past_ten_they_are_one_incident_naming_every_container() {
    let report = report_on_cst_log(&log(30));
    let all = incidents(&report);
    assert_eq!(all.len(), 2, "{all:#?}");
    let high = all.iter().find(|i| i["severity"] == "high").unwrap();
    assert!(high.get("folded").is_none());
    assert_eq!(high["containers"][0].as_str().unwrap(), id(9999));

    let folded = all.iter().find(|i| i["severity"] == "low").unwrap();
    assert_eq!(folded["folded"]["incidents"], 30);
    assert_eq!(folded["folded"]["count"], 30);
    assert_eq!(folded["folded"]["lines"], 30);
    let containers: Vec<&str> = folded["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(containers.len(), 30);
    assert!(!containers.contains(&id(9999).as_str()));
    // The span is all of theirs: the first stop at 11:00, the last at 11:29.
    assert!(folded["first_seen"].as_str().unwrap().contains("11:00:00"));
    assert!(folded["last_seen"].as_str().unwrap().contains("11:29:00"));
    assert!(folded["title"]
        .as_str()
        .unwrap()
        .ends_with("and 29 more like it on this node"));
}

#[test]
fn the_text_report_counts_what_a_fold_stands_for() {
    let text = report_in("text", &log(30));
    let low = text
        .lines()
        .find(|l| l.contains("and 29 more like it on this node"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(low.contains("  30×  dockerd had to force-kill"), "{low}");
}

#[test]
fn html_and_markdown_say_what_a_fold_stands_for() {
    let html = report_in("html", &log(60));
    assert!(
        html.contains("stands for 60 low incidents alike on this host (60 times, 60 lines in all)")
    );
    assert!(html.contains("folded ×60</span>"), "{html}");
    let markdown = report_in("markdown", &log(60));
    assert!(
        markdown.contains("folded: 60 incidents, 60 times in all"),
        "{markdown}"
    );
}

/// kubelet's CrashLoopBackOff sync error (pod_workers.go, 1.27's wording)
/// for pod `n` of a bad rollout, at minute `minute`.
fn crash_loop(n: usize, minute: usize) -> String {
    format!(
        "May  1 13:{minute:02}:54 ecs-prod-003 kubelet: E0501 13:{minute:02}:54.526428    3573 pod_workers.go:965] \"Error syncing pod, skipping\" err=\"failed to \\\"StartContainer\\\" for \\\"consumer\\\" with CrashLoopBackOff: \\\"back-off 2m40s restarting failed container=consumer pod=order-consumer-{n:05}_orders(cdd07628-6fa3-47cd-bad4-{n:012})\\\"\" pod=\"orders/order-consumer-{n:05}\" podUID=cdd07628-6fa3-47cd-bad4-{n:012}"
    )
}

#[test]
fn a_markdown_row_names_ten_pods_of_a_fold() {
    let lines: Vec<String> = (0..15)
        .flat_map(|n| [crash_loop(n, 0), crash_loop(n, 5), crash_loop(n, 10)])
        .collect();
    let markdown = report_in("markdown", &(lines.join("\n") + "\n"));
    let row = markdown
        .lines()
        .find(|l| l.contains("more like it on this node"))
        .unwrap_or_else(|| panic!("{markdown}"));
    assert!(
        row.contains("`orders/order-consumer-00009`, … and 5 more"),
        "{row}"
    );
    assert!(!row.contains("order-consumer-00010"), "{row}");
    assert!(
        row.contains("folded: 15 incidents, 45 times in all"),
        "{row}"
    );
}
