//! Where bytes come from: a file (memory-mapped) or standard input (read in
//! bounded blocks), handed to [`scan`](crate::scan) as buffers of whole lines.
//! An input that cannot be read yields an [`InputError`] naming it; the
//! caller reports it and goes on with the other inputs.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::format::{self, InputFormat};
use crate::matcher::RuleSet;
use crate::scan::{scan, split_pieces, ScanOutput, MAX_LINE};

/// Bytes read from stdin per block; memory use is about twice this.
const STDIN_BLOCK: usize = 16 * 1024 * 1024;
/// A mapped file is scanned this much at a time; the pages of a scanned
/// window are then released, so resident memory does not grow with the file.
const MAP_WINDOW: usize = 64 * 1024 * 1024;
/// How much of an input is looked at to decide its format.
const SNIFF_BYTES: usize = 64 * 1024;

/// One thing the user asked to analyze.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Stdin,
}

impl Source {
    /// `-` means standard input.
    pub fn from_arg(arg: &Path) -> Source {
        if arg == Path::new("-") {
            Source::Stdin
        } else {
            Source::File(arg.to_path_buf())
        }
    }

    pub fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "-".to_string(),
        }
    }
}

/// The result of reading one input to the end.
#[derive(Debug)]
pub struct InputScan {
    pub name: String,
    pub format: InputFormat,
    pub bytes: u64,
    /// Last modification of the file; bounds the year of its lines.
    pub modified: Option<SystemTime>,
    pub output: ScanOutput,
}

#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct InputError {
    pub name: String,
    pub message: String,
}

/// Reads and scans one source.
pub fn read(source: &Source, rules: &RuleSet) -> Result<InputScan, InputError> {
    match source {
        Source::File(path) => read_file(path, rules),
        Source::Stdin => read_stream(std::io::stdin().lock(), "-", rules),
    }
}

fn read_file(path: &Path, rules: &RuleSet) -> Result<InputScan, InputError> {
    let name = path.display().to_string();
    let fail = |message: String| InputError {
        name: name.clone(),
        message,
    };
    let file = File::open(path).map_err(|e| fail(open_advice(&e)))?;
    let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
    if meta.is_dir() {
        return Err(fail("is a directory: pass the log files inside it".into()));
    }
    if meta.len() == 0 {
        return Ok(finish(
            name,
            InputFormat::Unknown,
            0,
            meta.modified().ok(),
            ScanOutput::default(),
        ));
    }
    // SAFETY: the map is only read. If another process truncates the file
    // while it is mapped, reads past the new end fault; podmortem reads logs
    // that are collected or rotated away, so it takes that risk as grep does.
    let map = unsafe { memmap2::Mmap::map(&file) };
    let map = map.map_err(|e| fail(format!("cannot map the file: {e}")))?;
    let format = format::detect(&map[..map.len().min(SNIFF_BYTES)]);
    let mut output = ScanOutput::default();
    let mut released = 0usize;
    for window in split_pieces(&map, MAP_WINDOW) {
        output.append(scan(window, format, rules));
        let end = window.as_ptr() as usize - map.as_ptr() as usize + window.len();
        released = release_pages(&map, released, end);
    }
    Ok(finish(
        name,
        format,
        map.len() as u64,
        meta.modified().ok(),
        output,
    ))
}

/// Drops the whole pages of `map[from..to]` from this process' memory and
/// returns where the next release starts. Best effort: failure only costs
/// memory.
fn release_pages(map: &memmap2::Mmap, from: usize, to: usize) -> usize {
    const PAGE: usize = 4096;
    let end = to / PAGE * PAGE;
    if end > from {
        // SAFETY: the map is a read-only file mapping that is never read
        // again below `end`; DONTNEED only drops the pages from this process
        // (the file and page cache are untouched; a later read would fault
        // them back in from the file).
        let _ = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, end - from)
        };
    }
    end.max(from)
}

/// Reads a stream block by block, scanning each block's whole lines while
/// the next block is not yet read: memory stays bounded by the block size.
pub fn read_stream(
    mut reader: impl Read,
    name: &str,
    rules: &RuleSet,
) -> Result<InputScan, InputError> {
    let fail = |e: std::io::Error| InputError {
        name: name.to_string(),
        message: format!("read failed: {e}"),
    };
    let mut buf: Vec<u8> = Vec::with_capacity(STDIN_BLOCK);
    let mut format: Option<InputFormat> = None;
    let mut output = ScanOutput::default();
    let mut bytes = 0u64;
    // Set while skipping the remainder of a line longer than a block.
    let mut in_giant_line = false;
    loop {
        let before = buf.len();
        let got = (&mut reader)
            .take((STDIN_BLOCK - before) as u64)
            .read_to_end(&mut buf)
            .map_err(fail)?;
        bytes += got as u64;
        let at_end = got == 0 || buf.len() < STDIN_BLOCK;
        let format =
            *format.get_or_insert_with(|| format::detect(&buf[..buf.len().min(SNIFF_BYTES)]));
        let cut = if at_end {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                // A whole block without a newline: keep its start as one
                // (truncated) line and drop the rest of that line.
                None => buf.len(),
            }
        };
        let mut lines = &buf[..cut];
        if in_giant_line {
            let skip = memchr::memchr(b'\n', lines).map_or(lines.len(), |i| i + 1);
            lines = &lines[skip..];
            in_giant_line = skip == cut && !at_end && buf[cut - 1] != b'\n';
        } else if lines.last() != Some(&b'\n') && !at_end {
            in_giant_line = true;
            lines = &lines[..lines.len().min(MAX_LINE + 1)];
        }
        output.append(scan(lines, format, rules));
        buf.drain(..cut);
        if at_end {
            return Ok(finish(name.to_string(), format, bytes, None, output));
        }
    }
}

fn finish(
    name: String,
    format: InputFormat,
    bytes: u64,
    modified: Option<SystemTime>,
    output: ScanOutput,
) -> InputScan {
    InputScan {
        name,
        format,
        bytes,
        modified,
        output,
    }
}

fn open_advice(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file: check the path".into(),
        std::io::ErrorKind::PermissionDenied => {
            "permission denied: run as a user who can read it, or copy it first".into()
        }
        _ => format!("cannot open: {e}"),
    }
}
