//! The console over a store of 100,000 contacts (issue 4). The store is written directly through
//! the public `Store` API (links, baselines, failed operations, log entries, runs, cursors, and
//! tasks, notes and appointments), deterministically, in a temp dir; no sync runs. The engine
//! runs in process over it with an in-memory peer (`BenchPeer`: contact reads and the parents
//! of children, computed from the ids) and a GHL client pointed at a closed port, so every
//! answer the console gets comes from the store.
//!
//!     cargo bench --bench console             # 100,000 contacts
//!     cargo bench --bench console -- 20000    # CONTACTS
//!
//! Six figures (issue 4's targets in brackets):
//! 1. time to first frame [≤ 300 ms]: the real runner (`console::runner::run`) in a
//!    pseudo-terminal at 120×40, from the call (state built, engine in hand) to the first
//!    complete frame (`ESC[?2026l` closes the synchronized update) showing the contact list
//!    loaded;
//! 2. render time per frame at 120×40 [≤ 2 ms]: `views::render` through ratatui's `TestBackend`
//!    for every main screen, state loaded through the engine and the reducer;
//! 3. filter latency per keystroke [≤ 15 ms]: "smith@example" typed into the contact filter,
//!    keystroke (keymap → `update`) to the frame drawn; the filter runs in the console;
//! 4. resident memory [≤ 150 MB]: VmRSS and VmHWM of the console process of 1 (state over all
//!    contacts, engine and store open);
//! 5. CPU while idle for 10 s [≤ 0.5 %]: that process, no input, no engine events;
//! 6. bytes written to the terminal while the sync log streams 100 events/s for 10 s: the bench
//!    holds a clone of the engine's log sender (`SyncContext::events`) and announces through it,
//!    the path a sync's outcomes take.
//!
//! 1, 4, 5 and 6 run in a child process: this bench binary started again in a pseudo-terminal
//! (portable-pty) with `GHLSYNC_CONSOLE_BENCH_CHILD` set, read back through `vt100`. 2 and 3
//! run in this process. Benchmarks print figures; they never assert timings.

use chrono::{DateTime, Duration as ChronoDuration, TimeZone, Utc};
use ghlsync::config::Secret;
use ghlsync::console::action::{Action, FocusTarget, Motion};
use ghlsync::console::help::help_sections;
use ghlsync::console::keymap::Keymap;
use ghlsync::console::msg::{Answer, Effect, Msg, Request};
use ghlsync::console::runner;
use ghlsync::console::runner::effects::perform;
use ghlsync::console::state::{AppState, Mode, Screen};
use ghlsync::console::theme::Theme;
use ghlsync::console::update::{init, update};
use ghlsync::console::views::render;
use ghlsync::engine::{Command, EngineHandle, EngineOptions, start_in_process};
use ghlsync::ghl::{AuthSettings, ClientSettings, ErrorClass, GhlClient};
use ghlsync::peers::{
    ChangeDetection, ChangePage, EntityCapability, EntityKind, Peer, PeerError, PeerRecord,
    WriteOutcome,
};
use ghlsync::store::{
    Action as OpAction, Baseline, Direction, LogEntry, OpError, OpState, Operation, Outcome,
    RunRecord, Store,
};
use ghlsync::sync::SyncContext;
use ghlsync::sync::mapping::Mapping;
use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

const COLS: u16 = 120;
const ROWS: u16 = 40;
const PEER: &str = "repsly";
/// Set (to the store's path) in the child that runs the real console in the pseudo-terminal.
const CHILD_ENV: &str = "GHLSYNC_CONSOLE_BENCH_CHILD";
/// Set (to `memory`, `api` or `scan`) in a child that measures one part of the contact list
/// on its own, in a fresh process (`probe`).
const PROBE_ENV: &str = "GHLSYNC_CONSOLE_BENCH_PROBE";
/// How many contacts the child's store holds (for the stream's ids).
const CONTACTS_ENV: &str = "GHLSYNC_CONSOLE_BENCH_CONTACTS";
/// Where the child writes the wall-clock time it called the runner.
const START_ENV: &str = "GHLSYNC_CONSOLE_BENCH_START";
/// Live log events per second and for how long (measurement 6).
const STREAM_RATE: u64 = 100;
const STREAM_SECS: u64 = 10;
const IDLE_SECS: u64 = 10;
/// Frames timed per screen (measurement 2) and times the filter is typed (measurement 3).
const FRAMES: usize = 500;
const FILTER_RUNS: usize = 5;
const FILTER_TEXT: &str = "smith@example";

fn main() {
    if let (Ok(mode), Ok(store)) = (std::env::var(PROBE_ENV), std::env::var(CHILD_ENV)) {
        probe::run(&mode, Path::new(&store));
        return;
    }
    if let Ok(store) = std::env::var(CHILD_ENV) {
        child::run(PathBuf::from(store));
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let contacts: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store_path = dir.path().join("store");
    println!(
        "console bench: {contacts} contacts, {COLS}x{ROWS}, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let started = Instant::now();
    let seeded = seed::write(&store_path, contacts);
    println!(
        "store seeded in {:.1} s: {} contacts ({} linked, {} known only by a failed first write), \
         {} failed operations, {} log entries, {} tasks, {} notes, {} appointments",
        started.elapsed().as_secs_f64(),
        seeded.rows(),
        contacts,
        seed::UNLINKED,
        seeded.failed_ops,
        seeded.log_entries,
        seed::TASKS,
        seed::NOTES,
        seed::APPOINTMENTS,
    );

    // 1, 4, 5, 6: the real console in a pseudo-terminal.
    let pty = pty::measure(dir.path(), &store_path, contacts, seeded.rows());

    // Where the contact list's time and memory go, each in a fresh process.
    println!();
    println!("   where the first frame and the memory go (fresh processes):");
    for mode in ["api", "scan", "memory"] {
        let output = std::process::Command::new(std::env::current_exe().expect("this bench"))
            .env(PROBE_ENV, mode)
            .env(CHILD_ENV, &store_path)
            .env(CONTACTS_ENV, contacts.to_string())
            .output()
            .expect("the probe runs");
        print!("{}", String::from_utf8_lossy(&output.stdout));
        if !output.status.success() {
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            panic!("probe {mode} failed");
        }
    }

    // 2, 3: the reducer and the views in this process, state loaded through the engine.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pure = runtime.block_on(in_process::measure(&store_path, contacts));
    drop(runtime);

    println!();
    println!("summary (figure / target):");
    let ratio = |figure: f64, target: f64| figure / target;
    println!(
        "1. time to first frame: {:.0} ms / 300 ms = {:.2}",
        pty.first_frame_ms,
        ratio(pty.first_frame_ms, 300.0)
    );
    let worst = pure
        .render
        .iter()
        .max_by(|a, b| a.p99_ms.total_cmp(&b.p99_ms))
        .expect("screens were rendered");
    let screens = pure
        .render
        .iter()
        .map(|r| format!("{} {:.2}/{:.2}", r.screen, r.mean_ms, r.p99_ms))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "2. render per frame (mean/p99 ms): {screens}; worst p99 {:.3} ms ({}) / 2 ms = {:.2}",
        worst.p99_ms,
        worst.screen,
        ratio(worst.p99_ms, 2.0)
    );
    println!(
        "3. filter per keystroke: mean {:.2} ms, max {:.2} ms / 15 ms = {:.2}",
        pure.filter_mean_ms,
        pure.filter_max_ms,
        ratio(pure.filter_max_ms, 15.0)
    );
    println!(
        "4. resident memory: peak {:.1} MB, current {:.1} MB / 150 MB = {:.2}",
        pty.peak_mb,
        pty.current_mb,
        ratio(pty.peak_mb, 150.0)
    );
    println!(
        "5. idle CPU over {IDLE_SECS} s: {:.3} % / 0.5 % = {:.2}",
        pty.idle_cpu_percent,
        ratio(pty.idle_cpu_percent, 0.5)
    );
    println!(
        "6. sync log streaming {STREAM_RATE} events/s: {:.0} bytes/s, {:.0} bytes per event, {:.1} frames/s",
        pty.stream_bytes_per_sec, pty.stream_bytes_per_event, pty.stream_fps
    );
}

/// Percentiles and means of per-frame times.
fn stats_ms(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let n = samples.len().max(1);
    let mean = samples.iter().map(Duration::as_secs_f64).sum::<f64>() / n as f64;
    let p99 = samples
        .get(((n as f64 * 0.99).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or_default();
    let max = samples.last().copied().unwrap_or_default();
    (
        mean * 1000.0,
        p99.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
    )
}

/// VmRSS and VmHWM of a process (`"self"` or a pid), in MB (10^6 bytes).
fn memory(pid: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb * 1024.0 / 1e6)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The deterministic data set, written straight into a store.
mod seed {
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
        let domain = if i % 10 == 0 {
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
        if i % 3 == 0 || i % 20 == 7 {
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
            json!(if i % 4 == 0 {
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
            "Tag": if i % 4 == 0 { "vip, north" } else { "retail" },
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
                "completed": j % 3 == 0,
            }),
            EntityKind::Note => json!({
                "title": "Field rep",
                "body": format!("Note {j}: the owner asked for a call back next week about the order"),
            }),
            _ => json!({
                "title": format!("Store visit {j}"),
                "startTime": at.to_rfc3339(),
                "endTime": (at + ChronoDuration::minutes(30)).to_rfc3339(),
                "appointmentStatus": if j % 5 == 0 { "cancelled" } else { "confirmed" },
            }),
        };
        value.as_object().cloned().unwrap_or_default()
    }

    /// One of the stored log lines; `k` orders them in time.
    pub fn log_entry(k: usize, contacts: usize, at: DateTime<Utc>) -> LogEntry {
        let i = if k % 50 == 0 {
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
            trigger: if k % 7 == 0 { "console" } else { "schedule" }.into(),
            peer: PEER.into(),
            direction: if k % 9 == 0 {
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
            store
                .set_link(PEER, EntityKind::Contact, &id, &ghl_id(i))
                .expect("link");
            let baseline = Baseline {
                peer_hash: hash(i, 1),
                ghl_hash: hash(i, 2),
                fields: ghl_fields(i),
                synced_at: base + ChronoDuration::seconds(i as i64 % 86_400),
            };
            store
                .set_baseline(PEER, EntityKind::Contact, &id, &baseline)
                .expect("baseline");
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
    fn failed_op(
        store: &Store,
        n: usize,
        contact: Option<usize>,
        base: DateTime<Utc>,
    ) -> Operation {
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
            state,
            attempts: 1 + (n % 5) as u32,
            error: Some(OpError {
                class,
                status,
                message: message.into(),
                trace_id: Some(format!("trace-{n:08}")),
            }),
            created_at: at,
            updated_at: at,
            run_id: Some(1 + (n % 10) as u64),
        }
    }
}

/// A peer held in memory: contacts and the parents of children are computed from their ids,
/// so the engine's detail, mapping preview and children queries have something to read.
struct BenchPeer {
    contacts: usize,
}

#[async_trait::async_trait]
impl Peer for BenchPeer {
    fn name(&self) -> &str {
        PEER
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        EntityKind::ALL
            .iter()
            .map(|&kind| EntityCapability {
                kind,
                read: true,
                write: false,
                changes: ChangeDetection::Cursor,
            })
            .collect()
    }

    async fn fetch_changes(
        &self,
        kind: EntityKind,
        cursor: Option<&str>,
    ) -> Result<ChangePage, PeerError> {
        let count = match kind {
            EntityKind::Task => seed::TASKS,
            EntityKind::Note => seed::NOTES,
            EntityKind::Appointment => seed::APPOINTMENTS,
            EntityKind::Contact => 0,
        };
        let records = if cursor.is_some() {
            Vec::new()
        } else {
            (0..count)
                .map(|j| PeerRecord {
                    kind,
                    id: seed::child_id(kind, j),
                    parent_id: Some(seed::peer_id(seed::parent_of(kind, j, self.contacts))),
                    updated_at: None,
                    active: true,
                    fields: Map::new(),
                    raw: Value::Null,
                })
                .collect()
        };
        Ok(ChangePage {
            records,
            next_cursor: Some("end".into()),
            done: true,
        })
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        let index = id.strip_prefix('C').and_then(|n| n.parse::<usize>().ok());
        Ok(match (kind, index) {
            (EntityKind::Contact, Some(i)) if i < self.contacts => Some(seed::peer_record(i)),
            _ => None,
        })
    }

    async fn upsert(&self, _record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        Err(PeerError::Unsupported {
            peer: PEER.into(),
            detail: "the console bench writes nothing".into(),
        })
    }
}

/// The engine's context over the seeded store. GHL is a closed port, tried once: the console's
/// list, log, status and failed queue come from the store alone.
fn context(
    store: Store,
    contacts: usize,
    events: Option<broadcast::Sender<LogEntry>>,
) -> SyncContext {
    let mut settings = ClientSettings::new(
        "http://127.0.0.1:9",
        "bench-location",
        AuthSettings::PrivateToken(Secret::new("bench")),
    );
    settings.retry.max_attempts = 1;
    settings.timeout = Duration::from_secs(2);
    SyncContext {
        store,
        ghl: GhlClient::new(settings).expect("GHL client"),
        peer: Arc::new(BenchPeer { contacts }),
        mapping: Mapping::builtin(PEER).expect("built-in mapping"),
        settings: Default::default(),
        events,
    }
}

/// Opens the store, waiting while another process (or a stopping engine) still holds its lock.
fn open_when_free(path: &Path) -> Store {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match Store::open(path) {
            Ok(store) => return store,
            Err(err)
                if Instant::now() < deadline
                    && err.to_string().contains("could not acquire lock") =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(err) => panic!("opening the store: {err}"),
        }
    }
}

/// The console process in the pseudo-terminal: the real runner over the seeded store.
mod child {
    use super::*;

    pub fn run(store_path: PathBuf) {
        let contacts: usize = std::env::var(CONTACTS_ENV)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(100_000);
        let start_file = std::env::var(START_ENV).map(PathBuf::from).ok();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let store = open_when_free(&store_path);
            // The bench keeps a clone of the log sender: what it announces reaches the console
            // exactly as a sync's outcomes do (engine broadcast → `Event::Log`).
            let (log_tx, _) = broadcast::channel::<LogEntry>(4096);
            let engine = start_in_process(
                context(store, contacts, Some(log_tx.clone())),
                EngineOptions::default(),
            );
            // SIGUSR1 from the parent starts the stream (no polling: idle must stay idle).
            let mut go =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
                    .expect("SIGUSR1 handler");
            tokio::spawn(async move {
                if go.recv().await.is_some() {
                    stream(log_tx, contacts).await;
                }
            });
            let (keymap, _) = Keymap::builtin();
            let mut state = AppState::new(Mode::Live, PEER, false, Theme::colour());
            state.help = help_sections(&keymap, false);
            if let Some(path) = start_file {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos();
                let (rss, _) = memory("self");
                std::fs::write(path, format!("{now} {rss:.1}")).expect("start time");
            }
            let exit = runner::run(engine.clone(), state, keymap, Vec::new(), false).await;
            let _ =
                tokio::time::timeout(Duration::from_secs(2), engine.call(Command::Shutdown)).await;
            if let Err(err) = exit {
                eprintln!("runner: {err}");
                std::process::exit(1);
            }
        });
    }

    /// `STREAM_RATE` live outcomes a second for `STREAM_SECS`, as a sync announces them.
    async fn stream(log_tx: broadcast::Sender<LogEntry>, contacts: usize) {
        let mut every = tokio::time::interval(Duration::from_micros(1_000_000 / STREAM_RATE));
        for k in 0..(STREAM_RATE * STREAM_SECS) as usize {
            every.tick().await;
            let mut entry = seed::log_entry(k + 1, contacts, Utc::now());
            entry.trigger = "schedule".into();
            let _ = log_tx.send(entry);
        }
    }
}

/// One part of the contact list measured alone, in a fresh process (sled's cache and the heap
/// start empty, as in the console): `api`, the store API the engine's query stands on; `scan`,
/// what one ordered pass over sled's trees with a narrow decode would cost (a store API the
/// store does not have yet); `memory`, the process's memory at each step of loading the list.
mod probe {
    use super::*;

    pub fn run(mode: &str, store_path: &Path) {
        let contacts: usize = std::env::var(CONTACTS_ENV)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(100_000);
        match mode {
            "api" => api(store_path),
            "scan" => scan(store_path),
            _ => memory_steps(store_path, contacts),
        }
    }

    fn api(store_path: &Path) {
        let store = open_when_free(store_path);
        let started = Instant::now();
        let links = store.links(PEER, EntityKind::Contact).expect("links");
        let links_took = started.elapsed();
        let started = Instant::now();
        let mut found = 0usize;
        for (peer_id, _) in &links {
            let baseline = store.baseline(PEER, EntityKind::Contact, peer_id);
            found += usize::from(matches!(baseline, Ok(Some(_))));
        }
        let took = started.elapsed();
        println!(
            "   store API, one thread, cold: links() {:.0} ms for {}, then baseline() per id {:.0} ms ({:.1} µs each)",
            links_took.as_secs_f64() * 1000.0,
            links.len(),
            took.as_secs_f64() * 1000.0,
            took.as_secs_f64() * 1e6 / found.max(1) as f64
        );
    }

    #[derive(serde::Deserialize)]
    struct LinkView {
        ghl_id: String,
    }

    #[derive(serde::Deserialize)]
    struct BaselineView {
        fields: ListFields,
        synced_at: DateTime<Utc>,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ListFields {
        first_name: Option<String>,
        last_name: Option<String>,
        company_name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
    }

    /// One pass over `idmap` and `baselines` (same key order), decoding only what the list
    /// shows. Straight sled, read-only, on the store's own files: a measurement, not an API.
    fn scan(store_path: &Path) {
        let db = loop {
            match sled::Config::new()
                .path(store_path)
                .cache_capacity(64 * 1024 * 1024)
                .open()
            {
                Ok(db) => break db,
                Err(err) if err.to_string().contains("could not acquire lock") => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(err) => panic!("sled: {err}"),
            }
        };
        let started = Instant::now();
        let (idmap, baselines) = (
            db.open_tree("idmap").expect("idmap"),
            db.open_tree("baselines").expect("baselines"),
        );
        let prefix = ghlsync::store::entity_prefix(PEER, EntityKind::Contact);
        let mut views = baselines.scan_prefix(&prefix).flatten().peekable();
        let mut rows = 0usize;
        let mut names = 0usize;
        for (key, value) in idmap.scan_prefix(&prefix).flatten() {
            let link: LinkView = serde_json::from_slice(&value[1..]).expect("link");
            while views.next_if(|(k, _)| *k < key).is_some() {}
            let view = views
                .next_if(|(k, _)| *k == key)
                .and_then(|(_, v)| serde_json::from_slice::<BaselineView>(&v[1..]).ok());
            if let Some(view) = view {
                let _ = (view.synced_at, view.fields.email, view.fields.phone);
                let name = [
                    view.fields.first_name,
                    view.fields.last_name,
                    view.fields.company_name,
                ];
                names += name.iter().flatten().count();
            }
            rows += usize::from(!link.ghl_id.is_empty());
        }
        let took = started.elapsed();
        let (rss, _) = memory("self");
        println!(
            "   one ordered scan of idmap + baselines with a narrow decode (no such store API yet), one thread, cold: \
             {:.0} ms for {rows} contacts ({names} name parts); the process is then at {rss:.1} MB (sled's cache: 64 MB as in the store)",
            took.as_secs_f64() * 1000.0
        );
    }

    fn memory_steps(store_path: &Path, contacts: usize) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let store = open_when_free(store_path);
            let (open, _) = memory("self");
            let engine = start_in_process(context(store, contacts, None), EngineOptions::default());
            let answer = perform(&engine, &Request::Contacts).await;
            let (answered, answered_peak) = memory("self");
            let rows_bytes = match &answer {
                Answer::Contacts(rows) => rows
                    .iter()
                    .map(|row| {
                        std::mem::size_of_val(row)
                            + row.peer_id.capacity()
                            + row.name.capacity()
                            + row.ghl_id.as_ref().map_or(0, String::capacity)
                            + row.email.as_ref().map_or(0, String::capacity)
                            + row.phone.as_ref().map_or(0, String::capacity)
                    })
                    .sum::<usize>(),
                _ => 0,
            };
            let mut state = AppState::new(Mode::Live, PEER, false, Theme::colour());
            update(&mut state, Msg::Answer(answer));
            let (loaded, loaded_peak) = memory("self");
            drop(state);
            let (dropped, _) = memory("self");
            // SAFETY: malloc_trim only returns free heap memory to the system.
            unsafe {
                libc::malloc_trim(0);
            }
            let (trimmed, _) = memory("self");
            let _ = engine.call(Command::Shutdown).await;
            println!(
                "   memory, step by step: store open {open:.1} MB; engine's contact answer in hand {answered:.1} MB \
                 (peak {answered_peak:.1}; the rows themselves {:.1} MB); console state loaded {loaded:.1} MB (peak {loaded_peak:.1}); \
                 state dropped {dropped:.1} MB, after malloc_trim {trimmed:.1} MB (sled's cache and what is still live)",
                rows_bytes as f64 / 1e6
            );
        });
    }
}

/// 1, 4, 5, 6 from the parent's side of the pseudo-terminal.
mod pty {
    use super::*;

    pub struct Figures {
        pub first_frame_ms: f64,
        pub peak_mb: f64,
        pub current_mb: f64,
        pub idle_cpu_percent: f64,
        pub stream_bytes_per_sec: f64,
        pub stream_bytes_per_event: f64,
        pub stream_fps: f64,
    }

    /// The end of a synchronized update: a complete frame has been sent.
    const FRAME_END: &[u8] = b"\x1b[?2026l";

    struct Screen {
        parser: Mutex<vt100::Parser>,
        bytes: AtomicU64,
        frames: AtomicU64,
        /// Wall-clock time of the first complete frame with the contact list loaded.
        populated: Mutex<Option<SystemTime>>,
    }

    impl Screen {
        fn text(&self) -> String {
            lock(&self.parser).screen().contents()
        }
    }

    fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// "Contacts N/N" with N > 0 in the list's title: the rows are in.
    fn list_loaded(screen: &str, rows: usize) -> bool {
        screen.contains(&format!(" Contacts {rows}/{rows} "))
    }

    pub fn measure(dir: &Path, store: &Path, contacts: usize, rows: usize) -> Figures {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let start_file = dir.join("started");
        let mut cmd = CommandBuilder::new(std::env::current_exe().expect("this bench"));
        cmd.cwd(dir);
        cmd.env(CHILD_ENV, store);
        cmd.env(CONTACTS_ENV, contacts.to_string());
        cmd.env(START_ENV, &start_file);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("NO_COLOR");
        let mut child = pty.slave.spawn_command(cmd).expect("the console starts");
        drop(pty.slave);
        let pid = child.process_id().expect("the child's pid");
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let mut writer = pty.master.take_writer().expect("pty writer");
        let screen = Arc::new(Screen {
            parser: Mutex::new(vt100::Parser::new(ROWS, COLS, 0)),
            bytes: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            populated: Mutex::new(None),
        });
        let shared = screen.clone();
        let master = pty.master;
        let reading = std::thread::spawn(move || {
            let _master = master;
            let mut buf = vec![0u8; 64 * 1024];
            let mut matched = 0usize;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                shared.bytes.fetch_add(n as u64, Ordering::Relaxed);
                // Feed the parser frame by frame, looking at the screen at each frame's end.
                let mut from = 0;
                for (at, &byte) in buf[..n].iter().enumerate() {
                    matched = if byte == FRAME_END[matched] {
                        matched + 1
                    } else if byte == FRAME_END[0] {
                        1
                    } else {
                        0
                    };
                    if matched == FRAME_END.len() {
                        matched = 0;
                        let mut parser = lock(&shared.parser);
                        parser.process(&buf[from..=at]);
                        from = at + 1;
                        shared.frames.fetch_add(1, Ordering::Relaxed);
                        let mut populated = lock(&shared.populated);
                        if populated.is_none() && list_loaded(&parser.screen().contents(), rows) {
                            *populated = Some(SystemTime::now());
                        }
                    }
                }
                lock(&shared.parser).process(&buf[from..n]);
            }
        });

        let wait =
            |what: &str, child: &mut Box<dyn Child + Send + Sync>, test: &dyn Fn() -> bool| {
                let deadline = Instant::now() + Duration::from_secs(120);
                while !test() {
                    if let Ok(Some(status)) = child.try_wait() {
                        fail(
                            &format!("the console exited ({status:?}) waiting for {what}"),
                            &screen,
                        );
                    }
                    if Instant::now() > deadline {
                        fail(&format!("timed out waiting for {what}"), &screen);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            };

        // 1. Time to first frame.
        wait("the contact list", &mut child, &|| {
            lock(&screen.populated).is_some()
        });
        let populated = lock(&screen.populated).expect("seen");
        let start_text = std::fs::read_to_string(&start_file).unwrap_or_default();
        let mut start_fields = start_text.split_whitespace();
        let started: u128 = start_fields
            .next()
            .and_then(|text| text.parse().ok())
            .expect("the child's start time");
        let rss_before_runner: f64 = start_fields
            .next()
            .and_then(|text| text.parse().ok())
            .unwrap_or(0.0);
        let seen = populated
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let first_frame_ms = seen.saturating_sub(started) as f64 / 1e6;
        println!();
        println!(
            "1. time to first frame (real runner in a pty, {COLS}x{ROWS}, {rows} rows): {first_frame_ms:.0} ms (target <= 300 ms) = {:.2} of target",
            first_frame_ms / 300.0
        );

        // 4. Memory, once the start-up answers (log, status, failed queue) are in.
        wait("the header's failure count", &mut child, &|| {
            let text = screen.text();
            text.lines()
                .next()
                .and_then(|line| line.split("failures").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n > 0)
        });
        std::thread::sleep(Duration::from_secs(1));
        let (rss, hwm) = memory(&pid.to_string());
        println!(
            "   resident memory before the runner (store open, engine started, state empty): {rss_before_runner:.1} MB"
        );
        println!(
            "4. resident memory of the console process (state over {rows} contacts, engine and store open): \
             current {:.1} MB, peak {:.1} MB (target <= 150 MB) = {:.2} of target",
            rss,
            hwm,
            hwm / 150.0
        );

        // 5. Idle: no input, no engine events, the contact list on screen.
        let (cpu_before, ns_before) = cpu(pid);
        let bytes_before = screen.bytes.load(Ordering::Relaxed);
        let frames_before = screen.frames.load(Ordering::Relaxed);
        let window = Instant::now();
        std::thread::sleep(Duration::from_secs(IDLE_SECS));
        let elapsed = window.elapsed().as_secs_f64();
        let (cpu_after, ns_after) = cpu(pid);
        let idle_ticks = cpu_after - cpu_before;
        let idle_ns = ns_after.zip(ns_before).map(|(a, b)| a.saturating_sub(b));
        // schedstat counts nanoseconds; stat counts 10 ms ticks.
        let idle_cpu_percent = match idle_ns {
            Some(ns) => ns as f64 / 1e9 / elapsed * 100.0,
            None => idle_ticks as f64 / 100.0 / elapsed * 100.0,
        };
        println!(
            "5. idle CPU over {elapsed:.1} s: {idle_cpu_percent:.3} % of a core ({} ms by schedstat, {} ticks of 10 ms by stat), \
             {} bytes and {} frames written (target <= 0.5 %) = {:.2} of target",
            idle_ns.map_or("n/a".to_string(), |ns| format!("{:.1}", ns as f64 / 1e6)),
            idle_ticks,
            screen.bytes.load(Ordering::Relaxed) - bytes_before,
            screen.frames.load(Ordering::Relaxed) - frames_before,
            idle_cpu_percent / 0.5
        );

        // 6. The sync log while 100 events a second stream in.
        send(&mut writer, b"6");
        wait("the sync log", &mut child, &|| {
            screen.text().contains("Sync log")
        });
        std::thread::sleep(Duration::from_millis(500));
        let (cpu_before, ns_before) = cpu(pid);
        let bytes_before = screen.bytes.load(Ordering::Relaxed);
        let frames_before = screen.frames.load(Ordering::Relaxed);
        let window = Instant::now();
        // SAFETY: kill() only sends a signal to our own child, whose handler is installed.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGUSR1);
        }
        std::thread::sleep(Duration::from_secs(STREAM_SECS) + Duration::from_millis(100));
        let elapsed = window.elapsed().as_secs_f64();
        let bytes = screen.bytes.load(Ordering::Relaxed) - bytes_before;
        let frames = screen.frames.load(Ordering::Relaxed) - frames_before;
        let (cpu_after, ns_after) = cpu(pid);
        let events = (STREAM_RATE * STREAM_SECS) as f64;
        let stream_cpu = match ns_after.zip(ns_before) {
            Some((a, b)) => a.saturating_sub(b) as f64 / 1e9,
            None => (cpu_after - cpu_before) as f64 / 100.0,
        };
        let stream_bytes_per_sec = bytes as f64 / STREAM_SECS as f64;
        let stream_bytes_per_event = bytes as f64 / events;
        let stream_fps = frames as f64 / STREAM_SECS as f64;
        println!(
            "6. sync log streaming {STREAM_RATE} events/s for {STREAM_SECS} s (window {elapsed:.1} s): {bytes} bytes = \
             {stream_bytes_per_sec:.0} bytes/s, {stream_bytes_per_event:.0} bytes per event, {frames} frames = {stream_fps:.1} frames/s \
             ({:.0} bytes per frame); console CPU {:.1} % of a core",
            bytes as f64 / frames.max(1) as f64,
            stream_cpu / elapsed * 100.0
        );
        let last_line = screen
            .text()
            .lines()
            .nth(usize::from(ROWS) - 3)
            .unwrap_or("")
            .trim_end()
            .to_string();
        println!("   last log line on screen: {last_line:?}");
        let (rss_after, hwm_after) = memory(&pid.to_string());
        println!("   memory after the stream: current {rss_after:.1} MB, peak {hwm_after:.1} MB");

        send(&mut writer, b"q");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    if !status.success() {
                        fail(&format!("the console exited with {status:?}"), &screen);
                    }
                    break;
                }
                _ if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let _ = reading.join();
        Figures {
            first_frame_ms,
            peak_mb: hwm.max(hwm_after),
            current_mb: rss,
            idle_cpu_percent,
            stream_bytes_per_sec,
            stream_bytes_per_event,
            stream_fps,
        }
    }

    fn fail(what: &str, screen: &Screen) -> ! {
        panic!("console bench: {what}; screen:\n{}", screen.text())
    }

    fn send(writer: &mut Box<dyn Write + Send>, bytes: &[u8]) {
        writer.write_all(bytes).expect("write to the pty");
        writer.flush().expect("flush the pty");
    }

    /// CPU of `pid`: utime + stime in ticks (/proc/PID/stat), and the run time of its live
    /// threads in nanoseconds (/proc/PID/task/*/schedstat) when the kernel keeps it.
    fn cpu(pid: u32) -> (u64, Option<u64>) {
        let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
                Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0);
        let ns = std::fs::read_dir(format!("/proc/{pid}/task"))
            .ok()
            .and_then(|tasks| {
                let mut sum = 0u64;
                for task in tasks.flatten() {
                    let text = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
                    sum += text.split_whitespace().next()?.parse::<u64>().ok()?;
                }
                Some(sum)
            });
        (ticks, ns)
    }
}

/// 2 and 3: the reducer and the views in this process, fed by a real engine over the store.
mod in_process {
    use super::*;
    use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};

    pub struct RenderFigure {
        pub screen: &'static str,
        pub mean_ms: f64,
        pub p99_ms: f64,
    }

    pub struct Figures {
        pub render: Vec<RenderFigure>,
        pub filter_mean_ms: f64,
        pub filter_max_ms: f64,
    }

    struct App {
        state: AppState,
        engine: EngineHandle,
        keymap: Keymap,
    }

    impl App {
        /// Performs effects until none are left, feeding each answer back (console_app style).
        async fn run(&mut self, effects: Vec<Effect>) {
            let mut queue: VecDeque<Effect> = effects.into();
            while let Some(effect) = queue.pop_front() {
                if let Effect::Call(request) = effect {
                    let mut answer = perform(&self.engine, &request).await;
                    if let Answer::Detail(detail) = &mut answer {
                        with_ghl_half(detail);
                    }
                    queue.extend(update(&mut self.state, Msg::Answer(answer)));
                }
            }
        }

        async fn act(&mut self, action: Action) {
            let effects = update(&mut self.state, Msg::Action(action));
            self.run(effects).await;
        }
    }

    /// The bench has no GHL: the detail's GHL record is the contact's baseline fields (what
    /// GHL held at the last sync), so the screen draws both records as it would live.
    fn with_ghl_half(detail: &mut ghlsync::console::engine_api::ContactDetail) {
        let index = detail
            .peer_id
            .strip_prefix('C')
            .and_then(|n| n.parse::<usize>().ok());
        if let (Some(i), Some(id)) = (index, detail.ghl_id.clone()) {
            let mut fields = seed::ghl_fields(i);
            fields.insert("id".into(), json!(id));
            detail.ghl = Some(Value::Object(fields));
            detail.problems.clear();
        }
    }

    pub async fn measure(store_path: &Path, contacts: usize) -> Figures {
        let store = open_when_free(store_path);
        let engine = start_in_process(context(store, contacts, None), EngineOptions::default());
        let (keymap, _) = Keymap::builtin();
        let mut state = AppState::new(Mode::Live, PEER, false, Theme::colour());
        state.help = help_sections(&keymap, false);
        state.size = (COLS, ROWS);
        let mut app = App {
            state,
            engine,
            keymap,
        };

        // Where time to first frame goes, piece by piece (the pty figure is the whole).
        let started = Instant::now();
        let answer = perform(&app.engine, &Request::Contacts).await;
        let query = started.elapsed();
        let started = Instant::now();
        update(&mut app.state, Msg::Answer(answer));
        let fold = started.elapsed();
        let mut terminal = Terminal::new(TestBackend::new(COLS, ROWS)).expect("terminal");
        let started = Instant::now();
        terminal
            .draw(|frame| render(&app.state, frame))
            .expect("draw");
        let first = started.elapsed();
        println!(
            "   first frame in pieces (in process): engine contacts query {:.0} ms, update(Answer::Contacts) {:.0} ms, first render {:.2} ms",
            query.as_secs_f64() * 1000.0,
            fold.as_secs_f64() * 1000.0,
            first.as_secs_f64() * 1000.0
        );

        // The state a person has after a while: everything loaded, the live log full.
        let effects = init(&mut app.state, false);
        app.run(effects).await;
        let live = ghlsync::console::state::log::LOG_CAPACITY;
        let base = Utc::now() - ChronoDuration::seconds(60);
        let started = Instant::now();
        for k in 0..live {
            let at = base + ChronoDuration::milliseconds(k as i64 * 10);
            let entry = seed::log_entry(seed::LOG_ENTRIES + k, contacts, at);
            // Reloads these may ask for (a new failure) are left unperformed.
            let _ = update(&mut app.state, Msg::Log(entry));
        }
        let per_event = started.elapsed().as_secs_f64() * 1e6 / live as f64;
        println!(
            "   update(Msg::Log) with {} contact rows: {per_event:.1} µs per live event",
            app.state.contacts.rows.len()
        );
        app.state
            .contacts
            .select_peer(&seed::peer_id(seed::DETAIL_CONTACT));

        // 2. Render time per screen.
        println!();
        println!(
            "2. render per frame at {COLS}x{ROWS} (views::render through TestBackend, {FRAMES} frames, the cursor moving): \
             target <= 2 ms"
        );
        let screens: [(&'static str, Screen); 9] = [
            ("contacts", Screen::Contacts),
            ("detail", Screen::Detail),
            ("tasks (all contacts)", Screen::Tasks),
            ("notes (all contacts)", Screen::Notes),
            ("appointments (all)", Screen::Appointments),
            ("mapping", Screen::Mapping),
            ("sync log", Screen::SyncLog),
            ("failures", Screen::Failures),
            ("status", Screen::Status),
        ];
        let mut render_figures = Vec::new();
        for (name, screen) in screens {
            app.act(Action::Focus(FocusTarget::Screen(screen))).await;
            if matches!(screen, Screen::Tasks) {
                // The all-contacts scope: the store's list, a page at a time.
                app.act(Action::ChildrenScopeToggle).await;
            }
            if screen == Screen::Detail || screen.is_children() {
                app.state
                    .contacts
                    .select_peer(&seed::peer_id(seed::DETAIL_CONTACT));
            }
            let (wall, cpu) = frames(&mut app.state, &mut terminal, FRAMES);
            let (mean_ms, p99_ms, max_ms) = stats_ms(wall);
            let (cpu_mean, cpu_p99, _) = stats_ms(cpu);
            println!(
                "   {name:<22} mean {mean_ms:.3} ms  p99 {p99_ms:.3} ms  max {max_ms:.3} ms  (CPU mean {cpu_mean:.3}, p99 {cpu_p99:.3})  \
                 = {:.2} of target (p99)  [{}]",
                p99_ms / 2.0,
                describe(&app.state, screen)
            );
            render_figures.push(RenderFigure {
                screen: name,
                mean_ms,
                p99_ms,
            });
        }

        // 3. Filter latency per keystroke on the contact list.
        app.act(Action::Focus(FocusTarget::Screen(Screen::Contacts)))
            .await;
        let mut samples = Vec::new();
        let mut first_run = Vec::new();
        for run in 0..FILTER_RUNS {
            press(&mut app, &mut terminal, KeyCode::Char('/'));
            for c in FILTER_TEXT.chars() {
                let took = press(&mut app, &mut terminal, KeyCode::Char(c));
                samples.push(took);
                if run == 0 {
                    first_run.push((c, took, app.state.contacts.visible.len()));
                }
            }
            // Esc: the prompt closes and the filter clears (not timed).
            press(&mut app, &mut terminal, KeyCode::Esc);
            if !app.state.contacts.filter.is_empty() {
                app.state.contacts.set_filter("");
            }
        }
        let (mean_ms, _, max_ms) = stats_ms(samples.clone());
        println!();
        println!(
            "3. filter latency per keystroke, {FILTER_TEXT:?} typed {FILTER_RUNS} times into the contact filter \
             (keymap -> update -> frame; the filter runs in the console, no engine call): \
             mean {mean_ms:.2} ms, max {max_ms:.2} ms (target <= 15 ms) = {:.2} of target (max)",
            max_ms / 15.0
        );
        let line: Vec<String> = first_run
            .iter()
            .map(|(c, took, rows)| format!("{c} {:.2} ms ({rows})", took.as_secs_f64() * 1000.0))
            .collect();
        println!("   first run, per key (rows shown): {}", line.join(", "));
        let _ = app.engine.call(Command::Shutdown).await;
        Figures {
            render: render_figures,
            filter_mean_ms: mean_ms,
            filter_max_ms: max_ms,
        }
    }

    /// One key as the runner handles it: keymap → messages → update, then a frame.
    fn press(app: &mut App, terminal: &mut Terminal<TestBackend>, code: KeyCode) -> Duration {
        let event = TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE));
        let started = Instant::now();
        let mut pending = Vec::new();
        let msgs = runner::keys::messages(&app.keymap, &app.state, &mut pending, event);
        for msg in msgs {
            for effect in update(&mut app.state, msg) {
                assert!(
                    !matches!(effect, Effect::Call(_)),
                    "the filter asked the engine: {effect:?}"
                );
            }
        }
        terminal
            .draw(|frame| render(&app.state, frame))
            .expect("draw");
        started.elapsed()
    }

    /// Times `count` frames; between frames (untimed) the cursor moves down, then up.
    /// Times `count` frames (wall clock and this thread's CPU time); between frames (untimed)
    /// the cursor moves down, then up.
    fn frames(
        state: &mut AppState,
        terminal: &mut Terminal<TestBackend>,
        count: usize,
    ) -> (Vec<Duration>, Vec<Duration>) {
        for _ in 0..20 {
            terminal.draw(|frame| render(state, frame)).expect("draw");
        }
        (0..count)
            .map(|n| {
                let motion = if n % 2 == 0 { Motion::Down } else { Motion::Up };
                let _ = update(state, Msg::Action(Action::Move(motion)));
                let (started, cpu) = (Instant::now(), thread_cpu());
                terminal.draw(|frame| render(state, frame)).expect("draw");
                (started.elapsed(), thread_cpu().saturating_sub(cpu))
            })
            .unzip()
    }

    /// CPU time of the calling thread: separates work from time the machine took away.
    fn thread_cpu() -> Duration {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec through a valid pointer.
        unsafe {
            libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now);
        }
        Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    }

    fn describe(state: &AppState, screen: Screen) -> String {
        match screen {
            Screen::Contacts => format!("{} rows", state.contacts.rows.len()),
            Screen::Detail => state
                .detail
                .detail
                .as_ref()
                .map_or("not loaded".into(), |d| {
                    format!(
                        "{}: {} mapped fields, {} history entries",
                        d.peer_id,
                        d.preview.len(),
                        d.history.len()
                    )
                }),
            Screen::Tasks => format!(
                "{} of {} loaded",
                state.children.tasks.rows.len(),
                state.children.tasks.total
            ),
            Screen::Notes => format!(
                "{} of {} loaded",
                state.children.notes.rows.len(),
                state.children.notes.total
            ),
            Screen::Appointments => format!(
                "{} of {} loaded",
                state.children.appointments.rows.len(),
                state.children.appointments.total
            ),
            Screen::Mapping => format!(
                "{} lines, {} preview rows",
                state.mapping.text().lines().count(),
                state.mapping.preview.len()
            ),
            Screen::SyncLog => format!("{} entries", state.log.entries.len()),
            Screen::Failures => format!("{} operations", state.failures.operations.len()),
            Screen::Status => format!(
                "{} runs",
                state.status.as_ref().map_or(0, |s| s.last_runs.len())
            ),
        }
    }
}
