//! The deterministic data set, written straight into a store.
use super::*;

/// Contacts known only through a failed first write (no link, no baseline).
pub const UNLINKED: usize = 50;
/// Linked contacts with an operation in the failed queue.
pub const FAILED_LINKED: usize = 400;
pub const LOG_ENTRIES: usize = 20_000;
pub const TASKS: usize = 10_000;
pub const NOTES: usize = 10_000;
pub const APPOINTMENTS: usize = 5_000;
/// The contact the detail screen opens; every 50th log entry is about it.
pub const DETAIL_CONTACT: usize = 42;

const FIRST: [&str; 40] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Sandra",
    "Mark",
    "Margaret",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Paul",
    "Donna",
    "Joshua",
    "Michelle",
];
const LAST: [&str; 50] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
];
const COMPANY: [&str; 12] = [
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
    "Kestrel Books",
    "Lantern Tea House",
];
const CITY: [(&str, &str, &str); 6] = [
    ("Springfield", "IL", "62701"),
    ("Portland", "OR", "97201"),
    ("Austin", "TX", "73301"),
    ("Madison", "WI", "53703"),
    ("Raleigh", "NC", "27601"),
    ("Boise", "ID", "83702"),
];

pub fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0)
        .single()
        .expect("a fixed time")
}

/// A reproducible 64-bit mix (splitmix64).
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub fn peer_id(i: usize) -> String {
    format!("C{i:06}")
}

pub fn ghl_id(i: usize) -> String {
    // GHL ids are 20 alphanumerics.
    format!("{:016x}{:04}", mix(i as u64), i % 10_000)
}

fn hash(i: usize, salt: u64) -> String {
    (0..4)
        .map(|k| format!("{:016x}", mix(i as u64 ^ (salt << 40) ^ (k << 56))))
        .collect()
}

/// A contact's GHL-side fields as its baseline keeps them.
pub fn ghl_fields(i: usize) -> Map<String, Value> {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    let (city, state, zip) = CITY[i % CITY.len()];
    let domain = if i.is_multiple_of(10) {
        "example.org"
    } else {
        "example.com"
    };
    let mut fields = Map::new();
    // One in twenty is a place with no person: the list shows the company.
    if i % 20 != 7 {
        fields.insert("firstName".into(), json!(first));
        fields.insert("lastName".into(), json!(last));
    }
    if i.is_multiple_of(3) || i % 20 == 7 {
        fields.insert(
            "companyName".into(),
            json!(format!("{} {}", COMPANY[i % COMPANY.len()], i % 97)),
        );
    }
    fields.insert(
        "email".into(),
        json!(format!(
            "{}{i}.{}@{domain}",
            first.to_lowercase(),
            last.to_lowercase()
        )),
    );
    fields.insert("phone".into(), json!(format!("+1555{:07}", i)));
    fields.insert(
        "address1".into(),
        json!(format!("{} Main Street", 1 + i % 900)),
    );
    fields.insert("city".into(), json!(city));
    fields.insert("state".into(), json!(state));
    fields.insert("postalCode".into(), json!(zip));
    fields.insert("country".into(), json!("US"));
    fields.insert(
        "tags".into(),
        json!(if i.is_multiple_of(4) {
            vec!["vip", "north"]
        } else {
            vec!["retail"]
        }),
    );
    fields.insert("source".into(), json!("repsly"));
    fields
}

/// The peer (Repsly) record of contact `i`.
pub fn peer_record(i: usize) -> PeerRecord {
    let ghl = ghl_fields(i);
    let text = |key: &str| {
        ghl.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let person = format!("{} {}", text("firstName"), text("lastName"))
        .trim()
        .to_string();
    let fields: Map<String, Value> = json!({
        "Code": peer_id(i),
        "Name": text("companyName"),
        "ContactName": person,
        "Email": text("email"),
        "Phone": text("phone"),
        "Mobile": format!("+1555{:07}", (i * 7) % 10_000_000),
        "StreetAddress": text("address1"),
        "City": text("city"),
        "State": text("state"),
        "ZIP": text("postalCode"),
        "Country": "US",
        "Website": "",
        "Tag": if i.is_multiple_of(4) { "vip, north" } else { "retail" },
        "Active": true,
        "Note": "Prefers morning visits",
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    PeerRecord {
        kind: EntityKind::Contact,
        id: peer_id(i),
        parent_id: None,
        updated_at: Some(base_time() + ChronoDuration::seconds(i as i64)),
        active: true,
        raw: Value::Object(fields.clone()),
        fields,
    }
}

/// Which contact child `j` of `kind` belongs to.
pub fn parent_of(kind: EntityKind, j: usize, contacts: usize) -> usize {
    let salt = match kind {
        EntityKind::Task => 1,
        EntityKind::Note => 2,
        _ => 3,
    };
    (mix((j as u64) << 2 | salt) % contacts as u64) as usize
}

pub fn child_id(kind: EntityKind, j: usize) -> String {
    match kind {
        EntityKind::Task => format!("T{j:06}"),
        EntityKind::Note => format!("NT{j:06}"),
        _ => format!("A{j:06}"),
    }
}

fn child_fields(kind: EntityKind, j: usize) -> Map<String, Value> {
    let at = base_time() + ChronoDuration::hours((j % 2000) as i64);
    let value = match kind {
        EntityKind::Task => json!({
            "title": format!("Visit task {j}: check the shelf"),
            "body": "Audit",
            "dueDate": at.to_rfc3339(),
            "completed": j.is_multiple_of(3),
        }),
        EntityKind::Note => json!({
            "title": "Field rep",
            "body": format!("Note {j}: the owner asked for a call back next week about the order"),
        }),
        _ => json!({
            "title": format!("Store visit {j}"),
            "startTime": at.to_rfc3339(),
            "endTime": (at + ChronoDuration::minutes(30)).to_rfc3339(),
            "appointmentStatus": if j.is_multiple_of(5) { "cancelled" } else { "confirmed" },
        }),
    };
    value.as_object().cloned().unwrap_or_default()
}

/// One of the stored log lines; `k` orders them in time.
pub fn log_entry(k: usize, contacts: usize, at: DateTime<Utc>) -> LogEntry {
    let i = if k.is_multiple_of(50) {
        DETAIL_CONTACT
    } else {
        (mix(k as u64) % contacts as u64) as usize
    };
    let (action, outcome, class, message) = match k % 100 {
        0..=59 => (OpAction::Update, Outcome::Ok, None, None),
        60..=89 => (OpAction::Skip, Outcome::Unchanged, None, None),
        90..=94 => (
            OpAction::Create,
            Outcome::Failed,
            Some(ErrorClass::Validation),
            Some("GHL 422: phone is invalid".to_string()),
        ),
        95..=97 => (
            OpAction::Update,
            Outcome::Conflict,
            None,
            Some("email changed on both sides; latest wins (peer)".to_string()),
        ),
        _ => (
            OpAction::Update,
            Outcome::Retrying,
            Some(ErrorClass::Transient),
            Some("GHL 503: service unavailable".to_string()),
        ),
    };
    let mut diff = Map::new();
    if outcome == Outcome::Ok {
        diff.insert(
            "city".into(),
            json!(["Springfield", CITY[k % CITY.len()].0]),
        );
    }
    LogEntry {
        at,
        trigger: if k.is_multiple_of(7) {
            "console"
        } else {
            "schedule"
        }
        .into(),
        peer: PEER.into(),
        direction: if k.is_multiple_of(9) {
            Direction::ToPeer
        } else {
            Direction::ToGhl
        },
        kind: EntityKind::Contact,
        peer_id: Some(peer_id(i)),
        ghl_id: Some(ghl_id(i)),
        action,
        outcome,
        error_class: class,
        status: class.map(|c| {
            if c == ErrorClass::Validation {
                422
            } else {
                503
            }
        }),
        trace_id: class.map(|_| format!("trace-{:012x}", mix(k as u64) >> 16)),
        message,
        duration_ms: 40 + (k % 200) as u64,
        diff,
        op_id: None,
        run_id: Some(1 + (k / 2_000) as u64),
    }
}

pub struct Seeded {
    pub contacts: usize,
    pub failed_ops: usize,
    pub log_entries: usize,
}

impl Seeded {
    /// Rows in the contact list: the linked contacts and the unlinked failed first writes.
    pub fn rows(&self) -> usize {
        self.contacts + UNLINKED
    }
}

pub fn write(path: &Path, contacts: usize) -> Seeded {
    let store = Store::open(path).expect("store opens");
    let base = base_time();
    let started = Instant::now();
    for i in 0..contacts {
        let id = peer_id(i);
        let baseline = Baseline {
            peer_hash: hash(i, 1),
            ghl_hash: hash(i, 2),
            fields: ghl_fields(i),
            synced_at: base + ChronoDuration::seconds(i as i64 % 86_400),
        };
        // Baseline first: the link then files the contact in the list once, under its name
        // (a sync's commit writes both in one transaction).
        store
            .set_baseline(PEER, EntityKind::Contact, &id, &baseline)
            .expect("baseline");
        store
            .set_link(PEER, EntityKind::Contact, &id, &ghl_id(i))
            .expect("link");
    }
    let contacts_took = started.elapsed();
    for (kind, count) in [
        (EntityKind::Task, TASKS),
        (EntityKind::Note, NOTES),
        (EntityKind::Appointment, APPOINTMENTS),
    ] {
        for j in 0..count {
            let id = child_id(kind, j);
            store
                .set_link(
                    PEER,
                    kind,
                    &id,
                    &format!("{:020x}", mix(j as u64 ^ 0xC0FFEE)),
                )
                .expect("child link");
            let baseline = Baseline {
                peer_hash: hash(j, 3),
                ghl_hash: hash(j, 4),
                fields: child_fields(kind, j),
                synced_at: base + ChronoDuration::seconds(j as i64),
            };
            store
                .set_baseline(PEER, kind, &id, &baseline)
                .expect("child baseline");
        }
    }
    for k in 0..LOG_ENTRIES {
        let at = base + ChronoDuration::milliseconds(k as i64 * 500);
        store
            .append_log(&log_entry(k, contacts, at))
            .expect("log entry");
    }
    let rest_took = started.elapsed() - contacts_took;
    let mut failed_ops = 0;
    let step = (contacts / FAILED_LINKED).max(1);
    let linked = (0..contacts).step_by(step).take(FAILED_LINKED).map(Some);
    let unlinked = (0..UNLINKED).map(|_| None);
    for (n, contact) in linked.chain(unlinked).enumerate() {
        let op = failed_op(&store, n, contact, base);
        store.update_operation(&op, None).expect("failed operation");
        failed_ops += 1;
    }
    for run in 1..=10u64 {
        let started_at = base + ChronoDuration::minutes(run as i64 * 15);
        let counts = [
            ("update/ok", 1_200 * run),
            ("skip/unchanged", 90_000),
            ("create/failed", 40),
            ("update/conflict", 12),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        store
            .put_run(&RunRecord {
                id: run,
                trigger: if run % 3 == 0 { "console" } else { "schedule" }.into(),
                peer: PEER.into(),
                started_at,
                ended_at: Some(started_at + ChronoDuration::seconds(95)),
                counts,
                dry_run: false,
            })
            .expect("run");
    }
    for (kind, cursor) in [
        (EntityKind::Contact, "2026-11-20T02:30:00Z"),
        (EntityKind::Task, "7734112"),
        (EntityKind::Note, "118223"),
    ] {
        store.set_cursor(PEER, kind, cursor).expect("cursor");
    }
    store.flush().expect("flush");
    eprintln!(
        "   seed: contacts {:.1} s, children and log {:.1} s, operations, runs, cursors {:.1} s",
        contacts_took.as_secs_f64(),
        rest_took.as_secs_f64(),
        (started.elapsed() - contacts_took - rest_took).as_secs_f64()
    );
    Seeded {
        contacts,
        failed_ops,
        log_entries: LOG_ENTRIES,
    }
}

/// The `n`th failed operation: of linked contact `i`, else a first write never linked.
fn failed_op(store: &Store, n: usize, contact: Option<usize>, base: DateTime<Utc>) -> Operation {
    let (source_id, target_id, source) = match contact {
        Some(i) => (
            peer_id(i),
            Some(ghl_id(i)),
            serde_json::to_value(peer_record(i)).unwrap_or_default(),
        ),
        None => {
            let id = format!("U{n:05}");
            let name = format!("New Shop {n}");
            let record = json!({
                "kind": "contact",
                "id": id,
                "fields": {
                    "Code": id,
                    "Name": name,
                    "ContactName": "",
                    "Email": format!("newshop{n}@example.net"),
                    "Phone": "555-01",
                },
                "raw": {},
            });
            (id, None, record)
        }
    };
    let (state, class, status, message) = match n % 4 {
        0 | 1 => (
            OpState::Failed,
            ErrorClass::Validation,
            Some(422),
            "GHL 422: phone is invalid (+1555-01)",
        ),
        2 => (
            OpState::RetryScheduled {
                next_at: base + ChronoDuration::hours(3),
            },
            ErrorClass::Transient,
            Some(503),
            "GHL 503: service unavailable",
        ),
        _ => (
            OpState::Dead,
            ErrorClass::NotFound,
            Some(404),
            "GHL 404: contact not found",
        ),
    };
    let at = base + ChronoDuration::seconds(n as i64 * 37);
    Operation {
        id: store.new_op_id().expect("op id"),
        peer: PEER.into(),
        kind: EntityKind::Contact,
        direction: Direction::ToGhl,
        action: if target_id.is_some() {
            OpAction::Update
        } else {
            OpAction::Create
        },
        source_id,
        target_id,
        target_parent_id: None,
        payload: json!({"phone": "+1555-01", "email": format!("shop{n}@example.com")}),
        source,
        mapping_fingerprint: "builtin-repsly".into(),
        planned_against: None,
        source_hash: None,
        parent_id: None,
        upsert_by: None,
        state,
        attempts: 1 + (n % 5) as u32,
        error: Some(OpError {
            class,
            status,
            message: message.into(),
            trace_id: Some(format!("trace-{n:08}")),
            reason: None,
            field: None,
        }),
        created_at: at,
        updated_at: at,
        run_id: Some(1 + (n % 10) as u64),
    }
}
