//! The public keys GHL's deliveries are checked with: `[service.webhooks] ed25519_keys` and
//! `rsa_keys`, each a PEM file, inline PEM, or the SPKI DER in base64; GHL's published keys
//! (embedded from `assets/keys/`) when a list is empty.

use base64::Engine as _;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use std::path::Path;

/// GHL's Ed25519 key for `X-GHL-Signature` (SPKI, from the Webhook Integration Guide).
pub const GHL_ED25519_PEM: &str =
    include_str!("../../../assets/keys/ghl-x-ghl-signature-ed25519.pem");
/// GHL's RSA key for the legacy `x-wh-signature` (WebhookAuthentication.md).
pub const GHL_RSA_PEM: &str = include_str!("../../../assets/keys/ghl-x-wh-signature-rsa.pem");

/// A key that could not be read, naming the config entry and what to write there instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[service.webhooks] {list}[{index}]: {detail}")]
pub struct KeyError {
    pub list: &'static str,
    pub index: usize,
    pub detail: String,
}

/// Every key a delivery may verify under; any one is enough (a rotation lists old and new).
#[derive(Clone)]
pub struct KeySet {
    pub ed25519: Vec<ed25519_dalek::VerifyingKey>,
    pub rsa: Vec<rsa::RsaPublicKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("ed25519", &self.ed25519.len())
            .field("rsa", &self.rsa.len())
            .finish()
    }
}

impl KeySet {
    /// The configured keys (paths relative to `base`, the config's folder), or GHL's own for
    /// an empty list.
    pub fn load(
        ed25519: &[String],
        rsa: &[String],
        base: Option<&Path>,
    ) -> Result<KeySet, KeyError> {
        let ed25519 = if ed25519.is_empty() {
            vec![parse_ed25519(GHL_ED25519_PEM).map_err(|detail| KeyError {
                list: "ed25519_keys",
                index: 0,
                detail: format!("the embedded GHL key: {detail}"),
            })?]
        } else {
            load_each("ed25519_keys", ed25519, base, parse_ed25519)?
        };
        let rsa = if rsa.is_empty() {
            vec![parse_rsa(GHL_RSA_PEM).map_err(|detail| KeyError {
                list: "rsa_keys",
                index: 0,
                detail: format!("the embedded GHL key: {detail}"),
            })?]
        } else {
            load_each("rsa_keys", rsa, base, parse_rsa)?
        };
        Ok(KeySet { ed25519, rsa })
    }
}

fn load_each<K>(
    list: &'static str,
    specs: &[String],
    base: Option<&Path>,
    parse: fn(&str) -> Result<K, String>,
) -> Result<Vec<K>, KeyError> {
    specs
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let text = key_text(spec, base).map_err(|detail| KeyError {
                list,
                index,
                detail,
            })?;
            parse(&text).map_err(|detail| KeyError {
                list,
                index,
                detail,
            })
        })
        .collect()
}

/// The key's text: inline PEM, inline base64, or a file's contents.
fn key_text(spec: &str, base: Option<&Path>) -> Result<String, String> {
    let spec = spec.trim();
    if spec.starts_with("-----BEGIN") {
        return Ok(spec.to_string());
    }
    let path = Path::new(spec);
    let path = match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    };
    match crate::bounded_file::read_text(&path, crate::bounded_file::KEY_FILE_BYTES) {
        Ok(text) => Ok(text),
        Err(_) if looks_base64(spec) => Ok(spec.to_string()),
        Err(err) => Err(format!(
            "{} could not be read ({err}); give a PEM file, inline PEM, or the SPKI key in base64",
            path.display()
        )),
    }
}

fn looks_base64(text: &str) -> bool {
    text.len() >= 40
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// PEM (`BEGIN PUBLIC KEY`) or SPKI DER in base64.
pub fn parse_ed25519(text: &str) -> Result<ed25519_dalek::VerifyingKey, String> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        ed25519_dalek::VerifyingKey::from_public_key_pem(text)
            .map_err(|err| format!("not an Ed25519 public key PEM ({err})"))
    } else {
        let der = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|err| format!("not PEM and not base64 ({err})"))?;
        ed25519_dalek::VerifyingKey::from_public_key_der(&der)
            .map_err(|err| format!("not an Ed25519 SPKI key ({err})"))
    }
}

/// PEM (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`) or SPKI DER in base64.
pub fn parse_rsa(text: &str) -> Result<rsa::RsaPublicKey, String> {
    use rsa::pkcs8::DecodePublicKey as _;
    let text = text.trim();
    if text.starts_with("-----BEGIN RSA PUBLIC KEY") {
        rsa::RsaPublicKey::from_pkcs1_pem(text)
            .map_err(|err| format!("not an RSA public key PEM ({err})"))
    } else if text.starts_with("-----BEGIN") {
        rsa::RsaPublicKey::from_public_key_pem(text)
            .map_err(|err| format!("not an RSA public key PEM ({err})"))
    } else {
        let der = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|err| format!("not PEM and not base64 ({err})"))?;
        rsa::RsaPublicKey::from_public_key_der(&der)
            .map_err(|err| format!("not an RSA SPKI key ({err})"))
    }
}
