//! The node's state beside its logs: listings of cgroup trees, containerd
//! task directories, kubelet pod directories, runtime containers and
//! mounts, compared with what is alive.
//!
//! Logs say what happened; listings say what is left. A cgroup leak
//! (field report 000) and residual task directories (report 002) end
//! outside the logs, so podmortem reads the listings too:
//!
//! ```text
//! sources ─discover::walk→ [listing::recognize] ─text→ listing::read ─Facts→ NodeState
//!     ─compare::findings→ StateFinding ─attach::attach→ Report (joined incidents)
//! ```
//! - [`listing`] knows each tool's output by its content and reads it;
//!   [`runtime`] the runtime tables and JSON; [`paths`] what a path stands
//!   for;
//! - [`life`] says who is alive: the runtimes' listings, else the pods'
//!   status the API server recorded (`kubectl get pods -o json`,
//!   troubleshoot's `pods/<ns>.json`), read here beside the listings;
//! - [`compare`] sets state against life and finds orphans and residue;
//! - [`attach`] turns them into findings of the report, joined with the log
//!   findings of the same containers, pods or chain, worded by
//!   `grammars/state.toml`;
//! - [`collect`] writes, on a node, the bundle all of this reads.
//!
//! The log pipeline is not touched: listings are found in a walk of their
//! own over the same sources (they are small; a bundle is read twice), and
//! the log reader's "not a log" notes for them are replaced by the listing
//! they are.

pub mod attach;
pub mod collect;
pub mod compare;
pub mod life;
pub mod listing;
pub mod paths;
pub mod runtime;

use std::io::Read;
use std::time::SystemTime;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use crate::discover::{self, Content, Found};
use crate::input::Source;
use listing::{Facts, ListingKind, PathEntry, RuntimeEntry, Subsys};

/// A listing is read whole up to this size; the rest is named as not read.
const MAX_LISTING: u64 = 64 * 1024 * 1024;

/// One listing recognized: what `podmortem inputs` names.
#[derive(Clone, Debug, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ListingSummary {
    pub path: String,
    pub kind: ListingKind,
    /// What it gave: paths, containers, rows or mounts.
    pub entries: usize,
    /// Lines its reader did not understand.
    pub unread: u64,
    /// When it was taken (its collection header, else its file's mtime).
    pub taken: Option<String>,
    /// The same, as an instant: ages of what it lists are measured back
    /// from it.
    #[serde(skip)]
    pub taken_at: Option<DateTime<FixedOffset>>,
}

/// Everything the listings say.
#[derive(Debug, Default)]
pub struct NodeState {
    pub listings: Vec<ListingSummary>,
    pub paths: Vec<PathEntry>,
    pub runtime: Vec<RuntimeEntry>,
    pub subsystems: Vec<Subsys>,
    pub mounts: Vec<(String, listing::At)>,
    /// When the listings were taken: the newest collection time or mtime;
    /// ages are measured back from it.
    pub taken: Option<DateTime<FixedOffset>>,
    /// Listings read only in part, and why.
    pub notes: Vec<String>,
    /// Pods as the API server saw them, from the pods' status dumps among
    /// the sources: who runs where no runtime listing says.
    pub pods: Vec<life::PodLife>,
    /// The pod dumps read: their path and when they were taken.
    pub pod_dumps: Vec<(String, Option<DateTime<FixedOffset>>)>,
}

impl NodeState {
    /// Adds one listing's facts.
    pub fn add(
        &mut self,
        path: String,
        kind: ListingKind,
        facts: Facts,
        modified: Option<DateTime<FixedOffset>>,
    ) {
        let taken = facts.taken.or(modified);
        self.listings.push(ListingSummary {
            path,
            kind,
            entries: facts.paths.len()
                + facts.runtime.len()
                + facts.subsystems.len()
                + facts.mounts.len(),
            unread: facts.unread,
            taken: taken.map(|t| t.to_rfc3339()),
            taken_at: taken,
        });
        if let Some(t) = taken {
            self.taken = Some(self.taken.map_or(t, |old| old.max(t)));
        }
        self.paths.extend(facts.paths);
        self.runtime.extend(facts.runtime);
        self.subsystems.extend(facts.subsystems);
        self.mounts.extend(facts.mounts);
    }

    /// When the listing `index` was taken, else the newest listing's time.
    pub fn taken_of(&self, index: usize) -> Option<DateTime<FixedOffset>> {
        self.listings
            .get(index)
            .and_then(|l| l.taken_at)
            .or(self.taken)
    }

    /// Reads one text as a listing if it is one; whether it was.
    pub fn read_text(
        &mut self,
        path: &str,
        text: &str,
        modified: Option<DateTime<FixedOffset>>,
    ) -> bool {
        let Some(kind) = listing::recognize(text) else {
            return false;
        };
        let facts = listing::read(kind, text, self.listings.len(), modified);
        self.add(path.to_string(), kind, facts, modified);
        true
    }
}

/// Finds and reads every listing inside `sources` (stdin is not read
/// again: the log reader consumed it). Files that are not listings are
/// passed over after their first bytes.
pub fn read_sources(sources: &[Source]) -> NodeState {
    let mut state = NodeState::default();
    for source in sources {
        let Source::Path(path) = source else {
            continue;
        };
        discover::walk(path, &mut |found: Found<'_>| read_found(found, &mut state));
    }
    state
}

fn read_found(found: Found<'_>, state: &mut NodeState) {
    let modified = found.modified.and_then(instant);
    let name = found.name;
    let mut head = Vec::with_capacity(discover::SNIFF_BYTES);
    let mut reader: Box<dyn Read + '_> = match found.content {
        Content::File(path) => match std::fs::File::open(&path) {
            Ok(file) => Box::new(file),
            Err(_) => return,
        },
        Content::Stream(reader) => Box::new(reader),
    };
    if (&mut reader)
        .take(discover::SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .is_err()
    {
        return;
    }
    let sniffed = String::from_utf8_lossy(&head);
    let listed = listing::recognize(&sniffed).is_some();
    let pods = if listed {
        None
    } else {
        life::pods_syntax(&head)
    };
    if pods.is_none() && !listed {
        return;
    }
    let cap = if pods.is_some() {
        crate::cluster::MAX_BYTES
    } else {
        MAX_LISTING
    };
    let mut rest = head;
    // A read error or the size cap keeps what came before, with a note.
    match reader.take(cap).read_to_end(&mut rest) {
        Ok(_) if rest.len() as u64 >= cap => state.notes.push(format!(
            "{}: listing read up to its first {} MiB only",
            name,
            cap >> 20
        )),
        Ok(_) => {}
        Err(e) => state.notes.push(format!(
            "{}: listing read only up to byte {} ({e})",
            name,
            rest.len()
        )),
    }
    let text = String::from_utf8_lossy(&rest);
    match pods {
        Some(syntax) => life::read_pods(state, &name, syntax, &text, modified),
        None => {
            state.read_text(&name, &text, modified);
        }
    }
}

/// A file time as an instant; `None` for one chrono cannot hold (an
/// archive entry may carry any mtime, and the `From` conversion panics).
fn instant(t: SystemTime) -> Option<DateTime<FixedOffset>> {
    let (secs, nanos) = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => (i64::try_from(d.as_secs()).ok()?, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let secs = -i64::try_from(d.as_secs()).ok()?;
            if d.subsec_nanos() == 0 {
                (secs, 0)
            } else {
                (secs.checked_sub(1)?, 1_000_000_000 - d.subsec_nanos())
            }
        }
    };
    Some(DateTime::<Utc>::from_timestamp(secs, nanos)?.fixed_offset())
}
