//! Matching messages against the grammar's patterns, cheapest test first.
//!
//! Automata over the patterns' required literals: [`RuleSet::candidates`]
//! searches a whole buffer at once (the SIMD "packed" searcher of
//! aho-corasick, as ripgrep does) and names each line that contains a
//! literal once, jumping to the next line after a hit, so the few candidate
//! lines are found without looking at the others; then, on those lines
//! only, [`RuleSet::matches`] finds every literal present (overlapping) and
//! runs just the regexes that require them. `tests/prefilter.rs` checks the
//! candidates against a naive `contains` over every literal.
//!
//! Patterns are split by [`Stage`]: those that feed detectors are looked for
//! first; those that only link entities (a CNI line naming a sandbox and its
//! workload) are frequent in healthy logs and, for files, looked for in a
//! second pass on the lines that mention an entity a finding named.

use aho_corasick::{packed, AhoCorasick, AhoCorasickKind, Input, MatchKind, Span};

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
    /// Per stage, finds the lines that contain a literal of the stage's
    /// patterns.
    finders: [Finder; 3],
    /// Finds every literal in a candidate line.
    prefilter: AhoCorasick,
    /// For each distinct literal, the patterns that require it.
    by_literal: Vec<Vec<usize>>,
    /// For each pattern, its capture groups that name entities.
    roles: Vec<Vec<(usize, Role)>>,
    /// For each pattern, whether a detector uses it.
    feeds_detector: Vec<bool>,
    /// Per pattern, [`RuleSet::precedes`].
    precedes: Vec<Vec<usize>>,
    /// Per pattern, [`RuleSet::routine_rule`].
    routine_rule: Vec<Option<usize>>,
}

/// One pattern matched one message; capture values borrow from it.
#[derive(Debug)]
pub struct Match<'m> {
    pub pattern: usize,
    pub entities: Vec<(Role, &'m str)>,
    /// The `version` capture of a version pattern.
    pub version: Option<&'m str>,
    /// The `count` capture: how many occurrences the line stands for (a
    /// Kubernetes event's folded repeats, `(x12)`).
    pub count: Option<u64>,
}

impl RuleSet {
    pub fn new(grammar: Grammar) -> RuleSet {
        let (literals, by_literal) = prefilter_literals(&grammar);
        // Version and resolution patterns are read in the first pass, with
        // the detectors'; so are those that state a node condition (their
        // events feed the condition timeline, report::conditions). Lifecycle
        // lines are routine (a kubelet writes one per container that ends):
        // like links, a later pass reads them, and only when node state
        // needs them (state/life.rs).
        // So are the lines that make a detector's lines routine
        // (`routine_after`): kept as marks, they are what the detector's
        // lines are judged by.
        let detectors = grammar.detectors_of_pattern();
        let precedes = grammar.routines_of_pattern();
        let feeds_detector: Vec<bool> = detectors
            .iter()
            .zip(&precedes)
            .zip(&grammar.patterns)
            .map(|((d, r), p)| {
                !d.is_empty()
                    || !r.is_empty()
                    || p.component.is_some()
                    || p.resolves
                    || crate::report::conditions::states_condition(&p.regex)
            })
            .collect();
        // A line may be left out as routine while scanning only when the
        // one detector that counts its pattern has a sequence rule.
        let routine_rule: Vec<Option<usize>> = detectors
            .iter()
            .map(|d| match d[..] {
                [only] if grammar.detectors[only].routine_after.is_some() => Some(only),
                _ => None,
            })
            .collect();
        // Literals are plain strings of bounded number; building cannot fail
        // short of exceeding aho-corasick's size limits.
        // A DFA: every candidate line is searched end to end for all its
        // literals (overlapping), where the default's NFA follows failure
        // links at every byte; the library's literals make a DFA of well
        // under a megabyte.
        let build = |kind, literals: &[&str]| {
            AhoCorasick::builder()
                .match_kind(kind)
                .kind(Some(AhoCorasickKind::DFA))
                .build(literals)
                .expect("grammar literals form a valid automaton")
        };
        // Each stage's finder looks for its own patterns' literals only, so
        // that its candidate lines are exactly those that hold one.
        let finders = [Stage::Findings, Stage::Links, Stage::All].map(|stage| {
            let of_stage = grammar
                .patterns
                .iter()
                .zip(&feeds_detector)
                .filter(|(_, &feeds)| stage.includes(feeds))
                .flat_map(|(p, _)| p.literals.iter().map(String::as_str));
            Finder::new(&innermost(of_stage))
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
            precedes,
            routine_rule,
        }
    }

    /// The detectors whose `routine_after` lists `pattern`: its lines are
    /// kept as marks.
    pub fn precedes(&self, pattern: usize) -> &[usize] {
        &self.precedes[pattern]
    }

    /// The detector that alone counts `pattern`, when it has a sequence
    /// rule: a line of the pattern may be routine.
    pub fn routine_rule(&self, pattern: usize) -> Option<usize> {
        self.routine_rule[pattern]
    }

    /// Whether a detector uses `pattern`, or it states a version, a
    /// resolution or a node condition (else it only links entities).
    pub fn feeds_detector(&self, pattern: usize) -> bool {
        self.feeds_detector[pattern]
    }

    /// The lines of `haystack` that contain a literal of `stage`: for each,
    /// the offset where one such literal starts, ascending; exactly the
    /// lines where `line.contains(literal)` holds for some literal.
    pub fn candidates<'h>(&'h self, stage: Stage, haystack: &'h [u8]) -> Lines<'h> {
        self.finders[stage.index()].lines(haystack)
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
                let count = caps
                    .name("count")
                    .and_then(|c| std::str::from_utf8(c.as_bytes()).ok()?.parse().ok());
                Some(Match {
                    pattern: p,
                    entities,
                    version,
                    count,
                })
            })
            .collect()
    }
}

/// The distinct strings the prefilter looks for, each with the patterns it
/// stands for. A literal that holds another one inside it is left out and
/// its patterns go to the shorter one: every line with the longer holds the
/// shorter, so no candidate is lost, and the automaton stays small.
fn prefilter_literals(grammar: &Grammar) -> (Vec<&str>, Vec<Vec<usize>>) {
    let kept = innermost(
        grammar
            .patterns
            .iter()
            .flat_map(|p| p.literals.iter().map(String::as_str)),
    );
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

/// The distinct `literals` that hold no other one, sorted: a line holds one
/// of `literals` exactly when it holds one of these.
fn innermost<'g>(literals: impl Iterator<Item = &'g str>) -> Vec<&'g str> {
    let mut all: Vec<&str> = literals.collect();
    all.sort_unstable();
    all.dedup();
    all.iter()
        .copied()
        .filter(|l| !all.iter().any(|s| s.len() < l.len() && l.contains(s)))
        .collect()
}

/// Finds the lines of a buffer that hold any of a stage's literals, one
/// offset per such line.
///
/// Teddy (aho-corasick's SIMD packed searcher) costs about one pass over
/// the buffer per searcher, and takes at most [`LITERALS_PER_PASS`]
/// literals (with AVX2 its fat form spreads them over 16 buckets); so the
/// literals are split into as few searchers as hold them, of even size.
/// After a hit the search goes on at the next line: one hit per line is all
/// the scan needs, and the other searchers skip what they had found on it.
/// Without SIMD (no SSSE3) an automaton walks the buffer byte by byte.
#[derive(Debug)]
enum Finder {
    Packed(Vec<packed::Searcher>),
    Automaton(AhoCorasick),
}

/// The most literals one packed searcher is given: Teddy refuses more.
const LITERALS_PER_PASS: usize = 64;

impl Finder {
    fn new(literals: &[&str]) -> Finder {
        let passes = literals.len().div_ceil(LITERALS_PER_PASS).max(1);
        let per_pass = literals.len().div_ceil(passes).max(1);
        let searchers: Option<Vec<packed::Searcher>> = literals
            .chunks(per_pass)
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
            // Literals are plain strings of bounded number; building cannot
            // fail short of exceeding aho-corasick's size limits.
            _ => Finder::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(literals)
                    .expect("grammar literals form a valid automaton"),
            ),
        }
    }

    fn lines<'h>(&'h self, haystack: &'h [u8]) -> Lines<'h> {
        let searchers = match self {
            Finder::Packed(s) => s.len(),
            Finder::Automaton(_) => 0,
        };
        Lines {
            finder: self,
            haystack,
            at: 0,
            next: vec![None; searchers],
        }
    }
}

/// One offset of a literal on each line of a haystack that holds one,
/// ascending.
pub struct Lines<'h> {
    finder: &'h Finder,
    haystack: &'h [u8],
    /// Where the search goes on.
    at: usize,
    /// Per packed searcher, once it has searched: its first hit at or after
    /// where it searched from (`None` inside: no more).
    next: Vec<Option<Option<usize>>>,
}

impl<'h> Lines<'h> {
    /// The first hit at or after `at` of any packed searcher.
    fn next_hit(&mut self, searchers: &'h [packed::Searcher]) -> Option<usize> {
        let span = Span::from(self.at..self.haystack.len());
        let mut first: Option<usize> = None;
        for (searcher, next) in searchers.iter().zip(&mut self.next) {
            if next.is_none_or(|hit| hit.is_some_and(|offset| offset < span.start)) {
                *next = Some(searcher.find_in(self.haystack, span).map(|m| m.start()));
            }
            if let Some(Some(hit)) = *next {
                first = Some(first.map_or(hit, |f| f.min(hit)));
            }
        }
        first
    }
}

impl<'h> Iterator for Lines<'h> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.at >= self.haystack.len() {
            return None;
        }
        let finder: &'h Finder = self.finder;
        let hit = match finder {
            Finder::Packed(searchers) => self.next_hit(searchers)?,
            Finder::Automaton(automaton) => {
                let input = Input::new(self.haystack).span(self.at..self.haystack.len());
                automaton.find(input)?.start()
            }
        };
        // Literals hold no newline: the rest of the line has nothing new.
        self.at = memchr::memchr(b'\n', &self.haystack[hit..])
            .map_or(self.haystack.len(), |i| hit + i + 1);
        Some(hit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines (by index) that hold a literal, by `contains`.
    fn naive(literals: &[&str], haystack: &[u8]) -> Vec<usize> {
        haystack
            .split(|&b| b == b'\n')
            .enumerate()
            .filter(|(_, line)| {
                literals
                    .iter()
                    .any(|l| memchr::memmem::find(line, l.as_bytes()).is_some())
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The lines `lines` names, by index; panics if one is named twice or
    /// out of order.
    fn named(haystack: &[u8], lines: Lines<'_>) -> Vec<usize> {
        let mut previous = None;
        lines
            .map(|offset| {
                let line = memchr::memchr_iter(b'\n', &haystack[..offset]).count();
                assert!(
                    previous < Some(line),
                    "line {line} named twice or out of order"
                );
                previous = Some(line);
                line
            })
            .collect()
    }

    /// More literals than one packed searcher takes, sharing words and
    /// prefixes, one of them 3 bytes long.
    fn library() -> Vec<String> {
        let mut words: Vec<String> = (0..130)
            .map(|n| {
                let verb = ["stop", "kill", "halt"][n % 3];
                let state = ["failed", "hung"][n % 2];
                format!("{verb} unit{n:02} {state}")
            })
            .collect();
        words.push(" [#".to_string());
        words
    }

    /// Lines made of pieces of the literals, whole and cut.
    fn haystack(literals: &[&str], rng: &mut fastrand::Rng, lines: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..lines {
            for _ in 0..rng.usize(0..4) {
                let l = literals[rng.usize(..literals.len())].as_bytes();
                let (a, b) = (rng.usize(..=l.len()), rng.usize(..=l.len()));
                let piece = if rng.bool() {
                    l
                } else {
                    &l[a.min(b)..a.max(b)]
                };
                out.extend_from_slice(piece);
                out.extend_from_slice(if rng.bool() { b" " } else { b"x" });
            }
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn packed_and_automaton_name_the_naive_lines() {
        let words = library();
        let mut rng = fastrand::Rng::with_seed(7);
        // One searcher, two, three.
        for count in [40, 100, 131] {
            let literals: Vec<&str> = words.iter().rev().take(count).map(String::as_str).collect();
            let packed = Finder::new(&literals);
            let Finder::Packed(searchers) = &packed else {
                // No SIMD on this CPU: the automaton is all there is.
                continue;
            };
            assert_eq!(searchers.len(), count.div_ceil(LITERALS_PER_PASS));
            let automaton = Finder::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&literals)
                    .unwrap(),
            );
            for round in 0..200 {
                let haystack = haystack(&literals, &mut rng, 1 + round % 20);
                let expected = naive(&literals, &haystack);
                for finder in [&packed, &automaton] {
                    assert_eq!(
                        named(&haystack, finder.lines(&haystack)),
                        expected,
                        "{count} literals on {:?}",
                        String::from_utf8_lossy(&haystack)
                    );
                }
            }
        }
    }
}
