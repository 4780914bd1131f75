//! Matching messages against the grammar's patterns, cheapest test first:
//! one Aho-Corasick pass over every pattern's required literal decides which
//! few regexes (if any) run on a line. Most lines stop at the prefilter.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::entity::Role;
use crate::grammar::Grammar;

/// The compiled matcher for a grammar.
#[derive(Debug)]
pub struct RuleSet {
    pub grammar: Grammar,
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
        let prefilter = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&literals)
            // Literals are plain strings of bounded number; building cannot
            // fail short of exceeding aho-corasick's size limits.
            .expect("grammar literals form a valid automaton");
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
            prefilter,
            by_literal,
            roles,
        }
    }

    /// Every pattern that matches `message`, in pattern order.
    ///
    /// Capture values that are not UTF-8 are dropped (IDs and names are ASCII).
    pub fn matches<'m>(&self, message: &'m [u8]) -> Vec<Match<'m>> {
        if !self.prefilter.is_match(message) {
            return Vec::new();
        }
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
