//! Validated values: a value of these types has passed its checks, so code that holds one
//! never re-validates.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

/// Size limits for validated values; embedders tune them in `EngineConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message body in bytes (UTF-8). Default 16 KiB.
    pub max_message_bytes: usize,
    /// Largest metadata object, serialized, in bytes. Default 8 KiB.
    pub max_metadata_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 16 * 1024,
            max_metadata_bytes: 8 * 1024,
        }
    }
}

/// Upper bound any stored body may have, whatever the configured limit.
const HARD_MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// A message body: not blank, no NUL characters, within the size limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageBody(String);

impl MessageBody {
    /// Validates `text` against `limits`.
    pub fn parse(text: impl Into<String>, limits: &Limits) -> Result<Self, InvalidInput> {
        let text = text.into();
        check_body(&text, limits.max_message_bytes.min(HARD_MAX_MESSAGE_BYTES))?;
        Ok(Self(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The empty body of a deleted message (never accepted from a sender).
    pub fn erased() -> Self {
        Self(String::new())
    }
}

fn check_body(text: &str, max_bytes: usize) -> Result<(), InvalidInput> {
    if text.trim().is_empty() {
        return Err(InvalidInput::new("message", "must not be empty"));
    }
    if text.len() > max_bytes {
        return Err(InvalidInput::new(
            "message",
            format!("must be at most {max_bytes} bytes"),
        ));
    }
    if text.contains('\0') {
        return Err(InvalidInput::new(
            "message",
            "must not contain NUL characters",
        ));
    }
    Ok(())
}

impl TryFrom<String> for MessageBody {
    type Error = InvalidInput;

    /// Reads a stored body back: a valid one, or the empty body of a deleted message.
    fn try_from(text: String) -> Result<Self, Self::Error> {
        if text.is_empty() {
            return Ok(Self::erased());
        }
        check_body(&text, HARD_MAX_MESSAGE_BYTES)?;
        Ok(Self(text))
    }
}

impl From<MessageBody> for String {
    fn from(body: MessageBody) -> Self {
        body.0
    }
}

impl fmt::Display for MessageBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free-form JSON object attached to a conversation or message, within a size cap.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value", into = "serde_json::Value")]
pub struct Metadata(serde_json::Map<String, serde_json::Value>);

impl Metadata {
    /// Validates `value`: a JSON object no larger than `limits.max_metadata_bytes` serialized.
    pub fn parse(value: serde_json::Value, limits: &Limits) -> Result<Self, InvalidInput> {
        let serialized = serde_json::to_vec(&value).map_err(|e| invalid_metadata(e.to_string()))?;
        if serialized.len() > limits.max_metadata_bytes {
            let max = limits.max_metadata_bytes;
            return Err(invalid_metadata(format!("must be at most {max} bytes")));
        }
        Self::try_from(value)
    }

    /// The JSON object.
    pub fn as_map(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }

    /// Whether the object has no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether any key or string in the object holds a NUL character, which no store can
/// keep as text (PostgreSQL's `jsonb` refuses it).
fn map_has_nul(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    map.iter()
        .any(|(key, value)| key.contains('\0') || has_nul(value))
}

fn has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => text.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map_has_nul(map),
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {
            false
        }
    }
}

fn invalid_metadata(problem: String) -> InvalidInput {
    InvalidInput::new("metadata", problem)
}

impl TryFrom<serde_json::Value> for Metadata {
    type Error = InvalidInput;

    fn try_from(value: serde_json::Value) -> Result<Self, Self::Error> {
        match value {
            serde_json::Value::Object(map) if map_has_nul(&map) => Err(invalid_metadata(
                "must not contain NUL characters (\\u0000)".into(),
            )),
            serde_json::Value::Object(map) => Ok(Self(map)),
            serde_json::Value::Null => Ok(Self::default()),
            _ => Err(invalid_metadata("must be a JSON object".into())),
        }
    }
}

impl From<Metadata> for serde_json::Value {
    fn from(metadata: Metadata) -> Self {
        serde_json::Value::Object(metadata.0)
    }
}

/// An email address, trimmed and lower-cased so lookups are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Normalizes and checks `text`: one `@` with text on both sides, ≤ 254 bytes, no spaces
    /// and none of the characters that make an address something else in a mail header
    /// (`<>()[],;:"\`), so every address accepted here can be mailed to.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let email = text.trim().to_lowercase();
        let special = |c: char| "<>()[],;:\"\\".contains(c);
        let valid = email.len() <= 254
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || special(c))
            && matches!(email.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if valid {
            Ok(Self(email))
        } else {
            Err(InvalidInput::new("email", "is not an email address"))
        }
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidInput;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Generates a validated short-text newtype: trimmed, 1..=$max characters, no control characters.
macro_rules! short_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `text`: not blank, at most the maximum length, no control characters.
            pub fn parse(text: &str) -> Result<Self, InvalidInput> {
                let text = text.trim();
                if text.is_empty() {
                    return Err(InvalidInput::new($field, "must not be empty"));
                }
                if text.chars().count() > $max {
                    return Err(InvalidInput::new($field, concat!("must be at most ", $max, " characters")));
                }
                if text.chars().any(char::is_control) {
                    return Err(InvalidInput::new($field, "must not contain control characters"));
                }
                Ok(Self(text.to_owned()))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidInput;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                Self::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

short_text!(
    /// A client-chosen id that makes a send idempotent (at most 128 characters).
    ClientMessageId,
    "clientMessageId",
    128
);
short_text!(
    /// A person's display name (at most 100 characters).
    DisplayName,
    "name",
    100
);
short_text!(
    /// An embedding site's identifier for a visitor (at most 255 characters).
    VisitorIdentifier,
    "identifier",
    255
);
short_text!(
    /// An agent's id in the host application that signs it in (at most 255 characters).
    ExternalId,
    "sub",
    255
);
short_text!(
    /// A user agent string as reported by the widget (at most 512 characters).
    UserAgent,
    "userAgent",
    512
);
short_text!(
    /// A file's name as uploaded (at most 255 characters).
    FileName,
    "fileName",
    255
);
short_text!(
    /// A label's title (at most 64 characters); unique in a workspace, ignoring case.
    LabelTitle,
    "title",
    64
);
short_text!(
    /// A canned reply's short code, typed after `/` (at most 64 characters); unique,
    /// ignoring case.
    ShortCode,
    "shortCode",
    64
);

impl LabelTitle {
    /// The form uniqueness is decided on: lower-cased.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl ShortCode {
    /// The form uniqueness is decided on: lower-cased.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A label's colour: `#rrggbb`, stored lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LabelColor(String);

impl LabelColor {
    /// Checks `text`: `#` and six hexadecimal digits.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let digits = text.strip_prefix('#').unwrap_or("");
        if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(InvalidInput::new(
                "color",
                "must be # and six hexadecimal digits",
            ));
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    /// The colour, `#rrggbb`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LabelColor {
    type Error = InvalidInput;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<LabelColor> for String {
    fn from(value: LabelColor) -> Self {
        value.0
    }
}
