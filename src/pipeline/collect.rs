//! What the pipeline keeps of each batch: running statistics only (FID,
//! `stats`: memory independent of the number of images), the feature rows
//! (KID, PRDC, `features`), the logits (IS), or any mix.

use geneval_metrics::Moments;
use ndarray::{Array2, ArrayView2};
use std::path::PathBuf;

use super::PipelineError;

/// Which outputs to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    /// Accumulate [`Moments`] batch by batch.
    pub moments: bool,
    /// Keep every feature row.
    pub rows: bool,
    /// Keep every logits row (the spec must name a logits output).
    pub logits: bool,
}

impl Want {
    /// Streaming moments only.
    pub const MOMENTS: Want = Want {
        moments: true,
        rows: false,
        logits: false,
    };
    /// Feature rows only.
    pub const ROWS: Want = Want {
        moments: false,
        rows: true,
        logits: false,
    };
    /// Logits only.
    pub const LOGITS: Want = Want {
        moments: false,
        rows: false,
        logits: true,
    };
}

/// The accumulated result.
#[derive(Debug)]
pub struct Collector {
    want: Want,
    /// Streaming statistics, when wanted.
    pub moments: Option<Moments>,
    rows: Vec<f32>,
    logits: Vec<f32>,
    dim: Option<usize>,
    classes: Option<usize>,
    count: usize,
}

impl Collector {
    /// An empty collector.
    pub fn new(want: Want) -> Self {
        Collector {
            want,
            moments: None,
            rows: Vec::new(),
            logits: Vec::new(),
            dim: None,
            classes: None,
            count: 0,
        }
    }

    /// Images taken so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Feature dimension, once a batch has come.
    pub fn dim(&self) -> Option<usize> {
        self.dim
    }

    /// Adds one batch; `paths` name its rows, so that a NaN or an infinity
    /// in the model's output is reported with the image that caused it.
    pub fn accept(
        &mut self,
        features: ArrayView2<'_, f32>,
        logits: Option<ArrayView2<'_, f32>>,
        paths: &[PathBuf],
    ) -> Result<(), PipelineError> {
        check_finite(features, paths, "features")?;
        let d = features.ncols();
        match self.dim {
            Some(dim) if dim != d => {
                return Err(PipelineError::Inconsistent(format!(
                    "the model gave {d} features for one batch and {dim} for another"
                )))
            }
            _ => self.dim = Some(d),
        }
        if self.want.moments {
            self.moments
                .get_or_insert_with(|| Moments::new(d))
                .update(features)?;
        }
        if self.want.rows {
            self.rows.extend(features.iter());
        }
        if self.want.logits {
            let logits = logits.ok_or_else(|| {
                PipelineError::Inconsistent(
                    "the model has no logits output; name it with \"logits\" in its spec".into(),
                )
            })?;
            check_finite(logits, paths, "logits")?;
            let k = logits.ncols();
            if self.classes.is_some_and(|c| c != k) {
                return Err(PipelineError::Inconsistent(
                    "logits width changed between batches".into(),
                ));
            }
            self.classes = Some(k);
            self.logits.extend(logits.iter());
        }
        self.count += features.nrows();
        Ok(())
    }

    /// The feature rows, `[count, dim]`, when wanted.
    pub fn take_rows(&mut self) -> Option<Array2<f32>> {
        let d = self.dim?;
        self.want.rows.then(|| {
            Array2::from_shape_vec((self.count, d), std::mem::take(&mut self.rows))
                .expect("rows are appended whole")
        })
    }

    /// The logits rows, `[count, classes]`, when wanted.
    pub fn take_logits(&mut self) -> Option<Array2<f32>> {
        let k = self.classes?;
        self.want.logits.then(|| {
            Array2::from_shape_vec((self.count, k), std::mem::take(&mut self.logits))
                .expect("rows are appended whole")
        })
    }
}

fn check_finite(
    values: ArrayView2<'_, f32>,
    paths: &[PathBuf],
    what: &'static str,
) -> Result<(), PipelineError> {
    for (row, values) in values.rows().into_iter().enumerate() {
        if let Some(value) = values.iter().find(|v| !v.is_finite()) {
            let path = paths
                .get(row)
                .map_or_else(PathBuf::new, |p| p.to_path_buf());
            return Err(PipelineError::NonFinite {
                path,
                what,
                value: *value,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn streaming_moments_equal_moments_of_all_rows() {
        let a = array![[1.0f32, 2.0], [3.0, 5.0]];
        let b = array![[0.5f32, -1.0], [2.0, 2.0], [4.0, 0.0]];
        let paths: Vec<PathBuf> = (0..3).map(|i| PathBuf::from(format!("{i}.png"))).collect();
        let mut c = Collector::new(Want {
            moments: true,
            rows: true,
            logits: false,
        });
        c.accept(a.view(), None, &paths[..2]).unwrap();
        c.accept(b.view(), None, &paths).unwrap();
        let rows = c.take_rows().unwrap();
        assert_eq!(rows.dim(), (5, 2));
        let all = Moments::from_features(rows.view()).unwrap();
        let streamed = c.moments.as_ref().unwrap();
        assert_eq!(streamed.count(), 5);
        for (x, y) in streamed.comoment().iter().zip(all.comoment().iter()) {
            assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn nan_names_the_image_and_missing_logits_are_an_error() {
        let paths = vec![PathBuf::from("a.png"), PathBuf::from("b.png")];
        let mut c = Collector::new(Want::default());
        let err = c
            .accept(array![[1.0f32], [f32::NAN]].view(), None, &paths)
            .unwrap_err();
        assert!(err.to_string().contains("b.png"), "{err}");
        let mut c = Collector::new(Want {
            logits: true,
            ..Want::default()
        });
        let err = c
            .accept(array![[1.0f32], [2.0]].view(), None, &paths)
            .unwrap_err();
        assert!(err.to_string().contains("logits"), "{err}");
    }
}
