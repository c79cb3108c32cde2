//! Credentials: opaque bearer tokens (stored only as SHA-256 hashes), argon2id password
//! hashes, and the HMAC that verifies a visitor's identity.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chat_core::accounts::{SessionSubject, TokenHash};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A new random bearer token (256 bits, hex) and the hash under which it is stored.
pub fn new_token() -> (String, TokenHash) {
    let bytes: [u8; 32] = rand::random();
    let token = hex::encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

/// The stored form of a bearer token.
pub fn hash_token(token: &str) -> TokenHash {
    TokenHash(Sha256::digest(token.as_bytes()).into())
}

/// An argon2id PHC string for `password`, with a random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| ApiError::Internal(format!("password hashing failed: {error}").into()))
}

/// Whether `password` matches a stored PHC string (constant-time in the hash comparison).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A hash to verify against when no account matched, so a login takes as long for an
/// unknown email as for a wrong password.
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default())
}

/// Whether `hash_hex` is hex(HMAC-SHA256(secret, identifier)), compared in constant time.
pub fn identity_matches(secret: &[u8], identifier: &str, hash_hex: &str) -> bool {
    let Ok(expected) = hex::decode(hash_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(identifier.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// The HMAC an embedding site computes for `identifier` (for tests and tooling).
pub fn identity_hash(secret: &[u8], identifier: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(identifier.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Issues a new bearer token for `subject`, valid for `ttl`; only its hash is stored.
pub(crate) async fn open_session(
    state: &AppState,
    subject: SessionSubject,
    ttl: std::time::Duration,
) -> ApiResult<String> {
    let (token, hash) = new_token();
    let ttl = chrono::Duration::from_std(ttl).map_err(ApiError::internal)?;
    state.engine().open_session(subject, hash, ttl).await?;
    Ok(token)
}
