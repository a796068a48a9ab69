//! `geneval stats FEATURES.npy -o stats.npz`: pytorch-fid's `--save-stats`,
//! or mergeable partial statistics with `--partial`.

use super::Outcome;
use crate::cli::StatsArgs;
use crate::input::npy::read_features_native;
use crate::input::npz::{write_partial, write_statistics, PartialMetadata};
use crate::record::{input_record, RecordBuilder};
use anyhow::{Context, Result};

/// Runs `geneval stats`.
pub fn run(args: &StatsArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("stats");
    let features = read_features_native(&args.features).context("reading the features")?;
    let moments = features
        .moments()
        .with_context(|| format!("statistics of {}", args.features.display()))?;
    if args.partial {
        let metadata = PartialMetadata::new(args.feature.as_str(), args.model_id.as_str());
        write_partial(&args.output, &moments, &metadata)?;
    } else {
        let gaussian = moments
            .gaussian()
            .with_context(|| format!("statistics of {}", args.features.display()))?;
        write_statistics(&args.output, &gaussian)?;
    }
    let record = builder.record();
    let (n, d) = features.dim();
    record.inputs.push(input_record(
        &args.features,
        "features",
        Some(n as u64),
        Some(d),
    ));
    record.outputs.push(args.output.display().to_string());
    record.setting("partial", args.partial);
    if n <= d {
        record.warnings.push(format!(
            "{n} samples for {d} dimensions: the covariance is singular; FID needs many more samples than dimensions to be meaningful"
        ));
    }
    let kind = if args.partial {
        "partial statistics"
    } else {
        "statistics"
    };
    let summary = vec![format!(
        "wrote {kind} of {n} samples x {d} dimensions to {}",
        args.output.display()
    )];
    Ok(Outcome {
        summary,
        record: builder.finish(),
    })
}
