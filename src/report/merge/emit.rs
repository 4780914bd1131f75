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

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use super::skim::{Skimmed, CLOSE, OPEN};
use super::{shift, Merged, Source};
use crate::report::{Incident, Report};

/// Incidents rendered at once: ~10 MB of text at 10 KB an incident.
const CHUNK: usize = 1024;

/// How the report without incidents prints their place: the only key at
/// depth 1 followed by an empty array (a key's line starts with its
/// indentation, and a string holds no raw newline).
const EMPTY: &[u8] = b"\n  \"incidents\": []";

impl Merged {
    /// Writes the merged report as JSON, as [`crate::report::json::print`]
    /// would print [`Merged::into_report`], without building it: the
    /// report without incidents is printed, and they are written in their
    /// place as the printing passes it.
    pub fn write_json(&self, out: &mut dyn Write) -> Result<()> {
        let mut splice = Splice {
            out: &mut *out,
            merged: self,
            matched: 0,
            done: self.ranked.is_empty(),
            failed: false,
            stage: Vec::new(),
        };
        // Through a buffer: the printer writes a token at a time, and the
        // splice looks at every byte until it has found the place.
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut splice);
        serde_json::to_writer_pretty(&mut buffered, &self.report)?;
        buffered.flush()?;
        drop(buffered);
        if !splice.done {
            bail!("the merged report has no place for its incidents");
        }
        Ok(writeln!(out)?)
    }

    /// The incidents, in rank order, as they sit in the report's array
    /// (without its brackets). A chunk is written while the workers render
    /// the next one into a second set of buffers.
    fn write_incidents(&self, out: &mut dyn Write) -> Result<()> {
        let workers = rayon::current_num_threads().max(1) * 4;
        // Reused from chunk to chunk: no fresh pages for each.
        let mut rendering: Vec<Vec<u8>> = vec![Vec::new(); workers];
        let mut writing: Vec<Vec<u8>> = vec![Vec::new(); workers];
        // How many of `writing` hold the previous chunk.
        let mut ready = 0;
        let mut separator = 1;
        for chunk in self.ranked.chunks(CHUNK) {
            let mut rendered = Ok(0);
            rayon::in_place_scope(|scope| {
                scope.spawn(|_| rendered = self.render(chunk, &mut rendering));
                write_out(&writing[..ready], &mut separator, out)
            })?;
            ready = rendered?;
            std::mem::swap(&mut rendering, &mut writing);
        }
        write_out(&writing[..ready], &mut separator, out)
    }

    /// A chunk of incidents as they sit in the report's array, each after
    /// a comma, into the first buffers (as many as it returns).
    fn render(&self, chunk: &[(u32, Skimmed)], buffers: &mut [Vec<u8>]) -> Result<usize> {
        let run = chunk.len().div_ceil(buffers.len());
        buffers
            .par_iter_mut()
            .zip(chunk.par_chunks(run))
            .map(|(buffer, incidents)| {
                buffer.clear();
                for (file, incident) in incidents {
                    buffer.extend_from_slice(b",\n    ");
                    self.json_into(*file, incident, buffer)?;
                }
                Ok(())
            })
            .collect::<Result<()>>()?;
        Ok(chunk.len().div_ceil(run))
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

    /// One incident as it is printed inside the merged JSON report,
    /// added to `text`.
    fn json_into(&self, file: u32, skimmed: &Skimmed, text: &mut Vec<u8>) -> Result<()> {
        if !skimmed.verbatim {
            let whole = serde_json::to_vec_pretty(&self.incident(file, skimmed)?)?;
            indent_into(&whole, 4, text);
            return Ok(());
        }
        let source = &self.files[file as usize];
        let path = &source.path;
        READ.with_borrow_mut(|bytes| {
            read_range(source, skimmed, bytes)?;
            if !(bytes.starts_with(OPEN.as_bytes()) && bytes.ends_with(CLOSE.as_bytes())) {
                bail!("{}: changed while it was merged", path.display());
            }
            let rank = skimmed.rank.to_string();
            let mut related = Vec::new();
            indent_into(
                &serde_json::to_vec_pretty(&skimmed.related)?,
                6,
                &mut related,
            );
            let mut spans = [
                (skimmed.rank_at, rank.as_bytes()),
                (skimmed.related_at, related.as_slice()),
            ];
            spans.sort_by_key(|((start, _), _)| *start);
            let mut from = 0;
            for ((start, end), with) in spans {
                text.extend_from_slice(&bytes[from..start as usize]);
                text.extend_from_slice(with);
                from = end as usize;
            }
            text.extend_from_slice(&bytes[from..]);
            Ok(())
        })
    }

    /// One incident read whole from its report, its rank, `related` and
    /// relative times those of the merge.
    fn incident(&self, file: u32, skimmed: &Skimmed) -> Result<Incident> {
        let source = &self.files[file as usize];
        let mut incident: Incident = READ.with_borrow_mut(|bytes| {
            read_range(source, skimmed, bytes)?;
            serde_json::from_slice(bytes)
                .with_context(|| format!("{}: changed while it was merged", source.path.display()))
        })?;
        incident.rank = skimmed.rank;
        incident.related = skimmed.related.clone();
        shift_inputs(&mut incident, source.input_base);
        Ok(incident)
    }
}

thread_local! {
    /// Each worker's buffer for the incident it reads.
    static READ: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The bytes of one incident in its report's file, into `bytes`: read
/// from the file kept open, else from the file opened again.
fn read_range(source: &Source, skimmed: &Skimmed, bytes: &mut Vec<u8>) -> Result<()> {
    let path = &source.path;
    let changed = || format!("{}: changed while it was merged", path.display());
    bytes.resize(skimmed.len as usize, 0);
    #[cfg(unix)]
    if let Some(file) = &source.file {
        use std::os::unix::fs::FileExt;
        return file
            .read_exact_at(bytes, skimmed.offset)
            .with_context(changed);
    }
    let mut file = File::open(path).with_context(|| format!("{}", path.display()))?;
    file.seek(SeekFrom::Start(skimmed.offset))?;
    file.read_exact(bytes).with_context(changed)
}

/// How many reports' files a merge keeps open: the process's limit on
/// open files, raised to its hard limit (as Go programs do at start), less
/// room for the reports being read (a batch of 256) and for the rest. A
/// report past it is opened again for each of its incidents. None where
/// files are not read at an offset without a seek shared by threads.
pub(super) fn open_budget() -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max.min(1 << 20),
                ..limit
            };
            // SAFETY: setrlimit only reads the struct it is given; a
            // refusal leaves the limit as it was.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                limit = raised;
            }
        }
        usize::try_from(limit.rlim_cur)
            .unwrap_or(usize::MAX)
            .saturating_sub(512)
    }
    #[cfg(not(unix))]
    0
}

/// Rendered incidents written out; the very first has no comma before it
/// (`separator` is 1 until then).
fn write_out(buffers: &[Vec<u8>], separator: &mut usize, out: &mut dyn Write) -> Result<()> {
    for buffer in buffers {
        out.write_all(&buffer[std::mem::take(separator)..])?;
    }
    Ok(())
}

/// Pretty JSON printed at depth 0, added to `out` indented by `by` spaces
/// to sit deeper (a string holds no raw newline: every newline starts a
/// line).
fn indent_into(text: &[u8], by: usize, out: &mut Vec<u8>) {
    for line in text.split_inclusive(|&b| b == b'\n') {
        out.extend_from_slice(line);
        if line.ends_with(b"\n") {
            out.extend(std::iter::repeat_n(b' ', by));
        }
    }
}

/// Passes a printed report through, writing the incidents into the
/// empty array that stands for them ([`EMPTY`]).
struct Splice<'a> {
    out: &'a mut dyn Write,
    merged: &'a Merged,
    /// How much of [`EMPTY`] the last bytes were: held back until known.
    matched: usize,
    done: bool,
    /// Writing the incidents failed: nothing more is written (the buffer
    /// before it flushes again when dropped).
    failed: bool,
    stage: Vec<u8>,
}

impl Write for Splice<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failed {
            return Err(std::io::Error::other("the merged report was cut short"));
        }
        if self.done {
            return self.out.write(buf);
        }
        for (i, &b) in buf.iter().enumerate() {
            if b == EMPTY[self.matched] {
                self.matched += 1;
                if self.matched == EMPTY.len() {
                    // Up to the `[`, the incidents, then the closing line.
                    self.stage.extend_from_slice(&EMPTY[..EMPTY.len() - 1]);
                    self.out.write_all(&self.stage)?;
                    self.stage.clear();
                    if let Err(e) = self.merged.write_incidents(self.out) {
                        self.failed = true;
                        return Err(std::io::Error::other(e));
                    }
                    self.out.write_all(b"\n  ]")?;
                    self.done = true;
                    self.matched = 0;
                    self.out.write_all(&buf[i + 1..])?;
                    return Ok(buf.len());
                }
                continue;
            }
            if self.matched > 0 {
                self.stage.extend_from_slice(&EMPTY[..self.matched]);
                self.matched = usize::from(b == EMPTY[0]);
                if self.matched == 1 {
                    continue;
                }
            }
            self.stage.push(b);
        }
        self.out.write_all(&self.stage)?;
        self.stage.clear();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.write_all(&EMPTY[..self.matched])?;
        self.matched = 0;
        self.out.flush()
    }
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
