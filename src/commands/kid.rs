//! `geneval kid A.npy B.npy`: Kernel Inception Distance as torch-fidelity.

use super::Outcome;
use crate::cli::{GlobalArgs, KidArgs};
use crate::extract::{feature_rows, Extraction};
use crate::record::{RecordBuilder, ResultRecord};
use anyhow::{Context, Result};
use geneval_metrics::kid::{kid, Kid, KidSettings};

/// Runs `geneval kid`.
pub fn run(args: &KidArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("kid");
    let mut extraction = Extraction::new(&args.extract, global.quiet);
    let (a, input_a) = feature_rows(&args.a, &mut extraction, "first")?;
    let (b, input_b) = feature_rows(&args.b, &mut extraction, "second")?;
    let settings = KidSettings {
        subsets: args.subsets,
        subset_size: args.subset_size,
        degree: args.degree,
        gamma: args.gamma,
        coef0: args.coef0,
        seed: args.seed,
    };
    let result = kid(a.view(), b.view(), &settings).with_context(|| {
        format!(
            "computing KID of {} and {}",
            args.a.display(),
            args.b.display()
        )
    })?;
    let record = builder.record();
    extraction.describe(record, [input_a, input_b]);
    let summary = vec![record_kid(record, &result, &settings, a.ncols())];
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}

/// Writes a KID result into `record`; returns the summary line.
pub(super) fn record_kid(
    record: &mut ResultRecord,
    result: &Kid,
    settings: &KidSettings,
    dim: usize,
) -> String {
    record.value = Some(result.mean);
    record.uncertainty = Some(result.std);
    record.seed = Some(u64::from(settings.seed));
    record
        .set("kid_mean", result.mean)
        .set("kid_std", result.std)
        .setting("subsets", result.subsets)
        .setting("subset_size", result.subset_size)
        .setting("degree", settings.degree)
        .setting("gamma", settings.gamma.unwrap_or(1.0 / dim as f64))
        .setting("coef0", settings.coef0);
    format!("KID: {} ± {}", result.mean, result.std)
}
