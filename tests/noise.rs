//! A benign stretch of node logs (the corpus generator with no planted
//! incident: kubelet, dockerd, containerd, kernel, CNI and systemd chatter,
//! pod churn, and routine lines that look alarming) must not produce any
//! incident above low.

mod common;

#[path = "../examples/gen_corpus/corpus.rs"]
mod corpus;

#[test]
fn a_benign_day_of_node_noise_raises_nothing_above_low() {
    let mut config = corpus::Config::new(16 << 20);
    config.incidents = 0;
    config.hours = Some(24.0);
    let mut bytes = Vec::new();
    corpus::generate(&config, &mut bytes).unwrap();
    let log = common::temp_log(&bytes);
    let report = common::json_report(&[log.path().to_str().unwrap()], None);
    assert_eq!(report["inputs"][0]["unparsed"], 0);
    let above_low: Vec<String> = report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["severity"] != "low")
        .map(|i| format!("{} {}", i["severity"], i["title"]))
        .collect();
    assert!(above_low.is_empty(), "{above_low:#?}");
    // The decoys are there, graded low: a single forced kill per container.
    assert!(report["stats"]["events"].as_u64().unwrap() > 0);
}

/// containerd's routine cleanup after a shim exits: `shim disconnected`,
/// `cleaning up after shim disconnected`, `cleaning up dead shim`.
fn cleanup_round(hms: &str, id: &str) -> String {
    [
        format!("May  1 {hms} worker-7 containerd: time=\"2023-05-01T{hms}.606751136+08:00\" level=info msg=\"shim disconnected\" id={id} namespace=k8s.io"),
        format!("May  1 {hms} worker-7 containerd: time=\"2023-05-01T{hms}.606804172+08:00\" level=warning msg=\"cleaning up after shim disconnected\" id={id} namespace=k8s.io"),
        format!("May  1 {hms} worker-7 containerd: time=\"2023-05-01T{hms}.606833001+08:00\" level=info msg=\"cleaning up dead shim\" namespace=k8s.io"),
    ]
    .join("\n")
}

#[test]
fn a_shims_cleanup_is_routine_once_and_high_when_it_comes_back() {
    let ids: Vec<String> = (0..50)
        .map(|n| format!("{n:02x}{}", "ab".repeat(31)))
        .collect();
    // Fifty containers exit normally, each cleaned up once.
    let routine: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| cleanup_round(&format!("12:{:02}:{:02}", n / 60, n % 60), id))
        .collect();
    let report = common::report_on_cst_log(&(routine.join("\n") + "\n"));
    assert_eq!(
        report["incidents"].as_array().unwrap().len(),
        0,
        "{report:#}"
    );
    assert_eq!(report["stats"]["events"], 50);

    // One container's shim is cleaned up again and again: it never finishes.
    let again: Vec<String> = ["12:00:00", "12:05:00"]
        .iter()
        .map(|hms| cleanup_round(hms, &ids[7]))
        .collect();
    let report = common::report_on_cst_log(&(again.join("\n") + "\n"));
    let incident = &report["incidents"][0];
    assert_eq!(incident["kind"], "containerd_shim_cleanup");
    assert_eq!(incident["severity"], "high");
    assert_eq!(incident["containers"], serde_json::json!([ids[7]]));
    assert_eq!(incident["findings"][0]["count"], 2);
}
