//! The CI formats end to end: `--format markdown`, `junit` and `sarif` from
//! the real binary. The seed case is compared with snapshots in
//! `tests/snapshots/` (run with `PODMORTEM_BLESS=1` to rewrite them after a
//! deliberate change, and review the diff; the SARIF driver version and
//! JUnit times are masked). The structure each consumer requires is checked
//! by parsing the output back: the JUnit XML with an XML parser against what
//! the Jenkins and Surefire JUnit schemas require, the SARIF against the
//! required properties of SARIF 2.1.0. Log lines are hostile input: a line
//! carrying markup, `]]>`, table pipes, backticks and terminal escapes must
//! not break any of them.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use common::{hostile_dockerd_log, json_report, podmortem, snapshot, temp_log, SEED};
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

/// The payload of a log line written to defeat printers: markup that would
/// close the JUnit test case, the end of a CDATA section, a table pipe, a
/// code fence, ESC and BEL (a terminal recolor and retitle), quotes.
const HOSTILE: &str =
    "</testcase><script>alert(1)</script> ]]> a|b ```rm -rf``` \x1b[31mred\x1b]0;owned\x07 & 'q' \"dq\"";

/// Routine lines that match no detector.
fn quiet_log() -> tempfile::NamedTempFile {
    temp_log(
        b"May  2 00:10:36 node-1 systemd[1]: Started Session 12 of user root.\n\
          May  2 00:10:37 node-1 kubelet: I0502 00:10:37.000000    4568 kubelet.go:2100] \"SyncLoop ADD\" source=\"api\"\n",
    )
}

fn run(args: &[&str]) -> Output {
    let out = podmortem(args, None);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("output is UTF-8")
}

/// Every finding kind of the built-in grammar, from `podmortem grammars list`.
fn kinds() -> BTreeSet<String> {
    let out = run(&["grammars", "list"]);
    let text = stdout(&out);
    let kinds: BTreeSet<String> = text
        .lines()
        .skip(1)
        .filter(|l| !l.contains(" patterns, "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert!(kinds.contains("dockerd_stop_loop"), "{text}");
    kinds
}

// ---------------------------------------------------------------- XML ----

/// An element of a parsed XML document.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).unwrap_or_else(|| {
            panic!(
                "<{}> lacks the attribute {name}: {:?}",
                self.name, self.attrs
            )
        })
    }

    fn count(&self, name: &str) -> usize {
        self.attr(name)
            .parse()
            .unwrap_or_else(|_| panic!("<{}> {name} is not a count", self.name))
    }

    fn children(&self, name: &str) -> impl Iterator<Item = &Element> {
        let name = name.to_string();
        self.children.iter().filter(move |c| c.name == name)
    }

    fn child(&self, name: &str) -> Option<&Element> {
        self.children(name).next()
    }
}

/// Parses a whole document (well-formedness: one root, tags balanced and
/// matching, attributes unique and quoted, only known entities) into its
/// root element.
fn parse_xml(xml: &str) -> Element {
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "XML declaration"
    );
    for c in xml.chars() {
        let allowed = matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}';
        assert!(allowed, "XML 1.0 forbids the character {:?}", c);
    }
    let mut reader = Reader::from_str(xml);
    let mut stack = vec![Element::default()];
    loop {
        let event = reader.read_event().unwrap_or_else(|e| {
            panic!("not well-formed at byte {}: {e}", reader.buffer_position())
        });
        match event {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => stack.last_mut().unwrap().children.push(element(&e)),
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack
                    .last_mut()
                    .expect("an end tag closes an open element")
                    .children
                    .push(done);
            }
            Event::Text(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&t.xml10_content().unwrap()),
            Event::GeneralRef(r) => {
                let text = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().unwrap();
                        resolve_predefined_entity(&name)
                            .unwrap_or_else(|| panic!("unknown entity &{name};"))
                            .to_string()
                    }
                };
                stack.last_mut().unwrap().text.push_str(&text);
            }
            Event::CData(_) => panic!("the printer writes no CDATA"),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "one root element");
    assert!(document.text.trim().is_empty(), "no text outside the root");
    document.children.pop().unwrap()
}

fn element(e: &BytesStart) -> Element {
    let mut attrs = BTreeMap::new();
    for a in e.attributes() {
        let a = a.expect("well-formed, unique attribute");
        let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
        let value = a.normalized_value(XmlVersion::Implicit1_0).unwrap();
        attrs.insert(key, value.into_owned());
    }
    Element {
        name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
        attrs,
        ..Element::default()
    }
}

/// Checks a JUnit report against what the Jenkins and Surefire JUnit
/// schemas require and the counts hold; returns the root.
fn check_junit(xml: &str, kinds: &BTreeSet<String>) -> Element {
    let root = parse_xml(xml);
    assert_eq!(root.name, "testsuites");
    assert_eq!(root.attr("name"), "podmortem");
    let time: f64 = root.attr("time").parse().expect("time is a number");
    assert!(time >= 0.0);
    let (mut tests, mut failures) = (0, 0);
    let mut names = BTreeSet::new();
    assert!(root.children.iter().all(|c| c.name == "testsuite"));
    assert!(root.child("testsuite").is_some(), "at least one suite");
    for suite in root.children("testsuite") {
        let name = suite.attr("name");
        assert!(!name.is_empty());
        assert!(names.insert(name.to_string()), "suite {name} twice");
        let time: f64 = suite.attr("time").parse().expect("time is a number");
        assert!(time >= 0.0);
        assert!(suite.children.iter().all(|c| c.name == "testcase"));
        let cases: Vec<&Element> = suite.children("testcase").collect();
        assert_eq!(suite.count("tests"), cases.len(), "suite {name}: tests");
        let failed = cases
            .iter()
            .filter(|c| c.child("failure").is_some())
            .count();
        assert_eq!(suite.count("failures"), failed, "suite {name}: failures");
        assert_eq!(suite.count("errors"), 0);
        assert_eq!(suite.count("skipped"), 0);
        let case_names: Vec<&str> = cases.iter().map(|c| c.attr("name")).collect();
        let unique: BTreeSet<String> = case_names.iter().map(|s| s.to_string()).collect();
        assert_eq!(unique.len(), case_names.len(), "suite {name}: a kind twice");
        assert_eq!(&unique, kinds, "suite {name}: one test case per detector");
        for case in &cases {
            assert!(case.attr("classname").starts_with("podmortem."));
            let order: Vec<&str> = case.children.iter().map(|c| c.name.as_str()).collect();
            assert!(
                matches!(
                    order.as_slice(),
                    [] | ["failure"] | ["system-out"] | ["failure", "system-out"]
                ),
                "test case {}: children {order:?}",
                case.attr("name")
            );
            if let Some(failure) = case.child("failure") {
                assert!(!failure.attr("message").is_empty());
                assert!(SEVERITIES.contains(&failure.attr("type")));
                assert!(!failure.text.trim().is_empty(), "a failure explains itself");
            }
        }
        tests += cases.len();
        failures += failed;
    }
    assert_eq!(root.count("tests"), tests);
    assert_eq!(root.count("failures"), failures);
    assert_eq!(root.count("errors"), 0);
    assert!(!root.attrs.contains_key("skipped"));
    root
}

fn case<'a>(root: &'a Element, suite: &str, kind: &str) -> &'a Element {
    root.children("testsuite")
        .find(|s| s.attr("name") == suite)
        .unwrap_or_else(|| panic!("no suite {suite}"))
        .children("testcase")
        .find(|c| c.attr("name") == kind)
        .unwrap_or_else(|| panic!("no test case {kind} in {suite}"))
}

// -------------------------------------------------------------- SARIF ----

/// Checks the properties SARIF 2.1.0 requires (and those this tool
/// promises) on a log; returns its results.
fn check_sarif(sarif: &Value, kinds: &BTreeSet<String>) -> Vec<Value> {
    assert_eq!(sarif["$schema"], SARIF_SCHEMA);
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "podmortem");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules
        .iter()
        .map(|r| r["id"].as_str().expect("rule id"))
        .collect();
    let unique: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
    assert_eq!(unique.len(), ids.len(), "rule ids are unique");
    assert_eq!(&unique, kinds, "one rule per detector");
    for r in rules {
        for text in [
            &r["name"],
            &r["shortDescription"]["text"],
            &r["fullDescription"]["text"],
            &r["help"]["text"],
            &r["help"]["markdown"],
        ] {
            assert!(
                text.as_str().is_some_and(|t| !t.is_empty()),
                "rule {}: {text}",
                r["id"]
            );
        }
        if let Some(uri) = r.get("helpUri") {
            assert!(uri.as_str().unwrap().starts_with("http"), "{uri}");
        }
        assert!(r["properties"]["tags"]
            .as_array()
            .is_some_and(|t| !t.is_empty()));
        let level = r["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["note", "warning", "error"].contains(&level));
    }
    let results = runs[0]["results"].as_array().expect("results").clone();
    for r in &results {
        let rule = r["ruleId"].as_str().expect("ruleId");
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(ids.get(index), Some(&rule), "ruleIndex points at its rule");
        let level = r["level"].as_str().expect("level");
        assert!(["none", "note", "warning", "error"].contains(&level));
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let locations = r["locations"].as_array().expect("locations");
        assert!(!locations.is_empty());
        for l in locations {
            let physical = &l["physicalLocation"];
            assert!(physical["artifactLocation"]["uri"]
                .as_str()
                .is_some_and(|u| !u.is_empty() && !u.contains(' ')));
            assert!(physical["region"]["startLine"].as_u64().expect("startLine") >= 1);
        }
        let fingerprints = r["partialFingerprints"].as_object().expect("fingerprints");
        assert!(!fingerprints.is_empty() && fingerprints.values().all(Value::is_string));
        let props = &r["properties"];
        assert!(props["incidentRank"].as_u64().unwrap() >= 1);
        assert!(props["incidentScore"].as_f64().is_some());
        assert!(props["pods"].is_array() && props["containers"].is_array());
    }
    results
}

fn sarif_of(args: &[&str]) -> Value {
    let mut all = vec!["analyze", "--format", "sarif"];
    all.extend_from_slice(args);
    serde_json::from_slice(&run(&all).stdout).expect("SARIF is JSON")
}

// -------------------------------------------------------------- tests ----

#[test]
fn seed_text_matches_its_snapshot() {
    let out = run(&["analyze", "--color", "never", SEED]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    // The run's own duration and rate are the only lines that vary.
    let masked: String = text
        .lines()
        .map(|l| match l.strip_prefix("analyzed ") {
            Some(rest) => format!(
                "analyzed {} in <elapsed>\n",
                rest.split(" in ").next().unwrap()
            ),
            None => format!("{l}\n"),
        })
        .collect();
    assert!(masked.contains("#1 CRITICAL"));
    snapshot("seed.txt", &masked);
}

#[test]
fn seed_markdown_matches_its_snapshot() {
    let out = run(&["analyze", "--format", "markdown", SEED]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "markdown gates nothing by default"
    );
    let md = stdout(&out);
    snapshot("seed.md", &md);

    let report = json_report(&[SEED], None);
    let incidents = report["incidents"].as_array().unwrap();
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #") && !l.starts_with("| ---"))
        .collect();
    assert_eq!(rows.len(), incidents.len(), "one table row per incident");
    for row in &rows {
        assert_eq!(unescaped_pipes(row), 8, "seven cells: {row}");
    }
    assert!(md.starts_with("## podmortem: 2 incidents (1 critical, 0 high, 0 medium, 1 low)"));
    let title = incidents[0]["title"].as_str().unwrap();
    assert!(md.contains(&format!("### #1 critical: {title}")));
    assert!(
        !md.contains("### #2"),
        "low incidents get a row, not a section"
    );
    assert!(md.contains("samples/dockerd-stop-loop/messages:6  May  1 10:48:02"));
}

#[test]
fn seed_junit_matches_its_snapshot() {
    let out = run(&["analyze", "--format", "junit", SEED]);
    let xml = stdout(&out);
    let times = regex::Regex::new(r#" time="[0-9]+\.[0-9]+""#).unwrap();
    snapshot("seed.xml", &times.replace_all(&xml, " time=\"…\""));
}

#[test]
fn seed_sarif_matches_its_snapshot() {
    let mut sarif = sarif_of(&[SEED]);
    sarif["runs"][0]["tool"]["driver"]["version"] = Value::from("VERSION");
    snapshot(
        "seed.sarif.json",
        &(serde_json::to_string_pretty(&sarif).unwrap() + "\n"),
    );
}

#[test]
fn junit_has_a_test_per_detector_and_fails_the_lead_kind() {
    let kinds = kinds();
    let out = run(&["analyze", "--format", "junit", SEED]);
    let root = check_junit(&stdout(&out), &kinds);
    let suites: Vec<&str> = root.children("testsuite").map(|s| s.attr("name")).collect();
    assert_eq!(suites, ["ecs-prod-003"], "one suite per host");
    assert_eq!(root.count("tests"), kinds.len());
    assert_eq!(root.count("failures"), 1);

    let lead = case(&root, "ecs-prod-003", "dockerd_stop_loop");
    assert_eq!(lead.attr("classname"), "podmortem.dockerd");
    let failure = lead.child("failure").expect("the critical incident fails");
    assert_eq!(failure.attr("type"), "critical");
    let report = json_report(&[SEED], None);
    let title = report["incidents"][0]["title"].as_str().unwrap();
    assert_eq!(failure.attr("message"), format!("#1 critical: {title}"));
    for needle in [
        "why:",
        "moby PR 42956",
        "what to do:",
        "1. The logs show docker 19.03.15",
        "2. Find the stuck process",
        "evidence:",
        "samples/dockerd-stop-loop/messages:6  May  1 10:48:02",
        "samples/dockerd-stop-loop/messages:101",
    ] {
        assert!(failure.text.contains(needle), "failure lacks {needle}");
    }
    // Incident #2, low, is below the default threshold: passed, but told.
    let out = &lead
        .child("system-out")
        .expect("low incident in system-out")
        .text;
    assert!(out.contains("#2 low"), "{out}");
    // The finding that joined #1 points there; its own test passes.
    let deadline = case(&root, "ecs-prod-003", "kubelet_stop_deadline");
    assert_eq!(deadline.attr("classname"), "podmortem.kubelet");
    assert!(deadline.child("failure").is_none());
    assert!(deadline
        .child("system-out")
        .unwrap()
        .text
        .contains("incident #1"));
}

#[test]
fn junit_gates_at_high_by_default() {
    let kinds = kinds();
    // The seed's critical incident fails by default and at critical.
    assert_eq!(
        run(&["analyze", "--format", "junit", SEED]).status.code(),
        Some(1)
    );
    let out = run(&[
        "analyze",
        "--format",
        "junit",
        "--fail-on",
        "critical",
        SEED,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(check_junit(&stdout(&out), &kinds).count("failures"), 1);
    // Other formats gate only when asked.
    for format in ["text", "json", "markdown", "sarif"] {
        let out = run(&["analyze", "--format", format, SEED]);
        assert_eq!(out.status.code(), Some(0), "--format {format}");
    }

    // A high incident: fails by default, passes (told in system-out) at critical.
    let hostile = hostile_dockerd_log(HOSTILE);
    let path = hostile.path().to_str().unwrap();
    let out = run(&["analyze", "--format", "junit", "--year", "2023", path]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&[
        "analyze",
        "--format",
        "junit",
        "--fail-on",
        "critical",
        "--year",
        "2023",
        path,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let root = check_junit(&stdout(&out), &kinds);
    assert_eq!(root.count("failures"), 0);
    let passed = case(&root, "node-1", "dockerd_stop_loop");
    assert!(passed.child("failure").is_none());
    assert!(passed
        .child("system-out")
        .unwrap()
        .text
        .contains("below --fail-on critical"));

    // A quiet node: every detector a passing test, exit 0.
    let quiet = quiet_log();
    let out = run(&[
        "analyze",
        "--format",
        "junit",
        quiet.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let root = check_junit(&stdout(&out), &kinds);
    assert_eq!(root.count("failures"), 0);
    assert_eq!(root.count("tests"), kinds.len());
    let suite = root.child("testsuite").unwrap();
    assert_eq!(suite.attr("name"), "node-1");
    assert!(suite.children("testcase").all(|c| c.children.is_empty()));
}

#[test]
fn junit_puts_incidents_without_a_host_in_unknown_host() {
    // Raw kubelet output (no syslog envelope) names no host.
    let log = temp_log(
        b"E0501 11:03:37.635343    4568 remote_runtime.go:276] \"StopContainer from runtime service failed\" \
          err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" \
          containerID=\"fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469\"\n",
    );
    let path = log.path().to_str().unwrap();
    let out = run(&[
        "analyze",
        "--format",
        "junit",
        "--fail-on",
        "medium",
        "--year",
        "2023",
        path,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let root = check_junit(&stdout(&out), &kinds());
    let suites: Vec<&str> = root.children("testsuite").map(|s| s.attr("name")).collect();
    assert_eq!(suites, ["unknown-host"]);
    let failure = case(&root, "unknown-host", "kubelet_stop_deadline")
        .child("failure")
        .expect("the medium incident fails at --fail-on medium");
    assert_eq!(failure.attr("type"), "medium");
}

#[test]
fn sarif_has_a_rule_per_detector_and_a_result_per_finding() {
    let kinds = kinds();
    let sarif = sarif_of(&[SEED]);
    let results = check_sarif(&sarif, &kinds);
    let report = json_report(&[SEED], None);
    let findings: Vec<(&Value, &Value)> = report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            i["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |f| (i, f))
        })
        .collect();
    assert_eq!(results.len(), findings.len(), "one result per finding");
    for (r, (incident, finding)) in results.iter().zip(&findings) {
        assert_eq!(r["ruleId"], finding["kind"]);
        let level = match finding["severity"].as_str().unwrap() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(r["level"], level);
        let message = r["message"]["text"].as_str().unwrap();
        assert!(message.starts_with(incident["title"].as_str().unwrap()));
        assert!(message.contains(finding["subject"].as_str().unwrap()));
        assert_eq!(r["properties"]["incidentRank"], incident["rank"]);
        assert_eq!(r["properties"]["pods"], incident["pods"]);
        let locations = r["locations"].as_array().unwrap();
        let evidence = finding["evidence"].as_array().unwrap();
        assert_eq!(locations.len(), evidence.len());
        for (l, e) in locations.iter().zip(evidence) {
            assert_eq!(l["physicalLocation"]["artifactLocation"]["uri"], e["file"]);
            assert_eq!(l["physicalLocation"]["region"]["startLine"], e["line"]);
        }
    }
    let driver = &sarif["runs"][0]["tool"]["driver"];
    let rule = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "dockerd_stop_loop")
        .unwrap();
    assert_eq!(rule["helpUri"], "https://github.com/moby/moby/pull/42956");
    assert!(rule["fullDescription"]["text"]
        .as_str()
        .unwrap()
        .contains("D state"));
    assert!(rule["help"]["markdown"]
        .as_str()
        .unwrap()
        .starts_with("1. Find the stuck process"));

    // Fingerprints: the same per kind and subject, run after run; distinct
    // across findings.
    let again = check_sarif(&sarif_of(&[SEED]), &kinds);
    let prints = |results: &[Value]| -> Vec<Value> {
        results
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(prints(&results), prints(&again));
    let distinct: BTreeSet<String> = prints(&results).iter().map(Value::to_string).collect();
    assert_eq!(distinct.len(), results.len());
}

/// A file inside an archive is its path inside it, under the archive as
/// parent artifact (issue 11 §6: `bundle.tar.gz:var/…` read as a scheme);
/// the archive's absolute path is a `file:` URI.
#[test]
fn sarif_locates_archive_entries_under_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.tar.gz");
    common::seed_bundle(&bundle, Some(1_683_532_800)); // 2023-05-08
    let bundle = bundle.to_str().unwrap();
    let sarif = sarif_of(&[bundle]);
    let results = check_sarif(&sarif, &kinds());
    let at = &results[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(at["uri"], "var/log/messages");
    let artifacts = &sarif["runs"][0]["artifacts"];
    let entry = &artifacts[at["index"].as_u64().unwrap() as usize];
    let parent = &artifacts[entry["parentIndex"].as_u64().unwrap() as usize];
    assert_eq!(parent["location"]["uri"], format!("file://{bundle}"));
}

#[test]
fn hostile_log_lines_cannot_break_any_format() {
    let log = hostile_dockerd_log(HOSTILE);
    let path = log.path().to_str().unwrap();
    let report = json_report(&["--year", "2023", path], None);
    assert_eq!(
        report["incidents"][0]["severity"], "high",
        "the lines match"
    );
    assert!(report["incidents"][0]["findings"][0]["evidence"][0]["text"]
        .as_str()
        .unwrap()
        .contains(HOSTILE));

    // JUnit: well-formed, the counts hold, the text round-trips without the
    // characters XML forbids; ESC and BEL are gone.
    let out = run(&["analyze", "--format", "junit", "--year", "2023", path]);
    let xml = stdout(&out);
    assert!(!xml.contains("<script") && !xml.contains("]]>") && !xml.contains("</testcase><"));
    let root = check_junit(&xml, &kinds());
    assert_eq!(root.count("failures"), 1);
    let failure = case(&root, "node-1", "dockerd_stop_loop")
        .child("failure")
        .unwrap();
    assert!(
        failure
            .text
            .contains("</testcase><script>alert(1)</script> ]]> a|b ```rm -rf``` [31mred]0;owned & 'q' \"dq\""),
        "{}",
        failure.text
    );

    // Markdown: the evidence sits in a code block whose fence outgrows the
    // backticks inside; no control character is printed.
    let out = run(&["analyze", "--format", "markdown", "--year", "2023", path]);
    let md = stdout(&out);
    assert!(!md.contains(['\x1b', '\x07']));
    let lines: Vec<&str> = md.lines().collect();
    let open = lines
        .iter()
        .position(|l| l.starts_with("````text"))
        .expect("a fence longer than the log's ```");
    let close = lines[open + 1..]
        .iter()
        .position(|l| *l == "````")
        .expect("the fence closes")
        + open
        + 1;
    assert!(lines[open + 1..close].iter().any(|l| l
        .contains("</testcase><script>alert(1)</script> ]]> a|b ```rm -rf``` ?[31mred?]0;owned?")));
    // Outside code blocks, no raw markup and no cell-breaking pipes.
    for (n, line) in lines.iter().enumerate() {
        if (open..=close).contains(&n) {
            continue;
        }
        assert!(!line.contains("<script"), "{line}");
        if line.starts_with("| ") && !line.starts_with("| #") && !line.starts_with("| ---") {
            assert_eq!(unescaped_pipes(line), 8, "{line}");
        }
    }

    // SARIF: valid JSON with the text intact but for control characters.
    let sarif = sarif_of(&["--year", "2023", path]);
    let results = check_sarif(&sarif, &kinds());
    let snippet = results[0]["locations"][0]["physicalLocation"]["region"]["snippet"]["text"]
        .as_str()
        .unwrap();
    assert!(snippet.contains("</testcase><script>alert(1)</script> ]]> a|b"));
    assert!(!snippet.contains(['\x1b', '\x07']));
}

#[test]
fn inputs_prints_only_text_or_json() {
    for format in ["markdown", "junit", "sarif"] {
        let out = podmortem(&["inputs", "--format", format, SEED], None);
        assert_eq!(out.status.code(), Some(2), "inputs --format {format}");
    }
}

/// The `|` of a Markdown table row that are not escaped (`\|`).
fn unescaped_pipes(row: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in row.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => n += 1,
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    n
}
