//! Every client endpoint against the sandbox over loopback HTTP: one success path and at least one
//! failure each, with the error class a caller would branch on.

mod common;

use common::{Harness, count_in};
use ghlsync::ghl::ListContacts;
use ghlsync::ghl::models::*;
use ghlsync::net::ErrorClass;
use std::collections::HashSet;

fn new_contact(email: &str) -> CreateContactDto {
    CreateContactDto {
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        email: Some(email.into()),
        phone: Some("+15550109999".into()),
        tags: Some(vec!["vip".into()]),
        ..CreateContactDto::default()
    }
}

#[tokio::test]
async fn contact_create_get_update_upsert_delete() {
    let h = Harness::start(50).await;
    let client = h.client();

    let created = client
        .create_contact(&new_contact("ada@example.org"))
        .await
        .unwrap();
    let id = created.contact.id.clone();
    assert_eq!(id.len(), 20, "Firestore-style id: {id}");
    assert_eq!(
        created.contact.location_id.as_deref(),
        Some(h.sandbox.location_id.as_str())
    );

    let fetched = client.get_contact(&id).await.unwrap();
    assert_eq!(fetched.contact.email.as_deref(), Some("ada@example.org"));

    let update = UpdateContactDto {
        city: Some("London".into()),
        ..UpdateContactDto::default()
    };
    let updated = client.update_contact(&id, &update).await.unwrap();
    assert_eq!(updated.succeded, Some(true));
    assert_eq!(updated.contact.city.as_deref(), Some("London"));

    let upsert = UpsertContactDto {
        email: Some("ADA@example.org".into()),
        company_name: Some("Analytical Engines".into()),
        ..UpsertContactDto::default()
    };
    let upserted = client.upsert_contact(&upsert).await.unwrap();
    assert!(
        !upserted.is_new,
        "email matches case-insensitively: no new contact"
    );
    assert_eq!(upserted.contact.id, id);

    let deleted = client.delete_contact(&id).await.unwrap();
    assert!(deleted.succeded);
    let gone = client.get_contact(&id).await.unwrap_err();
    assert_eq!(gone.class(), ErrorClass::NotFound, "{gone}");
    assert!(gone.trace_id().is_some(), "errors carry GHL's traceId");
}

#[tokio::test]
async fn create_of_an_existing_email_is_a_validation_error_naming_the_duplicate() {
    let h = Harness::start(10).await;
    let client = h.client();
    client
        .create_contact(&new_contact("twice@example.org"))
        .await
        .unwrap();
    let err = client
        .create_contact(&new_contact("twice@example.org"))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Validation, "{err}");
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("duplicated"), "{err}");
}

#[tokio::test]
async fn paging_through_1200_contacts_has_no_gap_and_no_repeat() {
    let h = Harness::start(1200).await;
    let client = h.client();
    let all = client.list_all_contacts(None, 100, 100).await.unwrap();
    let ids: HashSet<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(all.len(), 1200);
    assert_eq!(ids.len(), 1200, "no repeats");
    // 12 full pages and one empty page at most: one request per 100 contacts.
    let pages = h.count("GET", "/contacts/").await;
    assert!((12..=13).contains(&pages), "pages requested: {pages}");
}

#[tokio::test]
async fn list_page_returns_a_cursor_and_limit_is_capped_at_100() {
    let h = Harness::start(300).await;
    let client = h.client();
    let page = client
        .list_contacts_page(&ListContacts {
            limit: 7,
            ..ListContacts::default()
        })
        .await
        .unwrap();
    assert_eq!(page.contacts.len(), 7);
    let meta = page.meta.expect("meta cursor");
    assert!(meta.start_after_id.is_some() && meta.start_after.is_some());

    // The client clamps a page to GHL's maximum rather than spend a request on a sure 422.
    let clamped = client
        .list_contacts_page(&ListContacts {
            limit: 101,
            ..ListContacts::default()
        })
        .await
        .map(|page| page.contacts.len());
    assert_eq!(clamped.ok(), Some(100));
    // And the sandbox answers a raw limit=101 as GHL does.
    let raw = h
        .http
        .get(h.url("/contacts/"))
        .query(&[
            ("locationId", h.sandbox.location_id.as_str()),
            ("limit", "101"),
        ])
        .bearer_auth(h.sandbox.token.expose())
        .header("Version", "2021-07-28")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 422);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert!(body["message"].is_array(), "{body}");
}

#[tokio::test]
async fn search_by_business_and_duplicate_lookup() {
    let h = Harness::start(200).await;
    let client = h.client();
    let page = client
        .list_contacts_page(&ListContacts {
            limit: 100,
            ..ListContacts::default()
        })
        .await
        .unwrap();
    let with_business = page
        .contacts
        .iter()
        .find(|c| c.business_id.is_some())
        .expect("seed has contacts with a business");
    let business = with_business.business_id.clone().unwrap();
    let by_business = client
        .contacts_by_business(&business, None, None, None)
        .await
        .unwrap();
    assert!(
        by_business
            .contacts
            .iter()
            .any(|c| c.id == with_business.id)
    );
    assert!(
        by_business
            .contacts
            .iter()
            .all(|c| c.business_id.as_deref() == Some(business.as_str()))
    );

    let searched = client
        .search_contacts(&ContactSearchBody {
            page_limit: Some(25),
            ..ContactSearchBody::default()
        })
        .await
        .unwrap();
    assert_eq!(searched.contacts.len(), 25);
    assert!(searched.total >= 200);
    assert!(
        searched.contacts[0].extra.contains_key("searchAfter"),
        "search items carry searchAfter"
    );

    let err = client
        .search_contacts(&ContactSearchBody::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.class(),
        ErrorClass::Validation,
        "pageLimit is required: {err}"
    );

    let created = client
        .create_contact(&new_contact("dup-lookup@example.org"))
        .await
        .unwrap();
    let by_email = client
        .find_duplicate(Some("DUP-LOOKUP@example.org"), None)
        .await
        .unwrap();
    assert_eq!(
        by_email.contact.map(|c| c.id),
        Some(created.contact.id.clone())
    );
    let by_phone = client
        .find_duplicate(None, Some("+15550109999"))
        .await
        .unwrap();
    assert_eq!(
        by_phone.contact.map(|c| c.id),
        Some(created.contact.id),
        "a '+' survives URL encoding"
    );
    let none = client
        .find_duplicate(Some("nobody@nowhere.invalid"), None)
        .await
        .unwrap();
    assert!(none.contact.is_none());
}

#[tokio::test]
async fn tags_add_and_remove() {
    let h = Harness::start(10).await;
    let client = h.client();
    let id = client
        .create_contact(&new_contact("tags@example.org"))
        .await
        .unwrap()
        .contact
        .id;
    let added = client
        .add_tags(&id, &["gold".into(), "ny".into()])
        .await
        .unwrap();
    assert!(added.tags.contains(&"gold".to_string()) && added.tags.contains(&"vip".to_string()));
    let removed = client.remove_tags(&id, &["gold".into()]).await.unwrap();
    assert!(!removed.tags.contains(&"gold".to_string()));
    assert!(removed.tags.contains(&"ny".to_string()));
    let err = client
        .add_tags("nosuchcontact0000000", &["x".into()])
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
}

#[tokio::test]
async fn tasks_full_lifecycle() {
    let h = Harness::start(10).await;
    let client = h.client();
    let contact = client
        .create_contact(&new_contact("tasks@example.org"))
        .await
        .unwrap()
        .contact
        .id;
    let created = client
        .create_task(
            &contact,
            &CreateTaskParams {
                title: "Call back".into(),
                body: Some("re: invoice".into()),
                due_date: "2026-12-01T10:00:00.000Z".into(),
                completed: false,
                assigned_to: None,
            },
        )
        .await
        .unwrap()
        .task;
    assert_eq!(created.title, "Call back");
    let listed = client.list_tasks(&contact).await.unwrap();
    assert_eq!(listed.tasks.len(), 1);
    let got = client.get_task(&contact, &created.id).await.unwrap().task;
    assert_eq!(got.id, created.id);
    let updated = client
        .update_task(
            &contact,
            &created.id,
            &UpdateTaskBody {
                title: Some("Call back (urgent)".into()),
                due_date: Some("2026-12-01T10:00:00Z".into()),
                ..UpdateTaskBody::default()
            },
        )
        .await
        .unwrap()
        .task;
    assert_eq!(updated.title, "Call back (urgent)");
    assert!(
        client
            .set_task_completed(&contact, &created.id, true)
            .await
            .unwrap()
            .task
            .completed
    );
    assert!(
        !client
            .set_task_completed(&contact, &created.id, false)
            .await
            .unwrap()
            .task
            .completed
    );
    assert!(
        client
            .delete_task(&contact, &created.id)
            .await
            .unwrap()
            .succeded
    );
    let err = client.get_task(&contact, &created.id).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
}

#[tokio::test]
async fn notes_full_lifecycle() {
    let h = Harness::start(10).await;
    let client = h.client();
    let contact = client
        .create_contact(&new_contact("notes@example.org"))
        .await
        .unwrap()
        .contact
        .id;
    let note = client
        .create_note(
            &contact,
            &NotesDto {
                body: "Prefers email".into(),
                user_id: None,
                title: None,
                color: None,
                pinned: Some(true),
            },
        )
        .await
        .unwrap()
        .note;
    assert_eq!(client.list_notes(&contact).await.unwrap().notes.len(), 1);
    assert_eq!(
        client.get_note(&contact, &note.id).await.unwrap().note.body,
        "Prefers email"
    );
    let updated = client
        .update_note(
            &contact,
            &note.id,
            &UpdateNoteDto {
                body: Some("Prefers phone".into()),
                ..UpdateNoteDto::default()
            },
        )
        .await
        .unwrap()
        .note;
    assert_eq!(updated.body, "Prefers phone");
    assert!(
        client
            .delete_note(&contact, &note.id)
            .await
            .unwrap()
            .succeded
    );
    let err = client.get_note(&contact, &note.id).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
}

#[tokio::test]
async fn appointments_and_calendars_never_notify_the_customer() {
    let h = Harness::start(10).await;
    let client = h.client();
    let calendars = client.list_calendars().await.unwrap().calendars;
    assert!(!calendars.is_empty());
    let contact = client
        .create_contact(&new_contact("appt@example.org"))
        .await
        .unwrap()
        .contact
        .id;
    let created = client
        .create_appointment(&AppointmentCreateDto {
            calendar_id: calendars[0].id.clone(),
            contact_id: contact.clone(),
            start_time: "2026-12-02T15:00:00+00:00".into(),
            end_time: Some("2026-12-02T15:30:00+00:00".into()),
            title: Some("Site visit".into()),
            ..AppointmentCreateDto::default()
        })
        .await
        .unwrap();
    assert!(!created.id.is_empty());
    let stats = h.stats().await;
    assert_eq!(stats["appointmentsCreated"]["toNotifyFalse"], 1, "{stats}");
    assert_eq!(stats["appointmentsCreated"]["toNotifyTrueOrAbsent"], 0);

    let fetched = client.get_appointment(&created.id).await.unwrap().event;
    assert_eq!(fetched.title.as_deref(), Some("Site visit"));
    let edited = client
        .update_appointment(
            &created.id,
            &AppointmentEditDto {
                title: Some("Site visit (moved)".into()),
                ..AppointmentEditDto::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.title.as_deref(), Some("Site visit (moved)"));
    let listed = client
        .list_contact_appointments(&contact)
        .await
        .unwrap()
        .events;
    assert!(listed.iter().any(|e| e.id == created.id));

    let err = client
        .create_appointment(&AppointmentCreateDto {
            calendar_id: "nosuchcalendar000000".into(),
            contact_id: contact,
            start_time: "2026-12-02T15:00:00+00:00".into(),
            ..AppointmentCreateDto::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.class(),
            ErrorClass::Validation | ErrorClass::NotFound | ErrorClass::Ambiguous
        ),
        "{err}"
    );
    let err = client
        .get_appointment("nosuchevent000000000")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound, "{err}");
}

#[tokio::test]
async fn versions_are_sent_per_api() {
    // The sandbox answers 400 to a wrong or missing Version; every call above succeeding proves
    // the client sends the right one. This checks the sandbox enforces it, so that proof holds.
    let h = Harness::start(5).await;
    let response = h
        .http
        .get(h.url("/calendars/"))
        .query(&[("locationId", h.sandbox.location_id.as_str())])
        .bearer_auth(h.sandbox.token.expose())
        .header("Version", "2021-07-28")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let stats = h.stats().await;
    assert_eq!(count_in(&stats, "GET", "/calendars/", Some(400)), 1);
}

fn text_field(name: &str) -> CreateCustomFieldDto {
    CreateCustomFieldDto::contact(name, "TEXT")
}

#[tokio::test]
async fn custom_fields_list_create_and_a_created_field_takes_contact_values() {
    let h = Harness::start(5).await;
    let client = h.client();
    let seeded = client.list_custom_fields().await.unwrap().custom_fields;
    let keys: Vec<&str> = seeded.iter().map(|f| f.field_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "contact.favorite_color",
            "contact.lifetime_value",
            "contact.interests"
        ]
    );
    assert!(
        seeded
            .iter()
            .all(|f| f.id.len() == 20 && !f.data_type.is_empty())
    );

    let created = client
        .create_custom_field(&text_field("Repsly Code"))
        .await
        .unwrap()
        .custom_field;
    assert_eq!(created.field_key, "contact.repsly_code");
    assert_eq!(created.key(), "repsly_code");
    assert_eq!(created.data_type, "TEXT");
    assert_eq!(
        created.location_id.as_deref(),
        Some(h.sandbox.location_id.as_str())
    );
    let listed = client.list_custom_fields().await.unwrap().custom_fields;
    assert_eq!(listed.len(), 4);
    assert!(listed.contains(&created));
    assert_eq!(
        count_in(
            &h.stats().await,
            "POST",
            "/locations/:locationId/customFields",
            Some(201)
        ),
        1
    );

    // By key on one write, by id on another: both land under the field's id, as seeded ones do.
    let mut dto = new_contact("cf@example.org");
    dto.custom_fields = Some(vec![CustomFieldInput {
        id: None,
        key: Some("repsly_code".into()),
        field_value: "C-1".into(),
    }]);
    let contact = client.create_contact(&dto).await.unwrap().contact;
    let value_of = |contact: &Contact| {
        contact
            .custom_fields
            .iter()
            .find(|f| f.id == created.id)
            .map(|f| f.value.clone())
    };
    assert_eq!(value_of(&contact), Some("C-1".into()));
    let by_id = UpdateContactDto {
        custom_fields: Some(vec![CustomFieldInput {
            id: Some(created.id.clone()),
            key: None,
            field_value: "C-2".into(),
        }]),
        ..UpdateContactDto::default()
    };
    let updated = client
        .update_contact(&contact.id, &by_id)
        .await
        .unwrap()
        .contact;
    assert_eq!(value_of(&updated), Some("C-2".into()));
    let info: serde_json::Value = h
        .http
        .get(h.url("/_sandbox/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        info["customFields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"] == "contact.repsly_code" && f["id"] == created.id.as_str()),
        "{info}"
    );
    // Fields are the location's set-up: a data reset keeps them.
    h.reset_counters().await;
    assert_eq!(
        client
            .list_custom_fields()
            .await
            .unwrap()
            .custom_fields
            .len(),
        4
    );
}

#[tokio::test]
async fn custom_field_create_refusals_carry_ghls_status_and_class() {
    let h = Harness::start(5).await;
    let client = h.client();
    client
        .create_custom_field(&text_field("Repsly Code"))
        .await
        .unwrap();
    let again = client
        .create_custom_field(&text_field("repsly code"))
        .await
        .unwrap_err();
    assert_eq!(
        (again.status(), again.class()),
        (Some(400), ErrorClass::Validation)
    );
    assert!(again.to_string().contains("already exists"), "{again}");

    let mut bogus = text_field("Other");
    bogus.data_type = "COLOUR".into();
    let err = client.create_custom_field(&bogus).await.unwrap_err();
    // A 422 on a create is ambiguous by the client's contract (GHL has answered 422 to writes
    // it made): the caller lists the fields before trying again.
    assert_eq!(
        (err.status(), err.class()),
        (Some(422), ErrorClass::Ambiguous)
    );
    assert!(err.to_string().contains("dataType must be one of"), "{err}");

    let (read_only, _) = h
        .mint_token(Some(&["locations/customFields.readonly"]), None, None)
        .await;
    let reader = h.client_with_token(&read_only);
    assert_eq!(
        reader
            .list_custom_fields()
            .await
            .unwrap()
            .custom_fields
            .len(),
        4
    );
    let refused = reader
        .create_custom_field(&text_field("Third"))
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.class()),
        (Some(401), ErrorClass::ScopeOrConfig)
    );

    let (contacts_only, _) = h.mint_token(Some(&["contacts.readonly"]), None, None).await;
    let err = h
        .client_with_token(&contacts_only)
        .list_custom_fields()
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::ScopeOrConfig);

    // Another location's token may not read this location's fields.
    let info: serde_json::Value = h
        .http
        .get(h.url("/_sandbox/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = info["otherLocationId"].as_str().unwrap().to_string();
    let (foreign, _) = h.mint_token(None, Some(&other), None).await;
    let err = h
        .client_with_token(&foreign)
        .list_custom_fields()
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.class()),
        (Some(403), ErrorClass::ScopeOrConfig)
    );
}
