use super::*;
use crate::net::ErrorClass;
use serde_json::json;

fn day(s: &str) -> NaiveDate {
    parse_date(s).unwrap()
}

fn keys() -> Vec<String> {
    RepslySettings::default().schedule_envelope_keys
}

fn extended_row() -> Value {
    json!({
        "ScheduleCode": "S-1", "ClientCode": "C-1", "ClientName": "Acme", "UserID": "R1",
        "RepresentativeName": "Ann", "ScheduledDate": "2024-11-25", "ScheduledTime": "15:00",
        "ScheduledDuration": 45, "VisitNote": "Bring samples", "DueDate": false, "ExternalID": "ghl-apt-9",
        "Tasks": [{"TaskType": "Note", "TaskDescription": "Ask about stock"},
                  {"TaskType": "Photo", "TaskDescription": "Shelf", "Completed": true}]
    })
}

#[test]
fn window_and_override() {
    let (begin, end) = default_window(day("2024-11-25"), 7, 30);
    assert_eq!((begin, end), (day("2024-11-18"), day("2024-12-25")));
    assert_eq!(
        window_path(ScheduleApi::Extended, begin, end),
        ["export", "schedules", "2024-11-18", "2024-12-25"].map(String::from)
    );
    assert_eq!(
        window_path(ScheduleApi::Legacy, begin, end)[1],
        "visitschedules"
    );
    assert_eq!(
        parse_window("2024-01-01/2024-01-31"),
        Some((day("2024-01-01"), day("2024-01-31")))
    );
    assert_eq!(parse_window("2024-01-31/2024-01-01"), None);
    assert_eq!(parse_window("2024-01-01"), None);
    assert_eq!(parse_window("last week/now"), None);
}

#[test]
fn envelope_key_fallback() {
    let rows = json!([extended_row()]);
    for key in ["VisitSchedules", "VisitSchedule", "Schedules"] {
        let answer = json!({"MetaCollectionResult": {"TotalCount": 1}, key: rows.clone()});
        assert_eq!(schedule_rows(&answer, &keys()).unwrap().len(), 1, "{key}");
    }
    assert_eq!(
        schedule_rows(&rows, &keys()).unwrap().len(),
        1,
        "a bare array"
    );
    assert!(schedule_rows(&Value::Null, &keys()).unwrap().is_empty());
    let empty = json!({"MetaCollectionResult": {"TotalCount": 0}});
    assert!(schedule_rows(&empty, &keys()).unwrap().is_empty());
    let unknown = json!({"Items": rows});
    let err = schedule_rows(&unknown, &keys()).unwrap_err();
    assert!(
        err.contains("VisitSchedules, VisitSchedule, Schedules") && err.contains("Items"),
        "{err}"
    );
    let custom = vec!["Items".to_string()];
    assert_eq!(schedule_rows(&unknown, &custom).unwrap().len(), 1);
}

#[test]
fn extended_schedule_and_its_tasks() {
    let row = extended_row();
    let record = schedule_record(row.as_object().unwrap(), ScheduleApi::Extended, None).unwrap();
    assert_eq!(record.id, "S-1");
    assert_eq!(record.parent_id.as_deref(), Some("C-1"));
    assert_eq!(record.kind, EntityKind::Appointment);
    assert_eq!(
        record.fields["ScheduledStart"],
        json!("2024-11-25T15:00:00Z")
    );
    assert_eq!(record.fields["ScheduledEnd"], json!("2024-11-25T15:45:00Z"));
    assert_eq!(
        record.fields["ScheduledDate"],
        json!("2024-11-25"),
        "dates stay as sent"
    );
    let tasks = task_records(&record);
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[1].id, "S-1#1");
    assert_eq!(tasks[1].kind, EntityKind::Task);
    assert_eq!(tasks[1].parent_id.as_deref(), Some("C-1"));
    assert_eq!(tasks[1].fields["Completed"], json!(true));
    assert_eq!(tasks[0].fields["TaskDescription"], json!("Ask about stock"));
    assert_eq!(tasks[0].fields["ScheduleID"], json!("S-1"));
    let mut no_code = row.clone();
    no_code["ScheduleCode"] = json!("");
    assert!(schedule_record(no_code.as_object().unwrap(), ScheduleApi::Extended, None).is_none());
    let mut inactive = row;
    inactive["Active"] = json!(false);
    assert!(
        !schedule_record(inactive.as_object().unwrap(), ScheduleApi::Extended, None)
            .unwrap()
            .active
    );
}

#[test]
fn legacy_schedule_key() {
    let row = json!({"ScheduleDateAndTime": "/Date(1732546800000+0000)/", "ClientCode": "C-1",
                     "RepresentativeCode": "R1", "RepresentativeName": "Ann"});
    let record = schedule_record(row.as_object().unwrap(), ScheduleApi::Legacy, None).unwrap();
    assert_eq!(record.id, "2024-11-25T15:00:00Z|C-1|R1");
    assert_eq!(
        record.fields["ScheduleDateAndTime"],
        json!("2024-11-25T15:00:00Z")
    );
    assert_eq!(
        record.fields["ScheduledStart"],
        json!("2024-11-25T15:00:00Z")
    );
    // The same visit in split form gets the same key.
    let split = json!({"ScheduledDate": "2024-11-25", "ScheduledTime": "15:00", "ClientCode": "C-1", "UserID": "R1"});
    assert_eq!(
        legacy_key(split.as_object().unwrap(), None).unwrap(),
        record.id
    );
    let no_client =
        json!({"ScheduleDateAndTime": "2024-11-25T15:00:00", "RepresentativeCode": "R1"});
    assert!(legacy_key(no_client.as_object().unwrap(), None).is_none());
}

fn appointment(id: &str, fields: Value) -> PeerRecord {
    PeerRecord {
        kind: EntityKind::Appointment,
        id: id.into(),
        parent_id: None,
        updated_at: None,
        active: true,
        fields: fields.as_object().cloned().unwrap_or_default(),
        raw: Value::Null,
    }
}

#[test]
fn import_body_current_form() {
    let settings = RepslySettings::default();
    let record = schedule_record(
        extended_row().as_object().unwrap(),
        ScheduleApi::Extended,
        None,
    )
    .unwrap();
    let (id, body) = import_body(&record, &settings, None, "op").unwrap();
    assert_eq!(id, "S-1");
    assert_eq!(
        body,
        json!({
            "ScheduleCode": "S-1", "ClientCode": "C-1", "UserID": "R1", "ScheduledDate": "2024-11-25",
            "ScheduledTime": "15:00", "ScheduledDuration": 45, "VisitNote": "Bring samples", "DueDate": false,
            "ExternalID": "ghl-apt-9", "RepeatEveryWeeks": 0, "Active": true,
            "Tasks": [{"TaskType": "Note", "TaskDescription": "Ask about stock"},
                      {"TaskType": "Photo", "TaskDescription": "Shelf"}]
        })
    );
}

#[test]
fn import_body_from_start_and_end_and_legacy_form() {
    let mut settings = RepslySettings {
        schedule_import_form: ScheduleImportForm::Legacy,
        ..RepslySettings::default()
    };
    let mut record = appointment(
        "",
        json!({
            "ClientCode": "C-1", "RepresentativeCode": "R1", "ExternalID": "apt9",
            "ScheduledStart": "2024-11-25T15:00:00Z", "ScheduledEnd": "2024-11-25T15:30:00Z"
        }),
    );
    record.active = false;
    let plus_one = FixedOffset::east_opt(3600);
    let (id, body) = import_body(&record, &settings, plus_one, "op").unwrap();
    assert_eq!(id, "ghl-apt9");
    assert_eq!(
        body,
        json!({
            "ScheduleCode": "ghl-apt9", "PlaceID": "C-1", "RepresentativeID": "R1", "DateBegin": "2024-11-25",
            "VisitTime": "16:00", "VisitDuration": 30, "ExternalID": "apt9", "RepeatEveryWeeks": 0, "Active": false
        })
    );
    settings.schedule_api = ScheduleApi::Legacy;
    let (id, _) = import_body(&record, &settings, plus_one, "op").unwrap();
    assert_eq!(id, "2024-11-25T15:00:00Z|C-1|R1");
}

#[test]
fn import_body_local_validation() {
    let settings = RepslySettings::default();
    let cases = [
        (
            json!({"UserID": "R1", "ScheduledDate": "2024-11-25"}),
            "ClientCode",
        ),
        (
            json!({"ClientCode": "C", "ScheduledDate": "2024-11-25"}),
            "UserID",
        ),
        (json!({"ClientCode": "C", "UserID": "R1"}), "ScheduledDate"),
        (
            json!({"ClientCode": "C", "UserID": "R1", "ScheduledDate": "soon"}),
            "not a date",
        ),
        (
            json!({"ClientCode": "C", "UserID": "R1", "ScheduledDate": "2024-11-25", "ScheduledTime": "late"}),
            "not a time",
        ),
    ];
    for (fields, expected) in cases {
        let err = import_body(&appointment("S", fields), &settings, None, "op").unwrap_err();
        assert_eq!(err.class(), ErrorClass::Validation);
        assert!(err.to_string().contains(expected), "{err}");
    }
    let random = import_body(
        &appointment(
            "",
            json!({"ClientCode": "C", "UserID": "R", "ScheduledDate": "2024-11-25"}),
        ),
        &settings,
        None,
        "op",
    )
    .unwrap();
    assert!(
        random.0.starts_with("ghlsync-") && random.0.len() <= 50,
        "{}",
        random.0
    );
    assert!(import_body(&appointment("visit:5", json!({})), &settings, None, "op").is_err());
}
