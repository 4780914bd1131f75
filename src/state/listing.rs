//! Listings of a node's state, recognized by their content and read into
//! plain facts: paths with their mtimes, runtime containers and pods,
//! `/proc/cgroups` rows, mount points.
//!
//! Collectors name these files as they like (`crictl_ps_-a`,
//! `cgroups.txt`, `ls-run-containerd`), so a listing is known by what its
//! first lines look like, never by its name. Each reader takes the text the
//! real tool prints (the formats are cited where each reader starts) and
//! keeps, for every fact, the line it came from: that line is the evidence
//! a finding shows. Lines a reader does not understand are counted, never
//! fatal. Nothing here decides what is orphaned or left over; that is
//! [`compare`](super::compare).

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use regex::Regex;
use serde::Serialize;

/// What a listing is: the command that printed it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ListingKind {
    /// One path a line: `find … -type d`, `find … -empty`, or a list
    /// podmortem's collector wrote.
    Find,
    /// `ls -l`/`ls -la`, with `-R` headers (`/path:`) or not, any
    /// `--time-style`.
    LsLong,
    /// `ls -R` without `-l`: directory headers and bare names.
    LsRecursive,
    SystemdCgls,
    ProcCgroups,
    CrictlPs,
    CrictlPods,
    CtrContainers,
    CtrTasks,
    DockerPs,
    Mountinfo,
    Mount,
    /// What podmortem's collector notes beside the listings (versions,
    /// boot time, what it could not collect): named, holds no facts.
    CollectNotes,
}

impl ListingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ListingKind::Find => "find (paths)",
            ListingKind::LsLong => "ls -l",
            ListingKind::LsRecursive => "ls -R",
            ListingKind::SystemdCgls => "systemd-cgls",
            ListingKind::ProcCgroups => "/proc/cgroups",
            ListingKind::CrictlPs => "crictl ps",
            ListingKind::CrictlPods => "crictl pods",
            ListingKind::CtrContainers => "ctr containers ls",
            ListingKind::CtrTasks => "ctr tasks ls",
            ListingKind::DockerPs => "docker ps",
            ListingKind::Mountinfo => "/proc/self/mountinfo",
            ListingKind::Mount => "mount",
            ListingKind::CollectNotes => "podmortem collect notes",
        }
    }
}

/// Where a fact was read: the listing (an index into
/// [`NodeState::listings`](super::NodeState::listings)), the line and its
/// text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At {
    pub listing: usize,
    pub line: u64,
    pub text: String,
}

/// A file-system entry a listing shows.
#[derive(Clone, Debug, PartialEq)]
pub struct PathEntry {
    /// The full path when the listing gives it (find, `ls -R` headers),
    /// else the bare name.
    pub path: String,
    pub mtime: Option<DateTime<FixedOffset>>,
    /// `Some(false)`: the listing says no process is in this cgroup
    /// (podmortem's collector, `systemd-cgls` with no process under it).
    pub has_procs: Option<bool>,
    pub at: At,
}

/// A container or pod sandbox a runtime lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeEntry {
    /// Lower-case hex, full or truncated as the tool printed it.
    pub id: String,
    pub sandbox: bool,
    pub running: bool,
    /// The pod sandbox it belongs to (containers), possibly truncated.
    pub pod_id: Option<String>,
    pub pod_uid: Option<String>,
    /// `namespace/name` when the listing names both.
    pub pod: Option<String>,
    pub at: At,
}

/// One row of `/proc/cgroups`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subsys {
    pub name: String,
    pub hierarchy: u32,
    pub num_cgroups: u64,
    pub at: At,
}

/// What a listing adds to the node's state.
#[derive(Debug, Default)]
pub struct Facts {
    pub paths: Vec<PathEntry>,
    pub runtime: Vec<RuntimeEntry>,
    pub subsystems: Vec<Subsys>,
    pub mounts: Vec<(String, At)>,
    /// Lines that held nothing the reader understood (blank lines and
    /// `total N` excepted).
    pub unread: u64,
    /// The collection time the listing states (podmortem's collector).
    pub taken: Option<DateTime<FixedOffset>>,
}

/// How many leading lines decide what a listing is.
const SNIFF_LINES: usize = 40;

static LS_LONG: LazyLock<Regex> = LazyLock::new(|| {
    // `ls -l` in the C locale (coreutils ls.c print_long_format): mode,
    // links, owner, group, size (or `major, minor`), time, name. The time
    // is `Mon dd HH:MM` or `Mon dd  YYYY` by default, `YYYY-MM-DD HH:MM`
    // (long-iso), `YYYY-MM-DD HH:MM:SS.nnnnnnnnn +zzzz` (full-iso).
    Regex::new(
        r"^(?P<type>[-dlcbps])[-rwxsStTl]{9}[.+@]?\s+\d+\s+\S+\s+\S+\s+(?:\d+,\s*)?\d+\s+(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d(?:\.\d+)?)?(?: [+-]\d{4})?|[A-Z][a-z]{2} [ \d]\d (?: \d{4}|\d\d:\d\d)) (?P<name>.+)$",
    )
    .expect("a valid literal regex")
});

static MOUNTINFO: LazyLock<Regex> = LazyLock::new(|| {
    // proc(5): `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw`.
    Regex::new(r"^\d+ \d+ \d+:\d+ \S+ (?P<point>\S+) \S+.* - \S+ ").expect("a valid literal regex")
});

static MOUNT: LazyLock<Regex> = LazyLock::new(|| {
    // util-linux mount(8) without arguments: `<source> on <point> type <fs> (<options>)`.
    Regex::new(r"^\S+ on (?P<point>/\S*) type \S+ \(").expect("a valid literal regex")
});

/// The first line of what podmortem's collector writes before a list of
/// cgroups with no process; the rest of the line is its collection time.
pub const EMPTY_CGROUPS_HEADER: &str = "# podmortem: cgroups with no process in cgroup.procs";
/// The first line of any other listing the collector writes, with its
/// collection time: `# podmortem collect <RFC 3339>: <command>`.
pub const COLLECT_HEADER: &str = "# podmortem collect ";

/// What the listing is, from its first lines; `None` for anything else (a
/// log, a manifest).
pub fn recognize(text: &str) -> Option<ListingKind> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with("# "))
        .take(SNIFF_LINES)
        .collect();
    let Some(&first) = lines.first() else {
        return text
            .starts_with("# podmortem")
            .then_some(ListingKind::CollectNotes);
    };
    let header = |needles: &[&str]| needles.iter().all(|n| first.contains(n));
    if first.starts_with("#subsys_name") {
        return Some(ListingKind::ProcCgroups);
    }
    if first.starts_with("CONTAINER ID") && header(&["STATUS", "NAMES"]) {
        return Some(ListingKind::DockerPs);
    }
    if first.starts_with("CONTAINER ") && header(&["STATE", "POD ID"]) {
        return Some(ListingKind::CrictlPs);
    }
    if first.starts_with("POD ID ") && header(&["STATE", "NAMESPACE"]) {
        return Some(ListingKind::CrictlPods);
    }
    if table_header(first, &["CONTAINER", "IMAGE", "RUNTIME"]) {
        return Some(ListingKind::CtrContainers);
    }
    if table_header(first, &["TASK", "PID", "STATUS"]) {
        return Some(ListingKind::CtrTasks);
    }
    if first.starts_with('{') || first.starts_with('[') {
        return recognize_json(text);
    }
    let share = |fits: &dyn Fn(&str) -> bool| {
        let n = lines.iter().filter(|l| fits(l)).count();
        n * 10 >= lines.len() * 6 && n > 0
    };
    if share(&|l| MOUNTINFO.is_match(l)) {
        return Some(ListingKind::Mountinfo);
    }
    if share(&|l| MOUNT.is_match(l)) {
        return Some(ListingKind::Mount);
    }
    if lines.iter().any(|l| l.contains('─'))
        && (first.starts_with("Control group") || first.starts_with("Working directory"))
    {
        return Some(ListingKind::SystemdCgls);
    }
    let ls_line = |l: &str| LS_LONG.is_match(l) || is_total(l) || is_header(l);
    if lines.iter().any(|l| LS_LONG.is_match(l)) && share(&ls_line) {
        return Some(ListingKind::LsLong);
    }
    let state_path = |l: &str| l.starts_with('/') || l.starts_with("./");
    if lines.iter().any(|l| is_header(l)) && lines.iter().any(|l| state_dir(l)) {
        return Some(ListingKind::LsRecursive);
    }
    if share(&|l| state_path(l) && !l.contains(' ')) && lines.iter().any(|l| state_dir(l)) {
        return Some(ListingKind::Find);
    }
    text.starts_with(COLLECT_HEADER)
        .then_some(ListingKind::CollectNotes)
}

/// Whether `line` is a table header with exactly these column names.
fn table_header(line: &str, names: &[&str]) -> bool {
    line.split_whitespace().eq(names.iter().copied())
}

fn is_total(line: &str) -> bool {
    line.strip_prefix("total ")
        .is_some_and(|n| n.trim().bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// An `ls -R` directory header: `/path/to/dir:`.
fn is_header(line: &str) -> bool {
    (line.starts_with('/') || line.starts_with("./") || line == ".:") && line.ends_with(':')
}

/// Whether a path is one of the places whose state podmortem compares.
fn state_dir(line: &str) -> bool {
    [
        "/sys/fs/cgroup",
        "kubepods",
        "io.containerd.runtime.v2.task",
        "kubelet/pods",
    ]
    .iter()
    .any(|p| line.contains(p))
}

fn recognize_json(text: &str) -> Option<ListingKind> {
    let head: String = text.chars().take(4096).collect();
    if head.contains("\"containers\"") && head.contains("\"podSandboxId\"") {
        return Some(ListingKind::CrictlPs);
    }
    if head.contains("\"items\"") && head.contains("\"metadata\"") && head.contains("SANDBOX_") {
        return Some(ListingKind::CrictlPods);
    }
    // docker ps --format '{{json .}}': one object a line, keys in order.
    if head.starts_with("{\"Command\":") && head.contains("\"Names\":") {
        return Some(ListingKind::DockerPs);
    }
    None
}

/// Reads a listing of `kind`; `listing` is its index, `reference` the time
/// it was taken when known (its file's mtime), to give `ls`'s year-less
/// dates a year.
pub fn read(
    kind: ListingKind,
    text: &str,
    listing: usize,
    reference: Option<DateTime<FixedOffset>>,
) -> Facts {
    let mut facts = Facts {
        taken: taken(text),
        ..Facts::default()
    };
    let reference = facts.taken.or(reference);
    let at = |line: usize, text: &str| At {
        listing,
        line: line as u64 + 1,
        text: text.to_string(),
    };
    let numbered = text.lines().enumerate().map(|(i, l)| (i, l.trim_end()));
    match kind {
        ListingKind::Find => {
            let empty_list = text.starts_with(EMPTY_CGROUPS_HEADER);
            for (i, line) in numbered {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                facts.paths.push(PathEntry {
                    path: line.to_string(),
                    mtime: None,
                    has_procs: empty_list.then_some(false),
                    at: at(i, line),
                });
            }
        }
        ListingKind::LsLong | ListingKind::LsRecursive => {
            let mut dir: Option<String> = None;
            for (i, line) in numbered {
                if line.is_empty() || is_total(line) || line.starts_with('#') {
                    continue;
                }
                if is_header(line) {
                    dir = Some(line.trim_end_matches(':').trim_end_matches('/').to_string());
                    continue;
                }
                let (name, mtime) = match LS_LONG.captures(line) {
                    Some(c) => (
                        c["name"]
                            .split(" -> ")
                            .next()
                            .unwrap_or_default()
                            .to_string(),
                        ls_time(&c["time"], reference),
                    ),
                    None if kind == ListingKind::LsRecursive => (line.trim().to_string(), None),
                    None => {
                        facts.unread += 1;
                        continue;
                    }
                };
                if name == "." || name == ".." {
                    continue;
                }
                let path = match &dir {
                    Some(d) => format!("{d}/{name}"),
                    None => name,
                };
                facts.paths.push(PathEntry {
                    path,
                    mtime,
                    has_procs: None,
                    at: at(i, line),
                });
            }
        }
        ListingKind::SystemdCgls => read_cgls(text, &at, &mut facts),
        ListingKind::ProcCgroups => {
            for (i, line) in numbered {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let cols: Vec<&str> = line.split_whitespace().collect();
                match cols.as_slice() {
                    [name, hierarchy, num, _enabled] => match (hierarchy.parse(), num.parse()) {
                        (Ok(hierarchy), Ok(num_cgroups)) => facts.subsystems.push(Subsys {
                            name: name.to_string(),
                            hierarchy,
                            num_cgroups,
                            at: at(i, line),
                        }),
                        _ => facts.unread += 1,
                    },
                    _ => facts.unread += 1,
                }
            }
        }
        ListingKind::Mountinfo | ListingKind::Mount => {
            let re = if kind == ListingKind::Mount {
                &*MOUNT
            } else {
                &*MOUNTINFO
            };
            for (i, line) in numbered {
                match re.captures(line) {
                    Some(c) => facts
                        .mounts
                        .push((unescape_octal(&c["point"]), at(i, line))),
                    None if line.is_empty() => {}
                    None => facts.unread += 1,
                }
            }
        }
        ListingKind::CollectNotes => {}
        ListingKind::CrictlPs
        | ListingKind::CrictlPods
        | ListingKind::CtrContainers
        | ListingKind::CtrTasks
        | ListingKind::DockerPs => super::runtime::read(kind, text, &at, &mut facts),
    }
    facts
}

/// The collection time in a header podmortem's collector wrote.
fn taken(text: &str) -> Option<DateTime<FixedOffset>> {
    let first = text.lines().next()?;
    let rest = first
        .strip_prefix(COLLECT_HEADER)
        .or_else(|| first.strip_prefix(EMPTY_CGROUPS_HEADER))?;
    let stamp = rest.trim().split(' ').next()?;
    DateTime::parse_from_rfc3339(stamp.trim_end_matches(':')).ok()
}

/// `ls`'s time column as an instant. `full-iso` gives its zone; the other
/// forms are read in UTC (the node's zone is not in the listing: ages are
/// off by at most that much). A year-less date (`Nov 28 10:12`, printed for
/// files modified in the last six months) takes the reference's year, or
/// the one before when that would put it after the reference.
fn ls_time(text: &str, reference: Option<DateTime<FixedOffset>>) -> Option<DateTime<FixedOffset>> {
    let utc = FixedOffset::east_opt(0)?;
    if text.starts_with(|c: char| c.is_ascii_digit()) {
        if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f %z") {
            return Some(t);
        }
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").ok()?;
        return utc.from_local_datetime(&naive).single();
    }
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [month, day, last] = parts.as_slice() else {
        return None;
    };
    let month = month_number(month)?;
    let day: u32 = day.parse().ok()?;
    let at = |year: i32, h: u32, m: u32| {
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        utc.from_local_datetime(&date.and_hms_opt(h, m, 0)?)
            .single()
    };
    match last.split_once(':') {
        None => at(last.parse().ok()?, 0, 0),
        Some((h, m)) => {
            let (h, m) = (h.parse().ok()?, m.parse().ok()?);
            let reference = reference.unwrap_or_else(|| Utc::now().fixed_offset());
            let this = at(reference.year(), h, m)?;
            if this > reference + chrono::Duration::days(1) {
                at(reference.year() - 1, h, m)
            } else {
                Some(this)
            }
        }
    }
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS.iter().position(|m| *m == name).map(|i| i as u32 + 1)
}

/// Mount points escape space, tab, newline and backslash as `\040` etc.
fn unescape_octal(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let code = rest
            .get(at + 1..at + 4)
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match code {
            Some(b) => {
                out.push(b as char);
                rest = &rest[at + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `systemd-cgls` (systemd src/shared/cgroup-show.c): a tree drawn with
/// `├─`, `│ `, `└─`; a unit line is `├─<name>` (slices, scopes, services,
/// some followed by ` (#1234)` in newer versions), a process line is
/// `├─<pid> <command>`. Each unit becomes a path of the units above it; a
/// unit with no process line anywhere below it is marked as holding no
/// process.
fn read_cgls(text: &str, at: &dyn Fn(usize, &str) -> At, facts: &mut Facts) {
    // (depth, index into facts.paths) of the units open above the line.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut procs: HashMap<usize, bool> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let Some(branch) = line.find('─') else {
            continue;
        };
        let depth = line[..branch].chars().count();
        let item = line[branch + '─'.len_utf8()..].trim();
        let name = item.split(" (#").next().unwrap_or(item).trim();
        while stack.last().is_some_and(|&(d, _)| d >= depth) {
            stack.pop();
        }
        let is_process = name
            .split_whitespace()
            .next()
            .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit()));
        if is_process {
            for &(_, unit) in &stack {
                procs.insert(unit, true);
            }
            continue;
        }
        let parent = stack.last().map(|&(_, p)| facts.paths[p].path.clone());
        let path = match parent {
            Some(p) => format!("{p}/{name}"),
            None => format!("/{name}"),
        };
        facts.paths.push(PathEntry {
            path,
            mtime: None,
            has_procs: None,
            at: at(i, line.trim_end()),
        });
        stack.push((depth, facts.paths.len() - 1));
    }
    for (i, entry) in facts.paths.iter_mut().enumerate() {
        entry.has_procs = Some(procs.contains_key(&i));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_times_in_every_style() {
        let reference = DateTime::parse_from_rfc3339("2024-12-01T00:00:00+00:00").ok();
        let full = ls_time("2024-11-28 10:12:31.482193004 +0800", reference).unwrap();
        assert_eq!(full.to_rfc3339(), "2024-11-28T10:12:31.482193004+08:00");
        let recent = ls_time("Nov 28 10:12", reference).unwrap();
        assert_eq!(recent.to_rfc3339(), "2024-11-28T10:12:00+00:00");
        // December seen from January of the next year.
        let jan = DateTime::parse_from_rfc3339("2025-01-02T00:00:00+00:00").ok();
        assert_eq!(ls_time("Dec 30 23:00", jan).unwrap().year(), 2024);
        assert_eq!(ls_time("Mar  3  2023", reference).unwrap().year(), 2023);
        assert_eq!(ls_time("2024-11-28 10:12", reference).unwrap().day(), 28);
    }

    #[test]
    fn mount_points_unescape() {
        assert_eq!(unescape_octal(r"/mnt/a\040b"), "/mnt/a b");
        assert_eq!(unescape_octal(r"/x\y"), r"/x\y");
    }
}
