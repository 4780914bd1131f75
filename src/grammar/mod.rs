//! The knowledge about log lines, as data: patterns (what a line says and
//! which entities it names) and detectors (when matched lines amount to a
//! finding, and what it means). The format is documented in grammars/README.md.
//!
//! Built-in grammar files are compiled into the binary ([`builtin`]); users
//! add their own directory with `--grammars DIR`. Loading validates every
//! reference; [`check`] proves every pattern against its own sample lines.

pub mod advice;
pub mod builtin;
pub mod check;
mod file;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

pub use advice::{Source, Step};

use crate::entity::Role;
use crate::severity::Severity;

/// A loaded, validated grammar library.
#[derive(Debug, Default)]
pub struct Grammar {
    pub patterns: Vec<Pattern>,
    pub detectors: Vec<Detector>,
    pub chains: Vec<Chain>,
}

/// Finding kinds known to follow from one another on one node: when they
/// meet in one incident, the incident tells that story.
#[derive(Debug)]
pub struct Chain {
    pub name: String,
    /// Indices into [`Grammar::detectors`]: the causes, then the effects.
    pub detectors: Vec<usize>,
    /// How many of `detectors` are causes.
    pub causes: usize,
    pub title: String,
    pub story: String,
    /// Where the story's claims come from.
    pub sources: Vec<Source>,
}

impl Chain {
    /// Whether findings of `present` kinds tell this chain's story: a cause
    /// and an effect of it are both there.
    pub fn told_by(&self, present: &[usize]) -> bool {
        let (causes, effects) = self.detectors.split_at(self.causes);
        causes.iter().any(|d| present.contains(d)) && effects.iter().any(|d| present.contains(d))
    }
}

impl Grammar {
    /// The smallest detector index connected to `detector` through chains
    /// (itself when it is in none): detectors with the same root can tell
    /// one story.
    pub fn chain_root(&self, detector: usize) -> usize {
        let mut members = vec![detector];
        let mut i = 0;
        while i < members.len() {
            let current = members[i];
            for c in self
                .chains
                .iter()
                .filter(|c| c.detectors.contains(&current))
            {
                for &d in &c.detectors {
                    if !members.contains(&d) {
                        members.push(d);
                    }
                }
            }
            i += 1;
        }
        members.into_iter().min().unwrap_or(detector)
    }

    /// Whether some chain holds both detectors.
    pub fn chained(&self, a: usize, b: usize) -> bool {
        a != b
            && self
                .chains
                .iter()
                .any(|c| c.detectors.contains(&a) && c.detectors.contains(&b))
    }
}

/// What a lifecycle line (a pattern's `life`) says of the container or
/// sandbox it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Life {
    /// Created and started: alive from then on.
    Started,
    /// Stopped or removed: dead from then on (kubelet never restarts an ID).
    Ended,
}

/// One kind of log line.
#[derive(Debug)]
pub struct Pattern {
    pub id: String,
    /// The component that writes the line (dockerd, kubelet, cni…).
    pub source: String,
    /// Strings of which every matching message contains one: the cheap
    /// prefilter.
    pub literals: Vec<String>,
    /// Matched against the message (the line without its syslog envelope).
    pub regex: regex::bytes::Regex,
    /// For patterns that state a component's version: which component.
    pub component: Option<String>,
    /// The least severity of a finding that counts this pattern's lines:
    /// one XFS shutdown is worse than one ext4 error in the same detector.
    pub severity: Option<Severity>,
    /// Its lines show a pod's failure resolved (a successful stop, a new
    /// sandbox or container, a removal): see [`crate::correlate`].
    pub resolves: bool,
    /// What its lines say of the container or sandbox they name (`life`).
    pub life: Option<Life>,
    /// Matches the messages that continue a match of this pattern (the
    /// call trace after a hung-task report), kept as the event's context.
    pub continuation: Option<regex::bytes::Regex>,
    pub samples: Vec<Sample>,
    pub rejects: Vec<String>,
    /// Real lines the `continuation` must keep with a match.
    pub context_samples: Vec<String>,
    /// Where the pattern was defined, for error messages.
    pub origin: String,
}

/// A real line a pattern must match, with the fields it must yield.
#[derive(Debug)]
pub struct Sample {
    pub line: String,
    pub fields: BTreeMap<String, String>,
}

/// Turns matched lines about one entity into a finding.
#[derive(Debug)]
pub struct Detector {
    /// The stable finding name used in reports (`dockerd_stop_loop`).
    pub kind: String,
    pub title: String,
    /// Indices into [`Grammar::patterns`].
    pub patterns: Vec<usize>,
    /// The entities whose lines are counted together, in order of
    /// preference: a line is counted under the first it names
    /// (`["container", "node"]`: its container, else its node).
    pub per: Vec<Role>,
    /// Seconds: how close lines must be to count as one burst.
    pub window_s: i64,
    /// Ascending by `min_count`; the highest level reached in any window is
    /// the finding's severity.
    pub levels: Vec<DetectorLevel>,
    pub explanation: String,
    /// Where the explanation's claims come from.
    pub sources: Vec<Source>,
    pub remediation: Vec<Step>,
    pub references: Vec<String>,
    /// The component version that fixes what this detector finds.
    pub fixed_in: Option<FixedIn>,
    /// When its lines are routine rather than counted.
    pub routine_after: Option<Routine>,
    /// Short logs that prove `routine_after` (`grammars check` runs them).
    pub sequences: Vec<SequenceSample>,
}

/// A sequence rule: a line of the detector is routine, and not counted,
/// when a line of one of `patterns` named the same subject at most
/// `within_s` before it (or in the same second after it: two programs'
/// lines written at once land in either order). A shim that disconnects
/// after its task was deleted is routine; one that disconnects with no
/// stop, kill or exit before it died. A line whose input does not reach
/// `within_s` back cannot be judged and is not counted either: an excerpt
/// that begins at the disconnect does not show what came before.
#[derive(Debug)]
pub struct Routine {
    pub patterns: Vec<usize>,
    pub within_s: i64,
}

/// A short log and whether it makes a finding of its detector.
#[derive(Debug)]
pub struct SequenceSample {
    pub note: String,
    pub lines: Vec<String>,
    pub found: bool,
}

impl Detector {
    /// `per` as the grammar wrote it: `container or node`.
    pub fn per_text(&self) -> String {
        let names: Vec<&str> = self.per.iter().map(|r| r.name()).collect();
        names.join(" or ")
    }
}

/// A component version that fixes a known bug.
#[derive(Debug)]
pub struct FixedIn {
    pub component: String,
    pub version: String,
    pub fix: String,
}

/// Whether dotted version `a` is older than `b`, comparing the numbers of
/// each part (`19.03.15` < `20.10.10`; a leading `v` and suffixes such as
/// `-ce` or `+k3s1` are ignored).
pub fn older(a: &str, b: &str) -> bool {
    let parts = |v: &str| -> Vec<u64> {
        v.trim_start_matches('v')
            .split(['.', '-', '+'])
            .map_while(|p| p.parse().ok())
            .collect()
    };
    parts(a) < parts(b)
}

#[derive(Clone, Debug)]
pub struct DetectorLevel {
    pub min_count: usize,
    pub severity: Severity,
    /// Replaces the detector's title for findings at this level (a single
    /// forced kill is not a "loop").
    pub title: Option<String>,
}

impl Detector {
    /// The title of a finding that reached `level`.
    pub fn title_at(&self, level: usize) -> &str {
        self.levels[level].title.as_deref().unwrap_or(&self.title)
    }
}

/// A grammar that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct GrammarError {
    pub origin: String,
    pub message: String,
}

impl Grammar {
    /// The built-in library alone.
    pub fn builtin() -> Result<Grammar, GrammarError> {
        let files = builtin::FILES
            .iter()
            .map(|(name, text)| (format!("grammars/{name}"), text.to_string()));
        Grammar::from_sources(files)
    }

    /// The built-in library plus every `*.toml` file in `dir` (sorted by
    /// name). A file named like a built-in one (`kubelet.toml`) takes its
    /// place, so that the built-in directory itself, edited or not, checks
    /// (`podmortem grammars check grammars/`).
    pub fn builtin_and_dir(dir: &Path) -> Result<Grammar, GrammarError> {
        let own = file::read_dir(dir)?;
        let replaced = |name: &str| {
            own.iter()
                .any(|(origin, _)| Path::new(origin).file_name().is_some_and(|f| f == name))
        };
        let mut files: Vec<(String, String)> = builtin::FILES
            .iter()
            .filter(|(name, _)| !replaced(name))
            .map(|(name, text)| (format!("grammars/{name}"), text.to_string()))
            .collect();
        files.extend(own);
        Grammar::from_sources(files.into_iter())
    }

    /// Parses and links grammar files given as `(origin, text)`.
    pub fn from_sources(
        files: impl Iterator<Item = (String, String)>,
    ) -> Result<Grammar, GrammarError> {
        let parsed: Vec<(String, String, file::GrammarFile)> = files
            .map(|(origin, text)| file::parse(&origin, &text).map(|g| (origin, text, g)))
            .collect::<Result<_, _>>()?;
        let mut grammar = Grammar::default();
        let mut ids = HashSet::new();
        for (origin, text, g) in &parsed {
            if !g.pattern.is_empty() && g.source.is_none() {
                return Err(error(
                    origin,
                    "a file with patterns needs `source = \"…\"`".into(),
                ));
            }
            let source = g.source.as_deref().unwrap_or_default();
            for p in &g.pattern {
                let at = format!("{origin}:{}", line_of(text, "id", &p.id));
                if !ids.insert(p.id.clone()) {
                    return Err(error(&at, format!("pattern '{}' is defined twice", p.id)));
                }
                grammar
                    .patterns
                    .push(file::compile_pattern(&at, source, p)?);
            }
        }
        let mut kinds = HashSet::new();
        for (origin, text, g) in &parsed {
            for d in &g.detector {
                let at = format!("{origin}:{}", line_of(text, "kind", &d.kind));
                if !kinds.insert(d.kind.clone()) {
                    return Err(error(
                        &at,
                        format!("detector '{}' is defined twice", d.kind),
                    ));
                }
                grammar
                    .detectors
                    .push(file::compile_detector(&at, d, &grammar.patterns)?);
            }
        }
        for (origin, text, g) in &parsed {
            for c in &g.chain {
                let at = format!("{origin}:{}", line_of(text, "name", &c.name));
                grammar
                    .chains
                    .push(file::compile_chain(&at, c, &grammar.detectors)?);
            }
        }
        Ok(grammar)
    }

    /// Which detectors use each pattern (a pattern no detector uses only
    /// links entities).
    pub fn detectors_of_pattern(&self) -> Vec<Vec<usize>> {
        let mut uses = vec![Vec::new(); self.patterns.len()];
        for (d, detector) in self.detectors.iter().enumerate() {
            for &p in &detector.patterns {
                uses[p].push(d);
            }
        }
        uses
    }

    /// Which detectors' `routine_after` rules list each pattern.
    pub fn routines_of_pattern(&self) -> Vec<Vec<usize>> {
        let mut uses = vec![Vec::new(); self.patterns.len()];
        for (d, detector) in self.detectors.iter().enumerate() {
            for &p in detector.routine_after.iter().flat_map(|r| &r.patterns) {
                uses[p].push(d);
            }
        }
        uses
    }
}

/// The line (1-based) where `key = "value"` is written in a grammar file, so
/// that errors point at it; 1 when it cannot be found.
fn line_of(text: &str, key: &str, value: &str) -> usize {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.starts_with(key)
                && line[key.len()..].trim_start().starts_with('=')
                && (line.contains(&format!("\"{value}\"")) || line.contains(&format!("'{value}'")))
        })
        .map_or(1, |i| i + 1)
}

fn error(origin: &str, message: String) -> GrammarError {
    GrammarError {
        origin: origin.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::older;

    #[test]
    fn versions_compare_by_their_numbers() {
        assert!(older("19.03.15", "20.10.10"));
        assert!(older("20.10.9", "20.10.10"), "numbers, not text");
        assert!(!older("20.10.10", "20.10.10"));
        assert!(!older("24.0.7", "20.10.10"));
        assert!(older("v1.6.9", "1.6.10"));
        assert!(!older("20.10.17-ce", "20.10.10"));
    }
}
