//! The literal prefilter against a naive reference: on the generated
//! corpus and on every grammar sample, reject and context line,
//! [`RuleSet::candidates`] must name exactly the lines where some literal of
//! the stage's patterns is found by `contains`, once each, in order.

use podmortem::grammar::Grammar;
use podmortem::matcher::{RuleSet, Stage};

#[path = "../examples/gen_corpus/corpus.rs"]
#[allow(dead_code)]
mod corpus;

const STAGES: [Stage; 3] = [Stage::Findings, Stage::Links, Stage::All];

/// Every literal of the patterns a stage looks for, as the grammar gives
/// them (before the matcher folds or covers anything).
fn literals(rules: &RuleSet, stage: Stage) -> Vec<&str> {
    rules
        .grammar
        .patterns
        .iter()
        .enumerate()
        .filter(|(p, _)| match stage {
            Stage::Findings => rules.feeds_detector(*p),
            Stage::Links => !rules.feeds_detector(*p),
            Stage::All => true,
        })
        .flat_map(|(_, p)| p.literals.iter().map(String::as_str))
        .collect()
}

/// Checks the prefilter on `haystack` for every stage; returns the
/// candidate lines of [`Stage::All`].
fn check(rules: &RuleSet, haystack: &[u8]) -> usize {
    let mut starts = vec![0];
    starts.extend(memchr::memchr_iter(b'\n', haystack).map(|i| i + 1));
    let lines: Vec<&[u8]> = starts
        .iter()
        .map(|&s| {
            let end = memchr::memchr(b'\n', &haystack[s..]).map_or(haystack.len(), |i| s + i);
            &haystack[s..end]
        })
        .collect();
    let mut all = 0;
    for stage in STAGES {
        let literals = literals(rules, stage);
        let expected: Vec<usize> = (0..lines.len())
            .filter(|&i| {
                literals
                    .iter()
                    .any(|l| memchr::memmem::find(lines[i], l.as_bytes()).is_some())
            })
            .collect();
        let found: Vec<usize> = rules
            .candidates(stage, haystack)
            .map(|offset| starts.partition_point(|&s| s <= offset) - 1)
            .collect();
        assert_eq!(
            found.len(),
            expected.len(),
            "{stage:?}: {} candidate lines, the reference finds {}",
            found.len(),
            expected.len()
        );
        for (f, e) in found.iter().zip(&expected) {
            assert_eq!(
                f,
                e,
                "{stage:?}: line {f} named, the reference's next is line {e}: {}",
                String::from_utf8_lossy(lines[*e])
            );
        }
        if stage == Stage::All {
            all = found.len();
        }
    }
    all
}

fn rules() -> RuleSet {
    RuleSet::new(Grammar::builtin().expect("built-in grammars load"))
}

#[test]
fn candidates_on_the_generated_corpus_are_the_naive_ones() {
    let rules = rules();
    let mut bytes = Vec::new();
    let summary = corpus::generate(&corpus::Config::new(8 << 20), &mut bytes).expect("generates");
    let found = check(&rules, &bytes);
    assert!(found >= summary.planted_lines, "{found} candidate lines");
}

#[test]
fn candidates_on_every_grammar_line_are_the_naive_ones() {
    let rules = rules();
    let mut text = String::new();
    for p in &rules.grammar.patterns {
        let lines = p
            .samples
            .iter()
            .map(|s| s.line.as_str())
            .chain(p.rejects.iter().map(String::as_str))
            .chain(p.context_samples.iter().map(String::as_str));
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
    }
    let found = check(&rules, text.as_bytes());
    let samples: usize = rules.grammar.patterns.iter().map(|p| p.samples.len()).sum();
    assert!(
        found >= samples,
        "{found} candidate lines, {samples} samples"
    );
    // Each line alone, as the journal's records are searched.
    for line in text.lines() {
        check(&rules, line.as_bytes());
    }
}
