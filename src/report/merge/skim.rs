//! Reading one report for a merge: its incidents are skimmed, not built.
//! A merge of 10,000 reports of 50 incidents holds 500,000 incidents of
//! ~10 KB each (explanation, advice, evidence); built whole, they were the
//! merge's memory (7.5 GB). What ranking and fleet grouping need of an
//! incident is a few fields ([`Skimmed`]); the rest stays in the report's
//! file, where [`super::emit`] reads it again when the merged report is
//! written, and its place in the file (byte range) is all that is kept.
//! The rest of a report (inputs, stats, versions, notes…) is small and is
//! read whole, into the same [`Report`] type `analyze` builds, so that a
//! field added there is merged without a change here.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::report::fleet::{self, Facts, InputHosts, Sighting};
use crate::report::Report;
use crate::severity::Severity;

/// One report read for a merge.
pub struct Part {
    /// Everything but its incidents (and its fleet incidents, found again
    /// over the whole merge).
    pub report: Report,
    /// Its incidents, in the report's order.
    pub incidents: Vec<Skimmed>,
    /// Its incidents' sightings for fleet grouping, with the report's
    /// ranks.
    pub sightings: Vec<Sighting>,
    /// Every host it knows (inputs, versions, incidents).
    pub hosts: std::collections::BTreeSet<String>,
}

/// What a merge keeps of one incident until the merged report is written.
pub struct Skimmed {
    /// Byte range of its JSON object in the report's file.
    pub offset: u64,
    pub len: u32,
    /// Byte ranges, within the object, of its `rank` and `related` values.
    pub rank_at: (u32, u32),
    pub related_at: (u32, u32),
    /// Whether it can be copied as written, only its rank and `related`
    /// changed: printed as `analyze --format json` prints an incident
    /// (indented for its place in a report) and with no time relative to an
    /// input (those point at the input by index, which a merge shifts).
    pub verbatim: bool,
    pub rank: usize,
    pub related: Vec<usize>,
    pub score: f64,
    pub first_seen: Box<str>,
    pub title: Box<str>,
    pub severity: Severity,
    pub suppressed: bool,
}

/// How `to_writer_pretty` opens and closes an incident inside a report:
/// its keys at depth 3, itself at depth 2.
pub const OPEN: &str = "{\n      \"";
pub const CLOSE: &str = "\n    }";

/// Reads the report at `path`; errors say what the file is not.
pub fn read(path: &Path) -> anyhow::Result<Part> {
    use anyhow::Context;
    use std::io::Read;
    thread_local! {
        // One buffer per reading thread, reused from report to report: a
        // fresh one per report is fresh pages to fault in each time.
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with_borrow_mut(|bytes| {
        bytes.clear();
        std::fs::File::open(path)
            .and_then(|mut file| file.read_to_end(bytes))
            .with_context(|| format!("{}", path.display()))?;
        let part = parse(bytes).with_context(|| {
            format!(
                "{}: not a podmortem JSON report (`analyze --format json`)",
                path.display()
            )
        });
        if bytes.capacity() > 64 << 20 {
            // A huge report's buffer is not kept for the next one.
            *bytes = Vec::new();
        }
        part
    })
}

/// A report's bytes, skimmed.
pub fn parse(bytes: &[u8]) -> serde_json::Result<Part> {
    let top: Top = serde_json::from_slice(bytes)?;
    let Some(raw_incidents) = top.incidents else {
        return Err(de::Error::missing_field("incidents"));
    };
    // The rest, read whole as the report it is, with no incidents.
    let mut rest = String::from("{");
    for (key, value) in &top.rest {
        rest.push_str(&serde_json::to_string(key)?);
        rest.push(':');
        rest.push_str(value.get());
        rest.push(',');
    }
    rest.push_str("\"incidents\":[]}");
    let report: Report = serde_json::from_str(&rest)?;
    let input_hosts = InputHosts::of(&report.inputs);
    let mut hosts = fleet::hosts(&report);
    let base = bytes.as_ptr() as usize;
    let mut incidents = Vec::with_capacity(raw_incidents.len());
    let mut sightings = Vec::new();
    for raw in raw_incidents {
        let text = raw.get();
        let skim: Skim = serde_json::from_str(text)?;
        let rank: usize = serde_json::from_str(skim.rank_raw.get())?;
        let at = |v: &RawValue| {
            let start = v.get().as_ptr() as usize - text.as_ptr() as usize;
            (start as u32, (start + v.get().len()) as u32)
        };
        let relative = skim.first_relative.is_some()
            || skim.last_relative.is_some()
            || skim.timeline.iter().any(|t| t.relative.is_some())
            || skim.findings.iter().any(|f| {
                f.first_relative.is_some()
                    || f.last_relative.is_some()
                    || f.evidence.iter().any(|e| e.relative.is_some())
            });
        hosts.extend(skim.hosts.iter().cloned());
        sightings.extend(
            input_hosts.sighting(Facts {
                kind: &skim.kind,
                finding_kinds: skim.findings.iter().map(|f| f.kind.as_str()).collect(),
                evidence_files: skim
                    .findings
                    .iter()
                    .flat_map(|f| &f.evidence)
                    .map(|e| e.file.as_str())
                    .collect(),
                hosts: &skim.hosts,
                relative: skim.first_relative.is_some() || skim.last_relative.is_some(),
                first_seen: &skim.first_seen,
                last_seen: &skim.last_seen,
                severity: skim.severity,
                rank,
                components: skim.versions.iter().map(|v| v.component.as_str()).collect(),
            }),
        );
        let len = u32::try_from(text.len())
            .map_err(|_| de::Error::custom("an incident of 4 GiB or more"))?;
        incidents.push(Skimmed {
            offset: (text.as_ptr() as usize - base) as u64,
            len,
            rank_at: at(skim.rank_raw),
            related_at: at(skim.related_raw),
            verbatim: !relative && text.starts_with(OPEN) && text.ends_with(CLOSE),
            rank,
            related: serde_json::from_str(skim.related_raw.get())?,
            score: skim.score,
            first_seen: skim.first_seen.into(),
            title: skim.title.into(),
            severity: skim.severity,
            suppressed: skim.suppressed.is_some(),
        });
    }
    Ok(Part {
        report,
        incidents,
        sightings,
        hosts,
    })
}

/// A report's top level: its incidents as raw JSON, its fleet incidents
/// passed over, the rest raw until read as a [`Report`].
struct Top<'a> {
    incidents: Option<Vec<&'a RawValue>>,
    rest: Vec<(String, &'a RawValue)>,
}

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TopVisitor;
        impl<'de> Visitor<'de> for TopVisitor {
            type Value = Top<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a podmortem report object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
                let mut top = Top {
                    incidents: None,
                    rest: Vec::new(),
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "incidents" => top.incidents = Some(map.next_value()?),
                        "fleet" => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        _ => {
                            let value = map.next_value()?;
                            top.rest.push((key, value));
                        }
                    }
                }
                Ok(top)
            }
        }
        d.deserialize_map(TopVisitor)
    }
}

/// The fields of an incident a merge reads; `rank` and `related` raw, to
/// know where they are.
#[derive(Deserialize)]
struct Skim<'a> {
    #[serde(rename = "rank", borrow)]
    rank_raw: &'a RawValue,
    #[serde(rename = "related", borrow)]
    related_raw: &'a RawValue,
    kind: String,
    suppressed: Option<IgnoredAny>,
    title: String,
    severity: Severity,
    score: f64,
    first_seen: String,
    last_seen: String,
    first_relative: Option<IgnoredAny>,
    last_relative: Option<IgnoredAny>,
    hosts: Vec<String>,
    findings: Vec<FindingSkim>,
    timeline: Vec<Relative>,
    versions: Vec<VersionSkim>,
}

#[derive(Deserialize)]
struct FindingSkim {
    kind: String,
    first_relative: Option<IgnoredAny>,
    last_relative: Option<IgnoredAny>,
    evidence: Vec<EvidenceSkim>,
}

#[derive(Deserialize)]
struct EvidenceSkim {
    file: String,
    relative: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Relative {
    relative: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct VersionSkim {
    component: String,
}
