//! The layout, the state-dict checks and the graph in ONNX Runtime. Parity
//! with pytorch-fid on images is tested end to end in `tests/e2e/inception.rs`.

use std::sync::OnceLock;

use super::*;
use crate::networks::inception::seeded::seeded_state_dict;
use crate::networks::TensorF32;
use crate::onnx::runtime_tests::{run, session, uniform};

fn seeded() -> &'static StateDict {
    static DICT: OnceLock<StateDict> = OnceLock::new();
    DICT.get_or_init(|| seeded_state_dict(3))
}

fn layout_error(dict: &StateDict) -> LayoutMismatch {
    match build_onnx(dict) {
        Err(InceptionError::Layout(m)) => m,
        other => panic!("expected a layout error, got {other:?}"),
    }
}

#[test]
fn layout_is_pytorch_fids() {
    let keys = expected_keys();
    assert_eq!(keys.len(), 472);
    let values: usize = keys.iter().map(|(_, s)| s.iter().product::<usize>()).sum();
    assert_eq!(values, 23_885_392);
    assert_eq!(
        keys[0],
        ("Conv2d_1a_3x3.conv.weight".into(), vec![32, 3, 3, 3])
    );
    assert_eq!(keys[4], ("Conv2d_1a_3x3.bn.running_var".into(), vec![32]));
    let find = |name: &str| keys.iter().find(|(k, _)| k == name).map(|(_, s)| s.clone());
    assert_eq!(
        find("Mixed_5b.branch_pool.conv.weight"),
        Some(vec![32, 192, 1, 1])
    );
    assert_eq!(
        find("Mixed_6b.branch7x7_2.conv.weight"),
        Some(vec![128, 128, 1, 7])
    );
    assert_eq!(
        find("Mixed_6e.branch7x7dbl_2.conv.weight"),
        Some(vec![192, 192, 7, 1])
    );
    assert_eq!(
        find("Mixed_7a.branch3x3_2.conv.weight"),
        Some(vec![320, 192, 3, 3])
    );
    assert_eq!(
        find("Mixed_7b.branch1x1.conv.weight"),
        Some(vec![320, 1280, 1, 1])
    );
    assert_eq!(
        find("Mixed_7c.branch3x3dbl_3b.conv.weight"),
        Some(vec![384, 384, 3, 1])
    );
    assert_eq!(
        find("Mixed_7c.branch_pool.conv.weight"),
        Some(vec![192, 2048, 1, 1])
    );
    assert_eq!(find("AuxLogits.fc.weight"), None);
    assert_eq!(keys[470], ("fc.weight".into(), vec![1008, 2048]));
    assert_eq!(keys[471], ("fc.bias".into(), vec![1008]));
    // 94 BasicConv2d, 5 tensors each, plus the classifier.
    assert_eq!(
        keys.iter()
            .filter(|(k, _)| k.ends_with(".conv.weight"))
            .count(),
        94
    );
}

#[test]
fn dims_name_the_block_outputs() {
    assert_eq!(output_for_dims(2048), Some(POOL3));
    assert_eq!(output_for_dims(768), Some(BLOCK768));
    assert_eq!(output_for_dims(192), Some(BLOCK192));
    assert_eq!(output_for_dims(64), Some(BLOCK64));
    assert_eq!(output_for_dims(1008), None);
    assert_eq!(output_for_dims(0), None);
}

#[test]
fn a_missing_key_is_named_with_its_shape() {
    let mut dict = seeded().clone();
    dict.remove("Mixed_6c.branch7x7dbl_3.bn.running_var");
    let m = layout_error(&dict);
    assert_eq!(
        m.missing,
        [(
            "Mixed_6c.branch7x7dbl_3.bn.running_var".to_owned(),
            vec![160]
        )]
    );
    assert!(m.unexpected.is_empty() && m.wrong_shape.is_empty());
    assert_eq!(
        InceptionError::Layout(m).to_string(),
        "not the state dict of pytorch-fid's FID Inception network (472 tensors): 1 key missing: \
         Mixed_6c.branch7x7dbl_3.bn.running_var [160]"
    );
}

#[test]
fn an_unexpected_key_is_named_and_num_batches_tracked_is_ignored() {
    let mut dict = seeded().clone();
    let counter = TensorF32::new(vec![], vec![0.0]).unwrap();
    dict.insert("Conv2d_1a_3x3.bn.num_batches_tracked".into(), counter);
    assert!(check_state_dict(&dict).is_ok());
    let aux = TensorF32::new(vec![1000], vec![0.0; 1000]).unwrap();
    dict.insert("AuxLogits.fc.bias".into(), aux);
    let m = layout_error(&dict);
    assert_eq!(m.unexpected, [("AuxLogits.fc.bias".to_owned(), vec![1000])]);
    assert!(m.missing.is_empty() && m.wrong_shape.is_empty());
    assert!(InceptionError::Layout(m)
        .to_string()
        .ends_with("1 key unexpected: AuxLogits.fc.bias [1000]"));
}

#[test]
fn a_wrong_shape_gives_expected_and_found() {
    let mut dict = seeded().clone();
    // torchvision's 1000-class head instead of the 1008 of the FID network.
    dict.insert(
        "fc.weight".into(),
        TensorF32::new(vec![1000, 2048], vec![0.0; 1000 * 2048]).unwrap(),
    );
    let m = layout_error(&dict);
    assert_eq!(
        m.wrong_shape,
        [ShapeMismatch {
            key: "fc.weight".into(),
            expected: vec![1008, 2048],
            found: vec![1000, 2048],
        }]
    );
    assert!(InceptionError::Layout(m).to_string().ends_with(
        "1 key of the wrong shape: fc.weight (expected [1008, 2048], found [1000, 2048])"
    ));
}

#[test]
fn every_problem_is_reported_at_once_and_long_lists_are_cut() {
    let mut dict = seeded().clone();
    // A DataParallel checkpoint: every key prefixed with `module.`.
    let keys: Vec<String> = dict.keys().take(10).cloned().collect();
    for key in keys {
        let t = dict.remove(&key).unwrap();
        dict.insert(format!("module.{key}"), t);
    }
    dict.insert(
        "Mixed_5b.branch1x1.conv.weight".into(),
        TensorF32::new(vec![64, 192], vec![0.0; 64 * 192]).unwrap(),
    );
    let m = layout_error(&dict);
    assert_eq!(
        (m.missing.len(), m.unexpected.len(), m.wrong_shape.len()),
        (10, 10, 1)
    );
    let text = InceptionError::Layout(m).to_string();
    assert!(text.contains("10 keys missing: "), "{text}");
    assert!(
        text.contains("and 4 more; 10 keys unexpected: module."),
        "{text}"
    );
    assert!(
        text.contains("Mixed_5b.branch1x1.conv.weight (expected [64, 192, 1, 1], found [64, 192])"),
        "{text}"
    );
}

#[test]
fn an_empty_state_dict_is_a_layout_error() {
    let m = layout_error(&StateDict::new());
    assert_eq!(m.missing.len(), 472);
    let text = InceptionError::Layout(m).to_string();
    assert!(text.contains("472 keys missing: Conv2d_1a_3x3.conv.weight [32, 3, 3, 3]"));
    assert!(text.contains("and 466 more"));
}

#[test]
fn a_non_finite_weight_is_named() {
    let mut dict = seeded().clone();
    dict.get_mut("Mixed_7a.branch3x3_1.bn.running_var")
        .unwrap()
        .data[17] = f32::NAN;
    match build_onnx(&dict) {
        Err(InceptionError::NonFinite { key, index, value }) => {
            assert_eq!(
                (key.as_str(), index),
                ("Mixed_7a.branch3x3_1.bn.running_var", 17)
            );
            assert!(value.is_nan());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_graph_runs_and_folding_matches_batch_norm_nodes() {
    let folded = build_onnx(seeded()).unwrap();
    assert_eq!(folded, build_onnx(seeded()).unwrap(), "deterministic bytes");
    let nodes = build_onnx_with(seeded(), BatchNorm::Nodes).unwrap();
    let (Some(mut a), Some(mut b)) = (session(&folded, 2), session(&nodes, 2)) else {
        return;
    };
    let n = 2;
    let size = INPUT_SIZE as usize;
    let input = uniform(5, n * 3 * size * size);
    let names = [POOL3, BLOCK64, BLOCK192, BLOCK768, LOGITS_UNBIASED, LOGITS];
    let shape = [n, 3, size, size];
    let out_a = run(&mut a, INPUT_NAME, &shape, input.clone(), &names);
    let out_b = run(&mut b, INPUT_NAME, &shape, input, &names);
    for ((name, (sa, va)), (_, vb)) in names.iter().zip(&out_a).zip(&out_b) {
        let dims = match *name {
            LOGITS | LOGITS_UNBIASED => CLASSES,
            other => DIMS.iter().find(|(_, o)| *o == other).unwrap().0,
        };
        assert_eq!(sa, &[n as i64, dims as i64], "{name}");
        let scale = va.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
        assert!(
            scale > 0.1 && va.iter().all(|v| v.is_finite()),
            "{name}: scale {scale}"
        );
        let diff = va
            .iter()
            .zip(vb)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(diff <= 1e-5 * scale, "{name}: {diff} vs scale {scale}");
    }
    // logits = logits_unbiased + fc.bias, exactly.
    let bias = &seeded()["fc.bias"].data;
    let (unbiased, logits) = (&out_a[4].1, &out_a[5].1);
    for (i, (u, l)) in unbiased.iter().zip(logits).enumerate() {
        assert_eq!(u + bias[i % CLASSES], *l);
    }
}
