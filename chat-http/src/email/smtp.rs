//! Sends offline emails over SMTP with lettre. `--smtp-url` takes lettre's URL form:
//! `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS from the start),
//! `smtp://host:25` (plain, for a local relay), with `user:password@` when the server
//! wants a login.

use std::time::Duration;

use async_trait::async_trait;
use chat_core::email::{OfflineEmail, SendFailure};
use chat_core::engine::EmailSender;
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::email::{OfflineEmailConfig, compose};

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// An SMTP relay and the mailbox emails come from.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    config: OfflineEmailConfig,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials.
        f.debug_struct("SmtpSender")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpSender {
    /// A sender through the relay at `url`; an unreadable URL or `From` mailbox is an error
    /// to show the operator.
    pub fn new(url: &str, config: OfflineEmailConfig) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| format!("--smtp-url: {error}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = config
            .from
            .parse()
            .map_err(|error| format!("--email-from {:?}: {error}", config.from))?;
        Ok(Self {
            transport,
            from,
            config,
        })
    }

    fn message(&self, email: &OfflineEmail) -> Result<Message, SendFailure> {
        let composed = compose(email, &self.config);
        let refused = |reason: String| SendFailure {
            permanent: true,
            reason,
        };
        let to: Mailbox = email
            .to
            .as_str()
            .parse()
            .map_err(|error| refused(format!("the address: {error}")))?;
        let list_unsubscribe = HeaderName::new_from_ascii_str("List-Unsubscribe");
        let one_click = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(composed.subject)
            .raw_header(HeaderValue::new(
                list_unsubscribe,
                format!("<{}>", composed.unsubscribe_url),
            ))
            .raw_header(HeaderValue::new(
                one_click,
                "List-Unsubscribe=One-Click".to_owned(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(composed.text)
            .map_err(|error| refused(format!("the message: {error}")))
    }
}

#[async_trait]
impl EmailSender for SmtpSender {
    async fn send(&self, email: &OfflineEmail) -> Result<(), SendFailure> {
        let message = self.message(email)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => Err(SendFailure {
                permanent: error.is_permanent(),
                reason: error.to_string(),
            }),
        }
    }
}
