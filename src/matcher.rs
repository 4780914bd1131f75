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
        let (literals, by_literal) = prefilter_literals(&grammar);
        // Version and resolution patterns are read in the first pass, with
        // the detectors'.
        let feeds_detector: Vec<bool> = grammar
            .detectors_of_pattern()
            .iter()
            .zip(&grammar.patterns)
            .map(|(d, p)| !d.is_empty() || p.component.is_some() || p.resolves)
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

/// The distinct strings the prefilter looks for, each with the patterns it
/// stands for. A literal that holds another one inside it is left out and
/// its patterns go to the shorter one: every line with the longer holds the
/// shorter, so no candidate is lost, and the searcher stays small (Teddy,
/// the fast packed searcher, takes at most 64 literals).
fn prefilter_literals(grammar: &Grammar) -> (Vec<&str>, Vec<Vec<usize>>) {
    let mut all: Vec<&str> = grammar
        .patterns
        .iter()
        .flat_map(|p| p.literals.iter().map(String::as_str))
        .collect();
    all.sort_unstable();
    all.dedup();
    let kept: Vec<&str> = all
        .iter()
        .copied()
        .filter(|l| !all.iter().any(|s| s.len() < l.len() && l.contains(s)))
        .collect();
    let mut by_literal: Vec<Vec<usize>> = vec![Vec::new(); kept.len()];
    for (index, pattern) in grammar.patterns.iter().enumerate() {
        for literal in &pattern.literals {
            // The shortest kept literal inside it (itself, when kept).
            let at = (0..kept.len())
                .filter(|&k| literal.contains(kept[k]))
                .min_by_key(|&k| kept[k].len())
                .expect("every literal holds a kept one");
            if !by_literal[at].contains(&index) {
                by_literal[at].push(index);
            }
        }
    }
    (kept, by_literal)
}

/// Finds where any of a stage's literals starts: SIMD packed searchers
/// (Teddy) when the CPU allows it, else the automaton. One Teddy takes at
/// most 64 literals (and is fastest with up to 32, its "slim" form), so a
/// larger library is searched as groups of [`LITERALS_PER_SEARCHER`], their
/// starts merged in order: a few vectorized passes cost far less than the
/// automaton's byte-at-a-time walk.
#[derive(Debug)]
enum Finder {
    Packed(Vec<packed::Searcher>),
    Automaton(AhoCorasick),
}

/// The most literals one packed searcher gets.
const LITERALS_PER_SEARCHER: usize = 32;

impl Finder {
    fn new(literals: &[&str], automaton: impl FnOnce() -> AhoCorasick) -> Finder {
        let searchers: Option<Vec<packed::Searcher>> = literals
            .chunks(LITERALS_PER_SEARCHER)
            .map(|group| {
                packed::Config::new()
                    .match_kind(packed::MatchKind::LeftmostFirst)
                    .builder()
                    .extend(group)
                    .build()
            })
            .collect();
        match searchers {
            Some(s) if !literals.is_empty() => Finder::Packed(s),
            _ => Finder::Automaton(automaton()),
        }
    }

    fn starts<'h>(&'h self, haystack: &'h [u8]) -> Starts<'h> {
        match self {
            Finder::Packed(searchers) => Starts::Packed(
                searchers
                    .iter()
                    .map(|s| s.find_iter(haystack).peekable())
                    .collect(),
            ),
            Finder::Automaton(a) => Starts::Automaton(a.find_iter(haystack)),
        }
    }
}

/// The match starts of either finder, ascending.
pub enum Starts<'h> {
    /// One pass per packed searcher, merged by smallest next start.
    Packed(Vec<std::iter::Peekable<packed::FindIter<'h, 'h>>>),
    Automaton(aho_corasick::FindIter<'h, 'h>),
}

impl Iterator for Starts<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        match self {
            Starts::Packed(passes) => {
                let (start, pass) = passes
                    .iter_mut()
                    .enumerate()
                    .filter_map(|(i, pass)| Some((pass.peek()?.start(), i)))
                    .min()?;
                passes[pass].next();
                Some(start)
            }
            Starts::Automaton(it) => it.next().map(|m| m.start()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_of_many_literals_come_in_order_from_every_group() {
        // More literals than one packed searcher takes, so they are split.
        let words: Vec<String> = (0..70).map(|n| format!("needle{n:02}x")).collect();
        let literals: Vec<&str> = words.iter().map(String::as_str).collect();
        let finder = Finder::new(&literals, || AhoCorasick::new(&literals).unwrap());
        let haystack = "a needle69x b needle00x c needle35x d needle00x";
        let starts: Vec<usize> = finder.starts(haystack.as_bytes()).collect();
        let expected: Vec<usize> = ["needle69x", "needle00x", "needle35x"]
            .iter()
            .flat_map(|w| haystack.match_indices(w).map(|(i, _)| i))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(starts, expected);
    }
}
