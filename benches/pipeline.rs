//! Criterion benches: each stage on its own and the whole pipeline, on a
//! generated node corpus (the `gen_corpus` example's generator), reported in
//! bytes per second. Every bench first checks that the work it times is the
//! real work: the stage finds what the corpus planted.
//!
//! `cargo bench --bench pipeline` (set `PODMORTEM_BENCH_MB` to change the
//! corpus size, 64 MiB by default).

use std::io::Write;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use podmortem::analyze::{self, Options};
use podmortem::format::{self, parse_payload};
use podmortem::grammar::Grammar;
use podmortem::input::Source;
use podmortem::matcher::{RuleSet, Stage};
use podmortem::scan::{scan, Framing};
use podmortem::time::Overrides;

#[path = "../examples/gen_corpus/corpus.rs"]
mod corpus;

struct Fixture {
    bytes: Vec<u8>,
    summary: corpus::Summary,
    rules: RuleSet,
}

fn fixture() -> Fixture {
    let mb: u64 = std::env::var("PODMORTEM_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut bytes = Vec::new();
    let summary =
        corpus::generate(&corpus::Config::new(mb << 20), &mut bytes).expect("corpus generates");
    let rules = RuleSet::new(Grammar::builtin().expect("built-in grammars load"));
    Fixture {
        bytes,
        summary,
        rules,
    }
}

fn stages(c: &mut Criterion) {
    let f = fixture();
    let lines: Vec<&[u8]> = f
        .bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();

    let mut group = c.benchmark_group("stage");
    group.throughput(Throughput::Bytes(f.bytes.len() as u64));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));

    let framed = lines
        .iter()
        .filter(|l| format::syslog::parse(l).is_some())
        .count();
    assert_eq!(
        framed,
        lines.len(),
        "every generated line has a syslog header"
    );
    group.bench_function("syslog_envelope", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter(|l| format::syslog::parse(l).is_some())
                .count()
        })
    });

    // The prefilter names exactly the lines a naive `contains` finds.
    let literals: Vec<&[u8]> = f
        .rules
        .grammar
        .patterns
        .iter()
        .enumerate()
        .filter(|(p, _)| f.rules.feeds_detector(*p))
        .flat_map(|(_, p)| p.literals.iter().map(|l| l.as_bytes()))
        .collect();
    let naive = lines
        .iter()
        .filter(|l| {
            literals
                .iter()
                .any(|lit| memchr::memmem::find(l, lit).is_some())
        })
        .count();
    let candidates = f.rules.candidates(Stage::Findings, &f.bytes).count();
    assert_eq!(candidates, naive, "candidate lines against a naive search");
    assert!(
        candidates >= f.summary.planted_lines,
        "{candidates} candidates"
    );
    group.bench_function("prefilter", |b| {
        b.iter(|| f.rules.candidates(Stage::Findings, &f.bytes).count())
    });

    let messages: Vec<std::borrow::Cow<[u8]>> = lines
        .iter()
        .filter_map(|l| format::syslog::parse(l))
        .map(|e| e.message)
        .collect();
    let stamped = messages
        .iter()
        .filter(|m| parse_payload(m).stamp.is_some())
        .count();
    assert!(
        stamped * 2 > messages.len(),
        "most messages carry a payload time"
    );
    group.bench_function("payload_headers", |b| {
        b.iter(|| {
            messages
                .iter()
                .filter(|m| parse_payload(m).stamp.is_some())
                .count()
        })
    });

    let syslog_format = Framing::detect(&f.bytes[..64 * 1024]);
    assert_eq!(syslog_format.name(), "syslog");
    let out = scan(&f.bytes, syslog_format, &f.rules, Stage::Findings);
    assert_eq!(out.lines as usize, lines.len());
    assert!(
        out.events().count() >= f.summary.planted_lines - f.summary.incidents.len(),
        "{} events",
        out.events().count()
    );
    group.bench_function("scan", |b| {
        b.iter(|| {
            scan(&f.bytes, syslog_format, &f.rules, Stage::Findings)
                .events()
                .count()
        })
    });
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    let f = fixture();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&f.bytes).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
    let options = Options {
        sources: vec![Source::Path(file.path().to_path_buf())],
        overrides: Overrides::default(),
        local_offset: *now.offset(),
        now,
        merge_window_s: 1800,
        since: None,
        until: None,
        keep_events: false,
    };
    let report = analyze::run(&f.rules, &options);
    let critical = report
        .incidents
        .iter()
        .filter(|i| i.severity == podmortem::severity::Severity::Critical)
        .count();
    assert_eq!(
        critical,
        f.summary.incidents.len(),
        "every planted incident is found, and nothing else is critical"
    );

    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Bytes(f.bytes.len() as u64));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("analyze_file", |b| {
        b.iter(|| analyze::run(&f.rules, &options).incidents.len())
    });
    group.finish();
}

criterion_group!(benches, stages, pipeline);
criterion_main!(benches);
