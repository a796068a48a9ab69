//! What the extraction stage writes into a record: the network (name and
//! id), preprocessing mode, input size, device, per-stage timings and the
//! files skipped with `--skip-bad`.

use super::{Extraction, ImageSide};
use crate::backend::BuiltinNetwork;
use crate::backend::FeatureExtractor;
use crate::networks::download::hex;
use crate::networks::registry;
use crate::pipeline;
use crate::record::{InputRecord, ModelRecord, ResultRecord};

/// The note every result made with the built-in network carries.
pub const BUILTIN_NOTE: &str = "features from one of geneval's built-in networks (fixed weights, no training; the model id says which): fine for comparing runs with each other and for CI gates, NOT comparable with published FID/IS/KID numbers";

/// What the record says about one side's extraction.
#[derive(Debug)]
pub(super) struct SideSummary {
    pub(super) side: String,
    pub(super) images: usize,
    pub(super) skipped: Vec<String>,
    pub(super) timing: pipeline::Timing,
}

impl ImageSide {
    /// The input record of this side.
    pub fn input_record(&self) -> InputRecord {
        InputRecord {
            path: self.path.display().to_string(),
            kind: "images".into(),
            count: Some(self.stats.images as u64),
            dim: self.dim,
            sha256: None,
            content_sha256: self.content_sha256(),
        }
    }

    /// The dataset fingerprint of `--verify-inputs` (see
    /// [`InputRecord::content_sha256`]); paths relative to the side when
    /// they lie under it.
    fn content_sha256(&self) -> Option<String> {
        use sha2::{Digest, Sha256};
        if self.stats.digests.is_empty() {
            return None;
        }
        let mut hasher = Sha256::new();
        for (path, digest) in &self.stats.digests {
            let shown = path.strip_prefix(&self.path).unwrap_or(path);
            hasher.update(format!("{}\t{}\n", shown.display(), hex(digest)));
        }
        Some(hex(&hasher.finalize()))
    }
}

impl Extraction<'_> {
    /// Writes the command's `inputs` into `record`, then the model,
    /// preprocessing, device, timings and skipped files (those only when a
    /// side was images): the end of every metric command's record.
    pub fn describe(
        &self,
        record: &mut ResultRecord,
        inputs: impl IntoIterator<Item = InputRecord>,
    ) {
        record.inputs.extend(inputs);
        let Some(extractor) = &self.extractor else {
            return;
        };
        record.device = self.args.device.to_string();
        let name = self
            .args
            .model
            .clone()
            .unwrap_or_else(|| registry::FID_INCEPTION.name.to_owned());
        record.model = Some(ModelRecord {
            name: name.clone(),
            id: Some(extractor.model_id().to_owned()),
        });
        let mode = self.mode();
        record.mode = Some(mode.as_str().to_owned());
        record
            .setting("model", name)
            .setting("model_id", extractor.model_id())
            .setting("features_output", extractor.spec().features.as_str())
            .setting("mode", mode.as_str())
            .setting(
                "input_size",
                format!("{}x{}", extractor.spec().width, extractor.spec().height),
            );
        if !self.cache_uses.is_empty() {
            let uses: serde_json::Map<String, serde_json::Value> = self
                .cache_uses
                .iter()
                .map(|(side, status, key, entry)| {
                    (
                        side.clone(),
                        serde_json::json!({
                            "cache": status,
                            "key": key,
                            "entry": entry.display().to_string(),
                        }),
                    )
                })
                .collect();
            record.setting("statistics_cache", uses);
        } else if self.args.no_cache {
            record.setting("statistics_cache", "off");
        }
        if let Some(run) = &self.shard_run {
            record
                .setting("shard", run.shard.to_string())
                .setting("list_images", run.list_images as u64)
                .setting("list_sha256", run.list_sha256.as_str());
        }
        if BuiltinNetwork::with_id(extractor.model_id()).is_some() {
            record.warnings.push(BUILTIN_NOTE.into());
        }
        record.warnings.extend(self.notes.iter().cloned());
        let mut images = 0;
        let (mut decode, mut preprocess, mut inference, mut wall) = (0.0, 0.0, 0.0, 0.0);
        let mut skipped = Vec::new();
        for side in &self.sides {
            images += side.images;
            decode += side.timing.decode_s;
            preprocess += side.timing.preprocess_s;
            inference += side.timing.inference_s;
            wall += side.timing.wall_s;
            if !side.skipped.is_empty() {
                record.warnings.push(format!(
                    "{}: skipped {} unreadable file(s) (--skip-bad): {}",
                    side.side,
                    side.skipped.len(),
                    side.skipped.join("; ")
                ));
            }
            skipped.extend(side.skipped.iter().cloned());
        }
        record
            .set("images", images as f64)
            .set("decode_cpu_s", decode)
            .set("preprocess_cpu_s", preprocess)
            .set("inference_s", inference)
            .set("extraction_wall_s", wall);
        // Sides read from the statistics cache took no extraction time and
        // do not count in the rate.
        let extracted: usize = self
            .sides
            .iter()
            .filter(|side| side.timing.wall_s > 0.0)
            .map(|side| side.images)
            .sum();
        if wall > 0.0 {
            record.set("images_per_s", extracted as f64 / wall);
        }
        if self.args.skip_bad {
            record.setting("skipped", skipped);
        }
    }
}
