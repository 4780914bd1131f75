//! The SARIF 2.1.0 printer, for code-scanning dashboards and SARIF viewers.
//!
//! One run; `tool.driver.rules` holds every detector of the grammar (sorted
//! by kind: `id` is the kind, `help` its remediation, `helpUri` its first
//! reference) and `results` one entry per finding, in incident rank order:
//!
//! ```text
//! { "ruleId": kind, "ruleIndex", "level": error|warning|note,
//!   "message": { "text": "<incident title>: <finding summary>" },
//!   "locations": [{ "physicalLocation": { "artifactLocation": { "uri": <evidence file> },
//!                                         "region": { "startLine", "snippet" } } }],
//!   "partialFingerprints": { "podmortem/kindSubject/v1": <hash of kind and subject> },
//!   "properties": { "incidentRank", "incidentScore", "incidentSeverity", "incidentKind",
//!                   "severity", "subject", "source", "count", "firstSeen", "lastSeen",
//!                   "hosts", "pods", "containers" } }
//! ```
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
    let results: Vec<Value> = report
        .incidents
        .iter()
        .flat_map(|i| i.findings.iter().map(move |f| (i, f)))
        .map(|(i, f)| {
            let index = kinds.iter().position(|k| *k == f.kind).unwrap_or(0);
            result(i, f, index)
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
    let sarif = json!({
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
    let mut tags = vec!["kubernetes".to_string(), "node".to_string()];
    tags.extend(sources.iter().map(|s| s.to_string()));
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

fn result(i: &Incident, f: &FindingReport, rule_index: usize) -> Value {
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
            let mut location = json!({ "artifactLocation": { "uri": uri(&e.file) } });
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

/// The path as given (archive entries such as `bundle.tar.gz:var/log/messages`
/// included), with only the characters a URI reference cannot hold
/// percent-encoded (spaces, `%`, `#`, `?`, controls, non-ASCII…).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b);
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
        assert_eq!(
            uri("bundle.tar.gz:var/log/messages"),
            "bundle.tar.gz:var/log/messages"
        );
        assert_eq!(uri("my logs/a#1?.log"), "my%20logs/a%231%3F.log");
        assert_eq!(uri("日志"), "%E6%97%A5%E5%BF%97");
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fnv1a(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&["a"]), fnv1a(&["a"]));
        assert_ne!(fnv1a(&["ab", "c"]), fnv1a(&["a", "bc"]));
    }
}
