//! `geneval models` and the default `fid-inception` model, end to end, on a
//! `.pth` in pytorch-fid's exact layout and torch's zip format holding the
//! seeded stand-in weights (the official file cannot be downloaded here):
//! import, fetch from a local HTTP server, SHA-256 checks, a damaged cache
//! rebuilt, offline behaviour.

use crate::common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The seeded weights as a `.pth`, written once per build into cargo's
/// temporary folder for integration tests, and its SHA-256.
fn seeded_pth() -> &'static (PathBuf, String) {
    static PTH: OnceLock<(PathBuf, String)> = OnceLock::new();
    PTH.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("seeded_fid_inception.pth");
        let dict = geneval::networks::inception::seeded::seeded_state_dict(
            geneval::networks::inception::seeded::DEFAULT_SEED,
        );
        // Deterministic bytes; rewritten each run (atomically) so a stale
        // file from an older writer is never used.
        geneval::networks::weights::pth::write_state_dict(&dict, &path).unwrap();
        let sha = geneval::networks::registry::sha256_file(&path).unwrap();
        (path, sha)
    })
}

/// The ONNX Runtime library the test command installed.
fn ort_library() -> PathBuf {
    let root = geneval::backend::runtime::cache_root().unwrap();
    let lib = geneval::backend::runtime::cached_library(&root, false);
    assert!(
        lib.is_file(),
        "ONNX Runtime is not installed: run scripts/install-onnxruntime"
    );
    lib
}

/// geneval with a private, empty cache (the ONNX Runtime library is passed
/// explicitly, since it lives in the real cache).
struct Sandbox {
    cache: tempfile::TempDir,
    ort: PathBuf,
}

impl Sandbox {
    fn new() -> Self {
        Sandbox {
            cache: tempfile::tempdir().unwrap(),
            ort: ort_library(),
        }
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = geneval();
        cmd.env("GENEVAL_CACHE_DIR", self.cache.path())
            .env("ORT_DYLIB_PATH", &self.ort)
            .env("GENEVAL_OFFLINE", "1")
            .env_remove("GENEVAL_FID_INCEPTION_URL")
            .env_remove("GENEVAL_FID_INCEPTION_SHA256");
        cmd
    }

    /// Accepting the seeded weights' hash instead of the official one.
    fn seeded(&self) -> assert_cmd::Command {
        let mut cmd = self.cmd();
        cmd.env("GENEVAL_FID_INCEPTION_SHA256", &seeded_pth().1);
        cmd
    }

    fn entry(&self) -> PathBuf {
        self.cache.path().join("models/fid-inception")
    }
}

fn json_of(cmd: &mut assert_cmd::Command, args: &[&str]) -> serde_json::Value {
    let out = cmd.args(args).arg("--json").output().unwrap();
    assert_success(&out, &format!("geneval {args:?}"));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn error_of(cmd: &mut assert_cmd::Command, args: &[&str]) -> String {
    let out = cmd.args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains("hint:") && !stderr.contains("panicked"),
        "{stderr}"
    );
    stderr
}

/// Serves `body` over HTTP on localhost for `requests` requests.
fn serve(body: Vec<u8>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .unwrap();
            stream.write_all(&body).unwrap();
        }
    });
    format!("http://127.0.0.1:{port}/pt_inception-2015-12-05-6726825d.pth")
}

fn folders(dir: &Path) -> (PathBuf, PathBuf) {
    let make = |name: &str, n: u32, shift: u8| {
        let folder = dir.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        for i in 0..n {
            let img = image::RgbImage::from_fn(40 + 3 * i, 33, |x, y| {
                image::Rgb([
                    (x * 5 + i * 9) as u8,
                    (y * 7) as u8 ^ shift,
                    shift.wrapping_add((x + y) as u8),
                ])
            });
            img.save(folder.join(format!("{i}.png"))).unwrap();
        }
        folder
    };
    (make("real", 5, 0), make("fake", 4, 120))
}

#[test]
fn import_then_fid_is_and_dims_use_the_cached_network() {
    let sandbox = Sandbox::new();
    let (pth, sha) = seeded_pth();
    let record = json_of(&mut sandbox.seeded(), &["models", "import", s(pth)]);
    assert_eq!(record["settings"]["installed"]["action"], "imported");
    assert!(record["warnings"]
        .to_string()
        .contains("not the official file"));
    assert!(sandbox.entry().join("model.onnx").is_file());

    let list = json_of(&mut sandbox.seeded(), &["models", "list"]);
    assert_eq!(
        list["settings"]["models"][0]["cached"]["manifest"]["source_sha256"],
        sha.as_str()
    );

    let dir = tempfile::tempdir().unwrap();
    let (real, fake) = folders(dir.path());
    let fid = json_of(&mut sandbox.seeded(), &["fid", s(&real), s(&fake)]);
    assert!(fid["value"].as_f64().unwrap() > 0.0, "{fid}");
    assert_eq!(fid["settings"]["model"], "fid-inception");
    assert_eq!(
        fid["settings"]["model_id"],
        format!("fid-inception@sha256:{sha}")
    );
    assert_eq!(fid["inputs"][0]["dim"], 2048);
    assert!(fid["warnings"].to_string().contains("not pytorch-fid's"));

    let d64 = json_of(
        &mut sandbox.seeded(),
        &["fid", s(&real), s(&fake), "--dims", "64"],
    );
    assert_eq!(d64["inputs"][0]["dim"], 64);
    assert_eq!(d64["settings"]["features_output"], "block64");
    let is = json_of(&mut sandbox.seeded(), &["is", s(&fake), "--splits", "1"]);
    assert_eq!(is["inputs"][0]["dim"], 1008);
    assert!(is["value"].as_f64().unwrap() >= 1.0);
    let stderr = error_of(
        &mut sandbox.seeded(),
        &["fid", s(&real), s(&fake), "--dims", "100"],
    );
    assert!(stderr.contains("2048, 768, 192 or 64"), "{stderr}");

    // A damaged ONNX file is detected by its hash and rebuilt from the kept
    // weights, with the same number.
    let onnx = sandbox.entry().join("model.onnx");
    let mut bytes = std::fs::read(&onnx).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&onnx, &bytes).unwrap();
    let out = sandbox
        .seeded()
        .args(["fid", s(&real), s(&fake), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rebuilding"));
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["value"], fid["value"]);
}

#[test]
fn fetch_verifies_the_download_and_deletes_a_wrong_one() {
    let (pth, sha) = seeded_pth();
    let body = std::fs::read(pth).unwrap();

    let sandbox = Sandbox::new();
    let url = serve(body.clone(), 1);
    // The official hash is expected: the seeded file must be refused and deleted.
    let stderr = error_of(
        sandbox.cmd().env("GENEVAL_FID_INCEPTION_URL", &url),
        &["models", "fetch"],
    );
    assert!(
        stderr.contains("SHA-256") && stderr.contains("deleted"),
        "{stderr}"
    );
    assert!(stderr.contains(&sha[..16]), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(sandbox.entry())
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing may stay in the cache: {left:?}");

    let url = serve(body, 1);
    let record = json_of(
        sandbox.seeded().env("GENEVAL_FID_INCEPTION_URL", &url),
        &["models", "fetch", "fid-inception"],
    );
    assert_eq!(record["settings"]["installed"]["action"], "fetched");
    assert_eq!(
        record["settings"]["installed"]["manifest"]["origin"],
        url.as_str()
    );
    assert_eq!(
        geneval::networks::registry::sha256_file(&sandbox.entry().join("source.pth")).unwrap(),
        *sha
    );
}

#[test]
fn offline_without_a_cache_names_import_and_builtin() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let (real, fake) = folders(dir.path());
    let stderr = error_of(&mut sandbox.cmd(), &["fid", s(&real), s(&fake)]);
    assert!(stderr.contains("models import"), "{stderr}");
    assert!(stderr.contains("--model builtin"), "{stderr}");

    // Online but unreachable (a closed port) reads the same.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x.pth", closed.local_addr().unwrap());
    drop(closed);
    let stderr = error_of(
        sandbox
            .cmd()
            .env_remove("GENEVAL_OFFLINE")
            .env("GENEVAL_FID_INCEPTION_URL", &url),
        &["fid", s(&real), s(&fake)],
    );
    assert!(stderr.contains("downloading"), "announced first: {stderr}");
    assert!(stderr.contains("models import"), "{stderr}");
}

#[test]
fn import_refuses_wrong_and_malformed_files() {
    let sandbox = Sandbox::new();
    let (pth, _) = seeded_pth();
    let stderr = error_of(&mut sandbox.cmd(), &["models", "import", s(pth)]);
    assert!(
        stderr.contains("SHA-256") && stderr.contains("6726825d"),
        "{stderr}"
    );
    assert!(stderr.contains("GENEVAL_FID_INCEPTION_SHA256"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pth");
    std::fs::write(&junk, b"PK\x03\x04 not really a zip").unwrap();
    let junk_sha = geneval::networks::registry::sha256_file(&junk).unwrap();
    let stderr = error_of(
        sandbox.cmd().env("GENEVAL_FID_INCEPTION_SHA256", &junk_sha),
        &["models", "import", s(&junk)],
    );
    assert!(
        stderr.contains("converting") && stderr.contains("junk.pth"),
        "{stderr}"
    );
}

/// Every file in the model's cache folder.
fn cache_listing(sandbox: &Sandbox) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(sandbox.entry())
        .map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A `.pth` whose hash was accepted but which did not convert used to
/// stay in the cache as `source.pth`, and every later run tried to rebuild
/// from it. Now the import is staged and removed on every error path.
#[test]
fn a_failed_import_leaves_no_source_pth_in_the_cache() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pth");
    std::fs::write(&junk, b"PK\x03\x04 not really a zip").unwrap();
    let junk_sha = geneval::networks::registry::sha256_file(&junk).unwrap();
    error_of(
        sandbox.cmd().env("GENEVAL_FID_INCEPTION_SHA256", &junk_sha),
        &["models", "import", s(&junk)],
    );
    assert!(
        cache_listing(&sandbox).is_empty(),
        "{:?}",
        cache_listing(&sandbox)
    );
    // The same with a good entry already cached: it stays usable.
    let (pth, _) = seeded_pth();
    json_of(&mut sandbox.seeded(), &["models", "import", s(pth)]);
    let before = std::fs::read(sandbox.entry().join("source.pth")).unwrap();
    error_of(
        sandbox.cmd().env("GENEVAL_FID_INCEPTION_SHA256", &junk_sha),
        &["models", "import", s(&junk)],
    );
    assert_eq!(
        cache_listing(&sandbox),
        ["manifest.json", "model.onnx", "source.pth"]
    );
    assert_eq!(
        std::fs::read(sandbox.entry().join("source.pth")).unwrap(),
        before
    );
    let list = json_of(&mut sandbox.seeded(), &["models", "list"]);
    assert!(
        list["settings"]["models"][0]["cached"].is_object(),
        "{list}"
    );
}

/// A download killed by SIGKILL left its `.geneval-download-*` file (the
/// 95 MB weights, partly) in the cache forever. Temporary files untouched
/// for an hour are now swept at the next fetch, import or use.
#[test]
fn downloads_killed_mid_way_are_swept_at_the_next_import() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.entry()).unwrap();
    let stale = sandbox.entry().join(".geneval-download-Ab12Cd");
    let live = sandbox.entry().join(".geneval-download-Ef34Gh");
    for (path, age_s) in [(&stale, 2 * 3600), (&live, 0)] {
        let file = std::fs::File::create(path).unwrap();
        file.set_len(5 << 20).unwrap();
        file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(age_s))
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pth");
    std::fs::write(&junk, b"not the weights").unwrap();
    // Refused (wrong hash), and still the leftover is gone; the fresh
    // file may belong to a download running now and stays.
    error_of(&mut sandbox.cmd(), &["models", "import", s(&junk)]);
    assert!(!stale.exists());
    assert!(live.exists());

    // Using the model (`fid` through `ensure`) sweeps as well.
    let file = std::fs::File::create(&stale).unwrap();
    file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(7200))
        .unwrap();
    let (real, fake) = folders(dir.path());
    error_of(&mut sandbox.cmd(), &["fid", s(&real), s(&fake)]);
    assert!(!stale.exists());
}

/// Serves one connection on localhost the way a broken mirror does:
/// accepts, reads the request, then writes `reply` and stalls (an empty
/// `reply`: never answers) with the connection open for `hold`.
fn serve_stalling(reply: Vec<u8>, hold: std::time::Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 2 {
            line.clear();
        }
        let _ = stream.write_all(&reply);
        let _ = stream.flush();
        std::thread::sleep(hold);
    });
    format!("http://127.0.0.1:{port}/pt_inception-2015-12-05-6726825d.pth")
}

/// Runs `models fetch` from `url` with a 1 s idle timeout; returns stderr
/// and how long it took.
fn fetch_from(sandbox: &Sandbox, url: &str) -> (String, std::time::Duration) {
    let start = std::time::Instant::now();
    let stderr = error_of(
        sandbox
            .cmd()
            .env("GENEVAL_FID_INCEPTION_URL", url)
            .env("GENEVAL_DOWNLOAD_IDLE_TIMEOUT_S", "1")
            .timeout(std::time::Duration::from_secs(30)),
        &["models", "fetch"],
    );
    (stderr, start.elapsed())
}

/// A mirror that accepted the connection and never answered hung the
/// download until an outer limit killed it (110 s in CI).
#[test]
fn a_mirror_that_never_answers_times_out() {
    let sandbox = Sandbox::new();
    let url = serve_stalling(Vec::new(), std::time::Duration::from_secs(20));
    let (stderr, took) = fetch_from(&sandbox, &url);
    assert!(stderr.contains("sent no response for 1 s"), "{stderr}");
    assert!(
        stderr.contains("GENEVAL_DOWNLOAD_IDLE_TIMEOUT_S"),
        "{stderr}"
    );
    assert!(took.as_secs_f64() < 10.0, "took {took:?}");
}

/// A mirror that sent its headers and part of the body and then stopped
/// hung the same way; now it fails after the idle timeout and the partial
/// download is deleted.
#[test]
fn a_mirror_that_stops_sending_mid_body_times_out_and_leaves_nothing() {
    let sandbox = Sandbox::new();
    let mut reply =
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n".to_vec();
    reply.extend(std::iter::repeat_n(7u8, 4096));
    let url = serve_stalling(reply, std::time::Duration::from_secs(20));
    let (stderr, took) = fetch_from(&sandbox, &url);
    assert!(stderr.contains("stopped sending"), "{stderr}");
    assert!(stderr.contains("after 4096 of 1000000 bytes"), "{stderr}");
    assert!(took.as_secs_f64() < 10.0, "took {took:?}");
    assert!(
        cache_listing(&sandbox).is_empty(),
        "{:?}",
        cache_listing(&sandbox)
    );
}

/// The old 60 s budget for the whole body failed any link under ~1.6 MB/s.
/// Now only silence counts: a body trickling in over several idle
/// timeouts arrives whole (and is then refused for its hash, which shows
/// it was read to the end).
#[test]
fn a_slow_but_steady_mirror_is_not_cut_off() {
    let sandbox = Sandbox::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x.pth", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 2 {
            line.clear();
        }
        let piece = [1u8; 1000];
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            piece.len() * 10
        )
        .unwrap();
        for _ in 0..10 {
            stream.write_all(&piece).unwrap();
            stream.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    });
    let start = std::time::Instant::now();
    let stderr = error_of(
        sandbox
            .cmd()
            .env("GENEVAL_FID_INCEPTION_URL", &url)
            .env("GENEVAL_DOWNLOAD_IDLE_TIMEOUT_S", "1"),
        &["models", "fetch"],
    );
    assert!(start.elapsed().as_secs_f64() > 2.5, "{stderr}");
    assert!(stderr.contains("10000 bytes received"), "{stderr}");
}

#[test]
fn a_timeout_setting_that_is_not_seconds_is_refused() {
    let sandbox = Sandbox::new();
    let stderr = error_of(
        sandbox
            .cmd()
            .env("GENEVAL_FID_INCEPTION_URL", "http://127.0.0.1:9/x.pth")
            .env("GENEVAL_DOWNLOAD_IDLE_TIMEOUT_S", "forever"),
        &["models", "fetch"],
    );
    assert!(
        stderr.contains("GENEVAL_DOWNLOAD_IDLE_TIMEOUT_S") && stderr.contains("seconds"),
        "{stderr}"
    );
}

/// `--model-spec` with the built-in network was silently ignored: the
/// user's spec never applied and nothing said so.
#[test]
fn model_spec_and_output_names_are_refused_where_they_would_be_ignored() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let (real, fake) = folders(dir.path());
    let spec = dir.path().join("spec.json");
    std::fs::write(&spec, "{}").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--model", "builtin", "--model-spec", s(&spec)],
            "--model-spec applies to ONNX models given by path",
        ),
        (
            &["--model-spec", s(&spec)],
            "registered network (fid-inception, dinov2-vitl14, clip-vit-l14-336) has a fixed spec",
        ),
        (
            &["--model", "builtin", "--features-output", "x"],
            "built-in network has fixed outputs",
        ),
        (
            &["--model", "builtin", "--logits-output", "x"],
            "--logits-output x names an output",
        ),
        (&["--dims", "64", "--features-output", "pool3"], "give one"),
    ];
    for (flags, message) in cases {
        let mut cmd = sandbox.cmd();
        cmd.args(["fid", s(&real), s(&fake)]).args(flags);
        let stderr = error_of(&mut cmd, &[]);
        assert!(stderr.contains(message), "{flags:?}: {stderr}");
    }
}
