//! Cutting an input into pieces of whole records while it is read, with
//! read(2) into buffers of bounded size: memory does not grow with the
//! input, an input larger than the address space is read like any other,
//! and a file cut short while it is read simply ends early (a memory map
//! would fault with SIGBUS instead).
//!
//! [`Pieces`] is the one cutter; two drivers hand its pieces to a scanner.
//! [`in_order`] reads and scans one piece after the other (streams: a
//! decompressor or standard input can only be read by one thread).
//! [`in_parallel`] lets each worker thread read its own small piece under a
//! lock and scan it at once, while the piece is still in that core's cache,
//! and merges the results in input order: reading a file this way costs
//! about what faulting in its mapped pages did (issue 10 has the figures).
//! Pieces are cut the same way whatever the number of threads, so results
//! do not depend on it.

use std::io::Read;
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

use crate::matcher::RuleSet;
use crate::scan::{Framing, MAX_LINE};

/// How much of an input is looked at to decide its format.
const SNIFF_BYTES: usize = 64 * 1024;

/// A piece read into a caller's buffer.
pub struct Piece {
    /// Its place in the input: 0, 1, 2…
    pub seq: usize,
    pub framing: Framing,
    /// Where its whole records are in the buffer (empty when the piece was
    /// all the middle of a line longer than a piece).
    pub records: Range<usize>,
}

/// How reading an input ended.
#[derive(Debug)]
pub struct ReadEnd {
    pub framing: Framing,
    pub bytes: u64,
    /// Why reading stopped before the end of the input, if it did.
    pub error: Option<String>,
}

/// Reads an input piece by piece, each piece ending after its last whole
/// record (the rest is carried to the next piece).
///
/// The framing is the one given, else detected from the first piece. A line
/// longer than a piece is handed on cut to its first [`MAX_LINE`] bytes
/// (the scan counts it long) and the rest of it is skipped. A read error
/// ends the input; what was read before it counts.
pub struct Pieces<'r, R> {
    reader: R,
    /// Recognizes kernel lines without time when the framing is detected
    /// ([`Framing::detect_with_rules`]).
    rules: Option<&'r RuleSet>,
    size: usize,
    framing: Option<Framing>,
    /// The start of a record that the last piece cut.
    carry: Vec<u8>,
    /// Set while skipping the remainder of a line longer than a piece.
    in_giant_line: bool,
    bytes: u64,
    error: Option<String>,
    done: bool,
    seq: usize,
}

impl<'r, R: Read> Pieces<'r, R> {
    /// Pieces of at most `size` bytes of `reader`.
    pub fn new(
        reader: R,
        rules: Option<&'r RuleSet>,
        framing: Option<Framing>,
        size: usize,
    ) -> Self {
        Pieces {
            reader,
            rules,
            size: size.max(1),
            framing,
            carry: Vec::new(),
            in_giant_line: false,
            bytes: 0,
            error: None,
            done: false,
            seq: 0,
        }
    }

    /// Reads the next piece into `buf` (its content is replaced); `None` at
    /// the end of the input.
    pub fn next_into(&mut self, buf: &mut Vec<u8>) -> Option<Piece> {
        if self.done {
            return None;
        }
        // The buffer grows as reading needs (an archive's small entries
        // never cost a piece-sized allocation) and keeps its capacity.
        buf.clear();
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
        let before = buf.len();
        let room = self.size.saturating_sub(before) as u64;
        if let Err(e) = (&mut self.reader).take(room).read_to_end(buf) {
            self.error = Some(e.to_string());
        }
        let got = buf.len() - before;
        self.bytes += got as u64;
        let at_end = got == 0 || buf.len() < self.size || self.error.is_some();
        let sample = &buf[..buf.len().min(SNIFF_BYTES)];
        let rules = self.rules;
        let framing = *self.framing.get_or_insert_with(|| match rules {
            Some(rules) => Framing::detect_with_rules(sample, rules),
            None => Framing::detect(sample),
        });
        let cut = if at_end {
            buf.len()
        } else {
            record_end(buf, framing)
        };
        let mut records = 0..cut;
        if self.in_giant_line {
            let skip = memchr::memchr(b'\n', &buf[..cut]).map_or(cut, |i| i + 1);
            records.start = skip;
            self.in_giant_line = skip == cut && !at_end && buf[cut - 1] != b'\n';
        } else if cut > 0 && buf[cut - 1] != b'\n' && !at_end {
            self.in_giant_line = true;
            records.end = cut.min(MAX_LINE + 1);
        }
        self.carry.extend_from_slice(&buf[cut..]);
        self.done = at_end;
        self.seq += 1;
        Some(Piece {
            seq: self.seq - 1,
            framing,
            records,
        })
    }

    /// What was read, once [`next_into`](Self::next_into) has said `None`.
    pub fn end(self) -> ReadEnd {
        ReadEnd {
            framing: self
                .framing
                .unwrap_or(Framing::Lines(crate::format::InputFormat::UNKNOWN)),
            bytes: self.bytes,
            error: self.error,
        }
    }
}

/// Where the last whole record of a full piece ends: after its last
/// newline (after its last whole entry, for journal entries). A
/// piece without one is a giant line, cut at the piece's end.
fn record_end(buf: &[u8], framing: Framing) -> usize {
    let end = match framing {
        Framing::Entries(entries) => entries.record_end(buf),
        Framing::Lines(_) | Framing::Cluster(_) => memchr::memrchr(b'\n', buf).map(|i| i + 1),
    };
    end.unwrap_or(buf.len())
}

/// Reads every piece of `pieces` and hands its records to `each`, one piece
/// after the other.
pub fn in_order<R: Read>(mut pieces: Pieces<R>, mut each: impl FnMut(Framing, &[u8])) -> ReadEnd {
    let mut buf = Vec::new();
    while let Some(piece) = pieces.next_into(&mut buf) {
        if !piece.records.is_empty() {
            each(piece.framing, &buf[piece.records]);
        }
    }
    pieces.end()
}

/// Reads the pieces of `pieces` on every worker thread, each worker reading
/// one piece under a lock and calling `scan` on it; `merge` receives the
/// results in input order.
pub fn in_parallel<R, T>(
    pieces: Pieces<R>,
    scan: impl Fn(Framing, &[u8]) -> T + Sync,
    mut merge: impl FnMut(T) + Send,
) -> ReadEnd
where
    R: Read + Send,
    T: Send,
{
    /// Results that came before their turn, and the turn.
    struct Merging<T, M> {
        next: usize,
        early: std::collections::BTreeMap<usize, Option<T>>,
        merge: M,
    }
    let pieces = Mutex::new(pieces);
    let merging = Mutex::new(Merging {
        next: 0,
        early: std::collections::BTreeMap::new(),
        merge: &mut merge,
    });
    // A lock is poisoned only by a panic in another worker, which rayon
    // passes on to the caller anyway.
    let workers = rayon::current_num_threads().max(1);
    (0..workers).into_par_iter().for_each(|_| {
        let mut buf = Vec::new();
        loop {
            let piece = pieces
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .next_into(&mut buf);
            let Some(piece) = piece else { break };
            // A piece without records still takes its turn.
            let result =
                (!piece.records.is_empty()).then(|| scan(piece.framing, &buf[piece.records]));
            let mut m = merging.lock().unwrap_or_else(PoisonError::into_inner);
            m.early.insert(piece.seq, result);
            loop {
                let next = m.next;
                let Some(result) = m.early.remove(&next) else {
                    break;
                };
                if let Some(result) = result {
                    (m.merge)(result);
                }
                m.next += 1;
            }
        }
    });
    pieces
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::InputFormat;

    const LINES: Framing = Framing::Lines(InputFormat::UNKNOWN);

    /// Every piece's records, cut with pieces of `size`, in order.
    fn cut_in_order(input: &[u8], framing: Framing, size: usize) -> (Vec<Vec<u8>>, ReadEnd) {
        let mut out = Vec::new();
        let end = in_order(Pieces::new(input, None, Some(framing), size), |_, r| {
            out.push(r.to_vec())
        });
        (out, end)
    }

    fn cut_in_parallel(
        input: &[u8],
        framing: Framing,
        size: usize,
        threads: usize,
    ) -> Vec<Vec<u8>> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut out = Vec::new();
        pool.install(|| {
            in_parallel(
                Pieces::new(input, None, Some(framing), size),
                |_, r| r.to_vec(),
                |r| out.push(r),
            )
        });
        out
    }

    #[test]
    fn pieces_end_after_whole_lines_and_giant_lines_are_cut() {
        // Composed: syslog-like lines of varied length, one longer than a
        // piece.
        let text = format!(
            "May  1 11:03:37 n1 a: short\nMay  1 11:03:38 n1 b: {}\nMay  1 11:03:39 n1 c: x\n\
             May  1 11:03:40 n1 d: last without newline",
            "y".repeat(100)
        );
        for size in [16, 40, 64, 200, 4096] {
            let (pieces, end) = cut_in_order(text.as_bytes(), LINES, size);
            assert_eq!(end.bytes, text.len() as u64);
            assert_eq!(end.error, None);
            // Each piece is scanned on its own: a line without its newline
            // at the end of a piece is a whole (cut) line.
            let got: Vec<&[u8]> = pieces
                .iter()
                .flat_map(|p| p.split_inclusive(|&b| b == b'\n'))
                .map(|l| l.strip_suffix(b"\n").unwrap_or(l))
                .collect();
            let want: Vec<&str> = text.split('\n').collect();
            assert_eq!(got.len(), want.len(), "size {size}");
            for (g, w) in got.iter().zip(&want) {
                // A line longer than a piece keeps its start.
                assert!(w.as_bytes().starts_with(g) && !g.is_empty(), "size {size}");
                if w.len() < size {
                    assert_eq!(*g, w.as_bytes(), "size {size}");
                }
            }
            for piece in &pieces[..pieces.len() - 1] {
                assert!(piece.len() <= size);
            }
        }
    }

    #[test]
    fn journal_export_pieces_end_after_whole_entries() {
        let entry = "__REALTIME_TIMESTAMP=1682910217635343\nMESSAGE=hello\n\n";
        let text = entry.repeat(10);
        let (pieces, _) = cut_in_order(
            text.as_bytes(),
            Framing::Entries(crate::format::EntryFormat::Export),
            128,
        );
        assert!(pieces.len() > 1);
        for piece in &pieces {
            assert!(piece.ends_with(b"\n\n"));
            assert_eq!(piece.len() % entry.len(), 0);
        }
        assert_eq!(pieces.concat(), text.as_bytes());
    }

    #[test]
    fn parallel_reading_gives_the_pieces_in_input_order_whatever_the_threads() {
        let text: String = (0..5000)
            .map(|i| format!("line {i} {}\n", "z".repeat(i % 97)))
            .collect();
        for size in [64, 1000, 1 << 20] {
            let (in_order, _) = cut_in_order(text.as_bytes(), LINES, size);
            for threads in [1, 2, 4] {
                let parallel = cut_in_parallel(text.as_bytes(), LINES, size, threads);
                assert_eq!(parallel, in_order, "size {size}, {threads} threads");
            }
        }
    }

    /// Reads `good` bytes, then fails.
    struct Failing<'a> {
        good: &'a [u8],
    }

    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.good.is_empty() {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.good.len()).min(7);
            buf[..n].copy_from_slice(&self.good[..n]);
            self.good = &self.good[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_ends_the_input_and_what_came_before_counts() {
        let good = b"one\ntwo\nthree\n";
        let mut read = Vec::new();
        let end = in_order(Pieces::new(Failing { good }, None, None, 8), |_, r| {
            read.extend_from_slice(r)
        });
        assert_eq!(read, good);
        assert_eq!(end.bytes, good.len() as u64);
        assert_eq!(end.error.as_deref(), Some("disk on fire"));
    }
}
