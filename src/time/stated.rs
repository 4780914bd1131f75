//! What a bundle says of its host's time zone, besides the logs: the output
//! of `timedatectl` (sos report's systemd plugin writes
//! `sos_commands/systemd/timedatectl`; a troubleshoot run-host collector
//! any name holding `timedatectl`), `/etc/timezone` (Debian, Ubuntu) and
//! `/etc/localtime` (sos report's date plugin copies it: sosreport/sos
//! `sos/report/plugins/date.py`), a link into zoneinfo where the archive
//! keeps links, else the compiled zone itself ([`tzif`](super::tzif)).
//!
//! A statement covers the inputs of its bundle: those whose name starts
//! with the bundle's root as the file's path shows it (the part before
//! `etc/`, `sos_commands/` or `host-collectors/`; else the file's
//! directory). [`learn`](super::learn) weighs it against the logs.

use super::Zone;

/// A bundle file that states its host's zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ZoneFile {
    /// `timedatectl` (status) output: what systemd had in force. Ranked
    /// first: it reads `/etc/localtime` itself.
    Timedatectl,
    /// `/etc/localtime`, the zone libc and journald use.
    Localtime,
    /// `/etc/timezone`, Debian's copy of the name, which can go stale.
    Timezone,
}

/// The largest file read as a statement (a TZif file is a few KiB).
pub const MAX_BYTES: u64 = 64 * 1024;

impl ZoneFile {
    /// The kind of zone file at archive or directory path `path`, if any.
    pub fn of(path: &str) -> Option<ZoneFile> {
        let path = path.trim_end_matches('/');
        let last = path.rsplit(['/', ':']).next().unwrap_or(path);
        if path.ends_with("etc/localtime") && last == "localtime" {
            Some(ZoneFile::Localtime)
        } else if path.ends_with("etc/timezone") && last == "timezone" {
            Some(ZoneFile::Timezone)
        } else if last.starts_with("timedatectl") {
            Some(ZoneFile::Timedatectl)
        } else {
            None
        }
    }

    fn what(self) -> &'static str {
        match self {
            ZoneFile::Timedatectl => "timedatectl",
            ZoneFile::Localtime => "/etc/localtime",
            ZoneFile::Timezone => "/etc/timezone",
        }
    }
}

/// One statement of a host's zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stated {
    pub zone: Zone,
    /// The zone as shown: `Asia/Shanghai`, `+08:00 (its TZif footer rule)`.
    pub label: String,
    pub file: ZoneFile,
    /// The file's name as inputs are named (`node1.tar.gz:etc/timezone`).
    pub from: String,
    /// The prefix of the names of the inputs it covers.
    pub scope: String,
}

impl Stated {
    /// What the file at `name` says, from its bytes; `None` when it says
    /// nothing readable (`Time zone: n/a`, an unknown name, not TZif).
    pub fn read(file: ZoneFile, name: &str, bytes: &[u8]) -> Option<Stated> {
        let (zone, label) = match file {
            ZoneFile::Timedatectl => timedatectl(&String::from_utf8_lossy(bytes))?,
            ZoneFile::Timezone => named(String::from_utf8_lossy(bytes).trim())?,
            // A zip keeps a link as a file holding its target.
            ZoneFile::Localtime => super::tzif::zone(bytes)
                .or_else(|| linked(std::str::from_utf8(bytes).ok()?.trim()))?,
        };
        Some(Stated::new(zone, label, file, name))
    }

    /// What an `/etc/localtime` link says by its target
    /// (`../usr/share/zoneinfo/Europe/Berlin`).
    pub fn link(name: &str, target: &str) -> Option<Stated> {
        let (zone, label) = linked(target)?;
        Some(Stated::new(zone, label, ZoneFile::Localtime, name))
    }

    fn new(zone: Zone, label: String, file: ZoneFile, name: &str) -> Stated {
        Stated {
            zone,
            label,
            file,
            from: name.to_string(),
            scope: scope(name, file),
        }
    }

    /// `Europe/Berlin (/etc/localtime node1.tar.gz:etc/localtime)`.
    pub fn describe(&self) -> String {
        format!("{} ({} {})", self.label, self.file.what(), self.from)
    }

    /// Whether it speaks for the input named `input`.
    pub fn covers(&self, input: &str) -> bool {
        input.starts_with(&self.scope)
    }
}

/// The zone a link into zoneinfo names.
fn linked(target: &str) -> Option<(Zone, String)> {
    let (_, zone) = target.split_once("zoneinfo/")?;
    // `posix/` and `right/` hold the same zones (`right/` counting leap
    // seconds, which local readings never show).
    let zone = zone
        .strip_prefix("posix/")
        .or_else(|| zone.strip_prefix("right/"))
        .unwrap_or(zone);
    named(zone)
}

/// An IANA name (`Asia/Shanghai`, `Etc/UTC`) as a zone.
fn named(name: &str) -> Option<(Zone, String)> {
    let tz: chrono_tz::Tz = name.parse().ok()?;
    Some((Zone::Named(tz), tz.name().to_string()))
}

/// The zone of `timedatectl` output: the name on its `Time zone:` line
/// (`Time zone: Asia/Shanghai (CST, +0800)`), else the offset it shows
/// there (`Time zone: n/a (UTC, +0000)`).
fn timedatectl(text: &str) -> Option<(Zone, String)> {
    let value = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Time zone:"))?
        .trim();
    let (name, shown) = value.split_once(' ').unwrap_or((value, ""));
    named(name).or_else(|| {
        let offset = shown
            .trim_matches(['(', ')'])
            .rsplit(", ")
            .next()
            .and_then(super::parse_offset)?;
        Some((Zone::Fixed(offset), offset.to_string()))
    })
}

/// The prefix of input names a zone file at `name` speaks for.
fn scope(name: &str, file: ZoneFile) -> String {
    let markers: &[&str] = match file {
        ZoneFile::Timedatectl => &["sos_commands/", "host-collectors/"],
        ZoneFile::Localtime => &["etc/localtime"],
        ZoneFile::Timezone => &["etc/timezone"],
    };
    let at_component = |m: &str| {
        name.match_indices(m)
            .map(|(i, _)| i)
            .find(|&i| i == 0 || matches!(name.as_bytes()[i - 1], b'/' | b':'))
    };
    let end = markers
        .iter()
        .find_map(|m| at_component(m))
        .or_else(|| name.rfind(['/', ':']).map(|i| i + 1))
        .unwrap_or(0);
    name[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{Asia, Europe};

    #[test]
    fn zone_files_are_known_by_path() {
        let of = ZoneFile::of;
        assert_eq!(of("b.tar.gz:etc/localtime"), Some(ZoneFile::Localtime));
        assert_eq!(of("/tmp/b/etc/timezone"), Some(ZoneFile::Timezone));
        assert_eq!(
            of("s.tar.xz:sosreport-n1/sos_commands/systemd/timedatectl"),
            Some(ZoneFile::Timedatectl)
        );
        assert_eq!(
            of("host-collectors/run-host/timedatectl-status.txt"),
            Some(ZoneFile::Timedatectl)
        );
        assert_eq!(of("etc/localtime.bak"), None);
        assert_eq!(of("var/log/timezone"), None);
        assert_eq!(of("var/log/messages"), None);
    }

    /// systemd's `timedatectl status` layout (systemd
    /// src/timedate/timedatectl.c, `print_status_info`), values composed.
    #[test]
    fn timedatectl_names_the_zone_or_its_offset() {
        let out = "               Local time: Sun 2026-07-05 16:00:00 CST\n\
                   \x20          Universal time: Sun 2026-07-05 08:00:00 UTC\n\
                   \x20                RTC time: Sun 2026-07-05 08:00:00\n\
                   \x20               Time zone: Asia/Shanghai (CST, +0800)\n\
                   System clock synchronized: yes\n";
        let s = Stated::read(
            ZoneFile::Timedatectl,
            "b:sos_commands/systemd/timedatectl",
            out.as_bytes(),
        )
        .unwrap();
        assert_eq!(s.zone, Zone::Named(Asia::Shanghai));
        assert_eq!(s.scope, "b:");
        assert!(s.covers("b:var/log/messages") && !s.covers("c:var/log/messages"));
        let unnamed = "      Time zone: n/a (UTC, +0000)\n";
        let s = Stated::read(ZoneFile::Timedatectl, "t.txt", unnamed.as_bytes()).unwrap();
        assert_eq!(s.zone, Zone::parse("+00:00").unwrap());
        assert!(Stated::read(ZoneFile::Timedatectl, "t", b"Local time: x\n").is_none());
    }

    #[test]
    fn etc_timezone_and_localtime_links_name_the_zone() {
        let s = Stated::read(ZoneFile::Timezone, "/b/etc/timezone", b"Europe/Berlin\n").unwrap();
        assert_eq!(
            (s.zone, s.scope.as_str()),
            (Zone::Named(Europe::Berlin), "/b/")
        );
        assert!(Stated::read(ZoneFile::Timezone, "etc/timezone", b"Berlin, I think\n").is_none());
        let l = Stated::link("n.tar:etc/localtime", "../usr/share/zoneinfo/Asia/Shanghai").unwrap();
        assert_eq!(
            (l.zone, l.scope.as_str()),
            (Zone::Named(Asia::Shanghai), "n.tar:")
        );
        let posix = Stated::link("etc/localtime", "/usr/share/zoneinfo/posix/Europe/Berlin");
        assert_eq!(posix.map(|s| s.zone), Some(Zone::Named(Europe::Berlin)));
        assert!(Stated::link("etc/localtime", "/etc/zones/here").is_none());
    }
}
