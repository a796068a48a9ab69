//! Progress bars on stderr: shown on a terminal, hidden with `--quiet` or
//! when stderr is redirected (logs and CI stay clean).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Whether progress should be drawn: not quiet, and stderr is a terminal.
pub fn enabled(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

fn bar(len: Option<u64>, template: &str, label: &str, show: bool) -> ProgressBar {
    let target = if show {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(len, target);
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_owned());
    bar
}

/// A bar over `len` images, labelled `label`; hidden unless `show`. It is
/// redrawn every second, so the elapsed time moves while a slow network
/// (a ViT-L on a CPU: about a second per image) works on a batch.
pub fn images(len: u64, label: &str, show: bool) -> ProgressBar {
    let bar = bar(
        Some(len),
        "{prefix:>12} [{bar:30}] {pos}/{len} images  {per_sec}  {elapsed} elapsed, eta {eta}",
        label,
        show,
    );
    if show {
        bar.enable_steady_tick(std::time::Duration::from_secs(1));
    }
    bar
}

/// A bar over `len` bytes (downloads).
pub fn bytes(len: Option<u64>, label: &str, show: bool) -> ProgressBar {
    bar(
        len,
        "{prefix:>12} [{bar:30}] {bytes}/{total_bytes}  {bytes_per_sec}  eta {eta}",
        label,
        show,
    )
}

/// A bar over `len` tokens fed to a language model.
pub fn tokens(len: u64, label: &str, show: bool) -> ProgressBar {
    bar(
        Some(len),
        "{prefix:>12} [{bar:30}] {human_pos}/{human_len} tokens  {per_sec}  eta {eta}",
        label,
        show,
    )
}

/// A download progress bar for `registry::fetch`.
pub fn download_bar(quiet: bool) -> impl Fn(Option<u64>) -> indicatif::ProgressBar {
    move |len| bytes(len, "download", enabled(quiet))
}
