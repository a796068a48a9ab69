//! `geneval doctor`: what ONNX Runtime set-up this machine has.
//!
//! It looks for the library the way every model command does
//! ([`crate::backend::runtime`]), loads it, runs a one-node model, and says
//! where it was found, its version, the execution providers (CPU; CUDA with
//! the reason when not), and the cache folders. When no usable library is
//! found it lists every place it looked and the install command, and fails
//! with exit code 2.
//!
//! With `--json` the findings are a result record with metric `doctor` and
//! the findings in `settings` (`settings.schema` is `geneval.doctor/v1`).

use super::Outcome;
use crate::backend::extractor::ModelPorts;
use crate::backend::runtime::{self, Looked, SearchPlan, INSTALL_COMMAND, ORT_VERSION};
use crate::backend::{ModelSource, OnnxExtractor, OpenOptions};
use crate::cli::DoctorArgs;
use crate::networks::{inception, registry};
use crate::record::RecordBuilder;
use anyhow::{Context, Result};
use serde_json::json;

/// Schema name of the findings in the record's `settings`.
pub const SCHEMA: &str = "geneval.doctor/v1";

/// Runs the checks.
pub fn run(args: &DoctorArgs) -> Result<Outcome> {
    let plan = SearchPlan::from_env(args.ort_lib.as_deref());
    let (_, looked) = plan.search();
    let cache_root = plan.cache_root.clone();
    let ort_cache = cache_root
        .as_ref()
        .map(|root| root.join("onnxruntime").join(ORT_VERSION));
    let installed: Vec<(&str, bool)> = ["cpu", "gpu"]
        .into_iter()
        .map(|flavour| {
            let there = cache_root
                .as_ref()
                .is_some_and(|root| runtime::cached_library(root, flavour == "gpu").is_file());
            (flavour, there)
        })
        .collect();

    let runtime = match runtime::init_with(&plan) {
        Ok(runtime) => runtime,
        Err(error) => {
            // The report goes to stderr: stdout is for data, and there is none.
            eprintln!("ONNX Runtime: no usable library");
            for place in &looked {
                eprintln!("  looked: {place}");
            }
            eprintln!("  to fix: {}", error.hint_text());
            eprintln!("  install: {INSTALL_COMMAND}   (GPU: {INSTALL_COMMAND} --gpu)");
            eprintln!("  or: geneval doctor --ort-lib PATH/libonnxruntime.so.{ORT_VERSION}");
            return Err(anyhow::Error::new(error)).context("no usable ONNX Runtime");
        }
    };

    let providers = runtime.compiled_providers().unwrap_or_default();
    let cuda = runtime.cuda_status();
    let smoke = runtime.smoke_test();

    let mut builder = RecordBuilder::start("doctor");
    let record = builder.record();
    record.device = if cuda.available { "cuda" } else { "cpu" }.into();
    record
        .setting("schema", SCHEMA)
        .setting("usable", smoke.is_ok())
        .setting("library", runtime.path.display().to_string())
        .setting("found_via", runtime.source.to_string())
        .setting("version", runtime.version.clone())
        .setting("expected_version", ORT_VERSION)
        .setting("providers", providers.clone())
        .setting(
            "cuda",
            json!({"available": cuda.available, "reason": cuda.reason, "devices": cuda.devices}),
        )
        .setting(
            "smoke_test",
            match &smoke {
                Ok(()) => json!({"ok": true}),
                Err(e) => json!({"ok": false, "error": e.to_string()}),
            },
        )
        .setting(
            "cache_root",
            cache_root.as_ref().map(|p| p.display().to_string()),
        )
        .setting(
            "onnxruntime_cache",
            json!({
                "path": ort_cache.as_ref().map(|p| p.display().to_string()),
                "cpu_installed": installed[0].1,
                "gpu_installed": installed[1].1,
            }),
        )
        .setting("looked", looked.iter().map(looked_json).collect::<Vec<_>>());
    if runtime.version != ORT_VERSION {
        record.warnings.push(format!(
            "ONNX Runtime {} is not the version geneval was verified with ({ORT_VERSION}); \
             numbers may differ slightly",
            runtime.version
        ));
    }

    let mut summary = vec![
        format!("ONNX Runtime {}", runtime.version),
        format!("  library     {}", runtime.path.display()),
        format!("  found via   {}", runtime.source),
        format!("  providers   {}", providers.join(", ")),
        format!("  CPU         yes"),
        format!(
            "  CUDA        {}: {}",
            if cuda.available { "yes" } else { "no" },
            cuda.reason
        ),
        format!(
            "  smoke test  {}",
            match &smoke {
                Ok(()) => "ok (one-node model ran on the CPU)".to_owned(),
                Err(e) => format!("FAILED: {e}"),
            }
        ),
        format!(
            "cache         {}",
            cache_root
                .as_ref()
                .map_or("(none: HOME unset)".to_owned(), |p| p.display().to_string())
        ),
    ];
    if let Some(dir) = &ort_cache {
        let flavours: Vec<String> = installed
            .iter()
            .map(|(f, there)| {
                format!(
                    "{f}: {}",
                    if *there { "installed" } else { "not installed" }
                )
            })
            .collect();
        summary.push(format!(
            "  onnxruntime {} ({})",
            dir.display(),
            flavours.join(", ")
        ));
    }
    summary.push("looked".to_owned());
    summary.extend(looked.iter().map(|place| format!("  {place}")));

    smoke.context("the ONNX Runtime library loads but cannot run a model")?;
    if let Some(model) = &args.model {
        let mut options = OpenOptions {
            spec_file: args.model_spec.clone(),
            ort_lib: args.ort_lib.clone(),
            ..OpenOptions::default()
        };
        let source = match registry::entry(model) {
            Ok(entry) => {
                let Some(installed) = registry::cached(&entry)? else {
                    anyhow::bail!(
                        "{model} is not in the cache; get it with `geneval models fetch {model}` or `geneval models import PATH.pth`"
                    );
                };
                options.overrides.features = Some(inception::POOL3.to_owned());
                options.overrides.logits = Some(inception::LOGITS_UNBIASED.to_owned());
                options.model_id = Some(installed.model_id());
                ModelSource::File(installed.onnx)
            }
            Err(_) => ModelSource::parse(model),
        };
        let report = OnnxExtractor::inspect(&source, &options)
            .with_context(|| format!("inspecting the model {}", source.display()))?;
        describe_model(&report, model, &mut summary, builder.record());
    }
    Ok(Outcome {
        extra: Vec::new(),
        record: builder.finish(),
        summary,
    })
}

fn describe_model(
    report: &ModelPorts,
    model: &str,
    summary: &mut Vec<String>,
    record: &mut crate::record::ResultRecord,
) {
    summary.push(format!("model         {model}"));
    summary.push(format!("  id          {}", report.model_id));
    for port in &report.inputs {
        summary.push(format!("  input       {}", port.describe()));
    }
    for port in &report.outputs {
        summary.push(format!("  output      {}", port.describe()));
    }
    summary.push(format!(
        "  spec file   {}",
        report
            .spec_file
            .as_ref()
            .map_or("(none: inferred from the model)".to_owned(), |p| p
                .display()
                .to_string())
    ));
    let spec_json = match &report.spec {
        Ok(spec) => {
            summary.push(format!(
                "  spec        input {} {:?} {}x{}, range [{}, {}], mean {:?}, std {:?}, features {} (pooling {:?}), logits {}",
                spec.input,
                spec.layout,
                spec.width,
                spec.height,
                spec.range.low,
                spec.range.high,
                spec.mean,
                spec.std,
                spec.features,
                spec.pooling,
                spec.logits.as_deref().unwrap_or("none")
            ));
            serde_json::to_value(spec).unwrap_or_default()
        }
        Err(e) => {
            summary.push(format!("  spec        DOES NOT RESOLVE: {e}"));
            summary.push(format!("  to fix      {}", e.hint_text()));
            json!({"error": e.to_string()})
        }
    };
    record.setting(
        "model",
        json!({
            "model": model,
            "model_id": report.model_id,
            "inputs": report.inputs.iter().map(|p| p.describe()).collect::<Vec<_>>(),
            "outputs": report.outputs.iter().map(|p| p.describe()).collect::<Vec<_>>(),
            "spec_file": report.spec_file.as_ref().map(|p| p.display().to_string()),
            "spec": spec_json,
        }),
    );
}

fn looked_json(place: &Looked) -> serde_json::Value {
    json!({
        "place": place.which.to_string(),
        "path": place.path.as_ref().map(|p| p.display().to_string()),
        "version": place.outcome.as_ref().ok().map(|p| p.version.clone()),
        "error": place.outcome.as_ref().err(),
    })
}
