//! Query numbers and booleans, and custom field values against their field's type.

use serde_json::json;

use crate::{Api, CALENDARS, CONTACTS, messages};

#[tokio::test]
async fn numbers_booleans_and_custom_field_types_are_judged_as_the_spec_types_them() {
    let api = Api::start().await;
    let location = api.location();
    // `limit` is a number in the spec: any decimal form of one is taken.
    for (limit, expected) in [
        ("1.0", 200),
        ("2e0", 200),
        ("abc", 422),
        ("NaN", 422),
        ("0.0", 422),
    ] {
        let path = format!("/contacts/?locationId={location}&limit={limit}");
        let (status, answer) = api.send("GET", &path, CONTACTS, None).await;
        assert_eq!(status, expected, "limit={limit}: {answer}");
    }
    let (_, page) = api
        .send(
            "GET",
            &format!("/contacts/?locationId={location}&limit=1.0"),
            CONTACTS,
            None,
        )
        .await;
    assert_eq!(page["contacts"].as_array().map(Vec::len), Some(1), "{page}");

    let (status, answer) = api
        .send(
            "GET",
            &format!("/calendars/?locationId={location}&showDrafted=maybe"),
            CALENDARS,
            None,
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(messages(&answer), "showDrafted must be a boolean value");
    let (status, answer) = api
        .send(
            "GET",
            &format!("/calendars/?locationId={location}&showDrafted=false"),
            CALENDARS,
            None,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["calendars"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "active ones stay: {answer}"
    );

    let contact = api.contact().await;
    let path = format!("/contacts/{contact}");
    let refused = [
        (
            json!({"key": "contact.lifetime_value", "field_value": "lots"}),
            "must be a number",
        ),
        (
            json!({"key": "favorite_color", "field_value": 5}),
            "must be a string",
        ),
        (
            json!({"key": "contact.interests", "field_value": "golf"}),
            "must be an array of strings",
        ),
    ];
    for (entry, words) in refused {
        let (status, answer) = api
            .json("PUT", &path, CONTACTS, &json!({"customFields": [entry]}))
            .await;
        assert_eq!(status, 422, "{entry}: {answer}");
        assert!(messages(&answer).contains(words), "{entry}: {answer}");
    }
    let taken = json!({"customFields": [
        {"key": "contact.lifetime_value", "field_value": 42},
        {"key": "contact.favorite_color", "field_value": "teal"},
        {"key": "contact.interests", "field_value": ["golf", "music"]},
    ]});
    let (status, answer) = api.json("PUT", &path, CONTACTS, &taken).await;
    assert_eq!(status, 200, "{answer}");
    let values = answer["contact"]["customFields"].to_string();
    assert!(
        values.contains("teal") && values.contains("music"),
        "{values}"
    );
}
