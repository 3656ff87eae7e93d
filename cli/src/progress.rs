//! A spinner for long steps (builds, zips), quiet when stderr is not a terminal.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Shows `message` with a spinner until [`Step::done`] or drop.
pub(crate) struct Step {
    bar: ProgressBar,
}

impl Step {
    pub(crate) fn start(message: impl Into<String>) -> Step {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(120));
        Step { bar }
    }

    pub(crate) fn done(self, message: impl Into<String>) {
        self.bar.finish_and_clear();
        eprintln!("{}", message.into());
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.bar.finish_and_clear();
        }
    }
}
