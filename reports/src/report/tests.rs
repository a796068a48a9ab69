use super::*;
use crate::record::{InputRecord, ModelRecord};

fn rec(metric: &str, value: f64, labels: &[(&str, &str)]) -> ResultRecord {
    let mut r = ResultRecord::new(metric, "0.1.0", "2026-01-01T00:00:00Z".into());
    r.value = Some(value);
    r.set(metric, value);
    r.model = Some(ModelRecord {
        name: "builtin".into(),
        id: Some("builtin-randconv-v1".into()),
    });
    r.mode = Some("pytorch-fid".into());
    for (k, v) in labels {
        r.labels.insert((*k).into(), (*v).into());
    }
    r
}

fn records(list: Vec<ResultRecord>) -> Records {
    Records {
        records: list
            .into_iter()
            .enumerate()
            .map(|(i, record)| SourcedRecord {
                record,
                source: format!("runs.jsonl:{}", i + 1),
            })
            .collect(),
        warnings: Vec::new(),
        files: Vec::new(),
    }
}

fn report(list: Vec<ResultRecord>) -> Result<Report, ReportError> {
    Report::from_records(&records(list), &ReportOptions::default())
}

fn cell<'r>(table: &'r Table, row: &str, column: &str) -> &'r Cell {
    let c = table.columns.iter().position(|c| c.key == column).unwrap();
    let r = table
        .rows
        .iter()
        .find(|r| r[0].display() == row)
        .unwrap_or_else(|| panic!("no row {row}"));
    &r[c]
}

fn measure<'r>(table: &'r Table, row: &str, column: &str) -> &'r Measure {
    cell(table, row, column)
        .measure()
        .unwrap_or_else(|| panic!("{row}/{column} is not a number"))
}

#[test]
fn no_records_is_an_error() {
    assert!(matches!(report(vec![]), Err(ReportError::NoRecords)));
}

#[test]
fn best_is_marked_by_each_metrics_direction() {
    let mut is_a = rec("is", 5.0, &[("model", "a")]);
    is_a.uncertainty = Some(0.1);
    let r = report(vec![
        rec("fid", 20.0, &[("model", "a")]),
        rec("fid", 10.0, &[("model", "b")]),
        rec("fid", 15.0, &[("model", "c")]),
        is_a,
        rec("is", 7.0, &[("model", "b")]),
        rec("is", 9.0, &[("model", "c")]),
        rec("bits_per_byte", 1.0, &[("model", "a")]),
    ])
    .unwrap();
    let t = r.models_table().unwrap();
    let keys: Vec<&str> = t.columns.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["model", "fid", "is", "bits_per_byte"]);
    assert_eq!(t.columns[1].direction, Some(Direction::Lower));
    assert_eq!(t.columns[2].direction, Some(Direction::Higher));
    assert!(measure(t, "b", "fid").best);
    assert!(!measure(t, "a", "fid").best && !measure(t, "c", "fid").best);
    assert!(measure(t, "c", "is").best);
    assert!(!measure(t, "a", "is").best && !measure(t, "b", "is").best);
    assert_eq!(measure(t, "a", "is").uncertainty, Some(0.1));
    // A single number in a column is not "best" of anything.
    assert!(!measure(t, "a", "bits_per_byte").best);
    assert_eq!(cell(t, "b", "bits_per_byte"), &Cell::Empty);
    assert_eq!(r.headlines.len(), 3);
    assert_eq!(r.headlines[0].group, "b");
    assert_eq!(r.headlines[1].group, "c");
    assert_eq!(
        r.headlines[0].describe(),
        "FID (lower is better): best b, 10.00 (of 3)"
    );
}

#[test]
fn ties_are_all_best_and_directions_are_known() {
    let r = report(vec![
        rec("kid", 0.5, &[("model", "a")]),
        rec("kid", 0.5, &[("model", "b")]),
    ])
    .unwrap();
    let t = r.models_table().unwrap();
    assert!(measure(t, "a", "kid").best && measure(t, "b", "kid").best);
    assert_eq!(r.headlines[0].group, "a, b");
    assert_eq!(Direction::of("ppl"), Some(Direction::Lower));
    assert_eq!(Direction::of("mean_perplexity"), Some(Direction::Lower));
    assert_eq!(Direction::of("word_perplexity"), Some(Direction::Lower));
    assert_eq!(Direction::of("bits_per_byte"), Some(Direction::Lower));
    assert_eq!(Direction::of("coverage"), Some(Direction::Higher));
    assert_eq!(Direction::of("duration"), None);
}

#[test]
fn mixing_feature_networks_is_refused_naming_both() {
    let mut inception = rec("fid", 12.0, &[("model", "b")]);
    inception.model = Some(ModelRecord {
        name: "fid-inception".into(),
        id: Some("fid-inception@sha256:6726825d".into()),
    });
    let list = vec![rec("fid", 10.0, &[("model", "a")]), inception];
    let err = report(list.clone()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ReportError::Mixed(_)));
    assert!(text.contains("FID"), "{text}");
    assert!(
        text.contains("builtin-randconv-v1") && text.contains("runs.jsonl:1"),
        "{text}"
    );
    assert!(
        text.contains("fid-inception@sha256:6726825d") && text.contains("runs.jsonl:2"),
        "{text}"
    );
    assert!(err.hint().contains("--allow-mixed"));

    let options = ReportOptions {
        allow_mixed: true,
        ..ReportOptions::default()
    };
    let r = Report::from_records(&records(list), &options).unwrap();
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("mixes feature networks")));
    let t = r.models_table().unwrap();
    assert_eq!(
        measure(t, "b", "fid").note.as_deref(),
        Some("fid-inception@sha256:6726825d · pytorch-fid")
    );
}

#[test]
fn mixing_preprocessing_modes_is_refused() {
    let mut clean = rec("kid", 0.1, &[("model", "b")]);
    clean.mode = Some("clean".into());
    let err = report(vec![rec("kid", 0.2, &[("model", "a")]), clean]).unwrap_err();
    assert!(err.to_string().contains("preprocessing modes"), "{err}");
    assert!(err.to_string().contains("`clean`"), "{err}");
    // Features given as .npy carry no network: nothing to compare.
    let mut features = rec("kid", 0.1, &[("model", "b")]);
    features.model = None;
    features.mode = None;
    assert!(report(vec![rec("kid", 0.2, &[("model", "a")]), features]).is_ok());
}

fn ppl(model: &str, mode: &str, max_length: u64, value: f64) -> ResultRecord {
    let mut r = rec("ppl", value, &[]);
    r.model = Some(ModelRecord {
        name: model.into(),
        id: Some(format!("sha256:{model}")),
    });
    r.mode = Some(mode.into());
    r.setting("max_length", max_length)
        .setting("stride", 512u64);
    r.set("bits_per_byte", value.ln() / 4.0);
    r
}

#[test]
fn perplexities_compare_models_but_not_modes_or_windows() {
    let r = report(vec![
        ppl("gpt2", "corpus", 1024, 25.0),
        ppl("gpt2-medium", "corpus", 1024, 18.0),
    ])
    .unwrap();
    let t = r.models_table().unwrap();
    // Without a `model` label the language model names the row.
    assert!(measure(t, "gpt2-medium", "ppl").best);
    assert!(measure(t, "gpt2-medium", "bits_per_byte").best);
    let err = report(vec![
        ppl("gpt2", "corpus", 1024, 25.0),
        ppl("gpt2-medium", "second-half", 1024, 18.0),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("perplexity modes"), "{err}");
    let err = report(vec![
        ppl("gpt2", "corpus", 1024, 25.0),
        ppl("gpt2-medium", "corpus", 512, 18.0),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("max_length=512"), "{err}");
}

#[test]
fn steps_latest_in_the_main_table_and_all_in_step_tables() {
    let r = report(vec![
        rec("fid", 30.0, &[("model", "a"), ("step", "1000")]),
        rec("fid", 20.0, &[("model", "a"), ("step", "2000")]),
        rec("fid", 25.0, &[("model", "b"), ("step", "1000")]),
        rec("fid", 17.0, &[("model", "b"), ("step", "2_000")]),
        rec("fid", 19.0, &[("model", "b"), ("step", "2000")]),
        rec("kid", 0.3, &[("model", "b"), ("step", "1000")]),
        rec("fid", 40.0, &[("model", "c"), ("step", "final")]),
    ])
    .unwrap();
    let t = r.models_table().unwrap();
    assert_eq!(t.columns[1].key, "step");
    assert_eq!(cell(t, "a", "step").display(), "2000");
    assert_eq!(measure(t, "a", "fid").value, 20.0);
    // Repeated runs: mean ± std (ddof 1).
    let b = measure(t, "b", "fid");
    assert_eq!((b.value, b.runs), (18.0, 2));
    assert!((b.uncertainty.unwrap() - 2f64.sqrt()).abs() < 1e-12);
    assert!(b.best);
    // b's KID is only at step 1000: shown, with a note.
    assert_eq!(measure(t, "b", "kid").note.as_deref(), Some("at step 1000"));
    // A step that is not a number: no step, a warning.
    assert_eq!(cell(t, "c", "step"), &Cell::Empty);
    assert!(r.warnings.iter().any(|w| w.contains("final")));

    let steps = r.tables.iter().find(|t| t.key == "steps:fid").unwrap();
    let labels: Vec<String> = steps.rows.iter().map(|r| r[0].display()).collect();
    assert_eq!(labels, ["1000", "2000"]);
    assert_eq!(steps.columns.len(), 3, "step, a, b (c has no numeric step)");
    assert!(measure(steps, "1000", "b").best);
    assert!(measure(steps, "2000", "b").best);
    // KID has one step only: the models table says it all.
    assert!(!r.tables.iter().any(|t| t.key == "steps:kid"));
    let line = r
        .charts
        .iter()
        .find_map(|(_, c)| match c {
            Chart::Line(l) if l.title == "FID over steps" => Some(l),
            _ => None,
        })
        .expect("a line chart of FID over steps");
    assert_eq!(line.series.len(), 2);
    assert_eq!(line.series[0].points, [(1000.0, 30.0), (2000.0, 20.0)]);
    assert_eq!(line.series[1].errors.as_ref().unwrap()[1], 2f64.sqrt());
    // Only one step of KID: no line either.
    assert!(!r.charts.iter().any(|(_, c)| c.title() == "KID over steps"));
}

#[test]
fn no_steps_no_step_column() {
    let r = report(vec![rec("fid", 1.0, &[("model", "a")])]).unwrap();
    let t = r.models_table().unwrap();
    assert!(t.columns.iter().all(|c| c.key != "step"));
    assert!(!r.tables.iter().any(|t| t.key.starts_with("steps:")));
}

#[test]
fn unlabelled_records_are_grouped_by_their_generated_input() {
    let input = |path: &str| InputRecord {
        path: path.into(),
        kind: "images".into(),
        count: Some(10),
        dim: None,
        sha256: None,
        content_sha256: None,
    };
    let mut fid = rec("fid", 3.0, &[]);
    fid.inputs = vec![input("real/"), input("fake/")];
    let mut bare = rec("is", 3.0, &[]);
    bare.inputs.clear();
    let r = report(vec![fid, bare]).unwrap();
    let t = r.models_table().unwrap();
    assert_eq!(measure(t, "fake/", "fid").value, 3.0);
    assert_eq!(measure(t, "(unlabelled)", "is").value, 3.0);
    assert!(r.warnings.iter().any(|w| w.contains("--label model=NAME")));
    assert_eq!(r.provenance[0].group, "fake/");
}

#[test]
fn grouping_by_another_label() {
    let options = ReportOptions {
        group_by_label: "run".into(),
        ..ReportOptions::default()
    };
    let list = vec![
        rec("fid", 1.0, &[("model", "a"), ("run", "x")]),
        rec("fid", 2.0, &[("model", "a"), ("run", "y")]),
    ];
    let r = Report::from_records(&records(list), &options).unwrap();
    let t = r.models_table().unwrap();
    assert_eq!(t.columns[0].key, "run");
    assert_eq!(t.title, "By run × metrics");
    assert!(measure(t, "x", "fid").best);
}

#[test]
fn prdc_becomes_four_columns_and_grouped_bars() {
    let mut prdc = ResultRecord::new("prdc", "0.1.0", "2026-01-01T00:00:00Z".into());
    for (k, v) in [
        ("precision", 0.7),
        ("recall", 0.6),
        ("density", 1.1),
        ("coverage", 0.5),
    ] {
        prdc.set(k, v);
    }
    prdc.set("improved_precision", 0.4);
    prdc.labels.insert("model".into(), "a".into());
    let r = report(vec![prdc]).unwrap();
    let t = r.models_table().unwrap();
    let keys: Vec<&str> = t.columns.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(
        keys,
        ["model", "precision", "recall", "density", "coverage"]
    );
    let grouped = r
        .charts
        .iter()
        .find_map(|(_, c)| match c {
            Chart::GroupedBar(g) => Some(g),
            _ => None,
        })
        .unwrap();
    assert_eq!(grouped.groups, [("a".to_owned(), vec![0.7, 0.6, 1.1, 0.5])]);
}

#[test]
fn selfcheck_sets_checks_and_charts() {
    let mut sc = ResultRecord::new("selfcheck", "0.1.0", "2026-01-01T00:00:00Z".into());
    let row = |set: &str, kind: &str, level: f64, fid: f64| {
        serde_json::json!({"set": set, "disturbance": kind, "level": level,
            "fid": fid, "kid": fid / 100.0, "is": 3.0, "precision": 0.9,
            "recall": 0.8, "density": 1.0, "coverage": 0.7})
    };
    sc.setting(
        "sets",
        vec![
            row("clean", "none", 0.0, 1.0),
            row("noise_0.1", "noise", 0.1, 2.0),
            row("noise_0.2", "noise", 0.2, 3.0),
            row("keep_8_classes", "mode-dropping", 8.0, 1.5),
        ],
    );
    sc.setting(
        "checks",
        vec![
            serde_json::json!({"name": "FID rises with noise", "passed": true, "required": true, "detail": "1 < 2 < 3"}),
            serde_json::json!({"name": "precision falls with noise", "passed": false, "required": false, "detail": "0.9"}),
        ],
    );
    sc.passed = Some(true);
    let r = report(vec![sc]).unwrap();
    assert!(r.models_table().is_none());
    let sets = r.tables.iter().find(|t| t.key == "selfcheck-sets").unwrap();
    assert_eq!(sets.rows.len(), 4);
    assert_eq!(sets.rows[1][2].display(), "0.1");
    let checks = r
        .tables
        .iter()
        .find(|t| t.key == "selfcheck-checks")
        .unwrap();
    assert_eq!(
        checks.rows[0][1],
        Cell::Verdict {
            verdict: Verdict::Pass
        }
    );
    assert_eq!(
        checks.rows[1][1],
        Cell::Verdict {
            verdict: Verdict::Info
        }
    );
    assert!(r
        .summary
        .iter()
        .any(|l| l.contains("passed — 1 of 2 checks held")));
    let fid = r
        .charts
        .iter()
        .find_map(|(_, c)| match c {
            Chart::Line(l) if l.title == "Self-check: FID vs disturbance" => Some(l),
            _ => None,
        })
        .unwrap();
    assert_eq!(fid.series[0].name, "noise");
    assert_eq!(fid.series[0].points, [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]);
    assert_eq!(fid.series[1].points, [(0.0, 1.0), (1.0, 1.5)]);
    assert_eq!(r.charts.len(), 6);
}

#[test]
fn numbers_are_formatted_to_four_significant_digits() {
    assert_eq!(format_number(46.73224), "46.73");
    assert_eq!(format_number(2.5546), "2.555");
    assert_eq!(format_number(0.27620), "0.2762");
    assert_eq!(format_number(0.0046), "0.004600");
    assert_eq!(format_number(-0.0035), "-0.003500");
    assert_eq!(format_number(2.22e-16), "2.220e-16");
    assert_eq!(format_number(0.0), "0");
    assert_eq!(format_number(12345.6), "12346");
    assert_eq!(format_uncertainty(0.28284), "0.28");
    assert_eq!(format_uncertainty(0.0005), "0.00050");
    assert_eq!(format_uncertainty(1.234), "1.2");
    assert_eq!(format_uncertainty(12.34), "12");
    assert_eq!(format_step(20000.0), "20000");
    assert_eq!(format_step(0.25), "0.25");
}

#[test]
fn record_warnings_are_listed_once_with_a_count() {
    let mut a = rec("fid", 1.0, &[("model", "a")]);
    a.warnings.push("not comparable".into());
    let mut b = rec("fid", 2.0, &[("model", "b")]);
    b.warnings.push("not comparable".into());
    let mut list = records(vec![a, b]);
    list.warnings
        .push("r.jsonl:3: ignored an incomplete last line".into());
    let r = Report::from_records(&list, &ReportOptions::default()).unwrap();
    assert_eq!(r.warnings[0], "r.jsonl:3: ignored an incomplete last line");
    assert!(r
        .warnings
        .contains(&"not comparable (2 records, first runs.jsonl:1)".to_owned()));
}
