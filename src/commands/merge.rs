//! `geneval merge PART... -o stats.npz`: combines partial statistics from
//! shards exactly (Chan et al.), as if one machine had seen every sample;
//! `geneval merge part.*.npy -o features.npy` concatenates `features
//! --shard` parts in shard order after the same checks.

use super::Outcome;
use crate::cli::MergeArgs;
use crate::files::npy::{read_features_native, write_matrix_f32, Features};
use crate::files::npz::{
    read_shard_sidecar, read_statistics, shard_sidecar_path, write_partial, write_statistics,
    PartialMetadata, ShardMetadata, StatisticsFile,
};
use crate::record::{input_record, RecordBuilder};
use anyhow::{bail, Context, Result};
use geneval_metrics::Moments;
use ndarray::Array2;
use std::path::Path;

fn is_npy(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// Runs `geneval merge`.
pub fn run(args: &MergeArgs) -> Result<Outcome> {
    if args.parts.iter().any(|p| is_npy(p)) {
        return merge_features(args);
    }
    let mut builder = RecordBuilder::start("merge");
    let mut merged: Option<(Moments, PartialMetadata)> = None;
    let mut shards: Vec<(&Path, PartialMetadata)> = Vec::new();
    for path in &args.parts {
        let (moments, metadata) = match read_statistics(path)? {
            StatisticsFile::Partial(m, meta) => (m, meta),
            StatisticsFile::Gaussian(_) => bail!(
                "{} holds final statistics (mu, sigma) without a sample count, which cannot be merged exactly; \
                 write the shards with `geneval stats --partial`",
                path.display()
            ),
        };
        shards.push((path, metadata.clone()));
        builder.record().inputs.push(input_record(
            path,
            "partial-statistics",
            Some(moments.count()),
            Some(moments.dim()),
        ));
        match &mut merged {
            None => merged = Some((moments, metadata)),
            Some((total, first)) => {
                if first.feature != metadata.feature || first.model_id != metadata.model_id {
                    bail!(
                        "{} holds features '{}' of model '{}', but the first part holds '{}' of '{}': only parts of the same features can be merged",
                        path.display(),
                        metadata.feature,
                        metadata.model_id,
                        first.feature,
                        first.model_id
                    );
                }
                total
                    .merge(&moments)
                    .with_context(|| format!("merging {}", path.display()))?;
            }
        }
    }
    let (total, mut metadata) = merged.context("no parts given")?;
    let covered = check_shards(&shards)?;
    metadata.shard = None;
    if args.partial {
        write_partial(&args.output, &total, &metadata)?;
    } else {
        let gaussian = total.gaussian().context("the merged statistics")?;
        write_statistics(&args.output, &gaussian)?;
    }
    let record = builder.record();
    record.outputs.push(args.output.display().to_string());
    record.set("count", total.count() as f64);
    if let Some(list) = &covered {
        record
            .setting("shards", list.count)
            .setting("list_images", list.list_images)
            .setting("list_sha256", list.list_sha256.as_str());
    }
    let summary = vec![format!(
        "merged {} parts ({} samples) into {}",
        args.parts.len(),
        total.count(),
        args.output.display()
    )];
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}

/// Concatenates the rows of `features --shard` parts in shard order, after
/// the same checks as statistics shards (KID and PRDC need every row, so
/// their parts cannot be merged from sums).
fn merge_features(args: &MergeArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("merge");
    if args.partial {
        bail!(
            "--partial merges statistics; features parts are concatenated into one features file"
        );
    }
    if let Some(other) = args.parts.iter().find(|p| !is_npy(p)) {
        bail!(
            "{} is not a features .npy: merge either statistics parts (.npz) or features parts (.npy), not both",
            other.display()
        );
    }
    let mut shards: Vec<(&Path, PartialMetadata)> = Vec::new();
    for path in &args.parts {
        let metadata = read_shard_sidecar(path)?.with_context(|| {
            format!(
                "{} has no {}: only parts written by `geneval features --shard K/N` can be checked and concatenated",
                path.display(),
                shard_sidecar_path(path).display()
            )
        })?;
        if let Some((_, first)) = shards
            .first()
            .filter(|(_, f)| f.feature != metadata.feature || f.model_id != metadata.model_id)
        {
            bail!(
                "{} holds features '{}' of model '{}', but {} holds '{}' of '{}': only parts of the same features can be merged",
                path.display(),
                metadata.feature,
                metadata.model_id,
                shards[0].0.display(),
                first.feature,
                first.model_id
            );
        }
        shards.push((path, metadata));
    }
    let list = check_shards(&shards)?.expect("every part has a shard");
    shards.sort_by_key(|(_, meta)| meta.shard.as_ref().map(|s| s.index));
    let mut blocks = Vec::with_capacity(shards.len());
    for (path, _) in &shards {
        let rows = match read_features_native(path)? {
            Features::F32(rows) => rows,
            Features::F64(_) => bail!(
                "{} holds float64 rows; `geneval features` writes float32",
                path.display()
            ),
        };
        if let Some(first) = blocks.first() {
            let first: &Array2<f32> = first;
            if first.ncols() != rows.ncols() {
                bail!(
                    "{} has {} columns, {} has {}",
                    path.display(),
                    rows.ncols(),
                    shards[0].0.display(),
                    first.ncols()
                );
            }
        }
        builder.record().inputs.push(input_record(
            path,
            "features",
            Some(rows.nrows() as u64),
            Some(rows.ncols()),
        ));
        blocks.push(rows);
    }
    let views: Vec<_> = blocks.iter().map(|b| b.view()).collect();
    let all = ndarray::concatenate(ndarray::Axis(0), &views).context("concatenating the parts")?;
    if all.nrows() as u64 != list.list_images {
        bail!(
            "the parts hold {} rows but their list has {} images: a part was written with --skip-bad or edited",
            all.nrows(),
            list.list_images
        );
    }
    write_matrix_f32(&args.output, &all)?;
    let record = builder.record();
    record.outputs.push(args.output.display().to_string());
    record.set("count", all.nrows() as f64);
    record
        .setting("shards", list.count)
        .setting("list_images", list.list_images)
        .setting("list_sha256", list.list_sha256.as_str());
    let summary = vec![format!(
        "concatenated {} features parts ({} x {}) into {}",
        args.parts.len(),
        all.nrows(),
        all.ncols(),
        args.output.display()
    )];
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}

/// When the parts are shards (`stats --partial --shard K/N`), checks that
/// they are the shards 0..N−1 of one image list, each exactly once, made by
/// one network and mode; returns the list's description. Parts without
/// shard metadata (features files, older geneval) are merged as given.
fn check_shards(parts: &[(&Path, PartialMetadata)]) -> Result<Option<ShardMetadata>> {
    let sharded: Vec<(&Path, &ShardMetadata)> = parts
        .iter()
        .filter_map(|(path, meta)| meta.shard.as_ref().map(|s| (*path, s)))
        .collect();
    let Some(&(first_path, first)) = sharded.first() else {
        return Ok(None);
    };
    if let Some((path, _)) = parts.iter().find(|(_, meta)| meta.shard.is_none()) {
        bail!(
            "{} is not a shard (no --shard when it was written) but {} is: merge the shards of one side, or only unsharded parts",
            path.display(),
            first_path.display()
        );
    }
    let first_meta = &parts[0].1;
    for (path, meta) in parts {
        let shard = meta.shard.as_ref().expect("checked above");
        if shard.count != first.count
            || shard.list_sha256 != first.list_sha256
            || shard.list_images != first.list_images
        {
            bail!(
                "{} is shard {}/{} of a list of {} images (SHA-256 {}), but {} is shard {}/{} of a list of {} (SHA-256 {}): parts of different image lists or splits cannot be merged",
                path.display(),
                shard.index,
                shard.count,
                shard.list_images,
                shard.list_sha256,
                first_path.display(),
                first.index,
                first.count,
                first.list_images,
                first.list_sha256
            );
        }
        if meta.mode != first_meta.mode {
            bail!(
                "{} was preprocessed in mode {}, {} in mode {}: only one mode's parts can be merged",
                path.display(),
                meta.mode.as_deref().unwrap_or("unknown"),
                parts[0].0.display(),
                first_meta.mode.as_deref().unwrap_or("unknown")
            );
        }
    }
    let mut owner: Vec<Option<&Path>> = vec![None; first.count];
    for &(path, shard) in &sharded {
        if let Some(earlier) = owner[shard.index] {
            bail!(
                "shard {}/{} is given twice: {} and {}; each shard must be merged once",
                shard.index,
                shard.count,
                earlier.display(),
                path.display()
            );
        }
        owner[shard.index] = Some(path);
    }
    let missing: Vec<String> = owner
        .iter()
        .enumerate()
        .filter(|(_, o)| o.is_none())
        .map(|(i, _)| i.to_string())
        .collect();
    if !missing.is_empty() {
        bail!(
            "shards {} of {} are missing (given: {} parts): merging without them would leave images out",
            missing.join(", "),
            first.count,
            parts.len()
        );
    }
    Ok(Some(first.clone()))
}
