//! `geneval features DIR -o feats.npy`: the feature rows (and optionally the
//! logits) of a folder of images, in file order, for other tools or for
//! `kid`, `prdc` and `is` later without running the model again.

use super::extraction::Extraction;
use super::Outcome;
use crate::cli::{FeaturesArgs, GlobalArgs};
use crate::files::npy::write_matrix_f32;
use crate::pipeline::Want;
use crate::record::RecordBuilder;
use anyhow::Result;

/// Runs `geneval features`.
pub fn run(args: &FeaturesArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("features");
    let mut extraction = Extraction::new(&args.extract, global.quiet);
    let want = Want {
        rows: true,
        logits: args.logits.is_some(),
        ..Want::default()
    };
    let mut side = extraction.run(&args.images, want, "images")?;
    let rows = side.collector.take_rows().expect("rows were asked for");
    write_matrix_f32(&args.output, &rows)?;
    let mut summary = vec![format!(
        "wrote {} x {} features to {}",
        rows.nrows(),
        rows.ncols(),
        args.output.display()
    )];
    let record = builder.record();
    record.outputs.push(args.output.display().to_string());
    if let Some(path) = &args.logits {
        let logits = side.collector.take_logits().expect("logits were asked for");
        write_matrix_f32(path, &logits)?;
        record.outputs.push(path.display().to_string());
        summary.push(format!(
            "wrote {} x {} logits to {}",
            logits.nrows(),
            logits.ncols(),
            path.display()
        ));
    }
    extraction.describe(record);
    record.inputs.push(side.input_record());
    Ok(Outcome {
        summary,
        record: builder.finish(),
    })
}
