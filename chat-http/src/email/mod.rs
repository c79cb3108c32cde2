//! Offline email over SMTP: the worker that runs chat-core's email passes, the text of an
//! email (`compose.rs`) and, with the `smtp` feature, the lettre SMTP sender (`smtp.rs`).

mod compose;
#[cfg(feature = "smtp")]
mod smtp;

use std::sync::Arc;
use std::time::Duration;

use chat_core::email::EmailConfig;
use chat_core::engine::EmailSender;
use tokio::task::JoinHandle;

use crate::state::AppState;

pub use compose::{Composed, compose};
#[cfg(feature = "smtp")]
pub use smtp::SmtpSender;

/// Offline email, as the operator set it up.
#[derive(Debug, Clone)]
pub struct OfflineEmailConfig {
    /// When an email goes out (the delay) and how failed sends are retried.
    pub rules: EmailConfig,
    /// The `From` mailbox, e.g. `Support <support@example.com>`.
    pub from: String,
    /// The server's public base URL (`https://chat.example.com`), for the link back to the
    /// conversation and the unsubscribe link.
    pub public_url: String,
}

/// Runs an email pass every quarter of the delay (between 0.2 and 10 seconds), until
/// aborted. Passes on several nodes at once are safe (see `ChatEngine::send_offline_emails`).
pub fn spawn_email_worker(state: AppState, sender: Arc<dyn EmailSender>) -> Option<JoinHandle<()>> {
    let config = state.config().offline_email.clone()?;
    let every = (config.rules.after / 4).clamp(Duration::from_millis(200), Duration::from_secs(10));
    Some(tokio::spawn(async move {
        let engine = state.engine().clone();
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match engine
                .send_offline_emails(sender.as_ref(), &config.rules)
                .await
            {
                Ok(pass) => {
                    crate::metrics::offline_emails(pass.sent, pass.failed);
                    if pass.sent + pass.failed > 0 {
                        tracing::info!(
                            sent = pass.sent,
                            failed = pass.failed,
                            "offline email pass"
                        );
                    }
                }
                Err(error) => tracing::warn!(%error, "an offline email pass failed"),
            }
        }
    }))
}
