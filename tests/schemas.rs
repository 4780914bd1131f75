//! `--format junit` and `--format sarif` against the schemas their consumers
//! hold them to, on the seed case, on every detector across many hosts, with
//! inputs that could not be read, on a clean node and on hostile lines:
//!
//! - JUnit: Jenkins' JUnit schema, `junit-10.xsd` of the xunit plugin (the
//!   schema pytest's own tests check its JUnit XML with), by xmllint.
//! - SARIF: the official OASIS SARIF 2.1.0 JSON schema (errata 01), by the
//!   `jsonschema` crate, with its formats checked (`uri`; and the
//!   `uri-reference` of artifact locations, which the draft 4 the schema
//!   declares does not know, by the same crate's draft 7 check).
//!
//! Neither schema is committed: `.ci/fetch-schemas` fetches both from package
//! registries into `target/schemas/` (`$CARGO_TARGET_DIR/schemas` when that
//! is set) and installs xmllint. Without them each test says `SKIPPED: …` on
//! stderr and passes, so that `cargo test` still runs offline; under
//! `PODMORTEM_REQUIRE_SCHEMAS=1`, as in CI, it fails instead. The last test
//! shows on every run that both checks reject broken output.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{podmortem, temp_log, SEED};
use serde_json::Value;

const SARIF_SCHEMA: &str = "sarif-schema-2.1.0.json";
const JUNIT_SCHEMA: &str = "junit-10.xsd";
/// xmllint's exit code for a document that is well-formed but not valid
/// (other failures, such as a schema that does not compile, exit otherwise).
const XMLLINT_INVALID: i32 = 3;

/// Where `.ci/fetch-schemas` puts the schemas.
fn schema_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("CARGO_TARGET_DIR") {
        // A relative target directory is relative to the crate root, where
        // cargo and the script both run.
        Some(dir) => root.join(dir).join("schemas"),
        None => root.join("target/schemas"),
    }
}

/// The validators, ready.
struct Schemas {
    sarif: jsonschema::Validator,
    /// SARIF's `artifactLocation.uri` is a `uri-reference`, a format that
    /// came after the draft 4 the schema declares, so its validator lets any
    /// string through; this is the same crate's draft 7 check of that format.
    uri_reference: jsonschema::Validator,
    junit: PathBuf,
}

/// The validators, loaded once per run; `None` (the test is skipped) when
/// something is missing, unless `PODMORTEM_REQUIRE_SCHEMAS=1`.
fn schemas() -> Option<&'static Schemas> {
    static SCHEMAS: OnceLock<Result<Schemas, String>> = OnceLock::new();
    match SCHEMAS.get_or_init(load) {
        Ok(schemas) => Some(schemas),
        Err(missing) if std::env::var("PODMORTEM_REQUIRE_SCHEMAS").as_deref() == Ok("1") => {
            panic!("{missing} missing, and PODMORTEM_REQUIRE_SCHEMAS=1; run .ci/fetch-schemas")
        }
        Err(missing) => {
            // Straight to stderr: the test harness captures `eprintln!` of a
            // passing test, and a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {missing} missing; run .ci/fetch-schemas"
            );
            None
        }
    }
}

/// Loads the schemas, or names what is missing. A schema that is there but
/// broken fails the test: that is not something to skip.
fn load() -> Result<Schemas, String> {
    let dir = schema_dir();
    let mut missing = Vec::new();
    let sarif_path = dir.join(SARIF_SCHEMA);
    let sarif = match std::fs::read(&sarif_path) {
        Ok(bytes) => {
            let schema: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", sarif_path.display()));
            // The draft is the one the schema declares (draft 4); formats
            // are only annotations unless asked for.
            Some(
                jsonschema::options()
                    .should_validate_formats(true)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("{}: {e}", sarif_path.display())),
            )
        }
        Err(_) => {
            missing.push(sarif_path.display().to_string());
            None
        }
    };
    let junit = dir.join(JUNIT_SCHEMA);
    if !junit.is_file() {
        missing.push(junit.display().to_string());
    }
    let xmllint = Command::new("xmllint").arg("--version").output();
    if !xmllint.is_ok_and(|out| out.status.success()) {
        missing.push("xmllint".to_string());
    }
    let uri_reference = jsonschema::options()
        .should_validate_formats(true)
        .build(&serde_json::json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "string",
            "format": "uri-reference",
        }))
        .unwrap();
    match sarif {
        Some(sarif) if missing.is_empty() => Ok(Schemas {
            sarif,
            uri_reference,
            junit,
        }),
        _ => Err(missing.join(", ")),
    }
}

impl Schemas {
    /// xmllint's exit code and messages for `xml` against junit-10.xsd.
    fn xmllint(&self, xml: &[u8]) -> (Option<i32>, String) {
        let file = temp_log(xml);
        let out = Command::new("xmllint")
            .args(["--noout", "--nonet", "--schema"])
            .arg(&self.junit)
            .arg(file.path())
            .output()
            .expect("xmllint runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn check_junit(&self, xml: &[u8], what: &str) {
        let (code, messages) = self.xmllint(xml);
        assert_eq!(
            code,
            Some(0),
            "{what}: not valid against {JUNIT_SCHEMA}:\n{messages}"
        );
    }

    /// Every violation of the SARIF schema, as `path: message`.
    fn sarif_errors(&self, sarif: &Value) -> Vec<String> {
        let mut errors: Vec<String> = self
            .sarif
            .iter_errors(sarif)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        self.check_uris(sarif, String::new(), &mut errors);
        errors
    }

    /// Checks the `uri` of every `artifactLocation` under `value` (at JSON
    /// pointer `at`) as a URI reference.
    fn check_uris(&self, value: &Value, at: String, errors: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let path = format!("{at}/{key}");
                    match child.get("uri") {
                        Some(uri) if key == "artifactLocation" => {
                            if let Err(e) = self.uri_reference.validate(uri) {
                                errors.push(format!("{path}/uri: {e}"));
                            }
                        }
                        _ => self.check_uris(child, path, errors),
                    }
                }
            }
            Value::Array(items) => {
                for (n, item) in items.iter().enumerate() {
                    self.check_uris(item, format!("{at}/{n}"), errors);
                }
            }
            _ => {}
        }
    }

    fn check_sarif(&self, sarif: &[u8], what: &str) -> Value {
        let sarif: Value = serde_json::from_slice(sarif).expect("SARIF is JSON");
        let errors = self.sarif_errors(&sarif);
        assert!(
            errors.is_empty(),
            "{what}: not valid against {SARIF_SCHEMA}:\n{}",
            errors.join("\n")
        );
        sarif
    }
}

/// `podmortem analyze --format FORMAT ARGS…`: its stdout, after checking it
/// ran (exit 1 is an incident at `--fail-on`).
fn analyze(format: &str, args: &[&str]) -> Vec<u8> {
    let mut all = vec!["analyze", "--format", format];
    all.extend_from_slice(args);
    let out = podmortem(&all, None);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{all:?}: exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn results(sarif: &Value) -> &Vec<Value> {
    sarif["runs"][0]["results"].as_array().expect("results")
}

/// Every sample line of the built-in grammars, one file: nearly every
/// detector fires, on some fifty hosts (and lines that name none), from
/// every envelope the samples come in.
fn every_sample_log() -> tempfile::NamedTempFile {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("grammars");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut log = String::new();
    for file in files {
        let grammar: toml::Value = toml::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let patterns = grammar.get("pattern").and_then(toml::Value::as_array);
        for pattern in patterns.into_iter().flatten() {
            let samples = pattern.get("sample").and_then(toml::Value::as_array);
            for sample in samples.into_iter().flatten() {
                log.push_str(sample["line"].as_str().unwrap());
                log.push('\n');
            }
        }
    }
    temp_log(log.as_bytes())
}

#[test]
fn the_seed_case_validates() {
    let Some(schemas) = schemas() else { return };
    let xml = analyze("junit", &[SEED]);
    assert!(String::from_utf8_lossy(&xml).contains("<failure "));
    schemas.check_junit(&xml, "seed, junit");
    let sarif = schemas.check_sarif(&analyze("sarif", &[SEED]), "seed, sarif");
    assert!(!results(&sarif).is_empty());
}

#[test]
fn every_detector_on_many_hosts_validates() {
    let Some(schemas) = schemas() else { return };
    let log = every_sample_log();
    let path = log.path().to_str().unwrap();
    // Everything fails (several incidents in one <failure>), then only the
    // critical ones do (the rest pass, told in <system-out>).
    for (fail_on, shows) in [("low", "<failure "), ("critical", "<system-out>")] {
        let xml = analyze("junit", &["--year", "2023", "--fail-on", fail_on, path]);
        let text = String::from_utf8_lossy(&xml);
        assert!(text.contains(shows), "--fail-on {fail_on}: {shows}");
        assert!(text.contains("<testsuite name=\"unknown-host\""));
        schemas.check_junit(&xml, &format!("grammar samples, junit --fail-on {fail_on}"));
    }
    let sarif = schemas.check_sarif(
        &analyze("sarif", &["--year", "2023", path]),
        "grammar samples, sarif",
    );
    // What is validated covers most rules, not one result shape.
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let mut fired: Vec<&str> = results(&sarif)
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    fired.sort_unstable();
    fired.dedup();
    assert!(
        fired.len() * 2 > rules.len(),
        "only {fired:?} of {} rules",
        rules.len()
    );
}

#[test]
fn inputs_that_could_not_be_read_validate() {
    let Some(schemas) = schemas() else { return };
    // samples/five-formats holds expected.json, which is passed over (not a
    // log); the second input does not exist. Both are notifications.
    let args = ["samples/five-formats", "samples/no-such-file"];
    let sarif = schemas.check_sarif(&analyze("sarif", &args), "unreadable inputs, sarif");
    let notifications = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let levels: Vec<&str> = notifications
        .iter()
        .map(|n| n["level"].as_str().unwrap())
        .collect();
    assert!(
        levels.contains(&"error") && levels.contains(&"warning"),
        "{levels:?}"
    );
    schemas.check_junit(&analyze("junit", &args), "unreadable inputs, junit");
}

#[test]
fn a_clean_node_validates() {
    let Some(schemas) = schemas() else { return };
    let log = temp_log(
        b"May  2 00:10:36 node-1 systemd[1]: Started Session 12 of user root.\n\
          May  2 00:10:37 node-1 kubelet: I0502 00:10:37.000000    4568 kubelet.go:2100] \"SyncLoop ADD\" source=\"api\"\n",
    );
    let path = log.path().to_str().unwrap();
    let xml = analyze("junit", &["--year", "2023", path]);
    let text = String::from_utf8_lossy(&xml);
    assert!(text.contains(" failures=\"0\"") && !text.contains("<failure"));
    schemas.check_junit(&xml, "no incidents, junit");
    let sarif = schemas.check_sarif(
        &analyze("sarif", &["--year", "2023", path]),
        "no incidents, sarif",
    );
    assert!(results(&sarif).is_empty());
}

#[test]
fn hostile_lines_validate() {
    let Some(schemas) = schemas() else { return };
    // Markup in the host name (a suite name) and in the message; `]]>`;
    // characters XML 1.0 forbids (ESC, BEL, VT, FF) or discourages (DEL,
    // C1 NEL); invalid UTF-8; in a file whose path a URI must encode.
    let payload: &[u8] = b"</testcase><script>alert(1)</script> ]]> &amp; &#0; \x1b[31mred\x1b]0;t\x07 \x0b\x0c\x7f \xc2\x85 \xff\xfe\xc3 'q' \"dq\"";
    let mut log = Vec::new();
    for second in [36, 46, 56] {
        log.extend_from_slice(
            format!(
                "May  2 00:10:{second} node<&>\"1]]> dockerd: Container a9acd5210705 failed to exit \
                 within 10 seconds of signal 15 - using the force "
            )
            .as_bytes(),
        );
        log.extend_from_slice(payload);
        log.push(b'\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("my logs #1?");
    std::fs::create_dir(&folder).unwrap();
    let file = folder.join("日志 <&>%20.log");
    std::fs::write(&file, log).unwrap();
    let path = file.to_str().unwrap();

    for fail_on in ["high", "critical"] {
        let xml = analyze("junit", &["--year", "2023", "--fail-on", fail_on, path]);
        assert!(String::from_utf8_lossy(&xml).contains("alert(1)"));
        schemas.check_junit(&xml, &format!("hostile lines, junit --fail-on {fail_on}"));
    }
    let sarif = schemas.check_sarif(
        &analyze("sarif", &["--year", "2023", path]),
        "hostile lines, sarif",
    );
    let location = &results(&sarif)[0]["locations"][0]["physicalLocation"];
    assert!(location["region"]["snippet"]["text"]
        .as_str()
        .unwrap()
        .contains("alert(1)"));
    assert!(location["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("/my%20logs%20%231%3F/%E6%97%A5%E5%BF%97%20%3C&%3E%2520.log"));
}

#[test]
fn the_schemas_reject_broken_output() {
    let Some(schemas) = schemas() else { return };
    // JUnit: podmortem's seed report, each time with one thing the schema
    // forbids, and xmllint must call it invalid (not merely fail).
    let xml = String::from_utf8(analyze("junit", &[SEED])).unwrap();
    let root = "<testsuites name=\"podmortem\"";
    assert!(xml.contains(root));
    let unnamed_case = regex::Regex::new(r#"(?P<case><testcase [^>]*?) name="[^"]*""#).unwrap();
    for (broken, what) in [
        (
            xml.replacen(root, "<testsuites skipped=\"0\" name=\"podmortem\"", 1),
            "attribute 'skipped' is not allowed",
        ),
        (
            xml.replacen("<testcase ", "<testcase kind=\"x\" ", 1),
            "attribute 'kind' is not allowed",
        ),
        (
            unnamed_case.replacen(&xml, 1, "$case").into_owned(),
            "attribute 'name' is required",
        ),
        (xml.replacen(" time=\"", " time=\"soon", 1), "'soon"),
        (
            xml.replacen("<failure ", "<failed ", 1)
                .replacen("</failure>", "</failed>", 1),
            "Element 'failed': This element is not expected",
        ),
    ] {
        assert_ne!(broken, xml, "the mutation for {what} applies");
        let (code, messages) = schemas.xmllint(broken.as_bytes());
        assert_eq!(code, Some(XMLLINT_INVALID), "{what}: {messages}");
        assert!(messages.contains(what), "{what}: {messages}");
    }

    // SARIF: the seed log, each time with one violation, which the schema
    // must report where it is.
    let sarif: Value = serde_json::from_slice(&analyze("sarif", &[SEED])).unwrap();
    assert!(schemas.sarif_errors(&sarif).is_empty());
    let result = "/runs/0/results/0";
    let location = "/runs/0/results/0/locations/0/physicalLocation/artifactLocation";
    let breaks = [
        // (where, what is set there, the error's path, what it says)
        (
            result,
            "message",
            Value::Null,
            result,
            "\"message\" is a required property",
        ),
        (
            result,
            "level",
            Value::from("fatal"),
            "/runs/0/results/0/level",
            "\"fatal\"",
        ),
        (
            result,
            "incident",
            Value::from(1),
            result,
            "'incident' was unexpected",
        ),
        (
            location,
            "uri",
            Value::from("my logs/messages"),
            "/runs/0/results/0/locations/0/physicalLocation/artifactLocation/uri",
            "uri-reference",
        ),
    ];
    for (at, key, value, path, says) in breaks {
        let mut broken = sarif.clone();
        let target = broken.pointer_mut(at).unwrap().as_object_mut().unwrap();
        if value.is_null() {
            target.remove(key).unwrap();
        } else {
            target.insert(key.to_string(), value);
        }
        let errors = schemas.sarif_errors(&broken);
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&format!("{path}: ")) && e.contains(says)),
            "{at} {key}: {errors:?}"
        );
    }
}

/// Files inside an archive (issue 11 §6): each evidence location is the
/// file's relative path inside the archive, with the index of its
/// artifact, whose parent is the archive, itself relative to a declared
/// `uriBaseId`; no URI joins them with a `:` (read as a scheme).
#[test]
fn files_inside_archives_are_relative_uris_under_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("node1.tar.gz");
    common::seed_bundle(&archive, None);
    let out = Command::new(env!("CARGO_BIN_EXE_podmortem"))
        .args(["analyze", "--format", "sarif", "node1.tar.gz"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    if let Some(schemas) = schemas() {
        let errors = schemas.sarif_errors(&sarif);
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
    let run = &sarif["runs"][0];
    assert_eq!(
        run["artifacts"],
        serde_json::json!([
            { "location": { "uri": "node1.tar.gz", "uriBaseId": "INPUTROOT" } },
            { "location": { "uri": "var/log/messages" }, "parentIndex": 0 },
        ])
    );
    assert!(run["originalUriBaseIds"]["INPUTROOT"].is_object());
    for result in results(&sarif) {
        for location in result["locations"].as_array().unwrap() {
            let at = &location["physicalLocation"]["artifactLocation"];
            assert_eq!(at["uri"], "var/log/messages");
            assert_eq!(at["index"], 1);
        }
    }
}
