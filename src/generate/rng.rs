//! Counter-based randomness: every stream is a pure function of
//! `(seed, index, purpose)`, so images do not depend on the order or the
//! thread in which they are drawn.

/// splitmix64's finaliser: a bijective 64-bit mixer.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The key of one stream: `mix(seed ^ mix(mix(index) ^ purpose))`.
pub(crate) fn key(seed: u64, index: u64, purpose: u64) -> u64 {
    mix(seed ^ mix(mix(index.wrapping_add(0x9E37_79B9_7F4A_7C15)) ^ purpose))
}

/// A splitmix64 stream.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// The stream of `(seed, index, purpose)`.
    pub(crate) fn new(seed: u64, index: u64, purpose: u64) -> Self {
        Self {
            state: key(seed, index, purpose),
        }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Uniform in `[0, 1)` with 53 bits.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// A standard normal draw (Marsaglia's polar method with geneval's own
    /// logarithm, so the value is the same on every platform).
    pub(crate) fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * super::math::ln(s) / s).sqrt();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_pure_functions_of_their_key() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(1, 2, 3).next_u64()).collect();
        assert!(a.iter().all(|&x| x == a[0]));
        assert_ne!(Rng::new(1, 2, 3).next_u64(), Rng::new(1, 3, 3).next_u64());
        assert_ne!(Rng::new(1, 2, 3).next_u64(), Rng::new(1, 2, 4).next_u64());
        assert_ne!(Rng::new(1, 2, 3).next_u64(), Rng::new(2, 2, 3).next_u64());
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut rng = Rng::new(0, 0, 0);
        let n = 20_000;
        let draws: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
    }
}
