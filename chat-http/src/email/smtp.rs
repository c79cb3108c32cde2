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

use chat_core::accounts::SessionSubject;

use crate::auth::open_session;
use crate::email::{OfflineEmailConfig, compose};
use crate::state::AppState;

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest a link back signs its visitor in for.
const LINK_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// An SMTP relay and the mailbox emails come from.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    config: OfflineEmailConfig,
    state: AppState,
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
    /// A sender through the relay at `url`, with `state`'s offline-email settings (its
    /// sessions sign in the links back); an unreadable URL or `From` mailbox, or offline
    /// email being off, is an error to show the operator.
    pub fn new(url: &str, state: AppState) -> Result<Self, String> {
        let config = state
            .config()
            .offline_email
            .clone()
            .ok_or("offline email is not configured")?;
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
            state,
        })
    }

    /// A visitor session for the email's link back (valid for the shorter of a week and
    /// the visitor session lifetime).
    async fn link_session(&self, email: &OfflineEmail) -> Result<String, SendFailure> {
        let ttl = LINK_TTL.min(self.state.config().visitor_session_ttl);
        let subject = SessionSubject::Visitor(email.customer);
        open_session(&self.state, subject, ttl)
            .await
            .map_err(|error| SendFailure {
                permanent: false,
                reason: format!("no session for the link back: {error}"),
            })
    }

    /// The visitor's mailbox; an address the mail library cannot use is refused for good.
    fn recipient(email: &OfflineEmail) -> Result<Mailbox, SendFailure> {
        email.to.as_str().parse().map_err(|error| SendFailure {
            permanent: true,
            reason: format!("the address: {error}"),
        })
    }

    fn message(
        &self,
        email: &OfflineEmail,
        to: Mailbox,
        resume: &str,
    ) -> Result<Message, SendFailure> {
        let composed = compose(email, &self.config, resume);
        let refused = |reason: String| SendFailure {
            permanent: true,
            reason,
        };
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
        // The address is checked before a session is opened for the link.
        let to = Self::recipient(email)?;
        let resume = self.link_session(email).await?;
        let message = self.message(email, to, &resume)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => Err(SendFailure {
                permanent: error.is_permanent(),
                reason: error.to_string(),
            }),
        }
    }
}
