//! Where bytes come from: what the user named, expanded by
//! [`discover`](crate::discover) into plain files (memory-mapped) and
//! streams (decompressed files, archive entries, stdin; read in bounded
//! blocks), each handed to [`scan`](crate::scan) as buffers of whole records.
//! An input that cannot be read is named with the reason; the caller reports
//! it and goes on with the others.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::NaiveDate;

use crate::discover::{self, Bundle, Content, Found};
use crate::entity::{Entity, Mentions};
use crate::matcher::{RuleSet, Stage};
use crate::scan::{scan, scan_links, split_pieces, Framing, ScanOutput, MAX_LINE};

/// Bytes read from a stream per block; memory use is about twice this.
const STREAM_BLOCK: usize = 16 * 1024 * 1024;
/// A mapped file is scanned this much at a time; the pages of a scanned
/// window are then released, so resident memory does not grow with the file.
const MAP_WINDOW: usize = 64 * 1024 * 1024;
/// How much of an input is looked at to decide its format.
const SNIFF_BYTES: usize = 64 * 1024;

/// One thing the user named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Path(PathBuf),
    Stdin,
}

impl Source {
    /// `-` means standard input.
    pub fn from_arg(arg: &Path) -> Source {
        if arg == Path::new("-") {
            Source::Stdin
        } else {
            Source::Path(arg.to_path_buf())
        }
    }
}

/// The result of reading one input to the end.
#[derive(Debug)]
pub struct InputScan {
    /// The path, or `archive:entry`, or `-`.
    pub name: String,
    /// Set for a plain file on disk, which can be read a second time.
    pub path: Option<PathBuf>,
    pub framing: Framing,
    pub bytes: u64,
    /// Last modification of the file; bounds the year of its lines.
    pub modified: Option<SystemTime>,
    /// The day in a rotated file's name; bounds the year better than mtime.
    pub name_date: Option<NaiveDate>,
    /// Why reading stopped early (a corrupt gzip): what was read before
    /// still counts.
    pub read_error: Option<String>,
    pub output: ScanOutput,
}

/// Something named that could not be read, or was passed over, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotRead {
    pub name: String,
    pub reason: String,
}

/// Everything read from what the user named.
#[derive(Debug, Default)]
pub struct Collected {
    pub scans: Vec<InputScan>,
    /// Named inputs of which nothing could be read (a missing file).
    pub failed: Vec<NotRead>,
    /// Files passed over inside what was read (binary files, corrupt
    /// archives, unreadable directories).
    pub skipped: Vec<NotRead>,
    pub bundles: Vec<Bundle>,
    /// Files inside support bundles that are not logs.
    pub ignored: usize,
}

/// Told how many more bytes have been scanned (a progress display).
pub type Progress<'p> = &'p (dyn Fn(u64) + Sync);

/// Reads and scans everything inside `sources`.
pub fn read_all(sources: &[Source], rules: &RuleSet, progress: Progress<'_>) -> Collected {
    let mut collected = Collected::default();
    for source in sources {
        let before = collected.scans.len();
        let named = match source {
            Source::Path(path) => path.display().to_string(),
            Source::Stdin => "-".to_string(),
        };
        let mut not_logs = Vec::new();
        let mut visit = |found: Found<'_>| {
            let scan = read_found(found, rules, progress);
            // A file found inside a directory or archive that no format
            // reads is not a log (a JSON manifest, a README): name it rather
            // than count its lines as unparsed. A file the user named stays.
            if scan.name != named && scan.framing.name() == "unknown" && scan.bytes > 0 {
                not_logs.push(NotRead {
                    name: scan.name,
                    reason: "not a log: no format podmortem reads fits its first lines".into(),
                });
            } else {
                collected.scans.push(scan);
            }
        };
        let walk = match source {
            Source::Path(path) => discover::walk(path, &mut visit),
            Source::Stdin => discover::walk_reader("-", &mut std::io::stdin().lock(), &mut visit),
        };
        let notes = walk.skipped.into_iter().map(|s| NotRead {
            name: s.name,
            reason: s.reason,
        });
        if collected.scans.len() == before && not_logs.is_empty() {
            collected.failed.extend(notes);
        } else {
            collected.skipped.extend(notes);
            collected.skipped.extend(not_logs);
        }
        collected.bundles.extend(walk.bundles);
        collected.ignored += walk.ignored;
    }
    collected
}

fn read_found(found: Found<'_>, rules: &RuleSet, progress: Progress<'_>) -> InputScan {
    let mut scan = match found.content {
        Content::File(path) => read_file(&path, rules, progress),
        Content::Stream(reader) => read_stream(reader, rules, progress),
    };
    scan.name = found.name;
    scan.modified = found.modified.or(scan.modified).filter(|&m| in_calendar(m));
    scan.name_date = found.name_date;
    scan
}

fn read_file(path: &Path, rules: &RuleSet, progress: Progress<'_>) -> InputScan {
    let mut scan = InputScan {
        name: path.display().to_string(),
        path: Some(path.to_path_buf()),
        framing: Framing::Lines(crate::format::InputFormat::UNKNOWN),
        bytes: 0,
        modified: None,
        name_date: None,
        read_error: None,
        output: ScanOutput::default(),
    };
    match open_mapped(path) {
        Err(reason) => scan.read_error = Some(reason),
        Ok((map, modified)) => {
            scan.modified = modified;
            if let Some(map) = map {
                scan.framing = Framing::detect(&map[..map.len().min(SNIFF_BYTES)]);
                scan.bytes = map.len() as u64;
                for_each_window(&map, |window| {
                    scan.output.append(scan_window(window, scan.framing, rules));
                    progress(window.len() as u64);
                });
            }
        }
    }
    scan
}

/// Whether a modification time is one the year inference can use: within
/// the years 0000–9999 (a tar header can say anything; chrono cannot even
/// hold some of it).
fn in_calendar(modified: SystemTime) -> bool {
    let secs = match modified.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).ok(),
        Err(before) => i64::try_from(before.duration().as_secs()).ok().map(|s| -s),
    };
    secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .is_some_and(|t| (0..=9999).contains(&chrono::Datelike::year(&t)))
}

fn scan_window(window: &[u8], framing: Framing, rules: &RuleSet) -> ScanOutput {
    scan(window, framing, rules, Stage::Findings)
}

/// Maps a regular file read-only (`None` when it is empty, which cannot be
/// mapped) and returns its modification time.
fn open_mapped(path: &Path) -> Result<(Option<memmap2::Mmap>, Option<SystemTime>), String> {
    let file = File::open(path).map_err(|e| open_advice(&e))?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if meta.len() == 0 {
        return Ok((None, meta.modified().ok()));
    }
    // SAFETY: the map is only read. If another process truncates the file
    // while it is mapped, reads past the new end fault; podmortem reads logs
    // that are collected or rotated away, so it takes that risk as grep does.
    let map = unsafe { memmap2::Mmap::map(&file) };
    let map = map.map_err(|e| format!("cannot map the file: {e}"))?;
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
pub fn find_full_ids<'s>(paths: impl Iterator<Item = &'s Path>, short: &[String]) -> Vec<String> {
    let Ok(finder) = aho_corasick::AhoCorasick::new(short) else {
        return Vec::new();
    };
    let mut found = std::collections::BTreeSet::new();
    for path in paths {
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

/// Reads a stream block by block, scanning each block's whole records while
/// the next block is not yet read: memory stays bounded by the block size.
/// A read error ends the input; what was read before it counts.
fn read_stream(reader: &mut dyn Read, rules: &RuleSet, progress: Progress<'_>) -> InputScan {
    let mut buf: Vec<u8> = Vec::with_capacity(STREAM_BLOCK);
    let mut framing: Option<Framing> = None;
    let mut output = ScanOutput::default();
    let mut bytes = 0u64;
    let mut read_error = None;
    // Set while skipping the remainder of a line longer than a block.
    let mut in_giant_line = false;
    loop {
        let before = buf.len();
        let got = match reader
            .take((STREAM_BLOCK - before) as u64)
            .read_to_end(&mut buf)
        {
            Ok(got) => got,
            Err(e) => {
                read_error = Some(e.to_string());
                0
            }
        };
        bytes += got as u64;
        let at_end = got == 0 || buf.len() < STREAM_BLOCK;
        let framing =
            *framing.get_or_insert_with(|| Framing::detect(&buf[..buf.len().min(SNIFF_BYTES)]));
        let cut = if at_end {
            buf.len()
        } else {
            record_end(&buf, framing)
        };
        let mut records = &buf[..cut];
        if in_giant_line {
            let skip = memchr::memchr(b'\n', records).map_or(records.len(), |i| i + 1);
            records = &records[skip..];
            in_giant_line = skip == cut && !at_end && buf[cut - 1] != b'\n';
        } else if records.last() != Some(&b'\n') && !at_end {
            in_giant_line = true;
            records = &records[..records.len().min(MAX_LINE + 1)];
        }
        output.append(scan(records, framing, rules, Stage::All));
        progress(cut as u64);
        buf.drain(..cut);
        if at_end {
            return InputScan {
                name: "-".to_string(),
                path: None,
                framing,
                bytes,
                modified: None,
                name_date: None,
                read_error,
                output,
            };
        }
    }
}

/// Where the last whole record of a full block ends: after its last
/// newline (after its last blank line, for journal export entries). A block
/// without one is a giant line, cut at the block's end.
fn record_end(buf: &[u8], framing: Framing) -> usize {
    let end = match framing {
        Framing::JournalExport => memchr::memmem::rfind(buf, b"\n\n").map(|i| i + 2),
        Framing::Lines(_) => memchr::memrchr(b'\n', buf).map(|i| i + 1),
    };
    end.unwrap_or(buf.len())
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
