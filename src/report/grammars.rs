//! `podmortem grammars list` and `grammars check`: the library as a table,
//! and the verdict on a user's grammar directory.

use std::collections::BTreeSet;
use std::io::{self, Write};

use crate::grammar::check::SampleFailure;
use crate::grammar::{Detector, Grammar};

/// One line per finding kind, sorted by kind.
pub fn print_list(grammar: &Grammar, out: &mut dyn Write) -> io::Result<()> {
    let mut detectors: Vec<&Detector> = grammar.detectors.iter().collect();
    detectors.sort_by(|a, b| a.kind.cmp(&b.kind));
    let width = detectors.iter().map(|d| d.kind.len()).max().unwrap_or(0);
    writeln!(
        out,
        "{:width$}  {:40}  {:22}  {:8}  title",
        "kind", "severity", "sources", "patterns"
    )?;
    for d in detectors {
        let sources: BTreeSet<&str> = d
            .patterns
            .iter()
            .map(|&p| grammar.patterns[p].source.as_str())
            .collect();
        writeln!(
            out,
            "{:width$}  {:40}  {:22}  {:8}  {}",
            d.kind,
            levels(d),
            sources.into_iter().collect::<Vec<_>>().join(","),
            d.patterns.len(),
            d.title
        )?;
    }
    let links = grammar.patterns.len()
        - grammar
            .detectors_of_pattern()
            .iter()
            .filter(|d| !d.is_empty())
            .count();
    writeln!(
        out,
        "{} patterns, {} of them only link entities",
        grammar.patterns.len(),
        links
    )
}

/// `low ×1, high ×3 in 10m`: the levels a detector grades by.
fn levels(d: &Detector) -> String {
    let window = match d.window_s {
        s if s % 86400 == 0 => format!("{}d", s / 86400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    };
    let levels: Vec<String> = d
        .levels
        .iter()
        .map(|l| format!("{} ×{}", l.severity, l.min_count))
        .collect();
    format!("{} per {} in {window}", levels.join(", "), d.per_text())
}

/// The failures with their file:line, or a one-line all-clear.
pub fn print_check(
    grammar: &Grammar,
    failures: &[SampleFailure],
    out: &mut dyn Write,
) -> io::Result<()> {
    for f in failures {
        writeln!(out, "{f}")?;
    }
    let samples: usize = grammar
        .patterns
        .iter()
        .map(|p| p.samples.len() + p.rejects.len())
        .sum();
    let sequences: usize = grammar.detectors.iter().map(|d| d.sequences.len()).sum();
    let verdict = if failures.is_empty() { "ok" } else { "FAILED" };
    writeln!(
        out,
        "{verdict}: {} patterns, {} detectors, {samples} sample and reject lines and {sequences} sequences checked, {} failures",
        grammar.patterns.len(),
        grammar.detectors.len(),
        failures.len()
    )
}
