//! `ghlsync auth …`: the OAuth code flow (login over SSH: the authorize URL printed, the
//! redirect pasted back; or a loopback listener for a local browser), and an agency app's
//! installed locations and location tokens (ghl-api.md §4).

mod redirect;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::Rng;
use serde_json::json;
use tokio::io::AsyncBufReadExt;

use super::CliError;
use super::args::{
    AuthAppArgs, AuthCommand, AuthLocationTokenArgs, AuthLocationsArgs, AuthLoginArgs,
};
use super::connection::OAUTH_TOKEN_FILE_NAME;
use crate::config::paths::Dirs;
use crate::config::secrets::{ENV_GHL_CLIENT_SECRET, Secrets, secrets_path};
use crate::config::{ConfigError, Secret};
use crate::ghl::{
    AuthSettings, ClientSettings, GhlClient, OAuthClient, TokenInfo, exchange_code_as,
    load_token_file, save_location_token,
};

/// What the sync uses (ghl-api.md §4 "Scopes we need"), plus creating the mapping's custom
/// fields (`mapping check --create-fields`).
pub const SYNC_SCOPES: &[&str] = &[
    "contacts.readonly",
    "contacts.write",
    "calendars.readonly",
    "calendars/events.readonly",
    "calendars/events.write",
    "locations/customFields.readonly",
    "locations/customFields.write",
    "locations/tags.readonly",
    "locations/tasks.readonly",
    "users.readonly",
];
/// An agency app's extra scopes: list installed locations, mint location tokens.
pub const AGENCY_SCOPES: &[&str] = &["oauth.readonly", "oauth.write"];
const AGENCY_TOKEN_FILE_NAME: &str = "ghl-agency-token.json";

pub async fn run(config: Option<&Path>, command: AuthCommand) -> Result<(), CliError> {
    match command {
        AuthCommand::Login(args) => login(config, args).await,
        AuthCommand::Locations(args) => locations(config, args).await,
        AuthCommand::LocationToken(args) => location_token(config, args).await,
    }
}

/// The app as config, secrets and flags describe it.
struct App {
    client_id: String,
    client_secret: Secret,
    base_url: String,
    token_file: PathBuf,
    agency_token_file: PathBuf,
}

fn app(explicit_config: Option<&Path>, flags: &AuthAppArgs) -> Result<App, CliError> {
    let (path, config) = super::connection::config_or_default(explicit_config)?;
    let client_id = flags
        .client_id
        .clone()
        .or_else(|| config.ghl.client_id.clone())
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "no OAuth client id: pass --client-id, set GHLSYNC_GHL_CLIENT_ID, or set ghl.client_id in {} (the marketplace app's Client ID)",
                path.display()
            ))
        })?;
    let client_secret =
        Secrets::load(&path)?
            .ghl_client_secret
            .ok_or_else(|| ConfigError::MissingSecret {
                name: ENV_GHL_CLIENT_SECRET.into(),
                hint: format!(
                    "set {ENV_GHL_CLIENT_SECRET} or put ghl_client_secret in {} (mode 0600)",
                    secrets_path(&path).display()
                ),
            })?;
    let state_dir = || Dirs::discover().map(|dirs| dirs.state_dir);
    let token_file = match flags.token_file.clone().or(config.ghl.token_file.clone()) {
        Some(file) => file,
        None => state_dir()?.join(OAUTH_TOKEN_FILE_NAME),
    };
    let agency_token_file = match flags.agency_token_file.clone() {
        Some(file) => file,
        None => state_dir()?.join(AGENCY_TOKEN_FILE_NAME),
    };
    Ok(App {
        client_id,
        client_secret,
        base_url: flags
            .base_url
            .clone()
            .unwrap_or_else(|| config.ghl.base_url.clone()),
        token_file,
        agency_token_file,
    })
}

/// GHL's authorize page (`/v2/oauth/chooselocation`) on `host` (a white-label host too).
pub fn authorize_url(
    host: &str,
    redirect_uri: &str,
    client_id: &str,
    scopes: &[String],
    state: &str,
) -> Result<String, CliError> {
    let base = if host.contains("://") {
        host.trim_end_matches('/').to_string()
    } else {
        format!("https://{}", host.trim_end_matches('/'))
    };
    let mut url = url::Url::parse(&format!("{base}/v2/oauth/chooselocation"))
        .map_err(|e| CliError::Usage(format!("--host {host:?}: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("client_id", client_id)
        .append_pair("scope", &scopes.join(" "))
        .append_pair("state", state);
    Ok(url.to_string())
}

async fn login(config: Option<&Path>, args: AuthLoginArgs) -> Result<(), CliError> {
    let app = app(config, &args.app)?;
    let redirect_uri = args.redirect_uri.clone().ok_or_else(|| {
        CliError::Usage(
            "no redirect URI: pass --redirect-uri (or set GHLSYNC_GHL_REDIRECT_URI) to one of the app's registered redirect URLs".into(),
        )
    })?;
    if url::Url::parse(&redirect_uri).is_err() {
        return Err(CliError::Usage(format!(
            "--redirect-uri {redirect_uri:?} is not an absolute URL (e.g. http://127.0.0.1:8976/callback)"
        )));
    }
    let mut scopes = args.scope.clone();
    if scopes.is_empty() {
        scopes = SYNC_SCOPES.iter().map(|s| s.to_string()).collect();
        if args.agency {
            scopes.extend(AGENCY_SCOPES.iter().map(|s| s.to_string()));
        }
    }
    let state = new_state();
    let url = authorize_url(&args.host, &redirect_uri, &app.client_id, &scopes, &state)?;
    let code = if args.listen {
        let addr = redirect::listen_addr(&redirect_uri)?;
        let wait = humantime::parse_duration(&args.wait)
            .map_err(|e| CliError::Usage(format!("--wait {:?}: {e}", args.wait)))?;
        outln!(
            "Open this URL in a browser on this machine, choose the location and approve:\n\n  {url}\n\nWaiting for the redirect on {addr} …"
        )?;
        redirect::listen_for_code(addr, &state, wait).await?
    } else {
        outln!(
            "Open this URL in a browser, choose the location and approve:\n\n  {url}\n\nThen paste the address your browser was sent to (or just its code) and press Enter:"
        )?;
        super::output::flush()?;
        let mut line = String::new();
        // A redirect URL is a few hundred bytes: a line read from a pipe (a file of anything,
        // /dev/zero) stops at 64 KB, and the paste check refuses what it holds.
        tokio::io::BufReader::new(tokio::io::AsyncReadExt::take(tokio::io::stdin(), 64 * 1024))
            .read_line(&mut line)
            .await
            .map_err(|e| CliError::io("reading the pasted redirect from stdin", e))?;
        redirect::code_from_paste(&line, &state)?
    };
    let (user_type, file) = if args.agency {
        ("Company", &app.agency_token_file)
    } else {
        ("Location", &app.token_file)
    };
    let oauth = OAuthClient {
        base_url: &app.base_url,
        client_id: &app.client_id,
        client_secret: &app.client_secret,
        user_type,
    };
    let info = exchange_code_as(&oauth, &code, Some(&redirect_uri), file).await?;
    saved(&info, file)
}

fn saved(info: &TokenInfo, file: &Path) -> Result<(), CliError> {
    let owner = match (&info.location_id, &info.company_id) {
        (Some(location), _) => format!("location {location}"),
        (None, Some(company)) => format!("agency (company {company})"),
        (None, None) => "an unnamed owner".into(),
    };
    let expires = chrono::DateTime::from_timestamp(info.expires_at, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
    outln!(
        "Saved the token pair for {owner} to {} (0600); the access token expires {expires} and is refreshed on use.",
        file.display()
    )?;
    if let Some(scope) = &info.scope {
        outln!("Scopes: {scope}")?;
    }
    Ok(())
}

/// A client on the agency token: its limiter keyed by the company (GHL limits per company).
fn agency_client(app: &App, company: Option<String>) -> Result<(GhlClient, String), CliError> {
    let stored = load_token_file(&app.agency_token_file)?;
    let company = company.or(stored.company_id).ok_or_else(|| {
        CliError::Usage(format!(
            "the agency token file {} names no company: pass --company ID (log in with `ghlsync auth login --agency` to save one that does)",
            app.agency_token_file.display()
        ))
    })?;
    let mut settings = ClientSettings::new(
        app.base_url.clone(),
        company.clone(),
        AuthSettings::OAuth {
            client_id: app.client_id.clone(),
            client_secret: app.client_secret.clone(),
            token_file: app.agency_token_file.clone(),
            user_type: "Company".into(),
        },
    );
    settings.timeout = Duration::from_secs(30);
    Ok((GhlClient::new(settings)?, company))
}

async fn locations(config: Option<&Path>, args: AuthLocationsArgs) -> Result<(), CliError> {
    let app = app(config, &args.app)?;
    let (client, company) = agency_client(&app, args.company.clone())?;
    let app_id = args.app_id.clone().unwrap_or_else(|| {
        app.client_id
            .split_once('-')
            .map_or(app.client_id.clone(), |(id, _)| id.to_string())
    });
    const PAGE: u32 = 100;
    let mut all = Vec::new();
    loop {
        let skip = u32::try_from(all.len()).unwrap_or(u32::MAX);
        let page = client
            .installed_locations(&company, &app_id, skip, PAGE)
            .await?;
        let got = page.locations.len();
        all.extend(page.locations);
        let total = page.count.unwrap_or(0) as usize;
        if got < PAGE as usize || all.len() >= total {
            break;
        }
    }
    if args.json {
        return super::output::print_json(&json!({"companyId": company, "locations": all}), false);
    }
    if all.is_empty() {
        return outln!("No location of company {company} has app {app_id} installed.");
    }
    for location in &all {
        outln!(
            "{}  {}  {}",
            location.id,
            location.name,
            location.address.as_deref().unwrap_or("")
        )?;
    }
    outln!("\nMint a location's token with: ghlsync auth location-token --location ID")
}

async fn location_token(
    config: Option<&Path>,
    args: AuthLocationTokenArgs,
) -> Result<(), CliError> {
    let app = app(config, &args.app)?;
    let (client, company) = agency_client(&app, args.company.clone())?;
    let response = client.location_token(&company, &args.location).await?;
    if let Some(got) = response.location_id.as_deref()
        && got != args.location
    {
        return Err(CliError::Classed {
            class: "auth".into(),
            message: format!(
                "GHL answered a token for location {got}, not {}; nothing was saved",
                args.location
            ),
        });
    }
    let info = save_location_token(response, &app.token_file).await?;
    saved(&info, &app.token_file)?;
    outln!(
        "Use it with ghl.auth = \"oauth\" and ghl.location_id = \"{}\" in the config.",
        args.location
    )
}

/// The login's `state`: 24 random letters and digits, matched against the redirect's.
fn new_state() -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| char::from(ALNUM[rng.random_range(0..ALNUM.len())]))
        .collect()
}
