//! `geneval gate`: rules over records that real commands wrote, exit codes
//! 0/1/2, `--json`, `--github`, `--junit`, `[[run]]`, and its errors.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn gate(args: &[&str]) -> Output {
    geneval().arg("gate").args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A KID and a FID record of features, appended to `results.jsonl` in
/// `dir` with `--record` and labelled model=ours; returns their values.
fn real_records(dir: &Path) -> (f64, f64) {
    let results = dir.join("results.jsonl");
    let a = reference_fixture("kid_small_defaults_a.npy");
    let b = reference_fixture("kid_small_defaults_b.npy");
    let common = ["--record", s(&results), "--label", "model=ours"];
    let kid = run_json(&[&["kid", s(&a), s(&b)], &common[..]].concat());
    let fid = run_json(&[&["fid", s(&a), s(&b)], &common[..]].concat());
    assert!(kid["uncertainty"].as_f64().unwrap() > 0.0);
    (
        kid["value"].as_f64().unwrap(),
        fid["value"].as_f64().unwrap(),
    )
}

#[test]
fn exit_0_when_every_rule_passes_and_1_when_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (kid, fid) = real_records(dir.path());
    let config = |fid_max: f64| {
        format!(
            "records = [\"results.jsonl\"]\n\
             [[rule]]\nmetric = \"fid\"\nmax = {fid_max}\nwhere = {{ model = \"ours\" }}\n\
             [[rule]]\nmetric = \"kid\"\nvalue = \"kid_mean\"\nmax = {}\n",
            kid * 2.0
        )
    };
    let passing = write(dir.path(), "pass.toml", &config(fid + 1.0));
    let out = gate(&[&passing]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("#  rule"), "{text}");
    assert!(text.contains("fid (model=ours)"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("gate passed: 2 of 2 rules passed"),
        "{text}"
    );

    let failing = write(dir.path(), "fail.toml", &config(fid / 2.0));
    let out = gate(&[&failing]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("FAIL"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("gate FAILED: 1 of 2 rules failed (1 passed)"),
        "{text}"
    );
}

#[test]
fn json_record_github_annotations_and_junit() {
    let dir = tempfile::tempdir().unwrap();
    let (kid, fid) = real_records(dir.path());
    let config = write(
        dir.path(),
        "q.toml",
        &format!(
            "records = [\"results.jsonl\"]\n\
             [[rule]]\nmetric = \"fid\"\nmax = {}\n\
             [[rule]]\nmetric = \"kid\"\nmax = {}\n\
             [[rule]]\nmetric = \"is\"\nmin = 1\noptional = true\n",
            fid / 2.0,
            kid * 2.0
        ),
    );
    let junit = dir.path().join("gate.xml");

    // --json: one record on stdout, annotations on stderr.
    let out = gate(&[&config, "--json", "--github", "--junit", s(&junit)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    let record: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(record["metric"], "gate");
    assert_eq!(record["passed"], false);
    assert_eq!(record["values"]["rules"], 3.0);
    assert_eq!(record["values"]["passed"], 1.0);
    assert_eq!(record["values"]["failed"], 1.0);
    assert_eq!(record["values"]["skipped"], 1.0);
    let rules = record["settings"]["rules"].as_array().unwrap();
    assert_eq!(rules[0]["verdict"], "fail");
    assert_eq!(rules[0]["value"].as_f64().unwrap(), fid);
    assert_eq!(rules[1]["verdict"], "pass");
    assert_eq!(rules[2]["verdict"], "skipped");
    assert!(rules[0]["source"]
        .as_str()
        .unwrap()
        .ends_with("results.jsonl:2"));
    assert_eq!(record["outputs"][0], s(&junit));
    let errors = stderr(&out);
    let annotation = errors.lines().find(|l| l.starts_with("::error")).unwrap();
    assert!(
        annotation.starts_with("::error title=geneval gate::fid ")
            && annotation.ends_with(" (rule 1)"),
        "{annotation}"
    );
    assert!(annotation.contains(" > "), "{annotation}");
    assert_eq!(
        errors
            .lines()
            .filter(|l| l.starts_with("::notice title=geneval gate::"))
            .count(),
        2
    );

    // The JUnit file: one testcase per rule.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(xml.contains("<testsuite name=\"geneval gate\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 3);
    assert_eq!(xml.matches("<failure message=\"fid ").count(), 1);
    assert_eq!(xml.matches("<skipped ").count(), 1);
    assert!(xml.trim_end().ends_with("</testsuites>"));

    // Without --json the annotations are on stdout, after the table.
    let out = gate(&[&config, "--github"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::error title=geneval gate::fid ")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::notice title=geneval gate::kid ")),
        "{text}"
    );
    assert!(lines.last().unwrap().starts_with("gate FAILED"), "{text}");
}

/// The records of `path` with `edit` applied to each.
fn edited(path: &Path, edit: impl Fn(&mut Value)) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            edit(&mut v);
            serde_json::to_string(&v).unwrap() + "\n"
        })
        .collect()
}

#[test]
fn regressions_against_a_baseline_with_and_without_noise() {
    let dir = tempfile::tempdir().unwrap();
    let (kid, _) = real_records(dir.path());
    let results = dir.path().join("results.jsonl");
    // A baseline 10% better (lower) than the current KID.
    let scale = |v: &mut Value, factor: f64| {
        let x = v["value"].as_f64().unwrap() * factor;
        v["value"] = x.into();
        if v["metric"] == "kid" {
            v["values"]["kid_mean"] = x.into();
        }
    };
    let better = edited(&results, |v| scale(v, 1.0 / 1.1));
    write(dir.path(), "baseline.jsonl", &better);
    let rule = |extra: &str| {
        format!(
            "records = [\"results.jsonl\"]\n[[rule]]\nmetric = \"kid\"\n\
             baseline = \"baseline.jsonl\"\nmax_increase_percent = 5\n{extra}"
        )
    };
    let plain = write(dir.path(), "plain.toml", &rule(""));
    let out = gate(&[&plain]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("+10% over baseline"),
        "{}",
        stdout(&out)
    );

    // Noise-aware: with the record's own KID std the 10% is noise only if
    // the std is large enough; make it so, then tiny.
    let noisy = edited(&dir.path().join("baseline.jsonl"), |v| {
        v["uncertainty"] = (kid).into();
    });
    write(dir.path(), "baseline.jsonl", &noisy);
    let aware = write(dir.path(), "aware.toml", &rule("noise_aware = true\n"));
    let out = gate(&[&aware]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("within noise"), "{}", stdout(&out));
    let quiet = edited(&results, |v| v["uncertainty"] = 0.0.into());
    std::fs::write(&results, quiet).unwrap();
    let tight = edited(&dir.path().join("baseline.jsonl"), |v| {
        v["uncertainty"] = 0.0.into();
    });
    write(dir.path(), "baseline.jsonl", &tight);
    let out = gate(&[&aware]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("beyond noise 0 (2 sigma)"),
        "{}",
        stdout(&out)
    );

    // The same records as baseline: no change, passes.
    let same = write(
        dir.path(),
        "same.toml",
        "records = [\"results.jsonl\"]\n[[rule]]\nmetric = \"fid\"\nbaseline = \"results.jsonl\"\n\
         max_increase_percent = 0\n",
    );
    let out = gate(&[&same]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn the_readme_example_on_fixture_records() {
    let config = fixture("gate/quality.toml");
    let out = gate(&[s(&config)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "#  rule              value   limit                  verdict  detail",
            "1  fid (model=ours)  24.6    <= 25                  pass     24.6 <= 25",
            "2  fid (model=ours)  24.6    baseline 24.1          FAIL     +2.07% over baseline 24.1 (allowed 2%)",
            "3  kid               0.0118  baseline 0.0112        pass     +5.36% over baseline 0.0112 (allowed 2%), within noise 0.00269072 (2 sigma)",
            "4  prdc.recall       0.52    >= 0.5, baseline 0.55  pass     0.52 >= 0.5; -0.03 under baseline 0.55 (allowed 0.05 decrease)",
        ],
        "{text}"
    );
    assert!(lines[5].starts_with("5  is                -       >= 8                   skipped  optional rule skipped: rule 5: no `is` record in the records (metrics there: fid, kid, prdc)"), "{text}");
    assert_eq!(
        lines[6],
        "gate FAILED: 1 of 5 rules failed (3 passed, 1 skipped)"
    );
    // --records overrides the config's records (relative to the working folder).
    let baseline = fixture("gate/baseline.jsonl");
    let out = gate(&[s(&config), "--records", s(&baseline)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the baseline against itself: {}",
        stdout(&out)
    );
}

#[test]
fn run_sections_run_fid_with_the_builtin_network_and_keep_history() {
    let dir = tempfile::tempdir().unwrap();
    // Paths in the config are relative to it, wherever the gate is started.
    let images = dir.path().join("ci/images");
    std::fs::create_dir_all(&images).unwrap();
    for entry in std::fs::read_dir(fixture("models/images")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), images.join(entry.file_name())).unwrap();
    }
    let config = write(
        &dir.path().join("ci"),
        "quality.toml",
        "records = [\"history/results.jsonl\"]\n\
         [[run]]\nargs = [\"fid\", \"images\", \"images\", \"--model\", \"builtin\"]\n\
         label = { model = \"ours\" }\n\
         [[rule]]\nmetric = \"fid\"\nwhere = { model = \"ours\" }\nmax = 1e-3\n",
    );
    let out = geneval()
        .current_dir("/")
        .args(["gate", &config, "--label", "commit=abc123", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let record: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(record["passed"], true);
    let rule = &record["settings"]["rules"][0];
    assert!(rule["value"].as_f64().unwrap().abs() < 1e-3, "{rule}");
    let history = dir.path().join("ci/history/results.jsonl");
    assert!(
        rule["source"]
            .as_str()
            .unwrap()
            .ends_with("results.jsonl:1"),
        "{rule}"
    );
    let lines = std::fs::read_to_string(&history).unwrap();
    let produced: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(produced["metric"], "fid");
    assert_eq!(produced["model"]["name"], "builtin");
    assert_eq!(produced["labels"]["model"], "ours");
    assert_eq!(produced["labels"]["commit"], "abc123");
    assert_eq!(record["labels"]["commit"], "abc123");
    // A second gate run appends: history accumulates, the latest is judged.
    let out = gate(&[&config, "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&history).unwrap().lines().count(),
        2
    );
    assert!(stdout(&out).contains("gate passed"), "{}", stdout(&out));

    // A run that fails is an error with its stderr.
    let broken = write(
        dir.path(),
        "broken.toml",
        "[[run]]\nargs = [\"fid\", \"no-such-folder\", \"images\", \"--model\", \"builtin\"]\n\
         [[rule]]\nmetric = \"fid\"\nmax = 1\n",
    );
    let err = run_error(&["gate", &broken]);
    assert!(
        err.contains("[[run]] 1 (`geneval fid no-such-folder images"),
        "{err}"
    );
    assert!(
        err.contains("failed (exit code 2); its stderr:\n    error: "),
        "{err}"
    );
    assert!(err.contains("no-such-folder"), "{err}");
}

#[test]
fn errors_exit_2_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let records = fixture("gate/records.jsonl");
    let config = |name: &str, text: &str| write(dir.path(), name, text);

    let unknown = config(
        "unknown.toml",
        &format!(
            "records = [{:?}]\n[[rule]]\nmetric = \"is\"\nmin = 5\n",
            s(&records)
        ),
    );
    let err = run_error(&["gate", &unknown]);
    assert!(
        err.contains("rule 1: no `is` record in the records (metrics there: fid, kid, prdc)"),
        "{err}"
    );
    assert!(err.contains("optional = true"), "{err}");

    // A baseline measured in another preprocessing mode: refused, as
    // `geneval report` refuses that column; allow_mixed judges with a warning.
    let pytorch_fid = edited(&records, |v| v["mode"] = "pytorch-fid".into());
    write(dir.path(), "other-mode.jsonl", &pytorch_fid);
    let mixed_rule = |extra: &str| {
        format!(
            "records = [{:?}]\n[[rule]]\nmetric = \"fid\"\nwhere = {{ model = \"ours\" }}\n\
             baseline = \"other-mode.jsonl\"\nmax_increase = 100\n{extra}",
            s(&records)
        )
    };
    let mixed = config("mixed.toml", &mixed_rule(""));
    let err = run_error(&["gate", &mixed]);
    assert!(
        err.contains("differ in preprocessing modes (clean vs pytorch-fid)"),
        "{err}"
    );
    assert!(err.contains("allow_mixed = true"), "{err}");
    let allowed = config("allowed.toml", &mixed_rule("allow_mixed = true\n"));
    let out = gate(&[&allowed]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("not comparable"), "{}", stderr(&out));

    let bad_toml = config("bad.toml", "[[rule]\nmetric = \"fid\"\n");
    let err = run_error(&["gate", &bad_toml]);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("line 1"), "{err}");

    let unknown_key = config("key.toml", "[[rule]]\nmetric = \"fid\"\nmaximum = 25\n");
    let err = run_error(&["gate", &unknown_key]);
    assert!(err.contains("unknown field `maximum`"), "{err}");
    assert!(err.contains("geneval gate --help"), "{err}");

    let missing = config(
        "missing.toml",
        "records = [\"nowhere.jsonl\"]\n[[rule]]\nmetric = \"fid\"\nmax = 1\n",
    );
    let err = run_error(&["gate", &missing]);
    assert!(err.contains("reading the records: cannot read"), "{err}");
    assert!(err.contains("nowhere.jsonl"), "{err}");

    let no_baseline = config(
        "nobase.toml",
        &format!(
            "records = [{:?}]\n[[rule]]\nmetric = \"fid\"\nbaseline = \"gone.jsonl\"\nmax_increase = 1\n",
            s(&records)
        ),
    );
    let err = run_error(&["gate", &no_baseline]);
    assert!(err.contains("reading the baseline of rule 1"), "{err}");

    let err = run_error(&["gate", s(&dir.path().join("absent.toml"))]);
    assert!(err.contains("cannot read the gate config"), "{err}");
}

/// A folder `ci/` in `dir` with the fixture images in `ci/images` and
/// `quality.toml` holding `runs` and a FID rule; returns the config's path.
fn config_with_runs(dir: &Path, runs: &str) -> String {
    let ci = dir.join("ci");
    std::fs::create_dir_all(ci.join("images")).unwrap();
    for entry in std::fs::read_dir(fixture("models/images")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), ci.join("images").join(entry.file_name())).unwrap();
    }
    write(
        &ci,
        "quality.toml",
        &format!("records = [\"results.jsonl\"]\n{runs}\n[[rule]]\nmetric = \"fid\"\nmax = 1e9\n"),
    )
}

#[test]
fn run_with_ort_lib_is_refused_before_any_run_starts() {
    let dir = tempfile::tempdir().unwrap();
    let a = reference_fixture("kid_small_defaults_a.npy");
    // Run 1 would append a record; run 2 names a library next to the config.
    let config = config_with_runs(
        dir.path(),
        &format!(
            "[[run]]\nargs = [\"fid\", {:?}, {:?}]\n\
             [[run]]\nargs = [\"doctor\", \"--ort-lib\", \"./libonnxruntime.so.1.31.0\"]\n",
            s(&a),
            s(&a)
        ),
    );
    write(
        &dir.path().join("ci"),
        "libonnxruntime.so.1.31.0",
        "not a library",
    );
    let err = run_error(&["gate", &config]);
    assert!(err.contains("[[run]] 2: "), "{err}");
    assert!(
        err.contains("`--ort-lib ./libonnxruntime.so.1.31.0` is not allowed"),
        "{err}"
    );
    assert!(err.contains("a gate cannot run `doctor`"), "{err}");
    assert!(
        !dir.path().join("ci/results.jsonl").exists(),
        "run 1 started although run 2 is refused"
    );
}

#[test]
fn nested_gate_behind_a_global_flag_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // The config runs itself: before the fix, an endless chain of gates.
    let config = config_with_runs(
        dir.path(),
        "[[run]]\nargs = [\"--label\", \"x=1\", \"gate\", \"quality.toml\"]\n",
    );
    let clock = std::time::Instant::now();
    let err = run_error(&["gate", &config]);
    assert!(clock.elapsed().as_secs() < 10, "{:?}", clock.elapsed());
    assert!(err.contains("[[run]] 1: a gate cannot run `gate`"), "{err}");
}

#[test]
fn gate_started_by_a_gate_run_refuses_to_run() {
    let config = fixture("gate/quality.toml");
    let out = geneval()
        .args(["gate", s(&config)])
        .env("GENEVAL_GATE_DEPTH", "1")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("refusing to run a gate inside a gate: GENEVAL_GATE_DEPTH=1"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
}

#[test]
fn onnxruntime_py_in_the_config_folder_is_not_imported_by_the_runtime_probe() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_runs(
        dir.path(),
        "[[run]]\nargs = [\"is\", \"images\", \"--model\", \"builtin\"]\n",
    );
    let marker = dir.path().join("imported");
    write(
        &dir.path().join("ci"),
        "onnxruntime.py",
        &format!("open({:?}, 'w').write('x')\n", s(&marker)),
    );
    // No library in the (empty) cache and none named: the child asks Python.
    let cache = dir.path().join("empty-cache");
    let out = geneval()
        .args(["gate", &config])
        .env("GENEVAL_CACHE_DIR", &cache)
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("PYTHON")
        .output()
        .unwrap();
    assert!(!marker.exists(), "onnxruntime.py ran: {}", stderr(&out));
    // Without ONNX Runtime the run fails (exit 2); with a system-wide
    // onnxruntime package it passes. Never a panic.
    assert!(matches!(out.status.code(), Some(0 | 2)), "{}", stderr(&out));
}

#[test]
fn rule_names_cannot_forge_workflow_commands_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let records = fixture("gate/records.jsonl");
    let config = write(
        dir.path(),
        "q.toml",
        &format!(
            "records = [{:?}]\n[[rule]]\nname = \"x\\n::add-mask::y\\r\\n::stop-commands::z\\u001b]0;t\\u0007\"\n\
             metric = \"fid\"\nmax = 1e9\n",
            s(&records)
        ),
    );
    let out = gate(&[&config]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains(['\r', '\u{1b}', '\u{7}']), "{text:?}");
    assert!(
        text.contains("x\\n::add-mask::y\\r\\n::stop-commands::z\\u{1b}]0;t\\u{7}"),
        "{text}"
    );
    // With the annotations (escaped as GitHub documents) after the table.
    let out = gate(&[&config, "--github"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("::add-mask") || l.starts_with("::stop-commands")),
        "{text}"
    );
}
