//! The report model: one plain, serializable structure that every printer
//! reads ([`text`], [`json`], [`markdown`], [`html`], [`junit`], [`sarif`]; the last
//! two also read the grammar's detector list, to name every kind that ran). Printers never re-derive incidents; all
//! ranking and wording decisions are made once, in [`build`].
//!
//! JSON schema (version 1; fields are only ever added):
//! ```text
//! { "schema_version": 1,
//!   "inputs":   [{ "path", "format", "inferred": [], "bytes", "lines", "unparsed", "unframed", "long_lines",
//!                  "utc_offset", "hosts": [], "first", "last", "year_from", "zone_from" }],
//!   "errors":   [{ "path", "message" }],          (named inputs that could not be read)
//!   "skipped":  [{ "path", "message" }],          (binary, corrupt or partly read files)
//!   "bundles":  [{ "root", "kind" }], "ignored",  (support bundle layouts; non-log files)
//!   "conditions": [{ "host", "condition", "status", "abnormal", "from", "to", "last_seen", "reason",
//!                    "message", "during": [], "sources": [] }],   (only when a line states one)
//!   "incidents":[{ "rank", "kind", "chain", "related": [ranks], "suppressed", "title", "severity", "score",
//!                  "first_seen", "last_seen", "duration_s", "first_relative", "last_relative",
//!                  "nearby": [{ "kind", "subject", "severity", "first_seen", "last_seen" }],
//!                  "hosts": [], "pods": ["ns/name"], "containers": ["<64-hex or longest seen>"],
//!                  "findings": [{ "kind", "source", "sources", "severity", "subject", "count", "lines",
//!                                 "first_seen", "last_seen", "first_relative", "last_relative", "period_s",
//!                                 "evidence": [{ "file", "line", "ts", "relative", "level", "text",
//!                                                "context": [] (only when the program wrote more with it) }] }],
//!                  "timeline": [{ "ts", "relative", "kind", "text" }],
//!                  "explanation", "remediation", "remediation_steps": [], "references": [],
//!                  "remediation_advice": [{ "step", "destructive", "after" (destructive steps only) }],
//!                  "versions": [{ "component", "version", "host", "fixed_in", "has_fix" }] }],
//!   "stats":    { "bytes", "lines", "unparsed", "unframed", "long_lines", "untimed", "duplicates",
//!                 "outside_window", "events",
//!                 "findings", "elapsed_ms", "mb_per_s" },
//!   "notes":    [],                              (only when there is something to say)
//!   "redacted": true,                            (only with --redact)
//!   "fleet":    [{ "scope": "fleet", "rank", "kind", "title", "severity", "first_seen", "last_seen",
//!                  "fleet_size", "hosts": [{ "host", "first_seen", "last_seen", "incidents": [ranks],
//!                                            "versions": [{ "component", "version" }] }],
//!                  "clean_hosts": [], "incidents": [ranks],
//!                  "versions": [{ "component", "affected": [{ "version", "hosts" }], "clean": [..],
//!                                 "affected_unknown": [], "splits" }] }],   (only with 2+ hosts hit)
//!   "host_versions": [{ "host", "component", "version" }] }   (only when the logs state one)
//! ```
//! The JSON Schema of all this is generated from these types (`podmortem
//! schema`) and committed as `schema/report.schema.json`.
//! Times are RFC 3339 with the offset of the input they came from. An event
//! whose line gives no wall-clock time (raw `dmesg` without a known boot
//! time, logrus' seconds since start, `dmesg -t`) is still analyzed, on its
//! input's own axis: its `ts` / `first_seen` / `last_seen` then read
//! `+8123.0 s after boot`, `+42.0 s after start` or `line 412, time
//! unknown`, and the `*relative` fields (present only then) give `{ "clock":
//! "since_boot" | "since_start" | "line", "input": index into inputs,
//! "seconds" (absent for "line"), "line" }`. `stats.untimed` counts such
//! events; `--boot-time` turns times since boot into instants. `nearby`
//! lists node-wide findings on the same host at the same time that no
//! entity ties to the incident: they do not change its severity.

mod build;
pub mod conditions;
pub mod events;
pub mod fleet;
mod fold;
pub mod grammars;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod sarif;
pub mod text;

pub use build::{build, rfc3339, when, Analysis};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::severity::Severity;

pub const SCHEMA_VERSION: u32 = 1;

/// The JSON Schema of `--format json` reports, generated from these types
/// (committed as `schema/report.schema.json`; a test keeps the two equal).
pub fn schema() -> String {
    let mut schema = schemars::schema_for!(Report);
    schema.insert(
        "title".to_string(),
        format!("podmortem report, schema_version {SCHEMA_VERSION}").into(),
    );
    // A schema serializes without fail: it is plain JSON values.
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    pub schema_version: u32,
    pub inputs: Vec<InputSummary>,
    /// Named inputs of which nothing could be read.
    pub errors: Vec<InputFailure>,
    /// Files passed over or read only in part, inside what was read.
    pub skipped: Vec<InputFailure>,
    /// Support bundle layouts recognized.
    pub bundles: Vec<BundleSummary>,
    /// Files inside bundles that are not logs and were not read.
    pub ignored: usize,
    pub incidents: Vec<Incident>,
    /// Incidents of one kind on several hosts at about the same time
    /// (`scope: "fleet"`), each grouping per-host incidents: [`fleet`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fleet: Vec<fleet::FleetIncident>,
    /// Every component version the logs state, with the host that stated
    /// it: what fleet incidents compare across hosts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_versions: Vec<HostVersion>,
    /// Listings of the node's state recognized among the inputs (cgroup
    /// trees, task and pod directories, runtime listings; see
    /// [`crate::state`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listings: Vec<crate::state::ListingSummary>,
    /// The nodes' conditions over time ([`conditions`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<conditions::ConditionPeriod>,
    /// Every matched event, only for `podmortem events`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventRecord>,
    pub stats: Stats,
    /// What the reader must know to read the times (events without a
    /// wall-clock time and how to place them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Whether names, addresses and secrets were replaced by pseudonyms
    /// (`--redact`, [`crate::redact`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

/// A time that is not on the wall clock: the clock it was read on and the
/// reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RelativeTime {
    /// `since_boot`, `since_start`, or `line` when only the line is known.
    #[schemars(with = "Clock")]
    pub clock: String,
    /// Index into `inputs`: the input whose own axis it is on.
    pub input: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// The clocks a [`RelativeTime`] can be on, as the schema names them.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // only its schema is used: the field holds the name
enum Clock {
    SinceBoot,
    SinceStart,
    Line,
}

impl RelativeTime {
    /// `None` for a wall-clock time.
    pub fn of(t: crate::time::EventTime) -> Option<RelativeTime> {
        use crate::time::EventTime;
        let (clock, input, line) = match t {
            EventTime::Wall(_) => return None,
            EventTime::SinceBoot { input, .. } => ("since_boot", input, None),
            EventTime::SinceStart { input, .. } => ("since_start", input, None),
            EventTime::Line { input, line } => ("line", input, Some(line)),
        };
        Some(RelativeTime {
            clock: clock.to_string(),
            input: input as usize,
            seconds: t.relative_secs().map(|s| (s * 1e6).round() / 1e6),
            line,
        })
    }
}

/// A node-wide finding on the same host at the same time as an incident,
/// which no entity ties to it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Nearby {
    pub kind: String,
    pub subject: String,
    pub severity: Severity,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ComponentVersion {
    pub component: String,
    pub version: String,
    pub host: Option<String>,
    pub fixed_in: String,
    pub has_fix: bool,
}

/// A component version the logs state (`msg="Docker daemon" … version=`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct HostVersion {
    /// The host whose envelope carried the line, if it named one.
    pub host: Option<String>,
    pub component: String,
    pub version: String,
}

/// One matched line, normalized: what `podmortem events` prints.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct EventRecord {
    pub ts: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative: Option<RelativeTime>,
    pub host: Option<String>,
    pub source: String,
    pub pattern: String,
    /// The finding kinds whose detectors count this line.
    pub kinds: Vec<String>,
    pub containers: Vec<String>,
    pub pods: Vec<String>,
    pub file: String,
    pub line: u64,
    pub text: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct InputSummary {
    pub path: String,
    pub format: String,
    /// What was inferred about the bytes and lines besides the format
    /// (`UTF-16LE decoded`, `grep -n prefix stripped`).
    pub inferred: Vec<String>,
    pub bytes: u64,
    pub lines: u64,
    /// Lines no format reads.
    pub unparsed: u64,
    /// Of the unparsed lines, those a pattern matched all the same
    /// ("matched without envelope").
    pub unframed: u64,
    pub long_lines: u64,
    /// The zone the input's local times were read in.
    pub utc_offset: String,
    /// Hosts its envelopes name.
    pub hosts: Vec<String>,
    /// Its first and last time (when its records print one): RFC 3339, or
    /// its place on the input's own clock (`+12.5 s after boot`).
    pub first: Option<String>,
    pub last: Option<String>,
    pub year_from: crate::time::Provenance,
    pub zone_from: crate::time::Provenance,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct BundleSummary {
    pub root: String,
    pub kind: crate::discover::BundleKind,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct InputFailure {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Incident {
    pub rank: usize,
    pub kind: String,
    /// The causal chain its findings form (`grammars/*.toml` `[[chain]]`).
    pub chain: Option<String>,
    /// Why it does not fail the run (`--suppress`, `--baseline`), if so.
    pub suppressed: Option<String>,
    /// Ranks of incidents on the same host at the same time, across the
    /// node/pod divide (a node-wide PLEG incident and the pods it hurt).
    pub related: Vec<usize>,
    pub title: String,
    pub severity: Severity,
    pub score: f64,
    pub first_seen: String,
    pub last_seen: String,
    /// Seconds from first to last on their clock (0 when only lines are
    /// known).
    pub duration_s: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_relative: Option<RelativeTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_relative: Option<RelativeTime>,
    /// Node-wide findings near it that no entity ties to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nearby: Vec<Nearby>,
    pub hosts: Vec<String>,
    pub pods: Vec<String>,
    pub containers: Vec<String>,
    pub findings: Vec<FindingReport>,
    pub timeline: Vec<TimelineEntry>,
    pub explanation: String,
    pub remediation: String,
    /// The steps as printed: a destructive one opens with [`DESTRUCTIVE`].
    pub remediation_steps: Vec<String>,
    /// The same steps as the grammar marks them.
    pub remediation_advice: Vec<Advice>,
    /// Versions the logs state of the components whose version decides a
    /// fix (`dockerd_stop_loop`: Docker ≥ 20.10.10).
    pub versions: Vec<ComponentVersion>,
    pub references: Vec<String>,
    /// Set when this incident stands for many low ones alike on its host
    /// (`src/report/fold.rs`): its findings and evidence are the worst
    /// one's, its pods, containers and times those of all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folded: Option<Folded>,
}

/// How many incidents a folded one stands for.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Folded {
    pub incidents: usize,
    /// How many times it happened in all (their findings' counts).
    pub count: usize,
    /// The lines their findings matched, all together.
    pub lines: usize,
}

impl Folded {
    /// What a folded incident stands for, in every format.
    pub fn describe(&self) -> String {
        format!(
            "stands for {} low incidents alike on this host ({} times, {} lines in all); \
             its findings and evidence are the worst one's",
            self.incidents, self.count, self.lines
        )
    }
}

impl Incident {
    /// How many times it happened: a fold's total, else its findings'.
    pub fn count(&self) -> usize {
        self.folded
            .as_ref()
            .map_or_else(|| self.findings.iter().map(|f| f.count).sum(), |f| f.count)
    }

    /// Whether it fails a run gated at `level` (`--fail-on`): severe
    /// enough, and not suppressed.
    pub fn fails(&self, level: Severity) -> bool {
        self.severity >= level && self.suppressed.is_none()
    }
}

/// One remediation step as the grammar marks it: a step that can stop
/// workloads or delete data is `destructive`, safe only once `after` holds.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Advice {
    pub step: String,
    pub destructive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// What opens a destructive step in every format, so that nobody runs it
/// without reading its condition.
pub const DESTRUCTIVE: &str = "⚠ DESTRUCTIVE";

impl Advice {
    pub fn from_step(step: &crate::grammar::Step) -> Advice {
        Advice {
            step: step.text.clone(),
            destructive: step.destructive,
            after: step.after.clone(),
        }
    }

    /// What a destructive step opens with: the warning and its condition.
    pub fn warning(&self) -> Option<String> {
        match (&self.after, self.destructive) {
            (Some(after), true) => Some(format!(
                "{DESTRUCTIVE} (can stop workloads or delete data), only once {after}:"
            )),
            (None, true) => Some(format!(
                "{DESTRUCTIVE} (can stop workloads or delete data):"
            )),
            _ => None,
        }
    }

    /// The step as one line of text, its warning first when destructive.
    pub fn line(&self) -> String {
        match self.warning() {
            Some(warning) => format!("{warning} {}", self.step),
            None => self.step.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct FindingReport {
    pub kind: String,
    /// The component that wrote most of the finding's lines.
    pub source: String,
    pub sources: Vec<String>,
    pub severity: Severity,
    /// The entity the detector counted per (a container ID, a pod).
    pub subject: String,
    /// How many times it happened (the lines one failure writes at once
    /// count once).
    pub count: usize,
    /// How many lines it matched.
    pub lines: usize,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_relative: Option<RelativeTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_relative: Option<RelativeTime>,
    pub period_s: Option<f64>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    pub file: String,
    pub line: u64,
    pub ts: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative: Option<RelativeTime>,
    /// The level the program gave the line (klog, logrus, CNI), if any.
    pub level: Option<crate::format::Level>,
    pub text: String,
    /// What the program wrote with it, as the messages of the lines that
    /// followed (a hung task's state and call trace); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TimelineEntry {
    pub ts: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative: Option<RelativeTime>,
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Stats {
    pub bytes: u64,
    pub lines: u64,
    pub unparsed: u64,
    /// Unparsed lines matched all the same ("matched without envelope").
    pub unframed: u64,
    pub long_lines: u64,
    /// Events with no wall-clock time: analyzed on their input's own axis.
    pub untimed: u64,
    /// Events dropped because another input held the same one.
    pub duplicates: u64,
    /// Events outside `--since`/`--until`.
    pub outside_window: u64,
    pub events: usize,
    pub findings: usize,
    pub elapsed_ms: u64,
    pub mb_per_s: f64,
}
