//! `geneval kid A.npy B.npy`: Kernel Inception Distance as torch-fidelity.

use super::Outcome;
use crate::cli::KidArgs;
use crate::input::npy::read_features;
use crate::record::{input_record, RecordBuilder};
use anyhow::{Context, Result};
use geneval_metrics::kid::{kid, KidSettings};

/// Runs `geneval kid`.
pub fn run(args: &KidArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("kid");
    let a = read_features(&args.a).context("reading the first feature set")?;
    let b = read_features(&args.b).context("reading the second feature set")?;
    let settings = KidSettings {
        subsets: args.subsets,
        subset_size: args.subset_size,
        degree: args.degree,
        gamma: args.gamma,
        coef0: args.coef0,
        seed: args.seed,
    };
    let result = kid(a.view(), b.view(), &settings).with_context(|| {
        format!(
            "computing KID of {} and {}",
            args.a.display(),
            args.b.display()
        )
    })?;
    let record = builder.record();
    for (path, f) in [(&args.a, &a), (&args.b, &b)] {
        record.inputs.push(input_record(
            path,
            "features",
            Some(f.nrows() as u64),
            Some(f.ncols()),
        ));
    }
    record.value = Some(result.mean);
    record.uncertainty = Some(result.std);
    record.seed = Some(u64::from(args.seed));
    record
        .set("kid_mean", result.mean)
        .set("kid_std", result.std)
        .setting("subsets", result.subsets)
        .setting("subset_size", result.subset_size)
        .setting("degree", args.degree)
        .setting("gamma", args.gamma.unwrap_or(1.0 / a.ncols() as f64))
        .setting("coef0", args.coef0);
    let summary = vec![format!("KID: {} ± {}", result.mean, result.std)];
    Ok(Outcome {
        summary,
        record: builder.finish(),
    })
}
