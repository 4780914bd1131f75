//! `podmortem node NAME`: a live node's logs, fetched through the API
//! server, then analyzed like files.
//!
//! Everything goes through `kubectl get --raw PATH` (the binary named by
//! `PODMORTEM_KUBECTL`, else `kubectl` on PATH), so that every kubeconfig,
//! context and auth plugin kubectl knows works here too. Two kubelet
//! endpoints, both behind the API server's node proxy
//! (`/api/v1/nodes/NAME/proxy/…`, which needs the `nodes/proxy` permission):
//!
//! - the node log query, `logs/?query=SERVICE` (Kubernetes 1.27+, feature
//!   gate `NodeLogQuery`, kubelet `enableSystemLogQuery`): the journal of
//!   one service, as `journalctl` prints it; asked for kubelet and each
//!   container runtime (containerd, docker, crio);
//! - the files of the node's /var/log, `logs/FILE` (kubelet
//!   `enableSystemLogHandler`, on by default): `messages`, `syslog` and
//!   `kern.log`, which hold the kernel's lines, and `kubelet.log` where
//!   kubelet writes one.
//!
//! What a node does not serve (a runtime it does not run, a file it does
//! not have, a query its kubelet does not allow) is named on stderr and
//! skipped; the run fails only when nothing at all could be fetched.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::cli::NodeArgs;

/// The services asked of the node log query.
const SERVICES: &[&str] = &["kubelet", "containerd", "docker", "crio"];
/// The files asked of the node's /var/log.
const FILES: &[&str] = &["messages", "syslog", "kern.log", "kubelet.log"];

/// Fetches the node's logs, then runs `analyze` on them.
pub fn run(args: NodeArgs, out: &mut dyn Write) -> Result<u8> {
    if args.name.is_empty() || args.name.contains(['/', '?', '#', '%']) {
        bail!("node {:?}: not a node name", args.name);
    }
    let dir = match &args.save {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!(
            "podmortem-node-{}-{}",
            args.name,
            std::process::id()
        )),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = fetch_and_analyze(&args, &dir, out);
    if args.save.is_none() {
        // Best effort: a temporary directory left behind is no failure.
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn fetch_and_analyze(args: &NodeArgs, dir: &Path, out: &mut dyn Write) -> Result<u8> {
    let mut fetched = Vec::new();
    let base = format!("/api/v1/nodes/{}/proxy/logs/", args.name);
    let asks = SERVICES
        .iter()
        .map(|s| (format!("{base}?query={s}"), format!("{s}.journal.txt")))
        .chain(
            FILES
                .iter()
                .map(|f| (format!("{base}{f}"), (*f).to_string())),
        );
    for (path, file) in asks {
        match get_raw(args, &path) {
            Ok(body) if !body.trim_ascii().is_empty() => {
                let to = dir.join(&file);
                std::fs::write(&to, &body)
                    .with_context(|| format!("cannot write {}", to.display()))?;
                eprintln!("podmortem: fetched {path} ({} bytes)", body.len());
                fetched.push(to);
            }
            Ok(_) => eprintln!("podmortem: {path}: empty"),
            Err(e) => eprintln!("podmortem: {path}: {e:#}"),
        }
    }
    if fetched.is_empty() {
        bail!(
            "node {}: no log could be fetched (kubectl get --raw {base}…; the node log query needs Kubernetes 1.27+ with NodeLogQuery, and the nodes/proxy permission)",
            args.name
        );
    }
    crate::cli::analyze(args.analyze_args(fetched)?, out)
}

/// The body of `kubectl get --raw PATH`, or why not.
fn get_raw(args: &NodeArgs, path: &str) -> Result<Vec<u8>> {
    let kubectl = std::env::var_os("PODMORTEM_KUBECTL").unwrap_or_else(|| "kubectl".into());
    let mut command = Command::new(&kubectl);
    if let Some(k) = &args.kubeconfig {
        command.arg("--kubeconfig").arg(k);
    }
    if let Some(c) = &args.context {
        command.arg("--context").arg(c);
    }
    command.args(["get", "--raw", path]);
    let output = command
        .output()
        .with_context(|| format!("cannot run {}", Path::new(&kubectl).display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("kubectl: {}", stderr.trim());
    }
    Ok(output.stdout)
}
