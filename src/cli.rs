//! The command line: clap arguments, checked once and turned into the plain
//! [`Options`](crate::analyze::Options) the library takes. Nothing below
//! this module knows about clap.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::Local;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::analyze::{self, Options};
use crate::grammar::{check::check, Grammar};
use crate::input::Source;
use crate::matcher::RuleSet;
use crate::report::fleet::FleetOptions;
use crate::report::{self, Report};
use crate::severity::Severity;
use crate::suppress;
use crate::time::{parse_duration, Overrides, TimeBound, Zone};

/// Post-mortem of a sick Kubernetes node from its logs.
#[derive(Debug, Parser)]
#[command(name = "podmortem", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the command line; invoked as `kubectl-podmortem` (a link on
    /// PATH, which makes it a kubectl plugin), usage and help name it
    /// `kubectl podmortem`. Exits with clap's message on a usage error.
    pub fn parse_invoked(args: impl IntoIterator<Item = std::ffi::OsString>) -> Cli {
        use clap::FromArgMatches;
        let args: Vec<std::ffi::OsString> = args.into_iter().collect();
        let plugin = args
            .first()
            .and_then(|a| std::path::Path::new(a).file_name())
            .is_some_and(|n| n.to_string_lossy().starts_with("kubectl-podmortem"));
        let mut command = Cli::command();
        if plugin {
            command = command
                .bin_name("kubectl podmortem")
                .name("kubectl podmortem");
        }
        let matches = command.get_matches_from(args);
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find, correlate and rank what went wrong in node logs.
    Analyze(AnalyzeArgs),
    /// List what would be read: each input with its format, hosts, time
    /// range, lines and unparsed lines.
    Inputs(InputsArgs),
    /// Every matched event of the selection, from all sources, in time
    /// order, with its entities and file:line: the drill-down after
    /// `analyze`.
    Events(EventsArgs),
    /// Merge JSON reports (`analyze --format json`, one per node or bundle,
    /// made anywhere) into one report, with the fleet incidents one analyze
    /// over all their logs finds, without reading a log again.
    Merge(MergeArgs),
    /// Print the JSON Schema of `--format json` reports (schema/report.schema.json).
    Schema,
    /// On a node (as root): write one tar.gz with the logs and the state
    /// listings podmortem reads (journal, /var/log, dmesg, cgroup tree,
    /// containerd task and kubelet pod directories, crictl/ctr/docker
    /// listings, mounts, versions), for `podmortem analyze`.
    Collect(CollectArgs),
    /// The grammar library: list it, or check a directory of your own.
    #[command(subcommand)]
    Grammars(GrammarsCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from these definitions; with
    /// --dir, write one page per subcommand there (podmortem-analyze.1, …).
    Man {
        /// Write podmortem.1 and a page per subcommand into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Fetch a live node's kubelet, container runtime and kernel logs through
    /// the API server (`kubectl get --raw /api/v1/nodes/NAME/proxy/logs/…`:
    /// the node log query of Kubernetes 1.27+, else the files of its
    /// /var/log) and analyze them.
    Node(NodeArgs),
}

#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// The node's name, as `kubectl get nodes` prints it.
    pub name: String,
    /// The kubeconfig kubectl reads (default: kubectl's own choice).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context.
    #[arg(long)]
    pub context: Option<String>,
    /// Keep the fetched logs in this directory (default: a temporary one).
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Exit with status 1 when an incident is at least this severe.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// As for `analyze`.
    #[arg(long)]
    pub redact: bool,
    /// As for `analyze`.
    #[arg(long, requires = "redact")]
    pub redact_pods: bool,
}

impl NodeArgs {
    /// `analyze` on the fetched files, with this command's output options
    /// and `analyze`'s own defaults for the rest (parsed by clap, so they
    /// are written once, on [`AnalyzeArgs`]). `paths` must not be empty.
    pub fn analyze_args(&self, paths: Vec<PathBuf>) -> Result<AnalyzeArgs> {
        #[derive(Parser)]
        struct Analyze {
            #[command(flatten)]
            args: AnalyzeArgs,
        }
        let argv = ["analyze".into(), "--quiet".into()]
            .into_iter()
            .chain(paths.into_iter().map(PathBuf::into_os_string));
        let mut args = Analyze::try_parse_from(argv)
            .context("the fetched logs as analyze's arguments")?
            .args;
        args.read.redact = self.redact;
        args.read.redact_pods = self.redact_pods;
        args.format = self.format;
        args.fail_on = self.fail_on;
        Ok(args)
    }
}

#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// Only events naming this container (full ID or any prefix of 4+ hex).
    #[arg(long, value_name = "ID")]
    pub container: Option<String>,
    /// Only events of this pod (`namespace/name`, or `name`).
    #[arg(long, value_name = "POD")]
    pub pod: Option<String>,
    /// Only events counted by this finding kind (`dockerd_stop_loop`).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only events at or after this time (RFC 3339, or a duration back from the newest event).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events at or before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// `text` (aligned) or `ndjson` (one JSON object per line).
    #[arg(long, value_enum, default_value_t = EventsFormat::Text)]
    pub format: EventsFormat,
    #[command(flatten)]
    pub color: ColorArg,
}

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// The bundle to write (default: podmortem-<host>-<time>.tar.gz here).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// At most this much content, before compression: 512M, 2G, 100K.
    #[arg(long, default_value = "512M", value_name = "SIZE")]
    pub max_size: String,
    /// No progress bar (it is shown only on a terminal anyway).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    Text,
    Ndjson,
}

#[derive(Debug, Subcommand)]
pub enum GrammarsCommand {
    /// Every finding kind: severities, sources, pattern count, title.
    List {
        /// Also list the grammar files in this directory.
        #[arg(long, value_name = "DIR")]
        grammars: Option<PathBuf>,
    },
    /// Validate a directory of grammar files against the built-in library:
    /// exit 0 when every file loads and every sample holds, 1 otherwise.
    Check {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Exit with status 1 when an incident is at least this severe
    /// (default with `--format junit`: high; otherwise never).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// A directory of extra grammar files (*.toml) to load after the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub grammars: Option<PathBuf>,
    /// Findings with no pod (a container, a node) at most this far apart are one incident (30s, 10m, 2h); a pod's incident lasts until its failure is resolved.
    #[arg(long, default_value = "30m", value_name = "DURATION")]
    pub merge_window: String,
    /// Only events at or after this time: RFC 3339, or a duration (2h) back
    /// from the newest event in the logs.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events at or before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// A previous JSON report: its incidents (same kind, pods, containers)
    /// are marked as known and do not fail the run.
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// Accepted incidents (TOML `[[suppress]]` rules with a reason and an
    /// optional expiry): marked, shown, not failing the run.
    #[arg(long, value_name = "FILE")]
    pub suppress: Option<PathBuf>,
    /// Analyze each PATH on its own (one node's bundle, directory or log
    /// each) and merge their reports as `podmortem merge` does: memory
    /// holds one node's analysis at a time, not every node's events. The
    /// logs of one node must then be one PATH.
    #[arg(long)]
    pub each: bool,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub color: ColorArg,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// JSON reports of `podmortem analyze --format json`.
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Exit with status 1 when an incident is at least this severe
    /// (default with `--format junit`: high; otherwise never).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub color: ColorArg,
}

/// What makes a fleet incident: shared by `analyze` and `merge`, so that
/// both find the same ones.
#[derive(Debug, clap::Args)]
pub struct FleetArgs {
    /// A kind of incident on at least this many hosts within
    /// --fleet-window is also one fleet incident (2 or more).
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub fleet_min: usize,
    /// Incidents of one kind on different hosts at most this far apart
    /// (end of one to start of the next) are one fleet incident.
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub fleet_window: String,
}

impl FleetArgs {
    fn options(&self) -> Result<FleetOptions> {
        if self.fleet_min < 2 {
            bail!(
                "--fleet-min {}: a fleet incident needs 2 hosts or more",
                self.fleet_min
            );
        }
        let Some(window_s) = parse_duration(&self.fleet_window) else {
            bail!(
                "--fleet-window {}: use a duration such as 30m, 6h or 24h",
                self.fleet_window
            );
        };
        Ok(FleetOptions {
            min_hosts: self.fleet_min,
            window_s,
        })
    }
}

/// `--color`, for the commands that print text for people.
#[derive(Debug, clap::Args)]
pub struct ColorArg {
    /// Color text output: auto (a terminal, unless NO_COLOR is set),
    /// always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// `auto` colors a terminal unless `NO_COLOR` is set (no-color.org);
    /// an explicit choice wins over both.
    fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct InputsArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InputsFormat::Text)]
    pub format: InputsFormat,
}

/// What `podmortem inputs` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputsFormat {
    Text,
    Json,
}

/// How inputs are found and their times read: shared by every command.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// Log files (/var/log/messages, journalctl output, kubelet.log…); `-` reads stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Year of lines whose timestamps print none (default: inferred from the logs, else the file's mtime).
    #[arg(long)]
    pub year: Option<i32>,
    /// Zone of lines whose timestamps print none: UTC, ±HH:MM, or an IANA name such as
    /// Europe/Berlin, its offset read at each line's date (default: inferred, else the
    /// local zone's rules at each date).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// When the node booted (RFC 3339), to place dmesg's seconds-since-boot
    /// times (default: learned from the logs when they give both clocks).
    #[arg(long, value_name = "TIME")]
    pub boot_time: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress display (it is shown only on a terminal anyway).
    #[arg(long, short)]
    pub quiet: bool,
    /// Replace IP addresses, host names, user names, email addresses and
    /// secrets by stable pseudonyms (host-1, ip-3) in the output, to share
    /// it; the output says it was redacted.
    #[arg(long)]
    pub redact: bool,
    /// With --redact, also replace pod names and container IDs.
    #[arg(long, requires = "redact")]
    pub redact_pods: bool,
}

impl ReadArgs {
    /// Applies `--redact` to a built report, just before it is printed.
    fn redact(&self, report: &mut Report) {
        if self.redact {
            let options = crate::redact::Options {
                pods: self.redact_pods,
            };
            crate::redact::report(report, options);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    /// A compact report for tickets, PR comments and CI job summaries.
    Markdown,
    /// JUnit XML for CI test reporters; `--fail-on` defaults to high.
    Junit,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// One self-contained HTML page (timeline, incident cards, inputs) to
    /// open in a browser, attach to a ticket or print.
    Html,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<u8> {
    match cli.command {
        Command::Analyze(args) => analyze(args, out),
        Command::Inputs(args) => inputs(args, out),
        Command::Events(args) => events(args, out),
        Command::Merge(args) => merge(args, out),
        Command::Schema => {
            writeln!(out, "{}", report::schema())?;
            Ok(0)
        }
        Command::Collect(args) => collect(args, out),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "podmortem", out);
            Ok(0)
        }
        Command::Man { dir: None } => {
            clap_mangen::Man::new(Cli::command()).render(out)?;
            Ok(0)
        }
        Command::Man { dir: Some(dir) } => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("--dir {}: cannot create it", dir.display()))?;
            clap_mangen::generate_to(Cli::command(), &dir)
                .with_context(|| format!("--dir {}: cannot write the pages", dir.display()))?;
            Ok(0)
        }
        Command::Node(args) => crate::node::run(args, out),
        Command::Grammars(GrammarsCommand::List { grammars }) => {
            let rules = load_rules(grammars.as_deref())?;
            report::grammars::print_list(&rules.grammar, out)?;
            Ok(0)
        }
        Command::Grammars(GrammarsCommand::Check { dir }) => {
            let rules = load_rules(Some(&dir))?;
            let failures = check_all(&rules);
            report::grammars::print_check(&rules.grammar, &failures, out)?;
            Ok(u8::from(!failures.is_empty()))
        }
    }
}

/// Every proof a grammar carries: its lines ([`check`]) and its detectors'
/// sequences, run through the analysis.
fn check_all(rules: &RuleSet) -> Vec<crate::grammar::check::SampleFailure> {
    let mut failures = check(rules);
    if failures.is_empty() {
        failures.extend(crate::analyze::check_sequences(rules));
    }
    failures
}

/// The built-in grammars, plus a user's directory.
fn load_rules(dir: Option<&std::path::Path>) -> Result<RuleSet> {
    let grammar = match dir {
        None => Grammar::builtin(),
        Some(dir) => Grammar::builtin_and_dir(dir),
    }
    .context("cannot load grammars")?;
    Ok(RuleSet::new(grammar))
}

pub(crate) fn analyze(args: AnalyzeArgs, out: &mut dyn Write) -> Result<u8> {
    let Some(merge_window_s) = parse_duration(&args.merge_window) else {
        bail!(
            "--merge-window {}: use a duration such as 30s, 10m or 2h",
            args.merge_window
        );
    };
    let fleet = args.fleet.options()?;
    let mut options = options(&args.read)?;
    options.merge_window_s = merge_window_s;
    options.since = time_bound("--since", args.since.as_deref())?;
    options.until = time_bound("--until", args.until.as_deref())?;
    let rules = load_rules(args.grammars.as_deref())?;
    if args.grammars.is_some() {
        // A user's grammar proves itself before it is trusted, as the
        // built-in ones do in the test suite.
        let failures = check_all(&rules);
        if !failures.is_empty() {
            let list: Vec<String> = failures.iter().map(ToString::to_string).collect();
            bail!("grammar samples do not hold:\n{}", list.join("\n"));
        }
    }
    let rules_file = match &args.suppress {
        None => suppress::SuppressFile::default(),
        Some(path) => suppress::read_rules(path)
            .map_err(anyhow::Error::msg)
            .context("--suppress")?,
    };
    let baseline = match &args.baseline {
        None => Vec::new(),
        Some(path) => suppress::read_baseline(path)
            .map_err(anyhow::Error::msg)
            .context("--baseline")?,
    };
    let today = Local::now().date_naive();
    if args.each && options.sources.len() > 1 {
        if matches!(options.since, Some(TimeBound::Before(_)))
            || matches!(options.until, Some(TimeBound::Before(_)))
        {
            bail!("--each: give --since and --until as times (a duration counts back from the newest event of all inputs)");
        }
        let mut merge = report::merge::Merge::default();
        let mut expired = std::collections::BTreeSet::new();
        let dir = tempfile::tempdir().context("--each: no temporary directory")?;
        for (i, source) in options.sources.iter().enumerate() {
            let one = Options {
                sources: vec![source.clone()],
                ..options.clone()
            };
            let mut report = run_showing_progress(&rules, &one, args.read.quiet);
            report_errors(&report);
            for e in suppress::apply(&mut report, &rules_file, &baseline, today) {
                expired.insert(e.reason.clone());
            }
            // Written as `--format json` prints it and merged from there:
            // what is held of it from now on is what a merge holds.
            let path = dir.path().join(format!("{i}.json"));
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(&path).with_context(|| format!("{}", path.display()))?,
            );
            report::json::print(&report, &mut file)?;
            file.flush()?;
            drop(report);
            merge
                .add(path.clone(), report::merge::skim::read(&path)?)
                .map_err(anyhow::Error::msg)?;
        }
        for reason in expired {
            eprintln!("podmortem: suppress rule expired, no longer applied: {reason}");
        }
        let merged = merge.finish(fleet);
        return print_merged(
            merged,
            &rules,
            Some(&args.read),
            args.format,
            args.fail_on,
            args.color.color,
            out,
        );
    }
    let mut report = run_showing_progress(&rules, &options, args.read.quiet);
    report_errors(&report);
    for expired in suppress::apply(&mut report, &rules_file, &baseline, today) {
        eprintln!(
            "podmortem: suppress rule expired, no longer applied: {}",
            expired.reason
        );
    }
    report.fleet = report::fleet::fleet(&report, fleet);
    args.read.redact(&mut report);
    print_report(
        &report,
        &rules,
        args.format,
        args.fail_on,
        args.color.color,
        out,
    )
}

/// `podmortem merge`: the reports read in parallel, a batch at a time,
/// then checked and folded in the order given; the merged JSON report is written as it is
/// read again, the other formats from the whole report
/// ([`report::merge`]).
fn merge(args: MergeArgs, out: &mut dyn Write) -> Result<u8> {
    use rayon::prelude::*;
    let fleet = args.fleet.options()?;
    let mut merge = report::merge::Merge::default();
    // A batch at a time: what is skimmed is folded before the next is read.
    for batch in args.reports.chunks(256) {
        let parts: Vec<Result<report::merge::skim::Part>> = batch
            .par_iter()
            .map(|path| report::merge::skim::read(path))
            .collect();
        for (path, part) in batch.iter().zip(parts) {
            merge
                .add(path.clone(), part?)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{}", path.display()))?;
        }
    }
    let merged = merge.finish(fleet);
    let rules = load_rules(None)?;
    print_merged(
        merged,
        &rules,
        None,
        args.format,
        args.fail_on,
        args.color.color,
        out,
    )
}

/// Prints a merge in `format`: JSON as it is read again from the reports,
/// the other formats (and a redacted report, whose pseudonyms are numbered
/// over the whole) from the whole report.
fn print_merged(
    merged: report::merge::Merged,
    rules: &RuleSet,
    read: Option<&ReadArgs>,
    format: OutputFormat,
    fail_on: Option<Severity>,
    color: ColorChoice,
    out: &mut dyn Write,
) -> Result<u8> {
    let redact = read.is_some_and(|r| r.redact);
    if format == OutputFormat::Json && !redact {
        merged.write_json(out)?;
        out.flush()?;
        let failing = fail_on.is_some_and(|level| merged.fails(level));
        return Ok(status(&merged.report, failing));
    }
    let mut report = merged.into_report()?;
    if let Some(read) = read {
        read.redact(&mut report);
    }
    print_report(&report, rules, format, fail_on, color, out)
}

/// Prints a report in `format`; the exit code `--fail-on` asks for.
fn print_report(
    report: &Report,
    rules: &RuleSet,
    format: OutputFormat,
    fail_on: Option<Severity>,
    color: ColorChoice,
    out: &mut dyn Write,
) -> Result<u8> {
    // A JUnit report is a CI gate: without --fail-on, high incidents fail.
    let fail_on = fail_on.or((format == OutputFormat::Junit).then_some(Severity::High));
    match format {
        OutputFormat::Text => {
            let style = report::text::Style {
                color: color.enabled(),
            };
            report::text::print(report, style, out)?
        }
        OutputFormat::Json => report::json::print(report, out)?,
        OutputFormat::Markdown => report::markdown::print(report, out)?,
        OutputFormat::Junit => report::junit::print(
            report,
            &rules.grammar,
            fail_on.unwrap_or(Severity::High),
            out,
        )?,
        OutputFormat::Sarif => report::sarif::print(report, &rules.grammar, out)?,
        OutputFormat::Html => report::html::print(report, out)?,
    }
    out.flush()?;
    Ok(exit_code(report, fail_on))
}

fn inputs(args: InputsArgs, out: &mut dyn Write) -> Result<u8> {
    let options = options(&args.read)?;
    let rules = load_rules(None)?;
    let mut report = run_showing_progress(&rules, &options, args.read.quiet);
    report_errors(&report);
    args.read.redact(&mut report);
    match args.format {
        InputsFormat::Text => report::text::print_inputs(&report, out)?,
        InputsFormat::Json => report::json::print_inputs(&report, out)?,
    }
    out.flush()?;
    Ok(exit_code(&report, None))
}

fn events(args: EventsArgs, out: &mut dyn Write) -> Result<u8> {
    let mut options = options(&args.read)?;
    options.since = time_bound("--since", args.since.as_deref())?;
    options.until = time_bound("--until", args.until.as_deref())?;
    options.keep_events = true;
    let container = match &args.container {
        Some(id) if id.len() < 4 || !id.bytes().all(|b| b.is_ascii_hexdigit()) => {
            bail!("--container {id}: give the container ID or a prefix of at least 4 hex digits")
        }
        other => other.as_deref().map(str::to_ascii_lowercase),
    };
    let rules = load_rules(None)?;
    if let Some(kind) = &args.kind {
        if !rules.grammar.detectors.iter().any(|d| d.kind == *kind) {
            bail!("--kind {kind}: no such finding kind (see `podmortem grammars list`)");
        }
    }
    let mut report = run_showing_progress(&rules, &options, args.read.quiet);
    report_errors(&report);
    let mut selection = report::events::Selection {
        container: container.as_deref(),
        pod: args.pod.as_deref(),
        kind: args.kind.as_deref(),
    };
    if args.read.redact_pods {
        // Selected by the real names, printed under the pseudonyms.
        report.events.retain(|e| selection.keeps(e));
        selection = report::events::Selection::default();
    }
    args.read.redact(&mut report);
    match args.format {
        EventsFormat::Text => {
            let style = report::text::Style {
                color: args.color.color.enabled(),
            };
            report::events::print_text(&report, &selection, style, out)?
        }
        EventsFormat::Ndjson => {
            report::events::print_ndjson(&report, &selection, out)?;
            if report.redacted {
                // NDJSON has no place for a note that is not an event.
                eprintln!("podmortem: {}", crate::redact::NOTE);
            }
        }
    }
    out.flush()?;
    Ok(exit_code(&report, None))
}

fn collect(args: CollectArgs, out: &mut dyn Write) -> Result<u8> {
    use std::io::IsTerminal;
    let Some(max_bytes) = parse_size(&args.max_size) else {
        bail!(
            "--max-size {}: use a size such as 512M, 2G or 100K",
            args.max_size
        );
    };
    let output = args.output.unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "node".into());
        PathBuf::from(format!(
            "podmortem-{host}-{}.tar.gz",
            Local::now().format("%Y%m%dT%H%M%S")
        ))
    });
    let options = crate::state::collect::CollectOptions {
        output: output.clone(),
        max_bytes,
        root: PathBuf::from("/"),
        progress: !args.quiet && std::io::stderr().is_terminal(),
    };
    let collected = crate::state::collect::collect(&options)
        .with_context(|| format!("cannot write {}", output.display()))?;
    for note in &collected.notes {
        eprintln!("podmortem: collect: {note}");
    }
    writeln!(
        out,
        "{}: {} files, {} bytes before compression; {} things not collected (listed in collect-notes.txt)",
        output.display(),
        collected.entries.len(),
        collected.bytes,
        collected.notes.len()
    )?;
    Ok(0)
}

/// `512M`, `2G`, `100K`, `4096`: bytes.
fn parse_size(text: &str) -> Option<u64> {
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let factor: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// Runs the pipeline; on a terminal (stderr) and unless `--quiet`, a
/// progress line shows the bytes read and the rate. Never in pipes or CI
/// logs.
fn run_showing_progress(rules: &RuleSet, options: &Options, quiet: bool) -> Report {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return analyze::run(rules, options);
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {bytes} read ({bytes_per_sec}) {elapsed}",
    ) {
        bar.set_style(style);
    }
    let report = analyze::run_with_progress(rules, options, &|n| bar.inc(n));
    bar.finish_and_clear();
    report
}

/// The options every command shares, checked.
fn options(args: &ReadArgs) -> Result<Options> {
    let overrides = Overrides {
        year: args.year,
        zone: match &args.tz {
            None => None,
            Some(tz) => Some(Zone::parse(tz).with_context(|| {
                format!(
                    "--tz {tz}: use UTC, an offset such as +08:00 or -0500, \
                     or an IANA zone name such as Europe/Berlin"
                )
            })?),
        },
        boot: match &args.boot_time {
            None => None,
            Some(t) => Some(chrono::DateTime::parse_from_rfc3339(t).with_context(|| {
                format!("--boot-time {t}: use RFC 3339, such as 2023-05-01T08:00:00+08:00")
            })?),
        },
    };
    if args.paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        bail!("`-` (stdin) can be given only once");
    }
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("--threads: cannot start the worker pool")?;
    }
    let now = Local::now();
    Ok(Options {
        sources: args.paths.iter().map(|p| Source::from_arg(p)).collect(),
        overrides,
        local_zone: Zone::Local,
        now: now.fixed_offset(),
        merge_window_s: 30 * 60,
        since: None,
        until: None,
        keep_events: false,
    })
}

fn time_bound(flag: &str, text: Option<&str>) -> Result<Option<TimeBound>> {
    text.map(|t| {
        TimeBound::parse(t).with_context(|| {
            format!("{flag} {t}: use RFC 3339 (2023-05-01T11:00:00+08:00) or a duration (2h)")
        })
    })
    .transpose()
}

/// Inputs that could not be read, and lines read only in part, on stderr:
/// "0 incidents" then never hides a loss.
fn report_errors(report: &Report) {
    for e in &report.errors {
        eprintln!("podmortem: {}: {}", e.path, e.message);
    }
    for i in report.inputs.iter().filter(|i| i.unparsed > 0) {
        eprintln!(
            "podmortem: {}: {} of {} lines in no known envelope ({} matched without envelope)",
            i.path, i.unparsed, i.lines, i.unframed
        );
    }
}

/// 2 when nothing could be read, 1 when an incident reaches `--fail-on`,
/// else 0.
fn exit_code(report: &Report, fail_on: Option<Severity>) -> u8 {
    let failing = fail_on.is_some_and(|level| report.incidents.iter().any(|i| i.fails(level)));
    status(report, failing)
}

/// [`exit_code`], once whether an incident fails the run is known.
fn status(report: &Report, failing: bool) -> u8 {
    if report.inputs.is_empty() && !report.errors.is_empty() {
        return 2;
    }
    u8::from(failing)
}
