//! A host's zone learned from what its inputs state, for the inputs whose
//! lines print none (syslog `May  1 11:03:00`, klog `I0501 11:03:00.123`),
//! instead of the zone of the machine running podmortem.
//!
//! Sources, strongest first:
//! - what the bundle states ([`stated`](super::stated)): `timedatectl`,
//!   `/etc/localtime`, `/etc/timezone`, a zone with its rules;
//! - the zone abbreviations journalctl `short-full` printed (`CEST`): the
//!   IANA zones that print those abbreviations at those dates, when they
//!   all share one set of rules (`CEST` does; `CST` is China, US Central
//!   and Cuba Standard Time, and teaches nothing alone).
//!
//! Both are checked against what the host's lines show of their own zone
//! (a local reading beside an absolute one, an envelope's printed offset):
//! lines are what was written, so where a learned zone contradicts them it
//! is not applied, and the input's notes say so. Sources that disagree with
//! each other are named too. `--tz` beats all of it.
//!
//! A source speaks for the inputs of its bundle and for every input that
//! names one of the hosts those inputs name; a `short-full` file for its
//! own hosts.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::OffsetName;

use super::stated::Stated;
use super::{anchor_offset_secs, Provenance, Stamp, TimeContext, TimeSamples, Zone};

/// Offsets shown per host kept to check a zone against.
const MAX_SHOWN: usize = 64;

/// What [`refine`] needs to know of one input.
pub struct Input<'a> {
    pub name: &'a str,
    pub hosts: &'a [String],
    pub samples: &'a TimeSamples,
}

/// What the abbreviations of an input teach: nothing (none printed), a
/// zone, or why none.
type Abbreviated = Option<Result<Learned, String>>;

/// A zone learned, with where from.
#[derive(Clone, Debug)]
struct Learned {
    zone: Zone,
    /// `Asia/Shanghai (timedatectl b.tar:sos_commands/systemd/timedatectl)`.
    from: String,
    /// From the input's own lines.
    own: bool,
}

/// Applies the zones learned to the inputs whose zone was not read from
/// their own lines, and notes what was learned and what disagreed.
/// `rebuild(i, zone)` makes input `i`'s context anew with `zone` as the
/// fallback; `overridden` is `--tz`.
pub fn refine(
    inputs: &[Input<'_>],
    contexts: &mut [TimeContext],
    stated: &[Stated],
    overridden: Option<Zone>,
    rebuild: &mut dyn FnMut(usize, Zone) -> TimeContext,
) {
    if stated.is_empty() && inputs.iter().all(|i| i.samples.abbreviations.is_empty()) {
        return;
    }
    // Inputs of one host often print the same abbreviations at the same
    // times: each set is looked up once.
    let mut memo: HashMap<&[(NaiveDateTime, String)], Abbreviated> = HashMap::new();
    let abbreviated: Vec<Abbreviated> = inputs
        .iter()
        .map(|i| {
            let samples = i.samples.abbreviations.as_slice();
            memo.entry(samples)
                .or_insert_with(|| by_abbreviations(samples))
                .clone()
        })
        .collect();
    let mut stated_of_host: HashMap<&str, BTreeSet<usize>> = HashMap::new();
    let mut stated_of_input: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); inputs.len()];
    for (s, statement) in stated.iter().enumerate() {
        for (i, input) in inputs.iter().enumerate() {
            if statement.covers(input.name) {
                stated_of_input[i].insert(s);
                for host in input.hosts {
                    stated_of_host.entry(host).or_default().insert(s);
                }
            }
        }
    }
    let mut abbreviated_of_host: HashMap<&str, Vec<usize>> = HashMap::new();
    // What each host's lines show of their zone, a few per offset and
    // month: an archive of one host's 100k files is looked at once.
    let mut shown_of_host: HashMap<&str, Vec<(usize, DateTime<FixedOffset>)>> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        for host in input.hosts {
            let teaching = abbreviated_of_host.entry(host).or_default();
            if matches!(abbreviated[i], Some(Ok(_))) && teaching.len() < MAX_SHOWN {
                teaching.push(i);
            }
            let shown = shown_of_host.entry(host).or_default();
            for t in shown_offsets(input.samples) {
                let month = |t: &DateTime<FixedOffset>| (*t.offset(), t.year(), t.month());
                if shown.len() < MAX_SHOWN && !shown.iter().any(|(_, s)| month(s) == month(&t)) {
                    shown.push((i, t));
                }
            }
        }
    }
    for (i, input) in inputs.iter().enumerate() {
        let mut statements: BTreeSet<usize> = stated_of_input[i].clone();
        for host in input.hosts {
            statements.extend(stated_of_host.get(host.as_str()).into_iter().flatten());
        }
        let mut ordered: Vec<&Stated> = statements.iter().map(|&s| &stated[s]).collect();
        ordered.sort_by(|a, b| (a.file, &a.from).cmp(&(b.file, &b.from)));
        let mut sources: Vec<Learned> = ordered
            .into_iter()
            .map(|s| Learned {
                zone: s.zone,
                from: s.describe(),
                own: false,
            })
            .collect();
        match &abbreviated[i] {
            Some(Ok(own)) => sources.push(own.clone()),
            Some(Err(why)) if contexts[i].zone_from == Provenance::Fallback => {
                contexts[i].notes.push(why.clone());
            }
            _ => {}
        }
        let host_abbreviated = input
            .hosts
            .iter()
            .flat_map(|h| abbreviated_of_host.get(h.as_str()).into_iter().flatten())
            .filter(|&&j| j != i);
        for &j in host_abbreviated {
            if let Some(Ok(l)) = &abbreviated[j] {
                let from = format!("{} of {}", l.from, inputs[j].name);
                if !sources.iter().any(|s| s.from == from) {
                    sources.push(Learned {
                        from,
                        own: false,
                        ..l.clone()
                    });
                }
            }
        }
        let Some(chosen) = sources.first().cloned() else {
            continue;
        };
        // An input without local readings reads the same in any zone.
        let Some(when) = reading_of(input.samples, &contexts[i]) else {
            continue;
        };
        let mut notes = Vec::new();
        for other in &sources[1..] {
            if disagree(chosen.zone, other.zone, input.samples, when) {
                notes.push(format!(
                    "zone sources disagree: {} against {}; the first is taken",
                    chosen.from, other.from
                ));
            }
        }
        let own = shown_offsets(input.samples).map(|t| (i, t));
        let of_hosts = input
            .hosts
            .iter()
            .flat_map(|h| shown_of_host.get(h.as_str()).into_iter().flatten())
            .copied();
        let contradiction = own
            .chain(of_hosts)
            .find(|(_, t)| chosen.zone.offset_at(t.naive_utc()) != *t.offset());
        if let Some((j, t)) = contradiction {
            notes.push(format!(
                "zone {} not applied: the lines of {} show {} on {}",
                chosen.from,
                inputs[j].name,
                t.offset(),
                t.format("%Y-%m-%d")
            ));
        } else if let Some(flag) = overridden {
            if disagree(flag, chosen.zone, input.samples, when) {
                notes.push(format!("zone {} stated, --tz used instead", chosen.from));
            }
        } else if matches!(
            contexts[i].zone_from,
            Provenance::Fallback | Provenance::OtherInputs
        ) {
            let mut ctx = rebuild(i, chosen.zone);
            ctx.zone_from = if chosen.own {
                Provenance::Logs
            } else {
                Provenance::OtherInputs
            };
            contexts[i] = ctx;
            notes.insert(0, format!("zone {}", chosen.from));
        }
        contexts[i].notes.extend(notes);
    }
}

/// The instants the input's lines show with their own zone: anchors (a
/// local reading beside an absolute one) and envelopes' printed offsets.
fn shown_offsets(samples: &TimeSamples) -> impl Iterator<Item = DateTime<FixedOffset>> + '_ {
    let anchors = samples.anchors.iter().filter_map(|a| {
        let offset = FixedOffset::east_opt(anchor_offset_secs(a)?)?;
        Some(a.absolute.with_timezone(&offset))
    });
    anchors.chain(samples.seen.iter().copied())
}

/// The UTC instant of the input's last local reading, as its context reads
/// it.
fn reading_of(samples: &TimeSamples, ctx: &TimeContext) -> Option<NaiveDateTime> {
    let (line, stamp) = samples.last_reading()?;
    ctx.resolve(Stamp::Local(stamp), line)
        .map(|t| t.naive_utc())
}

/// Whether zones `a` and `b` give different offsets at the instants the
/// input's lines show or at its last reading.
fn disagree(a: Zone, b: Zone, samples: &TimeSamples, when: NaiveDateTime) -> bool {
    let abbreviated = samples
        .abbreviations
        .iter()
        .filter_map(|(local, _)| a.resolve(*local, false).map(|t| t.naive_utc()));
    let mut instants: Vec<NaiveDateTime> = shown_offsets(samples)
        .map(|t| t.naive_utc())
        .chain(abbreviated)
        .chain([when])
        .collect();
    instants.sort_unstable();
    instants.dedup();
    instants.iter().any(|&t| a.offset_at(t) != b.offset_at(t))
}

/// The zone the abbreviations `samples` fit: `None` without samples,
/// `Err(why)` when they fit no zone or zones with different rules.
fn by_abbreviations(samples: &[(NaiveDateTime, String)]) -> Abbreviated {
    let (first, _) = samples.first()?;
    let names: BTreeSet<&str> = samples.iter().map(|(_, n)| n.as_str()).collect();
    let names = names.into_iter().collect::<Vec<_>>().join("/");
    let fits = |tz: &chrono_tz::Tz| {
        samples
            .iter()
            .all(|(local, name)| match tz.from_local_datetime(local) {
                LocalResult::Single(t) => t.offset().abbreviation() == Some(name.as_str()),
                LocalResult::Ambiguous(a, b) => [a, b]
                    .iter()
                    .any(|t| t.offset().abbreviation() == Some(name.as_str())),
                LocalResult::None => false,
            })
    };
    let candidates: Vec<chrono_tz::Tz> = chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .filter(fits)
        .collect();
    let Some(&zone) = candidates.first() else {
        return Some(Err(format!(
            "zone abbreviation {names} fits no IANA zone at its dates: not learned"
        )));
    };
    // One set of rules: the same offset every day from a year before the
    // first sample to a year after the last.
    let last = samples.iter().map(|(t, _)| *t).max().unwrap_or(*first);
    let start = samples.iter().map(|(t, _)| *t).min().unwrap_or(*first) - Duration::days(366);
    let days = (last - start).num_days() + 366;
    let same = candidates.iter().all(|other| {
        (0..=days).all(|d| {
            let t = start + Duration::days(d);
            Zone::Named(zone).offset_at(t) == Zone::Named(*other).offset_at(t)
        })
    });
    if !same {
        let offsets: BTreeSet<String> = candidates
            .iter()
            .map(|tz| Zone::Named(*tz).offset_at(*first).to_string())
            .collect();
        let offsets = offsets.into_iter().collect::<Vec<_>>().join(", ");
        return Some(Err(format!(
            "zone abbreviation {names} fits zones of different rules ({offsets} among them): not learned"
        )));
    }
    let rest = candidates.len() - 1;
    let shared = if rest == 0 {
        String::new()
    } else {
        format!(" and {rest} other zones")
    };
    Some(Ok(Learned {
        zone: Zone::Named(zone),
        from: format!(
            "{names} (short-full abbreviations: the rules of {}{shared})",
            zone.name()
        ),
        own: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .unwrap()
    }

    #[test]
    fn cest_and_cet_name_central_european_rules() {
        let learned = by_abbreviations(&[(at(2026, 7, 5), "CEST".into())])
            .unwrap()
            .unwrap();
        // Learned in July, read in January: the winter offset.
        assert_eq!(
            learned.zone.offset_at(at(2026, 1, 5)).local_minus_utc(),
            3600
        );
        assert_eq!(
            learned.zone.offset_at(at(2026, 7, 5)).local_minus_utc(),
            7200
        );
        assert!(learned.from.contains("CEST"), "{}", learned.from);
    }

    #[test]
    fn cst_alone_is_ambiguous_and_nonsense_fits_nothing() {
        let cst = by_abbreviations(&[(at(2023, 5, 1), "CST".into())]).unwrap();
        let why = cst.unwrap_err();
        assert!(why.contains("+08:00") && why.contains("-06:00"), "{why}");
        let none = by_abbreviations(&[(at(2023, 5, 1), "QQQ".into())]).unwrap();
        assert!(none.unwrap_err().contains("fits no IANA zone"));
        // CEST in January is no zone's.
        assert!(by_abbreviations(&[(at(2023, 1, 10), "CEST".into())])
            .unwrap()
            .is_err());
        assert!(by_abbreviations(&[]).is_none());
    }
}
