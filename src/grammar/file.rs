//! The TOML form of a grammar file and its translation into checked,
//! compiled [`Pattern`]s and [`Detector`]s.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::advice::{self, Source, StepDef};
use super::{
    error, Chain, Detector, DetectorLevel, FixedIn, GrammarError, Pattern, Routine, Sample,
    SequenceSample,
};
use crate::entity::Role;
use crate::severity::Severity;
use crate::time::parse_duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrammarFile {
    /// Required when the file defines patterns.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub pattern: Vec<PatternDef>,
    #[serde(default)]
    pub detector: Vec<DetectorDef>,
    #[serde(default)]
    pub chain: Vec<ChainDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainDef {
    pub name: String,
    /// Finding kinds that start the story.
    pub causes: Vec<String>,
    /// Finding kinds that follow from a cause.
    pub effects: Vec<String>,
    pub title: String,
    pub story: String,
    /// Where the story's claims come from.
    #[serde(default)]
    pub sources: Vec<Source>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternDef {
    pub id: String,
    pub literal: OneOrMany,
    pub regex: String,
    /// Set on patterns that state a component's version (`version`
    /// capture): `docker`, `containerd`, `kubelet`, `kernel`.
    #[serde(default)]
    pub component: Option<String>,
    /// A floor: a finding that counts a line of this pattern is at least
    /// this severe, whatever level its count reached.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// The lines the program writes after a match as part of the same
    /// report (a kernel call trace): they are kept with the event.
    #[serde(default)]
    pub continuation: Option<String>,
    /// Set on lines that show a pod's failure over (a successful stop, a
    /// new sandbox or container, a removal): an incident on the pod ends
    /// there.
    #[serde(default)]
    pub resolves: bool,
    /// Set on lines that show a container or sandbox started or ended
    /// (stopped, removed): the node's state is compared with them when no
    /// listing says what runs (`src/state/life.rs`). Such a line feeds no
    /// detector.
    #[serde(default)]
    pub life: Option<super::Life>,
    #[serde(default)]
    pub sample: Vec<SampleDef>,
    #[serde(default)]
    pub reject: Vec<LineDef>,
    /// Lines that `continuation` must take as part of a match's report.
    #[serde(default)]
    pub context: Vec<LineDef>,
}

/// A string, or a list of them: `literal = "…"` or `literal = ["…", "…"]`
/// (alternatives that share no one string), `per = "container"` or
/// `per = ["container", "node"]` (subjects in order of preference).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn list(&self) -> Vec<String> {
        match self {
            OneOrMany::One(l) => vec![l.clone()],
            OneOrMany::Many(ls) => ls.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleDef {
    pub line: String,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// A bare log line: a near miss (`[[pattern.reject]]`) or a line a
/// continuation must take (`[[pattern.context]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineDef {
    pub line: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorDef {
    pub kind: String,
    pub title: String,
    pub patterns: Vec<String>,
    pub per: OneOrMany,
    pub window: String,
    pub levels: Vec<LevelDef>,
    pub explanation: String,
    /// Where the explanation's claims come from.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// Steps: a string, or `{ step, destructive, after }` (see `advice`).
    pub remediation: Vec<StepDef>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub fixed_in: Option<FixedInDef>,
    /// When the detector's lines are routine: `{ patterns = [...], within
    /// = "2m" }` (see [`super::Routine`]).
    #[serde(default)]
    pub routine_after: Option<RoutineDef>,
    /// Short logs that prove `routine_after`: `[[detector.sequence]]`.
    #[serde(default)]
    pub sequence: Vec<SequenceDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutineDef {
    pub patterns: Vec<String>,
    pub within: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceDef {
    /// Why these lines should (or should not) make a finding.
    pub note: String,
    pub lines: Vec<String>,
    /// Whether the lines make a finding of the detector.
    pub found: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedInDef {
    pub component: String,
    pub version: String,
    /// What the fix is (`moby PR 42956`).
    pub fix: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelDef {
    pub min_count: usize,
    pub severity: Severity,
    #[serde(default)]
    pub title: Option<String>,
}

/// The roles of `per`, in order. `node` always has a value, so it can
/// only come last; a PID is never a subject (it stands for its container).
fn subject_roles(at: &str, names: &[String]) -> Result<Vec<Role>, GrammarError> {
    let roles = names
        .iter()
        .map(|name| {
            Role::from_name(name)
                .filter(|&r| r != Role::Pid && r != Role::Namespace)
                .ok_or_else(|| {
                    error(
                        at,
                        format!(
                            "`per = \"{name}\"` is not a subject (container, pod, pod_uid, pod_name, workload, node)"
                        ),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if roles.is_empty() || roles[..roles.len() - 1].contains(&Role::Node) {
        return Err(error(
            at,
            "`per` must name at least one subject, and `node` only last".into(),
        ));
    }
    Ok(roles)
}

pub fn parse(origin: &str, text: &str) -> Result<GrammarFile, GrammarError> {
    toml::from_str(text).map_err(|e| error(origin, format!("not a valid grammar file: {e}")))
}

/// Reads every `*.toml` in `dir`, sorted by file name.
pub fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, GrammarError> {
    let origin = dir.display().to_string();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| error(&origin, format!("cannot read grammar directory: {e}")))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let origin = p.display().to_string();
            std::fs::read_to_string(&p)
                .map(|text| (origin.clone(), text))
                .map_err(|e| error(&origin, format!("cannot read grammar file: {e}")))
        })
        .collect()
}

/// A pattern's regex, ASCII-minded: `\w`, `\d`, `\s` and case folding
/// cover ASCII only, and `.` or `\S` take any byte. Log fields (IDs,
/// names, paths, numbers) are ASCII, and non-ASCII text still matches
/// `\S+` or `.*` byte by byte; Unicode classes made the library's automata
/// several times larger, at every start and on every candidate line.
fn line_regex(source: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(source)
        .unicode(false)
        .build()
}

pub fn compile_pattern(
    origin: &str,
    source: &str,
    def: &PatternDef,
) -> Result<Pattern, GrammarError> {
    let at = format!("{origin}: pattern '{}'", def.id);
    let literals = def.literal.list();
    if literals.is_empty() || literals.iter().any(String::is_empty) {
        return Err(error(
            &at,
            "`literal` must not be empty: it is the prefilter".into(),
        ));
    }
    if literals.iter().any(|l| l.contains(['"', '\\'])) {
        // The prefilter runs on raw input, where journal JSON escapes these.
        return Err(error(
            &at,
            "`literal` must not hold `\"` or `\\`: pick a plainer part of the message".into(),
        ));
    }
    let regex = line_regex(&def.regex).map_err(|e| error(&at, format!("invalid regex: {e}")))?;
    if def.component.is_some() && !regex.capture_names().flatten().any(|n| n == "version") {
        return Err(error(
            &at,
            "a pattern with `component` needs a `version` capture".into(),
        ));
    }
    if def.sample.is_empty() || def.reject.is_empty() {
        return Err(error(
            &at,
            "needs at least one [[pattern.sample]] and one [[pattern.reject]] line".into(),
        ));
    }
    Ok(Pattern {
        id: def.id.clone(),
        source: source.to_string(),
        literals,
        component: def.component.clone(),
        severity: def.severity,
        resolves: def.resolves,
        life: def.life,
        continuation: def
            .continuation
            .as_deref()
            .map(|c| {
                line_regex(c).map_err(|e| error(&at, format!("invalid continuation regex: {e}")))
            })
            .transpose()?,
        regex,
        samples: def
            .sample
            .iter()
            .map(|s| Sample {
                line: s.line.clone(),
                fields: s.fields.clone(),
            })
            .collect(),
        rejects: def.reject.iter().map(|r| r.line.clone()).collect(),
        context_samples: def.context.iter().map(|r| r.line.clone()).collect(),
        origin: origin.to_string(),
    })
}

pub fn compile_detector(
    origin: &str,
    def: &DetectorDef,
    patterns: &[Pattern],
) -> Result<Detector, GrammarError> {
    let at = format!("{origin}: detector '{}'", def.kind);
    let per = subject_roles(&at, &def.per.list())?;
    let pattern_ids = subject_patterns(&at, &def.patterns, &per, patterns)?;
    let routine_after = def
        .routine_after
        .as_ref()
        .map(|r| compile_routine(&at, r, &per, &pattern_ids, patterns))
        .transpose()?;
    if routine_after.is_none() && !def.sequence.is_empty() {
        return Err(error(
            &at,
            "[[detector.sequence]] proves a `routine_after` rule: the detector has none".into(),
        ));
    }
    let window_s = parse_duration(&def.window).ok_or_else(|| {
        error(
            &at,
            format!("`window = \"{}\"`: use 30s, 10m, 2h or 1d", def.window),
        )
    })?;
    let ascending = def
        .levels
        .windows(2)
        .all(|w| w[0].min_count < w[1].min_count);
    if def.levels.is_empty() || !ascending || def.levels[0].min_count == 0 {
        return Err(error(
            &at,
            "`levels` must be non-empty, ascending by min_count, min_count ≥ 1".into(),
        ));
    }
    advice::check_sources(&at, &def.sources)?;
    let remediation = advice::compile_steps(&at, &def.remediation)?;
    Ok(Detector {
        kind: def.kind.clone(),
        title: def.title.clone(),
        patterns: pattern_ids,
        per,
        window_s,
        levels: def
            .levels
            .iter()
            .map(|l| DetectorLevel {
                min_count: l.min_count,
                severity: l.severity,
                title: l.title.clone(),
            })
            .collect(),
        explanation: def.explanation.trim().to_string(),
        fixed_in: def.fixed_in.as_ref().map(|f| FixedIn {
            component: f.component.clone(),
            version: f.version.clone(),
            fix: f.fix.clone(),
        }),
        sources: def.sources.clone(),
        remediation,
        references: def.references.clone(),
        routine_after,
        sequences: def
            .sequence
            .iter()
            .map(|q| SequenceSample {
                note: q.note.clone(),
                lines: q.lines.clone(),
                found: q.found,
            })
            .collect(),
    })
}

/// The indices of pattern `ids`, each of which must capture one of the
/// subjects `per` names.
fn subject_patterns(
    at: &str,
    ids: &[String],
    per: &[Role],
    patterns: &[Pattern],
) -> Result<Vec<usize>, GrammarError> {
    ids.iter()
        .map(|id| {
            let index = patterns.iter().position(|p| p.id == *id);
            let index = index.ok_or_else(|| error(at, format!("unknown pattern '{id}'")))?;
            let captures: Vec<&str> = patterns[index].regex.capture_names().flatten().collect();
            let names_subject = per.iter().any(|&role| {
                role == Role::Node || role.spellings().iter().any(|n| captures.contains(n))
            });
            if !names_subject {
                let names: Vec<&str> = per.iter().map(|r| r.name()).collect();
                return Err(error(
                    at,
                    format!("pattern '{id}' captures none of {}", names.join(", ")),
                ));
            }
            Ok(index)
        })
        .collect()
}

/// A detector's `routine_after`: patterns that name its subjects and that
/// it does not count itself, and a bounded window.
fn compile_routine(
    at: &str,
    def: &RoutineDef,
    per: &[Role],
    counted: &[usize],
    patterns: &[Pattern],
) -> Result<Routine, GrammarError> {
    let indices = subject_patterns(at, &def.patterns, per, patterns)?;
    if indices.is_empty() || indices.iter().any(|p| counted.contains(p)) {
        return Err(error(
            at,
            "`routine_after.patterns` must list at least one pattern, none of them one the detector counts".into(),
        ));
    }
    let within_s = parse_duration(&def.within)
        .filter(|&s| s > 0)
        .ok_or_else(|| {
            error(
                at,
                format!(
                    "`routine_after.within = \"{}\"`: use 30s, 2m or 1h",
                    def.within
                ),
            )
        })?;
    Ok(Routine {
        patterns: indices,
        within_s,
    })
}

pub fn compile_chain(
    origin: &str,
    def: &ChainDef,
    detectors: &[Detector],
) -> Result<Chain, GrammarError> {
    let at = format!("{origin}: chain '{}'", def.name);
    if def.causes.is_empty() || def.effects.is_empty() {
        return Err(error(
            &at,
            "a chain needs at least one of `causes` and one of `effects`".into(),
        ));
    }
    let detectors = def
        .causes
        .iter()
        .chain(&def.effects)
        .map(|kind| {
            detectors
                .iter()
                .position(|d| d.kind == *kind)
                .ok_or_else(|| error(&at, format!("unknown finding kind '{kind}'")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    advice::check_sources(&at, &def.sources)?;
    Ok(Chain {
        name: def.name.clone(),
        detectors,
        causes: def.causes.len(),
        title: def.title.clone(),
        story: def.story.trim().to_string(),
        sources: def.sources.clone(),
    })
}
