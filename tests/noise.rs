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
fn routine_shim_cleanups_are_not_even_events() {
    // A busy node logs this triple for every container that exits (the
    // generated day holds ~100k): counting them would cost an event each.
    let ids: Vec<String> = (0..50)
        .map(|n| format!("{n:02x}{}", "ab".repeat(31)))
        .collect();
    let rounds: Vec<String> = ids
        .iter()
        .chain(std::iter::repeat_n(&ids[7], 3))
        .enumerate()
        .map(|(n, id)| cleanup_round(&format!("12:{:02}:{:02}", n / 60, n % 60), id))
        .collect();
    let report = common::report_on_cst_log(&(rounds.join("\n") + "\n"));
    assert_eq!(
        report["incidents"].as_array().unwrap().len(),
        0,
        "{report:#}"
    );
    assert_eq!(report["stats"]["events"], 0);
}
