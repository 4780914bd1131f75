//! Every grammar proves itself: the built-in library loads through the
//! production loader, and every sample and reject line behaves as written.

use podmortem::grammar::{advice, builtin, check::check, Grammar};
use podmortem::matcher::RuleSet;

#[test]
fn every_builtin_sample_and_reject_holds() {
    let rules = RuleSet::new(Grammar::builtin().expect("built-in grammars load"));
    let failures = check(&rules);
    let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert!(
        failures.is_empty(),
        "grammar samples fail:\n{}",
        report.join("\n")
    );
    // The check is not vacuous: every pattern has samples and rejects.
    for p in &rules.grammar.patterns {
        assert!(!p.samples.is_empty() && !p.rejects.is_empty(), "{}", p.id);
    }
}

/// Every `[[detector.sequence]]` runs through the whole analysis and makes
/// a finding exactly when it says; and the check catches one that lies.
#[test]
fn every_builtin_sequence_holds_and_a_wrong_one_is_caught() {
    let rules = RuleSet::new(Grammar::builtin().expect("built-in grammars load"));
    let failures = podmortem::analyze::check_sequences(&rules);
    let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert!(
        failures.is_empty(),
        "sequences fail:\n{}",
        report.join("\n")
    );
    let proved: usize = rules
        .grammar
        .detectors
        .iter()
        .map(|d| d.sequences.len())
        .sum();
    assert!(proved >= 3, "{proved} sequences");
    // The same library with each sequence's verdict turned round fails on
    // every one of them.
    let files = builtin::FILES.iter().map(|(name, text)| {
        let flipped = text
            .replace("\nfound = true", "\nfound = was_true")
            .replace("\nfound = false", "\nfound = true")
            .replace("\nfound = was_true", "\nfound = false");
        (format!("grammars/{name}"), flipped)
    });
    let flipped = RuleSet::new(Grammar::from_sources(files).unwrap());
    assert_eq!(podmortem::analyze::check_sequences(&flipped).len(), proved);
}

#[test]
fn builtin_list_names_every_grammar_file_in_order() {
    let mut on_disk: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/grammars"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
    on_disk.sort();
    let listed: Vec<String> = builtin::FILES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(listed, on_disk);
}

/// Loads one grammar file's text as `t.toml` and checks its samples.
fn check_text(text: &str) -> Vec<podmortem::grammar::check::SampleFailure> {
    let grammar =
        Grammar::from_sources([("t.toml".to_string(), text.to_string())].into_iter()).unwrap();
    check(&RuleSet::new(grammar))
}

#[test]
fn the_checker_catches_a_sample_that_does_not_match() {
    let text = r#"
source = "test"
[[pattern]]
id = "t.oops"
literal = "oops"
regex = 'oops (?P<container>[0-9a-f]{12})'
[[pattern.sample]]
line = 'May  1 11:03:56 host prog: oops 0123456789ab'
fields = { container = "0123456789ab" }
[[pattern.sample]]
line = 'May  1 11:03:56 host prog: oops ZZZ'
[[pattern.reject]]
line = 'May  1 11:03:56 host prog: oops 0123456789ab'
"#;
    let failures = check_text(text);
    let problems: Vec<&str> = failures.iter().map(|f| f.problem.as_str()).collect();
    assert_eq!(
        problems,
        vec![
            "sample does not match its pattern",
            "reject line matches the pattern"
        ],
        "{failures:#?}"
    );
    assert!(failures[0]
        .to_string()
        .starts_with("t.toml:4: pattern 't.oops'"));
}

#[test]
fn the_checker_catches_wrong_fields_and_overlapping_patterns() {
    let text = r#"
source = "test"
[[pattern]]
id = "t.a"
literal = "stuck"
regex = 'stuck (?P<container>[0-9a-f]{12})'
[[pattern.sample]]
line = 'May  1 11:03:56 host prog: stuck 0123456789ab'
fields = { container = "ffffffffffff" }
[[pattern.reject]]
line = 'May  1 11:03:56 host prog: fine'
[[pattern]]
id = "t.b"
literal = "stuck"
regex = 'stuck'
[[pattern.sample]]
line = 'May  1 11:03:56 host prog: stuck'
[[pattern.reject]]
line = 'May  1 11:03:56 host prog: fine'
"#;
    let failures = check_text(text);
    let problems: Vec<String> = failures
        .iter()
        .map(|f| format!("{}: {}", f.pattern, f.problem))
        .collect();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("t.a: sample is also matched by pattern 't.b'"));
    assert!(problems[1].starts_with("t.a: fields {\"container\": \"0123456789ab\"}"));
}

/// A grammar whose one detector counts `per` over a pattern capturing only
/// a PID.
fn detector_per(per: &str) -> String {
    format!(
        "source = 'x'\n[[pattern]]\nid = 'p'\nliteral = 'a'\nregex = 'a(?P<pid>\\d+)'\n\
         [[pattern.sample]]\nline = 'a1'\nfields = {{ pid = '1' }}\n[[pattern.reject]]\nline = 'b'\n\
         [[detector]]\nkind = 'k'\ntitle = 't'\npatterns = ['p']\nper = {per}\nwindow = '1m'\n\
         levels = [{{ min_count = 1, severity = 'low' }}]\nexplanation = 'e'\nremediation = []\n"
    )
}

#[test]
fn loading_rejects_broken_grammars_with_the_file_and_reason() {
    let cases = [
        ("source = 'x'\n[[pattern]]\nid = 'p'\nliteral = 'a'\nregex = '('\n", "invalid regex"),
        ("source = 'x'\nbogus = 1\n", "unknown field `bogus`"),
        ("source = 'x'\n[[pattern]]\nid = 'p'\nliteral = '\"Kill container failed\"'\nregex = 'a'\n", "must not hold"),
        (
            "source = 'x'\n[[detector]]\nkind = 'k'\ntitle = 't'\npatterns = ['nope']\nper = 'container'\nwindow = '1m'\nlevels = [{ min_count = 1, severity = 'low' }]\nexplanation = 'e'\nremediation = []\n",
            "unknown pattern 'nope'",
        ),
        (
            "source = 'x'\n[[pattern]]\nid = 'p'\nliteral = 'a'\nregex = 'a'\n[[pattern.sample]]\nline = 'a'\n",
            "needs at least one",
        ),
        (&detector_per("['node', 'container']"), "`node` only last"),
        (&detector_per("'pid'"), "is not a subject"),
        (&detector_per("['pod', 'container']"), "captures none of pod, container"),
        (
            &format!("{}routine_after = {{ patterns = ['p'], within = '2m' }}\n", detector_per("'pid'").replace("per = 'pid'", "per = 'node'")),
            "none of them one the detector counts",
        ),
        (
            &format!("{}[[detector.sequence]]\nnote = 'n'\nlines = ['a1']\nfound = true\n", detector_per("'node'")),
            "the detector has none",
        ),
    ];
    for (text, expected) in cases {
        let text: &str = text;
        let err =
            Grammar::from_sources([("user/x.toml".to_string(), text.to_string())].into_iter())
                .unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("user/x.toml"), "{message}");
        assert!(
            message.contains(expected),
            "{message} should contain {expected}"
        );
    }
}

#[test]
fn the_readme_table_lists_every_finding_kind() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let grammar = Grammar::builtin().unwrap();
    let missing: Vec<&str> = grammar
        .detectors
        .iter()
        .map(|d| d.kind.as_str())
        .filter(|kind| !readme.contains(&format!("| `{kind}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "README's findings table lacks {missing:?}"
    );
}

#[test]
fn the_grammar_readme_table_matches_the_files() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/grammars/README.md"))
            .unwrap();
    for (name, text) in builtin::FILES {
        let file: toml::Table = text.parse().unwrap();
        let list = |key: &str, field: &str| -> Vec<String> {
            file.get(key)
                .and_then(toml::Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .map(|i| format!("`{}`", i[field].as_str().unwrap()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let patterns = file
            .get("pattern")
            .and_then(toml::Value::as_array)
            .map_or(0, Vec::len);
        let (kinds, chains) = (list("detector", "kind"), list("chain", "name"));
        let cell = match (kinds.is_empty(), chains.is_empty()) {
            (false, _) => kinds.join(", "),
            (true, false) => format!("chains: {}", chains.join(", ")),
            (true, true) => "—".to_string(),
        };
        let source = file.get("source").and_then(toml::Value::as_str);
        let row = format!(
            "| `{name}` | {} | {patterns} | {cell} |",
            source.unwrap_or("—")
        );
        assert!(
            readme.contains(&row),
            "grammars/README.md lacks the row\n{row}"
        );
    }
}

/// Every explanation and chain story rests on cited sources, each a URL or
/// `owner/repo@ref path` (the loader checks the form; this checks that
/// none of the built-in ones goes without).
#[test]
fn every_builtin_detector_and_chain_cites_its_sources() {
    let grammar = Grammar::builtin().unwrap();
    let uncited: Vec<&str> = grammar
        .detectors
        .iter()
        .filter(|d| d.sources.is_empty())
        .map(|d| d.kind.as_str())
        .chain(
            grammar
                .chains
                .iter()
                .filter(|c| c.sources.is_empty())
                .map(|c| c.name.as_str()),
        )
        .collect();
    assert!(uncited.is_empty(), "no `sources` for {uncited:?}");
    for s in grammar
        .detectors
        .iter()
        .flat_map(|d| &d.sources)
        .chain(grammar.chains.iter().flat_map(|c| &c.sources))
    {
        assert!(advice::is_citation(&s.cite), "{}", s.cite);
    }
}

#[test]
fn a_user_grammar_with_an_unmarked_destructive_step_is_refused() {
    let grammar = |remediation: &str| {
        format!(
            "source = 'x'\n[[pattern]]\nid = 'p'\nliteral = 'a'\nregex = 'a(?P<pod_uid>\\d+)'\n\
             [[pattern.sample]]\nline = 'a1'\nfields = {{ pod_uid = '1' }}\n[[pattern.reject]]\nline = 'b'\n\
             [[detector]]\nkind = 'k'\ntitle = 't'\npatterns = ['p']\nper = 'pod_uid'\nwindow = '1m'\n\
             levels = [{{ min_count = 1, severity = 'low' }}]\nexplanation = 'e'\nremediation = {remediation}\n"
        )
    };
    let load =
        |text: String| Grammar::from_sources([("user/x.toml".to_string(), text)].into_iter());
    let err = load(grammar(
        "['Check `findmnt | grep <pod_uid>`.', 'Then `rm -rf /var/lib/kubelet/pods/<pod_uid>`.']",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("user/x.toml:")
            && err.contains("detector 'k': remediation step 2 holds rm -r (`rm -rf`)"),
        "{err}"
    );
    assert!(
        err.contains("destructive = true"),
        "says how to mark it: {err}"
    );
    // Marked, after the step that runs its check: accepted, and the old
    // string form loads beside the table form.
    let g = load(grammar(
        "['Check: `findmnt | grep <pod_uid>` must print nothing.', \
         { step = '`rm -r --one-file-system /var/lib/kubelet/pods/<pod_uid>`', destructive = true, \
           after = '`findmnt | grep <pod_uid>` prints nothing' }]",
    ))
    .unwrap();
    let steps = &g.detectors[0].remediation;
    assert_eq!((steps[0].destructive, steps[1].destructive), (false, true));
    // Marked, but its check comes nowhere before it: refused.
    let err = load(grammar(
        "[{ step = '`reboot`', destructive = true, after = '`uptime` is long' }]",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("must come after the check that makes it safe"),
        "{err}"
    );
}

/// A `code span` of a remediation step that is a shell command: it starts
/// with a lowercase command word and has arguments (`shim disconnected`
/// style quotes of log text never appear in steps; field names, sysctl
/// settings and JSON do not start that way).
fn shell_snippets(text: &str) -> Vec<String> {
    let placeholder = regex::Regex::new(r"<([A-Za-z][A-Za-z0-9_-]*)>").unwrap();
    advice::code_spans(text)
        .into_iter()
        .filter(|span| {
            let first = span.split_whitespace().next().unwrap_or_default();
            let first = first.trim_end_matches(';');
            span.contains(' ')
                && !first.is_empty()
                && first
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.+-".contains(c))
                && first.starts_with(|c: char| c.is_ascii_lowercase())
        })
        // Placeholders (`<pod_uid>`) read as redirections to the shell.
        .map(|span| placeholder.replace_all(span, "$1").into_owned())
        .collect()
}

#[test]
fn every_remediation_shell_snippet_passes_shellcheck() {
    let grammar = Grammar::builtin().unwrap();
    let mut snippets: Vec<(String, String)> = Vec::new();
    for d in &grammar.detectors {
        for (n, step) in d.remediation.iter().enumerate() {
            let texts = std::iter::once(&step.text).chain(step.after.as_ref());
            for text in texts {
                for s in shell_snippets(text) {
                    snippets.push((format!("{} step {}", d.kind, n + 1), s));
                }
            }
        }
    }
    assert!(
        snippets.len() > 50,
        "only {} snippets found",
        snippets.len()
    );
    // What shellcheck does not see: `**` matches across directories only
    // with `shopt -s globstar`, which no step can assume.
    for (at, s) in &snippets {
        assert!(!s.contains("**"), "{at}: `{s}` needs globstar");
    }
    let script: String = snippets.iter().map(|(_, s)| format!("{s}\n")).collect();
    let run = std::process::Command::new("shellcheck")
        .args(["--shell=bash", "--severity=info", "--format=gcc", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("piped stdin")
                .write_all(script.as_bytes())?;
            child.wait_with_output()
        });
    let output = match run {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("PODMORTEM_REQUIRE_SHELLCHECK").is_none(),
                "PODMORTEM_REQUIRE_SHELLCHECK is set but shellcheck is not installed (.ci/install-tools)"
            );
            eprintln!(
                "SKIPPED: shellcheck not installed; {} remediation snippets unchecked (apt-get install shellcheck)",
                snippets.len()
            );
            return;
        }
        Err(e) => panic!("cannot run shellcheck: {e}"),
    };
    // `-:LINE:COL: level: message [SCnnnn]`, one snippet per line.
    let findings: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| {
            let line: usize = l
                .split(':')
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            match snippets.get(line.wrapping_sub(1)) {
                Some((at, s)) => format!("{at}: `{s}`\n    {l}"),
                None => l.to_string(),
            }
        })
        .collect();
    assert!(
        findings.is_empty() && output.status.success(),
        "shellcheck on remediation snippets:\n{}",
        findings.join("\n")
    );
}
