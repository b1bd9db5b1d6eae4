//! `ghlsync doctor`'s checks. Each returns `Check`s (a line each: pass, warn or fail, with what
//! to do); nothing here prints. Local checks (files, the store) are here; the ones that ask a
//! server (GHL, peers, the webhook receiver, the clock) are in `remote.rs`.

pub mod remote;

use crate::config::Config;
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One line of the report. `class` (not printed) is the error class a failure exits with
/// (`cli::exit_code_for_class`).
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub check: String,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
    #[serde(skip)]
    pub class: &'static str,
}

impl Check {
    pub fn pass(check: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            status: Status::Pass,
            detail: detail.into(),
            fix: None,
            class: "",
        }
    }

    pub fn warn(
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            check: check.into(),
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
            class: "",
        }
    }

    pub fn fail(
        check: impl Into<String>,
        class: &'static str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            check: check.into(),
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
            class,
        }
    }
}

/// Owner-only check of a file holding secrets (`must_be_private`) or not (the config: a warning).
pub fn file_mode(check: &str, path: &Path, must_be_private: bool) -> Option<Check> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => {
            return Some(Check::fail(
                check,
                "config",
                format!("{} cannot be read: {err}", path.display()),
                "give the user ghlsync runs as read access to it",
            ));
        }
    };
    let fix = format!("chmod 600 {}", path.display());
    Some(match crate::private_file::loose_mode(&metadata) {
        None => Check::pass(check, format!("{} is owner-only", path.display())),
        Some(mode) if must_be_private => Check::fail(
            check,
            "config",
            format!(
                "{} is mode {mode:04o}: group or others can read it, so ghlsync refuses it",
                path.display()
            ),
            fix,
        ),
        Some(mode) => Check::warn(
            check,
            format!(
                "{} is mode {mode:04o} (it holds no secret, but says where they are)",
                path.display()
            ),
            fix,
        ),
    })
}

/// The store: its folder's mode and size, that it opens (or is held by a running service),
/// and `Store::verify`.
pub fn store(path: &Path) -> Vec<Check> {
    let name = "store";
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return vec![Check::warn(
                name,
                format!("no store at {} yet", path.display()),
                "the first `ghlsync sync` (or the service) creates it; check [store] path if one should be there",
            )];
        }
        Err(err) => {
            return vec![Check::fail(
                name,
                "store",
                format!("{} cannot be read: {err}", path.display()),
                "give the user ghlsync runs as access to the store folder",
            )];
        }
    };
    let mut checks = Vec::new();
    let size = folder_size(path);
    checks.push(match crate::private_file::loose_mode(&metadata) {
        Some(mode) => Check::warn(
            "store folder",
            format!(
                "{} is mode {mode:04o}: others can read the synced contacts ({})",
                path.display(),
                human_size(size)
            ),
            format!("chmod 700 {}", path.display()),
        ),
        None => Check::pass(
            "store folder",
            format!("{} is 0700, {} on disk", path.display(), human_size(size)),
        ),
    });
    checks.push(match Store::open(path) {
        Ok(store) => verify(&store),
        Err(StoreError::Locked { holder, .. }) => Check::pass(name, in_use(holder.as_deref())),
        Err(err) => Check::fail(
            name,
            "store",
            err.to_string(),
            "see the message; `ghlsync store verify` tells more once it opens",
        ),
    });
    checks
}

fn verify(store: &Store) -> Check {
    match store.verify() {
        Ok(report) if report.is_clean() => Check::pass(
            "store",
            format!("opens, verify clean ({} values checked)", report.records),
        ),
        Ok(report) => {
            let first = report.findings.first();
            Check::fail(
                "store",
                "damaged",
                format!(
                    "verify found {} problem(s); the first: {}",
                    report.findings.len(),
                    first.map_or("", |f| f.problem.as_str())
                ),
                first.map_or_else(
                    || "run `ghlsync store verify` for each finding and its fix".to_string(),
                    |f| format!("{} (`ghlsync store verify` lists every finding)", f.fix),
                ),
            )
        }
        Err(err) => Check::fail(
            "store",
            "damaged",
            err.to_string(),
            "run `ghlsync store verify`; restore a backup if it cannot be read",
        ),
    }
}

/// A store held by another process is in use, not broken: a running service holds it for
/// as long as it runs.
fn in_use(holder: Option<&str>) -> String {
    let Some(holder) = holder else {
        return "in use by another process (not checked while it holds the store)".into();
    };
    let pid = holder
        .strip_prefix("process ")
        .and_then(|rest| rest.split_whitespace().next());
    match pid {
        Some(pid) if holder.split_whitespace().any(|word| word == "run)") => {
            format!("in use by ghlsync run (pid {pid}); not verified while it runs")
        }
        _ => format!("in use by {holder}; not verified while it holds the store"),
    }
}

/// Bytes under `path`, files only (what the disk holds for it).
fn folder_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => pending.push(entry.path()),
                Ok(meta) => total += meta.len(),
                Err(_) => {}
            }
        }
    }
    total
}

pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `[service.webhooks] signatures`: `disabled` is for the sandbox only.
pub fn signatures(config: &Config) -> Check {
    use crate::config::service::SignaturePolicy;
    let name = "webhook signatures";
    match config.service.webhooks.signatures {
        SignaturePolicy::Required => Check::pass(name, "required"),
        SignaturePolicy::Disabled if is_loopback_url(&config.ghl.base_url) => Check::warn(
            name,
            "disabled (allowed: ghl.base_url is a local sandbox)",
            "remove `signatures = \"disabled\"` before pointing at GHL",
        ),
        SignaturePolicy::Disabled => Check::fail(
            name,
            "config",
            format!(
                "disabled while ghl.base_url is {}: anyone who can reach the receiver can forge events",
                config.ghl.base_url
            ),
            "remove `signatures = \"disabled\"` from [service.webhooks]",
        ),
    }
}

/// Whether `url`'s host is this machine (the sandbox listens on loopback only).
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = parsed.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_held_by_the_service_is_in_use_not_failed() {
        let said = in_use(Some(
            "process 4242 (ghlsync --config /etc/ghlsync/acme.toml run)",
        ));
        assert_eq!(
            said,
            "in use by ghlsync run (pid 4242); not verified while it runs"
        );
        assert!(in_use(Some("process 7 (ghlsync sync)")).starts_with("in use by process 7"));
        assert!(in_use(None).contains("another process"));
    }

    #[test]
    fn disabled_signatures_fail_outside_a_sandbox() {
        let mut config = Config::default();
        config.service.webhooks.signatures = crate::config::service::SignaturePolicy::Disabled;
        config.ghl.base_url = "https://services.leadconnectorhq.com".into();
        assert_eq!(signatures(&config).status, Status::Fail);
        assert_eq!(signatures(&config).class, "config");
        config.ghl.base_url = "http://127.0.0.1:4567".into();
        assert_eq!(signatures(&config).status, Status::Warn);
        config.service.webhooks.signatures = crate::config::service::SignaturePolicy::Required;
        assert_eq!(signatures(&config).status, Status::Pass);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MB");
    }
}
