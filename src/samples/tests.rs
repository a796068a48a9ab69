use super::*;
use geneval_reports::ResultRecord;
use image::{Rgb, RgbImage};

/// `n` distinct 40 × 30 PNGs in `folder`.
fn side(folder: &Path, n: usize) {
    std::fs::create_dir_all(folder).unwrap();
    for i in 0..n {
        let image = RgbImage::from_fn(40, 30, |x, y| {
            Rgb([(x * 6) as u8, (y * 8) as u8, (i * 37 % 256) as u8])
        });
        image.save(folder.join(format!("{i:05}.png"))).unwrap();
    }
}

fn input(path: &Path, count: u64) -> InputRecord {
    InputRecord {
        path: path.display().to_string(),
        kind: "images".into(),
        count: Some(count),
        dim: None,
        sha256: None,
        content_sha256: None,
    }
}

fn record(dir: &Path, metric: &str, inputs: Vec<InputRecord>, line: usize) -> SourcedRecord {
    let mut record = ResultRecord::new(metric, "0.1.0", "2026-12-01T00:00:00Z".into());
    record.inputs = inputs;
    record.labels.insert("model".into(), "a".into());
    SourcedRecord {
        record,
        source: format!("{}:{line}", dir.join("runs.jsonl").display()),
    }
}

fn jpegs(section: &SampleSection) -> usize {
    section
        .tiles
        .iter()
        .flat_map(|t| &t.images)
        .filter(|i| matches!(i, Thumbnail::Jpeg { .. }))
        .count()
}

#[test]
fn a_side_shows_a_deterministic_grid_once_for_every_record_using_it() {
    let dir = tempfile::tempdir().unwrap();
    let (real, fake) = (dir.path().join("real"), dir.path().join("fake"));
    side(&real, 40);
    side(&fake, 10);
    let records = vec![
        record(
            dir.path(),
            "fid",
            vec![input(&real, 40), input(&fake, 10)],
            1,
        ),
        record(
            dir.path(),
            "kid",
            vec![input(&real, 40), input(&fake, 10)],
            2,
        ),
    ];
    let samples = collect(&records, &SampleOptions::default());
    assert_eq!(samples.sections.len(), 2, "each side once");
    let grid = &samples.sections[0];
    assert_eq!(grid.kind, SampleKind::Grid);
    assert_eq!(grid.used_by.len(), 2, "{:?}", grid.used_by);
    assert!(
        grid.used_by[0].starts_with("fid · model=a ("),
        "{:?}",
        grid.used_by
    );
    assert_eq!(jpegs(grid), PER_SIDE);
    assert_eq!(jpegs(&samples.sections[1]), 10, "a small side whole");
    assert_eq!(samples.thumbnail_count(), PER_SIDE + 10);
    // Shown in list order, the same draw every time.
    let captions: Vec<&str> = grid.tiles.iter().map(|t| t.caption.as_str()).collect();
    let mut sorted = captions.clone();
    sorted.sort();
    assert_eq!(captions, sorted);
    assert_eq!(collect(&records, &SampleOptions::default()), samples);
    assert!(samples.embedded_len() <= PAGE_BUDGET_BYTES);
    assert!(
        samples.notes[0].contains("42 thumbnails"),
        "{:?}",
        samples.notes
    );
}

#[test]
fn the_budget_is_shared_and_never_exceeded() {
    let dir = tempfile::tempdir().unwrap();
    let (real, fake) = (dir.path().join("real"), dir.path().join("fake"));
    side(&real, 40);
    side(&fake, 40);
    let records = vec![record(
        dir.path(),
        "fid",
        vec![input(&real, 40), input(&fake, 40)],
        1,
    )];
    let full = collect(&records, &SampleOptions::default());
    let one = full.embedded_len() / full.thumbnail_count();
    // Room for about ten thumbnails: about five a side.
    let options = SampleOptions {
        budget_bytes: 10 * one + one / 2,
        ..SampleOptions::default()
    };
    let samples = collect(&records, &options);
    assert!(samples.embedded_len() <= options.budget_bytes);
    let counts: Vec<usize> = samples.sections.iter().map(jpegs).collect();
    assert!(
        counts.iter().all(|&c| (3..=7).contains(&c)),
        "{counts:?} of {one} bytes each"
    );
    for section in &samples.sections {
        assert!(
            section
                .notes
                .iter()
                .any(|n| n.contains("of 32 images shown") && n.contains("budget")),
            "{:?}",
            section.notes
        );
    }
    // The kept thumbnails are the first of the draw: a subset of the full grid.
    let full_names: Vec<&str> = full.sections[0]
        .tiles
        .iter()
        .map(|t| t.caption.as_str())
        .collect();
    assert!(samples.sections[0]
        .tiles
        .iter()
        .all(|t| full_names.contains(&t.caption.as_str())));
    // No budget: no thumbnails, and a note per section.
    let none = collect(
        &records,
        &SampleOptions {
            budget_bytes: 0,
            ..SampleOptions::default()
        },
    );
    assert_eq!(none.thumbnail_count(), 0);
    assert!(none
        .sections
        .iter()
        .all(|s| s.notes.iter().any(|n| n.starts_with("0 of 32"))));
}

#[test]
fn missing_sides_and_bad_files_are_notes() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    side(&real, 5);
    std::fs::write(real.join("00002.png"), b"not a png").unwrap();
    let gone = dir.path().join("gone");
    let records = vec![record(
        dir.path(),
        "fid",
        vec![input(&real, 4), input(&gone, 10)],
        1,
    )];
    let samples = collect(&records, &SampleOptions::default());
    let grid = &samples.sections[0];
    assert_eq!(grid.tiles.len(), 5, "the bad file keeps its place");
    assert_eq!(jpegs(grid), 4);
    assert!(matches!(
        &grid.tiles[2].images[0],
        Thumbnail::Missing { reason, .. } if reason == "not decodable"
    ));
    assert!(
        grid.notes
            .iter()
            .any(|n| n.starts_with("1 image could not be shown: ") && n.contains("00002.png")),
        "{:?}",
        grid.notes
    );
    assert!(
        grid.notes
            .iter()
            .any(|n| n.contains("holds 5 images now; the record measured 4")),
        "{:?}",
        grid.notes
    );
    let missing = &samples.sections[1];
    assert!(missing.tiles.is_empty());
    assert!(
        missing.notes[0].contains("not found") && missing.notes[0].contains("gone"),
        "{:?}",
        missing.notes
    );
}

#[test]
fn nn_records_show_copies_as_pairs_and_outliers() {
    let dir = tempfile::tempdir().unwrap();
    let (real, fake) = (dir.path().join("real"), dir.path().join("fake"));
    side(&real, 6);
    side(&fake, 6);
    let mut nn = record(
        dir.path(),
        "authpct",
        vec![input(&real, 6), input(&fake, 6)],
        1,
    );
    let name = |side: &Path, i: usize| side.join(format!("{i:05}.png")).display().to_string();
    nn.record.set("copies", 2.0);
    nn.record.setting("copy_ratio", 0.1);
    nn.record.setting(
        "possible_copies",
        serde_json::json!([
            {"fake": name(&fake, 1), "real": name(&real, 3), "distance": 0.001, "ratio_to_real_neighbour": 0.01},
            {"fake": name(&fake, 2), "real": "real/moved.png", "distance": 0.002, "ratio_to_real_neighbour": 0.02},
        ]),
    );
    nn.record.setting(
        "outliers",
        serde_json::json!([{"fake": name(&fake, 4), "real": name(&real, 0), "distance": 9.5}]),
    );
    let samples = collect(&[nn], &SampleOptions::default());
    let kinds: Vec<SampleKind> = samples.sections.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            SampleKind::Grid,
            SampleKind::Grid,
            SampleKind::Copies,
            SampleKind::Outliers
        ]
    );
    let copies = &samples.sections[2];
    assert_eq!(copies.tiles.len(), 2);
    assert_eq!(copies.tiles[0].images.len(), 2);
    assert_eq!(jpegs(copies), 3);
    assert!(
        copies.tiles[0]
            .caption
            .starts_with("00001.png ~ 00003.png · euclidean 0.001"),
        "{}",
        copies.tiles[0].caption
    );
    assert!(
        matches!(&copies.tiles[1].images[1], Thumbnail::Missing { reason, .. } if reason == "not found")
    );
    assert!(
        copies
            .notes
            .iter()
            .any(|n| n.contains("real/moved.png: not found")),
        "{:?}",
        copies.notes
    );
    let outliers = &samples.sections[3];
    assert_eq!(jpegs(outliers), 1);
    assert!(
        outliers.tiles[0].caption.contains("9.5"),
        "{}",
        outliers.tiles[0].caption
    );
}
