//! `--format html` end to end, from the real binary. The seed case's page
//! holds what a reader needs (the incident's card, the timeline's lanes,
//! evidence `file:line`) and matches `tests/snapshots/seed.html` (run with
//! `PODMORTEM_BLESS=1` to rewrite it after a deliberate change, and review
//! the diff; the version and the run's elapsed time and rate are masked);
//! a hostile log line stays inert text.
//!
//! Then the pages are rendered in a real headless Chromium, driven from its
//! command line only: one run per page prints the DOM after the script ran
//! (`--dump-dom`) and takes a screenshot (`target/html-seed.png`,
//! `target/html-large.png`). With `--enable-logging=stderr`, Chromium logs
//! every console message on stderr as `…:INFO:CONSOLE:<line>] "<message>",
//! source: <url> (<line>)`: `console.error`, uncaught exceptions and
//! Content-Security-Policy violations (a request the page must not make)
//! alike, with no level to tell them apart. The page logs nothing, so any
//! console line fails the test; a deliberately broken page checks that the
//! line is still recognized. The large case is a generated corpus of 500
//! incidents over 30 days (`examples/gen_corpus`).
//!
//! The browser is `$PODMORTEM_CHROMIUM`, else `chromium`, `chromium-browser`
//! or `google-chrome` on `PATH` (`.ci/install-browser` installs Debian's
//! `chromium`). Without one the browser tests print `SKIPPED` and pass,
//! unless `PODMORTEM_REQUIRE_BROWSER=1` (CI), which makes them fail.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::DateTime;
use common::{hostile_dockerd_log, json_report, podmortem, snapshot, temp_log, SANDBOX, SEED};

/// The payload of a hostile log line: markup and a script, an entity, both
/// quotes, ESC and BEL (a terminal recolor and retitle), a bidi override.
const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)> &amp; & 'q' \"dq\" \x1b[31mred\x1b]0;owned\x07 \u{202e}evil";

/// A rendering must finish within this time, or the browser is killed.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

fn html(args: &[&str]) -> String {
    let mut all = vec!["analyze", "--format", "html"];
    all.extend_from_slice(args);
    let out = podmortem(&all, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the page is UTF-8")
}

/// The element that starts with `open` (up to its `close` tag).
fn element<'a>(page: &'a str, open: &str, close: &str) -> &'a str {
    let start = page
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in the page"));
    let end = page[start..].find(close).expect("the element closes") + start;
    &page[start..end + close.len()]
}

#[test]
fn seed_page_shows_the_incident_its_lanes_and_evidence() {
    let page = html(&[SEED]);
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.trim_end().ends_with("</html>"));

    let card = element(
        &page,
        "<article class=\"card sev-critical\" id=\"incident-1\"",
        "</article>",
    );
    assert!(card.contains("data-severity=\"critical\""), "{card}");
    assert!(card.contains("<span class=\"badge sev-critical\">critical</span>"));
    assert!(card.contains("dockerd cannot stop a container and keeps retrying"));
    assert!(card.contains("<code>kube-system/fluentd-hjj42</code>"));
    assert!(
        card.contains(&format!("<code title=\"{SANDBOX}\">a9acd5210705</code>")),
        "a container shortened, its full ID in the tooltip"
    );
    assert!(card.contains("<span class=\"loc\">samples/dockerd-stop-loop/messages:6</span> May  1 10:48:02 ecs-prod-003 dockerd:"));
    assert!(card.contains("lacks the fix"), "Docker 19.03.15 < 20.10.10");
    assert!(card.contains("<a href=\"https://github.com/moby/moby/pull/42956\""));
    assert!(card.contains("<code>ps -eo pid,stat,wchan:32,cmd | awk &#39;$2 ~ /^[DZ]/&#39;</code>"));
    assert!(card.contains("every</th>") && card.contains(">11s</td>"));

    // Every incident has its target; the low one is a table row.
    let report = json_report(&[SEED], None);
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2);
    assert!(page.contains("<tr id=\"incident-2\" data-severity=\"low\">"));
    assert!(!page.contains("<article class=\"card sev-low\""));

    // The timeline: the host heads its lanes; the pod's findings and the
    // decoy container have theirs; each mark links to its card.
    let svg = element(&page, "<svg class=\"timeline\"", "</svg>");
    for lane in [
        "<g class=\"lane host\" data-lane=\"ecs-prod-003\">",
        "<g class=\"lane\" data-lane=\"kube-system/fluentd-hjj42\">",
        "<g class=\"lane\" data-lane=\"container 3f1c0d2b7e9a…\">",
    ] {
        assert!(svg.contains(lane), "{lane}");
    }
    assert_eq!(svg.matches("class=\"mark sev-high\"").count(), 1);
    assert_eq!(svg.matches("class=\"mark sev-medium\"").count(), 1);
    assert!(svg.contains("<g class=\"incident\" data-incident=\"1\" data-severity=\"critical\">"));
    assert!(svg.contains("<a href=\"#incident-1\"><title>#1 critical: dockerd cannot stop"));
    assert!(
        svg.contains("<path class=\"mark sev-low\" d="),
        "the decoy's one instant is a diamond"
    );
    assert!(svg.contains(">Mon May 1</text>") && svg.contains(">Tue May 2</text>"));

    // Self-contained: nothing to fetch, and the only links are references.
    for outside in ["src=", "<link", "@import", "url(", "<iframe", "<object"] {
        assert!(!page.contains(outside), "{outside}");
    }
    let addresses = page.matches("https://").count();
    let links = page.matches("<a href=\"https://").count();
    assert_eq!(addresses, 2 * links, "every address is a reference link");
    assert!(page.contains("content=\"default-src 'none';"));
}

#[test]
fn a_chain_reads_as_one_incident() {
    // systemd places the hung task's PID in the stuck container (the form
    // of grammars/systemd.toml's samples): the tie that lets the node-wide
    // hung task join the pod's incident.
    let tie = temp_log(b"May  1 11:04:02 ecs-prod-003 systemd: docker-fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469.scope: Killing process 4242 (fluentd) with signal SIGKILL.\n");
    let tie = tie.path().to_str().unwrap();
    let page = html(&["--year", "2023", "samples/five-formats/messages", tie]);
    let card = element(&page, "id=\"incident-1\"", "</article>");
    assert!(card.contains("<dt>chain</dt><dd><code>unkillable_container</code></dd>"));
    // The PID tie puts the hung kernel task on the stuck container, in the
    // pod's lane with the stop loop and kubelet's failures: one incident
    // holds the three marks, and one label names the chain.
    let svg = element(&page, "<svg class=\"timeline\"", "</svg>");
    let incident = element(svg, "<g class=\"incident\" data-incident=\"1\"", "</g>");
    assert_eq!(incident.matches("class=\"mark sev-").count(), 3);
    assert!(
        incident.contains("<path class=\"mark sev-high\" d="),
        "the hung task, one instant, is a diamond"
    );
    assert_eq!(
        incident.matches(">#1 unkillable_container</text>").count(),
        1
    );
}

#[test]
fn seed_page_matches_its_snapshot() {
    let page = html(&[SEED]);
    let run_time = regex::Regex::new(r#"class="run-time">[^<]*<"#).unwrap();
    let page = run_time.replace_all(&page, "class=\"run-time\">…<");
    let page = page.replace(
        &format!("podmortem {}", env!("CARGO_PKG_VERSION")),
        "podmortem VERSION",
    );
    snapshot("seed.html", &page);
}

#[test]
fn hostile_log_lines_stay_inert_text() {
    let log = hostile_dockerd_log(HOSTILE);
    let page = html(&["--year", "2023", log.path().to_str().unwrap()]);
    assert!(page.contains("<article class=\"card sev-high\" id=\"incident-1\""));
    assert_eq!(page.matches("<script").count(), 1, "only the page's own");
    assert!(!page.contains("<img") && !page.contains("\x1b") && !page.contains('\x07'));
    assert!(!page.contains('\u{202e}'));
    let shown = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; \
                 &amp;amp; &amp; &#39;q&#39; &quot;dq&quot; ␛[31mred␛]0;owned␇ \u{fffd}evil";
    let evidence = element(&page, "<pre>", "</pre>");
    assert_eq!(evidence.matches(shown).count(), 3, "{evidence}");

    // In the browser: no console message, one script element, and the
    // text as the log had it.
    let Some(browser) = Browser::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rendered = browser.render(&page, dir.path(), None);
    rendered.assert_quiet();
    assert_eq!(rendered.dom.matches("<script").count(), 1);
    assert!(rendered.dom.contains(
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; &amp;amp; &amp; 'q' \"dq\""
    ));
}

#[test]
fn a_clean_node_and_an_unreadable_input_are_said_so() {
    let log = temp_log(b"May  2 00:10:36 node-1 systemd[1]: Started Session 12 of user root.\n");
    let path = log.path().to_str().unwrap();
    let page = html(&["--year", "2023", path, "/nonexistent/messages"]);
    assert!(page.contains("<h1>0 incidents <span class=\"sub\">podmortem report</span></h1>"));
    assert!(page.contains("<p class=\"none\">No findings to draw.</p>"));
    assert!(page.contains("<p class=\"none\">No incidents found.</p>"));
    let inputs = element(&page, "<section id=\"inputs\">", "</section>");
    assert!(inputs.contains(&format!(
        "<tr><td><code>{path}</code></td><td>syslog</td><td>node-1</td>"
    )));
    assert!(inputs.contains(
        "<h3>Could not be read</h3>\n<ul class=\"failures\">\n<li><code>/nonexistent/messages</code>: not found"
    ));

    let Some(browser) = Browser::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rendered = browser.render(&page, dir.path(), None);
    rendered.assert_quiet();
    rendered.assert_scripted();
}

#[test]
fn suppressed_incidents_say_why() {
    let rules = temp_log(
        b"[[suppress]]\nkind = \"dockerd_stop_loop\"\nreason = \"OPS-1234: <b>known</b> & accepted\"\n",
    );
    let page = html(&["--suppress", rules.path().to_str().unwrap(), SEED]);
    let why = "OPS-1234: &lt;b&gt;known&lt;/b&gt; &amp; accepted";
    let card = element(&page, "id=\"incident-1\"", "</article>");
    assert!(card.contains(&format!(
        "<p class=\"suppressed\"><b>Suppressed</b>: {why} <span class=\"dim\">"
    )));
    let row = element(&page, "<tr id=\"incident-2\"", "</tr>");
    assert!(row.contains(&format!(
        "<span class=\"badge muted\" title=\"{why}\">suppressed</span>"
    )));
}

#[test]
fn inputs_prints_no_html() {
    let out = podmortem(&["inputs", "--format", "html", SEED], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn seed_page_renders_in_chromium() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let page = html(&[SEED]);
    let dir = tempfile::tempdir().unwrap();
    let shot = screenshot_path("html-seed.png");
    let rendered = browser.render(&page, dir.path(), Some(&shot));
    rendered.assert_quiet();
    rendered.assert_scripted();
    assert_eq!(rendered.dom.matches("<g class=\"lane").count(), 3);
    assert_eq!(rendered.dom.matches("<article class=\"card ").count(), 1);
    assert!(rendered.dom.contains("id=\"incident-1\""));
    assert_screenshot(&shot);
}

#[test]
fn five_hundred_incidents_over_thirty_days_stay_readable() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("large.log");
    let corpus = corpus.to_str().unwrap();
    // The generator plants ~340 lines per incident whatever the size: a
    // 1 MiB request yields ~37 MB, written in half a second by its debug
    // build. podmortem's release build reads it in about 2 s (its debug
    // build would take ~20; CI has built the release one already).
    cargo_run(&[
        "--example",
        "gen_corpus",
        "--",
        "--size-mb",
        "1",
        "--incidents",
        "500",
        "--hours",
        "720",
        "--hosts",
        "3",
        "-o",
        corpus,
    ]);
    let page = cargo_run(&[
        "--release",
        "--bin",
        "podmortem",
        "--",
        "analyze",
        "--format",
        "html",
        corpus,
    ]);

    let ranks: BTreeSet<usize> = page
        .split(" id=\"incident-")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect();
    let incidents = ranks.len();
    assert!(incidents >= 400, "{incidents} incidents");
    assert_eq!(ranks.last(), Some(&incidents), "ranks 1 to {incidents}");
    let times: Vec<i64> = page
        .split("<time datetime=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|t| DateTime::parse_from_rfc3339(t).unwrap().timestamp())
        .collect();
    let days = (times.iter().max().unwrap() - times.iter().min().unwrap()) / 86_400;
    assert!(days >= 28, "{days} days");

    let shot = screenshot_path("html-large.png");
    let rendered = browser.render(&page, dir.path(), Some(&shot));
    rendered.assert_quiet();
    rendered.assert_scripted();
    let dom = &rendered.dom;
    let svg = element(dom, "<svg class=\"timeline\"", "</svg>");
    // At most 40 lanes and the three hosts heading them; a note for the
    // rest; the overview still shows every incident.
    let lanes = svg.matches("<g class=\"lane").count();
    assert!((10..=43).contains(&lanes), "{lanes} lanes");
    assert!(
        svg.contains("more lanes not drawn"),
        "the note on lanes not drawn"
    );
    assert_eq!(
        svg.matches("<g class=\"lane host\"").count(),
        3,
        "one lane heads each host"
    );
    let overview = element(svg, "<g class=\"overview\">", "</g>");
    assert_eq!(
        overview.matches("<a href=\"#incident-").count(),
        incidents,
        "the overview shows every incident"
    );
    // Ticks are days apart over a month: dates, no clock times.
    assert!(
        svg.contains("<text class=\"tick\"") && svg.contains(">May 2</text>"),
        "date ticks"
    );
    assert!(!svg.contains("<text class=\"tick date\""), "no clock ticks");
    // Every incident is a card or a row; later cards are compact. Kinds
    // seen on several of the hosts are also fleet incidents, with cards of
    // their own in the fleet section (not counted here).
    let fleet_cards = dom.matches("\" id=\"fleet-").count();
    assert!(fleet_cards > 0, "the hosts share kinds: fleet cards");
    let cards = dom.matches("<article class=\"card ").count() - fleet_cards;
    let rows = dom.matches("<tr id=\"incident-").count();
    assert_eq!(cards + rows, incidents, "{cards} cards, {rows} rows");
    let open = dom.matches("<details class=\"why\" open>").count();
    assert!(open <= 10, "{open} cards open");
    assert!(
        dom.contains("Why and what to do: as for <a href=\"#incident-1\">#1</a>."),
        "the same advice is not repeated"
    );
    assert_screenshot(&shot);
}

#[test]
fn the_console_check_sees_an_uncaught_exception() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page =
        "<!DOCTYPE html><html><body><p>broken</p><script>notDefined();</script></body></html>";
    let rendered = browser.render(page, dir.path(), None);
    assert!(
        rendered
            .console
            .iter()
            .any(|l| l.contains("Uncaught ReferenceError: notDefined is not defined")),
        "Chromium's console line is no longer recognized: {}",
        rendered.stderr
    );
}

// ------------------------------------------------------------ browser ----

/// A headless Chromium found on this machine.
struct Browser {
    exe: PathBuf,
}

/// What a page became in the browser.
struct Rendered {
    /// The DOM after the page's script ran.
    dom: String,
    /// The console messages Chromium logged.
    console: Vec<String>,
    stderr: String,
}

impl Browser {
    /// `$PODMORTEM_CHROMIUM`, else the first of the usual names on `PATH`.
    /// None (after saying so) when there is none, unless the browser is
    /// required.
    fn find() -> Option<Browser> {
        let named = std::env::var_os("PODMORTEM_CHROMIUM").map(PathBuf::from);
        let on_path = ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .find_map(|name| {
                std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            });
        match named.or(on_path) {
            Some(exe) => Some(Browser { exe }),
            None if std::env::var("PODMORTEM_REQUIRE_BROWSER").as_deref() == Ok("1") => {
                panic!("PODMORTEM_REQUIRE_BROWSER=1 but no Chromium found: run .ci/install-browser")
            }
            None => {
                // Past the test harness's capture, so that it shows.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: no Chromium found (install Debian's chromium, see .ci/install-browser)"
                );
                None
            }
        }
    }

    /// Loads `page` from a file in `dir` with a fresh profile, lets its
    /// script run, and prints its DOM; with `screenshot`, also writes a
    /// 1400×2000 screenshot there.
    fn render(&self, page: &str, dir: &Path, screenshot: Option<&Path>) -> Rendered {
        let file = dir.join("page.html");
        std::fs::write(&file, page).unwrap();
        let profile = tempfile::tempdir_in(dir).unwrap();
        let (stdout, stderr) = (dir.join("dom.html"), dir.join("stderr.txt"));
        let mut command = Command::new(&self.exe);
        command.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=2000",
        ]);
        command.arg(format!("--user-data-dir={}", profile.path().display()));
        if let Some(shot) = screenshot {
            command.args([
                "--window-size=1400,2000",
                "--hide-scrollbars",
                "--run-all-compositor-stages-before-draw",
            ]);
            command.arg(format!("--screenshot={}", shot.display()));
        }
        command
            .arg("--dump-dom")
            .arg(format!("file://{}", file.display()))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let mut child = command.spawn().expect("the browser starts");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > BROWSER_TIMEOUT {
                child.kill().unwrap();
                panic!("the browser took more than {BROWSER_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stderr = std::fs::read_to_string(&stderr).unwrap();
        assert!(status.success(), "browser exit {status}: {stderr}");
        Rendered {
            dom: std::fs::read_to_string(&stdout).unwrap(),
            console: stderr
                .lines()
                .filter(|l| l.contains(":CONSOLE"))
                .map(str::to_string)
                .collect(),
            stderr,
        }
    }
}

impl Rendered {
    /// No console message: no error, no exception, no blocked request.
    fn assert_quiet(&self) {
        assert!(
            self.console.is_empty(),
            "console messages:\n{}",
            self.console.join("\n")
        );
        assert!(self.dom.contains("</html>"), "a DOM was printed");
    }

    /// The page's script ran: it shows the filters it hides without it.
    fn assert_scripted(&self) {
        assert!(self.dom.contains("<div class=\"filters\" id=\"filters\">"));
    }
}

fn screenshot_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// A PNG of the window's size, with enough in it to be more than an empty
/// page (a blank 1400×2000 page compresses to about 10 KB).
fn assert_screenshot(path: &Path) {
    let png = std::fs::read(path).unwrap_or_else(|_| panic!("{} written", path.display()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), (1400, 2000), "IHDR width and height");
    assert!(png.len() > 60_000, "{} bytes: a blank page?", png.len());
}

/// `cargo run --quiet ARGS` in the crate root; its stdout.
fn cargo_run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO"))
        .args(["run", "--quiet"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo run {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}
