//! `geneval report`: tables, charts and an HTML report from result records.
//!
//! Reads records (files, folders, globs), builds a [`Report`] and renders it
//! as Markdown (stdout by default), CSV, JSON or one self-contained HTML
//! file; `--png-dir` also writes every chart as a PNG. The report never
//! recomputes a metric: it only reads what the records say. The HTML page
//! also shows sample images of the sides the records name
//! ([`crate::samples`]) unless `--no-images`.

use super::Outcome;
use crate::cli::{GlobalArgs, ReportArgs};
use crate::record::{now_rfc3339, RecordBuilder};
use anyhow::{bail, Context, Result};
use geneval_reports::render::{render, Format};
use geneval_reports::{read_records, ReadOptions, Report, ReportError, ReportOptions};
use std::path::{Path, PathBuf};

/// The format asked for: `--format`, else `-o`'s extension, else Markdown.
fn format(args: &ReportArgs) -> Result<Format> {
    match (&args.format, &args.output) {
        (Some(name), _) => Ok(match name.as_str() {
            "csv" => Format::Csv,
            "json" => Format::Json,
            "html" => Format::Html,
            _ => Format::Markdown,
        }),
        (None, Some(path)) => match Format::from_path(path) {
            Some(format) => Ok(format),
            None => bail!(
                "cannot tell the report format from the name {}: give --format md, csv, json or html, or an output ending in .md, .csv, .json or .html",
                path.display()
            ),
        },
        (None, None) => Ok(Format::Markdown),
    }
}

/// A file name from a chart title: `fid-over-steps`.
fn slug(title: &str) -> String {
    let mut slug = String::new();
    for ch in title.chars() {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        "chart".to_owned()
    } else {
        slug.chars().take(60).collect()
    }
}

/// Writes every chart as a PNG into `dir`; returns the files and the
/// charts that could not be drawn.
fn write_pngs(report: &Report, dir: &Path) -> Result<(Vec<PathBuf>, Vec<String>)> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    let mut warnings = Vec::new();
    for (i, (_, chart)) in report.charts.iter().enumerate() {
        match chart.to_png(1200, 740) {
            Ok(png) => {
                let path = dir.join(format!("{:02}-{}.png", i + 1, slug(chart.title())));
                crate::fs::write_bytes_atomically(&path, &png)?;
                written.push(path);
            }
            Err(e) => warnings.push(format!("no PNG for a chart: {e}")),
        }
    }
    Ok((written, warnings))
}

/// Refuses an output that is one of the records files read (by inode, so
/// also through links and other spellings): the atomic write would
/// replace the records with the report.
fn refuse_overwriting_records(output: &Path, files: &[PathBuf]) -> Result<(), ReportError> {
    match files.iter().find(|f| crate::fs::same_file(output, f)) {
        Some(input) => Err(ReportError::OutputIsInput {
            output: output.to_owned(),
            input: input.clone(),
        }),
        None => Ok(()),
    }
}

/// Runs `geneval report`.
pub fn run(args: &ReportArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("report");
    let format = format(args)?;
    if args.output.is_none() && global.json {
        bail!("--json prints the command's record on stdout, where the report would go: give -o FILE for the report");
    }
    let records = read_records(
        &args.inputs,
        ReadOptions {
            lenient: args.lenient,
        },
    )?;
    if let Some(output) = &args.output {
        refuse_overwriting_records(output, &records.files)?;
    }
    let options = ReportOptions {
        title: args.title.clone(),
        group_by_label: args.by.clone(),
        allow_mixed: args.allow_mixed,
        generated_at: now_rfc3339(),
    };
    let mut report = Report::from_records(&records, &options).context("making the report")?;
    if format == Format::Html && !args.no_images {
        report.samples = crate::samples::collect(
            &records.records,
            &crate::samples::SampleOptions {
                per_side: args.samples,
                ..crate::samples::SampleOptions::default()
            },
        );
    }
    let bytes = render(&report, format)?;

    let mut warnings = report.warnings.clone();
    let mut outputs = Vec::new();
    if let Some(dir) = &args.png_dir {
        let (written, failed) = write_pngs(&report, dir)?;
        outputs.extend(written.iter().map(|p| p.display().to_string()));
        warnings.extend(failed);
    }
    let summary = match &args.output {
        Some(path) => {
            crate::fs::write_bytes_atomically(path, &bytes)?;
            outputs.insert(0, path.display().to_string());
            let thumbnails = match report.samples.thumbnail_count() {
                0 => String::new(),
                n => format!(
                    ", {n} thumbnails in {} kB",
                    report.samples.embedded_len().div_ceil(1000)
                ),
            };
            let mut lines = vec![format!(
                "wrote the {} report of {} records ({} tables, {} charts{thumbnails}) to {}",
                format.name(),
                report.record_count,
                report.tables.len(),
                report.charts.len(),
                path.display()
            )];
            if let Some(dir) = &args.png_dir {
                lines.push(format!(
                    "wrote {} PNG charts to {}",
                    outputs.len() - 1,
                    dir.display()
                ));
            }
            lines
        }
        None => {
            let text = String::from_utf8_lossy(&bytes);
            vec![text.trim_end_matches('\n').to_owned()]
        }
    };

    let record = builder.record();
    record.outputs = outputs;
    record.warnings = warnings;
    record
        .setting("inputs", args.inputs.clone())
        .setting("format", format.name())
        .setting("by", args.by.clone())
        .setting("allow_mixed", args.allow_mixed)
        .setting("lenient", args.lenient)
        .setting("images", format == Format::Html && !args.no_images)
        .setting("records_read", report.record_count as u64);
    record
        .set("records", report.record_count as f64)
        .set("tables", report.tables.len() as f64)
        .set("charts", report.charts.len() as f64)
        .set("thumbnails", report.samples.thumbnail_count() as f64)
        .set("image_bytes", report.samples.embedded_len() as f64);
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}
