//! The cluster's side of the story: what the API server recorded about
//! the node's pods and the node itself. Support bundles carry it
//! (troubleshoot.sh's `cluster-resources/events/<ns>.json`,
//! `pods/<ns>.json`, `nodes.json`; must-gather's per-resource YAML), and
//! so do `kubectl get … -o json|yaml` dumps, the `kubectl get events`
//! table and `kubectl describe` text an SRE pastes.
//!
//! This module owns reading those inputs: recognizing them by content
//! ([`recognize`], called by [`discover`](crate::discover) on the first
//! bytes of every text input), reading them whole into plain data
//! ([`model`]: events, pods with their containers, nodes with their
//! conditions), and turning that data into records the production scanner
//! frames and `grammars/kubernetes.toml` matches ([`record`]). From there
//! on they are events like any log line's:
//!
//! - a pod's container IDs, UID and name are one record whose entities
//!   join in the entity graph, so a node-log finding that names only a
//!   container ID gets its pod, and short IDs resolve to the full ones the
//!   status spells;
//! - Warning events, container states and node conditions are findings
//!   (or evidence in their pod's or node's incident) from the source
//!   `kubernetes`, with the API's own times (UTC);
//! - the text an event or condition carries (a kernel line relayed by
//!   node-problem-detector, kubelet's error) is matched by the node-log
//!   patterns too.
//!
//! It leaves deciding what matters to the grammar, and correlating to the
//! rest of the pipeline.

pub mod model;
pub mod objects;
pub mod record;
pub mod text;

use std::io::Read;
use std::sync::OnceLock;
use std::time::SystemTime;

use regex::Regex;

use crate::discover::Content;
use crate::format;
use crate::input::InputScan;
use crate::matcher::{RuleSet, Stage};
use crate::scan::{scan, Framing};

pub use model::Objects;

/// Bytes of one object file read at most: API dumps are read whole.
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// How a recognized input is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Syntax {
    Json,
    Yaml,
    /// `kubectl get events` (and `kubectl events`).
    EventsTable,
    /// `kubectl describe pod|node`.
    Describe,
}

/// What a recognized input held, for its name in `podmortem inputs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Holds {
    Events,
    Pods,
    Nodes,
    /// Several kinds, or none podmortem reads.
    Objects,
}

/// A recognized input: how it is written and what it held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Form {
    pub syntax: Syntax,
    pub holds: Holds,
}

impl Form {
    /// The format name `podmortem inputs` prints.
    pub fn name(self) -> &'static str {
        match (self.syntax, self.holds) {
            (Syntax::EventsTable, _) => "kubectl-events-table",
            (Syntax::Describe, _) => "kubectl-describe",
            (Syntax::Json, Holds::Events) => "k8s-events-json",
            (Syntax::Json, Holds::Pods) => "k8s-pods-json",
            (Syntax::Json, Holds::Nodes) => "k8s-nodes-json",
            (Syntax::Json, Holds::Objects) => "k8s-objects-json",
            (Syntax::Yaml, Holds::Events) => "k8s-events-yaml",
            (Syntax::Yaml, Holds::Pods) => "k8s-pods-yaml",
            (Syntax::Yaml, Holds::Nodes) => "k8s-nodes-yaml",
            (Syntax::Yaml, Holds::Objects) => "k8s-objects-yaml",
        }
    }
}

struct Cues {
    json: Regex,
    yaml: Regex,
}

fn cues() -> &'static Cues {
    static CUES: OnceLock<Cues> = OnceLock::new();
    CUES.get_or_init(|| Cues {
        // Keys only these objects have, or their kind, near the top.
        json: Regex::new(
            r#""(?:involvedObject|regarding|containerStatuses|nodeInfo)"\s*:|"kind"\s*:\s*"(?:Event|Pod|Node)(?:List)?""#,
        )
        .expect("literal expression, compiled by the tests"),
        yaml: Regex::new(
            r"(?m)^(?:- )?\s*(?:kind:\s*(?:Event|Pod|Node)(?:List)?|involvedObject:|regarding:|containerStatuses:)\s*$",
        )
        .expect("literal expression, compiled by the tests"),
    })
}

/// Whether the file at `rel` below a troubleshoot.sh bundle's root holds
/// objects podmortem reads: `cluster-resources/events/<ns>.json`,
/// `cluster-resources/pods/<ns>.json` and `cluster-resources/nodes.json`
/// (replicatedhq/troubleshoot@5bf008f pkg/collect/cluster_resources.go:172,
/// 321, 339: `json.MarshalIndent` of each `List`).
pub fn troubleshoot_file<S: AsRef<str>>(rel: &[S]) -> bool {
    let parts: Vec<&str> = rel.iter().map(AsRef::as_ref).collect();
    match parts.as_slice() {
        ["cluster-resources", "events" | "pods", leaf] => leaf.ends_with(".json"),
        ["cluster-resources", "nodes.json"] => true,
        _ => false,
    }
}

/// Whether the first bytes of a text input are Kubernetes objects or
/// kubectl output podmortem reads, and in which syntax.
pub fn recognize(head: &[u8]) -> Option<Syntax> {
    let head = String::from_utf8_lossy(head);
    let body = head.trim_start_matches('\u{feff}').trim_start();
    if body.starts_with('{') || body.starts_with('[') {
        return cues().json.is_match(body).then_some(Syntax::Json);
    }
    if text::is_events_table(body) {
        return Some(Syntax::EventsTable);
    }
    if text::is_describe(body) {
        return Some(Syntax::Describe);
    }
    cues().yaml.is_match(body).then_some(Syntax::Yaml)
}

/// The events, pods and nodes of a recognized input's text. Node
/// conditions come with their transition times (`NodeStatus::conditions`):
/// plain data for a conditions timeline.
pub fn parse(syntax: Syntax, text: &str) -> Objects {
    match syntax {
        Syntax::Json => objects::read_json(text),
        Syntax::Yaml => objects::read_yaml(text),
        Syntax::EventsTable => text::read_events_table(text),
        Syntax::Describe => text::read_describe(text),
    }
}

/// Reads a recognized input whole and scans its records. `modified` (the
/// file's or the archive entry's) bounds when it was collected.
pub fn read_input(
    content: Content<'_>,
    syntax: Syntax,
    modified: Option<SystemTime>,
    rules: &RuleSet,
) -> InputScan {
    let mut bytes = Vec::new();
    let (path, error) = match content {
        Content::File(path) => {
            let error = std::fs::File::open(&path)
                .and_then(|f| f.take(MAX_BYTES).read_to_end(&mut bytes))
                .err();
            (Some(path), error)
        }
        Content::Stream(reader) => (None, reader.take(MAX_BYTES).read_to_end(&mut bytes).err()),
    };
    let mut read_error = error.map(|e| format!("read failed: {e}"));
    if bytes.len() as u64 == MAX_BYTES {
        read_error = Some(format!("only its first {MAX_BYTES} bytes were read"));
    }
    let objects = parse(syntax, &String::from_utf8_lossy(&bytes));
    let collected = modified.map(chrono::DateTime::<chrono::Utc>::from);
    InputScan {
        name: path
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string()),
        // Read whole here: no second pass over the file.
        path: None,
        framing: Framing::Cluster(Form {
            syntax,
            holds: holds(&objects),
        }),
        bytes: bytes.len() as u64,
        modified,
        name_date: None,
        read_error,
        notes: Vec::new(),
        output: scan_records(&objects, collected, rules),
    }
}

fn holds(o: &Objects) -> Holds {
    match (o.events.is_empty(), o.pods.is_empty(), o.nodes.is_empty()) {
        (false, true, true) => Holds::Events,
        (true, false, true) => Holds::Pods,
        (true, true, false) => Holds::Nodes,
        _ => Holds::Objects,
    }
}

/// The records of `objects` through the production scanner, with lines
/// and evidence pointing back at the input.
pub fn scan_records(
    objects: &Objects,
    collected: Option<chrono::DateTime<chrono::Utc>>,
    rules: &RuleSet,
) -> crate::scan::ScanOutput {
    let records = record::records(objects, collected);
    let text = record::syslog_text(&records);
    // The records are RFC 5424 by construction: never guessed, since a
    // record without time (`<12>1 - - …`) would read as other formats too.
    let format =
        format::InputFormat::named("rfc5424").unwrap_or_else(|| format::detect(text.as_bytes()));
    let framing = Framing::Lines(format);
    let mut out = scan(text.as_bytes(), framing, rules, Stage::All);
    let source = |line: u64| {
        let r = usize::try_from(line).ok()?.checked_sub(1)?;
        records.get(r)
    };
    let mut texts = std::mem::take(&mut out.texts);
    for e in out.events_mut() {
        if let Some(r) = source(e.line) {
            e.line = r.line;
            e.text = texts.push(r.evidence.as_bytes());
        }
    }
    out.texts = texts;
    for r in &mut out.marks {
        r.line = source(r.line).map_or(0, |s| s.line);
    }
    let back = |at: Option<(u64, crate::time::Stamp)>| {
        at.map(|(line, stamp)| (source(line).map_or(0, |s| s.line), stamp))
    };
    out.first = back(out.first);
    out.last = back(out.last);
    out.lines = objects.lines;
    out.unparsed = objects.unread;
    out.unframed = 0;
    out.long_lines = 0;
    // API times are UTC: they say nothing of the node's own zone, which
    // other inputs of the same host must not borrow from here.
    out.time = Default::default();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_by_content() {
        let list = br#"{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "count": 3,
            "involvedObject": {"#;
        assert_eq!(recognize(list), Some(Syntax::Json));
        assert_eq!(recognize(b"{\"level\":\"info\",\"msg\":\"x\"}\n"), None);
        assert_eq!(
            recognize(b"apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n"),
            Some(Syntax::Yaml)
        );
        assert_eq!(recognize(b"May  2 00:10:24 host dockerd: x\n"), None);
    }
}
