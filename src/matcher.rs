//! Matching messages against the grammar's patterns, cheapest test first.
//!
//! Automata over the patterns' required literals: [`RuleSet::candidates`]
//! runs a leftmost-first one over a whole buffer at once (the SIMD "packed"
//! searcher of aho-corasick, as ripgrep does), so the few lines that contain
//! any literal are found without looking at the others; then, on those lines
//! only, [`RuleSet::matches`] finds every literal present (overlapping) and
//! runs just the regexes that require them.
//!
//! Patterns are split by [`Stage`]: those that feed detectors are looked for
//! first; those that only link entities (a CNI line naming a sandbox and its
//! workload) are frequent in healthy logs and, for files, looked for in a
//! second pass on the lines that mention an entity a finding named.

use aho_corasick::{packed, AhoCorasick, MatchKind};

use crate::entity::Role;
use crate::grammar::Grammar;

/// Which patterns a pass over the input looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Patterns some detector uses.
    Findings,
    /// Patterns no detector uses: they only join entities.
    Links,
    /// Both, for input that cannot be read twice (stdin).
    All,
}

impl Stage {
    fn includes(self, feeds_detector: bool) -> bool {
        match self {
            Stage::Findings => feeds_detector,
            Stage::Links => !feeds_detector,
            Stage::All => true,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The compiled matcher for a grammar.
#[derive(Debug)]
pub struct RuleSet {
    pub grammar: Grammar,
    /// Per stage, finds lines that contain any literal of the stage's
    /// patterns; fast, but may hide a literal that overlaps another.
    finders: [Finder; 3],
    /// Finds every literal in a candidate line.
    prefilter: AhoCorasick,
    /// For each distinct literal, the patterns that require it.
    by_literal: Vec<Vec<usize>>,
    /// For each pattern, its capture groups that name entities.
    roles: Vec<Vec<(usize, Role)>>,
    /// For each pattern, whether a detector uses it.
    feeds_detector: Vec<bool>,
}

/// One pattern matched one message; capture values borrow from it.
#[derive(Debug)]
pub struct Match<'m> {
    pub pattern: usize,
    pub entities: Vec<(Role, &'m str)>,
    /// The `version` capture of a version pattern.
    pub version: Option<&'m str>,
}

impl RuleSet {
    pub fn new(grammar: Grammar) -> RuleSet {
        let mut literals: Vec<&str> = Vec::new();
        let mut by_literal: Vec<Vec<usize>> = Vec::new();
        for (index, pattern) in grammar.patterns.iter().enumerate() {
            for literal in &pattern.literals {
                match literals.iter().position(|l| l == literal) {
                    Some(at) => by_literal[at].push(index),
                    None => {
                        literals.push(literal);
                        by_literal.push(vec![index]);
                    }
                }
            }
        }
        // Version patterns are read in the first pass, with the detectors'.
        let feeds_detector: Vec<bool> = grammar
            .detectors_of_pattern()
            .iter()
            .zip(&grammar.patterns)
            .map(|(d, p)| !d.is_empty() || p.component.is_some())
            .collect();
        // Literals are plain strings of bounded number; building cannot fail
        // short of exceeding aho-corasick's size limits.
        let build = |kind, literals: &[&str]| {
            AhoCorasick::builder()
                .match_kind(kind)
                .build(literals)
                .expect("grammar literals form a valid automaton")
        };
        let finders = [Stage::Findings, Stage::Links, Stage::All].map(|stage| {
            let of_stage: Vec<&str> = literals
                .iter()
                .zip(&by_literal)
                .filter(|(_, patterns)| patterns.iter().any(|&p| stage.includes(feeds_detector[p])))
                .map(|(l, _)| *l)
                .collect();
            Finder::new(&of_stage, || build(MatchKind::LeftmostFirst, &of_stage))
        });
        let prefilter = build(MatchKind::Standard, &literals);
        let roles: Vec<Vec<(usize, Role)>> = grammar
            .patterns
            .iter()
            .map(|p| {
                p.regex
                    .capture_names()
                    .enumerate()
                    .filter_map(|(i, name)| Some((i, Role::from_name(name?)?)))
                    .collect()
            })
            .collect();
        RuleSet {
            grammar,
            finders,
            prefilter,
            by_literal,
            roles,
            feeds_detector,
        }
    }

    /// Whether a detector uses `pattern` or it states a version (else it
    /// only links entities).
    pub fn feeds_detector(&self, pattern: usize) -> bool {
        self.feeds_detector[pattern]
    }

    /// Start offsets in `haystack` where a literal of `stage` occurs,
    /// ascending; at least one on every line that contains such a literal.
    pub fn candidates<'h>(
        &'h self,
        stage: Stage,
        haystack: &'h [u8],
    ) -> impl Iterator<Item = usize> + 'h {
        self.finders[stage.index()].starts(haystack)
    }

    /// Every pattern of `stage` that matches `message`, in pattern order.
    ///
    /// Capture values that are not UTF-8 are dropped (IDs and names are ASCII).
    pub fn matches<'m>(&self, stage: Stage, message: &'m [u8]) -> Vec<Match<'m>> {
        let mut tried: Vec<usize> = Vec::new();
        for hit in self.prefilter.find_overlapping_iter(message) {
            let patterns = &self.by_literal[hit.pattern().as_usize()];
            tried.extend(
                patterns
                    .iter()
                    .filter(|&&p| stage.includes(self.feeds_detector[p])),
            );
        }
        if tried.is_empty() {
            return Vec::new();
        }
        tried.sort_unstable();
        tried.dedup();
        tried
            .into_iter()
            .filter_map(|p| {
                let caps = self.grammar.patterns[p].regex.captures(message)?;
                let entities = self.roles[p]
                    .iter()
                    .filter_map(|&(group, role)| {
                        let text = std::str::from_utf8(caps.get(group)?.as_bytes()).ok()?;
                        Some((role, text))
                    })
                    .collect();
                let version = caps
                    .name("version")
                    .and_then(|v| std::str::from_utf8(v.as_bytes()).ok());
                Some(Match {
                    pattern: p,
                    entities,
                    version,
                })
            })
            .collect()
    }
}

/// Finds where any of a stage's literals starts: the SIMD packed searcher
/// (Teddy) when the CPU and the number of literals allow it — the automaton
/// would otherwise pick a rare-byte prefilter, much slower on logs where
/// those bytes are common — else the automaton.
#[derive(Debug)]
enum Finder {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Finder {
    fn new(literals: &[&str], automaton: impl FnOnce() -> AhoCorasick) -> Finder {
        let searcher = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(literals)
            .build();
        match searcher {
            Some(s) if !literals.is_empty() => Finder::Packed(s),
            _ => Finder::Automaton(automaton()),
        }
    }

    fn starts<'h>(&'h self, haystack: &'h [u8]) -> Starts<'h> {
        match self {
            Finder::Packed(s) => Starts::Packed(s.find_iter(haystack)),
            Finder::Automaton(a) => Starts::Automaton(a.find_iter(haystack)),
        }
    }
}

/// The match starts of either finder.
pub enum Starts<'h> {
    Packed(packed::FindIter<'h, 'h>),
    Automaton(aho_corasick::FindIter<'h, 'h>),
}

impl Iterator for Starts<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        match self {
            Starts::Packed(it) => it.next().map(|m| m.start()),
            Starts::Automaton(it) => it.next().map(|m| m.start()),
        }
    }
}
