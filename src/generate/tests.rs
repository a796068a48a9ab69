use super::*;

fn options(n: usize, size: u32) -> GenerateOptions {
    GenerateOptions {
        n,
        size,
        seed: 7,
        ..GenerateOptions::default()
    }
}

fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    a.as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (x as f64 - y as f64).abs())
        .sum::<f64>()
        / a.as_raw().len() as f64
}

fn read_folder(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(path)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn same_options_give_identical_images() {
    let o = options(6, 48);
    for i in 0..6 {
        assert_eq!(render(&o, i), render(&o, i));
    }
    assert_ne!(render(&o, 0), render(&o, 1));
    let other = GenerateOptions {
        seed: 8,
        ..o.clone()
    };
    assert_ne!(render(&o, 0), render(&other, 0));
}

#[test]
fn pinned_pixels_do_not_drift() {
    // Guards byte-identity across versions: a change here changes every
    // generated set (update deliberately, and say so in the changelog).
    let o = options(3, 32);
    let digest = |img: &RgbImage| {
        img.as_raw().iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        })
    };
    let got: Vec<u64> = (0..3).map(|i| digest(&render(&o, i))).collect();
    assert_eq!(
        got,
        [
            0x7b39_04b0_ba48_7be3,
            0x3c57_1b9b_0fc4_5393,
            0x1fb2_c102_7cea_579b
        ],
        "{got:#x?}"
    );
}

#[test]
fn write_set_is_identical_for_one_and_two_threads() {
    let mut o = options(12, 32);
    o.disturbances = vec![
        "noise:0.25".parse().unwrap(),
        "contamination:0.25".parse().unwrap(),
    ];
    for format in [ImageFormat::Png, ImageFormat::Jpeg] {
        o.format = format;
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for (threads, dir) in [(1, &a), (2, &b)] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let report = pool.install(|| write_set(dir.path(), &o)).unwrap();
            assert_eq!(report.images, 12);
            assert!((2..=4).contains(&report.contaminated));
        }
        let (fa, fb) = (read_folder(a.path()), read_folder(b.path()));
        assert_eq!(fa.len(), 13);
        assert_eq!(fa, fb, "{format}");
        assert!(fa.iter().any(|(name, _)| name == "labels.csv"));
        assert!(fa
            .iter()
            .any(|(name, _)| name == &format!("00011.{}", format.extension())));
    }
}

#[test]
fn written_png_decodes_to_the_rendered_image() {
    let o = options(2, 40);
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), &o).unwrap();
    let decoded = decode_file(&dir.path().join("00001.png"), &DecodeOptions::default()).unwrap();
    assert_eq!(decoded, render(&o, 1));
}

#[test]
fn jpeg_is_close_to_the_rendered_image() {
    let o = GenerateOptions {
        format: ImageFormat::Jpeg,
        ..options(1, 64)
    };
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), &o).unwrap();
    let decoded = decode_file(&dir.path().join("00000.jpg"), &DecodeOptions::default()).unwrap();
    assert!(mean_abs_diff(&decoded, &render(&o, 0)) < 4.0);
}

#[test]
fn labels_follow_the_classes_and_keep_classes_drops_modes() {
    let o = GenerateOptions {
        classes: 4,
        ..options(10, 16)
    };
    let labels: Vec<usize> = (0..10).map(|i| label_of(&o, i)).collect();
    assert_eq!(labels, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
    let dropped = GenerateOptions {
        keep_classes: Some(2),
        ..o.clone()
    };
    assert!((0..10).all(|i| label_of(&dropped, i) < 2));
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), &dropped).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("labels.csv")).unwrap();
    assert!(
        csv.starts_with("file,class\n00000.png,0\n00001.png,1\n00002.png,0\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 11);
}

#[test]
fn classes_look_different_and_images_within_a_class_vary() {
    let o = options(20, 48);
    // Mean colour of each class over a few images: distinct classes differ.
    let mean = |class: usize| {
        let mut m = [0.0f64; 3];
        for k in 0..2 {
            let img = render(&o, class + 10 * k);
            for p in img.pixels() {
                for (sum, &v) in m.iter_mut().zip(&p.0) {
                    *sum += v as f64;
                }
            }
        }
        m
    };
    assert!(mean_abs_diff(&render(&o, 0), &render(&o, 10)) > 1.0);
    let m: Vec<[f64; 3]> = (0..10).map(mean).collect();
    for a in 0..10 {
        for b in a + 1..10 {
            assert_ne!(m[a], m[b]);
        }
    }
}

#[test]
fn invalid_options_are_refused() {
    let bad = [
        GenerateOptions {
            n: 0,
            ..options(1, 16)
        },
        GenerateOptions {
            size: 4,
            ..options(1, 16)
        },
        GenerateOptions {
            classes: 0,
            ..options(1, 16)
        },
        GenerateOptions {
            keep_classes: Some(11),
            ..options(1, 16)
        },
        GenerateOptions {
            keep_classes: Some(0),
            ..options(1, 16)
        },
    ];
    for o in bad {
        let err = o.validate().unwrap_err();
        assert!(matches!(err, GenerateError::InvalidOptions { .. }), "{err}");
    }
    assert!("gif".parse::<ImageFormat>().is_err());
    assert_eq!("JPG".parse::<ImageFormat>().unwrap(), ImageFormat::Jpeg);
}

#[test]
fn file_names_sort_in_index_order() {
    let o = options(123_456, 16);
    assert_eq!(o.file_name(7), "000007.png");
    assert_eq!(options(10, 16).file_name(7), "00007.png");
}

mod disturbances {
    use super::*;

    fn image() -> RgbImage {
        render(&options(1, 48), 0)
    }

    #[test]
    fn parse_accepts_every_kind_and_rejects_bad_text() {
        for kind in DisturbanceKind::ALL {
            let d: Disturbance = format!("{kind}:{}", kind.range().1).parse().unwrap();
            assert_eq!(d.kind, kind);
            assert_eq!(d.to_string().parse::<Disturbance>().unwrap(), d);
        }
        assert_eq!(
            "salt_and_pepper:0.1".parse::<Disturbance>().unwrap().kind,
            DisturbanceKind::SaltPepper
        );
        let err = "fog:1".parse::<Disturbance>().unwrap_err();
        assert!(matches!(err, DisturbanceError::UnknownKind { .. }));
        let text = err.to_string();
        for kind in DisturbanceKind::ALL {
            assert!(text.contains(kind.name()), "{text}");
        }
        assert!(matches!(
            "noise".parse::<Disturbance>().unwrap_err(),
            DisturbanceError::NotKindLevel { .. }
        ));
        for bad in [
            "noise:0.8",
            "noise:-0.1",
            "blur:x",
            "salt-pepper:0.31",
            "swirl:NaN",
        ] {
            let err = bad.parse::<Disturbance>().unwrap_err();
            assert!(
                matches!(err, DisturbanceError::LevelOutOfRange { .. }),
                "{bad}: {err}"
            );
        }
        assert!("blur:4".parse::<Disturbance>().unwrap().to_string() == "blur:4");
    }

    #[test]
    fn level_zero_is_the_identity() {
        let img = image();
        for kind in DisturbanceKind::ALL {
            let d = Disturbance::new(kind, 0.0).unwrap();
            for index in 0..8 {
                assert_eq!(apply(&img, &d, 3, index), img, "{kind}");
            }
        }
        let plain = options(4, 32);
        let zeroed = GenerateOptions {
            disturbances: DisturbanceKind::ALL
                .iter()
                .map(|&k| Disturbance::new(k, 0.0).unwrap())
                .collect(),
            ..plain.clone()
        };
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write_set(a.path(), &plain).unwrap();
        write_set(b.path(), &zeroed).unwrap();
        assert_eq!(read_folder(a.path()), read_folder(b.path()));
    }

    #[test]
    fn positive_levels_change_the_image_more_as_they_grow() {
        let img = image();
        for kind in DisturbanceKind::ALL {
            if kind.acts_on_set() {
                continue;
            }
            let levels = kind.paper_levels();
            let mut last = 0.0;
            for &level in &levels[1..] {
                let d = Disturbance::new(kind, level).unwrap();
                let out = apply(&img, &d, 3, 0);
                assert_eq!(out.dimensions(), img.dimensions());
                assert_eq!(out, apply(&img, &d, 3, 0), "{d} is deterministic");
                let diff = mean_abs_diff(&out, &img);
                assert!(diff > last, "{d}: {diff} after {last}");
                last = diff;
            }
        }
    }

    #[test]
    fn disturbances_work_on_non_square_images() {
        let img = render::draw(1, 0, 3, 40, 24);
        for kind in DisturbanceKind::ALL {
            let d = Disturbance::new(kind, kind.range().1).unwrap();
            for index in 0..4 {
                assert_eq!(apply(&img, &d, 0, index).dimensions(), (40, 24));
            }
        }
    }

    #[test]
    fn salt_and_pepper_sets_about_p_of_the_pixels() {
        let img = RgbImage::from_pixel(100, 100, image::Rgb([100, 100, 100]));
        let d = Disturbance::new(DisturbanceKind::SaltPepper, 0.2).unwrap();
        let out = apply(&img, &d, 0, 0);
        let changed = out.pixels().filter(|p| p.0 != [100; 3]).count();
        assert!((1800..2200).contains(&changed), "{changed}");
        assert!(out
            .pixels()
            .all(|p| p.0 == [100; 3] || p.0 == [0; 3] || p.0 == [255; 3]));
    }

    #[test]
    fn blur_keeps_a_flat_image_flat() {
        let img = RgbImage::from_pixel(20, 10, image::Rgb([10, 200, 77]));
        let d = Disturbance::new(DisturbanceKind::Blur, 4.0).unwrap();
        assert_eq!(apply(&img, &d, 0, 0), img);
    }

    #[test]
    fn contamination_picks_a_nested_near_exact_fraction() {
        let n = 1000;
        let mut previous: Vec<bool> = vec![false; n];
        for alpha in [0.1, 0.25, 0.5, 0.75] {
            let picked: Vec<bool> = (0..n).map(|i| contaminated(5, i, alpha)).collect();
            let count = picked.iter().filter(|&&c| c).count() as f64;
            assert!((count - alpha * n as f64).abs() <= 2.0, "{alpha}: {count}");
            assert!(previous.iter().zip(&picked).all(|(&p, &c)| !p || c));
            previous = picked;
        }
        assert!((0..n).all(|i| !contaminated(5, i, 0.0)));
    }

    #[test]
    fn contaminants_differ_from_the_set() {
        let o = options(1, 32);
        let c = render_contaminant(o.seed, 0, 32, 32);
        assert_eq!(c, render_contaminant(o.seed, 0, 32, 32));
        assert!(mean_abs_diff(&c, &render(&o, 0)) > 5.0);
    }

    #[test]
    fn disturb_folder_writes_pngs_with_the_same_stems() {
        let input = tempfile::tempdir().unwrap();
        let o = GenerateOptions {
            format: ImageFormat::Jpeg,
            ..options(4, 24)
        };
        write_set(input.path(), &o).unwrap();
        let out = tempfile::tempdir().unwrap();
        let d: Disturbance = "contamination:0.5".parse().unwrap();
        let report = disturb_folder(input.path(), out.path(), &d, 1).unwrap();
        assert_eq!((report.images, report.contaminated), (4, 2));
        let names: Vec<String> = read_folder(out.path())
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["00000.png", "00001.png", "00002.png", "00003.png"]);
        let same = disturb_folder(input.path(), input.path(), &d, 1).unwrap_err();
        assert!(matches!(same, GenerateError::InvalidOptions { .. }));
    }

    #[test]
    fn disturb_folder_refuses_two_inputs_with_one_stem() {
        let input = tempfile::tempdir().unwrap();
        let img = RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3]));
        img.save(input.path().join("a.png")).unwrap();
        img.save(input.path().join("a.bmp")).unwrap();
        let out = tempfile::tempdir().unwrap();
        let d: Disturbance = "blur:1".parse().unwrap();
        let err = disturb_folder(input.path(), out.path(), &d, 0).unwrap_err();
        assert!(matches!(err, GenerateError::NameClash { .. }), "{err}");
    }
}

#[test]
fn copies_are_the_other_sets_images_and_nest_by_fraction() {
    let copies = |fraction| GenerateOptions {
        copies: Some(Copies {
            fraction,
            of_seed: 3,
        }),
        ..options(200, 16)
    };
    let (low, high) = (copies(0.1), copies(0.3));
    let picked = |o: &GenerateOptions| -> Vec<usize> {
        (0..200).filter(|&i| copy_source(o, i).is_some()).collect()
    };
    let (a, b) = (picked(&low), picked(&high));
    assert!((18..=22).contains(&a.len()), "{}", a.len());
    assert!((58..=62).contains(&b.len()), "{}", b.len());
    assert!(a.iter().all(|i| b.contains(i)));
    assert!(a
        .iter()
        .all(|&i| copy_source(&low, i) == copy_source(&high, i)));
    // The files written are the source set's images, byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let (fake, real) = (dir.path().join("fake"), dir.path().join("real"));
    let set = write_set(&fake, &low).unwrap();
    assert_eq!(set.copies, a.len());
    write_set(
        &real,
        &GenerateOptions {
            seed: 3,
            ..options(200, 16)
        },
    )
    .unwrap();
    for &i in &a {
        let j = copy_source(&low, i).unwrap();
        assert_eq!(
            std::fs::read(fake.join(low.file_name(i))).unwrap(),
            std::fs::read(real.join(low.file_name(j))).unwrap()
        );
    }
    let too_many = copies(0.8);
    assert!(too_many.validate().is_err());
}
