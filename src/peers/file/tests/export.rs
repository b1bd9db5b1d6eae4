//! The export file and the connection: atomic 0600 writes by id, edits by others, checks.

use std::os::unix::fs::PermissionsExt;

use serde_json::{Map, Value, json};

use super::*;

#[tokio::test]
async fn upserts_replace_by_id_atomically_and_owner_only() {
    let rig = Rig::new();
    let peer = rig.peer();
    let first = peer
        .upsert(&contact(
            "g-1",
            json!({ "email": "ann@example.com", "first_name": "Ann" }),
        ))
        .await
        .unwrap();
    assert!(first.created);
    let second = peer
        .upsert(&contact(
            "g-2",
            json!({ "email": "bo@example.com", "tags": ["vip", "north"] }),
        ))
        .await
        .unwrap();
    assert!(second.created);
    let update = peer
        .upsert(&contact(
            "g-1",
            json!({ "first_name": "Anne", "email": null }),
        ))
        .await
        .unwrap();
    assert!(!update.created);
    let text = rig.read(&rig.export());
    assert_eq!(
        text,
        "code,first_name,email,tags\ng-1,Anne,,\ng-2,,bo@example.com,\"[\"\"vip\"\",\"\"north\"\"]\"\n",
        "one row per id, updated in place; a null clears a field; lists are JSON"
    );
    let meta = std::fs::metadata(rig.export()).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(rig.dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "no temp files: {leftovers:?}");
    let back = peer.get(EntityKind::Contact, "g-1").await.unwrap().unwrap();
    assert_eq!(back.fields.get("first_name"), Some(&json!("Anne")));
    assert_eq!(back.fields.get("code"), Some(&json!("g-1")));
    let mut gone = contact("g-1", json!({}));
    gone.active = false;
    peer.upsert(&gone).await.unwrap();
    assert!(
        peer.get(EntityKind::Contact, "g-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        peer.get(EntityKind::Contact, "g-2")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn the_jsonl_export_and_its_edits_by_others() {
    let rig = Rig::new();
    let mut connection = rig.connection(None);
    connection.format = FileFormat::Jsonl;
    connection.export = rig.dir.path().join("out.jsonl");
    let peer = FilePeer::new("shop", connection.clone()).unwrap();
    peer.upsert(&contact("g-1", json!({ "email": "a@x.com", "n": 1 })))
        .await
        .unwrap();
    let text = rig.read(&connection.export);
    assert_eq!(
        text,
        "{\"ghlsync_id\":\"g-1\",\"email\":\"a@x.com\",\"n\":1}\n"
    );
    // Someone edits the export: the next read sees it.
    std::fs::write(
        &connection.export,
        "{\"ghlsync_id\":\"g-1\",\"email\":\"b@x.com\",\"extra\":true}\n",
    )
    .unwrap();
    let back = peer.get(EntityKind::Contact, "g-1").await.unwrap().unwrap();
    assert_eq!(
        back.fields,
        json!({ "email": "b@x.com", "extra": true })
            .as_object()
            .cloned()
            .unwrap()
    );
    // A broken export is never overwritten: writes fail, naming the line.
    std::fs::write(&connection.export, "{\"ghlsync_id\":\"g-1\"}\nnot json\n").unwrap();
    let err = peer
        .upsert(&contact("g-2", json!({ "email": "c@x.com" })))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Decode);
    assert!(
        err.to_string().contains("out.jsonl:2:2: not valid JSON"),
        "{err}"
    );
    assert!(rig.read(&connection.export).contains("not json"));
}

#[test]
fn new_checks_the_connection_and_makes_owner_only_folders() {
    let rig = Rig::new();
    let check = |edit: &dyn Fn(&mut FileConnection), expected: &str| {
        let mut connection = rig.connection(None);
        edit(&mut connection);
        let err = FilePeer::new("shop", connection).unwrap_err();
        assert_eq!(err.class(), ErrorClass::ScopeOrConfig);
        assert!(err.to_string().contains(expected), "{err}");
    };
    let missing = rig.dir.path().join("nowhere");
    check(
        &|c| c.inbox = missing.clone(),
        &format!(
            "the inbox folder {} does not exist; create it (mkdir -p",
            missing.display()
        ),
    );
    check(
        &|c| c.export = rig.inbox().join("out.csv"),
        "is in the inbox",
    );
    check(
        &|c| c.export = missing.join("out.csv"),
        "the folder of the export file",
    );
    check(&|c| c.delimiter = Some('é'), "delimiter");
    check(&|c| c.id_field = Some(" ".into()), "`id_field` is empty");
    let peer = FilePeer::new("shop", rig.connection(None)).unwrap();
    assert_eq!(peer.name(), "shop");
    for dir in ["done", "rejected"] {
        let meta = std::fs::metadata(rig.inbox().join(dir)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{dir}");
    }
    let caps = peer.capabilities();
    assert_eq!(caps.len(), 1);
    assert!(caps[0].kind == EntityKind::Contact && caps[0].read && caps[0].write);
}

#[test]
fn connection_keys_and_relative_paths() {
    let mut connection: FileConnection = toml::from_str(
        "inbox = \"drop\"\nexport = \"/abs/out.jsonl\"\nformat = \"jsonl\"\nid_field = \"code\"\ndelimiter = \";\"\n",
    )
    .unwrap();
    connection.resolve_paths(Path::new("/etc/ghlsync"));
    assert_eq!(connection.inbox, Path::new("/etc/ghlsync/drop"));
    assert_eq!(connection.export, Path::new("/abs/out.jsonl"));
    assert_eq!(connection.format, FileFormat::Jsonl);
    assert_eq!(connection.delimiter, Some(';'));
    let unknown =
        toml::from_str::<FileConnection>("inbox = \"a\"\nexport = \"b\"\nfolder = \"c\"\n");
    assert!(
        unknown
            .unwrap_err()
            .to_string()
            .contains("unknown field `folder`")
    );
}

#[test]
fn rows_hash_alike_whatever_their_order() {
    let a: Map<String, Value> = serde_json::from_str(r#"{"a":"1","b":"2"}"#).unwrap();
    let b: Map<String, Value> = serde_json::from_str(r#"{"b":"2","a":"1"}"#).unwrap();
    let c: Map<String, Value> = serde_json::from_str(r#"{"a":"1","b":"3"}"#).unwrap();
    assert_eq!(records::row_hash(&a), records::row_hash(&b));
    assert_ne!(records::row_hash(&a), records::row_hash(&c));
}

/// Writes that arrive together (a page's lanes) share saves, and none returns before its row
/// is in the file.
#[tokio::test]
async fn writes_arriving_together_share_saves_and_each_returns_once_on_disk() {
    let rig = Rig::new();
    let peer = rig.peer();
    let export = rig.export();
    let writes = (0..200).map(|n| {
        let (peer, export) = (&peer, &export);
        async move {
            let id = format!("g-{n:03}");
            peer.upsert(&contact(
                &id,
                json!({ "email": format!("p{n}@example.com") }),
            ))
            .await
            .unwrap();
            let on_disk = std::fs::read_to_string(export).unwrap();
            assert!(
                on_disk
                    .lines()
                    .any(|line| line.starts_with(&format!("{id},"))),
                "{id} returned before its row was saved"
            );
        }
    });
    futures::future::join_all(writes).await;
    let text = rig.read(&export);
    assert_eq!(text.lines().count(), 201, "a header and 200 rows");
    let saves = peer.lock().saves;
    assert!(
        (1..50).contains(&saves),
        "200 writes arriving together took {saves} saves"
    );
}
