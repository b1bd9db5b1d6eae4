//! Repsly clients (GHL contacts): reading pages of `export/clients/{lastTimeStamp}`, one client
//! from `export/internal/client/{code}`, and the body of `import/client`.

use serde_json::{Map, Value};

use super::errors::{Class, error, field_error};
use super::settings::RepslySettings;
use crate::peers::{EntityKind, PeerError, PeerRecord};

/// Longest `Code` Repsly accepts (String(50)).
pub(crate) const MAX_CODE_LEN: usize = 50;

/// Fields `import/client` takes. `ClientID` and `TimeStamp` are Repsly's own and
/// `RepresentativeName` follows `RepresentativeCode`, so those three are not sent.
pub(crate) const IMPORT_FIELDS: &[&str] = &[
    "Code",
    "Name",
    "Active",
    "Tag",
    "Territory",
    "RepresentativeCode",
    "StreetAddress",
    "ZIP",
    "ZIPExt",
    "City",
    "State",
    "Country",
    "Email",
    "Phone",
    "Mobile",
    "Website",
    "ContactName",
    "ContactTitle",
    "Note",
    "Status",
    "CustomFields",
    "PriceLists",
    "AccountCode",
];

/// A client row as a contact record: `id` = `Code`, fields = the row as sent (including
/// `ClientID` and the opaque `TimeStamp`), `updated_at` = `None` (Repsly gives no clock value).
pub(crate) fn client_record(row: &Map<String, Value>) -> Option<PeerRecord> {
    let code = row
        .get("Code")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty())?;
    Some(PeerRecord {
        kind: EntityKind::Contact,
        id: code.to_string(),
        parent_id: None,
        updated_at: None,
        active: row.get("Active").and_then(Value::as_bool).unwrap_or(true),
        fields: row.clone(),
        raw: Value::Object(row.clone()),
    })
}

/// The answer of `export/internal/client/{code}`: the client object itself, `{"Client": {...}}`
/// or `{"Clients": [...]}`; `null`, `{}` or an empty list mean no such client.
pub(crate) fn single_client(json: &Value, code: &str) -> Option<PeerRecord> {
    let object = json.as_object()?;
    let row = if object.contains_key("Code") {
        object
    } else if let Some(client) = object.get("Client").and_then(Value::as_object) {
        client
    } else {
        object
            .get("Clients")
            .and_then(Value::as_array)?
            .iter()
            .filter_map(Value::as_object)
            .find(|row| row.get("Code").and_then(Value::as_str) == Some(code))?
    };
    client_record(row)
}

/// The `import/client` body for one record, checked locally: `Code` (≤ 50) and `Name` are
/// required. `Code` comes from `record.id`, else `fields.Code`; the two must agree.
pub(crate) fn import_body(
    record: &PeerRecord,
    settings: &RepslySettings,
    operation: &str,
) -> Result<(String, Value), PeerError> {
    let invalid = |detail: String| error(Class::Validation, operation, detail);
    if record.kind != EntityKind::Contact {
        return Err(invalid(format!("a {} is not a Repsly client", record.kind)));
    }
    let field_code = record
        .fields
        .get("Code")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let id = Some(record.id.trim()).filter(|id| !id.is_empty());
    let code = match (id, field_code) {
        (Some(id), Some(field)) if id != field => {
            return Err(invalid(format!(
                "record id {id:?} and Code {field:?} differ; Repsly upserts by Code"
            )));
        }
        (Some(code), _) | (None, Some(code)) => code.to_string(),
        (None, None) => {
            return Err(field_error(
                operation,
                "Code",
                "Code is required (Repsly's upsert key)",
            ));
        }
    };
    if code.chars().count() > MAX_CODE_LEN {
        return Err(invalid(format!(
            "Code {code:?} is longer than {MAX_CODE_LEN} characters"
        )));
    }
    let name = record
        .fields
        .get("Name")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    if name.is_empty() {
        return Err(field_error(
            operation,
            "Name",
            format!("Name is required (client {code:?})"),
        ));
    }
    let mut body = Map::new();
    for key in IMPORT_FIELDS {
        if let Some(value) = record.fields.get(*key) {
            body.insert((*key).to_string(), value.clone());
        }
    }
    body.insert("Code".into(), Value::String(code.clone()));
    let active = record.active
        && record
            .fields
            .get("Active")
            .and_then(Value::as_bool)
            .unwrap_or(true);
    body.insert("Active".into(), Value::Bool(active));
    let empty_lists =
        matches!(body.get("PriceLists"), Some(Value::Array(items)) if items.is_empty());
    if empty_lists && !settings.empty_price_lists_clears {
        // `[]` apparently clears the client's price lists; `null` leaves them alone. [verify]
        body.insert("PriceLists".into(), Value::Null);
    }
    Ok((code, Value::Object(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::ErrorClass;
    use crate::peers::repsly::paging::{CLIENTS, parse_page};
    use serde_json::json;

    fn record(id: &str, fields: Value) -> PeerRecord {
        PeerRecord {
            kind: EntityKind::Contact,
            id: id.into(),
            parent_id: None,
            updated_at: None,
            active: true,
            fields: fields.as_object().cloned().unwrap_or_default(),
            raw: Value::Null,
        }
    }

    #[test]
    fn clients_page() {
        let page = json!({
            "MetaCollectionResult": {"TotalCount": 2, "LastTimeStamp": 638000000000000123_i64},
            "Clients": [
                {"ClientID": 11, "TimeStamp": 638000000000000100_i64, "Code": "C-1", "Name": "Acme", "Active": true,
                 "Tag": "a,b", "CustomFields": [{"Field": "Tier", "Value": "Gold"}], "PriceLists": [{"Name": "Retail"}]},
                {"ClientID": 12, "TimeStamp": 638000000000000123_i64, "Code": "C-2", "Name": "Gone", "Active": false},
                {"ClientID": 13, "Name": "No code"}
            ]
        });
        let page = parse_page(&page, CLIENTS, "0", "GET export/clients/0", client_record).unwrap();
        assert_eq!(page.next_cursor.as_deref(), Some("638000000000000123"));
        assert!(page.done, "fewer than 50 rows");
        assert_eq!(page.records.len(), 2, "the row without Code is skipped");
        let first = &page.records[0];
        assert_eq!(
            (first.id.as_str(), first.active, first.updated_at),
            ("C-1", true, None)
        );
        assert_eq!(first.fields["ClientID"], json!(11));
        assert_eq!(first.fields["TimeStamp"], json!(638000000000000100_i64));
        assert!(!page.records[1].active);
        let string_cursor = json!({"MetaCollectionResult": {"TotalCount": 1, "LastTimeStamp": "0x00A1"}, "Clients": [{"Code": "C"}]});
        let page = parse_page(&string_cursor, CLIENTS, "0", "op", client_record).unwrap();
        assert_eq!(
            page.next_cursor.as_deref(),
            Some("0x00A1"),
            "stored exactly as received"
        );
    }

    #[test]
    fn single_client_shapes() {
        let row = json!({"Code": "C-1", "Name": "Acme"});
        assert_eq!(single_client(&row, "C-1").unwrap().id, "C-1");
        assert_eq!(
            single_client(&json!({"Client": row}), "C-1").unwrap().id,
            "C-1"
        );
        assert_eq!(
            single_client(&json!({"Clients": [row]}), "C-1").unwrap().id,
            "C-1"
        );
        assert!(single_client(&json!({"Clients": []}), "C-1").is_none());
        assert!(single_client(&Value::Null, "C-1").is_none());
        assert!(single_client(&json!({}), "C-1").is_none());
    }

    #[test]
    fn import_body_requires_code_and_name() {
        let settings = RepslySettings::default();
        let op = "POST import/client";
        let err = import_body(&record("", json!({"Name": "Acme"})), &settings, op).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Validation);
        assert!(err.to_string().contains("Code is required"), "{err}");
        assert_eq!(err.field(), Some("Code"));
        let err = import_body(&record("C-1", json!({"Name": "  "})), &settings, op).unwrap_err();
        assert!(err.to_string().contains("Name is required"), "{err}");
        assert_eq!(err.field(), Some("Name"), "the refusal names the field");
        let err = import_body(
            &record("C-1", json!({"Code": "C-2", "Name": "A"})),
            &settings,
            op,
        )
        .unwrap_err();
        assert!(err.to_string().contains("differ"), "{err}");
        let long = "x".repeat(51);
        assert!(import_body(&record(&long, json!({"Name": "A"})), &settings, op).is_err());
    }

    #[test]
    fn import_body_fields() {
        let mut settings = RepslySettings::default();
        let mut rec = record(
            "",
            json!({
                "Code": "C-1", "Name": "Acme", "ClientID": 11, "TimeStamp": 5, "RepresentativeName": "Ann",
                "Email": "a@b.c", "PriceLists": [], "CustomFields": [{"Field": "Tier", "Value": "Gold"}]
            }),
        );
        rec.active = false;
        let (code, body) = import_body(&rec, &settings, "op").unwrap();
        assert_eq!(code, "C-1");
        assert_eq!(
            body,
            json!({
                "Code": "C-1", "Name": "Acme", "Email": "a@b.c", "CustomFields": [{"Field": "Tier", "Value": "Gold"}],
                "PriceLists": null, "Active": false
            })
        );
        settings.empty_price_lists_clears = true;
        let (_, body) = import_body(&rec, &settings, "op").unwrap();
        assert_eq!(body["PriceLists"], json!([]));
    }
}
