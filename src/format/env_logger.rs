//! Rust's `env_logger` default format, which Rust agents and init systems
//! (VM guests' init, node agents) write to their console or journal:
//!
//! ```text
//! [2026-09-10T01:28:06.838797Z ERROR init_or_kernel] [   26.869570] EXT4-fs error (device vda): …
//! [2023-05-01T03:03:56Z INFO  node_agent::sync] synced 12 pods
//! ```
//! (The first a real line of ragnarok#89, an init relaying the kernel's
//! messages.) The time is an RFC 3339 instant, the level is padded to five
//! columns, the target is the module path. The message may carry the
//! kernel's own `[ seconds]` stamp, which the payload parser reads.

use std::borrow::Cow;

use nom::{
    bytes::complete::{tag, take_while1},
    character::complete::char,
    sequence::terminated,
    IResult,
};

use super::lex::{fail, rfc3339};
use super::Envelope;
use crate::time::Stamp;

/// Parses `line` as an `env_logger` record, or `None`:
/// `[<RFC 3339 time> <LEVEL> <target>] <message>`.
///
/// ```
/// let line = b"[2026-09-10T01:28:06.838797Z ERROR init_or_kernel] [   26.869570] EXT4-fs error (device vda)";
/// let e = podmortem::format::env_logger::parse(line).unwrap();
/// assert_eq!(e.program.as_deref(), Some(&b"init_or_kernel"[..]));
/// assert!(e.message.starts_with(b"[   26.869570] EXT4-fs"));
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    // Reject on the first bytes: `[YYYY-`.
    if line.len() < 24 || line[0] != b'[' || line[5] != b'-' || !line[1].is_ascii_digit() {
        return None;
    }
    envelope(line).ok().map(|(_, e)| e)
}

fn envelope(i: &[u8]) -> IResult<&[u8], Envelope<'_>> {
    let (i, _) = char('[')(i)?;
    let (i, at) = terminated(rfc3339(b'.'), char(' '))(i)?;
    let (i, level) = take_while1(|c: u8| c.is_ascii_uppercase())(i)?;
    if !matches!(level, b"ERROR" | b"WARN" | b"INFO" | b"DEBUG" | b"TRACE") {
        return Err(fail(i));
    }
    let i = &i[i.iter().take_while(|&&c| c == b' ').count()..];
    let (i, target) = take_while1(|c: u8| c != b']' && c != b' ')(i)?;
    let (i, _) = tag("]")(i)?;
    let message = i.strip_prefix(b" ").unwrap_or(i);
    Ok((
        &[],
        Envelope {
            stamp: Some(Stamp::Absolute(at)),
            since_boot: None,
            host: None,
            program: Some(Cow::Borrowed(target)),
            pid: None,
            message: Cow::Borrowed(message),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_levels_and_near_misses() {
        let e = parse(b"[2023-05-01T03:03:56Z INFO  node_agent::sync] synced 12 pods").unwrap();
        assert_eq!(e.program.as_deref(), Some(&b"node_agent::sync"[..]));
        assert_eq!(e.message.as_ref(), b"synced 12 pods");
        // A dmesg -T stamp, a bracketed level of another logger.
        assert!(parse(b"[2023-05-01T03:03:56Z] INFO x").is_none());
        assert!(parse(b"[2023-05-01T03:03:56Z LOUD target] x").is_none());
    }
}
