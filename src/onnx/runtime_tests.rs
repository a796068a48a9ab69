//! Models written by this module, run through ONNX Runtime and compared with
//! values computed here by hand. Skipped (with a note) where the library is
//! not installed (`scripts/install-onnxruntime`).

use std::time::Instant;

use geneval_metrics::numpy_random::RandomState;
use ort::session::Session;
use ort::value::{Tensor as OrtTensor, ValueType};

use super::{Attribute, Dim, ElemType, GraphBuilder, ModelBuilder};
use crate::backend::runtime::{cache_root, cached_library, init, INSTALL_COMMAND};

/// A CPU session of `model` with `threads` intra-op threads, or `None` (and
/// a note) when ONNX Runtime is not installed in geneval's cache.
pub(crate) fn session(model: &[u8], threads: usize) -> Option<Session> {
    let installed = cache_root().is_some_and(|root| cached_library(&root, false).is_file());
    if !installed {
        eprintln!("note: ONNX Runtime not installed (run {INSTALL_COMMAND}); skipped");
        return None;
    }
    let runtime = init(None).expect("the installed ONNX Runtime initialises");
    let session = Session::builder(&runtime.environment)
        .expect("a session builder")
        .with_intra_threads(threads)
        .expect("the thread count is accepted")
        .commit_from_memory(model)
        .expect("ONNX Runtime accepts the model");
    Some(session)
}

/// `n` values uniform in `[-1, 1)`, reproducible.
pub(crate) fn uniform(seed: u32, n: usize) -> Vec<f32> {
    let mut rng = RandomState::new(seed);
    (0..n)
        .map(|_| (2.0 * rng.random_sample() - 1.0) as f32)
        .collect()
}

/// Runs `session` on one float input and returns each named output's shape
/// and values.
pub(crate) fn run(
    session: &mut Session,
    input: &str,
    shape: &[usize],
    data: Vec<f32>,
    outputs: &[&str],
) -> Vec<(Vec<i64>, Vec<f32>)> {
    let tensor = OrtTensor::from_array((shape.to_vec(), data)).expect("a valid input tensor");
    let result = session
        .run(ort::inputs![input => tensor])
        .expect("the model runs");
    outputs
        .iter()
        .map(|&name| {
            let (shape, values) = result[name]
                .try_extract_tensor::<f32>()
                .expect("a float output");
            (shape.to_vec(), values.to_vec())
        })
        .collect()
}

fn assert_close(got: &[f32], expected: &[f32], tolerance: f32) {
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= tolerance,
            "element {i}: got {g}, expected {e}"
        );
    }
}

/// A grouped 2-D convolution with bias, NCHW, square kernel, by definition.
#[allow(clippy::too_many_arguments)]
fn conv2d(
    x: &[f32],
    (n, c_in, h, w): (usize, usize, usize, usize),
    weight: &[f32],
    bias: &[f32],
    (c_out, k, stride, pad, groups): (usize, usize, usize, usize, usize),
) -> (Vec<f32>, usize, usize) {
    let out_h = (h + 2 * pad - k) / stride + 1;
    let out_w = (w + 2 * pad - k) / stride + 1;
    let (in_per_group, out_per_group) = (c_in / groups, c_out / groups);
    let mut out = vec![0.0f32; n * c_out * out_h * out_w];
    for b in 0..n {
        for o in 0..c_out {
            let group = o / out_per_group;
            for oy in 0..out_h {
                for ox in 0..out_w {
                    let mut sum = f64::from(bias[o]);
                    for ci in 0..in_per_group {
                        let c = group * in_per_group + ci;
                        for ky in 0..k {
                            for kx in 0..k {
                                let y = (oy * stride + ky) as isize - pad as isize;
                                let xx = (ox * stride + kx) as isize - pad as isize;
                                if y < 0 || xx < 0 || y >= h as isize || xx >= w as isize {
                                    continue;
                                }
                                let xv = x[((b * c_in + c) * h + y as usize) * w + xx as usize];
                                let wv = weight[((o * in_per_group + ci) * k + ky) * k + kx];
                                sum += f64::from(xv) * f64::from(wv);
                            }
                        }
                    }
                    out[((b * c_out + o) * out_h + oy) * out_w + ox] = sum as f32;
                }
            }
        }
    }
    (out, out_h, out_w)
}

#[test]
fn grouped_conv_relu_global_average_pool_matches_hand_computation() {
    // Conv 4 -> 6 channels in 2 groups, kernel 3, stride 2, pads 1 on 5x5;
    // outputs: the ReLU map and the flattened channel means.
    let (c_in, c_out, groups, size) = (4, 6, 2, 5);
    let weight = uniform(1, c_out * (c_in / groups) * 9);
    let bias = uniform(2, c_out);
    let mut g = GraphBuilder::new("conv_relu_gap");
    let n = Dim::symbolic("N");
    g.input(
        "x",
        ElemType::Float,
        &[n.clone(), c_in.into(), size.into(), size.into()],
    );
    g.initializer_f32("w", &[c_out, c_in / groups, 3, 3], &weight);
    g.initializer_f32("b", &[c_out], &bias);
    let conv = g.op(
        "Conv",
        &["x", "w", "b"],
        [
            ("group", Attribute::Int(groups as i64)),
            ("kernel_shape", vec![3, 3].into()),
            ("pads", vec![1, 1, 1, 1].into()),
            ("strides", vec![2, 2].into()),
        ],
    );
    g.node("Relu", &[&conv], &["relu"], []);
    let pooled = g.op("GlobalAveragePool", &["relu"], []);
    g.node("Flatten", &[&pooled], &["features"], [("axis", 1.into())]);
    g.output(
        "relu",
        ElemType::Float,
        &[n.clone(), c_out.into(), 3.into(), 3.into()],
    );
    g.output("features", ElemType::Float, &[n, c_out.into()]);
    let bytes = ModelBuilder::new(g).to_bytes().unwrap();
    let Some(mut session) = session(&bytes, 1) else {
        return;
    };

    let ValueType::Tensor {
        shape,
        dimension_symbols,
        ..
    } = session.inputs()[0].dtype()
    else {
        panic!("a tensor input");
    };
    assert_eq!(shape.to_vec(), [-1, 4, 5, 5]);
    assert_eq!(dimension_symbols[0], "N");

    for batch in [1, 3] {
        let x = uniform(10 + batch as u32, batch * c_in * size * size);
        let (conv, oh, ow) = conv2d(
            &x,
            (batch, c_in, size, size),
            &weight,
            &bias,
            (c_out, 3, 2, 1, groups),
        );
        let relu: Vec<f32> = conv.iter().map(|v| v.max(0.0)).collect();
        let features: Vec<f32> = relu
            .chunks(oh * ow)
            .map(|plane| plane.iter().sum::<f32>() / (oh * ow) as f32)
            .collect();
        let got = run(
            &mut session,
            "x",
            &[batch, c_in, size, size],
            x,
            &["relu", "features"],
        );
        assert_eq!(got[0].0, [batch as i64, 6, 3, 3]);
        assert_eq!(got[1].0, [batch as i64, 6]);
        assert_close(&got[0].1, &relu, 1e-5);
        assert_close(&got[1].1, &features, 1e-5);
    }
}

#[test]
fn every_attribute_kind_reaches_onnx_runtime() {
    // x [N,1,2,2] -> Resize x2 nearest (String attributes, float scales
    // initializer, skipped roi) -> LeakyRelu (Float) -> Reshape to [N,16]
    // by a Constant (Tensor) -> Add a Constant (Floats) -> Softmax (Int);
    // Transpose (Ints) gives a second output.
    let mut g = GraphBuilder::new("attributes");
    g.input(
        "x",
        ElemType::Float,
        &[Dim::symbolic("N"), 1.into(), 2.into(), 2.into()],
    );
    g.initializer_f32("scales", &[4], &[1.0, 1.0, 2.0, 2.0]);
    let up = g.op(
        "Resize",
        &["x", "", "scales"],
        [
            ("coordinate_transformation_mode", "asymmetric".into()),
            ("mode", "nearest".into()),
            ("nearest_mode", "floor".into()),
        ],
    );
    let leaky = g.op("LeakyRelu", &[&up], [("alpha", Attribute::Float(0.5))]);
    let shape = g.op(
        "Constant",
        &[],
        [("value", super::Tensor::i64(&[2], &[-1, 16]).into())],
    );
    let flat = g.op("Reshape", &[&leaky, &shape], []);
    let offsets: Vec<f32> = (0..16).map(|i| i as f32 / 8.0).collect();
    let offset = g.op(
        "Constant",
        &[],
        [("value_floats", Attribute::Floats(offsets.clone()))],
    );
    let shifted = g.op("Add", &[&flat, &offset], []);
    g.node(
        "Softmax",
        &[&shifted],
        &["p"],
        [("axis", Attribute::Int(1))],
    );
    g.node(
        "Transpose",
        &[&shifted],
        &["t"],
        [("perm", vec![1, 0].into())],
    );
    g.output("p", ElemType::Float, &[Dim::symbolic("N"), 16.into()]);
    g.output("t", ElemType::Float, &[16.into(), Dim::symbolic("N")]);
    let bytes = ModelBuilder::new(g).to_bytes().unwrap();
    let Some(mut session) = session(&bytes, 1) else {
        return;
    };

    let x = vec![1.0, -2.0, 3.0, -4.0, 0.5, 0.25, -1.0, 2.0];
    let mut shifted = Vec::new();
    for image in x.chunks(4) {
        for row in 0..4 {
            for col in 0..4 {
                let v: f32 = image[(row / 2) * 2 + col / 2];
                let v = if v < 0.0 { 0.5 * v } else { v };
                shifted.push(v + offsets[row * 4 + col]);
            }
        }
    }
    let mut p = Vec::new();
    for row in shifted.chunks(16) {
        let max = row.iter().copied().fold(f32::MIN, f32::max);
        let total: f32 = row.iter().map(|v| (v - max).exp()).sum();
        p.extend(row.iter().map(|v| (v - max).exp() / total));
    }
    let t: Vec<f32> = (0..16)
        .flat_map(|j| [shifted[j], shifted[16 + j]])
        .collect();

    let got = run(&mut session, "x", &[2, 1, 2, 2], x, &["p", "t"]);
    assert_eq!(got[0].0, [2, 16]);
    assert_eq!(got[1].0, [16, 2]);
    assert_close(&got[0].1, &p, 1e-6);
    assert_close(&got[1].1, &t, 0.0);
}

#[test]
fn a_large_initializer_is_written_once_and_read_back() {
    // 2048 x 2048 float weights (16 MiB) and an int64 initializer.
    let n = 2048;
    let weight: Vec<f32> = (0..n * n)
        .map(|i| ((i / n * 7 + i % n * 3) % 11) as f32 - 5.0)
        .collect();
    let mut g = GraphBuilder::new("large");
    g.input("x", ElemType::Float, &[1.into(), n.into()]);
    g.initializer_f32("w", &[n, n], &weight);
    g.initializer_i64("shape", &[3], &[1, 2, -1]);
    let product = g.op("MatMul", &["x", "w"], []);
    g.node("Reshape", &[&product, "shape"], &["y"], []);
    g.output("y", ElemType::Float, &[1.into(), 2.into(), (n / 2).into()]);
    let model = ModelBuilder::new(g);

    let start = Instant::now();
    let bytes = model.to_bytes().unwrap();
    eprintln!(
        "encoded {} bytes in {:.1} ms",
        bytes.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
    assert!(bytes.len() > n * n * 4 && bytes.len() < n * n * 4 + 1024);
    assert_eq!(bytes.capacity(), bytes.len());
    let Some(mut session) = session(&bytes, 2) else {
        return;
    };
    let expected: Vec<f32> = (0..n)
        .map(|j| (0..n).map(|i| weight[i * n + j]).sum())
        .collect();
    let got = run(&mut session, "x", &[1, n], vec![1.0; n], &["y"]);
    assert_eq!(got[0].0, [1, 2, n as i64 / 2]);
    assert_eq!(got[0].1, expected);
}

/// `tests/fixtures/<folder>/<name>`, an array numpy saved.
pub(crate) fn fixture_npy<T: ndarray_npy::ReadNpyExt>(folder: &str, name: &str) -> T {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder)
        .join(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    T::read_npy(file).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `tests/fixtures/<folder>/expected.json`, what the fixture script pinned.
pub(crate) fn fixture_expected(folder: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder)
        .join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A built-in network's fixture check: `inputs.npy` of `tests/fixtures/<folder>`
/// through `model` (input `images`, outputs `features` and `logits`), each
/// output's shape checked against `features.npy` and `logits.npy`; returns
/// per output the largest absolute difference and the reference's largest
/// magnitude, or `None` when ONNX Runtime is not installed.
pub(crate) fn builtin_fixture_differences(folder: &str, model: &[u8]) -> Option<[(f64, f64); 2]> {
    use ndarray::{Array2, Array4};
    let inputs: Array4<f32> = fixture_npy(folder, "inputs.npy");
    let references: [Array2<f32>; 2] = [
        fixture_npy(folder, "features.npy"),
        fixture_npy(folder, "logits.npy"),
    ];
    let mut session = session(model, 2)?;
    let shape = inputs.shape().to_vec();
    let data = inputs.iter().copied().collect();
    let got = run(
        &mut session,
        "images",
        &shape,
        data,
        &["features", "logits"],
    );
    Some(std::array::from_fn(|i| {
        let (dims, values) = &got[i];
        let reference = &references[i];
        let expected: Vec<i64> = reference.shape().iter().map(|&d| d as i64).collect();
        assert_eq!(dims, &expected, "output {i}'s shape");
        let max_diff = values
            .iter()
            .zip(reference.iter())
            .map(|(a, b)| f64::from((a - b).abs()))
            .fold(0.0, f64::max);
        let scale = reference
            .iter()
            .fold(0f64, |m, &v| m.max(f64::from(v.abs())));
        (max_diff, scale)
    }))
}
