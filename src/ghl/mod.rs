//! The GHL API v2 client (see ARCHITECTURE.md, "ghl::GhlClient"): typed calls over one
//! transport that handles auth, the per-location rate limiter, retries and error classes.

pub mod auth;
pub mod body;
mod client;
mod endpoints;
pub mod error;
pub mod limiter;
pub mod models;
pub(crate) mod transport;
pub mod webhook;

pub use auth::{
    AuthInfo, AuthMethod, AuthSettings, OAuthClient, StoredToken, TokenInfo, exchange_code,
    exchange_code_as, load_token_file, save_location_token, write_token_file,
};
pub use body::parse_body;
pub use client::{ClientSettings, DEFAULT_BASE_URL, GhlClient};
pub use endpoints::ListContacts;
pub use error::{ApiError, DecodeError, GhlError, RequestContext};
pub use limiter::{Limiter, LimiterSettings, LimiterSnapshot, Priority, RateHeaders};
pub use models::ErrorMessage;
