//! `geneval gate`: quality rules over result records for CI. Loads the
//! config, runs its `[[run]]`s, reads the records and baselines, judges
//! each rule (`crate::gate`), and prints the table, annotations and JUnit.

use std::collections::btree_map::{BTreeMap, Entry};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use geneval_reports::{read_records, ReadOptions, SourcedRecord};

use super::Outcome;
use crate::cli::{GateArgs, GlobalArgs};
use crate::gate::config::{self, LoadedConfig};
use crate::gate::evaluate::{evaluate, Baseline};
use crate::gate::table::{self, Tally};
use crate::gate::{github, junit, run, GateError};
use crate::record::{append_record, input_record, RecordBuilder};

/// Runs `geneval gate`; refused inside a gate's `[[run]]` (see
/// [`run::DEPTH_ENV`]), whatever the config says.
pub fn run(args: &GateArgs, global: &GlobalArgs) -> Result<Outcome> {
    if let Some(value) = std::env::var_os(run::DEPTH_ENV) {
        return Err(GateError::Nested {
            value: table::printable(&value.to_string_lossy()).into_owned(),
        }
        .into());
    }
    let clock = Instant::now();
    let mut builder = RecordBuilder::start("gate");
    let loaded = config::load(&args.config)?;
    let mut warnings = loaded.warnings.clone();
    let inputs: Vec<String> = if args.records.is_empty() {
        let records = &loaded.config.records;
        records.iter().map(|r| loaded.resolve(r)).collect()
    } else {
        args.records.clone()
    };
    let options = ReadOptions {
        lenient: args.lenient,
    };

    let fresh = run_all(&loaded, &inputs, global, &mut warnings)?;
    let mut records = if inputs.is_empty() {
        if fresh.is_empty() {
            return Err(GateError::InvalidConfig {
                path: args.config.clone(),
                message: "no records to judge: set `records = [\"results.jsonl\"]` or pass \
                          --records FILE"
                    .into(),
            }
            .into());
        }
        Vec::new()
    } else {
        let read = read_records(&inputs, options).map_err(|source| GateError::Records {
            what: "reading the records".into(),
            source,
        })?;
        warnings.extend(read.warnings);
        read.records
    };
    records.extend(fresh);

    let mut baselines: BTreeMap<String, Vec<SourcedRecord>> = BTreeMap::new();
    for (i, rule) in loaded.config.rules.iter().enumerate() {
        if let Some(baseline) = &rule.baseline {
            let path = loaded.resolve(baseline);
            if let Entry::Vacant(slot) = baselines.entry(path) {
                let read =
                    read_records(std::slice::from_ref(slot.key()), options).map_err(|source| {
                        GateError::Records {
                            what: format!("reading the baseline of rule {}", i + 1),
                            source,
                        }
                    })?;
                warnings.extend(read.warnings);
                slot.insert(read.records);
            }
        }
    }

    let mut results = Vec::new();
    for (i, rule) in loaded.config.rules.iter().enumerate() {
        let path = rule.baseline.as_deref().map(|b| loaded.resolve(b));
        let name = path.as_ref().map(|p| format!("the baseline {p}"));
        let baseline = path
            .as_ref()
            .zip(name.as_deref())
            .map(|(p, name)| Baseline {
                name,
                records: &baselines[p],
            });
        let result = evaluate(i + 1, rule, &records, baseline)?;
        warnings.extend(
            result
                .warnings
                .iter()
                .map(|w| format!("rule {}: {w}", i + 1)),
        );
        results.push(result);
    }

    let tally = Tally::of(&results);
    let mut summary = table::render(&results);
    if args.github {
        let annotations = github::annotations(&results);
        if global.json {
            // stdout holds the one record; the Actions runner reads
            // workflow commands on stderr too.
            for line in &annotations {
                eprintln!("{line}");
            }
        } else {
            summary.extend(annotations);
        }
    }
    summary.push(table::verdict_line(tally));

    let record = builder.record();
    if let Some(path) = &args.junit {
        let xml = junit::render(&results, clock.elapsed().as_secs_f64(), &record.started_at);
        crate::fs::write_bytes_atomically(path, xml.as_bytes())
            .with_context(|| format!("writing the JUnit XML {}", path.display()))?;
        record.outputs.push(path.display().to_string());
    }
    record.passed = Some(tally.failed == 0);
    record
        .set("rules", tally.total() as f64)
        .set("passed", tally.passed as f64)
        .set("failed", tally.failed as f64)
        .set("skipped", tally.skipped as f64);
    record
        .setting("config", args.config.display().to_string())
        .setting("records", inputs.clone())
        .setting("rules", serde_json::to_value(&results)?);
    record
        .inputs
        .push(input_record(&args.config, "config", None, None));
    let files = inputs.iter().chain(baselines.keys());
    for path in files.map(Path::new).filter(|p| p.is_file()) {
        record
            .inputs
            .push(input_record(path, "records", None, None));
    }
    // Warnings quote rule names and record labels; printed on stderr.
    record.warnings = warnings
        .iter()
        .map(|w| table::printable(w).into_owned())
        .collect();
    Ok(Outcome {
        extra: Vec::new(),
        record: builder.finish(),
        summary,
    })
}

/// Runs the config's `[[run]]`s. Their records are appended to the first
/// records file (read back with the others) and returned only when there is
/// none to append to.
fn run_all(
    loaded: &LoadedConfig,
    inputs: &[String],
    global: &GlobalArgs,
    warnings: &mut Vec<String>,
) -> Result<Vec<SourcedRecord>> {
    let runs = &loaded.config.runs;
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let exe = std::env::current_exe().context("finding the geneval executable for [[run]]")?;
    let append_to = inputs
        .first()
        .filter(|p| !p.contains(['*', '?', '[']) && !Path::new(p).is_dir())
        .map(PathBuf::from);
    if let Some(first) = inputs.first().filter(|_| append_to.is_none()) {
        warnings.push(format!(
            "the [[run]] records are judged but not kept: the first records entry `{first}` \
             is a folder or a pattern, not a file to append to"
        ));
    }
    let mut fresh = Vec::new();
    for (i, spec) in runs.iter().enumerate() {
        // The gate's own --label goes to the runs' records too; a run's wins.
        let mut spec = spec.clone();
        for (key, value) in &global.labels {
            spec.label
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        if !global.quiet {
            eprintln!("gate: [[run]] {}: {}", i + 1, run::command_line(&spec));
        }
        let record = run::run_geneval(&exe, i + 1, &spec, loaded.folder())?;
        match &append_to {
            Some(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                let warning = append_record(path, &record).with_context(|| {
                    format!("appending the [[run]] record to {}", path.display())
                })?;
                warnings.extend(warning);
            }
            None => fresh.push(SourcedRecord {
                record,
                source: format!("[[run]] {}", i + 1),
            }),
        }
    }
    Ok(fresh)
}
