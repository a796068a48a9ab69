//! `geneval stats INPUT -o stats.npz`: pytorch-fid's `--save-stats` from an
//! image folder or a features `.npy`, or mergeable partial statistics with
//! `--partial`.

use super::Outcome;
use crate::cli::{GlobalArgs, StatsArgs};
use crate::extract::Extraction;
use crate::files::npy::read_features_native;
use crate::files::npz::{write_partial, write_statistics, PartialMetadata, ShardMetadata};
use crate::files::side::is_images;
use crate::record::{input_record, RecordBuilder};
use anyhow::{bail, Context, Result};
use geneval_metrics::Moments;

/// Runs `geneval stats`.
pub fn run(args: &StatsArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("stats");
    let mut extraction = Extraction::new(&args.extract, global.quiet);
    let shard = args.shard.resolve()?;
    if let Some(shard) = shard {
        if !args.partial {
            bail!(
                "--shard {shard} writes one part of a side: its mu/sigma could not be merged exactly; add --partial and combine the parts with `geneval merge`"
            );
        }
        if !is_images(&args.features) {
            bail!(
                "--shard slices the image list of a folder or @list; {} is not one",
                args.features.display()
            );
        }
        extraction.set_shard(Some(shard));
    }
    let (moments, input): (Moments, _) = if is_images(&args.features) {
        let (moments, side) = extraction.moments(&args.features, "images")?;
        (moments, side.input_record())
    } else {
        let features = read_features_native(&args.features).context("reading the features")?;
        let moments = features
            .moments()
            .with_context(|| format!("statistics of {}", args.features.display()))?;
        let (n, d) = features.dim();
        let input = input_record(&args.features, "features", Some(n as u64), Some(d));
        (moments, input)
    };
    if args.partial {
        let feature = args
            .feature
            .as_deref()
            .or(extraction.feature_name())
            .unwrap_or("unknown");
        let model_id = args
            .model_id
            .as_deref()
            .or(extraction.model_id())
            .unwrap_or("unknown");
        let mut metadata = PartialMetadata::new(feature, model_id);
        metadata.mode = extraction.chosen_mode().map(|m| m.as_str().to_owned());
        metadata.shard = extraction.shard_run().map(|run| ShardMetadata {
            index: run.shard.index,
            count: run.shard.count,
            list_images: run.list_images as u64,
            list_sha256: run.list_sha256.clone(),
        });
        write_partial(&args.output, &moments, &metadata)?;
    } else {
        let gaussian = moments
            .gaussian()
            .with_context(|| format!("statistics of {}", args.features.display()))?;
        write_statistics(&args.output, &gaussian)?;
    }
    let (n, d) = (moments.count(), moments.dim());
    let record = builder.record();
    extraction.describe(record, [input]);
    record.outputs.push(args.output.display().to_string());
    record.setting("partial", args.partial);
    if n as usize <= d {
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
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}
