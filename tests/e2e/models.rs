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
        let dict = geneval::model::seeded::seeded_state_dict(geneval::model::seeded::DEFAULT_SEED);
        // Deterministic bytes; rewritten each run (atomically) so a stale
        // file from an older writer is never used.
        geneval::model::pth::write_state_dict(&dict, &path).unwrap();
        let sha = geneval::model::registry::sha256_file(&path).unwrap();
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
    assert!(
        out.status.success(),
        "geneval {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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
        geneval::model::registry::sha256_file(&sandbox.entry().join("source.pth")).unwrap(),
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
    let junk_sha = geneval::model::registry::sha256_file(&junk).unwrap();
    let stderr = error_of(
        sandbox.cmd().env("GENEVAL_FID_INCEPTION_SHA256", &junk_sha),
        &["models", "import", s(&junk)],
    );
    assert!(
        stderr.contains("converting") && stderr.contains("source.pth"),
        "{stderr}"
    );
}
