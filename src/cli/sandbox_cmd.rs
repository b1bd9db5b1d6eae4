//! `ghlsync sandbox`: serves the emulated APIs until Ctrl-C or SIGTERM.

use super::CliError;
use super::args::SandboxArgs;
use crate::config::secrets::{SECRETS_FILE_NAME, Secrets};
use crate::config::{AuthKind, Config, GhlSection};
use crate::ghl::{AuthSettings, ClientSettings, GhlClient};
use crate::peers::registry;
use crate::sandbox::{self, BurstLimit, RunningSandbox, SandboxOptions};
use crate::sync::mapping::{Mapping, create_missing_fields};
use std::path::Path;

pub async fn run(args: SandboxArgs) -> Result<(), CliError> {
    let options = options_from(&args)?;
    // Before the sandbox starts: a refusal writes nothing and leaves no server behind.
    if let Some(path) = &args.write_config
        && !args.force
    {
        refuse_to_overwrite(path)?;
    }
    let running = sandbox::start(options).await?;
    // Before the config appears: whoever waits for it may sync at once.
    create_builtin_fields(&running).await;
    if let Some(path) = &args.write_config {
        write_config(&running, path, &args.peers, args.service_listen.as_deref()).await?;
    }
    // The announcement is for a person; a closed stdout (`| head -3`) must not stop the sandbox.
    let _ = announce(&running, args.write_config.as_deref());
    wait_for_shutdown().await;
    running.shutdown().await;
    Ok(())
}

fn options_from(args: &SandboxArgs) -> Result<SandboxOptions, CliError> {
    let usage = |flag: &str, err: &dyn std::fmt::Display| CliError::Usage(format!("{flag}: {err}"));
    let rate_limit = match args.rate_limit.as_str() {
        "off" | "none" => None,
        text => Some(text.parse::<BurstLimit>().map_err(|err| {
            usage(
                "--rate-limit (expected MAX/INTERVAL like 100/10s, or off)",
                &err,
            )
        })?),
    };
    let daily_limit = match args.daily.as_str() {
        "off" | "none" => None,
        text => Some(
            text.parse::<u64>()
                .map_err(|err| usage("--daily (expected a number or off)", &err))?,
        ),
    };
    if !(0.0..=1.0).contains(&args.fault_rate) {
        return Err(CliError::Usage(format!(
            "--fault-rate must be between 0.0 and 1.0, not {}",
            args.fault_rate
        )));
    }
    let latency = args
        .latency
        .as_deref()
        .map(sandbox::parse_latency)
        .transpose()
        .map_err(|err| usage("--latency (expected MIN..MAX like 5ms..50ms)", &err))?;
    let token_ttl = humantime::parse_duration(&args.token_ttl)
        .map_err(|err| usage("--token-ttl (expected a duration like 24h or 30s)", &err))?;
    Ok(SandboxOptions {
        port: args.port,
        seed: args.seed,
        contacts: args.contacts,
        rate_limit,
        daily_limit,
        fault_rate: args.fault_rate,
        latency,
        token_ttl,
        generic: Default::default(),
    })
}

/// `--write-config` onto a real setup would replace its config and, worse, its secrets file: a
/// production token or password lost for a loopback test one. So an existing file is refused,
/// naming it, and only `--force` replaces it.
fn refuse_to_overwrite(path: &Path) -> Result<(), CliError> {
    let secrets = crate::config::secrets::secrets_path(path);
    for file in [path, secrets.as_path()] {
        // symlink_metadata: a dangling symlink is still a file someone put there.
        if std::fs::symlink_metadata(file).is_ok() {
            return Err(CliError::Usage(format!(
                "{} already exists; --write-config never replaces a config or its {SECRETS_FILE_NAME} \
                 (they may hold a real token). Write the sandbox's config elsewhere, e.g. \
                 --write-config /tmp/ghlsync-sandbox/ghlsync.toml, or pass --force to replace both",
                file.display()
            )));
        }
    }
    Ok(())
}

/// Writes a ghlsync.toml pointing at the sandbox, with the token in a 0600 secrets.toml beside it.
async fn write_config(
    running: &RunningSandbox,
    path: &Path,
    only: &[String],
    listen: Option<&str>,
) -> Result<(), CliError> {
    let mut config = Config {
        ghl: GhlSection {
            base_url: running.base_url.clone(),
            location_id: Some(running.location_id.clone()),
            auth: AuthKind::PrivateToken,
            ..GhlSection::default()
        },
        ..Config::default()
    };
    if let Some(listen) = listen {
        config.service.listen = Some(listen.to_string());
        let keys = point_webhooks(running, listen).await?;
        // The RSA key as a PEM file beside the config (`rsa_keys` takes files), so both
        // signature headers verify whatever the receiver checks.
        let rsa_file = path.with_file_name(SANDBOX_RSA_KEY_FILE);
        crate::private_file::write_atomic(&rsa_file, keys.rsa.as_bytes()).map_err(|source| {
            CliError::Io {
                context: format!("writing {}", rsa_file.display()),
                source,
            }
        })?;
        config.service.webhooks.ed25519_keys = vec![keys.ed25519_inline()];
        config.service.webhooks.rsa_keys = vec![rsa_file.display().to_string()];
    }
    let rehearsals = registry::rehearsals_named(running, only)
        .map_err(|err| CliError::Usage(format!("--peers: {err}")))?;
    let mut text = format!(
        "# Written by `ghlsync sandbox --write-config`: points at a sandbox on {}, with every\n\
         # peer app it emulates.\n{}\n[store]\npath = {}\n",
        running.base_url,
        config.to_toml(),
        registry::toml_string(&path.with_file_name("store").display().to_string()),
    );
    for rehearsal in &rehearsals {
        text.push('\n');
        text.push_str(&rehearsal.config);
    }
    // The files the peers' tables name (a connector file and its mapping), beside the config.
    crate::config::write_rehearsal_files(&rehearsals, path.parent().unwrap_or(Path::new(".")))?;
    // Atomically, like the secrets file (its folder is created too): a crash leaves the old
    // config or the new one.
    crate::private_file::write_atomic(path, text.as_bytes()).map_err(|source| CliError::Io {
        context: format!("writing {}", path.display()),
        source,
    })?;
    let mut secrets = Secrets {
        ghl_token: Some(running.token.clone()),
        ghl_client_secret: Some(running.oauth_client_secret.clone()),
        ..Secrets::default()
    };
    for rehearsal in &rehearsals {
        for (key, value) in &rehearsal.secrets {
            secrets.set_peer_secret(&rehearsal.peer, key, value.clone());
        }
    }
    secrets.write(&crate::config::secrets::secrets_path(path))?;
    Ok(())
}

/// The sandbox's RSA webhook key, written beside a config that has `[service] listen`.
const SANDBOX_RSA_KEY_FILE: &str = "sandbox-webhook-rsa.pem";

/// Sends the sandbox's webhooks to the service the written config sets up; answers its test
/// pair's public keys.
async fn point_webhooks(
    running: &RunningSandbox,
    listen: &str,
) -> Result<sandbox::webhooks::PublicKeys, CliError> {
    let url = format!("http://{listen}/webhooks/ghl");
    if url::Url::parse(&url).is_err() {
        return Err(CliError::Usage(format!(
            "--service-listen {listen:?}: expected HOST:PORT, e.g. 127.0.0.1:8787"
        )));
    }
    running
        .configure_webhooks(sandbox::webhooks::WebhookSettings::new(url))
        .await
        .map_err(|message| CliError::Classed {
            class: "sandbox".into(),
            message: format!("the sandbox's webhooks: {message}"),
        })
}

/// The sandbox's token is printed on purpose: it is a loopback-only test credential, and printing
/// it is what lets a person rehearse any ghlsync command against the sandbox.
fn announce(running: &RunningSandbox, config: Option<&Path>) -> Result<(), CliError> {
    outln!("GHL sandbox listening on {}", running.base_url)?;
    outln!("  location id:   {}", running.location_id)?;
    outln!("  token:         {}", running.token.expose())?;
    outln!("  oauth client:  {}", running.oauth_client_id)?;
    for peer in registry::rehearsals(running) {
        outln!("  {:<14} {}", format!("{}:", peer.peer), peer.base_url)?;
    }
    outln!("  admin:         {}/_sandbox/stats", running.base_url)?;
    match config {
        Some(path) => outln!(
            "  config:        {} (secrets in {} beside it)\n\nTry: ghlsync --config {} ghl contact list --limit 3",
            path.display(),
            SECRETS_FILE_NAME,
            path.display()
        )?,
        None => outln!(
            "\nTry: GHLSYNC_GHL_BASE_URL={} GHLSYNC_GHL_LOCATION_ID={} GHLSYNC_GHL_TOKEN=<token> ghlsync ghl contact list --limit 3",
            running.base_url,
            running.location_id
        )?,
    }
    outln!("Press Ctrl-C to stop.")
}

/// The sandbox location is made ready for the built-in mappings the way a person readies a real
/// one (`ghlsync mapping check --create-fields`): their custom fields are created, and listed.
/// A failure is only reported: the sandbox still serves, and `mapping check` says what to do.
async fn create_builtin_fields(running: &RunningSandbox) {
    let client = match GhlClient::new(ClientSettings::new(
        running.base_url.clone(),
        running.location_id.clone(),
        AuthSettings::PrivateToken(running.token.clone()),
    )) {
        Ok(client) => client,
        Err(err) => {
            eprintln!("note: could not create the built-in mapping's custom fields: {err}");
            return;
        }
    };
    // Every connector's built-in mapping, and each rehearsal peer's own (a connector file's).
    let mut mappings: Vec<(String, Mapping)> = Mapping::builtin_peers()
        .filter_map(|name| Some((name.to_string(), Mapping::builtin(name)?)))
        .collect();
    let rehearsals = registry::rehearsals(running);
    if let Ok(folder) = tempfile::tempdir()
        && let Ok(peers) = crate::config::rehearsal_peers(&rehearsals, folder.path())
    {
        for peer in &peers {
            if peer.setup.builtin_mapping().is_some()
                && let Ok(mapping) = super::engine_setup::builtin_mapping(peer)
            {
                mappings.push((peer.name.clone(), mapping));
            }
        }
    }
    for (peer, mapping) in mappings {
        match create_missing_fields(&mapping, &client).await {
            Ok(created) if created.is_empty() => {}
            Ok(created) => {
                let keys: Vec<&str> = created.iter().map(|field| field.key()).collect();
                println!(
                    "custom fields: created {} for the built-in {peer} mapping (as `ghlsync mapping check --create-fields` does)",
                    keys.join(", ")
                );
            }
            Err(err) => {
                eprintln!("note: could not create the {peer} mapping's custom fields: {err}")
            }
        }
    }
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
