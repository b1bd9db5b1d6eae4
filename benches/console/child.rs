//! The console process in the pseudo-terminal: the real runner over the seeded store.
use super::*;

pub fn run(store_path: PathBuf) {
    let contacts: usize = std::env::var(CONTACTS_ENV)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let start_file = std::env::var(START_ENV).map(PathBuf::from).ok();
    // As `ghlsync console` does before its threads start.
    ghlsync::allocator::tune(ghlsync::allocator::Workload::Console);
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
        let mut go = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
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
        let _ = tokio::time::timeout(Duration::from_secs(2), engine.call(Command::Shutdown)).await;
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
