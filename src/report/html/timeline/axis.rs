//! The timeline's time axis: instants to x, and grid lines on round local
//! times (whole minutes, hours, local midnights) whose step adapts to the
//! span, labeled with clock times and the date where it changes, or with
//! dates alone when a step is a day or more.

use std::io::{self, Write};

use chrono::{DateTime, FixedOffset, NaiveTime};

use super::{PLOT_LEFT, PLOT_RIGHT};

/// Tick labels at least this far apart.
const TICK_SPACING: f64 = 84.0;
/// Tick steps, in seconds: the smallest that keeps the labels apart is used.
const STEPS: [i64; 23] = [
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    DAY,
    2 * DAY,
    3 * DAY,
    7 * DAY,
    14 * DAY,
    30 * DAY,
];
const DAY: i64 = 86_400;

/// Milliseconds to x, labeled in one zone (the earliest finding's).
pub(super) struct Axis {
    t0: i64,
    t1: i64,
    zone: FixedOffset,
}

impl Axis {
    /// Spans `start..=end` (milliseconds), with a margin so that no mark
    /// touches an edge.
    pub(super) fn new(start: i64, end: i64, zone: FixedOffset) -> Axis {
        let margin = ((end - start) / 50).max(30_000);
        Axis {
            t0: start - margin,
            t1: end + margin,
            zone,
        }
    }

    pub(super) fn x(&self, t: i64) -> f64 {
        PLOT_LEFT + (t - self.t0) as f64 / (self.t1 - self.t0) as f64 * (PLOT_RIGHT - PLOT_LEFT)
    }

    /// The year and zone the labels are in: `2023 · times UTC+08:00`.
    pub(super) fn caption(&self) -> String {
        let year = DateTime::from_timestamp(self.t0 / 1000, 0)
            .map(|t| t.with_timezone(&self.zone).format("%Y · ").to_string());
        format!("{}times UTC{}", year.unwrap_or_default(), self.zone)
    }

    /// The smallest step, in seconds, that keeps tick labels apart.
    fn step(&self) -> i64 {
        let fit = ((PLOT_RIGHT - PLOT_LEFT) / TICK_SPACING) as i64;
        let span = (self.t1 - self.t0) / 1000;
        STEPS
            .into_iter()
            .find(|s| span / s < fit)
            .unwrap_or(STEPS[STEPS.len() - 1])
    }

    /// The ticks: every multiple of the step in local time, inside the axis.
    fn ticks(&self) -> Vec<DateTime<FixedOffset>> {
        let step = self.step();
        let offset = i64::from(self.zone.local_minus_utc());
        let first = (self.t0 / 1000 + offset).div_euclid(step) * step + step - offset;
        (0..)
            .map(|n| first + n * step)
            .take_while(|t| *t * 1000 <= self.t1)
            .filter_map(|t| DateTime::from_timestamp(t, 0))
            .map(|t| t.with_timezone(&self.zone))
            .collect()
    }

    /// Grid lines from `top` to `bottom`, labels above `top`; local
    /// midnights stand out when ticks are less than a day apart.
    pub(super) fn print(&self, top: f64, bottom: f64, out: &mut dyn Write) -> io::Result<()> {
        let step = self.step();
        let daily = step >= DAY;
        let mut last_date = None;
        writeln!(out, "<g class=\"axis\">")?;
        for t in self.ticks() {
            let x = self.x(t.timestamp_millis());
            let midnight = !daily && t.time() == NaiveTime::MIN;
            writeln!(
                out,
                "<line class=\"grid{}\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.0}\" y2=\"{bottom:.0}\"/>",
                if midnight { " day" } else { "" },
                top - 4.0
            )?;
            let label = match step {
                s if s >= DAY => t.format("%b %-d"),
                s if s < 60 => t.format("%H:%M:%S"),
                _ => t.format("%H:%M"),
            };
            writeln!(
                out,
                "<text class=\"tick\" x=\"{x:.1}\" y=\"{:.0}\">{label}</text>",
                top - 8.0
            )?;
            if !daily && last_date != Some(t.date_naive()) {
                writeln!(
                    out,
                    "<text class=\"tick date\" x=\"{x:.1}\" y=\"{:.0}\">{}</text>",
                    top - 22.0,
                    t.format("%a %b %-d")
                )?;
                last_date = Some(t.date_naive());
            }
        }
        writeln!(out, "</g>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An axis from 2023-05-01T00:00:00Z, labeled in UTC+08:00.
    fn axis(span_s: i64) -> Axis {
        Axis {
            t0: 1_682_899_200_000,
            t1: 1_682_899_200_000 + span_s * 1000,
            zone: FixedOffset::east_opt(8 * 3600).unwrap(),
        }
    }

    #[test]
    fn ticks_adapt_to_the_span() {
        assert_eq!(axis(9 * 60).step(), 60);
        assert_eq!(axis(14 * 3600).step(), 7200);
        assert_eq!(axis(28 * DAY).step(), 3 * DAY);
        assert_eq!(axis(60 * DAY).step(), 7 * DAY);
    }

    #[test]
    fn ticks_fall_on_round_local_times() {
        let days = axis(28 * DAY).ticks();
        assert_eq!(days.len(), 10);
        assert!(days
            .iter()
            .all(|t| t.time() == NaiveTime::MIN && t.offset().local_minus_utc() == 8 * 3600));
        let hours = axis(14 * 3600).ticks();
        assert!(hours
            .iter()
            .all(|t| t.format("%M:%S").to_string() == "00:00"));
        assert_eq!(hours[0].format("%H").to_string(), "10");
    }
}
