//! Untrusted files that declare something enormous (an `.npy` shape, an
//! `.npz` member's size, a `.pth` storage, an image's dimensions) or never
//! end (`/dev/zero`, a FIFO): each is refused with exit code 2 and a message
//! naming the file, and the peak RSS of the run (read with `wait4`) stays
//! near that of a tiny valid run. Every file is built here, a few bytes to a
//! few hundred KB each.
//!
//! Measured on the 2-core CI machine (debug build, `--model builtin` loads
//! ONNX Runtime): a valid `fid` on two tiny `.npy` files peaks at about
//! 10 MiB, one on two 3-image folders at about 60 MiB. The bounds below leave
//! room above those and stay far below what the hostile files asked for
//! (128 MiB to terabytes).

use crate::common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Peak RSS allowed for commands that read `.npy`/`.npz`/`.pth` files.
const FILES_BOUND_MIB: f64 = 64.0;
/// Peak RSS allowed for commands that decode images (ONNX Runtime loaded).
const IMAGES_BOUND_MIB: f64 = 160.0;
/// Size of the decompression bombs: twice the files bound, so that reading
/// one whole fails the bound.
const BOMB_BYTES: usize = 128 << 20;
const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs geneval with `args` (and `envs`), expecting exit 2, a message that
/// names `names`, and a peak RSS under `bound_mib`. Returns stderr.
fn refused(args: &[&str], envs: &[(&str, &str)], names: &[&str], bound_mib: f64) -> String {
    let mut cmd = geneval_std();
    cmd.args(args);
    for (key, value) in envs {
        cmd.env(key, value);
    }
    let run = run_measured(cmd, TIMEOUT);
    assert_refused(args, &run, names, bound_mib);
    eprintln!("{args:?}: exit 2 at {:.1} MiB peak RSS", run.peak_rss_mib());
    run.stderr
}

/// An `.npy` header (version 1.0, padded to 64 bytes as numpy pads it).
fn npy_header(descr: &str, shape: &str) -> Vec<u8> {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = 10 + dict.len() + 1;
    let padding = unpadded.div_ceil(64) * 64 - unpadded;
    let len = (dict.len() + padding + 1) as u16;
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend(len.to_le_bytes());
    out.extend(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', padding));
    out.push(b'\n');
    out
}

/// A valid `.npy` of `rows × cols` float64 features.
fn small_features(dir: &Path, name: &str, rows: usize, cols: usize) -> PathBuf {
    let path = dir.join(name);
    ndarray_npy::write_npy(&path, &random_features(rows, cols, 7)).unwrap();
    path
}

/// A member of [`write_npz`]: name, bytes, and `Some(n)` to follow the bytes
/// with `n` zeros streamed through deflate (a bomb of `n` bytes in a few
/// hundred KB); `None` stores the bytes as they are.
type Member<'a> = (&'a str, Vec<u8>, Option<usize>);

/// A `.npz` (zip) of `members`.
fn write_npz(path: &Path, members: &[Member]) {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes, zeros) in members {
        let options = match zeros {
            Some(_) => SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(1)),
            None => SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
        };
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
        let chunk = vec![0u8; 1 << 20];
        let mut left = zeros.unwrap_or(0);
        while left > 0 {
            let n = left.min(chunk.len());
            zip.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
    }
    zip.finish().unwrap();
}

/// `mu.npy` of two float64 values.
fn mu_member() -> Vec<u8> {
    let mut mu = npy_header("<f8", "(2,)");
    mu.extend([0u8; 16]);
    mu
}

#[test]
fn baseline_runs_stay_under_the_bounds() {
    // The bounds only mean something if valid runs stay well under them.
    let dir = tempfile::tempdir().unwrap();
    let a = small_features(dir.path(), "a.npy", 20, 4);
    let mut cmd = geneval_std();
    cmd.args(["fid", s(&a), s(&a)]);
    let run = run_measured(cmd, TIMEOUT);
    assert_eq!(run.code, Some(0), "{run:?}");
    eprintln!("fid a.npy a.npy: {:.1} MiB peak RSS", run.peak_rss_mib());
    assert!(run.peak_rss_mib() < FILES_BOUND_MIB / 2.0, "{run:?}");
}

#[test]
fn npy_declaring_a_huge_shape_exits_2_instead_of_aborting() {
    // Was: `memory allocation of 8192000000000 bytes failed`, exit 134.
    let dir = tempfile::tempdir().unwrap();
    let good = small_features(dir.path(), "good.npy", 5, 2);
    for (name, descr, shape) in [
        ("billion.npy", "<f4", "(1000000000, 2048)"),
        ("two40.npy", "<f8", "(1099511627776, 2)"),
        ("overflow.npy", "<f8", "(4294967296, 4294967296)"),
    ] {
        let path = dir.path().join(name);
        let mut bytes = npy_header(descr, shape);
        bytes.extend([0u8; 16]);
        std::fs::write(&path, &bytes).unwrap();
        let stderr = refused(
            &["fid", s(&path), s(&good)],
            &[],
            &[name, "declares shape", "16 bytes follow"],
            FILES_BOUND_MIB,
        );
        assert!(stderr.contains("truncated"), "{stderr}");
        refused(
            &["stats", s(&path), "-o", s(&dir.path().join("out.npz"))],
            &[],
            &[name],
            FILES_BOUND_MIB,
        );
    }
    assert!(!dir.path().join("out.npz").exists());
}

#[test]
fn npz_member_declaring_a_huge_shape_exits_2_instead_of_aborting() {
    // sigma.npy declaring (200000, 200000): 320 GB; it was allocated from
    // the header. mu.npy declaring 2^40 elements likewise.
    let dir = tempfile::tempdir().unwrap();
    let good = fixture("npz/stats_other.npz");
    let path = dir.path().join("huge_sigma.npz");
    write_npz(
        &path,
        &[
            ("mu.npy", mu_member(), None),
            ("sigma.npy", npy_header("<f8", "(200000, 200000)"), None),
        ],
    );
    refused(
        &["fid", s(&path), s(&good)],
        &[],
        &[
            "huge_sigma.npz",
            "'sigma'",
            "[200000, 200000]",
            "over the limit",
        ],
        FILES_BOUND_MIB,
    );
    let path = dir.path().join("huge_mu.npz");
    write_npz(
        &path,
        &[("mu.npy", npy_header("<f8", "(1099511627776,)"), None)],
    );
    refused(
        &["fid", s(&path), s(&good)],
        &[],
        &["huge_mu.npz", "'mu'", "over the limit"],
        FILES_BOUND_MIB,
    );
}

#[test]
fn npz_inflation_bomb_is_cut_at_the_declared_size() {
    // Was: the member inflated whole (1-3 GiB, 8-10 s) before ndarray-npy
    // found the extra bytes.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.npz");
    let sigma = npy_header("<f8", "(2, 2)");
    write_npz(
        &path,
        &[
            ("mu.npy", mu_member(), None),
            ("sigma.npy", sigma, Some(BOMB_BYTES)),
        ],
    );
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 4 << 20, "the bomb is {size} bytes");
    let started = std::time::Instant::now();
    refused(
        &["fid", s(&path), s(&path)],
        &[],
        &[
            "bomb.npz",
            "'sigma'",
            "more than the 160 bytes its header declares",
        ],
        FILES_BOUND_MIB,
    );
    let seconds = started.elapsed().as_secs_f64();
    assert!(seconds < 2.0, "{seconds} s to refuse the bomb");
}

#[test]
fn npz_with_a_bomb_behind_an_honest_header_is_bounded_by_the_statistics_limit() {
    // A header declaring 3 GiB of float64 (over the 2 GiB statistics limit)
    // in front of a member that really inflates: refused from the header,
    // before one byte of data is inflated.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.npz");
    write_npz(
        &path,
        &[
            ("mu.npy", mu_member(), None),
            (
                "sigma.npy",
                npy_header("<f8", "(20000, 20000)"),
                Some(BOMB_BYTES),
            ),
        ],
    );
    refused(
        &["fid", s(&path), s(&path)],
        &[],
        &[
            "big.npz",
            "[20000, 20000]",
            "over the limit of 2147483648 bytes",
        ],
        FILES_BOUND_MIB,
    );
}

/// A `.pth` in torch's zip format whose one storage (`w`, 6 float32) is
/// followed by `BOMB_BYTES` zeros, deflated.
fn pth_bomb(path: &Path) {
    use std::io::{Cursor, Read};
    use zip::write::SimpleFileOptions;
    let mut dict = geneval::networks::weights::state_dict::StateDict::new();
    dict.insert(
        "w".into(),
        geneval::networks::weights::state_dict::TensorF32::new(vec![6], vec![1.0; 6]).unwrap(),
    );
    let plain = geneval::networks::weights::pth::write_state_dict_zip(
        &dict,
        Cursor::new(Vec::new()),
        "bomb",
    )
    .unwrap()
    .into_inner();
    let mut archive = zip::ZipArchive::new(Cursor::new(plain)).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..archive.len() {
        let mut record = archive.by_index(i).unwrap();
        let name = record.name().to_owned();
        let mut data = Vec::new();
        record.read_to_end(&mut data).unwrap();
        if name == "bomb/data/0" {
            let options = SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(1));
            out.start_file(name.as_str(), options).unwrap();
            out.write_all(&data).unwrap();
            let chunk = vec![0u8; 1 << 20];
            for _ in 0..BOMB_BYTES >> 20 {
                out.write_all(&chunk).unwrap();
            }
        } else {
            let options =
                SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
            out.start_file(name.as_str(), options).unwrap();
            out.write_all(&data).unwrap();
        }
    }
    out.finish().unwrap();
}

#[test]
fn pth_storage_bomb_is_read_no_further_than_its_declared_size() {
    // Was: a 1 MB .pth with a deflated 1 GiB `data/0` held 1.06 GB.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.pth");
    pth_bomb(&path);
    let sha = geneval::networks::registry::sha256_file(&path).unwrap();
    let cache = dir.path().join("cache");
    refused(
        &["models", "import", s(&path)],
        &[
            ("GENEVAL_CACHE_DIR", s(&cache)),
            ("GENEVAL_OFFLINE", "1"),
            ("GENEVAL_FID_INCEPTION_SHA256", &sha),
        ],
        &["data/0", "24 bytes"],
        FILES_BOUND_MIB,
    );
}

/// A chunk of a PNG: length, type, data, CRC-32.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend(data);
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
    out
}

/// A PNG declaring `width × height` RGB pixels whose data stops after a
/// few bytes of one IDAT (no IEND).
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    // zlib header, then a stored block that promises 65535 bytes and holds 4.
    out.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x01, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0, 0, 0, 0],
    ));
    out
}

/// A little-endian TIFF declaring `width × height` 8-bit RGB pixels in one
/// strip that lies past the end of the file.
fn tiff_declaring(width: u32, height: u32) -> Vec<u8> {
    let strip_bytes = u64::from(width) * u64::from(height) * 3;
    let entries: [(u16, u16, u32, u32); 9] = [
        (256, 4, 1, width),                                   // ImageWidth
        (257, 4, 1, height),                                  // ImageLength
        (258, 3, 1, 8),                                       // BitsPerSample (one value: all)
        (259, 3, 1, 1),                                       // Compression: none
        (262, 3, 1, 2),                                       // Photometric: RGB
        (273, 4, 1, 4096),                                    // StripOffsets
        (277, 3, 1, 3),                                       // SamplesPerPixel
        (278, 4, 1, height),                                  // RowsPerStrip
        (279, 4, 1, strip_bytes.min(u32::MAX as u64) as u32), // StripByteCounts
    ];
    let mut out = b"II*\x00\x08\x00\x00\x00".to_vec();
    out.extend((entries.len() as u16).to_le_bytes());
    for (tag, kind, count, value) in entries {
        out.extend(tag.to_le_bytes());
        out.extend(kind.to_le_bytes());
        out.extend(count.to_le_bytes());
        if kind == 3 {
            out.extend((value as u16).to_le_bytes());
            out.extend([0, 0]);
        } else {
            out.extend(value.to_le_bytes());
        }
    }
    out.extend(0u32.to_le_bytes());
    out.extend([0u8; 64]);
    out
}

/// A baseline JPEG (a real 32 × 32 one, from the fixtures) whose frame
/// header is rewritten to declare `width × height`, cut before its end
/// marker: its scan data runs out after the first rows.
fn jpeg_declaring(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = std::fs::read(fixture("images/files/photo.jpg")).unwrap();
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("photo.jpg is baseline");
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    assert!(bytes.ends_with(&[0xFF, 0xD9]));
    bytes.truncate(bytes.len() - 2);
    bytes
}

/// A folder holding one file `name` with `bytes`.
fn folder_with(dir: &Path, folder: &str, name: &str, bytes: &[u8]) -> PathBuf {
    let folder = dir.join(folder);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(name), bytes).unwrap();
    folder
}

#[test]
fn image_headers_declaring_huge_dimensions_are_refused_cheaply() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, &str); 6] = [
        // Over the pixel limit: refused from the header.
        (
            "over.png",
            png_declaring(100_000, 100_000),
            "over the limit",
        ),
        (
            "over.tif",
            tiff_declaring(100_000, 100_000),
            "over the limit",
        ),
        ("over.jpg", jpeg_declaring(60_000, 60_000), "over the limit"),
        // Under it (169 million pixels, 507 MB of RGB), with the data cut:
        // refused at the first rows that are not there.
        ("under.png", png_declaring(13_000, 13_000), "under.png"),
        ("under.tif", tiff_declaring(13_000, 13_000), "under.tif"),
        ("under.jpg", jpeg_declaring(13_000, 13_000), "truncated"),
    ];
    for (name, bytes, words) in cases {
        let folder = folder_with(dir.path(), name, name, &bytes);
        let started = std::time::Instant::now();
        refused(
            &["fid", s(&folder), s(&folder), "--model", "builtin"],
            &[],
            &[name, words],
            IMAGES_BOUND_MIB,
        );
        let seconds = started.elapsed().as_secs_f64();
        assert!(seconds < 5.0, "{name}: {seconds} s");
    }
}

#[cfg(unix)]
#[test]
fn dev_zero_links_and_fifos_in_a_folder_are_never_read() {
    // Was: `zz.png -> /dev/zero` grew to 18 GB in 60 s; a FIFO `zz.png`
    // hung forever, also with --skip-bad.
    let dir = tempfile::tempdir().unwrap();
    let only = dir.path().join("only");
    std::fs::create_dir(&only).unwrap();
    std::os::unix::fs::symlink("/dev/zero", only.join("zz.png")).unwrap();
    mkfifo(&only.join("fifo.png"));
    for extra in [&[][..], &["--skip-bad"][..]] {
        let mut args = vec!["fid", s(&only), s(&only), "--model", "builtin"];
        args.extend(extra);
        refused(
            &args,
            &[],
            &["only", "2 entries are devices, FIFOs or sockets"],
            IMAGES_BOUND_MIB,
        );
    }

    // Beside real images they are skipped, and the images are used.
    let mixed = dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    for name in ["rgb.png", "gray.png", "image.bmp"] {
        std::fs::copy(fixture(&format!("images/files/{name}")), mixed.join(name)).unwrap();
    }
    std::os::unix::fs::symlink("/dev/zero", mixed.join("zz.png")).unwrap();
    mkfifo(&mixed.join("fifo.png"));
    let mut cmd = geneval_std();
    cmd.args(["fid", s(&mixed), s(&mixed), "--model", "builtin", "--json"]);
    let run = run_measured(cmd, TIMEOUT);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.peak_rss_mib() < IMAGES_BOUND_MIB, "{run:?}");
    eprintln!("fid on 3 images: {:.1} MiB peak RSS", run.peak_rss_mib());
    let record: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(record["inputs"][0]["count"], 3, "{record}");

    // A list naming them refuses the entry (this already held).
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "mixed/rgb.png\nmixed/zz.png\nmixed/fifo.png\n").unwrap();
    let side = format!("@{}", list.display());
    refused(
        &["fid", &side, &side, "--model", "builtin", "--skip-bad"],
        &[],
        &["list.txt:2", "zz.png", "is not a file"],
        IMAGES_BOUND_MIB,
    );

    // And a features file that is a link to /dev/zero or a FIFO.
    let good = small_features(dir.path(), "good.npy", 5, 2);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.npy")).unwrap();
    mkfifo(&dir.path().join("fifo.npy"));
    for (name, kind) in [("zero.npy", "a device"), ("fifo.npy", "a FIFO")] {
        let path = dir.path().join(name);
        refused(
            &["fid", s(&path), s(&good)],
            &[],
            &[name, kind],
            FILES_BOUND_MIB,
        );
    }
    let zero_npz = dir.path().join("zero.npz");
    std::os::unix::fs::symlink("/dev/zero", &zero_npz).unwrap();
    refused(
        &["fid", s(&zero_npz), s(&good)],
        &[],
        &["zero.npz", "a device"],
        FILES_BOUND_MIB,
    );
}
