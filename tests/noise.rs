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

/// containerd's routine end of a pod's sandbox: the stop asked for, then
/// the cleanup after its shim exits: `shim disconnected`, `cleaning up
/// after shim disconnected`, `cleaning up dead shim`.
fn cleanup_round(hms: &str, id: &str) -> String {
    [
        format!("May  1 {hms} worker-7 containerd: time=\"2023-05-01T{hms}.401238120+08:00\" level=info msg=\"StopPodSandbox for \\\"{id}\\\"\""),
        format!("May  1 {hms} worker-7 containerd: time=\"2023-05-01T{hms}.606751136+08:00\" level=info msg=\"shim disconnected\" id={id} namespace=k8s.io"),
        format!("May  1 {hms} worker-7 containerd: time=\"2023-05-01T{hms}.606804172+08:00\" level=warning msg=\"cleaning up after shim disconnected\" id={id} namespace=k8s.io"),
        format!("May  1 {hms} worker-7 containerd: time=\"2023-05-01T{hms}.606833001+08:00\" level=info msg=\"cleaning up dead shim\" namespace=k8s.io"),
    ]
    .join("\n")
}

#[test]
fn routine_shim_cleanups_are_not_even_events() {
    // A busy node logs this for every pod that ends (the generated day
    // holds ~100k): holding them would cost an event each. The stop before
    // each disconnect makes it a state transition (issue 9 section 4).
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

/// Among routine ends, one shim that disconnects with no stop, exit or
/// delete before it, minutes into the log, is one incident on its
/// container, and the only event held.
#[test]
fn a_shim_that_dies_among_routine_ends_is_one_incident() {
    let ids: Vec<String> = (0..50)
        .map(|n| format!("{n:02x}{}", "ab".repeat(31)))
        .collect();
    let mut lines: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| cleanup_round(&format!("12:{:02}:{:02}", n / 10, (n % 10) * 6), id))
        .collect();
    let dead = format!("ee{}", "cd".repeat(31));
    // Composed from containerd#6402's disconnect, at 12:03:31.
    lines.insert(
        36,
        format!("May  1 12:03:31 worker-7 containerd: time=\"2023-05-01T12:03:31.309515034+08:00\" level=info msg=\"shim disconnected\" id={dead} namespace=k8s.io"),
    );
    let report = common::report_on_cst_log(&(lines.join("\n") + "\n"));
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{report:#}");
    assert_eq!(incidents[0]["kind"], "containerd_shim_died");
    assert_eq!(incidents[0]["severity"], "medium");
    assert_eq!(incidents[0]["containers"], serde_json::json!([dead]));
    assert_eq!(report["stats"]["events"], 1);
}

/// dockerd's log and containerd's in two files, as a bundle keeps them: a
/// disconnect whose task delete is in the other file is routine; a
/// disconnect with none is a dead shim; containerd's file read alone shows
/// no task delete at all, so it cannot tell and says nothing.
#[test]
fn a_task_delete_in_another_file_makes_the_disconnect_routine() {
    let ids: Vec<String> = (0..20)
        .map(|n| format!("{n:02x}{}", "9f".repeat(31)))
        .collect();
    // Composed from containerd#8921's routine exit (Docker 24.0.5), one
    // container every 15 s from 07:20:00; the first containerd line opens
    // its file three minutes earlier.
    let at = |n: usize| format!("07:{:02}:{:02}", 20 + n * 15 / 60, n * 15 % 60);
    // The first container's task delete is not there: its shim died.
    let docker: Vec<String> = ids.iter().enumerate().skip(1).map(|(n, id)| format!(
        "Aug  5 {t} DOCKER-RYZEN dockerd[2697]: time=\"2023-08-05T{t}.304639979+02:00\" level=info msg=\"ignoring event\" container={id} module=libcontainerd namespace=moby topic=/tasks/delete type=\"*events.TaskDelete\"",
        t = at(n)
    )).collect();
    let mut containerd = vec![
        "Aug  5 07:17:00 DOCKER-RYZEN containerd[1709]: time=\"2023-08-05T07:17:00.101235871+02:00\" level=info msg=\"containerd successfully booted in 0.052411s\"".to_string(),
    ];
    containerd.extend(ids.iter().enumerate().map(|(n, id)| format!(
        "Aug  5 {t} DOCKER-RYZEN containerd[1709]: time=\"2023-08-05T{t}.304609945+02:00\" level=info msg=\"shim disconnected\" id={id}",
        t = at(n)
    )));
    let docker = common::temp_log((docker.join("\n") + "\n").as_bytes());
    let containerd = common::temp_log((containerd.join("\n") + "\n").as_bytes());
    let died = |report: &serde_json::Value| {
        report["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "containerd_shim_died")
            .count()
    };
    let (docker, containerd) = (
        docker.path().to_str().unwrap(),
        containerd.path().to_str().unwrap(),
    );
    let both = common::json_report(&["--year", "2023", docker, containerd], None);
    assert_eq!(died(&both), 1, "{both:#}");
    let first = &both["incidents"].as_array().unwrap()[0];
    assert_eq!(first["containers"], serde_json::json!([ids[0]]));
    let alone = common::json_report(&["--year", "2023", containerd], None);
    assert_eq!(died(&alone), 0, "{alone:#}");
}
