//! The SARIF 2.1.0 printer, for code-scanning dashboards and SARIF viewers.
//!
//! One run; `tool.driver.rules` holds every detector of the grammar (sorted
//! by kind: `id` is the kind, `help` its remediation, `helpUri` its first
//! reference) and `results` one entry per finding, in incident rank order:
//!
//! ```text
//! { "ruleId": kind, "ruleIndex", "level": error|warning|note,
//!   "message": { "text": "<incident title>: <finding summary>" },
//!   "locations": [{ "physicalLocation": { "artifactLocation": { "uri": <evidence file>, "index" },
//!                                         "region": { "startLine", "snippet" } } }],
//!   "partialFingerprints": { "podmortem/kindSubject/v1": <hash of kind and subject> },
//!   "properties": { "incidentRank", "incidentScore", "incidentSeverity", "incidentKind",
//!                   "severity", "subject", "source", "count", "firstSeen", "lastSeen",
//!                   "hosts", "pods", "containers" } }
//! ```
//! A file inside an archive (`bundle.tar.gz:var/log/messages`) is located
//! by its path inside the archive and the `index` of its entry in
//! `run.artifacts`, whose `parentIndex` is the archive's entry; the archive
//! is relative to `uriBaseId` `INPUTROOT` (`originalUriBaseIds`), or a
//! `file:` URI when its path is absolute. Plain files keep their path.
//! The level is the finding's own severity: critical and high are `error`,
//! medium `warning`, low `note`. Inputs that could not be read are
//! `toolExecutionNotifications` of the run's invocation.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::junit::detector_source;
use super::{Advice, FindingReport, Incident, Report};
use crate::grammar::{Detector, Grammar};
use crate::severity::Severity;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The project's page for `tool.driver.informationUri`: Cargo.toml's
/// `repository`; left out while it is not set.
const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");
const FINGERPRINT: &str = "podmortem/kindSubject/v1";

pub fn print(report: &Report, grammar: &Grammar, out: &mut dyn Write) -> io::Result<()> {
    let mut detectors: Vec<&Detector> = grammar.detectors.iter().collect();
    detectors.sort_by(|a, b| a.kind.cmp(&b.kind));
    let mut rules: Vec<Value> = detectors.iter().map(|d| rule(grammar, d)).collect();
    let mut kinds: Vec<String> = detectors.iter().map(|d| d.kind.clone()).collect();
    // Defensively, a kind the grammar does not define still gets a rule, so
    // that every result's ruleId resolves.
    for i in &report.incidents {
        for f in &i.findings {
            if !kinds.contains(&f.kind) {
                kinds.push(f.kind.clone());
                rules.push(json!({
                    "id": f.kind,
                    "name": pascal(&f.kind),
                    "shortDescription": { "text": f.kind },
                }));
            }
        }
    }
    let mut artifacts = Artifacts::default();
    let results: Vec<Value> = report
        .incidents
        .iter()
        .flat_map(|i| i.findings.iter().map(move |f| (i, f)))
        .map(|(i, f)| {
            let index = kinds.iter().position(|k| *k == f.kind).unwrap_or(0);
            result(i, f, index, &mut artifacts)
        })
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| ("error", e))
        .chain(report.skipped.iter().map(|e| ("warning", e)))
        .map(|(level, e)| {
            json!({
                "level": level,
                "message": { "text": clean(&format!("{}: {}", e.path, e.message)) },
            })
        })
        .collect();
    let mut driver = json!({
        "name": "podmortem",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if !INFORMATION_URI.is_empty() {
        driver["informationUri"] = json!(INFORMATION_URI);
    }
    let mut sarif = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "invocations": [{
                "executionSuccessful": !report.inputs.is_empty() || report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    });
    if !artifacts.list.is_empty() {
        sarif["runs"][0]["artifacts"] = Value::Array(artifacts.list);
        sarif["runs"][0]["originalUriBaseIds"] = json!({
            INPUT_ROOT: {
                "description": { "text": "the directory podmortem ran in, against which relative input paths resolve" },
            },
        });
    }
    if report.redacted {
        sarif["runs"][0]["properties"] = json!({
            "redacted": true,
            "redaction": crate::redact::NOTE,
        });
    }
    serde_json::to_writer_pretty(&mut *out, &sarif)?;
    writeln!(out)
}

fn rule(grammar: &Grammar, d: &Detector) -> Value {
    let mut sources: Vec<&str> = d
        .patterns
        .iter()
        .map(|&p| grammar.patterns[p].source.as_str())
        .collect();
    sources.sort_unstable();
    sources.dedup();
    // SARIF wants unique tags: a source named `kubernetes` (the cluster's
    // records) is said once.
    let mut tags = vec!["kubernetes".to_string(), "node".to_string()];
    tags.extend(
        sources
            .iter()
            .filter(|s| !matches!(**s, "kubernetes" | "node"))
            .map(|s| s.to_string()),
    );
    let worst = d
        .levels
        .iter()
        .map(|l| l.severity)
        .max()
        .unwrap_or(Severity::Low);
    let steps = |prefix: &dyn Fn(usize) -> String| {
        d.remediation
            .iter()
            .enumerate()
            .map(|(n, s)| format!("{}{}", prefix(n), Advice::from_step(s).line()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut rule = json!({
        "id": d.kind,
        "name": pascal(&d.kind),
        "shortDescription": { "text": d.title },
        "fullDescription": { "text": d.explanation.trim() },
        "defaultConfiguration": { "level": level(worst) },
        "help": {
            "text": steps(&|n| format!("{}. ", n + 1)),
            "markdown": steps(&|n| format!("{}. ", n + 1)),
        },
        "properties": {
            "tags": tags,
            "source": detector_source(grammar, d),
            "per": d.per_text(),
        },
    });
    if let Some(uri) = d.references.first() {
        rule["helpUri"] = json!(uri);
    }
    rule
}

fn result(i: &Incident, f: &FindingReport, rule_index: usize, artifacts: &mut Artifacts) -> Value {
    let period = f
        .period_s
        .map(|p| format!(", every {p}s"))
        .unwrap_or_default();
    let summary = format!(
        "{} {}: {}× from {} on {}{period}, {} → {}",
        f.kind, f.severity, f.count, f.source, f.subject, f.first_seen, f.last_seen
    );
    let locations: Vec<Value> = f
        .evidence
        .iter()
        .map(|e| {
            let mut location = json!({ "artifactLocation": artifacts.location(&e.file) });
            if e.line >= 1 {
                location["region"] = json!({
                    "startLine": e.line,
                    "snippet": { "text": clean(&e.text) },
                });
            }
            json!({ "physicalLocation": location })
        })
        .collect();
    let mut fingerprints = Map::new();
    fingerprints.insert(
        FINGERPRINT.to_string(),
        json!(format!("{:016x}", fnv1a(&[&f.kind, &f.subject]))),
    );
    json!({
        "ruleId": f.kind,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": clean(&format!("{}: {summary}", i.title)) },
        "locations": locations,
        "partialFingerprints": fingerprints,
        "properties": {
            "incidentRank": i.rank,
            "incidentScore": i.score,
            "incidentSeverity": i.severity,
            "incidentKind": i.kind,
            "severity": f.severity,
            "subject": f.subject,
            "source": f.source,
            "count": f.count,
            "firstSeen": f.first_seen,
            "lastSeen": f.last_seen,
            "hosts": i.hosts,
            "pods": i.pods,
            "containers": i.containers,
        },
    })
}

/// SARIF's level for a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// `dockerd_stop_loop` → `DockerdStopLoop`: SARIF's rule `name`.
fn pascal(kind: &str) -> String {
    kind.split(['_', '-', '.'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|first| first.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// The `uriBaseId` of relative input paths.
const INPUT_ROOT: &str = "INPUTROOT";

/// What an archive's name ends with, before the `:` that joins it to the
/// path of a file inside it (`bundle.tar.gz:var/log/messages`).
const ARCHIVES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".zip",
];

/// `run.artifacts` for files inside archives: each archive once, then each
/// file inside it with the archive as its `parentIndex`, so that no URI has
/// to join them with a `:` (which a URI parser reads as a scheme).
#[derive(Default)]
struct Artifacts {
    list: Vec<Value>,
    index: std::collections::HashMap<String, usize>,
}

impl Artifacts {
    /// The `artifactLocation` of an evidence file: a plain file keeps its
    /// path as a relative reference (as before); a file inside an archive is
    /// its path inside it, with the index of its artifact, whose parent is
    /// the archive (relative to [`INPUT_ROOT`], or a `file:` URI when
    /// absolute).
    fn location(&mut self, file: &str) -> Value {
        let Some((archive, entry)) = split_archive(file) else {
            return json!({ "uri": uri(file) });
        };
        let parent = self.add(archive, None, || archive_location(archive));
        let child = self.add(file, Some(parent), || json!({ "uri": uri(entry) }));
        json!({ "uri": uri(entry), "index": child })
    }

    fn add(&mut self, key: &str, parent: Option<usize>, location: impl FnOnce() -> Value) -> usize {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let mut artifact = json!({ "location": location() });
        if let Some(p) = parent {
            artifact["parentIndex"] = json!(p);
        }
        self.list.push(artifact);
        self.index.insert(key.to_string(), self.list.len() - 1);
        self.list.len() - 1
    }
}

/// An archive's location: a `file:` URI when its path is absolute, else a
/// relative reference against [`INPUT_ROOT`].
fn archive_location(path: &str) -> Value {
    if path.starts_with('/') {
        json!({ "uri": format!("file://{}", uri(path)) })
    } else {
        json!({ "uri": uri(path), "uriBaseId": INPUT_ROOT })
    }
}

/// `bundle.tar.gz:var/log/messages` → (`bundle.tar.gz`, `var/log/messages`):
/// split at the first `:` that follows an archive's name.
fn split_archive(path: &str) -> Option<(&str, &str)> {
    path.match_indices(':').find_map(|(at, _)| {
        let (archive, entry) = (&path[..at], &path[at + 1..]);
        let named = ARCHIVES
            .iter()
            .any(|ext| archive.to_ascii_lowercase().ends_with(ext));
        (named && !entry.is_empty()).then_some((archive, entry))
    })
}

/// The path with only the characters a URI reference cannot hold
/// percent-encoded (spaces, `%`, `#`, `?`, controls, non-ASCII…); a `:`
/// before the first `/` too, so that no path reads as a scheme.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let first_slash = path.find('/').unwrap_or(path.len());
    for (i, b) in path.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=@/".contains(&b)
            || (b == b':' && i > first_slash);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Control characters (ESC, BEL, CR…) shown as `?`: viewers print these
/// strings as they are.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// 64-bit FNV-1a over the parts, each followed by a NUL: stable across
/// releases and platforms (unlike std's hasher), as fingerprints must be.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.as_bytes().iter().chain(&[0u8]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(pascal("dockerd_stop_loop"), "DockerdStopLoop");
    }

    #[test]
    fn uris_keep_the_path_and_encode_only_what_they_must() {
        assert_eq!(uri("var/log/a:b"), "var/log/a:b");
        assert_eq!(uri("c:messages"), "c%3Amessages", "not a scheme");
        assert_eq!(uri("my logs/a#1?.log"), "my%20logs/a%231%3F.log");
        assert_eq!(uri("日志"), "%E6%97%A5%E5%BF%97");
    }

    #[test]
    fn files_inside_archives_have_the_archive_as_parent() {
        let mut a = Artifacts::default();
        assert_eq!(a.location("messages"), json!({ "uri": "messages" }));
        assert_eq!(
            a.location("node 1.tar.gz:var/log/messages"),
            json!({ "uri": "var/log/messages", "index": 1 })
        );
        assert_eq!(
            a.location("node 1.tar.gz:var/log/syslog"),
            json!({ "uri": "var/log/syslog", "index": 2 })
        );
        assert_eq!(
            a.location("/b/x.zip:k.log"),
            json!({ "uri": "k.log", "index": 4 })
        );
        assert_eq!(
            a.list[0]["location"],
            json!({ "uri": "node%201.tar.gz", "uriBaseId": INPUT_ROOT })
        );
        assert_eq!(a.list[2]["parentIndex"], 0);
        assert_eq!(a.list[3]["location"]["uri"], "file:///b/x.zip");
        assert_eq!(split_archive("logs.tar:a:b"), Some(("logs.tar", "a:b")));
        assert_eq!(split_archive("a:b.tar"), None);
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fnv1a(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&["a"]), fnv1a(&["a"]));
        assert_ne!(fnv1a(&["ab", "c"]), fnv1a(&["a", "bc"]));
    }
}
