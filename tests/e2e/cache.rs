//! The statistics cache end to end: a second `geneval fid` reads the real
//! side's statistics from the cache without reading one of its images, and
//! gives the same FID to the last bit; editing an image invalidates the
//! entry; `--no-cache` skips it; two processes filling one entry at once
//! leave one sound entry; `geneval cache list|du|clear`.

use crate::common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

struct Sandbox {
    dir: tempfile::TempDir,
    ort: PathBuf,
}

impl Sandbox {
    fn new() -> Self {
        let root = geneval::backend::runtime::cache_root().unwrap();
        let sandbox = Sandbox {
            dir: tempfile::tempdir().unwrap(),
            ort: geneval::backend::runtime::cached_library(&root, false),
        };
        for (name, seed) in [("real", "1"), ("fake", "2")] {
            let out = sandbox
                .cmd()
                .args([
                    "generate",
                    s(&sandbox.side(name)),
                    "--n",
                    "12",
                    "--size",
                    "32",
                    "--seed",
                    seed,
                ])
                .output()
                .unwrap();
            assert_success(&out, "");
        }
        sandbox
    }

    fn side(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = geneval();
        cmd.env("GENEVAL_CACHE_DIR", self.dir.path().join("cache"))
            .env("ORT_DYLIB_PATH", &self.ort)
            .env_remove("GENEVAL_CACHE_MAX_BYTES");
        cmd
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().args(args).arg("--json").output().unwrap();
        assert_success(&out, &format!("geneval {args:?}"));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn fid(&self, extra: &[&str]) -> Value {
        let (real, fake) = (self.side("real"), self.side("fake"));
        let mut args = vec!["fid", s(&real), s(&fake), "--model", "builtin"];
        args.extend_from_slice(extra);
        self.json(&args)
    }
}

fn cache_status(record: &Value, side: &Path) -> String {
    record["settings"]["statistics_cache"][s(side)]["cache"]
        .as_str()
        .unwrap_or("none")
        .to_owned()
}

/// Replaces `path`'s bytes with `bytes`, keeping its modification time.
fn rewrite_keeping_mtime(path: &Path, bytes: &[u8]) {
    let modified: SystemTime = std::fs::metadata(path).unwrap().modified().unwrap();
    std::fs::write(path, bytes).unwrap();
    std::fs::File::options()
        .append(true)
        .open(path)
        .unwrap()
        .set_modified(modified)
        .unwrap();
}

#[test]
fn a_second_fid_reads_no_real_image_and_gives_the_same_bits() {
    let sandbox = Sandbox::new();
    let real = sandbox.side("real");
    let first = sandbox.fid(&[]);
    assert_eq!(cache_status(&first, &real), "miss");
    let second = sandbox.fid(&[]);
    assert_eq!(cache_status(&second, &real), "hit");
    assert_eq!(cache_status(&second, &sandbox.side("fake")), "hit");
    assert_eq!(first["value"], second["value"], "bit-identical FID");
    let entry = second["settings"]["statistics_cache"][s(&real)]["entry"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(Path::new(&entry).join("moments.npz").is_file());

    // Every real image replaced by bytes that are not an image, with the
    // same size and modification time: a run that read them would fail.
    let mut images: Vec<PathBuf> = std::fs::read_dir(&real)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    images.sort();
    let saved: Vec<Vec<u8>> = images.iter().map(|p| std::fs::read(p).unwrap()).collect();
    for (path, bytes) in images.iter().zip(&saved) {
        rewrite_keeping_mtime(path, &vec![0u8; bytes.len()]);
    }
    let third = sandbox.fid(&[]);
    assert_eq!(cache_status(&third, &real), "hit");
    assert_eq!(third["value"], first["value"]);
    // --no-cache reads them, and fails on the first.
    let (realp, fakep) = (sandbox.side("real"), sandbox.side("fake"));
    let out = sandbox
        .cmd()
        .args([
            "fid",
            s(&realp),
            s(&fakep),
            "--model",
            "builtin",
            "--no-cache",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    for (path, bytes) in images.iter().zip(&saved) {
        rewrite_keeping_mtime(path, bytes);
    }

    // Editing one image (new bytes, new time) is a new key: a miss, and
    // another FID.
    let img = image::open(&images[0]).unwrap().to_rgb8();
    let edited = image::RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y);
        image::Rgb([255 - p[0], p[1], p[2]])
    });
    std::thread::sleep(std::time::Duration::from_millis(10));
    edited.save(&images[0]).unwrap();
    let fourth = sandbox.fid(&[]);
    assert_eq!(cache_status(&fourth, &real), "miss");
    assert_ne!(fourth["value"], first["value"]);

    let off = sandbox.fid(&["--no-cache"]);
    assert_eq!(off["settings"]["statistics_cache"], "off");
    assert_eq!(off["value"], fourth["value"]);

    // list / du / clear.
    let listed = sandbox.json(&["cache", "list"]);
    assert_eq!(listed["values"]["entries"], 3.0, "{listed}");
    let du = sandbox.json(&["cache", "du"]);
    assert!(du["values"]["bytes"].as_f64().unwrap() > 0.0);
    let cleared = sandbox.json(&["cache", "clear"]);
    assert_eq!(cleared["values"]["removed"], 3.0);
    assert_eq!(cache_status(&sandbox.fid(&[]), &real), "miss");
}

#[test]
fn two_processes_filling_one_entry_leave_one_sound_entry() {
    let sandbox = Sandbox::new();
    let real = sandbox.side("real");
    let out = |k: usize| sandbox.dir.path().join(format!("s{k}.npz"));
    let children: Vec<_> = (0..2)
        .map(|k| {
            let mut cmd = geneval_std();
            cmd.env("GENEVAL_CACHE_DIR", sandbox.dir.path().join("cache"))
                .env("ORT_DYLIB_PATH", &sandbox.ort)
                .args([
                    "stats",
                    s(&real),
                    "--model",
                    "builtin",
                    "-q",
                    "-o",
                    s(&out(k)),
                ]);
            cmd.spawn().unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(
        std::fs::read(out(0)).unwrap(),
        std::fs::read(out(1)).unwrap()
    );
    let listed = sandbox.json(&["cache", "list"]);
    assert_eq!(listed["values"]["entries"], 1.0, "{listed}");
    let again = sandbox.json(&["stats", s(&real), "--model", "builtin", "-o", s(&out(2))]);
    assert_eq!(cache_status(&again, &real), "hit");
    assert_eq!(
        std::fs::read(out(0)).unwrap(),
        std::fs::read(out(2)).unwrap()
    );
}

/// `--verify-inputs` reads every image (the cache is not consulted), and
/// records a fingerprint of the side's bytes that does not depend on where
/// the folder lies and that an edit keeping the mtime changes.
#[test]
fn verify_inputs_fingerprints_the_bytes_and_skips_the_cache() {
    let sandbox = Sandbox::new();
    let real = sandbox.side("real");
    sandbox.fid(&[]);
    let first = sandbox.fid(&["--verify-inputs"]);
    assert_eq!(cache_status(&first, &real), "none");
    let fingerprint = first["inputs"][0]["content_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(fingerprint.len(), 64);
    assert_ne!(
        first["inputs"][1]["content_sha256"],
        first["inputs"][0]["content_sha256"]
    );
    // The same files elsewhere: the same fingerprint.
    let moved = sandbox.side("moved");
    std::fs::rename(&real, &moved).unwrap();
    let elsewhere = sandbox.json(&[
        "fid",
        s(&moved),
        s(&sandbox.side("fake")),
        "--model",
        "builtin",
        "--verify-inputs",
    ]);
    assert_eq!(
        elsewhere["inputs"][0]["content_sha256"],
        fingerprint.as_str()
    );
    assert_eq!(elsewhere["value"], first["value"]);
    // One image's bytes replaced by another's, its mtime kept: the
    // fingerprint changes.
    std::fs::rename(&moved, &real).unwrap();
    let other = std::fs::read(real.join("00001.png")).unwrap();
    rewrite_keeping_mtime(&real.join("00000.png"), &other);
    let edited = sandbox.fid(&["--verify-inputs"]);
    assert_ne!(edited["inputs"][0]["content_sha256"], fingerprint.as_str());
    // Without the flag, no fingerprint.
    assert!(sandbox.fid(&["--no-cache"])["inputs"][0]
        .get("content_sha256")
        .is_none());
}
