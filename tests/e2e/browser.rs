//! The HTML report in a real browser: headless Chromium (Debian's
//! `chromium`, which `scripts/test` installs when missing) opens a report
//! made from a selfcheck and a few fake checkpoints; the page must render
//! its tables and charts with no console error and no network request. The
//! screenshot is kept in `target/test-artifacts/report.png`.
//!
//! A second page, made from `fid` and `nn` records of generated image
//! sets, carries sample thumbnails as `data:` JPEGs: every one must decode
//! (`naturalWidth > 0`, counted by a script in a copy of the page, since
//! the report itself has none), with no request and no console message.
//!
//! Without Chromium the tests are skipped with a note, unless
//! `GENEVAL_REQUIRE_BROWSER=1` (set by `scripts/test`) makes that a failure.

use crate::common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GENEVAL_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// Chromium with the flags of an offline, throwaway, headless session.
fn headless(browser: &Path, profile: &Path) -> Command {
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// The URLs a page requested, from Chromium's net log: of the requests in
/// the log, those with a page origin as initiator are the page's
/// (Chromium's own background requests — update checks, network time,
/// sign-in — have none: "not an origin").
fn page_requests(log_path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(log_path).unwrap();
    let log: Value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", text.trim_end().trim_end_matches(','))))
        .expect("a readable net log");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == start_job)
        .filter(|e| e["params"]["initiator"].as_str() != Some("not an origin"))
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_owned))
        .collect()
}

/// The page's requests that are neither `file:` nor `data:`.
fn remote_requests(log_path: &Path) -> Vec<String> {
    page_requests(log_path)
        .into_iter()
        .filter(|u| !(u.starts_with("file:") || u.starts_with("data:")))
        .collect()
}

/// Runs Chromium with `args`, its console on stderr and a net log at
/// `net_log`; fails the test unless it exited 0, printed no console message
/// and the page requested nothing but `file:` and `data:` URLs.
fn run_offline(browser: &Path, net_log: &Path, args: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let out = headless(browser, profile.path())
        .args(["--enable-logging=stderr", "--v=0"])
        .arg(format!("--log-net-log={}", net_log.display()))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium {args:?} failed: {stderr}");
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let remote = remote_requests(net_log);
    assert!(
        remote.is_empty(),
        "the report made network requests: {remote:?}"
    );
    out
}

/// The Chromium to test with, or `None` (the test is then skipped with a
/// note) unless `GENEVAL_REQUIRE_BROWSER` makes its absence a failure.
fn chromium_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("GENEVAL_REQUIRE_BROWSER").is_none(),
            "GENEVAL_REQUIRE_BROWSER is set but no chromium was found (apt-get install chromium)"
        );
        eprintln!(
            "note: chromium not found; the browser test is skipped (scripts/test installs it)"
        );
    }
    found
}

/// Records of a small selfcheck and of two models at three checkpoints.
fn make_records(dir: &Path) -> PathBuf {
    let records = dir.join("records.jsonl");
    let r = s(&records);
    let out = geneval()
        .args([
            "selfcheck",
            "--out",
            s(&dir.join("selfcheck")),
            "--n",
            "60",
            "--size",
            "32",
        ])
        .args(["--model", "builtin", "--record", r, "--quiet"])
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // FID from feature pairs that differ more or less; "ours" is one pair
    // ahead of the baseline at every step.
    let pairs = [
        "well_conditioned",
        "equal_covariances",
        "kid_small_defaults",
        "identical",
    ];
    let a = reference_fixture("kid_medium_a.npy");
    let b = reference_fixture("kid_medium_b.npy");
    for (model, offset) in [("baseline", 0usize), ("ours", 1)] {
        for (i, step) in ["1000", "2000", "3000"].iter().enumerate() {
            let label_model = format!("model={model}");
            let label_step = format!("step={step}");
            let subsets = (20 + 10 * (i + offset)).to_string();
            let k = (3 + i + offset).to_string();
            let fa = reference_fixture(&format!("{}_a.npy", pairs[i + offset]));
            let fb = reference_fixture(&format!("{}_b.npy", pairs[i + offset]));
            for args in [
                vec!["fid", s(&fa), s(&fb), "--bootstrap", "10"],
                vec![
                    "kid",
                    s(&a),
                    s(&b),
                    "--subsets",
                    &subsets,
                    "--subset-size",
                    "50",
                ],
                vec!["prdc", s(&a), s(&b), "--k", &k],
            ] {
                let out = geneval()
                    .args(&args)
                    .args([
                        "--record",
                        r,
                        "--label",
                        &label_model,
                        "--label",
                        &label_step,
                        "--quiet",
                    ])
                    .output()
                    .unwrap();
                assert_success(&out, &format!("{args:?}"));
            }
        }
    }
    records
}

#[test]
fn html_report_renders_in_headless_chromium_without_errors_or_requests() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let records = make_records(dir.path());
    let html = dir.path().join("report.html");
    let record = run_json(&[
        "report",
        s(&records),
        "-o",
        s(&html),
        "--title",
        "Checkpoints <and> selfcheck",
    ]);
    assert_eq!(record["metric"], "report");
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(
        !text.contains("http://") && !text.contains("https://"),
        "the report names a URL"
    );
    assert!(
        text.contains("Checkpoints &lt;and&gt; selfcheck"),
        "the title is escaped"
    );

    let url = format!("file://{}", html.display());
    // The DOM as rendered: tables and inline SVG charts are there.
    let profile = tempfile::tempdir().unwrap();
    let out = headless(&browser, profile.path())
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    assert_success(&out, "chromium --dump-dom failed");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.matches("<table").count() >= 3,
        "tables rendered: {}",
        dom.matches("<table").count()
    );
    assert!(
        dom.matches("<svg").count() >= 3,
        "charts rendered: {}",
        dom.matches("<svg").count()
    );
    for word in ["ours", "baseline", "fid", "selfcheck"] {
        assert!(dom.to_lowercase().contains(word), "the page shows {word}");
    }

    // A screenshot, with the console and the network logged.
    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::copy(&html, artifacts.join("report.html")).unwrap();
    let shot = artifacts.join("report.png");
    let _ = std::fs::remove_file(&shot);
    // No console message and no request made by the page (see
    // `page_requests`); the test's detector is checked below on a page that
    // does load a remote image.
    run_offline(
        &browser,
        &dir.path().join("netlog.json"),
        &[
            "--window-size=1280,4200",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
    );
    let probe = dir.path().join("probe.html");
    std::fs::write(
        &probe,
        "<p>x</p><img src=\"https://example.invalid/x.png\">",
    )
    .unwrap();
    let probe_log = dir.path().join("probe_netlog.json");
    let profile = tempfile::tempdir().unwrap();
    let out = headless(&browser, profile.path())
        .arg(format!("--log-net-log={}", probe_log.display()))
        .args(["--dump-dom", &format!("file://{}", probe.display())])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        page_requests(&probe_log)
            .iter()
            .any(|u| u.starts_with("https://example.invalid")),
        "the net-log check sees a page's remote request"
    );

    // The screenshot is a real picture, not a blank page.
    let png = image::open(&shot).expect("a PNG screenshot").to_rgb8();
    assert_eq!(png.width(), 1280);
    let distinct: std::collections::BTreeSet<[u8; 3]> =
        png.pixels().step_by(97).map(|p| p.0).collect();
    assert!(
        distinct.len() > 20,
        "the screenshot has only {} colours",
        distinct.len()
    );
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn report_thumbnails_decode_in_headless_chromium_without_requests() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let records = crate::report_samples::sample_records(dir.path());
    let html = dir.path().join("samples.html");
    let out = geneval()
        .args(["report", s(&records), "-o", s(&html), "--quiet"])
        .output()
        .unwrap();
    assert_success(&out, "");
    let page = std::fs::read_to_string(&html).unwrap();
    let expected = crate::report_samples::EXPECTED_THUMBNAILS;
    assert_eq!(page.matches("<img").count(), expected);

    // The page itself: no console message, no request but file: and data:.
    let out = run_offline(
        &browser,
        &dir.path().join("netlog.json"),
        &["--dump-dom", &format!("file://{}", html.display())],
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        dom.matches("<img").count(),
        expected,
        "thumbnails in the DOM"
    );

    // A copy with a script that counts, once everything has loaded, the
    // images the browser decoded, and writes the count into the DOM.
    let probe = dir.path().join("samples-probe.html");
    let script = "<script>addEventListener('load', () => { \
        const all = [...document.images]; \
        const ok = all.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0); \
        const p = document.createElement('p'); p.id = 'probe'; \
        p.textContent = 'decoded ' + ok.length + ' of ' + all.length; \
        document.body.appendChild(p); });</script>";
    std::fs::write(&probe, page.replace("</body>", &format!("{script}</body>"))).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = headless(&browser, profile.path())
        .args(["--virtual-time-budget=5000", "--dump-dom"])
        .arg(format!("file://{}", probe.display()))
        .output()
        .unwrap();
    assert_success(&out, "");
    let dom = String::from_utf8_lossy(&out.stdout);
    let want = format!("<p id=\"probe\">decoded {expected} of {expected}</p>");
    assert!(
        dom.contains(&want),
        "every thumbnail decodes: {}",
        dom.lines()
            .find(|l| l.contains("probe"))
            .unwrap_or("no probe line")
    );
    // The probe sees a broken image as broken.
    let broken = dir.path().join("broken.html");
    std::fs::write(
        &broken,
        format!("<img src=\"data:image/jpeg;base64,AAAA\">{script}"),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = headless(&browser, profile.path())
        .args(["--virtual-time-budget=5000", "--dump-dom"])
        .arg(format!("file://{}", broken.display()))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("decoded 0 of 1"));

    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::copy(&html, artifacts.join("report-samples.html")).unwrap();
}
