//! What the pickle describes (storages and tensor views over them) and how a
//! view becomes C-order float32 values: every index is checked against the
//! storage before any byte is read.

use std::rc::Rc;

/// An element type of a storage or tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DType {
    /// float32.
    F32,
    /// float64, rounded to float32 (round to nearest even, like numpy's astype).
    F64,
    /// IEEE half, widened exactly.
    F16,
    /// bfloat16, widened exactly.
    BF16,
    /// Anything else (integers, bool, complex, float8, ...): never converted.
    Other {
        /// torch's name (`int64`).
        name: &'static str,
        /// Bytes per element.
        size: usize,
    },
}

impl DType {
    /// Bytes per element.
    pub(crate) fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
            DType::F16 | DType::BF16 => 2,
            DType::Other { size, .. } => size,
        }
    }

    /// torch's name, without `torch.`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::Other { name, .. } => name,
        }
    }

    /// Whether geneval turns it into float32.
    pub(crate) fn is_float(self) -> bool {
        !matches!(self, DType::Other { .. })
    }

    /// The dtype behind a legacy storage class (`torch.FloatStorage`).
    pub(crate) fn from_storage_class(name: &str) -> Option<DType> {
        let dtype = match name {
            "FloatStorage" => DType::F32,
            "DoubleStorage" => DType::F64,
            "HalfStorage" => DType::F16,
            "BFloat16Storage" => DType::BF16,
            "LongStorage" => other("int64", 8),
            "IntStorage" => other("int32", 4),
            "ShortStorage" => other("int16", 2),
            "CharStorage" => other("int8", 1),
            "ByteStorage" => other("uint8", 1),
            "BoolStorage" => other("bool", 1),
            "ComplexFloatStorage" => other("complex64", 8),
            "ComplexDoubleStorage" => other("complex128", 16),
            _ => return None,
        };
        Some(dtype)
    }

    /// A dtype object as pickled (`torch.float32` → `float32`), used by
    /// `_rebuild_tensor_v3` for the dtypes without a storage class.
    pub(crate) fn from_dtype_name(name: &str) -> Option<DType> {
        let dtype = match name {
            "float32" => DType::F32,
            "float64" => DType::F64,
            "float16" => DType::F16,
            "bfloat16" => DType::BF16,
            "int64" => other("int64", 8),
            "int32" => other("int32", 4),
            "int16" => other("int16", 2),
            "int8" => other("int8", 1),
            "uint8" => other("uint8", 1),
            "bool" => other("bool", 1),
            "uint16" => other("uint16", 2),
            "uint32" => other("uint32", 4),
            "uint64" => other("uint64", 8),
            "complex32" => other("complex32", 4),
            "complex64" => other("complex64", 8),
            "complex128" => other("complex128", 16),
            "float8_e4m3fn" => other("float8_e4m3fn", 1),
            "float8_e5m2" => other("float8_e5m2", 1),
            "float8_e4m3fnuz" => other("float8_e4m3fnuz", 1),
            "float8_e5m2fnuz" => other("float8_e5m2fnuz", 1),
            "float8_e8m0fnu" => other("float8_e8m0fnu", 1),
            _ => return None,
        };
        Some(dtype)
    }
}

fn other(name: &'static str, size: usize) -> DType {
    DType::Other { name, size }
}

/// A storage as a persistent id names it:
/// `('storage', torch.FloatStorage, key, location, numel[, view_metadata])`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StorageRef {
    /// The record key (`data/<key>` in a zip; the legacy stream's key list).
    pub key: Rc<str>,
    /// The storage's element type (`uint8` for `UntypedStorage`).
    pub dtype: DType,
    /// Declared elements.
    pub numel: u64,
    /// Legacy storage views: `(offset, numel)` in elements into the root storage.
    pub view: Option<(u64, u64)>,
}

impl StorageRef {
    /// Declared bytes, `None` on overflow.
    pub(crate) fn nbytes(&self) -> Option<u64> {
        self.numel.checked_mul(self.dtype.size() as u64)
    }
}

/// A tensor as `_rebuild_tensor_v2` (or `_v3`, `_rebuild_tensor`) describes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TensorRef {
    /// Where its values live.
    pub storage: Rc<StorageRef>,
    /// Element type (the storage's, except for `_rebuild_tensor_v3`).
    pub dtype: DType,
    /// Offset in elements of `dtype`.
    pub offset: i64,
    /// Sizes, as pickled.
    pub shape: Vec<i64>,
    /// Strides in elements, as pickled.
    pub stride: Vec<i64>,
    /// The neg bit of `torch._neg_view`: values are negated.
    pub neg: bool,
    /// Another metadata flag that is set (`conj`): refused.
    pub unsupported_flag: Option<String>,
}

/// Why a view cannot be read.
#[derive(Debug, PartialEq)]
pub(crate) enum ViewError {
    /// An index reaches outside the storage, or a size/stride is negative.
    OutOfBounds(String),
    /// Something geneval does not convert.
    Unsupported(String),
    /// More output elements than the remaining budget.
    Limit {
        /// Elements the tensor has (saturated).
        numel: u64,
    },
}

/// A checked view: shape and strides as sizes, and the elements it spans.
#[derive(Debug)]
pub(crate) struct Layout {
    pub shape: Vec<usize>,
    /// `(size, stride)` of the dimensions of size > 1 (a size-1 dimension's
    /// stride is never used, and may be anything).
    dims: Vec<(usize, usize)>,
    offset: usize,
    pub numel: usize,
}

/// The bytes of `storage` this reference declares: the declared size (at most
/// `record.len()`, checked by the caller) and the legacy view window.
pub(crate) fn storage_window<'a>(st: &StorageRef, record: &'a [u8]) -> Result<&'a [u8], String> {
    let nbytes = st
        .nbytes()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n <= record.len())
        .ok_or_else(|| {
            format!(
                "declares {} {} elements but its data holds {} bytes",
                st.numel,
                st.dtype.name(),
                record.len()
            )
        })?;
    let base = &record[..nbytes];
    match st.view {
        None => Ok(base),
        Some((offset, numel)) => {
            let size = st.dtype.size() as u64;
            let start = offset.checked_mul(size);
            let end = offset.checked_add(numel).and_then(|e| e.checked_mul(size));
            match (start, end) {
                (Some(s), Some(e)) if e <= nbytes as u64 => Ok(&base[s as usize..e as usize]),
                _ => Err(format!(
                    "a view of {numel} elements at offset {offset} does not fit its {} elements",
                    st.numel
                )),
            }
        }
    }
}

/// Checks that every element of the view lies inside `window_len` bytes.
pub(crate) fn check_layout(t: &TensorRef, window_len: usize) -> Result<Layout, ViewError> {
    let oob = |s: String| Err(ViewError::OutOfBounds(s));
    if t.shape.len() != t.stride.len() {
        return oob(format!(
            "shape {:?} and stride {:?} differ in length",
            t.shape, t.stride
        ));
    }
    if let Some(flag) = &t.unsupported_flag {
        return Err(ViewError::Unsupported(format!(
            "its metadata sets `{flag}`, which geneval does not apply"
        )));
    }
    let to_usize = |v: i64, what: &str| -> Result<usize, ViewError> {
        usize::try_from(v)
            .map_err(|_| ViewError::OutOfBounds(format!("{what} {v} is negative or too large")))
    };
    let shape = t
        .shape
        .iter()
        .map(|&s| to_usize(s, "size"))
        .collect::<Result<Vec<_>, _>>()?;
    let stride = t
        .stride
        .iter()
        .map(|&s| to_usize(s, "stride"))
        .collect::<Result<Vec<_>, _>>()?;
    let offset = to_usize(t.offset, "storage offset")?;
    let numel = shape
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .ok_or(ViewError::Limit { numel: u64::MAX })?;
    let available = window_len / t.dtype.size();
    if numel > 0 {
        let mut last = Some(offset);
        for (&s, &st) in shape.iter().zip(&stride) {
            last = last.and_then(|l| (s - 1).checked_mul(st).and_then(|x| l.checked_add(x)));
        }
        match last {
            Some(l) if l < available => {}
            Some(l) => {
                return oob(format!(
                    "shape {shape:?}, stride {stride:?} and offset {offset} reach element {l}, but the storage holds {available} {} elements",
                    t.dtype.name()
                ))
            }
            None => {
                return oob(format!(
                    "shape {shape:?}, stride {stride:?} and offset {offset} overflow"
                ))
            }
        }
    }
    let dims = shape
        .iter()
        .zip(&stride)
        .filter(|(&s, _)| s != 1)
        .map(|(&s, &st)| (s, st))
        .collect();
    Ok(Layout {
        shape,
        dims,
        offset,
        numel,
    })
}

/// The view's values in C order, converted to float32.
pub(crate) fn gather_f32(t: &TensorRef, layout: &Layout, window: &[u8]) -> Vec<f32> {
    let mut out = match t.dtype {
        DType::F32 => gather(layout, window, |b: &[u8; 4]| f32::from_le_bytes(*b)),
        DType::F64 => gather(layout, window, |b: &[u8; 8]| f64::from_le_bytes(*b) as f32),
        DType::F16 => gather(layout, window, |b: &[u8; 2]| {
            f16_to_f32(u16::from_le_bytes(*b))
        }),
        DType::BF16 => gather(layout, window, |b: &[u8; 2]| {
            f32::from_bits(u32::from(u16::from_le_bytes(*b)) << 16)
        }),
        DType::Other { .. } => Vec::new(),
    };
    if t.neg {
        out.iter_mut().for_each(|v| *v = -*v);
    }
    out
}

/// Reads `layout.numel` elements of `N` bytes; `layout` was checked against `window`.
fn gather<const N: usize>(
    layout: &Layout,
    window: &[u8],
    read: impl Fn(&[u8; N]) -> f32,
) -> Vec<f32> {
    let elem = |i: usize| -> f32 {
        let start = i * N;
        let bytes: &[u8; N] = window[start..start + N]
            .try_into()
            .expect("slice of N bytes");
        read(bytes)
    };
    let mut out = Vec::with_capacity(layout.numel);
    if layout.numel == 0 {
        return out;
    }
    if is_contiguous(layout) {
        let start = layout.offset * N;
        out.extend(
            window[start..start + layout.numel * N]
                .chunks_exact(N)
                .map(|c| read(c.try_into().expect("chunk of N bytes"))),
        );
        return out;
    }
    // An odometer over the multi-index, innermost dimension as a tight loop.
    let dims = &layout.dims;
    let Some((&(inner_size, inner_stride), outer)) = dims.split_last() else {
        return out; // (no dimension of size > 1: contiguous, handled above)
    };
    let mut index = vec![0usize; outer.len()];
    let mut base = layout.offset;
    loop {
        out.extend((0..inner_size).map(|j| elem(base + j * inner_stride)));
        // Advance the outer dimensions; every size here is > 1, so `base` stays
        // below the last element check_layout bounded.
        let mut d = outer.len();
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            let (size, stride) = outer[d];
            index[d] += 1;
            if index[d] < size {
                base += stride;
                break;
            }
            base -= stride * (size - 1);
            index[d] = 0;
        }
    }
}

/// C-contiguous, ignoring size-1 dimensions (as torch does).
fn is_contiguous(layout: &Layout) -> bool {
    let mut expected = 1usize;
    for &(size, stride) in layout.dims.iter().rev() {
        if stride != expected {
            return false;
        }
        expected *= size;
    }
    true
}

/// IEEE half → float32, exact (numpy's `npy_halfbits_to_floatbits`).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match exp {
        0 if man == 0 => sign,
        // Subnormal: man * 2^-24, exact in float32.
        0 => sign | (man as f32 * f32::from_bits(0x3380_0000)).to_bits(),
        0x1f => sign | 0x7f80_0000 | (man << 13),
        _ => sign | ((exp + 112) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(dtype: DType, offset: i64, shape: &[i64], stride: &[i64]) -> TensorRef {
        TensorRef {
            storage: Rc::new(StorageRef {
                key: "0".into(),
                dtype,
                numel: 0,
                view: None,
            }),
            dtype,
            offset,
            shape: shape.to_vec(),
            stride: stride.to_vec(),
            neg: false,
            unsupported_flag: None,
        }
    }

    fn f32_bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn read(t: &TensorRef, window: &[u8]) -> Result<(Vec<usize>, Vec<f32>), ViewError> {
        let layout = check_layout(t, window.len())?;
        let values = gather_f32(t, &layout, window);
        Ok((layout.shape, values))
    }

    #[test]
    fn f16_conversion_matches_known_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc100), -2.5);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
        assert_eq!(f16_to_f32(0x8001), -(2f32.powi(-24)));
        assert!(f16_to_f32(0x7e00).is_nan());
        // Every normal half round-trips through float32's value.
        for h in 0x0400u16..0x7c00 {
            let v = f16_to_f32(h);
            let exp = i32::from((h >> 10) & 0x1f) - 15;
            let expected = (1.0 + f64::from(h & 0x3ff) / 1024.0) * 2f64.powi(exp);
            assert_eq!(f64::from(v), expected, "{h:#x}");
        }
    }

    #[test]
    fn transposed_and_strided_views_come_out_in_c_order() {
        let data = f32_bytes(&[0., 1., 2., 3., 4., 5.]);
        let t = tensor(DType::F32, 0, &[3, 2], &[1, 3]);
        assert_eq!(
            read(&t, &data).unwrap(),
            (vec![3, 2], vec![0., 3., 1., 4., 2., 5.])
        );
        let t = tensor(DType::F32, 1, &[2, 2], &[3, 1]);
        assert_eq!(read(&t, &data).unwrap().1, vec![1., 2., 4., 5.]);
        let t = tensor(DType::F32, 2, &[2, 3], &[0, 0]);
        assert_eq!(read(&t, &data).unwrap().1, vec![2.; 6]);
        let t = tensor(DType::F32, 5, &[], &[]);
        assert_eq!(read(&t, &data).unwrap(), (vec![], vec![5.]));
        let t = tensor(DType::F32, 100, &[0, 3], &[3, 1]);
        assert_eq!(read(&t, &data).unwrap(), (vec![0, 3], vec![]));
        // A size-1 dimension's stride is never used, however large.
        let t = tensor(DType::F32, 0, &[2, 1, 3], &[1, i64::MAX, 2]);
        assert_eq!(read(&t, &data).unwrap().1, vec![0., 2., 4., 1., 3., 5.]);
        let t = tensor(DType::F32, 4, &[1, 1], &[i64::MAX, i64::MAX]);
        assert_eq!(read(&t, &data).unwrap().1, vec![4.]);
    }

    #[test]
    fn views_past_the_storage_are_refused() {
        let data = f32_bytes(&[0.; 6]);
        for (offset, shape, stride) in [
            (3, vec![4], vec![1]),
            (0, vec![2, 4], vec![4, 1]),
            (6, vec![], vec![]),
            (0, vec![3], vec![-1]),
            (-1, vec![1], vec![1]),
            (0, vec![-2], vec![1]),
            (0, vec![2], vec![i64::MAX]),
            (0, vec![2, 2], vec![1]),
        ] {
            let t = tensor(DType::F32, offset, &shape, &stride);
            assert!(
                matches!(read(&t, &data), Err(ViewError::OutOfBounds(_))),
                "{offset} {shape:?} {stride:?}"
            );
        }
        let t = tensor(DType::F32, 0, &[i64::MAX, i64::MAX], &[0, 0]);
        assert!(matches!(read(&t, &data), Err(ViewError::Limit { .. })));
    }

    #[test]
    fn legacy_storage_views_are_windows_of_their_root() {
        let record = f32_bytes(&[0., 1., 2., 3.]);
        let st = StorageRef {
            key: "k".into(),
            dtype: DType::F32,
            numel: 4,
            view: Some((1, 2)),
        };
        assert_eq!(storage_window(&st, &record).unwrap(), &record[4..12]);
        let st = StorageRef {
            view: Some((3, 2)),
            ..st
        };
        assert!(storage_window(&st, &record).is_err());
        let st = StorageRef {
            numel: u64::MAX,
            view: None,
            ..st
        };
        assert!(storage_window(&st, &record).is_err());
    }
}
