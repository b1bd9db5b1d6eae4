//! The console's app loop without a terminal: a real engine over the sandboxes, messages fed
//! to `update`, effects performed by the runner's own executor (`runner::effects::perform`).

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Harness;
use common::sync::repsly_settings;
use ghlsync::console::action::{Action, FocusTarget, PromptKind, RetryTarget};
use ghlsync::console::msg::{Effect, Msg};
use ghlsync::console::runner::effects::perform;
use ghlsync::console::state::{AppState, ChildScope, Mode, Screen, SyncPhase};
use ghlsync::console::theme::Theme;
use ghlsync::console::update::{init, update};
use ghlsync::engine::{EngineHandle, EngineOptions, Event, start_in_process};
use ghlsync::peers::EntityKind;
use ghlsync::peers::repsly::RepslyPeer;
use ghlsync::store::{Action as StoreAction, Direction, Store};
use ghlsync::sync::SyncContext;
use ghlsync::sync::mapping::Mapping;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast;

struct App {
    state: AppState,
    engine: EngineHandle,
    events: broadcast::Receiver<Event>,
    quit: bool,
}

impl App {
    /// Performs effects until none are left, feeding each answer and any live log events back.
    async fn run(&mut self, effects: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            match effect {
                Effect::Call(request) => {
                    let answer = perform(&self.engine, &request).await;
                    self.drain_events();
                    queue.extend(update(&mut self.state, Msg::Answer(answer)));
                }
                Effect::Quit => self.quit = true,
                Effect::Suspend | Effect::ClearScreen | Effect::Copy(_) => {}
                Effect::ListInstances | Effect::SwitchInstance { .. } => {}
            }
        }
    }

    fn drain_events(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            if let Event::Log { entry } = event {
                // Reloads these trigger are performed by the next `run`.
                let _ = update(&mut self.state, Msg::Log(entry));
            }
        }
    }

    async fn act(&mut self, action: Action) {
        let effects = update(&mut self.state, Msg::Action(action));
        self.run(effects).await;
    }
}

async fn start(h: &Harness, dir: &tempfile::TempDir) -> App {
    let store = Store::open(&dir.path().join("store")).expect("store opens");
    let ctx = SyncContext {
        store,
        ghl: h.client(),
        peer: Arc::new(RepslyPeer::new(repsly_settings(h)).expect("repsly peer")),
        mapping: Mapping::builtin("repsly").expect("built-in mapping"),
        settings: Default::default(),
        events: None,
    };
    let engine = start_in_process(ctx, EngineOptions::default());
    App {
        state: AppState::new(Mode::Sandbox, "repsly", false, Theme::monochrome()),
        events: engine.subscribe(),
        engine,
        quit: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_start_fills_the_console_and_a_failure_can_be_retried_and_skipped() {
    let h = Harness::start(300).await;
    h.create_mapping_fields(None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = start(&h, &dir).await;

    // Start-up as in demo mode: load everything, sync at once.
    let effects = init(&mut app.state, true);
    app.run(effects).await;
    assert_eq!(app.state.sync, SyncPhase::Idle, "the first run ended");
    assert!(
        app.state.contacts.rows.len() >= 250,
        "the contacts list filled: {}",
        app.state.contacts.rows.len()
    );
    assert!(!app.state.log.entries.is_empty(), "the live log moved");

    // The filter finds a contact by its company even when the list names it by its person.
    let (peer_id, company) = app
        .state
        .contacts
        .rows
        .iter()
        .find_map(|row| {
            let company = row.company.clone()?;
            // Only the company can match: a word of it is in neither the name nor the email.
            let elsewhere =
                format!("{} {}", row.name, row.email.as_deref().unwrap_or("")).to_lowercase();
            let only_in_company = company
                .to_lowercase()
                .split_whitespace()
                .any(|word| !elsewhere.contains(word));
            only_in_company.then(|| (row.peer_id.clone(), company))
        })
        .expect("a contact whose company is not its name");
    app.act(Action::Prompt(PromptKind::Filter)).await;
    let effects = update(&mut app.state, Msg::Paste(company.clone()));
    app.run(effects).await;
    let contacts = &app.state.contacts;
    assert!(
        contacts
            .visible
            .iter()
            .any(|&i| contacts.rows[i].peer_id == peer_id),
        "filtering by {company:?} finds {peer_id:?}"
    );
    app.act(Action::Back).await;
    assert_eq!(app.state.contacts.filter, "");
    assert!(app.state.status.is_some());
    let failures = app.state.failures.operations.len();
    assert!(failures > 0, "the seed's dirty data fails somewhere");

    // Open a contact: the detail comes back with both records.
    app.act(Action::Focus(FocusTarget::Screen(Screen::Contacts)))
        .await;
    app.act(Action::Select).await;
    assert_eq!(app.state.screen(), Screen::Detail);
    let detail = app.state.detail.detail.as_ref().expect("detail loaded");
    assert!(detail.peer.is_some(), "the peer record is shown");

    // Every contact's tasks (the engine's children query), each row naming its contact.
    app.act(Action::Focus(FocusTarget::Screen(Screen::Tasks)))
        .await;
    assert_eq!(app.state.children.scope, ChildScope::Contact);
    app.act(Action::ChildrenScopeToggle).await;
    assert_eq!(app.state.stack, vec![Screen::Tasks]);
    let tasks = &app.state.children.tasks;
    assert!(
        tasks.loaded && !tasks.rows.is_empty() && tasks.total >= tasks.rows.len(),
        "tasks of all contacts: {} of {}",
        tasks.rows.len(),
        tasks.total
    );
    assert!(tasks.problems.is_empty(), "{:?}", tasks.problems);
    let named = tasks
        .rows
        .iter()
        .filter(|row| row.contact_name.is_some())
        .count();
    assert_eq!(named, tasks.rows.len(), "every task names its contact");
    let contact = tasks.rows[0].contact_peer_id.clone();
    // Enter on a task opens its contact.
    app.act(Action::Select).await;
    assert_eq!(app.state.screen(), Screen::Detail);
    assert_eq!(app.state.detail.peer_id().map(str::to_string), contact);

    // A GHL → peer contact failure: `c` opens its contact by GHL id, whether or not the peer
    // has a record of it yet, and the contact list finds it by that id.
    app.act(Action::Focus(FocusTarget::Screen(Screen::Failures)))
        .await;
    let position = app
        .state
        .failures
        .visible_ops()
        .position(|op| {
            op.direction == Direction::ToPeer
                && op.kind == EntityKind::Contact
                && op.action == StoreAction::Create
        })
        .expect("the demo's nameless GHL contacts fail to reach the peer");
    app.state.failures.selected = position;
    let ghl_id = app
        .state
        .failures
        .selected_op()
        .map(|op| op.source_id.clone())
        .expect("a failure");
    app.act(Action::JumpContact).await;
    assert_eq!(app.state.screen(), Screen::Detail);
    let detail = app
        .state
        .detail
        .detail
        .as_ref()
        .expect("the detail came back");
    assert_eq!(detail.ghl_id.as_deref(), Some(ghl_id.as_str()));
    assert!(
        detail.ghl.is_some(),
        "GHL's record is shown: {:?}",
        detail.problems
    );
    assert_eq!(detail.peer_id, None, "the peer has no record of it yet");
    assert!(detail.peer.is_none() && detail.preview.is_empty());
    assert!(
        detail
            .history
            .iter()
            .any(|entry| entry.ghl_id.as_deref() == Some(ghl_id.as_str())),
        "its history holds the failed write"
    );
    assert_eq!(
        app.state
            .contacts
            .selected_row()
            .and_then(|row| row.ghl_id.as_deref()),
        Some(ghl_id.as_str()),
        "the contact list has it, by GHL id"
    );
    app.state.failures.selected = 0;

    // Retry the first failure: the round trip completes and the queue is read again.
    app.act(Action::Focus(FocusTarget::Screen(Screen::Failures)))
        .await;
    let id = app
        .state
        .failures
        .selected_op()
        .map(|op| op.id)
        .expect("a failure");
    app.act(Action::Retry {
        target: RetryTarget::Selected,
        original: false,
    })
    .await;
    let flash = app.state.flash.clone().expect("a result flash");
    assert!(flash.text.starts_with("retried:"), "{}", flash.text);

    // Skip it (dangerous: confirm first), and it leaves the queue.
    let still_there = app
        .state
        .failures
        .operations
        .iter()
        .position(|op| op.id == id);
    if let Some(index) = still_there {
        app.state.failures.selected = index;
        app.act(Action::Skip).await;
        app.act(Action::ConfirmYes).await;
        assert!(
            app.state.failures.operations.iter().all(|op| op.id != id),
            "skipped operation left the queue"
        );
    }

    // The mapping editor loads the mapping in force and the engine checks it.
    app.act(Action::Focus(FocusTarget::Screen(Screen::Mapping)))
        .await;
    assert!(app.state.mapping.loaded);
    assert!(app.state.mapping.checked, "the engine answered the check");
    assert_eq!(app.state.mapping.problem, None);

    app.act(Action::Quit).await;
    assert!(app.quit);
    let _ = app.engine.call(ghlsync::engine::Command::Shutdown).await;
}

/// `s` on a contact: "one contact now" through the engine (`Command::SyncContact`); a GHL
/// change reaches the peer and the bottom line counts it; a second `s` writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s_on_a_contact_syncs_it_now_and_says_what_it_wrote() {
    let h = Harness::start(60).await;
    h.create_mapping_fields(None).await;
    h.admin_post("repsly/settings", serde_json::json!({"importDelayMs": 0}))
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = start(&h, &dir).await;
    let effects = init(&mut app.state, true);
    app.run(effects).await;
    assert_eq!(app.state.sync, SyncPhase::Idle, "the first run ended");

    app.act(Action::Focus(FocusTarget::Screen(Screen::Contacts)))
        .await;
    let contacts = &app.state.contacts;
    let position = contacts
        .visible
        .iter()
        .position(|&i| {
            let row = &contacts.rows[i];
            row.peer_id.is_some() && row.ghl_id.is_some()
        })
        .expect("a linked contact");
    app.state.contacts.selected = position;
    let row = app.state.contacts.selected_row().cloned().expect("a row");
    let (peer_id, ghl_id) = (row.peer_id.unwrap(), row.ghl_id.unwrap());
    h.client()
        .update_contact(
            &ghl_id,
            &ghlsync::ghl::models::UpdateContactDto {
                city: Some("Sync Now City".into()),
                ..Default::default()
            },
        )
        .await
        .expect("GHL takes the edit");

    let writes = common::sync::sandbox_writes(&h, common::sync::Routes::All).await;
    app.act(Action::SyncContact).await;
    let flash = app.state.flash.clone().expect("a flash line").text;
    assert!(
        flash.starts_with(&format!(
            "contact GHL id {ghl_id} synced (repsly): 1 written"
        )),
        "{flash}"
    );
    assert!(common::sync::sandbox_writes(&h, common::sync::Routes::All).await > writes);
    let dump = h.dump().await;
    let city = dump["repsly"]["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["Code"] == peer_id.as_str())
        .map(|c| c["City"].clone());
    assert_eq!(
        city,
        Some(serde_json::json!("Sync Now City")),
        "the peer has it"
    );

    // Already in sync: nothing written.
    let writes = common::sync::sandbox_writes(&h, common::sync::Routes::All).await;
    app.act(Action::SyncContact).await;
    let flash = app.state.flash.clone().expect("a flash line").text;
    assert!(flash.contains(": 0 written"), "{flash}");
    assert_eq!(
        common::sync::sandbox_writes(&h, common::sync::Routes::All).await,
        writes
    );
    let _ = app.engine.call(ghlsync::engine::Command::Shutdown).await;
}
