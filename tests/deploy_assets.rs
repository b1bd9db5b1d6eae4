//! The deploy assets say what the README promises: the systemd template unit runs one
//! `ghlsync run` per location config, hardened, with stop and reload as the service handles
//! them; the Kubernetes example gives each pod its own store, probes `/healthz`, waits out the
//! drain, and ships configs ghlsync accepts. (No YAML crate in the tree: the manifest is read
//! line by line, its embedded configs parsed by ghlsync itself.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ghlsync::config::Config;
use ghlsync::config::service::ServiceSection;
use std::collections::BTreeMap;
use std::path::Path;

const UNIT: &str = include_str!("../assets/deploy/ghlsync@.service");
const STATEFULSET: &str = include_str!("../assets/deploy/k8s/statefulset.yaml");

/// `section → key → values` (a key may repeat: `Environment=`, `SystemCallFilter=`).
type Unit = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn parse_unit(text: &str) -> Unit {
    let mut unit = Unit::new();
    let mut section = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.to_string());
            unit.entry(name.to_string()).or_default();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: not key=value: {line}", index + 1));
        let section = section
            .clone()
            .unwrap_or_else(|| panic!("line {}: a key before any section", index + 1));
        unit.entry(section)
            .or_default()
            .entry(key.trim().to_string())
            .or_default()
            .push(value.trim().to_string());
    }
    unit
}

fn one<'a>(unit: &'a Unit, key: &str) -> &'a str {
    let values = unit["Service"]
        .get(key)
        .unwrap_or_else(|| panic!("[Service] has no {key}="));
    assert_eq!(values.len(), 1, "{key}= given {} times", values.len());
    &values[0]
}

#[test]
fn the_unit_runs_one_instance_per_location_config() {
    let unit = parse_unit(UNIT);
    assert_eq!(
        unit.keys().collect::<Vec<_>>(),
        ["Install", "Service", "Unit"]
    );
    let exec = one(&unit, "ExecStart");
    let words: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(
        words,
        [
            "/usr/local/bin/ghlsync",
            "--config",
            "/etc/ghlsync/%i.toml",
            "run"
        ]
    );
    // We do not speak sd_notify: a notify unit would never be seen as started.
    assert!(
        ["simple", "exec"].contains(&one(&unit, "Type")),
        "Type={}",
        one(&unit, "Type")
    );
    assert_eq!(one(&unit, "StateDirectory"), "ghlsync/%i");
    assert_eq!(one(&unit, "RuntimeDirectory"), "ghlsync");
    assert_eq!(one(&unit, "RuntimeDirectoryMode"), "0700");
    assert_eq!(
        one(&unit, "RuntimeDirectoryPreserve"),
        "yes",
        "instances share the runtime folder: one stopping must not remove the others' sockets"
    );
    assert!(unit["Install"].contains_key("WantedBy"));
}

#[test]
fn the_unit_is_hardened() {
    let unit = parse_unit(UNIT);
    for (key, value) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
        ("UMask", "0077"),
        ("Restart", "on-failure"),
        ("KillSignal", "SIGTERM"),
    ] {
        assert_eq!(one(&unit, key), value, "{key}");
    }
    let families: Vec<&str> = one(&unit, "RestrictAddressFamilies")
        .split_whitespace()
        .collect();
    assert_eq!(families, ["AF_UNIX", "AF_INET", "AF_INET6"]);
    assert!(
        unit["Service"]["SystemCallFilter"]
            .iter()
            .any(|v| v == "@system-service"),
        "{:?}",
        unit["Service"]["SystemCallFilter"]
    );
    let dedicated = unit["Service"]
        .get("DynamicUser")
        .is_some_and(|v| v == &["yes"])
        || unit["Service"]
            .get("User")
            .is_some_and(|v| v.iter().all(|u| u != "root" && !u.is_empty()));
    assert!(dedicated, "a user of its own: DynamicUser=yes or User=");
    assert!(
        one(&unit, "ExecReload").ends_with("-HUP $MAINPID"),
        "reload is SIGHUP"
    );
}

#[test]
fn stopping_waits_longer_than_the_drain() {
    let unit = parse_unit(UNIT);
    let stop: u64 = one(&unit, "TimeoutStopSec")
        .trim_end_matches('s')
        .parse()
        .expect("TimeoutStopSec in seconds");
    let drain = ServiceSection::default().drain_secs;
    assert!(
        stop >= drain * 2,
        "TimeoutStopSec={stop} for a {drain} s drain"
    );
}

#[test]
fn the_xdg_dirs_point_into_the_units_own_directories() {
    let unit = parse_unit(UNIT);
    let env: BTreeMap<&str, &str> = unit["Service"]["Environment"]
        .iter()
        .map(|e| e.split_once('=').expect("NAME=value"))
        .collect();
    let state = format!("/var/lib/{}", one(&unit, "StateDirectory"));
    for name in ["XDG_STATE_HOME", "XDG_DATA_HOME"] {
        let value = env.get(name).unwrap_or_else(|| panic!("no {name}"));
        assert!(
            value.starts_with(&state),
            "{name}={value} is outside {state}: ProtectSystem=strict makes it read-only"
        );
    }
    // ghlsync puts its sockets in $XDG_RUNTIME_DIR/ghlsync: the RuntimeDirectory.
    let runtime = env.get("XDG_RUNTIME_DIR").expect("XDG_RUNTIME_DIR");
    assert_eq!(
        format!("{runtime}/ghlsync"),
        format!("/run/{}", one(&unit, "RuntimeDirectory"))
    );
}

/// The YAML documents, split on `---` lines.
fn documents() -> Vec<&'static str> {
    STATEFULSET
        .split("\n---")
        .filter(|d| d.lines().any(|l| l.starts_with("kind:")))
        .collect()
}

fn document(kind: &str) -> &'static str {
    documents()
        .into_iter()
        .find(|d| d.lines().any(|l| l == format!("kind: {kind}")))
        .unwrap_or_else(|| panic!("no {kind}"))
}

/// The values of `key:` anywhere in `doc`, trimmed.
fn values<'a>(doc: &'a str, key: &str) -> Vec<&'a str> {
    doc.lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix(key))
        .filter_map(|rest| rest.strip_prefix(':'))
        .map(|v| v.split(" #").next().unwrap_or(v).trim())
        .collect()
}

/// Each `ghlsync-N: |` block of the ConfigMap, as the TOML text a pod gets.
fn embedded_configs() -> Vec<(String, String)> {
    let doc = document("ConfigMap");
    let mut configs: Vec<(String, String)> = Vec::new();
    for line in doc.lines() {
        if let Some(name) = line
            .strip_prefix("  ")
            .and_then(|l| l.strip_suffix(": |"))
            .filter(|n| !n.starts_with(' '))
        {
            configs.push((name.to_string(), String::new()));
        } else if let Some((_, text)) = configs.last_mut()
            && (line.is_empty() || line.starts_with("    "))
        {
            text.push_str(line.strip_prefix("    ").unwrap_or(""));
            text.push('\n');
        }
    }
    configs
}

#[test]
fn the_statefulset_gives_each_pod_its_own_store_and_waits_out_the_drain() {
    let set = document("StatefulSet");
    assert!(set.contains("volumeClaimTemplates:"), "a volume per pod");
    let claim = values(set, "name")
        .into_iter()
        .find(|n| *n == "store")
        .expect("the claim is named store");
    assert!(
        set.contains(&format!(
            "- name: {claim}\n              mountPath: /var/lib/ghlsync"
        )),
        "the store volume is mounted where XDG_DATA_HOME points"
    );
    assert_eq!(
        values(set, "args"),
        [r#"["--config", "/etc/ghlsync/ghlsync.toml", "run"]"#]
    );
    for probe in ["readinessProbe", "livenessProbe"] {
        let at = set.find(&format!("{probe}:")).expect(probe);
        assert!(
            set[at..]
                .lines()
                .take(4)
                .any(|l| l.trim() == "path: /healthz"),
            "{probe} asks /healthz"
        );
    }
    let grace: u64 = values(set, "terminationGracePeriodSeconds")[0]
        .parse()
        .unwrap();
    let replicas: usize = values(set, "replicas")[0].parse().unwrap();
    let configs = embedded_configs();
    assert_eq!(configs.len(), replicas, "one config per pod");
    for (index, (name, text)) in configs.iter().enumerate() {
        assert_eq!(name, &format!("ghlsync-{index}"), "keyed by the pod's name");
        let config = Config::parse(text, Path::new(name))
            .unwrap_or_else(|err| panic!("{name} does not parse: {err}"));
        assert!(
            grace > config.service.drain_secs + 10,
            "terminationGracePeriodSeconds {grace} for {name}'s {} s drain",
            config.service.drain_secs
        );
        let listen = config.service.listen.expect("a listener for the probes");
        assert!(
            listen.ends_with(":8080") && values(set, "containerPort") == ["8080"],
            "{name} listens on {listen}"
        );
    }
    let instances: std::collections::BTreeSet<String> = configs
        .iter()
        .map(|(name, text)| {
            Config::parse(text, Path::new(name))
                .unwrap()
                .service
                .instance
        })
        .collect();
    assert_eq!(instances.len(), configs.len(), "instance names differ");
}

#[test]
fn secrets_reach_the_pod_owner_only() {
    let set = document("StatefulSet");
    assert_eq!(values(set, "secretName"), ["ghlsync-secrets"]);
    for mode in values(set, "defaultMode") {
        let bits = u32::from_str_radix(mode.trim_start_matches("0o"), 8).unwrap();
        assert_eq!(
            bits & 0o077,
            0,
            "defaultMode {mode} opens the files to others"
        );
    }
    // The copy ghlsync reads is made 0600 (a Secret under fsGroup is group-readable).
    assert!(set.contains("install -m 0600 /secrets/$(POD_NAME) /etc/ghlsync/secrets.toml"));
    assert_eq!(values(set, "runAsNonRoot"), ["true"]);
    assert!(
        values(set, "allowPrivilegeEscalation")
            .iter()
            .all(|v| *v == "false")
    );
    let service = document("Service");
    assert_eq!(values(service, "targetPort"), ["webhooks"]);
    assert!(values(set, "name").contains(&"webhooks"));
    // No secret value in the ConfigMap: ghlsync.toml refuses them anyway, but say it here.
    for (name, text) in embedded_configs() {
        assert!(
            !text.contains("token") && !text.contains("password"),
            "{name}"
        );
    }
}
