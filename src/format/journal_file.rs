//! systemd journal files (`*.journal`, `*.journal~`) read natively, without
//! journalctl, following systemd's Journal File Format
//! (<https://systemd.io/JOURNAL_FILE_FORMAT/>; the structures are those of
//! `systemd/systemd src/libsystemd/sd-journal/journal-def.h`).
//!
//! A file is a header (`LPKSHHRH`, flags, ids, where the entry array chain
//! starts) followed by 8-byte aligned objects, each with a 16-byte header
//! (type, flags, size). Entries are found the way journalctl finds them:
//! through the header's chain of ENTRY_ARRAY objects, which lists every
//! ENTRY in order; an ENTRY lists its DATA objects (`FIELD=value`
//! payloads, compressed with XZ, LZ4 or ZSTD when they were large). Compact
//! files (`COMPACT` flag) store 32-bit offsets in entries and arrays and 8
//! more bytes before a DATA payload. Keyed hashes (`KEYED_HASH`) change only
//! how the hash tables are indexed, which reading every entry does not use.
//!
//! What this module leaves to others: the mapping of fields to an envelope
//! is the export reader's ([`journal_export`](super::journal_export)): each
//! entry is rendered as `journalctl -o export` renders it (same fields, same
//! order, same cursor), so a journal file and its export give the same
//! records, and line numbers are those of `journalctl --file F -o export`.
//! Several files of one machine (`journalctl -D DIR`) are merged in
//! journalctl's order by [`Merged`]; finding the files is discover's.
//!
//! Every offset read from the file is checked against its length: a torn
//! tail (a `.journal~` left by a crash, a copy taken while journald wrote),
//! an entry array pointing past the end or a corrupt compressed field never
//! panics; what could not be read is counted by reason ([`Merged::problems`]).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Read};

/// The first bytes of every journal file.
pub const SIGNATURE: &[u8; 8] = b"LPKSHHRH";
/// A data object larger than this once decompressed is not read (journald
/// refuses fields above 64 MiB, `DATA_SIZE_MAX`).
const MAX_FIELD: usize = 64 * 1024 * 1024;

// Header flags (journal-def.h).
const INCOMPATIBLE_XZ: u32 = 1 << 0;
const INCOMPATIBLE_LZ4: u32 = 1 << 1;
const INCOMPATIBLE_KEYED_HASH: u32 = 1 << 2;
const INCOMPATIBLE_ZSTD: u32 = 1 << 3;
const INCOMPATIBLE_COMPACT: u32 = 1 << 4;
const INCOMPATIBLE_KNOWN: u32 = INCOMPATIBLE_XZ
    | INCOMPATIBLE_LZ4
    | INCOMPATIBLE_KEYED_HASH
    | INCOMPATIBLE_ZSTD
    | INCOMPATIBLE_COMPACT;

// Object types and flags (journal-def.h).
const OBJECT_DATA: u8 = 1;
const OBJECT_ENTRY: u8 = 3;
const OBJECT_ENTRY_ARRAY: u8 = 6;
const COMPRESSED_XZ: u8 = 1 << 0;
const COMPRESSED_LZ4: u8 = 1 << 1;
const COMPRESSED_ZSTD: u8 = 1 << 2;

/// Size of an object's header: type, flags, 6 reserved bytes, le64 size.
const OBJECT_HEADER: usize = 16;
/// Where an ENTRY's items start (after seqnum, realtime, monotonic, boot id
/// and xor hash).
const ENTRY_ITEMS: usize = 64;
/// Where an ENTRY_ARRAY's items start (after the next array's offset).
const ARRAY_ITEMS: usize = 24;
/// Where a DATA object's payload starts; compact files add 8 bytes.
const DATA_PAYLOAD: usize = 64;
/// The header fields read here end with `entry_array_offset` (offset 176);
/// files of every systemd since 187 have at least 208 bytes.
const MIN_HEADER: usize = 184;

/// Why something in a journal file could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// An object reaches past the end of the file (torn tail).
    PastEnd,
    /// An offset that is not 8-byte aligned, inside the header, or an
    /// object of the wrong type or an impossible size.
    BadObject,
    /// A compressed field that does not decompress.
    BadCompression,
    /// The entry array chain goes backwards (a loop).
    Loop,
}

impl Problem {
    pub fn describe(self) -> &'static str {
        match self {
            Problem::PastEnd => "reaches past the end of the file (torn tail)",
            Problem::BadObject => "points at no valid object",
            Problem::BadCompression => "has a field that does not decompress",
            Problem::Loop => "entry array chain loops",
        }
    }
}

/// One journal file, held in memory.
pub struct JournalFile {
    buf: Vec<u8>,
    compact: bool,
    header_size: usize,
    seqnum_id: [u8; 16],
    machine_id: [u8; 16],
    entry_array_offset: u64,
}

/// An entry's fixed part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryHead {
    pub offset: u64,
    pub seqnum: u64,
    pub realtime: u64,
    pub monotonic: u64,
    pub boot_id: [u8; 16],
    pub xor_hash: u64,
}

fn le64(buf: &[u8], at: usize) -> Option<u64> {
    let bytes = buf.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

fn le32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

fn id128(buf: &[u8], at: usize) -> Option<[u8; 16]> {
    buf.get(at..at + 16)?.try_into().ok()
}

fn hex(id: &[u8; 16]) -> String {
    id.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl JournalFile {
    /// Reads the header of the journal file in `buf`; refuses a file that is
    /// not a journal, whose header is cut, or that uses a feature this
    /// reader does not know (as journalctl does).
    pub fn open(buf: Vec<u8>) -> Result<JournalFile, String> {
        if !buf.starts_with(SIGNATURE) {
            return Err("not a systemd journal file".into());
        }
        let cut = || "systemd journal file cut inside its header".to_string();
        let incompatible = le32(&buf, 12).ok_or_else(cut)?;
        let unknown = incompatible & !INCOMPATIBLE_KNOWN;
        if unknown != 0 {
            return Err(format!(
                "systemd journal file with features unknown here \
                 (incompatible flags {unknown:#x}): not read \
                 (journalctl --file FILE -o export > FILE.export)"
            ));
        }
        let header_size = le64(&buf, 88).ok_or_else(cut)?;
        let header_size = usize::try_from(header_size).unwrap_or(usize::MAX);
        if header_size < MIN_HEADER || header_size > buf.len() {
            return Err(cut());
        }
        Ok(JournalFile {
            compact: incompatible & INCOMPATIBLE_COMPACT != 0,
            header_size,
            seqnum_id: id128(&buf, 72).ok_or_else(cut)?,
            machine_id: id128(&buf, 40).ok_or_else(cut)?,
            entry_array_offset: le64(&buf, 176).ok_or_else(cut)?,
            buf,
        })
    }

    /// The machine that wrote it: files of one machine are merged.
    pub fn machine_id(&self) -> [u8; 16] {
        self.machine_id
    }

    /// The object of type `kind` at `offset`, at least `min` bytes long.
    fn object(&self, offset: u64, kind: u8, min: usize) -> Result<&[u8], Problem> {
        let at = usize::try_from(offset).map_err(|_| Problem::PastEnd)?;
        if at % 8 != 0 || at < self.header_size {
            return Err(Problem::BadObject);
        }
        let head = self
            .buf
            .get(at..at.saturating_add(OBJECT_HEADER))
            .ok_or(Problem::PastEnd)?;
        let size = le64(head, 8).ok_or(Problem::PastEnd)?;
        let size = usize::try_from(size).map_err(|_| Problem::BadObject)?;
        if head[0] != kind || size < min.max(OBJECT_HEADER) {
            return Err(Problem::BadObject);
        }
        self.buf
            .get(at..at.checked_add(size).ok_or(Problem::BadObject)?)
            .ok_or(Problem::PastEnd)
    }

    fn item_width(&self) -> usize {
        if self.compact {
            4
        } else {
            8
        }
    }

    /// The offsets of its entries, in the order the entry array chain lists
    /// them, and why the chain ended early, when it did.
    pub fn entry_offsets(&self) -> (Vec<u64>, Option<Problem>) {
        let width = self.item_width();
        let mut offsets = Vec::new();
        let mut next = self.entry_array_offset;
        let mut last = 0;
        while next != 0 {
            if next <= last {
                return (offsets, Some(Problem::Loop));
            }
            last = next;
            let array = match self.object(next, OBJECT_ENTRY_ARRAY, ARRAY_ITEMS) {
                Ok(array) => array,
                Err(problem) => return (offsets, Some(problem)),
            };
            // Checked by `object`: the array holds its header.
            next = le64(array, 16).unwrap_or(0);
            for item in array[ARRAY_ITEMS..].chunks_exact(width) {
                let offset = if self.compact {
                    le32(item, 0).map(u64::from)
                } else {
                    le64(item, 0)
                };
                match offset {
                    // The unused tail of the newest array is zeros.
                    Some(0) | None => break,
                    Some(offset) => offsets.push(offset),
                }
            }
        }
        (offsets, None)
    }

    /// The fixed part of the entry at `offset`.
    pub fn entry_head(&self, offset: u64) -> Result<EntryHead, Problem> {
        let entry = self.object(offset, OBJECT_ENTRY, ENTRY_ITEMS)?;
        let get = |at| le64(entry, at).ok_or(Problem::BadObject);
        Ok(EntryHead {
            offset,
            seqnum: get(16)?,
            realtime: get(24)?,
            monotonic: get(32)?,
            boot_id: id128(entry, 40).ok_or(Problem::BadObject)?,
            xor_hash: get(56)?,
        })
    }

    /// The offsets of the DATA objects the entry at `offset` lists.
    fn entry_items(&self, offset: u64) -> Result<Vec<u64>, Problem> {
        let entry = self.object(offset, OBJECT_ENTRY, ENTRY_ITEMS)?;
        let width = if self.compact { 4 } else { 16 };
        Ok(entry[ENTRY_ITEMS..]
            .chunks_exact(width)
            .filter_map(|item| {
                if self.compact {
                    le32(item, 0).map(u64::from)
                } else {
                    le64(item, 0)
                }
            })
            .collect())
    }

    /// The payload (`FIELD=value`) of the DATA object at `offset`,
    /// decompressed.
    pub fn data(&self, offset: u64) -> Result<Cow<'_, [u8]>, Problem> {
        let start = if self.compact {
            DATA_PAYLOAD + 8
        } else {
            DATA_PAYLOAD
        };
        let object = self.object(offset, OBJECT_DATA, start)?;
        let payload = &object[start..];
        match object[1] & (COMPRESSED_XZ | COMPRESSED_LZ4 | COMPRESSED_ZSTD) {
            0 => Ok(Cow::Borrowed(payload)),
            COMPRESSED_XZ => bounded(lzma_rust2::XzReader::new(payload, true)).map(Cow::Owned),
            COMPRESSED_LZ4 => lz4(payload).map(Cow::Owned),
            COMPRESSED_ZSTD => {
                let decoder = ruzstd::decoding::StreamingDecoder::new(payload)
                    .map_err(|_| Problem::BadCompression)?;
                bounded(decoder).map(Cow::Owned)
            }
            _ => Err(Problem::BadObject),
        }
    }

    /// Appends the entry `head` as `journalctl -o export` prints it: the
    /// cursor and the entry's times and boot id, then every field in the
    /// entry's order, as text when printable, else in the binary form
    /// (name, newline, le64 length, bytes). Fields that cannot be read are
    /// left out and the first problem returned.
    pub fn export(&self, head: &EntryHead, out: &mut Vec<u8>) -> Option<Problem> {
        let boot = hex(&head.boot_id);
        let _ = writeln!(
            Text(out),
            "__CURSOR=s={};i={:x};b={boot};m={:x};t={:x};x={:x}\n\
             __REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID={boot}",
            hex(&self.seqnum_id),
            head.seqnum,
            head.monotonic,
            head.realtime,
            head.xor_hash,
            head.realtime,
            head.monotonic,
        );
        let mut problem = None;
        let items = match self.entry_items(head.offset) {
            Ok(items) => items,
            Err(p) => {
                out.push(b'\n');
                return Some(p);
            }
        };
        for item in items {
            let data = match self.data(item) {
                Ok(data) => data,
                Err(p) => {
                    problem.get_or_insert(p);
                    continue;
                }
            };
            let Some(eq) = memchr::memchr(b'=', &data) else {
                continue;
            };
            let (name, value) = (&data[..eq], &data[eq + 1..]);
            if !field_name(name) || name == b"_BOOT_ID" {
                continue;
            }
            out.extend_from_slice(name);
            if printable(value) {
                out.push(b'=');
                out.extend_from_slice(value);
            } else {
                out.push(b'\n');
                out.extend_from_slice(&(value.len() as u64).to_le_bytes());
                out.extend_from_slice(value);
            }
            out.push(b'\n');
        }
        out.push(b'\n');
        problem
    }
}

/// `fmt::Write` into a byte buffer.
struct Text<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A field name journald accepts: 1 to 64 of `A-Z`, `0-9`, `_`, not
/// starting with a digit.
fn field_name(name: &[u8]) -> bool {
    (1..=64).contains(&name.len())
        && !name[0].is_ascii_digit()
        && name
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether journalctl prints a value as text: valid UTF-8 without control
/// characters (C0, DEL and C1; a tab or a newline makes it binary).
fn printable(value: &[u8]) -> bool {
    std::str::from_utf8(value).is_ok_and(|s| {
        !s.chars()
            .any(|c| c < ' ' || ('\u{7f}'..='\u{9f}').contains(&c))
    })
}

/// Reads a decompressor to its end, refusing more than [`MAX_FIELD`].
fn bounded(reader: impl Read) -> Result<Vec<u8>, Problem> {
    let mut out = Vec::new();
    reader
        .take(MAX_FIELD as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| Problem::BadCompression)?;
    if out.len() > MAX_FIELD {
        return Err(Problem::BadCompression);
    }
    Ok(out)
}

/// systemd's LZ4 field: the decompressed size as le64, then one LZ4 block.
fn lz4(payload: &[u8]) -> Result<Vec<u8>, Problem> {
    let size = le64(payload, 0).ok_or(Problem::BadCompression)?;
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s <= MAX_FIELD)
        .ok_or(Problem::BadCompression)?;
    lz4_flex::block::decompress(&payload[8..], size).map_err(|_| Problem::BadCompression)
}

/// One file's place in a merge.
struct Source {
    name: String,
    file: JournalFile,
    offsets: Vec<u64>,
    next: usize,
    head: Option<EntryHead>,
}

impl Source {
    /// Moves to the next readable entry, counting those that are not.
    fn advance(&mut self, problems: &mut BTreeMap<(String, Problem), u64>) {
        self.head = None;
        while let Some(&offset) = self.offsets.get(self.next) {
            self.next += 1;
            match self.file.entry_head(offset) {
                Ok(head) => {
                    self.head = Some(head);
                    return;
                }
                Err(p) => *problems.entry((self.name.clone(), p)).or_default() += 1,
            }
        }
    }
}

/// The entries of several journal files of one machine as one export
/// stream, in journalctl's order: by sequence number within a file's
/// sequence (same seqnum id), else by monotonic time within a boot, else by
/// wall-clock time. An entry found in two files (same sequence id and
/// number) is read once.
pub struct Merged {
    sources: Vec<Source>,
    out: Vec<u8>,
    pos: usize,
    last: Option<([u8; 16], u64)>,
    /// Entries (or entry lists) not read, by file and reason.
    pub problems: BTreeMap<(String, Problem), u64>,
    /// Entries read.
    pub entries: u64,
}

impl Merged {
    /// Merges `files` (name, file).
    pub fn new(files: Vec<(String, JournalFile)>) -> Merged {
        let mut problems = BTreeMap::new();
        let sources = files
            .into_iter()
            .map(|(name, file)| {
                let (offsets, problem) = file.entry_offsets();
                if let Some(p) = problem {
                    *problems.entry((name.clone(), p)).or_default() += 1;
                }
                let mut source = Source {
                    name,
                    file,
                    offsets,
                    next: 0,
                    head: None,
                };
                source.advance(&mut problems);
                source
            })
            .collect();
        Merged {
            sources,
            out: Vec::new(),
            pos: 0,
            last: None,
            problems,
            entries: 0,
        }
    }

    /// Whether `a` comes before `b` (journalctl's `compare_entries`).
    fn before(a: (&[u8; 16], &EntryHead), b: (&[u8; 16], &EntryHead)) -> bool {
        let ((sa, a), (sb, b)) = (a, b);
        let key = if sa == sb {
            (a.seqnum, b.seqnum)
        } else if a.boot_id == b.boot_id {
            (a.monotonic, b.monotonic)
        } else {
            (a.realtime, b.realtime)
        };
        key.0 < key.1 || (key.0 == key.1 && a.xor_hash < b.xor_hash)
    }

    /// Renders the next entry into `out`; false at the end.
    fn fill(&mut self) -> bool {
        loop {
            let mut best: Option<usize> = None;
            for (i, s) in self.sources.iter().enumerate() {
                let Some(head) = &s.head else { continue };
                let better = best.is_none_or(|j| {
                    let o = &self.sources[j];
                    o.head.as_ref().is_none_or(|oh| {
                        Merged::before((&s.file.seqnum_id, head), (&o.file.seqnum_id, oh))
                    })
                });
                if better {
                    best = Some(i);
                }
            }
            let Some(i) = best else { return false };
            let source = &mut self.sources[i];
            let Some(head) = source.head else {
                return false;
            };
            let key = (source.file.seqnum_id, head.seqnum);
            let seen = self.last == Some(key);
            self.last = Some(key);
            if !seen {
                self.out.clear();
                self.pos = 0;
                if let Some(p) = source.file.export(&head, &mut self.out) {
                    *self.problems.entry((source.name.clone(), p)).or_default() += 1;
                }
                self.entries += 1;
            }
            source.advance(&mut self.problems);
            if !seen {
                return true;
            }
        }
    }
}

impl Read for Merged {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() && !self.fill() {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Builds a small journal file in memory (composed, to exercise what
    /// systemd 252 here does not write: LZ4 and XZ fields), with one entry
    /// holding `fields` (payload, compression flag).
    fn build(compact: bool, fields: &[(&[u8], u8)]) -> Vec<u8> {
        let mut buf = vec![0u8; 272];
        buf[..8].copy_from_slice(SIGNATURE);
        let flags = INCOMPATIBLE_KEYED_HASH | if compact { INCOMPATIBLE_COMPACT } else { 0 };
        buf[12..16].copy_from_slice(&flags.to_le_bytes());
        buf[40..56].copy_from_slice(&[0x3d; 16]);
        buf[72..88].copy_from_slice(&[0x39; 16]);
        buf[88..96].copy_from_slice(&272u64.to_le_bytes());
        let object = |buf: &mut Vec<u8>, kind: u8, flags: u8, body: &[u8]| -> u64 {
            let at = buf.len() as u64;
            buf.extend_from_slice(&[kind, flags, 0, 0, 0, 0, 0, 0]);
            buf.extend_from_slice(&(16 + body.len() as u64).to_le_bytes());
            buf.extend_from_slice(body);
            while buf.len() % 8 != 0 {
                buf.push(0);
            }
            at
        };
        let mut items = Vec::new();
        for (payload, compression) in fields {
            let stored = match *compression {
                COMPRESSED_LZ4 => {
                    let mut v = (payload.len() as u64).to_le_bytes().to_vec();
                    v.extend(lz4_flex::block::compress(payload));
                    v
                }
                COMPRESSED_XZ => {
                    let options = lzma_rust2::XzOptions::with_preset(1);
                    let mut xz = lzma_rust2::XzWriter::new(Vec::new(), options).unwrap();
                    xz.write_all(payload).unwrap();
                    xz.finish().unwrap()
                }
                _ => payload.to_vec(),
            };
            let mut body = vec![0u8; 48 + if compact { 8 } else { 0 }];
            body.extend(stored);
            items.push(object(&mut buf, OBJECT_DATA, *compression, &body));
        }
        let mut entry = Vec::new();
        for v in [7u64, 1_682_910_217_635_343, 7_265_418_733] {
            entry.extend_from_slice(&v.to_le_bytes());
        }
        entry.extend_from_slice(&[0x5c; 16]);
        entry.extend_from_slice(&0xabcdu64.to_le_bytes());
        for &item in &items {
            if compact {
                entry.extend_from_slice(&(item as u32).to_le_bytes());
            } else {
                entry.extend_from_slice(&item.to_le_bytes());
                entry.extend_from_slice(&0u64.to_le_bytes());
            }
        }
        let entry_at = object(&mut buf, OBJECT_ENTRY, 0, &entry);
        let mut array = 0u64.to_le_bytes().to_vec();
        if compact {
            array.extend_from_slice(&(entry_at as u32).to_le_bytes());
            array.extend_from_slice(&[0; 4]);
        } else {
            array.extend_from_slice(&entry_at.to_le_bytes());
            array.extend_from_slice(&[0; 8]);
        }
        let array_at = object(&mut buf, OBJECT_ENTRY_ARRAY, 0, &array);
        buf[176..184].copy_from_slice(&array_at.to_le_bytes());
        buf
    }

    fn export_of(buf: Vec<u8>) -> (String, BTreeMap<(String, Problem), u64>) {
        let file = JournalFile::open(buf).unwrap();
        let mut merged = Merged::new(vec![("f".to_string(), file)]);
        let mut out = Vec::new();
        merged.read_to_end(&mut out).unwrap();
        (String::from_utf8_lossy(&out).into_owned(), merged.problems)
    }

    const KILL: &[u8] = b"MESSAGE=Container a9acd5210705 failed to exit within 10 seconds of signal 15 - using the force";

    #[test]
    fn lz4_xz_and_plain_fields_in_both_layouts_read_alike() {
        for compact in [false, true] {
            let buf = build(
                compact,
                &[
                    (b"_HOSTNAME=ecs-prod-003", 0),
                    (b"SYSLOG_IDENTIFIER=dockerd", COMPRESSED_LZ4),
                    (KILL, COMPRESSED_XZ),
                    (b"_BOOT_ID=5c5c", 0),
                    (b"MESSAGE_ID\x01=bad name", 0),
                    (b"CODE_LINE=12\t", 0),
                ],
            );
            let (text, problems) = export_of(buf);
            assert!(problems.is_empty(), "{problems:?}");
            let want = format!(
                "__CURSOR=s={s};i=7;b={b};m=1b10d7ded;t=5fa9911b6060f;x=abcd\n\
                 __REALTIME_TIMESTAMP=1682910217635343\n__MONOTONIC_TIMESTAMP=7265418733\n\
                 _BOOT_ID={b}\n_HOSTNAME=ecs-prod-003\nSYSLOG_IDENTIFIER=dockerd\n{}\n\
                 CODE_LINE\n\x03\0\0\0\0\0\0\x0012\t\n\n",
                String::from_utf8_lossy(KILL),
                s = "39".repeat(16),
                b = "5c".repeat(16),
            );
            assert_eq!(text, want, "compact: {compact}");
        }
    }

    #[test]
    fn every_cut_and_every_flipped_byte_is_read_without_panic() {
        let whole = build(
            true,
            &[
                (b"_HOSTNAME=n1", 0),
                (KILL, COMPRESSED_XZ),
                (KILL, COMPRESSED_LZ4),
            ],
        );
        for cut in 0..whole.len() {
            if let Ok(file) = JournalFile::open(whole[..cut].to_vec()) {
                let mut merged = Merged::new(vec![("f".to_string(), file)]);
                let _ = merged.read_to_end(&mut Vec::new());
                if cut < whole.len() - 40 {
                    assert!(
                        !merged.problems.is_empty() || merged.entries == 0,
                        "cut {cut}"
                    );
                }
            }
        }
        for at in 0..whole.len() {
            let mut bad = whole.clone();
            bad[at] ^= 0xa5;
            if let Ok(file) = JournalFile::open(bad) {
                let mut merged = Merged::new(vec![("f".to_string(), file)]);
                let _ = merged.read_to_end(&mut Vec::new());
            }
        }
    }

    #[test]
    fn a_corrupt_compressed_field_is_counted_and_the_rest_kept() {
        let mut buf = build(false, &[(b"_HOSTNAME=n1", 0), (KILL, COMPRESSED_LZ4)]);
        // The LZ4 object is the second: its payload starts 64 bytes in.
        let second = 272 + (16 + 48 + 12 + 4);
        buf[second + 64..second + 72].copy_from_slice(&u64::MAX.to_le_bytes());
        let (text, problems) = export_of(buf);
        assert!(text.contains("_HOSTNAME=n1\n") && !text.contains("MESSAGE"));
        assert_eq!(
            problems.into_iter().collect::<Vec<_>>(),
            vec![(("f".to_string(), Problem::BadCompression), 1)]
        );
    }

    #[test]
    fn unknown_features_and_short_headers_are_refused_by_name() {
        let mut buf = build(false, &[(b"_HOSTNAME=n1", 0)]);
        buf[12] |= 1 << 6;
        assert!(JournalFile::open(buf)
            .err()
            .unwrap()
            .contains("unknown here"));
        assert!(JournalFile::open(SIGNATURE.to_vec()).is_err());
        assert!(JournalFile::open(b"__CURSOR=".to_vec()).is_err());
    }
}
