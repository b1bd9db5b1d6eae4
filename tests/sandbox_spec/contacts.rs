//! Contact, task, note and appointment write bodies: objects only, judged in class-validator's
//! words, with `dateOfBirth` and `customFields` as contacts.json has them.

use serde_json::json;

use crate::{Api, CALENDARS, CONTACTS, assert_no_serde_words, messages};

#[tokio::test]
async fn bodies_that_are_not_objects_are_refused_on_every_write() {
    let api = Api::start().await;
    let contact = api.contact().await;
    let location = api.location();
    let (_, task) = api
        .json(
            "POST",
            &format!("/contacts/{contact}/tasks"),
            CONTACTS,
            &json!({"title": "t", "dueDate": "2026-12-02T15:00:00Z", "completed": false}),
        )
        .await;
    let task = task["task"]["id"].as_str().unwrap().to_string();
    let (_, note) = api
        .json(
            "POST",
            &format!("/contacts/{contact}/notes"),
            CONTACTS,
            &json!({"body": "n"}),
        )
        .await;
    let note = note["note"]["id"].as_str().unwrap().to_string();
    let calendar = api.calendar().await;
    let (status, appt) = api
        .json(
            "POST",
            "/calendars/events/appointments",
            CALENDARS,
            &json!({"calendarId": calendar, "locationId": location, "contactId": contact,
                    "startTime": "2026-12-02T15:00:00+00:00"}),
        )
        .await;
    assert_eq!(status, 200, "{appt}");
    let appt = appt["id"].as_str().unwrap().to_string();
    let writes = [
        ("POST", "/contacts/".to_string(), CONTACTS),
        ("POST", "/contacts/upsert".to_string(), CONTACTS),
        ("PUT", format!("/contacts/{contact}"), CONTACTS),
        ("POST", format!("/contacts/{contact}/tasks"), CONTACTS),
        ("PUT", format!("/contacts/{contact}/tasks/{task}"), CONTACTS),
        (
            "PUT",
            format!("/contacts/{contact}/tasks/{task}/completed"),
            CONTACTS,
        ),
        ("POST", format!("/contacts/{contact}/notes"), CONTACTS),
        ("PUT", format!("/contacts/{contact}/notes/{note}"), CONTACTS),
        (
            "POST",
            "/calendars/events/appointments".to_string(),
            CALENDARS,
        ),
        (
            "PUT",
            format!("/calendars/events/appointments/{appt}"),
            CALENDARS,
        ),
        ("POST", format!("/contacts/{contact}/tags"), CONTACTS),
    ];
    for (method, path, version) in &writes {
        for body in ["[null,null]", "[]", "5", "null", "true", "\"text\""] {
            let (status, answer) = api.send(method, path, version, Some(body)).await;
            let expected = if body.starts_with('[') { 422 } else { 400 };
            assert_eq!(status, expected, "{method} {path} {body}: {answer}");
            assert_eq!(answer["statusCode"], expected, "{answer}");
            assert_no_serde_words(&answer);
        }
    }
}

#[tokio::test]
async fn date_of_birth_takes_the_listed_formats_only() {
    let api = Api::start().await;
    let contact = api.contact().await;
    let path = format!("/contacts/{contact}");
    for bad in [
        json!(false),
        json!(0),
        json!({}),
        json!("not a date"),
        json!("1990-13-45"),
    ] {
        let (status, answer) = api
            .json("PUT", &path, CONTACTS, &json!({"dateOfBirth": bad}))
            .await;
        assert_eq!(status, 422, "{bad}: {answer}");
        assert!(
            messages(&answer).starts_with("dateOfBirth must be"),
            "{answer}"
        );
        let (status, answer) = api
            .json(
                "POST",
                "/contacts/upsert",
                CONTACTS,
                &json!({"locationId": api.location(), "email": "dob@example.org", "dateOfBirth": bad}),
            )
            .await;
        assert_eq!(status, 422, "{bad}: {answer}");
    }
    for good in [
        "1990-09-25",
        "1990/09/25",
        "09/25/1990",
        "09-25-1990",
        "1990.09.25",
        "09_25_1990",
    ] {
        let (status, answer) = api
            .json("PUT", &path, CONTACTS, &json!({"dateOfBirth": good}))
            .await;
        assert_eq!(status, 200, "{good}: {answer}");
        assert_eq!(answer["contact"]["dateOfBirth"], good);
    }
    let (status, answer) = api
        .json("PUT", &path, CONTACTS, &json!({"dateOfBirth": null}))
        .await;
    assert_eq!(status, 200, "nullable per spec: {answer}");
}

#[tokio::test]
async fn refusals_speak_class_validator_and_custom_fields_follow_the_spec() {
    let api = Api::start().await;
    let contact = api.contact().await;
    let path = format!("/contacts/{contact}");
    let (status, fields) = api
        .send(
            "GET",
            &format!("/locations/{}/customFields", api.location()),
            CONTACTS,
            None,
        )
        .await;
    assert_eq!(status, 200, "{fields}");
    let field = fields["customFields"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // `{"id"}` alone is valid: every member of the spec's anyOf requires only `id`.
    let (status, answer) = api
        .json(
            "PUT",
            &path,
            CONTACTS,
            &json!({"customFields": [{"id": field}]}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");

    let cases = [
        (
            json!({"customFields": [{"id": field, "value": "x"}]}),
            "customFields.0.property value should not exist",
        ),
        (
            json!({"customFields": [{"id": 5, "field_value": "x"}]}),
            "customFields.0.id must be a string",
        ),
        (
            json!({"customFields": [5]}),
            "nested property customFields.0 must be either object or array",
        ),
        (
            json!({"dndSettings": {"Call": {"status": "on"}}}),
            "dndSettings.Call.status must be one of the following values: active, inactive, permanent",
        ),
        (
            json!({"dndSettings": {"Fax": {"status": "active"}}}),
            "dndSettings.property Fax should not exist",
        ),
        (
            json!({"inboundDndSettings": {"all": {"message": "quiet"}}}),
            "inboundDndSettings.all.status must be one of the following values: active, inactive",
        ),
        (json!({"firstName": 5}), "firstName must be a string"),
    ];
    for (body, expected) in cases {
        let (status, answer) = api.json("PUT", &path, CONTACTS, &body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(messages(&answer), expected, "{body}");
        assert_no_serde_words(&answer);
    }
    let upsert = json!({"locationId": api.location(), "email": "cv@example.org",
                        "customFields": [{"key": "x", "value": 1}]});
    let (status, answer) = api
        .json("POST", "/contacts/upsert", CONTACTS, &upsert)
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_no_serde_words(&answer);
}
