//! `ghlsync doctor [--json]`: every part of a setup checked, a line each (pass, warn or fail,
//! with what to do). Exit 0 when nothing fails, else the README exit-code table's code for the
//! first failing line's class. The checks themselves are in `cli/doctor/`.

use super::CliError;
use super::args::{ConnectionArgs, DoctorArgs};
use super::doctor::{self, Check, Status, remote};
use super::{connection, engine_setup};
use crate::config::paths::Dirs;
use crate::config::secrets::{Secrets, secrets_path};
use crate::config::{AuthKind, Config, config_path, configured_peers};
use crate::ghl::GhlClient;
use std::path::Path;

pub async fn run(
    explicit_config: Option<&Path>,
    explicit_store: Option<&Path>,
    args: DoctorArgs,
) -> Result<(), CliError> {
    let checks = checks(explicit_config, explicit_store).await;
    if args.json {
        super::output::print_json(&checks, true)?;
    } else {
        print(&checks)?;
    }
    let failed: Vec<&Check> = checks.iter().filter(|c| c.status == Status::Fail).collect();
    match failed.first() {
        None => Ok(()),
        Some(first) => Err(CliError::Classed {
            class: first.class.to_string(),
            message: format!(
                "doctor: {} check(s) failed, the first: {}",
                failed.len(),
                first.check
            ),
        }),
    }
}

fn print(checks: &[Check]) -> Result<(), CliError> {
    let width = checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
    for check in checks {
        outln!(
            "{:<4}  {:<width$}  {}",
            check.status.word(),
            check.check,
            check.detail
        )?;
        if let Some(fix) = &check.fix {
            outln!("{:<4}  {:<width$}  → {fix}", "", "")?;
        }
    }
    Ok(())
}

async fn checks(explicit_config: Option<&Path>, explicit_store: Option<&Path>) -> Vec<Check> {
    let mut checks = Vec::new();
    let path = match config_path(explicit_config) {
        Ok(path) => path,
        Err(err) => {
            checks.push(Check::fail(
                "config",
                "config",
                err.to_string(),
                "set HOME, or pass --config PATH",
            ));
            return checks;
        }
    };
    let config = match Config::load(&path) {
        Ok(Some(config)) => config,
        Ok(None) => {
            checks.push(Check::fail(
                "config",
                "config",
                format!("no config at {}", path.display()),
                format!(
                    "write one (README, Configuration), or rehearse with `ghlsync sandbox --write-config {}`",
                    path.display()
                ),
            ));
            return checks;
        }
        Err(err) => {
            checks.push(Check::fail(
                "config",
                "config",
                err.to_string(),
                "fix the place the message names, then `ghlsync config check`",
            ));
            return checks;
        }
    };
    let peers = match configured_peers(&config, &path) {
        Ok(peers) => {
            let names: Vec<&str> = peers.iter().map(|p| p.name.as_str()).collect();
            checks.push(Check::pass(
                "config",
                format!(
                    "{} parses; peers: {}",
                    path.display(),
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
            peers
        }
        Err(err) => {
            checks.push(Check::fail(
                "config",
                "config",
                err.to_string(),
                "fix the place the message names, then `ghlsync config check`",
            ));
            Vec::new()
        }
    };
    checks.extend(doctor::file_mode("config file mode", &path, false));
    let secrets_file = secrets_path(&path);
    checks.push(
        doctor::file_mode("secrets file mode", &secrets_file, true).unwrap_or_else(|| {
            Check::pass(
                "secrets file mode",
                format!(
                    "no {}: secrets come from the environment",
                    secrets_file.display()
                ),
            )
        }),
    );
    if config.ghl.auth == AuthKind::Oauth {
        checks.push(oauth_token_file(&config));
    }
    match engine_setup::store_path(explicit_store, &config) {
        Ok(store) => checks.extend(doctor::store(&store)),
        Err(err) => checks.push(failed("store", &err, "set HOME, or [store] path")),
    }
    match connection::client_settings(Some(&path), &ConnectionArgs::default()) {
        Ok(settings) => match GhlClient::new(settings) {
            Ok(client) => checks.extend(remote::ghl(&client).await),
            Err(err) => checks.push(Check::fail(
                "ghl token",
                err.class().as_str(),
                err.to_string(),
                "fix [ghl] in the config",
            )),
        },
        Err(err) => checks.push(failed(
            "ghl token",
            &err,
            "set the token as the message says (never in ghlsync.toml)",
        )),
    }
    match Secrets::load(&path) {
        Ok(secrets) => {
            for peer in &peers {
                match engine_setup::build_peer(peer, &secrets, &path) {
                    Ok(built) => checks.push(remote::peer(peer, built).await),
                    Err(err) => checks.push(failed(
                        format!("peer {}", peer.name),
                        &err,
                        "set the secret as the message says",
                    )),
                }
            }
        }
        Err(err) if !peers.is_empty() => checks.push(Check::fail(
            "peers",
            "config",
            err.to_string(),
            "fix the secrets file first: the peers' credentials are in it",
        )),
        Err(_) => {}
    }
    let http = reqwest::Client::builder().build();
    match (&config.service.listen, &http) {
        (Some(listen), Ok(http)) => {
            checks.push(remote::receiver(http, listen, &config.service.instance).await);
        }
        (None, _) => checks.push(Check::pass(
            "webhook receiver",
            "off ([service] listen is not set: schedules only)",
        )),
        (Some(_), Err(_)) => {}
    }
    checks.push(doctor::signatures(&config));
    match &http {
        Ok(http) => checks.push(remote::clock(http, &config.ghl.base_url).await),
        Err(err) => checks.push(Check::fail(
            "http client",
            "io",
            err.to_string(),
            "this is a bug, please report it",
        )),
    }
    checks
}

/// The OAuth token file: there, and owner-only.
fn oauth_token_file(config: &Config) -> Check {
    let name = "oauth token file";
    let path = match &config.ghl.token_file {
        Some(file) => file.clone(),
        None => match Dirs::discover() {
            Ok(dirs) => dirs.state_dir.join(connection::OAUTH_TOKEN_FILE_NAME),
            Err(err) => {
                return Check::fail(name, "config", err.to_string(), "set [ghl] token_file");
            }
        },
    };
    doctor::file_mode(name, &path, true).unwrap_or_else(|| {
        Check::fail(
            name,
            "auth",
            format!("no token file at {}", path.display()),
            "log in (ghlsync auth login): it stores the tokens there, 0600",
        )
    })
}

/// A `CliError` as a failed line, keeping its class (so the exit code is the command's).
fn failed(check: impl Into<String>, err: &CliError, fix: &str) -> Check {
    Check::fail(check, static_class(err.class_name()), err.to_string(), fix)
}

fn static_class(name: &str) -> &'static str {
    const CLASSES: [&str; 14] = [
        "auth",
        "scope_or_config",
        "validation",
        "not_found",
        "rate_limited",
        "transient",
        "ambiguous",
        "decode",
        "damaged",
        "config",
        "usage",
        "store",
        "io",
        "sandbox",
    ];
    CLASSES.iter().copied().find(|c| *c == name).unwrap_or("io")
}
