use serde_json::{Value, json};

use super::{builtin, contact_with_rule, entity, record};
use crate::ghl::models::{
    AppointmentCreateDto, Contact, CreateTaskParams, CustomFieldValue, NotesDto, UpsertContactDto,
};
use crate::peers::EntityKind;
use crate::sync::mapping::{Mapping, preview, preview_to_peer, render_preview};

fn dirty_client() -> crate::peers::PeerRecord {
    record(
        EntityKind::Contact,
        "C-001",
        json!({
            "Code": "C-001",
            "Name": "  Acme Corp  ",
            "ContactName": "  john   SMITH ",
            "Email": " JOHN.SMITH@EXAMPLE.COM ",
            "Phone": "(555) 010-2233",
            "Mobile": "call me",
            "StreetAddress": "1 Main St ",
            "ZIP": 10001,
            "City": "New York",
            "Tag": "VIP, north ,, ",
            "Active": true,
            "Note": "x".repeat(5000),
        }),
    )
}

fn custom(fields: &serde_json::Map<String, Value>, key: &str) -> Option<Value> {
    fields["customFields"]
        .as_array()?
        .iter()
        .find(|entry| entry["key"] == key)
        .map(|entry| entry["field_value"].clone())
}

#[test]
fn dirty_repsly_client_maps_to_a_valid_upsert() {
    let mapping = builtin();
    let mapped = entity(&mapping, EntityKind::Contact).to_ghl(&dirty_client());
    let f = &mapped.fields;
    assert_eq!(f["companyName"], "Acme Corp");
    assert_eq!(f["firstName"], "john");
    assert_eq!(f["lastName"], "SMITH");
    assert_eq!(f["email"], "john.smith@example.com");
    assert_eq!(f["phone"], "+15550102233");
    assert_eq!(f["postalCode"], "10001");
    assert_eq!(f["address1"], "1 Main St");
    assert_eq!(f["tags"], json!(["vip", "north"]));
    assert_eq!(f["source"], "repsly");
    assert_eq!(custom(f, "repsly_active"), Some(json!("yes")));
    assert_eq!(custom(f, "repsly_code"), Some(json!("C-001")));
    assert_eq!(
        custom(f, "repsly_note")
            .unwrap()
            .as_str()
            .unwrap()
            .chars()
            .count(),
        255
    );
    assert_eq!(custom(f, "repsly_mobile"), None);

    let fields: Vec<(&str, bool)> = mapped
        .problems
        .iter()
        .map(|p| (p.field.as_str(), p.dropped))
        .collect();
    assert_eq!(
        fields,
        [
            ("customField:key:repsly_mobile", true),
            ("customField:key:repsly_note", false)
        ]
    );
    assert!(
        mapped.problems[1]
            .message
            .contains("truncated from 5000 to 255"),
        "{:?}",
        mapped.problems
    );

    // The result is a body GHL accepts as is.
    let dto: UpsertContactDto =
        serde_json::from_value(Value::Object(mapped.fields)).expect("valid upsert body");
    assert_eq!(dto.custom_fields.map(|c| c.len()), Some(3));
}

#[test]
fn invalid_email_is_a_problem_and_only_that_field_is_dropped() {
    let mapping = builtin();
    let client = record(
        EntityKind::Contact,
        "C-2",
        json!({"Email": "bob@", "ContactName": "Bob"}),
    );
    let mapped = entity(&mapping, EntityKind::Contact).to_ghl(&client);
    assert!(!mapped.fields.contains_key("email"));
    assert_eq!(mapped.fields["firstName"], "Bob");
    assert_eq!(mapped.problems.len(), 1);
    assert_eq!(mapped.problems[0].field, "email");
    assert!(mapped.problems[0].dropped);
    assert!(
        mapped.problems[0]
            .message
            .contains("\"bob@\" is not a valid email"),
        "{:?}",
        mapped.problems
    );
}

#[test]
fn task_note_and_appointment_map_to_their_dtos() {
    let mapping = builtin();
    let task = record(
        EntityKind::Task,
        "S-1#0",
        json!({"TaskDescription": " Check shelf ", "TaskType": "Audit", "ScheduledDate": "2024-11-25", "ScheduledTime": "15:00", "Completed": "true"}),
    );
    let mapped = entity(&mapping, EntityKind::Task).to_ghl(&task);
    assert!(mapped.problems.is_empty(), "{:?}", mapped.problems);
    let dto: CreateTaskParams = serde_json::from_value(Value::Object(mapped.fields)).unwrap();
    assert_eq!(
        (dto.title.as_str(), dto.due_date.as_str(), dto.completed),
        ("Check shelf", "2024-11-25T20:00:00.000Z", true)
    );

    let bare_task = record(
        EntityKind::Task,
        "S-2#0",
        json!({"ScheduledDate": "/Date(1577664000000+0000)/"}),
    );
    let mapped = entity(&mapping, EntityKind::Task).to_ghl(&bare_task);
    assert_eq!(mapped.fields["dueDate"], "2019-12-30T00:00:00.000Z");
    assert_eq!(mapped.fields["title"], "Repsly visit task");
    assert_eq!(mapped.fields["completed"], false);

    let note = record(
        EntityKind::Note,
        "77",
        json!({"Note": " Met the buyer ", "ClientCode": "C-001"}),
    );
    let mapped = entity(&mapping, EntityKind::Note).to_ghl(&note);
    let dto: NotesDto = serde_json::from_value(Value::Object(mapped.fields)).unwrap();
    assert_eq!(dto.body, "Met the buyer");
    let empty = entity(&mapping, EntityKind::Note).to_ghl(&record(
        EntityKind::Note,
        "78",
        json!({"Note": "  "}),
    ));
    assert_eq!(empty.problems.len(), 1);
    assert_eq!(empty.problems[0].field, "body");

    let visit = record(
        EntityKind::Appointment,
        "SCH-9",
        json!({"ScheduledDate": "2024-07-01", "ScheduledTime": "9:30 AM", "ScheduledDuration": 45, "VisitNote": "Restock"}),
    );
    let mapped = entity(&mapping, EntityKind::Appointment).to_ghl(&visit);
    assert!(mapped.problems.is_empty(), "{:?}", mapped.problems);
    let mut body = mapped.fields.clone();
    for (key, value) in [
        ("calendarId", "cal"),
        ("locationId", "loc"),
        ("contactId", "con"),
    ] {
        body.insert(key.into(), value.into());
    }
    let dto: AppointmentCreateDto = serde_json::from_value(Value::Object(body)).unwrap();
    assert_eq!(dto.start_time, "2024-07-01T13:30:00.000Z"); // EDT, UTC-4
    assert_eq!(dto.end_time.as_deref(), Some("2024-07-01T14:15:00.000Z"));
    assert_eq!(dto.appointment_status.as_deref(), Some("confirmed"));
    let undurated = record(
        EntityKind::Appointment,
        "SCH-10",
        json!({"ScheduledDate": "2024-07-01T10:00:00Z"}),
    );
    let mapped = entity(&mapping, EntityKind::Appointment).to_ghl(&undurated);
    assert_eq!(mapped.fields["endTime"], "2024-07-01T10:30:00.000Z");
    assert_eq!(mapped.fields["title"], "Repsly visit");
}

#[test]
fn bad_values_become_problems_not_failures() {
    let mapping = builtin();
    let task = record(
        EntityKind::Task,
        "S-3",
        json!({"TaskDescription": "x", "ScheduledDate": "next tuesday", "Completed": "maybe"}),
    );
    let mapped = entity(&mapping, EntityKind::Task).to_ghl(&task);
    let fields: Vec<&str> = mapped.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["dueDate", "completed"]);
    assert!(
        mapped.problems[0].message.contains("expected ISO-8601"),
        "{:?}",
        mapped.problems
    );
    assert_eq!(mapped.fields["title"], "x");
}

#[test]
fn ghl_contact_maps_back_to_repsly_fields() {
    let mut mapping = builtin();
    mapping.resolve_custom_field_ids(
        &[("contact.repsly_note".to_string(), "cf-note".to_string())].into(),
    );
    let contact = Contact {
        id: "g1".into(),
        first_name: Some("John".into()),
        last_name: Some("Smith".into()),
        email: Some("John@Example.com".into()),
        phone: Some("+1 555 010 2233".into()),
        company_name: Some("Acme".into()),
        postal_code: Some("10001".into()),
        tags: vec!["vip".into(), "north".into()],
        custom_fields: vec![CustomFieldValue {
            id: "cf-note".into(),
            value: json!("called twice"),
        }],
        ..Contact::default()
    };
    let mapped =
        entity(&mapping, EntityKind::Contact).to_peer(&serde_json::to_value(contact).unwrap());
    assert!(mapped.problems.is_empty(), "{:?}", mapped.problems);
    let f = &mapped.fields;
    assert_eq!(f["ContactName"], "John Smith");
    assert_eq!(f["Email"], "john@example.com");
    assert_eq!(f["Phone"], "+15550102233");
    assert_eq!(f["Name"], "Acme");
    assert_eq!(f["ZIP"], "10001");
    assert_eq!(f["Tag"], "vip,north");
    assert_eq!(f["Note"], "called twice");
    // One-way peer → GHL fields never flow back.
    assert!(!f.contains_key("Active") && !f.contains_key("Mobile"));

    let appointment = json!({"id": "a1", "startTime": "2024-11-25T20:00:00.000Z"});
    let mapped = entity(&mapping, EntityKind::Appointment).to_peer(&appointment);
    assert_eq!(mapped.fields["ScheduledDate"], "2024-11-25");
    assert_eq!(mapped.fields["ScheduledTime"], "15:00");
}

#[test]
fn transforms_from_the_issue_work_in_a_custom_mapping() {
    let text = contact_with_rule(
        "peer = \"Kind\"\nghl = \"customField:id:cf1\"\ndirection = \"both\"\ntransforms = [\"uppercase\", { map = { \"A\" = \"alpha\", \"B\" = \"beta\" }, default = \"other\" }]\n\n\
         [[contact.field]]\npeer = \"Score\"\nghl = \"customField:id:cf2\"\ntransforms = [{ cast = \"number\" }]\n\n\
         [[contact.field]]\npeer = \"Owner\"\nghl = \"lastName\"\ntransforms = [\"title_case\"]\n\n\
         [[contact.field]]\nconstant = \"ghl\"\npeer = \"Origin\"\ndirection = \"to_peer\"",
    );
    let mapping = Mapping::parse(&text, "t.toml").unwrap();
    let contact = entity(&mapping, EntityKind::Contact);
    let mapped = contact.to_ghl(&record(
        EntityKind::Contact,
        "1",
        json!({"Kind": "b", "Score": " 42 ", "Owner": "mary-ann O'NEIL"}),
    ));
    assert_eq!(
        mapped.fields["customFields"],
        json!([{"id": "cf1", "field_value": "beta"}, {"id": "cf2", "field_value": 42}])
    );
    assert_eq!(mapped.fields["lastName"], "Mary-Ann O'neil");
    let unmatched = contact.to_ghl(&record(EntityKind::Contact, "1", json!({"Kind": "zzz"})));
    assert_eq!(unmatched.fields["customFields"][0]["field_value"], "other");
    let back = contact.to_peer(&json!({"customFields": [{"id": "cf1", "value": "alpha"}]}));
    assert_eq!(back.fields["Kind"], "A");
    assert_eq!(back.fields["Origin"], "ghl");
}

#[test]
fn preview_shows_before_and_after_per_rule() {
    let mapping = builtin();
    let contact = entity(&mapping, EntityKind::Contact);
    let mut client = dirty_client();
    client.fields.insert("Email".into(), json!("bob@"));
    let rows = preview(contact, &client);
    let to_ghl_rules = contact
        .rules()
        .iter()
        .filter(|r| r.direction.to_ghl())
        .count();
    assert_eq!(rows.len(), to_ghl_rules + 1); // + the implicit external id
    let email = rows.iter().find(|r| r.target == "email").unwrap();
    assert_eq!(
        (email.source.as_str(), &email.before, &email.after),
        ("Email", &json!("bob@"), &None)
    );
    assert!(
        email
            .problem
            .as_deref()
            .unwrap()
            .contains("not a valid email")
    );
    let first = rows.iter().find(|r| r.target == "firstName").unwrap();
    assert_eq!(
        (&first.before, &first.after),
        (&json!("  john   SMITH "), &Some(json!("john")))
    );
    let source = rows.iter().find(|r| r.target == "source").unwrap();
    assert_eq!(
        (source.source.as_str(), &source.after),
        ("= \"repsly\"", &Some(json!("repsly")))
    );
    let id = rows.last().unwrap();
    assert_eq!(
        (id.source.as_str(), id.target.as_str()),
        ("(record id)", "customField:key:repsly_code")
    );

    let back = preview_to_peer(
        contact,
        &json!({"firstName": "Ann", "lastName": "Lee", "tags": ["a", "b"]}),
    );
    let name = back.iter().find(|r| r.target == "ContactName").unwrap();
    assert_eq!(
        (name.source.as_str(), &name.before, &name.after),
        (
            "firstName + lastName",
            &json!(["Ann", "Lee"]),
            &Some(json!("Ann Lee"))
        )
    );

    let visit = record(
        EntityKind::Appointment,
        "S",
        json!({"ScheduledDate": "2024-11-25", "ScheduledTime": "15:00", "ScheduledDuration": "60", "VisitNote": " Restock "}),
    );
    insta::assert_snapshot!(render_preview(&preview(
        entity(&mapping, EntityKind::Appointment),
        &visit
    )));
}
