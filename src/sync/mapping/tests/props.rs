//! Transforms take text typed by people into other apps: none of them may panic on any input.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{builtin, record};
use crate::peers::EntityKind;
use crate::sync::mapping::text::{NamePart, name_part};
use crate::sync::mapping::{dates, phone};

proptest! {
    #[test]
    fn phone_never_panics(text in any::<String>(), region in prop::sample::select(vec![None, Some("US"), Some("GB"), Some("DE")])) {
        let _ = phone::to_e164(&text, region);
    }

    #[test]
    fn phone_like_text_never_panics(text in "(tel:)?\\+?[0-9 ()\\-.]{0,20}(;ext=|;phone-context=| x| ext\\. )?[0-9a-z;=+.]{0,10}") {
        if let Ok(e164) = phone::to_e164(&text, Some("US")) {
            prop_assert!(e164.starts_with('+'));
            prop_assert!(e164[1..].chars().all(|c| c.is_ascii_digit()));
        }
    }

    /// The North American fast path gives what the parser gives, for every number it takes.
    #[test]
    fn phone_fast_path_agrees_with_the_parser(
        prefix in prop::sample::select(vec!["", "+1", "+1 ", "+1-", "+1(", "+1.", "1", "1-", "1 (", "+", "+44 ", "0"]),
        national in "[0-9]{3}[0-9]{3}[0-9]{4}",
        separators in prop::collection::vec(prop::sample::select(vec!["", " ", "-", ".", "(", ")", ") ", "x", "/"]), 3),
        region in prop::sample::select(vec![None, Some("US"), Some("CA"), Some("GB"), Some("us")]),
    ) {
        let text = format!(
            "{prefix}{}{}{}{}{}",
            &national[..3], separators[0], &national[3..6], separators[1], &national[6..]
        ) + separators[2];
        let fast = phone::to_e164(&text, region);
        let parsed = phone::parse(text.trim(), region);
        prop_assert_eq!(fast, parsed, "{:?} in {:?}", text, region);
    }

    #[test]
    fn dates_never_panic(text in any::<String>(), time in "[0-9: APM]{0,10}", minutes in any::<i64>()) {
        let _ = dates::parse_text(&text, chrono_tz::Tz::America__New_York);
        let _ = dates::parse_parts(&[json!(text), json!(time), json!(minutes)], chrono_tz::Tz::UTC, None);
    }

    #[test]
    fn date_like_text_never_panics(text in "(/Date\\()?-?[0-9]{0,16}([+-][0-9]{4})?(\\)/)?|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?)?Z?") {
        if let Ok(at) = dates::parse_text(&text, chrono_tz::Tz::Europe__Paris) {
            prop_assert!(dates::to_iso(at).ends_with('Z'));
        }
    }

    #[test]
    fn name_parts_never_panic_and_keep_every_word(text in any::<String>()) {
        let first = name_part(&text, NamePart::First);
        let last = name_part(&text, NamePart::Last);
        if !text.contains(',') {
            let words: Vec<&str> = text.split_whitespace().collect();
            let joined = format!("{first} {last}");
            prop_assert_eq!(joined.split_whitespace().collect::<Vec<_>>(), words);
        }
    }

    #[test]
    fn whole_records_never_panic(values in prop::collection::vec(any::<String>(), 12)) {
        let mapping = builtin();
        let names = ["Name", "ContactName", "Email", "Phone", "Mobile", "ZIP", "Tag", "Active", "Note", "ScheduledDate", "ScheduledTime", "ScheduledDuration"];
        let fields: serde_json::Map<String, Value> = names.iter().zip(&values).map(|(n, v)| (n.to_string(), json!(v))).collect();
        for kind in EntityKind::ALL {
            let entity = mapping.entity(kind).unwrap();
            let mapped = entity.to_ghl(&record(kind, "id", Value::Object(fields.clone())));
            let _ = entity.to_peer(&Value::Object(mapped.fields));
        }
    }
}
