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
