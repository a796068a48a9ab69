//! `geneval report`'s sample images: two generated sets measured with `fid`
//! and `nn` (two real images planted as copies), the HTML page with its
//! thumbnails (grids, copy pairs, outliers) as `data:` JPEGs, within the
//! page budget; `--no-images`; records read from another folder; sides
//! that are gone.

use crate::common::*;
use std::path::{Path, PathBuf};

/// Images per generated side.
const REAL: usize = 20;
/// Real images copied into the generated side.
const PLANTED: usize = 2;
/// `nn --top`: outliers listed.
const TOP: usize = 5;

/// `real/` and `fake/` (with two copies of real images) in `dir`, and the
/// `fid` and `nn` records of them, run from `dir` with relative paths as a
/// user would; returns the records file.
pub fn sample_records(dir: &Path) -> PathBuf {
    generate_set(&dir.join("real"), REAL, 32, 1, &[]);
    generate_set(&dir.join("fake"), REAL, 32, 2, &[]);
    for (k, name) in ["00003.png", "00011.png"].iter().enumerate() {
        std::fs::copy(
            dir.join("real").join(name),
            dir.join("fake").join(format!("zz_copy{k}.png")),
        )
        .unwrap();
    }
    for args in [
        &["fid", "real", "fake"][..],
        &["nn", "real", "fake", "--top", "5"][..],
    ] {
        let out = geneval()
            .current_dir(dir)
            .args(args)
            .args(["--model", "builtin", "--record", "runs.jsonl", "--quiet"])
            .args(["--label", "model=a"])
            .output()
            .unwrap();
        assert_success(&out, &format!("{args:?}"));
    }
    dir.join("runs.jsonl")
}

/// Thumbnails the page of [`sample_records`] holds: each side's grid (all
/// of it: fewer than 32), two copy pairs, the outliers.
pub const EXPECTED_THUMBNAILS: usize = REAL + (REAL + PLANTED) + 2 * PLANTED + TOP;

/// Runs `geneval report` from `cwd` and returns the page and the command's
/// record.
fn report(cwd: &Path, records: &Path, html: &Path, extra: &[&str]) -> (String, serde_json::Value) {
    let out = geneval()
        .current_dir(cwd)
        .args(["report", s(records), "-o", s(html), "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert_success(&out, "report");
    let record = serde_json::from_slice(&out.stdout).unwrap();
    (std::fs::read_to_string(html).unwrap(), record)
}

#[test]
fn html_report_embeds_thumbnails_of_sides_copies_and_outliers() {
    let dir = tempfile::tempdir().unwrap();
    let records = sample_records(dir.path());
    let html = dir.path().join("page.html");
    // From another folder: the relative paths are found beside the records.
    let elsewhere = tempfile::tempdir().unwrap();
    let (page, record) = report(elsewhere.path(), &records, &html, &[]);

    let jpegs = page
        .matches("<img src=\"data:image/jpeg;base64,/9j/")
        .count();
    assert_eq!(
        jpegs, EXPECTED_THUMBNAILS,
        "every thumbnail a JPEG data URI"
    );
    assert_eq!(page.matches("<img").count(), jpegs, "no other image");
    assert_eq!(page.matches("src=").count(), jpegs, "nothing else loaded");
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert!(!page.contains("<script"));
    assert!(!page.contains("class=\"gone\""), "every image found");
    assert_eq!(record["values"]["thumbnails"], EXPECTED_THUMBNAILS as f64);
    let image_bytes = record["values"]["image_bytes"].as_f64().unwrap() as usize;
    assert!(image_bytes <= 5_000_000, "within the page budget");
    assert!(
        page.len() < image_bytes + 100_000,
        "the page is its images and a little text: {} bytes, {image_bytes} of images",
        page.len()
    );
    assert!(
        page.contains("of the page&#39;s budget of 5.0 MB"),
        "the budget is stated"
    );
    // The sections: grids once each (used by both records), pairs, outliers.
    assert!(page.contains("<h3>real</h3>") && page.contains("<h3>fake</h3>"));
    assert!(page.contains("Possible copies: fake (generated | nearest real in real)"));
    assert!(page.contains("2 possible copies, closest first"));
    assert_eq!(
        page.matches("<figure class=\"tile pair\">").count(),
        PLANTED
    );
    assert!(
        page.contains("zz_copy0.png ~ 00003.png · euclidean ")
            && page.contains("zz_copy1.png ~ 00011.png · euclidean "),
        "pairs are captioned"
    );
    assert!(page.contains("Outliers: fake (farthest from every real image)"));
    assert!(page.contains("fid · model=a (") && page.contains("authpct · model=a ("));
    eprintln!(
        "page: {} bytes, {EXPECTED_THUMBNAILS} thumbnails, {image_bytes} bytes of images",
        page.len()
    );

    // The same records make the same page, but for its time stamp.
    let again = dir.path().join("again.html");
    let (second, _) = report(elsewhere.path(), &records, &again, &[]);
    let strip = |p: &str| {
        p.lines()
            .filter(|l| !l.contains("datetime"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&page),
        strip(&second),
        "the draw and the JPEGs are deterministic"
    );

    // --no-images: none.
    let plain = dir.path().join("plain.html");
    let (page, record) = report(elsewhere.path(), &records, &plain, &["--no-images"]);
    assert!(!page.contains("<img") && !page.contains("data:"));
    assert!(!page.contains("Sample images"));
    assert_eq!(record["values"]["thumbnails"], 0.0);
    assert_eq!(record["settings"]["images"], false);
}

#[test]
fn sides_that_are_gone_are_a_note_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let records = sample_records(dir.path());
    std::fs::rename(dir.path().join("fake"), dir.path().join("moved")).unwrap();
    std::fs::write(dir.path().join("real/00005.png"), b"no longer a PNG").unwrap();
    let html = dir.path().join("page.html");
    let (page, record) = report(dir.path(), &records, &html, &[]);
    assert!(
        page.contains("images of `fake` not found (looked at"),
        "the missing side is named"
    );
    assert!(page.contains("moved or deleted since the record was written"));
    assert!(
        page.contains("1 image could not be shown: ") && page.contains("00005.png"),
        "the bad file is named"
    );
    // real: all but the bad one; copies: only their real halves.
    let jpegs = page.matches("data:image/jpeg").count();
    assert_eq!(jpegs, (REAL - 1) + PLANTED);
    assert_eq!(record["values"]["thumbnails"], jpegs as f64);
    assert!(
        page.contains("class=\"gone\""),
        "placeholders keep the positions"
    );
}
