//! How a peer request proves who sends it: HTTP Basic, a bearer token, an API key in a header,
//! or API keys as query parameters. Values are `Secret`s; they leave only on the wire, and every
//! message the client builds is scrubbed of them (`Auth::secrets`).

use reqwest::RequestBuilder;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use crate::config::Secret;

#[derive(Clone, Default)]
pub enum Auth {
    /// No credentials (an app behind a VPN, a test).
    #[default]
    None,
    /// `Authorization: Basic base64(username:password)`.
    Basic { username: String, password: Secret },
    /// `Authorization: Bearer <token>`.
    Bearer { token: Secret },
    /// `<name>: <prefix><value>`, e.g. `X-Api-Key: …` or `Authorization: Token …`.
    Header {
        name: String,
        prefix: String,
        value: Secret,
    },
    /// `?name=value` on every request (several pairs allowed: `api_key` and `account`).
    Query { params: Vec<(String, Secret)> },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            // The username may come from a secret too.
            Auth::Basic { .. } => f.write_str("Basic([redacted])"),
            Auth::Bearer { .. } => f.write_str("Bearer([redacted])"),
            Auth::Header { name, .. } => write!(f, "Header({name}: [redacted])"),
            Auth::Query { params } => {
                let names: Vec<&str> = params.iter().map(|(name, _)| name.as_str()).collect();
                write!(f, "Query({}=[redacted])", names.join(", "))
            }
        }
    }
}

impl Auth {
    /// A header name that is not a valid HTTP token, found before the first request.
    pub(crate) fn check(&self) -> Result<(), String> {
        match self {
            Auth::Header {
                name,
                prefix,
                value,
            } => {
                HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("{name:?} is not a valid HTTP header name"))?;
                HeaderValue::from_str(&format!("{prefix}{}", value.expose()))
                    .map(|_| ())
                    .map_err(|_| {
                        format!(
                            "the value of header {name} holds characters HTTP headers cannot carry"
                        )
                    })
            }
            Auth::Bearer { token } => HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map(|_| ())
                .map_err(|_| "the bearer token holds characters HTTP headers cannot carry".into()),
            _ => Ok(()),
        }
    }

    /// Names of query parameters that carry credentials: never kept from a `Link` URL, never
    /// shown.
    pub(crate) fn query_names(&self) -> Vec<&str> {
        match self {
            Auth::Query { params } => params.iter().map(|(name, _)| name.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// Every credential value, for scrubbing messages.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        let values: Vec<&str> = match self {
            Auth::None => Vec::new(),
            Auth::Basic { password, .. } => vec![password.expose()],
            Auth::Bearer { token } => vec![token.expose()],
            Auth::Header { value, .. } => vec![value.expose()],
            Auth::Query { params } => params.iter().map(|(_, value)| value.expose()).collect(),
        };
        values
            .into_iter()
            .filter(|value| !value.is_empty())
            .collect()
    }

    pub(crate) fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Auth::None => request,
            Auth::Basic { username, password } => {
                request.basic_auth(username, Some(password.expose()))
            }
            Auth::Bearer { token } => request.header(
                AUTHORIZATION,
                sensitive(&format!("Bearer {}", token.expose())),
            ),
            Auth::Header {
                name,
                prefix,
                value,
            } => match HeaderName::from_bytes(name.as_bytes()) {
                Ok(header) => {
                    request.header(header, sensitive(&format!("{prefix}{}", value.expose())))
                }
                // Refused by `check` when the client is built.
                Err(_) => request,
            },
            Auth::Query { params } => {
                let pairs: Vec<(&str, &str)> = params
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.expose()))
                    .collect();
                request.query(&pairs)
            }
        }
    }
}

/// A header value marked sensitive, so no debug output of the request shows it.
fn sensitive(text: &str) -> HeaderValue {
    let mut value = HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_every_value() {
        let auths = [
            Auth::Basic {
                username: "api-user".into(),
                password: Secret::new("pw-very-secret"),
            },
            Auth::Bearer {
                token: Secret::new("tok-very-secret"),
            },
            Auth::Header {
                name: "X-Api-Key".into(),
                prefix: String::new(),
                value: Secret::new("key-very-secret"),
            },
            Auth::Query {
                params: vec![("api_key".into(), Secret::new("q-very-secret"))],
            },
        ];
        for auth in &auths {
            let shown = format!("{auth:?}");
            assert!(!shown.contains("very-secret"), "{shown}");
            assert_eq!(auth.secrets().len(), 1);
            assert!(auth.secrets()[0].ends_with("very-secret"));
        }
        assert_eq!(auths[3].query_names(), vec!["api_key"]);
    }

    #[test]
    fn bad_header_names_are_found_before_sending() {
        let auth = Auth::Header {
            name: "X Api Key".into(),
            prefix: String::new(),
            value: Secret::new("k"),
        };
        assert!(
            auth.check()
                .unwrap_err()
                .contains("not a valid HTTP header name")
        );
        let auth = Auth::Bearer {
            token: Secret::new("line\nbreak"),
        };
        assert!(auth.check().is_err());
    }
}
