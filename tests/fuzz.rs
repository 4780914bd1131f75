//! Deterministic mutation fuzzing of the whole pipeline (issue 10, "Fuzzing
//! in the suite"): on stable Rust, in the ordinary test run.
//!
//! The seeds are every line of every log in `samples/` and every sample,
//! reject and context line of `grammars/*.toml`. A small seeded PRNG makes
//! each case from them: bit flips, splices of two seeds (across formats),
//! truncations, huge numbers and the years 0000/9999 in place of the
//! numbers and years the seed has, stray bytes, giant lines, and journal
//! export records whose binary fields announce absurd lengths. Cases are
//! read in batches (each case one input file), each batch analyzed by the
//! library on a pool of 1 and of 4 threads; the test asserts that nothing
//! panics (a panic inside one input is caught by podmortem and would show
//! as an "internal error" note: that fails too), that the JSON, SARIF and
//! JUnit outputs parse, and that both thread counts give the same report.
//! A failing case is written to `target/fuzz-failures/` to be replayed.
//!
//! `PODMORTEM_FUZZ_CASES` changes the number of cases (default
//! [`CASES`]); the seed of the PRNG is fixed, so a run is reproducible.

use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use podmortem::analyze::{self, Options};
use podmortem::grammar::Grammar;
use podmortem::input::{Source, INTERNAL_ERROR};
use podmortem::matcher::RuleSet;
use podmortem::report::{self, Report};
use podmortem::severity::Severity;
use podmortem::time::Overrides;

/// Cases per run of the suite.
const CASES: usize = 20_000;
/// Cases analyzed together, each as its own input file.
const BATCH: usize = 25;

/// xorshift64*: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every line of every sample log, and every line the grammars carry.
fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for scenario in std::fs::read_dir(root().join("samples")).unwrap() {
        let scenario = scenario.unwrap().path();
        if !scenario.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&scenario).unwrap() {
            let file = file.unwrap().path();
            if file
                .extension()
                .is_some_and(|e| e == "json" && !is_log(&file))
            {
                continue;
            }
            let bytes = std::fs::read(&file).unwrap();
            seeds.extend(bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec));
        }
    }
    for grammar in std::fs::read_dir(root().join("grammars")).unwrap() {
        let path = grammar.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let value: toml::Value = toml::from_str(&text).unwrap();
            collect_lines(&value, &mut seeds);
        }
    }
    seeds.retain(|s| !s.is_empty());
    seeds
}

/// `journal.json` in a sample is a log; `expected.json` is not.
fn is_log(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n != "expected.json")
}

/// Every string under a `line` key (samples, rejects, context lines).
fn collect_lines(value: &toml::Value, out: &mut Vec<Vec<u8>>) {
    match value {
        toml::Value::Table(table) => {
            for (key, v) in table {
                match v {
                    toml::Value::String(s) if key == "line" => out.push(s.as_bytes().to_vec()),
                    _ => collect_lines(v, out),
                }
            }
        }
        toml::Value::Array(items) => items.iter().for_each(|v| collect_lines(v, out)),
        _ => {}
    }
}

const HUGE: &[&str] = &[
    "9223372036854775807",
    "18446744073709551615",
    "99999999999999999999999999",
    "-9223372036854775808",
    "4294967296",
    "0",
    "00000000",
    "8210266876799999999",
];

/// The runs of ASCII digits in `s`, as ranges.
fn digit_runs(s: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i].is_ascii_digit() {
            let start = i;
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
            runs.push(start..i);
        } else {
            i += 1;
        }
    }
    runs
}

fn replace(s: &[u8], at: std::ops::Range<usize>, with: &[u8]) -> Vec<u8> {
    [&s[..at.start], with, &s[at.end..]].concat()
}

/// A journal export record whose binary `MESSAGE` announces `len` bytes
/// but carries `text` (journal-export(5): name, newline, little-endian
/// 64-bit length, data, newline).
fn export_record(len: u64, text: &[u8], realtime: &str) -> Vec<u8> {
    let mut r = format!(
        "__REALTIME_TIMESTAMP={realtime}\n_HOSTNAME=node-1\nSYSLOG_IDENTIFIER=kernel\n\
         _SOURCE_MONOTONIC_TIMESTAMP={realtime}\nMESSAGE\n"
    )
    .into_bytes();
    r.extend_from_slice(&len.to_le_bytes());
    r.extend_from_slice(text);
    r.extend_from_slice(b"\n\n");
    r
}

/// One mutated line (or record) from the seeds.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let seed = rng.pick(seeds).clone();
    match rng.below(10) {
        0 => seed,
        1 => {
            let mut s = seed;
            for _ in 0..=rng.below(4) {
                let at = rng.below(s.len());
                s[at] ^= 1 << rng.below(8);
            }
            s
        }
        2 => {
            // Splice: the start of one seed, the end of another.
            let other = rng.pick(seeds);
            let cut_a = rng.below(seed.len() + 1);
            let cut_b = rng.below(other.len() + 1);
            [&seed[..cut_a], &other[cut_b..]].concat()
        }
        3 => seed[..rng.below(seed.len() + 1)].to_vec(),
        4 => {
            // A huge number in place of each of some digit runs.
            let mut s = seed;
            for _ in 0..=rng.below(3) {
                let runs = digit_runs(&s);
                if runs.is_empty() {
                    break;
                }
                let run = rng.pick(&runs).clone();
                s = replace(&s, run, rng.pick(HUGE).as_bytes());
            }
            s
        }
        5 => {
            // Years 0000 or 9999 in every time field.
            let year: &[u8] = if rng.below(2) == 0 { b"0000" } else { b"9999" };
            let mut s = seed;
            for run in digit_runs(&s.clone()).into_iter().rev() {
                let digits = &s[run.clone()];
                if digits.len() == 4 && (digits.starts_with(b"19") || digits.starts_with(b"20")) {
                    s = replace(&s, run, year);
                } else if digits.len() >= 8 && rng.below(2) == 0 {
                    s = replace(&s, run.start..run.start + 4, year);
                }
            }
            s
        }
        6 => {
            let len = *rng.pick(&[u64::MAX, 1 << 63, 1 << 40, seed.len() as u64 + 1, 0]);
            let realtime = *rng.pick(&["1682910303000000", "9223372036854775807", "0"]);
            export_record(len, &seed, realtime)
        }
        7 => {
            let mut s = seed;
            let at = rng.below(s.len() + 1);
            let stray = *rng.pick(&[
                &b"\0"[..],
                b"\r",
                b"\xff\xfe",
                b"\"",
                b"\\",
                b"{",
                b"\n\n",
                b"\x1e",
            ]);
            s.splice(at..at, stray.iter().copied());
            s
        }
        8 => {
            // A line longer than a line may be (64 KiB).
            let mut s = seed.clone();
            while s.len() < 70 * 1024 {
                s.extend_from_slice(&seed);
                s.push(b' ');
            }
            s
        }
        _ => {
            let mut s = seed;
            let cut = rng.below(s.len() + 1);
            s.truncate(cut);
            let other: &Vec<u8> = rng.pick(seeds);
            s.extend_from_slice(other);
            s
        }
    }
}

/// One case: a few mutated lines, as one input's bytes.
fn case(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = Vec::new();
    for _ in 0..=rng.below(6) {
        input.extend_from_slice(&mutate(rng, seeds));
        if rng.below(8) != 0 {
            input.push(b'\n');
        }
    }
    input
}

fn options(files: &[PathBuf]) -> Options {
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
    Options {
        sources: files.iter().map(|f| Source::Path(f.clone())).collect(),
        overrides: Overrides::default(),
        local_zone: podmortem::time::Zone::Fixed(*now.offset()),
        now,
        merge_window_s: 30 * 60,
        since: None,
        until: None,
        keep_events: false,
    }
}

/// The JSON report without the run's timings, to compare runs.
fn comparable(report: &Report) -> serde_json::Value {
    let mut json = serde_json::to_value(report).unwrap();
    let stats = json["stats"].as_object_mut().unwrap();
    stats.remove("elapsed_ms");
    stats.remove("mb_per_s");
    json
}

/// Checks one report; returns what is wrong with it.
fn check(report: &Report, rules: &RuleSet) -> Result<(), String> {
    let notes = report.errors.iter().chain(&report.skipped);
    if let Some(note) = notes
        .into_iter()
        .find(|n| n.message.starts_with(INTERNAL_ERROR))
    {
        return Err(format!(
            "a panic was caught: {}: {}",
            note.path, note.message
        ));
    }
    let mut json = Vec::new();
    report::json::print(report, &mut json).map_err(|e| e.to_string())?;
    serde_json::from_slice::<serde_json::Value>(&json).map_err(|e| format!("JSON: {e}"))?;
    let mut sarif = Vec::new();
    report::sarif::print(report, &rules.grammar, &mut sarif).map_err(|e| e.to_string())?;
    let sarif: serde_json::Value =
        serde_json::from_slice(&sarif).map_err(|e| format!("SARIF is no JSON: {e}"))?;
    if sarif["version"] != "2.1.0" || !sarif["runs"].is_array() {
        return Err("SARIF without version 2.1.0 and runs".into());
    }
    let mut junit = Vec::new();
    report::junit::print(report, &rules.grammar, Severity::High, &mut junit)
        .map_err(|e| e.to_string())?;
    let mut xml = quick_xml::Reader::from_reader(junit.as_slice());
    let mut buf = Vec::new();
    let mut depth = 0i32;
    loop {
        match xml.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("JUnit is no XML: {e}")),
        }
        buf.clear();
    }
    if depth != 0 {
        return Err("JUnit XML elements do not balance".into());
    }
    Ok(())
}

/// Analyzes `files` on `pool`, catching a panic.
fn run_on(pool: &rayon::ThreadPool, rules: &RuleSet, files: &[PathBuf]) -> Result<Report, String> {
    let options = options(files);
    pool.install(|| catch_unwind(AssertUnwindSafe(|| analyze::run(rules, &options))))
        .map_err(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned());
            format!("the run panicked: {}", message.unwrap_or_default())
        })
}

/// Keeps a failing batch for replay and says where it is.
fn keep(files: &[PathBuf], batch: usize) -> String {
    let dir = root()
        .join("target/fuzz-failures")
        .join(format!("batch-{batch}"));
    std::fs::create_dir_all(&dir).unwrap();
    for f in files {
        std::fs::copy(f, dir.join(f.file_name().unwrap())).unwrap();
    }
    dir.display().to_string()
}

#[test]
fn mutated_inputs_never_panic_and_give_valid_identical_reports() {
    let cases: usize = std::env::var("PODMORTEM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES);
    let seeds = seeds();
    assert!(seeds.len() > 500, "{} seeds", seeds.len());
    let rules = RuleSet::new(Grammar::builtin().unwrap());
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let four = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = std::time::Instant::now();
    let mut done = 0;
    let mut batch = 0;
    let mut events = 0;
    while done < cases {
        let n = BATCH.min(cases - done);
        let files: Vec<PathBuf> = (0..n)
            .map(|i| {
                let path = dir.path().join(format!("case-{i}.log"));
                let mut f = std::fs::File::create(&path).unwrap();
                f.write_all(&case(&mut rng, &seeds)).unwrap();
                path
            })
            .collect();
        let fail = |why: String| -> ! {
            panic!(
                "batch {batch}: {why} (cases kept in {})",
                keep(&files, batch)
            )
        };
        let single = run_on(&one, &rules, &files).unwrap_or_else(|e| fail(e));
        let multi = run_on(&four, &rules, &files).unwrap_or_else(|e| fail(e));
        check(&single, &rules).unwrap_or_else(|e| fail(e));
        if comparable(&single) != comparable(&multi) {
            fail("1 and 4 threads give different reports".into());
        }
        events += single.stats.events;
        done += n;
        batch += 1;
    }
    eprintln!(
        "fuzz: {done} cases in {batch} batches, {events} events, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The cases reach the detectors, not only the framing.
    assert!(events > cases / 10, "{events} events in {cases} cases");
}

/// Random bytes drawn mostly from what log lines are made of.
fn noise(rng: &mut Rng) -> Vec<u8> {
    const LOGGY: &[u8] = b"0123456789 :-.T+Z[]{}\"=\\/\nJanMayDecIEWkubeletmsgtime=level_";
    let len = rng.below(160);
    (0..len)
        .map(|_| match rng.below(10) {
            0 => rng.next() as u8,
            _ => *rng.pick(LOGGY),
        })
        .collect()
}

/// Every parser in `src/format/`, on any bytes: none panics. (Property
/// tests: mutated seeds and random bytes, 20,000 inputs, each given to
/// every envelope and payload parser and to the export entry reader.)
#[test]
fn every_parser_takes_any_bytes() {
    use podmortem::format::{self as f, InputFormat};
    use std::hint::black_box;
    type Parser = (&'static str, fn(&[u8]));
    let parsers: &[Parser] = &[
        ("cni", |b| {
            black_box(f::cni::parse(b));
        }),
        ("cri", |b| {
            black_box(f::cri::parse(b));
        }),
        ("dmesg", |b| {
            black_box(f::dmesg::parse(b));
        }),
        ("dmesg payload", |b| {
            black_box(f::dmesg::payload(b));
        }),
        ("iso", |b| {
            black_box(f::iso::parse(b));
        }),
        ("journal export", |b| {
            black_box(f::journal_export::looks_like(b));
            f::journal_export::entries(b).for_each(|e| {
                black_box(e);
            });
        }),
        ("journal full", |b| {
            black_box(f::journal_full::parse(b));
        }),
        ("journal json", |b| {
            black_box(f::journal_json::parse(b));
        }),
        ("klog", |b| {
            black_box(f::klog::parse(b));
        }),
        ("logrus", |b| {
            black_box(f::logrus::parse(b));
        }),
        ("logrus json", |b| {
            black_box(f::logrus_json::parse(b));
        }),
        ("logrus json payload", |b| {
            black_box(f::logrus_json::payload(b));
        }),
        ("logrus tty", |b| {
            black_box(f::logrus_tty::parse(b));
        }),
        ("logrus tty payload", |b| {
            black_box(f::logrus_tty::payload(b));
        }),
        ("rfc5424", |b| {
            black_box(f::rfc5424::parse(b));
        }),
        ("syslog", |b| {
            black_box(f::syslog::parse(b));
        }),
        ("payload", |b| {
            black_box(f::parse_payload(b));
        }),
        ("detect", |b| {
            let format: InputFormat = f::detect(b);
            black_box(format.frame(b));
        }),
    ];
    let seeds = seeds();
    let mut rng = Rng(0x005e_ed0f_0a11_b17e);
    for i in 0..20_000 {
        let input = if i % 2 == 0 {
            mutate(&mut rng, &seeds)
        } else {
            noise(&mut rng)
        };
        for (name, parse) in parsers {
            let parsed = catch_unwind(AssertUnwindSafe(|| parse(&input)));
            assert!(
                parsed.is_ok(),
                "{name} panicked on {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}
