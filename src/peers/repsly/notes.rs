//! Client notes (GHL notes) from `export/clientnotes/{lastClientNoteID}`. The last-ID cursor only
//! moves past the highest id, so edits and deletions of existing notes are never seen, and
//! Repsly has no import route for notes. [verify]

use chrono::FixedOffset;
use serde_json::{Map, Value};

use super::paging::cursor_text;
use super::rows::{normalise_dates, text};
use crate::peers::{EntityKind, PeerRecord};

/// A note row: `id` = `ClientNoteID`, `parent_id` = `ClientCode`, `updated_at` = `DateAndTime`
/// (normalised to ISO-8601 UTC in `fields` too).
pub(crate) fn note_record(row: &Map<String, Value>, tz: Option<FixedOffset>) -> Option<PeerRecord> {
    let id = row.get("ClientNoteID").and_then(cursor_text)?;
    let mut fields = row.clone();
    let updated_at = normalise_dates(&mut fields, &["DateAndTime"], tz)
        .into_iter()
        .next()
        .flatten();
    Some(PeerRecord {
        kind: EntityKind::Note,
        id,
        parent_id: text(row, "ClientCode"),
        updated_at,
        active: true,
        fields,
        raw: Value::Object(row.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::repsly::dates::to_iso;
    use crate::peers::repsly::paging::{CLIENT_NOTES, parse_page};
    use serde_json::json;

    #[test]
    fn client_notes_page() {
        let page = json!({
            "MetaCollectionResult": {"TotalCount": 2, "FirstID": 101, "LastID": 102},
            "ClientNotes": [
                {"ClientNoteID": 101, "TimeStamp": 9, "DateAndTime": "/Date(1577664000000+0000)/",
                 "RepresentativeCode": "R1", "ClientCode": "C-1", "Note": "Called"},
                {"ClientNoteID": 102, "DateAndTime": "2024-11-25T15:00:00", "ClientCode": "C-2", "Note": "Visited"}
            ]
        });
        let page = parse_page(
            &page,
            CLIENT_NOTES,
            "100",
            "GET export/clientnotes/100",
            |row| note_record(row, None),
        )
        .unwrap();
        assert_eq!(page.next_cursor.as_deref(), Some("102"));
        assert!(page.done);
        let first = &page.records[0];
        assert_eq!(first.id, "101");
        assert_eq!(first.parent_id.as_deref(), Some("C-1"));
        assert_eq!(first.kind, EntityKind::Note);
        assert_eq!(first.fields["DateAndTime"], json!("2019-12-30T00:00:00Z"));
        assert_eq!(
            first.raw["DateAndTime"],
            json!("/Date(1577664000000+0000)/")
        );
        assert_eq!(
            first.updated_at.map(to_iso).as_deref(),
            Some("2019-12-30T00:00:00Z")
        );
        assert_eq!(
            page.records[1].fields["DateAndTime"],
            json!("2024-11-25T15:00:00Z")
        );
        let empty = json!({"MetaCollectionResult": {"TotalCount": 0, "FirstID": 0, "LastID": 0}, "ClientNotes": []});
        let empty = parse_page(&empty, CLIENT_NOTES, "102", "op", |row| {
            note_record(row, None)
        })
        .unwrap();
        assert!(empty.done && empty.next_cursor.is_none());
    }
}
