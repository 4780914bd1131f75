//! The text of matched lines, kept out of the events: an event holds a
//! [`TextRef`] (8 bytes) instead of its line, and the report reads back
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

/// Where a text is in its [`Texts`]: its offset and length in one word,
/// since every event holds one. [`AT_BITS`] of offset address 16 TiB of
/// texts; the rest of the word is the length, so a text is kept to its
/// first [`MAX_TEXT`] bytes (lines are cut to 64 KiB before this anyway).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextRef(u64);

const AT_BITS: u32 = 44;
const AT_MASK: u64 = (1 << AT_BITS) - 1;
/// The longest text a [`TextRef`] spans.
pub const MAX_TEXT: usize = (1 << (64 - AT_BITS)) - 1;

impl TextRef {
    /// `len` bytes at `at`; a store past 16 TiB yields references that
    /// read as empty.
    fn new(at: u64, len: usize) -> TextRef {
        if at > AT_MASK {
            return TextRef(AT_MASK);
        }
        TextRef(at | ((len.min(MAX_TEXT) as u64) << AT_BITS))
    }

    fn at(self) -> u64 {
        self.0 & AT_MASK
    }

    fn len(self) -> usize {
        (self.0 >> AT_BITS) as usize
    }
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
        let len = text.len().min(MAX_TEXT);
        self.extend(&text[..len]);
        TextRef::new(at, len)
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

    /// Spills before the bytes in memory would pass [`SPILL_AT`], so the
    /// buffer never grows past it (a store appended to and spilled over and
    /// over once held two and four times that).
    fn extend(&mut self, bytes: &[u8]) {
        if self.memory.len() + bytes.len() > SPILL_AT {
            self.spill();
        }
        let need = self.memory.len() + bytes.len();
        // Without a file everything stays here: plain doubling then.
        if need > self.memory.capacity() && !self.no_file {
            // Doubling, but never past the threshold.
            let grown = (2 * self.memory.capacity()).clamp(need, SPILL_AT.max(need));
            self.memory.reserve_exact(grown - self.memory.len());
        }
        self.memory.extend_from_slice(bytes);
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
        let (at, len) = (r.at(), r.len());
        if at >= self.spilled {
            let start = usize::try_from(at - self.spilled).unwrap_or(usize::MAX);
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
            .seek(SeekFrom::Start(at))
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
        TextRef::new(self.at().saturating_add(base), self.len())
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
        assert!(all.memory.capacity() <= SPILL_AT);
        for (i, r) in refs.iter().step_by(97) {
            assert_eq!(all.get(*r), line(*i));
        }
    }

    /// A reference is one word: a text past its length limit is kept cut,
    /// and one placed past the addressable store reads as empty, never as
    /// another text.
    #[test]
    fn references_pack_offset_and_length_into_a_word() {
        assert_eq!(std::mem::size_of::<TextRef>(), 8);
        let mut texts = Texts::default();
        let first = texts.push(b"kernel: INFO: task dockerd:1234 blocked");
        let long = texts.push(&vec![b'x'; MAX_TEXT + 10]);
        assert_eq!(texts.get(first), "kernel: INFO: task dockerd:1234 blocked");
        assert_eq!(texts.get(long).len(), MAX_TEXT);
        assert_eq!(texts.get(first.after(AT_MASK)), "");
        assert_eq!(texts.get(first.after(u64::MAX)), "");
    }
}
