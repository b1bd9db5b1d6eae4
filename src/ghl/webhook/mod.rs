//! GHL's webhook deliveries: their signatures (`verify`), replay window and event models
//! (`event.rs`). Pure: no I/O beyond reading key files once (`keys.rs`).
//!
//! - `X-GHL-Signature`: Ed25519 over the raw body, base64. When present it alone decides.
//! - `x-wh-signature` (legacy, deprecated by GHL from July 2026): RSA PKCS#1 v1.5 SHA-256 over
//!   the raw body, base64; an Ed25519 key is tried too (one integrator saw such deliveries).
//! - Neither: refused, unless signatures are disabled (the sandbox only).

mod event;
mod keys;

pub use event::{EventKind, WebhookEvent};
pub use keys::{GHL_ED25519_PEM, GHL_RSA_PEM, KeyError, KeySet, parse_ed25519, parse_rsa};

use base64::Engine as _;
use rsa::signature::Verifier as _;

pub const GHL_SIGNATURE_HEADER: &str = "x-ghl-signature";
pub const LEGACY_SIGNATURE_HEADER: &str = "x-wh-signature";

/// How a delivery was found genuine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `X-GHL-Signature`, Ed25519.
    Ed25519,
    /// `x-wh-signature`, RSA-SHA256.
    LegacyRsa,
    /// `x-wh-signature` that verified under an Ed25519 key.
    LegacyEd25519,
    /// Signatures are disabled (sandbox): nothing was checked.
    Unchecked,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Ed25519 => "x-ghl-signature/ed25519",
            Scheme::LegacyRsa => "x-wh-signature/rsa-sha256",
            Scheme::LegacyEd25519 => "x-wh-signature/ed25519",
            Scheme::Unchecked => "unchecked",
        }
    }
}

/// Why a delivery is not GHL's: the header concerned and what to do. Never holds a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unverified {
    #[error(
        "unsigned: the delivery has neither X-GHL-Signature nor x-wh-signature; only GHL's signed webhooks are accepted (set [service.webhooks] signatures = \"disabled\" for the sandbox only)"
    )]
    Unsigned,
    #[error("{header} is not base64; the delivery was not signed by GHL or was altered on the way")]
    Malformed { header: &'static str },
    #[error(
        "{header} does not verify under any configured key ({keys} tried); if GHL rotated its key, add the new one to [service.webhooks] {list} (keep the old one until deliveries verify)"
    )]
    Forged {
        header: &'static str,
        list: &'static str,
        keys: usize,
    },
}

/// The signature policy and keys of the GHL endpoint.
#[derive(Debug, Clone)]
pub struct Verifier {
    keys: KeySet,
    required: bool,
}

impl Verifier {
    pub fn new(keys: KeySet, required: bool) -> Verifier {
        Verifier { keys, required }
    }

    pub fn required(&self) -> bool {
        self.required
    }

    /// Checks `body` against the signature headers' values (as sent; `None` when absent).
    pub fn verify(
        &self,
        ghl_signature: Option<&str>,
        legacy_signature: Option<&str>,
        body: &[u8],
    ) -> Result<Scheme, Unverified> {
        if !self.required {
            return Ok(Scheme::Unchecked);
        }
        if let Some(sent) = ghl_signature {
            // Present: it alone decides, as GHL's SDK does; no fallback to the legacy header.
            let bytes = decode(sent, "X-GHL-Signature")?;
            return if self.ed25519_verifies(&bytes, body) {
                Ok(Scheme::Ed25519)
            } else {
                Err(Unverified::Forged {
                    header: "X-GHL-Signature",
                    list: "ed25519_keys",
                    keys: self.keys.ed25519.len(),
                })
            };
        }
        let Some(sent) = legacy_signature else {
            return Err(Unverified::Unsigned);
        };
        let bytes = decode(sent, "x-wh-signature")?;
        if self.rsa_verifies(&bytes, body) {
            Ok(Scheme::LegacyRsa)
        } else if self.ed25519_verifies(&bytes, body) {
            Ok(Scheme::LegacyEd25519)
        } else {
            Err(Unverified::Forged {
                header: "x-wh-signature",
                list: "rsa_keys",
                keys: self.keys.rsa.len() + self.keys.ed25519.len(),
            })
        }
    }

    fn ed25519_verifies(&self, signature: &[u8], body: &[u8]) -> bool {
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.keys
            .ed25519
            .iter()
            .any(|key| key.verify_strict(body, &signature).is_ok())
    }

    fn rsa_verifies(&self, signature: &[u8], body: &[u8]) -> bool {
        let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature) else {
            return false;
        };
        self.keys.rsa.iter().any(|key| {
            rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone())
                .verify(body, &signature)
                .is_ok()
        })
    }
}

fn decode(sent: &str, header: &'static str) -> Result<Vec<u8>, Unverified> {
    let sent = sent.trim();
    base64::engine::general_purpose::STANDARD
        .decode(sent)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(sent))
        .map_err(|_| Unverified::Malformed { header })
}

/// Whether an event stamped `timestamp` (unix ms) is within `window_secs` of `now_ms`.
pub fn within_window(timestamp_ms: i64, now_ms: i64, window_secs: u64) -> bool {
    (now_ms - timestamp_ms).unsigned_abs() <= window_secs.saturating_mul(1000)
}

#[cfg(test)]
mod tests;
