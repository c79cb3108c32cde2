//! Offline email from the options: the configuration (`--smtp-url`, `--email-from`,
//! `--email-after`, `--public-url`) and the SMTP worker.

use chat_http::AppState;
use chat_http::email::OfflineEmailConfig;
use tokio::task::JoinHandle;

use crate::Options;

/// Offline email as the options set it up; `None` without `--smtp-url`.
pub fn config(options: &Options) -> Result<Option<OfflineEmailConfig>, String> {
    if options.smtp_url.as_deref().is_none_or(str::is_empty) {
        return Ok(None);
    }
    let from = options
        .email_from
        .clone()
        .ok_or("--smtp-url needs --email-from (the From of offline emails)")?;
    // The links in every email start with it: required, and checked, not guessed from the
    // bind address (which may be 0.0.0.0 or behind a proxy).
    let public_url = options
        .public_url
        .clone()
        .ok_or("--smtp-url needs --public-url (where the links in emails point)")?;
    chat_core::webhooks::WebhookUrl::parse(&public_url)
        .map_err(|error| format!("--public-url {public_url:?}: {error}"))?;
    Ok(Some(OfflineEmailConfig {
        rules: chat_core::email::EmailConfig::new(options.email_after),
        from,
        public_url,
    }))
}

/// Starts the email worker when offline email is on.
#[cfg(feature = "smtp")]
pub fn spawn(smtp_url: Option<&str>, state: &AppState) -> Result<Option<JoinHandle<()>>, String> {
    let (Some(url), Some(config)) = (smtp_url, &state.config().offline_email) else {
        return Ok(None);
    };
    tracing::info!(after = ?config.rules.after, "offline email on");
    let sender = chat_http::email::SmtpSender::new(url, state.clone())?;
    Ok(chat_http::email::spawn_email_worker(
        state.clone(),
        std::sync::Arc::new(sender),
    ))
}

/// Without the `smtp` feature, `--smtp-url` is refused rather than ignored.
#[cfg(not(feature = "smtp"))]
pub fn spawn(_smtp_url: Option<&str>, state: &AppState) -> Result<Option<JoinHandle<()>>, String> {
    match state.config().offline_email {
        Some(_) => Err("--smtp-url: this build has no SMTP support (feature `smtp`)".into()),
        None => Ok(None),
    }
}
