//! The API server's clock as a check on a node's zone (issue 17): a
//! Kubernetes event carries an exact UTC instant, and kubelet logs the
//! failure it reports (a `FailedKillPod`, a `BackOff`) in the same moment,
//! naming the same pod or container. When the node's lines that name the
//! pods the API recorded sit a whole number of quarter hours away from the
//! API's times, again and again, the zone their local readings were read
//! in is off by that much, and the input's notes say so.
//!
//! Only a consistent shift counts. For each API event, the shifts (whole
//! quarter hours within 14 h) at which a node-log event of the same pod or
//! container lies, give or take [`SLACK_S`], are its votes; a shift is
//! named when it has the most votes alone, at least [`MIN_PAIRS`] of them
//! and two thirds of the API events that found any counterpart, and no API
//! event has a counterpart at zero shift (lines that agree with the API
//! clock outweigh any shift). A pod whose lines repeat all day has
//! counterparts at every shift, zero among them: it can hide a shift,
//! never invent one.
//!
//! What the shift changes is the caller's choice (src/analyze.rs): an
//! input whose zone nothing stated (read in the analyst's zone) is read
//! again at the API's offset, since the API is the only witness; a zone
//! the user or the logs gave is kept and the note says it looks wrong
//! (a node clock off by whole hours looks the same, and the user knows
//! which it is).

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::detect::Event;
use crate::entity::Entity;

/// Differences needed before a shift is named.
pub const MIN_PAIRS: usize = 3;
/// How far from a quarter hour a difference may be (kubelet writes its
/// line and posts its event within moments; an event's time is its last
/// occurrence, up to a sync period late).
pub const SLACK_S: i64 = 120;
/// A zone is at most 14 hours from UTC.
const REACH_S: i64 = 14 * 3600 + 15 * 60;
const QUARTER: i64 = 15 * 60;
/// Node-log events looked at per API event and input (a stop loop writes
/// thousands a day).
const MAX_NEAR: usize = 4096;

/// Which side of the comparison an event is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A Kubernetes event read from the API.
    Api,
    /// A node's log line.
    Node,
    /// Neither: another API record (a container's or condition's state,
    /// whose time is not the moment kubelet wrote a line).
    Neither,
}

/// How far one input's lines sit from the API's times of the same pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    pub input: usize,
    /// Seconds the input's instants are later than the API's: the offset
    /// its local readings lack.
    pub seconds: i64,
    /// API events that agree on it.
    pub pairs: usize,
}

impl Shift {
    /// The input's note: the shift, and whether its lines were read again
    /// at the API's offset.
    pub fn note(&self, corrected: bool) -> String {
        let q = self.seconds;
        let sign = if q < 0 { "-" } else { "+" };
        let (h, m) = (q.abs() / 3600, q.abs() % 3600 / 60);
        let then = if corrected {
            "nothing stated its zone, so its local times were read again that much east"
        } else {
            "the zone its lines were read in looks wrong by that much (see --tz)"
        };
        format!(
            "its lines about pods the API server also recorded sit {sign}{h:02}:{m:02} from the \
             API's (UTC) times in {} cases: {then}",
            self.pairs
        )
    }
}

/// The inputs whose lines are shifted from the API's times of the same
/// pods, in input order; `side` tells which events are which, `group`
/// the pod an entity belongs to (the entity graph's group: a container ID
/// a node line names and the pod an API event names are one).
pub fn shifts(
    events: &[Event],
    side: &dyn Fn(&Event) -> Side,
    group: &dyn Fn(&Entity) -> Option<usize>,
) -> Vec<Shift> {
    let key = |e: &Entity| match e {
        Entity::Pod(_) | Entity::PodName(_) | Entity::PodUid(_) | Entity::Container(_) => group(e),
        _ => None,
    };
    let api_keys: HashSet<usize> = events
        .iter()
        .filter(|e| side(e) == Side::Api)
        .flat_map(|e| e.entities.iter().filter_map(key))
        .collect();
    if api_keys.is_empty() {
        return Vec::new();
    }
    // Node-log instants (UTC seconds) by pod or container, and input.
    let mut node: HashMap<usize, HashMap<usize, Vec<i64>>> = HashMap::new();
    for e in events.iter().filter(|e| side(e) == Side::Node) {
        let Some(t) = e.time.wall() else { continue };
        for entity in e.entities.iter() {
            if let Some(k) = key(entity).filter(|k| api_keys.contains(k)) {
                let times = node.entry(k).or_default().entry(e.input()).or_default();
                times.push(t.timestamp());
            }
        }
    }
    for inputs in node.values_mut() {
        for times in inputs.values_mut() {
            times.sort_unstable();
        }
    }
    // For each input, the shifts each API event finds a counterpart at.
    let mut votes: HashMap<usize, Vec<BTreeSet<i64>>> = HashMap::new();
    for e in events.iter().filter(|e| side(e) == Side::Api) {
        let Some(t) = e.time.wall().map(|t| t.timestamp()) else {
            continue;
        };
        let mut found: HashMap<usize, BTreeSet<i64>> = HashMap::new();
        let keys: HashSet<usize> = e.entities.iter().filter_map(key).collect();
        for k in keys {
            for (&input, times) in node.get(&k).into_iter().flatten() {
                let from = times.partition_point(|&n| n < t - REACH_S);
                let near = times[from..].iter().take_while(|&&n| n <= t + REACH_S);
                let shifts = found.entry(input).or_default();
                for &n in near.take(MAX_NEAR) {
                    let d = n - t;
                    let q = (d as f64 / QUARTER as f64).round() as i64 * QUARTER;
                    if (d - q).abs() <= SLACK_S {
                        shifts.insert(q);
                    }
                }
            }
        }
        for (input, shifts) in found {
            votes.entry(input).or_default().push(shifts);
        }
    }
    let mut found: Vec<Shift> = votes
        .into_iter()
        .filter_map(|(input, sets)| {
            let (seconds, pairs) = shift(&sets)?;
            Some(Shift {
                input,
                seconds,
                pairs,
            })
        })
        .collect();
    found.sort_unstable_by_key(|s| s.input);
    found
}

/// The shift (seconds) the API events agree on, with how many agree: each
/// set holds the shifts at which one API event has a node-log counterpart.
fn shift(sets: &[BTreeSet<i64>]) -> Option<(i64, usize)> {
    let paired = sets.iter().filter(|s| !s.is_empty()).count();
    let mut by_shift: HashMap<i64, usize> = HashMap::new();
    for q in sets.iter().flatten() {
        *by_shift.entry(*q).or_default() += 1;
    }
    if by_shift.contains_key(&0) {
        return None;
    }
    let mut counts: Vec<(usize, i64)> = by_shift.into_iter().map(|(q, n)| (n, q)).collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let (n, q) = *counts.first()?;
    let unique = counts.get(1).is_none_or(|&(next, _)| next < n);
    (unique && n >= MIN_PAIRS && 3 * n >= 2 * paired).then_some((q, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(shifts: &[&[i64]]) -> Vec<BTreeSet<i64>> {
        shifts.iter().map(|s| s.iter().copied().collect()).collect()
    }

    #[test]
    fn a_consistent_quarter_hour_shift_is_named_and_agreement_or_noise_is_not() {
        let h = 3600;
        assert_eq!(
            shift(&sets(&[&[8 * h], &[8 * h], &[8 * h, 2 * h]])),
            Some((8 * h, 3))
        );
        assert_eq!(
            shift(&sets(&[&[-h], &[-h], &[-h], &[0]])),
            None,
            "one agrees with the API"
        );
        assert_eq!(shift(&sets(&[&[8 * h], &[8 * h]])), None, "too few");
        assert_eq!(
            shift(&sets(&[
                &[8 * h],
                &[8 * h],
                &[8 * h],
                &[h],
                &[2 * h],
                &[3 * h],
                &[4 * h]
            ])),
            None,
            "fewer than two thirds"
        );
        assert_eq!(
            shift(&sets(&[&[8 * h, h], &[8 * h, h], &[8 * h, h]])),
            None,
            "two shifts fit as well"
        );
        let india = 5 * h + 30 * 60;
        let one: &[i64] = &[india];
        assert_eq!(shift(&sets(&[one; 4])), Some((india, 4)));
    }
}
