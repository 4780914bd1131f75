//! The text of matched lines, kept out of the events: an event holds a
//! [`TextRef`] (16 bytes) instead of its line, and the report reads back
//! the handful it shows as evidence. A log whose every line matches (2,000
//! containers in a stop loop) would otherwise hold its whole matched text
//! in memory until the report (issue 10). Up to [`SPILL_AT`] bytes stay in
//! memory; past that the store moves them to an unnamed temporary file, so
//! memory stays bounded whatever the input. If no temporary file can be
//! made the text stays in memory: slower to fail than to lose evidence.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

/// Bytes held in memory before they move to the temporary file.
const SPILL_AT: usize = 8 * 1024 * 1024;

/// Where a text is in its [`Texts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextRef {
    at: u64,
    len: u32,
}

/// An append-only store of texts.
#[derive(Debug, Default)]
pub struct Texts {
    /// Bytes `spilled..` of the store.
    memory: Vec<u8>,
    /// Bytes `..spilled` of the store.
    file: Option<Mutex<File>>,
    spilled: u64,
    /// Set once making or writing the file failed: everything stays in
    /// memory from then on.
    no_file: bool,
}

impl Texts {
    /// Stores `text`.
    pub fn push(&mut self, text: &[u8]) -> TextRef {
        let at = self.spilled + self.memory.len() as u64;
        // Lines are cut to scan::MAX_LINE and entries are far below 4 GiB.
        let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
        self.memory.extend_from_slice(&text[..len as usize]);
        if self.memory.len() >= SPILL_AT {
            self.spill();
        }
        TextRef { at, len }
    }

    /// Appends `next`'s texts; a reference `r` of `next` is
    /// `r.after(base)` here, `base` being what this returns.
    pub fn append(&mut self, mut next: Texts) -> u64 {
        let base = self.spilled + self.memory.len() as u64;
        if let Some(file) = next.file.take() {
            let mut file = file.into_inner().unwrap_or_else(|e| e.into_inner());
            let mut chunk = vec![0u8; 1 << 20];
            let mut left = next.spilled;
            let rewound = file.seek(SeekFrom::Start(0)).is_ok();
            while rewound && left > 0 {
                let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                if file.read_exact(&mut chunk[..want]).is_err() {
                    break;
                }
                self.extend(&chunk[..want]);
                left -= want as u64;
            }
            // What could not be read back reads as blanks, at its place.
            if left > 0 {
                let blanks = vec![b' '; usize::try_from(left).unwrap_or(0)];
                self.extend(&blanks);
            }
        }
        self.extend(&next.memory);
        base
    }

    fn extend(&mut self, bytes: &[u8]) {
        self.memory.extend_from_slice(bytes);
        if self.memory.len() >= SPILL_AT {
            self.spill();
        }
    }

    /// Moves the bytes in memory to the file.
    fn spill(&mut self) {
        if self.no_file {
            return;
        }
        if self.file.is_none() {
            match tempfile::tempfile() {
                Ok(file) => self.file = Some(Mutex::new(file)),
                Err(_) => {
                    self.no_file = true;
                    return;
                }
            }
        }
        let Some(file) = &mut self.file else {
            return;
        };
        let file = file.get_mut().unwrap_or_else(|e| e.into_inner());
        let written = file
            .seek(SeekFrom::Start(self.spilled))
            .and_then(|_| file.write_all(&self.memory));
        if written.is_ok() {
            self.spilled += self.memory.len() as u64;
            self.memory.clear();
        } else {
            self.no_file = true;
        }
    }

    /// The text at `r`, lossily decoded; empty if the file cannot be read.
    pub fn get(&self, r: TextRef) -> String {
        let len = r.len as usize;
        if r.at >= self.spilled {
            let start = usize::try_from(r.at - self.spilled).unwrap_or(usize::MAX);
            return self
                .memory
                .get(start..start.saturating_add(len))
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
        }
        let Some(file) = &self.file else {
            return String::new();
        };
        let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
        let mut bytes = vec![0u8; len];
        match file
            .seek(SeekFrom::Start(r.at))
            .and_then(|_| file.read_exact(&mut bytes))
        {
            Ok(()) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => String::new(),
        }
    }
}

impl TextRef {
    /// This reference once its store was appended after `base` bytes.
    pub fn after(self, base: u64) -> TextRef {
        TextRef {
            at: self.at + base,
            len: self.len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts written past the threshold, in pieces appended to each other,
    /// read back as written, from memory and from the file alike.
    #[test]
    fn texts_read_back_across_spills_and_appends() {
        let line = |i: usize| {
            format!(
                "May  1 10:48:02 node dockerd: line {i} {}",
                "x".repeat(i % 700)
            )
        };
        let mut all = Texts::default();
        let mut refs = Vec::new();
        for piece in 0..6 {
            let mut part = Texts::default();
            let mut local = Vec::new();
            for i in piece * 10_000..(piece + 1) * 10_000 {
                local.push((i, part.push(line(i).as_bytes())));
            }
            let base = all.append(part);
            refs.extend(local.into_iter().map(|(i, r)| (i, r.after(base))));
        }
        assert!(all.spilled > 0, "over 8 MiB must have moved to the file");
        assert!(all.memory.len() < SPILL_AT);
        for (i, r) in refs.iter().step_by(97) {
            assert_eq!(all.get(*r), line(*i));
        }
    }
}
