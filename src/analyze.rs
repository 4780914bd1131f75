//! The pipeline, stage after stage: read and scan every input, fix each
//! input's year and zone, resolve entities, detect, correlate, and hand the
//! results to the report builder. Inputs that fail are recorded and skipped.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, FixedOffset};

use crate::correlate::{correlate, Resolutions};
use crate::detect::{detect, Event, PlacedMark, Precursors};
use crate::entity::{Entity, EntityGraph, EntitySet, IdResolver, Mentions, Name};
use crate::grammar::check::SampleFailure;
use crate::input::{self, InputScan, NotRead, Progress, Source};
use crate::matcher::RuleSet;
use crate::report::{
    self, Analysis, BundleSummary, EventRecord, InputFailure, InputSummary, Report, Stats,
};
use crate::scan::{ScanOutput, Texts};
use crate::time::{
    api, learn, EventTime, Fallback, Overrides, Provenance, Stamp, TimeBound, TimeContext, Zone,
};

/// What the caller decides; no field here is read from the environment.
#[derive(Clone, Debug)]
pub struct Options {
    pub sources: Vec<Source>,
    pub overrides: Overrides,
    /// The zone assumed when the logs do not reveal theirs.
    /// The zone assumed when nothing tells an input's zone: the local
    /// zone's rules at each date.
    pub local_zone: Zone,
    /// The newest a line of stdin can be (the run's start).
    pub now: DateTime<FixedOffset>,
    /// Findings with no pod at most this far apart form one incident (a
    /// pod's incident lasts until the logs show its failure resolved).
    pub merge_window_s: i64,
    /// Only events from `since` up to `until` are analyzed.
    pub since: Option<TimeBound>,
    pub until: Option<TimeBound>,
    /// Keep every matched event in the report (`podmortem events`).
    pub keep_events: bool,
}

pub fn run(rules: &RuleSet, options: &Options) -> Report {
    run_with_progress(rules, options, &|_| {})
}

/// [`run`], telling `progress` how many bytes each scanned block held.
pub fn run_with_progress(rules: &RuleSet, options: &Options, progress: Progress<'_>) -> Report {
    let started = Instant::now();
    let collected = input::read_all(&options.sources, rules, progress);
    let mut scans = collected.scans;
    let errors = collected.failed.into_iter().map(not_read).collect();
    let partial = scans.iter().filter_map(|s| {
        let reason = s.read_error.as_ref()?;
        Some(not_read(NotRead {
            name: s.name.clone(),
            reason: format!("read stopped early ({reason}); what came before was analyzed"),
        }))
    });
    let skipped: Vec<InputFailure> = partial
        .chain(collected.skipped.into_iter().map(not_read))
        .collect();
    let bundles = collected
        .bundles
        .iter()
        .map(|b| BundleSummary {
            root: b.root.clone(),
            kind: b.kind,
        })
        .collect();
    gather_links(&mut scans, rules);
    let mut contexts = time_contexts(&scans, options);
    // Zones the bundles and abbreviations teach (time/learn.rs).
    let views: Vec<learn::Input<'_>> = scans
        .iter()
        .map(|s| learn::Input {
            name: &s.name,
            hosts: &s.output.hosts,
            samples: &s.output.time,
        })
        .collect();
    let mut rebuild = |i: usize, zone: Zone| time_context(&scans[i], options, zone);
    learn::refine(
        &views,
        &mut contexts,
        &collected.zones,
        options.overrides.zone,
        &mut rebuild,
    );
    let resolver = resolver(&scans);

    let (mut events, untimed) = timeline(&mut scans, &contexts, &resolver);
    let texts: Vec<Texts> = scans
        .iter_mut()
        .map(|s| std::mem::take(&mut s.output.texts))
        .collect();
    let duplicates = drop_duplicates(&mut events, &scans);
    // Who is who is learned from every event, whatever the time window.
    let graph = entity_graph(&events, &scans, &resolver);
    // API times as a check on the nodes' zones (time/api.rs).
    let side = |e: &Event| match scans[e.input()].framing {
        crate::scan::Framing::Cluster(_)
            if rules.grammar.patterns[e.pattern()]
                .id
                .starts_with("kubernetes.event_") =>
        {
            api::Side::Api
        }
        crate::scan::Framing::Cluster(_) => api::Side::Neither,
        _ => api::Side::Node,
    };
    let mut reread = false;
    for shift in api::shifts(&events, &side, &|e| graph.group(e)) {
        let ctx = &mut contexts[shift.input];
        let corrected =
            ctx.zone_from == Provenance::Fallback && ctx.shift_east(shift.seconds).is_some();
        if corrected {
            for e in events.iter_mut().filter(|e| e.input() == shift.input) {
                e.time = e.time.shifted_east(shift.seconds);
            }
            reread = true;
        }
        ctx.notes.push(shift.note(corrected));
    }
    if reread {
        events.sort_unstable_by_key(|e| (e.time, e.input, e.line, e.pattern));
    }
    let outside = keep_within(&mut events, options.since, options.until);

    let precursors = precursors(rules, &scans, &contexts, &resolver, &graph);
    let findings = detect(rules, &events, &graph, &precursors);
    drop(precursors);
    let event_records = if options.keep_events {
        event_records(rules, &events, &graph, &scans, &texts)
    } else {
        Vec::new()
    };
    let resolutions = resolutions(rules, &scans, &contexts, &resolver, &graph);
    let clusters = correlate(
        &rules.grammar,
        &findings,
        &events,
        &graph,
        &resolutions,
        options.merge_window_s,
    );

    let bytes: u64 = scans.iter().map(|s| s.bytes).sum();
    let elapsed = started.elapsed();
    let stats = Stats {
        bytes,
        lines: scans.iter().map(|s| s.output.lines).sum(),
        unparsed: scans.iter().map(|s| s.output.unparsed).sum(),
        unframed: scans.iter().map(|s| s.output.unframed).sum(),
        long_lines: scans.iter().map(|s| s.output.long_lines).sum(),
        untimed,
        duplicates,
        outside_window: outside,
        events: events.len(),
        findings: findings.len(),
        elapsed_ms: elapsed.as_millis() as u64,
        mb_per_s: (bytes as f64 / 1e6 / elapsed.as_secs_f64().max(1e-9) * 10.0).round() / 10.0,
    };
    let inputs = scans
        .iter()
        .zip(&contexts)
        .enumerate()
        .map(|(input, (s, ctx))| summary(s, ctx, input))
        .collect();
    let mut report = report::build(
        rules,
        Analysis {
            inputs,
            errors,
            skipped,
            bundles,
            ignored: collected.ignored,
            versions: scans
                .iter()
                .flat_map(|s| s.output.versions.iter().cloned())
                .collect(),
            event_records,
            events,
            texts,
            findings,
            clusters,
            stats,
        },
    );
    // Node state (issue 14, src/state/, helper `nodestate`): listings among
    // the same sources, compared with what runs and joined into the report.
    // Issue 14 §2 (helper `liveness`): the logs' lifecycle lines decide who
    // is alive when no listing does.
    let state = crate::state::read_sources(&options.sources);
    let mut lines: Vec<_> = scans
        .iter()
        .flat_map(|s| s.output.lifecycle.clone())
        .collect();
    if crate::state::life::needs_logs(&state) {
        for scan in &scans {
            if let Some(path) = &scan.path {
                lines.extend(input::read_lifecycle(path, scan.framing, rules));
            }
        }
    }
    let lifecycle = crate::state::life::LogLifecycle::of(lines.iter());
    crate::state::attach::attach(&mut report, &rules.grammar, &state, &lifecycle);
    report
}

/// Every input's events placed in time, with resolved entities, in time
/// order (wall-clock events first, then each input's own axis); and how
/// many have no wall-clock time. The inputs' raw events are taken out and
/// freed chunk by chunk as they are placed, so a log whose every line
/// matches never holds its events twice; each distinct entity set is
/// resolved once and shared by the events that name it.
fn timeline(
    scans: &mut [InputScan],
    contexts: &[TimeContext],
    resolver: &IdResolver,
) -> (Vec<Event>, u64) {
    let mut untimed = 0u64;
    let total = scans.iter().map(|s| s.output.events().count()).sum();
    let mut events: Vec<Event> = Vec::with_capacity(total);
    // Raw set (by address, kept alive here so the address stays its own)
    // to its resolved set; resolved sets shared across inputs.
    type Set = EntitySet;
    let mut resolved: HashMap<usize, (Set, Set)> = HashMap::new();
    let mut shared: HashSet<EntitySet> = HashSet::new();
    for (input, (scan, ctx)) in scans.iter_mut().zip(contexts).enumerate() {
        for chunk in scan.output.take_events() {
            for raw in chunk {
                let time = ctx.place(raw.stamp, raw.line, input);
                untimed += u64::from(time.wall().is_none());
                let address = raw.entities.address();
                let entities = &resolved
                    .entry(address)
                    .or_insert_with(|| {
                        let set = resolver.resolve_all(&raw.entities);
                        let set = match shared.get(set.as_slice()) {
                            Some(known) => known.clone(),
                            None => {
                                let new: EntitySet = EntitySet::from(set);
                                shared.insert(new.clone());
                                new
                            }
                        };
                        (raw.entities.clone(), set)
                    })
                    .1;
                // A grammar holds far fewer than 2^32 patterns, a run far
                // fewer inputs.
                events.push(Event {
                    pattern: raw.pattern as u32,
                    input: input as u32,
                    line: raw.line,
                    time,
                    level: raw.level,
                    host: raw.host,
                    entities: entities.clone(),
                    message_hash: raw.message_hash,
                    text: raw.text,
                    context: raw.context,
                    weight: raw.weight,
                });
            }
        }
    }
    // The key is unique (a line matches a pattern once), so the order
    // is the same as a stable sort's, without its copy of every event.
    events.sort_unstable_by_key(|e| (e.time, e.input, e.line, e.pattern));
    (events, untimed)
}

/// Every input's marks of the patterns `wanted` takes, placed in time,
/// with resolved entities (only those are resolved).
fn placed_marks<'s>(
    scans: &'s [InputScan],
    contexts: &'s [TimeContext],
    resolver: &'s IdResolver,
    wanted: impl Fn(usize) -> bool + Copy + 's,
) -> impl Iterator<Item = (usize, EventTime, Vec<Entity>)> + 's {
    scans
        .iter()
        .zip(contexts)
        .enumerate()
        .flat_map(move |(input, (scan, ctx))| {
            let marks = scan.output.marks.iter();
            marks
                .filter(move |m| wanted(m.pattern as usize))
                .map(move |m| {
                    (
                        m.pattern as usize,
                        ctx.place(m.stamp, m.line, input),
                        resolver.resolve_all(&m.entities),
                    )
                })
        })
}

/// The resolution lines of every input, placed in time, by entity group.
fn resolutions(
    rules: &RuleSet,
    scans: &[InputScan],
    contexts: &[TimeContext],
    resolver: &IdResolver,
    graph: &EntityGraph,
) -> Resolutions {
    let resolves = |p: usize| rules.grammar.patterns[p].resolves;
    let placed: Vec<(EventTime, Vec<Entity>)> = placed_marks(scans, contexts, resolver, resolves)
        .map(|(_, time, entities)| (time, entities))
        .collect();
    Resolutions::new(placed.iter().map(|(t, e)| (*t, e.as_slice())), graph)
}

/// The marks sequence rules judge lines by, and where each input begins.
fn precursors(
    rules: &RuleSet,
    scans: &[InputScan],
    contexts: &[TimeContext],
    resolver: &IdResolver,
    graph: &EntityGraph,
) -> Precursors {
    let precedes = |p: usize| !rules.precedes(p).is_empty();
    let placed: Vec<(usize, EventTime, Vec<Entity>)> =
        placed_marks(scans, contexts, resolver, precedes).collect();
    let starts = scans
        .iter()
        .zip(contexts)
        .enumerate()
        .map(|(input, (scan, ctx))| {
            // Exports list newest first: the input begins at the earlier
            // of its first and last records.
            let ends = [scan.output.first, scan.output.last];
            let placed = ends
                .into_iter()
                .flatten()
                .map(|(line, stamp)| ctx.place(Some(stamp), line, input));
            placed.min()
        })
        .collect();
    let marks = placed.iter().map(|(pattern, time, entities)| PlacedMark {
        pattern: *pattern,
        time: *time,
        entities,
        host: None,
    });
    let mut judged: Vec<usize> = scans.iter().flat_map(|s| s.output.judged.clone()).collect();
    judged.sort_unstable();
    judged.dedup();
    Precursors::new(&rules.grammar, marks, starts, judged, graph)
}

/// Every event as the drill-down prints it: with its kinds, the pods its
/// entities belong to, and where it was read.
fn event_records(
    rules: &RuleSet,
    events: &[Event],
    graph: &EntityGraph,
    scans: &[InputScan],
    texts: &[Texts],
) -> Vec<EventRecord> {
    let groups = graph.groups();
    let uses = rules.grammar.detectors_of_pattern();
    events
        .iter()
        .map(|e| {
            let containers: Vec<String> = e
                .entities
                .iter()
                .filter_map(|x| match x {
                    Entity::Container(id) => Some(id.to_string()),
                    _ => None,
                })
                .collect();
            let mut pods: Vec<String> = e
                .entities
                .iter()
                .filter_map(|x| graph.group(x))
                .flat_map(|g| groups[&g].iter())
                .filter_map(|x| match x {
                    Entity::Pod(p) => Some(p.to_string()),
                    _ => None,
                })
                .collect();
            pods.sort();
            pods.dedup();
            EventRecord {
                ts: report::when(e.time),
                relative: report::RelativeTime::of(e.time),
                host: e.host.as_deref().map(String::from),
                source: rules.grammar.patterns[e.pattern()].source.clone(),
                pattern: rules.grammar.patterns[e.pattern()].id.clone(),
                kinds: uses[e.pattern()]
                    .iter()
                    .map(|&d| rules.grammar.detectors[d].kind.clone())
                    .collect(),
                containers,
                pods,
                file: scans[e.input()].name.clone(),
                line: e.line,
                text: texts[e.input()].get(e.text),
            }
        })
        .collect()
}

/// Drops the events another input of the same host already holds — one
/// node's logs are often collected twice (the journal and
/// /var/log/messages in one bundle): same host, pattern, instant and
/// message. Two nodes that log the same kernel line in the same second
/// keep both. An event that names no host (a raw docker.log) is of the one
/// host the run's inputs name, when they name exactly one; else it is only
/// its own input's. Repeats within one input stay. Returns how many were
/// dropped.
fn drop_duplicates(events: &mut Vec<Event>, scans: &[InputScan]) -> u64 {
    let hosts: BTreeSet<&str> = scans
        .iter()
        .flat_map(|s| s.output.hosts.iter().map(String::as_str))
        .collect();
    let run_host = match hosts.iter().collect::<Vec<_>>().as_slice() {
        [only] => Some(**only),
        _ => None,
    };
    // Duplicates share their instant, and events are in time order: only
    // the events of one instant are compared, when several inputs hold
    // some (memory bounded by an instant's events, not the run's).
    let mut keep = vec![true; events.len()];
    let mut start = 0;
    while start < events.len() {
        let at = events[start].time;
        let end = start + events[start..].iter().take_while(|e| e.time == at).count();
        let group = &events[start..end];
        if group.iter().any(|e| e.input != group[0].input) {
            type Key<'e> = (usize, u64, Result<&'e str, usize>);
            let mut first_seen: HashMap<Key<'_>, usize> = HashMap::new();
            for (k, e) in group.iter().enumerate() {
                let whose = e.host.as_deref().or(run_host).ok_or(e.input());
                let input = *first_seen
                    .entry((e.pattern(), e.message_hash, whose))
                    .or_insert(e.input());
                keep[start + k] = input == e.input();
            }
        }
        start = end;
    }
    let before = events.len();
    let mut kept = keep.into_iter();
    events.retain(|_| kept.next().unwrap_or(true));
    (before - events.len()) as u64
}

/// Keeps the events within `since..=until`; returns how many were dropped.
/// Relative bounds count back from the newest wall-clock event: a
/// post-mortem asks about the last hours of the logs, not of today. Events
/// without a wall-clock time cannot be placed against the bounds and stay.
fn keep_within(events: &mut Vec<Event>, since: Option<TimeBound>, until: Option<TimeBound>) -> u64 {
    let Some(newest) = events.iter().filter_map(|e| e.time.wall()).max() else {
        return 0;
    };
    let since = since.map(|b| b.at(newest));
    let until = until.map(|b| b.at(newest));
    let before = events.len();
    events.retain(|e| {
        e.time
            .wall()
            .is_none_or(|t| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u))
    });
    (before - events.len()) as u64
}

/// Containers and pods joined by the events and the link records.
fn entity_graph(events: &[Event], scans: &[InputScan], resolver: &IdResolver) -> EntityGraph {
    let mut graph = EntityGraph::default();
    // Each shared set once, in the order the events first name it.
    let mut linked: HashSet<usize> = HashSet::new();
    for e in events {
        if linked.insert(e.entities.address()) {
            graph.link(&e.entities);
        }
    }
    for links in scans.iter().flat_map(|s| s.output.links.iter()) {
        graph.link(&resolver.resolve_all(links));
    }
    graph.join_pod_names();
    graph
}

/// The second pass over the files: the links of the containers the first
/// pass found in trouble (stdin was scanned for links in its only pass).
fn gather_links(scans: &mut [InputScan], rules: &RuleSet) {
    let named = scans
        .iter()
        .flat_map(|s| distinct_sets(&s.output))
        .flat_map(|set| set.iter());
    let mentions = Mentions::new(named.filter_map(|e| match e {
        Entity::Container(id) => Some(&**id),
        _ => None,
    }));
    if mentions.is_empty() {
        return;
    }
    for scan in scans.iter_mut() {
        if let Some(path) = &scan.path {
            let links = input::read_links(path, scan.framing, rules, &mentions);
            scan.output.links.extend(links);
        }
    }
}

/// Learns the full container IDs: those the matched lines spell out, then,
/// for short IDs still unresolved, those a second pass finds in the files;
/// then the containers that own the PIDs lines name.
fn resolver(scans: &[InputScan]) -> IdResolver {
    let mut resolver = id_resolver(scans);
    let lines = scans
        .iter()
        .flat_map(|s| distinct_sets(&s.output).chain(s.output.links.iter().map(|l| &l[..])));
    resolver.learn_owners(lines);
    resolver
}

fn id_resolver(scans: &[InputScan]) -> IdResolver {
    // Distinct IDs: a stop loop names its container on every line.
    let seen: BTreeSet<&Name> = scans
        .iter()
        .flat_map(|s| distinct_sets(&s.output).flat_map(|set| set.iter()))
        .chain(
            scans
                .iter()
                .flat_map(|s| s.output.links.iter().flat_map(|l| l.iter())),
        )
        .filter_map(|e| match e {
            Entity::Container(id) => Some(id),
            _ => None,
        })
        .collect();
    let first = IdResolver::new(seen.iter().map(|&id| id.clone()));
    let mut unresolved: Vec<String> = seen
        .iter()
        .filter(|id| id.len() < 64 && first.full_of(id).is_none())
        .map(|id| id.to_string())
        .collect();
    unresolved.sort_unstable();
    unresolved.dedup();
    if unresolved.is_empty() {
        return first;
    }
    let found = input::find_full_ids(scans.iter().filter_map(|s| s.path.as_deref()), &unresolved);
    IdResolver::new(
        seen.into_iter()
            .cloned()
            .chain(found.iter().map(|id| Name::from(id.as_str()))),
    )
}

/// The entity sets an input's events name, each once (events share them).
fn distinct_sets(output: &ScanOutput) -> impl Iterator<Item = &[Entity]> {
    let mut seen: HashSet<usize> = HashSet::new();
    output
        .events()
        .filter(move |e| seen.insert(e.entities.address()))
        .map(|e| &*e.entities)
}

/// The time context of each input. An input whose lines do not reveal
/// their zone (a raw kubelet.log) takes the zone that the other inputs of
/// the same host — or, when it names no host, of the whole run — agree on,
/// before falling back to the local zone. Linear in inputs: the zones the
/// logs revealed are gathered once per host (an archive of 100k files once
/// took quadratic time here, issue 10).
fn time_contexts(scans: &[InputScan], options: &Options) -> Vec<TimeContext> {
    let own: Vec<TimeContext> = scans
        .iter()
        .map(|s| time_context(s, options, options.local_zone))
        .collect();
    let mut all_zones = BTreeSet::new();
    let mut zones_of_host: HashMap<&str, BTreeSet<i32>> = HashMap::new();
    for (scan, ctx) in scans.iter().zip(&own) {
        if ctx.zone_from == Provenance::Logs {
            let zone = ctx.offset.local_minus_utc();
            all_zones.insert(zone);
            for host in &scan.output.hosts {
                zones_of_host.entry(host).or_default().insert(zone);
            }
        }
    }
    scans
        .iter()
        .zip(&own)
        .map(|(scan, ctx)| {
            if ctx.zone_from != Provenance::Fallback {
                return ctx.clone();
            }
            let zones: BTreeSet<i32> = if scan.output.hosts.is_empty() {
                all_zones.clone()
            } else {
                let hosts = scan.output.hosts.iter();
                hosts
                    .filter_map(|h| zones_of_host.get(h.as_str()))
                    .flatten()
                    .copied()
                    .collect()
            };
            match zones.iter().collect::<Vec<_>>().as_slice() {
                [only] => {
                    let zone =
                        FixedOffset::east_opt(**only).map_or(options.local_zone, Zone::Fixed);
                    let mut borrowed = time_context(scan, options, zone);
                    borrowed.zone_from = Provenance::OtherInputs;
                    borrowed
                }
                _ => ctx.clone(),
            }
        })
        .collect()
}

/// The time context of one input: what its lines say, else the end of the
/// day in its rotated name or its mtime, and `zone`.
fn time_context(scan: &InputScan, options: &Options, zone: Zone) -> TimeContext {
    let end_of_named_day = scan
        .name_date
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .and_then(|t| zone.resolve(t, false));
    let modified = scan.modified.map(|m| {
        let utc = DateTime::<chrono::Utc>::from(m);
        utc.with_timezone(&zone.offset_at(utc.naive_utc()))
    });
    let not_after = end_of_named_day.or(modified).unwrap_or(options.now);
    let fallback = Fallback { not_after, zone };
    TimeContext::infer(&scan.output.time, options.overrides, fallback)
}

fn summary(scan: &InputScan, ctx: &TimeContext, input: usize) -> InputSummary {
    InputSummary {
        path: scan.name.clone(),
        format: scan.framing.name().to_string(),
        bytes: scan.bytes,
        lines: scan.output.lines,
        unparsed: scan.output.unparsed,
        unframed: scan.output.unframed,
        inferred: scan
            .notes
            .iter()
            .copied()
            .chain(scan.framing.notes())
            .map(String::from)
            .chain(ctx.notes.iter().cloned())
            .collect(),
        long_lines: scan.output.long_lines,
        utc_offset: ctx.offset.to_string(),
        hosts: scan.output.hosts.clone(),
        first: stamp_at(ctx, scan.output.first, input),
        last: stamp_at(ctx, scan.output.last, input),
        year_from: ctx.year_from,
        zone_from: ctx.zone_from,
    }
}

/// An input's first or last time as reports print it: an instant, or its
/// place on the input's own clock (`+8123.0 s after boot`).
fn stamp_at(ctx: &TimeContext, at: Option<(u64, Stamp)>, input: usize) -> Option<String> {
    let (line, stamp) = at?;
    Some(report::when(ctx.place(Some(stamp), line, input)))
}

fn not_read(n: NotRead) -> InputFailure {
    InputFailure {
        path: n.name,
        message: n.reason,
    }
}

/// Runs every detector's sequence samples (`[[detector.sequence]]`, which
/// prove its `routine_after` rule) through the whole analysis, as a log
/// would go: each must make a finding of its detector, or none, as it
/// says.
pub fn check_sequences(rules: &RuleSet) -> Vec<SampleFailure> {
    let Ok(now) = DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z") else {
        return Vec::new();
    };
    let mut failures = Vec::new();
    for detector in &rules.grammar.detectors {
        for sample in &detector.sequences {
            let options = Options {
                sources: vec![Source::Text {
                    name: format!("sequence of {}", detector.kind),
                    text: sample.lines.join("\n").into_bytes(),
                }],
                overrides: Overrides::default(),
                local_zone: Zone::Fixed(*now.offset()),
                now,
                merge_window_s: 30 * 60,
                since: None,
                until: None,
                keep_events: false,
            };
            let report = run(rules, &options);
            let found = report
                .incidents
                .iter()
                .flat_map(|i| &i.findings)
                .any(|f| f.kind == detector.kind);
            if found != sample.found {
                failures.push(SampleFailure {
                    origin: detector.kind.clone(),
                    pattern: detector.kind.clone(),
                    line: sample.lines.join("\n    "),
                    problem: format!(
                        "sequence ({}) {}",
                        sample.note,
                        if sample.found {
                            "makes no finding"
                        } else {
                            "makes a finding"
                        }
                    ),
                });
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::InputFormat;
    use crate::scan::Framing;

    fn input_of(host: String) -> InputScan {
        let mut output = ScanOutput::default();
        output.hosts.push(host.clone());
        InputScan {
            name: format!("bundle.tar:{host}.log"),
            path: None,
            framing: Framing::Lines(InputFormat::UNKNOWN),
            bytes: 100,
            modified: None,
            name_date: None,
            read_error: None,
            notes: Vec::new(),
            output,
        }
    }

    /// Issue 10, crash (7): listing a tar of 100k entries took 9.3 s
    /// because each input without a zone of its own compared its hosts
    /// with every other input's. 50,000 inputs are 2.5 billion such
    /// comparisons (minutes, even optimized); once per host, a fraction of
    /// a second.
    #[test]
    fn time_contexts_are_linear_in_inputs() {
        let scans: Vec<InputScan> = (0..50_000).map(|i| input_of(format!("node-{i}"))).collect();
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let options = Options {
            sources: Vec::new(),
            overrides: Overrides::default(),
            local_zone: Zone::Fixed(*now.offset()),
            now,
            merge_window_s: 1800,
            since: None,
            until: None,
            keep_events: false,
        };
        let start = Instant::now();
        let contexts = time_contexts(&scans, &options);
        assert_eq!(contexts.len(), scans.len());
        assert!(contexts.iter().all(|c| c.zone_from == Provenance::Fallback));
        let took = start.elapsed();
        assert!(took.as_secs() < 10, "{took:?} for 50,000 inputs");
    }
}
