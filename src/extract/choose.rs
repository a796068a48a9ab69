//! Choosing the network: a registered one (fetched or rebuilt into the
//! cache first), the built-in one, or an ONNX file; and refusing flags the
//! chosen network would silently ignore.

use anyhow::{bail, Context, Result};

use super::Extraction;
use crate::backend::{ModelSource, SpecOverrides};
use crate::networks::{inception, registry};

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
            if self.args.dims.is_some() {
                bail!("--dims selects a layer of fid-inception; for other models name the output with --features-output");
            }
            return Ok((ModelSource::parse(model), user, None));
        };
        let quiet = self.quiet;
        let announce = |message: &str| {
            if !quiet {
                eprintln!("geneval: {message}");
            }
        };
        let installed = registry::ensure(&entry, &announce, &crate::progress::download_bar(quiet))
            .with_context(|| format!("getting the {} model", entry.name))?;
        let dims = self.args.dims.unwrap_or(inception::POOL3_DIMS);
        let Some(features) = inception::output_for_dims(dims) else {
            bail!("--dims {dims} is not a layer of fid-inception: use 2048, 768, 192 or 64");
        };
        if !installed.manifest.official {
            self.notes.push(format!(
                "the fid-inception weights in the cache are not the official file (SHA-256 {}, accepted through {}): these numbers are not pytorch-fid's",
                installed.manifest.source_sha256,
                registry::SHA256_ENV
            ));
        }
        let registered = SpecOverrides {
            features: Some(features.to_owned()),
            logits: Some(inception::LOGITS_UNBIASED.to_owned()),
            ..SpecOverrides::default()
        };
        Ok((
            ModelSource::File(installed.onnx.clone()),
            registered.then(user),
            Some(installed.model_id()),
        ))
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
        let builtin = matches!(ModelSource::parse(model), ModelSource::Builtin);
        let registered = registry::entry(model).is_ok();
        let network = if builtin {
            "the built-in network"
        } else if registered {
            "a registered network (fid-inception)"
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
