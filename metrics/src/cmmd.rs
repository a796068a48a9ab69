//! CMMD (Jayasumana et al., "Rethinking FID: Towards a Better Evaluation
//! Metric for Image Generation", CVPR 2024): the maximum mean discrepancy
//! between two sets of CLIP image embeddings under a Gaussian RBF kernel,
//! as google-research's `cmmd/distance.py` (`mmd`) computes it.
//!
//! # Formula
//!
//! With `k(a, b) = exp(−γ‖a − b‖²)`, `γ = 1 / (2σ²)`, and the
//! minimum-variance (biased) estimator of the squared MMD (Gretton et al.
//! 2012, eq. 5), whose means include the diagonals:
//!
//! ```text
//! CMMD = scale · (mean K_xx + mean K_yy − 2 · mean K_xy)
//!
//! mean K_xx = (1/n²) Σ_{i,j} k(x_i, x_j)      (i = j included: k = 1)
//! mean K_yy = (1/m²) Σ_{i,j} k(y_i, y_j)
//! mean K_xy = (1/(n m)) Σ_{i,j} k(x_i, y_j)
//! ```
//!
//! for `x` (n × d) and `y` (m × d); n and m may differ, as the reference
//! takes the two sets as given. `‖a − b‖²` is computed as the reference
//! writes it, `(−2 a·b + ‖a‖²) + ‖b‖²` with `a·b` from a matrix product,
//! and is not clamped at 0 (neither is the reference's). The estimator is
//! a squared RKHS distance, so it is ≥ 0 up to rounding; identical sets
//! give 0 (a few 1e-15 either side, from the rounding of the sums).
//!
//! # Defaults and why
//!
//! * `sigma = 10` ([`SIGMA`]), so `γ = 0.005`: the reference's `_SIGMA`,
//!   the bandwidth the paper chose for CLIP ViT-L/14@336px embeddings,
//!   which are L2-normalised (`‖a − b‖² ≤ 4`).
//! * `scale = 1000` ([`SCALE`]): the reference's `_SCALE`, which only makes
//!   the numbers readable (the paper reports CMMD in these units).
//! * `block_rows = 1024` ([`DEFAULT_BLOCK_ROWS`]): see "Memory".
//!
//! # Memory and threads
//!
//! The reference forms each n × m kernel matrix at once (20 GB in float64
//! for 50,000 × 50,000). Here the three sums are taken over tiles of
//! [`CmmdOptions::block_rows`] rows of one set against as many rows of the
//! other: one Gram product per tile (faer, single-threaded, into a buffer
//! kept per rayon task), rayon over row blocks and over the tiles of each,
//! so memory is one `block_rows²` buffer per running task (8 MiB at 1024)
//! plus the squared norms, whatever n and m. `K_xx` and `K_yy` are
//! symmetric, so only the tiles on and above the diagonal are computed and
//! those above it are counted twice: `n²/2 + m²/2 + n·m` kernel values
//! instead of `n² + m² + n·m`.
//!
//! # Accuracy, and why `expm1`
//!
//! On CLIP embeddings every kernel value lies in `[e^−0.02, 1]`, so the
//! three means are all ≈ 0.99 and cancel in `K_xx + K_yy − 2 K_xy` to about
//! 1e-3 of their size (6e-5 for two sets from one distribution). Summing
//! `exp(−γd²)` would spend most of a float64 on the constant 1: each term
//! rounds to ~1e-16 absolute and the sums hold ~n² instead of the ~0.01·n²
//! that matters. Each term is therefore summed as
//! `expm1(−γd²) = k − 1` (≈ −0.01, rounded to ~1e-18), and the 1s, which
//! cancel exactly in the MMD (1 + 1 − 2 = 0), never enter the sums.
//!
//! For `|γd²| ≤ 1/16`, which covers every pair of CLIP embeddings, `expm1`
//! is its Taylor series to the 10th power in plain IEEE multiplications
//! and additions, within 1 ulp of the library's `expm1` in the tests: 27
//! times faster than glibc's `expm1` (which took 6/7 of the time), and
//! the same bits on every platform. Larger exponents use the library.
//!
//! The sums are compensated (Neumaier) and in float64: within a tile in
//! row order, then the tiles of a row block in order, then the row blocks
//! in order. Each tile's sum depends only on the tile, so the result is
//! bit-identical for any number of threads; another block size regroups
//! the same terms, which moves the result only in the last bits (the tests
//! check 1e-13 relative).
//!
//! Measured on the fixtures of `tests/fixtures/reference/generate_cmmd.py`
//! (200 × 64 against 150 × 64, L2-normalised): this value is within 4e-14
//! relative of an extended-precision (64-bit mantissa) evaluation, while
//! the reference's formula in float64 with plain `exp` is 1.4e-12 away
//! where the two sets come from one distribution (CMMD ≈ 0.06), and in
//! float32 — JAX's default, the reference as users run it — 5e-3 away
//! there and 1.5e-5 on shifted sets (CMMD ≈ 1.5).
//!
//! # No streaming accumulator
//!
//! Every pair of embeddings enters the estimate, so both sets must be held
//! in memory (50,000 × 768 float64 is 300 MB); the kernel matrices never
//! are.

use crate::error::{MetricsError, Result};
use crate::finite::ensure_finite_matrix;
use crate::linalg::matmul_transpose_b_into_sequential;
use ndarray::{s, Array2, ArrayView2};
use rayon::prelude::*;

/// CMMD's kernel bandwidth σ (`_SIGMA` in `distance.py`).
pub const SIGMA: f64 = 10.0;

/// CMMD's scale on the MMD² (`_SCALE` in `distance.py`).
pub const SCALE: f64 = 1000.0;

/// Rows per kernel tile by default: a 1024 × 1024 tile is 8 MiB and its
/// Gram product (1024 × 1024 × 768 for CLIP) runs at full speed on one
/// thread.
pub const DEFAULT_BLOCK_ROWS: usize = 1024;

/// How CMMD is computed.
///
/// # Examples
///
/// ```
/// use geneval_metrics::cmmd::CmmdOptions;
///
/// // The paper's values: σ = 10, scale 1000.
/// let paper = CmmdOptions::default();
/// assert_eq!((paper.sigma, paper.scale, paper.block_rows), (10.0, 1000.0, 1024));
///
/// // Smaller tiles for less memory per thread; the value is the same.
/// let lean = CmmdOptions { block_rows: 256, ..CmmdOptions::default() };
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CmmdOptions {
    /// Kernel bandwidth σ, `γ = 1 / (2σ²)`; positive and finite (default
    /// [`SIGMA`] = 10).
    pub sigma: f64,
    /// Factor on the MMD²; positive and finite (default [`SCALE`] = 1000).
    pub scale: f64,
    /// Rows of each set per kernel tile (tiles are `block_rows ×
    /// block_rows`); at least 1 (default [`DEFAULT_BLOCK_ROWS`]). Changes
    /// memory and speed, not the value beyond its last bits.
    pub block_rows: usize,
}

impl Default for CmmdOptions {
    fn default() -> Self {
        Self {
            sigma: SIGMA,
            scale: SCALE,
            block_rows: DEFAULT_BLOCK_ROWS,
        }
    }
}

/// A CMMD value and the three kernel means it is made of.
///
/// The means are kept as `mean K − 1`, the form in which they were summed
/// (see the module docs): `1 + mean_xx_minus_one` rounds away the digits
/// that the value is made of, so [`Cmmd::value`] is computed from these
/// fields, not from [`Cmmd::mean_k_xx`] and its siblings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cmmd {
    /// `scale · (mean K_xx + mean K_yy − 2 mean K_xy)`, the reference's
    /// return value.
    pub value: f64,
    /// `mean K_xx − 1`: the mean of `k(x_i, x_j) − 1` over all n² pairs
    /// (≤ 0; diagonal included).
    pub mean_xx_minus_one: f64,
    /// `mean K_yy − 1` over all m² pairs (≤ 0; diagonal included).
    pub mean_yy_minus_one: f64,
    /// `mean K_xy − 1` over all n·m pairs (≤ 0).
    pub mean_xy_minus_one: f64,
}

impl Cmmd {
    /// `mean K_xx`, the reference's `k_xx`.
    pub fn mean_k_xx(&self) -> f64 {
        1.0 + self.mean_xx_minus_one
    }

    /// `mean K_yy`, the reference's `k_yy`.
    pub fn mean_k_yy(&self) -> f64 {
        1.0 + self.mean_yy_minus_one
    }

    /// `mean K_xy`, the reference's `k_xy`.
    pub fn mean_k_xy(&self) -> f64 {
        1.0 + self.mean_xy_minus_one
    }
}

/// CMMD between embeddings `x` (n × d, e.g. of reference images) and `y`
/// (m × d, e.g. of generated images), as google-research's
/// `distance.mmd(x, y)` in float64; see the module docs for the formula,
/// the memory bound and the accuracy.
///
/// Fails with [`MetricsError::DimensionMismatch`] when the embedding
/// dimensions differ, [`MetricsError::TooFewSamples`] when a set has no
/// rows (naming the set), [`MetricsError::NonFinite`] at the first NaN or
/// infinity, and [`MetricsError::InvalidParameter`] for zero columns, a
/// `sigma` or `scale` that is not positive and finite, `block_rows = 0`,
/// or a row so large (|values| ≳ 1e153) that its squared norm would
/// overflow.
///
/// # Examples
///
/// One embedding on each side, at distance 5: every kernel value is 1
/// except `k(x, y) = e^(−25/200)`, so CMMD is `1000 · (1 + 1 − 2e^(−1/8))`:
///
/// ```
/// use geneval_metrics::cmmd::{cmmd, CmmdOptions};
/// use ndarray::array;
///
/// let x = array![[0.0, 0.0]];
/// let y = array![[3.0, 4.0]];
/// let d = cmmd(x.view(), y.view(), &CmmdOptions::default())?;
/// let by_hand = 1000.0 * (2.0 - 2.0 * (-0.125f64).exp());
/// assert!((d.value - by_hand).abs() < 1e-12 * by_hand);
/// assert_eq!((d.mean_k_xx(), d.mean_k_yy()), (1.0, 1.0));
/// assert!((d.mean_k_xy() - (-0.125f64).exp()).abs() < 1e-15);
///
/// // A set against itself: 0.
/// let same = cmmd(y.view(), y.view(), &CmmdOptions::default())?;
/// assert_eq!(same.value, 0.0);
///
/// // The two sets must have the same embedding dimension.
/// let wide = array![[1.0, 0.0, 0.0]];
/// assert!(cmmd(x.view(), wide.view(), &CmmdOptions::default()).is_err());
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
pub fn cmmd(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>, options: &CmmdOptions) -> Result<Cmmd> {
    const FIRST: &str = "CMMD first embedding set";
    const SECOND: &str = "CMMD second embedding set";
    let dim = x.ncols();
    if y.ncols() != dim {
        return Err(MetricsError::DimensionMismatch {
            what: "CMMD embedding dimension",
            left: dim,
            right: y.ncols(),
        });
    }
    for (what, rows) in [(FIRST, x.nrows()), (SECOND, y.nrows())] {
        if rows == 0 {
            return Err(MetricsError::TooFewSamples {
                what,
                needed: 1,
                got: 0,
            });
        }
    }
    if dim == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "features",
            reason: "CMMD needs at least one embedding column".to_owned(),
        });
    }
    for (name, value) in [("sigma", options.sigma), ("scale", options.scale)] {
        if !(value > 0.0 && value.is_finite()) {
            return Err(MetricsError::InvalidParameter {
                name,
                reason: format!("must be positive and finite, got {value}"),
            });
        }
    }
    if options.block_rows == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "block_rows",
            reason: "a kernel tile needs at least one row".to_owned(),
        });
    }
    ensure_finite_matrix(FIRST, x)?;
    ensure_finite_matrix(SECOND, y)?;
    let x = EmbeddingSet::new(FIRST, x)?;
    let y = EmbeddingSet::new(SECOND, y)?;

    // 1 / (2σ²) as the reference writes it: 1 / (2 * 10**2) = 0.005.
    let gamma = 1.0 / (2.0 * (options.sigma * options.sigma));
    let block = options.block_rows;
    let (n, m) = (x.len() as f64, y.len() as f64);
    let xx = kernel_sum_minus_one(&x, &x, gamma, block, Pairs::Within) / (n * n);
    let yy = kernel_sum_minus_one(&y, &y, gamma, block, Pairs::Within) / (m * m);
    let xy = kernel_sum_minus_one(&x, &y, gamma, block, Pairs::Across) / (n * m);
    Ok(Cmmd {
        value: options.scale * ((xx + yy) - 2.0 * xy),
        mean_xx_minus_one: xx,
        mean_yy_minus_one: yy,
        mean_xy_minus_one: xy,
    })
}

/// The rows of one set with their squared norms `‖a‖²`.
struct EmbeddingSet<'a> {
    rows: ArrayView2<'a, f64>,
    squared_norms: Vec<f64>,
}

impl<'a> EmbeddingSet<'a> {
    /// Refuses a row whose squared norm exceeds `f64::MAX / 4`: below that
    /// bound `(−2 a·b + ‖a‖²) + ‖b‖²` cannot overflow (|a·b| ≤ ‖a‖‖b‖), so
    /// every kernel value is a number.
    fn new(what: &'static str, rows: ArrayView2<'a, f64>) -> Result<Self> {
        let squared_norms: Vec<f64> = rows.outer_iter().map(|row| row.dot(&row)).collect();
        if let Some(row) = squared_norms.iter().position(|&v| v > f64::MAX / 4.0) {
            return Err(MetricsError::InvalidParameter {
                name: what,
                reason: format!(
                    "row {row} is too large for float64 distances (squared norm {:e}); \
                     rescale the embeddings",
                    squared_norms[row]
                ),
            });
        }
        Ok(Self {
            rows,
            squared_norms,
        })
    }

    fn len(&self) -> usize {
        self.rows.nrows()
    }
}

/// Which pairs a kernel sum runs over.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pairs {
    /// A set with itself: symmetric, so only tiles on and above the
    /// diagonal are computed and those above count twice.
    Within,
    /// Two different sets: every tile.
    Across,
}

/// `Σ_{i,j} expm1(−γ ‖a_i − b_j‖²)` over all pairs, by tiles of `block`
/// rows of `a` × `block` rows of `b`, summed in a fixed order (see the
/// module docs).
fn kernel_sum_minus_one(
    a: &EmbeddingSet<'_>,
    b: &EmbeddingSet<'_>,
    gamma: f64,
    block: usize,
    pairs: Pairs,
) -> f64 {
    let (n, m) = (a.len(), b.len());
    let tile_shape = (block.min(n), block.min(m));
    let row_starts: Vec<usize> = (0..n).step_by(block).collect();
    let row_block_sums: Vec<f64> = row_starts
        .par_iter()
        .map(|&row_start| {
            let first_column = match pairs {
                Pairs::Within => row_start,
                Pairs::Across => 0,
            };
            let column_starts: Vec<usize> = (first_column..m).step_by(block).collect();
            let tile_sums: Vec<f64> = column_starts
                .par_iter()
                .map_init(
                    || Array2::<f64>::zeros(tile_shape),
                    |buffer, &column_start| {
                        let tile = Tile {
                            rows: row_start..(row_start + block).min(n),
                            columns: column_start..(column_start + block).min(m),
                        };
                        let on_diagonal = pairs == Pairs::Within && row_start == column_start;
                        let sum = tile.sum_minus_one(a, b, gamma, on_diagonal, buffer);
                        if pairs == Pairs::Within && !on_diagonal {
                            // The mirror tile below the diagonal.
                            2.0 * sum
                        } else {
                            sum
                        }
                    },
                )
                .collect();
            compensated_sum(&tile_sums)
        })
        .collect();
    compensated_sum(&row_block_sums)
}

/// Rows of `a` × rows of `b` whose kernel values one task sums.
struct Tile {
    rows: std::ops::Range<usize>,
    columns: std::ops::Range<usize>,
}

impl Tile {
    /// `Σ expm1(−γ d²)` over the tile; on a diagonal tile of a set with
    /// itself the `i = j` terms are exactly 0 (k = 1), as in the reference,
    /// where `d² = (−2‖a‖² + ‖a‖²) + ‖a‖²` from one product is exactly 0.
    fn sum_minus_one(
        &self,
        a: &EmbeddingSet<'_>,
        b: &EmbeddingSet<'_>,
        gamma: f64,
        on_diagonal: bool,
        buffer: &mut Array2<f64>,
    ) -> f64 {
        let mut dots = buffer.slice_mut(s![..self.rows.len(), ..self.columns.len()]);
        matmul_transpose_b_into_sequential(
            a.rows.slice(s![self.rows.clone(), ..]),
            b.rows.slice(s![self.columns.clone(), ..]),
            dots.view_mut(),
        );
        let column_norms = &b.squared_norms[self.columns.clone()];
        let mut sum = Compensated::default();
        for (i, row) in self.rows.clone().zip(dots.outer_iter()) {
            let row_norm = a.squared_norms[i];
            for ((j, &dot), &column_norm) in self.columns.clone().zip(row).zip(column_norms) {
                if on_diagonal && i == j {
                    continue;
                }
                let squared = (-2.0 * dot + row_norm) + column_norm;
                sum.add(kernel_minus_one(-gamma * squared));
            }
        }
        sum.value()
    }
}

/// `|x|` up to which [`kernel_minus_one`] uses its series: CLIP
/// embeddings are L2-normalised, so at σ = 10 every exponent lies in
/// `[−0.02, 0]` (a hair above 0 from rounding).
const SERIES_LIMIT: f64 = 1.0 / 16.0;

/// `1/k!` for k = 10, 9, …, 2: the Taylor coefficients of `expm1` after
/// the linear one, highest first for Horner's scheme.
const INVERSE_FACTORIALS: [f64; 9] = [
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    1.0 / 2.0,
];

/// `expm1(x) = e^x − 1`, the kernel value less one for `x = −γd²`.
///
/// The platform's `expm1` is slow (glibc's is not one of its fast,
/// vectorised functions): measured here, 128 ns a call against 4.7 ns for
/// this series with the compensated sum, and ~19 ns for the share of a
/// 1024 × 1024 × 768 Gram product that one kernel value needs; with the
/// library call CMMD of 4096 × 768 against 4096 × 768 took 5.6 s, with
/// the series 0.95 s, the same value. For `|x| ≤ 1/16` (all
/// CLIP pairs) the Taylor series to `x¹⁰/10!` is used instead: the first
/// term left out is below `2⁻⁶⁰ |x|`, and Horner's scheme in IEEE
/// multiplications and additions (no fused multiply-add, so every
/// platform gives the same bits) stays within ~1.5 ulp of the exact value
/// (the tests compare it with `f64::exp_m1`). Larger `|x|` keep the
/// library's `expm1`.
#[inline]
fn kernel_minus_one(x: f64) -> f64 {
    if x.abs() <= SERIES_LIMIT {
        let mut p = INVERSE_FACTORIALS[0];
        for &c in &INVERSE_FACTORIALS[1..] {
            p = p * x + c;
        }
        (p * x + 1.0) * x
    } else {
        x.exp_m1()
    }
}

/// Neumaier's compensated sum: the rounding error of every addition is
/// carried separately, so the total is accurate to about one rounding
/// whatever the number of terms (2.5e9 for 50,000 × 50,000).
#[derive(Debug, Default, Clone, Copy)]
struct Compensated {
    sum: f64,
    carry: f64,
}

impl Compensated {
    fn add(&mut self, term: f64) {
        let total = self.sum + term;
        self.carry += if self.sum.abs() >= term.abs() {
            (self.sum - total) + term
        } else {
            (term - total) + self.sum
        };
        self.sum = total;
    }

    fn value(self) -> f64 {
        self.sum + self.carry
    }
}

/// The compensated sum of `terms` in order.
fn compensated_sum(terms: &[f64]) -> f64 {
    let mut sum = Compensated::default();
    for &term in terms {
        sum.add(term);
    }
    sum.value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::fixtures::features;
    use ndarray::array;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }

    /// Rows drawn uniformly in `[shift, shift + 1)^d`, then L2-normalised,
    /// as CLIP embeddings are.
    fn normalised(seed: u64, n: usize, d: usize, shift: f64) -> Array2<f64> {
        let mut x = features(seed, n, d, 1.0, shift - 0.5);
        for mut row in x.outer_iter_mut() {
            let norm = row.dot(&row).sqrt();
            row.mapv_inplace(|v| v / norm);
        }
        x
    }

    /// The reference's formula with dense kernel matrices and plain `exp`,
    /// written out pair by pair.
    fn dense(x: &Array2<f64>, y: &Array2<f64>, sigma: f64, scale: f64) -> [f64; 4] {
        let gamma = 1.0 / (2.0 * sigma * sigma);
        let mean = |a: &Array2<f64>, b: &Array2<f64>| {
            let mut sum = 0.0;
            for ra in a.outer_iter() {
                for rb in b.outer_iter() {
                    let squared = -2.0 * ra.dot(&rb) + ra.dot(&ra) + rb.dot(&rb);
                    sum += (-gamma * squared).exp();
                }
            }
            sum / (a.nrows() * b.nrows()) as f64
        };
        let (xx, yy, xy) = (mean(x, x), mean(y, y), mean(x, y));
        [scale * (xx + yy - 2.0 * xy), xx, yy, xy]
    }

    #[test]
    fn equals_a_dense_implementation() {
        for (sigma, scale, shift) in [(SIGMA, SCALE, 0.3), (0.7, 1.0, 0.05)] {
            let x = normalised(1, 40, 16, 0.0);
            let y = normalised(2, 31, 16, shift);
            let options = CmmdOptions {
                sigma,
                scale,
                block_rows: 8,
            };
            let got = cmmd(x.view(), y.view(), &options).unwrap();
            let [value, xx, yy, xy] = dense(&x, &y, sigma, scale);
            assert!(got.value > 0.0);
            // The dense sums carry ~1e-16 per term on means near 1, which
            // the cancellation turns into ~1e-12 of the value.
            assert!(rel(got.value, value) < 1e-9, "{} vs {value}", got.value);
            assert!((got.mean_k_xx() - xx).abs() < 1e-14, "{got:?}");
            assert!((got.mean_k_yy() - yy).abs() < 1e-14, "{got:?}");
            assert!((got.mean_k_xy() - xy).abs() < 1e-14, "{got:?}");
        }
    }

    #[test]
    fn small_case_by_hand() {
        // x = {0, 1}, y = {3} in one dimension. Squared distances: 1 within
        // x, 9 and 4 across. With γ = 1/(2σ²):
        //   mean K_xx − 1 = 2·expm1(−γ)/4, mean K_yy − 1 = 0,
        //   mean K_xy − 1 = (expm1(−9γ) + expm1(−4γ))/2.
        let x = array![[0.0], [1.0]];
        let y = array![[3.0]];
        for (sigma, scale, expected) in [
            // 1000 · (expm1(−0.005)/2 − expm1(−0.045) − expm1(−0.02)), and
            // with σ = 0.5 (γ = 2) and scale 1: expm1(−2)/2 − expm1(−18) −
            // expm1(−8), both from mpmath at 30 digits.
            (10.0, 1000.0, 61.310_084_456_485_947),
            (0.5, 1.0, 1.567_332_163_760_424),
        ] {
            let gamma = 1.0 / (2.0 * sigma * sigma);
            let options = CmmdOptions {
                sigma,
                scale,
                ..CmmdOptions::default()
            };
            let got = cmmd(x.view(), y.view(), &options).unwrap();
            assert!(
                rel(got.value, expected) < 1e-14,
                "{} vs {expected}",
                got.value
            );
            assert!(rel(got.mean_xx_minus_one, (-gamma).exp_m1() / 2.0) < 1e-15);
            assert_eq!(got.mean_yy_minus_one, 0.0);
            let xy = ((-9.0 * gamma).exp_m1() + (-4.0 * gamma).exp_m1()) / 2.0;
            assert!(rel(got.mean_xy_minus_one, xy) < 1e-15);
        }
    }

    #[test]
    fn identical_sets_give_zero() {
        let x = normalised(3, 57, 12, 0.0);
        let got = cmmd(x.view(), x.view(), &CmmdOptions::default()).unwrap();
        // K_xx and K_yy are summed alike; K_xy's tiles are the full ones,
        // so only rounding is left.
        assert!(got.value.abs() < 1e-12, "{got:?}");
        assert_eq!(got.mean_xx_minus_one, got.mean_yy_minus_one);
        let copy = x.clone();
        let got = cmmd(x.view(), copy.view(), &CmmdOptions::default()).unwrap();
        assert!(got.value.abs() < 1e-12, "{got:?}");
    }

    #[test]
    fn symmetric_in_its_arguments() {
        let x = normalised(4, 45, 10, 0.0);
        let y = normalised(5, 33, 10, 0.4);
        let options = CmmdOptions {
            block_rows: 16,
            ..CmmdOptions::default()
        };
        let xy = cmmd(x.view(), y.view(), &options).unwrap();
        let yx = cmmd(y.view(), x.view(), &options).unwrap();
        assert!(rel(xy.value, yx.value) < 1e-13, "{xy:?} vs {yx:?}");
        assert_eq!(xy.mean_xx_minus_one, yx.mean_yy_minus_one);
        assert!(rel(xy.mean_xy_minus_one, yx.mean_xy_minus_one) < 1e-14);
    }

    #[test]
    fn block_size_does_not_change_the_value() {
        let x = normalised(6, 70, 12, 0.0);
        let y = normalised(7, 53, 12, 0.2);
        let with_block = |block_rows| {
            let options = CmmdOptions {
                block_rows,
                ..CmmdOptions::default()
            };
            cmmd(x.view(), y.view(), &options).unwrap()
        };
        let whole = with_block(DEFAULT_BLOCK_ROWS);
        // One tile per sum, tiles smaller than either set, uneven edges,
        // one row per tile.
        for block in [1, 7, 16, 53, 69, 70, 71] {
            let got = with_block(block);
            assert!(
                rel(got.value, whole.value) < 1e-13,
                "block {block}: {got:?} vs {whole:?}"
            );
            assert!(rel(got.mean_xy_minus_one, whole.mean_xy_minus_one) < 1e-14);
        }
    }

    #[test]
    fn thread_count_does_not_change_a_bit() {
        let x = normalised(8, 150, 24, 0.0);
        let y = normalised(9, 130, 24, 0.1);
        let options = CmmdOptions {
            block_rows: 32,
            ..CmmdOptions::default()
        };
        let in_pool = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| cmmd(x.view(), y.view(), &options).unwrap())
        };
        let one = in_pool(1);
        for threads in [2, 3, 8] {
            assert_eq!(in_pool(threads), one, "{threads} threads");
        }
    }

    #[test]
    fn different_set_sizes_and_strided_views() {
        // A transposed (column-major) view and a set of one row.
        let x = normalised(10, 20, 6, 0.0);
        let y_t = normalised(11, 6, 9, 0.2);
        let y = y_t.t();
        let got = cmmd(x.view(), y, &CmmdOptions::default()).unwrap();
        let [value, ..] = dense(&x, &y.to_owned(), SIGMA, SCALE);
        assert!(rel(got.value, value) < 1e-9, "{} vs {value}", got.value);
        let one = x.slice(s![..1, ..]);
        let got = cmmd(one, x.view(), &CmmdOptions::default()).unwrap();
        let [value, ..] = dense(&one.to_owned(), &x, SIGMA, SCALE);
        assert!(rel(got.value, value) < 1e-9, "{} vs {value}", got.value);
    }

    #[test]
    fn rises_as_the_sets_move_apart() {
        let x = normalised(12, 60, 16, 0.0);
        let values: Vec<f64> = [0.0, 0.1, 0.3, 1.0]
            .iter()
            .map(|&shift| {
                let y = normalised(13, 60, 16, shift);
                cmmd(x.view(), y.view(), &CmmdOptions::default())
                    .unwrap()
                    .value
            })
            .collect();
        assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
    }

    #[test]
    fn series_agrees_with_the_library_expm1() {
        // 2·10⁶ exponents across the series' range (both signs: rounding
        // can make −γd² a hair positive), its edges, tiny values and the
        // library's side of the limit.
        let mut worst: f64 = 0.0;
        let steps = 1_000_000;
        let mut check = |x: f64| {
            let (got, want) = (kernel_minus_one(x), x.exp_m1());
            if want != 0.0 {
                worst = worst.max((got - want).abs() / want.abs());
            } else {
                assert_eq!(got, 0.0);
            }
        };
        for i in 0..=steps {
            let x = SERIES_LIMIT * i as f64 / steps as f64;
            check(x);
            check(-x);
        }
        for x in [1e-300, 1e-30, 1e-9, 0.005, 0.02, SERIES_LIMIT] {
            check(x);
            check(-x);
        }
        assert!(worst <= 2.5 * f64::EPSILON, "{worst:e}");
        for x in [-SERIES_LIMIT * 1.0001, -0.5, -3.0, -800.0] {
            assert_eq!(kernel_minus_one(x), x.exp_m1());
        }
        assert_eq!(kernel_minus_one(f64::NEG_INFINITY), -1.0);
    }

    #[test]
    fn bad_inputs_are_named() {
        let x = Array2::<f64>::zeros((3, 4));
        let ok = CmmdOptions::default();
        assert_eq!(
            cmmd(x.view(), Array2::<f64>::zeros((3, 5)).view(), &ok),
            Err(MetricsError::DimensionMismatch {
                what: "CMMD embedding dimension",
                left: 4,
                right: 5
            })
        );
        assert_eq!(
            cmmd(x.view(), Array2::<f64>::zeros((0, 4)).view(), &ok),
            Err(MetricsError::TooFewSamples {
                what: "CMMD second embedding set",
                needed: 1,
                got: 0
            })
        );
        assert!(matches!(
            cmmd(Array2::<f64>::zeros((0, 4)).view(), x.view(), &ok),
            Err(MetricsError::TooFewSamples {
                what: "CMMD first embedding set",
                ..
            })
        ));
        let no_columns = Array2::<f64>::zeros((3, 0));
        assert!(matches!(
            cmmd(no_columns.view(), no_columns.view(), &ok),
            Err(MetricsError::InvalidParameter {
                name: "features",
                ..
            })
        ));

        let mut bad = x.clone();
        bad[[2, 1]] = f64::NAN;
        let error = cmmd(x.view(), bad.view(), &ok).unwrap_err();
        assert!(matches!(
            error,
            MetricsError::NonFinite {
                what: "CMMD second embedding set",
                row: 2,
                column: 1,
                ..
            }
        ));

        for (options, name) in [
            (CmmdOptions { sigma: 0.0, ..ok }, "sigma"),
            (CmmdOptions { sigma: -1.0, ..ok }, "sigma"),
            (
                CmmdOptions {
                    sigma: f64::NAN,
                    ..ok
                },
                "sigma",
            ),
            (
                CmmdOptions {
                    sigma: f64::INFINITY,
                    ..ok
                },
                "sigma",
            ),
            (CmmdOptions { scale: 0.0, ..ok }, "scale"),
            (
                CmmdOptions {
                    scale: f64::INFINITY,
                    ..ok
                },
                "scale",
            ),
            (
                CmmdOptions {
                    block_rows: 0,
                    ..ok
                },
                "block_rows",
            ),
        ] {
            match cmmd(x.view(), x.view(), &options) {
                Err(MetricsError::InvalidParameter { name: got, reason }) => {
                    assert_eq!(got, name, "{reason}")
                }
                other => panic!("{options:?}: {other:?}"),
            }
        }

        let mut huge = x.clone();
        huge[[1, 3]] = 1e160;
        let error = cmmd(huge.view(), x.view(), &ok).unwrap_err();
        assert!(error.to_string().contains("row 1 is too large"), "{error}");
        // Large but representable distances are fine: every kernel value
        // underflows to 0.
        huge[[1, 3]] = 1e150;
        let got = cmmd(huge.view(), x.view(), &ok).unwrap();
        assert!(got.value.is_finite() && got.value > 0.0, "{got:?}");
    }
}
