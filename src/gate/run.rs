//! `[[run]]`: a geneval command line the gate runs before judging, as a
//! child process of the same executable, in the config file's folder, with
//! `--json --quiet` and the run's labels; its stdout is the record.
//!
//! Only command lines [`allow::check`] accepts are started (it runs when the
//! config is loaded and again here, on the final arguments), and every child
//! gets [`DEPTH_ENV`] in its environment: a gate that finds it set refuses to
//! run, so no config can make gates start gates.

use super::allow;
use super::config::RunSpec;
use super::error::GateError;
use crate::record::ResultRecord;
use geneval_reports::read::parse_records;
use geneval_reports::{ReadOptions, Records};
use std::path::Path;
use std::process::{Command, Stdio};

/// Set in each `[[run]]` child's environment; `geneval gate` refuses to run
/// when it is set.
pub const DEPTH_ENV: &str = "GENEVAL_GATE_DEPTH";

/// The child's arguments: the run's, then `--json --quiet`, then
/// `--label=KEY=VALUE` for each label: one token, so that a label such as
/// `--ort-lib` cannot be read as an option.
pub fn child_args(spec: &RunSpec) -> Vec<String> {
    let mut args = spec.args.clone();
    args.push("--json".into());
    args.push("--quiet".into());
    for (key, value) in &spec.label {
        args.push(format!("--label={key}={value}"));
    }
    args
}

/// `geneval fid real/ 'my fakes/'`, for messages.
pub fn command_line(spec: &RunSpec) -> String {
    let mut parts = vec!["geneval".to_owned()];
    for arg in &spec.args {
        if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
            parts.push(format!("'{}'", arg.replace('\'', "'\\''")));
        } else {
            parts.push(arg.clone());
        }
    }
    parts.join(" ")
}

/// Runs `[[run]]` number `index` with the geneval executable `exe` in
/// `folder` (the config's; empty for the working folder) and returns its
/// record; refuses a command line [`allow::check`] does not accept.
pub fn run_geneval(
    exe: &Path,
    index: usize,
    spec: &RunSpec,
    folder: &Path,
) -> Result<ResultRecord, GateError> {
    allow::check(spec, folder).map_err(|message| GateError::RunRefused {
        index,
        command: command_line(spec),
        message,
    })?;
    run_child(exe, index, spec, folder)
}

/// Starts `exe` with [`child_args`] in `folder`, marked as a gate's child
/// ([`DEPTH_ENV`]), and reads its record. No checks: see [`run_geneval`].
fn run_child(
    exe: &Path,
    index: usize,
    spec: &RunSpec,
    folder: &Path,
) -> Result<ResultRecord, GateError> {
    let command = command_line(spec);
    let mut child = Command::new(exe);
    child
        .args(child_args(spec))
        .env(DEPTH_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !folder.as_os_str().is_empty() {
        child.current_dir(folder);
    }
    let output = child.output().map_err(|e| GateError::RunStart {
        index,
        command: command.clone(),
        exe: exe.to_owned(),
        message: e.to_string(),
    })?;
    let stderr = String::from_utf8_lossy(&output.stderr)
        .trim_end()
        .to_owned();
    if !output.status.success() {
        let status = match output.status.code() {
            Some(code) => format!("exit code {code}"),
            None => "killed by a signal".to_owned(),
        };
        return Err(GateError::RunFailed {
            index,
            command,
            status,
            stderr,
        });
    }
    parse_output(index, &command, &output.stdout)
}

/// The one record a `--json` run prints.
pub fn parse_output(index: usize, command: &str, stdout: &[u8]) -> Result<ResultRecord, GateError> {
    let fail = |message: String| GateError::RunOutput {
        index,
        command: command.to_owned(),
        message,
    };
    let text = std::str::from_utf8(stdout).map_err(|e| fail(e.to_string()))?;
    let mut records = Records::default();
    parse_records(
        text,
        Path::new(&format!("[[run]] {index}")),
        ReadOptions::default(),
        &mut records,
    )
    .map_err(|e| fail(e.to_string()))?;
    match (records.records.len(), records.warnings.first()) {
        (1, None) => Ok(records.records.remove(0).record),
        (_, Some(warning)) => Err(fail(warning.clone())),
        (n, None) => Err(fail(format!("{n} records on stdout, not one"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RunSpec {
        RunSpec {
            args: vec!["fid".into(), "real/".into(), "my fakes/".into()],
            label: [
                ("model".to_owned(), "ours".to_owned()),
                ("step".into(), "10".into()),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn child_gets_json_quiet_and_labels() {
        assert_eq!(
            child_args(&spec()),
            [
                "fid",
                "real/",
                "my fakes/",
                "--json",
                "--quiet",
                "--label=model=ours",
                "--label=step=10"
            ]
        );
        assert_eq!(command_line(&spec()), "geneval fid real/ 'my fakes/'");
    }

    #[test]
    fn output_must_be_one_record() {
        let record = ResultRecord::new("fid", "0.1.0", "2026-11-29T00:00:00Z".into());
        let line = serde_json::to_string(&record).unwrap();
        let got = parse_output(1, "geneval fid", format!("{line}\n").as_bytes()).unwrap();
        assert_eq!(got, record);
        let err = parse_output(2, "geneval fid", b"FID: 3.2\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "[[run]] 2 (`geneval fid`) did not print a result record: [[run]] 2:1:"
            ),
            "{err}"
        );
        let err = parse_output(1, "x", format!("{line}\n{line}\n").as_bytes()).unwrap_err();
        assert!(err.to_string().contains("2 records on stdout"), "{err}");
    }

    #[test]
    fn a_failing_run_reports_its_stderr() {
        let spec = RunSpec {
            args: vec![
                "-c".into(),
                "echo 'no such folder: real/' >&2; exit 2".into(),
            ],
            label: Default::default(),
        };
        let err = run_child(Path::new("/bin/sh"), 1, &spec, Path::new("")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("failed (exit code 2); its stderr:\n    no such folder: real/"),
            "{message}"
        );
        let err =
            run_child(Path::new("/nonexistent/geneval"), 1, &spec, Path::new("")).unwrap_err();
        assert!(matches!(err, GateError::RunStart { .. }), "{err}");
    }

    #[test]
    fn children_are_marked_so_they_cannot_start_a_gate() {
        let spec = RunSpec {
            args: vec![
                "-c".into(),
                format!("echo \"depth=${DEPTH_ENV}\" >&2; exit 3"),
            ],
            label: Default::default(),
        };
        let message = run_child(Path::new("/bin/sh"), 1, &spec, Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(message.contains("    depth=1"), "{message}");
    }

    #[test]
    fn refused_command_lines_are_never_started() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("started");
        let sh = Path::new("/bin/sh");
        let touch = RunSpec {
            args: vec!["-c".into(), "touch started".into()],
            label: Default::default(),
        };
        let err = run_geneval(sh, 2, &touch, dir.path()).unwrap_err();
        assert!(
            matches!(err, GateError::RunRefused { index: 2, .. }),
            "{err}"
        );
        assert!(!marker.exists(), "the refused command ran");
        let doctor = RunSpec {
            args: vec![
                "doctor".into(),
                "--ort-lib".into(),
                "./libonnxruntime.so.1.31.0".into(),
            ],
            label: Default::default(),
        };
        let err = run_geneval(sh, 1, &doctor, dir.path()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("`--ort-lib ./libonnxruntime.so.1.31.0` is not allowed"),
            "{message}"
        );
        assert!(
            err.hint_text().contains("without --ort-lib"),
            "{}",
            err.hint_text()
        );
    }

    #[test]
    fn a_childs_stderr_cannot_forge_workflow_commands() {
        let spec = RunSpec {
            args: vec![
                "-c".into(),
                "printf 'bad\\r::add-mask::x\\033[2J\\n::error::y\\n' >&2; exit 2".into(),
            ],
            label: Default::default(),
        };
        let message = run_child(Path::new("/bin/sh"), 1, &spec, Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("    bad\\r::add-mask::x\\u{1b}[2J\n    ::error::y"),
            "{message}"
        );
        assert!(!message.lines().any(|l| l.starts_with("::")), "{message}");
    }
}
