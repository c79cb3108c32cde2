//! Standard Webhooks signing: `v1,` + base64(HMAC-SHA256(key, `id.timestamp.body`)), where
//! the key is the base64 part of a `whsec_` secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chat_core::error::InvalidInput;
use chat_core::webhooks::WebhookSecret;
use hmac::{KeyInit, Mac};
use sha2::Sha256;

/// Key bytes of a new secret.
const KEY_BYTES: usize = 24;

/// A fresh random secret.
pub fn new_secret() -> WebhookSecret {
    let key: [u8; KEY_BYTES] = rand::random();
    WebhookSecret::parse(&format!(
        "{}{}",
        WebhookSecret::PREFIX,
        STANDARD.encode(key)
    ))
    .expect("a generated secret has the standard shape")
}

/// Checks that a secret given by an agent decodes to a key.
pub fn verify_key(secret: &WebhookSecret) -> Result<(), InvalidInput> {
    STANDARD
        .decode(secret.key_base64())
        .map(|_| ())
        .map_err(|_| InvalidInput::new("secret", "the part after whsec_ must be base64"))
}

/// The `webhook-signature` header: one `v1,` signature per secret, space-separated.
pub fn signatures(secrets: &[&WebhookSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|secret| sign(secret, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.key_base64()).ok()?;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the Standard Webhooks specification.
    #[test]
    fn signs_the_specification_example() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signatures(&[&secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn new_secrets_are_distinct_and_decode() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(verify_key(&a).is_ok());
    }
}
