//! The host application's JWTs from the options (`--jwt-secret`, `--jwt-public-key`,
//! `--jwt-issuer`, `--jwt-audience`): unset, only the built-in sessions sign anyone in.

use std::sync::Arc;

use chat_http::{IdentityProvider, JwtConfig, JwtProvider};

use crate::Options;

/// The JWT sign-in the options configure; `None` without a secret or a public key.
pub fn provider(options: &Options) -> Result<Option<Arc<dyn IdentityProvider>>, String> {
    let secret = options.jwt_secret.as_deref().filter(|s| !s.is_empty());
    let public_key = options.jwt_public_key.as_deref().filter(|k| !k.is_empty());
    if secret.is_none() && public_key.is_none() {
        if options.jwt_issuer.is_some() || options.jwt_audience.is_some() {
            return Err(
                "--jwt-issuer and --jwt-audience need --jwt-secret or --jwt-public-key".into(),
            );
        }
        return Ok(None);
    }
    let config = JwtConfig {
        secret: secret.map(|secret| secret.as_bytes().to_vec()),
        public_key_pem: public_key.map(pem).transpose()?,
        issuer: options.jwt_issuer.clone(),
        audience: options.jwt_audience.clone(),
    };
    let provider = JwtProvider::new(config).map_err(|error| format!("JWT sign-in: {error}"))?;
    Ok(Some(Arc::new(provider)))
}

/// The key itself when the value is a PEM, else the file it names.
fn pem(value: &str) -> Result<String, String> {
    if value.trim_start().starts_with("-----BEGIN") {
        return Ok(value.to_owned());
    }
    std::fs::read_to_string(value).map_err(|error| format!("--jwt-public-key {value}: {error}"))
}
