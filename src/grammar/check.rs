//! Grammar files prove themselves: every sample line must be framed by the
//! production parsers, matched by its own pattern and by no other, and yield
//! exactly the fields it lists; every reject line must not match its pattern;
//! every context line must be taken by its pattern's `continuation`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::format::{self, unframed};
use crate::matcher::{RuleSet, Stage};

/// A sample or reject line that does not behave as its grammar says.
#[derive(Debug, PartialEq, Eq)]
pub struct SampleFailure {
    pub origin: String,
    pub pattern: String,
    pub line: String,
    pub problem: String,
}

impl std::fmt::Display for SampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: pattern '{}': {}\n    line: {}",
            self.origin, self.pattern, self.problem, self.line
        )
    }
}

/// Checks every sample and reject of every pattern in `rules`.
pub fn check(rules: &RuleSet) -> Vec<SampleFailure> {
    let mut failures = Vec::new();
    for (index, pattern) in rules.grammar.patterns.iter().enumerate() {
        let fail = |line: &str, problem: String| SampleFailure {
            origin: pattern.origin.clone(),
            pattern: pattern.id.clone(),
            line: line.to_string(),
            problem,
        };
        for sample in &pattern.samples {
            let Some(message) = message_of(rules, &sample.line) else {
                failures.push(fail(
                    &sample.line,
                    "no known log format frames this line".into(),
                ));
                continue;
            };
            let matched: Vec<usize> = rules
                .matches(Stage::All, &message)
                .iter()
                .map(|m| m.pattern)
                .collect();
            if !matched.contains(&index) {
                failures.push(fail(
                    &sample.line,
                    "sample does not match its pattern".into(),
                ));
                continue;
            }
            for other in matched.iter().filter(|&&p| p != index) {
                let other = &rules.grammar.patterns[*other].id;
                failures.push(fail(
                    &sample.line,
                    format!("sample is also matched by pattern '{other}'"),
                ));
            }
            let got = fields(&pattern.regex, &message);
            if got != sample.fields {
                failures.push(fail(
                    &sample.line,
                    format!("fields {got:?}, expected {:?}", sample.fields),
                ));
            }
        }
        for reject in &pattern.rejects {
            let message = message_of(rules, reject).unwrap_or(Cow::Borrowed(reject.as_bytes()));
            if rules
                .matches(Stage::All, &message)
                .iter()
                .any(|m| m.pattern == index)
            {
                failures.push(fail(reject, "reject line matches the pattern".into()));
            }
        }
        for line in &pattern.context_samples {
            let continues = match (&pattern.continuation, message_of(rules, line)) {
                (Some(c), Some(message)) => c.is_match(&message),
                _ => false,
            };
            if !continues {
                failures.push(fail(
                    line,
                    "context line is not taken by the pattern's `continuation`".into(),
                ));
            }
        }
    }
    failures
}

/// The message part of a whole log line, framed as podmortem frames inputs.
/// The message of a sample line as the scanner reads it: a framed record's
/// message, else (a bare or quoted message) the line from the first place
/// [`unframed::message_starts`] offers where some pattern matches.
fn message_of<'l>(rules: &RuleSet, line: &'l str) -> Option<Cow<'l, [u8]>> {
    let bytes = line.as_bytes();
    match format::detect(bytes).frame(bytes) {
        format::Framed::Record(envelope) => Some(envelope.message),
        _ => unframed::message_starts(bytes)
            .find(|&s| !rules.matches(Stage::All, &bytes[s..]).is_empty())
            .map(|s| Cow::Borrowed(&bytes[s..])),
    }
}

/// Every named capture that participated in the match.
fn fields(regex: &regex::bytes::Regex, message: &[u8]) -> BTreeMap<String, String> {
    let Some(caps) = regex.captures(message) else {
        return BTreeMap::new();
    };
    regex
        .capture_names()
        .flatten()
        .filter_map(|name| {
            let value = caps.name(name)?;
            Some((
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ))
        })
        .collect()
}
