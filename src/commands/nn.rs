//! `geneval nn REAL FAKE`: each generated sample's nearest real sample, in
//! any feature space: AuthPct (Alaa et al. 2022, as dgm-eval computes it),
//! possible copies of the training set, the generated samples farthest from
//! every real one (outliers), both nearest-neighbour distance distributions,
//! and the C_T data-copying test (Meehan et al. 2020, as dgm-eval computes
//! it; `metrics/src/data_copying.rs`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ndarray::Array2;
use serde_json::json;

use super::Outcome;
use crate::cli::{Distance, GlobalArgs, NnArgs};
use crate::extract::{feature_rows, Extraction};
use crate::files::side::is_images;
use crate::images::discover::{discover, DiscoverOptions};
use crate::record::RecordBuilder;
use geneval_metrics::authenticity::authenticity;
use geneval_metrics::data_copying::{data_copying, DataCopying};

/// Rows scaled to unit length (cosine distance is then `d² / 2` of the
/// Euclidean one, and nearest neighbours are the same).
fn unit_rows(mut rows: Array2<f64>) -> Array2<f64> {
    for mut row in rows.rows_mut() {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row.mapv_inplace(|v| v / norm);
        }
    }
    rows
}

/// How sample `i` of `side` is named: its image's path, or its row.
fn names(side: &Path, rows: usize, recursive: bool) -> Vec<String> {
    if is_images(side) {
        if let Ok(paths) = discover(side, DiscoverOptions { recursive }) {
            if paths.len() == rows {
                return paths
                    .iter()
                    .map(|p: &PathBuf| p.display().to_string())
                    .collect();
            }
        }
    }
    (0..rows)
        .map(|i| format!("{}[{i}]", side.display()))
        .collect()
}

fn quantiles(values: &[f64]) -> serde_json::Value {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    json!({"min": at(0.0), "p10": at(0.1), "median": at(0.5), "p90": at(0.9), "max": at(1.0)})
}

/// C_T's cells for people: each cell's Z and share of the held-out set,
/// and which were left out of the average (τ: 20 generated samples or
/// fewer), so a C_T made of one cell is visible as such.
fn cell_summary(ct: &DataCopying) -> String {
    (0..ct.cell_z.len())
        .map(|c| {
            let share = 100.0 * ct.cell_test_share[c];
            if ct.cell_included[c] {
                format!("Z {:.2} ({share:.0}% of held-out)", ct.cell_z[c])
            } else {
                format!("skipped ({share:.0}% of held-out, <= 20 generated)")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `geneval nn`.
pub fn run(args: &NnArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("authpct");
    let mut extraction = Extraction::new(&args.extract, global.quiet);
    let (real, input_real) = feature_rows(&args.real, &mut extraction, "real")?;
    let (fake, input_fake) = feature_rows(&args.fake, &mut extraction, "generated")?;
    let held_out = args
        .real_test
        .as_ref()
        .map(|path| feature_rows(path, &mut extraction, "held-out real"))
        .transpose()?;
    // C_T (Meehan et al. 2020, dgm-eval's compute_CTscore) on the raw
    // features whatever --distance says: dgm-eval's definition is its own
    // PCA and Euclidean k-means cells and neighbours, and a held-out set
    // that was not normalised must meet a training set that was not either.
    let (c_t, c_t_split) = {
        let (train, test, split) = match &held_out {
            Some((rows, _)) => (real.view(), rows.view(), "--real-test"),
            None => (
                real.slice(ndarray::s![..;2, ..]),
                real.slice(ndarray::s![1..;2, ..]),
                "real side: even rows train, odd rows held out",
            ),
        };
        (data_copying(train, test, fake.view()), split)
    };
    let (real, fake) = match args.distance {
        Distance::Euclidean => (real, fake),
        Distance::Cosine => (unit_rows(real), unit_rows(fake)),
    };
    let a = authenticity(real.view(), fake.view()).with_context(|| {
        format!(
            "nearest neighbours of {} in {}",
            args.fake.display(),
            args.real.display()
        )
    })?;
    let shown = |d: f64| match args.distance {
        Distance::Euclidean => d,
        Distance::Cosine => d * d / 2.0,
    };
    let real_names = names(&args.real, real.nrows(), args.extract.recursive);
    let fake_names = names(&args.fake, fake.nrows(), args.extract.recursive);
    let ratio = |i: usize| {
        let own = a.real_nearest_distance[a.nearest_real[i]];
        if own > 0.0 {
            a.distance[i] / own
        } else if a.distance[i] > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    };
    let mut copies: Vec<usize> = (0..fake.nrows())
        .filter(|&i| ratio(i) < args.copy_ratio)
        .collect();
    copies.sort_by(|&x, &y| ratio(x).total_cmp(&ratio(y)));
    let mut outliers: Vec<usize> = (0..fake.nrows()).collect();
    outliers.sort_by(|&x, &y| a.distance[y].total_cmp(&a.distance[x]));
    outliers.truncate(args.top);
    let pair = |i: usize| {
        json!({
            "fake": fake_names[i],
            "real": real_names[a.nearest_real[i]],
            "distance": shown(a.distance[i]),
            "ratio_to_real_neighbour": ratio(i),
        })
    };
    let copy_fraction = copies.len() as f64 / fake.nrows() as f64;
    let record = builder.record();
    let mut inputs = vec![input_real, input_fake];
    inputs.extend(held_out.map(|(_, input)| input));
    extraction.describe(record, inputs);
    match &c_t {
        Ok(ct) => {
            record.set("c_t", ct.c_t).setting(
                "c_t",
                json!({
                    "split": c_t_split,
                    "cell_z": ct.cell_z,
                    "cell_test_share": ct.cell_test_share,
                    "cell_included": ct.cell_included,
                }),
            );
        }
        Err(e) => record
            .warnings
            .push(format!("C_T data-copying test not computed: {e}")),
    }
    record.value = Some(a.authpct);
    record
        .set("authpct", a.authpct)
        .set("copies", copies.len() as f64)
        .set("copy_fraction", copy_fraction)
        .setting("distance", args.distance.as_str())
        .setting("copy_ratio", args.copy_ratio)
        .setting(
            "possible_copies",
            copies
                .iter()
                .take(args.top)
                .map(|&i| pair(i))
                .collect::<Vec<_>>(),
        )
        .setting(
            "outliers",
            outliers.iter().map(|&i| pair(i)).collect::<Vec<_>>(),
        )
        .setting(
            "fake_to_real_distance",
            quantiles(&a.distance.iter().map(|&d| shown(d)).collect::<Vec<_>>()),
        )
        .setting(
            "real_to_real_distance",
            quantiles(
                &a.real_nearest_distance
                    .iter()
                    .map(|&d| shown(d))
                    .collect::<Vec<_>>(),
            ),
        );
    let mut summary = vec![
        format!(
            "AuthPct: {:.2}% of generated samples are authentic (Alaa et al. 2022, dgm-eval's definition)",
            a.authpct
        ),
        format!(
            "possible copies: {} of {} ({:.2}%): nearest real sample closer than {} of its own nearest real neighbour ({} distance)",
            copies.len(),
            fake.nrows(),
            100.0 * copy_fraction,
            args.copy_ratio,
            args.distance.as_str()
        ),
    ];
    if let Ok(ct) = &c_t {
        summary.push(format!(
            "C_T data-copying test: {:.3} (Meehan et al. 2020, dgm-eval's definition; << 0 copying, >> 0 underfitting; {c_t_split})",
            ct.c_t
        ));
        summary.push(format!("  cells:  {}", cell_summary(ct)));
    }
    for &i in copies.iter().take(args.top) {
        summary.push(format!(
            "  copy?   {} ~ {}  (distance {:.4}, {:.3} of the real one's neighbour)",
            fake_names[i],
            real_names[a.nearest_real[i]],
            shown(a.distance[i]),
            ratio(i)
        ));
    }
    summary.push("outliers (farthest from every real sample):".to_owned());
    for &i in &outliers {
        summary.push(format!(
            "  outlier {}  (nearest real {} at {:.4})",
            fake_names[i],
            real_names[a.nearest_real[i]],
            shown(a.distance[i])
        ));
    }
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}
