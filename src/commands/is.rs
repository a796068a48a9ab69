//! `geneval is LOGITS.npy`: Inception Score as torch-fidelity computes it.

use super::Outcome;
use crate::cli::IsArgs;
use crate::input::npy::read_features;
use crate::record::{input_record, RecordBuilder};
use anyhow::{Context, Result};
use geneval_metrics::inception_score::{inception_score, InceptionScoreSettings};

/// Runs `geneval is`.
pub fn run(args: &IsArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("is");
    let logits = read_features(&args.logits).context("reading the logits")?;
    let settings = InceptionScoreSettings {
        splits: args.splits,
        shuffle_seed: (!args.no_shuffle).then_some(args.seed),
    };
    let score = inception_score(logits.view(), &settings)
        .with_context(|| format!("computing the Inception Score of {}", args.logits.display()))?;
    let record = builder.record();
    record.inputs.push(input_record(
        &args.logits,
        "logits",
        Some(logits.nrows() as u64),
        Some(logits.ncols()),
    ));
    record.value = Some(score.mean);
    record.uncertainty = Some(score.std);
    record.seed = settings.shuffle_seed.map(u64::from);
    record
        .set("is_mean", score.mean)
        .set("is_std", score.std)
        .setting("splits", args.splits)
        .setting("shuffle", !args.no_shuffle);
    let summary = vec![format!("Inception Score: {} ± {}", score.mean, score.std)];
    Ok(Outcome {
        summary,
        record: builder.finish(),
    })
}
