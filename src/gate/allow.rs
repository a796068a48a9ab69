//! Which `[[run]]` command lines a gate will start.
//!
//! A gate config often comes with the change it judges (a pull request), so
//! its `[[run]]`s are untrusted: they may compute a metric and nothing else.
//! Each is parsed with the real command-line definition (`cli::Cli`), exactly
//! as the child process will parse it, so a global flag placed anywhere
//! (`--label x=1 gate g.toml`) cannot hide the command behind it. Then:
//!
//! - the command must be `fid`, `is`, `kid`, `prdc` or `ppl`, which read
//!   their inputs and print a record. `stats`, `features` and `merge` write
//!   files (`-o`), `gate` could start itself without end, and `generate`,
//!   `disturb`, `demo`, `selfcheck`, `models`, `doctor` and `report` compute
//!   no metric;
//! - no `--ort-lib`: opening a shared library runs its code;
//! - no `--output` (ppl's per-text file, written wherever it points), no
//!   `--record` (the gate appends the record itself), no `--json`/`--quiet`
//!   (the gate adds them);
//! - a model named by path (`--model`, `--model-spec`, ppl's `--model` and
//!   `--tokenizer`) must lie inside the config's folder once `..` and
//!   symlinks are resolved: a model file is a program for ONNX Runtime
//!   (external data is read from paths it names), so only the config's own
//!   are run. Registered names (`fid-inception`, `builtin`) are fine.
//!
//! Input sides (image folders, `.npz`, `.npy`, text files) may be anywhere:
//! they are only read as data.

use super::config::RunSpec;
use super::run::child_args;
use crate::backend::BuiltinNetwork;
use crate::cli::{Cli, Command, ExtractArgs};
use crate::networks::registry;
use clap::{CommandFactory, FromArgMatches};
use std::path::{Component, Path};

/// The commands a `[[run]]` may run.
pub const ALLOWED_COMMANDS: [&str; 5] = ["fid", "is", "kid", "prdc", "ppl"];

/// What every refusal ends with.
const ALLOWED: &str = "a [[run]] may run fid, is, kid, prdc or ppl, without --ort-lib, \
                       --output, --record, --json or --quiet, with model files inside the \
                       config's folder";

/// Checks that `spec` is a metric command line the gate may start in
/// `folder` (the config's; empty for the working folder): the run's own
/// arguments, then the whole line its child gets (with `--json --quiet`
/// and the labels). The message names each offending argument and says
/// what is allowed.
pub fn check(spec: &RunSpec, folder: &Path) -> Result<(), String> {
    if spec.args.is_empty() {
        return Err(
            "`args` is empty: give a geneval command line, e.g. [\"fid\", \"a/\", \"b/\"]".into(),
        );
    }
    for key in spec.label.keys() {
        if key.trim().is_empty() || key.contains('=') {
            return Err(format!(
                "label key `{key}`: a key must be a non-empty name without `=`"
            ));
        }
    }
    let own = problems(&spec.args, folder, false)
        .map_err(|e| format!("not a geneval command line: {e}; {ALLOWED}"))?;
    if !own.is_empty() {
        return Err(format!("{}; {ALLOWED}", own.join("; ")));
    }
    let child = problems(&child_args(spec), folder, true)
        .map_err(|e| format!("with the gate's --json --quiet and labels added: {e}"))?;
    if !child.is_empty() {
        return Err(format!(
            "with the gate's --json --quiet and labels added: {}; {ALLOWED}",
            child.join("; ")
        ));
    }
    Ok(())
}

/// What is wrong with the command line `args` (without the program name),
/// or clap's message when it does not parse. `from_gate`: `--json --quiet`
/// are the gate's own and expected.
fn problems(args: &[String], folder: &Path, from_gate: bool) -> Result<Vec<String>, String> {
    let argv = std::iter::once("geneval").chain(args.iter().map(String::as_str));
    let matches = Cli::command()
        .try_get_matches_from(argv)
        .map_err(|e| clap_message(&e))?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| clap_message(&e))?;
    let name = matches.subcommand_name().unwrap_or_default();
    let mut problems = Vec::new();
    if !ALLOWED_COMMANDS.contains(&name) {
        let why = match name {
            "gate" => "a gate inside a gate could start itself without end",
            "stats" | "features" | "merge" => "it writes files",
            _ => "it computes no metric",
        };
        problems.push(format!("a gate cannot run `{name}` ({why})"));
    }
    if !from_gate {
        if cli.global.json {
            problems.push("drop `--json` from `args`: the gate adds --json --quiet itself".into());
        }
        if cli.global.quiet {
            problems.push(
                "drop `--quiet` (`-q`) from `args`: the gate adds --json --quiet itself".into(),
            );
        }
    }
    if let Some(path) = &cli.global.record {
        problems.push(format!(
            "drop `--record {}` from `args`: the gate appends the record to the first \
             `records` file itself",
            path.display()
        ));
    }
    if let Some(path) = ort_lib(&cli.command) {
        problems.push(format!(
            "`--ort-lib {}` is not allowed (loading a library runs its code; the child finds \
             ONNX Runtime as `geneval doctor` shows)",
            path.display()
        ));
    }
    let mut model = |option: &str, path: &Path| {
        if !inside(folder, path) {
            problems.push(format!(
                "`{option} {}` is outside the config's folder {}",
                path.display(),
                shown(folder)
            ));
        }
    };
    match &cli.command {
        Command::Fid(a) => extract_models(&a.extract, &mut model),
        Command::Is(a) => extract_models(&a.extract, &mut model),
        Command::Kid(a) => extract_models(&a.extract, &mut model),
        Command::Prdc(a) => extract_models(&a.extract, &mut model),
        Command::Ppl(a) => {
            model("--model", &a.model);
            if let Some(tokenizer) = &a.tokenizer {
                model("--tokenizer", tokenizer);
            }
            if let Some(output) = &a.output {
                problems.push(format!(
                    "`--output {}` is not allowed (a [[run]] writes only its record)",
                    output.display()
                ));
            }
        }
        _ => {}
    }
    Ok(problems)
}

/// The model files of an image command: `--model PATH` unless a registered
/// name, and `--model-spec`.
fn extract_models(extract: &ExtractArgs, check: &mut impl FnMut(&str, &Path)) {
    if let Some(model) = extract.model.as_deref() {
        if BuiltinNetwork::named(model).is_none() && registry::entry(model).is_err() {
            check("--model", Path::new(model));
        }
    }
    if let Some(spec) = &extract.model_spec {
        check("--model-spec", spec);
    }
}

/// The `--ort-lib` of any command that has one.
fn ort_lib(command: &Command) -> Option<&Path> {
    let path = match command {
        Command::Eval(a) => &a.extract.ort_lib,
        Command::Nn(a) => &a.extract.ort_lib,
        Command::Fid(a) => &a.extract.ort_lib,
        Command::Is(a) => &a.extract.ort_lib,
        Command::Kid(a) => &a.extract.ort_lib,
        Command::Prdc(a) => &a.extract.ort_lib,
        Command::Stats(a) => &a.extract.ort_lib,
        Command::Features(a) => &a.extract.ort_lib,
        Command::Demo(a) => &a.extract.ort_lib,
        Command::Selfcheck(a) => &a.extract.ort_lib,
        Command::Ppl(a) => &a.ort_lib,
        Command::Doctor(a) => &a.ort_lib,
        _ => return None,
    };
    path.as_deref()
}

/// Whether `path`, opened by a child started in `folder`, lies inside
/// `folder` once `..` and symlinks are resolved. A path that does not exist
/// (yet) is judged by its deepest existing ancestor, and what follows that
/// must be plain names, so it cannot climb out when it appears.
fn inside(folder: &Path, path: &Path) -> bool {
    let base = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    let plain = |rest: &Path| {
        rest.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    };
    let Ok(root) = base.canonicalize() else {
        // No such folder (a config checked from text alone): judge the words.
        return plain(path);
    };
    let full = base.join(path);
    for ancestor in full.ancestors() {
        if let Ok(real) = ancestor.canonicalize() {
            let rest = full.strip_prefix(ancestor).unwrap_or(&full);
            return real.starts_with(&root) && plain(rest);
        }
    }
    false
}

/// `ci/`, or `the working folder` for a config there.
fn shown(folder: &Path) -> String {
    if folder.as_os_str().is_empty() {
        "(the working folder)".to_owned()
    } else {
        format!("{}/", folder.display())
    }
}

/// clap's message without its `error: ` prefix, usage and tips; help and
/// version requests (which clap reports as errors) said as such.
fn clap_message(error: &clap::Error) -> String {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "no command to run (it would print help or the version, not a record)".into()
        }
        ErrorKind::MissingSubcommand => "no command to run after the global options".into(),
        _ => first_paragraph(&error.to_string()),
    }
}

/// The first paragraph of clap's message, without `error: `.
fn first_paragraph(message: &str) -> String {
    let text = message.trim_start();
    let text = text.strip_prefix("error: ").unwrap_or(text);
    text.split("\n\n").next().unwrap_or(text).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(args: &[&str]) -> RunSpec {
        RunSpec {
            args: args.iter().map(|a| a.to_string()).collect(),
            label: Default::default(),
        }
    }

    fn refused(args: &[&str]) -> String {
        check(&spec(args), Path::new("ci")).expect_err(&format!("{args:?} should be refused"))
    }

    #[test]
    fn metric_commands_with_registered_models_are_allowed() {
        for args in [
            &[
                "fid", "real/", "fake/", "--model", "builtin", "--mode", "clean",
            ][..],
            &["--label", "x=1", "kid", "a.npy", "b.npy", "--subsets", "10"],
            &[
                "is",
                "/data/images",
                "--model",
                "fid-inception",
                "--device",
                "cpu",
            ],
            &["prdc", "a.npy", "b.npy", "--k", "3"],
            &[
                "fid",
                "a/",
                "b/",
                "--model",
                "models/net.onnx",
                "--model-spec",
                "./net.json",
            ],
            &[
                "ppl",
                "/corpus/wiki.txt",
                "--model",
                "lm",
                "--tokenizer",
                "lm/tokenizer.json",
            ],
        ] {
            check(&spec(args), Path::new("ci")).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        }
    }

    #[test]
    fn ort_lib_is_refused_in_any_command_before_anything_runs() {
        for args in [
            &["doctor", "--ort-lib", "./libonnxruntime.so.1.31.0"][..],
            &["fid", "a", "b", "--ort-lib=./libonnxruntime.so.1.31.0"],
            &["ppl", "t.txt", "--model", "lm", "--ort-lib", "x.so"],
            &["--quiet", "is", "imgs", "--ort-lib", "x.so"],
        ] {
            let message = refused(args);
            assert!(message.contains("`--ort-lib "), "{args:?}: {message}");
            assert!(message.contains("a [[run]] may run fid, is"), "{message}");
        }
        let message = refused(&["doctor", "--ort-lib", "./libonnxruntime.so.1.31.0"]);
        assert!(message.contains("a gate cannot run `doctor`"), "{message}");
    }

    #[test]
    fn gate_behind_global_flags_is_refused() {
        for args in [
            &["--label", "x=1", "gate", "g.toml"][..],
            &["--label=x=1", "gate", "g.toml"],
            &["gate", "g.toml", "--label", "x=1"],
        ] {
            let message = refused(args);
            assert!(
                message.contains("a gate cannot run `gate`"),
                "{args:?}: {message}"
            );
        }
    }

    #[test]
    fn commands_that_write_or_compute_nothing_are_refused() {
        for (args, want) in [
            (
                &["stats", "imgs", "-o", "s.npz"][..],
                "`stats` (it writes files)",
            ),
            (
                &["features", "imgs", "--output", "f.npy"],
                "`features` (it writes files)",
            ),
            (
                &["merge", "a.npz", "-o", "m.npz"],
                "`merge` (it writes files)",
            ),
            (&["generate", "out"], "`generate` (it computes no metric)"),
            (&["disturb", "a", "b", "noise:0.5"], "`disturb`"),
            (&["models", "fetch"], "`models`"),
            (&["report", "r.jsonl", "-o", "r.html"], "`report`"),
            (&["demo"], "`demo`"),
        ] {
            let message = refused(args);
            assert!(message.contains(want), "{args:?}: {message}");
        }
    }

    #[test]
    fn writing_options_and_the_gates_own_flags_are_refused() {
        let message = refused(&[
            "ppl",
            "t.txt",
            "--model",
            "lm",
            "--per-text",
            "-o",
            "/tmp/x",
        ]);
        assert!(
            message.contains("`--output /tmp/x` is not allowed"),
            "{message}"
        );
        let message = refused(&["fid", "a", "b", "--record", "r.jsonl"]);
        assert!(message.contains("drop `--record r.jsonl`"), "{message}");
        let message = refused(&["-q", "fid", "a", "b"]);
        assert!(message.contains("drop `--quiet`"), "{message}");
        let message = refused(&["fid", "a", "b", "--json"]);
        assert!(message.contains("drop `--json`"), "{message}");
        // Options the command does not have are clap's errors, named.
        let message = refused(&["fid", "a", "b", "--png-dir", "p"]);
        assert!(message.contains("not a geneval command line"), "{message}");
        assert!(message.contains("--png-dir"), "{message}");
        for args in [
            &["--help"][..],
            &["fid", "--help"],
            &["--version"],
            &["--label", "x=1"],
        ] {
            let message = refused(args);
            assert!(message.contains("no command to run"), "{args:?}: {message}");
        }
    }

    #[test]
    fn model_paths_outside_the_config_folder_are_refused() {
        for (args, want) in [
            (
                &["fid", "a", "b", "--model", "/opt/evil.onnx"][..],
                "`--model /opt/evil.onnx`",
            ),
            (
                &["fid", "a", "b", "--model", "../evil.onnx"],
                "`--model ../evil.onnx`",
            ),
            (
                &["kid", "a", "b", "--model-spec", "m/../../s.json"],
                "`--model-spec m/../../s.json`",
            ),
            (
                &["ppl", "t.txt", "--model", "/models/lm"],
                "`--model /models/lm`",
            ),
            (
                &["ppl", "t.txt", "--model", "lm", "--tokenizer", "../t.json"],
                "`--tokenizer ../t.json`",
            ),
        ] {
            let message = refused(args);
            assert!(message.contains(want), "{args:?}: {message}");
            assert!(
                message.contains("outside the config's folder ci/"),
                "{message}"
            );
        }
    }

    #[test]
    fn symlinks_out_of_the_config_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("ci");
        std::fs::create_dir_all(folder.join("models")).unwrap();
        std::fs::write(dir.path().join("outside.onnx"), b"x").unwrap();
        std::fs::write(folder.join("models/net.onnx"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.path(), folder.join("up")).unwrap();
        let run = |model: &str| check(&spec(&["fid", "a", "b", "--model", model]), &folder);
        run("models/net.onnx").unwrap();
        run("models/../models/net.onnx").unwrap();
        run("models/not-yet.onnx").unwrap();
        let inside_abs = folder.join("models/net.onnx");
        run(inside_abs.to_str().unwrap()).unwrap();
        for model in ["up/outside.onnx", "up/not-there.onnx", "../outside.onnx"] {
            let err = run(model).unwrap_err();
            assert!(err.contains(&format!("`--model {model}`")), "{err}");
        }
        let outside_abs = dir.path().join("outside.onnx");
        assert!(run(outside_abs.to_str().unwrap()).is_err());
    }

    #[test]
    fn labels_cannot_smuggle_options() {
        let mut run = spec(&["fid", "a", "b"]);
        run.label.insert("--ort-lib".into(), "./lib.so".into());
        // One `--label=KEY=VALUE` token: a label, not an option.
        check(&run, Path::new("ci")).unwrap();
        run.label.clear();
        run.label.insert("a=b".into(), "c".into());
        let message = check(&run, Path::new("ci")).unwrap_err();
        assert!(message.contains("label key `a=b`"), "{message}");
    }
}
