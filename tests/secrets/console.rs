//! The console's screens, and the read-only engine handle.

use crate::common::Harness;
use crate::leaks::assert_clean;
use serde_json::json;

/// The console's screens over a store with failures, drawn headless at 80×24 and 240×70: no
/// secret in any buffer. Then the engine itself, behind a read-only handle (what `--read-only`
/// gives the console), refuses every write however it is asked, and still answers reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_screens_show_no_secret_and_a_read_only_engine_refuses_writes() {
    use crate::common::sync::{Routes, context, sandbox_writes};
    use ghlsync::console::action::{Action, FocusTarget};
    use ghlsync::console::msg::{Effect, Msg};
    use ghlsync::console::runner::effects::perform;
    use ghlsync::console::screen::Screen;
    use ghlsync::console::state::{AppState, Mode};
    use ghlsync::console::theme::Theme;
    use ghlsync::console::update::{init, update};
    use ghlsync::engine::{Command, ContactRef, EngineOptions, Reply, start_in_process};
    use ghlsync::sync::failed::{RetryMode, Selection};

    let h = Harness::start(120).await;
    h.create_mapping_fields(None).await;
    h.admin_post("repsly/settings", json!({"importDelayMs": 0}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let store = ghlsync::store::Store::open(&dir.path().join("store")).unwrap();
    let ctx = context(&h, store, Default::default(), None);
    let engine = start_in_process(ctx, EngineOptions::default());
    h.admin_post(
        "faults",
        json!({"rate": 0.2, "kinds": ["status500", "html502", "write422"]}),
    )
    .await;
    let mut state = AppState::new(Mode::Live, "repsly", false, Theme::monochrome());
    let mut queue: std::collections::VecDeque<Effect> = init(&mut state, true).into();
    let act = |state: &mut AppState, action: Action| update(state, Msg::Action(action));
    let mut frames = Vec::new();
    let draw = |state: &AppState, frames: &mut Vec<(String, String)>, what: &str| {
        for (width, height) in [(80, 24), (240, 70)] {
            let mut terminal =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
            terminal
                .draw(|frame| ghlsync::console::views::render(state, frame))
                .unwrap();
            let buffer = terminal.backend().buffer();
            let text: String = buffer
                .content()
                .chunks(usize::from(width))
                .map(|row| row.iter().map(|cell| cell.symbol()).collect::<String>() + "\n")
                .collect();
            frames.push((format!("{what} at {width}×{height}"), text));
        }
    };
    // Every tab, and Alerts, which sits under Status.
    let screens = Screen::TABS.into_iter().chain([Screen::Alerts]);
    let mut steps: Vec<Action> = Vec::new();
    for screen in screens {
        steps.push(Action::Focus(FocusTarget::Screen(screen)));
        if matches!(screen, Screen::Contacts | Screen::Failures) {
            steps.push(Action::Select);
            steps.push(Action::Back);
        }
    }
    let mut step = 0;
    loop {
        while let Some(effect) = queue.pop_front() {
            if let Effect::Call(request) = effect {
                let answer = perform(&engine, &request).await;
                queue.extend(update(&mut state, Msg::Answer(answer)));
            }
        }
        let Some(action) = steps.get(step).cloned() else {
            break;
        };
        draw(
            &state,
            &mut frames,
            &format!("{:?} before {action:?}", state.screen()),
        );
        if step == 0 {
            // The first run happened under faults; the rest is read without them.
            h.admin_post("faults", json!({"rate": 0.0})).await;
        }
        queue.extend(act(&mut state, action));
        step += 1;
    }
    draw(&state, &mut frames, "the last screen");
    assert!(
        !state.failures.operations.is_empty(),
        "the runs left failures to show"
    );
    assert!(
        frames
            .iter()
            .any(|(_, text)| text.contains("Failure #") && text.contains("message")),
        "a failure was drawn in full, its error message too"
    );
    let known = vec![
        (
            "ghl_token".to_string(),
            h.sandbox.token.expose().to_string(),
        ),
        (
            "repsly_password".to_string(),
            h.sandbox.repsly_password.expose().to_string(),
        ),
    ];
    for (what, text) in &frames {
        assert_clean(what, text, &known);
    }

    // Read-only: every writer refused by the engine's door, nothing sent anywhere.
    let read_only = engine.clone().read_only();
    let before = sandbox_writes(&h, Routes::All).await;
    let contact = state
        .contacts
        .rows
        .iter()
        .find_map(|row| row.peer_id.clone())
        .expect("a contact with a peer id");
    for command in [
        Command::Sync {
            options: Default::default(),
        },
        Command::Retry {
            selection: Selection::All,
            mode: RetryMode::CurrentMapping,
        },
        Command::Close {
            selection: Selection::All,
            resolved: false,
        },
        Command::SyncContact {
            contact: ContactRef::Peer(contact),
        },
        Command::UndoMapping,
        Command::Drain,
    ] {
        let what = format!("{command:?}");
        match read_only.call(command).await.unwrap() {
            Reply::Error { class, message } => {
                assert_eq!(class, "read_only", "{what}: {message}");
                assert!(message.contains("--read-only"), "{message}");
            }
            other => panic!("{what} was not refused: {other:?}"),
        }
    }
    assert_eq!(sandbox_writes(&h, Routes::All).await, before);
    let queued = state.failures.operations.len();
    match read_only.call(Command::FailedQueue).await.unwrap() {
        Reply::FailedQueue { operations } => assert_eq!(operations.len(), queued),
        other => panic!("a read was refused: {other:?}"),
    }
    // The same engine through a writable handle still writes: the refusal is the handle's.
    match engine
        .call(Command::Sync {
            options: Default::default(),
        })
        .await
        .unwrap()
    {
        Reply::Run { .. } | Reply::Runs { .. } => {}
        other => panic!("a normal handle's sync: {other:?}"),
    }
}
