//! `geneval merge PART... -o stats.npz`: combines partial statistics from
//! shards exactly (Chan et al.), as if one machine had seen every sample.

use super::Outcome;
use crate::cli::MergeArgs;
use crate::files::npz::{
    read_statistics, write_partial, write_statistics, PartialMetadata, StatisticsFile,
};
use crate::record::{input_record, RecordBuilder};
use anyhow::{bail, Context, Result};
use geneval_metrics::Moments;

/// Runs `geneval merge`.
pub fn run(args: &MergeArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("merge");
    let mut merged: Option<(Moments, PartialMetadata)> = None;
    for path in &args.parts {
        let (moments, metadata) = match read_statistics(path)? {
            StatisticsFile::Partial(m, meta) => (m, meta),
            StatisticsFile::Gaussian(_) => bail!(
                "{} holds final statistics (mu, sigma) without a sample count, which cannot be merged exactly; \
                 write the shards with `geneval stats --partial`",
                path.display()
            ),
        };
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
    let (total, metadata) = merged.context("no parts given")?;
    if args.partial {
        write_partial(&args.output, &total, &metadata)?;
    } else {
        let gaussian = total.gaussian().context("the merged statistics")?;
        write_statistics(&args.output, &gaussian)?;
    }
    let record = builder.record();
    record.outputs.push(args.output.display().to_string());
    record.set("count", total.count() as f64);
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
