//! `geneval models list|fetch|import`: the model cache by hand. `fid` and
//! the other commands call [`crate::networks::registry::ensure`] themselves.

use super::Outcome;
use crate::backend::BuiltinNetwork;
use crate::cli::{GlobalArgs, ModelsCommand};
use crate::networks::registry::{self, Installed, ModelEntry, MODELS};
use crate::record::RecordBuilder;
use anyhow::{Context, Result};
use serde_json::json;

fn installed_json(installed: &Installed) -> serde_json::Value {
    json!({
        "onnx": installed.onnx.display().to_string(),
        "action": installed.action,
        "manifest": installed.manifest,
    })
}

fn record_installed(record: &mut crate::record::ResultRecord, installed: &Installed) {
    record.setting("installed", installed_json(installed));
    record.outputs.push(installed.onnx.display().to_string());
}

/// Runs `geneval models ...`.
pub fn run(command: &ModelsCommand, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("models");
    let mut summary = Vec::new();
    match command {
        ModelsCommand::List => {
            let mut list = Vec::new();
            for entry in MODELS {
                let dir = registry::entry_dir(&entry)?;
                let cached = registry::cached(&entry)?;
                summary.push(format!(
                    "{:<18} {}  [{}]",
                    entry.name,
                    entry.description,
                    match &cached {
                        Some(i) if i.manifest.official => "cached".to_owned(),
                        Some(i) if entry.sha256.is_none() => format!(
                            "cached, SHA-256 {} (none is published)",
                            i.manifest.source_sha256
                        ),
                        Some(_) =>
                            format!("cached, NOT the official weights ({})", entry.sha256_env()),
                        None => "not cached".to_owned(),
                    }
                ));
                summary.push(format!("{:<18} {}", "", dir.display()));
                list.push(json!({
                    "name": entry.name,
                    "url": entry.url,
                    "file": entry.file_name,
                    "sha256": entry.sha256,
                    "sha256_env": entry.sha256_env(),
                    "mode": entry.mode.as_str(),
                    "features_output": entry.features,
                    "cache": dir.display().to_string(),
                    "cached": cached.as_ref().map(installed_json),
                }));
            }
            for network in BuiltinNetwork::ALL {
                summary.push(format!(
                    "{:<18} geneval's own network, {} ({}; no download; not comparable with \
                     published numbers)",
                    network.name(),
                    network.id(),
                    network.description()
                ));
            }
            builder.record().setting("models", list);
        }
        ModelsCommand::Fetch { name, sha256 } => {
            let entry = registry::entry(name)?;
            let installed = registry::fetch(
                &entry,
                sha256.as_deref(),
                &crate::progress::download_bar(global.quiet),
            )
            .with_context(|| format!("fetching {name}"))?;
            summary.push(format!(
                "{name}: downloaded, {}, converted to {}",
                verified(&entry, &installed),
                installed.onnx.display()
            ));
            finish_install(builder.record(), &entry, &installed, entry.url);
        }
        ModelsCommand::Import { path, name, sha256 } => {
            let entry = registry::entry(name)?;
            let installed = registry::import(&entry, path, sha256.as_deref())
                .with_context(|| format!("importing {} as {name}", path.display()))?;
            summary.push(format!(
                "{name}: {} {}, converted to {}",
                path.display(),
                verified(&entry, &installed),
                installed.onnx.display()
            ));
            finish_install(
                builder.record(),
                &entry,
                &installed,
                &path.display().to_string(),
            );
        }
    }
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}

/// How the weights were checked, for the summary line: against the
/// published or pinned hash, or, where there is none, the hash to pin.
fn verified(entry: &ModelEntry, installed: &Installed) -> String {
    let hash = &installed.manifest.source_sha256;
    if registry::expected_sha256(entry, None).is_some() || installed.manifest.official {
        format!("SHA-256 {hash} verified")
    } else {
        format!(
            "SHA-256 {hash} (no published hash to verify against: pin it with --sha256 or {})",
            entry.sha256_env()
        )
    }
}

/// The record of an install, with a warning when the weights are not the
/// official file.
fn finish_install(
    record: &mut crate::record::ResultRecord,
    entry: &ModelEntry,
    installed: &Installed,
    origin: &str,
) {
    if entry.sha256.is_some() && !installed.manifest.official {
        record.warnings.push(format!(
            "{origin} is not the official file of {} (accepted through {}): results with it are not the reference's",
            entry.name,
            entry.sha256_env()
        ));
    }
    record.setting("model_id", installed.model_id());
    record_installed(record, installed);
}
