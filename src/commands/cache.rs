//! `geneval cache list|du|clear`: the statistics cache by hand (`fid` and
//! `stats` use it themselves; `--no-cache` skips it).

use super::Outcome;
use crate::cli::CacheCommand;
use crate::extract::cache::{max_bytes, StatsCache};
use crate::record::RecordBuilder;
use anyhow::{Context, Result};
use serde_json::json;

/// Runs `geneval cache ...`.
pub fn run(command: &CacheCommand) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("cache");
    let cache = StatsCache::open().context("no cache folder: set GENEVAL_CACHE_DIR or HOME")?;
    let entries = cache.list();
    let total: u64 = entries.iter().map(|e| e.bytes).sum();
    let mut summary = Vec::new();
    let record = builder.record();
    record.setting("folder", cache.dir().display().to_string());
    match command {
        CacheCommand::List => {
            let mut listed = Vec::new();
            for e in &entries {
                let age = e.used.elapsed().map_or(0, |d| d.as_secs());
                let (side, images, model, mode) = e
                    .manifest
                    .as_ref()
                    .map_or(("?".to_owned(), 0, "?".to_owned(), "?".to_owned()), |m| {
                        (m.side.clone(), m.images, m.model_id.clone(), m.mode.clone())
                    });
                summary.push(format!(
                    "{}  {side}  {images} images  {model} ({mode})  {:.1} MB  used {}s ago",
                    e.dir
                        .file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default(),
                    e.bytes as f64 / 1e6,
                    age
                ));
                listed.push(json!({
                    "entry": e.dir.display().to_string(),
                    "manifest": e.manifest,
                    "bytes": e.bytes,
                    "unused_s": age,
                }));
            }
            if summary.is_empty() {
                summary.push(format!("{}: no cached statistics", cache.dir().display()));
            }
            record.setting("entries", listed);
        }
        CacheCommand::Du => {
            summary.push(format!(
                "{}: {} entries, {:.1} MB (cap {:.1} GB, GENEVAL_CACHE_MAX_BYTES)",
                cache.dir().display(),
                entries.len(),
                total as f64 / 1e6,
                max_bytes() as f64 / 1e9
            ));
        }
        CacheCommand::Clear { older_than } => {
            let removed = cache.clear(*older_than);
            record.set("removed", removed as f64);
            summary.push(format!(
                "removed {removed} entries from {}",
                cache.dir().display()
            ));
        }
    }
    record
        .set("entries", entries.len() as f64)
        .set("bytes", total as f64);
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}
