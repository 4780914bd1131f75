//! Where bytes come from: a file (memory-mapped) or standard input (read in
//! bounded blocks), handed to [`scan`](crate::scan) as buffers of whole lines.
//! An input that cannot be read yields an [`InputError`] naming it; the
//! caller reports it and goes on with the other inputs.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::entity::{Entity, Mentions};

use crate::matcher::{RuleSet, Stage};
use crate::scan::{scan, scan_links, split_pieces, Framing, ScanOutput, MAX_LINE};

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
    pub source: Source,
    pub framing: Framing,
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
        Source::Stdin => read_stream(std::io::stdin().lock(), rules),
    }
}

fn read_file(path: &Path, rules: &RuleSet) -> Result<InputScan, InputError> {
    let (map, modified) = open_mapped(path)?;
    let Some(map) = map else {
        let empty = ScanOutput::default();
        return Ok(InputScan {
            source: Source::File(path.to_path_buf()),
            framing: Framing::Lines(crate::format::InputFormat::UNKNOWN),
            bytes: 0,
            modified,
            output: empty,
        });
    };
    let framing = Framing::detect(&map[..map.len().min(SNIFF_BYTES)]);
    let mut output = ScanOutput::default();
    for_each_window(&map, |window| {
        output.append(scan(window, framing, rules, Stage::Findings))
    });
    Ok(InputScan {
        source: Source::File(path.to_path_buf()),
        framing,
        bytes: map.len() as u64,
        modified,
        output,
    })
}

/// Maps a regular file read-only (`None` when it is empty, which cannot be
/// mapped) and returns its modification time.
fn open_mapped(path: &Path) -> Result<(Option<memmap2::Mmap>, Option<SystemTime>), InputError> {
    let fail = |message: String| InputError {
        name: path.display().to_string(),
        message,
    };
    let file = File::open(path).map_err(|e| fail(open_advice(&e)))?;
    let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
    if meta.is_dir() {
        return Err(fail("is a directory: pass the log files inside it".into()));
    }
    if meta.len() == 0 {
        return Ok((None, meta.modified().ok()));
    }
    // SAFETY: the map is only read. If another process truncates the file
    // while it is mapped, reads past the new end fault; podmortem reads logs
    // that are collected or rotated away, so it takes that risk as grep does.
    let map = unsafe { memmap2::Mmap::map(&file) };
    let map = map.map_err(|e| fail(format!("cannot map the file: {e}")))?;
    Ok((Some(map), meta.modified().ok()))
}

/// Calls `f` on consecutive windows of whole lines of `map`, releasing the
/// pages of each window once `f` is done with it.
fn for_each_window(map: &memmap2::Mmap, mut f: impl FnMut(&[u8])) {
    let mut released = 0usize;
    for window in split_pieces(map, MAP_WINDOW) {
        f(window);
        let end = window.as_ptr() as usize - map.as_ptr() as usize + window.len();
        released = release_pages(map, released, end);
    }
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

/// The second pass over a file: the entity links on lines that mention one
/// of the containers the first pass found in trouble. A file that can no
/// longer be read yields no links (its first-pass findings stand).
pub fn read_links(
    path: &Path,
    framing: Framing,
    rules: &RuleSet,
    mentions: &Mentions,
) -> HashSet<Vec<Entity>> {
    let mut links = HashSet::new();
    if let Ok((Some(map), _)) = open_mapped(path) {
        for_each_window(&map, |window| {
            links.extend(scan_links(window, framing, rules, mentions))
        });
    }
    links
}

/// Another pass: the full 64-hex container IDs, anywhere in the files
/// among `sources`, that begin with one of the `short` IDs.
///
/// The first pass only sees the lines that match a pattern; a short ID there
/// (dockerd's `Container a9acd5210705 failed to exit…`) may be spelled in
/// full only on some unmatched line. Only files can be read twice: stdin's
/// short IDs stay as they are unless a matched line spells them out.
pub fn find_full_ids<'s>(
    sources: impl Iterator<Item = &'s Source>,
    short: &[String],
) -> Vec<String> {
    let Ok(finder) = aho_corasick::AhoCorasick::new(short) else {
        return Vec::new();
    };
    let mut found = std::collections::BTreeSet::new();
    for source in sources {
        let Source::File(path) = source else { continue };
        let Ok((Some(map), _)) = open_mapped(path) else {
            continue;
        };
        for_each_window(&map, |window| {
            for hit in finder.find_iter(window) {
                if let Some(id) = full_id_at(window, hit.start()) {
                    found.insert(id);
                }
            }
        });
    }
    found.into_iter().collect()
}

/// The 64-hex ID starting at `at`, if exactly 64 hex digits stand there
/// between two non-hex bytes.
fn full_id_at(text: &[u8], at: usize) -> Option<String> {
    let hex = |b: &u8| b.is_ascii_hexdigit();
    if at > 0 && hex(&text[at - 1]) {
        return None;
    }
    let run = text[at..].iter().take(65).take_while(|b| hex(b)).count();
    (run == 64).then(|| String::from_utf8_lossy(&text[at..at + 64]).to_ascii_lowercase())
}

/// Reads a stream block by block, scanning each block's whole lines while
/// the next block is not yet read: memory stays bounded by the block size.
fn read_stream(mut reader: impl Read, rules: &RuleSet) -> Result<InputScan, InputError> {
    let fail = |e: std::io::Error| InputError {
        name: Source::Stdin.name(),
        message: format!("read failed: {e}"),
    };
    let mut buf: Vec<u8> = Vec::with_capacity(STDIN_BLOCK);
    let mut framing: Option<Framing> = None;
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
        let framing =
            *framing.get_or_insert_with(|| Framing::detect(&buf[..buf.len().min(SNIFF_BYTES)]));
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
        output.append(scan(lines, framing, rules, Stage::All));
        buf.drain(..cut);
        if at_end {
            return Ok(InputScan {
                source: Source::Stdin,
                framing,
                bytes,
                modified: None,
                output,
            });
        }
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
