use super::*;
use serde_json::json;

#[test]
fn path_params_pair_template_and_path() {
    let p = path_params(
        "/contacts/{contactId}/tasks/{taskId}",
        "/contacts/c1/tasks/t9",
    );
    assert_eq!(p.get("contactId"), Some(&"c1"));
    assert_eq!(p.get("taskId"), Some(&"t9"));
}

#[test]
fn routes_map_to_their_events() {
    let (op, target) = classify(
        &Method::PUT,
        "/contacts/{contactId}/tasks/{taskId}/completed",
        "/contacts/c1/tasks/t1/completed",
    )
    .unwrap();
    assert_eq!(op, Op::TaskEdit);
    assert_eq!(target, Some(Target::Task("c1".into(), "t1".into())));
    assert!(classify(&Method::POST, "/contacts/search", "/contacts/search").is_none());
    assert!(classify(&Method::POST, "/locations/{locationId}/customFields", "/x").is_none());
}

#[test]
fn a_contact_update_tells_tags_and_dnd_only_when_they_changed() {
    let before = json!({"id": "c", "tags": ["a"], "dnd": false, "email": "x@y"});
    let after = json!({"id": "c", "tags": ["a", "b"], "dnd": false, "email": "x@y",
                       "firstNameLowerCase": "x"});
    let out = events(
        Op::ContactUpdate,
        "L",
        Some(&before),
        Some(&after),
        false,
        &[],
    );
    let kinds: Vec<_> = out.iter().map(|e| e["type"].clone()).collect();
    assert_eq!(
        kinds,
        vec![json!("ContactUpdate"), json!("ContactTagUpdate")]
    );
    assert_eq!(out[0]["locationId"], json!("L"));
    assert!(
        out[0].get("firstNameLowerCase").is_none(),
        "only documented keys"
    );
}

#[test]
fn only_a_task_becoming_complete_is_an_event() {
    let open = json!({"id": "t", "completed": false, "contactId": "c"});
    let done = json!({"id": "t", "completed": true, "contactId": "c"});
    assert!(events(Op::TaskEdit, "L", Some(&open), Some(&open), false, &[]).is_empty());
    let out = events(Op::TaskEdit, "L", Some(&open), Some(&done), false, &[]);
    assert_eq!(out[0]["type"], json!("TaskComplete"));
    assert_eq!(out[0]["contactId"], json!("c"));
    assert!(events(Op::TaskEdit, "L", Some(&done), Some(&done), false, &[]).is_empty());
}

#[test]
fn appointments_nest_under_appointment() {
    let appt = json!({"id": "a", "calendarId": "cal", "locationId": "L", "title": "T"});
    let out = events(Op::AppointmentDelete, "L", Some(&appt), None, false, &[]);
    assert_eq!(out[0]["type"], json!("AppointmentDelete"));
    assert_eq!(out[0]["appointment"]["id"], json!("a"));
    assert!(out[0]["appointment"].get("locationId").is_none());
    assert!(out[0].get("id").is_none());
}
