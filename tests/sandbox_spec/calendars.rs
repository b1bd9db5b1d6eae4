//! Appointments and the calendar events list, in calendars.json's shapes.

use serde_json::{Value, json};

use crate::{Api, CALENDARS, messages};

/// No property of `body` is `null` (the spec types them all as strings, booleans or arrays).
fn assert_no_nulls(body: &Value) {
    for (key, value) in body.as_object().unwrap() {
        assert!(!value.is_null(), "{key} is null in {body}");
    }
}

#[tokio::test]
async fn appointments_answer_the_spec_shapes_and_round_robin_assigns_a_user() {
    let api = Api::start().await;
    let contact = api.contact().await;
    let path = format!("/calendars/?locationId={}", api.location());
    let (_, calendars) = api.send("GET", &path, CALENDARS, None).await;
    let calendar = &calendars["calendars"][0];
    assert_eq!(calendar["calendarType"], "round_robin", "{calendar}");
    let member = calendar["teamMembers"][0]["userId"].as_str().unwrap();
    let body = json!({"calendarId": calendar["id"], "locationId": api.location(),
                      "contactId": contact, "startTime": "2026-12-02T15:00:00+00:00"});
    let (status, created) = api
        .json("POST", "/calendars/events/appointments", CALENDARS, &body)
        .await;
    assert_eq!(status, 200, "{created}");
    assert_no_nulls(&created);
    assert_eq!(created["title"], "Spec", "untitled: the contact's name");
    assert_eq!(
        created["assignedUserId"], member,
        "round robin assigns a member"
    );
    let id = created["id"].as_str().unwrap();

    let event_path = format!("/calendars/events/appointments/{id}");
    let (status, edited) = api
        .json("PUT", &event_path, CALENDARS, &json!({"address": "Zoom"}))
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_no_nulls(&edited);
    assert_eq!(edited["assignedUserId"], member);

    let (status, got) = api.send("GET", &event_path, CALENDARS, None).await;
    assert_eq!(status, 200, "{got}");
    let event = &got["event"];
    // CalendarEventDTO's required properties.
    for key in [
        "id",
        "title",
        "calendarId",
        "locationId",
        "contactId",
        "groupId",
        "appointmentStatus",
        "assignedUserId",
        "users",
        "startTime",
        "endTime",
        "dateAdded",
        "dateUpdated",
    ] {
        assert!(
            event.get(key).is_some_and(|v| !v.is_null()),
            "{key} missing from {event}"
        );
    }
    assert_eq!(event["groupId"], calendar["groupId"]);
    assert_eq!(event["users"], json!([member]));
}

#[tokio::test]
async fn the_calendar_events_list_is_served_as_calendars_json_describes() {
    let api = Api::start().await;
    let location = api.location();
    let contact = api.contact().await;
    let path = format!("/calendars/?locationId={location}");
    let (_, calendars) = api.send("GET", &path, CALENDARS, None).await;
    let calendar = &calendars["calendars"][0];
    let calendar_id = calendar["id"].as_str().unwrap();
    let group = calendar["groupId"].as_str().unwrap();
    // A time outside the seed's window of appointments (two months around now).
    let start = "2030-01-15T10:00:00+00:00";
    let start_ms = 1_894_701_600_000_i64;
    let body = json!({"calendarId": calendar_id, "locationId": location, "contactId": contact,
                      "startTime": start, "title": "Listed"});
    let (status, created) = api
        .json("POST", "/calendars/events/appointments", CALENDARS, &body)
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap();
    let user = created["assignedUserId"].as_str().unwrap();

    let window = format!("startTime={}&endTime={}", start_ms - 1, start_ms + 1);
    for filter in [
        format!("calendarId={calendar_id}"),
        format!("groupId={group}"),
        format!("userId={user}"),
    ] {
        let path = format!("/calendars/events?locationId={location}&{filter}&{window}");
        let (status, answer) = api.send("GET", &path, CALENDARS, None).await;
        assert_eq!(status, 200, "{filter}: {answer}");
        let events = answer["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{filter}: {answer}");
        let event = &events[0];
        assert_eq!(event["id"], id);
        for key in [
            "id",
            "title",
            "calendarId",
            "locationId",
            "contactId",
            "groupId",
            "appointmentStatus",
            "assignedUserId",
            "users",
            "startTime",
            "endTime",
            "dateAdded",
            "dateUpdated",
        ] {
            assert!(
                event.get(key).is_some_and(|v| !v.is_null()),
                "{key} missing: {event}"
            );
        }
    }
    let before = format!("startTime={}&endTime={}", start_ms - 10_000, start_ms - 1);
    let path = format!("/calendars/events?locationId={location}&calendarId={calendar_id}&{before}");
    let (status, answer) = api.send("GET", &path, CALENDARS, None).await;
    assert_eq!(
        (status, answer["events"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{answer}"
    );

    let path = format!("/calendars/events?locationId={location}&{window}");
    let (status, answer) = api.send("GET", &path, CALENDARS, None).await;
    assert_eq!(status, 422, "no calendar, group or user: {answer}");
    let path =
        format!("/calendars/events?locationId={location}&calendarId={calendar_id}&startTime=1");
    let (status, answer) = api.send("GET", &path, CALENDARS, None).await;
    assert_eq!(status, 422, "endTime is required: {answer}");
    assert_eq!(messages(&answer), "endTime must be a number string");
}
