//! The host application's JWTs as credentials (`--jwt-secret` / `--jwt-public-key`):
//! verified by `jsonwebtoken` with the algorithm pinned to the configured key, `exp`
//! and `iat` required and `nbf` checked, the issuer and audience when configured, and the
//! claims `sub`, `role` (`agent` | `visitor`), `name`, `email` and an agent's optional
//! `permissions` (the REST API's permissions object).

use chat_core::engine::{ExternalAgent, ExternalIdentity, ExternalVisitor};
use chat_core::values::{DisplayName, Email, ExternalId, VisitorIdentifier};
use chat_wire::PermissionsDto;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use crate::sign_in::{HostRefusal, HostSignIn, IdentityProvider};

/// Tolerated clock difference with the host for `nbf` and `iat` (a token issued "now" by a
/// host whose clock is a little ahead). `exp` gets none: the session ends at `exp` exactly.
const NBF_LEEWAY_SECONDS: i64 = 30;

/// What the operator configures.
#[derive(Clone, Default)]
pub struct JwtConfig {
    /// The HS256 shared secret.
    pub secret: Option<Vec<u8>>,
    /// A PEM public key: RSA (RS256) or Ed25519 (EdDSA).
    pub public_key_pem: Option<String>,
    /// The `iss` every token must carry, when set.
    pub issuer: Option<String>,
    /// The `aud` every token must carry, when set.
    pub audience: Option<String>,
}

impl std::fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .field("public_key_pem", &self.public_key_pem.is_some())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

/// Verifies the host's JWTs: each configured key accepts exactly one algorithm.
pub struct JwtProvider {
    keys: Vec<(Algorithm, DecodingKey)>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for JwtProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let algorithms: Vec<Algorithm> = self.keys.iter().map(|(alg, _)| *alg).collect();
        f.debug_struct("JwtProvider")
            .field("algorithms", &algorithms)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl JwtProvider {
    /// A provider for `config`; an error names a key that cannot be used.
    pub fn new(config: JwtConfig) -> Result<Self, String> {
        let mut keys = Vec::new();
        if let Some(secret) = &config.secret {
            if secret.len() < 32 {
                return Err("the JWT secret must be at least 32 bytes".into());
            }
            keys.push((Algorithm::HS256, DecodingKey::from_secret(secret)));
        }
        if let Some(pem) = &config.public_key_pem {
            keys.push(public_key(pem.as_bytes())?);
        }
        if keys.is_empty() {
            return Err("give a JWT secret or a public key".into());
        }
        Ok(Self {
            keys,
            issuer: config.issuer,
            audience: config.audience,
        })
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        // `exp` to the second; `nbf` is checked with its own leeway in `into_sign_in`.
        validation.leeway = 0;
        validation.validate_nbf = false;
        let mut required = vec!["exp", "sub"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        // Without this a token that leaves `iss` or `aud` out would pass their checks.
        validation.set_required_spec_claims(&required);
        validation
    }
}

/// An RSA or Ed25519 public key in PEM, with its one algorithm.
fn public_key(pem: &[u8]) -> Result<(Algorithm, DecodingKey), String> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok((Algorithm::RS256, key));
    }
    if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        return Ok((Algorithm::EdDSA, key));
    }
    Err("the JWT public key is neither an RSA nor an Ed25519 public key in PEM".into())
}

/// The claims a host's token carries.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    name: Option<String>,
    email: Option<String>,
    permissions: Option<PermissionsDto>,
    exp: i64,
    /// Required: an agent follows the latest-issued answer, so an older token (kept from
    /// before a demotion) never widens it again.
    iat: i64,
    nbf: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Role {
    Agent,
    Visitor,
}

#[async_trait::async_trait]
impl IdentityProvider for JwtProvider {
    async fn identify(&self, credential: &str) -> Result<Option<HostSignIn>, HostRefusal> {
        let header = decode_header(credential).map_err(refusal)?;
        let (algorithm, key) = self
            .keys
            .iter()
            .find(|(algorithm, _)| *algorithm == header.alg)
            .ok_or_else(|| {
                HostRefusal(format!(
                    "tokens signed with {:?} are not accepted",
                    header.alg
                ))
            })?;
        let claims = decode::<Claims>(credential, key, &self.validation(*algorithm))
            .map_err(refusal)?
            .claims;
        claims.into_sign_in().map(Some)
    }
}

impl Claims {
    fn into_sign_in(self) -> Result<HostSignIn, HostRefusal> {
        let now = Utc::now().timestamp();
        if self.nbf.is_some_and(|nbf| nbf > now + NBF_LEEWAY_SECONDS) {
            return Err(HostRefusal("the token is not valid yet".into()));
        }
        // A token from the future would outrank every later one (agents follow the
        // latest-issued answer).
        if self.iat > now + NBF_LEEWAY_SECONDS {
            return Err(HostRefusal("the token's iat is in the future".into()));
        }
        let expires_at = DateTime::<Utc>::from_timestamp(self.exp, 0)
            .ok_or_else(|| HostRefusal("exp is out of range".into()))?;
        let issued_at = DateTime::<Utc>::from_timestamp(self.iat, 0)
            .ok_or_else(|| HostRefusal("iat is out of range".into()))?;
        let name = self.name.as_deref().map(DisplayName::parse).transpose();
        let email = self.email.as_deref().map(Email::parse).transpose();
        let (name, email) = (name.map_err(invalid)?, email.map_err(invalid)?);
        let identity = match self.role {
            Role::Agent => ExternalIdentity::Agent(ExternalAgent {
                id: ExternalId::parse(&self.sub).map_err(invalid)?,
                name: name.ok_or_else(|| HostRefusal("an agent's token needs a name".into()))?,
                email: email
                    .ok_or_else(|| HostRefusal("an agent's token needs an email".into()))?,
                permissions: self.permissions.map(Into::into),
                issued_at,
            }),
            Role::Visitor if self.permissions.is_some() => {
                return Err(HostRefusal(
                    "a visitor's token cannot carry permissions".into(),
                ));
            }
            Role::Visitor => ExternalIdentity::Visitor(ExternalVisitor {
                id: VisitorIdentifier::parse(&self.sub).map_err(invalid)?,
                name,
                email,
            }),
        };
        Ok(HostSignIn {
            identity,
            expires_at,
        })
    }
}

fn invalid(error: chat_core::error::InvalidInput) -> HostRefusal {
    HostRefusal(format!("the token's claims are not valid: {error}"))
}

/// The reason a token failed, in a few words (never the token itself).
fn refusal(error: jsonwebtoken::errors::Error) -> HostRefusal {
    let reason = match error.kind() {
        ErrorKind::InvalidSignature => "the token's signature does not verify",
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::InvalidIssuer => "the token's issuer is not accepted",
        ErrorKind::InvalidAudience => "the token's audience is not accepted",
        ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
        ErrorKind::MissingRequiredClaim(_) | ErrorKind::Json(_) => {
            "the token's claims are missing or malformed"
        }
        _ => "the token is not a valid JWT",
    };
    HostRefusal(reason.into())
}
