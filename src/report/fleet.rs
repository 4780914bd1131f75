//! Fleet incidents: the same kind of incident on several hosts at about the
//! same time, told as one (a bad Docker release stop-looping on 37 of 40
//! nodes), with the component versions of the hosts it hit and of those it
//! spared side by side. That comparison is the strongest evidence a
//! post-mortem can give, and it needs no log line: only per-host incidents
//! and the versions each host states.
//!
//! The grouping is a pure function of per-host report data ([`Sighting`]s
//! and [`HostVersion`]s), so that `podmortem analyze` over the logs of many
//! hosts and `podmortem merge` over their separate JSON reports find the
//! same fleet incidents: both call [`group`].
//!
//! Which hosts an incident is on: the hosts its lines name; when they name
//! none (a klog file has no host field), the host of the inputs its evidence
//! was read from, when each names exactly one. Incidents timed only on
//! their input's own clock (seconds since boot) cannot be compared across
//! hosts and take no part.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset};
use rayon::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{HostVersion, InputSummary, Report};
use crate::severity::Severity;

/// What decides a fleet incident (`--fleet-min`, `--fleet-window`).
#[derive(Clone, Copy, Debug)]
pub struct FleetOptions {
    /// Distinct hosts an incident kind must reach.
    pub min_hosts: usize,
    /// Incidents of one kind at most this far apart (seconds, from the end
    /// of one to the start of the next) are one fleet incident.
    pub window_s: i64,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            min_hosts: 2,
            window_s: 24 * 3600,
        }
    }
}

/// One incident kind on many hosts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FleetIncident {
    /// Always `fleet` (per-host incidents, under `incidents`, have no
    /// scope field).
    pub scope: Scope,
    pub rank: usize,
    pub kind: String,
    /// The finding in one sentence, with the version split when there is
    /// one ("dockerd_stop_loop on 3 of 5 hosts, all on docker 19.03.15; the
    /// 2 hosts on docker 20.10.12 are clean").
    pub title: String,
    /// The worst severity of the per-host incidents it groups.
    pub severity: Severity,
    pub first_seen: String,
    pub last_seen: String,
    /// How many hosts the report knows of (the fleet).
    pub fleet_size: usize,
    /// The hosts it hit, by name.
    pub hosts: Vec<FleetHost>,
    /// Hosts of the fleet with no finding of this kind at all.
    pub clean_hosts: Vec<String>,
    /// Ranks of the per-host incidents it groups (into `incidents`).
    pub incidents: Vec<usize>,
    /// Per component, the versions of the hosts hit against those of the
    /// clean hosts.
    pub versions: Vec<VersionSplit>,
}

impl FleetIncident {
    /// Its facts as labelled lines, for the printers that show it as text
    /// (text, Markdown): each host hit with its times, versions and
    /// incidents; the clean hosts; each component's split.
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        let mut rows = vec![("when", format!("{} → {}", self.first_seen, self.last_seen))];
        for h in &self.hosts {
            let versions: Vec<String> = h
                .versions
                .iter()
                .map(|v| format!("{} {}", v.component, v.version))
                .collect();
            let ranks: Vec<String> = h.incidents.iter().map(|r| format!("#{r}")).collect();
            rows.push((
                "hit",
                format!(
                    "{}  {} → {}  {}  ({})",
                    h.host,
                    h.first_seen,
                    h.last_seen,
                    if versions.is_empty() {
                        "versions unknown".to_string()
                    } else {
                        versions.join(", ")
                    },
                    ranks.join(", ")
                ),
            ));
        }
        if !self.clean_hosts.is_empty() {
            rows.push(("clean", self.clean_hosts.join(", ")));
        }
        for v in &self.versions {
            let list = |versions: &[VersionHosts]| {
                versions
                    .iter()
                    .map(|v| format!("{} ({})", v.version, v.hosts.len()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut text = format!("{}: hit on {}", v.component, list(&v.affected));
            if !v.affected_unknown.is_empty() {
                text.push_str(&format!(", unknown ({})", v.affected_unknown.len()));
            }
            if !v.clean.is_empty() {
                text.push_str(&format!("; clean on {}", list(&v.clean)));
            }
            if v.splits {
                text.push_str(": the version tells them apart");
            }
            rows.push(("versions", text));
        }
        rows
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Fleet,
}

/// One host a fleet incident hit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FleetHost {
    pub host: String,
    pub first_seen: String,
    pub last_seen: String,
    /// Ranks of its incidents of this kind.
    pub incidents: Vec<usize>,
    /// Every component version its logs state.
    pub versions: Vec<ComponentOnHost>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ComponentOnHost {
    pub component: String,
    pub version: String,
}

/// One component's versions across a fleet incident's hosts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VersionSplit {
    pub component: String,
    /// The versions the hosts hit run, each with its hosts.
    pub affected: Vec<VersionHosts>,
    /// The versions the clean hosts run.
    pub clean: Vec<VersionHosts>,
    /// Hosts hit whose logs state no version of it.
    pub affected_unknown: Vec<String>,
    /// Whether no clean host runs a version a host hit runs: the version
    /// tells the hit from the spared.
    pub splits: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VersionHosts {
    pub version: String,
    pub hosts: Vec<String>,
}

/// A per-host incident as fleet grouping sees it.
#[derive(Clone, Debug)]
pub struct Sighting {
    pub kind: String,
    /// Every finding kind it holds (a host with any is not clean).
    pub finding_kinds: Vec<String>,
    pub hosts: Vec<String>,
    pub first: DateTime<FixedOffset>,
    pub last: DateTime<FixedOffset>,
    pub first_seen: String,
    pub last_seen: String,
    pub severity: Severity,
    /// Its rank in the report the fleet incident is part of.
    pub rank: usize,
    /// The components whose version decides its fix.
    pub components: Vec<String>,
}

/// The fleet incidents of a report (analyze over many hosts).
pub fn fleet(report: &Report, options: FleetOptions) -> Vec<FleetIncident> {
    let sightings = sightings(report, |rank| rank);
    let hosts = hosts(report);
    group(&sightings, &hosts, &report.host_versions, options)
}

/// Every host a report knows: named by its inputs, its version facts or
/// its incidents.
pub fn hosts(report: &Report) -> BTreeSet<String> {
    let mut hosts: BTreeSet<String> = report
        .inputs
        .iter()
        .flat_map(|i| i.hosts.iter().cloned())
        .collect();
    hosts.extend(report.host_versions.iter().filter_map(|v| v.host.clone()));
    hosts.extend(
        report
            .incidents
            .iter()
            .flat_map(|i| i.hosts.iter().cloned()),
    );
    hosts
}

/// A report's incidents with a wall-clock time and a host, their ranks
/// passed through `rank` (a merge renumbers them).
pub fn sightings(report: &Report, rank: impl Fn(usize) -> usize) -> Vec<Sighting> {
    let input_hosts = InputHosts::of(&report.inputs);
    report
        .incidents
        .iter()
        .filter_map(|i| {
            input_hosts.sighting(Facts {
                kind: &i.kind,
                finding_kinds: i.findings.iter().map(|f| f.kind.as_str()).collect(),
                evidence_files: i
                    .findings
                    .iter()
                    .flat_map(|f| &f.evidence)
                    .map(|e| e.file.as_str())
                    .collect(),
                hosts: &i.hosts,
                relative: i.first_relative.is_some() || i.last_relative.is_some(),
                first_seen: &i.first_seen,
                last_seen: &i.last_seen,
                severity: i.severity,
                rank: rank(i.rank),
                components: i.versions.iter().map(|v| v.component.as_str()).collect(),
            })
        })
        .collect()
}

/// What fleet grouping reads of one per-host incident, whether it was
/// built whole (analyze) or skimmed from a report's JSON (merge).
pub struct Facts<'a> {
    pub kind: &'a str,
    pub finding_kinds: Vec<&'a str>,
    /// The inputs its evidence was read from.
    pub evidence_files: Vec<&'a str>,
    pub hosts: &'a [String],
    /// Whether its first or last time is on its input's own clock.
    pub relative: bool,
    pub first_seen: &'a str,
    pub last_seen: &'a str,
    pub severity: Severity,
    pub rank: usize,
    pub components: Vec<&'a str>,
}

/// The host of each input path that names exactly one; none for a path
/// that two inputs of different hosts share (a merged report's
/// /var/log/messages of many nodes).
pub struct InputHosts<'a>(BTreeMap<&'a str, Option<&'a str>>);

impl<'a> InputHosts<'a> {
    pub fn of(inputs: &'a [InputSummary]) -> InputHosts<'a> {
        let mut input_host: BTreeMap<&str, Option<&str>> = BTreeMap::new();
        for i in inputs {
            let host = match i.hosts.as_slice() {
                [one] => Some(one.as_str()),
                _ => None,
            };
            input_host
                .entry(i.path.as_str())
                .and_modify(|seen| {
                    if *seen != host {
                        *seen = None;
                    }
                })
                .or_insert(host);
        }
        InputHosts(input_host)
    }

    /// The incident as a sighting: none when it has no wall-clock time or
    /// no host (neither its lines nor all its inputs name one).
    pub fn sighting(&self, i: Facts) -> Option<Sighting> {
        if i.relative {
            return None;
        }
        let first = DateTime::parse_from_rfc3339(i.first_seen).ok()?;
        let last = DateTime::parse_from_rfc3339(i.last_seen).ok()?;
        let hosts = if i.hosts.is_empty() {
            let from_inputs: Option<BTreeSet<&str>> = i
                .evidence_files
                .iter()
                .map(|file| self.0.get(file).copied().flatten())
                .collect();
            from_inputs?.into_iter().map(str::to_string).collect()
        } else {
            i.hosts.to_vec()
        };
        if hosts.is_empty() {
            return None;
        }
        Some(Sighting {
            kind: i.kind.to_string(),
            finding_kinds: i.finding_kinds.iter().map(|k| k.to_string()).collect(),
            hosts,
            first,
            last,
            first_seen: i.first_seen.to_string(),
            last_seen: i.last_seen.to_string(),
            severity: i.severity,
            rank: i.rank,
            components: i.components.iter().map(|c| c.to_string()).collect(),
        })
    }
}

/// Groups sightings of one kind that follow each other within the window
/// into fleet incidents, keeping those on at least `min_hosts` hosts;
/// `fleet` is every host known, `versions` what each states.
pub fn group(
    sightings: &[Sighting],
    fleet: &BTreeSet<String>,
    versions: &[HostVersion],
    options: FleetOptions,
) -> Vec<FleetIncident> {
    let mut by_kind: BTreeMap<&str, Vec<&Sighting>> = BTreeMap::new();
    for s in sightings {
        by_kind.entry(s.kind.as_str()).or_default().push(s);
    }
    let inventory = inventory(versions);
    // Per kind, the hosts with it anywhere (in a group or not): not clean.
    let mut touched: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in sightings {
        let kinds: BTreeSet<&str> = std::iter::once(s.kind.as_str())
            .chain(s.finding_kinds.iter().map(String::as_str))
            .collect();
        for kind in kinds {
            touched
                .entry(kind)
                .or_default()
                .extend(s.hosts.iter().map(String::as_str));
        }
    }
    let none = BTreeSet::new();
    let window = chrono::Duration::seconds(options.window_s);
    // Kind by kind in parallel (a merge of 10,000 reports: 50 kinds of
    // 10,000 sightings each), in the order of the kinds.
    let by_kind: Vec<(&str, Vec<&Sighting>)> = by_kind.into_iter().collect();
    let mut out: Vec<FleetIncident> = by_kind
        .into_par_iter()
        .flat_map_iter(|(kind, mut list)| {
            list.sort_by_key(|s| (s.first, s.last, s.rank));
            let mut out = Vec::new();
            let mut start = 0;
            while start < list.len() {
                let mut end = start + 1;
                let mut reach = list[start].last;
                while end < list.len() && list[end].first <= reach + window {
                    reach = reach.max(list[end].last);
                    end += 1;
                }
                let members = &list[start..end];
                let hit: BTreeSet<&str> = members
                    .iter()
                    .flat_map(|s| s.hosts.iter().map(String::as_str))
                    .collect();
                if hit.len() >= options.min_hosts.max(2) {
                    let touched = touched.get(kind).unwrap_or(&none);
                    out.push(incident(kind, members, touched, fleet, &inventory));
                }
                start = end;
            }
            out
        })
        .collect();
    out.sort_by(|a, b| {
        b.hosts
            .len()
            .cmp(&a.hosts.len())
            .then(b.severity.cmp(&a.severity))
            .then_with(|| a.first_seen.cmp(&b.first_seen))
            .then_with(|| a.kind.cmp(&b.kind))
    });
    for (i, f) in out.iter_mut().enumerate() {
        f.rank = i + 1;
    }
    out
}

/// Host → component → versions.
type Inventory<'a> = BTreeMap<&'a str, BTreeMap<&'a str, BTreeSet<&'a str>>>;

fn inventory(versions: &[HostVersion]) -> Inventory<'_> {
    let mut inventory: Inventory = BTreeMap::new();
    for v in versions {
        if let Some(host) = &v.host {
            inventory
                .entry(host)
                .or_default()
                .entry(&v.component)
                .or_default()
                .insert(&v.version);
        }
    }
    inventory
}

fn incident(
    kind: &str,
    members: &[&Sighting],
    touched: &BTreeSet<&str>,
    fleet: &BTreeSet<String>,
    inventory: &Inventory,
) -> FleetIncident {
    let mut per_host: BTreeMap<&str, Vec<&Sighting>> = BTreeMap::new();
    for s in members {
        for h in &s.hosts {
            per_host.entry(h).or_default().push(s);
        }
    }
    let clean: Vec<String> = fleet
        .iter()
        .filter(|h| !touched.contains(h.as_str()))
        .cloned()
        .collect();
    let hosts: Vec<FleetHost> = per_host
        .iter()
        .map(|(host, list)| {
            let first = list.iter().min_by_key(|s| s.first).map(|s| &s.first_seen);
            let last = list.iter().max_by_key(|s| s.last).map(|s| &s.last_seen);
            let mut ranks: Vec<usize> = list.iter().map(|s| s.rank).collect();
            ranks.sort_unstable();
            FleetHost {
                host: host.to_string(),
                first_seen: first.cloned().unwrap_or_default(),
                last_seen: last.cloned().unwrap_or_default(),
                incidents: ranks,
                versions: inventory
                    .get(host)
                    .into_iter()
                    .flatten()
                    .flat_map(|(c, vs)| {
                        vs.iter().map(|v| ComponentOnHost {
                            component: c.to_string(),
                            version: v.to_string(),
                        })
                    })
                    .collect(),
            }
        })
        .collect();
    let hit: Vec<&str> = per_host.keys().copied().collect();
    let decisive: Vec<&str> = members
        .iter()
        .flat_map(|s| s.components.iter().map(String::as_str))
        .collect();
    let versions = splits(&hit, &clean, &decisive, inventory);
    let first = members.iter().min_by_key(|s| s.first);
    let last = members.iter().max_by_key(|s| s.last);
    let mut incidents: Vec<usize> = members.iter().map(|s| s.rank).collect();
    incidents.sort_unstable();
    incidents.dedup();
    FleetIncident {
        scope: Scope::Fleet,
        rank: 0,
        kind: kind.to_string(),
        title: title(kind, hit.len(), fleet.len(), &versions),
        severity: members
            .iter()
            .map(|s| s.severity)
            .max()
            .unwrap_or(Severity::Low),
        first_seen: first.map(|s| s.first_seen.clone()).unwrap_or_default(),
        last_seen: last.map(|s| s.last_seen.clone()).unwrap_or_default(),
        fleet_size: fleet.len(),
        hosts,
        clean_hosts: clean,
        incidents,
        versions,
    }
}

/// Each component any host states, those that decide the kind's fix
/// first, then those whose version tells the hit from the spared.
fn splits(
    hit: &[&str],
    clean: &[String],
    decisive: &[&str],
    inventory: &Inventory,
) -> Vec<VersionSplit> {
    let components: BTreeSet<&str> = hit
        .iter()
        .copied()
        .chain(clean.iter().map(String::as_str))
        .filter_map(|h| inventory.get(h))
        .flat_map(|c| c.keys().copied())
        .collect();
    let versions_of = |hosts: &mut dyn Iterator<Item = &str>, component: &str| {
        let mut by_version: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for h in hosts {
            for v in inventory
                .get(h)
                .and_then(|c| c.get(component))
                .into_iter()
                .flatten()
            {
                by_version.entry(v).or_default().push(h.to_string());
            }
        }
        by_version
            .into_iter()
            .map(|(version, hosts)| VersionHosts {
                version: version.to_string(),
                hosts,
            })
            .collect::<Vec<_>>()
    };
    let mut out: Vec<VersionSplit> = components
        .into_iter()
        .map(|component| {
            let affected = versions_of(&mut hit.iter().copied(), component);
            let clean_versions = versions_of(&mut clean.iter().map(String::as_str), component);
            let splits = !affected.is_empty()
                && !clean_versions.is_empty()
                && !affected
                    .iter()
                    .any(|a| clean_versions.iter().any(|c| c.version == a.version));
            VersionSplit {
                component: component.to_string(),
                affected_unknown: hit
                    .iter()
                    .filter(|h| inventory.get(*h).is_none_or(|c| !c.contains_key(component)))
                    .map(|h| h.to_string())
                    .collect(),
                affected,
                clean: clean_versions,
                splits,
            }
        })
        .collect();
    out.sort_by_key(|s| {
        (
            !decisive.contains(&s.component.as_str()),
            !s.splits,
            s.component.clone(),
        )
    });
    out
}

/// "KIND on N of M hosts", and what the first component's versions say.
fn title(kind: &str, hit: usize, fleet: usize, versions: &[VersionSplit]) -> String {
    let mut title = format!("{kind} on {hit} of {fleet} hosts");
    let Some(split) = versions.iter().find(|s| !s.affected.is_empty()) else {
        return title;
    };
    let c = &split.component;
    match split.affected.as_slice() {
        [one] if split.affected_unknown.is_empty() => {
            title.push_str(&format!(", all on {c} {}", one.version));
        }
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|v| format!("{} ({})", v.version, v.hosts.len()))
                .collect();
            title.push_str(&format!(", on {c} {}", list.join(", ")));
            if !split.affected_unknown.is_empty() {
                title.push_str(&format!(" and unknown ({})", split.affected_unknown.len()));
            }
        }
    }
    let clean: Vec<String> = split
        .clean
        .iter()
        .map(|v| match v.hosts.len() {
            1 => format!("the host on {c} {} is clean", v.version),
            n => format!("the {n} hosts on {c} {} are clean", v.version),
        })
        .collect();
    if !clean.is_empty() {
        title.push_str("; ");
        title.push_str(&clean.join(", "));
    }
    title
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sighting(kind: &str, host: &str, first: &str, last: &str, rank: usize) -> Sighting {
        Sighting {
            kind: kind.to_string(),
            finding_kinds: vec![kind.to_string()],
            hosts: vec![host.to_string()],
            first: DateTime::parse_from_rfc3339(first).unwrap(),
            last: DateTime::parse_from_rfc3339(last).unwrap(),
            first_seen: first.to_string(),
            last_seen: last.to_string(),
            severity: Severity::High,
            rank,
            components: vec!["docker".to_string()],
        }
    }

    fn docker(host: &str, version: &str) -> HostVersion {
        HostVersion {
            host: Some(host.to_string()),
            component: "docker".to_string(),
            version: version.to_string(),
        }
    }

    #[test]
    fn one_kind_on_many_hosts_is_one_fleet_incident_with_its_version_split() {
        let s = vec![
            sighting(
                "dockerd_stop_loop",
                "n1",
                "2023-05-02T00:10:00+08:00",
                "2023-05-02T00:12:00+08:00",
                1,
            ),
            sighting(
                "dockerd_stop_loop",
                "n2",
                "2023-05-02T03:00:00+08:00",
                "2023-05-02T03:05:00+08:00",
                2,
            ),
            sighting(
                "dockerd_stop_loop",
                "n3",
                "2023-05-04T03:00:00+08:00",
                "2023-05-04T03:05:00+08:00",
                3,
            ),
        ];
        let fleet: BTreeSet<String> = ["n1", "n2", "n3", "n4"].map(String::from).into();
        let versions = [
            docker("n1", "19.03.15"),
            docker("n2", "19.03.15"),
            docker("n4", "20.10.12"),
        ];
        let out = group(&s, &fleet, &versions, FleetOptions::default());
        // n3 comes two days later: outside the 24 h window, on its own.
        assert_eq!(out.len(), 1);
        let f = &out[0];
        assert_eq!(f.incidents, [1, 2]);
        let hosts: Vec<&str> = f.hosts.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(hosts, ["n1", "n2"]);
        assert_eq!(f.clean_hosts, ["n4"], "n3 had the kind, later: not clean");
        assert!(f.versions[0].splits);
        assert_eq!(
            f.title,
            "dockerd_stop_loop on 2 of 4 hosts, all on docker 19.03.15; \
             the host on docker 20.10.12 is clean"
        );
        let wide = FleetOptions {
            min_hosts: 3,
            window_s: 3 * 24 * 3600,
        };
        let out = group(&s, &fleet, &versions, wide);
        assert_eq!(out[0].hosts.len(), 3);
        assert_eq!(out[0].versions[0].affected_unknown, ["n3"]);
    }

    #[test]
    fn a_kind_on_one_host_only_is_no_fleet_incident() {
        let s = vec![
            sighting(
                "oom_kill",
                "n1",
                "2023-05-02T00:10:00Z",
                "2023-05-02T00:12:00Z",
                1,
            ),
            sighting(
                "oom_kill",
                "n1",
                "2023-05-02T01:10:00Z",
                "2023-05-02T01:12:00Z",
                2,
            ),
        ];
        let fleet: BTreeSet<String> = ["n1", "n2"].map(String::from).into();
        assert!(group(&s, &fleet, &[], FleetOptions::default()).is_empty());
    }
}
