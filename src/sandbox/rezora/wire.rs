//! Rezora's wire format: the response format chosen by the URI's extension (`.json`; `.txt`
//! or none: plain text; `.xml` and `.csv` exist but are not emulated), request bodies by
//! `Content-Type` (JSON wrapped in `data`, or `name=value&…` text), answers as arrays.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    /// No extension, or `.txt`: the API's default.
    Text,
    /// `.xml`, `.csv`: real formats the emulation does not serve.
    Other,
}

/// The format a path asks for, by the extension of its last segment.
pub fn format_of(path: &str) -> Format {
    let last = path.rsplit('/').next().unwrap_or_default();
    match last.rsplit_once('.').map(|(_, ext)| ext) {
        Some("json") => Format::Json,
        Some("txt") | None => Format::Text,
        Some(_) => Format::Other,
    }
}

/// `123.json` → `123`.
pub fn strip_ext(segment: &str) -> &str {
    segment.split_once('.').map_or(segment, |(stem, _)| stem)
}

/// An id segment as a number; `None` for anything else.
pub fn id_of(segment: &str) -> Option<u64> {
    strip_ext(segment).trim().parse().ok()
}

/// An answer: rows as a JSON array, or as text lines of `name=value&…`.
pub fn answer(format: Format, status: StatusCode, rows: Vec<Value>) -> Response {
    match format {
        Format::Json => (status, axum::Json(Value::Array(rows))).into_response(),
        Format::Text => {
            let lines: Vec<String> = rows
                .iter()
                .map(|row| {
                    let mut form = url::form_urlencoded::Serializer::new(String::new());
                    if let Some(object) = row.as_object() {
                        for (name, value) in object {
                            form.append_pair(name, &super::data::text(value));
                        }
                    }
                    form.finish()
                })
                .collect();
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                lines.join("\n"),
            )
                .into_response()
        }
        Format::Other => (
            StatusCode::NOT_ACCEPTABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "the sandbox serves .json and .txt only",
        )
            .into_response(),
    }
}

/// A refusal: `[{"status":"403","message":…}]` with that HTTP status.
pub fn refusal(format: Format, status: StatusCode, message: &str) -> Response {
    answer(
        format,
        status,
        vec![json!({"status": status.as_u16().to_string(), "message": message})],
    )
}

/// `[{"status":"200"}]`.
pub fn done(format: Format) -> Response {
    answer(format, StatusCode::OK, vec![json!({"status": "200"})])
}

/// A request body's fields: JSON must be `{"data":{…}}`; text (the default) is `a=1&b=2`.
pub fn body_fields(headers: &HeaderMap, bytes: &Bytes) -> Result<Map<String, Value>, String> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/plain")
        .to_ascii_lowercase();
    if kind.starts_with("application/json") {
        let json: Value = serde_json::from_slice(bytes)
            // serde's own wording ("EOF while parsing a value") is no PHP server's; the place is.
            .map_err(|err| {
                format!(
                    "the JSON body does not parse (line {}, column {})",
                    err.line(),
                    err.column()
                )
            })?;
        return match json.get("data") {
            Some(Value::Object(data)) => Ok(data.clone()),
            _ => Err("JSON request bodies are wrapped in data: {\"data\":{…}}".into()),
        };
    }
    if kind.starts_with("application/xml") {
        return Err("the sandbox reads JSON and text bodies only".into());
    }
    Ok(url::form_urlencoded::parse(bytes)
        .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_chooses_the_format() {
        assert_eq!(format_of("/rezora/v1/contacts.json"), Format::Json);
        assert_eq!(format_of("/rezora/v1/contacts"), Format::Text);
        assert_eq!(format_of("/rezora/v1/contacts/12.txt"), Format::Text);
        assert_eq!(format_of("/rezora/v1/contacts.xml"), Format::Other);
        assert_eq!(id_of("12.json"), Some(12));
        assert_eq!(id_of("x.json"), None);
    }

    #[test]
    fn json_bodies_must_be_wrapped() {
        let json = HeaderMap::from_iter([(
            header::CONTENT_TYPE,
            "application/json".parse().expect("header"),
        )]);
        let wrapped = Bytes::from_static(br#"{"data":{"list_name":"Hot"}}"#);
        assert_eq!(
            body_fields(&json, &wrapped).expect("wrapped")["list_name"],
            "Hot"
        );
        let bare = Bytes::from_static(br#"{"list_name":"Hot"}"#);
        assert!(body_fields(&json, &bare).unwrap_err().contains("data"));
        let text = Bytes::from_static(b"list_name=Hot+Leads");
        assert_eq!(
            body_fields(&HeaderMap::new(), &text).expect("text")["list_name"],
            "Hot Leads"
        );
    }
}
