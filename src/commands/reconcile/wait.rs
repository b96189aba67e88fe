//! Waiting between passes: Ctrl-C as a value, the countdown spinner, durations as flags read.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::settings::Settings;

/// Set once Ctrl-C is pressed; checked between writes and while waiting.
#[derive(Clone)]
pub(super) struct Interrupt(watch::Receiver<bool>);

impl Interrupt {
    pub(super) fn install() -> Self {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(true);
            }
            // Keep the sender: a closed channel would read as "interrupted".
            std::future::pending::<()>().await;
            drop(tx);
        });
        Interrupt(rx)
    }
    pub(super) fn is_set(&self) -> bool {
        *self.0.borrow()
    }
    /// Runs `f` unless Ctrl-C comes first ([`Error::Interrupted`], exit 130).
    pub(super) async fn abandon<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let mut rx = self.0.clone();
        tokio::select! {
            out = f => out,
            _ = rx.wait_for(|v| *v) => Err(Error::Interrupted),
        }
    }
    /// Sleeps `d`; returns false if interrupted first.
    pub(super) async fn sleep(&mut self, d: Duration) -> bool {
        if self.is_set() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.0.wait_for(|v| *v) => false,
        }
    }
}

/// Waits `wait` with a spinner counting down (stderr, only with progress on). Returns false if
/// interrupted.
pub(super) async fn countdown(interrupt: &mut Interrupt, wait: Duration, settings: &Settings) -> bool {
    let bar = spinner(settings);
    let end = Instant::now() + wait;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bar.finish_and_clear();
            return true;
        }
        // The reason is on the summary line above; a long message would wrap and smear.
        bar.set_message(format!("next pass in {}s (Ctrl-C to stop)", left.as_secs_f64().ceil() as u64));
        if !interrupt.sleep(left.min(Duration::from_millis(250))).await {
            bar.finish_and_clear();
            return false;
        }
    }
}

pub(super) fn spinner(settings: &Settings) -> ProgressBar {
    if !settings.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

pub(super) fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_millis() != 0 && s < 10 {
        format!("{}ms", d.as_millis())
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_flags() {
        assert_eq!(humantime(Duration::from_secs(60)), "1m");
        assert_eq!(humantime(Duration::from_secs(20)), "20s");
        assert_eq!(humantime(Duration::from_millis(1500)), "1500ms");
    }
}
