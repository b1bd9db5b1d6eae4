//! The progress bar of long commands (`sync`, `failures retry`): drawn on stderr only when
//! stderr is a terminal (never in pipes, logs or tests), fed by the engine's live log events.

use crate::engine::{EngineHandle, Event};
use crate::store::Outcome;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct Progress {
    bar: ProgressBar,
    feeder: tokio::task::JoinHandle<()>,
}

impl Progress {
    /// A bar for `what` (e.g. "sync"), with `total` records when they are known (then it shows
    /// an ETA), else a running count. `None` when stderr is not a terminal.
    pub fn start(engine: &EngineHandle, what: &str, total: Option<u64>) -> Option<Progress> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let template = if total.is_some() {
            "{spinner} {prefix} [{bar:30}] {pos}/{len} records, {per_sec}, ETA {eta}  {msg}"
        } else {
            "{spinner} {prefix} {elapsed}  {pos} records, {per_sec}  {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        let mut events = engine.subscribe();
        let feed = bar.clone();
        let feeder = tokio::spawn(async move {
            let mut failed = 0u64;
            loop {
                let entry = match events.recv().await {
                    Ok(Event::Log { entry }) => entry,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                if matches!(entry.outcome, Outcome::Failed | Outcome::Retrying) {
                    failed += 1;
                }
                feed.inc(1);
                feed.set_message(format!(
                    "{failed} failed; last: {} {} {}",
                    entry.action.as_str(),
                    entry.kind,
                    entry.peer_id.unwrap_or_default()
                ));
            }
        });
        Some(Progress { bar, feeder })
    }

    /// Clears the bar before the command prints its result.
    pub fn finish(self) {
        self.feeder.abort();
        self.bar.finish_and_clear();
    }
}
