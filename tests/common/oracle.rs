//! The convergence oracle: whole end states of both sides, compared ids aside.
//!
//! A scenario runs fault-free to get the reference end state, then again with faults and then
//! fault-free runs until quiet; [`assert_converged`] then demands the same people, the same
//! fields and the same children on both sides, no duplicates beyond the seed's own, and no
//! change missing. [`EndState::capture`] reads `GET /_sandbox/dump`.
//!
//! ```ignore
//! let reference = {
//!     let s = SyncHarness::start(300).await;
//!     scenario(&s, Faults::None).await;            // edits, syncs, edits, syncs…
//!     EndState::capture(&s.h).await
//! };
//! let s = SyncHarness::start(300).await;           // same seed
//! let baseline = EndState::capture(&s.h).await;    // before any sync
//! scenario(&s, Faults::Some).await;                // the same steps, faults switched on
//! until_quiet(&s).await;                           // faults off, sync until nothing is written
//! assert_converged(&reference, &EndState::capture(&s.h).await, &baseline);
//! ```
//!
//! **What the canonical form leaves out**, because it differs between two correct runs:
//! - ids: GHL contact, task, note and appointment ids; Repsly `ClientID`, `ClientNoteID`,
//!   `ScheduleCode`, `VisitID` (assigned in whatever order concurrent writes land, or at random).
//!   A GHL id that appears *inside* a record (the `Code` of a Repsly client born in GHL is its
//!   contact's id, a schedule's `ExternalID` may name an appointment) is replaced wherever it
//!   appears by what it names: `ghl:<email>`, else `ghl:tel:<last ten digits>`, else
//!   `ghl:name:<name>` for a contact; `ghl-task:<contact>:<title>` (`-note:…:<first line>`,
//!   `-appt:…:<start>`) for a child. A contact created through the API in both runs gets two
//!   random ids, and its Repsly client two Codes: the token makes them one.
//! - counters and clocks bumped by every write: GHL `dateAdded`, `dateUpdated` (contacts,
//!   notes, appointments); Repsly `TimeStamp` (one global counter, so its values depend on the
//!   order of all writes); a Repsly note's `DateAndTime` (the wall clock when a test adds a note
//!   without one; the sync never writes notes to Repsly).
//! - derived copies: GHL's `*LowerCase` name and email fields, and a Repsly note's, schedule's
//!   or visit's copy of its client's name, address, email and phones (a snapshot taken when the
//!   child was created, so a client update that lands a run later under faults changes it with
//!   nothing lost; the client carries the real values).
//! - order: custom fields become `{key: value}` by the field's key, tags and Repsly custom
//!   fields are sorted, children are multisets; times are compared as UTC instants.
//!
//! Everything else is compared, children included: a task's title, body, due instant,
//! completion and assignee; a note's title, body, user, pin and colour; an appointment's
//! calendar, title, start, end, status, assignee, address and description; every client
//! field; a schedule's date, time, rep, note and tasks.
//!
//! Records pair by identity (a contact's token, a client's tokenised `Code`), so a changed
//! record is reported field by field, and children missing or extra one by one.
//!
//! **Duplicates** ([`EndState::duplicates`]) need no reference: records sharing an email or a
//! phone, and one record's children sharing an identity, beyond a baseline (the seed). What
//! the seed holds on *either* side, and what the other side repeats itself (Repsly may hold two
//! equal notes for one client), is allowed; inactive Repsly clients are deleted ones and do not
//! count. `oracle/dups.rs` says why.
//!
//! Two dumps are comparable only when their sandboxes share `seed` and the seeding day
//! (`seedAnchorMs`: seeded dates count from a UTC midnight); [`EndState::diff`] says so
//! instead of listing every date when they do not.
#![allow(dead_code)]

mod canon;
mod dups;
mod growbots;
mod rezora;
mod robly;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;

use super::Harness;
use canon::{Record, Tokens};
use dups::Sides;

/// Lines a report keeps; one more says how many were left out.
const MAX_LINES: usize = 40;
/// Characters a line keeps of a record.
const MAX_LINE: usize = 600;

/// Both sides' whole state, canonical (see the module docs), plus what duplicate checks need.
#[derive(Clone, Debug)]
pub struct EndState {
    seed: Value,
    anchor: Value,
    ghl: Vec<Record>,
    repsly: Vec<Record>,
    rezora: Vec<Record>,
    growbots: Vec<Record>,
    robly: Vec<Record>,
    keys: Sides,
    pending_imports: u64,
}

impl EndState {
    /// Reads `GET /_sandbox/dump`, first letting accepted Repsly imports finish (up to 10 s),
    /// so a capture never sees a job half done.
    pub async fn capture(h: &Harness) -> EndState {
        let mut dump = Value::Null;
        for _ in 0..200 {
            dump = h.dump().await;
            if dump["repsly"]["pendingImportJobs"].as_u64() == Some(0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        EndState::from_dump(&dump)
    }

    pub fn from_dump(dump: &Value) -> EndState {
        let tokens = Tokens::of(&dump["ghl"]);
        EndState {
            seed: dump["seed"].clone(),
            anchor: dump["seedAnchorMs"].clone(),
            ghl: canon::ghl(&dump["ghl"], &tokens),
            repsly: canon::repsly(&dump["repsly"], &tokens),
            rezora: rezora::rezora(&dump["rezora"], &tokens),
            growbots: growbots::canon(&dump["growbots"]),
            robly: robly::members(&dump["robly"]),
            keys: Sides {
                ghl: dups::ghl(&dump["ghl"]),
                repsly: dups::repsly(&dump["repsly"]),
            },
            pending_imports: dump["repsly"]["pendingImportJobs"].as_u64().unwrap_or(0),
        }
    }

    pub fn ghl_contacts(&self) -> usize {
        self.ghl.len()
    }

    /// Repsly clients, inactive ones included (Codes with only orphaned children left out).
    pub fn repsly_clients(&self) -> usize {
        self.keys.repsly.len()
    }

    /// Import jobs still pending when captured (0 after a quiet capture).
    pub fn pending_imports(&self) -> u64 {
        self.pending_imports
    }

    /// `"347 GHL contacts (1346 tasks, notes and appointments), 293 Repsly clients (81
    /// schedules)"`.
    pub fn summary(&self) -> String {
        let children = |keys: &[dups::Keys]| keys.iter().map(|k| k.children.len()).sum::<usize>();
        format!(
            "{} GHL contacts ({} tasks, notes and appointments), {} Repsly clients ({} schedules)",
            self.ghl.len(),
            children(&self.keys.ghl),
            self.keys.repsly.len(),
            children(&self.keys.repsly),
        )
    }

    /// What differs from `reference`, ids aside: missing, extra and changed records on each
    /// side, each shown; empty when the two states are equal.
    pub fn diff(&self, reference: &EndState) -> Vec<String> {
        if (&self.seed, &self.anchor) != (&reference.seed, &reference.anchor) {
            return vec![format!(
                "not comparable: seed {} seeded on {} vs seed {} seeded on {} (run both the same day)",
                self.seed, self.anchor, reference.seed, reference.anchor
            )];
        }
        let mut out = Vec::new();
        diff_side("GHL contact", &reference.ghl, &self.ghl, &mut out);
        diff_side("Repsly client", &reference.repsly, &self.repsly, &mut out);
        diff_side("Rezora contact", &reference.rezora, &self.rezora, &mut out);
        diff_side(
            "Growbots prospect",
            &reference.growbots,
            &self.growbots,
            &mut out,
        );
        diff_side("Robly member", &reference.robly, &self.robly, &mut out);
        capped(out)
    }

    /// Duplicates this state holds beyond those `baseline` (usually the seed) already had: GHL
    /// contacts sharing an email (case-insensitive) or a phone (its last ten digits), active
    /// Repsly clients likewise (`Email`; `Phone` and `Mobile`), and children of one record
    /// sharing an identity (task: title + due instant; note: title + first line; appointment:
    /// calendar + start + title; Repsly schedule: date + time + visit note). What the seed
    /// holds on either side, and what the other side repeats itself, is allowed: see `dups.rs`.
    pub fn duplicates(&self, baseline: &EndState) -> Vec<String> {
        capped(dups::duplicates(&self.keys, &baseline.keys))
    }
}

/// Panics, showing every difference and duplicate, unless `actual` equals `reference` and holds
/// no duplicate beyond `baseline`'s.
pub fn assert_converged(reference: &EndState, actual: &EndState, baseline: &EndState) {
    let diff = actual.diff(reference);
    let duplicates = actual.duplicates(baseline);
    if diff.is_empty() && duplicates.is_empty() {
        return;
    }
    let pending = match (reference.pending_imports, actual.pending_imports) {
        (0, 0) => String::new(),
        (r, a) => format!("\n(import jobs still pending: reference {r}, actual {a})"),
    };
    panic!(
        "the end states did not converge\nreference: {}\nactual:    {}{pending}\n\n\
         {} difference(s):\n{}\n\n{} duplicate(s):\n{}",
        reference.summary(),
        actual.summary(),
        diff.len(),
        diff.join("\n"),
        duplicates.len(),
        duplicates.join("\n"),
    );
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_LINE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn capped(mut lines: Vec<String>) -> Vec<String> {
    if lines.len() > MAX_LINES {
        let more = lines.len() - MAX_LINES;
        lines.truncate(MAX_LINES);
        lines.push(format!("… and {more} more"));
    }
    lines.iter().map(|l| shorten(l)).collect()
}

fn diff_side(what: &str, reference: &[Record], actual: &[Record], out: &mut Vec<String>) {
    let mut by_identity: BTreeMap<&str, (Vec<&Record>, Vec<&Record>)> = BTreeMap::new();
    for r in reference {
        by_identity.entry(&r.identity).or_default().0.push(r);
    }
    for r in actual {
        by_identity.entry(&r.identity).or_default().1.push(r);
    }
    for (identity, (mut want, mut have)) in by_identity {
        // Equal records pair off; what is left differs.
        want.retain(|w| match have.iter().position(|h| h.text == w.text) {
            Some(i) => {
                have.remove(i);
                false
            }
            None => true,
        });
        match (want.as_slice(), have.as_slice()) {
            ([], []) => {}
            ([w], [h]) => out.push(format!(
                "changed {what} {identity}: {}",
                changes(&w.body, &h.body).join("; ")
            )),
            _ => {
                out.extend(
                    want.iter()
                        .map(|w| format!("missing {what} {identity}: {}", w.text)),
                );
                out.extend(
                    have.iter()
                        .map(|h| format!("extra {what} {identity}: {}", h.text)),
                );
            }
        }
    }
}

/// Field by field; for a list of children, the children missing and extra.
fn changes(want: &Value, have: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (w, h) = (
        want.as_object().unwrap_or(&empty),
        have.as_object().unwrap_or(&empty),
    );
    let keys: BTreeSet<&String> = w.keys().chain(h.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let (a, b) = (w.get(key), h.get(key));
        if a == b {
            continue;
        }
        match (a, b) {
            (Some(Value::Array(a)), Some(Value::Array(b))) => {
                let (missing, extra) = multiset_difference(a, b);
                out.extend(missing.iter().map(|m| format!("{key}: missing {m}")));
                out.extend(extra.iter().map(|e| format!("{key}: extra {e}")));
            }
            _ => out.push(format!("{key}: {} → {}", shown(a), shown(b))),
        }
    }
    out
}

fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "(absent)".into(), Value::to_string)
}

fn multiset_difference(want: &[Value], have: &[Value]) -> (Vec<String>, Vec<String>) {
    let mut left: Vec<String> = have.iter().map(Value::to_string).collect();
    let mut missing = Vec::new();
    for w in want.iter().map(Value::to_string) {
        match left.iter().position(|h| *h == w) {
            Some(i) => {
                left.remove(i);
            }
            None => missing.push(w),
        }
    }
    (missing, left)
}
