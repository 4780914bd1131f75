//! systemd journal files met during a walk: held until the walk ends, then
//! merged per machine (like `journalctl -D DIR` reads a directory) and
//! handed to the visitor as one export stream each
//! ([`journal_file`](crate::format::journal_file) reads and renders them).
//!
//! A journal file needs random access (entries point at data objects
//! anywhere in the file), so each is held in memory whole, up to
//! [`MAX_JOURNALS`] bytes for all of a walk's journal files; beyond that a
//! file is named and not read. What could not be read inside a file (a torn
//! tail, a corrupt field) is named with its count once the merge is read.

use std::io::Read;
use std::time::SystemTime;

use super::{reason_of, Content, Found, Walker};
use crate::format::journal_file::{JournalFile, Merged};

/// Journal bytes held for one walk, at most (journald's default largest
/// file is 128 MiB; a machine's /var/log/journal is a few of them).
pub const MAX_JOURNALS: u64 = 2 * 1024 * 1024 * 1024;

/// A journal file waiting for the end of the walk.
pub(super) struct Pending {
    name: String,
    modified: Option<SystemTime>,
    file: JournalFile,
}

impl Walker<'_> {
    /// Reads a journal file whole and keeps it for [`Walker::flush_journals`].
    /// Returns why reading failed, when it did.
    pub(super) fn journal(
        &mut self,
        reader: &mut dyn Read,
        name: String,
        modified: Option<SystemTime>,
    ) -> Option<String> {
        let room = MAX_JOURNALS.saturating_sub(self.journal_bytes);
        let mut buf = Vec::new();
        if let Err(e) = reader.take(room + 1).read_to_end(&mut buf) {
            let why = reason_of(&e, "read failed");
            self.skip(name, format!("{why}: journal file not read"));
            return None;
        }
        if buf.len() as u64 > room {
            self.skip(
                name,
                format!(
                    "journal files above {} MiB in all: not read \
                     (journalctl --file FILE -o export > FILE.export)",
                    MAX_JOURNALS >> 20
                ),
            );
            return None;
        }
        self.journal_bytes += buf.len() as u64;
        match JournalFile::open(buf) {
            Ok(file) => self.journals.push(Pending {
                name,
                modified,
                file,
            }),
            Err(why) => self.skip(name, why),
        }
        None
    }

    /// Visits the journal files held, one merged stream per machine, in
    /// the order each machine's first file was met.
    pub(super) fn flush_journals(&mut self) {
        let mut pending = std::mem::take(&mut self.journals);
        while !pending.is_empty() {
            let machine = pending[0].file.machine_id();
            let (ours, rest): (Vec<Pending>, Vec<Pending>) = pending
                .into_iter()
                .partition(|p| p.file.machine_id() == machine);
            pending = rest;
            let name = merged_name(&ours);
            let modified = ours.iter().filter_map(|p| p.modified).max();
            let files = ours.into_iter().map(|p| (p.name, p.file)).collect();
            let mut merged = Merged::new(files);
            (self.visit)(Found {
                name,
                content: Content::Stream(&mut merged),
                modified,
                name_date: None,
                notes: vec!["systemd journal files read natively, merged in time order; lines are numbered as journalctl -o export prints them"],
                objects: None,
            });
            for ((file, problem), count) in merged.problems {
                let what = if count == 1 { "entry" } else { "entries" };
                self.skip(
                    file,
                    format!(
                        "{count} journal {what} not read: {} (the others were read)",
                        problem.describe()
                    ),
                );
            }
        }
    }
}

/// How a machine's merged journal is named: the file's name when it is
/// alone, else `DIR/*.journal` (their common directory).
fn merged_name(files: &[Pending]) -> String {
    if let [one] = files {
        return one.name.clone();
    }
    let dir = |name: &str| {
        name.rsplit_once(['/', ':'])
            .map_or("", |(d, _)| d)
            .to_string()
    };
    let first = dir(&files[0].name);
    if files.iter().all(|p| dir(&p.name) == first) {
        let sep = if files[0].name[first.len()..].starts_with(':') {
            ":"
        } else {
            "/"
        };
        format!("{first}{sep}*.journal")
    } else {
        let names: Vec<&str> = files.iter().map(|p| p.name.as_str()).collect();
        names.join(" + ")
    }
}
