//! `podmortem merge`: JSON reports made anywhere (one per node, by a
//! DaemonSet or an Indexed Job) folded into one report, without reading a
//! log again. Fleet incidents are found by the same [`fleet::group`] an
//! analyze over all the logs runs, on the per-host incidents and versions
//! the reports carry.
//!
//! What changes in the merge: incidents are ranked anew over all reports
//! (by score, as one analyze ranks them) and `related` follows the new
//! ranks; relative times point into the merged `inputs`; stats and
//! `ignored` add up; notes are kept once each. Fleet incidents of the
//! reports read are dropped and found again over the whole.
//!
//! How it scales: each report is opened once and read ([`skim`], in
//! parallel, one parser pass), and of its incidents only what ranking and
//! grouping need is kept (a few hundred bytes each, [`skim::Skimmed`]) with
//! where each lies in its file, kept open; the merged JSON report is then
//! written incident by incident from those files ([`emit`]), so that
//! memory follows the number of incidents, not their size, and no
//! incident text is held. The other
//! formats print from a whole report, built by [`Merged::into_report`].

pub mod emit;
pub mod skim;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use rayon::prelude::*;

use super::fleet::{self, FleetOptions, Sighting};
use super::{HostVersion, RelativeTime, Report, Stats, SCHEMA_VERSION};
use skim::{Part, Skimmed};

/// Reports folded so far.
pub struct Merge {
    /// Everything but the incidents.
    report: Report,
    /// The reports read.
    files: Vec<Source>,
    /// How many of their files may stay open (see [`emit::open_budget`]),
    /// once a report is added.
    open_budget: Option<usize>,
    open: usize,
    /// Every incident, with its report (index into `files`); its rank and
    /// `related` hold indices into this list until the ranks are known.
    incidents: Vec<(u32, Skimmed)>,
    /// Per-host incidents with their index into `incidents` as rank.
    sightings: Vec<Sighting>,
    hosts: BTreeSet<String>,
    /// Every version fact, once.
    versions: BTreeSet<HostVersion>,
    notes: HashSet<String>,
}

impl Default for Merge {
    fn default() -> Self {
        Merge {
            report: Report {
                schema_version: SCHEMA_VERSION,
                inputs: Vec::new(),
                errors: Vec::new(),
                skipped: Vec::new(),
                bundles: Vec::new(),
                ignored: 0,
                incidents: Vec::new(),
                listings: Vec::new(),
                fleet: Vec::new(),
                host_versions: Vec::new(),
                events: Vec::new(),
                stats: Stats::default(),
                notes: Vec::new(),
                redacted: false,
                conditions: Vec::new(),
            },
            files: Vec::new(),
            open_budget: None,
            open: 0,
            incidents: Vec::new(),
            sightings: Vec::new(),
            hosts: BTreeSet::new(),
            versions: BTreeSet::new(),
            notes: HashSet::new(),
        }
    }
}

/// A report merged, to read its incidents again from.
struct Source {
    path: PathBuf,
    /// The index of its first input in the merged `inputs`.
    input_base: usize,
    /// The file read, kept open while the budget allows: each report is
    /// opened once, and one replaced since (renamed over) is read as it
    /// was.
    file: Option<std::fs::File>,
}

/// The merge, ranked: what is written as the merged report.
pub struct Merged {
    /// The merged report without its incidents.
    pub report: Report,
    files: Vec<Source>,
    /// The incidents in rank order (rank = position + 1), with `related`
    /// as ranks.
    ranked: Vec<(u32, Skimmed)>,
}

impl Merge {
    /// Adds one report read from `path`; refuses one of a schema this build
    /// does not know.
    pub fn add(&mut self, path: PathBuf, part: Part) -> Result<(), String> {
        let Part {
            mut report,
            incidents,
            sightings,
            hosts,
            file,
        } = part;
        if report.schema_version == 0 || report.schema_version > SCHEMA_VERSION {
            return Err(format!(
                "schema_version {} (this podmortem reads 1 to {SCHEMA_VERSION})",
                report.schema_version
            ));
        }
        let merged = &mut self.report;
        // One redacted report makes the merged one redacted.
        merged.redacted |= report.redacted;
        // Condition periods are per host: each report's are kept as they are.
        merged.conditions.append(&mut report.conditions);
        let input_base = merged.inputs.len();
        let base = self.incidents.len();
        // Rank → index into the merged incidents.
        let index: HashMap<usize, usize> = incidents
            .iter()
            .enumerate()
            .map(|(i, incident)| (incident.rank, base + i))
            .collect();
        let unknown = usize::MAX;
        self.hosts.extend(hosts);
        let budget = *self.open_budget.get_or_insert_with(emit::open_budget);
        let file = file.filter(|_| self.open < budget);
        self.open += usize::from(file.is_some());
        self.files.push(Source {
            path,
            input_base,
            file,
        });
        let file = self.files.len() as u32 - 1;
        self.sightings.extend(sightings.into_iter().map(|mut s| {
            s.rank = index.get(&s.rank).copied().unwrap_or(unknown);
            s
        }));
        for mut incident in incidents {
            incident.related = incident
                .related
                .iter()
                .filter_map(|r| index.get(r).copied())
                .collect();
            // Until ranked, its rank is its index among all incidents.
            incident.rank = self.incidents.len();
            self.incidents.push((file, incident));
        }
        for event in &mut report.events {
            shift(&mut event.relative, input_base);
        }
        merged.inputs.append(&mut report.inputs);
        merged.errors.append(&mut report.errors);
        merged.skipped.append(&mut report.skipped);
        merged.bundles.append(&mut report.bundles);
        merged.ignored += report.ignored;
        merged.listings.append(&mut report.listings);
        merged.events.append(&mut report.events);
        self.versions.extend(report.host_versions);
        for note in report.notes {
            if self.notes.insert(note.clone()) {
                merged.notes.push(note);
            }
        }
        add_stats(&mut merged.stats, &report.stats);
        Ok(())
    }

    /// The merge ranked, with its fleet incidents.
    pub fn finish(self, options: FleetOptions) -> Merged {
        let Merge {
            mut report,
            files,
            open_budget: _,
            open: _,
            incidents,
            mut sightings,
            hosts,
            versions,
            notes: _,
        } = self;
        report.host_versions = versions.into_iter().collect();
        // Ranked as one analyze ranks (score, then the earlier, then by
        // title), in the order read when all are equal (a total order: the
        // sort's result is one); sorted in place, in parallel.
        let mut ranked = incidents;
        ranked.par_sort_unstable_by(|(_, a), (_, b)| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.title.cmp(&b.title))
                .then_with(|| a.rank.cmp(&b.rank))
        });
        // Index before the ranking → rank.
        let mut rank = vec![0; ranked.len()];
        for (position, (_, incident)) in ranked.iter_mut().enumerate() {
            rank[incident.rank] = position + 1;
            incident.rank = position + 1;
        }
        // `related` held indices before the ranking.
        for (_, incident) in &mut ranked {
            for r in &mut incident.related {
                *r = rank_of(&rank, *r);
            }
            incident.related.sort_unstable();
        }
        for s in &mut sightings {
            s.rank = rank_of(&rank, s.rank);
        }
        report.stats.mb_per_s =
            (report.stats.bytes as f64 / 1e6 / (report.stats.elapsed_ms as f64 / 1e3).max(1e-9)
                * 10.0)
                .round()
                / 10.0;
        report.fleet = fleet::group(&sightings, &hosts, &report.host_versions, options);
        Merged {
            report,
            files,
            ranked,
        }
    }
}

impl Merged {
    /// The exit status `--fail-on` asks for, as the whole report would
    /// give (see `cli::exit_code`).
    pub fn fails(&self, level: crate::severity::Severity) -> bool {
        self.ranked
            .iter()
            .any(|(_, i)| i.severity >= level && !i.suppressed)
    }
}

/// The rank of the incident at `index` before ranking (0 when unknown).
fn rank_of(rank: &[usize], index: usize) -> usize {
    rank.get(index).copied().unwrap_or(0)
}

fn shift(t: &mut Option<RelativeTime>, base: usize) {
    if let Some(t) = t {
        t.input += base;
    }
}

fn add_stats(total: &mut Stats, one: &Stats) {
    total.bytes += one.bytes;
    total.lines += one.lines;
    total.unparsed += one.unparsed;
    total.unframed += one.unframed;
    total.long_lines += one.long_lines;
    total.untimed += one.untimed;
    total.duplicates += one.duplicates;
    total.outside_window += one.outside_window;
    total.events += one.events;
    total.findings += one.findings;
    total.elapsed_ms += one.elapsed_ms;
}
