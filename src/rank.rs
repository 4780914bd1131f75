//! Ranking: how much an incident deserves attention, as one number.
//!
//! ```text
//! score = weight(severity) × (1 + 0.5 × (sources − 1))
//!       + min(15, 5 × log10(1 + events))
//!       + min(10, 3 × log10(1 + minutes from first to last event))
//! weight: critical 100, high 70, medium 40, low 10
//! ```
//! Severity dominates; components that independently report the same
//! trouble (dockerd *and* kubelet) multiply it; volume and duration break ties
//! between incidents of one severity without letting a chatty low-severity
//! finding outrank a real failure: the two volume terms together add at
//! most 25, less than the gap between two severity weights. The incident's severity is its worst
//! finding's, raised one step when two or more components agree on a
//! medium or worse problem. Incidents are ordered by score, then by first
//! event, then by title, so the order is total and stable.

use crate::severity::Severity;

/// The facts the score is computed from.
#[derive(Clone, Copy, Debug)]
pub struct Weighing {
    pub worst: Severity,
    pub sources: usize,
    pub events: usize,
    pub minutes: f64,
}

pub fn severity(w: Weighing) -> Severity {
    if w.sources >= 2 && w.worst >= Severity::Medium {
        w.worst.raised()
    } else {
        w.worst
    }
}

pub fn score(w: Weighing) -> f64 {
    let weight = match severity(w) {
        Severity::Critical => 100.0,
        Severity::High => 70.0,
        Severity::Medium => 40.0,
        Severity::Low => 10.0,
    };
    let corroboration = 1.0 + 0.5 * (w.sources.max(1) - 1) as f64;
    let raw = weight * corroboration
        + (5.0 * (1.0 + w.events as f64).log10()).min(15.0)
        + (3.0 * (1.0 + w.minutes.max(0.0)).log10()).min(10.0);
    (raw * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(worst: Severity, sources: usize, events: usize, minutes: f64) -> Weighing {
        Weighing {
            worst,
            sources,
            events,
            minutes,
        }
    }

    #[test]
    fn corroborated_high_outranks_a_lone_high_and_becomes_critical() {
        let loop_and_kubelet = w(Severity::High, 2, 50, 600.0);
        let loop_alone = w(Severity::High, 1, 5000, 6000.0);
        assert_eq!(severity(loop_and_kubelet), Severity::Critical);
        assert!(score(loop_and_kubelet) > score(loop_alone));
    }

    #[test]
    fn a_flood_of_low_findings_never_outranks_a_medium_one() {
        let noisy = w(Severity::Low, 1, 10_000_000, 60.0 * 24.0 * 30.0);
        let real = w(Severity::Medium, 1, 1, 0.0);
        assert!(
            score(real) > score(noisy),
            "{} vs {}",
            score(real),
            score(noisy)
        );
    }

    #[test]
    fn low_findings_are_not_raised_by_agreement() {
        assert_eq!(severity(w(Severity::Low, 3, 3, 1.0)), Severity::Low);
    }
}
