//! `geneval demo`: the README's main command. With no download, it
//! generates a reference set of images, a second clean set (a "twin": the
//! same distribution, other samples) and a "fake" set from a generator that
//! is a little off (noise, and half of the classes dropped), runs every
//! metric through the real pipeline with the FID network if it is cached and
//! the built-in network otherwise, explains the numbers, and ends with a
//! short self-check (every metric must move the right way under the FID
//! paper's disturbances).

use anyhow::{Context, Result};
use geneval_metrics::inception_score::{inception_score, InceptionScoreSettings};
use geneval_metrics::kid::{kid, KidSettings};
use geneval_metrics::prdc::prdc;
use geneval_metrics::{frechet_distance, Moments};
use ndarray::Array2;
use std::path::Path;

use super::selfcheck::{self, default_model};
use super::Outcome;
use crate::cli::{DemoArgs, GlobalArgs, SelfcheckArgs};
use crate::extract::Extraction;
use crate::files::npz::write_statistics;
use crate::generate::{self, GenerateOptions, ImageFormat};
use crate::pipeline::Want;
use crate::record::{RecordBuilder, ResultRecord};

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
    let want = Want {
        rows: true,
        logits: true,
        ..Want::default()
    };
    let mut side = extraction.run(dir, want, label)?;
    Ok(Set {
        rows: side.collector.take_rows().expect("asked").mapv(f64::from),
        logits: side.collector.take_logits().expect("asked").mapv(f64::from),
    })
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

    let real_gaussian = Moments::from_features(real.rows.view())?.gaussian()?;
    let stats = args.out.join("real_stats.npz");
    write_statistics(&stats, &real_gaussian)?;
    let kid_settings = KidSettings {
        subsets: 50,
        ..KidSettings::default()
    };
    let is_settings = InceptionScoreSettings {
        splits: 1,
        shuffle_seed: None,
    };
    let mut table = vec![format!(
        "{:<22} {:>12} {:>12}",
        "metric", "real vs twin", "real vs fake"
    )];
    let mut values = Vec::new();
    for (name, set) in [("twin", &twin), ("fake", &fake)] {
        let g = Moments::from_features(set.rows.view())?.gaussian()?;
        let fid = frechet_distance(&real_gaussian, &g)?.value;
        let kid = kid(real.rows.view(), set.rows.view(), &kid_settings)?.mean;
        let is = inception_score(set.logits.view(), &is_settings)?.mean;
        let dc = prdc(real.rows.view(), set.rows.view(), 5)?;
        values.push((
            name,
            [
                fid,
                kid,
                is,
                dc.precision,
                dc.recall,
                dc.density,
                dc.coverage,
            ],
        ));
    }
    let names = [
        "FID",
        "KID",
        "IS (of the set)",
        "precision (k=5)",
        "recall (k=5)",
        "density (k=5)",
        "coverage (k=5)",
    ];
    let keys = [
        "fid",
        "kid",
        "is",
        "precision",
        "recall",
        "density",
        "coverage",
    ];
    for (i, name) in names.iter().enumerate() {
        table.push(format!(
            "{name:<22} {:>12.5} {:>12.5}",
            values[0].1[i], values[1].1[i]
        ));
        for (set, v) in &values {
            builder.record().set(&format!("{}_{set}", keys[i]), v[i]);
        }
    }
    builder.record().value = Some(values[1].1[0]);

    let mut summary = vec![
        format!(
            "{} images of {}x{} per set, 10 classes, model {model}{}",
            args.n,
            args.size,
            args.size,
            if model == "builtin" {
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
        "The twin is a second sample of the same distribution: its FID and KID are sampling noise,\n\
         precision and recall are high. The fake generator adds noise (precision and density fall:\n\
         its images leave the real manifold) and produces only 5 of the 10 classes (recall and\n\
         coverage fall: part of the real distribution is never produced; IS falls with fewer classes)."
            .to_owned(),
    );
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
    for (set, v) in &values {
        for (metric, value, extra) in [
            ("fid", v[0], vec![]),
            ("kid", v[1], vec![]),
            ("is", v[2], vec![]),
            (
                "prdc",
                f64::NAN,
                vec![
                    ("precision", v[3]),
                    ("recall", v[4]),
                    ("density", v[5]),
                    ("coverage", v[6]),
                ],
            ),
        ] {
            let mut r =
                ResultRecord::new(metric, env!("CARGO_PKG_VERSION"), record.started_at.clone());
            r.value = value.is_finite().then_some(value);
            if value.is_finite() {
                r.set(metric, value);
            }
            for (name, x) in extra {
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
    let warnings = super::html_report::write(&html_path, "geneval demo", page)?;
    let record = builder.record();
    for warning in warnings {
        if !record.warnings.contains(&warning) {
            record.warnings.push(warning);
        }
    }
    record.outputs.push(html_path.display().to_string());
    summary.push(format!("Report: {}", html_path.display()));
    Ok(Outcome {
        summary,
        record: builder.finish(),
    })
}
