//! Parity with the reference tools on the fixtures of `tests/fixtures/preprocess/`
//! (made by its `generate.py`), plus invariants: identity, 1x1 images, non-square
//! targets, batch slots, and an `#[ignore]`d timing.
//!
//! Scale: `expected.json` states the tolerance in `[0, 255]` levels (1e-4). Outputs are
//! compared after normalisation, so the bound there is `1e-4 * units_per_level`
//! (1/127.5 for pytorch-fid, 1/128 for tf and clean); failures and the printed maxima
//! are reported back in levels.

use std::fs::File;
use std::path::PathBuf;

use ndarray::{Array3, Ix3};
use ndarray_npy::{read_npy, NpzReader};

use super::{Preprocessor, ResizeMode, RgbView};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/preprocess")
}

fn expected_json() -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Loads an HWC uint8 fixture image: (pixels, width, height).
fn load_image(name: &str) -> (Vec<u8>, u32, u32) {
    let arr: Array3<u8> = read_npy(fixtures().join("images").join(format!("{name}.npy"))).unwrap();
    let (h, w, c) = arr.dim();
    assert_eq!(c, 3);
    (
        arr.as_standard_layout().iter().copied().collect(),
        w as u32,
        h as u32,
    )
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Every (image, target) of the fixtures for `mode`; returns the largest difference
/// in `[0, 255]` levels after asserting each is within the tolerance.
fn check_mode(mode: ResizeMode) -> f64 {
    let meta = expected_json();
    let tol_levels = meta["tolerance"]["max_abs_diff_levels"].as_f64().unwrap();
    let per_level = meta["modes"][mode.as_str()]["units_per_level"]
        .as_f64()
        .unwrap();
    let mut npz =
        NpzReader::new(File::open(fixtures().join(format!("expected_{mode}.npz"))).unwrap())
            .unwrap();
    let mut worst: f64 = 0.0;
    let mut checked = 0;
    for img in meta["images"].as_array().unwrap() {
        let name = img["name"].as_str().unwrap();
        let (pixels, w, h) = load_image(name);
        let view = RgbView::new(&pixels, w, h).unwrap();
        let mut targets: Vec<&serde_json::Value> =
            meta["targets"].as_array().unwrap().iter().collect();
        if let Some(extra) = meta["extra_targets"][name].as_array() {
            targets.extend(extra);
        }
        for t in targets {
            let (th, tw) = (
                t["height"].as_u64().unwrap() as u32,
                t["width"].as_u64().unwrap() as u32,
            );
            let expected: Array3<f32> =
                npz.by_name::<_, Ix3>(&format!("{name}_{th}x{tw}")).unwrap();
            let got = Preprocessor::new(mode, tw, th)
                .unwrap()
                .preprocess(view)
                .unwrap();
            assert_eq!(got.dim(), expected.dim());
            let diff_levels = max_abs_diff(got.as_slice().unwrap(), expected.as_slice().unwrap())
                as f64
                / per_level;
            assert!(
                diff_levels <= tol_levels,
                "{mode} {name} -> {th}x{tw}: max abs diff {diff_levels:e} levels > {tol_levels:e}"
            );
            if diff_levels > 0.0 {
                eprintln!("{mode} {name} -> {th}x{tw}: {diff_levels:e} levels");
            }
            worst = worst.max(diff_levels);
            checked += 1;
        }
    }
    assert!(checked >= 18, "only {checked} fixtures checked");
    eprintln!("{mode}: {checked} fixtures, max abs diff {worst:e} levels on [0,255]");
    worst
}

#[test]
fn pytorch_fid_matches_torch_interpolate() {
    check_mode(ResizeMode::PytorchFid);
}

#[test]
fn tf_matches_torch_fidelity() {
    check_mode(ResizeMode::Tf);
}

#[test]
fn clean_matches_clean_fid_pil_bicubic() {
    check_mode(ResizeMode::Clean);
}

/// A deterministic RGB image for the invariant tests.
fn pattern(w: u32, h: u32) -> Vec<u8> {
    (0..w * h * 3)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// The model input a mode makes of byte `v` in channel `c` without resizing.
fn byte_input(mode: ResizeMode, c: usize, v: u8) -> f32 {
    use super::preprocessor::{CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD};
    let v = f32::from(v);
    match mode {
        ResizeMode::PytorchFid => 2.0 * (v / 255.0) - 1.0,
        ResizeMode::Tf | ResizeMode::Clean => (v - 128.0) / 128.0,
        ResizeMode::DgmEval => (v / 255.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c],
        ResizeMode::Cmmd => (v / 255.0 - CLIP_MEAN[c]) / CLIP_STD[c],
    }
}

#[test]
fn same_size_is_identity_up_to_normalisation() {
    let (w, h) = (13, 7);
    let pixels = pattern(w, h);
    let view = RgbView::new(&pixels, w, h).unwrap();
    // CMMD crops to the centred square first: not the identity on 13 × 7.
    for mode in ResizeMode::ALL
        .into_iter()
        .filter(|&m| m != ResizeMode::Cmmd)
    {
        let out = Preprocessor::new(mode, w, h)
            .unwrap()
            .preprocess(view)
            .unwrap();
        for y in 0..h as usize {
            for x in 0..w as usize {
                for c in 0..3 {
                    let want = byte_input(mode, c, pixels[(y * w as usize + x) * 3 + c]);
                    assert_eq!(out[[c, y, x]], want, "{mode} at c={c} y={y} x={x}");
                }
            }
        }
    }
}

#[test]
fn one_by_one_image_fills_the_target() {
    let pixels = [10u8, 128, 255];
    let view = RgbView::new(&pixels, 1, 1).unwrap();
    for mode in ResizeMode::ALL {
        for (tw, th) in [(1, 1), (5, 3), (3, 5)] {
            let out = Preprocessor::new(mode, tw, th)
                .unwrap()
                .preprocess(view)
                .unwrap();
            assert_eq!(out.dim(), (3, th as usize, tw as usize));
            for (c, &byte) in pixels.iter().enumerate() {
                let want = byte_input(mode, c, byte);
                for x in out.index_axis(ndarray::Axis(0), c) {
                    assert!(
                        (x - want).abs() <= 1e-6,
                        "{mode} {tw}x{th} c={c}: {x} vs {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn non_square_targets_keep_width_and_height_apart() {
    // A horizontal ramp: after any resize, values rise along x and are constant along y.
    let (w, h) = (40u32, 10u32);
    let pixels: Vec<u8> = (0..h)
        .flat_map(|_| (0..w).flat_map(|x| [(x * 6) as u8; 3]))
        .collect();
    let view = RgbView::new(&pixels, w, h).unwrap();
    for mode in ResizeMode::ALL {
        let out = Preprocessor::new(mode, 7, 19)
            .unwrap()
            .preprocess(view)
            .unwrap();
        assert_eq!(out.dim(), (3, 19, 7));
        // Constant along y up to rounding (torch's weights need not sum to exactly 1).
        for y in 0..19 {
            for x in 0..7 {
                assert!(
                    (out[[0, y, x]] - out[[0, 0, x]]).abs() <= 1e-6,
                    "{mode} y={y} x={x}"
                );
            }
        }
        let row: Vec<f32> = out.slice(ndarray::s![0, 0, ..]).to_vec();
        assert!(row.windows(2).all(|p| p[0] < p[1]), "{mode}: {row:?}");
    }
}

#[test]
fn batch_slots_equal_single_images() {
    let sizes = [(17u32, 23u32), (1, 1), (64, 40), (5, 1)];
    let images: Vec<Vec<u8>> = sizes.iter().map(|&(w, h)| pattern(w, h)).collect();
    let views: Vec<RgbView<'_>> = images
        .iter()
        .zip(sizes)
        .map(|(p, (w, h))| RgbView::new(p, w, h).unwrap())
        .collect();
    for mode in ResizeMode::ALL {
        let pre = Preprocessor::new(mode, 29, 31).unwrap();
        let mut batch = vec![f32::NAN; views.len() * pre.output_len()];
        pre.preprocess_batch_into(&views, &mut batch).unwrap();
        for (i, view) in views.iter().enumerate() {
            let single = pre.preprocess(*view).unwrap();
            let slot = &batch[i * pre.output_len()..(i + 1) * pre.output_len()];
            assert_eq!(slot, single.as_slice().unwrap(), "{mode} image {i}");
        }
        // Wrong buffer sizes are errors, not panics.
        assert!(pre.preprocess_batch_into(&views, &mut batch[1..]).is_err());
        assert!(pre.preprocess_into(views[0], &mut batch[..10]).is_err());
    }
}

#[test]
fn bad_sizes_are_errors() {
    assert!(RgbView::new(&[0; 5], 1, 2).is_err());
    assert!(RgbView::new(&[], 0, 0).is_err());
    assert!(Preprocessor::new(ResizeMode::Clean, 0, 3).is_err());
    let img = image::RgbImage::from_pixel(3, 2, image::Rgb([1, 2, 3]));
    let view = RgbView::try_from(&img).unwrap();
    assert_eq!((view.width(), view.height()), (3, 2));
}

/// Time per 256x256 -> 299x299 image, single thread, for each mode.
/// `cargo test --release --lib preprocess::parity_tests::timing -- --ignored --nocapture`
#[test]
#[ignore]
fn timing_256_to_299() {
    let pixels = pattern(256, 256);
    let view = RgbView::new(&pixels, 256, 256).unwrap();
    for mode in ResizeMode::ALL {
        let pre = Preprocessor::inception(mode);
        let mut out = vec![0f32; pre.output_len()];
        for _ in 0..20 {
            pre.preprocess_into(view, &mut out).unwrap();
        }
        let n = 300;
        let start = std::time::Instant::now();
        for _ in 0..n {
            pre.preprocess_into(view, std::hint::black_box(&mut out))
                .unwrap();
        }
        let per = start.elapsed().as_secs_f64() / n as f64;
        eprintln!(
            "{mode}: {:.3} ms per 256x256 -> 299x299 image (one thread)",
            per * 1e3
        );
    }
}

#[test]
fn preprocessor_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Copy>() {}
    assert_send_sync::<Preprocessor>();
    assert_send_sync::<ResizeMode>();
}

/// dgm-eval's and CMMD's resizes are Pillow's 8-bit bicubic: byte for byte
/// equal to Pillow 13 on `tests/fixtures/vit/images/a` (made by
/// `tests/fixtures/vit/generate.py`, which recorded the SHA-256 of each
/// reference's resized RGB pixels).
#[test]
fn dgm_eval_and_cmmd_resizes_equal_pillows_bytes() {
    use super::pil_uint8;
    use crate::images::decode::{decode_file, DecodeOptions};
    use sha2::{Digest, Sha256};
    let vit = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vit");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vit.join("expected.json")).unwrap()).unwrap();
    for (mode, size) in [("dgm-eval", 224usize), ("cmmd", 336)] {
        let hashes = expected["resized_rgb_sha256"][mode].as_object().unwrap();
        assert_eq!(hashes.len(), 6);
        for (image, want) in hashes {
            let decoded =
                decode_file(&vit.join("images/a").join(image), &DecodeOptions::default()).unwrap();
            let view = RgbView::try_from(&decoded).unwrap();
            let got = if mode == "cmmd" {
                let (square, side) = pil_uint8::centre_square(view);
                pil_uint8::resize(RgbView::new(&square, side, side).unwrap(), size, size)
            } else {
                pil_uint8::resize(view, size, size)
            };
            let got: String = Sha256::digest(&got)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(&got, want, "{mode} {image}: not Pillow's bytes");
        }
    }
}
