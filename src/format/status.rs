//! `systemctl status <unit>` as pasted: a header naming the unit, then its
//! properties indented under it, then (after a blank line) the journal's
//! last lines, which are syslog records of their own:
//!
//! ```text
//! ● docker.service - Docker Application Container Engine
//!    Loaded: loaded (/lib/systemd/system/docker.service; enabled; vendor preset: enabled)
//!    Active: failed (Result: start-limit-hit) since Tue 2019-04-09 23:48:24 AKDT; 13s ago
//!  Main PID: 18244 (code=exited, status=1/FAILURE)
//! ```
//!
//! The block is one record about the unit: `Active: failed (Result:
//! start-limit-hit)` names no unit, the header does. [`super::wrap::lines`]
//! hands [`parse`] the header with its indented lines appended
//! ([`is_header`]); the message is the unit, its description and the
//! properties, so that a pattern reads the unit and its state together. The
//! bullet is `●` (active or failed, before systemd 249), `×` (failed, 249+),
//! `○` (inactive) or `↻` (reloading); the status gives no time of its own
//! that a record could take (`since` is when the state began).

use std::borrow::Cow;

use super::Envelope;

/// The format's name in `inputs`.
pub const NAME: &str = "systemctl-status";

/// The unit types a status header names.
const UNIT_TYPES: &[&str] = &[
    ".service", ".socket", ".scope", ".slice", ".mount", ".timer", ".path", ".target",
];

/// Whether `line` is a status header: a bullet, a unit, ` - `.
pub fn is_header(line: &[u8]) -> bool {
    unit(line).is_some()
}

/// Parses a status header, with the properties that followed it if joined.
///
/// ```
/// let e = podmortem::format::status::parse("● docker.service - Docker Application Container Engine".as_bytes()).unwrap();
/// assert!(e.message.starts_with(b"docker.service - Docker"));
/// assert_eq!(e.program.as_deref(), Some(&b"systemd"[..]));
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'_>> {
    let message = unit(line)?;
    Some(Envelope {
        program: Some(Cow::Borrowed(b"systemd")),
        ..Envelope::bare(message)
    })
}

/// The header from the unit on, if `line` is one.
fn unit(line: &[u8]) -> Option<&[u8]> {
    let rest = ["●", "×", "○", "↻"]
        .iter()
        .find_map(|bullet| line.strip_prefix(bullet.as_bytes()))?
        .strip_prefix(b" ")?;
    let name_end = rest.iter().position(|&b| b == b' ')?;
    let name = std::str::from_utf8(&rest[..name_end]).ok()?;
    (UNIT_TYPES.iter().any(|t| name.ends_with(t)) && rest[name_end..].starts_with(b" - "))
        .then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_every_state_are_read() {
        // Real: docker/for-linux#646, easzlab/kubeasz#319.
        assert!(is_header(
            "● docker.service - Docker Application Container Engine".as_bytes()
        ));
        assert!(is_header(
            "● kubelet.service - Kubernetes Kubelet".as_bytes()
        ));
        // Composed: systemd 249+'s failed bullet.
        assert!(is_header(
            "× containerd.service - containerd container runtime".as_bytes()
        ));
    }

    #[test]
    fn other_bullets_are_not_headers() {
        assert!(!is_header("● not a unit - text".as_bytes()));
        assert!(!is_header(
            b"* docker.service - Docker Application Container Engine"
        ));
        assert!(!is_header("●docker.service - Docker".as_bytes()));
        assert!(parse(b"   Active: failed (Result: start-limit-hit)").is_none());
    }
}
