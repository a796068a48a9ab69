//! Downloading a model's weights into a temporary file in its cache folder,
//! hashing as the bytes arrive, and sweeping what killed downloads left.
//!
//! # Timeouts
//!
//! A download of 95 MB may take an hour on a slow link and must not fail
//! for that, but a mirror that accepts the connection and then never
//! answers, or stops sending halfway, must not hang a CI job until its own
//! limit kills it. So there is no budget for the whole body; instead:
//!
//! * connecting (DNS, TCP, TLS) must finish within the connect timeout
//!   (20 s, `GENEVAL_DOWNLOAD_CONNECT_TIMEOUT_S`);
//! * the response headers, and then every single read of the body, must
//!   come within the idle timeout (60 s, `GENEVAL_DOWNLOAD_IDLE_TIMEOUT_S`):
//!   "no byte for a minute" means the server stopped sending, however fast
//!   or slow it was before. This is ureq 3's `timeout_per_read`, which
//!   restarts at every transport read.
//!
//! Both accept seconds from 0.1 to 600 (tests use short ones).
//!
//! # Leftovers
//!
//! A download is written to `.geneval-download-XXXX` beside its
//! destination and deleted when dropped; a process killed by SIGKILL or a
//! power loss cannot drop it, and it would stay forever. [`sweep_stale`]
//! deletes geneval's temporary files (`.geneval-*`) older than an hour from
//! a cache folder. A live download writes to its file at least once per
//! idle timeout (at most 10 minutes), and an atomic write of a cache file
//! takes seconds, so a file untouched for an hour has no writer left.

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::registry::ModelError;

/// Seconds allowed for connecting (DNS, TCP and TLS).
pub const CONNECT_TIMEOUT_ENV: &str = "GENEVAL_DOWNLOAD_CONNECT_TIMEOUT_S";
/// Seconds without a byte from the server before the download is abandoned.
pub const IDLE_TIMEOUT_ENV: &str = "GENEVAL_DOWNLOAD_IDLE_TIMEOUT_S";

const DEFAULT_CONNECT_S: f64 = 20.0;
const DEFAULT_IDLE_S: f64 = 60.0;
/// The longest timeout accepted: it must stay well below [`STALE_AFTER`]
/// for the sweep to be safe.
const MAX_TIMEOUT_S: f64 = 600.0;
const MIN_TIMEOUT_S: f64 = 0.1;

/// Age after which a temporary file in a cache folder is a leftover.
pub const STALE_AFTER: Duration = Duration::from_secs(3600);

/// The prefix of every temporary file geneval writes (`crate::fs` and the
/// downloads here).
const TEMP_PREFIX: &str = ".geneval-";

/// How long to wait for the server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    /// For connecting.
    pub connect: Duration,
    /// For the response headers and for each read of the body.
    pub idle: Duration,
}

impl Timeouts {
    /// The defaults, or the environment's values where set.
    pub fn from_env() -> Result<Self, ModelError> {
        Ok(Timeouts {
            connect: seconds_from_env(CONNECT_TIMEOUT_ENV, DEFAULT_CONNECT_S)?,
            idle: seconds_from_env(IDLE_TIMEOUT_ENV, DEFAULT_IDLE_S)?,
        })
    }
}

fn seconds_from_env(name: &'static str, default: f64) -> Result<Duration, ModelError> {
    let Some(value) = std::env::var(name).ok().filter(|v| !v.trim().is_empty()) else {
        return Ok(Duration::from_secs_f64(default));
    };
    match value.trim().parse::<f64>() {
        Ok(s) if (MIN_TIMEOUT_S..=MAX_TIMEOUT_S).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(ModelError::Setting {
            name,
            value,
            expected: format!("a number of seconds from {MIN_TIMEOUT_S} to {MAX_TIMEOUT_S}"),
        }),
    }
}

/// A finished download, still a temporary file (deleted when dropped).
#[derive(Debug)]
pub struct Downloaded {
    /// The bytes, in the destination's folder.
    pub file: tempfile::NamedTempFile,
    /// Their SHA-256, hex.
    pub sha256: String,
    /// How many.
    pub bytes: u64,
}

fn failed(url: &str, reason: String) -> ModelError {
    ModelError::Download {
        url: url.to_owned(),
        reason,
    }
}

/// Whether an error is ureq's (or the socket's) timeout.
fn is_timeout(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ) || error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|e| matches!(e, ureq::Error::Timeout(_)))
}

/// Downloads `url` into a temporary file in `dir`, refusing more than
/// `limit` bytes; `progress` makes the bar from the announced length.
pub fn download(
    url: &str,
    dir: &Path,
    limit: u64,
    progress: &dyn Fn(Option<u64>) -> indicatif::ProgressBar,
) -> Result<Downloaded, ModelError> {
    let timeouts = Timeouts::from_env()?;
    let idle_s = timeouts.idle.as_secs_f64();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_resolve(Some(timeouts.connect))
        .timeout_connect(Some(timeouts.connect))
        .timeout_send_request(Some(timeouts.idle))
        .timeout_recv_response(Some(timeouts.idle))
        .timeout_per_read(Some(timeouts.idle))
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| {
        failed(
            url,
            match e {
                ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => format!(
                    "could not connect within {} s ({CONNECT_TIMEOUT_ENV})",
                    timeouts.connect.as_secs_f64()
                ),
                ureq::Error::Timeout(_) => format!(
                    "the server accepted the connection but sent no response for {idle_s} s \
                     ({IDLE_TIMEOUT_ENV})"
                ),
                other => other.to_string(),
            },
        )
    })?;
    let length = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut reader = response.into_body().into_reader();
    let mut file = tempfile::Builder::new()
        .prefix(".geneval-download-")
        .tempfile_in(dir)
        .map_err(|e| io_error(dir, e))?;
    let bar = progress(length);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buffer).map_err(|e| {
            let of = length.map_or_else(String::new, |l| format!(" of {l}"));
            failed(
                url,
                if is_timeout(&e) {
                    format!(
                        "the server stopped sending: no data for {idle_s} s after {total}{of} bytes \
                         ({IDLE_TIMEOUT_ENV}); the partial download was deleted"
                    )
                } else {
                    format!("{e} after {total}{of} bytes; the partial download was deleted")
                },
            )
        })?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > limit {
            return Err(failed(
                url,
                format!("more than {limit} bytes; not the expected file"),
            ));
        }
        hasher.update(&buffer[..n]);
        file.write_all(&buffer[..n])
            .map_err(|e| io_error(file.path(), e))?;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    if let Some(announced) = length.filter(|&l| l != total) {
        return Err(failed(
            url,
            format!("the connection closed after {total} of {announced} bytes"),
        ));
    }
    finished(file, hasher, total)
}

/// The temporary file on disk (synced, so the hash names what was
/// written) with its hash and length: the end of a download and of a copy.
fn finished(
    file: tempfile::NamedTempFile,
    hasher: Sha256,
    total: u64,
) -> Result<Downloaded, ModelError> {
    file.as_file()
        .sync_all()
        .map_err(|e| io_error(file.path(), e))?;
    Ok(Downloaded {
        file,
        sha256: hex(&hasher.finalize()),
        bytes: total,
    })
}

/// Copies the local file `path` into a temporary file in `dir`, hashing
/// the bytes copied (so the hash checked is the hash of what is installed,
/// even if `path` changes meanwhile), refusing more than `limit` bytes.
pub fn copy_in(path: &Path, dir: &Path, limit: u64) -> Result<Downloaded, ModelError> {
    // Not a FIFO or a device: opening one could block, or never end. The
    // rule is fs::read's, the one every untrusted read follows.
    let metadata = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if let Some(kind) = crate::fs::read::special_file_kind(&metadata) {
        return Err(io_error(path, format!("not a regular file: {kind}")));
    }
    let mut source = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut file = tempfile::Builder::new()
        .prefix(".geneval-import-")
        .tempfile_in(dir)
        .map_err(|e| io_error(dir, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = source.read(&mut buffer).map_err(|e| io_error(path, e))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > limit {
            return Err(ModelError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        hasher.update(&buffer[..n]);
        file.write_all(&buffer[..n])
            .map_err(|e| io_error(file.path(), e))?;
    }
    finished(file, hasher, total)
}

/// Deletes geneval's temporary files in `dir` not modified for
/// [`STALE_AFTER`] (see the module docs for why that is safe), and returns
/// how many. Best effort: a file that cannot be examined or deleted is
/// left, since a leftover must never stop the command that found it.
pub fn sweep_stale(dir: &Path) -> usize {
    sweep_older_than(dir, STALE_AFTER)
}

fn sweep_older_than(dir: &Path, age: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        // `symlink_metadata` of the entry itself: a link is never followed.
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        let old = metadata
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|elapsed| elapsed >= age);
        if metadata.is_file() && old && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::Io {
        path: PathBuf::from(path),
        reason: e.to_string(),
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path, age: Duration) {
        let file = std::fs::File::create(path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }

    #[test]
    fn sweep_deletes_old_temporaries_only() {
        let dir = tempfile::tempdir().unwrap();
        let hour = Duration::from_secs(3600);
        touch(&dir.path().join(".geneval-download-old"), 2 * hour);
        touch(&dir.path().join(".geneval-abc123"), 2 * hour);
        touch(&dir.path().join(".geneval-download-live"), Duration::ZERO);
        touch(&dir.path().join("source.pth"), 2 * hour);
        std::fs::create_dir(dir.path().join(".geneval-folder")).unwrap();
        assert_eq!(sweep_stale(dir.path()), 2);
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [".geneval-download-live", ".geneval-folder", "source.pth"]
        );
        assert_eq!(sweep_stale(&dir.path().join("missing")), 0);
    }

    #[test]
    fn copy_in_refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = copy_in(dir.path(), dir.path(), 10).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let big = dir.path().join("big.pth");
        std::fs::write(&big, [0u8; 11]).unwrap();
        let err = copy_in(&big, dir.path(), 10).unwrap_err();
        assert!(
            matches!(err, ModelError::TooLarge { limit: 10, .. }),
            "{err}"
        );
        // Neither attempt left a temporary file behind.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("big.pth")]);
    }
}
