//! `geneval stats INPUT -o stats.npz`: pytorch-fid's `--save-stats` from an
//! image folder or a features `.npy`, or mergeable partial statistics with
//! `--partial`.

use super::Outcome;
use crate::cli::{GlobalArgs, StatsArgs};
use crate::extract::Extraction;
use crate::files::npy::{parse_features_native, read_bytes};
use crate::files::npz::{write_partial, write_statistics, PartialMetadata, ShardMetadata};
use crate::files::side::is_images;
use crate::record::{bytes_sha256, InputRecord, RecordBuilder};
use anyhow::{bail, Context, Result};
use geneval_metrics::Moments;
use std::path::Path;

/// Moments of a features `.npy` and its input record.
///
/// The file is read once: its SHA-256 for the record is computed on a
/// second thread from the bytes the parser holds, beside the parse and the
/// product, instead of on a second read afterwards (on a 400 MB file the
/// hash alone is ~1 s with a software SHA-256).
fn features_moments(path: &Path) -> Result<(Moments, InputRecord)> {
    let bytes = read_bytes(path).context("reading the features")?;
    let (moments, sha256) = std::thread::scope(|scope| {
        let hash = scope.spawn(|| bytes_sha256(&bytes));
        let moments = parse_features_native(&bytes, path)
            .context("reading the features")
            .and_then(|features| {
                let moments = features
                    .moments()
                    .with_context(|| format!("statistics of {}", path.display()))?;
                Ok((moments, features.dim()))
            });
        (moments, hash.join())
    });
    let (moments, (n, d)) = moments?;
    let input = InputRecord {
        path: path.display().to_string(),
        kind: "features".to_owned(),
        count: Some(n as u64),
        dim: Some(d),
        sha256: sha256.ok(),
        content_sha256: None,
    };
    Ok((moments, input))
}

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
        features_moments(&args.features)?
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
