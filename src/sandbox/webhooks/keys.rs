//! The sandbox's own signing pair for webhooks: Ed25519 for `X-GHL-Signature`, RSA 2048 with
//! PKCS#1 v1.5 / SHA-256 for the legacy `x-wh-signature`. Generated once per sandbox, when
//! webhooks are first configured (RSA generation is the slow part; most sandboxes never need it).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::EncodePublicKey as _;
use rsa::pkcs8::LineEnding;
use rsa::signature::SignatureEncoding as _;
use serde::Serialize;
use sha2::Sha256;

/// The public halves, as a receiver configures them: SPKI PEM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeys {
    pub ed25519: String,
    pub rsa: String,
}

impl PublicKeys {
    /// The Ed25519 key as one line of SPKI base64 (the PEM's body), the inline form of
    /// `[service.webhooks] ed25519_keys`.
    pub fn ed25519_inline(&self) -> String {
        self.ed25519
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect()
    }
}

pub struct KeyPair {
    ed25519: ed25519_dalek::SigningKey,
    rsa: rsa::pkcs1v15::SigningKey<Sha256>,
    pub public: PublicKeys,
}

impl KeyPair {
    /// Seconds of CPU in an unoptimised build were it not for num-bigint-dig's opt-level:
    /// call it off the async threads.
    pub fn generate() -> Result<KeyPair, String> {
        let seed: [u8; 32] = rand::random();
        let ed25519 = ed25519_dalek::SigningKey::from_bytes(&seed);
        let rsa_private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
            .map_err(|e| format!("cannot generate the sandbox's RSA key: {e}"))?;
        let ed_pem = ed25519
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| format!("cannot encode the Ed25519 public key: {e}"))?;
        let rsa_pem = rsa::pkcs8::EncodePublicKey::to_public_key_pem(
            &rsa_private.to_public_key(),
            LineEnding::LF,
        )
        .map_err(|e| format!("cannot encode the RSA public key: {e}"))?;
        Ok(KeyPair {
            ed25519,
            rsa: rsa::pkcs1v15::SigningKey::<Sha256>::new(rsa_private),
            public: PublicKeys {
                ed25519: ed_pem,
                rsa: rsa_pem,
            },
        })
    }

    /// Base64 Ed25519 signature of `body`: `X-GHL-Signature`.
    pub fn sign_ed25519(&self, body: &[u8]) -> String {
        STANDARD.encode(self.ed25519.sign(body).to_bytes())
    }

    /// Base64 RSA PKCS#1 v1.5 SHA-256 signature of `body`: `x-wh-signature`.
    pub fn sign_rsa(&self, body: &[u8]) -> String {
        STANDARD.encode(self.rsa.sign(body).to_bytes())
    }
}
