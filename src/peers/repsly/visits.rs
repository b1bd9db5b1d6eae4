//! Visits (check-ins that happened) from `export/visits/{lastTimeStamp}`: readable through
//! `RepslyPeer::fetch_visits`, not part of `capabilities()`. No import route exists.

use chrono::FixedOffset;
use serde_json::{Map, Value};

use super::paging::cursor_text;
use super::rows::{normalise_dates, text};
use crate::peers::{EntityKind, PeerRecord};

/// A visit row as an appointment that happened: `id` = `visit:{VisitID}`, `parent_id` =
/// `ClientCode`; `Date`, `DateAndTimeStart` and `DateAndTimeEnd` normalised in `fields`.
pub(crate) fn visit_record(
    row: &Map<String, Value>,
    tz: Option<FixedOffset>,
) -> Option<PeerRecord> {
    let id = row.get("VisitID").and_then(cursor_text)?;
    let mut fields = row.clone();
    normalise_dates(
        &mut fields,
        &["Date", "DateAndTimeStart", "DateAndTimeEnd"],
        tz,
    );
    Some(PeerRecord {
        kind: EntityKind::Appointment,
        id: format!("visit:{id}"),
        parent_id: text(row, "ClientCode"),
        updated_at: None,
        active: true,
        fields,
        raw: Value::Object(row.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::repsly::paging::{VISITS, parse_page};
    use serde_json::json;

    #[test]
    fn visits_page() {
        let page = json!({
            "MetaCollectionResult": {"TotalCount": 1, "LastTimeStamp": 77},
            "Visits": [{"VisitID": 5, "TimeStamp": 77, "Date": "/Date(1577664000000+0000)/", "ClientCode": "C-1",
                        "DateAndTimeStart": "/Date(1577664000000)/", "DateAndTimeEnd": "/Date(1577667600000)/"}]
        });
        let page = parse_page(&page, VISITS, "0", "op", |row| visit_record(row, None)).unwrap();
        let visit = &page.records[0];
        assert_eq!(
            (visit.id.as_str(), visit.kind),
            ("visit:5", EntityKind::Appointment)
        );
        assert_eq!(
            visit.fields["DateAndTimeEnd"],
            json!("2019-12-30T01:00:00Z")
        );
        assert_eq!(page.next_cursor.as_deref(), Some("77"));
    }
}
