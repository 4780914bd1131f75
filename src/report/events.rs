//! `podmortem events`: the normalized events of a selection, in time order,
//! as aligned text or NDJSON. The selection is made here, on the report's
//! event records; nothing is re-derived.

use std::io::{self, Write};

use super::text::clean;
use super::{EventRecord, Report};

/// What a person asked to see; `None` means any.
#[derive(Debug, Default)]
pub struct Selection<'a> {
    /// A lowercase container ID or prefix.
    pub container: Option<&'a str>,
    /// `namespace/name`, or a bare pod name.
    pub pod: Option<&'a str>,
    pub kind: Option<&'a str>,
}

impl Selection<'_> {
    pub fn keeps(&self, e: &EventRecord) -> bool {
        let container = self
            .container
            .is_none_or(|id| e.containers.iter().any(|c| c.starts_with(id)));
        let pod = self.pod.is_none_or(|want| {
            e.pods
                .iter()
                .any(|p| p == want || p.split_once('/').is_some_and(|(_, name)| name == want))
        });
        let kind = self.kind.is_none_or(|k| e.kinds.iter().any(|x| x == k));
        container && pod && kind
    }
}

pub fn print_text(
    report: &Report,
    selection: &Selection<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let kept: Vec<&EventRecord> = report
        .events
        .iter()
        .filter(|e| selection.keeps(e))
        .collect();
    let kind_width = kept
        .iter()
        .map(|e| e.kinds.join(",").len())
        .max()
        .unwrap_or(0);
    for e in &kept {
        let container = e.containers.first().map_or("-", |c| &c[..c.len().min(12)]);
        let pod = e.pods.first().map_or("-", String::as_str);
        writeln!(
            out,
            "{}  {:10}  {:kind_width$}  {:12}  {}  {}:{}  {}",
            e.ts,
            clean(&e.source),
            e.kinds.join(","),
            container,
            clean(pod),
            clean(&e.file),
            e.line,
            clean(&e.text)
        )?;
    }
    writeln!(out, "{} of {} events", kept.len(), report.events.len())
}

pub fn print_ndjson(
    report: &Report,
    selection: &Selection<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    for e in report.events.iter().filter(|e| selection.keeps(e)) {
        serde_json::to_writer(&mut *out, e)?;
        writeln!(out)?;
    }
    Ok(())
}
