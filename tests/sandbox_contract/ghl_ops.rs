//! The operations the sandbox emulates, each with what its valid requests need that the spec
//! cannot say: the caller's location, an existing record to act on, a calendar or custom field
//! of the location. Where an override replaces the spec's own type (a date where it says only
//! "string"), a `request` waiver in `waivers.toml` says why.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::common::Harness;
use super::generate::{Gen, Mutation, Overrides, fixed, iso_instant};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Setup {
    Nothing,
    Contact,
    /// One of the seeded contacts (in turn): they carry custom fields of every type.
    Seeded,
    Task,
    Note,
    Appointment,
    /// A fresh refresh token (single-use) for `POST /oauth/token`.
    Refresh,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Auth {
    Location,
    Agency,
    /// Client credentials in the body.
    Client,
}

pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub setup: Setup,
    pub auth: Auth,
    pub overrides: fn(&Ctx) -> Overrides,
    /// Invalid values the schema alone does not suggest (the spec's type is wrong there).
    pub extra_invalid: fn() -> Vec<Mutation>,
}

impl Op {
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The running sandbox and the ids valid requests name.
pub struct Ctx {
    pub h: Harness,
    pub location: String,
    pub company: String,
    pub app_id: String,
    pub calendar: String,
    pub text_fields: Vec<String>,
    pub agency_token: String,
    pub seeded: Vec<String>,
    pub turn: std::sync::atomic::AtomicUsize,
}

fn none(_: &Ctx) -> Overrides {
    Overrides::new()
}

fn no_extra() -> Vec<Mutation> {
    Vec::new()
}

fn o(pairs: Vec<(&str, Option<Gen>)>) -> Overrides {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The birth-date formats the spec's description lists (its type, `object`, is wrong).
fn birth_date() -> Gen {
    (1950i32..2010, 1u32..13, 1u32..29, 0usize..8)
        .prop_map(|(y, m, d, f)| {
            let s = match f {
                0 => format!("{y:04}/{m:02}/{d:02}"),
                1 => format!("{m:02}/{d:02}/{y:04}"),
                2 => format!("{y:04}-{m:02}-{d:02}"),
                3 => format!("{m:02}-{d:02}-{y:04}"),
                4 => format!("{y:04}.{m:02}.{d:02}"),
                5 => format!("{m:02}.{d:02}.{y:04}"),
                6 => format!("{y:04}_{m:02}_{d:02}"),
                _ => format!("{m:02}_{d:02}_{y:04}"),
            };
            json!(s)
        })
        .boxed()
}

fn bad_birth_dates() -> Vec<Mutation> {
    [
        json!(false),
        json!(0),
        json!({}),
        json!("not a date"),
        json!("2020-13-45"),
    ]
    .into_iter()
    .map(|v| Mutation {
        path: "/dateOfBirth".into(),
        why: format!("/dateOfBirth given {v}"),
        value: Some(v),
    })
    .collect()
}

fn custom_fields(cx: &Ctx) -> Gen {
    let ids = cx.text_fields.clone();
    prop::collection::vec(
        (
            prop::sample::select(ids),
            "[A-Za-z][A-Za-z0-9 ]{0,11}",
            any::<bool>(),
        ),
        0..3,
    )
    .prop_map(|items| {
        Value::Array(
            items
                .into_iter()
                .map(|(id, value, with)| {
                    if with {
                        json!({"id": id, "field_value": value})
                    } else {
                        json!({"id": id})
                    }
                })
                .collect(),
        )
    })
    .boxed()
}

fn contact_write(cx: &Ctx, with_location: bool) -> Overrides {
    // Unique: the location refuses a second contact with the same email or phone.
    let mut ov = o(vec![
        ("/dateOfBirth", Some(birth_date())),
        ("/customFields", Some(custom_fields(cx))),
        (
            "/email",
            Some("[a-z]{12}@example\\.org".prop_map(Value::String).boxed()),
        ),
        (
            "/phone",
            Some("\\+1 555 [0-9]{7}".prop_map(Value::String).boxed()),
        ),
    ]);
    if with_location {
        ov.insert("/locationId".into(), fixed(json!(cx.location)));
    }
    ov
}

fn number_string(range: std::ops::Range<i64>) -> Gen {
    range.prop_map(|n| json!(n.to_string())).boxed()
}

fn millis(range: std::ops::Range<i64>) -> Gen {
    range.prop_map(|n| json!(n.to_string())).boxed()
}

fn iso_between(from: i64, to: i64) -> Gen {
    (from..to)
        .prop_map(|s| {
            let t = chrono::DateTime::from_timestamp(s, 0).unwrap();
            json!(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        })
        .boxed()
}

const Y2025: i64 = 1_735_689_600;
const Y2027: i64 = 1_798_761_600;
const Y2029: i64 = 1_861_920_000;

fn appointment(cx: &Ctx, create: bool) -> Overrides {
    let mut ov = o(vec![
        ("/calendarId", fixed(json!(cx.calendar))),
        ("/startTime", Some(iso_between(Y2025, Y2027))),
        ("/endTime", Some(iso_between(Y2027, Y2029))),
    ]);
    if create {
        ov.insert("/locationId".into(), fixed(json!(cx.location)));
        // The contact is made per case; `ghl::valid_case` puts its id in.
        ov.insert("/contactId".into(), fixed(json!("")));
    }
    ov
}

pub fn ops() -> Vec<Op> {
    use Auth::*;
    use Setup::*;
    let op = |method, path, setup, overrides: fn(&Ctx) -> Overrides| Op {
        method,
        path,
        setup,
        auth: Location,
        overrides,
        extra_invalid: no_extra,
    };
    vec![
        // Reads first, while the seeded contacts (custom fields of every type) lead the lists.
        op("GET", "/contacts/{contactId}", Seeded, none),
        op("DELETE", "/contacts/{contactId}", Contact, none),
        op("GET", "/contacts/", Nothing, |cx| {
            o(vec![
                ("?/locationId", fixed(json!(cx.location))),
                ("?/startAfterId", None),
                (
                    "?/startAfter",
                    Some(
                        (1_900_000_000_000i64..2_000_000_000_000)
                            .prop_map(Value::from)
                            .boxed(),
                    ),
                ),
                ("?/limit", Some((1i64..101).prop_map(Value::from).boxed())),
            ])
        }),
        op("POST", "/contacts/search", Nothing, |cx| {
            o(vec![
                ("/locationId", fixed(json!(cx.location))),
                (
                    "/pageLimit",
                    Some((1i64..101).prop_map(Value::from).boxed()),
                ),
                ("/page", Some((1i64..4).prop_map(Value::from).boxed())),
            ])
        }),
        op("GET", "/contacts/search/duplicate", Nothing, |cx| {
            o(vec![("?/locationId", fixed(json!(cx.location)))])
        }),
        op("GET", "/contacts/business/{businessId}", Nothing, |cx| {
            o(vec![
                ("?/locationId", fixed(json!(cx.location))),
                ("?/limit", Some(number_string(1..101))),
                ("?/skip", Some(number_string(0..50))),
            ])
        }),
        Op {
            extra_invalid: bad_birth_dates,
            ..op("POST", "/contacts/", Nothing, |cx| contact_write(cx, true))
        },
        Op {
            extra_invalid: bad_birth_dates,
            ..op("POST", "/contacts/upsert", Nothing, |cx| {
                contact_write(cx, true)
            })
        },
        Op {
            extra_invalid: bad_birth_dates,
            ..op("PUT", "/contacts/{contactId}", Contact, |cx| {
                contact_write(cx, false)
            })
        },
        op("POST", "/contacts/{contactId}/tags", Contact, none),
        op("DELETE", "/contacts/{contactId}/tags", Contact, none),
        op("GET", "/contacts/{contactId}/tasks", Task, none),
        op("POST", "/contacts/{contactId}/tasks", Contact, |_| {
            o(vec![("/dueDate", Some(iso_instant()))])
        }),
        op("GET", "/contacts/{contactId}/tasks/{taskId}", Task, none),
        op("PUT", "/contacts/{contactId}/tasks/{taskId}", Task, |_| {
            o(vec![("/dueDate", Some(iso_instant()))])
        }),
        op("DELETE", "/contacts/{contactId}/tasks/{taskId}", Task, none),
        op(
            "PUT",
            "/contacts/{contactId}/tasks/{taskId}/completed",
            Task,
            none,
        ),
        op("GET", "/contacts/{contactId}/notes", Note, none),
        op("POST", "/contacts/{contactId}/notes", Contact, none),
        op("GET", "/contacts/{contactId}/notes/{id}", Note, none),
        op("PUT", "/contacts/{contactId}/notes/{id}", Note, none),
        op("DELETE", "/contacts/{contactId}/notes/{id}", Note, none),
        op(
            "GET",
            "/contacts/{contactId}/appointments",
            Appointment,
            none,
        ),
        op("GET", "/locations/{locationId}/customFields", Nothing, none),
        op(
            "POST",
            "/locations/{locationId}/customFields",
            Nothing,
            |_| {
                let types = ghlsync::ghl::models::CUSTOM_FIELD_DATA_TYPES;
                o(vec![
                    (
                        "/dataType",
                        Some(prop::sample::select(types).prop_map(|t| json!(t)).boxed()),
                    ),
                    // A location's field names are unique.
                    (
                        "/name",
                        Some("Contract [a-z]{12}".prop_map(Value::String).boxed()),
                    ),
                ])
            },
        ),
        op("GET", "/calendars/", Nothing, |cx| {
            o(vec![("?/locationId", fixed(json!(cx.location)))])
        }),
        op("GET", "/calendars/events", Nothing, |cx| {
            o(vec![
                ("?/locationId", fixed(json!(cx.location))),
                ("?/calendarId", fixed(json!(cx.calendar))),
                ("?/startTime", Some(millis(0..1_800_000_000_000))),
                (
                    "?/endTime",
                    Some(millis(1_800_000_000_000..1_900_000_000_000)),
                ),
            ])
        }),
        op("POST", "/calendars/events/appointments", Contact, |cx| {
            appointment(cx, true)
        }),
        op(
            "GET",
            "/calendars/events/appointments/{eventId}",
            Appointment,
            none,
        ),
        op(
            "PUT",
            "/calendars/events/appointments/{eventId}",
            Appointment,
            |cx| appointment(cx, false),
        ),
        op("DELETE", "/calendars/events/{eventId}", Appointment, none),
        Op {
            auth: Client,
            ..op("POST", "/oauth/token", Refresh, |cx| {
                let id = cx.h.sandbox.oauth_client_id.clone();
                let secret = cx.h.sandbox.oauth_client_secret.expose().to_string();
                o(vec![
                    ("/client_id", fixed(json!(id))),
                    ("/client_secret", fixed(json!(secret))),
                    ("/grant_type", fixed(json!("refresh_token"))),
                    ("/refresh_token", fixed(json!(""))),
                    ("/code", None),
                    ("/redirect_uri", None),
                    ("/user_type", fixed(json!("Location"))),
                ])
            })
        },
        Op {
            auth: Agency,
            ..op("POST", "/oauth/locationToken", Nothing, |cx| {
                o(vec![
                    ("/companyId", fixed(json!(cx.company))),
                    ("/locationId", fixed(json!(cx.location))),
                ])
            })
        },
        Op {
            auth: Agency,
            ..op("GET", "/oauth/installedLocations", Nothing, |cx| {
                o(vec![
                    ("?/companyId", fixed(json!(cx.company))),
                    ("?/appId", fixed(json!(cx.app_id))),
                    ("?/skip", Some(number_string(0..5))),
                    ("?/limit", Some(number_string(1..50))),
                ])
            })
        },
    ]
}

/// The path with its parameters filled from `ids`.
pub fn fill(path: &str, ids: &BTreeMap<&'static str, String>) -> String {
    let mut out = path.to_string();
    for (k, v) in ids {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}
