//! `geneval is LOGITS.npy`: Inception Score as torch-fidelity computes it.

use super::Outcome;
use crate::cli::{GlobalArgs, IsArgs};
use crate::extract::Extraction;
use crate::files::npy::read_features;
use crate::files::side::is_images;
use crate::record::{input_record, RecordBuilder, ResultRecord};
use anyhow::{Context, Result};
use geneval_metrics::inception_score::{inception_score, InceptionScore, InceptionScoreSettings};

/// Runs `geneval is`.
pub fn run(args: &IsArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("is");
    let mut extraction = Extraction::new(&args.extract, global.quiet);
    let (logits, input) = if is_images(&args.logits) {
        let (logits, side) = extraction.logits(&args.logits, "images")?;
        let logits = logits.mapv(f64::from);
        let mut input = side.input_record();
        input.dim = Some(logits.ncols());
        (logits, input)
    } else {
        let logits = read_features(&args.logits).context("reading the logits")?;
        let input = input_record(
            &args.logits,
            "logits",
            Some(logits.nrows() as u64),
            Some(logits.ncols()),
        );
        (logits, input)
    };
    let settings = InceptionScoreSettings {
        splits: args.splits,
        shuffle_seed: (!args.no_shuffle).then_some(args.seed),
    };
    let score = inception_score(logits.view(), &settings)
        .with_context(|| format!("computing the Inception Score of {}", args.logits.display()))?;
    let record = builder.record();
    extraction.describe(record, [input]);
    let summary = vec![record_is(record, &score, &settings)];
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}

/// Writes an Inception Score into `record`; returns the summary line.
pub(super) fn record_is(
    record: &mut ResultRecord,
    score: &InceptionScore,
    settings: &InceptionScoreSettings,
) -> String {
    record.value = Some(score.mean);
    record.uncertainty = Some(score.std);
    record.seed = settings.shuffle_seed.map(u64::from);
    record
        .set("is_mean", score.mean)
        .set("is_std", score.std)
        .setting("splits", settings.splits)
        .setting("shuffle", settings.shuffle_seed.is_some());
    format!("Inception Score: {} ± {}", score.mean, score.std)
}
