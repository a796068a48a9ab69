//! Reading the statistics and feature files that pytorch-fid, clean-fid,
//! TTUR and numpy write (tests/fixtures/npz, made by its generate.py).

use crate::common::*;
use ndarray::Array2;

fn expected() -> serde_json::Value {
    json(&fixture("npz/expected.json"))
}

#[test]
fn fid_between_statistics_matches_pytorch_fid() {
    let e = expected();
    let want = &e["fid"]["expected"]["fid_sqrtm"];
    let other = fixture("npz/stats_other.npz");
    let mut checked = 0;
    for (name, file) in e["files"].as_object().unwrap() {
        if file["kind"] != "stats" || file["expect"] != "ok" || file["values"] != "primary" {
            continue;
        }
        let record = run_json(&["fid", s(&fixture(&format!("npz/{name}"))), s(&other)]);
        let got = record["value"].as_f64().unwrap();
        assert_rel(
            got,
            want["value"].as_f64().unwrap(),
            want["rtol"].as_f64().unwrap(),
            name,
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} statistics files checked");
}

#[test]
fn float32_statistics_are_widened_exactly() {
    // FID of the float32 file against a features-free route: the float32
    // values widened to f64 must give the same number as the f64 statistics
    // written from them, so compare against itself through `stats` output.
    let e = expected();
    let values = &e["values"]["primary_float32"];
    let mu: Vec<f64> = values["mu"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let f32_file = fixture("npz/stats_float32.npz");
    let record = run_json(&["fid", s(&f32_file), s(&f32_file)]);
    assert!(record["value"].as_f64().unwrap().abs() < 1e-9);
    assert_eq!(
        record["inputs"][0]["dim"].as_u64().unwrap() as usize,
        mu.len()
    );
}

#[test]
fn features_in_any_float_dtype_and_order_give_numpy_statistics() {
    let e = expected();
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "features_f64.npy",
        "features_f32.npy",
        "features_fortran.npy",
    ] {
        let file = &e["files"][name];
        let rows: Vec<Vec<f64>> = file["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect()
            })
            .collect();
        let (n, d) = (rows.len(), rows[0].len());
        let want = Array2::from_shape_fn((n, d), |(i, j)| rows[i][j]);
        let out = dir.path().join(format!("{name}.npz"));
        run_json(&["stats", s(&fixture(&format!("npz/{name}"))), "-o", s(&out)]);
        let mut npz = ndarray_npy::NpzReader::new(std::fs::File::open(&out).unwrap()).unwrap();
        let mu: ndarray::Array1<f64> = npz.by_name("mu").unwrap();
        let sigma: Array2<f64> = npz.by_name("sigma").unwrap();
        let want_mu = want.mean_axis(ndarray::Axis(0)).unwrap();
        let centred = &want - &want_mu;
        let want_sigma = centred.t().dot(&centred) / (n as f64 - 1.0);
        for (a, b) in mu.iter().zip(want_mu.iter()) {
            assert!((a - b).abs() < 1e-12, "{name}: mu {a} vs {b}");
        }
        for (a, b) in sigma.iter().zip(want_sigma.iter()) {
            assert!((a - b).abs() < 1e-12, "{name}: sigma {a} vs {b}");
        }
    }
}

#[test]
fn written_statistics_are_numpy_savez_files() {
    // What pytorch-fid's np.load needs: a zip whose members are mu.npy and
    // sigma.npy, float64 little-endian, C order.
    let dir = tempfile::tempdir().unwrap();
    let features = dir.path().join("f.npy");
    ndarray_npy::write_npy(&features, &random_features(30, 4, 1)).unwrap();
    let out = dir.path().join("stats.npz");
    run_json(&["stats", s(&features), "-o", s(&out)]);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    names.sort();
    assert_eq!(names, ["mu.npy", "sigma.npy"]);
    let mut member = zip.by_name("sigma.npy").unwrap();
    let mut header = vec![0u8; 64];
    std::io::Read::read_exact(&mut member, &mut header).unwrap();
    assert_eq!(&header[..6], b"\x93NUMPY");
    let header = String::from_utf8_lossy(&header);
    assert!(
        header.contains("'descr': '<f8'") && header.contains("'fortran_order': False"),
        "{header}"
    );
    // And geneval reads its own output back to FID 0 with itself.
    let record = run_json(&["fid", s(&out), s(&out)]);
    assert!(record["value"].as_f64().unwrap().abs() < 1e-12);
}
