//! Matching messages against the grammar's patterns, cheapest test first.
//!
//! Two automata over the patterns' required literals: [`RuleSet::candidates`]
//! runs a leftmost-first one over a whole buffer at once (the SIMD "packed"
//! searcher of aho-corasick, as ripgrep does), so the few lines that contain
//! any literal are found without looking at the others; then, on those lines
//! only, [`RuleSet::matches`] finds every literal present (overlapping) and
//! runs just the regexes that require them.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::entity::Role;
use crate::grammar::Grammar;

/// The compiled matcher for a grammar.
#[derive(Debug)]
pub struct RuleSet {
    pub grammar: Grammar,
    /// Finds lines that contain any literal; fast, but may hide a literal
    /// that overlaps another.
    finder: AhoCorasick,
    /// Finds every literal in a candidate line.
    prefilter: AhoCorasick,
    /// For each distinct literal, the patterns that require it.
    by_literal: Vec<Vec<usize>>,
    /// For each pattern, its capture groups that name entities.
    roles: Vec<Vec<(usize, Role)>>,
}

/// One pattern matched one message; capture values borrow from it.
#[derive(Debug)]
pub struct Match<'m> {
    pub pattern: usize,
    pub entities: Vec<(Role, &'m str)>,
}

impl RuleSet {
    pub fn new(grammar: Grammar) -> RuleSet {
        let mut literals: Vec<&str> = Vec::new();
        let mut by_literal: Vec<Vec<usize>> = Vec::new();
        for (index, pattern) in grammar.patterns.iter().enumerate() {
            match literals.iter().position(|l| *l == pattern.literal) {
                Some(at) => by_literal[at].push(index),
                None => {
                    literals.push(&pattern.literal);
                    by_literal.push(vec![index]);
                }
            }
        }
        // Literals are plain strings of bounded number; building cannot fail
        // short of exceeding aho-corasick's size limits.
        let build = |kind| {
            AhoCorasick::builder()
                .match_kind(kind)
                .build(&literals)
                .expect("grammar literals form a valid automaton")
        };
        let finder = build(MatchKind::LeftmostFirst);
        let prefilter = build(MatchKind::Standard);
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
            finder,
            prefilter,
            by_literal,
            roles,
        }
    }

    /// Start offsets in `haystack` where some literal occurs, ascending; at
    /// least one on every line that contains a literal.
    pub fn candidates<'h>(&'h self, haystack: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
        self.finder.find_iter(haystack).map(|m| m.start())
    }

    /// Every pattern that matches `message`, in pattern order.
    ///
    /// Capture values that are not UTF-8 are dropped (IDs and names are ASCII).
    pub fn matches<'m>(&self, message: &'m [u8]) -> Vec<Match<'m>> {
        let mut tried: Vec<usize> = Vec::new();
        for hit in self.prefilter.find_overlapping_iter(message) {
            tried.extend_from_slice(&self.by_literal[hit.pattern().as_usize()]);
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
                Some(Match {
                    pattern: p,
                    entities,
                })
            })
            .collect()
    }
}
