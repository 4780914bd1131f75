//! What a detector tells people to do, and where its claims come from.
//!
//! People act on remediation steps on production nodes in the middle of an
//! outage, so a step that can stop workloads or delete data must say so:
//! `{ step = "…", destructive = true, after = "…" }`, where `after` quotes
//! (in backticks) the check that makes the step safe, and an earlier step of
//! the same detector must run that check. A plain string is a step that does
//! no harm. The loader refuses a plain step whose text holds a command or an
//! instruction known to stop workloads or delete data (`rm -r`, `--force`,
//! `reboot`, `drain`, a restart of the runtime or kubelet, `kill -9`, …), so
//! that no grammar, built-in or a user's, can hand out such a step unmarked.
//!
//! `sources` cite what the explanation's claims rest on: a URL, or
//! `owner/repo@ref path` (a tag or commit of a public repository).

use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

use super::{error, GrammarError};

/// One remediation step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub text: String,
    /// It can stop workloads or delete data.
    pub destructive: bool,
    /// For a destructive step: the check that must pass first.
    pub after: Option<String>,
}

impl Step {
    /// A step that does no harm.
    pub fn plain(text: impl Into<String>) -> Step {
        Step {
            text: text.into(),
            destructive: false,
            after: None,
        }
    }
}

/// Where a claim of an explanation or chain story comes from.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// A URL, or `owner/repo@ref path[:line]`.
    pub cite: String,
    /// The claim it supports.
    pub shows: String,
}

/// A step as written: a string, or a table that marks it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StepDef {
    Plain(String),
    Marked(MarkedStepDef),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkedStepDef {
    pub step: String,
    #[serde(default)]
    pub destructive: bool,
    #[serde(default)]
    pub after: Option<String>,
}

/// Commands and instructions that stop workloads or delete data, with the
/// name an error gives them. Matched against a step's whole text, prose
/// included: "drain and reboot the node" is as destructive as the commands.
const DESTRUCTIVE: &[(&str, &str)] = &[
    ("rm -r", r"\brm\s+(-[A-Za-z]*[rR][A-Za-z]*|--recursive)"),
    ("--force", r"--force\b"),
    (
        "a forced removal (-f)",
        r"\b(rm|rmi|rmp|delete)\s+(-[A-Za-z]+\s+)*-[A-Za-z]*f\b",
    ),
    ("reboot", r"(?i)\breboot\b"),
    ("drain", r"(?i)\bdrain\b"),
    (
        "a restart or stop of the runtime or kubelet",
        r"\bsystemctl\s+(restart|stop|kill|try-restart|reload-or-restart)\s+([\w.@-]+\s+)*(docker|dockerd|containerd|kubelet|crio|cri-o)\b",
    ),
    (
        "a restart of the runtime or kubelet",
        r"(?i)\brestart\s+(dockerd|docker|containerd|kubelet|cri-o|crio|the\s+(container\s+)?runtime)\b",
    ),
    (
        "kill -9",
        r"\bkill\s+(-9|-KILL|-SIGKILL|-s\s+(9|KILL|SIGKILL))\b|\b(pkill|killall)\b",
    ),
    ("kubectl delete", r"\bkubectl\s+delete\b"),
    (
        "a lazy or forced umount",
        r"\bumount\s+(-[A-Za-z]*[lf]|--lazy|--force)",
    ),
    (
        "a filesystem repair",
        r"\b(xfs_repair|e2fsck|fsck(\.\w+)?)((\s+-[A-Za-mo-z]+)*)\s+/dev|\bbtrfs\s+check\s+--repair\b",
    ),
    (
        "a filesystem wipe",
        r"\b(mkfs(\.\w+)?|wipefs|shred)\b|\bdd\s+[^`]*\bof=",
    ),
    (
        "a crash or reboot through sysrq",
        r"\becho\s+[bcoei]\s*>\s*/proc/sysrq-trigger",
    ),
];

fn destructive_rules() -> &'static [(&'static str, Regex)] {
    static RULES: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    RULES.get_or_init(|| {
        DESTRUCTIVE
            .iter()
            // The table above is constant and proven by the tests below.
            .map(|&(what, re)| (what, Regex::new(re).expect("valid built-in regex")))
            .collect()
    })
}

/// What in `text` can stop workloads or delete data, first found.
pub fn destructive_in(text: &str) -> Option<(&'static str, String)> {
    destructive_rules().iter().find_map(|(what, re)| {
        re.find(text)
            .map(|m| (*what, m.as_str().trim().to_string()))
    })
}

/// The `code spans` of a text written with backticks.
pub fn code_spans(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// Checks and converts a detector's steps (see the module doc).
pub fn compile_steps(at: &str, defs: &[StepDef]) -> Result<Vec<Step>, GrammarError> {
    let mut steps: Vec<Step> = Vec::with_capacity(defs.len());
    for (i, def) in defs.iter().enumerate() {
        let n = i + 1;
        let step = match def {
            StepDef::Plain(text) => Step::plain(text.clone()),
            StepDef::Marked(m) => Step {
                text: m.step.clone(),
                destructive: m.destructive,
                after: m.after.clone().filter(|a| !a.trim().is_empty()),
            },
        };
        if step.text.trim().is_empty() {
            return Err(error(at, format!("remediation step {n} is empty")));
        }
        if step.destructive {
            let Some(after) = &step.after else {
                return Err(error(
                    at,
                    format!(
                        "remediation step {n} is destructive: give `after`, the check that makes it safe, quoting in backticks the command an earlier step runs"
                    ),
                ));
            };
            let checks = code_spans(after);
            let earlier = checks
                .iter()
                .any(|c| steps.iter().any(|s: &Step| s.text.contains(c)));
            if !earlier {
                return Err(error(
                    at,
                    format!(
                        "remediation step {n} is destructive and must come after the check that makes it safe: `after = \"{after}\"` quotes no command (in backticks) that an earlier step runs"
                    ),
                ));
            }
        } else {
            if step.after.is_some() {
                return Err(error(
                    at,
                    format!("remediation step {n}: `after` goes only with `destructive = true`"),
                ));
            }
            if let Some((what, found)) = destructive_in(&step.text) {
                return Err(error(
                    at,
                    format!(
                        "remediation step {n} holds {what} (`{found}`), which can stop workloads or delete data, but is not marked: write it as {{ step = \"…\", destructive = true, after = \"`<the check>` …\" }} after the step that runs that check"
                    ),
                ));
            }
        }
        steps.push(step);
    }
    Ok(steps)
}

/// Whether `cite` has the form of a citation: a URL, or `owner/repo@ref
/// path` with an optional `:line`.
pub fn is_citation(cite: &str) -> bool {
    static FORM: OnceLock<Regex> = OnceLock::new();
    FORM.get_or_init(|| {
        Regex::new(
            r"^(https?://[^\s/]+/\S*|[\w.-]+/[\w.-]+@[\w.+-]+ [\w./+-]+(:\d+(-\d+)?)?( \([^)]+\))?)$",
        )
        // A constant pattern, proven by the tests below.
        .expect("valid built-in regex")
    })
    .is_match(cite)
}

/// Checks the form of every source.
pub fn check_sources(at: &str, sources: &[Source]) -> Result<(), GrammarError> {
    for s in sources {
        if !is_citation(&s.cite) {
            return Err(error(
                at,
                format!(
                    "source `{}` is not a citation: write a URL or `owner/repo@tag path` (`moby/moby@v20.10.10 daemon/kill.go`)",
                    s.cite
                ),
            ));
        }
        if s.shows.trim().is_empty() {
            return Err(error(
                at,
                format!("source `{}` must say what it `shows`", s.cite),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(texts: &[&str]) -> Vec<StepDef> {
        texts
            .iter()
            .map(|t| StepDef::Plain(t.to_string()))
            .collect()
    }

    #[test]
    fn destructive_commands_are_found_in_steps() {
        for (text, what) in [
            ("`rm -rf /var/lib/kubelet/pods/<uid>`", "rm -r"),
            ("`rm -r --one-file-system /x`", "rm -r"),
            ("`kubectl delete pod p --grace-period=0 --force`", "--force"),
            ("`crictl rm -f <id>`", "a forced removal (-f)"),
            ("`docker rmi -f <image>`", "a forced removal (-f)"),
            (
                "`ctr -n k8s.io task delete -f <id>`",
                "a forced removal (-f)",
            ),
            ("drain and reboot the node", "reboot"),
            ("`kubectl drain <node> --ignore-daemonsets`", "drain"),
            (
                "`systemctl restart containerd`",
                "a restart or stop of the runtime or kubelet",
            ),
            (
                "`systemctl stop docker`",
                "a restart or stop of the runtime or kubelet",
            ),
            (
                "then restart dockerd",
                "a restart of the runtime or kubelet",
            ),
            ("`kill -9 <pid>`", "kill -9"),
            ("`kill -s KILL 42`", "kill -9"),
            ("`kubectl delete pod <pod>`", "kubectl delete"),
            (
                "`umount -l /var/lib/kubelet/pods/x`",
                "a lazy or forced umount",
            ),
            ("`e2fsck -f /dev/sdb1`", "a filesystem repair"),
            ("`xfs_repair /dev/sdb1`", "a filesystem repair"),
            ("`mkfs.xfs /dev/sdb`", "a filesystem wipe"),
            (
                "`echo b > /proc/sysrq-trigger`",
                "a crash or reboot through sysrq",
            ),
        ] {
            assert_eq!(destructive_in(text).map(|f| f.0), Some(what), "{text}");
        }
    }

    #[test]
    fn harmless_commands_are_not_destructive() {
        for text in [
            "`xfs_repair -n /dev/sdb1` only reports",
            "`e2fsck -fn /dev/sdb1` only reports",
            "`kill -USR1 $(pidof containerd)` writes a goroutine dump",
            "`echo w > /proc/sysrq-trigger` writes blocked tasks' stacks",
            "`journalctl -u kubelet -f` follows the log",
            "`systemctl reload docker` rereads daemon.json",
            "`systemctl status containerd`",
            "`findmnt | grep <pod_uid>` must print nothing",
            "`kubectl cordon <node>` keeps new pods away",
            "`crictl rmi --prune` removes unused images",
            "`umount /x` fails while the mount is busy",
        ] {
            assert_eq!(destructive_in(text), None, "{text}");
        }
    }

    #[test]
    fn an_unmarked_destructive_step_is_refused() {
        let err =
            compile_steps("t.toml:3: detector 'k'", &plain(&["Look.", "`rm -rf /x`"])).unwrap_err();
        assert!(
            err.message.starts_with(
                "remediation step 2 holds rm -r (`rm -rf`), which can stop workloads or delete data, but is not marked"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_marked_step_must_follow_its_check() {
        let marked = |after: &str| {
            StepDef::Marked(MarkedStepDef {
                step: "`rm -r --one-file-system /x`".into(),
                destructive: true,
                after: Some(after.into()),
            })
        };
        let check = StepDef::Plain("Check: `findmnt --list | grep /x` prints nothing.".into());
        let steps = compile_steps(
            "t",
            &[check, marked("`findmnt --list | grep /x` printed nothing")],
        )
        .expect("check first, then the step");
        assert!(steps[1].destructive);

        let err = compile_steps("t", &[marked("`findmnt --list | grep /x` printed nothing")])
            .unwrap_err();
        assert!(err.message.contains("must come after the check"), "{err}");
        let err = compile_steps(
            "t",
            &[StepDef::Marked(MarkedStepDef {
                step: "`rm -r /x`".into(),
                destructive: true,
                after: None,
            })],
        )
        .unwrap_err();
        assert!(err.message.contains("give `after`"), "{err}");
    }

    #[test]
    fn citations_are_urls_or_repository_paths() {
        for ok in [
            "https://github.com/moby/moby/pull/42956",
            "moby/moby@v20.10.10 daemon/kill.go",
            "moby/moby@v20.10.10 daemon/kill.go:156",
            "kubernetes/kubernetes@001332b0422071acf4860769f18e34b5e9b7c1bc pkg/kubelet/cm/container_manager_linux.go",
            "containerd/containerd@v2.1.0 cmd/containerd-shim-runc-v2/manager/manager_linux.go (Stop)",
        ] {
            assert!(is_citation(ok), "{ok}");
        }
        for bad in [
            "moby stop.go",
            "the kernel docs",
            "moby/moby daemon/kill.go",
            "https://",
        ] {
            assert!(!is_citation(bad), "{bad}");
        }
    }
}
