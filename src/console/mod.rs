//! The console: what support staff see over SSH. TEA/Flux in the style of television and gitui
//! (tui-notes §6):
//!
//! - `state/` owns everything on screen; `update/` is the only thing that changes it, as a pure
//!   `update(&mut AppState, Msg) -> Vec<Effect>`;
//! - `views/` are pure render functions of the state, one per screen or popup;
//! - `runner/` is the one place with side effects: the terminal, input, the engine, signals.
//!
//! The console reaches data only through `EngineHandle` (`engine_api.rs` names the types it
//! reads): no console module opens sled or sends HTTP.

pub mod action;
pub mod clock;
pub mod demo;
pub mod engine_api;
pub mod help;
pub mod instances;
pub mod keymap;
pub mod msg;
pub mod runner;
pub mod screen;
pub mod state;
pub mod theme;
pub mod update;
pub mod views;

#[cfg(test)]
mod tests;

use crate::config::paths::Dirs;
use crate::console::keymap::{Keymap, user_keymap_path};
use crate::console::state::{AppState, Mode};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(
        "the console needs a terminal (stdout is not one); for scripts use `ghlsync status`, `ghlsync log` or `ghlsync failures list`"
    )]
    NotATerminal,
    #[error(transparent)]
    Demo(#[from] demo::DemoError),
    /// The configured engine could not be set up (config, secrets, the store's binding).
    #[error(transparent)]
    Setup(Box<crate::cli::CliError>),
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    pub config: Option<PathBuf>,
    pub store: Option<PathBuf>,
    /// The peer shown first (default: the engine's first); the others are a switch away.
    pub peer: Option<String>,
    /// Hide and refuse every write action.
    pub read_only: bool,
    /// Demo mode with a temporary store.
    pub ephemeral: bool,
    /// Demo mode even when a configuration exists.
    pub demo: bool,
    /// Demo mode with only these emulated peers (empty: every one).
    pub demo_peers: Vec<String>,
    /// Capture the mouse (wheel scrolling); off by default.
    pub mouse: bool,
    /// A store bound to another location or peer account: refused, or re-bound
    /// (`--rebind-store`).
    pub binding: crate::cli::engine_setup::BindingPolicy,
}

/// Opens the console: demo mode without a configuration, else the configured engine in-process.
pub async fn run(options: ConsoleOptions) -> Result<runner::Exit, ConsoleError> {
    if !std::io::stdout().is_terminal() {
        return Err(ConsoleError::NotATerminal);
    }
    let theme = theme::Theme::from_env();
    let config_path = crate::config::config_path(options.config.as_deref()).ok();
    let config_exists = config_path.as_ref().is_some_and(|path| path.exists());
    let (keymap, keymap_warnings) = match Dirs::discover() {
        Ok(dirs) => Keymap::load(Some(&user_keymap_path(&dirs))),
        Err(_) => Keymap::builtin(),
    };
    let mut warnings: Vec<String> = keymap_warnings.iter().map(ToString::to_string).collect();
    // The display zone: `[console] time_zone`, else this machine's, else UTC. A config that does
    // not load is reported by the engine setup (live) or shown as a warning (demo).
    let configured_zone = match config_path.as_deref().map(crate::config::Config::load) {
        Some(Ok(Some(config))) => config.console.time_zone,
        Some(Err(err)) => {
            warnings.push(err.to_string());
            None
        }
        _ => None,
    };
    let (zone, zone_warning) = clock::DisplayZone::resolve(configured_zone.as_deref());
    warnings.extend(zone_warning);

    let demo_asked = options.demo || options.ephemeral || !options.demo_peers.is_empty();
    let mut attached = None;
    let (engine, mode, demo) = if demo_asked || !config_exists {
        let demo = demo::start(demo::DemoOptions {
            ephemeral: options.ephemeral,
            store: options.store.clone(),
            data_dir: None,
            contacts: demo_contacts(),
            peers: options.demo_peers.clone(),
        })
        .await?;
        (demo.engine.clone(), Mode::Sandbox, Some(demo))
    } else {
        // The configured instance's service when it runs, else the engine in this process.
        let setup = |err| ConsoleError::Setup(Box::new(err));
        let (_, config) =
            crate::cli::engine_setup::load_config(options.config.as_deref()).map_err(setup)?;
        use crate::cli::attach::{Attach, attach};
        let engine = match attach(&config, options.store.as_deref(), None)
            .await
            .map_err(setup)?
        {
            Attach::Attached {
                engine, instance, ..
            } => {
                attached = Some(instance);
                engine
            }
            Attach::Absent(absent) => crate::cli::engine_setup::engine(
                options.config.as_deref(),
                options.store.as_deref(),
                None,
                options.binding,
            )
            .map_err(|err| setup(absent.explain(err)))?,
        };
        (engine, Mode::Live, None)
    };
    // The engine refuses writes too, not only the keys and the palette.
    let engine = if options.read_only {
        engine.read_only()
    } else {
        engine
    };
    // Until the engine's status names it, the first peer answers (`EngineHandle::call`).
    let peer = options.peer.clone().unwrap_or_default();
    let mut state = AppState::new(mode, &peer, options.read_only, theme);
    state.zone = zone;
    state.instances.current = attached;
    state.mouse = options.mouse;
    state.help = help::help_sections(&keymap, options.read_only);
    // Demo mode syncs at once so the log moves and some records fail, ready to be fixed.
    let sync_at_once = demo.is_some();
    let exit = runner::run(engine.clone(), state, keymap, warnings, sync_at_once).await;
    // Stop the engine after the command in hand; a long sync is abandoned with the process.
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        engine.call(engine_api::Command::Shutdown),
    )
    .await;
    if let Some(demo) = demo {
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(2), demo.sandbox.shutdown()).await;
    }
    Ok(exit?)
}

/// `GHLSYNC_DEMO_CONTACTS=N` seeds a smaller (or larger) demo: a quick look, or the
/// pseudo-terminal test, needs a first sync of seconds rather than minutes.
fn demo_contacts() -> Option<usize> {
    std::env::var("GHLSYNC_DEMO_CONTACTS")
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .filter(|&n| n > 0)
}
