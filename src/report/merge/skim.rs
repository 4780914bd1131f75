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

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use serde::de::value::MapDeserializer;
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
    /// Its file, still open, to read its incidents again from (none when
    /// parsed from bytes).
    pub file: Option<std::fs::File>,
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
        let mut file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
        file.read_to_end(bytes)
            .with_context(|| format!("{}", path.display()))?;
        let part = parse(bytes).map(|part| Part {
            file: Some(file),
            ..part
        });
        let part = part.with_context(|| {
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

/// A report's bytes, skimmed: one pass of the parser over them. Each
/// incident's values are passed over as raw JSON (their place in the
/// bytes, checked but not built), and only those a merge reads are parsed
/// again from there ([`READ`]: a tenth of an incident's bytes).
pub fn parse(bytes: &[u8]) -> serde_json::Result<Part> {
    let top: Top = serde_json::from_slice(bytes)?;
    let Some(located) = top.incidents else {
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
    let mut incidents = Vec::with_capacity(located.len());
    let mut sightings = Vec::new();
    for Located { key, end, fields } in located {
        // Its `{`: before its first key's quote, past white space; its
        // `}`: after its last value, past white space.
        let start = bytes[..key - base - 1]
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .filter(|&at| bytes[at] == b'{')
            .ok_or_else(|| de::Error::custom("an incident object out of shape"))?;
        let close = (end - base)
            + bytes[end - base..]
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .filter(|&n| bytes[end - base + n] == b'}')
                .ok_or_else(|| de::Error::custom("an incident object out of shape"))?;
        let text = &bytes[start..=close];
        let skim = Skim::deserialize(MapDeserializer::<_, serde_json::Error>::new(
            fields.into_iter(),
        ))?;
        let rank: usize = serde_json::from_str(skim.rank_raw.get())?;
        let at = |v: &RawValue| {
            let from = v.get().as_ptr() as usize - base - start;
            (from as u32, (from + v.get().len()) as u32)
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
                finding_kinds: skim.findings.iter().map(|f| &*f.kind).collect(),
                evidence_files: skim
                    .findings
                    .iter()
                    .flat_map(|f| &f.evidence)
                    .map(|e| &*e.file)
                    .collect(),
                hosts: &skim.hosts,
                relative: skim.first_relative.is_some() || skim.last_relative.is_some(),
                first_seen: &skim.first_seen,
                last_seen: &skim.last_seen,
                severity: skim.severity,
                rank,
                components: skim.versions.iter().map(|v| &*v.component).collect(),
            }),
        );
        let len = u32::try_from(text.len())
            .map_err(|_| de::Error::custom("an incident of 4 GiB or more"))?;
        incidents.push(Skimmed {
            offset: start as u64,
            len,
            rank_at: at(skim.rank_raw),
            related_at: at(skim.related_raw),
            verbatim: !relative
                && text.starts_with(OPEN.as_bytes())
                && text.ends_with(CLOSE.as_bytes()),
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
        file: None,
    })
}

/// A report's top level: its incidents located, their fleet incidents
/// passed over, the rest raw until read as a [`Report`].
struct Top<'a> {
    incidents: Option<Vec<Located<'a>>>,
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

/// The keys of an incident a merge reads ([`Skim`]'s fields).
const READ: [&str; 15] = [
    "rank",
    "related",
    "kind",
    "suppressed",
    "title",
    "severity",
    "score",
    "first_seen",
    "last_seen",
    "first_relative",
    "last_relative",
    "hosts",
    "findings",
    "timeline",
    "versions",
];

/// One incident as the parser passes it: where its first key and its last
/// value lie (addresses in the report's bytes), and the values of the keys
/// it reads, raw.
struct Located<'a> {
    key: usize,
    end: usize,
    fields: Vec<(&'static str, &'a RawValue)>,
}

impl<'de> Deserialize<'de> for Located<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LocatedVisitor;
        impl<'de> Visitor<'de> for LocatedVisitor {
            type Value = Located<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an incident object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Located<'de>, A::Error> {
                let mut located = Located {
                    key: 0,
                    end: 0,
                    fields: Vec::with_capacity(READ.len()),
                };
                while let Some(Key(key)) = map.next_key()? {
                    if located.key == 0 {
                        // The first key's place tells where the object
                        // starts: known when it is borrowed, as every key
                        // podmortem prints is (no escape).
                        let Cow::Borrowed(first) = key else {
                            return Err(de::Error::custom("an incident's first key escaped"));
                        };
                        located.key = first.as_ptr() as usize;
                    }
                    let value: &'de RawValue = map.next_value()?;
                    located.end = value.get().as_ptr() as usize + value.get().len();
                    if let Some(name) = READ.iter().find(|name| **name == key) {
                        located.fields.push((name, value));
                    }
                }
                if located.key == 0 {
                    return Err(de::Error::custom("an empty incident"));
                }
                Ok(located)
            }
        }
        d.deserialize_map(LocatedVisitor)
    }
}

/// A key, borrowed from the report's bytes when it holds no escape (its
/// address is then its place).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The fields of an incident a merge reads; `rank` and `related` raw, to
/// know where they are. Strings are borrowed from the report's bytes when
/// they hold no escape.
#[derive(Deserialize)]
struct Skim<'a> {
    #[serde(rename = "rank", borrow)]
    rank_raw: &'a RawValue,
    #[serde(rename = "related", borrow)]
    related_raw: &'a RawValue,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    suppressed: Option<IgnoredAny>,
    #[serde(borrow)]
    title: Cow<'a, str>,
    severity: Severity,
    score: f64,
    #[serde(borrow)]
    first_seen: Cow<'a, str>,
    #[serde(borrow)]
    last_seen: Cow<'a, str>,
    first_relative: Option<IgnoredAny>,
    last_relative: Option<IgnoredAny>,
    hosts: Vec<String>,
    #[serde(borrow)]
    findings: Vec<FindingSkim<'a>>,
    timeline: Vec<Relative>,
    #[serde(borrow)]
    versions: Vec<VersionSkim<'a>>,
}

#[derive(Deserialize)]
struct FindingSkim<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    first_relative: Option<IgnoredAny>,
    last_relative: Option<IgnoredAny>,
    #[serde(borrow)]
    evidence: Vec<EvidenceSkim<'a>>,
}

#[derive(Deserialize)]
struct EvidenceSkim<'a> {
    #[serde(borrow)]
    file: Cow<'a, str>,
    relative: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Relative {
    relative: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct VersionSkim<'a> {
    #[serde(borrow)]
    component: Cow<'a, str>,
}
