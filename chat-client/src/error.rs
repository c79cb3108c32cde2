//! What can go wrong talking to the server.

/// A client error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error in its JSON error shape (`{error: {code, message}}`).
    #[error("{status} {code}: {message}")]
    Api {
        /// The HTTP status (0 on the WebSocket).
        status: u16,
        /// The stable error code (`not_found`, `forbidden`, …).
        code: String,
        /// What happened.
        message: String,
    },
    /// The server could not be reached, or the connection broke.
    #[error("transport: {0}")]
    Transport(String),
    /// The server sent something this client cannot read.
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

impl Error {
    /// An error frame or body (`{error: {code, message}}`) as an [`Error::Api`].
    pub(crate) fn from_body(status: u16, body: &serde_json::Value) -> Self {
        let error = &body["error"];
        Self::Api {
            status,
            code: error["code"].as_str().unwrap_or("unknown").to_owned(),
            message: error["message"].as_str().unwrap_or_default().to_owned(),
        }
    }

    /// Whether trying again later may succeed (the server was unreachable, restarting or
    /// overloaded).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            // The WebSocket has no status: its error codes say the same.
            Self::Api {
                status: 0, code, ..
            } => matches!(code.as_str(), "unavailable" | "rate_limited"),
            Self::Api { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            Self::Protocol(_) => false,
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(error: reqwest::Error) -> Self {
        Self::Transport(error.to_string())
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(error: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::Transport(error.to_string())
    }
}
