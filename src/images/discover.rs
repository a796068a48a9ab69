//! Which images a side means: a folder (pytorch-fid's file list) or a list
//! file (`@list.txt`).
//!
//! pytorch-fid 0.3 lists a folder with
//! `sorted([file for ext in IMAGE_EXTENSIONS for file in path.glob('*.{}'.format(ext))])`.
//! We keep its nine extensions and its order (Python sorts `Path`s part by
//! part, which within one folder is the file names' code-point order, the
//! same as Rust's byte order on UTF-8 names), and its inclusion of dot files.
//! Two deliberate differences: extensions match case-insensitively
//! (pytorch-fid's glob skips `IMG.JPG` on Linux), and only files are listed
//! (its glob would also return a folder named `x.png` and then fail on it).
//! With `recursive`, subfolders are searched too (symbolic links to folders
//! are not followed, so links cannot loop) and all paths are sorted together,
//! component by component.
//!
//! Only regular files are listed, and symbolic links to them. Devices,
//! FIFOs and sockets are skipped whatever their name, and links to them too:
//! `zz.png -> /dev/zero` never ends (decoding it filled 18 GB in a minute)
//! and opening a FIFO `zz.png` blocks until something writes to it, even
//! with `--skip-bad`. They are counted and named in the error when a folder
//! has no image besides them. A broken link named like an image is kept, so
//! that decoding reports it by name.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use super::ImageError;
use crate::fs::read::ReadError;

/// pytorch-fid 0.3's `IMAGE_EXTENSIONS`, sorted; matched case-insensitively.
pub const IMAGE_EXTENSIONS: [&str; 9] = [
    "bmp", "jpeg", "jpg", "pgm", "png", "ppm", "tif", "tiff", "webp",
];

/// How to list a folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiscoverOptions {
    /// Search subfolders too.
    pub recursive: bool,
}

/// Whether `path`'s extension is one of [`IMAGE_EXTENSIONS`] (any case).
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(OsStr::to_str)
        .is_some_and(|ext| IMAGE_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// The images a command-line side names: `@list.txt` is a list file, tar
/// shards and pixel arrays are [`super::archive`]s, anything else a folder.
pub fn discover(side: &Path, options: DiscoverOptions) -> Result<Vec<PathBuf>, ImageError> {
    match list_file_path(side) {
        Some(list) => read_list(&list),
        None if super::archive::is_archive_side(side) => super::archive::list(side),
        None => discover_folder(side, options),
    }
}

/// `Some(list.txt)` when `side` is written `@list.txt`.
pub fn list_file_path(side: &Path) -> Option<PathBuf> {
    side.to_str()?.strip_prefix('@').map(PathBuf::from)
}

/// The images in `folder`, sorted as pytorch-fid sorts them.
pub fn discover_folder(
    folder: &Path,
    options: DiscoverOptions,
) -> Result<Vec<PathBuf>, ImageError> {
    if !folder.exists() {
        return Err(ReadError::MissingPath {
            path: folder.to_path_buf(),
        }
        .into());
    }
    let mut found = Found::default();
    walk(folder, options.recursive, &mut found)?;
    if found.images.is_empty() {
        if found.other_files == 0 && found.subfolders == 0 && found.special_files == 0 {
            return Err(ImageError::EmptyFolder {
                path: folder.to_path_buf(),
            });
        }
        return Err(ImageError::NoImages {
            path: folder.to_path_buf(),
            other_files: found.other_files,
            subfolders: if options.recursive {
                0
            } else {
                found.subfolders
            },
            special_files: found.special_files,
            accepted: IMAGE_EXTENSIONS.join(", ."),
        });
    }
    found.images.sort();
    Ok(found.images)
}

#[derive(Default)]
struct Found {
    images: Vec<PathBuf>,
    other_files: usize,
    subfolders: usize,
    /// Devices, FIFOs and sockets (or links to them): never listed.
    special_files: usize,
}

fn walk(folder: &Path, recursive: bool, found: &mut Found) -> Result<(), ImageError> {
    let io = |source| ReadError::Io {
        path: folder.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(folder).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|source| ReadError::Io {
            path: path.clone(),
            source,
        })?;
        if file_type.is_dir() {
            found.subfolders += 1;
            if recursive {
                walk(&path, true, found)?;
            }
            continue;
        }
        // A symbolic link counts as what it points to; a broken one is kept
        // when its name looks like an image, so decoding reports it.
        let target = if file_type.is_symlink() {
            fs::metadata(&path).ok().map(|meta| meta.file_type())
        } else {
            Some(file_type)
        };
        match target {
            Some(t) if t.is_dir() => {
                found.subfolders += 1;
                continue;
            }
            Some(t) if !t.is_file() => {
                found.special_files += 1;
                continue;
            }
            _ => {}
        }
        if has_image_extension(&path) {
            found.images.push(path);
        } else {
            found.other_files += 1;
        }
    }
    Ok(())
}

/// The images named in a list file: one path per line, relative to the list
/// file's folder unless absolute; blank lines and lines starting with `#` are
/// ignored, surrounding whitespace is trimmed. Order is kept; every entry must
/// be an existing file (its extension is not checked: decoding reads content).
/// The list itself must be a regular file: `@/dev/zero` would be read
/// forever (zeros are valid UTF-8), and a FIFO blocks until written to.
pub fn read_list(list: &Path) -> Result<Vec<PathBuf>, ImageError> {
    if list.exists() {
        crate::fs::read::ensure_regular_file(list)?;
    }
    let text = fs::read_to_string(list).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ReadError::MissingPath {
                path: list.to_path_buf(),
            }
        } else {
            ReadError::Io {
                path: list.to_path_buf(),
                source,
            }
        }
    })?;
    let base = list.parent().unwrap_or(Path::new(""));
    let mut paths = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let entry = line.trim();
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let path = base.join(entry);
        let reason = match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => None,
            Ok(_) => Some("is not a file"),
            Err(_) => Some("does not exist"),
        };
        if let Some(reason) = reason {
            return Err(ImageError::BadListEntry {
                list: list.to_path_buf(),
                line: index + 1,
                path,
                reason,
            });
        }
        paths.push(path);
    }
    if paths.is_empty() {
        return Err(ImageError::EmptyList {
            path: list.to_path_buf(),
        });
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_files() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images/files")
    }

    fn names(paths: &[PathBuf], base: &Path) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.strip_prefix(base).unwrap().to_string_lossy().into_owned())
            .collect()
    }

    fn touch(path: &Path) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, b"x").unwrap();
    }

    #[test]
    fn folder_order_is_pytorch_fids_plus_upper_case_extensions() {
        let folder = fixture_files();
        let found = names(
            &discover_folder(&folder, DiscoverOptions::default()).unwrap(),
            &folder,
        );
        let json = fs::read_to_string(folder.parent().unwrap().join("expected.json")).unwrap();
        let meta: serde_json::Value = serde_json::from_str(&json).unwrap();
        let pytorch_fid: Vec<String> = meta["pytorch_fid_listing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        // pytorch-fid's glob is case-sensitive: the same list without upper-case extensions.
        let lower: Vec<String> = found
            .iter()
            .filter(|n| !["UPPER.BMP", "UPPER.JPG", "UPPER_CASE.PNG"].contains(&n.as_str()))
            .cloned()
            .collect();
        assert_eq!(lower, pytorch_fid);
        // Upper-case names sort first (byte order), as Python sorts them.
        assert_eq!(found[..3], ["UPPER.BMP", "UPPER.JPG", "UPPER_CASE.PNG"]);
        assert!(!found
            .iter()
            .any(|n| n.ends_with(".gif") || n.ends_with(".txt") || n.contains("nested")));
    }

    #[test]
    fn recursive_search_includes_subfolders_sorted_by_path() {
        let folder = fixture_files();
        let options = DiscoverOptions { recursive: true };
        let found = names(&discover_folder(&folder, options).unwrap(), &folder);
        assert!(found.contains(&"sub/nested.png".to_string()));
        let mut sorted = found.clone();
        sorted.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
        assert_eq!(found, sorted);

        let dir = tempfile::tempdir().unwrap();
        for name in ["b.png", "a/z.jpg", "a-b/c.png", "a/y/x.webp", ".hidden.png"] {
            touch(&dir.path().join(name));
        }
        let flat = names(
            &discover_folder(dir.path(), DiscoverOptions::default()).unwrap(),
            dir.path(),
        );
        assert_eq!(flat, [".hidden.png", "b.png"]);
        let deep = names(&discover(dir.path(), options).unwrap(), dir.path());
        // Component by component: "a" < "a-b", as Python 3.11 compares Path parts.
        assert_eq!(
            deep,
            [".hidden.png", "a/y/x.webp", "a/z.jpg", "a-b/c.png", "b.png"]
        );
    }

    #[test]
    fn folders_named_like_images_are_not_listed() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("folder.png")).unwrap();
        touch(&dir.path().join("real.PNG"));
        let found = discover_folder(dir.path(), DiscoverOptions::default()).unwrap();
        assert_eq!(names(&found, dir.path()), ["real.PNG"]);
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_named_like_images_are_skipped() {
        // Was: `zz.png -> /dev/zero` was listed (decoding it grew to 18 GB)
        // and a FIFO `zz.png` hung the run, also with --skip-bad.
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zz.png")).unwrap();
        let fifo = std::ffi::CString::new(dir.path().join("fifo.png").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        let error = discover_folder(dir.path(), DiscoverOptions::default()).unwrap_err();
        assert!(
            matches!(
                error,
                ImageError::NoImages {
                    special_files: 2,
                    other_files: 0,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("2 entries are devices, FIFOs or sockets"),
            "{error}"
        );

        // Beside a real image (and a link to one, and a broken link), only
        // the special files are left out.
        touch(&dir.path().join("real.png"));
        std::os::unix::fs::symlink(dir.path().join("real.png"), dir.path().join("link.png"))
            .unwrap();
        std::os::unix::fs::symlink("/nonexistent", dir.path().join("broken.png")).unwrap();
        let found = discover_folder(dir.path(), DiscoverOptions { recursive: true }).unwrap();
        assert_eq!(
            names(&found, dir.path()),
            ["broken.png", "link.png", "real.png"]
        );
    }

    #[test]
    fn missing_empty_and_imageless_folders_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let error = discover(&missing, DiscoverOptions::default()).unwrap_err();
        assert!(
            matches!(error, ImageError::Read(ReadError::MissingPath { .. })),
            "{error:?}"
        );
        assert!(error.to_string().contains("nope"));

        let empty = dir.path().join("empty");
        fs::create_dir(&empty).unwrap();
        let error = discover(&empty, DiscoverOptions::default()).unwrap_err();
        assert!(matches!(error, ImageError::EmptyFolder { .. }), "{error:?}");
        assert!(error.to_string().contains("empty"));

        let other = dir.path().join("other");
        touch(&other.join("a.txt"));
        touch(&other.join("b.gif"));
        let error = discover(&other, DiscoverOptions::default()).unwrap_err();
        assert!(
            matches!(
                error,
                ImageError::NoImages {
                    other_files: 2,
                    subfolders: 0,
                    ..
                }
            ),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("other") && message.contains("2 files"),
            "{message}"
        );
        assert!(
            message.contains(".jpeg") && message.contains(".webp"),
            "{message}"
        );

        let nested = dir.path().join("nested");
        touch(&nested.join("inner/a.png"));
        let error = discover(&nested, DiscoverOptions::default()).unwrap_err();
        assert!(
            matches!(error, ImageError::NoImages { subfolders: 1, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("--recursive"));
        assert!(error.hint_text().unwrap().contains("--recursive"));
        let found = discover(&nested, DiscoverOptions { recursive: true }).unwrap();
        assert_eq!(found, [nested.join("inner/a.png")]);
    }

    #[test]
    fn list_files_keep_order_resolve_relative_paths_and_skip_comments() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["imgs/b.png", "imgs/a.jpg", "c.anything"] {
            touch(&dir.path().join(name));
        }
        let elsewhere = tempfile::tempdir().unwrap();
        let absolute = elsewhere.path().join("abs.png");
        touch(&absolute);
        let list = dir.path().join("list.txt");
        let text = format!(
            "# real images\r\nimgs/b.png\r\n\n   imgs/a.jpg  \n#imgs/missing.png\n{}\nc.anything\n",
            absolute.display()
        );
        fs::write(&list, text).unwrap();
        let side = PathBuf::from(format!("@{}", list.display()));
        assert_eq!(list_file_path(&side), Some(list.clone()));
        let found = discover(&side, DiscoverOptions::default()).unwrap();
        assert_eq!(
            found,
            [
                dir.path().join("imgs/b.png"),
                dir.path().join("imgs/a.jpg"),
                absolute,
                dir.path().join("c.anything"),
            ]
        );
    }

    #[test]
    fn list_file_errors_name_the_list_the_line_and_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("a.png"));
        fs::create_dir(dir.path().join("sub")).unwrap();
        let list = dir.path().join("list.txt");

        fs::write(&list, "a.png\n# comment\nmissing.png\n").unwrap();
        let error = read_list(&list).unwrap_err();
        match &error {
            ImageError::BadListEntry {
                line, path, reason, ..
            } => {
                assert_eq!((*line, *reason), (3, "does not exist"));
                assert_eq!(path, &dir.path().join("missing.png"));
            }
            other => panic!("{other:?}"),
        }
        assert!(error.to_string().contains("list.txt:3: "), "{error}");

        fs::write(&list, "sub\n").unwrap();
        let error = read_list(&list).unwrap_err();
        assert!(
            matches!(
                error,
                ImageError::BadListEntry {
                    reason: "is not a file",
                    ..
                }
            ),
            "{error:?}"
        );

        fs::write(&list, "\n# nothing\n  \n").unwrap();
        let error = read_list(&list).unwrap_err();
        assert!(matches!(error, ImageError::EmptyList { .. }), "{error:?}");

        // A list that is a device is refused unread (it would never end).
        let error = discover(Path::new("@/dev/zero"), DiscoverOptions::default()).unwrap_err();
        assert!(
            matches!(
                error,
                ImageError::Read(ReadError::NotARegularFile {
                    kind: "a device",
                    ..
                })
            ),
            "{error:?}"
        );

        let error =
            discover(Path::new("@/no/such/list.txt"), DiscoverOptions::default()).unwrap_err();
        assert!(
            matches!(error, ImageError::Read(ReadError::MissingPath { .. })),
            "{error:?}"
        );
        assert!(error.to_string().contains("/no/such/list.txt"));
    }

    #[test]
    fn extensions_match_case_insensitively() {
        for yes in [
            "a.png", "a.PNG", "b.JpEg", "c.tif", "d.TIFF", "e.webp", "f.pgm", "g.ppm", "h.bmp",
            "i.jpg",
        ] {
            assert!(has_image_extension(Path::new(yes)), "{yes}");
        }
        for no in ["a.gif", "a.txt", "png", "a.png.bak", "a.jp", ".png"] {
            assert!(!has_image_extension(Path::new(no)), "{no}");
        }
    }
}
