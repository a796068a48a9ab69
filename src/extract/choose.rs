//! Choosing the network: a registered one (fetched or rebuilt into the
//! cache first), the built-in one, or an ONNX file; and refusing flags the
//! chosen network would silently ignore.

use anyhow::{bail, Context, Result};

use super::Extraction;
use crate::backend::{ModelSource, SpecOverrides};
use crate::networks::registry::{self, Network};
use crate::networks::{inception, vit};
use crate::preprocess::ResizeMode;

impl Extraction<'_> {
    /// The model to open, with what the registry adds for registered ones.
    pub(super) fn choose(&mut self) -> Result<(ModelSource, SpecOverrides, Option<String>)> {
        let model = self
            .args
            .model
            .as_deref()
            .unwrap_or(registry::FID_INCEPTION.name);
        self.refuse_ignored_flags(model)?;
        let user = SpecOverrides {
            features: self.args.features_output.clone(),
            logits: self.args.logits_output.clone(),
            ..SpecOverrides::default()
        };
        let Ok(entry) = registry::entry(model) else {
            self.mode = Some(self.args.mode.unwrap_or_default());
            if self.args.dims.is_some() {
                bail!("--dims selects a layer of fid-inception; for other models name the output with --features-output");
            }
            return Ok((ModelSource::parse(model), user, None));
        };
        self.mode = Some(self.args.mode.unwrap_or(entry.mode));
        self.vit = matches!(entry.network, Network::Vit(_));
        if self.args.dims.is_some() && entry.network != Network::Inception {
            bail!(
                "--dims selects a layer of fid-inception; {} has one feature output",
                entry.name
            );
        }
        let quiet = self.quiet;
        let announce = |message: &str| {
            if !quiet {
                eprintln!("geneval: {message}");
            }
        };
        let installed = registry::ensure(&entry, &announce, &crate::progress::download_bar(quiet))
            .with_context(|| format!("getting the {} model", entry.name))?;
        let features = match entry.network {
            Network::Inception => {
                let dims = self.args.dims.unwrap_or(inception::POOL3_DIMS);
                let Some(features) = inception::output_for_dims(dims) else {
                    bail!(
                        "--dims {dims} is not a layer of fid-inception: use 2048, 768, 192 or 64"
                    );
                };
                features
            }
            Network::Vit(_) => entry.features,
        };
        let reference = match entry.network {
            Network::Inception => "pytorch-fid's",
            Network::Vit(vit::Family::Dinov2) => "dgm-eval's",
            Network::Vit(vit::Family::Clip) => "CMMD's",
        };
        if entry.sha256.is_some() && !installed.manifest.official {
            self.notes.push(format!(
                "the {} weights in the cache are not the official file (SHA-256 {}, accepted through {}): these numbers are not {reference}",
                entry.name,
                installed.manifest.source_sha256,
                entry.sha256_env()
            ));
        }
        let mode = self.mode();
        if mode != entry.mode {
            self.notes.push(format!(
                "--mode {mode} is not {reference} preprocessing for {} ({}): these numbers are not {reference}",
                entry.name, entry.mode
            ));
        }
        let registered = SpecOverrides {
            features: Some(features.to_owned()),
            logits: entry.logits.map(str::to_owned),
            ..SpecOverrides::default()
        };
        Ok((
            ModelSource::File(installed.onnx.clone()),
            registered.then(user),
            Some(installed.model_id()),
        ))
    }

    /// The resize mode chosen for the network (the reference tool's unless
    /// `--mode` was given); pytorch-fid's before a network is chosen.
    pub(super) fn mode(&self) -> ResizeMode {
        self.mode.unwrap_or_default()
    }

    /// The resize mode, once a network was chosen (no images: none).
    pub fn chosen_mode(&self) -> Option<ResizeMode> {
        self.mode
    }

    /// Refuses the flags that the built-in or a registered network would
    /// drop without a word: the built-in network's spec and outputs are
    /// fixed (`--model-spec`, `--features-output`, `--logits-output` never
    /// reached it), and a registered network's spec is geneval's own (a
    /// spec file could change its preprocessing while the record still
    /// says `fid-inception`). Someone who passed such a flag expected it to
    /// do something; a number computed without it would be silently wrong.
    fn refuse_ignored_flags(&self, model: &str) -> Result<()> {
        let args = self.args;
        let builtin = matches!(ModelSource::parse(model), ModelSource::Builtin(_));
        let registered = registry::entry(model).is_ok();
        let network = if builtin {
            "the built-in network"
        } else if registered {
            "a registered network (fid-inception, dinov2-vitl14, clip-vit-l14-336)"
        } else {
            return Ok(());
        };
        if let Some(spec) = &args.model_spec {
            bail!(
                "--model-spec applies to ONNX models given by path; {network} has a fixed spec \
                 (drop --model-spec {}, or give the .onnx file with --model PATH)",
                spec.display()
            );
        }
        if builtin {
            for (flag, value) in [
                ("--features-output", &args.features_output),
                ("--logits-output", &args.logits_output),
            ] {
                if let Some(name) = value {
                    bail!(
                        "{flag} {name} names an output of an ONNX model given by path; the built-in \
                         network has fixed outputs (drop {flag}, or give --model PATH.onnx)"
                    );
                }
            }
        }
        if registered && args.dims.is_some() && args.features_output.is_some() {
            bail!(
                "--dims and --features-output both choose fid-inception's feature layer; give one"
            );
        }
        Ok(())
    }
}
