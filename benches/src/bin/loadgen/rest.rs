//! The REST calls a run needs to set up: visitor sessions, an agent login, conversations.

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// A REST client for one server.
#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    base: String,
}

impl Rest {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        let request = self.http.post(format!("{}{path}", self.base)).json(&body);
        Self::send(request, token, "POST", path).await
    }

    /// GETs a JSON route.
    pub async fn get(&self, path: &str, token: &str) -> anyhow::Result<Value> {
        let request = self.http.get(format!("{}{path}", self.base));
        Self::send(request, Some(token), "GET", path).await
    }

    /// Sends with the bearer token, if any; a non-2xx answer is an error.
    async fn send(
        mut request: reqwest::RequestBuilder,
        token: Option<&str>,
        method: &str,
        path: &str,
    ) -> anyhow::Result<Value> {
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{method} {path}: {status} {answer}");
        }
        Ok(answer)
    }

    /// A visitor session's token.
    pub async fn visitor(&self) -> anyhow::Result<String> {
        let answer = self.post("/api/sessions/visitor", None, json!({})).await?;
        Ok(answer["token"].as_str().context("token")?.to_owned())
    }

    /// An agent's token.
    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let answer = self
            .post(
                "/api/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await?;
        Ok(answer["token"].as_str().context("token")?.to_owned())
    }

    /// A new conversation of the visitor's: its id.
    pub async fn conversation(&self, visitor: &str) -> anyhow::Result<String> {
        let answer = self
            .post("/api/conversations", Some(visitor), json!({}))
            .await?;
        Ok(answer["conversation"]["id"]
            .as_str()
            .context("id")?
            .to_owned())
    }
}
