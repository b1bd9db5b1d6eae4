#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::peers::Peer;

fn connection(dir: &Path) -> GrowbotsConnection {
    std::fs::create_dir_all(dir.join("inbox")).unwrap();
    std::fs::create_dir_all(dir.join("companies")).unwrap();
    GrowbotsConnection {
        inbox: dir.join("inbox"),
        companies_inbox: Some(dir.join("companies")),
        export: dir.join("out/prospects.csv"),
        events: dir.join("events"),
        columns: BTreeMap::new(),
        company_columns: BTreeMap::new(),
        tolerance_secs: None,
    }
}

async fn all(peer: &GrowbotsPeer, kind: EntityKind) -> Vec<PeerRecord> {
    let mut cursor: Option<String> = None;
    let mut out = Vec::new();
    loop {
        let page = peer.fetch_changes(kind, cursor.as_deref()).await.unwrap();
        out.extend(page.records);
        if let Some(next) = page.next_cursor {
            peer.page_committed(kind, &next).await.unwrap();
            cursor = Some(next);
        }
        if page.done {
            return out;
        }
    }
}

#[tokio::test]
async fn exports_and_events_walk_as_prospects_and_replies_as_notes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    let conn = connection(dir.path());
    std::fs::write(
        dir.path().join("companies/c.csv"),
        "Company Name,Website,Industry\nAcme,https://acme.example,Retail\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("inbox/p.csv"),
        "First Name,Last Name,Email,Company,Status\nAnn,Lee,ann@example.com,Acme,Active\n",
    )
    .unwrap();
    let peer = GrowbotsPeer::new("growbots", &conn).unwrap();
    let receiver = conn.receiver(Secret::new("s".to_string())).unwrap();
    let now = chrono::Utc::now().timestamp();
    for (id, kind) in [("e1", "qualified"), ("e2", "replied")] {
        let body = serde_json::to_vec(&serde_json::json!({
            "id": id, "type": kind, "occurred_at": "2025-01-02T10:00:00Z",
            "prospect": {"email": "ann@example.com"},
            "reply": {"subject": "Re", "body": "Yes please"},
        }))
        .unwrap();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(receiver::TIMESTAMP_HEADER, now.to_string().parse().unwrap());
        let sig = receiver::signature(b"s", &now.to_string(), &body);
        headers.insert(receiver::SIGNATURE_HEADER, sig.parse().unwrap());
        receiver.accept(&headers, &body).unwrap();
    }
    let contacts = all(&peer, EntityKind::Contact).await;
    assert_eq!(contacts.len(), 2, "{contacts:?}");
    assert_eq!(contacts[0].fields["first_name"], "Ann");
    assert_eq!(
        contacts[0].fields["company_website"],
        "https://acme.example"
    );
    assert_eq!(contacts[1].id, "ann@example.com");
    assert_eq!(contacts[1].fields["status"], "Qualified");
    assert_eq!(
        contacts[1].fields["last_name"], "Lee",
        "the book's fields stay"
    );
    let notes = all(&peer, EntityKind::Note).await;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].parent_id.as_deref(), Some("ann@example.com"));
    assert_eq!(notes[0].fields["body"], "Yes please");
    // Committed: the files moved on, the export holds the qualified prospect.
    let export = std::fs::read_to_string(dir.path().join("out/prospects.csv")).unwrap();
    assert!(export.starts_with("Email,"), "{export}");
    assert!(export.contains("Qualified"), "{export}");
    assert!(all(&peer, EntityKind::Contact).await.is_empty());
    let got = peer
        .get(EntityKind::Contact, "ann@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.fields["status"], "Qualified");
    assert_eq!(
        peer.get(EntityKind::Note, "e2")
            .await
            .unwrap()
            .unwrap()
            .fields["subject"],
        "Re"
    );
}

#[tokio::test]
async fn ghl_contacts_are_written_as_prospects_keyed_by_email() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    let peer = GrowbotsPeer::new("growbots", &connection(dir.path())).unwrap();
    let mut fields = Map::new();
    fields.insert("email".into(), "bo@example.com".into());
    fields.insert("first_name".into(), "Bo".into());
    let record = PeerRecord {
        kind: EntityKind::Contact,
        id: "ghlContact1".into(),
        parent_id: None,
        updated_at: None,
        active: true,
        fields,
        raw: Value::Null,
    };
    let written = peer.upsert(&record).await.unwrap();
    assert_eq!(
        (written.id.as_str(), written.created),
        ("bo@example.com", true)
    );
    let path = dir.path().join("out/prospects.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, "Email,First Name\nbo@example.com,Bo\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let no_email = PeerRecord {
        fields: Map::new(),
        ..record
    };
    let refused = peer.check(&no_email).unwrap_err();
    assert_eq!(refused.field(), Some("email"));
}
