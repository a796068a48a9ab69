//! The FID Inception-v3 architecture, written once: the same description
//! lists the state-dict layout ([`super::expected_keys`]) and emits the ONNX
//! graph ([`super::build_onnx`]).
//!
//! Module names, channel counts, kernels, strides and paddings are those of
//! torchvision's `Inception3` as pytorch-fid 0.3's `fid_inception_v3()`
//! patches it: `FIDInceptionA`/`C`/`E_1` average-pool their pool branch
//! without counting the padding, `FIDInceptionE_2` max-pools it.

use super::graph::Emitter;

/// A feature map: its name in the graph and its channel count.
#[derive(Debug, Clone)]
pub(super) struct Value {
    pub(super) name: String,
    pub(super) channels: usize,
}

/// A `BasicConv2d`: kernel `(height, width)`, stride, padding `(height, width)`.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConvShape {
    pub(super) kernel: (usize, usize),
    pub(super) stride: usize,
    pub(super) pad: (usize, usize),
}

const fn k(kh: usize, kw: usize, ph: usize, pw: usize) -> ConvShape {
    ConvShape {
        kernel: (kh, kw),
        stride: 1,
        pad: (ph, pw),
    }
}

/// 1×1, stride 1, no padding.
const K1: ConvShape = k(1, 1, 0, 0);
/// 3×3, stride 1, no padding.
const K3: ConvShape = k(3, 3, 0, 0);
/// 3×3, stride 1, padding 1.
const K3P: ConvShape = k(3, 3, 1, 1);
/// 3×3, stride 2, no padding.
const K3S2: ConvShape = ConvShape {
    kernel: (3, 3),
    stride: 2,
    pad: (0, 0),
};
/// 5×5, padding 2.
const K5P: ConvShape = k(5, 5, 2, 2);
/// 1×7, padding (0, 3).
const K1X7: ConvShape = k(1, 7, 0, 3);
/// 7×1, padding (3, 0).
const K7X1: ConvShape = k(7, 1, 3, 0);
/// 1×3, padding (0, 1).
const K1X3: ConvShape = k(1, 3, 0, 1);
/// 3×1, padding (1, 0).
const K3X1: ConvShape = k(3, 1, 1, 0);

/// The pool branch of an Inception-E block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EPool {
    /// `FIDInceptionE_1` (Mixed_7b): 3×3 average, padding excluded.
    Average,
    /// `FIDInceptionE_2` (Mixed_7c): 3×3 max, stride 1, padding 1.
    Max,
}

/// What the network lists or builds. In listing mode (no emitter) only the
/// state-dict keys are recorded.
pub(super) struct Net<'a> {
    /// `(key, shape)` in the order PyTorch's `state_dict()` lists them.
    pub(super) keys: Vec<(String, Vec<usize>)>,
    pub(super) emitter: Option<Emitter<'a>>,
}

impl<'a> Net<'a> {
    /// Lists keys only.
    pub(super) fn listing() -> Self {
        Net {
            keys: Vec::new(),
            emitter: None,
        }
    }

    /// Lists keys and emits the graph.
    pub(super) fn emitting(emitter: Emitter<'a>) -> Self {
        Net {
            keys: Vec::new(),
            emitter: Some(emitter),
        }
    }

    /// `BasicConv2d` `module`: conv (no bias), batch norm (eps 0.001), ReLU.
    fn conv(&mut self, module: &str, x: &Value, out: usize, shape: ConvShape) -> Value {
        let (kh, kw) = shape.kernel;
        self.keys.push((
            format!("{module}.conv.weight"),
            vec![out, x.channels, kh, kw],
        ));
        for buffer in ["weight", "bias", "running_mean", "running_var"] {
            self.keys.push((format!("{module}.bn.{buffer}"), vec![out]));
        }
        if let Some(e) = &mut self.emitter {
            e.basic_conv(module, &x.name, shape);
        }
        Value {
            name: module.to_owned(),
            channels: out,
        }
    }

    /// 3×3 max pool, no padding (`nn.MaxPool2d(3, 2)`, `F.max_pool2d(x, 3, 2)`).
    fn max_pool(&mut self, name: &str, x: &Value, stride: usize, pad: usize) -> Value {
        if let Some(e) = &mut self.emitter {
            e.max_pool(name, &x.name, stride, pad);
        }
        Value {
            name: name.to_owned(),
            channels: x.channels,
        }
    }

    /// `F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)`.
    fn avg_pool(&mut self, name: &str, x: &Value) -> Value {
        if let Some(e) = &mut self.emitter {
            e.avg_pool(name, &x.name);
        }
        Value {
            name: name.to_owned(),
            channels: x.channels,
        }
    }

    /// `torch.cat(parts, 1)`.
    fn concat(&mut self, name: &str, parts: &[Value]) -> Value {
        if let Some(e) = &mut self.emitter {
            let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
            e.concat(name, &names);
        }
        Value {
            name: name.to_owned(),
            channels: parts.iter().map(|p| p.channels).sum(),
        }
    }

    /// `nn.Linear(2048, classes)`: its keys only; the emitter writes the
    /// head itself.
    pub(super) fn fc_keys(&mut self, features: usize, classes: usize) {
        self.keys
            .push(("fc.weight".into(), vec![classes, features]));
        self.keys.push(("fc.bias".into(), vec![classes]));
    }
}

/// The maps pytorch-fid's four blocks end with, before global average pooling.
pub(super) struct Taps {
    /// Block 0 (after the first max pool): 64 × 73 × 73.
    pub(super) block64: Value,
    /// Block 1 (after the second max pool): 192 × 35 × 35.
    pub(super) block192: Value,
    /// Block 2 (Mixed_6e, what feeds the auxiliary classifier): 768 × 17 × 17.
    pub(super) block768: Value,
    /// Block 3 (Mixed_7c): 2048 × 8 × 8.
    pub(super) block2048: Value,
}

/// The convolutional trunk from the normalised `[N, 3, 299, 299]` input.
pub(super) fn trunk(net: &mut Net<'_>, input: Value) -> Taps {
    // Block 0.
    let x = net.conv("Conv2d_1a_3x3", &input, 32, K3S2);
    let x = net.conv("Conv2d_2a_3x3", &x, 32, K3);
    let x = net.conv("Conv2d_2b_3x3", &x, 64, K3P);
    let block64 = net.max_pool("maxpool1", &x, 2, 0);
    // Block 1.
    let x = net.conv("Conv2d_3b_1x1", &block64, 80, K1);
    let x = net.conv("Conv2d_4a_3x3", &x, 192, K3);
    let block192 = net.max_pool("maxpool2", &x, 2, 0);
    // Block 2.
    let x = inception_a(net, "Mixed_5b", &block192, 32);
    let x = inception_a(net, "Mixed_5c", &x, 64);
    let x = inception_a(net, "Mixed_5d", &x, 64);
    let x = inception_b(net, "Mixed_6a", &x);
    let x = inception_c(net, "Mixed_6b", &x, 128);
    let x = inception_c(net, "Mixed_6c", &x, 160);
    let x = inception_c(net, "Mixed_6d", &x, 160);
    let block768 = inception_c(net, "Mixed_6e", &x, 192);
    // Block 3.
    let x = inception_d(net, "Mixed_7a", &block768);
    let x = inception_e(net, "Mixed_7b", &x, EPool::Average);
    let block2048 = inception_e(net, "Mixed_7c", &x, EPool::Max);
    Taps {
        block64,
        block192,
        block768,
        block2048,
    }
}

/// `FIDInceptionA`: 64 + 64 + 96 + `pool_features` channels.
fn inception_a(net: &mut Net<'_>, name: &str, x: &Value, pool_features: usize) -> Value {
    let m = |branch: &str| format!("{name}.{branch}");
    let b1 = net.conv(&m("branch1x1"), x, 64, K1);
    let b5 = net.conv(&m("branch5x5_1"), x, 48, K1);
    let b5 = net.conv(&m("branch5x5_2"), &b5, 64, K5P);
    let b3 = net.conv(&m("branch3x3dbl_1"), x, 64, K1);
    let b3 = net.conv(&m("branch3x3dbl_2"), &b3, 96, K3P);
    let b3 = net.conv(&m("branch3x3dbl_3"), &b3, 96, K3P);
    let pool = net.avg_pool(&m("avg_pool"), x);
    let bp = net.conv(&m("branch_pool"), &pool, pool_features, K1);
    net.concat(name, &[b1, b5, b3, bp])
}

/// `InceptionB` (Mixed_6a): 384 + 96 + input channels, stride 2.
fn inception_b(net: &mut Net<'_>, name: &str, x: &Value) -> Value {
    let m = |branch: &str| format!("{name}.{branch}");
    let b3 = net.conv(&m("branch3x3"), x, 384, K3S2);
    let bd = net.conv(&m("branch3x3dbl_1"), x, 64, K1);
    let bd = net.conv(&m("branch3x3dbl_2"), &bd, 96, K3P);
    let bd = net.conv(&m("branch3x3dbl_3"), &bd, 96, K3S2);
    let bp = net.max_pool(&m("max_pool"), x, 2, 0);
    net.concat(name, &[b3, bd, bp])
}

/// `FIDInceptionC`: 4 × 192 channels, factorised 7×7 convolutions.
fn inception_c(net: &mut Net<'_>, name: &str, x: &Value, c7: usize) -> Value {
    let m = |branch: &str| format!("{name}.{branch}");
    let b1 = net.conv(&m("branch1x1"), x, 192, K1);
    let b7 = net.conv(&m("branch7x7_1"), x, c7, K1);
    let b7 = net.conv(&m("branch7x7_2"), &b7, c7, K1X7);
    let b7 = net.conv(&m("branch7x7_3"), &b7, 192, K7X1);
    let bd = net.conv(&m("branch7x7dbl_1"), x, c7, K1);
    let bd = net.conv(&m("branch7x7dbl_2"), &bd, c7, K7X1);
    let bd = net.conv(&m("branch7x7dbl_3"), &bd, c7, K1X7);
    let bd = net.conv(&m("branch7x7dbl_4"), &bd, c7, K7X1);
    let bd = net.conv(&m("branch7x7dbl_5"), &bd, 192, K1X7);
    let pool = net.avg_pool(&m("avg_pool"), x);
    let bp = net.conv(&m("branch_pool"), &pool, 192, K1);
    net.concat(name, &[b1, b7, bd, bp])
}

/// `InceptionD` (Mixed_7a): 320 + 192 + input channels, stride 2.
fn inception_d(net: &mut Net<'_>, name: &str, x: &Value) -> Value {
    let m = |branch: &str| format!("{name}.{branch}");
    let b3 = net.conv(&m("branch3x3_1"), x, 192, K1);
    let b3 = net.conv(&m("branch3x3_2"), &b3, 320, K3S2);
    let b7 = net.conv(&m("branch7x7x3_1"), x, 192, K1);
    let b7 = net.conv(&m("branch7x7x3_2"), &b7, 192, K1X7);
    let b7 = net.conv(&m("branch7x7x3_3"), &b7, 192, K7X1);
    let b7 = net.conv(&m("branch7x7x3_4"), &b7, 192, K3S2);
    let bp = net.max_pool(&m("max_pool"), x, 2, 0);
    net.concat(name, &[b3, b7, bp])
}

/// `FIDInceptionE_1` / `FIDInceptionE_2`: 320 + 768 + 768 + 192 channels.
fn inception_e(net: &mut Net<'_>, name: &str, x: &Value, pool: EPool) -> Value {
    let m = |branch: &str| format!("{name}.{branch}");
    let b1 = net.conv(&m("branch1x1"), x, 320, K1);
    let b3 = net.conv(&m("branch3x3_1"), x, 384, K1);
    let b3a = net.conv(&m("branch3x3_2a"), &b3, 384, K1X3);
    let b3b = net.conv(&m("branch3x3_2b"), &b3, 384, K3X1);
    let b3 = net.concat(&m("branch3x3_cat"), &[b3a, b3b]);
    let bd = net.conv(&m("branch3x3dbl_1"), x, 448, K1);
    let bd = net.conv(&m("branch3x3dbl_2"), &bd, 384, K3P);
    let bda = net.conv(&m("branch3x3dbl_3a"), &bd, 384, K1X3);
    let bdb = net.conv(&m("branch3x3dbl_3b"), &bd, 384, K3X1);
    let bd = net.concat(&m("branch3x3dbl_cat"), &[bda, bdb]);
    let pooled = match pool {
        EPool::Average => net.avg_pool(&m("avg_pool"), x),
        EPool::Max => net.max_pool(&m("max_pool"), x, 1, 1),
    };
    let bp = net.conv(&m("branch_pool"), &pooled, 192, K1);
    net.concat(name, &[b1, b3, bd, bp])
}
