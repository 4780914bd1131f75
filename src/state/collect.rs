//! `podmortem collect`: on a node, one compressed bundle (tar.gz) holding
//! exactly what podmortem reads, so that `podmortem analyze bundle.tar.gz`
//! sees the logs and the state together.
//!
//! What is read, and nothing else (the [`PLAN`] below is the list):
//! - the journal as an export stream (`journalctl -o export`), when
//!   journalctl exists;
//! - `/var/log/messages*`, `syslog*`, `kern.log*`, `kubelet*`,
//!   `containerd*`, `docker*`, `crio*` (files directly in /var/log);
//! - the kernel ring buffer (`dmesg --time-format iso`, absolute times;
//!   plain `dmesg` where util-linux is older) and the boot time
//!   (`/proc/stat` btime);
//! - every directory under `/sys/fs/cgroup` (a `find -type d` listing, with
//!   directory counts per depth), the kubepods cgroups whose `cgroup.procs`
//!   is empty, and `/proc/cgroups`;
//! - `ls -la --time-style=full-iso` of containerd's task directories
//!   (`/run/containerd/io.containerd.runtime.v2.task/*/*`) and of kubelet's
//!   pod directories and their volumes (`/var/lib/kubelet/pods/*/volumes/*`);
//! - `crictl ps -a -o json`, `crictl pods -o json`, `ctr -n k8s.io
//!   containers ls`, `ctr -n k8s.io tasks ls`, `docker ps -a --no-trunc
//!   --format '{{json .}}'` where those tools exist (each with a time
//!   limit: a hung runtime is a reason to collect);
//! - `/proc/self/mountinfo`, versions (kernel, containerd, runc, kubelet,
//!   docker), the time zone.
//!
//! Files are added newest first until the size cap; whatever was not read
//! (missing, unreadable without root, not installed, over the cap, timed
//! out) is named in `collect-notes.txt` inside the bundle and on stderr.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Local, SecondsFormat, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;

use super::listing::{COLLECT_HEADER, EMPTY_CGROUPS_HEADER};

/// How long one command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Cgroup directories deeper than this below /sys/fs/cgroup are not
/// listed (kubepods containers sit at depth 4 to 6).
const CGROUP_DEPTH: usize = 10;

/// The log files taken from /var/log: names starting with these.
const LOG_PREFIXES: &[&str] = &[
    "messages",
    "syslog",
    "kern.log",
    "kubelet",
    "containerd",
    "docker",
    "crio",
];

/// What the caller decides.
#[derive(Clone, Debug)]
pub struct CollectOptions {
    pub output: PathBuf,
    /// Bytes of content at most (before compression).
    pub max_bytes: u64,
    /// The root the documented paths are read under (`/`; a test points
    /// it elsewhere).
    pub root: PathBuf,
    pub progress: bool,
}

/// What a collection did.
#[derive(Debug, Default)]
pub struct Collected {
    pub entries: Vec<String>,
    pub bytes: u64,
    /// What was not read, and why.
    pub notes: Vec<String>,
}

struct Bundle<W: Write> {
    tar: tar::Builder<W>,
    budget: u64,
    out: Collected,
    taken: String,
}

impl<W: Write> Bundle<W> {
    fn add_bytes(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        if data.len() as u64 > self.budget {
            self.out.notes.push(format!(
                "{name}: not taken, over the size cap ({} bytes)",
                data.len()
            ));
            return Ok(());
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(Utc::now().timestamp().max(0) as u64);
        header.set_cksum();
        self.tar.append_data(&mut header, name, data)?;
        self.budget -= data.len() as u64;
        self.out.bytes += data.len() as u64;
        self.out.entries.push(name.to_string());
        Ok(())
    }

    /// A listing with podmortem's header (its collection time and command).
    fn add_listing(&mut self, name: &str, command: &str, body: &str) -> io::Result<()> {
        let text = format!("{COLLECT_HEADER}{}: {command}\n{body}", self.taken);
        self.add_bytes(name, text.as_bytes())
    }

    fn add_file(&mut self, path: &Path, name: &str) -> io::Result<()> {
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                self.out
                    .notes
                    .push(format!("{}: not read ({e})", path.display()));
                return Ok(());
            }
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len > self.budget {
            self.out.notes.push(format!(
                "{}: not taken, over the size cap ({len} bytes, {} left)",
                path.display(),
                self.budget
            ));
            return Ok(());
        }
        let mut header = tar::Header::new_gnu();
        if let Ok(meta) = file.metadata() {
            header.set_metadata(&meta);
        }
        header.set_size(len);
        header.set_cksum();
        // The file may grow while it is read: exactly `len` bytes go in.
        let mut limited = (&mut file).take(len);
        self.tar.append_data(&mut header, name, &mut limited)?;
        self.budget -= len;
        self.out.bytes += len;
        self.out.entries.push(name.to_string());
        Ok(())
    }
}

/// One step of the plan, as the progress bar names it.
const PLAN: &[&str] = &[
    "journal",
    "logs",
    "dmesg",
    "cgroups",
    "runtime dirs",
    "pod dirs",
    "runtimes",
    "mounts",
    "versions",
];

/// Collects into `options.output`.
pub fn collect(options: &CollectOptions) -> io::Result<Collected> {
    let file = File::create(&options.output)?;
    let gz = GzEncoder::new(file, Compression::default());
    let mut b = Bundle {
        tar: tar::Builder::new(gz),
        budget: options.max_bytes,
        out: Collected::default(),
        taken: Local::now()
            .fixed_offset()
            .to_rfc3339_opts(SecondsFormat::Secs, false),
    };
    let bar = options.progress.then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(PLAN.len() as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
            bar.set_style(style);
        }
        bar
    });
    let root = options.root.as_path();
    for step in PLAN {
        if let Some(bar) = &bar {
            bar.set_message(*step);
        }
        match *step {
            "journal" => journal(&mut b)?,
            "logs" => logs(&mut b, root)?,
            "dmesg" => dmesg(&mut b, root)?,
            "cgroups" => cgroups(&mut b, root)?,
            "runtime dirs" => runtime_dirs(&mut b, root)?,
            "pod dirs" => pod_dirs(&mut b, root)?,
            "runtimes" => runtimes(&mut b)?,
            "mounts" => {
                let path = root.join("proc/self/mountinfo");
                match fs::read_to_string(&path) {
                    Ok(text) => b.add_bytes("state/mountinfo.txt", text.as_bytes())?,
                    Err(e) => b
                        .out
                        .notes
                        .push(format!("{}: not read ({e})", path.display())),
                }
            }
            _ => versions(&mut b, root)?,
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut notes = String::new();
    for n in &b.out.notes {
        let _ = writeln!(notes, "{n}");
    }
    let taken = b.taken.clone();
    b.budget = b.budget.max(notes.len() as u64 + 256);
    b.add_bytes(
        "collect-notes.txt",
        format!("{COLLECT_HEADER}{taken}: what was not collected\n{notes}").as_bytes(),
    )?;
    let gz = b.tar.into_inner()?;
    gz.finish()?.flush()?;
    Ok(b.out)
}

/// Runs a command with a time limit; its standard output, or why not.
fn run(program: &str, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => "not installed".to_string(),
            _ => e.to_string(),
        })?;
    let mut stdout = child.stdout.take().ok_or("no output")?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > COMMAND_TIMEOUT => {
                // Killing the child we started, by its handle.
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {}s", COMMAND_TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let out = reader
        .join()
        .map_err(|_| "output reader failed".to_string())?;
    if status.success() {
        Ok(out)
    } else {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        Err(format!(
            "{status}: {}",
            err.lines().next().unwrap_or("").trim()
        ))
    }
}

/// Runs `program args` into the bundle as `name`, or notes why not.
fn command_into<W: Write>(
    b: &mut Bundle<W>,
    name: &str,
    program: &str,
    args: &[&str],
    listing: bool,
) -> io::Result<bool> {
    let shown = format!("{program} {}", args.join(" "));
    match run(program, args) {
        Ok(out) if listing => {
            b.add_listing(name, &shown, &String::from_utf8_lossy(&out))?;
            Ok(true)
        }
        Ok(out) => {
            b.add_bytes(name, &out)?;
            Ok(true)
        }
        Err(why) => {
            b.out.notes.push(format!("{shown}: not collected ({why})"));
            Ok(false)
        }
    }
}

fn journal<W: Write>(b: &mut Bundle<W>) -> io::Result<()> {
    let args = ["-o", "export", "--no-pager"];
    match run("journalctl", &args) {
        Ok(out) if out.is_empty() => b
            .out
            .notes
            .push("journalctl -o export: the journal holds no entries here".into()),
        Ok(out) => b.add_bytes("journal.export", &out)?,
        Err(why) => b
            .out
            .notes
            .push(format!("journalctl -o export: not collected ({why})")),
    }
    Ok(())
}

fn logs<W: Write>(b: &mut Bundle<W>, root: &Path) -> io::Result<()> {
    let dir = root.join("var/log");
    let mut files: Vec<(SystemTime, PathBuf, String)> = Vec::new();
    match fs::read_dir(&dir) {
        Ok(entries) => {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                let Ok(meta) = e.metadata() else { continue };
                if meta.is_file() && LOG_PREFIXES.iter().any(|p| name.starts_with(p)) {
                    files.push((
                        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        e.path(),
                        name,
                    ));
                }
            }
        }
        Err(e) => b
            .out
            .notes
            .push(format!("{}: not read ({e})", dir.display())),
    }
    // Newest first: the cap leaves out old rotations, never today's file.
    files.sort_by(|a, b| b.0.cmp(&a.0));
    if files.is_empty() {
        b.out.notes.push(format!(
            "{}: no messages, syslog, kubelet, containerd or docker log files",
            dir.display()
        ));
    }
    for (_, path, name) in files {
        b.add_file(&path, &format!("var/log/{name}"))?;
    }
    Ok(())
}

fn dmesg<W: Write>(b: &mut Bundle<W>, root: &Path) -> io::Result<()> {
    if !command_into(b, "dmesg.txt", "dmesg", &["--time-format", "iso"], false)? {
        command_into(b, "dmesg.txt", "dmesg", &[], false)?;
    }
    let stat = root.join("proc/stat");
    let btime = fs::read_to_string(&stat).ok().and_then(|s| {
        let secs: i64 = s
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        DateTime::from_timestamp(secs, 0)
    });
    match btime {
        Some(t) => {
            let boot = t
                .with_timezone(&Local)
                .fixed_offset()
                .to_rfc3339_opts(SecondsFormat::Secs, false);
            b.add_listing(
                "node/boot-time.txt",
                "btime of /proc/stat (podmortem analyze --boot-time)",
                &format!("{boot}\n"),
            )?;
        }
        None => b.out.notes.push(format!("{}: no btime", stat.display())),
    }
    Ok(())
}

fn cgroups<W: Write>(b: &mut Bundle<W>, root: &Path) -> io::Result<()> {
    let base = root.join("sys/fs/cgroup");
    let mut dirs: Vec<(usize, PathBuf)> = Vec::new();
    let mut unreadable = 0usize;
    walk_dirs(&base, 0, &mut dirs, &mut unreadable);
    if dirs.is_empty() {
        b.out.notes.push(format!(
            "{}: no cgroup directories readable",
            base.display()
        ));
    } else {
        let mut per_depth = vec![0usize; CGROUP_DEPTH + 1];
        let mut body = String::new();
        for (depth, path) in &dirs {
            per_depth[*depth] += 1;
            let _ = writeln!(body, "{}", shown(root, path));
        }
        let mut counts = String::new();
        for (depth, n) in per_depth.iter().enumerate().filter(|(_, n)| **n > 0) {
            let _ = writeln!(counts, "# depth {depth}: {n} directories");
        }
        b.add_listing(
            "state/cgroup-dirs.txt",
            "find /sys/fs/cgroup -type d",
            &format!("{counts}{body}"),
        )?;
        let mut empty = String::new();
        for (_, path) in dirs
            .iter()
            .filter(|(_, p)| p.to_string_lossy().contains("kubepods"))
        {
            if let Ok(procs) = fs::read_to_string(path.join("cgroup.procs")) {
                if procs.trim().is_empty() {
                    let _ = writeln!(empty, "{}", shown(root, path));
                }
            }
        }
        let text = format!("{EMPTY_CGROUPS_HEADER} {}\n{empty}", b.taken);
        b.add_bytes("state/cgroup-empty.txt", text.as_bytes())?;
    }
    if unreadable > 0 {
        b.out.notes.push(format!(
            "{unreadable} cgroup directories could not be listed"
        ));
    }
    let proc_cgroups = root.join("proc/cgroups");
    match fs::read_to_string(&proc_cgroups) {
        Ok(text) => b.add_bytes("state/proc-cgroups.txt", text.as_bytes())?,
        Err(e) => b
            .out
            .notes
            .push(format!("{}: not read ({e})", proc_cgroups.display())),
    }
    Ok(())
}

/// The path as it is on the node (the root taken off).
fn shown(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    format!("/{}", rel.display())
}

fn walk_dirs(dir: &Path, depth: usize, out: &mut Vec<(usize, PathBuf)>, unreadable: &mut usize) {
    out.push((depth, dir.to_path_buf()));
    if depth >= CGROUP_DEPTH {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        *unreadable += 1;
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for d in subdirs {
        walk_dirs(&d, depth + 1, out, unreadable);
    }
}

/// Subdirectories of `dir`, sorted; empty when it cannot be read.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// `ls -la --time-style=full-iso` of `dirs` (at least two, so that ls
/// prints each one's `path:` header) into the bundle.
fn ls_into<W: Write>(
    b: &mut Bundle<W>,
    root: &Path,
    name: &str,
    dirs: &[PathBuf],
) -> io::Result<()> {
    let args: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let mut argv: Vec<&str> = vec!["-la", "--time-style=full-iso"];
    argv.extend(args.iter().map(String::as_str));
    match run("ls", &argv) {
        // ls exits 1 or 2 when one directory cannot be read; what it printed
        // is still taken.
        Ok(out) => {
            let text = String::from_utf8_lossy(&out);
            let text = text.replace(
                &format!("{}/", root.display().to_string().trim_end_matches('/')),
                "/",
            );
            b.add_listing(name, "ls -la --time-style=full-iso", &text)
        }
        Err(why) => {
            b.out.notes.push(format!(
                "ls of {}: {why}",
                dirs.first()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default()
            ));
            Ok(())
        }
    }
}

fn runtime_dirs<W: Write>(b: &mut Bundle<W>, root: &Path) -> io::Result<()> {
    let base = root.join("run/containerd/io.containerd.runtime.v2.task");
    if !base.is_dir() {
        b.out.notes.push(format!(
            "{}: absent (no containerd v2 runtime here)",
            shown(root, &base)
        ));
        return Ok(());
    }
    let mut dirs = Vec::new();
    for ns in subdirs(&base) {
        dirs.push(ns.clone());
        dirs.extend(subdirs(&ns));
    }
    dirs.insert(0, base);
    ls_into(b, root, "state/containerd-task-dirs.txt", &dirs)
}

fn pod_dirs<W: Write>(b: &mut Bundle<W>, root: &Path) -> io::Result<()> {
    let base = root.join("var/lib/kubelet/pods");
    if !base.is_dir() {
        b.out
            .notes
            .push(format!("{}: absent (no kubelet here)", shown(root, &base)));
        return Ok(());
    }
    let mut dirs = vec![base.clone()];
    for pod in subdirs(&base) {
        let volumes = pod.join("volumes");
        dirs.push(volumes.clone());
        dirs.extend(subdirs(&volumes));
    }
    ls_into(b, root, "state/kubelet-pod-dirs.txt", &dirs)
}

fn runtimes<W: Write>(b: &mut Bundle<W>) -> io::Result<()> {
    let timeout = "--timeout=20s";
    command_into(
        b,
        "state/crictl-ps.json",
        "crictl",
        &[timeout, "ps", "-a", "-o", "json"],
        false,
    )?;
    command_into(
        b,
        "state/crictl-pods.json",
        "crictl",
        &[timeout, "pods", "-o", "json"],
        false,
    )?;
    command_into(
        b,
        "state/ctr-containers.txt",
        "ctr",
        &["-n", "k8s.io", "containers", "ls"],
        false,
    )?;
    command_into(
        b,
        "state/ctr-tasks.txt",
        "ctr",
        &["-n", "k8s.io", "tasks", "ls"],
        false,
    )?;
    command_into(
        b,
        "state/docker-ps.json",
        "docker",
        &["ps", "-a", "--no-trunc", "--format", "{{json .}}"],
        false,
    )?;
    Ok(())
}

fn versions<W: Write>(b: &mut Bundle<W>, root: &Path) -> io::Result<()> {
    let mut text = String::new();
    if let Ok(kernel) = fs::read_to_string(root.join("proc/sys/kernel/osrelease")) {
        let _ = writeln!(text, "kernel {}", kernel.trim());
    }
    for (program, args) in [
        ("containerd", &["--version"][..]),
        ("runc", &["--version"][..]),
        ("kubelet", &["--version"][..]),
        (
            "docker",
            &["version", "--format", "{{.Server.Version}}"][..],
        ),
        ("crictl", &["--version"][..]),
    ] {
        match run(program, args) {
            Ok(out) => {
                let first = String::from_utf8_lossy(&out)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let _ = writeln!(text, "{program}: {first}");
            }
            Err(why) => b
                .out
                .notes
                .push(format!("{program} version: not collected ({why})")),
        }
    }
    let zone = fs::read_link(root.join("etc/localtime"))
        .ok()
        .map(|p| p.display().to_string())
        .or_else(|| fs::read_to_string(root.join("etc/timezone")).ok())
        .unwrap_or_else(|| "unknown".into());
    let _ = writeln!(
        text,
        "time zone: {} (UTC offset now {})",
        zone.trim(),
        Local::now().format("%:z")
    );
    b.add_listing("node/versions.txt", "versions and time zone", &text)
}
