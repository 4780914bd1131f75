//! Writing a merge. The merged JSON report is written as `analyze --format
//! json` prints one, but incident by incident: each is read again from its
//! report's file (the byte range [`super::skim`] kept) and, when it was
//! printed as `analyze` prints one, copied with only its `rank` and
//! `related` rewritten; otherwise (a report printed compact, an incident
//! with times relative to an input, whose index moves) it is read whole,
//! changed and printed. Incidents are rendered in parallel, a chunk at a
//! time, so that memory holds one chunk of text, never the report's.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use super::skim::{Skimmed, CLOSE, OPEN};
use super::{shift, Merged};
use crate::report::{Incident, Report};

/// Incidents rendered at once: ~10 MB of text at 10 KB an incident.
const CHUNK: usize = 1024;

impl Merged {
    /// Writes the merged report as JSON, as [`crate::report::json::print`]
    /// would print [`Merged::into_report`], without building it.
    pub fn write_json(&self, out: &mut dyn Write) -> Result<()> {
        let doc = serde_json::to_string_pretty(&self.report)?;
        // The only key at depth 1 followed by an empty array: a key's line
        // starts with its indentation, and strings hold no raw newline.
        const EMPTY: &str = "\n  \"incidents\": []";
        let at = match (self.ranked.is_empty(), doc.find(EMPTY)) {
            (false, Some(at)) => at,
            _ => {
                out.write_all(doc.as_bytes())?;
                return Ok(writeln!(out)?);
            }
        };
        let open = at + EMPTY.len() - 1;
        out.write_all(&doc.as_bytes()[..open])?;
        let mut separator: &[u8] = b"\n    ";
        for chunk in self.ranked.chunks(CHUNK) {
            let texts: Vec<Result<Vec<u8>>> = chunk
                .par_iter()
                .map(|(file, incident)| self.json_of(*file, incident))
                .collect();
            for text in texts {
                out.write_all(separator)?;
                out.write_all(&text?)?;
                separator = b",\n    ";
            }
        }
        out.write_all(b"\n  ")?;
        out.write_all(&doc.as_bytes()[open..])?;
        Ok(writeln!(out)?)
    }

    /// The whole merged report, every incident read and built (for the
    /// printers that need it: text, Markdown, HTML, JUnit, SARIF).
    pub fn into_report(self) -> Result<Report> {
        let incidents: Vec<Result<Incident>> = self
            .ranked
            .par_iter()
            .map(|(file, incident)| self.incident(*file, incident))
            .collect();
        let mut report = self.report;
        report.incidents = incidents.into_iter().collect::<Result<_>>()?;
        Ok(report)
    }

    /// One incident as it is printed inside the merged JSON report.
    fn json_of(&self, file: u32, skimmed: &Skimmed) -> Result<Vec<u8>> {
        if !skimmed.verbatim {
            let text = serde_json::to_vec_pretty(&self.incident(file, skimmed)?)?;
            return Ok(indent(&text, 4));
        }
        let (path, _) = &self.files[file as usize];
        let bytes = read_range(path, skimmed)?;
        if !(bytes.starts_with(OPEN.as_bytes()) && bytes.ends_with(CLOSE.as_bytes())) {
            bail!("{}: changed while it was merged", path.display());
        }
        let rank = skimmed.rank.to_string();
        let related = indent(&serde_json::to_vec_pretty(&skimmed.related)?, 6);
        let mut spans = [
            (skimmed.rank_at, rank.as_bytes()),
            (skimmed.related_at, related.as_slice()),
        ];
        spans.sort_by_key(|((start, _), _)| *start);
        let mut text = Vec::with_capacity(bytes.len() + related.len());
        let mut from = 0;
        for ((start, end), with) in spans {
            text.extend_from_slice(&bytes[from..start as usize]);
            text.extend_from_slice(with);
            from = end as usize;
        }
        text.extend_from_slice(&bytes[from..]);
        Ok(text)
    }

    /// One incident read whole from its report, its rank, `related` and
    /// relative times those of the merge.
    fn incident(&self, file: u32, skimmed: &Skimmed) -> Result<Incident> {
        let (path, input_base) = &self.files[file as usize];
        let bytes = read_range(path, skimmed)?;
        let mut incident: Incident = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: changed while it was merged", path.display()))?;
        incident.rank = skimmed.rank;
        incident.related = skimmed.related.clone();
        shift_inputs(&mut incident, *input_base);
        Ok(incident)
    }
}

/// The bytes of one incident in its report's file.
fn read_range(path: &Path, skimmed: &Skimmed) -> Result<Vec<u8>> {
    let mut bytes = vec![0; skimmed.len as usize];
    let mut file = File::open(path).with_context(|| format!("{}", path.display()))?;
    file.seek(SeekFrom::Start(skimmed.offset))?;
    file.read_exact(&mut bytes)
        .with_context(|| format!("{}: changed while it was merged", path.display()))?;
    Ok(bytes)
}

/// Pretty JSON printed at depth 0, indented by `by` spaces to sit deeper
/// (a string holds no raw newline: every newline starts a line).
fn indent(text: &[u8], by: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 8);
    for &b in text {
        out.push(b);
        if b == b'\n' {
            out.extend(std::iter::repeat_n(b' ', by));
        }
    }
    out
}

/// Points an incident's relative times at the merged inputs.
fn shift_inputs(incident: &mut Incident, base: usize) {
    shift(&mut incident.first_relative, base);
    shift(&mut incident.last_relative, base);
    for f in &mut incident.findings {
        shift(&mut f.first_relative, base);
        shift(&mut f.last_relative, base);
        for e in &mut f.evidence {
            shift(&mut e.relative, base);
        }
    }
    for t in &mut incident.timeline {
        shift(&mut t.relative, base);
    }
}
