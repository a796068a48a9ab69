//! Exact k-nearest-neighbour distances over row blocks: the distance core
//! that [`prdc`](crate::prdc::prdc()) and
//! [`improved_precision_recall`](crate::prdc::improved_precision_recall())
//! share.
//!
//! [`nearest_distances`] makes one k-NN pass per set that keeps the `keep`
//! smallest distances of every sample, for the largest k asked for, so that
//! every metric family's radius comes from the same pass
//! ([`SmallestPerRow::radii`]). The pass over the real × fake distances that
//! counts ball memberships is in `neighbourhood`; both build their distances
//! from [`dot_products`], [`squared_norms`] and [`euclidean`] here.
//!
//! # Distances, exactly as the references compute them
//!
//! Distances are Euclidean in f64, computed the way scikit-learn's
//! `euclidean_distances` does (which the `prdc` package calls):
//! `d(x, y) = sqrt(max((−2·x·y + ‖x‖²) + ‖y‖², 0))` with `x·y` from a matrix
//! product, and the distance of a sample to itself set to exactly 0 (sklearn
//! zeroes that diagonal when both arguments are the same array). Comparisons
//! are made on these square-rooted distances, as the references do: `sqrt`
//! maps neighbouring doubles onto one value, so comparing squared distances
//! could turn a reference `false` into `true` on a near tie.
//!
//! The matrix product sums in a different order than numpy's BLAS or
//! torch's, so distances agree with the references to about 1e-15 relative,
//! not to the bit; a ball membership can only differ for a pair whose
//! distance equals a radius to that precision. Exact ties (integer-valued
//! or duplicated features, where every step is exact) follow the
//! references' operators, and the tests pin both.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2};
use rayon::prelude::*;

/// Rows of one block of dot products. A block holds at most
/// `BLOCK_ROWS × n` values (20 MB for n = 10 000); 256 rows keep each
/// matrix product large enough to run at full speed (512 or 1024 measured
/// no faster) while bounding memory per thread.
pub(crate) const BLOCK_ROWS: usize = 256;

/// Squared row norms `‖x‖²`, sklearn's `row_norms(x, squared=True)`.
pub(crate) fn squared_norms(x: ArrayView2<'_, f64>) -> Vec<f64> {
    x.outer_iter().map(|row| row.dot(&row)).collect()
}

/// The dot products `a · bᵀ` of the rows of `a` with the rows of `b`.
pub(crate) fn dot_products(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    let mut g = Array2::zeros((a.nrows(), b.nrows()));
    general_mat_mul(1.0, &a, &b.t(), 0.0, &mut g);
    g
}

/// Euclidean distance from `x` to `y` given `x·y` and the squared norms, in
/// the operation order of sklearn's f64 `euclidean_distances` for row `x`,
/// column `y`: `sqrt(max((−2·x·y + ‖x‖²) + ‖y‖², 0))`. (The order matters
/// to the last bit: swapping the two norms can move the result by an ulp.)
#[inline]
pub(crate) fn euclidean(dot: f64, own_norm: f64, other_norm: f64) -> f64 {
    let squared = (-2.0 * dot + own_norm) + other_norm;
    if squared < 0.0 {
        0.0
    } else {
        squared.sqrt()
    }
}

/// The `keep` smallest distances from each row of `x` to the rows of `x`,
/// the row itself counted at distance 0, from which
/// [`SmallestPerRow::radii`] reads the k-NN radius of every row for any
/// `k < keep`. Needs `x.nrows() >= keep`.
///
/// Distances are symmetric, so each block of rows is only measured against
/// itself and the rows after it (the upper triangle, about half the flops
/// of the full matrix); a distance above the diagonal block is offered both
/// to its row and to its column. Every ordered pair reaches its row exactly
/// once, and the `keep` smallest values of a fixed multiset do not depend
/// on the order of offers or merges, so threads cannot change the result.
/// Seen from its column, a pair reuses the dot product `xᵢ·x_c` where the
/// full matrix would use `x_c·xᵢ`; ndarray's kernel computes both with the
/// same products in the same order (bit-identical, which the block-size
/// tests check), and the norms are added in the column's own row order.
pub(crate) fn nearest_distances(
    x: ArrayView2<'_, f64>,
    norms: &[f64],
    keep: usize,
    block_rows: usize,
) -> SmallestPerRow {
    let n = x.nrows();
    let n_blocks = n.div_ceil(block_rows);
    (0..n_blocks)
        .into_par_iter()
        .fold(
            || SmallestPerRow::new(n, keep),
            |mut nearest, block| {
                let start = block * block_rows;
                let end = (start + block_rows).min(n);
                let g = dot_products(x.slice(s![start..end, ..]), x.slice(s![start.., ..]));
                for (row, dots) in (start..end).zip(g.outer_iter()) {
                    for (column, &dot) in (start..n).zip(dots) {
                        if column == row {
                            // sklearn zeroes the diagonal of a self-distance matrix.
                            nearest.offer(row, 0.0);
                            continue;
                        }
                        nearest.offer(row, euclidean(dot, norms[row], norms[column]));
                        if column >= end {
                            // The same pair seen from `column`, in its row's order.
                            nearest.offer(column, euclidean(dot, norms[column], norms[row]));
                        }
                    }
                }
                nearest
            },
        )
        .reduce(|| SmallestPerRow::new(n, keep), SmallestPerRow::merge)
}

/// The `keep` smallest values offered to each of `rows` rows, each row's
/// values sorted ascending (`+∞` until filled).
pub(crate) struct SmallestPerRow {
    keep: usize,
    values: Vec<f64>,
}

impl SmallestPerRow {
    fn new(rows: usize, keep: usize) -> Self {
        Self {
            keep,
            values: vec![f64::INFINITY; rows * keep],
        }
    }

    fn offer(&mut self, row: usize, value: f64) {
        let kept = &mut self.values[row * self.keep..(row + 1) * self.keep];
        let last = self.keep - 1;
        // `<`: an offer equal to the largest kept value leaves the kept
        // values unchanged, whichever copy is kept.
        if value < kept[last] {
            let at = kept.partition_point(|&v| v <= value);
            kept.copy_within(at..last, at + 1);
            kept[at] = value;
        }
    }

    fn merge(mut self, other: Self) -> Self {
        for (row, theirs) in other.values.chunks_exact(other.keep).enumerate() {
            for &value in theirs.iter().take_while(|v| v.is_finite()) {
                self.offer(row, value);
            }
        }
        self
    }

    /// The (k+1)-th smallest offer of each row (`k < keep`): the distance
    /// to the k-th nearest other row, as `prdc`'s
    /// `compute_nearest_neighbour_distances` and torch's `kthvalue(k + 1)`.
    /// The kept values are the `keep` smallest of the row's multiset of
    /// offers in ascending order, so this is the same double for every
    /// `keep > k`.
    pub(crate) fn radii(&self, k: usize) -> Vec<f64> {
        debug_assert!(k < self.keep, "radius k = {k} needs more than {k} kept");
        self.values
            .chunks_exact(self.keep)
            .map(|kept| kept[k])
            .collect()
    }
}

/// Feature sets for the k-NN tests of this crate.
#[cfg(test)]
pub(crate) mod fixtures {
    use ndarray::Array2;

    /// Deterministic features reproducible bit for bit in Python: a
    /// splitmix64 stream mapped to `[0, 1)` by its top 53 bits, then
    /// `scale · u + shift`.
    ///
    /// ```python
    /// def features(seed, n, d, scale=1.0, shift=0.0):
    ///     M = (1 << 64) - 1
    ///     s = seed & M
    ///     out = np.empty((n, d))
    ///     for i in range(n):
    ///         for j in range(d):
    ///             s = (s + 0x9E3779B97F4A7C15) & M
    ///             z = s
    ///             z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    ///             z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    ///             z ^= z >> 31
    ///             out[i, j] = scale * ((z >> 11) * 2.0**-53) + shift
    ///     return out
    /// ```
    pub(crate) fn features(seed: u64, n: usize, d: usize, scale: f64, shift: f64) -> Array2<f64> {
        let mut s = seed;
        Array2::from_shape_simple_fn((n, d), || {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            scale * ((z >> 11) as f64 * 2f64.powi(-53)) + shift
        })
    }

    pub(crate) fn column(values: &[f64]) -> Array2<f64> {
        Array2::from_shape_vec((values.len(), 1), values.to_vec()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::features;
    use super::*;

    #[test]
    fn radii_equal_sorting_full_rows() {
        let x = features(17, 41, 3, 1.0, 0.0);
        let norms = squared_norms(x.view());
        // The full matrix, as sklearn: row norm first, zero diagonal.
        let g = dot_products(x.view(), x.view());
        let full = Array2::from_shape_fn(g.dim(), |(i, j)| {
            if i == j {
                0.0
            } else {
                euclidean(g[[i, j]], norms[i], norms[j])
            }
        });
        for k in [1, 4, 40] {
            let expected: Vec<f64> = full
                .outer_iter()
                .map(|row| {
                    let mut row = row.to_vec();
                    row.sort_by(f64::total_cmp);
                    row[k]
                })
                .collect();
            // Keeping more than k + 1 values, as for two neighbourhood
            // sizes at once, gives the same radii.
            for keep in (k + 1)..=(k + 3).min(x.nrows()) {
                for block in [1, 5, 40, 41, 256] {
                    assert_eq!(
                        nearest_distances(x.view(), &norms, keep, block).radii(k),
                        expected,
                        "k={k} keep={keep} block={block}"
                    );
                }
            }
        }
    }
}
