//! Text that is not UTF-8 lines as written: UTF-16 with a byte order mark
//! (logs saved by Windows tools and PowerShell's `>`), and lines ended by a
//! lone `\r` (old Mac line ends, some serial consoles). Each is recognized
//! by [`discover`](crate::discover) from an input's first bytes and read
//! through a [`Decoding`] reader, which gives UTF-8 lines ended by `\n`;
//! everything after that reads the input as any other. What was decoded is
//! named in `podmortem inputs`.

use std::io::{self, Read};

/// A decoding applied to an input before it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoding {
    Utf16Le,
    Utf16Be,
    /// Lines ended by `\r` alone.
    CrLines,
}

impl Decoding {
    /// The decoding `head` (an input's first bytes) needs, if any: a UTF-16
    /// byte order mark, or `\r` line ends and no `\n` at all.
    pub fn sniff(head: &[u8]) -> Option<Decoding> {
        if head.starts_with(&[0xff, 0xfe]) {
            Some(Decoding::Utf16Le)
        } else if head.starts_with(&[0xfe, 0xff]) {
            Some(Decoding::Utf16Be)
        } else if memchr::memchr(b'\n', head).is_none() && memchr::memchr(b'\r', head).is_some() {
            Some(Decoding::CrLines)
        } else {
            None
        }
    }

    /// What `podmortem inputs` says.
    pub fn note(self) -> &'static str {
        match self {
            Decoding::Utf16Le => "UTF-16LE decoded",
            Decoding::Utf16Be => "UTF-16BE decoded",
            Decoding::CrLines => "CR line ends read as newlines",
        }
    }

    /// `inner` read through this decoding.
    pub fn reader<'a, R: Read + 'a>(self, inner: R) -> Box<dyn Read + 'a> {
        match self {
            Decoding::Utf16Le => Box::new(Utf16::new(inner, false)),
            Decoding::Utf16Be => Box::new(Utf16::new(inner, true)),
            Decoding::CrLines => Box::new(CrLines(inner)),
        }
    }
}

/// `\r` → `\n`, in place.
struct CrLines<R>(R);

impl<R: Read> Read for CrLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        for b in &mut buf[..n] {
            if *b == b'\r' {
                *b = b'\n';
            }
        }
        Ok(n)
    }
}

/// Bytes of UTF-16 read at a time.
const UTF16_CHUNK: usize = 16 * 1024;

/// UTF-16 to UTF-8; the byte order mark is dropped, unpaired surrogates
/// become U+FFFD, a trailing odd byte is dropped.
struct Utf16<R> {
    inner: R,
    big_endian: bool,
    /// Bytes read and not yet decoded (an odd byte, a high surrogate).
    pending: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    started: bool,
    done: bool,
}

impl<R: Read> Utf16<R> {
    fn new(inner: R, big_endian: bool) -> Self {
        Utf16 {
            inner,
            big_endian,
            pending: Vec::with_capacity(UTF16_CHUNK + 4),
            out: Vec::with_capacity(UTF16_CHUNK * 2),
            pos: 0,
            started: false,
            done: false,
        }
    }

    /// Decodes the next chunk into `out`; false at the end.
    fn fill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() && !self.done {
            let have = self.pending.len();
            self.pending.resize(have + UTF16_CHUNK, 0);
            let n = loop {
                match self.inner.read(&mut self.pending[have..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.pending.truncate(have);
                        return Err(e);
                    }
                }
            };
            self.pending.truncate(have + n);
            self.done = n == 0;
            let mut units: Vec<u16> = self
                .pending
                .chunks_exact(2)
                .map(|p| {
                    let pair = [p[0], p[1]];
                    if self.big_endian {
                        u16::from_be_bytes(pair)
                    } else {
                        u16::from_le_bytes(pair)
                    }
                })
                .collect();
            // A high surrogate at the end waits for its pair.
            let keep_high =
                !self.done && units.last().is_some_and(|u| (0xd800..0xdc00).contains(u));
            if keep_high {
                units.pop();
            }
            let consumed = units.len() * 2;
            if !self.started && units.first() == Some(&0xfeff) {
                units.remove(0);
            }
            self.started |= consumed > 0;
            for c in char::decode_utf16(units) {
                let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut utf8 = [0; 4];
                self.out
                    .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
            self.pending.drain(..consumed);
            if self.done {
                self.pending.clear();
            }
        }
        Ok(!self.out.is_empty())
    }
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() && !self.fill()? {
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

    /// Reads `bytes` through `decoding`, one byte at a time from below so
    /// that every split of a unit and a surrogate pair is met.
    fn decoded(decoding: Decoding, bytes: &[u8]) -> String {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = String::new();
        decoding
            .reader(Trickle(bytes))
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    const TEXT: &str = "May  1 11:03:56 ecs-prod-003 kubelet: E0501 \u{1F600} é\r\n";

    #[test]
    fn utf16_with_a_byte_order_mark() {
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(TEXT.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain(TEXT.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(Decoding::sniff(&le), Some(Decoding::Utf16Le));
        assert_eq!(Decoding::sniff(&be), Some(Decoding::Utf16Be));
        assert_eq!(decoded(Decoding::Utf16Le, &le), TEXT);
        assert_eq!(decoded(Decoding::Utf16Be, &be), TEXT);
    }

    #[test]
    fn broken_utf16_is_replaced_not_fatal() {
        // A lone high surrogate, then an odd trailing byte.
        let bytes = [0xff, 0xfe, b'a', 0, 0x00, 0xd8, b'b', 0, b'c'];
        assert_eq!(decoded(Decoding::Utf16Le, &bytes), "a\u{FFFD}b");
    }

    #[test]
    fn carriage_returns_alone_end_lines() {
        let text = b"May  1 11:03:56 n kubelet: a\rMay  1 11:03:57 n kubelet: b\r";
        assert_eq!(Decoding::sniff(text), Some(Decoding::CrLines));
        assert_eq!(
            decoded(Decoding::CrLines, text),
            "May  1 11:03:56 n kubelet: a\nMay  1 11:03:57 n kubelet: b\n"
        );
        assert_eq!(Decoding::sniff(b"a\r\nb\r\n"), None, "CRLF is read as is");
        assert_eq!(Decoding::sniff(b"plain\n"), None);
    }
}
