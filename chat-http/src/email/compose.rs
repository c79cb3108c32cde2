//! The text of an offline email: who replied and what, a link back to the conversation and
//! an unsubscribe link (also given as `List-Unsubscribe` for one-click unsubscribe).

use chat_core::email::OfflineEmail;

use crate::email::OfflineEmailConfig;

/// An email's parts, ready for any transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// Where the visitor continues the conversation.
    pub conversation_url: String,
    /// Where the visitor unsubscribes (a page with one button; POST unsubscribes at once).
    pub unsubscribe_url: String,
}

/// Writes `email` out. `resume` is a visitor session token for the link back: the widget
/// opened from it signs in as the visitor, on any device (it rides in the URL's fragment,
/// which browsers never send to a server).
pub fn compose(email: &OfflineEmail, config: &OfflineEmailConfig, resume: &str) -> Composed {
    let base = config.public_url.trim_end_matches('/');
    let conversation_url = format!(
        "{base}/widget?conversation={}#resume={}.{resume}",
        email.conversation, email.customer
    );
    let unsubscribe_url = format!(
        "{base}/api/visitors/{}/unsubscribe?token={}",
        email.customer,
        email.unsubscribe.as_str()
    );
    let subject = match email.replies.len() {
        1 => "You have a new reply".to_owned(),
        n => format!("You have {n} new replies"),
    };
    let mut text = String::new();
    for reply in &email.replies {
        let who = reply.agent.as_ref().map_or("Support", |name| name.as_str());
        text.push_str(&format!(
            "{who} wrote ({}):\n",
            reply.at.format("%Y-%m-%d %H:%M UTC")
        ));
        for line in reply.body.as_str().lines() {
            text.push_str(&format!("> {line}\n"));
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "Continue the conversation: {conversation_url}\n\n"
    ));
    text.push_str(&format!(
        "You get this email because you left your address in the chat and were away.\n\
         Unsubscribe: {unsubscribe_url}\n"
    ));
    Composed {
        subject,
        text,
        conversation_url,
        unsubscribe_url,
    }
}

#[cfg(test)]
mod tests {
    use chat_core::email::{EmailConfig, QuotedReply, UnsubscribeToken};
    use chat_core::ids::{ConversationId, CustomerId};
    use chat_core::values::{DisplayName, Email, Limits, MessageBody};

    use super::*;

    #[test]
    fn an_email_quotes_every_reply_and_links_back_and_out() {
        let token = UnsubscribeToken::generate();
        let email = OfflineEmail {
            to: Email::parse("v@example.com").unwrap(),
            customer: CustomerId::new(),
            conversation: ConversationId::new(),
            replies: vec![
                QuotedReply {
                    agent: Some(DisplayName::parse("Ana").unwrap()),
                    body: MessageBody::parse("Hi!\nHow can I help?", &Limits::default()).unwrap(),
                    at: chrono::Utc::now(),
                },
                QuotedReply {
                    agent: None,
                    body: MessageBody::parse("Still there?", &Limits::default()).unwrap(),
                    at: chrono::Utc::now(),
                },
            ],
            unsubscribe: token.clone(),
        };
        let config = OfflineEmailConfig {
            rules: EmailConfig::new(std::time::Duration::from_secs(300)),
            from: "Support <s@example.com>".into(),
            public_url: "https://chat.example.com/".into(),
        };
        let composed = compose(&email, &config, "t0k3n");
        assert_eq!(composed.subject, "You have 2 new replies");
        assert!(composed.text.contains("Ana wrote"), "{}", composed.text);
        assert!(composed.text.contains("> Hi!\n> How can I help?\n"));
        assert!(composed.text.contains("Support wrote"));
        assert_eq!(
            composed.conversation_url,
            format!(
                "https://chat.example.com/widget?conversation={}#resume={}.t0k3n",
                email.conversation, email.customer
            )
        );
        assert_eq!(
            composed.unsubscribe_url,
            format!(
                "https://chat.example.com/api/visitors/{}/unsubscribe?token={}",
                email.customer,
                token.as_str()
            )
        );
        assert!(composed.text.contains(&composed.unsubscribe_url));
    }
}
