//! Field recall: the built binary on every case of `tests/field/`, real
//! excerpts from public issue threads with the failure kinds an SRE would
//! name (see `tests/field/README.md`).
//!
//! It measures and prints, per detector kind, per envelope and overall, how
//! many of the expected kinds podmortem reports, how many expected full
//! container IDs it attributes, how many lines it cannot parse, and how
//! severe it is on healthy nodes. Recall is not required to be complete
//! (other work is raising it); what is asserted:
//! 1. every healthy case stays at most `low` (hard), except those listed in
//!    `known_above_low` (today's precision bugs; the list may only shrink,
//!    and a listed case that is fixed must leave the list);
//! 2. recall, attribution and the unparsed rate are no worse than the
//!    ratchet in `tests/field/floors.toml`, nor is any kind found less often;
//! 3. the corpus holds at least 80 cases, each well-formed with provenance.
//!
//! `cargo test --release --test field -- --nocapture` prints the tables;
//! `PODMORTEM_FIELD_FLOORS=write` rewrites `floors.toml` with today's figures;
//! `PODMORTEM_FIELD_UNPARSED=1` also lists every unparsed line that is not
//! prose (the log lines in envelopes podmortem did not recognize).
//! `PODMORTEM_FIELD_DIR=<dir>` measures the cases of another directory
//! (a held-out batch, run before anything is fixed for it) and prints the
//! tables only: such a batch has no floors.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// At least this many cases, as issue 9 asks.
const MIN_CASES: usize = 80;

/// One case's `case.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The thread, bug or page the lines were copied from.
    source: String,
    /// The date shown with the copied comment, or `unknown`.
    posted: String,
    retrieved: String,
    /// The outermost form the lines came in (syslog, klog, dmesg-raw, …).
    envelope: String,
    /// The form inside the envelope, when it differs (logrus-text, klog…).
    payload: Option<String>,
    #[serde(default)]
    component_versions: BTreeMap<String, String>,
    #[serde(default)]
    healthy: bool,
    #[serde(default)]
    expect_kinds: Vec<String>,
    /// Real failures in the lines that no podmortem kind names yet.
    #[serde(default)]
    expect_unknown: Vec<String>,
    #[serde(default)]
    expect_containers: Vec<String>,
    /// Extra `analyze` arguments (e.g. `--year`), when the thread states them.
    #[serde(default)]
    args: Vec<String>,
    note: String,
}

/// The ratchet in `floors.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Floors {
    recall: f64,
    attribution: f64,
    unparsed_max: f64,
    /// Healthy cases known to be reported above low today: precision bugs
    /// waiting for a fix. The list may only shrink.
    #[serde(default)]
    known_above_low: Vec<String>,
    /// Per kind, how many expected occurrences must be found at least.
    #[serde(default)]
    found: BTreeMap<String, usize>,
}

/// What the binary said about one case.
struct Outcome {
    id: String,
    case: Case,
    kinds: BTreeSet<String>,
    containers: BTreeSet<String>,
    worst: Severity,
    lines: u64,
    unparsed: u64,
    /// Input lines that are prose, not log records ([`is_prose`]).
    prose: u64,
    untimed: u64,
    exit: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    fn parse(s: &str) -> Severity {
        match s {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            other => panic!("unknown severity {other:?} in the JSON report"),
        }
    }
}

fn field_dir() -> PathBuf {
    held_out().unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/field"))
}

/// The directory of a held-out batch (`PODMORTEM_FIELD_DIR`), if one is
/// measured instead of the corpus.
fn held_out() -> Option<PathBuf> {
    std::env::var_os("PODMORTEM_FIELD_DIR").map(PathBuf::from)
}

/// Every case directory, sorted by name.
fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(field_dir())
        .expect("tests/field exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// The input files of a case: everything in its directory but `case.toml`.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "case.toml"))
        .collect();
    files.sort();
    files
}

/// The kinds the built-in grammars define (`podmortem grammars list`).
fn known_kinds() -> BTreeSet<String> {
    let out = common::podmortem(&["grammars", "list"], None);
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

fn load(dir: &Path) -> Case {
    let text = std::fs::read_to_string(dir.join("case.toml")).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Runs `podmortem analyze --format json` on one case.
fn run(dir: &Path) -> Outcome {
    let case = load(dir);
    let files = inputs(dir);
    let mut args: Vec<String> = vec!["analyze".into(), "--format".into(), "json".into()];
    args.extend(case.args.iter().cloned());
    args.extend(files.iter().map(|p| p.to_string_lossy().into_owned()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::podmortem(&argv, None);
    let id = dir.file_name().unwrap().to_string_lossy().into_owned();
    let mut outcome = Outcome {
        id,
        case,
        kinds: BTreeSet::new(),
        containers: BTreeSet::new(),
        worst: Severity::None,
        lines: 0,
        unparsed: 0,
        prose: files.iter().map(|f| prose_lines(f)).sum(),
        untimed: 0,
        exit: out.status.code(),
    };
    let Ok(report) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        // Exit 2 (nothing could be read) prints no report: every line unread.
        outcome.lines = files
            .iter()
            .map(|f| std::fs::read(f).unwrap().split(|&b| b == b'\n').count() as u64 - 1)
            .sum();
        outcome.unparsed = outcome.lines;
        return outcome;
    };
    let stats = &report["stats"];
    outcome.lines = stats["lines"].as_u64().unwrap_or(0);
    outcome.unparsed = stats["unparsed"].as_u64().unwrap_or(0);
    outcome.untimed = stats["untimed"].as_u64().unwrap_or(0);
    for incident in report["incidents"].as_array().into_iter().flatten() {
        if incident["suppressed"].is_null() {
            let sev = Severity::parse(incident["severity"].as_str().unwrap());
            outcome.worst = outcome.worst.max(sev);
        }
        for finding in incident["findings"].as_array().into_iter().flatten() {
            outcome
                .kinds
                .insert(finding["kind"].as_str().unwrap().to_string());
        }
        for c in incident["containers"].as_array().into_iter().flatten() {
            outcome.containers.insert(c.as_str().unwrap().to_string());
        }
    }
    outcome
}

/// Lines of `file` that are prose rather than log records.
fn prose_lines(file: &Path) -> u64 {
    let text = std::fs::read(file).unwrap();
    text.split(|&b| b == b'\n')
        .filter(|line| is_prose(&String::from_utf8_lossy(line)))
        .count() as u64
}

/// Whether a pasted line is prose, a command or a heading rather than a
/// log record: it is not blank (as podmortem counts blanks) and holds nothing a log writer puts on every
/// record: a clock time (`11:03:56`, which every syslog, journal, klog,
/// logrus, ISO and `dmesg -T` stamp holds), a time since boot (`[
/// 4174.552171]`), logfmt's `level=` / `msg=`, or a JSON log key. Prose
/// never frames as a record, so every prose line is among a case's
/// unparsed lines, and `unparsed − prose` estimates the log lines whose
/// envelope podmortem did not recognize. The estimate errs low on inputs
/// with untimed records (`dmesg -t`, call-trace continuations without a
/// stamp): those count as prose here.
fn is_prose(line: &str) -> bool {
    let line = line.trim();
    // What podmortem counts as blank, neither data nor unparsed: separators,
    // journalctl's catalog text, what is left of a quote.
    if line.chars().all(|c| " >*-|".contains(c))
        || line.starts_with("-- ")
        || line.starts_with('\u{2591}')
    {
        return false;
    }
    // `12:31:27`, or `9:31:27` (a clock without its leading zero).
    static CLOCK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:[0-9]{2}|(?:^|[ T])[0-9]):[0-9]{2}:[0-9]{2}").unwrap()
    });
    let clock = CLOCK.is_match(line);
    let since_boot = line.match_indices('[').any(|(i, _)| {
        let rest = line[i + 1..].trim_start();
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0
            && rest[digits..].starts_with('.')
            && rest[digits + 1..].starts_with(|c: char| c.is_ascii_digit())
    });
    let keys = ["level=", "msg=", "\"log\":", "\"MESSAGE\":", "\"msg\":"]
        .iter()
        .any(|k| line.contains(k));
    !(clock || since_boot || keys)
}

/// The lines of `file` that podmortem frames as no record and that are
/// not prose: framed as `analyze` frames them (the input's format detected
/// with the grammar's kernel patterns, wrapped records rejoined). Inputs
/// read entry by entry (journal export, verbose, JSON documents) are
/// skipped.
fn unparsed_log_lines(file: &Path) -> Vec<String> {
    use podmortem::format::{self, Framed};
    use podmortem::scan::Framing;
    static RULES: std::sync::LazyLock<podmortem::matcher::RuleSet> =
        std::sync::LazyLock::new(|| {
            podmortem::matcher::RuleSet::new(podmortem::grammar::Grammar::builtin().unwrap())
        });
    let bytes = std::fs::read(file).unwrap();
    let Framing::Lines(input) = Framing::detect_with_rules(&bytes, &RULES) else {
        return Vec::new();
    };
    format::wrap::lines(&bytes, input.wrap(), format::is_header, |l| {
        input.is_record(l)
    })
    .filter(|l| matches!(input.frame(&l.text), Framed::Unparsed))
    .map(|l| String::from_utf8_lossy(&l.text).into_owned())
    .filter(|l| !is_prose(l))
    .collect()
}

/// Runs every case, spread over the machine's cores (each case is its own
/// process), in case order.
fn run_all(dirs: &[PathBuf]) -> Vec<Outcome> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = dirs.len().div_ceil(workers).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|d| run(d)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a case worker panicked"))
            .collect()
    })
}

/// found / expected, with a tally per key.
#[derive(Default, Clone, Copy)]
struct Tally {
    found: usize,
    expected: usize,
}

impl Tally {
    fn add(&mut self, hit: bool) {
        self.expected += 1;
        self.found += usize::from(hit);
    }
    fn rate(self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            self.found as f64 / self.expected as f64
        }
    }
}

/// Per envelope: how many cases, how much they hold, how much was read.
#[derive(Default)]
struct EnvStat {
    cases: usize,
    healthy: usize,
    lines: u64,
    unparsed: u64,
    recall: Tally,
}

fn envelope_table(out: &mut String, rows: &BTreeMap<String, EnvStat>) {
    writeln!(
        out,
        "\n| envelope | cases | healthy | found | expected | recall | unparsed lines |"
    )
    .unwrap();
    writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |").unwrap();
    for (key, e) in rows {
        let recall = if e.recall.expected == 0 {
            "-".to_string()
        } else {
            format!("{:.0}%", 100.0 * e.recall.rate())
        };
        writeln!(
            out,
            "| {key} | {} | {} | {} | {} | {recall} | {}/{} |",
            e.cases, e.healthy, e.recall.found, e.recall.expected, e.unparsed, e.lines
        )
        .unwrap();
    }
}

fn table(out: &mut String, title: &str, rows: &BTreeMap<String, Tally>) {
    writeln!(out, "\n| {title} | found | expected | recall |").unwrap();
    writeln!(out, "| --- | ---: | ---: | ---: |").unwrap();
    for (key, t) in rows {
        writeln!(
            out,
            "| {key} | {} | {} | {:.0}% |",
            t.found,
            t.expected,
            100.0 * t.rate()
        )
        .unwrap();
    }
}

/// Figures of one measurement.
struct Figures {
    recall: Tally,
    /// Expected kinds found, per kind: unlike the rates, these counts do not
    /// fall when cases are added, so a regression in one detector shows even
    /// when another improves.
    per_kind: BTreeMap<String, Tally>,
    attribution: Tally,
    lines: u64,
    unparsed: u64,
    /// Prose lines pasted with the logs (always unparsed).
    prose: u64,
    /// Unparsed lines that are not prose: log records in an envelope
    /// podmortem did not recognize (per case, `unparsed − prose`, at least 0).
    unparsed_log: u64,
}

impl Figures {
    fn unparsed_rate(&self) -> f64 {
        if self.lines == 0 {
            0.0
        } else {
            self.unparsed as f64 / self.lines as f64
        }
    }
}

/// Prints every table and returns the overall figures.
fn measure(outcomes: &[Outcome]) -> (String, Figures) {
    let mut per_kind: BTreeMap<String, Tally> = BTreeMap::new();
    let mut per_envelope: BTreeMap<String, EnvStat> = BTreeMap::new();
    let mut per_payload: BTreeMap<String, Tally> = BTreeMap::new();
    let mut figures = Figures {
        recall: Tally::default(),
        per_kind: BTreeMap::new(),
        attribution: Tally::default(),
        lines: 0,
        unparsed: 0,
        prose: 0,
        unparsed_log: 0,
    };
    let mut misses = String::new();
    let mut gaps = String::new();
    let mut healthy = String::new();
    let mut extra = String::new();
    let mut untimed = 0;
    for o in outcomes {
        figures.lines += o.lines;
        figures.unparsed += o.unparsed;
        figures.prose += o.prose;
        figures.unparsed_log += o.unparsed.saturating_sub(o.prose);
        untimed += o.untimed;
        let payload = o.case.payload.clone().unwrap_or_else(|| "-".into());
        let env = per_envelope.entry(o.case.envelope.clone()).or_default();
        env.cases += 1;
        env.healthy += usize::from(o.case.healthy);
        env.lines += o.lines;
        env.unparsed += o.unparsed;
        for kind in &o.case.expect_kinds {
            let hit = o.kinds.contains(kind);
            per_kind.entry(kind.clone()).or_default().add(hit);
            per_envelope
                .get_mut(&o.case.envelope)
                .expect("entered above")
                .recall
                .add(hit);
            per_payload.entry(payload.clone()).or_default().add(hit);
            figures.recall.add(hit);
            if !hit {
                writeln!(misses, "- {} ({}): {kind}", o.id, o.case.envelope).unwrap();
            }
        }
        for c in &o.case.expect_containers {
            let hit = o.containers.contains(c);
            figures.attribution.add(hit);
            if !hit {
                writeln!(misses, "- {}: container {c} not attributed", o.id).unwrap();
            }
        }
        for g in &o.case.expect_unknown {
            writeln!(gaps, "- {}: {g}", o.id).unwrap();
        }
        if o.case.healthy {
            writeln!(
                healthy,
                "- {}: {:?} {:?}{}",
                o.id,
                o.worst,
                o.kinds,
                if o.worst > Severity::Low {
                    "  ← ABOVE LOW"
                } else {
                    ""
                }
            )
            .unwrap();
        } else {
            let unexpected: Vec<&String> = o
                .kinds
                .iter()
                .filter(|k| !o.case.expect_kinds.contains(k))
                .collect();
            if !unexpected.is_empty() {
                writeln!(extra, "- {}: {unexpected:?}", o.id).unwrap();
            }
        }
        if o.exit != Some(0) {
            writeln!(misses, "- {}: exit code {:?}", o.id, o.exit).unwrap();
        }
    }
    let mut out = String::new();
    writeln!(
        out,
        "field corpus: {} cases ({} healthy)",
        outcomes.len(),
        outcomes.iter().filter(|o| o.case.healthy).count()
    )
    .unwrap();
    table(&mut out, "kind", &per_kind);
    figures.per_kind = per_kind;
    envelope_table(&mut out, &per_envelope);
    table(&mut out, "payload", &per_payload);
    writeln!(
        out,
        "\noverall recall {}/{} = {:.1}%; full-ID attribution {}/{} = {:.1}%; \
         unparsed {}/{} lines = {:.2}%; untimed events {untimed}",
        figures.recall.found,
        figures.recall.expected,
        100.0 * figures.recall.rate(),
        figures.attribution.found,
        figures.attribution.expected,
        100.0 * figures.attribution.rate(),
        figures.unparsed,
        figures.lines,
        100.0 * figures.unparsed_rate()
    )
    .unwrap();
    let log_lines = figures.lines.saturating_sub(figures.prose);
    writeln!(
        out,
        "of which prose, commands and headings pasted with the logs {} lines; \
         unparsed log lines (unknown envelope) about {}/{} = {:.2}%",
        figures.prose,
        figures.unparsed_log,
        log_lines,
        if log_lines == 0 {
            0.0
        } else {
            100.0 * figures.unparsed_log as f64 / log_lines as f64
        }
    )
    .unwrap();
    writeln!(out, "\nmisses:\n{misses}").unwrap();
    writeln!(out, "kinds reported beyond the expected ones:\n{extra}").unwrap();
    writeln!(out, "failures no kind names yet (expect_unknown):\n{gaps}").unwrap();
    writeln!(out, "healthy cases (worst severity, kinds):\n{healthy}").unwrap();
    (out, figures)
}

/// `floors.toml` holding `figures`, rounded down (up for the unparsed
/// ceiling) so that the same run passes, and the healthy cases above low.
fn floors_text(f: &Figures, above_low: &[&str]) -> String {
    let down = |x: f64| (x * 10_000.0).floor() / 10_000.0;
    let up = |x: f64| (x * 10_000.0).ceil() / 10_000.0;
    let mut text = format!(
        "# Ratchet for tests/field.rs: measured figures may not fall below these\n\
         # (nor the unparsed rate rise above). Raise them when recall improves;\n\
         # see tests/field/README.md.\n\
         recall = {:.4}\nattribution = {:.4}\nunparsed_max = {:.4}\n\
         # Healthy cases above low today (precision bugs); the list may only shrink.\n\
         known_above_low = {:?}\n\n\
         # Expected occurrences found, per kind (counts do not fall when cases are added).\n\
         [found]\n",
        down(f.recall.rate()),
        down(f.attribution.rate()),
        up(f.unparsed_rate()),
        above_low
    );
    for (kind, t) in &f.per_kind {
        writeln!(text, "{kind} = {}", t.found).unwrap();
    }
    text
}

#[test]
fn every_case_is_well_formed() {
    let kinds = known_kinds();
    let dirs = case_dirs();
    let corpus = held_out().is_none();
    assert!(
        !corpus || dirs.len() >= MIN_CASES,
        "{} cases, at least {MIN_CASES} wanted",
        dirs.len()
    );
    let healthy = dirs.iter().filter(|d| load(d).healthy).count();
    assert!(
        !corpus || healthy >= 20,
        "{healthy} healthy cases, at least 20 wanted"
    );
    let date = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}$").unwrap();
    let id = regex::Regex::new(r"^[0-9a-f]{64}$").unwrap();
    for dir in &dirs {
        let name = dir.display();
        let case = load(dir);
        assert!(case.source.starts_with("https://"), "{name}: source URL");
        assert!(
            case.posted == "unknown" || date.is_match(&case.posted),
            "{name}: posted is a date or unknown"
        );
        assert!(date.is_match(&case.retrieved), "{name}: retrieved date");
        assert!(!case.envelope.is_empty(), "{name}: envelope");
        assert!(!case.note.is_empty(), "{name}: note");
        let files = inputs(dir);
        assert!(!files.is_empty(), "{name}: no input file");
        let mut text = String::new();
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            assert!(!bytes.is_empty(), "{}: empty input", f.display());
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
        if case.healthy {
            assert!(
                case.expect_kinds.is_empty() && case.expect_unknown.is_empty(),
                "{name}: a healthy case expects no failure"
            );
        } else {
            assert!(
                !case.expect_kinds.is_empty() || !case.expect_unknown.is_empty(),
                "{name}: a failure case names what it must give"
            );
        }
        for k in &case.expect_kinds {
            assert!(kinds.contains(k), "{name}: {k} is no podmortem kind");
        }
        for c in &case.expect_containers {
            assert!(id.is_match(c), "{name}: {c} is not a full container ID");
            assert!(
                text.contains(c.as_str()),
                "{name}: {c} is not spelled out in the input"
            );
        }
        for (component, version) in &case.component_versions {
            assert!(!component.is_empty() && !version.is_empty(), "{name}");
        }
    }
}

#[test]
fn field_recall() {
    let outcomes = run_all(&case_dirs());
    let (tables, figures) = measure(&outcomes);
    println!("{tables}");
    if std::env::var("PODMORTEM_FIELD_UNPARSED").as_deref() == Ok("1") {
        println!("unparsed lines that are not prose:");
        for dir in case_dirs() {
            for file in inputs(&dir) {
                for line in unparsed_log_lines(&file) {
                    println!("- {}: {line}", dir.file_name().unwrap().to_string_lossy());
                }
            }
        }
    }
    if held_out().is_some() {
        // A held-out batch is measured, never ratcheted.
        return;
    }
    let above_low: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.case.healthy && o.worst > Severity::Low)
        .map(|o| o.id.as_str())
        .collect();
    println!(
        "floors.toml for today's figures:\n{}",
        floors_text(&figures, &above_low)
    );
    let floors_path = field_dir().join("floors.toml");
    if std::env::var("PODMORTEM_FIELD_FLOORS").as_deref() == Ok("write") {
        std::fs::write(&floors_path, floors_text(&figures, &above_low)).unwrap();
    }
    let floors: Floors = toml::from_str(&std::fs::read_to_string(&floors_path).unwrap())
        .expect("tests/field/floors.toml parses");

    let new_above_low: Vec<&&str> = above_low
        .iter()
        .filter(|id| !floors.known_above_low.iter().any(|k| k == *id))
        .collect();
    assert!(
        new_above_low.is_empty(),
        "healthy cases above low: {new_above_low:?}"
    );
    let fixed: Vec<&String> = floors
        .known_above_low
        .iter()
        .filter(|k| !above_low.contains(&k.as_str()))
        .collect();
    assert!(
        fixed.is_empty(),
        "{fixed:?} no longer above low: remove them from known_above_low in floors.toml"
    );

    let fell: Vec<String> = floors
        .found
        .iter()
        .filter(|(kind, min)| figures.per_kind.get(*kind).map_or(0, |t| t.found) < **min)
        .map(|(kind, min)| format!("{kind} (floor {min})"))
        .collect();
    assert!(
        fell.is_empty(),
        "kinds found less often than before: {fell:?}"
    );

    let eps = 1e-9;
    assert!(
        figures.recall.rate() + eps >= floors.recall,
        "field recall fell to {:.4} below its floor {}",
        figures.recall.rate(),
        floors.recall
    );
    assert!(
        figures.attribution.rate() + eps >= floors.attribution,
        "full-ID attribution fell to {:.4} below its floor {}",
        figures.attribution.rate(),
        floors.attribution
    );
    assert!(
        figures.unparsed_rate() <= floors.unparsed_max + eps,
        "unparsed lines rose to {:.4} above the ceiling {}",
        figures.unparsed_rate(),
        floors.unparsed_max
    );
}

#[test]
fn prose_is_told_from_log_lines() {
    // Real lines of the corpus: records in known and unknown envelopes...
    for line in [
        "Apr 09 23:48:22 iot250 systemd[1]: docker.service: Unit entered failed state.",
        "[  129.338433][    C1] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [002-logging:310]",
        "4/28/2016 9:31:27 AME0428 16:31:27.398119   21191 kubelet.go:2741] Error updating node status, will retry",
        "> Feb 12 10:02:06 slspGPU16 kubelet[148526]: W0212 10:02:06.262549  148526 cni.go:171] Unable to update cni config",
        r#"{"log":"E1103 18:28:07.208359       1 authentication.go:65] Unable to authenticate the request\n","stream":"stderr"}"#,
    ] {
        assert!(!is_prose(line), "{line}");
    }
    // ...and what is pasted around them.
    for line in [
        "$ systemctl status docker.service",
        "I'm seeing a few errors related to CNI:",
        "**What you expected to happen**:  should be no issue",
    ] {
        assert!(is_prose(line), "{line}");
    }
    // Blank to podmortem: neither.
    for line in [
        "   ",
        "░░ Subject: Unit failed",
        "-- Boot 4a41196f645b4c3a9d244c666a8b291d --",
        "> ",
    ] {
        assert!(!is_prose(line), "{line}");
    }
}
