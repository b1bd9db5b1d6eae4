//! The sync engine's logic: mapping, planning against baselines, the operation lifecycle,
//! conflicts, echo suppression, the failed queue and runs. Pure where it can be; the only I/O is
//! through `SyncContext` (store, GHL client, peer).

mod children;
mod contacts;
pub mod context;
pub mod execute;
pub mod failed;
pub mod hash;
mod hold;
pub mod identity;
pub mod mapping;
pub mod merge;
mod pages;
pub mod preview;
pub mod reason;
mod replay;
pub mod run;
pub mod send;
pub mod settings;
mod targeted;
mod twins;

pub use contacts::{differing_targets, ghl_differences, in_step};
pub use context::{SyncContext, SyncError};
pub use failed::{RetryMode, RetryReport, Selection, reason_advice, reason_code, reason_field};
pub use preview::{PreviewError, RecordRef, preview_record};
pub use reason::{ReasonCode, UnknownReason};
pub use run::{PlannedChange, PlannedFailure, RunOptions, RunReport, run_sync, run_sync_until};
pub use settings::SyncSettings;
