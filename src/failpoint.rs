//! Failure injection at named steps of the write path, for the failpoint matrix
//! (`tests/failpoints.rs`, RELIABILITY.md): `GHLSYNC_TEST_FAILPOINT=site:action:hit` makes the
//! `hit`-th pass through `site` fail as `action` says. Unset (always, outside those tests), each
//! step costs one load of a value read once.
//!
//! Sites, in the order an operation passes them:
//! - `intent`: the intent is durable, the request not sent;
//! - `request`: the request was answered with success, the answer is not seen yet (the target
//!   holds the write);
//! - `commit`: the commit is applied, not yet flushed;
//! - `cursor`: a page is committed and its cursor saved.
//!
//! Actions: `crash` (SIGKILL to this process: nothing after it runs), `error` (the step fails
//! as a failed request or store write would), `timeout` (the step hangs past a client's
//! patience, then fails like `error`).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The environment variable that arms a failpoint.
pub const ENV: &str = "GHLSYNC_TEST_FAILPOINT";

/// How long `timeout` hangs before it fails.
const HANG: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Crash,
    Error,
    Timeout,
}

struct Armed {
    site: String,
    action: Action,
    hit: u64,
    seen: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var(ENV).ok()?;
            let mut parts = spec.split(':');
            let (site, action, hit) = (parts.next()?, parts.next()?, parts.next()?);
            let action = match action {
                "crash" => Action::Crash,
                "error" => Action::Error,
                "timeout" => Action::Timeout,
                _ => return None,
            };
            Some(Armed {
                site: site.to_string(),
                action,
                hit: hit.parse().ok()?,
                seen: AtomicU64::new(0),
            })
        })
        .as_ref()
}

/// Passes through `site`. `Err` when the armed failpoint fires here as an error (after the
/// hang, for a timeout); a crash never returns.
pub async fn pass(site: &str) -> Result<(), Action> {
    let Some(armed) = armed().filter(|armed| armed.site == site) else {
        return Ok(());
    };
    if armed.seen.fetch_add(1, Ordering::SeqCst) + 1 != armed.hit {
        return Ok(());
    }
    tracing::warn!(site, action = ?armed.action, "test failpoint fired");
    // Said on stderr too: a write the engine then finds landed leaves no trace in the store,
    // and the matrix must still know the cell fired.
    eprintln!(
        "ghlsync: test failpoint {site}:{:?}:{} fired",
        armed.action, armed.hit
    );
    match armed.action {
        Action::Crash => crash(),
        Action::Error => Err(Action::Error),
        Action::Timeout => {
            tokio::time::sleep(HANG).await;
            Err(Action::Timeout)
        }
    }
}

/// What a real crash is: the process ends at once, with no destructor, flush or unwind.
fn crash() -> ! {
    #[cfg(unix)]
    // SAFETY: kill(2) with this process's own id and SIGKILL has no memory effects.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}
