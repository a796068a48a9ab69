//! One machine's part of a side: `--shard K/N` takes a deterministic slice
//! of the side's sorted image list, so that N processes — a Slurm job
//! array, a Kubernetes Indexed Job, torchrun ranks — together see every
//! image exactly once, and `geneval merge` can check that they did.
//!
//! Shard `K` of `N` over `n` images is the contiguous slice
//! `[⌊K·n/N⌋, ⌊(K+1)·n/N⌋)`: slices differ in size by at most one and cover
//! the list in order. Each part records `(K, N)`, the list's length and a
//! fingerprint of the whole list ([`list_sha256`]), so parts made from
//! different folders, or from a folder that changed in between, are refused
//! when merged. Geneval never schedules anything: Slurm and Kubernetes do.

use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};

/// Shard `index` of `count` (0 ≤ index < count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    /// Which part, from 0.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The most parts a side may be split into.
pub const MAX_SHARDS: usize = 1 << 20;

/// Why a shard could not be determined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not `K/N` with `0 ≤ K < N ≤ 2^20`.
    #[error("`{0}` is not a shard K/N with 0 <= K < N <= 1048576 (e.g. 3/8), nor `auto`")]
    Syntax(String),
    /// `auto` found no scheduler's variables.
    #[error("--shard auto found neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX")]
    NoScheduler,
    /// A scheduler variable holds something else than a number.
    #[error("{name}={value:?} is not a whole number")]
    Variable {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// Kubernetes gives the index but not the count.
    #[error("JOB_COMPLETION_INDEX gives the index but not the number of parts")]
    NoCount,
}

impl crate::diagnostics::Hint for ShardError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(match self {
            ShardError::Syntax(_) | ShardError::Variable { .. } => {
                "give --shard K/N, e.g. --shard 0/4 on the first of four machines".into()
            }
            ShardError::NoScheduler => {
                "outside a Slurm job array or Kubernetes Indexed Job, give --shard K/N".into()
            }
            ShardError::NoCount => {
                "add --shard-count N (the Job's completions) next to --shard auto".into()
            }
        })
    }
}

impl Shard {
    /// Parses `K/N`.
    pub fn parse(text: &str) -> Result<Self, ShardError> {
        let syntax = || ShardError::Syntax(text.to_owned());
        let (index, count) = text.split_once('/').ok_or_else(syntax)?;
        let index: usize = index.trim().parse().map_err(|_| syntax())?;
        let count: usize = count.trim().parse().map_err(|_| syntax())?;
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(syntax());
        }
        Ok(Shard { index, count })
    }

    /// `--shard auto`: Slurm's job array (`SLURM_ARRAY_TASK_ID`, counted
    /// from `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT` tasks, or
    /// `count` when given), else a Kubernetes Indexed Job
    /// (`JOB_COMPLETION_INDEX` of `count`). `var` reads the environment.
    pub fn from_scheduler(
        var: impl Fn(&str) -> Option<String>,
        count: Option<usize>,
    ) -> Result<Self, ShardError> {
        let number = |name: &'static str| -> Result<Option<usize>, ShardError> {
            match var(name) {
                None => Ok(None),
                Some(value) => value
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| ShardError::Variable { name, value }),
            }
        };
        let (index, count) = if let Some(task) = number("SLURM_ARRAY_TASK_ID")? {
            let first = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let tasks = match count {
                Some(n) => n,
                None => number("SLURM_ARRAY_TASK_COUNT")?.ok_or(ShardError::NoCount)?,
            };
            (
                task.checked_sub(first).ok_or(ShardError::NoScheduler)?,
                tasks,
            )
        } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            (index, count.ok_or(ShardError::NoCount)?)
        } else {
            return Err(ShardError::NoScheduler);
        };
        Shard::parse(&format!("{index}/{count}"))
    }

    /// This shard's slice of `items`.
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let n = items.len() as u128;
        let bound = |k: usize| (k as u128 * n / self.count as u128) as usize;
        &items[bound(self.index)..bound(self.index + 1)]
    }
}

/// The fingerprint of a side's whole image list: SHA-256 over each path
/// relative to the side's folder (as listed for an `@list`), one per line.
/// Equal for every shard of one list, different if a file is added,
/// removed or renamed.
pub fn list_sha256(side: &Path, paths: &[PathBuf]) -> String {
    let mut hasher = Sha256::new();
    for path in paths {
        let shown = path.strip_prefix(side).unwrap_or(path);
        hasher.update(shown.to_string_lossy().as_bytes());
        hasher.update(b"\n");
    }
    crate::networks::download::hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn shards_cover_the_list_once_in_order() {
        for n in [0usize, 1, 5, 23, 100] {
            let items: Vec<usize> = (0..n).collect();
            for count in [1, 2, 3, 4, 7, 150] {
                let joined: Vec<usize> = (0..count)
                    .flat_map(|index| Shard { index, count }.slice(&items).to_vec())
                    .collect();
                assert_eq!(joined, items, "{n} items, {count} shards");
                let sizes: Vec<usize> = (0..count)
                    .map(|index| Shard { index, count }.slice(&items).len())
                    .collect();
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1);
            }
        }
    }

    #[test]
    fn k_of_n_is_parsed_and_checked() {
        assert_eq!(Shard::parse("3/8"), Ok(Shard { index: 3, count: 8 }));
        for bad in ["8/8", "1/0", "-1/4", "a/4", "3", "2/2000000", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn auto_reads_slurm_and_kubernetes() {
        let env = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |name: &str| map.get(name).cloned()
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(
            Shard::from_scheduler(slurm, None),
            Ok(Shard { index: 4, count: 8 })
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(
            Shard::from_scheduler(&k8s, Some(4)),
            Ok(Shard { index: 2, count: 4 })
        );
        assert_eq!(Shard::from_scheduler(&k8s, None), Err(ShardError::NoCount));
        assert_eq!(
            Shard::from_scheduler(env(&[]), Some(4)),
            Err(ShardError::NoScheduler)
        );
        let junk = env(&[("SLURM_ARRAY_TASK_ID", "x")]);
        assert!(matches!(
            Shard::from_scheduler(junk, None),
            Err(ShardError::Variable { .. })
        ));
    }

    #[test]
    fn the_fingerprint_is_of_relative_paths() {
        let a = [
            PathBuf::from("/x/side/a.png"),
            PathBuf::from("/x/side/b.png"),
        ];
        let b = [
            PathBuf::from("/y/side/a.png"),
            PathBuf::from("/y/side/b.png"),
        ];
        assert_eq!(
            list_sha256(Path::new("/x/side"), &a),
            list_sha256(Path::new("/y/side"), &b)
        );
        assert_ne!(
            list_sha256(Path::new("/x/side"), &a),
            list_sha256(Path::new("/x/side"), &a[..1])
        );
    }
}
