//! Property tests for the parsers the crate's own proptests do not reach: arbitrary bytes, and
//! valid inputs broken at a random place, never panic; each error still names its place. The
//! store's codec: every stored type survives arbitrary bytes and round-trips what it wrote.
//! Case counts are bounded so the whole target stays well under two minutes in debug.

use chrono::{DateTime, TimeZone, Utc};
use ghlsync::config::Config;
use ghlsync::console::keymap::Keymap;
use ghlsync::ghl::models::{
    CalendarList, ContactEnvelope, ContactList, CustomFieldList, EventEnvelope, EventList,
    NoteList, TaskList,
};
use ghlsync::ghl::webhook::WebhookEvent;
use ghlsync::peers::rest::ConnectorFile;
use ghlsync::store::{Baseline, IdLink, codec};
use ghlsync::sync::mapping::Mapping;
use proptest::prelude::*;
use std::path::Path;

const REPSLY_MAPPING: &str = include_str!("../../assets/mappings/repsly.toml");
const CONNECTOR: &str = include_str!("../../assets/connectors/crm-offset.toml");
const KEYMAP: &str = include_str!("../../keymap.toml");
const CONFIG: &str = "[ghl]\nbase_url = \"https://services.leadconnectorhq.com\"\nlocation_id = \"loc-1\"\n\n[store]\npath = \"/tmp/x\"\n";

/// `text` broken at one place: cut short, a byte replaced, or a snippet inserted.
fn broken(text: &'static str) -> impl Strategy<Value = String> {
    let snippets = prop::sample::select(vec![
        "\"", "[", "]", "{", "}", "=", "\n", "\0", "\u{feff}", "[[x]]\n", "= 5", "\"\\u", "#",
        "'''", "\r", "é",
    ]);
    (0..=text.len(), 0..3u8, snippets).prop_map(move |(at, how, snippet)| {
        let at = (0..=at)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        match how {
            0 => text[..at].to_string(),
            1 => {
                let end = (at + 1..=text.len())
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(text.len());
                format!("{}{snippet}{}", &text[..at], &text[end..])
            }
            _ => format!("{}{snippet}{}", &text[..at], &text[at..]),
        }
    })
}

fn any_json() -> impl Strategy<Value = serde_json::Value> {
    json_of(any::<f64>().prop_map(serde_json::Value::from).boxed())
}

/// JSON whose numbers survive a round trip exactly (serde_json may move a float by an ulp).
fn exact_json() -> impl Strategy<Value = serde_json::Value> {
    json_of(any::<i32>().prop_map(serde_json::Value::from).boxed())
}

fn json_of(number: BoxedStrategy<serde_json::Value>) -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        number,
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let keys = prop::sample::select(vec![
            "type",
            "id",
            "contactId",
            "timestamp",
            "appointment",
            "locationId",
            "webhookId",
            "prospect",
            "email",
            "occurred_at",
            "reply",
            "body",
            "contact",
            "contacts",
            "meta",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys, inner, 0..6).prop_map(|m| {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ghl_webhook_bodies_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), value in any_json(), timestamp in any::<i64>()) {
        let _ = WebhookEvent::parse(&bytes);
        let _ = WebhookEvent::parse(value.to_string().as_bytes());
        let body = serde_json::json!({"type": "ContactUpdate", "id": "c1", "timestamp": timestamp});
        let _ = WebhookEvent::parse(body.to_string().as_bytes());
    }

    #[test]
    fn growbots_event_bodies_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), value in any_json()) {
        let _ = ghlsync::peers::growbots::Event::parse(&bytes);
        let _ = ghlsync::peers::growbots::Event::parse(value.to_string().as_bytes());
    }

    #[test]
    fn ghl_answer_models_never_panic(value in any_json(), bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        let text = value.to_string();
        for body in [text.as_bytes(), &bytes[..]] {
            let _ = serde_json::from_slice::<ContactEnvelope>(body);
            let _ = serde_json::from_slice::<ContactList>(body);
            let _ = serde_json::from_slice::<TaskList>(body);
            let _ = serde_json::from_slice::<NoteList>(body);
            let _ = serde_json::from_slice::<EventList>(body);
            let _ = serde_json::from_slice::<EventEnvelope>(body);
            let _ = serde_json::from_slice::<CalendarList>(body);
            let _ = serde_json::from_slice::<CustomFieldList>(body);
        }
    }

    #[test]
    fn socket_frames_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), value in any_json()) {
        use ghlsync::engine::socket::frame;
        let _ = frame::decode::<frame::ClientFrame>(&bytes);
        let _ = frame::decode::<frame::ServerFrame>(&bytes);
        let text = value.to_string();
        let _ = frame::decode::<frame::ClientFrame>(text.as_bytes());
        let _ = frame::hello_protocol(text.as_bytes());
    }

    #[test]
    fn peer_answers_and_inbox_files_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), value in any_json()) {
        ghlsync::fuzzing::peer_answer(&bytes);
        ghlsync::fuzzing::peer_answer(value.to_string().as_bytes());
        ghlsync::fuzzing::inbox_file(&bytes);
        ghlsync::fuzzing::ghl_answer(&bytes);
        ghlsync::fuzzing::ghl_answer(value.to_string().as_bytes());
    }

    #[test]
    fn csv_like_inbox_files_never_panic(text in "(?s)[a-z,;\"\n\r\u{feff} é0-9{}:\\[\\]]{0,200}") {
        ghlsync::fuzzing::inbox_file(text.as_bytes());
    }

    #[test]
    fn retry_after_never_panics(text in ".{0,40}") {
        let _ = ghlsync::net::parse_retry_after(&text, std::time::Duration::from_secs(60));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn broken_mapping_files_never_panic_and_name_their_place(text in broken(REPSLY_MAPPING)) {
        if let Err(err) = Mapping::parse(&text, "mapping.toml") {
            prop_assert!(err.to_string().contains("mapping.toml"), "{err}");
        }
    }

    #[test]
    fn broken_connector_files_never_panic_and_name_their_place(text in broken(CONNECTOR)) {
        if let Err(err) = ConnectorFile::parse(&text, "acme.toml") {
            prop_assert!(err.to_string().contains("acme.toml"), "{err}");
        }
    }

    #[test]
    fn broken_keymaps_never_panic_and_warnings_name_the_file(text in broken(KEYMAP)) {
        let (_, warnings) = Keymap::from_texts(Some(("keymap.toml", &text)));
        for warning in warnings {
            prop_assert!(warning.to_string().contains("keymap.toml"), "{warning}");
        }
    }

    #[test]
    fn broken_configs_never_panic_and_name_their_place(text in broken(CONFIG)) {
        if let Err(err) = Config::parse(&text, Path::new("/etc/ghlsync.toml")) {
            prop_assert!(err.to_string().contains("/etc/ghlsync.toml"), "{err}");
        }
    }

    /// `Config::to_toml` (what `config check` and `--write-config` print) reads back as the
    /// config it printed.
    #[test]
    fn configs_round_trip_through_their_printer(
        base_url in prop::sample::select(vec!["https://services.leadconnectorhq.com", "http://127.0.0.1:8080", "https://proxy.example.com/ghl"]),
        location in "[A-Za-z0-9]{1,24}",
        timeout in 1u64..600,
        store in proptest::option::of("/[a-z0-9_]{1,12}(/[a-z0-9_.-]{1,12}){0,3}"),
        days in proptest::option::of(1u32..3650),
        zone in proptest::option::of(prop::sample::select(vec!["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata"])),
    ) {
        let mut text = format!("[ghl]\nbase_url = \"{base_url}\"\nlocation_id = \"{location}\"\ntimeout_secs = {timeout}\n");
        if store.is_some() || days.is_some() {
            text.push_str("\n[store]\n");
        }
        if let Some(store) = &store {
            text.push_str(&format!("path = \"{store}\"\n"));
        }
        if let Some(days) = days {
            text.push_str(&format!("log_max_age_days = {days}\n"));
        }
        if let Some(zone) = zone {
            text.push_str(&format!("\n[console]\ntime_zone = \"{zone}\"\n"));
        }
        let path = Path::new("/etc/ghlsync.toml");
        let config = Config::parse(&text, path).unwrap();
        let printed = config.to_toml();
        let again = Config::parse(&printed, path).unwrap_or_else(|err| panic!("{err}\n{printed}"));
        prop_assert_eq!(&again.ghl, &config.ghl);
        prop_assert_eq!(&again.store, &config.store);
        prop_assert_eq!(&again.console, &config.console);
        prop_assert_eq!(again.to_toml(), printed);
    }

    #[test]
    fn arbitrary_text_as_any_file_never_panics(text in "(?s).{0,200}") {
        let _ = Mapping::parse(&text, "m.toml");
        let _ = ConnectorFile::parse(&text, "c.toml");
        let _ = Keymap::from_texts(Some(("k.toml", &text)));
        let _ = Config::parse(&text, Path::new("g.toml"));
    }
}

fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_102_444_800, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| Utc.timestamp_opt(secs, nanos).single().unwrap_or_default())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_store_codec_refuses_arbitrary_bytes_naming_tree_and_key(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        macro_rules! each {
            ($($t:ty),*) => {$(
                if let Err(err) = codec::decode::<$t>("idmap", b"peer/contact/K1", &bytes) {
                    let message = err.to_string();
                    prop_assert!(message.contains("idmap") && message.contains("peer/contact/K1"), "{message}");
                }
            )*};
        }
        each!(IdLink, Baseline, ghlsync::store::Operation, ghlsync::store::LogEntry,
            ghlsync::store::RunRecord, ghlsync::store::MappingVersion, ghlsync::store::KnownPerson,
            ghlsync::store::PeerAccount, ghlsync::store::InboxEntry, u32, String);
    }

    #[test]
    fn the_store_codec_round_trips_links_and_baselines(
        ghl_id in ".{0,40}", parent in proptest::option::of(".{0,20}"), listed_as in proptest::option::of(".{0,20}"),
        at in any_time(), hashes in ("[0-9a-f]{0,64}", "[0-9a-f]{0,64}"), fields in prop::collection::btree_map(".{0,10}", exact_json(), 0..6),
    ) {
        let link = IdLink { ghl_id, linked_at: at, parent, listed_as };
        let bytes = codec::encode(&link).unwrap();
        prop_assert_eq!(codec::decode::<IdLink>("idmap", b"k", &bytes).unwrap(), link);
        let baseline = Baseline {
            peer_hash: hashes.0,
            ghl_hash: hashes.1,
            fields: fields.into_iter().collect(),
            synced_at: at,
        };
        let bytes = codec::encode(&baseline).unwrap();
        prop_assert_eq!(codec::decode::<Baseline>("baselines", b"k", &bytes).unwrap(), baseline);
    }
}
