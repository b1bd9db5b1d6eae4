//! Classification, messages and scrubbing.

use super::*;

fn api(status: u16, class: ErrorClass, message: ErrorMessage, hint: Option<String>) -> GhlError {
    GhlError::Api(Box::new(ApiError {
        ctx: RequestContext {
            method: "GET".into(),
            path: "/contacts/abc".into(),
        },
        status,
        class,
        summary: message.to_string(),
        message: Some(message),
        trace_id: Some("t-1".into()),
        hint,
    }))
}

#[test]
fn classifies_statuses() {
    let scope = "The token is not authorized for this scope.";
    assert_eq!(
        classify_status(401, scope, false),
        ErrorClass::ScopeOrConfig
    );
    assert_eq!(classify_status(401, "Invalid JWT", false), ErrorClass::Auth);
    assert_eq!(
        classify_status(
            403,
            "The token does not have access to this location.",
            false
        ),
        ErrorClass::ScopeOrConfig
    );
    assert_eq!(classify_status(404, "", false), ErrorClass::NotFound);
    assert_eq!(classify_status(422, "", false), ErrorClass::Validation);
    assert_eq!(classify_status(422, "", true), ErrorClass::Ambiguous);
    assert_eq!(classify_status(400, "", true), ErrorClass::Validation);
    assert_eq!(classify_status(502, "", false), ErrorClass::Transient);
    assert_eq!(classify_status(500, "", true), ErrorClass::Ambiguous);
    assert_eq!(classify_status(429, "", true), ErrorClass::RateLimited);
}

#[test]
fn scope_error_says_which_scope_to_add() {
    let class = classify_status(401, "The token is not authorized for this scope.", false);
    let err = api(
        401,
        class,
        ErrorMessage::Text("The token is not authorized for this scope.".into()),
        hint_for(class, 401, "contacts.readonly", "loc1"),
    );
    assert_eq!(
        err.to_string(),
        "GET /contacts/abc: HTTP 401: The token is not authorized for this scope. — this call needs scope `contacts.readonly`; add it to the Private Integration / app and reinstall"
    );
    assert_eq!(err.class(), ErrorClass::ScopeOrConfig);
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.trace_id(), Some("t-1"));
    assert_eq!(err.path(), Some("/contacts/abc"));
}

#[test]
fn location_error_names_the_configured_location() {
    let hint = hint_for(
        ErrorClass::ScopeOrConfig,
        403,
        "contacts.readonly",
        "sx6wyHhbFdRXh302LLNR",
    );
    assert!(hint.unwrap().contains("`sx6wyHhbFdRXh302LLNR`"));
}

#[test]
fn message_arrays_are_joined() {
    let message = ErrorMessage::List(vec![
        "property a should not exist".into(),
        "email must be an email".into(),
    ]);
    let err = api(422, ErrorClass::Validation, message, None);
    assert!(
        err.to_string()
            .ends_with("property a should not exist, email must be an email"),
        "{err}"
    );
}
