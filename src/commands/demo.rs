//! `geneval demo`: the README's main command. With no download, it
//! generates a reference set of images, a second clean set (a "twin": the
//! same distribution, other samples) and a "fake" set from a generator that
//! is a little off (noise, and half of the classes dropped), runs every
//! metric through the real pipeline with the FID network if it is cached and
//! the built-in network otherwise, explains the numbers, and ends with a
//! short self-check (every metric must move the right way under the FID
//! paper's disturbances).

use anyhow::{Context, Result};
use geneval_reports::metric::{Direction, PRDC};
use geneval_reports::Format;
use ndarray::Array2;

use crate::backend::BuiltinNetwork;
use std::path::Path;

use super::selfcheck::{self, default_model};
use super::Outcome;
use crate::cli::{DemoArgs, GlobalArgs, SelfcheckArgs};
use crate::experiment::{Reference, Row};
use crate::extract::Extraction;
use crate::files::npz::write_statistics;
use crate::generate::{self, GenerateOptions, ImageFormat};
use crate::record::{RecordBuilder, ResultRecord};

/// One report-page record of the demo: metric, headline value, numbers.
type PageRecord<'a> = (&'a str, Option<f64>, Vec<(&'a str, f64)>);

struct Set {
    rows: Array2<f64>,
    logits: Array2<f64>,
}

fn make_set(
    extraction: &mut Extraction<'_>,
    dir: &Path,
    options: &GenerateOptions,
    label: &str,
) -> Result<Set> {
    generate::write_set(dir, options).with_context(|| format!("generating {}", dir.display()))?;
    let (rows, logits) = selfcheck::features(extraction, dir, label)?;
    Ok(Set { rows, logits })
}

/// Runs `geneval demo`.
pub fn run(args: &DemoArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("demo");
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut extract = args.extract.clone();
    extract.model = Some(extract.model.clone().unwrap_or_else(default_model));
    let model = extract.model.clone().unwrap_or_default();
    let mut extraction = Extraction::new(&extract, global.quiet);
    let base = GenerateOptions {
        n: args.n,
        size: args.size,
        seed: 0,
        classes: 10,
        keep_classes: None,
        format: ImageFormat::Png,
        disturbances: Vec::new(),
        copies: None,
    };
    let real = make_set(&mut extraction, &args.out.join("real"), &base, "real")?;
    let twin_options = GenerateOptions {
        seed: 1,
        ..base.clone()
    };
    let twin = make_set(
        &mut extraction,
        &args.out.join("twin"),
        &twin_options,
        "twin",
    )?;
    let fake_options = GenerateOptions {
        seed: 1,
        keep_classes: Some(5),
        disturbances: vec!["noise:0.1".parse().map_err(|e| anyhow::anyhow!("{e}"))?],
        ..base.clone()
    };
    let fake = make_set(
        &mut extraction,
        &args.out.join("fake"),
        &fake_options,
        "fake",
    )?;

    let reference = Reference::new(real.rows)?;
    let stats = args.out.join("real_stats.npz");
    write_statistics(&stats, reference.gaussian())?;
    let mut table = vec![format!(
        "{:<22} {:>12} {:>12}",
        "metric", "real vs twin", "real vs fake"
    )];
    // The self-check's measurement of each set against the real one.
    let mut values: Vec<(&str, Row)> = Vec::new();
    for (name, set) in [("twin", &twin), ("fake", &fake)] {
        values.push((name, reference.measure(&set.rows, &set.logits)?));
    }
    let (twin_row, fake_row) = (values[0].1.values(), values[1].1.values());
    for ((key, twin_value), (_, fake_value)) in twin_row.iter().zip(&fake_row) {
        table.push(format!(
            "{:<22} {twin_value:>12.5} {fake_value:>12.5}",
            display_name(key)
        ));
        for (set, v) in [("twin", twin_value), ("fake", fake_value)] {
            builder.record().set(&format!("{key}_{set}"), *v);
        }
    }
    builder.record().value = Some(values[1].1.fid);

    let mut summary = vec![
        format!(
            "{} images of {}x{} per set, 10 classes, model {model}{}",
            args.n,
            args.size,
            args.size,
            if BuiltinNetwork::named(&model).is_some() {
                " (geneval's own network: not comparable with published numbers)"
            } else {
                ""
            }
        ),
        String::new(),
    ];
    summary.extend(table);
    summary.push(String::new());
    summary.push(
        "The twin is a second sample of the real distribution; the fake generator adds noise and\n\
         produces only 5 of the 10 classes. From the twin to the fake set, as measured:"
            .to_owned(),
    );
    summary.extend(movements(&twin_row, &fake_row));
    let mut passed = true;
    let mut check_record = None;
    if args.selfcheck_n > 0 {
        let check_args = SelfcheckArgs {
            out: args.out.join("selfcheck"),
            n: args.selfcheck_n,
            size: args.size,
            classes: 10,
            seed: 0,
            extract: extract.clone(),
        };
        let check = selfcheck::run(&check_args, global)?;
        passed = check.record.passed != Some(false);
        summary.push(String::new());
        summary.push(format!(
            "Self-check ({} images per set, every disturbance at 4 levels):",
            args.selfcheck_n
        ));
        summary.push(check.summary.last().cloned().unwrap_or_default());
        builder.record().setting(
            "selfcheck",
            serde_json::to_value(&check.record).unwrap_or_default(),
        );
        check_record = Some(check.record);
    }
    summary.push(String::new());
    summary.push(format!(
        "Images and statistics are in {0}/; try:\n  geneval fid {0}/real_stats.npz {0}/fake/ --model {model}",
        args.out.display()
    ));
    let record = builder.record();
    extraction.describe(record, []);
    record.passed = Some(passed);
    record.outputs.push(stats.display().to_string());
    // The report page: one record per metric and set (labelled model=twin /
    // model=fake), and the self-check's record.
    let mut page = Vec::new();
    for (set, row) in &values {
        let numbers = row.values();
        // fid, kid and is are one record each; the four PRDC numbers one
        // `prdc` record.
        let mut records: Vec<PageRecord<'_>> = numbers
            .iter()
            .filter(|(key, _)| !PRDC.contains(key))
            .map(|&(key, v)| (key, Some(v), vec![(key, v)]))
            .collect();
        let prdc = numbers.iter().filter(|(key, _)| PRDC.contains(key));
        records.push(("prdc", None, prdc.copied().collect()));
        for (metric, value, numbers) in records {
            let mut r =
                ResultRecord::new(metric, env!("CARGO_PKG_VERSION"), record.started_at.clone());
            r.value = value;
            for (name, x) in numbers {
                r.set(name, x);
            }
            r.model = record.model.clone();
            r.mode = record.mode.clone();
            r.device = record.device.clone();
            r.labels.insert("model".into(), (*set).to_owned());
            r.command = Some(format!("geneval demo (real vs {set})"));
            page.push(r);
        }
    }
    if let Some(check) = check_record {
        page.push(check);
    }
    let html_path = args.out.join("report.html");
    let warnings = super::html_report::write(&[(&html_path, Format::Html)], "geneval demo", page)?;
    let record = builder.record();
    for warning in warnings {
        if !record.warnings.contains(&warning) {
            record.warnings.push(warning);
        }
    }
    record.outputs.push(html_path.display().to_string());
    summary.push(format!("Report: {}", html_path.display()));
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}

/// How each metric moved from the twin to the fake set, in sentences
/// derived from the numbers just computed (never from what the disturbance
/// is expected to do): which way it moved and whether that is better or
/// worse by the metric's direction, then the worse and better ones.
fn movements(twin: &[(&str, f64)], fake: &[(&str, f64)]) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut worse, mut better) = (Vec::new(), Vec::new());
    for ((key, before), (_, after)) in twin.iter().zip(fake) {
        let name = display_name(key);
        let moved = if after > before {
            "rose"
        } else if after < before {
            "fell"
        } else {
            "did not move"
        };
        let judged = match Direction::of(key) {
            Some(d) if d.better(*after, *before) => {
                better.push(name.clone());
                " (better)"
            }
            Some(d) if d.better(*before, *after) => {
                worse.push(name.clone());
                " (worse)"
            }
            _ => "",
        };
        lines.push(format!(
            "  {name} {moved}: {before:.5} -> {after:.5}{judged}"
        ));
    }
    let list = |names: &[String]| {
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    lines.push(format!(
        "Worse for the fake set: {}. Better: {}.",
        list(&worse),
        list(&better)
    ));
    lines
}

/// The demo table's name of a set metric: IS is of the set alone, the
/// k-NN metrics use k = 5.
fn display_name(key: &str) -> String {
    match key {
        "fid" | "kid" => key.to_uppercase(),
        "is" => "IS (of the set)".to_owned(),
        _ => format!("{key} (k=5)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentences_follow_the_numbers() {
        let twin = [("fid", 3.0), ("precision", 0.97), ("density", 1.04)];
        let fake = [("fid", 40.0), ("precision", 0.98), ("density", 1.26)];
        let lines = movements(&twin, &fake);
        assert!(
            lines[0].contains("FID rose") && lines[0].ends_with("(worse)"),
            "{lines:?}"
        );
        // What was seen with the built-in network: precision and density rose.
        assert!(lines[1].contains("precision (k=5) rose") && lines[1].ends_with("(better)"));
        assert!(lines[2].contains("density (k=5) rose"));
        assert_eq!(
            lines[3],
            "Worse for the fake set: FID. Better: precision (k=5), density (k=5)."
        );
        // Flip one number and its sentence changes.
        let fake = [("fid", 40.0), ("precision", 0.90), ("density", 1.26)];
        let lines = movements(&twin, &fake);
        assert!(lines[1].contains("precision (k=5) fell") && lines[1].ends_with("(worse)"));
        assert_eq!(
            lines[3],
            "Worse for the fake set: FID, precision (k=5). Better: density (k=5)."
        );
        let same = movements(&[("kid", 0.5)], &[("kid", 0.5)]);
        assert!(same[0].contains("did not move"));
        assert_eq!(same[1], "Worse for the fake set: none. Better: none.");
    }
}
