//! What the leak tests share: a home holding known secrets, and the search for them.

use crate::common::Harness;
use crate::common::binary::isolated;
use ghlsync::config::Secret;
use ghlsync::config::secrets::Secrets;
use ghlsync::peers::registry;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Chosen here (the sandbox never sees them): the `rest` peer's push signing secret and the
/// alerts webhook, whose URL is the credential.
pub const PUSH_SECRET: &str = "whsec_Qm7vX2pL9dKe4RtY8uWz1NbC";
pub const ALERTS_URL: &str =
    "https://hooks.slack.com/services/T0LEAKCHK/B0LEAKCHK/aZ9yX8wV7uT6sR5qP4oN";

pub struct Run {
    pub what: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// A home with the sandbox's config for repsly, robly and crm (`rest`, push on), its secrets
/// written by the tooling (`Secrets::write`), and the mappings' custom fields created.
pub async fn home_for(h: &Harness) -> (tempfile::TempDir, PathBuf, Vec<(String, String)>) {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("cfg");
    std::fs::create_dir_all(&dir).unwrap();
    let only: Vec<String> = ["repsly", "robly", "crm"].map(String::from).to_vec();
    let rehearsals = registry::rehearsals_named(&h.sandbox, &only).unwrap();
    ghlsync::config::write_rehearsal_files(&rehearsals, &dir).unwrap();
    let quote = |text: &str| toml::Value::String(text.to_string()).to_string();
    let mut text = format!(
        "[ghl]\nbase_url = {}\nlocation_id = {}\nauth = \"private-token\"\n\n[store]\npath = {}\n",
        quote(&h.sandbox.base_url),
        quote(&h.sandbox.location_id),
        quote(&home.path().join("store").display().to_string()),
    );
    let mut secrets = Secrets {
        ghl_token: Some(h.sandbox.token.clone()),
        alerts_webhook_url: Some(Secret::new(ALERTS_URL)),
        ..Secrets::default()
    };
    let mut known = vec![
        (
            "ghl_token".to_string(),
            h.sandbox.token.expose().to_string(),
        ),
        ("alerts_webhook_url".to_string(), ALERTS_URL.to_string()),
    ];
    for rehearsal in &rehearsals {
        text.push('\n');
        let mut section = rehearsal.config.clone();
        if rehearsal.peer == "crm" {
            section = section.replace(
                "[peers.crm.connection]\n",
                "[peers.crm.connection]\npush = true\n",
            );
            secrets.set_peer_secret("crm", "webhook_secret", Secret::new(PUSH_SECRET));
            known.push(("crm_webhook_secret".into(), PUSH_SECRET.into()));
        }
        text.push_str(&section);
        for (key, value) in &rehearsal.secrets {
            secrets.set_peer_secret(&rehearsal.peer, key, value.clone());
            known.push((
                format!("{}_{key}", rehearsal.peer),
                value.expose().to_string(),
            ));
        }
    }
    let config = dir.join("ghlsync.toml");
    std::fs::write(&config, text).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    secrets.write(&dir.join("secrets.toml")).unwrap();
    for (name, value) in &known {
        assert!(
            value.len() >= 16,
            "{name} is too short to look for: {value:?}"
        );
    }
    (home, config, known)
}

pub async fn run(home: &Path, config: &Path, args: &[&str]) -> Run {
    let mut command = isolated(home, &["--config", config.to_str().unwrap()]);
    // Where a running service's control socket is found.
    command.env("XDG_RUNTIME_DIR", runtime_dir(home)).args(args);
    let out = command.output().await.expect("binary runs");
    Run {
        what: args.join(" "),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `XDG_RUNTIME_DIR` for every command of a home (0700, as a login session's).
pub fn runtime_dir(home: &Path) -> PathBuf {
    let dir = home.join("runtime");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// `mapping check --create-fields` for each peer of the home, as a user sets a location up.
pub async fn create_fields(home: &Path, config: &Path) -> Vec<Run> {
    let mut runs = Vec::new();
    for peer in ["repsly", "robly", "crm"] {
        let created = run(
            home,
            config,
            &["mapping", "check", "--create-fields", "--peer", peer],
        )
        .await;
        assert_eq!(
            created.code,
            Some(0),
            "{}: {}",
            created.what,
            created.stderr
        );
        runs.push(created);
    }
    runs
}

/// Each value whole, and its first and last 12 characters.
pub fn needles(known: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in known {
        let chars: Vec<char> = value.chars().collect();
        out.push((name.clone(), value.clone()));
        out.push((format!("{name}[..12]"), chars[..12].iter().collect()));
        out.push((
            format!("{name}[-12..]"),
            chars[chars.len() - 12..].iter().collect(),
        ));
    }
    out
}

pub fn assert_clean(place: &str, text: &str, known: &[(String, String)]) {
    for (name, needle) in needles(known) {
        if let Some(at) = text.find(&needle) {
            let from = text[..at]
                .char_indices()
                .rev()
                .nth(200)
                .map_or(0, |(i, _)| i);
            let to = (at + needle.len() + 200).min(text.len());
            let to = (to..=text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            panic!("{name} leaked in {place}:\n…{}…", &text[from..to]);
        }
    }
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file under `dir` (recursively).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}
