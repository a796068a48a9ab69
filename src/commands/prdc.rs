//! `geneval prdc REAL.npy FAKE.npy`: precision, recall, density, coverage
//! (Naeem et al. 2020) and improved precision/recall (Kynkäänniemi et al. 2019).

use super::Outcome;
use crate::cli::{GlobalArgs, PrdcArgs};
use crate::extract::{feature_rows, Extraction};
use crate::record::{RecordBuilder, ResultRecord};
use anyhow::{Context, Result};
use geneval_metrics::prdc::{prdc_and_improved_precision_recall, NeighbourhoodMetrics};

/// Runs `geneval prdc`.
pub fn run(args: &PrdcArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("prdc");
    let mut extraction = Extraction::new(&args.extract, global.quiet);
    let (real, input_real) = feature_rows(&args.real, &mut extraction, "real")?;
    let (fake, input_fake) = feature_rows(&args.fake, &mut extraction, "generated")?;
    let context = || {
        format!(
            "computing PRDC of {} and {}",
            args.real.display(),
            args.fake.display()
        )
    };
    // One pass over the distances serves both metric families.
    let both = prdc_and_improved_precision_recall(real.view(), fake.view(), args.k, args.pr_k)
        .with_context(context)?;
    let record = builder.record();
    extraction.describe(record, [input_real, input_fake]);
    let summary = record_prdc(record, &both, args.k, args.pr_k);
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}

/// Writes PRDC and improved precision/recall into `record`; returns the
/// summary lines.
pub(super) fn record_prdc(
    record: &mut ResultRecord,
    both: &NeighbourhoodMetrics,
    k: usize,
    pr_k: usize,
) -> Vec<String> {
    let (dc, pr) = (&both.prdc, &both.improved);
    record
        .set("precision", dc.precision)
        .set("recall", dc.recall)
        .set("density", dc.density)
        .set("coverage", dc.coverage)
        .set("improved_precision", pr.precision)
        .set("improved_recall", pr.recall)
        .setting("k", k)
        .setting("pr_k", pr_k);
    vec![
        format!("precision (k={k}): {}", dc.precision),
        format!("recall (k={k}):    {}", dc.recall),
        format!("density (k={k}):   {}", dc.density),
        format!("coverage (k={k}):  {}", dc.coverage),
        format!("improved precision (k={pr_k}): {}", pr.precision),
        format!("improved recall (k={pr_k}):    {}", pr.recall),
    ]
}
