//! The report pages that `selfcheck` and `demo` write beside their other
//! outputs, made by the reports crate from the records they computed (the
//! same page `geneval report` makes from records on disk).

use std::path::Path;

use anyhow::{Context, Result};
use geneval_reports::{Format, Records, Report, ReportOptions, ResultRecord, SourcedRecord};

use crate::record::now_rfc3339;

/// Builds one report of `records` and writes it to each `(path, format)`
/// (atomically); returns the report's warnings.
pub fn write(
    outputs: &[(&Path, Format)],
    title: &str,
    records: Vec<ResultRecord>,
) -> Result<Vec<String>> {
    let records = Records {
        records: records
            .into_iter()
            .enumerate()
            .map(|(i, record)| SourcedRecord {
                source: format!("{}:{}", title, i + 1),
                record,
            })
            .collect(),
        warnings: Vec::new(),
        files: Vec::new(),
    };
    let options = ReportOptions {
        title: title.to_owned(),
        generated_at: now_rfc3339(),
        ..ReportOptions::default()
    };
    let report = Report::from_records(&records, &options)
        .with_context(|| format!("building the report \"{title}\""))?;
    for (path, format) in outputs {
        let bytes = geneval_reports::render::render(&report, *format)?;
        crate::fs::write_bytes_atomically(path, &bytes)?;
    }
    Ok(report.warnings.clone())
}
