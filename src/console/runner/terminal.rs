//! Entering and leaving the terminal, exactly once each way, from every exit path: normal
//! quit, error, panic (hook), SIGHUP/SIGTERM, and around Ctrl-Z. A flag makes `restore`
//! idempotent so the panic hook and the normal path never both write (tui-notes §4.7).

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{Stdout, Write, stdout};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static ENTERED: AtomicBool = AtomicBool::new(false);
/// `--mouse`: capture it again after a Ctrl-Z.
static MOUSE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Raw mode, alternate screen, bracketed paste; the mouse only when asked for (k9s: optional,
/// off by default, since capturing it takes the terminal's own selection away).
pub fn enter(mouse: bool) -> std::io::Result<Term> {
    install_panic_hook();
    MOUSE.store(mouse, Ordering::SeqCst);
    take_over()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
    terminal.clear()?;
    Ok(terminal)
}

/// Raw mode, the alternate screen, bracketed paste and (if asked for) the mouse: at start and
/// after a Ctrl-Z.
fn take_over() -> std::io::Result<()> {
    enable_raw_mode()?;
    ENTERED.store(true, Ordering::SeqCst);
    execute!(
        stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    if MOUSE.load(Ordering::SeqCst) {
        execute!(stdout(), EnableMouseCapture)?;
    }
    Ok(())
}

/// Puts the terminal back as the shell had it. Safe to call any number of times.
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = stdout();
    // Each step is attempted even if one fails: a half-restored terminal is worse.
    let _ = execute!(
        out,
        EndSynchronizedUpdate,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Restore first, so the panic message lands on the normal screen, readable.
            restore();
            previous(info);
        }));
    });
}

/// Draws one frame inside a synchronized update, so a slow link never shows half a frame.
pub fn draw(terminal: &mut Term, render: impl FnOnce(&mut ratatui::Frame)) -> std::io::Result<()> {
    execute!(stdout(), BeginSynchronizedUpdate)?;
    let result = terminal.draw(render).map(|_| ());
    execute!(stdout(), EndSynchronizedUpdate)?;
    result
}

/// Ctrl-Z: leave the terminal, stop the process as the shell expects, and come back on `fg`.
pub fn suspend(terminal: &mut Term) -> std::io::Result<()> {
    restore();
    #[cfg(unix)]
    // SAFETY: raise() only sends a signal to this process; SIGTSTP's default action stops it
    // and the call returns after SIGCONT.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    take_over()?;
    // Whatever the shell printed meanwhile is on screen: repaint everything.
    terminal.clear()
}

/// The OSC 52 sequence that asks the terminal to put `text` on its clipboard: `ESC ] 52 ; c ;
/// base64 BEL`. The terminal a person sits at does it, so it works over SSH too (tui-notes §3).
pub fn osc52(text: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{encoded}\x07")
}

/// Copies `text` to the clipboard through the terminal (OSC 52).
pub fn copy(text: &str) -> std::io::Result<()> {
    let mut out = stdout();
    out.write_all(osc52(text).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_is_the_escape_sequence_with_the_text_in_base64() {
        assert_eq!(super::osc52("C1021"), "\x1b]52;c;QzEwMjE=\x07");
        assert_eq!(super::osc52(""), "\x1b]52;c;\x07");
    }
}
