//! Tokens, scopes, locations and the `Version` header.
//!
//! Access tokens belong to one location and carry a scope set. Refresh tokens rotate and are
//! single-use: GHL hands back a new refresh token on every refresh, and the sandbox refuses the
//! old one so a client that races two refreshes (n8n-io/n8n#12230) fails here as it would there.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method};

use crate::ghl::models::{CALENDARS_API_VERSION, CONTACTS_API_VERSION};

use super::errors::ApiError;
use super::ids;

pub const ALL_SCOPES: &[&str] = &[
    "contacts.readonly",
    "contacts.write",
    "calendars.readonly",
    "calendars.write",
    "calendars/events.readonly",
    "calendars/events.write",
    "locations.readonly",
    "locations/customFields.readonly",
    "locations/customFields.write",
    "locations/tags.readonly",
    "locations/tasks.readonly",
    "users.readonly",
];

/// An agency token's extra scopes (its location tokens get [`ALL_SCOPES`]).
pub const AGENCY_SCOPES: &[&str] = &["oauth.readonly", "oauth.write"];

pub const REFRESH_TOKEN_TTL: Duration = Duration::from_secs(365 * 86_400);
const AUTH_CODE_TTL: Duration = Duration::from_secs(600);

pub type Scopes = Arc<BTreeSet<String>>;

pub fn scopes_of<S: AsRef<str>>(list: &[S]) -> Scopes {
    Arc::new(list.iter().map(|s| s.as_ref().to_string()).collect())
}

/// Who is calling, put in the request extensions once the token is accepted.
#[derive(Clone, Debug)]
pub struct Caller {
    pub location_id: String,
    pub scopes: Scopes,
}

struct Grant {
    /// The location, or for an agency grant the company.
    location_id: String,
    scopes: Scopes,
    expires_at: Instant,
    used: bool,
    /// An agency (Company) token: good for `/oauth/installedLocations` and
    /// `/oauth/locationToken`, refused by location routes.
    company: bool,
}

#[derive(Default)]
pub struct TokenStore {
    access: HashMap<String, Grant>,
    refresh: HashMap<String, Grant>,
    codes: HashMap<String, Grant>,
}

/// A freshly minted pair.
pub struct Minted {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: Duration,
    /// The location, or the company of an agency token (`company`).
    pub location_id: String,
    pub scopes: Scopes,
    pub company: bool,
}

pub enum GrantError {
    Unknown,
    Used,
    Expired,
}

impl TokenStore {
    pub fn insert_access(
        &mut self,
        token: String,
        location_id: &str,
        scopes: Scopes,
        ttl: Duration,
    ) {
        let grant = Grant {
            location_id: location_id.into(),
            scopes,
            expires_at: Instant::now() + ttl,
            used: false,
            company: false,
        };
        self.access.insert(token, grant);
    }

    pub fn insert_refresh(&mut self, token: String, location_id: &str, scopes: Scopes) {
        let expires_at = Instant::now() + REFRESH_TOKEN_TTL;
        let grant = Grant {
            location_id: location_id.into(),
            scopes,
            expires_at,
            used: false,
            company: false,
        };
        self.refresh.insert(token, grant);
    }

    pub fn mint(&mut self, location_id: &str, scopes: Scopes, ttl: Duration) -> Minted {
        self.mint_kind(location_id, scopes, ttl, false)
    }

    /// A pair for a location, or (`company`) an agency's pair for the company `owner`.
    pub fn mint_kind(
        &mut self,
        owner: &str,
        scopes: Scopes,
        ttl: Duration,
        company: bool,
    ) -> Minted {
        let mut rng = rand::rng();
        let access_token = format!("sbxat_{}", ids::alnum(&mut rng, 40));
        let refresh_token = format!("sbxrt_{}", ids::alnum(&mut rng, 40));
        self.insert_access(access_token.clone(), owner, scopes.clone(), ttl);
        self.insert_refresh(refresh_token.clone(), owner, scopes.clone());
        if let Some(grant) = self.access.get_mut(&access_token) {
            grant.company = company;
        }
        if let Some(grant) = self.refresh.get_mut(&refresh_token) {
            grant.company = company;
        }
        Minted {
            access_token,
            refresh_token,
            expires_in: ttl,
            location_id: owner.into(),
            scopes,
            company,
        }
    }

    pub fn mint_code(&mut self, location_id: &str, scopes: Scopes) -> String {
        self.mint_code_kind(location_id, scopes, false)
    }

    /// A single-use authorization code for a location, or (`company`) for an agency.
    pub fn mint_code_kind(&mut self, owner: &str, scopes: Scopes, company: bool) -> String {
        let code = ids::alnum(&mut rand::rng(), 40).to_lowercase();
        let grant = Grant {
            location_id: owner.into(),
            scopes,
            expires_at: Instant::now() + AUTH_CODE_TTL,
            used: false,
            company,
        };
        self.codes.insert(code.clone(), grant);
        code
    }

    /// The company and scopes of an agency token (401 for any other token).
    pub fn agency(&self, token: &str) -> Result<(String, Scopes), ApiError> {
        let grant = self.access.get(token).ok_or_else(ApiError::invalid_token)?;
        if Instant::now() >= grant.expires_at {
            return Err(ApiError::expired_token());
        }
        if !grant.company {
            return Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "This authClass type is not allowed to access this scope. Please reach out to the Platform team to get it added.",
                Some("Unauthorized"),
            ));
        }
        Ok((grant.location_id.clone(), grant.scopes.clone()))
    }

    pub fn caller(&self, token: &str) -> Result<Caller, ApiError> {
        let grant = self.access.get(token).ok_or_else(ApiError::invalid_token)?;
        if Instant::now() >= grant.expires_at {
            return Err(ApiError::expired_token());
        }
        if grant.company {
            // An agency token names no location: GHL refuses it on location routes.
            return Err(ApiError::location());
        }
        Ok(Caller {
            location_id: grant.location_id.clone(),
            scopes: grant.scopes.clone(),
        })
    }

    /// Spends a refresh token (or an authorization code) and mints the next pair.
    pub fn redeem(
        &mut self,
        refresh: bool,
        secret: &str,
        ttl: Duration,
    ) -> Result<Minted, GrantError> {
        let table = if refresh {
            &mut self.refresh
        } else {
            &mut self.codes
        };
        let grant = table.get_mut(secret).ok_or(GrantError::Unknown)?;
        if grant.used {
            return Err(GrantError::Used);
        }
        if Instant::now() >= grant.expires_at {
            return Err(GrantError::Expired);
        }
        grant.used = true;
        let (owner, scopes, company) = (
            grant.location_id.clone(),
            grant.scopes.clone(),
            grant.company,
        );
        Ok(self.mint_kind(&owner, scopes, ttl, company))
    }
}

/// What a route demands: its `Version` header and any one of its scopes.
pub struct Policy {
    pub version: &'static str,
    pub scopes: &'static [&'static str],
}

const CONTACTS_READ: &[&str] = &["contacts.readonly", "contacts.write"];
const CONTACTS_WRITE: &[&str] = &["contacts.write"];
const CALENDARS_READ: &[&str] = &["calendars.readonly", "calendars.write"];
const EVENTS_READ: &[&str] = &["calendars/events.readonly", "calendars/events.write"];
const EVENTS_WRITE: &[&str] = &["calendars/events.write"];
const CUSTOM_FIELDS_READ: &[&str] = &[
    "locations/customFields.readonly",
    "locations/customFields.write",
];
const CUSTOM_FIELDS_WRITE: &[&str] = &["locations/customFields.write"];

/// Policy for a route template (`:param` form). Reads accept the write scope too: GHL lists them
/// separately, but a token granted write without read is not a case worth modelling.
pub fn policy(method: &Method, route: &str) -> Policy {
    if route.starts_with("/calendars") {
        let scopes = if route == "/calendars/" {
            CALENDARS_READ
        } else if method == Method::GET {
            EVENTS_READ
        } else {
            EVENTS_WRITE
        };
        return Policy {
            version: CALENDARS_API_VERSION,
            scopes,
        };
    }
    let read = method == Method::GET || route == "/contacts/search";
    if route.starts_with("/locations/") {
        return Policy {
            version: CONTACTS_API_VERSION,
            scopes: if read {
                CUSTOM_FIELDS_READ
            } else {
                CUSTOM_FIELDS_WRITE
            },
        };
    }
    Policy {
        version: CONTACTS_API_VERSION,
        scopes: if read { CONTACTS_READ } else { CONTACTS_WRITE },
    }
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

pub fn check_version(headers: &HeaderMap, expected: &str) -> Result<(), ApiError> {
    match headers
        .get("version")
        .map(|v| v.to_str().unwrap_or_default().trim())
    {
        None | Some("") => Err(ApiError::bad_request("Version header is missing")),
        Some(v) if v == expected => Ok(()),
        Some(v) => Err(ApiError::bad_request(format!(
            "Version header {v:?} is not supported for this endpoint; use {expected}"
        ))),
    }
}

pub fn check_scope(caller: &Caller, policy: &Policy) -> Result<(), ApiError> {
    if policy.scopes.iter().any(|s| caller.scopes.contains(*s)) {
        Ok(())
    } else {
        Err(ApiError::scope())
    }
}

/// A `locationId` named in a query or body must be the token's own.
pub fn check_location(caller: &Caller, location_id: &str) -> Result<(), ApiError> {
    if caller.location_id == location_id {
        Ok(())
    } else {
        Err(ApiError::location())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_rotate_and_are_single_use() {
        let mut store = TokenStore::default();
        let first = store.mint("LOC", scopes_of(ALL_SCOPES), Duration::from_secs(60));
        let second = match store.redeem(true, &first.refresh_token, Duration::from_secs(60)) {
            Ok(m) => m,
            Err(_) => panic!("a fresh refresh token must redeem"),
        };
        assert_ne!(second.refresh_token, first.refresh_token);
        assert_eq!(second.location_id, "LOC");
        assert!(matches!(
            store.redeem(true, &first.refresh_token, Duration::from_secs(60)),
            Err(GrantError::Used)
        ));
        assert!(
            store
                .redeem(true, &second.refresh_token, Duration::from_secs(60))
                .is_ok()
        );
        assert!(matches!(
            store.redeem(true, "nope", Duration::from_secs(60)),
            Err(GrantError::Unknown)
        ));
        // The old access token stays valid until it expires.
        assert!(store.caller(&first.access_token).is_ok());
    }

    #[test]
    fn expired_and_unknown_tokens_are_refused() {
        let mut store = TokenStore::default();
        let m = store.mint("LOC", scopes_of(&["contacts.readonly"]), Duration::ZERO);
        assert_eq!(
            store
                .caller(&m.access_token)
                .map_err(|e| e.status.as_u16())
                .err(),
            Some(401)
        );
        assert!(store.caller("x").is_err());
    }

    #[test]
    fn policies_by_route() {
        for (method, route, scopes) in [
            (Method::GET, "/contacts/:contactId", CONTACTS_READ),
            (Method::POST, "/contacts/search", CONTACTS_READ),
            (Method::POST, "/contacts/", CONTACTS_WRITE),
            (
                Method::PUT,
                "/calendars/events/appointments/:eventId",
                EVENTS_WRITE,
            ),
        ] {
            assert_eq!(policy(&method, route).scopes, scopes, "{method} {route}");
        }
        assert_eq!(
            policy(&Method::GET, "/calendars/").version,
            CALENDARS_API_VERSION
        );
    }
}
