//! One delivery attempt: the Standard Webhooks request for one event (payload
//! `{type, timestamp, data}`, `data` being the event as the API shows it; headers
//! `webhook-id`, `webhook-timestamp`, `webhook-signature`), and how it ended.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chat_core::changes::Change;
use chat_core::engine::WebhookSender;
use chat_core::webhooks::{self, AttemptResult, WebhookEndpoint};
use chrono::{DateTime, Utc};
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde::Serialize;

use super::WebhookConfig;
use super::sign::signatures;
use super::target::{GuardedResolver, check_literal, is_refused};
use crate::dto::EventDto;

/// Sends webhooks with one pooled HTTP client.
#[derive(Debug, Clone)]
pub struct HttpSender {
    client: reqwest::Client,
    allow_private: bool,
}

/// The body of every delivery.
#[derive(Serialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: DateTime<Utc>,
    data: EventDto,
}

impl HttpSender {
    /// A sender with `config`'s timeout and address guard; redirects are not followed.
    pub fn new(config: &WebhookConfig) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the target itself, past the address guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: config.allow_private,
            }))
            .user_agent(concat!("chat-engine-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            allow_private: config.allow_private,
        })
    }
}

#[async_trait]
impl WebhookSender for HttpSender {
    async fn send(
        &self,
        endpoint: &WebhookEndpoint,
        change: &Change,
        _attempt: u32,
    ) -> AttemptResult {
        let url = match reqwest::Url::parse(endpoint.url.as_str()) {
            Ok(url) => url,
            Err(error) => return AttemptResult::NoAnswer(error.to_string()),
        };
        if let Err(refused) = check_literal(&url, self.allow_private) {
            crate::metrics::webhook_attempt("refused");
            return AttemptResult::Refused(refused);
        }
        let body = match serde_json::to_vec(&Payload {
            kind: change.event.kind.type_name(),
            timestamp: change.event.timestamp,
            data: EventDto::from(change.event.clone()),
        }) {
            Ok(body) => body,
            Err(error) => return AttemptResult::NoAnswer(error.to_string()),
        };
        let now = Utc::now();
        let id = webhooks::message_id(&change.event);
        let signature = signatures(&endpoint.signing_secrets(now), &id, now.timestamp(), &body);
        let request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", now.timestamp().to_string())
            .header("webhook-signature", signature)
            .body(body);
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                crate::metrics::webhook_attempt(match status.as_u16() {
                    200..=299 => "2xx",
                    400..=499 => "4xx",
                    500..=599 => "5xx",
                    _ => "other",
                });
                AttemptResult::Answered {
                    status: status.as_u16(),
                    retry_after: retry_after(response.headers(), now),
                }
            }
            Err(error) if is_refused(&error) => {
                crate::metrics::webhook_attempt("refused");
                AttemptResult::Refused(describe(&error))
            }
            Err(error) => {
                crate::metrics::webhook_attempt("no_answer");
                AttemptResult::NoAnswer(describe(&error))
            }
        }
    }
}

/// A `Retry-After` header: seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&Utc) - now).to_std().ok()
}

/// Why a request got no answer, for the delivery log.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(120)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:29:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(60)));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers, now), None);
    }
}
