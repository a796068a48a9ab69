//! The statistics cache: a side's streaming moments kept under a key of
//! everything that decides them, so that a fixed real set is computed once
//! (`geneval fid real/ fake_step_N/` for every checkpoint).
//!
//! # Key
//!
//! SHA-256 of: [`CACHE_FORMAT`], the network's id (SHA-256 of its weights),
//! its features output, the preprocessing mode, the input size, the decoder's
//! pixel limit, and the sorted list of (path relative to the side, size,
//! modification time in ns) of every image — `stat` only, no image is read.
//! Editing, adding, removing or touching an image changes the key.
//! `CACHE_FORMAT` changes when geneval's numbers for the same inputs could
//! change; other releases share entries.
//!
//! # Entries
//!
//! `<cache>/stats/<key>/` holds `moments.npz` (partial statistics: exact
//! count, mean and co-moment, so a hit gives the same FID to the last bit)
//! and `manifest.json` (what it is, and the SHA-256 of `moments.npz`). An
//! entry is written in a temporary folder and renamed into place, so it
//! appears whole or not at all; when two processes fill the same entry at
//! once, the second rename fails and its copy is dropped. Every read
//! re-hashes `moments.npz`: a damaged entry is removed with a warning and
//! the side computed again. A hit refreshes the manifest's time, which
//! orders eviction: past [`max_bytes`] (20 GiB, `GENEVAL_CACHE_MAX_BYTES`)
//! the least recently used entries go.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::files::npz::{read_statistics, write_partial, PartialMetadata, StatisticsFile};
use crate::networks::download::hex;
use geneval_metrics::Moments;

/// Changes when the same inputs could give other numbers.
pub const CACHE_FORMAT: u32 = 1;

/// Default size cap of the statistics cache.
pub const DEFAULT_MAX_BYTES: u64 = 20 << 30;

/// The cap: `GENEVAL_CACHE_MAX_BYTES`, else [`DEFAULT_MAX_BYTES`].
pub fn max_bytes() -> u64 {
    std::env::var("GENEVAL_CACHE_MAX_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_BYTES)
}

/// What decides a side's statistics, besides its files.
#[derive(Debug, Clone, Serialize)]
pub struct KeyParts<'a> {
    /// The network's id.
    pub model_id: &'a str,
    /// Its features output.
    pub features: &'a str,
    /// The resize mode.
    pub mode: &'a str,
    /// Input width × height.
    pub input: (u32, u32),
    /// The decoder's pixel limit.
    pub max_pixels: u64,
}

/// What `manifest.json` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`CACHE_FORMAT`] when written.
    pub format: u32,
    /// The key (the folder's name).
    pub key: String,
    /// The side as it was given.
    pub side: String,
    /// Its number of images.
    pub images: u64,
    /// The network's id.
    pub model_id: String,
    /// The resize mode.
    pub mode: String,
    /// SHA-256 of `moments.npz`.
    pub moments_sha256: String,
    /// Seconds since 1970 at writing.
    pub created: u64,
}

/// The statistics cache folder.
#[derive(Debug, Clone)]
pub struct StatsCache {
    dir: PathBuf,
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One entry as listed.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The entry's folder.
    pub dir: PathBuf,
    /// Its manifest, if readable.
    pub manifest: Option<Manifest>,
    /// Bytes on disk.
    pub bytes: u64,
    /// When it was last used (written or hit).
    pub used: SystemTime,
}

impl StatsCache {
    /// `<cache root>/stats`, where a cache root exists.
    pub fn open() -> Option<Self> {
        crate::backend::runtime::cache_root().map(|root| StatsCache {
            dir: root.join("stats"),
        })
    }

    /// The cache in `dir`.
    #[cfg(test)]
    pub fn at(dir: PathBuf) -> Self {
        StatsCache { dir }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of `side`'s `paths` under `parts` (stats every file).
    pub fn key(parts: &KeyParts<'_>, side: &Path, paths: &[PathBuf]) -> std::io::Result<String> {
        let mut hasher = Sha256::new();
        hasher.update(format!("geneval-stats-cache {CACHE_FORMAT}\n"));
        hasher.update(serde_json::to_vec(parts).map_err(std::io::Error::other)?);
        hasher.update(b"\n");
        for path in paths {
            // An archive member stands for a file: its length and its
            // archive's mtime.
            let (len, modified) = match crate::images::archive::member_stat(path) {
                Some(stat) => stat,
                None => {
                    let meta = std::fs::metadata(path)?;
                    let modified = meta
                        .modified()?
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos());
                    (meta.len(), modified)
                }
            };
            let shown = path.strip_prefix(side).unwrap_or(path);
            hasher.update(format!("{}\t{len}\t{modified}\n", shown.display()));
        }
        Ok(hex(&hasher.finalize()))
    }

    /// The entry of `key`'s folder.
    pub fn entry(&self, key: &str) -> PathBuf {
        self.dir.join(key)
    }

    /// The moments under `key`, verified; `Err(reason)` for a damaged
    /// entry, which is removed.
    pub fn load(&self, key: &str) -> Result<Option<Moments>, String> {
        let entry = self.entry(key);
        let manifest_path = entry.join("manifest.json");
        if !manifest_path.is_file() {
            return Ok(None);
        }
        let checked = (|| -> Result<Moments, String> {
            let text = std::fs::read_to_string(&manifest_path).map_err(|e| e.to_string())?;
            let manifest: Manifest = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            let moments_path = entry.join("moments.npz");
            let found = crate::fs::sha256_file(&moments_path).map_err(|e| e.to_string())?;
            if manifest.key != key || found != manifest.moments_sha256 {
                return Err("its moments.npz does not match its manifest".into());
            }
            match read_statistics(&moments_path).map_err(|e| e.to_string())? {
                StatisticsFile::Partial(moments, _) => Ok(moments),
                StatisticsFile::Gaussian(_) => Err("moments.npz holds no count".into()),
            }
        })();
        match checked {
            Ok(moments) => {
                // The manifest's time orders eviction (least recently used).
                if let Ok(file) = std::fs::File::options().append(true).open(&manifest_path) {
                    let _ = file.set_modified(SystemTime::now());
                }
                Ok(Some(moments))
            }
            Err(reason) => {
                let _ = std::fs::remove_dir_all(&entry);
                Err(format!(
                    "the cached statistics {} were damaged ({reason}) and were removed",
                    entry.display()
                ))
            }
        }
    }

    /// Stores `moments` under `key`: written in a temporary folder, renamed
    /// into place; if another process got there first, its entry stays.
    pub fn store(
        &self,
        key: &str,
        moments: &Moments,
        manifest: Manifest,
    ) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let entry = self.entry(key);
        let staging = tempfile::Builder::new()
            .prefix(&format!(".tmp-{}-", &key[..16.min(key.len())]))
            .tempdir_in(&self.dir)?;
        let moments_path = staging.path().join("moments.npz");
        let metadata = PartialMetadata {
            mode: Some(manifest.mode.clone()),
            ..PartialMetadata::new("cache", manifest.model_id.as_str())
        };
        write_partial(&moments_path, moments, &metadata).map_err(std::io::Error::other)?;
        let manifest = Manifest {
            moments_sha256: crate::fs::sha256_file(&moments_path)?,
            ..manifest
        };
        let json = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
        crate::fs::write_bytes_atomically(&staging.path().join("manifest.json"), &json)
            .map_err(std::io::Error::other)?;
        let staged = staging.keep();
        if std::fs::rename(&staged, &entry).is_err() {
            // Another process filled the entry first: keep its copy.
            let _ = std::fs::remove_dir_all(&staged);
        }
        self.evict(max_bytes(), Some(&entry));
        Ok(entry)
    }

    /// Every entry, most recently used first.
    pub fn list(&self) -> Vec<Listed> {
        let Ok(dirs) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut listed: Vec<Listed> = dirs
            .flatten()
            .filter(|d| !d.file_name().to_string_lossy().starts_with('.'))
            .filter(|d| d.file_type().is_ok_and(|t| t.is_dir()))
            .map(|d| {
                let dir = d.path();
                let manifest_path = dir.join("manifest.json");
                let manifest = std::fs::read_to_string(&manifest_path)
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok());
                let bytes = std::fs::read_dir(&dir)
                    .map(|files| {
                        files
                            .flatten()
                            .filter_map(|f| f.metadata().ok())
                            .map(|m| m.len())
                            .sum()
                    })
                    .unwrap_or(0);
                let used = std::fs::metadata(&manifest_path)
                    .and_then(|m| m.modified())
                    .unwrap_or(UNIX_EPOCH);
                Listed {
                    dir,
                    manifest,
                    bytes,
                    used,
                }
            })
            .collect();
        listed.sort_by_key(|l| std::cmp::Reverse(l.used));
        listed
    }

    /// Removes least recently used entries until the cache holds at most
    /// `cap` bytes (never `keep`, the entry just written); returns how many.
    pub fn evict(&self, cap: u64, keep: Option<&Path>) -> usize {
        let mut total: u64 = self.list().iter().map(|l| l.bytes).sum();
        let mut removed = 0;
        for entry in self.list().into_iter().rev() {
            if total <= cap {
                break;
            }
            if Some(entry.dir.as_path()) == keep {
                continue;
            }
            if std::fs::remove_dir_all(&entry.dir).is_ok() {
                total -= entry.bytes;
                removed += 1;
            }
        }
        removed
    }

    /// Removes the entries last used before `older_than` ago (all without
    /// it), and staging folders left by killed processes; returns how many.
    pub fn clear(&self, older_than: Option<std::time::Duration>) -> usize {
        let cutoff = older_than.map(|age| SystemTime::now() - age);
        let mut removed = 0;
        for entry in self.list() {
            if cutoff.is_none_or(|c| entry.used < c) && std::fs::remove_dir_all(&entry.dir).is_ok()
            {
                removed += 1;
            }
        }
        if let Ok(dirs) = std::fs::read_dir(&self.dir) {
            for d in dirs.flatten() {
                if d.file_name().to_string_lossy().starts_with(".tmp-") && older_than.is_none() {
                    let _ = std::fs::remove_dir_all(d.path());
                }
            }
        }
        removed
    }
}

/// A manifest for `side`'s entry (its hash is filled in by `store`).
pub fn manifest_for(key: &str, side: &Path, images: u64, model_id: &str, mode: &str) -> Manifest {
    Manifest {
        format: CACHE_FORMAT,
        key: key.to_owned(),
        side: side.display().to_string(),
        images,
        model_id: model_id.to_owned(),
        mode: mode.to_owned(),
        moments_sha256: String::new(),
        created: now_s(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn moments() -> Moments {
        Moments::from_features(array![[1.0f64, 2.0], [3.0, 5.0], [0.5, -1.0]].view()).unwrap()
    }

    #[test]
    fn an_entry_round_trips_exactly_and_a_damaged_one_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = StatsCache::at(dir.path().join("stats"));
        let m = moments();
        let entry = cache
            .store(
                "k1",
                &m,
                manifest_for("k1", Path::new("real"), 3, "id", "clean"),
            )
            .unwrap();
        let back = cache.load("k1").unwrap().unwrap();
        assert_eq!(back.gaussian().unwrap(), m.gaussian().unwrap());
        assert_eq!(cache.list().len(), 1);
        // A second writer of the same key leaves the first entry.
        cache
            .store(
                "k1",
                &m,
                manifest_for("k1", Path::new("real"), 3, "id", "clean"),
            )
            .unwrap();
        assert_eq!(cache.list().len(), 1);
        // Damage: one byte of moments.npz.
        let file = entry.join("moments.npz");
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 30;
        bytes[last] ^= 1;
        std::fs::write(&file, bytes).unwrap();
        let err = cache.load("k1").unwrap_err();
        assert!(err.contains("damaged"), "{err}");
        assert!(!entry.exists());
        assert_eq!(cache.load("k1").unwrap(), None);
    }

    #[test]
    fn eviction_drops_the_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = StatsCache::at(dir.path().join("stats"));
        for key in ["a", "b", "c"] {
            cache
                .store(
                    key,
                    &moments(),
                    manifest_for(key, Path::new("s"), 3, "id", "m"),
                )
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        cache.load("a").unwrap().unwrap();
        let one = cache.list()[0].bytes;
        assert_eq!(cache.evict(2 * one, None), 1);
        let left: Vec<String> = cache
            .list()
            .iter()
            .map(|l| l.manifest.as_ref().unwrap().key.clone())
            .collect();
        assert_eq!(left, ["a", "c"]);
        assert_eq!(cache.clear(None), 2);
    }
}
