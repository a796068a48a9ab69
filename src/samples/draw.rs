//! Which images of a side the report shows: a seeded draw over the side's
//! sorted image list.
//!
//! Each image gets a rank, the first 8 bytes of SHA-256(seed ‖ its path
//! relative to the side), and the `k` lowest ranks are drawn. A hash of
//! the name is chosen over a seeded draw of indices because an index draw
//! moves with the list: one file added or removed shifts every later index,
//! and the whole grid changes. With ranks from names,
//! - two sides whose files are named alike (checkpoints writing
//!   `00017.png`, `00042.png`, …) draw the same names, so their grids can
//!   be compared image for image;
//! - adding files to a side only lets a new file in when its rank is among
//!   the `k` lowest, and then it pushes out exactly one: every other
//!   drawn image stays;
//! - the draw is the same on every machine and in every run (SHA-256 of
//!   bytes, no platform hash, no thread order).
//!
//! The ranks also order the images for a budget: keeping the first `m` of
//! the draw keeps the same `m` images everywhere.

use sha2::{Digest, Sha256};

/// The seed of every report's draw: a constant, so that reports made at
/// different times draw the same names ("geneval" in ASCII).
pub const SEED: u64 = 0x0067_656e_6576_616c;

/// An image's rank under `seed`: lower ranks are drawn first.
pub fn rank(seed: u64, key: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"))
}

/// The positions in `keys` of the (at most) `k` images drawn, lowest rank
/// first (ties, which need a SHA-256 prefix collision, by key).
pub fn draw(keys: &[String], k: usize, seed: u64) -> Vec<usize> {
    let mut ranked: Vec<(u64, &str, usize)> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| (rank(seed, key), key.as_str(), i))
        .collect();
    ranked.sort_unstable();
    ranked.truncate(k);
    ranked.into_iter().map(|(_, _, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{i:05}.png")).collect()
    }

    fn drawn(keys: &[String], k: usize, seed: u64) -> Vec<String> {
        draw(keys, k, seed)
            .into_iter()
            .map(|i| keys[i].clone())
            .collect()
    }

    #[test]
    fn the_draw_is_deterministic_and_pinned() {
        let keys = names(1000);
        let first = drawn(&keys, 32, SEED);
        assert_eq!(first.len(), 32);
        assert_eq!(first, drawn(&keys, 32, SEED));
        // Pinned (computed with Python's hashlib too): a change here changes
        // every report's grids.
        assert_eq!(rank(SEED, "00000.png"), 0x202d_9014_440e_b23b);
        assert_eq!(
            drawn(&keys, 3, SEED),
            ["00900.png", "00385.png", "00994.png"]
        );
        assert_eq!(drawn(&keys, 3, SEED), first[..3].to_vec());
        let mut distinct = first.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 32);
    }

    #[test]
    fn another_seed_draws_other_images() {
        let keys = names(1000);
        let a = drawn(&keys, 32, SEED);
        let b = drawn(&keys, 32, SEED + 1);
        let common = a.iter().filter(|k| b.contains(k)).count();
        assert!(common < 8, "{common} of 32 in common");
    }

    #[test]
    fn the_draw_depends_on_names_not_on_list_order() {
        let keys = names(500);
        let mut reversed = keys.clone();
        reversed.reverse();
        assert_eq!(drawn(&keys, 32, SEED), drawn(&reversed, 32, SEED));
    }

    #[test]
    fn adding_files_keeps_the_drawn_images_but_as_many_as_it_adds() {
        let keys = names(1000);
        let before = drawn(&keys, 32, SEED);
        let mut more = keys.clone();
        more.extend((0..50).map(|i| format!("extra_{i}.png")));
        more.sort();
        let after = drawn(&more, 32, SEED);
        let newcomers = after.iter().filter(|k| k.starts_with("extra_")).count();
        let kept = before.iter().filter(|k| after.contains(k)).count();
        assert_eq!(kept, 32 - newcomers, "only newcomers push images out");
        // Removing files that were not drawn changes nothing.
        let fewer: Vec<String> = keys
            .iter()
            .filter(|k| before.contains(k) || k.ends_with("7.png"))
            .cloned()
            .collect();
        assert_eq!(drawn(&fewer, 32, SEED), before);
    }

    #[test]
    fn small_sides_are_drawn_whole() {
        let keys = names(5);
        let mut all = drawn(&keys, 32, SEED);
        all.sort();
        assert_eq!(all, keys);
        assert!(draw(&[], 32, SEED).is_empty());
        assert!(draw(&keys, 0, SEED).is_empty());
    }
}
