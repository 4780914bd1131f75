//! What to read, given what the user named: the inputs found inside a path
//! (a file, a directory, a compressed file, an archive, a support bundle).
//!
//! This module owns *finding* inputs: walking directories, peeling
//! compression, iterating archives, recognizing support bundle layouts and
//! naming what it did not read. It leaves everything about the bytes
//! themselves to others: it does not parse, frame lines or scan
//! ([`input`](crate::input) and [`scan`](crate::scan) do). Each input is
//! handed to the caller's visitor while it is open, as a path to read (a
//! plain file on disk, which can be read twice) or as a stream to read once (anything decompressed
//! or inside an archive). Nothing is ever written to disk, streams are never
//! buffered whole (memory stays bounded: a few buffers of tens of KiB, plus
//! the zstd window, at most 100 MiB), and the walk never panics: whatever
//! cannot be read becomes a [`Skipped`] note and the walk goes on.
//!
//! # How a file is classified
//!
//! By its first bytes, never by its name alone (a `.gz` that is plain text is
//! read as text):
//!
//! - gzip (`1f 8b 08`): decompressed as a stream (every member of a
//!   multi-member file) and the result classified again, so a `.tar.gz` is a
//!   gzip stream holding a tar;
//! - zstd (`28 b5 2f fd`, or a skippable frame `5? 2a 4d 18`): decompressed
//!   frame after frame, checksums verified, and classified again;
//! - xz (`fd 37 7a 58 5a 00`, sos report's default) and bzip2 (`BZh` and a
//!   block magic): decompressed as streams (every stream of a concatenated
//!   file, checks verified) and classified again, like gzip;
//! - tar (`ustar` at offset 257, or an old-style header whose checksum is
//!   right): its entries are iterated as a stream, never unpacked;
//! - zip (`PK 03 04`, what support portals hand out): a file on disk is read
//!   through its central directory; a zip read once (inside a tar, standard
//!   input) entry by entry from its local headers, stored or deflated, up to
//!   an entry whose sizes follow its data (named: unzip such a zip first);
//! - UTF-16 with a byte order mark, or text whose lines end in a lone `\r`:
//!   read through a [`Decoding`](crate::decode::Decoding) (named in
//!   [`Found::notes`]) and classified again;
//! - a systemd journal file (`LPKSHHRH`, `*.journal`, `*.journal~`): held
//!   until the walk ends, then the files of each machine are merged in time
//!   order and visited as one `journalctl -o export` stream (`journal.rs`);
//! - anything with a NUL byte in its first 8 KiB (after decompression):
//!   skipped as a binary file, except a `journalctl -o export` stream, whose
//!   binary fields hold NUL bytes;
//! - everything else is an input ([`Found`]).
//!
//! Compression and archives nest (a `.gz` inside a tar inside a `.tar.gz`) up
//! to [`MAX_DEPTH`] layers.
//!
//! # Directories, links, special files
//!
//! Directories are walked recursively, sorted by name within a directory;
//! archives are read in archive order. Symbolic links to files inside the
//! directory walked are followed; links to directories (no loops) and links
//! that lead out of the directory walked (an absolute link in a copied
//! `/var/log` would read the analyst's own machine) are not: they are
//! skipped with a note, as are broken links. A file reached twice (a link
//! and its target, hard links) is read once; the second name is counted in
//! [`Walk::ignored`]. Fifos, sockets and devices inside a directory are not
//! opened (opening a fifo would block); a fifo the user named is read as a
//! stream, so `<(journalctl -u kubelet)` works, but one without a writer is
//! named rather than waited on forever, and a device the user named is not
//! read (see `special.rs`).
//!
//! # Archives
//!
//! Only regular entries are read (directories, links and devices are not
//! inputs). An entry is named `archive:entry/path` (nested:
//! `outer.tar.gz:inner.tar:var/log/messages`), its path as written in the
//! archive, a leading `./` dropped. Entries whose path holds `..` or starts
//! with `/` are read like any other: their bytes only ever go to the visitor.
//! A tar's entries come in the order its collector walked the tree, so a
//! bundle's marker directory may come after files it decides about; an
//! archive that is a file on disk is therefore read twice, first for its entry
//! names only, then for its content. An archive that can be read only once
//! (nested in another archive, or standard input) is judged from the entries
//! seen so far, helped by the top directory's name (`sosreport-*`) and the
//! archive's name (`eks_i-*`).
//!
//! # Support bundles
//!
//! Recognized from the paths seen, at any depth, and reported in
//! [`Walk::bundles`] with the root where the layout starts. Inside a
//! sosreport, a troubleshoot bundle or an EKS log collector bundle only the
//! log files listed below are read; the rest (hundreds of command outputs and
//! configuration copies) is skipped without a note and counted in
//! [`Walk::ignored`]. Outside bundles every non-binary file is read.
//!
//! - **sosreport** (`sos report`, RHEL/Ubuntu): a root holding the directory
//!   `sos_commands/` next to `var/log/`, `sos_logs/` or `sos_reports/` (sos
//!   writes its own log and reports in the last two). Read:
//!   `var/log/` entries whose name starts with `messages`, `syslog`,
//!   `kern.log`, `dmesg`, `docker`, `containerd`, `kubelet`, `containers`,
//!   `pods`, `calico` or `journal` (files or the trees below them); the journal
//!   extracts `sos_commands/<plugin>/journalctl_*` (the logs plugin's
//!   `journalctl_--no-pager…` and the service journals other plugins add, e.g.
//!   `sos_commands/kubernetes/journalctl_--no-pager_--unit_kubelet`), except
//!   `--disk-usage` and `--list-boots`; and `sos_commands/kernel/dmesg*`.
//! - **troubleshoot.sh** support bundle: a root holding `host-collectors/`.
//!   Read: `host-collectors/journald/**/*.txt` (the journald collector
//!   writes `<name>.txt` and `<name>-info.json`) and everything under
//!   `host-collectors/run-host/` but its `*.json` metadata (the run collector
//!   writes `<name>.txt`, `<name>-info.json` and an optional output
//!   directory); and the events, pods and nodes of `cluster-resources/`
//!   (read by [`cluster`](crate::cluster)). Other cluster resources and
//!   collectors are not about the node.
//! - **EKS log collector** (`eks-log-collector.sh` of amazon-eks-ami): a root
//!   holding `kubelet/kubelet.log` or `containerd/containerd-log.txt` next to
//!   one of the script's own directories `ipamd/`, `var_log/`, `sysctls/`,
//!   `sandbox-image/` (it creates all its directories up front). Read:
//!   `kubelet/kubelet.log` and `containerd/containerd-log.txt` (journal
//!   extracts), `docker/*` but the `docker-*.txt` command outputs,
//!   `sandbox-image/*-log.txt`, `kernel/dmesg*` and everything under
//!   `var_log/` (its copies of `/var/log`: messages, syslog,
//!   aws-routed-eni, container logs). `ipamd/`, `cni/`, `system/`,
//!   `networking/` hold JSON and command outputs.
//! - **var/log** copy: a root holding `var/log/`. Nothing is left out (the
//!   whole copy is logs); the layout is only reported.
//!
//! A root is recognized once: inside a sosreport, its `var/log/` is not a
//! second bundle.
//!
//! # Dates in names
//!
//! A rotated file's name may carry the day it was rotated
//! (`messages-20230507`, `syslog-20230507.gz`, `kubelet.log-20230507`,
//! `messages-2023-05-07`): its lines are not newer than the end of that day.
//! [`name_date`] reads it; `syslog.1`-style numeric rotations carry none.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;

use crate::decode::Decoding;
use crate::time::stated::{Stated, ZoneFile};

mod journal;
mod special;

/// How much of a stream is looked at to classify it.
pub const SNIFF_BYTES: usize = 8 * 1024;
/// Compression layers and archives nested in one another, at most.
pub const MAX_DEPTH: usize = 6;
/// Read buffer for files on disk that are streamed (compressed, archives).
const FILE_BUFFER: usize = 64 * 1024;

/// One input found, handed to the caller's visitor while it is open.
pub struct Found<'r> {
    /// How to name it to the user: the path, `bundle.tar.gz:var/log/messages`
    /// for an archive entry, the compressed file's path for its content.
    pub name: String,
    pub content: Content<'r>,
    /// Modification time (file mtime, or the tar header's mtime).
    pub modified: Option<SystemTime>,
    /// The date in a rotated file's name (see [`name_date`]): its lines are
    /// not newer than the end of that day.
    pub name_date: Option<NaiveDate>,
    /// Decodings applied to its bytes (`UTF-16LE decoded`).
    pub notes: Vec<&'static str>,
    /// Kubernetes objects or kubectl output, recognized by its first bytes
    /// ([`cluster::recognize`](crate::cluster::recognize)): read whole
    /// by [`cluster`](crate::cluster), not framed as lines.
    pub objects: Option<crate::cluster::Syntax>,
}

/// Where the bytes of a [`Found`] input are.
pub enum Content<'r> {
    /// A regular, uncompressed file on disk: the caller opens and reads it.
    File(PathBuf),
    /// Bytes readable once (decompressed file, archive entry, nested `.gz`
    /// inside a tar). Read errors are also noted in [`Walk::skipped`].
    Stream(&'r mut dyn Read),
}

/// Something that was not read, or not to its end, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// A support bundle layout.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BundleKind {
    Sosreport,
    Troubleshoot,
    EksLogCollector,
    VarLog,
}

impl BundleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BundleKind::Sosreport => "sosreport",
            BundleKind::Troubleshoot => "troubleshoot",
            BundleKind::EksLogCollector => "eks_log_collector",
            BundleKind::VarLog => "var_log",
        }
    }

    /// Whether only the layout's log files are read below its root.
    fn selective(self) -> bool {
        self != BundleKind::VarLog
    }
}

impl fmt::Display for BundleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A support bundle recognized during the walk.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Bundle {
    /// Where the layout starts: a directory path, `archive.tar.gz` (the
    /// archive's top) or `archive.tar.gz:sosreport-node1` (a directory in it).
    pub root: String,
    pub kind: BundleKind,
}

/// What a walk did besides visiting inputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Walk {
    /// What was not read (or not to its end), in walk order.
    pub skipped: Vec<Skipped>,
    pub bundles: Vec<Bundle>,
    /// Files left out on purpose, without a note: non-log files inside a
    /// bundle, and second names of a file already read.
    pub ignored: usize,
    /// What the bundle's zone files (`timedatectl`, `/etc/localtime`,
    /// `/etc/timezone`) state: read here, not as inputs.
    pub zones: Vec<crate::time::stated::Stated>,
}

/// Finds the inputs inside `path` (a file, a directory, a compressed file,
/// an archive, or a fifo) and calls `visit` on each, in a stable order
/// (sorted by name within a directory; archive order within an archive).
/// Never panics, never writes to disk, follows symlinked files inside the
/// walked directory but not symlinked directories (the named `path` itself
/// is always followed), and never buffers a stream whole.
pub fn walk(path: &Path, visit: &mut dyn FnMut(Found<'_>)) -> Walk {
    let mut walker = Walker::new(visit);
    let name = path.display().to_string();
    match fs::symlink_metadata(path) {
        Ok(meta) => walker.on_disk(path, name, meta.file_type(), true),
        Err(e) => walker.skip(name, open_error(&e)),
    }
    walker.flush_journals();
    walker.out
}

/// Finds the inputs inside a stream that can be read once (standard input):
/// it may be plain text, compressed, or an archive. `name` names it (`-`).
pub fn walk_reader(name: &str, reader: &mut dyn Read, visit: &mut dyn FnMut(Found<'_>)) -> Walk {
    let mut walker = Walker::new(visit);
    let reader = Box::new(Labeled::new(reader, "read failed"));
    walker.whole_stream(reader, name.to_string(), None, 0, None);
    walker.flush_journals();
    walker.out
}

/// The date a rotated file's name carries: `YYYYMMDD` or `YYYY-MM-DD` after a
/// `-`, `.` or `_`, at the end of the name or followed only by suffixes such
/// as `.gz`, `.zst`, `.xz`, `.bz2`, `.log`, `.txt` or a rotation number
/// (`.1`). `YYYYMMDDHH` (logrotate's hourly `dateformat`) gives its day.
/// Only the last component of a path or archive entry name is looked at.
pub fn name_date(name: &str) -> Option<NaiveDate> {
    let leaf = name.rsplit(['/', ':']).next().unwrap_or(name);
    let bytes = leaf.as_bytes();
    let mut found = None;
    for (at, &b) in bytes.iter().enumerate() {
        if !matches!(b, b'-' | b'.' | b'_') {
            continue;
        }
        let Some(rest) = leaf.get(at + 1..) else {
            continue;
        };
        if let Some((date, tail)) = date_prefix(rest) {
            if rotation_tail(tail) {
                found = Some(date);
            }
        }
    }
    found
}

/// A date at the start of `s`, and what follows it.
fn date_prefix(s: &str) -> Option<(NaiveDate, &str)> {
    let b = s.as_bytes();
    let digits = |from: usize, to: usize| {
        b.get(from..to)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let number = |from: usize, to: usize| s.get(from..to)?.parse::<u32>().ok();
    let run = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let (year, month, day, len) = if digits(0, 4)
        && b.get(4) == Some(&b'-')
        && digits(5, 7)
        && b.get(7) == Some(&b'-')
        && digits(8, 10)
        && !b.get(10).is_some_and(u8::is_ascii_digit)
    {
        (number(0, 4)?, number(5, 7)?, number(8, 10)?, 10)
    } else if run == 8 || (run == 10 && number(8, 10)? < 24) {
        (number(0, 4)?, number(4, 6)?, number(6, 8)?, run)
    } else {
        return None;
    };
    if !(1970..=2200).contains(&year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    Some((date, s.get(len..)?))
}

/// Whether what follows a date in a name is only rotation suffixes.
fn rotation_tail(mut tail: &str) -> bool {
    while !tail.is_empty() {
        let Some(rest) = tail.strip_prefix('.') else {
            return false;
        };
        let end = rest.find('.').unwrap_or(rest.len());
        let (part, more) = rest.split_at(end);
        let known = matches!(part, "gz" | "zst" | "xz" | "bz2" | "log" | "txt");
        let number =
            !part.is_empty() && part.len() <= 3 && part.bytes().all(|c| c.is_ascii_digit());
        if !known && !number {
            return false;
        }
        tail = more;
    }
    true
}

// ---------------------------------------------------------------------------
// The walk

struct Walker<'v> {
    visit: &'v mut dyn FnMut(Found<'_>),
    out: Walk,
    /// Files already read, by device and inode.
    seen: HashSet<(u64, u64)>,
    /// The directory the user named, resolved: links inside it that lead
    /// out of it are not followed.
    root: Option<PathBuf>,
    /// Journal files met, read at the end of the walk (see `journal.rs`).
    journals: Vec<journal::Pending>,
    journal_bytes: u64,
}

/// Where a directory walk is inside a selective bundle.
#[derive(Clone)]
struct Scope {
    kind: BundleKind,
    /// The path below the bundle's root.
    rel: Vec<String>,
}

impl<'v> Walker<'v> {
    fn new(visit: &'v mut dyn FnMut(Found<'_>)) -> Self {
        Walker {
            visit,
            out: Walk::default(),
            seen: HashSet::new(),
            root: None,
            journals: Vec::new(),
            journal_bytes: 0,
        }
    }

    fn skip(&mut self, name: String, reason: impl Into<String>) {
        self.out.skipped.push(Skipped {
            name,
            reason: reason.into(),
        });
    }

    /// Something on disk, of type `kind` (not following a link).
    fn on_disk(&mut self, path: &Path, name: String, kind: fs::FileType, named: bool) {
        let meta = if kind.is_symlink() {
            match fs::metadata(path) {
                Ok(meta) => meta,
                Err(e) => return self.skip(name, link_error(&e)),
            }
        } else {
            match fs::symlink_metadata(path) {
                Ok(meta) => meta,
                Err(e) => return self.skip(name, open_error(&e)),
            }
        };
        if meta.is_dir() && named {
            self.root = fs::canonicalize(path).ok();
        }
        if meta.is_file() && kind.is_symlink() && !named {
            if let (Some(root), Ok(target)) = (&self.root, fs::canonicalize(path)) {
                if !target.starts_with(root) {
                    let target = target.display();
                    return self.skip(
                        name,
                        format!(
                            "symlink to a file outside the directory walked ({target}): \
                             not followed (name it to read it)"
                        ),
                    );
                }
            }
        }
        if meta.is_dir() {
            if kind.is_symlink() && !named {
                self.skip(
                    name,
                    "symlink to a directory: not followed (pass its target to read it)",
                );
            } else {
                self.dir(path, &name, None);
            }
        } else if meta.is_file() {
            self.file(path, name, &meta);
        } else if named {
            // A fifo the user named (`<(journalctl …)`): a stream.
            match special::open(path, &meta) {
                Ok(file) => {
                    let reader = Box::new(Labeled::new(file, "read failed"));
                    self.whole_stream(reader, name, meta.modified().ok(), 0, None);
                }
                Err(why) => self.skip(name, why),
            }
        } else {
            let what = special_kind(&meta.file_type());
            self.skip(name, format!("{what}, not a regular file: not read"));
        }
    }

    fn dir(&mut self, path: &Path, name: &str, scope: Option<Scope>) {
        let listing = match fs::read_dir(path) {
            Ok(listing) => listing,
            Err(e) => return self.skip(name.to_string(), dir_error(&e)),
        };
        let mut children = Vec::new();
        for child in listing {
            match child {
                Ok(child) => children.push((child.file_name(), child.file_type())),
                Err(e) => {
                    self.skip(
                        name.to_string(),
                        format!("directory listing failed part way: {e}"),
                    );
                    break;
                }
            }
        }
        children.sort_by(|a, b| a.0.cmp(&b.0));

        let mut scope = scope;
        if scope.is_none() {
            let mut marks = 0;
            for (child, kind) in &children {
                let is_dir = kind.as_ref().is_ok_and(fs::FileType::is_dir);
                marks |= dir_marker(path, &child.to_string_lossy(), is_dir);
            }
            if let Some(kind) = kind_of(marks) {
                self.out.bundles.push(Bundle {
                    root: name.to_string(),
                    kind,
                });
                if kind.selective() {
                    scope = Some(Scope { kind, rel: vec![] });
                }
            }
        }

        for (child, kind) in children {
            let child_path = path.join(&child);
            let child_name = child_path.display().to_string();
            let child_scope = scope.as_ref().map(|s| {
                let mut rel = s.rel.clone();
                rel.push(child.to_string_lossy().into_owned());
                Scope { kind: s.kind, rel }
            });
            let kind = match kind {
                Ok(kind) => kind,
                Err(e) => {
                    self.skip(child_name, open_error(&e));
                    continue;
                }
            };
            if kind.is_dir() {
                self.dir(&child_path, &child_name, child_scope);
                continue;
            }
            if let Some(file) = ZoneFile::of(&child_name) {
                self.zone_file_on_disk(file, &child_path, child_name, kind);
                continue;
            }
            if let Some(s) = &child_scope {
                if !is_log(s.kind, &s.rel) {
                    self.out.ignored += 1;
                    continue;
                }
            }
            self.on_disk(&child_path, child_name, kind, false);
        }
    }

    /// A regular file on disk (or a link to one).
    fn file(&mut self, path: &Path, name: String, meta: &fs::Metadata) {
        if !self.first_time(meta) {
            self.out.ignored += 1;
            return;
        }
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) => return self.skip(name, open_error(&e)),
        };
        let reader = BufReader::with_capacity(FILE_BUFFER, file);
        let reader = Box::new(Labeled::new(reader, "read failed"));
        self.whole_stream(reader, name, meta.modified().ok(), 0, Some(path));
    }

    #[cfg(unix)]
    fn first_time(&mut self, meta: &fs::Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        self.seen.insert((meta.dev(), meta.ino()))
    }

    #[cfg(not(unix))]
    fn first_time(&mut self, _meta: &fs::Metadata) -> bool {
        true
    }

    /// A stream that is a whole input by itself (not an archive entry): a
    /// read error in it is noted under its own name.
    fn whole_stream(
        &mut self,
        reader: Box<dyn Read + '_>,
        name: String,
        modified: Option<SystemTime>,
        depth: usize,
        disk: Option<&Path>,
    ) {
        if let Some(why) = self.read(reader, name.clone(), modified, depth, disk) {
            self.skip(name, format!("{why} (the lines before it were read)"));
        }
    }

    /// Classifies `reader` and visits it, walks it as an archive, or skips
    /// it. `disk` is the file `reader` reads, when it is one: plain text
    /// there is handed over as a path, and an archive there can be read
    /// twice. Returns why visiting stopped early, when reading failed (the
    /// caller names it).
    fn read(
        &mut self,
        reader: Box<dyn Read + '_>,
        name: String,
        modified: Option<SystemTime>,
        depth: usize,
        disk: Option<&Path>,
    ) -> Option<String> {
        let peeled = match peel(reader, depth) {
            Ok(peeled) => peeled,
            Err(why) => {
                self.skip(name, why);
                return None;
            }
        };
        let date = name_date(&name);
        match peeled.sniff {
            Sniff::Text => {
                let objects = crate::cluster::recognize(&peeled.reader.head);
                if let (Some(path), 0) = (disk, peeled.layers) {
                    if let Some(e) = &peeled.reader.err {
                        self.skip(name, reason_of(e, "read failed"));
                        return None;
                    }
                    drop(peeled);
                    (self.visit)(Found {
                        name,
                        content: Content::File(path.to_path_buf()),
                        modified,
                        name_date: date,
                        notes: Vec::new(),
                        objects,
                    });
                    return None;
                }
                let notes = peeled.notes;
                let mut reader = peeled.reader;
                let mut tap = Tap::new(&mut reader);
                (self.visit)(Found {
                    name,
                    content: Content::Stream(&mut tap),
                    modified,
                    name_date: date,
                    notes,
                    objects,
                });
                tap.err
            }
            Sniff::Tar | Sniff::Zip if depth + peeled.layers >= MAX_DEPTH => {
                self.skip(
                    name,
                    format!("nested too deep (more than {MAX_DEPTH} archives and compressions): not read"),
                );
                None
            }
            Sniff::Tar => {
                let layout = match disk {
                    Some(path) => prescan(path, &name),
                    None => Layout::new(&name, true),
                };
                let depth = depth + peeled.layers + 1;
                self.tar(Box::new(peeled.reader), &name, layout, depth);
                None
            }
            Sniff::Zip => {
                let depth = depth + peeled.layers + 1;
                let disk = disk.filter(|_| peeled.layers == 0);
                self.zip(Box::new(peeled.reader), &name, depth, disk);
                None
            }
            Sniff::Journal => {
                let mut reader = peeled.reader;
                self.journal(&mut reader, name, modified)
            }
            Sniff::Skip(why) => {
                self.skip(name, why);
                None
            }
        }
    }

    /// Iterates a tar's entries, visiting the ones to read.
    fn tar(&mut self, reader: Box<dyn Read + '_>, name: &str, mut layout: Layout, depth: usize) {
        self.report_bundles(&mut layout, name);
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(e) => {
                return self.skip(name.to_string(), reason_of(&e, "truncated or corrupt tar"))
            }
        };
        let mut read_any = false;
        for entry in entries {
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let why = reason_of(&e, "truncated or corrupt tar");
                    let why = if read_any {
                        format!("{why} (the entries before it were read)")
                    } else {
                        why
                    };
                    return self.skip(name.to_string(), why);
                }
            };
            read_any = true;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let kind = entry.header().entry_type();
            let modified = entry
                .header()
                .mtime()
                .ok()
                .and_then(|s| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(s)));
            let size = entry.size();
            let link = (kind.is_symlink())
                .then(|| entry.link_name_bytes())
                .flatten()
                .map(|t| String::from_utf8_lossy(&t).into_owned());
            let member = Member {
                path: &raw,
                is_dir: kind.is_dir(),
                regular: kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse(),
                modified,
                size,
                sparse: kind.is_gnu_sparse(),
                link: link.as_deref(),
            };
            if !self.member(name, &mut layout, member, &mut entry, depth) {
                return;
            }
        }
    }

    /// Reads one member of an archive (a tar or zip entry) when it is a
    /// regular file the layout reads. False when the archive itself broke
    /// inside it: nothing after it can be read.
    fn member(
        &mut self,
        archive: &str,
        layout: &mut Layout,
        member: Member<'_>,
        reader: &mut dyn Read,
        depth: usize,
    ) -> bool {
        let shown = strip_dot_slash(member.path);
        let comps = components(shown);
        if layout.observe(&comps, member.is_dir) {
            self.report_bundles(layout, archive);
        }
        if let Some(file) = ZoneFile::of(shown).filter(|_| member.regular || member.link.is_some())
        {
            let name = format!("{archive}:{shown}");
            self.zone_file(file, name, member.link, reader);
            return true;
        }
        if !member.regular || comps.is_empty() {
            return true;
        }
        if !layout.visits(&comps) {
            self.out.ignored += 1;
            return true;
        }
        let entry_name = format!("{archive}:{shown}");
        let size = member.size;
        let mut counted = Counted::new(reader);
        let why = self.read(
            Box::new(&mut counted),
            entry_name.clone(),
            member.modified,
            depth,
            None,
        );
        let cut = counted.eof && counted.bytes < size && !member.sparse;
        if counted.failed || cut {
            let why = why.unwrap_or_else(|| {
                format!(
                    "truncated: the archive ends inside this entry ({} of {size} bytes)",
                    counted.bytes
                )
            });
            self.skip(
                entry_name,
                format!(
                    "{why} (the lines before it and the entries before it were read; \
                     the rest of the archive cannot be)"
                ),
            );
            return false;
        }
        if let Some(why) = why {
            self.skip(entry_name, format!("{why} (the lines before it were read)"));
        }
        true
    }

    /// Reads what a zone file states of its host's zone (a link's target, or
    /// its first [`MAX_BYTES`](crate::time::stated::MAX_BYTES)).
    fn zone_file(
        &mut self,
        file: ZoneFile,
        name: String,
        link: Option<&str>,
        bytes: &mut dyn Read,
    ) {
        let stated = match link {
            Some(target) => Stated::link(&name, target),
            None => {
                let mut head = Vec::new();
                match bytes
                    .take(crate::time::stated::MAX_BYTES)
                    .read_to_end(&mut head)
                {
                    Ok(_) => Stated::read(file, &name, &head),
                    Err(e) => return self.skip(name, reason_of(&e, "read failed")),
                }
            }
        };
        match stated {
            Some(stated) => {
                self.out.zones.push(stated);
                self.out.ignored += 1;
            }
            None => self.skip(
                name,
                "a time zone file naming no zone podmortem knows: not used",
            ),
        }
    }

    /// [`Walker::zone_file`] for a file or link on disk.
    fn zone_file_on_disk(&mut self, file: ZoneFile, path: &Path, name: String, kind: fs::FileType) {
        if kind.is_symlink() {
            match fs::read_link(path) {
                Ok(target) => {
                    let target = target.to_string_lossy().into_owned();
                    return self.zone_file(file, name, Some(&target), &mut io::empty());
                }
                Err(e) => return self.skip(name, link_error(&e)),
            }
        }
        match File::open(path) {
            Ok(mut f) => self.zone_file(file, name, None, &mut f),
            Err(e) => self.skip(name, open_error(&e)),
        }
    }

    /// Iterates a zip's entries, visiting the ones to read. A zip on disk is
    /// read through its central directory (every entry, whatever its flags);
    /// a zip read once (inside a tar, standard input) entry by entry from
    /// its local headers, which stops at an entry whose sizes come after its
    /// data (a data descriptor) since its end cannot be found.
    fn zip(&mut self, reader: Box<dyn Read + '_>, name: &str, depth: usize, disk: Option<&Path>) {
        if let Some(path) = disk {
            return self.zip_file(path, name, depth);
        }
        let mut layout = Layout::new(name, true);
        self.report_bundles(&mut layout, name);
        let mut reader = reader;
        let mut read_any = false;
        loop {
            let mut file = match zip::read::read_zipfile_from_stream(&mut reader) {
                Ok(Some(file)) => file,
                Ok(None) => return,
                Err(e) => {
                    let mut why = format!(
                        "corrupt zip, or an entry whose size is given after its data \
                         (read once, its end cannot be found: unzip it first): {e}"
                    );
                    if read_any {
                        why.push_str(" (the entries before it were read)");
                    }
                    return self.skip(name.to_string(), why);
                }
            };
            read_any = true;
            let raw = file.name().to_string();
            let member = Member::of_zip(&file, &raw);
            if !self.member(name, &mut layout, member, &mut file, depth) {
                return;
            }
            // What the visitor left unread, so that the next header follows.
            if io::copy(&mut file, &mut io::sink()).is_err() {
                return self.skip(
                    name.to_string(),
                    "corrupt zip (the entries before it were read)",
                );
            }
        }
    }

    /// A zip on disk, read through its central directory.
    fn zip_file(&mut self, path: &Path, name: &str, depth: usize) {
        let opened = File::open(path)
            .map_err(|e| open_error(&e))
            .and_then(|f| zip::ZipArchive::new(f).map_err(|e| format!("corrupt zip: {e}")));
        let mut archive = match opened {
            Ok(archive) => archive,
            Err(why) => return self.skip(name.to_string(), why),
        };
        let mut layout = Layout::new(name, false);
        for entry in archive.file_names() {
            let comps = components(strip_dot_slash(entry));
            layout.observe(&comps, entry.ends_with('/'));
        }
        self.report_bundles(&mut layout, name);
        for i in 0..archive.len() {
            let entry = archive.name_for_index(i).unwrap_or("?").to_string();
            let mut file = match archive.by_index(i) {
                Ok(file) => file,
                Err(e) => {
                    self.skip(format!("{name}:{entry}"), format!("not read: {e}"));
                    continue;
                }
            };
            let raw = file.name().to_string();
            let member = Member::of_zip(&file, &raw);
            if !self.member(name, &mut layout, member, &mut file, depth) {
                return;
            }
        }
    }

    fn report_bundles(&mut self, layout: &mut Layout, archive: &str) {
        for (root, kind, was) in layout.fresh() {
            let root = if root.is_empty() {
                archive.to_string()
            } else {
                format!("{archive}:{root}")
            };
            if let Some(was) = was {
                if let Some(b) = self
                    .out
                    .bundles
                    .iter_mut()
                    .find(|b| b.root == root && b.kind == was)
                {
                    b.kind = kind;
                    continue;
                }
            }
            self.out.bundles.push(Bundle { root, kind });
        }
    }
}

/// One member of an archive, as the walk needs it.
struct Member<'a> {
    /// Its path as the archive writes it.
    path: &'a str,
    is_dir: bool,
    /// A regular file (not a link, device or directory).
    regular: bool,
    modified: Option<SystemTime>,
    /// Its size as the archive states it, to tell a cut archive.
    size: u64,
    /// A GNU sparse tar entry, whose stored bytes are fewer than its size.
    sparse: bool,
    /// A symbolic link's target.
    link: Option<&'a str>,
}

/// A zip entry's time (MS-DOS local time, no zone: read as UTC).
impl<'a> Member<'a> {
    /// A zip entry, streamed or read through the central directory; `path`
    /// is its name, owned by the caller while the entry is read.
    fn of_zip<R: Read>(file: &zip::read::ZipFile<'_, R>, path: &'a str) -> Member<'a> {
        Member {
            path,
            is_dir: file.is_dir(),
            regular: file.is_file(),
            modified: file.last_modified().and_then(zip_time),
            size: file.size(),
            sparse: false,
            link: None,
        }
    }
}

fn zip_time(t: zip::DateTime) -> Option<SystemTime> {
    let date = NaiveDate::from_ymd_opt(i32::from(t.year()), t.month().into(), t.day().into())?;
    let time = date.and_hms_opt(t.hour().into(), t.minute().into(), t.second().into())?;
    let secs = u64::try_from(time.and_utc().timestamp()).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// The entry names of the archive in the file at `path`, read ahead so that
/// the layout is known before any entry is visited. Stops quietly at an
/// error: the main pass meets and reports it.
fn prescan(path: &Path, name: &str) -> Layout {
    let mut layout = Layout::new(name, false);
    let Ok(file) = File::open(path) else {
        return layout;
    };
    let reader = Box::new(BufReader::with_capacity(FILE_BUFFER, file));
    let Ok(peeled) = peel(reader, 0) else {
        return layout;
    };
    if !matches!(peeled.sniff, Sniff::Tar) {
        return layout;
    }
    if peeled.layers == 0 {
        // A plain tar: skip over entry data instead of reading it.
        drop(peeled);
        let Ok(file) = File::open(path) else {
            return layout;
        };
        let mut archive = tar::Archive::new(file);
        if let Ok(entries) = archive.entries_with_seek() {
            observe_all(entries, &mut layout);
        }
    } else {
        let mut archive = tar::Archive::new(peeled.reader);
        if let Ok(entries) = archive.entries() {
            observe_all(entries, &mut layout);
        }
    }
    layout
}

fn observe_all<R: Read>(entries: tar::Entries<'_, R>, layout: &mut Layout) {
    for entry in entries {
        let Ok(entry) = entry else { break };
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let comps = components(strip_dot_slash(&raw));
        layout.observe(&comps, entry.header().entry_type().is_dir());
    }
}

fn strip_dot_slash(mut path: &str) -> &str {
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path
}

/// The parts of an entry path, without empty and `.` parts (`..` stays).
fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

// ---------------------------------------------------------------------------
// Bundle layouts

const SOS_COMMANDS: u8 = 1;
const SOS_META: u8 = 2;
const VAR_LOG: u8 = 4;
const HOST_COLLECTORS: u8 = 8;
const EKS_LOG: u8 = 16;
const EKS_DIR: u8 = 32;

/// The layout marker that a child `first` of a directory is, with `second`
/// the child's own child on the path seen (if any).
fn marker(first: &str, second: Option<&str>, first_is_dir: bool) -> u8 {
    let dir = first_is_dir || second.is_some();
    match first {
        "sos_commands" if dir => SOS_COMMANDS,
        "sos_logs" | "sos_reports" if dir => SOS_META,
        "host-collectors" if dir => HOST_COLLECTORS,
        "ipamd" | "var_log" | "sysctls" | "sandbox-image" if dir => EKS_DIR,
        "var" if second == Some("log") => VAR_LOG,
        "kubelet" if second == Some("kubelet.log") => EKS_LOG,
        "containerd" if second == Some("containerd-log.txt") => EKS_LOG,
        _ => 0,
    }
}

/// The marker that the child `child` of the directory `dir` is.
fn dir_marker(dir: &Path, child: &str, is_dir: bool) -> u8 {
    let second = match child {
        "var" => "log",
        "kubelet" => "kubelet.log",
        "containerd" => "containerd-log.txt",
        _ => return marker(child, None, is_dir),
    };
    let exists = is_dir && fs::symlink_metadata(dir.join(child).join(second)).is_ok();
    marker(child, exists.then_some(second), is_dir)
}

/// The layout a directory with these markers is the root of.
fn kind_of(marks: u8) -> Option<BundleKind> {
    if marks & SOS_COMMANDS != 0 && marks & (VAR_LOG | SOS_META) != 0 {
        Some(BundleKind::Sosreport)
    } else if marks & HOST_COLLECTORS != 0 {
        Some(BundleKind::Troubleshoot)
    } else if marks & EKS_LOG != 0 && marks & EKS_DIR != 0 {
        Some(BundleKind::EksLogCollector)
    } else if marks & VAR_LOG != 0 {
        Some(BundleKind::VarLog)
    } else {
        None
    }
}

/// `var/log/` names a sosreport's logs start with.
const SOS_VAR_LOG: &[&str] = &[
    "messages",
    "syslog",
    "kern.log",
    "dmesg",
    "docker",
    "containerd",
    "kubelet",
    "containers",
    "pods",
    "calico",
    "journal",
];

/// Whether the file at `rel` below a bundle's root is one of its logs.
fn is_log<S: AsRef<str>>(kind: BundleKind, rel: &[S]) -> bool {
    let part = |i: usize| rel.get(i).map_or("", AsRef::as_ref);
    let leaf = part(rel.len().wrapping_sub(1));
    match kind {
        BundleKind::Sosreport => {
            let var_log = part(0) == "var"
                && part(1) == "log"
                && rel.len() >= 3
                && SOS_VAR_LOG.iter().any(|p| part(2).starts_with(p));
            let journal = part(0) == "sos_commands"
                && rel.len() == 3
                && leaf.starts_with("journalctl_")
                && !leaf.contains("--disk-usage")
                && !leaf.contains("--list-boots");
            let dmesg = part(0) == "sos_commands"
                && part(1) == "kernel"
                && rel.len() == 3
                && leaf.starts_with("dmesg");
            var_log || journal || dmesg
        }
        BundleKind::Troubleshoot => {
            let host = part(0) == "host-collectors"
                && rel.len() >= 3
                && match part(1) {
                    "journald" => leaf.ends_with(".txt"),
                    "run-host" => !leaf.ends_with(".json"),
                    _ => false,
                };
            host || crate::cluster::troubleshoot_file(rel)
        }
        BundleKind::EksLogCollector => match (part(0), rel.len()) {
            ("var_log", n) => n >= 2,
            ("kubelet", 2) => leaf == "kubelet.log",
            ("containerd", 2) => leaf == "containerd-log.txt",
            ("docker", n) => n >= 2 && !(leaf.starts_with("docker-") && leaf.ends_with(".txt")),
            ("sandbox-image", 2) => leaf.ends_with("-log.txt"),
            ("kernel", 2) => leaf.starts_with("dmesg"),
            _ => false,
        },
        BundleKind::VarLog => true,
    }
}

/// The layouts seen in an archive: markers by directory (entry path
/// prefix, `""` for the archive's top).
struct Layout {
    marks: HashMap<String, u8>,
    /// Directories in the order they were first marked.
    order: Vec<String>,
    /// Kind reported for each root so far.
    reported: HashMap<String, Option<BundleKind>>,
    /// Read once: name cues stand in for markers not yet seen.
    cues: bool,
}

impl Layout {
    fn new(archive: &str, cues: bool) -> Layout {
        let mut layout = Layout {
            marks: HashMap::new(),
            order: Vec::new(),
            reported: HashMap::new(),
            cues,
        };
        let leaf = archive.rsplit(['/', ':']).next().unwrap_or(archive);
        if cues && leaf.starts_with("eks_i-") {
            layout.mark(String::new(), EKS_LOG | EKS_DIR);
        }
        layout
    }

    fn mark(&mut self, dir: String, bits: u8) -> bool {
        match self.marks.get_mut(&dir) {
            Some(m) if *m & bits == bits => false,
            Some(m) => {
                *m |= bits;
                true
            }
            None => {
                self.order.push(dir.clone());
                self.marks.insert(dir, bits);
                true
            }
        }
    }

    /// Records the markers on one entry path; true when any is new.
    fn observe(&mut self, comps: &[&str], is_dir: bool) -> bool {
        let mut changed = false;
        if self.cues && comps.len() > 1 && comps[0].starts_with("sosreport-") {
            changed |= self.mark(comps[0].to_string(), SOS_COMMANDS | SOS_META);
        }
        let mut dir = String::new();
        for (i, first) in comps.iter().enumerate() {
            let second = comps.get(i + 1).copied();
            let bits = marker(first, second, second.is_some() || is_dir);
            if bits != 0 {
                changed |= self.mark(dir.clone(), bits);
            }
            if !dir.is_empty() {
                dir.push('/');
            }
            dir.push_str(first);
        }
        changed
    }

    /// The selective bundle `comps` is inside, and its path below the root.
    fn bundle_of<'c>(&self, comps: &'c [&'c str]) -> Option<(BundleKind, &'c [&'c str])> {
        let mut dir = String::new();
        for (i, part) in comps.iter().enumerate() {
            let kind = self.marks.get(&dir).and_then(|&m| kind_of(m));
            if let Some(kind) = kind.filter(|k| k.selective()) {
                return Some((kind, &comps[i..]));
            }
            if !dir.is_empty() {
                dir.push('/');
            }
            dir.push_str(part);
        }
        None
    }

    /// Whether the file at `comps` is read.
    fn visits(&self, comps: &[&str]) -> bool {
        match self.bundle_of(comps) {
            Some((kind, rel)) => is_log(kind, rel),
            None => true,
        }
    }

    /// Roots recognized (or recognized as another kind) since last asked:
    /// (root, kind, kind reported before). Roots inside a selective bundle
    /// are not bundles of their own.
    fn fresh(&mut self) -> Vec<(String, BundleKind, Option<BundleKind>)> {
        let mut fresh = Vec::new();
        for dir in &self.order {
            let Some(kind) = self.marks.get(dir).and_then(|&m| kind_of(m)) else {
                continue;
            };
            let before = self.reported.get(dir).copied().flatten();
            if before == Some(kind) {
                continue;
            }
            let comps: Vec<&str> = if dir.is_empty() {
                vec![]
            } else {
                dir.split('/').collect()
            };
            let inside = (0..comps.len()).any(|i| {
                let parent = comps[..i].join("/");
                self.marks
                    .get(&parent)
                    .and_then(|&m| kind_of(m))
                    .is_some_and(BundleKind::selective)
            });
            if inside {
                continue;
            }
            fresh.push((dir.clone(), kind, before));
        }
        for (dir, kind, _) in &fresh {
            self.reported.insert(dir.clone(), Some(*kind));
        }
        fresh
    }
}

// ---------------------------------------------------------------------------
// Classifying and peeling streams

enum Sniff {
    Text,
    Tar,
    Zip,
    /// A systemd journal file.
    Journal,
    /// Not read, and why.
    Skip(String),
}

enum Magic {
    Gzip,
    Zstd,
    Xz,
    Bzip2,
    Decode(Decoding),
    Other(Sniff),
}

fn sniff(head: &[u8]) -> Magic {
    if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        return Magic::Gzip;
    }
    let zstd_skippable =
        head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18];
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) || zstd_skippable {
        return Magic::Zstd;
    }
    if is_tar(head) {
        return Magic::Other(Sniff::Tar);
    }
    let skip = |why: &str| Magic::Other(Sniff::Skip(why.to_string()));
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Magic::Xz;
    }
    let bzip2_block = head.get(4..10).is_some_and(|m| {
        m == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59] || m == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90]
    });
    if head.starts_with(b"BZh") && bzip2_block {
        return Magic::Bzip2;
    }
    if head.starts_with(b"PK\x03\x04") {
        return Magic::Other(Sniff::Zip);
    }
    if let Some(decoding) = Decoding::sniff(head) {
        return Magic::Decode(decoding);
    }
    if crate::format::journal_export::looks_like(head) {
        return Magic::Other(Sniff::Text);
    }
    if head.starts_with(crate::format::journal_file::SIGNATURE) {
        return Magic::Other(Sniff::Journal);
    }
    if memchr::memchr(0, head).is_some() {
        return skip("binary file");
    }
    Magic::Other(Sniff::Text)
}

/// A tar header: POSIX/GNU magic, or an old-style header whose checksum
/// adds up.
fn is_tar(head: &[u8]) -> bool {
    let Some(header) = head.get(..512) else {
        return false;
    };
    if &header[257..262] == b"ustar" {
        return true;
    }
    if header[0] == 0 {
        return false;
    }
    let field = &header[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    let Some(stored) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|s| u32::from_str_radix(s, 8).ok())
    else {
        return false;
    };
    let mut unsigned = 0u32;
    let mut signed = 0i32;
    for (i, &b) in header.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u32::from(b);
        signed += i32::from(b as i8);
    }
    stored == unsigned || i64::from(stored) == i64::from(signed)
}

struct Peeled<'a> {
    reader: Peeked<Box<dyn Read + 'a>>,
    sniff: Sniff,
    /// Compression layers removed and decodings applied.
    layers: usize,
    notes: Vec<&'static str>,
}

/// Removes compression layers from `reader` until something else shows.
/// `depth` is how deeply `reader` is already nested.
fn peel(reader: Box<dyn Read + '_>, depth: usize) -> Result<Peeled<'_>, String> {
    let mut reader = reader;
    let mut layers = 0;
    let mut notes = Vec::new();
    loop {
        let peeked = Peeked::new(reader, SNIFF_BYTES);
        if peeked.head.is_empty() {
            if let Some(e) = &peeked.err {
                return Err(reason_of(e, "read failed"));
            }
        }
        let magic = sniff(&peeked.head);
        let compressed = matches!(magic, Magic::Gzip | Magic::Zstd | Magic::Xz | Magic::Bzip2);
        if compressed && depth + layers >= MAX_DEPTH {
            return Err(format!(
                "nested too deep (more than {MAX_DEPTH} archives and compressions): not read"
            ));
        }
        reader = match magic {
            Magic::Gzip => Box::new(Labeled::new(
                flate2::read::MultiGzDecoder::new(peeked),
                "corrupt gzip",
            )),
            Magic::Zstd => Box::new(Labeled::new(Zstd::new(peeked), "corrupt zstd")),
            Magic::Xz => Box::new(Labeled::new(
                lzma_rust2::XzReader::new(peeked, true),
                "corrupt xz",
            )),
            Magic::Bzip2 => Box::new(Labeled::new(
                bzip2::read::MultiBzDecoder::new(peeked),
                "corrupt bzip2",
            )),
            Magic::Decode(decoding) => {
                notes.push(decoding.note());
                decoding.reader(peeked)
            }
            Magic::Other(sniff) => {
                return Ok(Peeled {
                    reader: peeked,
                    sniff,
                    layers,
                    notes,
                })
            }
        };
        layers += 1;
    }
}

/// A reader whose first bytes were read ahead to classify it; they are
/// served again first. An error met while reading ahead is returned after
/// them.
struct Peeked<R> {
    head: Vec<u8>,
    pos: usize,
    err: Option<io::Error>,
    inner: R,
}

impl<R: Read> Peeked<R> {
    fn new(mut inner: R, want: usize) -> Self {
        let mut head = vec![0; want];
        let mut len = 0;
        let mut err = None;
        while len < want {
            match inner.read(&mut head[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        head.truncate(len);
        Peeked {
            head,
            pos: 0,
            err,
            inner,
        }
    }
}

impl<R: Read> Read for Peeked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head.len() {
            let n = buf.len().min(self.head.len() - self.pos);
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        if let Some(e) = self.err.take() {
            return Err(e);
        }
        self.inner.read(buf)
    }
}

// ---------------------------------------------------------------------------
// Errors that say which layer failed

/// The message of an error that already says what failed.
#[derive(Debug)]
struct Reason(String);

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Reason {}

/// Prefixes the errors of `inner` (not those of the layers below it, which
/// already say what failed) with what it is.
struct Labeled<R> {
    inner: R,
    what: &'static str,
}

impl<R> Labeled<R> {
    fn new(inner: R, what: &'static str) -> Self {
        Labeled { inner, what }
    }
}

impl<R: Read> Read for Labeled<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted || is_reason(&e) {
                e
            } else {
                io::Error::new(e.kind(), Reason(format!("{}: {e}", self.what)))
            }
        })
    }
}

fn is_reason(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Reason>())
}

/// What an error says, prefixed with `what` unless a layer already said.
fn reason_of(e: &io::Error, what: &str) -> String {
    if is_reason(e) {
        e.to_string()
    } else {
        format!("{what}: {e}")
    }
}

/// Notes the first read error of the stream handed to a visitor.
struct Tap<'a> {
    inner: &'a mut dyn Read,
    err: Option<String>,
}

impl<'a> Tap<'a> {
    fn new(inner: &'a mut dyn Read) -> Self {
        Tap { inner, err: None }
    }
}

impl Read for Tap<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if self.err.is_none() && e.kind() != io::ErrorKind::Interrupted {
                self.err = Some(reason_of(e, "read failed"));
            }
        })
    }
}

/// Counts what is read of an archive entry, to tell a cut archive from a
/// short read.
struct Counted<'a> {
    inner: &'a mut dyn Read,
    bytes: u64,
    eof: bool,
    failed: bool,
}

impl<'a> Counted<'a> {
    fn new(inner: &'a mut dyn Read) -> Self {
        Counted {
            inner,
            bytes: 0,
            eof: false,
            failed: false,
        }
    }
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(0) if !buf.is_empty() => {
                self.eof = true;
                Ok(0)
            }
            Ok(n) => {
                self.bytes += n as u64;
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.failed = true;
                }
                Err(e)
            }
        }
    }
}

// ---------------------------------------------------------------------------
// zstd

/// Decodes every frame of a zstd stream, skipping skippable frames and
/// checking each frame's checksum when it has one.
struct Zstd<R> {
    src: OneBack<R>,
    decoder: ruzstd::decoding::FrameDecoder,
    in_frame: bool,
}

impl<R: Read> Zstd<R> {
    fn new(inner: R) -> Self {
        Zstd {
            src: OneBack { inner, back: None },
            decoder: ruzstd::decoding::FrameDecoder::new(),
            in_frame: false,
        }
    }

    /// Starts the next frame; false at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
        loop {
            if !self.src.more()? {
                return Ok(false);
            }
            match self.decoder.reset(&mut self.src) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let length = u64::from(length);
                    let skipped = io::copy(&mut (&mut self.src).take(length), &mut io::sink())?;
                    if skipped < length {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "stream ends inside a skippable frame",
                        ));
                    }
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
        }
    }
}

impl<R: Read> Read for Zstd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use ruzstd::decoding::BlockDecodingStrategy;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            while self.decoder.can_collect() < buf.len() && !self.decoder.is_finished() {
                let more = buf.len() - self.decoder.can_collect();
                self.decoder
                    .decode_blocks(&mut self.src, BlockDecodingStrategy::UptoBytes(more))
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            }
            let n = self.decoder.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if self.decoder.is_finished() {
                let stored = self.decoder.get_checksum_from_data();
                let computed = self.decoder.get_calculated_checksum();
                if let (Some(stored), Some(computed)) = (stored, computed) {
                    if stored != computed {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "frame checksum mismatch",
                        ));
                    }
                }
                self.in_frame = false;
            }
        }
    }
}

/// A reader that can tell whether more bytes come, keeping the one it saw.
struct OneBack<R> {
    inner: R,
    back: Option<u8>,
}

impl<R: Read> OneBack<R> {
    fn more(&mut self) -> io::Result<bool> {
        if self.back.is_some() {
            return Ok(true);
        }
        let mut one = [0u8; 1];
        loop {
            match self.inner.read(&mut one) {
                Ok(0) => return Ok(false),
                Ok(_) => {
                    self.back = Some(one[0]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R: Read> Read for OneBack<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(b) = self.back.take() {
            buf[0] = b;
            return Ok(1);
        }
        self.inner.read(buf)
    }
}

// ---------------------------------------------------------------------------
// Messages

fn open_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "not found: check the path".into(),
        io::ErrorKind::PermissionDenied => {
            "unreadable: permission denied (run as a user who can read it, or copy it first)".into()
        }
        _ => format!("unreadable: {e}"),
    }
}

fn dir_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => {
            "unreadable directory: permission denied (run as a user who can read it)".into()
        }
        _ => format!("unreadable directory: {e}"),
    }
}

/// ELOOP, "too many levels of symbolic links".
#[cfg(target_os = "linux")]
const ELOOP: i32 = 40;
#[cfg(not(target_os = "linux"))]
const ELOOP: i32 = 62;

fn link_error(e: &io::Error) -> String {
    if e.raw_os_error() == Some(ELOOP) {
        "symlink loop: not followed".into()
    } else if e.kind() == io::ErrorKind::NotFound {
        "broken symlink: its target does not exist".into()
    } else {
        open_error(e)
    }
}

#[cfg(unix)]
fn special_kind(kind: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "fifo"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "device"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_kind: &fs::FileType) -> &'static str {
    "special file"
}
