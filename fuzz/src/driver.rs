//! The bounded in-process driver: runs one input under the checks
//! ([`execute`]), fuzzes one target for a while in a worker process
//! ([`fuzz`]), supervises workers so that an abort or a hang is a reported
//! finding rather than a dead run ([`run`]), and replays saved inputs
//! ([`replay`]).
//!
//! An input fails when the target panics, reports a [`Outcome::Violation`],
//! has more bytes live at once than its bound (refused requests included),
//! takes longer than the slow limit twice in a row, or runs past the hang
//! limit (the worker's watchdog exits the process; the supervisor saves the
//! input the worker wrote to `artifacts/<target>/current` before running it).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::alloc::{self, Usage};
use crate::mutate::{mutate, mutate_zip, Rng};
use crate::targets::{self, Outcome, Target};

/// The worker's exit code when its watchdog found an input running past the hang limit.
pub const HANG_EXIT: i32 = 86;

/// Why an input failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The target panicked (message and location).
    Panic(String),
    /// The target's own assertion failed.
    Violation(String),
    /// More bytes live at once than the target's bound.
    Memory {
        /// The peak, refused requests included.
        peak: usize,
        /// The bound for this input's length.
        bound: usize,
        /// The largest request the allocator refused (0: none).
        refused: usize,
    },
    /// Over the slow limit on two runs.
    Slow(Duration),
}

impl Failure {
    /// A one-word kind, for file listings.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Panic(_) => "panic",
            Failure::Violation(_) => "violation",
            Failure::Memory { .. } => "memory",
            Failure::Slow(_) => "slow",
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Panic(m) => write!(f, "panic: {}", m.replace('\n', " ")),
            Failure::Violation(m) => write!(f, "violation: {m}"),
            Failure::Memory {
                peak,
                bound,
                refused,
            } => {
                write!(f, "memory: peak {peak} bytes over the bound of {bound}")?;
                if *refused > 0 {
                    write!(f, " (a request of {refused} bytes was refused)")?;
                }
                Ok(())
            }
            Failure::Slow(d) => write!(f, "slow: {:.1} s", d.as_secs_f64()),
        }
    }
}

/// One input's run.
#[derive(Debug)]
pub struct Executed {
    /// What came of it (slow inputs are judged by [`check_time`]).
    pub result: Result<Outcome, Failure>,
    /// How long the target took.
    pub elapsed: Duration,
    /// What it allocated.
    pub usage: Usage,
}

/// Over this many bytes live, the allocator refuses: far enough above the
/// bound to measure how far an input goes, low enough not to take the
/// machine's memory (the machines running this are shared).
fn refusal_cap(bound: usize) -> usize {
    bound.saturating_mul(4).max(1 << 30)
}

static CAPTURING: AtomicBool = AtomicBool::new(false);
static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);

/// A panic hook that keeps the first message while an input runs (a
/// fuzzing run would otherwise print thousands) and otherwise behaves as
/// before (a failing test still prints its assertion).
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAPTURING.load(Relaxed) {
                let mut slot = PANIC_MESSAGE.lock().unwrap_or_else(|p| p.into_inner());
                if slot.is_none() {
                    *slot = Some(info.to_string());
                }
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `target` on `bytes` with the panic, assertion and allocation checks.
pub fn execute(target: &Target, bytes: &[u8]) -> Executed {
    install_panic_hook();
    let bound = (target.bound)(bytes.len());
    *PANIC_MESSAGE.lock().unwrap_or_else(|p| p.into_inner()) = None;
    CAPTURING.store(true, Relaxed);
    let armed = alloc::arm(refusal_cap(bound));
    watchdog_begin();
    let start = Instant::now();
    let caught = catch_unwind(AssertUnwindSafe(|| (target.run)(bytes)));
    let elapsed = start.elapsed();
    watchdog_end();
    let usage = alloc::disarm(armed);
    CAPTURING.store(false, Relaxed);
    let result = match caught {
        Err(payload) => {
            let captured = PANIC_MESSAGE
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            let message = captured.unwrap_or_else(|| {
                payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".into())
            });
            Err(Failure::Panic(message))
        }
        Ok(_) if usage.peak > bound => Err(Failure::Memory {
            peak: usage.peak,
            bound,
            refused: usage.refused,
        }),
        Ok(Outcome::Violation(m)) => Err(Failure::Violation(m)),
        Ok(outcome) => Ok(outcome),
    };
    Executed {
        result,
        elapsed,
        usage,
    }
}

/// [`execute`], then the time check: an input over `slow` is run again (a
/// busy machine is not a finding) and fails when the second run is slow too.
pub fn check_time(target: &Target, bytes: &[u8], slow: Duration) -> Result<Outcome, Failure> {
    let first = execute(target, bytes);
    if first.result.is_err() || first.elapsed <= slow {
        return first.result;
    }
    let second = execute(target, bytes);
    if second.result.is_ok() && second.elapsed > slow {
        return Err(Failure::Slow(first.elapsed.min(second.elapsed)));
    }
    second.result
}

// ---------------------------------------------------------------------------
// Watchdog

static STARTED_MS: AtomicU64 = AtomicU64::new(0);
static EPOCH: OnceLock<Instant> = OnceLock::new();

fn now_ms() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

fn watchdog_begin() {
    STARTED_MS.store(now_ms(), Relaxed);
}

fn watchdog_end() {
    STARTED_MS.store(0, Relaxed);
}

/// Starts the thread that ends the process with [`HANG_EXIT`] when one input
/// runs longer than `hang` (a parser in an endless loop cannot be unwound).
fn start_watchdog(hang: Duration, target: &'static str) {
    let limit = hang.as_millis() as u64;
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(50));
        let started = STARTED_MS.load(Relaxed);
        if started != 0 && now_ms().saturating_sub(started) > limit {
            eprintln!(
                "{target}: hang: an input ran over {} s; the worker stops",
                hang.as_secs_f64()
            );
            std::process::exit(HANG_EXIT);
        }
    });
}

// ---------------------------------------------------------------------------
// Fuzzing one target (the worker)

/// Settings of a fuzzing run.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// Seconds per target.
    pub seconds: f64,
    /// The random seed (the same seed gives the same inputs).
    pub seed: u64,
    /// Where findings go (`<artifacts>/<target>/`).
    pub artifacts: PathBuf,
    /// Inputs slower than this (twice) fail.
    pub slow: Duration,
    /// An input running longer than this stops the worker (a hang).
    pub hang: Duration,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            seconds: 60.0,
            seed: 1,
            artifacts: default_artifacts(),
            slow: Duration::from_secs(2),
            hang: Duration::from_secs(10),
        }
    }
}

/// `fuzz/artifacts` in the checkout.
pub fn default_artifacts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts")
}

/// `fuzz/regressions` in the checkout.
pub fn default_regressions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions")
}

/// What one worker did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Inputs run.
    pub execs: u64,
    /// Inputs in the corpus at the end.
    pub corpus: usize,
    /// Distinct outcomes seen.
    pub outcomes: usize,
    /// Failing inputs (each distinct failure is saved once).
    pub failures: u64,
    /// Seconds spent.
    pub seconds: f64,
}

impl Stats {
    fn to_json(&self, target: &str, done: bool) -> String {
        serde_json::json!({
            "target": target,
            "execs": self.execs,
            "corpus": self.corpus,
            "outcomes": self.outcomes,
            "failures": self.failures,
            "seconds": self.seconds,
            "done": done,
        })
        .to_string()
    }

    fn from_json(line: &str) -> Option<Stats> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        Some(Stats {
            execs: v.get("execs")?.as_u64()?,
            corpus: v.get("corpus")?.as_u64()? as usize,
            outcomes: v.get("outcomes")?.as_u64()? as usize,
            failures: v.get("failures")?.as_u64()?,
            seconds: v.get("seconds")?.as_f64()?,
        })
    }
}

/// The corpus stops growing here (memory and selection stay cheap).
const MAX_CORPUS: usize = 4096;

/// An outcome's identity for the feedback: `Accepted` summaries and the
/// first 40 characters of error messages (and of their last line when they
/// have several), digits removed (offsets and sizes would make every input
/// new).
pub fn signature(outcome: &Outcome) -> String {
    let (tag, text) = match outcome {
        Outcome::Accepted(s) => ("ok", s),
        Outcome::Rejected(s) => ("err", s),
        Outcome::Violation(s) => ("violation", s),
    };
    let head = |line: &str| -> String {
        line.chars()
            .filter(|c| !c.is_ascii_digit())
            .take(40)
            .collect()
    };
    let first = text.lines().next().unwrap_or("");
    match text.lines().last() {
        // Diagnostics that quote the input (TOML's) say what is wrong last.
        Some(last) if text.lines().nth(1).is_some() => {
            format!("{tag}:{}|{}", head(first), head(last))
        }
        _ => format!("{tag}:{}", head(first)),
    }
}

fn short_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Saves a failing input as `<dir>/<sha256 prefix>` and notes it in
/// `<dir>/findings.txt`; returns the file.
fn save_finding(dir: &Path, bytes: &[u8], what: &str) -> PathBuf {
    let path = dir.join(short_hash(bytes));
    if let Err(e) = std::fs::write(&path, bytes) {
        eprintln!("cannot save {}: {e}", path.display());
    }
    let line = format!("{}\t{}\n", short_hash(bytes), what.replace('\n', " "));
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("findings.txt"))
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = appended {
        eprintln!("cannot note the finding in {}: {e}", dir.display());
    }
    path
}

/// Fuzzes `target` for `options.seconds` in this process, printing progress
/// as JSON lines on stdout (for the supervisor) and findings on stderr.
pub fn fuzz(target: &'static Target, options: &FuzzOptions) -> Stats {
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(options.seconds.max(0.0));
    let dir = options.artifacts.join(target.name);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
    }
    let mut current = InProgress::open(&dir.join("current"));
    start_watchdog(options.hang, target.name);

    let seeds = (target.seeds)();
    let largest = seeds.iter().map(|s| s.bytes.len()).max().unwrap_or(0);
    let max_len = (2 * largest).clamp(64 << 10, 1 << 20);
    let mut rng = Rng::new(options.seed ^ u64::from_le_bytes(pad8(target.name.as_bytes())));
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut failed: HashSet<String> = HashSet::new();
    let mut stats = Stats::default();
    let mut next_report = Instant::now() + Duration::from_secs(1);

    let mut run_one =
        |bytes: Vec<u8>, is_seed: bool, corpus: &mut Vec<Vec<u8>>, stats: &mut Stats| {
            current.record(&bytes);
            stats.execs += 1;
            match check_time(target, &bytes, options.slow) {
                Ok(outcome) => {
                    let new = seen.insert(signature(&outcome));
                    stats.outcomes = seen.len();
                    if (new || is_seed) && corpus.len() < MAX_CORPUS {
                        corpus.push(bytes);
                    }
                }
                Err(failure) => {
                    stats.failures += 1;
                    let what = failure.to_string();
                    let key: String = what
                        .chars()
                        .filter(|c| !c.is_ascii_digit())
                        .take(100)
                        .collect();
                    if failed.insert(key) {
                        let path = save_finding(&dir, &bytes, &what);
                        eprintln!(
                            "{}: {what}\n  input saved as {}",
                            target.name,
                            path.display()
                        );
                        let finding = serde_json::json!({"finding": what, "file": path});
                        println!("{finding}");
                    }
                }
            }
        };

    for seed in seeds {
        run_one(seed.bytes, true, &mut corpus, &mut stats);
    }
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    while Instant::now() < deadline {
        let parent = &corpus[rng.below(corpus.len())];
        let other = &corpus[rng.below(corpus.len())];
        let zipped = if target.zip && rng.one_in(2) {
            mutate_zip(&mut rng, parent, other, target.dictionary, max_len)
        } else {
            None
        };
        let input =
            zipped.unwrap_or_else(|| mutate(&mut rng, parent, other, target.dictionary, max_len));
        run_one(input, false, &mut corpus, &mut stats);
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(1);
            stats.corpus = corpus.len();
            stats.seconds = start.elapsed().as_secs_f64();
            println!("{}", stats.to_json(target.name, false));
        }
    }
    current.remove();
    targets::remove_scratch();
    stats.corpus = corpus.len();
    stats.outcomes = seen.len();
    stats.seconds = start.elapsed().as_secs_f64();
    println!("{}", stats.to_json(target.name, true));
    stats
}

/// `artifacts/<target>/current`: the input being run, left behind if the
/// process dies. Rewritten in place through one open handle: truncating and
/// closing a file on ext4 forces it to disk (`auto_da_alloc`) and cost more
/// than most parsers.
struct InProgress {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl InProgress {
    fn open(path: &Path) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path);
        if let Err(e) = &file {
            eprintln!(
                "cannot write {} (an abort would lose its input): {e}",
                path.display()
            );
        }
        InProgress {
            path: path.to_owned(),
            file: file.ok(),
        }
    }

    fn record(&mut self, bytes: &[u8]) {
        use std::os::unix::fs::FileExt;
        let Some(file) = &self.file else { return };
        let written = file
            .write_all_at(bytes, 0)
            .and_then(|()| file.set_len(bytes.len() as u64));
        if let Err(e) = written {
            eprintln!("cannot write {}: {e}", self.path.display());
            self.file = None;
        }
    }

    fn remove(self) {
        drop(self.file);
        let _ = std::fs::remove_file(&self.path);
    }
}

fn pad8(bytes: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (i, b) in bytes.iter().enumerate() {
        out[i % 8] ^= b;
    }
    out
}

// ---------------------------------------------------------------------------
// The supervisor

/// Workers started per target at most (each abort or hang starts another).
const MAX_WORKERS: u32 = 8;

/// Fuzzes each target in a worker process of `exe` for `options.seconds`,
/// restarting workers that die (an abort, a hang) after saving the input
/// they were running. Prints one line per target; returns whether nothing
/// failed.
pub fn run(exe: &Path, names: &[&'static str], options: &FuzzOptions) -> bool {
    let mut clean = true;
    let mut findings = Vec::new();
    println!(
        "{:<12} {:>10} {:>9} {:>7} {:>9} {:>9}",
        "target", "execs", "execs/s", "corpus", "outcomes", "failures"
    );
    for &name in names {
        let start = Instant::now();
        let deadline = start + Duration::from_secs_f64(options.seconds);
        let mut total = Stats::default();
        let mut workers = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if workers > 0 && remaining < Duration::from_millis(200) {
                break;
            }
            workers += 1;
            let spawned = spawn_worker(exe, name, options, remaining, workers, &mut findings);
            let (last, status) = match spawned {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{name}: cannot start a worker: {e}");
                    total.failures += 1;
                    break;
                }
            };
            if let Some(s) = &last {
                total.execs += s.execs;
                total.failures += s.failures;
                total.corpus = s.corpus;
                total.outcomes = total.outcomes.max(s.outcomes);
            }
            let died = !matches!(status.code(), Some(0) | Some(1)) || last.is_none();
            if !died {
                break;
            }
            total.failures += 1;
            let dir = options.artifacts.join(name);
            let what = describe_death(&status);
            match std::fs::read(dir.join("current")) {
                Ok(bytes) => {
                    let path = save_finding(&dir, &bytes, &what);
                    let _ = std::fs::remove_file(dir.join("current"));
                    eprintln!("{name}: {what}\n  input saved as {}", path.display());
                    findings.push(Finding { what, file: path });
                }
                Err(_) => eprintln!("{name}: {what} (no input in progress was left behind)"),
            }
            if workers >= MAX_WORKERS {
                eprintln!("{name}: {MAX_WORKERS} workers died; moving on");
                break;
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{:<12} {:>10} {:>9.0} {:>7} {:>9} {:>9}",
            name,
            total.execs,
            total.execs as f64 / seconds.max(1e-9),
            total.corpus,
            total.outcomes,
            total.failures
        );
        clean &= total.failures == 0;
    }
    if !findings.is_empty() {
        println!("findings ({}):", findings.len());
        for f in &findings {
            println!("  {}\n    {}", f.file.display(), f.what);
        }
    }
    clean
}

/// A failing input a worker saved (or the supervisor, for a dead worker).
#[derive(Debug, Clone)]
struct Finding {
    what: String,
    file: PathBuf,
}

impl Finding {
    fn from_json(line: &str) -> Option<Finding> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        Some(Finding {
            what: v.get("finding")?.as_str()?.to_owned(),
            file: PathBuf::from(v.get("file")?.as_str()?),
        })
    }
}

fn spawn_worker(
    exe: &Path,
    name: &str,
    options: &FuzzOptions,
    seconds: Duration,
    attempt: u32,
    findings: &mut Vec<Finding>,
) -> std::io::Result<(Option<Stats>, std::process::ExitStatus)> {
    let mut child = Command::new(exe)
        .arg("worker")
        .arg(name)
        .arg("--seconds")
        .arg(format!("{:.3}", seconds.as_secs_f64()))
        .arg("--seed")
        .arg((options.seed + u64::from(attempt) - 1).to_string())
        .arg("--artifacts")
        .arg(&options.artifacts)
        .arg("--slow-ms")
        .arg(options.slow.as_millis().to_string())
        .arg("--hang-s")
        .arg(options.hang.as_secs_f64().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut last = None;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if let Some(stats) = Stats::from_json(&line) {
                last = Some(stats);
            } else if let Some(finding) = Finding::from_json(&line) {
                findings.push(finding);
            }
        }
    }
    let status = child.wait()?;
    Ok((last, status))
}

fn describe_death(status: &std::process::ExitStatus) -> String {
    if status.code() == Some(HANG_EXIT) {
        return "hang: the input ran past the hang limit".into();
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        match status.signal() {
            Some(6) => {
                return "abort (SIGABRT): an allocation refused over the cap, or a Rust abort; see the message above".into()
            }
            Some(9) => return "killed (SIGKILL): out of memory?".into(),
            Some(11) => return "segmentation fault (SIGSEGV)".into(),
            Some(sig) => return format!("killed by signal {sig}"),
            None => {}
        }
    }
    format!("the worker died ({status})")
}

// ---------------------------------------------------------------------------
// Replay

/// Inputs under `path` with their targets: a file (its folder names the
/// target), a target's folder, or a folder of target folders. Notes and
/// the input in progress (`current`, `findings.txt`, `*.md`, dot files)
/// are not inputs.
pub fn inputs(path: &Path) -> Result<Vec<(PathBuf, &'static Target)>, String> {
    let folder_name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    if path.is_file() {
        let parent = path.parent().map(folder_name).unwrap_or_default();
        let target = targets::by_name(&parent).ok_or_else(|| {
            format!(
                "{}: its folder `{parent}` is not a target name",
                path.display()
            )
        })?;
        return Ok(vec![(path.to_owned(), target)]);
    }
    let list = |dir: &Path| -> Result<Vec<PathBuf>, String> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        Ok(entries)
    };
    let is_input = |p: &Path| {
        let n = folder_name(p);
        p.is_file()
            && !n.starts_with('.')
            && n != "current"
            && n != "findings.txt"
            && !n.ends_with(".md")
    };
    if let Some(target) = targets::by_name(&folder_name(path)) {
        return Ok(list(path)?
            .into_iter()
            .filter(|p| is_input(p))
            .map(|p| (p, target))
            .collect());
    }
    let mut out = Vec::new();
    for sub in list(path)? {
        if let Some(target) = sub
            .is_dir()
            .then(|| targets::by_name(&folder_name(&sub)))
            .flatten()
        {
            out.extend(
                list(&sub)?
                    .into_iter()
                    .filter(|p| is_input(p))
                    .map(|p| (p, target)),
            );
        }
    }
    Ok(out)
}

/// One replayed input: its file, its target and what came of it.
pub type Replayed = (PathBuf, &'static str, Result<Outcome, Failure>);

/// Runs every input under `path` once; each with its result.
pub fn replay(path: &Path, slow: Duration) -> Result<Vec<Replayed>, String> {
    let mut out = Vec::new();
    for (file, target) in inputs(path)? {
        let bytes =
            std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let result = {
            let _serial = alloc::serial();
            check_time(target, &bytes, slow)
        };
        out.push((file, target.name, result));
    }
    targets::remove_scratch();
    Ok(out)
}
