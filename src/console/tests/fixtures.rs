//! Deterministic data for snapshots and reducer tests: fixed times, ids and text, no engine.

use crate::console::clock::DisplayZone;
use crate::console::engine_api::{
    ChildPage, ChildRow, ContactDetail, ContactRef, ContactRow, FieldPreview, RateLimitState,
    RowState, Status,
};
use crate::console::help::help_sections;
use crate::console::keymap::Keymap;
use crate::console::state::{AppState, Mode};
use crate::console::theme::Theme;
use crate::ghl::models::{Appointment, Note, Task};
use crate::net::ErrorClass;
use crate::peers::{EntityKind, PeerRecord};
use crate::store::{Action, Direction, LogEntry, OpError, OpState, Operation, Outcome, RunRecord};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, json};

pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + seconds, 0)
        .single()
        .unwrap_or_default()
}

const NAMES: [&str; 10] = [
    "Acme Hardware",
    "Bluebird Café",
    "Corner Pharmacy",
    "Delta Foods",
    "Evergreen Market",
    "Fox & Sons",
    "Green Grocer",
    "Harbor Deli",
    "Iris Florist",
    "Juniper Bakery",
];

pub fn contact_rows() -> Vec<ContactRow> {
    (0..30)
        .map(|i| {
            let state = match i % 7 {
                0 => RowState::Failed,
                3 => RowState::Conflict,
                5 => RowState::Unlinked,
                6 => RowState::Queued,
                _ => RowState::Synced,
            };
            ContactRow {
                peer_id: Some(format!("C{:04}", 1000 + i)),
                ghl_id: (state != RowState::Unlinked).then(|| format!("ghl{:06}", 500 + i)),
                name: format!("{} #{i}", NAMES[i as usize % NAMES.len()]),
                email: Some(format!("owner{i}@example.com")),
                phone: (i % 2 == 0).then(|| format!("+1 555 01{i:02}")),
                company: Some(NAMES[i as usize % NAMES.len()].to_string()),
                state,
                last_at: Some(at(i * 60)),
            }
        })
        .collect()
}

pub fn contact_detail() -> ContactDetail {
    let mut fields = Map::new();
    fields.insert("Code".into(), json!("C1000"));
    fields.insert("Name".into(), json!("Acme Hardware #0"));
    fields.insert("Email".into(), json!("owner0@example.com"));
    fields.insert("Phone".into(), json!("+1 555 0100"));
    fields.insert("City".into(), json!("Springfield"));
    let preview = vec![
        preview_row(
            "Name",
            "companyName",
            json!("Acme Hardware #0"),
            Some(json!("Acme Hardware #0")),
            None,
        ),
        preview_row(
            "Email",
            "email",
            json!("owner0@example.com"),
            Some(json!("owner0@example.com")),
            None,
        ),
        preview_row(
            "Phone",
            "phone",
            json!("555 0100"),
            None,
            Some("not a valid phone number"),
        ),
        preview_row(
            "City",
            "city",
            json!("Springfield"),
            Some(json!("Springfield")),
            None,
        ),
    ];
    ContactDetail {
        peer_id: Some("C1000".into()),
        ghl_id: Some("ghl000500".into()),
        peer: Some(PeerRecord {
            kind: EntityKind::Contact,
            id: "C1000".into(),
            parent_id: None,
            updated_at: Some(at(0)),
            active: true,
            fields,
            raw: json!({}),
        }),
        ghl: Some(json!({
            "id": "ghl000500",
            "companyName": "Acme Hardware #0",
            "email": "owner0@example.com",
            "city": "Shelbyville",
        })),
        preview,
        // Springfield in the peer, Shelbyville in GHL.
        differences: vec!["city".into()],
        ghl_now: Default::default(),
        history: log_entries().into_iter().take(4).collect(),
        tasks: vec![
            Task {
                id: "t1".into(),
                title: "Restock shelf".into(),
                body: Some("Aisle 4".into()),
                due_date: Some("2026-06-01T10:00:00Z".into()),
                completed: false,
                ..Task::default()
            },
            Task {
                id: "t2".into(),
                title: "Collect invoice".into(),
                due_date: Some("2026-05-20T09:00:00Z".into()),
                completed: true,
                ..Task::default()
            },
        ],
        notes: vec![Note {
            id: "n1".into(),
            body: "Prefers morning visits.".into(),
            date_added: Some("2026-05-01T08:00:00Z".into()),
            ..Note::default()
        }],
        appointments: vec![Appointment {
            id: "a1".into(),
            title: Some("Quarterly review".into()),
            appointment_status: Some("confirmed".into()),
            start_time: Some(json!("2026-06-03T14:00:00Z")),
            end_time: Some(json!("2026-06-03T15:00:00Z")),
            ..Appointment::default()
        }],
        problems: Vec::new(),
    }
}

/// A GHL contact the peer has no record of yet (its GHL → peer create failed: op 14).
pub fn ghl_only_detail() -> ContactDetail {
    let mut failed = log_entry(14, Outcome::Failed);
    failed.direction = Direction::ToPeer;
    failed.peer_id = None;
    failed.ghl_id = Some("ghlnew0001".into());
    failed.action = Action::Create;
    failed.message = Some("import/client: rejected: Name is required".into());
    ContactDetail {
        peer_id: None,
        ghl_id: Some("ghlnew0001".into()),
        peer: None,
        ghl: Some(json!({
            "id": "ghlnew0001",
            "firstName": "Juniper",
            "lastName": "Bakery",
            "email": "hello@juniper.example",
            "phone": "+1 555 0199",
            "city": "Portland",
            "tags": ["wholesale", "west"],
            "source": "website form",
            "dateAdded": "2026-05-30T12:00:00Z",
        })),
        preview: Vec::new(),
        differences: Vec::new(),
        ghl_now: Default::default(),
        history: vec![failed],
        tasks: Vec::new(),
        notes: Vec::new(),
        appointments: Vec::new(),
        problems: Vec::new(),
    }
}

/// A log entry of an update with what it changed, field by field.
pub fn log_entry_with_diff() -> LogEntry {
    let mut entry = log_entry(41, Outcome::Ok);
    entry.action = Action::Update;
    let mut diff = Map::new();
    diff.insert(
        "email".into(),
        json!(["old@example.com", "owner1@example.com"]),
    );
    diff.insert("phone".into(), json!([null, "+1 555 0101"]));
    diff.insert(
        "companyName".into(),
        json!(["Bluebird Cafe", "Bluebird Café"]),
    );
    diff.insert("tags".into(), json!([["retail"], ["retail", "west"]]));
    diff.insert(
        "address1".into(),
        json!([
            "12 Old Harbour Road, Unit 4, Springfield",
            "Unit 4, 12 Old Harbour Road, Springfield Industrial Estate"
        ]),
    );
    entry.diff = diff;
    entry
}

fn preview_row(
    source: &str,
    target: &str,
    before: serde_json::Value,
    after: Option<serde_json::Value>,
    problem: Option<&str>,
) -> FieldPreview {
    FieldPreview {
        source: source.into(),
        target: target.into(),
        before,
        after,
        problem: problem.map(str::to_string),
    }
}

pub fn log_entry(i: i64, outcome: Outcome) -> LogEntry {
    let failed = outcome == Outcome::Failed;
    LogEntry {
        at: at(i),
        trigger: "manual".into(),
        peer: "repsly".into(),
        direction: if i % 5 == 4 {
            Direction::ToPeer
        } else {
            Direction::ToGhl
        },
        kind: if i % 3 == 2 {
            EntityKind::Task
        } else {
            EntityKind::Contact
        },
        peer_id: Some(format!("C{:04}", 1000 + i % 30)),
        ghl_id: (!failed).then(|| format!("ghl{:06}", 500 + i % 30)),
        action: if i % 4 == 0 {
            Action::Create
        } else {
            Action::Update
        },
        outcome,
        error_class: failed.then_some(ErrorClass::Validation),
        status: failed.then_some(422),
        trace_id: failed.then(|| format!("trace-{i:04}")),
        message: failed.then(|| "Name is required".into()),
        duration_ms: 12,
        diff: Map::new(),
        op_id: Some(100 + i as u64),
        run_id: Some(1),
    }
}

pub fn log_entries() -> Vec<LogEntry> {
    (0..40)
        .map(|i| {
            let outcome = match i % 6 {
                0 => Outcome::Failed,
                1 | 2 => Outcome::Ok,
                3 => Outcome::Unchanged,
                4 => Outcome::Conflict,
                _ => Outcome::Retrying,
            };
            log_entry(i, outcome)
        })
        .collect()
}

pub fn operation(id: u64, class: ErrorClass, source: &str) -> Operation {
    Operation {
        id,
        peer: "repsly".into(),
        kind: EntityKind::Contact,
        direction: Direction::ToGhl,
        action: Action::Create,
        source_id: source.into(),
        target_id: None,
        target_parent_id: None,
        payload: json!({"companyName": "", "email": "x@example.com"}),
        source: json!({"Code": source, "Name": ""}),
        mapping_fingerprint: "abc".into(),
        planned_against: None,
        source_hash: None,
        parent_id: None,
        upsert_by: None,
        state: OpState::Failed,
        attempts: 1,
        error: Some(OpError {
            class,
            status: Some(422),
            message: "Name is required".into(),
            trace_id: Some(format!("trace-{id}")),
            reason: None,
            field: None,
        }),
        created_at: at(id as i64),
        updated_at: at(id as i64 + 5),
        run_id: Some(1),
    }
}

/// A failure the planner held back for `reason`, with its sentence as the message.
fn held(mut op: Operation, reason: &str, message: &str) -> Operation {
    if let Some(error) = op.error.as_mut() {
        error.reason = Some(reason.into());
        error.status = None;
        error.trace_id = None;
        error.message = message.into();
    }
    op
}

/// Failures of three classes; under validation two reasons and two without one, in both
/// directions, one of them a note.
pub fn operations() -> Vec<Operation> {
    let no_match =
        "no usable email or phone to match the contact in GHL; fix the record or the mapping";
    let mut ghl_contact = operation(14, ErrorClass::Validation, "ghlnew0001");
    ghl_contact.direction = Direction::ToPeer;
    ghl_contact.target_id = Some("ghlnew0001".into());
    ghl_contact.payload =
        json!({"Name": "", "Email": "hello@juniper.example", "Phone": "+1 555 0199"});
    ghl_contact.source = json!({"id": "ghlnew0001", "firstName": "Juniper", "lastName": "Bakery",
        "email": "hello@juniper.example", "phone": "+1 555 0199", "tags": ["wholesale", "west"]});
    ghl_contact.attempts = 3;
    if let Some(error) = ghl_contact.error.as_mut() {
        error.status = Some(400);
        error.message = "import/client: rejected: Name is required (the client has no Name and no ContactName; Repsly refuses a client without one)".into();
    }
    let mut note = held(
        operation(20, ErrorClass::Validation, "NOTE-77"),
        "parent_not_synced",
        "waits for its contact C1007, which is not synced: its own sync waits in the failed queue (operation 8: no usable email or phone); it syncs by itself once the contact does",
    );
    note.kind = EntityKind::Note;
    note.parent_id = Some("C1007".into());
    note.source = json!({"kind": "note", "id": "NOTE-77", "parent_id": "C1007",
        "fields": {"Note": "Asked for a tasting visit"}});
    note.state = OpState::Parked;
    vec![
        held(
            operation(7, ErrorClass::Validation, "C1000"),
            "no_match_key",
            no_match,
        ),
        held(
            operation(8, ErrorClass::Validation, "C1007"),
            "no_match_key",
            no_match,
        ),
        operation(9, ErrorClass::Transient, "C1014"),
        operation(3, ErrorClass::Auth, "C1021"),
        operation(12, ErrorClass::Validation, "C1028"),
        ghl_contact,
        note,
    ]
}

pub fn status() -> Status {
    let mut queue = std::collections::BTreeMap::new();
    for (name, n) in [
        ("dead", 0),
        ("failed", 5),
        ("in_flight", 0),
        ("retry_scheduled", 1),
    ] {
        queue.insert(name.to_string(), n);
    }
    let mut counts = std::collections::BTreeMap::new();
    counts.insert("create/ok".to_string(), 1990);
    counts.insert("create/failed".to_string(), 10);
    Status {
        peer: "repsly".into(),
        location_id: "loc-sandbox-1".into(),
        cursors: vec![("repsly/contact".into(), "2026-05-28T12:00:00Z".into())],
        queue,
        last_runs: vec![RunRecord {
            id: 1,
            trigger: "manual".into(),
            peer: "repsly".into(),
            started_at: at(0),
            ended_at: Some(at(90)),
            counts,
            dry_run: false,
        }],
        rate_limit: RateLimitState {
            max: 100,
            interval_ms: 10_000,
            tokens: 64.0,
            daily_limit: Some(200_000),
            daily_remaining: Some(150_000),
            requests_sent: 4_321,
            rate_limited_seen: 2,
            paused_until_ms: None,
            reported_at_ms: None,
        },
        store_path: "/tmp/store".into(),
        log_entries: 4_000,
        auth: crate::ghl::AuthInfo {
            method: crate::ghl::AuthMethod::OAuth,
            expires_at: Some(at(90).timestamp() + 3_600),
            scope: None,
            last_unauthorized_at: Some(at(60).timestamp()),
        },
        peer_health: crate::peers::PeerHealth {
            last_ok_at: Some(at(80)),
            ..Default::default()
        },
        peers: vec![crate::engine::PeerState {
            name: "repsly".into(),
            health: Default::default(),
        }],
        service: None,
    }
}

/// A page of every contact's children: due or start times spread over days, contacts from
/// the contact list, one row waiting in the failed queue.
pub fn child_page(kind: EntityKind) -> ChildPage {
    let rows: Vec<ChildRow> = (0..12_i64)
        .map(|i| {
            let contact = contact_rows()[(i as usize * 4) % 30].clone();
            let (title, body) = match kind {
                EntityKind::Task => (format!("Visit task {i}"), Some("Audit".to_string())),
                EntityKind::Note => (format!("Rep {i}"), Some(format!("Called about order {i}."))),
                _ => (
                    "Repsly visit".to_string(),
                    Some("Check shelf placement.".to_string()),
                ),
            };
            ChildRow {
                peer_id: format!("SCH-{i:06}"),
                ghl_id: Some(format!("ghlchild{i:04}")),
                contact_peer_id: contact.peer_id,
                contact_name: Some(contact.name),
                title: Some(title),
                body,
                at: (kind != EntityKind::Note).then(|| at(i * 7_200)),
                end: (kind == EntityKind::Appointment).then(|| at(i * 7_200 + 1_800)),
                completed: (kind == EntityKind::Task).then_some(i % 3 == 0),
                status: (kind == EntityKind::Appointment).then(|| "confirmed".to_string()),
                state: if i == 5 {
                    RowState::Failed
                } else {
                    RowState::Synced
                },
                synced_at: Some(at(50_000 - i * 60)),
            }
        })
        .collect();
    ChildPage {
        kind,
        offset: 0,
        total: 340,
        rows,
        problems: Vec::new(),
    }
}

pub const MAPPING_TEXT: &str =
    "[contact]\nmatch = [\"email\"]\n\n[[contact.field]]\npeer = \"Name\"\nghl = \"companyName\"\n";

/// A console with every screen's data loaded, on the contacts screen.
pub fn loaded_state() -> AppState {
    let mut state = AppState::new(Mode::Sandbox, "repsly", false, Theme::colour());
    state.location = "loc-sandbox-1".into();
    // Not UTC, so every snapshot shows times converted to the display zone.
    state.zone = DisplayZone::named("America/New_York").unwrap_or_default();
    state.help = help_sections(&Keymap::builtin().0, false);
    state.contacts.replace(contact_rows(), true);
    state.detail.contact = Some(ContactRef::Peer("C1000".into()));
    state.detail.detail = Some(Box::new(contact_detail()));
    for entry in log_entries() {
        state.log.push(entry);
    }
    state.failures.replace(operations());
    for kind in [EntityKind::Task, EntityKind::Note, EntityKind::Appointment] {
        state.children.all_mut(kind).apply(child_page(kind));
    }
    state.status = Some(Box::new(status()));
    state.mapping.load(
        MAPPING_TEXT.into(),
        "built-in repsly mapping".into(),
        Vec::new(),
    );
    state.mapping.checked = true;
    state.mapping.preview = contact_detail().preview;
    state.mapping.preview_target = Some(crate::console::msg::PreviewTarget::Peer("C1000".into()));
    state
}

/// An action through the reducer, as a key bound to it would send it.
pub fn act(
    state: &mut AppState,
    action: crate::console::action::Action,
) -> Vec<crate::console::msg::Effect> {
    crate::console::update::update(state, crate::console::msg::Msg::Action(action))
}

/// The engine calls among a reducer's effects.
pub fn calls(effects: &[crate::console::msg::Effect]) -> Vec<&crate::console::msg::Request> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            crate::console::msg::Effect::Call(request) => Some(request),
            _ => None,
        })
        .collect()
}
