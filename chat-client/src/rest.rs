//! The REST half: a session (visitor or agent), conversations, sending with retries, a
//! conversation's log and the change feed.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chat_wire::{
    ChangesResponse, LoginRequest, LoginResponse, SendRequest, SendResponse, VisitorSessionRequest,
    VisitorSessionResponse,
};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::Error;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A signed-in REST client (cheap to clone).
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    base: String,
    token: String,
    sender_type: &'static str,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a credential.
        f.debug_struct("RestClient")
            .field("base", &self.base)
            .field("sender_type", &self.sender_type)
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// A new visitor session on the server at `base` (`http://host:port`).
    pub async fn visitor(base: &str) -> Result<Self, Error> {
        let mut client = Self::unsigned(base, "customer")?;
        let session: VisitorSessionResponse = client
            .call(
                Method::POST,
                "/api/sessions/visitor",
                Some(&VisitorSessionRequest::default()),
            )
            .await?;
        client.token = session.token;
        Ok(client)
    }

    /// An agent's session.
    pub async fn login(base: &str, email: &str, password: &str) -> Result<Self, Error> {
        let mut client = Self::unsigned(base, "admin")?;
        let request = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        let session: LoginResponse = client
            .call(Method::POST, "/api/auth/login", Some(&request))
            .await?;
        client.token = session.token;
        Ok(client)
    }

    /// An agent client with a token obtained elsewhere.
    pub fn agent_with_token(base: &str, token: &str) -> Result<Self, Error> {
        let mut client = Self::unsigned(base, "admin")?;
        client.token = token.to_owned();
        Ok(client)
    }

    fn unsigned(base: &str, sender_type: &'static str) -> Result<Self, Error> {
        let http = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: String::new(),
            sender_type,
        })
    }

    /// The bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Starts a conversation (visitors); returns its id.
    pub async fn start_conversation(&self) -> Result<Uuid, Error> {
        let created: Value = self
            .call(
                Method::POST,
                "/api/conversations",
                Some(&serde_json::json!({})),
            )
            .await?;
        let id = created["conversation"]["id"].as_str().unwrap_or_default();
        id.parse()
            .map_err(|_| Error::Protocol(format!("no conversation id in {created}")))
    }

    /// Sends `text` with a new client id; see [`send_with_id`](Self::send_with_id).
    pub async fn send_message(
        &self,
        conversation: Uuid,
        text: &str,
    ) -> Result<SendResponse, Error> {
        let client_id = format!("rust-{}", Uuid::new_v4());
        self.send_with_id(conversation, text, &client_id).await
    }

    /// Sends `text` under `client_id`. While the server is unreachable or answers 429/5xx,
    /// the same request is tried again with backoff for about a minute: the server stores
    /// one message per client id, so a retry of a send that did land returns the original.
    pub async fn send_with_id(
        &self,
        conversation: Uuid,
        text: &str,
        client_id: &str,
    ) -> Result<SendResponse, Error> {
        let request = SendRequest {
            conversation_id: conversation.to_string(),
            sender_type: self.sender_type.to_owned(),
            admin_id: None,
            message: text.to_owned(),
            timestamp: None,
            client_message_id: Some(client_id.to_owned()),
            attachment_ids: None,
            private: None,
        };
        let send = || self.call(Method::POST, "/api/messages/send", Some(&request));
        send.retry(retries()).when(Error::is_retryable).await
    }

    /// The events of `conversation` after `since` (a page; the answer says if more follow).
    pub async fn events(&self, conversation: Uuid, since: u64) -> Result<Value, Error> {
        let path = format!("/api/conversations/{conversation}/events?since={since}");
        self.call::<(), _>(Method::GET, &path, None).await
    }

    /// The change feed after `after` (owners only): keep `lastPosition` and ask again.
    pub async fn changes(&self, after: u64, limit: usize) -> Result<ChangesResponse, Error> {
        let path = format!("/api/changes?after={after}&limit={limit}");
        self.call::<(), _>(Method::GET, &path, None).await
    }

    /// One request; an error answer becomes [`Error::Api`].
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        // A body cut off in transit is a transport error (retried), not a bad answer: the
        // request may have been carried out.
        let bytes = response.bytes().await?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            return Err(Error::from_body(status, &body));
        }
        serde_json::from_value(body).map_err(|error| Error::Protocol(error.to_string()))
    }

    /// The WebSocket URL of the server.
    pub(crate) fn ws_url(&self) -> String {
        format!("{}/api/ws", self.base.replacen("http", "ws", 1))
    }
}

/// About a minute of retries: 100 ms doubling to 5 s, with jitter.
pub(crate) fn retries() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(16)
        .with_jitter()
}
