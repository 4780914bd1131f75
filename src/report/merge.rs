//! `podmortem merge`: JSON reports made anywhere (one per node, by a
//! DaemonSet or an Indexed Job) folded into one report, without reading a
//! log again. Reports are added one at a time, so that only the merged
//! report and the one being read are held; fleet incidents are then found
//! by the same [`fleet::group`] an analyze over all the logs runs, on the
//! per-host incidents and versions the reports carry.
//!
//! What changes in the merge: incidents are ranked anew over all reports
//! (by score, as one analyze ranks them) and `related` follows the new
//! ranks; relative times point into the merged `inputs`; stats and
//! `ignored` add up; notes are kept once each. Fleet incidents of the
//! reports read are dropped and found again over the whole.

use std::collections::{BTreeSet, HashMap};

use super::fleet::{self, FleetOptions, Sighting};
use super::{HostVersion, Incident, RelativeTime, Report, Stats, SCHEMA_VERSION};

/// Reports folded so far.
#[derive(Debug)]
pub struct Merge {
    report: Report,
    /// Per-host incidents with their index into `report.incidents` as
    /// rank, until the ranks are known.
    sightings: Vec<Sighting>,
    hosts: BTreeSet<String>,
    /// Every version fact, once.
    versions: BTreeSet<HostVersion>,
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
            sightings: Vec::new(),
            hosts: BTreeSet::new(),
            versions: BTreeSet::new(),
        }
    }
}

impl Merge {
    /// Adds one report; refuses one of a schema this build does not know.
    pub fn add(&mut self, mut report: Report) -> Result<(), String> {
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
        let base = merged.incidents.len();
        // Rank → index into the merged incidents.
        let index: HashMap<usize, usize> = report
            .incidents
            .iter()
            .enumerate()
            .map(|(i, incident)| (incident.rank, base + i))
            .collect();
        let unknown = usize::MAX;
        self.hosts.extend(fleet::hosts(&report));
        self.sightings.extend(fleet::sightings(&report, |rank| {
            index.get(&rank).copied().unwrap_or(unknown)
        }));
        for incident in &mut report.incidents {
            incident.related = incident
                .related
                .iter()
                .filter_map(|r| index.get(r).copied())
                .collect();
            shift_inputs(incident, input_base);
        }
        for event in &mut report.events {
            shift(&mut event.relative, input_base);
        }
        merged.inputs.append(&mut report.inputs);
        merged.errors.append(&mut report.errors);
        merged.skipped.append(&mut report.skipped);
        merged.bundles.append(&mut report.bundles);
        merged.ignored += report.ignored;
        merged.incidents.append(&mut report.incidents);
        merged.listings.append(&mut report.listings);
        merged.events.append(&mut report.events);
        self.versions.extend(report.host_versions);
        for note in report.notes {
            if !merged.notes.contains(&note) {
                merged.notes.push(note);
            }
        }
        add_stats(&mut merged.stats, &report.stats);
        Ok(())
    }

    /// The merged report, ranked, with its fleet incidents.
    pub fn finish(self, options: FleetOptions) -> Report {
        let Merge {
            mut report,
            mut sightings,
            hosts,
            versions,
        } = self;
        report.host_versions = versions.into_iter().collect();
        let mut order: Vec<usize> = (0..report.incidents.len()).collect();
        {
            let incidents = &report.incidents;
            order.sort_by(|&a, &b| {
                let (a, b) = (&incidents[a], &incidents[b]);
                b.score
                    .total_cmp(&a.score)
                    .then_with(|| a.first_seen.cmp(&b.first_seen))
                    .then_with(|| a.title.cmp(&b.title))
            });
        }
        // Index before the ranking → rank.
        let mut rank = vec![0; order.len()];
        for (position, &i) in order.iter().enumerate() {
            rank[i] = position + 1;
        }
        let mut slots: Vec<Option<Incident>> = report.incidents.drain(..).map(Some).collect();
        report.incidents = order.iter().filter_map(|&i| slots[i].take()).collect();
        // `related` held indices before the ranking.
        for (position, incident) in report.incidents.iter_mut().enumerate() {
            incident.rank = position + 1;
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
        report
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

/// Points an incident's relative times at the merged inputs.
fn shift_inputs(incident: &mut Incident, base: usize) {
    shift(&mut incident.first_relative, base);
    shift(&mut incident.last_relative, base);
    for f in &mut incident.findings {
        shift(&mut f.first_relative, base);
        shift(&mut f.last_relative, base);
        for e in &mut f.evidence {
            shift(&mut e.relative, base);
        }
    }
    for t in &mut incident.timeline {
        shift(&mut t.relative, base);
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
