//! Layouts, configuration inference, layout errors, and the graphs in ONNX
//! Runtime. Parity with the reference code (dgm-eval's DINOv2 path through
//! timm, CMMD's CLIP path through transformers) is tested end to end in
//! `tests/e2e/vit.rs` on `tests/fixtures/vit/`.

use super::seeded::{seeded_state_dict, tiny, CLIP_SEED, DINOV2_SEED};
use super::*;
use crate::onnx::runtime_tests::{run, session, uniform};

fn parameters(config: &VitConfig) -> usize {
    expected_keys(config)
        .iter()
        .map(|(_, s)| s.iter().product::<usize>())
        .sum()
}

#[test]
fn vit_large_layouts_have_the_published_sizes() {
    // DINOv2 ViT-L/14: 304.37 M parameters (with the unused mask token), as
    // the hub model counts them.
    let dinov2 = VitConfig::large(Family::Dinov2);
    assert_eq!(parameters(&dinov2), 304_368_640);
    // cls, pos, mask, patch weight and bias; the final norm; 14 per block.
    assert_eq!(expected_keys(&dinov2).len(), 5 + 2 + 24 * 14);
    // CLIP ViT-L/14@336 image tower with its projection to 768.
    let clip = VitConfig::large(Family::Clip);
    assert_eq!(parameters(&clip), 304_293_888);
    let keys = expected_keys(&clip);
    assert!(keys.contains(&(
        "vision_model.encoder.layers.23.self_attn.out_proj.weight".into(),
        vec![1024, 1024]
    )));
    assert!(keys.contains(&("visual_projection.weight".into(), vec![768, 1024])));
}

#[test]
fn sizes_are_read_from_the_weights() {
    for (family, seed) in [(Family::Dinov2, DINOV2_SEED), (Family::Clip, CLIP_SEED)] {
        let config = tiny(family);
        let dict = seeded_state_dict(&config, seed);
        assert_eq!(VitConfig::infer(&dict, family).unwrap(), config);
    }
    assert_eq!(tiny(Family::Dinov2).grid(), 16);
    assert_eq!(tiny(Family::Clip).grid(), 24);
}

fn layout_error(dict: &StateDict, family: Family) -> LayoutMismatch {
    match build_onnx(dict, family) {
        Err(VitError::Layout(m)) => m,
        other => panic!("expected a layout error, got {:?}", other.map(|b| b.len())),
    }
}

#[test]
fn every_layout_problem_is_reported_at_once() {
    let config = tiny(Family::Dinov2);
    let mut dict = seeded_state_dict(&config, 1);
    dict.remove("blocks.1.ls2.gamma");
    dict.insert(
        "head.weight".into(),
        crate::networks::TensorF32::new(vec![2], vec![0.0; 2]).unwrap(),
    );
    dict.get_mut("norm.bias").unwrap().shape = vec![2, 64];
    let m = layout_error(&dict, Family::Dinov2);
    assert_eq!(m.missing, [("blocks.1.ls2.gamma".to_owned(), vec![128])]);
    assert_eq!(m.unexpected, [("head.weight".to_owned(), vec![2])]);
    assert_eq!(m.wrong_shape[0].key, "norm.bias");
    let text = m.to_string();
    assert!(text.contains("DINOv2"), "{text}");

    // A CLIP state dict is not a DINOv2 one: ViT-L's layout is listed.
    let clip = seeded_state_dict(&tiny(Family::Clip), 1);
    let m = layout_error(&clip, Family::Dinov2);
    assert_eq!(
        m.expected_tensors,
        expected_keys(&VitConfig::large(Family::Dinov2)).len()
    );
}

#[test]
fn a_clip_files_text_tower_is_ignored_but_not_a_missing_vision_key() {
    let config = tiny(Family::Clip);
    let mut dict = seeded_state_dict(&config, 1);
    assert!(dict.contains_key("text_projection.weight"));
    assert!(build_onnx(&dict, Family::Clip).is_ok());
    dict.remove("vision_model.post_layernorm.bias");
    let m = layout_error(&dict, Family::Clip);
    assert_eq!(m.missing.len(), 1);
}

#[test]
fn a_width_that_is_not_whole_heads_is_refused() {
    let mut dict = seeded_state_dict(&tiny(Family::Dinov2), 1);
    dict.get_mut("cls_token").unwrap().shape = vec![1, 1, 100];
    assert!(matches!(
        build_onnx(&dict, Family::Dinov2),
        Err(VitError::Width { width: 100 })
    ));
}

#[test]
fn a_non_finite_weight_is_named() {
    let mut dict = seeded_state_dict(&tiny(Family::Clip), 1);
    dict.get_mut("vision_model.pre_layrnorm.weight")
        .unwrap()
        .data[3] = f32::NAN;
    let err = build_onnx(&dict, Family::Clip).unwrap_err();
    assert!(err.to_string().contains("pre_layrnorm.weight[3]"), "{err}");
}

/// The graph of `family`'s tiny config on two random images, and on the
/// first alone: shapes, finiteness, batch independence.
fn run_tiny(family: Family, outputs: &[&str]) -> Option<Vec<(Vec<i64>, Vec<f32>)>> {
    let config = tiny(family);
    let model = build_onnx(&seeded_state_dict(&config, 7), family).unwrap();
    let mut session = session(&model, 1)?;
    let s = config.input_size;
    let image = 3 * s * s;
    let input = uniform(11, 2 * image);
    let both = run(
        &mut session,
        INPUT_NAME,
        &[2, 3, s, s],
        input.clone(),
        outputs,
    );
    let first = run(
        &mut session,
        INPUT_NAME,
        &[1, 3, s, s],
        input[..image].to_vec(),
        outputs,
    );
    for ((_, batch), (_, alone)) in both.iter().zip(&first) {
        let d = alone.len();
        for (a, b) in batch[..d].iter().zip(alone) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
        }
        assert!(batch.iter().all(|v| v.is_finite()));
    }
    Some(both)
}

#[test]
fn the_dinov2_graph_runs_and_gives_one_row_per_image() {
    let Some(out) = run_tiny(Family::Dinov2, &[FEATURES]) else {
        return;
    };
    assert_eq!(out[0].0, [2, 128]);
    // The class token after LayerNorm: mean ≈ Σβ/width, not all equal.
    let row = &out[0].1[..128];
    assert!(row.iter().any(|v| (v - row[0]).abs() > 1e-3));
}

#[test]
fn the_clip_graph_gives_unit_embeddings() {
    let Some(out) = run_tiny(Family::Clip, &[IMAGE_EMBEDS, EMBEDDING]) else {
        return;
    };
    assert_eq!(out[0].0, [2, 96]);
    assert_eq!(out[1].0, [2, 96]);
    for (raw, unit) in out[0].1.chunks(96).zip(out[1].1.chunks(96)) {
        let norm: f32 = raw.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!(norm > 1e-3);
        for (r, u) in raw.iter().zip(unit) {
            assert!((r / norm - u).abs() < 1e-6);
        }
    }
}
