//! The command line end to end: parse, refuse a dangerous `--record`,
//! dispatch, check and append the record, print, exit code. The binary's
//! `main` is only a call to [`main`], so `cli` and `commands` stay
//! crate-private: the library's public surface is its stages, not its CLI.
//! Exit codes: 0 success, 1 a quality gate or self-check failed, 2 an error
//! (with a `hint:` line).

use crate::cli::{Cli, Command, GlobalArgs};
use crate::commands::{self, Outcome};
use crate::record::ResultRecord;
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn dispatch(command: &Command, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    match command {
        Command::Cache(command) => commands::cache::run(command),
        Command::Eval(args) => commands::eval::run(args, global),
        Command::Nn(args) => commands::nn::run(args, global),
        Command::Fid(args) => commands::fid::run(args, global),
        Command::Is(args) => commands::is::run(args, global),
        Command::Kid(args) => commands::kid::run(args, global),
        Command::Prdc(args) => commands::prdc::run(args, global),
        Command::Stats(args) => commands::stats::run(args, global),
        Command::Features(args) => commands::features::run(args, global),
        Command::Merge(args) => commands::merge::run(args),
        Command::Demo(args) => commands::demo::run(args, global),
        Command::Doctor(args) => commands::doctor::run(args),
        Command::Models(command) => commands::models::run(command, global),
        Command::Generate(args) => commands::generate::run(args, global),
        Command::Disturb(args) => commands::disturb::run(args, global),
        Command::Selfcheck(args) => commands::selfcheck::run(args, global),
        Command::Ppl(args) => commands::ppl::run(args, global),
        Command::Report(args) => commands::report::run(args, global),
        Command::Gate(args) => commands::gate::run(args, global),
    }
}

/// The command line as typed, for the record's provenance (arguments with
/// spaces or quotes are single-quoted).
fn command_line() -> String {
    let mut args = std::env::args_os();
    let program = args
        .next()
        .map(|p| {
            std::path::Path::new(&p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_else(|| "geneval".into());
    let mut parts = vec![program];
    for arg in args {
        let arg = arg.to_string_lossy().into_owned();
        if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
            parts.push(format!("'{}'", arg.replace('\'', "'\\''")));
        } else {
            parts.push(arg);
        }
    }
    parts.join(" ")
}

/// Prints `error:` and `hint:` for `e` and returns exit code 2.
fn fail(e: impl std::error::Error + Send + Sync + 'static) -> ExitCode {
    crate::diagnostics::print_error(&anyhow::Error::new(e));
    ExitCode::from(2)
}

/// Runs the command line of this process.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A `--record` that is not a .jsonl or names one of the command's own
    // files is refused before any work is done (appending to it would
    // damage an input or output).
    if let Some(path) = &cli.global.record {
        let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
        if let Err(e) = crate::record::check_record_path(path, &args) {
            return fail(e);
        }
    }
    match dispatch(&cli.command, &cli.global) {
        Ok(mut outcome) => {
            let mut records: Vec<&mut ResultRecord> = std::iter::once(&mut outcome.record)
                .chain(outcome.extra.iter_mut())
                .collect();
            for record in records.iter_mut() {
                record.labels.extend(cli.global.labels.iter().cloned());
                record.command = Some(command_line());
                // Every command's record passes here: a NaN or infinity is an
                // error, never a printed `NaN` and a record of `null`s.
                if let Err(e) = crate::record::check_finite(record) {
                    return fail(e);
                }
            }
            if let Some(path) = &cli.global.record {
                for record in records.iter_mut() {
                    match crate::record::append_record(path, record) {
                        Ok(Some(warning)) => record.warnings.push(warning),
                        Ok(None) => {}
                        Err(e) => return fail(e),
                    }
                }
            }
            if !cli.global.quiet {
                // A warning about the shared model or inputs is in every
                // metric's record; say it once.
                let mut said = std::collections::HashSet::new();
                for warning in records.iter().flat_map(|r| &r.warnings) {
                    if said.insert(warning.as_str()) {
                        eprintln!("warning: {warning}");
                    }
                }
            }
            let failed = records.iter().any(|r| r.passed == Some(false));
            let text = if cli.global.json {
                // One record: one JSON object; several: JSON Lines.
                let lines: Result<Vec<String>, _> = records
                    .iter()
                    .map(|r| serde_json::to_string(&**r))
                    .collect();
                match lines {
                    Ok(lines) => lines.join("\n"),
                    Err(e) => {
                        crate::diagnostics::print_error(&e.into());
                        return ExitCode::from(2);
                    }
                }
            } else {
                outcome.summary.join("\n")
            };
            // A closed pipe (`geneval ... | head -0`) is not an error worth a panic.
            let mut stdout = std::io::stdout().lock();
            // A check or gate that failed exits 1 after printing its result.
            let code = if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
            match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
                Ok(()) => code,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
                Err(e) => {
                    crate::diagnostics::print_error(
                        &anyhow::Error::new(e).context("writing to stdout"),
                    );
                    ExitCode::from(2)
                }
            }
        }
        Err(error) => {
            crate::diagnostics::print_error(&error);
            ExitCode::from(2)
        }
    }
}
