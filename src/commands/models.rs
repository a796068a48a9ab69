//! `geneval models list|fetch|import`: the model cache by hand. `fid` and
//! the other commands call [`crate::networks::registry::ensure`] themselves.

use super::Outcome;
use crate::cli::{GlobalArgs, ModelsCommand};
use crate::networks::registry::{self, Installed, MODELS};
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
                    "{:<14} {}  [{}]",
                    entry.name,
                    entry.description,
                    match &cached {
                        Some(i) if i.manifest.official => "cached".to_owned(),
                        Some(_) => format!(
                            "cached, NOT the official weights ({})",
                            registry::SHA256_ENV
                        ),
                        None => "not cached".to_owned(),
                    }
                ));
                summary.push(format!("{:<14} {}", "", dir.display()));
                list.push(json!({
                    "name": entry.name,
                    "url": entry.url,
                    "sha256": entry.sha256,
                    "cache": dir.display().to_string(),
                    "cached": cached.as_ref().map(installed_json),
                }));
            }
            summary.push(format!(
                "{:<14} geneval's own network (no download; not comparable with published numbers)",
                "builtin"
            ));
            builder.record().setting("models", list);
        }
        ModelsCommand::Fetch { name } => {
            let entry = registry::entry(name)?;
            let installed = registry::fetch(&entry, &crate::progress::download_bar(global.quiet))
                .with_context(|| format!("fetching {name}"))?;
            summary.push(format!(
                "{name}: downloaded, SHA-256 verified, converted to {}",
                installed.onnx.display()
            ));
            record_installed(builder.record(), &installed);
        }
        ModelsCommand::Import { path, name } => {
            let entry = registry::entry(name)?;
            let installed = registry::import(&entry, path)
                .with_context(|| format!("importing {} as {name}", path.display()))?;
            summary.push(format!(
                "{name}: {} verified and converted to {}",
                path.display(),
                installed.onnx.display()
            ));
            if !installed.manifest.official {
                builder.record().warnings.push(format!(
                    "{} is not the official file (accepted through {}): results with it are not pytorch-fid's",
                    path.display(),
                    registry::SHA256_ENV
                ));
            }
            record_installed(builder.record(), &installed);
        }
    }
    Ok(Outcome {
        summary,
        record: builder.finish(),
    })
}
