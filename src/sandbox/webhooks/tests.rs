use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Verifier as _;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use serde_json::json;
use sha2::Sha256;

use super::keys::KeyPair;
use super::*;

#[test]
fn both_signatures_verify_with_the_published_keys_and_only_over_the_bytes_sent() {
    let pair = KeyPair::generate().unwrap();
    let body = br#"{"type":"ContactCreate","id":"c1"}"#;
    let ed_key = ed25519_dalek::VerifyingKey::from_public_key_pem(&pair.public.ed25519).unwrap();
    let ed_sig = STANDARD.decode(pair.sign_ed25519(body)).unwrap();
    let ed_sig = ed25519_dalek::Signature::from_slice(&ed_sig).unwrap();
    assert!(ed_key.verify(body, &ed_sig).is_ok());
    assert!(ed_key.verify(b"{}", &ed_sig).is_err());

    let rsa_pub =
        <rsa::RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_pem(&pair.public.rsa)
            .unwrap();
    let verifier = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(rsa_pub);
    let rsa_sig = STANDARD.decode(pair.sign_rsa(body)).unwrap();
    let rsa_sig = rsa::pkcs1v15::Signature::try_from(rsa_sig.as_slice()).unwrap();
    assert!(verifier.verify(body, &rsa_sig).is_ok());
    assert!(verifier.verify(b"{}", &rsa_sig).is_err());

    // The inline form is the PEM's body: base64 of a 44-byte Ed25519 SPKI.
    let inline = STANDARD.decode(pair.public.ed25519_inline()).unwrap();
    assert_eq!(inline.len(), 44);
}

#[test]
fn faults_accumulate_until_spent() {
    let hooks = Webhooks::default();
    hooks.arm(WebhookFaults {
        duplicate: true,
        ..WebhookFaults::default()
    });
    let armed = hooks.arm(WebhookFaults {
        stale_timestamp: true,
        ..WebhookFaults::default()
    });
    assert!(armed.duplicate && armed.stale_timestamp && !armed.bad_signature);
}

#[test]
fn the_scheme_names_its_headers() {
    assert!(Scheme::Both.ed25519() && Scheme::Both.rsa());
    assert!(Scheme::Ed25519.ed25519() && !Scheme::Ed25519.rsa());
    assert!(!Scheme::None.ed25519() && !Scheme::None.rsa());
    assert_eq!(serde_json::to_value(Scheme::Rsa).unwrap(), json!("rsa"));
}

#[tokio::test]
async fn an_unconfigured_sender_is_inactive_and_keys_come_once() {
    let hooks = Webhooks::default();
    assert!(!hooks.active());
    assert!(hooks.public_keys().is_none());
    let first = hooks
        .configure(WebhookSettings::new("http://127.0.0.1:9/hook"))
        .await
        .unwrap();
    let mut off = WebhookSettings::new("http://127.0.0.1:9/other");
    off.enabled = false;
    let second = hooks.configure(off).await.unwrap();
    assert_eq!(first, second, "reconfiguring keeps the pair");
    assert!(!hooks.active());
}
