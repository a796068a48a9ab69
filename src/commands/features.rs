//! `geneval features DIR -o feats.npy`: the feature rows (and optionally the
//! logits) of a folder of images, in file order, for other tools or for
//! `kid`, `prdc` and `is` later without running the model again.
//!
//! With `--shard K/N` the rows of one part are written, and beside them
//! `OUT.npy.shard.json` says which part of which list they are (an `.npy`
//! header has no room for it: numpy refuses unknown keys), so that
//! `geneval merge` can concatenate the parts in order after checking them.

use super::Outcome;
use crate::cli::{FeaturesArgs, GlobalArgs};
use crate::extract::Extraction;
use crate::files::npy::write_matrix_f32;
use crate::files::npz::{
    write_shard_sidecar, PartialMetadata, ShardMetadata, FEATURES_SHARD_FORMAT,
};
use crate::record::RecordBuilder;
use anyhow::Result;

/// Runs `geneval features`.
pub fn run(args: &FeaturesArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("features");
    let mut extraction = Extraction::new(&args.extract, global.quiet);
    // A shard's rows, in list order; the record says which part of which
    // list (shard, list_images, list_sha256).
    extraction.set_shard(args.shard.resolve()?);
    let (rows, logits, side) = if args.logits.is_some() {
        let (rows, logits, side) = extraction.rows_and_logits(&args.images, "images")?;
        (rows, Some(logits), side)
    } else {
        let (rows, side) = extraction.rows(&args.images, "images")?;
        (rows, None, side)
    };
    write_matrix_f32(&args.output, &rows)?;
    if let Some(run) = extraction.shard_run() {
        let mut metadata = PartialMetadata::new(
            extraction.feature_name().unwrap_or("unknown"),
            extraction.model_id().unwrap_or("unknown"),
        );
        metadata.format = FEATURES_SHARD_FORMAT.into();
        metadata.mode = extraction.chosen_mode().map(|m| m.as_str().to_owned());
        metadata.shard = Some(ShardMetadata {
            index: run.shard.index,
            count: run.shard.count,
            list_images: run.list_images as u64,
            list_sha256: run.list_sha256.clone(),
        });
        write_shard_sidecar(&args.output, &metadata)?;
    }
    let mut summary = vec![format!(
        "wrote {} x {} features to {}",
        rows.nrows(),
        rows.ncols(),
        args.output.display()
    )];
    let record = builder.record();
    record.outputs.push(args.output.display().to_string());
    if let (Some(path), Some(logits)) = (&args.logits, logits) {
        write_matrix_f32(path, &logits)?;
        record.outputs.push(path.display().to_string());
        summary.push(format!(
            "wrote {} x {} logits to {}",
            logits.nrows(),
            logits.ncols(),
            path.display()
        ));
    }
    extraction.describe(record, [side.input_record()]);
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}
