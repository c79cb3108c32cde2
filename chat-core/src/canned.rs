//! Canned replies: saved answers agents insert with `/short-code`, how a search ranks them,
//! and how their placeholders are filled.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::CannedReplyId;
use crate::values::{MessageBody, ShortCode};

/// A saved answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedReply {
    /// Identity.
    pub id: CannedReplyId,
    /// What an agent types after `/`; unique, ignoring case.
    pub short_code: ShortCode,
    /// The text, with optional `{{visitor.name}}` and `{{agent.name}}` placeholders.
    pub content: MessageBody,
    /// Creation time.
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub created_at: DateTime<Utc>,
}

/// What a canned reply update changes: only the fields it names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CannedReplyChanges {
    /// New short code (unique, ignoring case).
    pub short_code: Option<ShortCode>,
    /// New content.
    pub content: Option<MessageBody>,
}

impl CannedReplyChanges {
    /// Applies the named fields to `reply`.
    pub fn apply(&self, reply: &mut CannedReply) {
        if let Some(code) = &self.short_code {
            reply.short_code = code.clone();
        }
        if let Some(content) = &self.content {
            reply.content = content.clone();
        }
    }
}

/// The replies matching `search` (ignoring case), best first: short codes starting with it,
/// then short codes containing it, then contents containing it; short-code order within
/// each rank. An empty search lists every reply in short-code order.
pub fn rank(replies: Vec<CannedReply>, search: &str) -> Vec<CannedReply> {
    let needle = search.trim().to_lowercase();
    let mut ranked: Vec<(u8, String, CannedReply)> = replies
        .into_iter()
        .filter_map(|reply| {
            let code = reply.short_code.key();
            let rank = if code.starts_with(&needle) {
                0
            } else if code.contains(&needle) {
                1
            } else if reply.content.as_str().to_lowercase().contains(&needle) {
                2
            } else {
                return None;
            };
            Some((rank, code, reply))
        })
        .collect();
    ranked.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    ranked.into_iter().map(|(_, _, reply)| reply).collect()
}

/// Who a reply is inserted for: the names its placeholders are filled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholders {
    /// The visitor's name; `None` fills `{{visitor.name}}` with "there".
    pub visitor_name: Option<String>,
    /// The inserting agent's name.
    pub agent_name: String,
}

/// `content` with `{{visitor.name}}` and `{{agent.name}}` filled in (spaces inside the
/// braces allowed); anything else is left as written.
pub fn fill(content: &str, names: &Placeholders) -> String {
    let visitor = names.visitor_name.as_deref().unwrap_or("there");
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            rest = &rest[start..];
            break;
        };
        match after[..end].trim() {
            "visitor.name" => out.push_str(visitor),
            "agent.name" => out.push_str(&names.agent_name),
            _ => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::Limits;

    fn reply(code: &str, content: &str) -> CannedReply {
        CannedReply {
            id: CannedReplyId::new(),
            short_code: ShortCode::parse(code).unwrap(),
            content: MessageBody::parse(content, &Limits::default()).unwrap(),
            created_at: Utc::now(),
        }
    }

    fn codes(replies: &[CannedReply]) -> Vec<&str> {
        replies.iter().map(|r| r.short_code.as_str()).collect()
    }

    #[test]
    fn prefix_beats_contains_beats_content() {
        let replies = vec![
            reply("thanks", "Glad to help with your refund"),
            reply("refund-late", "It is on its way"),
            reply("late-refund", "Sorry"),
            reply("Refund", "We refund within 5 days"),
            reply("bye", "Goodbye"),
        ];
        let ranked = rank(replies, "REFUND");
        assert_eq!(
            codes(&ranked),
            ["Refund", "refund-late", "late-refund", "thanks"]
        );
    }

    #[test]
    fn an_empty_search_lists_everything_by_short_code() {
        let ranked = rank(vec![reply("b", "x"), reply("a", "y")], "  ");
        assert_eq!(codes(&ranked), ["a", "b"]);
    }

    #[test]
    fn placeholders_are_filled_and_others_kept() {
        let names = Placeholders {
            visitor_name: Some("Ada".into()),
            agent_name: "Grace".into(),
        };
        let filled = fill(
            "Hi {{visitor.name}}, {{ agent.name }} here. {{other}} {{open",
            &names,
        );
        assert_eq!(filled, "Hi Ada, Grace here. {{other}} {{open");
        let anonymous = Placeholders {
            visitor_name: None,
            ..names
        };
        assert_eq!(fill("Hi {{visitor.name}}!", &anonymous), "Hi there!");
    }
}
