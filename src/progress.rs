//! Progress bars on long steps (hidden with `--quiet` or when stderr is not
//! a terminal) and step logging through `tracing`.

use indicatif::{ProgressBar, ProgressStyle};

/// Creates progress bars, or hidden ones.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Show bars.
    pub enabled: bool,
}

impl Progress {
    /// A bar for `len` items of work named `what`.
    pub fn bar(&self, len: u64, what: &str) -> ProgressBar {
        tracing::info!(step = what, items = len, "start");
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len);
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len} ({elapsed})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        bar
    }
}
