//! `geneval disturb`: one of the FID paper's disturbances applied to a
//! folder of images, written as PNG files with the same stems.

use super::Outcome;
use crate::cli::{DisturbArgs, GlobalArgs};
use crate::generate;
use crate::record::{input_record, RecordBuilder};
use anyhow::{Context, Result};

/// Runs `geneval disturb`.
pub fn run(args: &DisturbArgs, _global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("disturb");
    let d = &args.disturbance;
    let report = generate::disturb_folder(&args.input, &args.out, d, args.seed)
        .with_context(|| format!("disturbing {}", args.input.display()))?;
    let record = builder.record();
    record.seed = Some(args.seed);
    record
        .setting("disturbance", d.to_string())
        .setting("kind", d.kind.name())
        .setting("level", d.level)
        .setting("seed", args.seed);
    record.inputs.push(input_record(
        &args.input,
        "images",
        Some(report.images as u64),
        None,
    ));
    record.outputs.push(args.out.display().to_string());
    record
        .set("images", report.images as f64)
        .set("contaminated", report.contaminated as f64)
        .set("images_per_s", report.images_per_s);
    let mut summary = vec![format!(
        "applied {d} (seed {}) to {} images of {}, wrote PNGs to {} in {:.2} s ({:.0} images/s)",
        args.seed,
        report.images,
        args.input.display(),
        args.out.display(),
        report.seconds,
        report.images_per_s,
    )];
    if report.contaminated > 0 {
        summary.push(format!(
            "{} images were replaced by contaminants",
            report.contaminated
        ));
    }
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}
