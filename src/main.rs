//! The `podmortem` binary: parse arguments, run, map the outcome to an exit
//! code (0 fine, 1 incidents at or above `--fail-on`, 2 usage or input
//! error). A closed pipe (`podmortem … | head`) ends the run quietly.
//! Linked as `kubectl-podmortem` on PATH, it is the kubectl plugin
//! `kubectl podmortem …` and says so in its help.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = podmortem::cli::Cli::parse_invoked(std::env::args_os());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match podmortem::cli::run(cli, &mut out) {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("podmortem: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
