//! Raw-bytes entry points to each parser of outside input, for the fuzz targets (`tests/fuzz/`)
//! and the hostile-input tests (`tests/hostile/`). Each feeds its bytes the way the code that
//! receives them does; the parsers behind them are private to their modules, so this is the one
//! door a fuzzer has. Not an API: results are dropped, only a panic or a hang matters here.

use serde_json::Value;

use crate::ghl::models::{
    CalendarList, ContactEnvelope, ContactList, CustomFieldList, EventEnvelope, EventList,
    NoteEnvelope, NoteList, TaskEnvelope, TaskList,
};

/// A GHL answer: as a 2xx, decoded into each model the client reads, under its wrapping key
/// (checked first where the client does: `customFields`);
/// as a 4xx and a 5xx, read as GHL's error body; as the OAuth token endpoint's answer.
pub fn ghl_answer(bytes: &[u8]) {
    use crate::ghl::error::RequestContext;
    use crate::ghl::transport::decode::{Answer, decode, error_from_answer};
    let ctx = RequestContext {
        method: "GET".to_string(),
        path: "/contacts/".to_string(),
    };
    let answer = |status| Answer {
        status,
        headers: reqwest::header::HeaderMap::new(),
        body: bytes.to_vec(),
    };
    let ok = answer(200);
    let _ = decode::<ContactEnvelope>(&ctx, &ok, Some("contact"), false, &[]);
    let _ = decode::<ContactList>(&ctx, &ok, Some("contacts"), false, &[]);
    let _ = decode::<TaskEnvelope>(&ctx, &ok, Some("task"), false, &[]);
    let _ = decode::<TaskList>(&ctx, &ok, Some("tasks"), false, &[]);
    let _ = decode::<NoteEnvelope>(&ctx, &ok, Some("note"), false, &[]);
    let _ = decode::<NoteList>(&ctx, &ok, Some("notes"), false, &[]);
    let _ = decode::<EventEnvelope>(&ctx, &ok, Some("event"), false, &[]);
    let _ = decode::<EventList>(&ctx, &ok, Some("events"), false, &[]);
    let _ = decode::<CalendarList>(&ctx, &ok, Some("calendars"), false, &[]);
    let _ = decode::<CustomFieldList>(&ctx, &ok, Some("customFields"), true, &[]);
    let _ = decode::<Value>(&ctx, &ok, None, false, &[]);
    for status in [400, 422, 429, 503] {
        let _ = error_from_answer(&ctx, &answer(status), true, "contacts.write", "loc", &[]);
    }
    let _ = serde_json::from_slice::<crate::ghl::models::TokenResponse>(bytes);
}

/// A peer's answer: read as `PeerHttp` reads a body (lossy UTF-8, a BOM dropped, empty is
/// `null`), then through each connector's page reader: Repsly's clients and notes pages,
/// Robly's member, Rezora's contact rows.
pub fn peer_answer(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim().trim_start_matches('\u{feff}');
    let json: Value = if trimmed.is_empty() {
        Value::Null
    } else {
        match serde_json::from_str(trimmed) {
            Ok(json) => json,
            Err(_) => {
                let _ = crate::peers::http::errors::looks_like_html(trimmed);
                return;
            }
        }
    };
    crate::peers::registry::fuzz::peer_answer(&json);
}

/// A file peer's inbox file, as CSV and as JSONL.
pub fn inbox_file(bytes: &[u8]) {
    crate::peers::registry::fuzz::inbox_file(bytes);
}

/// A webhook delivery: GHL's, and the Growbots bridge's.
pub fn webhook_body(bytes: &[u8]) {
    let _ = crate::ghl::webhook::WebhookEvent::parse(bytes);
    crate::peers::registry::fuzz::bridge_event(bytes);
}

/// A mapping file's text.
pub fn mapping_file(text: &str) {
    let _ = crate::sync::mapping::Mapping::parse(text, "fuzz.mapping.toml");
}

/// A connector file's text.
pub fn connector_file(text: &str) {
    crate::peers::registry::fuzz::connector_file(text);
}

/// A keymap.toml's text, layered over the default keymap.
pub fn keymap_file(text: &str) {
    let _ = crate::console::keymap::Keymap::from_texts(Some(("keymap.toml", text)));
}

/// A ghlsync.toml's text.
pub fn config_file(text: &str) {
    let _ = crate::config::Config::parse(text, std::path::Path::new("ghlsync.toml"));
}

/// A stored value, as each tree's reader decodes it.
pub fn store_value(bytes: &[u8]) {
    use crate::store::codec::decode;
    let key = b"peer/contact/K1";
    let _ = decode::<crate::store::IdLink>("idmap", key, bytes);
    let _ = decode::<crate::store::Baseline>("baselines", key, bytes);
    let _ = decode::<crate::store::Operation>("ops", key, bytes);
    let _ = decode::<crate::store::LogEntry>("log", key, bytes);
    let _ = decode::<crate::store::RunRecord>("runs", key, bytes);
    let _ = decode::<crate::store::MappingVersion>("mappings", key, bytes);
    let _ = decode::<crate::store::KnownPerson>("peer_identity", key, bytes);
    let _ = decode::<crate::store::PeerAccount>("meta", key, bytes);
    let _ = decode::<crate::store::InboxEntry>("inbox", key, bytes);
    let _ = decode::<String>("idmap_rev", key, bytes);
    let _ = decode::<u32>("meta", key, bytes);
}
