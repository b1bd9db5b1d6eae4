//! The engine's answers and live log events, folded into the state.

use crate::console::engine_api::RowState;
use crate::console::msg::{Answer, Effect, Request};
use crate::console::state::{AppState, ChildScope, FlashLevel, Screen, SyncPhase};
use crate::peers::EntityKind;
use crate::store::{LogEntry, Outcome};

/// After a write, everything it may have changed is read again.
fn refresh_after_write() -> Vec<Effect> {
    vec![
        Effect::Call(Request::FailedQueue),
        Effect::Call(Request::all_contacts()),
        Effect::Call(Request::Status),
    ]
}

pub fn on_answer(state: &mut AppState, answer: Answer) -> Vec<Effect> {
    match answer {
        Answer::Contacts(list) => {
            let complete = list.complete;
            state.contacts.replace(list.rows, complete);
            if !complete {
                // The first page is on screen; the rest follows.
                return vec![Effect::Call(Request::all_contacts())];
            }
        }
        Answer::Detail(detail) => {
            // A slow answer for a contact no longer on screen is dropped.
            if state.detail.is_for(&detail) {
                state.detail.detail = Some(detail);
            }
        }
        Answer::Children(page) => {
            let kind = page.kind;
            state.children.all_mut(kind).apply(page);
            // A short page near the cursor: ask for the next one straight away.
            return super::children::load_more(state);
        }
        Answer::FailedQueue(operations) => state.failures.replace(operations),
        Answer::Status(status) => {
            state.status_pending = false;
            state.location = status.location_id.clone();
            state.peer = status.peer.clone();
            // The service counts its open alerts: a console that missed a live one (it
            // attached later, or lost the socket a while) reads them again.
            let missed = status
                .service
                .as_ref()
                .is_some_and(|service| service.open_alerts != state.alerts.open.len());
            state.status = Some(status);
            if missed {
                return vec![Effect::Call(Request::Alerts)];
            }
        }
        Answer::Alerts { open, history } => state.alerts.replace(open, history),
        Answer::Log(entries) => state.log.replace(entries),
        Answer::Ran(report) => {
            state.sync = SyncPhase::Idle;
            let counts = &report.run.counts;
            let sum = |outcome: &str| -> u64 {
                counts
                    .iter()
                    .filter(|(key, _)| key.ends_with(&format!("/{outcome}")))
                    .map(|(_, n)| n)
                    .sum()
            };
            // Parked records wait in the failed queue too: said here, the header's failure
            // count (the whole queue) adds up.
            let parked = sum("parked");
            let parked = if parked > 0 {
                format!(", {parked} parked")
            } else {
                String::new()
            };
            state.flash(
                FlashLevel::Info,
                format!(
                    "sync {} done: {} ok, {} unchanged, {} failed{parked}",
                    report.run.id,
                    sum("ok"),
                    sum("unchanged"),
                    sum("failed")
                ),
            );
            let mut effects = refresh_after_write();
            if let Some(contact) = state.detail.contact.clone() {
                effects.push(Effect::Call(Request::ContactDetail { contact }));
            }
            let screen = state.screen();
            if screen.is_children() && state.children.scope == ChildScope::All {
                effects.extend(super::children::reload(state, screen));
            }
            return effects;
        }
        Answer::ContactSynced { contact, report } => {
            let (written, unchanged, failed) = outcome_counts(&report);
            let level = if failed > 0 {
                FlashLevel::Warn
            } else {
                FlashLevel::Info
            };
            state.flash(
                level,
                format!(
                    "contact {contact} synced ({}): {written} written, {unchanged} unchanged, {failed} failed",
                    report.run.peer
                ),
            );
            let mut effects = refresh_after_write();
            if let Some(contact) = state.detail.contact.clone() {
                effects.push(Effect::Call(Request::ContactDetail { contact }));
            }
            return effects;
        }
        Answer::Retried(report) => {
            let level = if report.failed.is_empty() {
                FlashLevel::Info
            } else {
                FlashLevel::Warn
            };
            state.flash(
                level,
                format!(
                    "retried: {} succeeded, {} failed, {} not claimed",
                    report.succeeded.len(),
                    report.failed.len(),
                    report.not_claimed.len()
                ),
            );
            state.failures.marked.clear();
            return refresh_after_write();
        }
        Answer::Closed { ids, resolved } => {
            let verb = if resolved { "resolved" } else { "skipped" };
            state.flash(
                FlashLevel::Info,
                format!("{verb} {} operation(s)", ids.len()),
            );
            state.failures.marked.clear();
            return refresh_after_write();
        }
        Answer::Mapping {
            text,
            origin,
            versions,
        } => {
            // Never clobber unsaved edits with a reload.
            if !state.mapping.is_dirty() {
                state.mapping.load(text, origin, versions);
                return super::input::mapping_check(state);
            }
            state.mapping.versions = versions;
        }
        Answer::MappingChecked {
            generation,
            problem,
        } => {
            if generation == state.mapping.generation {
                state.mapping.problem = problem;
                state.mapping.checked = true;
                state.mapping.check_failed = None;
            }
        }
        Answer::MappingPreview {
            generation,
            rows,
            problem,
        } => {
            if generation == state.mapping.generation {
                state.mapping.preview = rows;
                // A problem with a place in the text is the check's (shown once, in the Check
                // pane); one without (no such record) is the preview's own.
                state.mapping.preview_note = problem
                    .filter(|problem| problem.line.is_none())
                    .map(|problem| problem.message);
            }
        }
        Answer::MappingSaved { version, undo } => {
            let what = if undo { "restored" } else { "saved as" };
            state.flash(
                FlashLevel::Info,
                format!("mapping {what} version {version}"),
            );
            // The saved text is now the baseline; reload to pick up versions and origin.
            state.mapping.saved_text = state.mapping.text();
            if undo {
                state.mapping.loaded = false;
                state.mapping.saved_text.clear();
                state.mapping.editor = Default::default();
            }
            let mut effects = vec![Effect::Call(Request::Mapping)];
            // Save in the unsaved-changes question: what was asked for goes ahead now.
            effects.extend(super::mapping::saved(state));
            return effects;
        }
        Answer::Failed {
            request,
            class,
            message,
        } => {
            if request == "sync" {
                state.sync = SyncPhase::Failed(message.clone());
            }
            if request == "status" {
                state.status_pending = false;
            }
            // Without these the Check pane would say "checking…" for good.
            if request == Request::MAPPING_CHECK {
                state.mapping.checked = true;
                state.mapping.check_failed = Some(format!("{class}: {message}"));
            }
            if request == Request::MAPPING_PREVIEW {
                state.mapping.preview.clear();
                state.mapping.preview_note = Some(format!("preview failed ({class}): {message}"));
            }
            if request == Request::SAVE_MAPPING && state.mapping.after_save.take().is_some() {
                state.flash(
                    FlashLevel::Error,
                    format!("save mapping failed ({class}): {message}; nothing else was done"),
                );
                return Vec::new();
            }
            if request == "children" {
                // Which kind failed is not known here; none is loading any more.
                for all in [
                    &mut state.children.tasks,
                    &mut state.children.notes,
                    &mut state.children.appointments,
                ] {
                    all.loading = false;
                }
            }
            if request == "contact detail" && state.screen() == Screen::Detail {
                state.detail.contact = None;
            }
            state.flash(
                FlashLevel::Error,
                format!("{request} failed ({class}): {message}"),
            );
        }
    }
    Vec::new()
}

/// A run's written (ok), unchanged and failed (failed or parked) records.
fn outcome_counts(report: &crate::sync::RunReport) -> (u64, u64, u64) {
    let sum = |outcome: &str| -> u64 {
        report
            .run
            .counts
            .iter()
            .filter(|(key, _)| key.ends_with(&format!("/{outcome}")))
            .map(|(_, n)| n)
            .sum()
    };
    (sum("ok"), sum("unchanged"), sum("failed") + sum("parked"))
}

pub fn on_log(state: &mut AppState, entry: LogEntry) -> Vec<Effect> {
    let mut effects = Vec::new();
    // Keep the contact's badge live while a run goes, without re-reading the whole list.
    if entry.kind == EntityKind::Contact
        && let Some(peer_id) = &entry.peer_id
    {
        let new_state = match entry.outcome {
            Outcome::Ok | Outcome::Unchanged => Some(RowState::Synced),
            Outcome::Failed | Outcome::Retrying => Some(RowState::Failed),
            Outcome::Conflict => Some(RowState::Conflict),
            Outcome::Queued | Outcome::Parked => Some(RowState::Queued),
            Outcome::DryRun => None,
        };
        if let Some(new_state) = new_state {
            let contacts = &mut state.contacts;
            let found = contacts.update_row(peer_id, |row| {
                row.state = new_state;
                row.last_at = Some(entry.at);
                if row.ghl_id.is_none() {
                    row.ghl_id = entry.ghl_id.clone();
                }
            });
            if !found && !contacts.refreshing {
                // A contact the list has not seen: reload it, one request at a time.
                contacts.refreshing = true;
                effects.push(Effect::Call(Request::all_contacts()));
            }
        }
    }
    // A new failure: the header count and the failures screen follow, one reload at a time.
    if matches!(entry.outcome, Outcome::Failed | Outcome::Retrying) && !state.failures.refreshing {
        state.failures.refreshing = true;
        effects.push(Effect::Call(Request::FailedQueue));
    }
    state.log.push(entry);
    effects
}

/// A live alert: kept, and said in the flash line (a raise as an error, a recovery as news).
pub fn on_alert(state: &mut AppState, alert: crate::engine::board::Alert) -> Vec<Effect> {
    let level = match alert.state {
        crate::engine::board::AlertState::Raised => FlashLevel::Error,
        crate::engine::board::AlertState::Recovered => FlashLevel::Info,
    };
    let word = match alert.state {
        crate::engine::board::AlertState::Raised => "alert",
        crate::engine::board::AlertState::Recovered => "recovered",
    };
    state.flash(level, format!("{word}: {}", alert.message));
    state.alerts.apply(alert);
    Vec::new()
}
