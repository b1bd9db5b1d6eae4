//! Typed GHL calls, one file per resource. Each method describes its request (path, Version,
//! scope, retry safety, wrapping key) and lets `transport` run it.

mod appointments;
mod calendars;
mod contacts;
mod custom_fields;
mod notes;
mod oauth;
mod tags;
mod tasks;

pub use contacts::ListContacts;

/// OAuth scopes per operation, from each spec's `security` (the hint on a scope error).
pub(crate) mod scope {
    pub const CONTACTS_READ: &str = "contacts.readonly";
    pub const CONTACTS_WRITE: &str = "contacts.write";
    pub const CALENDARS_READ: &str = "calendars.readonly";
    pub const EVENTS_READ: &str = "calendars/events.readonly";
    pub const EVENTS_WRITE: &str = "calendars/events.write";
    pub const CUSTOM_FIELDS_READ: &str = "locations/customFields.readonly";
    pub const CUSTOM_FIELDS_WRITE: &str = "locations/customFields.write";
    pub const OAUTH_READ: &str = "oauth.readonly";
    pub const OAUTH_WRITE: &str = "oauth.write";
}

use super::error::GhlError;

/// One path segment, percent-encoded: ids come from data and must not be able to change the
/// path. Empty, `.` and `..` are refused (URL parsing would fold them into another path, e.g.
/// an empty contact id would turn "get contact" into "list contacts").
pub(crate) fn segment(id: &str) -> Result<String, GhlError> {
    if matches!(id.trim(), "" | "." | "..") {
        return Err(GhlError::InvalidArgument {
            detail: format!("{id:?} is not a valid GHL id"),
        });
    }
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn ids_cannot_escape_their_segment() {
        assert_eq!(
            segment("sx6wyHhbFdRXh302LLNR").unwrap(),
            "sx6wyHhbFdRXh302LLNR"
        );
        assert_eq!(segment("../x?y#z").unwrap(), "..%2Fx%3Fy%23z");
        assert_eq!(segment("a b+é").unwrap(), "a%20b%2B%C3%A9");
        for bad in ["", " ", ".", ".."] {
            assert!(segment(bad).is_err(), "{bad:?}");
        }
    }
}
