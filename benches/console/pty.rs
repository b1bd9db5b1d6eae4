//! 1, 4, 5, 6 from the parent's side of the pseudo-terminal.
use super::*;

pub struct Figures {
    pub first_frame_ms: f64,
    pub whole_list_ms: f64,
    pub peak_mb: f64,
    pub current_mb: f64,
    pub idle_cpu_percent: f64,
    /// The 10 s after the first idle window.
    pub idle_cpu_later: f64,
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
    /// Wall-clock time of the first complete frame counting every contact.
    whole: Mutex<Option<SystemTime>>,
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

/// "Contacts N/M" with M > 0: contact rows are on screen (the first page, or all of them).
fn rows_on_screen(screen: &str) -> bool {
    // The list's title on its border (the breadcrumb line also says "Contacts").
    screen
        .split_once("┌ Contacts ")
        .and_then(|(_, rest)| rest.split_once('/'))
        .and_then(|(_, rest)| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<usize>().ok()
        })
        .is_some_and(|shown| shown > 0)
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
    let spawned = SystemTime::now();
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
        whole: Mutex::new(None),
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
                    let text = parser.screen().contents();
                    let mut populated = lock(&shared.populated);
                    if populated.is_none() && rows_on_screen(&text) {
                        *populated = Some(SystemTime::now());
                    }
                    let mut whole = lock(&shared.whole);
                    if whole.is_none() && list_loaded(&text, rows) {
                        *whole = Some(SystemTime::now());
                    }
                }
            }
            lock(&shared.parser).process(&buf[from..n]);
        }
    });

    let wait = |what: &str, child: &mut Box<dyn Child + Send + Sync>, test: &dyn Fn() -> bool| {
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
    let since_start = |at: SystemTime| {
        at.duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .saturating_sub(started) as f64
            / 1e6
    };
    let first_frame_ms = since_start(populated);
    wait("every contact", &mut child, &|| {
        lock(&screen.whole).is_some()
    });
    let whole_list_ms = since_start(lock(&screen.whole).expect("seen"));
    println!();
    println!(
        "1. time to first frame (real runner in a pty, {COLS}x{ROWS}, {rows} rows): {first_frame_ms:.0} ms (target <= 300 ms) = {:.2} of target",
        first_frame_ms / 300.0
    );
    println!(
        "   the first frame shows the list's first {FIRST_CONTACTS} rows in name order; every row loaded and counted on screen ({rows}/{rows}) at {whole_list_ms:.0} ms"
    );
    let from_spawn = populated
        .duration_since(spawned)
        .unwrap_or_default()
        .as_secs_f64()
        * 1000.0;
    println!(
        "   from the process's start (exec, store open, engine start included): first frame at {from_spawn:.0} ms"
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

    // 5. Idle: no input, no engine events, the contact list on screen. Two windows: the first
    // starts a second after the list loaded; the second follows it.
    let first = idle_window(pid, &screen, "5. idle CPU");
    let second = idle_window(pid, &screen, "   idle CPU, the next window");
    let idle_cpu_percent = first;
    let idle_cpu_later = second;

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
        whole_list_ms,
        peak_mb: hwm.max(hwm_after),
        current_mb: rss,
        idle_cpu_percent,
        idle_cpu_later,
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

/// CPU of the console process over `IDLE_SECS` of idling: prints the figure, what was written
/// to the terminal meanwhile and the busiest threads; returns percent of a core.
fn idle_window(pid: u32, screen: &Screen, label: &str) -> f64 {
    let (cpu_before, ns_before) = cpu(pid);
    let threads_before = cpu_by_thread(pid);
    let bytes_before = screen.bytes.load(Ordering::Relaxed);
    let frames_before = screen.frames.load(Ordering::Relaxed);
    let window = Instant::now();
    std::thread::sleep(Duration::from_secs(IDLE_SECS));
    let elapsed = window.elapsed().as_secs_f64();
    let (cpu_after, ns_after) = cpu(pid);
    let threads_after = cpu_by_thread(pid);
    let idle_ticks = cpu_after - cpu_before;
    let idle_ns = ns_after.zip(ns_before).map(|(a, b)| a.saturating_sub(b));
    // schedstat counts nanoseconds; stat counts 10 ms ticks.
    let percent = match idle_ns {
        Some(ns) => ns as f64 / 1e9 / elapsed * 100.0,
        None => idle_ticks as f64 / 100.0 / elapsed * 100.0,
    };
    println!(
        "{label} over {elapsed:.1} s: {percent:.3} % of a core ({} ms by schedstat, {} ticks of 10 ms by stat), \
         {} bytes and {} frames written (target <= 0.5 %) = {:.2} of target",
        idle_ns.map_or("n/a".to_string(), |ns| format!("{:.1}", ns as f64 / 1e6)),
        idle_ticks,
        screen.bytes.load(Ordering::Relaxed) - bytes_before,
        screen.frames.load(Ordering::Relaxed) - frames_before,
        percent / 0.5
    );
    let mut busiest: Vec<(u64, &String)> = threads_after
        .iter()
        .map(|(thread, ns)| {
            (
                ns.saturating_sub(*threads_before.get(thread).unwrap_or(&0)),
                thread,
            )
        })
        .filter(|(ns, _)| *ns > 0)
        .collect();
    busiest.sort_unstable_by(|a, b| b.cmp(a));
    let busiest: Vec<String> = busiest
        .iter()
        .take(4)
        .map(|(ns, thread)| format!("{thread} {:.1} ms", *ns as f64 / 1e6))
        .collect();
    println!("   by thread: {}", busiest.join(", "));
    percent
}

/// Run time of each live thread of `pid` in nanoseconds, by "tid name".
fn cpu_by_thread(pid: u32) -> std::collections::BTreeMap<String, u64> {
    let mut threads = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return threads;
    };
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let ns = std::fs::read_to_string(task.path().join("schedstat"))
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok());
        if let Some(ns) = ns {
            let tid = task.file_name().to_string_lossy().into_owned();
            threads.insert(format!("{tid} {}", name.trim()), ns);
        }
    }
    threads
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
