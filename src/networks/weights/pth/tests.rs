//! The `.pth` reader against torch's own files (tests/fixtures/pth, made by
//! generate.py with torch 2.15), hostile files, the writer, and corruption.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use zip::write::SimpleFileOptions;

use super::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pth")
}

fn expected() -> Json {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn bits(t: &TensorF32) -> Vec<u32> {
    t.data.iter().map(|v| v.to_bits()).collect()
}

fn usizes(v: &Json) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn variant(e: &PthError) -> &'static str {
    match e {
        PthError::Io { .. } => "Io",
        PthError::NotPth { .. } => "NotPth",
        PthError::UnsupportedFormat { .. } => "UnsupportedFormat",
        PthError::Zip { .. } => "Zip",
        PthError::Truncated { .. } => "Truncated",
        PthError::MissingRecord { .. } => "MissingRecord",
        PthError::Pickle { .. } => "Pickle",
        PthError::UnsupportedOpcode { .. } => "UnsupportedOpcode",
        PthError::ForbiddenGlobal { .. } => "ForbiddenGlobal",
        PthError::NotAStateDict { .. } => "NotAStateDict",
        PthError::StorageSize { .. } => "StorageSize",
        PthError::OutOfBounds { .. } => "OutOfBounds",
        PthError::UnsupportedTensor { .. } => "UnsupportedTensor",
        PthError::LimitExceeded { .. } => "LimitExceeded",
        PthError::Write { .. } => "Write",
    }
}

fn same_bits(a: &StateDict, b: &StateDict) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ka, ta), (kb, tb))| ka == kb && ta.shape == tb.shape && bits(ta) == bits(tb))
}

#[test]
fn torch_files_read_to_the_expected_bits() {
    let expected = expected();
    let valid = &expected["valid"];
    let tensors = valid["tensors"].as_object().unwrap();
    for file in valid["files"].as_array().unwrap() {
        let file = file.as_str().unwrap();
        let got = read_pth(&fixtures().join(file), &Limits::default()).unwrap();
        let want_format = if file.contains("legacy") {
            PthFormat::Legacy
        } else {
            PthFormat::Zip
        };
        assert_eq!(got.format, want_format, "{file}");
        let names: Vec<&String> = got.tensors.keys().collect();
        let mut want_names: Vec<&String> = tensors.keys().collect();
        want_names.sort();
        assert_eq!(names, want_names, "{file}");
        for (name, want) in tensors {
            let t = &got.tensors[name];
            assert_eq!(t.shape, usizes(&want["shape"]), "{file} {name}");
            let want_bits: Vec<u32> = usizes(&want["bits"]).iter().map(|&b| b as u32).collect();
            assert_eq!(bits(t), want_bits, "{file} {name}");
        }
        let skipped: Vec<(String, String, Vec<usize>)> = valid["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_owned(),
                    s["dtype"].as_str().unwrap().to_owned(),
                    usizes(&s["shape"]),
                )
            })
            .collect();
        let got_skipped: Vec<_> = got
            .skipped
            .iter()
            .map(|s| (s.name.clone(), s.dtype.clone(), s.shape.clone()))
            .collect();
        assert_eq!(got_skipped, skipped, "{file}");
    }
}

#[test]
fn zip_legacy_and_protocol_4_give_identical_dicts() {
    let read = |f: &str| read_state_dict(&fixtures().join(f)).unwrap();
    let zip = read("state_dict.pth");
    assert!(same_bits(&zip, &read("state_dict_legacy.pth")));
    assert!(same_bits(&zip, &read("state_dict_proto4.pth")));
    // Spot checks against the layouts generate.py built.
    assert_eq!(zip["extra.tied"], zip["0.bias"]);
    assert_eq!(zip["extra.expanded"].data, vec![1.5; 6]);
    assert_eq!(zip["extra.neg_view"].data, vec![-1.0, 2.0, -0.5]);
    assert_eq!(zip["extra.scalar"].shape, Vec::<usize>::new());
    assert_eq!(zip["extra.empty"].shape, vec![0, 3]);
    assert_eq!(zip["0.weight"].shape, vec![2, 3, 3, 3]);
}

#[test]
fn crafted_file_reads_like_torch() {
    let e = expected();
    let ok = &e["crafted_ok"];
    let sd = read_state_dict(&fixtures().join(ok["file"].as_str().unwrap())).unwrap();
    let want: Vec<f32> = ok["w"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(sd["w"].data, want);
    assert_eq!(sd["w"].shape, usizes(&ok["w"]["shape"]));
}

#[test]
fn malformed_files_give_their_error_naming_the_file() {
    let e = expected();
    let malformed = e["malformed"].as_object().unwrap();
    assert!(malformed.len() >= 10);
    for (file, want) in malformed {
        let path = fixtures().join(file);
        let err = read_state_dict(&path).unwrap_err();
        let message = err.to_string();
        assert_eq!(
            variant(&err),
            want["error"].as_str().unwrap(),
            "{file}: {message}"
        );
        assert!(
            message.contains(&path.display().to_string()),
            "{file}: {message}"
        );
        let mention = want["mentions"].as_str().unwrap();
        assert!(
            message.contains(mention),
            "{file}: {message} lacks {mention}"
        );
        assert!(!err.hint_text().is_empty());
    }
}

#[test]
fn a_missing_file_is_an_io_error() {
    let err = read_state_dict(Path::new("/nonexistent/weights.pth")).unwrap_err();
    assert!(matches!(err, PthError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/weights.pth"));
}

#[test]
fn other_formats_are_named() {
    let name = Path::new("x.pth");
    let err = read_state_dict_bytes(b"", name).unwrap_err();
    assert!(matches!(err, PthError::NotPth { .. }), "{err}");
    let err = read_state_dict_bytes(b"hello world", name).unwrap_err();
    assert!(matches!(err, PthError::NotPth { .. }), "{err}");
    let mut tar = vec![0u8; 1024];
    tar[257..262].copy_from_slice(b"ustar");
    let err = read_state_dict_bytes(&tar, name).unwrap_err();
    assert!(matches!(err, PthError::UnsupportedFormat { .. }), "{err}");
    let script = zip_of(&[("m/data.pkl", b"\x80\x02}."), ("m/constants.pkl", b"")]);
    let err = read_state_dict_bytes(&script, name).unwrap_err();
    assert!(err.to_string().contains("TorchScript"), "{err}");
    let big = zip_of(&[("m/data.pkl", b"\x80\x02}."), ("m/byteorder", b"big")]);
    let err = read_state_dict_bytes(&big, name).unwrap_err();
    assert!(matches!(err, PthError::UnsupportedFormat { .. }), "{err}");
    // A legacy stream cut inside its magic number.
    let legacy = std::fs::read(fixtures().join("state_dict_legacy.pth")).unwrap();
    let err = read_state_dict_bytes(&legacy[..6], name).unwrap_err();
    assert!(matches!(err, PthError::Truncated { .. }), "{err}");
}

/// A zip archive (STORED, no alignment) of the given records.
fn zip_of(records: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(
        records,
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )
}

fn zip_with(records: &[(&str, &[u8])], options: SimpleFileOptions) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in records {
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The records of a zip archive, in order.
fn records_of(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().to_owned(), data)
        })
        .collect()
}

#[test]
fn deflated_and_unaligned_archives_read_the_same() {
    let original = std::fs::read(fixtures().join("state_dict.pth")).unwrap();
    let want = read_state_dict_bytes(&original, Path::new("state_dict.pth")).unwrap();
    let records = records_of(&original);
    let refs: Vec<(&str, &[u8])> = records.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
    for options in [
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated),
        SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .with_alignment(3),
    ] {
        let bytes = zip_with(&refs, options);
        let got = read_state_dict_bytes(&bytes, Path::new("re.pth")).unwrap();
        assert!(same_bits(&got, &want));
    }
}

/// A hand-assembled pickle, for what torch.save only writes for rarer tensors.
struct Asm(Vec<u8>);

impl Asm {
    fn new() -> Self {
        Asm(vec![0x80, 2])
    }
    fn op(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend(bytes);
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.0.push(b'X');
        self.0.extend((s.len() as u32).to_le_bytes());
        self.0.extend(s.as_bytes());
        self
    }
    fn global(&mut self, module: &str, name: &str) -> &mut Self {
        self.0.extend(format!("c{module}\n{name}\n").as_bytes());
        self
    }
    fn int(&mut self, v: u8) -> &mut Self {
        self.op(&[b'K', v])
    }
    /// `('storage', <class>, key, 'cpu', numel)` BINPERSID
    fn storage(&mut self, module: &str, class: &str, key: &str, numel: u8) -> &mut Self {
        self.op(b"(")
            .str("storage")
            .global(module, class)
            .str(key)
            .str("cpu")
            .int(numel);
        self.op(b"tQ")
    }
}

fn read_pickle(pkl: &[u8], records: &[(&str, &[u8])]) -> Result<PthContents, PthError> {
    let mut all = vec![("a/data.pkl", pkl)];
    all.extend_from_slice(records);
    read_pth_bytes(&zip_of(&all), Path::new("crafted.pth"), &Limits::default())
}

#[test]
fn rebuild_tensor_v3_parameter_and_old_rebuild_tensor() {
    let floats: Vec<u8> = [1.0f32, 2.0, 3.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut a = Asm::new();
    a.global("collections", "OrderedDict").op(b")R(");
    // v3 over an UntypedStorage: float32 read, uint16 skipped.
    a.str("v3")
        .global("torch._utils", "_rebuild_tensor_v3")
        .op(b"(");
    a.storage("torch.storage", "UntypedStorage", "0", 12).int(1);
    a.int(2).op(b"\x85").int(1).op(b"\x85\x89");
    a.global("collections", "OrderedDict")
        .op(b")R")
        .global("torch", "float32")
        .op(b"tR");
    a.str("u16")
        .global("torch._utils", "_rebuild_tensor_v3")
        .op(b"(");
    a.storage("torch.storage", "UntypedStorage", "1", 4).int(0);
    a.int(2).op(b"\x85").int(1).op(b"\x85\x89");
    a.op(b"}").global("torch", "uint16").op(b"tR");
    // A Parameter around the old 4-argument _rebuild_tensor.
    a.str("p")
        .global("torch._utils", "_rebuild_parameter")
        .op(b"(");
    a.global("torch._utils", "_rebuild_tensor").op(b"(");
    a.storage("torch", "FloatStorage", "0", 3)
        .int(0)
        .int(3)
        .op(b"\x85")
        .int(1)
        .op(b"\x85tR");
    a.op(b"\x88}tR");
    a.op(b"u.");
    let got = read_pickle(&a.0, &[("a/data/0", &floats), ("a/data/1", &[1, 0, 2, 0])]).unwrap();
    assert_eq!(got.tensors["v3"].data, vec![2.0, 3.0]);
    assert_eq!(got.tensors["p"].data, vec![1.0, 2.0, 3.0]);
    assert_eq!(
        got.skipped,
        vec![SkippedTensor {
            name: "u16".into(),
            dtype: "uint16".into(),
            shape: vec![2]
        }]
    );
}

#[test]
fn conjugate_views_and_non_tensor_entries_are_refused() {
    let floats = [0u8; 8];
    let mut a = Asm::new();
    a.op(b"}")
        .str("c")
        .global("torch._utils", "_rebuild_tensor_v2")
        .op(b"(");
    a.storage("torch", "FloatStorage", "0", 2)
        .int(0)
        .int(2)
        .op(b"\x85")
        .int(1)
        .op(b"\x85\x89}");
    a.op(b"}").str("conj").op(b"\x88stRs.");
    let err = read_pickle(&a.0, &[("a/data/0", &floats)]).unwrap_err();
    assert!(matches!(err, PthError::UnsupportedTensor { .. }), "{err}");

    let mut a = Asm::new();
    a.op(b"}").str("epoch").int(3).op(b"s.");
    let err = read_pickle(&a.0, &[]).unwrap_err();
    assert!(matches!(err, PthError::NotAStateDict { .. }), "{err}");
    assert!(err.to_string().contains("'epoch' is a int"), "{err}");

    let mut a = Asm::new();
    a.op(b"]K\x01a.");
    let err = read_pickle(&a.0, &[]).unwrap_err();
    assert!(matches!(err, PthError::NotAStateDict { .. }), "{err}");

    // NEWOBJ of an allowed class is still refused.
    let mut a = Asm::new();
    a.global("collections", "OrderedDict").op(b")\x81.");
    let err = read_pickle(&a.0, &[]).unwrap_err();
    assert!(
        matches!(err, PthError::UnsupportedOpcode { name: "NEWOBJ", .. }),
        "{err}"
    );
}

fn sample_dict() -> StateDict {
    let mut sd = StateDict::new();
    let mut add = |name: &str, shape: Vec<usize>| {
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|i| (i as f32 * 0.37 - 5.0).sin() * 3.0)
            .collect();
        sd.insert(name.to_owned(), TensorF32::new(shape, data).unwrap());
    };
    add("conv.weight", vec![4, 3, 3, 3]);
    add("conv.bias", vec![4]);
    add("bn.running_var", vec![300]);
    add("scalar", vec![]);
    add("empty", vec![0, 5]);
    add("five_d", vec![1, 2, 1, 3, 2]);
    add("wide", vec![70_000]);
    add("µ/unicode name", vec![2, 2]);
    sd.insert(
        "special".into(),
        TensorF32::new(
            vec![5],
            vec![
                f32::NAN,
                f32::INFINITY,
                -0.0,
                f32::MIN_POSITIVE / 8.0,
                f32::MAX,
            ],
        )
        .unwrap(),
    );
    sd
}

#[test]
fn writer_round_trips_through_the_reader() {
    let sd = sample_dict();
    let bytes = write_state_dict_zip(&sd, Cursor::new(Vec::new()), "weights")
        .unwrap()
        .into_inner();
    let got = read_pth_bytes(&bytes, Path::new("weights.pth"), &Limits::default()).unwrap();
    assert!(same_bits(&got.tensors, &sd));
    assert!(got.skipped.is_empty());
    let names: Vec<String> = records_of(&bytes).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names[0], "weights/data.pkl");
    assert!(names.contains(&"weights/version".to_owned()));
    assert!(names.contains(&"weights/data/0".to_owned()));

    // Records are 64-byte aligned, as torch writes them.
    let mut archive = zip::ZipArchive::new(Cursor::new(&bytes[..])).unwrap();
    for i in 0..archive.len() {
        assert_eq!(archive.by_index(i).unwrap().data_start() % 64, 0);
    }

    // Through a file, atomically.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pt_inception-test.pth");
    write_state_dict(&sd, &path).unwrap();
    assert!(same_bits(&read_state_dict(&path).unwrap(), &sd));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // The fixture torch wrote survives writer → reader too.
    let torch = read_state_dict(&fixtures().join("state_dict.pth")).unwrap();
    let again = write_state_dict_zip(&torch, Cursor::new(Vec::new()), "x").unwrap();
    let back = read_state_dict_bytes(again.get_ref(), Path::new("x.pth")).unwrap();
    assert!(same_bits(&back, &torch));
}

#[test]
fn writer_refuses_inconsistent_tensors() {
    let mut sd = StateDict::new();
    sd.insert(
        "bad".into(),
        TensorF32 {
            shape: vec![2, 2],
            data: vec![1.0],
        },
    );
    let err = write_state_dict_zip(&sd, Cursor::new(Vec::new()), "x").unwrap_err();
    assert!(matches!(err, PthError::Write { .. }));
    assert!(err.to_string().contains("bad"));
    let err = write_state_dict(&sample_dict(), Path::new("/nonexistent/dir/w.pth")).unwrap_err();
    assert!(matches!(err, PthError::Write { .. }));
}

/// For the manual check that torch.load reads what the writer writes:
/// `GENEVAL_PTH_OUT=/tmp/w.pth cargo test --lib model::pth::tests::write_for_torch -- --ignored`
#[test]
#[ignore]
fn write_for_torch() {
    let path =
        std::env::var("GENEVAL_PTH_OUT").unwrap_or_else(|_| "/tmp/geneval_writer.pth".into());
    write_state_dict(&sample_dict(), Path::new(&path)).unwrap();
}

#[test]
fn limits_are_enforced_and_configurable() {
    let path = fixtures().join("state_dict.pth");
    let limits = Limits {
        max_elements: 10,
        ..Limits::default()
    };
    let err = read_pth(&path, &limits).unwrap_err();
    assert!(
        matches!(err, PthError::LimitExceeded { limit: 10, .. }),
        "{err}"
    );
    let limits = Limits {
        max_storage_bytes: 100,
        ..Limits::default()
    };
    let err = read_pth(&path, &limits).unwrap_err();
    assert!(matches!(err, PthError::LimitExceeded { .. }), "{err}");
    let limits = Limits {
        max_memo: 5,
        ..Limits::default()
    };
    for file in ["state_dict.pth", "state_dict_legacy.pth"] {
        let err = read_pth(&fixtures().join(file), &limits).unwrap_err();
        assert!(matches!(err, PthError::LimitExceeded { .. }), "{err}");
    }
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Reads must only ever return Ok or Err: cut every valid file at every length,
/// flip every byte, and scribble at random.
#[test]
fn truncated_and_corrupted_files_never_panic() {
    let name = Path::new("fuzz.pth");
    let limits = Limits::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for file in [
        "state_dict.pth",
        "state_dict_legacy.pth",
        "state_dict_proto4.pth",
    ] {
        let bytes = std::fs::read(fixtures().join(file)).unwrap();
        for len in 0..bytes.len() {
            let result = read_pth_bytes(&bytes[..len], name, &limits);
            assert!(result.is_err(), "{file} cut at {len} read fine");
        }
        let mut copy = bytes.clone();
        for i in 0..bytes.len() {
            for mask in [0xff, 0x01, 0x80] {
                copy[i] ^= mask;
                let _ = read_pth_bytes(&copy, name, &limits);
                copy[i] ^= mask;
            }
        }
        for _ in 0..2000 {
            let mut copy = bytes.clone();
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(copy.len());
                copy[i] = rng.next() as u8;
            }
            let _ = read_pth_bytes(&copy, name, &limits);
        }
    }
}

/// The same for the unpickler alone (a zip's CRC stops most flips before it).
#[test]
fn corrupted_pickles_never_panic() {
    let bytes = std::fs::read(fixtures().join("state_dict.pth")).unwrap();
    let records = records_of(&bytes);
    let pkl = &records
        .iter()
        .find(|(n, _)| n.ends_with("data.pkl"))
        .unwrap()
        .1;
    let data: Vec<(String, Vec<u8>)> = records
        .iter()
        .filter(|(n, _)| n.contains("/data/"))
        .map(|(n, d)| (n.replace("state_dict/", "a/"), d.clone()))
        .collect();
    let refs: Vec<(&str, &[u8])> = data.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
    assert!(read_pickle(pkl, &refs).is_ok());
    let limits = Limits::default();
    let mut rng = Rng(42);
    for len in 0..pkl.len() {
        assert!(pickle::unpickle(&pkl[..len], 0, &limits).is_err());
    }
    let mut copy = pkl.clone();
    for i in 0..pkl.len() {
        for v in [0u8, 0xff, b'(', b'h', b'R', b'Q', b't', 0x8d, b'u'] {
            let old = copy[i];
            copy[i] = v;
            let _ = read_pickle(&copy, &refs);
            copy[i] = old;
        }
    }
    for _ in 0..3000 {
        let mut copy = pkl.clone();
        for _ in 0..1 + rng.below(6) {
            let i = rng.below(copy.len());
            copy[i] = rng.next() as u8;
        }
        let _ = read_pickle(&copy, &refs);
        let garbage: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
        let _ = pickle::unpickle(&garbage, 0, &limits);
    }
}

/// Reading time of large files (not committed), e.g. a pytorch-fid-sized state dict:
/// `GENEVAL_PTH_TIME=/tmp/big_zip.pth:/tmp/big_legacy.pth cargo test --lib model::pth::tests::time_large_files -- --ignored --nocapture`
#[test]
#[ignore]
fn time_large_files() {
    let paths = std::env::var("GENEVAL_PTH_TIME").unwrap_or_default();
    for path in paths.split(':').filter(|p| !p.is_empty()) {
        let bytes = std::fs::read(path).unwrap();
        for _ in 0..3 {
            let start = std::time::Instant::now();
            let got = read_pth_bytes(&bytes, Path::new(path), &Limits::default()).unwrap();
            let parse = start.elapsed();
            let start = std::time::Instant::now();
            let again = read_state_dict(Path::new(path)).unwrap();
            let with_io = start.elapsed();
            let values: usize = got.tensors.values().map(TensorF32::len).sum();
            println!(
                "{path}: {} bytes, {:?}, {} tensors ({values} values), {} skipped: {parse:?} from memory, {with_io:?} from the file",
                bytes.len(),
                got.format,
                got.tensors.len(),
                got.skipped.len()
            );
            assert!(same_bits(&got.tensors, &again));
        }
    }
}
