//! Emitting the ONNX nodes of the network from a checked state dict.

use crate::networks::StateDict;
use crate::onnx::{Attribute, GraphBuilder};

use super::network::ConvShape;
use super::BN_EPSILON;

/// How a `BasicConv2d`'s batch norm becomes ONNX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BatchNorm {
    /// Folded into the convolution: `w' = w·s`, `b' = β − μ·s` with
    /// `s = γ / √(σ² + ε)`, computed in f64 and rounded once to f32.
    Fold,
    /// Kept as `BatchNormalization` nodes after bias-free `Conv`s (ONNX
    /// Runtime folds them itself, in f32, when it loads the model). Only
    /// the tests build it, to compare.
    #[cfg_attr(not(test), allow(dead_code))]
    Nodes,
}

/// Writes nodes into a graph, reading weights from a state dict whose keys
/// and shapes have been checked.
pub(crate) struct Emitter<'a> {
    pub(super) graph: GraphBuilder,
    dict: &'a StateDict,
    batch_norm: BatchNorm,
}

impl<'a> Emitter<'a> {
    pub(super) fn new(graph: GraphBuilder, dict: &'a StateDict, batch_norm: BatchNorm) -> Self {
        Emitter {
            graph,
            dict,
            batch_norm,
        }
    }

    /// A checked tensor's values.
    pub(super) fn values(&self, key: &str) -> &'a [f32] {
        &self
            .dict
            .get(key)
            .unwrap_or_else(|| panic!("{key} was checked to be in the state dict"))
            .data
    }

    /// A checked tensor's shape.
    fn shape(&self, key: &str) -> &'a [usize] {
        &self
            .dict
            .get(key)
            .unwrap_or_else(|| panic!("{key} was checked to be in the state dict"))
            .shape
    }

    /// `BasicConv2d` `module` on `x`: its output (after ReLU) is named `module`.
    pub(super) fn basic_conv(&mut self, module: &str, x: &str, shape: ConvShape) {
        let weight_key = format!("{module}.conv.weight");
        let bn = |buffer: &str| format!("{module}.bn.{buffer}");
        let w_shape = self.shape(&weight_key).to_vec();
        let (kh, kw) = shape.kernel;
        let (ph, pw) = shape.pad;
        let attributes = [
            ("kernel_shape", Attribute::Ints(vec![kh as i64, kw as i64])),
            (
                "pads",
                Attribute::Ints(vec![ph as i64, pw as i64, ph as i64, pw as i64]),
            ),
            (
                "strides",
                Attribute::Ints(vec![shape.stride as i64, shape.stride as i64]),
            ),
        ];
        let conv_out = format!("{module}.conv");
        match self.batch_norm {
            BatchNorm::Fold => {
                let (weight, bias) = fold(
                    self.values(&weight_key),
                    self.values(&bn("weight")),
                    self.values(&bn("bias")),
                    self.values(&bn("running_mean")),
                    self.values(&bn("running_var")),
                );
                let bias_key = format!("{module}.conv.bias");
                self.graph.initializer_f32(&weight_key, &w_shape, &weight);
                self.graph.initializer_f32(&bias_key, &[w_shape[0]], &bias);
                self.graph
                    .node(
                        "Conv",
                        &[x, &weight_key, &bias_key],
                        &[&conv_out],
                        attributes,
                    )
                    .named(&conv_out);
            }
            BatchNorm::Nodes => {
                self.graph
                    .initializer_f32(&weight_key, &w_shape, self.values(&weight_key));
                let buffers = ["weight", "bias", "running_mean", "running_var"].map(bn);
                for key in &buffers {
                    self.graph
                        .initializer_f32(key, &[w_shape[0]], self.values(key));
                }
                let conv_raw = format!("{module}.conv_raw");
                self.graph
                    .node("Conv", &[x, &weight_key], &[&conv_raw], attributes)
                    .named(&conv_raw);
                let inputs = [
                    conv_raw.as_str(),
                    &buffers[0],
                    &buffers[1],
                    &buffers[2],
                    &buffers[3],
                ];
                self.graph
                    .node(
                        "BatchNormalization",
                        &inputs,
                        &[&conv_out],
                        [("epsilon", Attribute::Float(BN_EPSILON as f32))],
                    )
                    .named(&format!("{module}.bn"));
            }
        }
        self.graph
            .node("Relu", &[&conv_out], &[module], [])
            .named(&format!("{module}.relu"));
    }

    /// A 3×3 max pool.
    pub(super) fn max_pool(&mut self, name: &str, x: &str, stride: usize, pad: usize) {
        let (s, p) = (stride as i64, pad as i64);
        self.graph
            .node(
                "MaxPool",
                &[x],
                &[name],
                [
                    ("kernel_shape", Attribute::Ints(vec![3, 3])),
                    ("pads", Attribute::Ints(vec![p, p, p, p])),
                    ("strides", Attribute::Ints(vec![s, s])),
                ],
            )
            .named(name);
    }

    /// A 3×3 average pool, stride 1, padding 1, the padding not counted.
    pub(super) fn avg_pool(&mut self, name: &str, x: &str) {
        self.graph
            .node(
                "AveragePool",
                &[x],
                &[name],
                [
                    ("count_include_pad", Attribute::Int(0)),
                    ("kernel_shape", Attribute::Ints(vec![3, 3])),
                    ("pads", Attribute::Ints(vec![1, 1, 1, 1])),
                    ("strides", Attribute::Ints(vec![1, 1])),
                ],
            )
            .named(name);
    }

    /// Concatenation along the channels.
    pub(super) fn concat(&mut self, name: &str, parts: &[&str]) {
        self.graph
            .node("Concat", parts, &[name], [("axis", Attribute::Int(1))])
            .named(name);
    }

    /// Global average pooling of `x` into `[N, C]` named `name`:
    /// `ReduceMean` over height and width. On the 73 × 73 map of block 0,
    /// ONNX Runtime's `GlobalAveragePool` differs from PyTorch's
    /// `adaptive_avg_pool2d` by up to 5.6e-6 of the features' scale with
    /// graph optimisations (1.7e-6 without), `ReduceMean` by 6e-7.
    pub(super) fn global_pool(&mut self, name: &str, x: &str) {
        self.graph
            .node(
                "ReduceMean",
                &[x],
                &[name],
                [
                    ("axes", Attribute::Ints(vec![2, 3])),
                    ("keepdims", Attribute::Int(0)),
                ],
            )
            .named(name);
    }
}

/// Batch norm folded into a bias-free convolution (see [`BatchNorm::Fold`]).
fn fold(
    weight: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let out = gamma.len();
    let per_channel = weight.len() / out;
    let scale: Vec<f64> = gamma
        .iter()
        .zip(var)
        .map(|(&g, &v)| f64::from(g) / (f64::from(v) + BN_EPSILON).sqrt())
        .collect();
    let folded = weight
        .chunks_exact(per_channel)
        .zip(&scale)
        .flat_map(|(w, &s)| w.iter().map(move |&w| (f64::from(w) * s) as f32))
        .collect();
    let bias = beta
        .iter()
        .zip(mean)
        .zip(&scale)
        .map(|((&b, &m), &s)| (f64::from(b) - f64::from(m) * s) as f32)
        .collect();
    (folded, bias)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_matches_batch_norm_after_the_convolution() {
        // One output channel of a 1×1 conv over two inputs: conv(x) = 2·x0 − x1.
        let (w, b) = fold(&[2.0, -1.0], &[1.5], &[0.25], &[0.5], &[3.999]);
        // s = 1.5 / √(3.999 + 0.001) = 0.75.
        assert_eq!(w, [1.5, -0.75]);
        assert_eq!(b, [0.25 - 0.5 * 0.75]);
        let x = [0.3f64, 0.7];
        let conv = 2.0 * x[0] - x[1];
        let bn = (conv - 0.5) / (3.999f64 + 0.001).sqrt() * 1.5 + 0.25;
        let folded = f64::from(w[0]) * x[0] + f64::from(w[1]) * x[1] + f64::from(b[0]);
        assert!((bn - folded).abs() < 1e-7);
    }
}
