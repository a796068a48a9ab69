//! `geneval-fuzz`: fuzz geneval's parsers for a bounded time, replay saved
//! inputs, list the targets. See `docs/fuzzing.md`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use geneval_fuzz::driver::{self, FuzzOptions};
use geneval_fuzz::targets;

#[derive(Parser)]
#[command(
    name = "geneval-fuzz",
    about = "Fuzz geneval's parsers of untrusted bytes"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args)]
struct Settings {
    /// Seconds per target.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// Random seed: the same seed gives the same inputs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where failing inputs go (one folder per target).
    #[arg(long, default_value_os_t = driver::default_artifacts())]
    artifacts: PathBuf,
    /// An input slower than this twice in a row fails.
    #[arg(long, default_value_t = 2000)]
    slow_ms: u64,
    /// An input running longer than this is a hang (the worker stops).
    #[arg(long, default_value_t = 10.0)]
    hang_s: f64,
}

impl Settings {
    fn options(&self) -> FuzzOptions {
        FuzzOptions {
            seconds: self.seconds,
            seed: self.seed,
            artifacts: self.artifacts.clone(),
            slow: Duration::from_millis(self.slow_ms),
            hang: Duration::from_secs_f64(self.hang_s.max(0.1)),
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Fuzz targets (all when none is named), each for --seconds.
    Run {
        #[command(flatten)]
        settings: Settings,
        /// Target names (`geneval-fuzz list`).
        targets: Vec<String>,
    },
    /// Run saved inputs once: files, target folders, or a folder of them
    /// (fuzz/regressions, fuzz/artifacts).
    Replay {
        /// Files or folders [default: fuzz/regressions].
        paths: Vec<PathBuf>,
        /// An input slower than this twice in a row fails.
        #[arg(long, default_value_t = 2000)]
        slow_ms: u64,
    },
    /// The targets, what they call and their allocation bounds.
    List,
    /// One target in this process (what `run` starts).
    #[command(hide = true)]
    Worker {
        target: String,
        #[command(flatten)]
        settings: Settings,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::List => {
            for t in targets::all() {
                println!(
                    "{:<12} {}\n{:<12} bound: {}",
                    t.name, t.about, "", t.bound_text
                );
            }
            ExitCode::SUCCESS
        }
        Cmd::Run {
            settings,
            targets: names,
        } => {
            let chosen: Vec<&'static str> = if names.is_empty() {
                targets::all().iter().map(|t| t.name).collect()
            } else {
                let mut chosen = Vec::new();
                for name in &names {
                    match targets::by_name(name) {
                        Some(t) => chosen.push(t.name),
                        None => return unknown_target(name),
                    }
                }
                chosen
            };
            let exe = match std::env::current_exe() {
                Ok(exe) => exe,
                Err(e) => {
                    eprintln!("error: cannot find this program's own path to start workers: {e}");
                    return ExitCode::from(2);
                }
            };
            if driver::run(&exe, &chosen, &settings.options()) {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "fuzzing found failures: inputs in {} (replay with `geneval-fuzz replay DIR`)",
                    settings.artifacts.display()
                );
                ExitCode::from(1)
            }
        }
        Cmd::Worker { target, settings } => {
            let Some(t) = targets::by_name(&target) else {
                return unknown_target(&target);
            };
            let stats = driver::fuzz(t, &settings.options());
            if stats.failures == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Cmd::Replay { paths, slow_ms } => {
            let paths = if paths.is_empty() {
                vec![driver::default_regressions()]
            } else {
                paths
            };
            let mut failed = 0;
            let mut count = 0;
            for path in paths {
                let results = match driver::replay(&path, Duration::from_millis(slow_ms)) {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                };
                for (file, target, result) in results {
                    count += 1;
                    match result {
                        Ok(outcome) => {
                            println!("ok    {target:<12} {} {outcome:?}", file.display())
                        }
                        Err(failure) => {
                            failed += 1;
                            println!("FAIL  {target:<12} {} {failure}", file.display());
                        }
                    }
                }
            }
            println!("{count} inputs, {failed} failed");
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn unknown_target(name: &str) -> ExitCode {
    let names: Vec<&str> = targets::all().iter().map(|t| t.name).collect();
    eprintln!(
        "error: no target `{name}`\nhint: one of {}",
        names.join(", ")
    );
    ExitCode::from(2)
}
