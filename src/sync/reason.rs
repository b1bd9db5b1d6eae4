//! Why a record failed, as a stable code with a sentence that says what to do. Every failure in
//! the failed queue carries one (`OpError::reason`): what the planner held back (`hold::Reason`
//! names its code here) and what a request answered, classified from the error's data (class,
//! status, the field GHL's or the peer's refusal named), never from our own wording. Screens
//! group, filter and retry by the code, so a retry after a mapping fix never sweeps failures a
//! mapping change cannot fix (`fixable_by_mapping`).

use crate::net::ErrorClass;
use crate::store::{Direction, OpError};
use serde::{Deserialize, Serialize};

/// The stable reason codes (README, "Failures"). The snake_case name is the code on screen, in
/// `--json`, in the store and in `failures … --reason CODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Held: nothing to match the contact by (no email, phone or external id).
    NoMatchKey,
    /// Held (parked): a child whose contact is not linked yet.
    ParentNotSynced,
    /// Held (parked): the same person's write in the other direction is not done yet.
    SamePersonPending,
    /// Held (parked): the target already holds this person as a record that is not linked.
    TargetHasPerson,
    /// Held: the person is held twice on one side.
    Duplicate,
    /// GHL (or the local check of its DTO) refused the value of a field it named.
    GhlRejectedField,
    /// GHL refused the data without naming a field.
    GhlRejected,
    /// The peer refused the record for a field it requires (e.g. a Repsly client's `Name`).
    PeerRequiresField,
    /// The peer refused the data without naming a field.
    PeerRejected,
    /// The peer will not let this record be edited (Rezora's synced and brokerage "Master"
    /// contacts, the account's self contact).
    PeerRecordLocked,
    /// The target record does not exist any more (404).
    TargetGone,
    /// The answer could not be understood (HTML page, malformed JSON).
    BadAnswer,
    /// The token or password was refused.
    AuthExpired,
    /// A missing scope, another location, or a setting that cannot work.
    ScopeOrConfig,
    /// Rate limited after the retry budget, or the daily quota is used up.
    RateLimited,
    /// A server error or a network failure.
    Transient,
    /// A write whose outcome is unknown: it may have landed.
    AmbiguousWrite,
}

impl ReasonCode {
    /// Every code, in the order the README's table lists them.
    pub const ALL: [ReasonCode; 17] = [
        ReasonCode::NoMatchKey,
        ReasonCode::ParentNotSynced,
        ReasonCode::SamePersonPending,
        ReasonCode::TargetHasPerson,
        ReasonCode::Duplicate,
        ReasonCode::GhlRejectedField,
        ReasonCode::GhlRejected,
        ReasonCode::PeerRequiresField,
        ReasonCode::PeerRejected,
        ReasonCode::PeerRecordLocked,
        ReasonCode::TargetGone,
        ReasonCode::BadAnswer,
        ReasonCode::AuthExpired,
        ReasonCode::ScopeOrConfig,
        ReasonCode::RateLimited,
        ReasonCode::Transient,
        ReasonCode::AmbiguousWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::NoMatchKey => "no_match_key",
            ReasonCode::ParentNotSynced => "parent_not_synced",
            ReasonCode::SamePersonPending => "same_person_pending",
            ReasonCode::TargetHasPerson => "target_has_person",
            ReasonCode::Duplicate => "duplicate",
            ReasonCode::GhlRejectedField => "ghl_rejected_field",
            ReasonCode::GhlRejected => "ghl_rejected",
            ReasonCode::PeerRequiresField => "peer_requires_field",
            ReasonCode::PeerRejected => "peer_rejected",
            ReasonCode::PeerRecordLocked => "peer_record_locked",
            ReasonCode::TargetGone => "target_gone",
            ReasonCode::BadAnswer => "bad_answer",
            ReasonCode::AuthExpired => "auth_expired",
            ReasonCode::ScopeOrConfig => "scope_or_config",
            ReasonCode::RateLimited => "rate_limited",
            ReasonCode::Transient => "transient",
            ReasonCode::AmbiguousWrite => "ambiguous_write",
        }
    }

    /// The code named `code`, if it is one.
    pub fn parse(code: &str) -> Option<ReasonCode> {
        ReasonCode::ALL
            .into_iter()
            .find(|reason| reason.as_str() == code.trim())
    }

    /// Every valid code, comma-separated: what an error about an unknown code lists.
    pub fn valid_codes() -> String {
        ReasonCode::ALL.map(ReasonCode::as_str).join(", ")
    }

    /// Whether changing the mapping (then retrying this reason) can clear such a failure. The
    /// others wait for another record, for time, for a fix of the connection, or for a person to
    /// act on the data itself.
    pub fn fixable_by_mapping(self) -> bool {
        matches!(
            self,
            ReasonCode::NoMatchKey
                | ReasonCode::GhlRejectedField
                | ReasonCode::GhlRejected
                | ReasonCode::PeerRequiresField
                | ReasonCode::PeerRejected
        )
    }

    /// What to do, in one sentence. `field` is the field the refusal named, when it named one.
    pub fn advice(self, field: Option<&str>) -> String {
        let field = field.filter(|f| !f.is_empty());
        match (self, field) {
            (ReasonCode::NoMatchKey, _) => "nothing to match the contact by (no email, phone or external id): map a field that holds one, or fill it in the record, then retry this reason".into(),
            (ReasonCode::ParentNotSynced, _) => "waits for its contact to sync; it comes back by itself once the contact does (fix the contact's own failure first)".into(),
            (ReasonCode::SamePersonPending, _) => "waits for the same person's write in the other direction; it comes back by itself once that goes through".into(),
            (ReasonCode::TargetHasPerson, _) => "the other side already has this person as a record that is not linked; fix or reactivate that record, or skip this one".into(),
            (ReasonCode::Duplicate, _) => "the person is held twice on one side; merge or remove the duplicate there, then retry".into(),
            (ReasonCode::GhlRejectedField, Some(field)) => format!("GHL refused the value of `{field}`: fix the mapping rule that writes it (or the record), preview, then retry this reason"),
            (ReasonCode::GhlRejectedField, None) | (ReasonCode::GhlRejected, _) => "GHL refused the data (see its message): fix the mapping or the record, preview, then retry this reason".into(),
            (ReasonCode::PeerRequiresField, Some(field)) => format!("the peer requires `{field}`, which is empty: give it a value on the way to the peer (a \"to_peer\" rule from other GHL fields, or `to_peer_transforms` with a `default` on its two-way rule: `transforms` apply on the way to GHL only), preview, then retry this reason"),
            (ReasonCode::PeerRequiresField, None) | (ReasonCode::PeerRejected, _) => "the peer refused the data (see its message): fix the mapping or the record, preview, then retry this reason".into(),
            (ReasonCode::PeerRecordLocked, _) => "the peer will not let this record be edited (a contact synced from another integration, a brokerage's Master contact, the account's self contact): change it in the peer app or skip this failure".into(),
            (ReasonCode::TargetGone, _) => "the target record no longer exists: skip this failure, or resolve it once the record is back".into(),
            (ReasonCode::BadAnswer, _) => "the answer could not be understood: retry later, and report it with the traceId if it persists".into(),
            (ReasonCode::AuthExpired, _) => "the credentials were refused: renew the token or password, then retry (queued writes retry by themselves)".into(),
            (ReasonCode::ScopeOrConfig, _) => "a missing scope or a wrong setting: fix the app's scopes or the config, then retry".into(),
            (ReasonCode::RateLimited, _) => "rate limited: nothing to do, it retries on the ladder once the limit resets".into(),
            (ReasonCode::Transient, _) => "a server or network failure: nothing to do, it retries on the ladder".into(),
            (ReasonCode::AmbiguousWrite, _) => "the write may have landed: it is looked for before it is sent again; nothing to do".into(),
        }
    }

    /// The code a failure of `class` has when its data says nothing finer (also the code of an
    /// operation recorded before reasons existed). A refusal is the target's: GHL's for writes
    /// to GHL, the peer's for writes to the peer.
    pub fn of_class(class: ErrorClass, direction: Direction) -> ReasonCode {
        match class {
            ErrorClass::Validation => match direction {
                Direction::ToGhl => ReasonCode::GhlRejected,
                Direction::ToPeer => ReasonCode::PeerRejected,
            },
            ErrorClass::NotFound => ReasonCode::TargetGone,
            ErrorClass::Decode => ReasonCode::BadAnswer,
            ErrorClass::Auth => ReasonCode::AuthExpired,
            ErrorClass::ScopeOrConfig => ReasonCode::ScopeOrConfig,
            ErrorClass::RateLimited => ReasonCode::RateLimited,
            ErrorClass::Transient => ReasonCode::Transient,
            ErrorClass::Ambiguous => ReasonCode::AmbiguousWrite,
        }
    }

    /// The code of a failure a write in `direction` met: the one its error already carries (the
    /// planner's, or a local check's), else the finest its data allows — a refusal that named a
    /// field (`OpError::field`) is a field's, else the class's.
    pub fn classify(err: &OpError, direction: Direction) -> ReasonCode {
        if let Some(code) = err.reason.as_deref().and_then(ReasonCode::parse) {
            return code;
        }
        match (err.class, direction, err.field.is_some()) {
            (ErrorClass::Validation, Direction::ToGhl, true) => ReasonCode::GhlRejectedField,
            (ErrorClass::Validation, Direction::ToPeer, true) => ReasonCode::PeerRequiresField,
            (class, direction, _) => ReasonCode::of_class(class, direction),
        }
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ReasonCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ReasonCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for ReasonCode {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl std::str::FromStr for ReasonCode {
    type Err = UnknownReason;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        ReasonCode::parse(code).ok_or_else(|| UnknownReason(code.to_string()))
    }
}

/// A code that is none of `ReasonCode::ALL`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown reason code {0:?}; valid codes: {codes}", codes = ReasonCode::valid_codes())]
pub struct UnknownReason(pub String);

/// The field a GHL validation message names, in the forms GHL's validator writes them
/// (`email must be an email`, `property foo should not exist`, `each value in tags must be a
/// string`, `phone should not be empty`). `None` when the message names none.
pub fn field_in_ghl_message(message: &str) -> Option<String> {
    let message = message.trim();
    let word = |text: &str| -> Option<String> {
        let word = text.split_whitespace().next()?;
        let ok = !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'));
        ok.then(|| word.to_string())
    };
    if let Some(rest) = message.strip_prefix("property ") {
        return rest
            .contains(" should not exist")
            .then(|| word(rest))
            .flatten();
    }
    if let Some(rest) = message.strip_prefix("each value in ") {
        return word(rest);
    }
    let first = word(message)?;
    let after = message[first.len()..].trim_start();
    ["must ", "should ", "is ", "has "]
        .iter()
        .any(|verb| after.starts_with(verb))
        .then_some(first)
}

/// The field a peer's refusal names, in the form `Name is required` / `Name is empty` (Repsly's
/// messages), `None` otherwise.
pub fn field_in_peer_message(message: &str) -> Option<String> {
    let message = message.trim();
    let field = message.split_whitespace().next()?;
    let rest = message[field.len()..].trim_start();
    let required = ["is required", "is missing", "is empty", "must not be empty"]
        .iter()
        .any(|phrase| rest.starts_with(phrase));
    let named = field
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'));
    (required && named).then(|| field.rsplit('.').next().unwrap_or(field).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(class: ErrorClass, field: Option<&str>, reason: Option<&str>) -> OpError {
        OpError {
            class,
            status: None,
            message: "whatever we wrote".into(),
            trace_id: None,
            reason: reason.map(str::to_string),
            field: field.map(str::to_string),
        }
    }

    #[test]
    fn every_code_round_trips_and_an_unknown_one_lists_the_valid_ones() {
        for code in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(code.as_str()), Some(code));
            let json = serde_json::to_value(code).expect("json");
            assert_eq!(json, serde_json::Value::from(code.as_str()));
            assert!(!code.advice(None).is_empty());
        }
        let unknown = "validaton".parse::<ReasonCode>().expect_err("unknown");
        let text = unknown.to_string();
        assert!(text.contains("\"validaton\""), "{text}");
        assert!(
            text.contains("ghl_rejected_field") && text.contains("no_match_key"),
            "{text}"
        );
    }

    #[test]
    fn failures_are_classified_from_their_data_and_a_recorded_code_is_kept() {
        use Direction::{ToGhl, ToPeer};
        let classify = |class, field, reason, direction| {
            ReasonCode::classify(&err(class, field, reason), direction)
        };
        assert_eq!(
            classify(ErrorClass::Validation, Some("email"), None, ToGhl),
            ReasonCode::GhlRejectedField
        );
        assert_eq!(
            classify(ErrorClass::Validation, None, None, ToGhl),
            ReasonCode::GhlRejected
        );
        assert_eq!(
            classify(ErrorClass::Validation, Some("Name"), None, ToPeer),
            ReasonCode::PeerRequiresField
        );
        assert_eq!(
            classify(ErrorClass::Validation, None, None, ToPeer),
            ReasonCode::PeerRejected
        );
        assert_eq!(
            classify(ErrorClass::NotFound, None, None, ToGhl),
            ReasonCode::TargetGone
        );
        assert_eq!(
            classify(ErrorClass::Decode, None, None, ToPeer),
            ReasonCode::BadAnswer
        );
        assert_eq!(
            classify(ErrorClass::Auth, None, None, ToGhl),
            ReasonCode::AuthExpired
        );
        assert_eq!(
            classify(ErrorClass::Ambiguous, Some("email"), None, ToGhl),
            ReasonCode::AmbiguousWrite
        );
        assert_eq!(
            classify(ErrorClass::Validation, None, Some("no_match_key"), ToGhl),
            ReasonCode::NoMatchKey
        );
        // A code this release does not know falls back to the data.
        assert_eq!(
            classify(ErrorClass::Transient, None, Some("from_the_future"), ToGhl),
            ReasonCode::Transient
        );
    }

    #[test]
    fn only_what_a_mapping_shapes_is_fixable_by_a_mapping() {
        let fixable: Vec<&str> = ReasonCode::ALL
            .into_iter()
            .filter(|code| code.fixable_by_mapping())
            .map(ReasonCode::as_str)
            .collect();
        assert_eq!(
            fixable,
            [
                "no_match_key",
                "ghl_rejected_field",
                "ghl_rejected",
                "peer_requires_field",
                "peer_rejected"
            ]
        );
        assert!(
            ReasonCode::GhlRejectedField
                .advice(Some("email"))
                .contains("`email`")
        );
        assert!(
            ReasonCode::PeerRequiresField
                .advice(Some("Name"))
                .contains("`Name`")
        );
    }

    #[test]
    fn the_field_a_ghl_message_names() {
        let field = |m: &str| field_in_ghl_message(m);
        assert_eq!(field("email must be an email").as_deref(), Some("email"));
        assert_eq!(
            field("property additionalEmails should not exist").as_deref(),
            Some("additionalEmails")
        );
        assert_eq!(
            field("each value in tags must be a string").as_deref(),
            Some("tags")
        );
        assert_eq!(field("phone should not be empty").as_deref(), Some("phone"));
        assert_eq!(field("The contact is a duplicate"), None);
        assert_eq!(field("Bad Request"), None);
        assert_eq!(field(""), None);
    }

    #[test]
    fn the_field_a_peer_refusal_names() {
        let field = |m: &str| field_in_peer_message(m);
        assert_eq!(field("Name is required").as_deref(), Some("Name"));
        assert_eq!(field("client.Name is required").as_deref(), Some("Name"));
        assert_eq!(field("Code too long"), None);
        assert_eq!(field("The request is invalid."), None);
    }
}
