//! podmortem reads the logs of a sick Kubernetes node (dockerd, kubelet,
//! containerd, kernel, CNI) and says what went wrong, on which pod and
//! container, since when, how often, how sure, and what to do.
//!
//! Data flows one way, each arrow a plain type:
//!
//! ```text
//! cli ─Options→ input ─bytes→ scan ─RawEvent→ analyze ─Event→ detect ─Finding→
//!     correlate ─Cluster→ report::build (rank) ─Report→ report::{text,json}
//! ```
//! - [`input`] reads files and stdin in bounded pieces (read(2), never mmap);
//!   [`decode`] turns UTF-16 and CR-ended text into UTF-8 lines;
//! - [`scan`] frames lines in parallel pieces: envelope ([`format::syslog`]),
//!   prefilter and patterns ([`matcher`]), payload time ([`format`]);
//! - [`time`] fixes each input's year and zone after it has been read;
//! - [`entity`] normalizes IDs and joins containers to pods;
//! - [`detect`], [`correlate`], [`rank`] turn events into ranked incidents;
//! - what lines mean lives in `grammars/*.toml`, loaded by [`grammar`].

pub mod analyze;
pub mod cli;
pub mod cluster;
pub mod correlate;
pub mod decode;
pub mod detect;
pub mod discover;
pub mod entity;
pub mod format;
pub mod grammar;
pub mod input;
pub mod matcher;
pub mod node;
pub mod rank;
pub mod redact;
pub mod report;
pub mod scan;
pub mod severity;
pub mod state;
pub mod suppress;
pub mod thin;
pub mod time;
