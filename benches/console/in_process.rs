//! 2 and 3: the reducer and the views in this process, fed by a real engine over the store.
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
        .as_deref()
        .and_then(|id| id.strip_prefix('C'))
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

    // Where time to first frame goes, piece by piece (the pty figure is the whole): the first
    // page, folded and drawn; then the whole list, folded.
    let timed = |started: Instant| started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let answer = perform(&app.engine, &Request::first_contacts()).await;
    let first_query = timed(started);
    let started = Instant::now();
    let effects = update(&mut app.state, Msg::Answer(answer));
    let first_fold = timed(started);
    let mut terminal = Terminal::new(TestBackend::new(COLS, ROWS)).expect("terminal");
    let started = Instant::now();
    terminal
        .draw(|frame| render(&app.state, frame))
        .expect("draw");
    let first_render = timed(started);
    let Some(Effect::Call(rest)) = effects.first() else {
        panic!("the first page asks for the rest: {effects:?}");
    };
    let started = Instant::now();
    let answer = perform(&app.engine, rest).await;
    let whole_query = timed(started);
    let started = Instant::now();
    update(&mut app.state, Msg::Answer(answer));
    let whole_fold = timed(started);
    println!(
        "   first frame in pieces (in process): first page query {first_query:.1} ms, update {first_fold:.2} ms, render {first_render:.2} ms; \
         then the whole list: query {whole_query:.0} ms, update {whole_fold:.0} ms"
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
                    d.peer_id.as_deref().unwrap_or("—"),
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
        Screen::Alerts => format!("{} alerts", state.alerts.len()),
    }
}
