//! `geneval fid A B`: the Fréchet distance between two sides.

use super::Outcome;
use crate::cli::FidArgs;
use crate::input::side::{load_fid_side, FidSide};
use crate::record::{input_record, RecordBuilder};
use anyhow::{bail, Context, Result};
use geneval_metrics::{
    frechet_distance, frechet_distance_from_features, FrechetDistance, Gaussian,
};

fn gaussian_of(side: &FidSide) -> Result<Gaussian> {
    match side {
        FidSide::Statistics { gaussian, .. } => Ok(gaussian.clone()),
        FidSide::Features(f) => Ok(f.moments()?.gaussian()?),
    }
}

/// Runs `geneval fid`.
pub fn run(args: &FidArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("fid");
    let a = load_fid_side(&args.a)
        .with_context(|| format!("reading the first side {}", args.a.display()))?;
    let b = load_fid_side(&args.b)
        .with_context(|| format!("reading the second side {}", args.b.display()))?;
    if a.dim() != b.dim() {
        bail!(
            "feature dimensions differ: {} has {}, {} has {}; both sides must come from the same feature layer",
            args.a.display(),
            a.dim(),
            args.b.display(),
            b.dim()
        );
    }
    let distance: FrechetDistance = match (&a, &b) {
        // With fewer samples than dimensions on both sides the N×N route is
        // exact and cheap; it needs the rows, so only then are they widened.
        (FidSide::Features(fa), FidSide::Features(fb))
            if fa.dim().0 < fa.dim().1 && fb.dim().0 < fb.dim().1 =>
        {
            frechet_distance_from_features(fa.to_f64().view(), fb.to_f64().view()).with_context(
                || {
                    format!(
                        "computing FID of {} and {}",
                        args.a.display(),
                        args.b.display()
                    )
                },
            )?
        }
        _ => {
            let ga =
                gaussian_of(&a).with_context(|| format!("statistics of {}", args.a.display()))?;
            let gb =
                gaussian_of(&b).with_context(|| format!("statistics of {}", args.b.display()))?;
            frechet_distance(&ga, &gb)?
        }
    };
    let record = builder.record();
    for (path, side) in [(&args.a, &a), (&args.b, &b)] {
        record.inputs.push(input_record(
            path,
            side.kind(),
            side.count(),
            Some(side.dim()),
        ));
        if let Some(n) = side.count() {
            if (n as usize) <= side.dim() {
                record.warnings.push(format!(
                    "{} has {n} samples for {} dimensions: its covariance is singular, and FID from so few samples is strongly biased upwards",
                    path.display(),
                    side.dim()
                ));
            }
        }
    }
    if distance.clamped_to_zero {
        record.warnings.push(format!(
            "the distance came out as {:e} (rounding below zero) and was set to 0",
            distance.raw_value
        ));
    }
    let total_trace = distance.trace_a + distance.trace_b;
    if distance.clamped_eigenvalue_mass > 1e-6 * total_trace.max(f64::MIN_POSITIVE) {
        record.warnings.push(format!(
            "negative eigenvalues of total magnitude {:e} were clamped to 0: the statistics are ill-conditioned",
            distance.clamped_eigenvalue_mass
        ));
    }
    record.value = Some(distance.value);
    record
        .set("fid", distance.value)
        .set("mean_term", distance.mean_term)
        .set("trace_a", distance.trace_a)
        .set("trace_b", distance.trace_b)
        .set("trace_sqrt_product", distance.trace_sqrt_product)
        .set("clamped_eigenvalue_mass", distance.clamped_eigenvalue_mass)
        .setting("method", distance.method.as_str());
    Ok(Outcome {
        summary: vec![format!("FID: {}", distance.value)],
        record: builder.finish(),
    })
}
