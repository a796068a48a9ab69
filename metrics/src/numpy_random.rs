//! numpy's legacy `np.random.RandomState(seed)`, bit for bit, for the draws
//! torch-fidelity makes.
//!
//! # Why
//!
//! torch-fidelity 0.4 shuffles Inception Score samples with
//! `np.random.RandomState(2020).permutation(N)` and draws every KID subset with
//! `rng.choice(n, m, replace=False)` from one `RandomState(2020)`. A different
//! permutation moves the IS split boundaries and a different subset changes
//! every KID value, so matching torch-fidelity's numbers exactly needs exactly
//! numpy's stream, not just "a" Mersenne Twister shuffle.
//!
//! # What is reproduced (numpy 1.17+ `mtrand.pyx`, `_mt19937.pyx`,
//! `src/mt19937/mt19937.{c,h}`, `src/distributions/distributions.c`)
//!
//! * **Seeding**: `RandomState(int)` calls `_legacy_seeding`, which for an
//!   integer in `[0, 2^32)` runs `mt19937_seed`: Knuth's initialiser
//!   `mt[0] = seed; mt[i] = 1812433253 * (mt[i-1] ^ (mt[i-1] >> 30)) + i`
//!   (mod 2^32), i.e. the reference `init_genrand`, not `init_by_array`.
//! * **Raw draws**: MT19937 `genrand_int32` with the standard tempering.
//!   A 64-bit draw is two 32-bit draws, the first one in the high word
//!   (`mt19937_next64`; confirmed against numpy below).
//! * **`random_interval(max)`**: a value in `[0, max]` by masking with the
//!   smallest all-ones mask `>= max` and rejecting values `> max`; 32-bit
//!   draws when `max <= 0xffff_ffff`, 64-bit draws otherwise.
//! * **`shuffle`** of a 1-D array (`_shuffle_raw`): for `i` from `n-1` down
//!   to `1`, swap element `i` with element `random_interval(i)`.
//! * **`permutation(n)`**: `arange(n)` then `shuffle`.
//! * **`choice(n, k, replace=False)`** with `p=None`: `permutation(n)[:k]`
//!   (the whole permutation is drawn, so the stream advances by a full
//!   shuffle of `n` whatever `k` is).
//!
//! * **`random_sample()`** (`random_standard_uniform`, `genrand_res53`): a
//!   double in `[0, 1)` from two 32-bit draws, `a = first >> 5`,
//!   `b = second >> 6`, `(a * 2^26 + b) / 2^53`. geneval's built-in feature
//!   network draws its weights with it, so that a Python script can rebuild
//!   the same weights with numpy.
//!
//! Only these are implemented; Gaussians and `randint` (which uses a
//! buffered variant for small dtypes) are not needed.

/// Number of 32-bit words in the MT19937 state.
const STATE_LEN: usize = 624;
/// MT19937 shift offset `M`.
const SHIFT: usize = 397;
/// MT19937 twist matrix constant.
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// numpy's legacy `np.random.RandomState`, restricted to the draws geneval
/// makes (see the module documentation for the algorithms).
///
/// # Examples
///
/// torch-fidelity's Inception Score shuffle, as numpy draws it:
///
/// ```
/// use geneval_metrics::numpy_random::RandomState;
///
/// // python -c "import numpy as np; print(np.random.RandomState(2020).permutation(10).tolist())"
/// let order = RandomState::new(2020).permutation(10);
/// assert_eq!(order, [2, 4, 9, 1, 5, 7, 6, 3, 8, 0]);
/// ```
#[derive(Clone)]
pub struct RandomState {
    key: [u32; STATE_LEN],
    pos: usize,
}

impl std::fmt::Debug for RandomState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RandomState")
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl RandomState {
    /// `np.random.RandomState(seed)` for an integer seed: MT19937 seeded with
    /// the reference `init_genrand` (numpy's `mt19937_seed`).
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::numpy_random::RandomState;
    ///
    /// // The same seed gives the same stream.
    /// let (mut a, mut b) = (RandomState::new(7), RandomState::new(7));
    /// assert_eq!(a.next_u32(), b.next_u32());
    /// ```
    pub fn new(seed: u32) -> Self {
        let mut key = [0u32; STATE_LEN];
        key[0] = seed;
        for i in 1..STATE_LEN {
            let prev = key[i - 1];
            key[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Self {
            key,
            pos: STATE_LEN,
        }
    }

    /// Regenerates all 624 words of the state (the MT19937 "twist").
    fn twist(&mut self) {
        let mix = |upper: u32, lower: u32, far: u32| {
            let y = (upper & UPPER_MASK) | (lower & LOWER_MASK);
            far ^ (y >> 1) ^ if y & 1 == 1 { MATRIX_A } else { 0 }
        };
        for i in 0..STATE_LEN {
            let next = self.key[(i + 1) % STATE_LEN];
            let far = self.key[(i + SHIFT) % STATE_LEN];
            self.key[i] = mix(self.key[i], next, far);
        }
        self.pos = 0;
    }

    /// One tempered 32-bit output: MT19937 `genrand_int32`, numpy's
    /// `next_uint32` for the MT19937 bit generator.
    ///
    /// # Examples
    ///
    /// The first outputs of the reference MT19937 with its default seed:
    ///
    /// ```
    /// use geneval_metrics::numpy_random::RandomState;
    ///
    /// // np.random.RandomState(5489).randint(0, 2**32, size=3, dtype=np.uint32)
    /// let mut rng = RandomState::new(5489);
    /// let first: Vec<u32> = (0..3).map(|_| rng.next_u32()).collect();
    /// assert_eq!(first, [3499211612, 581869302, 3890346734]);
    /// ```
    pub fn next_u32(&mut self) -> u32 {
        if self.pos == STATE_LEN {
            self.twist();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// numpy's `next_uint64` for MT19937: `(first << 32) | second`.
    fn next_u64(&mut self) -> u64 {
        let hi = u64::from(self.next_u32());
        let lo = u64::from(self.next_u32());
        (hi << 32) | lo
    }

    /// A uniform integer in `[0, max]` (inclusive), numpy's legacy
    /// `random_interval`: mask rejection with the smallest all-ones mask
    /// covering `max`, using 32-bit draws when `max` fits in 32 bits and
    /// 64-bit draws otherwise. `max == 0` consumes no draw.
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::numpy_random::RandomState;
    ///
    /// // np.random.RandomState(0).randint(0, 11, size=5, dtype=np.uint32)
    /// let mut rng = RandomState::new(0);
    /// let draws: Vec<u64> = (0..5).map(|_| rng.random_interval(10)).collect();
    /// assert_eq!(draws, [5, 0, 3, 3, 7]);
    /// ```
    pub fn random_interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> max.leading_zeros();
        if max <= u64::from(u32::MAX) {
            loop {
                let value = u64::from(self.next_u32()) & mask;
                if value <= max {
                    return value;
                }
            }
        } else {
            loop {
                let value = self.next_u64() & mask;
                if value <= max {
                    return value;
                }
            }
        }
    }

    /// A uniform double in `[0, 1)`, numpy's legacy `random_sample()`
    /// (`random_standard_uniform`, i.e. MT19937 `genrand_res53`): 27 high
    /// bits of one draw and 26 of the next make a 53-bit integer, divided
    /// by `2^53`. Every value is exact in f64, so the result equals numpy's
    /// bit for bit.
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::numpy_random::RandomState;
    ///
    /// // np.random.RandomState(2015).random_sample(2)
    /// let mut rng = RandomState::new(2015);
    /// assert_eq!(rng.random_sample(), 0.7375952275959086);
    /// assert_eq!(rng.random_sample(), 0.5175715481747596);
    /// ```
    pub fn random_sample(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// In-place shuffle as numpy's legacy `RandomState.shuffle` of a 1-D
    /// array: for `i` from `n-1` down to `1`, swap items `i` and
    /// `random_interval(i)`.
    ///
    /// # Examples
    ///
    /// Shuffling items moves them as [`permutation`](Self::permutation)
    /// orders indices:
    ///
    /// ```
    /// use geneval_metrics::numpy_random::RandomState;
    ///
    /// let mut items = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    /// RandomState::new(2020).shuffle(&mut items);
    /// assert_eq!(items, ['c', 'e', 'j', 'b', 'f', 'h', 'g', 'd', 'i', 'a']);
    /// ```
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            // An index of a slice always fits in u64 and the draw is <= i.
            let j = self.random_interval(i as u64) as usize;
            items.swap(i, j);
        }
    }

    /// `RandomState.permutation(n)`: `arange(n)` shuffled in place.
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::numpy_random::RandomState;
    ///
    /// // np.random.RandomState(2**32 - 1).permutation(7)
    /// assert_eq!(RandomState::new(u32::MAX).permutation(7), [1, 5, 0, 6, 4, 2, 3]);
    /// ```
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut items: Vec<usize> = (0..n).collect();
        self.shuffle(&mut items);
        items
    }

    /// `RandomState.choice(n, k, replace=False)` with `p=None`, which numpy
    /// computes as `permutation(n)[:k]`: a full shuffle of `n` is drawn even
    /// when `k` is small. `k` is clamped to `n` (numpy raises instead;
    /// callers validate sizes before drawing).
    ///
    /// # Examples
    ///
    /// Successive draws from one generator, as torch-fidelity's KID loop
    /// draws a subset of each side:
    ///
    /// ```
    /// use geneval_metrics::numpy_random::RandomState;
    ///
    /// // r = np.random.RandomState(7); r.choice(12, 4, replace=False); r.choice(9, 4, replace=False)
    /// let mut rng = RandomState::new(7);
    /// assert_eq!(rng.choice_without_replacement(12, 4), [7, 10, 2, 5]);
    /// assert_eq!(rng.choice_without_replacement(9, 4), [1, 2, 5, 3]);
    /// ```
    pub fn choice_without_replacement(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut items = self.permutation(n);
        items.truncate(k);
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_draws_match_reference_mt19937() {
        // The reference MT19937 default seed 5489:
        // python -c "import numpy as np; print(np.random.RandomState(5489).randint(0, 2**32, size=5, dtype=np.uint32).tolist())"
        let mut rng = RandomState::new(5489);
        let got: Vec<u32> = (0..5).map(|_| rng.next_u32()).collect();
        assert_eq!(
            got,
            [3499211612, 581869302, 3890346734, 3586334585, 545404204]
        );
    }

    #[test]
    fn raw_draws_cross_the_state_regeneration() {
        // python -c "import numpy as np; r=np.random.RandomState(0); print(r.randint(0, 2**32, size=3, dtype=np.uint32).tolist())"
        let mut rng = RandomState::new(0);
        let first: Vec<u32> = (0..3).map(|_| rng.next_u32()).collect();
        assert_eq!(first, [2357136044, 2546248239, 3071714933]);
        // python -c "import numpy as np; r=np.random.RandomState(0); print(r.randint(0, 2**32, size=626, dtype=np.uint32)[623:].tolist())"
        for _ in 3..623 {
            rng.next_u32();
        }
        let around: Vec<u32> = (0..3).map(|_| rng.next_u32()).collect();
        assert_eq!(around, [3791854820, 341544762, 1076416385]);
    }

    #[test]
    fn random_interval_32_bit_matches_masked_randint() {
        // Legacy randint with dtype=uint32 uses the same mask rejection on
        // 32-bit draws, so randint(0, max+1) == random_interval(max):
        // python -c "import numpy as np; print(np.random.RandomState(0).randint(0, 11, size=8, dtype=np.uint32).tolist())"
        let mut rng = RandomState::new(0);
        let got: Vec<u64> = (0..8).map(|_| rng.random_interval(10)).collect();
        assert_eq!(got, [5, 0, 3, 3, 7, 9, 3, 5]);
        // python -c "import numpy as np; print(np.random.RandomState(42).randint(0, 2**31+1, size=4, dtype=np.uint32).tolist())"
        let mut rng = RandomState::new(42);
        let got: Vec<u64> = (0..4).map(|_| rng.random_interval(1 << 31)).collect();
        assert_eq!(got, [1608637542, 787846414, 670094950, 1914837113]);
    }

    #[test]
    fn random_interval_64_bit_takes_high_word_first() {
        // Legacy randint with dtype=uint64 and a range above 2^32 masks
        // next_uint64, so this pins the word order of a 64-bit draw (the
        // other order would give 6652103340 first):
        // python -c "import numpy as np; print(np.random.RandomState(0).randint(0, 2**33, size=3, dtype=np.uint64).tolist())"
        let mut rng = RandomState::new(0);
        let got: Vec<u64> = (0..3).map(|_| rng.random_interval((1 << 33) - 1)).collect();
        assert_eq!(got, [2546248239, 7921061056, 7979815675]);
    }

    #[test]
    fn random_interval_zero_draws_nothing() {
        let mut a = RandomState::new(1);
        let mut b = RandomState::new(1);
        assert_eq!(a.random_interval(0), 0);
        assert_eq!(a.next_u32(), b.next_u32());
    }

    #[test]
    fn permutation_matches_numpy() {
        // python -c "import numpy as np; print(np.random.RandomState(2020).permutation(10).tolist())"
        assert_eq!(
            RandomState::new(2020).permutation(10),
            [2, 4, 9, 1, 5, 7, 6, 3, 8, 0]
        );
        // python -c "import numpy as np; print(np.random.RandomState(2**32-1).permutation(7).tolist())"
        assert_eq!(
            RandomState::new(u32::MAX).permutation(7),
            [1, 5, 0, 6, 4, 2, 3]
        );
        // python -c "import numpy as np; p=np.random.RandomState(123).permutation(1000); print(p[:8].tolist(), p[-3:].tolist())"
        let p = RandomState::new(123).permutation(1000);
        assert_eq!(p[..8], [131, 203, 50, 585, 138, 632, 328, 461]);
        assert_eq!(p[997..], [382, 365, 510]);
    }

    #[test]
    fn permutation_of_zero_and_one() {
        assert!(RandomState::new(0).permutation(0).is_empty());
        assert_eq!(RandomState::new(0).permutation(1), [0]);
    }

    #[test]
    fn choice_without_replacement_matches_numpy() {
        // python -c "import numpy as np; print(np.random.RandomState(0).choice(1000, 5, replace=False).tolist())"
        assert_eq!(
            RandomState::new(0).choice_without_replacement(1000, 5),
            [993, 859, 298, 553, 672]
        );
        // Successive calls on one generator, as torch-fidelity's KID loop does:
        // python -c "import numpy as np; r=np.random.RandomState(7); print(r.choice(12,4,replace=False).tolist(), r.choice(9,4,replace=False).tolist(), r.choice(12,4,replace=False).tolist())"
        let mut rng = RandomState::new(7);
        assert_eq!(rng.choice_without_replacement(12, 4), [7, 10, 2, 5]);
        assert_eq!(rng.choice_without_replacement(9, 4), [1, 2, 5, 3]);
        assert_eq!(rng.choice_without_replacement(12, 4), [2, 8, 1, 9]);
    }

    #[test]
    fn random_sample_matches_numpy() {
        // python -c "import numpy as np; r=np.random.RandomState(2015); print(r.random_sample(5).tolist())"
        let mut rng = RandomState::new(2015);
        let got: Vec<f64> = (0..5).map(|_| rng.random_sample()).collect();
        assert_eq!(
            got,
            [
                0.7375952275959086,
                0.5175715481747596,
                0.884189446294582,
                0.45172398549976034,
                0.9446760844936931
            ]
        );
        // Across the state regeneration (two words per draw, 624 words per state):
        // python -c "import numpy as np; x=np.random.RandomState(0).random_sample(700); print(x[310:313].tolist(), x[698:].tolist())"
        let mut rng = RandomState::new(0);
        let x: Vec<f64> = (0..700).map(|_| rng.random_sample()).collect();
        assert_eq!(
            x[310..313],
            [0.7705807485027762, 0.14694664540037505, 0.07952208258675575]
        );
        assert_eq!(x[698..], [0.5181498137911743, 0.8427768626848423]);
    }

    #[test]
    fn shuffle_is_permutation_applied() {
        let mut items: Vec<char> = "abcdefghij".chars().collect();
        RandomState::new(2020).shuffle(&mut items);
        let order = RandomState::new(2020).permutation(10);
        let expected: Vec<char> = order.iter().map(|&i| (b'a' + i as u8) as char).collect();
        assert_eq!(items, expected);
    }
}
