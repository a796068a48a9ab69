//! Sides that are archives: the same images as a folder, as two
//! WebDataset-style tar shards (brace range and glob) and as uint8 pixel
//! arrays (`.npz` as ADM saves samples, `.npy`) give identical features;
//! shards of a tar side merge into one pass; a missing shard is named.

use crate::common::*;
use ndarray::{Array2, Array4};
use std::path::{Path, PathBuf};

fn generate(dir: &Path, n: usize) -> PathBuf {
    let images = dir.join("images");
    generate_set(&images, n, 32, 11, &[]);
    images
}

fn sorted_files(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    files.sort();
    files
}

/// Tar shards of `files` in order, `per_shard` each, with a `.cls` member
/// beside every image as WebDataset writes them.
fn write_shards(dir: &Path, files: &[PathBuf], per_shard: usize) {
    for (k, chunk) in files.chunks(per_shard).enumerate() {
        let shard = std::fs::File::create(dir.join(format!("shard-{k:06}.tar"))).unwrap();
        let mut builder = tar::Builder::new(shard);
        for file in chunk {
            let name = file.file_name().unwrap().to_str().unwrap();
            builder.append_path_with_name(file, name).unwrap();
            let label = b"0";
            let mut header = tar::Header::new_gnu();
            header.set_size(label.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            let cls = name.replace(".png", ".cls");
            builder.append_data(&mut header, cls, &label[..]).unwrap();
        }
        builder.finish().unwrap();
    }
}

fn pixels(files: &[PathBuf]) -> Array4<u8> {
    let first = image::open(&files[0]).unwrap().to_rgb8();
    let (w, h) = first.dimensions();
    let mut all = Array4::<u8>::zeros((files.len(), h as usize, w as usize, 3));
    for (i, file) in files.iter().enumerate() {
        let rgb = image::open(file).unwrap().to_rgb8();
        let view =
            ndarray::ArrayView3::from_shape((h as usize, w as usize, 3), rgb.as_raw()).unwrap();
        all.index_axis_mut(ndarray::Axis(0), i).assign(&view);
    }
    all
}

fn features(side: &Path, out: &Path) -> Array2<f32> {
    run_json(&["features", s(side), "--model", "builtin", "-o", s(out)]);
    ndarray_npy::read_npy(out).unwrap()
}

#[test]
fn folder_tar_shards_and_pixel_arrays_give_identical_features() {
    let dir = tempfile::tempdir().unwrap();
    let images = generate(dir.path(), 13);
    let files = sorted_files(&images);
    let shards = dir.path().join("shards");
    std::fs::create_dir(&shards).unwrap();
    write_shards(&shards, &files, 7);
    let all = pixels(&files);
    let npz = dir.path().join("samples.npz");
    let mut writer = ndarray_npy::NpzWriter::new(std::fs::File::create(&npz).unwrap());
    writer.add_array("arr_0", &all).unwrap();
    writer.finish().unwrap();
    let npy = dir.path().join("samples.npy");
    ndarray_npy::write_npy(&npy, &all).unwrap();

    let want = features(&images, &dir.path().join("folder.npy"));
    assert_eq!(want.nrows(), 13);
    let braces = shards.join("shard-{000000..000001}.tar");
    let glob = shards.join("shard-*.tar");
    for (side, name) in [
        (braces.clone(), "braces"),
        (glob, "glob"),
        (npz.clone(), "npz"),
        (npy, "npy"),
    ] {
        let got = features(&side, &dir.path().join(format!("{name}.npy")));
        assert_eq!(got, want, "{name}: features differ from the folder's");
    }

    // Records name the members like files in a folder named as the archive.
    let record = run_json(&["fid", s(&npz), s(&braces), "--model", "builtin"]);
    assert!(record["value"].as_f64().unwrap().abs() < 1e-6, "{record}");

    // Two shards of the tar side, merged, equal one pass.
    let part = |k: usize| dir.path().join(format!("part{k}.npz"));
    for k in 0..2 {
        run_json(&[
            "stats",
            s(&braces),
            "--partial",
            "--model",
            "builtin",
            "--shard",
            &format!("{k}/2"),
            "-o",
            s(&part(k)),
        ]);
    }
    let merged = dir.path().join("merged.npz");
    run_json(&["merge", s(&part(0)), s(&part(1)), "-o", s(&merged)]);
    let single = dir.path().join("single.npz");
    run_json(&["stats", s(&images), "--model", "builtin", "-o", s(&single)]);
    let ((mu_m, sigma_m), (mu_s, sigma_s)) = (read_mu_sigma(&merged), read_mu_sigma(&single));
    let scale = sigma_s.iter().fold(0f64, |m, v| m.max(v.abs()));
    for (a, b) in mu_m.iter().zip(&mu_s).chain(sigma_m.iter().zip(&sigma_s)) {
        assert!((a - b).abs() <= 1e-12 * scale.max(1.0), "{a} vs {b}");
    }
}

#[test]
fn a_missing_shard_a_gzipped_tar_and_compressed_pixels_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let images = generate(dir.path(), 3);
    let files = sorted_files(&images);
    write_shards(dir.path(), &files, 2);
    let out = dir.path().join("f.npy");
    let pattern = dir.path().join("shard-{000000..000002}.tar");
    let e = run_error(&["features", s(&pattern), "--model", "builtin", "-o", s(&out)]);
    assert!(e.contains("shard-000002.tar does not exist"), "{e}");
    assert!(e.contains("hint:"), "{e}");
    assert!(!out.exists());

    let gz = dir.path().join("gz.tar.gz");
    let mut encoder = flate2_like_gzip_header();
    encoder.extend(std::fs::read(dir.path().join("shard-000000.tar")).unwrap());
    std::fs::write(&gz, encoder).unwrap();
    let e = run_error(&["features", s(&gz), "--model", "builtin", "-o", s(&out)]);
    assert!(e.contains("gzip"), "{e}");

    let npz = dir.path().join("compressed.npz");
    let mut writer = ndarray_npy::NpzWriter::new_compressed(std::fs::File::create(&npz).unwrap());
    writer.add_array("arr_0", &pixels(&files)).unwrap();
    writer.finish().unwrap();
    let e = run_error(&["features", s(&npz), "--model", "builtin", "-o", s(&out)]);
    assert!(e.contains("savez_compressed"), "{e}");
    assert!(!out.exists());
}

/// The first bytes of a gzip stream: enough for the refusal, which reads
/// only the magic number.
fn flate2_like_gzip_header() -> Vec<u8> {
    vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]
}
