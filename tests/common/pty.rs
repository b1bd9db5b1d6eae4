//! `ghlsync --config CFG console` in a pseudo-terminal (portable-pty + vt100, 120×30 so the
//! header shows the location, NO_COLOR), with its XDG dirs in a temp dir and a given
//! `XDG_RUNTIME_DIR` (where the services' sockets are).
#![allow(dead_code)]

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const COLS: u16 = 120;
const ROWS: u16 = 30;
/// How long one step may take before the test fails with the screen.
const STEP: Duration = Duration::from_secs(60);

/// `ghlsync --config CFG console` in a pseudo-terminal, and the screen it draws.
pub struct Tty {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Tty {
    pub fn console(home: &Path, config: &Path, runtime: &Path) -> Tty {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_ghlsync"));
        cmd.args(["--config", &config.display().to_string(), "console"]);
        cmd.cwd(home);
        for (name, sub) in [
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_DATA_HOME", "data"),
            ("XDG_STATE_HOME", "state"),
            ("XDG_CACHE_HOME", "cache"),
        ] {
            cmd.env(name, home.join(sub));
        }
        cmd.env("HOME", home);
        cmd.env("XDG_RUNTIME_DIR", runtime);
        cmd.env("NO_COLOR", "1");
        cmd.env("TERM", "xterm-256color");
        let child = pty.slave.spawn_command(cmd).expect("ghlsync starts");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let p = parser.clone();
        std::thread::spawn(move || {
            let _master = pty.master;
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => lock(&p).process(&buf[..n]),
                }
            }
        });
        Tty {
            parser,
            writer,
            child,
        }
    }

    pub fn screen(&self) -> String {
        lock(&self.parser)
            .screen()
            .rows(0, COLS)
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
        // A lone ESC must not merge with what follows into an Alt chord.
        std::thread::sleep(Duration::from_millis(150));
    }

    pub fn wait(&mut self, what: &str, test: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if test(&screen) {
                return screen;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the console exited ({status:?}) waiting for {what}; screen:\n{screen}");
            }
            assert!(
                start.elapsed() < STEP,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_exit(&mut self) {
        let start = Instant::now();
        while start.elapsed() < STEP {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "the console exited with {status:?}");
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the console did not quit; screen:\n{}", self.screen());
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
