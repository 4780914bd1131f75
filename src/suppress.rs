//! Known incidents that should not fail a run: those of a previous report
//! (`--baseline report.json`) and those a team has accepted
//! (`--suppress FILE`, with a reason and an optional expiry). Suppressed
//! incidents are still reported, marked with why; only the exit code
//! ignores them.
//!
//! ```toml
//! [[suppress]]
//! kind = "dockerd_stop_loop"          # any of kind / pod / container; all given must match
//! pod = "kube-system/fluentd-hjj42"
//! container = "a9acd521"              # an ID prefix
//! reason = "OPS-1234: node drained, waiting for the Docker upgrade"
//! expires = "2023-06-01"              # optional; after it the rule no longer applies
//! ```

use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::report::{Incident, Report};

/// Rules read from a suppress file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressFile {
    #[serde(default)]
    pub suppress: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub kind: Option<String>,
    pub pod: Option<String>,
    pub container: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD` (quoted): the last day the rule applies.
    #[serde(default, deserialize_with = "date")]
    pub expires: Option<NaiveDate>,
}

fn date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    let text = String::deserialize(d)?;
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format!("expires = \"{text}\": use YYYY-MM-DD")))
}

impl Rule {
    fn matches(&self, i: &Incident) -> bool {
        let kind = self
            .kind
            .as_ref()
            .is_none_or(|k| i.findings.iter().any(|f| &f.kind == k));
        let pod = self.pod.as_ref().is_none_or(|p| i.pods.contains(p));
        let container = self
            .container
            .as_ref()
            .is_none_or(|c| i.containers.iter().any(|x| x.starts_with(c.as_str())));
        let something = self.kind.is_some() || self.pod.is_some() || self.container.is_some();
        something && kind && pod && container
    }
}

/// Reads a suppress file; errors name the file and, from TOML, the line.
pub fn read_rules(path: &Path) -> Result<SuppressFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The (kind, pods, containers) identities of a previous JSON report.
pub fn read_baseline(path: &Path) -> Result<Vec<Identity>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a podmortem JSON report: {e}", path.display()))?;
    let incidents = json["incidents"].as_array().ok_or_else(|| {
        format!(
            "{}: not a podmortem JSON report (no `incidents`)",
            path.display()
        )
    })?;
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().map_or(Vec::new(), |a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
    };
    Ok(incidents
        .iter()
        .map(|i| Identity {
            kind: i["kind"].as_str().unwrap_or_default().to_string(),
            pods: strings(&i["pods"]),
            containers: strings(&i["containers"]),
        })
        .collect())
}

/// What makes an incident the same one across runs: its kind and what it
/// is about (times, counts and scores change as logs grow).
#[derive(Debug, PartialEq, Eq)]
pub struct Identity {
    pub kind: String,
    pub pods: Vec<String>,
    pub containers: Vec<String>,
}

impl Identity {
    fn of(i: &Incident) -> Identity {
        Identity {
            kind: i.kind.clone(),
            pods: i.pods.clone(),
            containers: i.containers.clone(),
        }
    }
}

/// Marks the report's incidents that a rule (not expired on `today`) or
/// the baseline covers; returns the rules that have expired, to warn about.
pub fn apply<'r>(
    report: &mut Report,
    rules: &'r SuppressFile,
    baseline: &[Identity],
    today: NaiveDate,
) -> Vec<&'r Rule> {
    for incident in &mut report.incidents {
        let rule = rules
            .suppress
            .iter()
            .find(|r| r.expires.is_none_or(|e| today <= e) && r.matches(incident));
        incident.suppressed = match rule {
            Some(r) => Some(r.reason.clone()),
            None if baseline.contains(&Identity::of(incident)) => {
                Some("in the baseline report".to_string())
            }
            None => None,
        };
    }
    rules
        .suppress
        .iter()
        .filter(|r| r.expires.is_some_and(|e| today > e))
        .collect()
}
