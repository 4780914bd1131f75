//! Synthetic `/var/log/messages` generator for benchmarking and scale-testing podmortem.
//!
//! ```text
//! cargo run --release --example gen_corpus -- --size-mb 1024 -o /tmp/big.log \
//!     [--seed 42] [--incidents 3] [--start 2023-05-01T00:00:00] [--hosts 1] \
//!     [--hours H] [--manifest /tmp/big.json]
//! ```
//!
//! This is only the command line; what the corpus contains is described in `corpus.rs`,
//! which the benches share. `--manifest PATH` writes the ground truth of the planted
//! incidents as a JSON array, one object per line, with `pod` (`ns/name`), `pod_uid`,
//! `host`, `container_name`, `sandbox` (the stuck sandbox S), `container` (the container C
//! kubelet fails to kill), `loop_lines` (dockerd lines), `kubelet_lines`, `cni_at` (the
//! Calico line) and `first`/`last` (first and last dockerd or kubelet symptom), all times
//! RFC 3339 header times.

mod corpus;

use std::fs::File;
use std::io::{self, BufWriter};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use chrono::NaiveDateTime;

use corpus::{Config, Incident};

const USAGE: &str = "usage: gen_corpus --size-mb N -o PATH [--seed N] [--incidents N] \
[--start YYYY-MM-DDTHH:MM:SS] [--hosts N] [--hours H] [--manifest PATH]";

/// Large enough that writing the file costs about as little as formatting it.
const WRITE_BUFFER: usize = 8 << 20;

/// The parsed command line.
struct Args {
    corpus: Config,
    output: String,
    manifest: Option<String>,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("gen_corpus: {err}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gen_corpus: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> io::Result<()> {
    let started = Instant::now();
    let file = File::create(&args.output).map_err(|e| with_path(e, &args.output))?;
    let summary = corpus::generate(&args.corpus, BufWriter::with_capacity(WRITE_BUFFER, file))?;
    if let Some(path) = &args.manifest {
        std::fs::write(path, manifest_json(&summary.incidents)?).map_err(|e| with_path(e, path))?;
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "gen_corpus: wrote {summary} to {} in {secs:.2} s ({:.0} MiB/s)",
        args.output,
        summary.bytes as f64 / (1u64 << 20) as f64 / secs.max(1e-9),
    );
    Ok(())
}

fn with_path(err: io::Error, path: &str) -> io::Error {
    io::Error::new(err.kind(), format!("{path}: {err}"))
}

/// A JSON array with one incident per line, so the manifest diffs and greps well.
fn manifest_json(incidents: &[Incident]) -> serde_json::Result<String> {
    let mut out = String::from("[\n");
    for (i, incident) in incidents.iter().enumerate() {
        out.push_str("  ");
        out.push_str(&serde_json::to_string(incident)?);
        out.push_str(if i + 1 < incidents.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    Ok(out)
}

/// Parses the flags; `Ok(None)` means help was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut size_mb: Option<f64> = None;
    let mut parsed = Args {
        corpus: Config::default(),
        output: String::new(),
        manifest: None,
    };
    let cfg = &mut parsed.corpus;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let value = match inline {
            Some(value) => value,
            None => args.next().ok_or_else(|| format!("{flag} needs a value"))?,
        };
        match flag.as_str() {
            "--size-mb" => size_mb = Some(parse_value(&flag, &value)?),
            "-o" | "--output" => parsed.output = value,
            "--seed" => cfg.seed = parse_value(&flag, &value)?,
            "--incidents" => cfg.incidents = parse_value(&flag, &value)?,
            "--start" => cfg.start = parse_start(&value)?,
            "--hosts" => cfg.hosts = parse_value(&flag, &value)?,
            "--hours" => cfg.hours = Some(parse_value(&flag, &value)?),
            "--manifest" => parsed.manifest = Some(value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let size_mb = size_mb.ok_or("--size-mb is required")?;
    if !(size_mb > 0.0 && size_mb.is_finite()) {
        return Err("--size-mb must be a positive number".into());
    }
    if parsed.output.is_empty() {
        return Err("-o PATH is required".into());
    }
    cfg.size_bytes = (size_mb * (1u64 << 20) as f64) as u64;
    cfg.validate()?;
    Ok(Some(parsed))
}

fn parse_value<T: FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: invalid value {value:?}"))
}

/// Parses `YYYY-MM-DDTHH:MM:SS`, or the same with a space instead of the `T`.
fn parse_start(text: &str) -> Result<NaiveDateTime, String> {
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .ok_or_else(|| format!("--start: expected YYYY-MM-DDTHH:MM:SS, got {text:?}"))
}
