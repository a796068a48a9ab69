//! `geneval selfcheck`: the FID paper's experiment ([`crate::experiment`])
//! as a test of the whole pipeline. A reference set and an independent
//! clean set are generated; the clean set is disturbed (noise, blur, rectangles, swirl, salt and
//! pepper, contamination) at four levels and mode-dropped at four levels;
//! every metric is computed against the reference and checked to move the
//! right way. Exits 1 when a check fails.

use anyhow::{Context, Result};
use geneval_reports::selfcheck::SelfcheckSets;
use geneval_reports::Format;
use ndarray::Array2;
use std::path::{Path, PathBuf};

use super::Outcome;
use crate::backend::BuiltinNetwork;
use crate::cli::{GlobalArgs, SelfcheckArgs};
use crate::experiment::{checks, kept_classes, Reference, Row, LEVELS};
use crate::extract::Extraction;
use crate::generate::{self, Disturbance, GenerateOptions, ImageFormat};
use crate::networks::registry;
use crate::record::RecordBuilder;

/// Why some checks are `info` with the first built-in network.
const BUILTIN_INFO: &str = "`info`: a check the first built-in network (`builtin`, random \
     convolutions) is known to miss (swirl barely changes its features at small sizes; noisy \
     images stay inside its real manifold, so precision does not fall); reported, not required. \
     With `--model builtin-filterbank` or `fid-inception` every check is required.";

/// A folder's feature rows and logits, as f64.
pub fn features(
    extraction: &mut Extraction<'_>,
    folder: &Path,
    label: &str,
) -> Result<(Array2<f64>, Array2<f64>)> {
    let (rows, logits, _) = extraction.rows_and_logits(folder, label)?;
    Ok((rows.mapv(f64::from), logits.mapv(f64::from)))
}

fn table_line(set: &str, row: &Row) -> String {
    format!(
        "| {set} | {:.4} | {:.5} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
        row.fid, row.kid, row.is, row.precision, row.recall, row.density, row.coverage
    )
}

/// The model a selfcheck uses when none is named: the FID network if it is
/// cached, otherwise the built-in filter-bank network, which passes every
/// check (never a download).
pub fn default_model() -> String {
    match registry::cached(&registry::FID_INCEPTION) {
        Ok(Some(_)) => registry::FID_INCEPTION.name.to_owned(),
        _ => BuiltinNetwork::FilterBank.name().to_owned(),
    }
}

fn generate(
    out: &Path,
    args: &SelfcheckArgs,
    seed: u64,
    keep: Option<usize>,
    disturbances: Vec<Disturbance>,
) -> Result<PathBuf> {
    let options = GenerateOptions {
        n: args.n,
        size: args.size,
        seed,
        classes: args.classes,
        keep_classes: keep,
        format: ImageFormat::Png,
        disturbances,
        copies: None,
    };
    generate::write_set(out, &options).with_context(|| format!("generating {}", out.display()))?;
    Ok(out.to_owned())
}

/// Runs `geneval selfcheck`.
pub fn run(args: &SelfcheckArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("selfcheck");
    let mut extract = args.extract.clone();
    extract.model = Some(extract.model.clone().unwrap_or_else(default_model));
    let mut extraction = Extraction::new(&extract, global.quiet);
    let sets = args.out.join("sets");
    let progress = |message: String| {
        if !global.quiet {
            eprintln!("selfcheck: {message}");
        }
    };

    progress(format!(
        "reference and clean sets ({} images of {}x{})",
        args.n, args.size, args.size
    ));
    let reference_dir = generate(&sets.join("reference"), args, args.seed, None, Vec::new())?;
    let (reference_rows, _) = features(&mut extraction, &reference_dir, "reference")?;
    let reference = Reference::new(reference_rows)?;
    let clean_seed = args.seed + 1;
    let clean_dir = generate(&sets.join("clean"), args, clean_seed, None, Vec::new())?;
    let (rows, logits) = features(&mut extraction, &clean_dir, "clean")?;
    let clean = reference.measure(&rows, &logits)?;

    let mut sets_measured = vec![clean.set_measure("clean", "none", 0.0)];
    let mut table = vec![
        "| set | FID | KID | IS | precision | recall | density | coverage |".to_owned(),
        "|---|---:|---:|---:|---:|---:|---:|---:|".to_owned(),
        table_line("clean", &clean),
    ];
    let mut disturbed = Vec::new();
    for (kind, levels) in LEVELS {
        progress(format!("{kind} at levels {levels:?}"));
        let mut rows_of_kind = Vec::new();
        for level in levels {
            let name = format!("{kind}_{level}");
            let d: Disturbance = format!("{kind}:{level}")
                .parse()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let dir = generate(&sets.join(&name), args, clean_seed, None, vec![d])?;
            let (rows, logits) = features(&mut extraction, &dir, &name)?;
            let row = reference.measure(&rows, &logits)?;
            sets_measured.push(row.set_measure(&name, kind, level));
            table.push(table_line(&name, &row));
            rows_of_kind.push(row);
        }
        disturbed.push((kind.to_owned(), rows_of_kind));
    }
    let mut dropped = Vec::new();
    let keeps = kept_classes(args.classes);
    progress(format!(
        "mode dropping: keeping {keeps:?} of {} classes",
        args.classes
    ));
    for keep in keeps {
        let name = format!("keep_{keep}_classes");
        let dir = generate(&sets.join(&name), args, clean_seed, Some(keep), Vec::new())?;
        let (rows, logits) = features(&mut extraction, &dir, &name)?;
        let row = reference.measure(&rows, &logits)?;
        sets_measured.push(row.set_measure(&name, "mode-dropping", keep as f64));
        table.push(table_line(&name, &row));
        dropped.push(row);
    }

    let builtin =
        extract.model.as_deref().and_then(BuiltinNetwork::named) == Some(BuiltinNetwork::RandConv);
    let checks = checks(&clean, &disturbed, &dropped, builtin);
    let passed = checks.iter().all(|c| c.passed || !c.required);
    let results_path = args.out.join("results.jsonl");
    let mut jsonl = String::new();
    for set in &sets_measured {
        jsonl.push_str(&serde_json::to_string(set)?);
        jsonl.push('\n');
    }
    crate::fs::write_bytes_atomically(&results_path, jsonl.as_bytes())?;

    let record = builder.record();
    extraction.describe(record, []);
    record.passed = Some(passed);
    record.seed = Some(args.seed);
    record
        .setting("n", args.n)
        .setting("size", args.size)
        .setting("classes", args.classes);
    SelfcheckSets {
        sets: sets_measured,
        checks: checks.iter().map(|c| c.to_record()).collect(),
    }
    .write_to(record);
    if builtin {
        record.warnings.push(BUILTIN_INFO.to_owned());
    }
    record.set(
        "checks_passed",
        checks.iter().filter(|c| c.passed).count() as f64,
    );
    record.set(
        "checks_failed",
        checks.iter().filter(|c| !c.passed).count() as f64,
    );
    let report_path = args.out.join("report.md");
    let html_path = args.out.join("report.html");
    for path in [&report_path, &results_path, &html_path] {
        record.outputs.push(path.display().to_string());
    }
    // report.md and report.html: one Report of this record, so the Markdown
    // is escaped by the same renderer `geneval report` uses.
    let mut snapshot = record.clone();
    snapshot.finished_at = Some(crate::record::now_rfc3339());
    super::html_report::write(
        &[(&report_path, Format::Markdown), (&html_path, Format::Html)],
        "geneval selfcheck",
        vec![snapshot],
    )?;
    let mut summary = table;
    summary.push(String::new());
    for c in &checks {
        summary.push(format!("{:<4} {:<40} {}", c.verdict(), c.name, c.detail));
    }
    summary.push(format!(
        "selfcheck {}: {} of {} checks passed ({} required failed); report in {} and report.html",
        if passed { "passed" } else { "FAILED" },
        checks.iter().filter(|c| c.passed).count(),
        checks.len(),
        checks.iter().filter(|c| c.required && !c.passed).count(),
        report_path.display()
    ));
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}
