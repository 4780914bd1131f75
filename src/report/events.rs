//! `podmortem events`: the normalized events of a selection, in time order,
//! as aligned text or NDJSON. The selection is made here, on the report's
//! event records; nothing is re-derived.

use std::io::{self, Write};

use super::text::{clean, Style};
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

/// Aligned columns: time, source, kinds, container, pod, `file:line`, the
/// line. Colored on a terminal: the source by component, so the interleaved
/// programs of a merged stream stand apart; time and place dim.
pub fn print_text(
    report: &Report,
    selection: &Selection<'_>,
    style: Style,
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
        let source = format!("{:10}", clean(&e.source));
        writeln!(
            out,
            "{}  {}  {:kind_width$}  {:12}  {}  {}  {}",
            style.paint("2", &e.ts),
            style.paint(source_color(&e.source), &source),
            e.kinds.join(","),
            container,
            clean(pod),
            style.paint("2", &format!("{}:{}", clean(&e.file), e.line)),
            clean(&e.text)
        )?;
    }
    writeln!(out, "{} of {} events", kept.len(), report.events.len())?;
    for note in report.notes.iter().filter(|_| report.redacted) {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

/// A color per component that writes the lines.
fn source_color(source: &str) -> &'static str {
    match source {
        "kernel" => "35",
        "kubelet" => "34",
        "dockerd" => "36",
        "containerd" => "32",
        "systemd" => "33",
        _ => "39",
    }
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
