//! Sequence rules (a detector's `routine_after`, see
//! [`crate::grammar::Routine`]): a line of the detector counts only when no
//! mark for its subject came within the rule's window before it, and its
//! input reaches that far back.
//!
//! Scanning already leaves out the routine lines whose mark came earlier in
//! the same buffer ([`crate::scan`]): that is nearly all of them, since a
//! component writes the two lines milliseconds apart. What is left is
//! judged here against every input's marks: a mark at the end of the
//! previous buffer, in another file (dockerd's log beside containerd's), or
//! written a moment after the line by another program.

use std::collections::HashMap;

use crate::entity::Entity;
use crate::grammar::Grammar;
use crate::time::EventTime;

use super::{subject_of, Event, PodIndex};

/// Milliseconds a mark may come after the line it makes routine: lines two
/// programs write at once reach the log in either order.
const SAME_INSTANT_MS: i64 = 1000;

/// A mark placed in time: its pattern, time, entities and host.
pub struct PlacedMark<'m> {
    pub pattern: usize,
    pub time: EventTime,
    pub entities: &'m [Entity],
    pub host: Option<&'m str>,
}

/// The marks of every sequence rule, by detector and subject, and where each
/// input's time begins.
#[derive(Default)]
pub struct Precursors {
    /// Per detector with a rule, its subjects' mark times, in order.
    marks: HashMap<usize, HashMap<Entity, Vec<EventTime>>>,
    /// Per input, the time of its first record.
    starts: Vec<Option<EventTime>>,
    /// The detectors whose marks the logs show at all.
    judged: Vec<usize>,
}

impl Precursors {
    pub fn new<'m>(
        grammar: &Grammar,
        marks: impl Iterator<Item = PlacedMark<'m>>,
        starts: Vec<Option<EventTime>>,
        judged: Vec<usize>,
        graph: &crate::entity::EntityGraph,
    ) -> Precursors {
        let pods = PodIndex::new(graph);
        let routines = grammar.routines_of_pattern();
        let mut by_detector: HashMap<usize, HashMap<Entity, Vec<EventTime>>> = HashMap::new();
        for mark in marks {
            for &d in &routines[mark.pattern] {
                let per = &grammar.detectors[d].per;
                if let Some(subject) = subject_of(per, mark.entities, mark.host, &pods) {
                    let times = by_detector.entry(d).or_default().entry(subject);
                    times.or_default().push(mark.time);
                }
            }
        }
        for times in by_detector.values_mut().flat_map(HashMap::values_mut) {
            times.sort_unstable();
        }
        Precursors {
            marks: by_detector,
            starts,
            judged,
        }
    }

    /// Whether detector `d` counts `event`, a line about `subject`: yes
    /// unless a mark for the subject came at most `within_s` before it (or
    /// in the same instant after it), or its input does not reach that far
    /// back, or its line has no clock to measure with, or no input shows a
    /// single mark of the rule (the log that would show the routine ends is
    /// not among them: containerd's journal read without dockerd's).
    pub fn counts(&self, d: usize, within_s: i64, subject: &Entity, event: &Event) -> bool {
        if !self.judged.contains(&d) {
            return false;
        }
        let window_ms = within_s.saturating_mul(1000);
        let reaches_back = self
            .starts
            .get(event.input())
            .copied()
            .flatten()
            .and_then(|start| event.time.millis_since(&start))
            .is_some_and(|ms| ms >= window_ms);
        if !reaches_back {
            return false;
        }
        let marks = self.marks.get(&d).and_then(|m| m.get(subject));
        !marks.is_some_and(|times| {
            times.iter().any(|mark| {
                event
                    .time
                    .millis_since(mark)
                    .is_some_and(|ms| (-SAME_INSTANT_MS..=window_ms).contains(&ms))
            })
        })
    }
}
