//! `geneval generate`: a deterministic reference image set, optionally
//! disturbed as in the FID paper.

use super::Outcome;
use crate::cli::{GenerateArgs, GlobalArgs};
use crate::generate::{self, Copies, GenerateOptions};
use crate::record::RecordBuilder;
use anyhow::{Context, Result};

/// Runs `geneval generate`.
pub fn run(args: &GenerateArgs, _global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("generate");
    let options = GenerateOptions {
        n: args.n,
        size: args.size,
        seed: args.seed,
        classes: args.classes,
        keep_classes: args.keep_classes,
        format: args.format,
        disturbances: args.disturb.clone(),
        copies: args.copies.map(|fraction| Copies {
            fraction,
            of_seed: args.copies_of,
        }),
    };
    let report = generate::write_set(&args.out, &options)
        .with_context(|| format!("generating images in {}", args.out.display()))?;
    let names: Vec<String> = options.disturbances.iter().map(|d| d.to_string()).collect();
    let record = builder.record();
    record.seed = Some(options.seed);
    record
        .setting("n", options.n)
        .setting("size", options.size)
        .setting("seed", options.seed)
        .setting("classes", options.classes)
        .setting("keep_classes", options.keep_classes)
        .setting("format", options.format.to_string())
        .setting("disturbances", names.clone())
        .setting("copies", options.copies.map(|c| c.fraction))
        .setting("copies_of", options.copies.map(|c| c.of_seed));
    record.outputs.push(args.out.display().to_string());
    record.outputs.push(report.labels.display().to_string());
    record
        .set("images", report.images as f64)
        .set("contaminated", report.contaminated as f64)
        .set("copies", report.copies as f64)
        .set("images_per_s", report.images_per_s);
    let mut summary = vec![format!(
        "wrote {} {} images of {s}x{s} ({} of {} classes, seed {}) to {} in {:.2} s ({:.0} images/s)",
        report.images,
        options.format,
        options.classes_present(),
        options.classes,
        options.seed,
        args.out.display(),
        report.seconds,
        report.images_per_s,
        s = options.size,
    )];
    if !names.is_empty() {
        summary.push(format!("disturbances: {}", names.join(", ")));
    }
    if report.contaminated > 0 {
        summary.push(format!(
            "{} images are contaminants (class -1 in labels.csv)",
            report.contaminated
        ));
    }
    if let Some(copies) = options.copies {
        summary.push(format!(
            "{} images are copies of the set with seed {}",
            report.copies, copies.of_seed
        ));
    }
    summary.push(format!("labels: {}", report.labels.display()));
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}
