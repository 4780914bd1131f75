//! Where bytes come from: what the user named, expanded by
//! [`discover`](crate::discover) into plain files and streams (decompressed
//! files, archive entries, stdin), each read in bounded blocks and handed to
//! [`scan`](crate::scan) as buffers of whole records.
//!
//! Files are read with read(2), not memory-mapped: a mapped file that
//! shrinks while it is read (copy-truncate rotation, a collector cutting
//! it) kills the process with SIGBUS, and a file larger than the address
//! space cannot be mapped at all; reading costs a copy from the page cache
//! (measured in issue 10: within a few % of the mapping).
//!
//! Each input is its own failure domain: one that cannot be read, or is
//! read only in part, is named with the reason, and even a bug that panics
//! while one input is read costs that input only; the caller reports it
//! and goes on with the others.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::NaiveDate;

use crate::discover::{self, Bundle, Content, Found};
use crate::entity::{EntitySet, Mentions};
use crate::matcher::{RuleSet, Stage};
use crate::scan::{scan, scan_lifecycle, scan_links, Framing, ScanOutput};

mod pieces;

use pieces::{in_order, in_parallel, Pieces};

/// Bytes of a stream read at a time; the scan cuts them into pieces for its
/// worker threads. Memory use is about this, whatever the stream's size.
const STREAM_PIECE: usize = 16 * 1024 * 1024;
/// Bytes of a file each worker thread reads and scans at a time: small
/// enough to be scanned while still in the core's cache.
const FILE_PIECE: usize = 4 * 1024 * 1024;

/// One thing the user named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Path(PathBuf),
    Stdin,
    /// A log held in memory, read as stdin is (a grammar's sequence
    /// sample: `grammars check`).
    Text {
        name: String,
        text: Vec<u8>,
    },
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
    /// Decodings applied to its bytes (`UTF-16LE decoded`).
    pub notes: Vec<&'static str>,
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
    /// What bundles state of their hosts' zones ([`crate::time::learn`]).
    pub zones: Vec<crate::time::stated::Stated>,
}

/// Told how many more bytes have been scanned (a progress display).
pub type Progress<'p> = &'p (dyn Fn(u64) + Sync);

/// Reads and scans everything inside `sources`. Each input found is read in
/// its own failure domain: one that cannot be read, and even one whose
/// reading panics (a bug), is named with the reason and the others read.
pub fn read_all(sources: &[Source], rules: &RuleSet, progress: Progress<'_>) -> Collected {
    let mut collected = Collected::default();
    for source in sources {
        let named = match source {
            Source::Path(path) => path.display().to_string(),
            Source::Stdin => "-".to_string(),
            Source::Text { name, .. } => name.clone(),
        };
        let mut scans = Vec::new();
        let mut notes = Vec::new();
        // Whether anything of the source was read (a file that is not a
        // log was read, then passed over).
        let mut read_any = false;
        let mut visit = |found: Found<'_>| match read_one(found, &named, rules, progress) {
            Outcome::Read(scan) => {
                read_any = true;
                scans.push(*scan);
            }
            Outcome::NotALog(note) => {
                read_any = true;
                notes.push(note);
            }
            Outcome::Unread(note) => notes.push(note),
        };
        let walk = catch_unwind(AssertUnwindSafe(|| match source {
            Source::Path(path) => discover::walk(path, &mut visit),
            Source::Stdin => discover::walk_reader("-", &mut std::io::stdin().lock(), &mut visit),
            Source::Text { name, text } => discover::walk_reader(name, &mut &text[..], &mut visit),
        }));
        let walk = walk.unwrap_or_else(|panic| {
            notes.push(internal_error(named.clone(), &*panic));
            discover::Walk::default()
        });
        let walk_notes = walk.skipped.into_iter().map(|s| NotRead {
            name: s.name,
            reason: s.reason,
        });
        let notes = walk_notes.chain(notes);
        if read_any {
            collected.skipped.extend(notes);
        } else {
            collected.failed.extend(notes);
        }
        collected.scans.append(&mut scans);
        collected.bundles.extend(walk.bundles);
        collected.ignored += walk.ignored;
        collected.zones.extend(walk.zones);
    }
    collected
}

/// What became of one input found.
enum Outcome {
    Read(Box<InputScan>),
    /// Read, but no format podmortem reads fits it.
    NotALog(NotRead),
    /// Nothing of it could be read, or reading it panicked.
    Unread(NotRead),
}

/// Reads one input found inside the source the user `named`, catching a
/// panic.
fn read_one(found: Found<'_>, named: &str, rules: &RuleSet, progress: Progress<'_>) -> Outcome {
    let name = found.name.clone();
    let scan = match catch_unwind(AssertUnwindSafe(|| read_found(found, rules, progress))) {
        Ok(scan) => scan,
        Err(panic) => return Outcome::Unread(internal_error(name, &*panic)),
    };
    match scan.read_error {
        Some(reason) if scan.bytes == 0 => {
            return Outcome::Unread(NotRead {
                name: scan.name,
                reason,
            })
        }
        _ => {}
    }
    // A file found inside a directory or archive that no format reads is
    // not a log (a JSON manifest, a README): name it rather than count its
    // lines as unparsed. A file the user named stays.
    if scan.name != named && scan.framing.name() == "unknown" && scan.bytes > 0 {
        return Outcome::NotALog(NotRead {
            name: scan.name,
            reason: "not a log: no format podmortem reads fits its first lines".into(),
        });
    }
    Outcome::Read(Box::new(scan))
}

/// How a note about an input that podmortem itself failed on begins.
pub const INTERNAL_ERROR: &str = "internal error";

/// The note for an input whose reading panicked, with the panic's message.
fn internal_error(name: String, panic: &(dyn std::any::Any + Send)) -> NotRead {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    NotRead {
        name,
        reason: format!(
            "{INTERNAL_ERROR} while reading it ({message}): not analyzed; \
             please report this with the input"
        ),
    }
}

fn read_found(found: Found<'_>, rules: &RuleSet, progress: Progress<'_>) -> InputScan {
    let mut scan = match (found.objects, found.content) {
        (Some(syntax), content) => {
            crate::cluster::read_input(content, syntax, found.modified, rules)
        }
        (None, Content::File(path)) => read_file(&path, rules, progress),
        (None, Content::Stream(reader)) => read_stream(reader, rules, progress),
    };
    scan.name = found.name;
    scan.modified = found.modified.or(scan.modified).filter(|&m| in_calendar(m));
    scan.name_date = found.name_date;
    scan.notes = found.notes;
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

/// A plain file: read in pieces by every worker thread, and its entity links
/// left to a second pass ([`read_links`]) that only looks for the
/// containers found. A file that is shorter at its end than when it was
/// opened (truncated, or rotated by copy-truncate while read) keeps what
/// was read, with a note.
fn read_file(path: &Path, rules: &RuleSet, progress: Progress<'_>) -> InputScan {
    let mut scan = InputScan {
        name: path.display().to_string(),
        path: Some(path.to_path_buf()),
        framing: Framing::Lines(crate::format::InputFormat::UNKNOWN),
        bytes: 0,
        modified: None,
        name_date: None,
        read_error: None,
        notes: Vec::new(),
        output: ScanOutput::default(),
    };
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) => {
            scan.read_error = Some(open_advice(&e));
            return scan;
        }
    };
    let opened_len = file.metadata().ok().map(|meta| {
        scan.modified = meta.modified().ok();
        meta.len()
    });
    let output = &mut scan.output;
    let end = in_parallel(
        Pieces::new(&mut file, Some(rules), None, FILE_PIECE),
        |framing, records| {
            progress(records.len() as u64);
            crate::scan::scan(records, framing, rules, Stage::Findings)
        },
        |piece| output.append(piece),
    );
    scan.framing = end.framing;
    scan.bytes = end.bytes;
    scan.read_error = end.error.or_else(|| {
        let len = opened_len.filter(|&len| end.bytes < len)?;
        Some(format!(
            "the file shrank while it was read: {} of its {len} bytes were left",
            end.bytes
        ))
    });
    scan
}

/// The second pass over a file: the entity links on lines that mention one
/// of the containers the first pass found in trouble. A file that can no
/// longer be read yields no links (its first-pass findings stand).
pub fn read_links(
    path: &Path,
    framing: Framing,
    rules: &RuleSet,
    mentions: &Mentions,
) -> HashSet<EntitySet> {
    let mut links = HashSet::new();
    read_again(
        path,
        framing,
        rules,
        |framing, records| scan_links(records, framing, rules, mentions),
        |found| links.extend(found),
    );
    links
}

/// The lifecycle pass over a file, when node state is judged on the logs
/// ([`scan_lifecycle`]); a file that can no longer be read yields nothing.
pub fn read_lifecycle(
    path: &Path,
    framing: Framing,
    rules: &RuleSet,
) -> Vec<(crate::grammar::Life, EntitySet)> {
    let mut lines = Vec::new();
    read_again(
        path,
        framing,
        rules,
        |framing, records| scan_lifecycle(records, framing, rules),
        |found| lines.extend(found),
    );
    lines
}

/// Reads a file once more with the framing its first pass found, handing
/// each piece to `pass` and the results, in order, to `take`.
fn read_again<T: Send>(
    path: &Path,
    framing: Framing,
    rules: &RuleSet,
    pass: impl Fn(Framing, &[u8]) -> T + Sync,
    take: impl FnMut(T) + Send,
) {
    if let Ok(mut file) = File::open(path) {
        in_parallel(
            Pieces::new(&mut file, Some(rules), Some(framing), FILE_PIECE),
            pass,
            take,
        );
    }
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
        let Ok(mut file) = File::open(path) else {
            continue;
        };
        in_parallel(
            Pieces::new(&mut file, None, None, FILE_PIECE),
            |_, records| {
                let hits = finder.find_iter(records);
                hits.filter_map(|hit| full_id_at(records, hit.start()))
                    .collect::<Vec<_>>()
            },
            |ids| found.extend(ids),
        );
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

/// A stream (decompressed file, archive entry, stdin), read once: its
/// entity links are gathered in the same pass.
fn read_stream(reader: &mut dyn Read, rules: &RuleSet, progress: Progress<'_>) -> InputScan {
    let mut output = ScanOutput::default();
    let end = in_order(
        Pieces::new(reader, Some(rules), None, STREAM_PIECE),
        |framing, records| {
            output.append(scan(records, framing, rules, Stage::All));
            progress(records.len() as u64);
        },
    );
    InputScan {
        name: "-".to_string(),
        path: None,
        framing: end.framing,
        bytes: end.bytes,
        modified: None,
        name_date: None,
        read_error: end.error,
        notes: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::Grammar;

    /// A reader that hits a bug.
    struct Panicking;

    impl Read for Panicking {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            panic!("a bug met while reading")
        }
    }

    #[test]
    fn a_panic_while_reading_one_input_is_caught_and_named() {
        let rules = RuleSet::new(Grammar::builtin().unwrap());
        let found = Found {
            name: "bundle.tar:var/log/messages".into(),
            content: Content::Stream(&mut Panicking),
            modified: None,
            name_date: None,
            notes: Vec::new(),
            objects: None,
        };
        match read_one(found, "bundle.tar", &rules, &|_| {}) {
            Outcome::Unread(note) => {
                assert_eq!(note.name, "bundle.tar:var/log/messages");
                assert!(note.reason.starts_with(INTERNAL_ERROR), "{}", note.reason);
                assert!(note.reason.contains("a bug met while reading"));
            }
            _ => panic!("the panic is caught and the input named"),
        }
    }
}
