//! Deterministic stand-in weights for the FID Inception network, with
//! exactly the layout of `pt_inception-2015-12-05-6726825d.pth`
//! ([`seeded_state_dict`]).
//!
//! # Why
//!
//! The real weights are a 91 MB download that tests and CI cannot make. A
//! state dict drawn from a seed exercises the same code, the graph builder
//! and every layer of the network, and is simple enough to draw identically
//! in Python (`tests/fixtures/inception/generate.py`), where pytorch-fid
//! itself runs it; the fixture records a SHA-256 of the tensors
//! ([`content_sha256`]) that both sides check.
//!
//! **Features made with these weights are not Inception features**; they
//! only have their shapes and a sane scale.
//!
//! # The draws
//!
//! Each tensor has its own stream, so the layout order does not matter:
//!
//! * `state = seed XOR fnv1a64(key)` (FNV-1a, 64 bit, over the key's UTF-8
//!   bytes: offset `0xcbf29ce484222325`, prime `0x100000001b3`);
//! * the `i`-th value (C order, `i = 1, 2, …`) is splitmix64's output for
//!   `state + i · 0x9E3779B97F4A7C15` (wrapping): `z ^= z >> 30;
//!   z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB;
//!   z ^= z >> 31`;
//! * `u = (z >> 40) as f32 / 2²³ − 1`, exactly a multiple of 2⁻²³ in
//!   `[-1, 1)`;
//! * the value is `u · a + b` in f32 (two roundings at most, no fused
//!   multiply-add), with `a` rounded from f64 to f32:
//!
//! | key | a | b |
//! |---|---|---|
//! | `*.conv.weight` `[out, in, kh, kw]` | `√(6 / (in·kh·kw))` (He-uniform) | 0 |
//! | `*.bn.weight` | 0.25 | 1 |
//! | `*.bn.bias` | 0.1 | 0 |
//! | `*.bn.running_mean` | 0.1 | 0 |
//! | `*.bn.running_var` | 0.25 | 1 |
//! | `fc.weight` `[1008, 2048]` | `8·√(3 / 2048)` | 0 |
//! | `fc.bias` | 0.5 | 0 |
//!
//! # Scale
//!
//! He-uniform convolutions keep the second moment of the activations
//! through the ReLUs, and batch-norm parameters near the identity keep it
//! there: on synthetic images every block's output has an RMS between 0.8
//! and 1.3, about half of it zero, from Conv2d_1a to Mixed_7c. On the
//! fixture's images the pool3 features average 0.3–0.5 and vary across
//! images by a fifth to a third of that, so the statistics and FID between
//! folders are well conditioned. No calibration on images is needed, so
//! nothing but the seed is stored. The batch-norm parameters are away from
//! the identity (γ and σ² in [0.75, 1.25], β and μ in [-0.1, 0.1)) so that
//! a mistake in folding them shows in the features. The classifier gain 8
//! spreads the logits by 3–4.5 units (softmax peaks of 0.4–0.8): the
//! Inception Score is not stuck at 1, though one class leads for every
//! image (about 1.06 on the fixture's folders).

use sha2::{Digest, Sha256};

use crate::networks::inception::expected_keys;
use crate::networks::{StateDict, TensorF32};

/// The seed of the committed fixture (`tests/fixtures/inception/`), whose
/// pytorch-fid and torch-fidelity numbers the tests compare with.
pub const DEFAULT_SEED: u64 = 2015;

/// FNV-1a, 64 bit.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// splitmix64: advances `state` and returns the next output.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` values `u` in `[-1, 1)` of the stream of `key` under `seed`.
pub fn uniform(seed: u64, key: &str, n: usize) -> Vec<f32> {
    let mut state = seed ^ fnv1a64(key.as_bytes());
    (0..n)
        .map(|_| (splitmix64(&mut state) >> 40) as f32 / 8_388_608.0 - 1.0)
        .collect()
}

/// The `(a, b)` of `u · a + b` for `key` of `shape` (see the module docs).
fn affine(key: &str, shape: &[usize]) -> (f32, f32) {
    if key.ends_with(".conv.weight") {
        let fan_in: usize = shape[1..].iter().product();
        (((6.0 / fan_in as f64).sqrt()) as f32, 0.0)
    } else if key == "fc.weight" {
        ((8.0 * (3.0 / shape[1] as f64).sqrt()) as f32, 0.0)
    } else if key == "fc.bias" {
        (0.5, 0.0)
    } else if key.ends_with(".bn.weight") || key.ends_with(".bn.running_var") {
        (0.25, 1.0)
    } else if key.ends_with(".bn.bias") || key.ends_with(".bn.running_mean") {
        (0.1, 0.0)
    } else {
        unreachable!("{key} is not in the FID Inception layout")
    }
}

/// The seeded stand-in for pytorch-fid's weights: every key of
/// [`expected_keys`] with its shape, values drawn as the module docs say.
pub fn seeded_state_dict(seed: u64) -> StateDict {
    expected_keys()
        .into_iter()
        .map(|(key, shape)| {
            let (a, b) = affine(&key, &shape);
            let n = shape.iter().product();
            let data = uniform(seed, &key, n)
                .into_iter()
                .map(|u| u * a + b)
                .collect();
            let tensor = TensorF32::new(shape, data).expect("n values fill the shape");
            (key, tensor)
        })
        .collect()
}

/// SHA-256 (hex) of a state dict's contents: for each key in sorted order,
/// its UTF-8 bytes, a zero byte, then its values as little-endian f32.
pub fn content_sha256(dict: &StateDict) -> String {
    let mut hasher = Sha256::new();
    let mut buffer = Vec::new();
    for (key, tensor) in dict {
        hasher.update(key.as_bytes());
        hasher.update([0u8]);
        buffer.clear();
        buffer.extend(tensor.data.iter().flat_map(|v| v.to_le_bytes()));
        hasher.update(&buffer);
    }
    crate::networks::download::hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_outputs() {
        // Vigna's splitmix64.c seeded with 0: the first three outputs.
        let mut state = 0u64;
        let first: Vec<u64> = (0..3).map(|_| splitmix64(&mut state)).collect();
        assert_eq!(
            first,
            [
                0xe220_a839_7b1d_cdaf,
                0x6e78_9e6a_a1b9_65f4,
                0x06c4_5d18_8009_454f
            ]
        );
    }

    #[test]
    fn fnv1a64_matches_the_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn uniform_values_are_exact_multiples_in_range() {
        let u = uniform(7, "fc.weight", 10_000);
        assert!(u.iter().all(|&v| (-1.0..1.0).contains(&v)));
        assert!(u.iter().all(|&v| ((v + 1.0) * 8_388_608.0).fract() == 0.0));
        let mean = u.iter().map(|&v| f64::from(v)).sum::<f64>() / u.len() as f64;
        assert!(mean.abs() < 0.02, "{mean}");
        // Streams differ by key and by seed.
        assert_ne!(u[..4], uniform(7, "fc.bias", 4)[..]);
        assert_ne!(u[..4], uniform(8, "fc.weight", 4)[..]);
    }

    #[test]
    fn the_state_dict_has_the_layout_and_documented_ranges() {
        let dict = seeded_state_dict(1);
        let keys = expected_keys();
        assert_eq!(dict.len(), keys.len());
        for (key, shape) in &keys {
            let t = &dict[key];
            assert_eq!(&t.shape, shape, "{key}");
            let (lo, hi) = t
                .data
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
                    (l.min(v), h.max(v))
                });
            let (a, b) = affine(key, shape);
            assert!(
                lo >= b - a && hi <= b + a,
                "{key}: [{lo}, {hi}] vs {b} ± {a}"
            );
        }
        assert!(crate::networks::inception::check_state_dict(&dict).is_ok());
    }
}
