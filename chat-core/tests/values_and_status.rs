//! Validated values refuse bad input with a typed error naming the field; the status
//! workflow allows exactly the documented transitions.

use chat_core::error::Conflict;
use chat_core::model::ActorKind;
use chat_core::status::ConversationStatus::{self, Active, Closed, Snoozed, Waiting};
use chat_core::values::{ClientMessageId, Email, Limits, MessageBody, Metadata};
use serde_json::json;

#[test]
fn message_body_must_be_non_blank_without_nul_and_within_the_limit() {
    let limits = Limits::default();
    for blank in ["", "   ", "\n\t "] {
        let error = MessageBody::parse(blank, &limits).expect_err("blank body accepted");
        assert_eq!(error.field, "message");
    }
    assert!(MessageBody::parse("a\0b", &limits).is_err(), "NUL accepted");
    assert!(
        MessageBody::parse("é".repeat(8 * 1024), &limits).is_ok(),
        "exactly 16 KiB of UTF-8"
    );
    assert!(
        MessageBody::parse("x".repeat(16 * 1024 + 1), &limits).is_err(),
        "over 16 KiB"
    );
    let small = Limits {
        max_message_bytes: 4,
        ..limits
    };
    assert!(
        MessageBody::parse("hello", &small).is_err(),
        "configured limit ignored"
    );
    assert_eq!(
        MessageBody::parse(" hi ", &limits).expect("valid").as_str(),
        " hi ",
        "text is kept as sent"
    );
}

#[test]
fn message_body_deserialization_validates_too() {
    assert!(serde_json::from_value::<MessageBody>(json!("  ")).is_err());
    assert!(serde_json::from_value::<MessageBody>(json!("ok")).is_ok());
    let erased = serde_json::from_value::<MessageBody>(json!("")).expect("a deleted message's");
    assert_eq!(erased, MessageBody::erased());
}

#[test]
fn metadata_is_a_json_object_within_the_cap() {
    let limits = Limits::default();
    assert!(Metadata::parse(json!({"page": "/pricing"}), &limits).is_ok());
    assert!(
        Metadata::parse(json!(null), &limits)
            .expect("null is empty")
            .is_empty()
    );
    for not_object in [json!([1, 2]), json!("text"), json!(3)] {
        assert_eq!(
            Metadata::parse(not_object, &limits)
                .expect_err("accepted")
                .field,
            "metadata"
        );
    }
    let big = json!({"blob": "x".repeat(limits.max_metadata_bytes)});
    assert!(Metadata::parse(big, &limits).is_err(), "over the cap");
}

#[test]
fn metadata_never_holds_a_nul_character() {
    let limits = Limits::default();
    for poisoned in [
        json!({"k": "a\u{0}b"}),
        json!({"k\u{0}": 1}),
        json!({"deep": [{"x": ["ok", "\u{0}"]}]}),
    ] {
        let refused = Metadata::parse(poisoned.clone(), &limits).expect_err("accepted a NUL");
        assert_eq!(refused.field, "metadata");
        let decoded: Result<Metadata, _> = serde_json::from_value(poisoned);
        assert!(decoded.is_err(), "deserializing accepted a NUL");
    }
    assert!(Metadata::parse(json!({"k": "no nul", "n": [1, null, true]}), &limits).is_ok());
}

#[test]
fn emails_are_normalized_and_checked() {
    assert_eq!(
        Email::parse("  Alice@Example.COM ")
            .expect("valid")
            .as_str(),
        "alice@example.com"
    );
    for bad in [
        "",
        "alice",
        "@example.com",
        "alice@",
        "a b@example.com",
        "a@b@c",
        "a@exa\u{7}mple.com",
        "a<b@c.com",
        "Name <a@b.com>",
        "a@b.com,c@d.com",
        "\"a\"@b.com",
    ] {
        assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn client_message_ids_are_bounded() {
    assert!(ClientMessageId::parse("abc-123").is_ok());
    assert!(ClientMessageId::parse("").is_err());
    assert!(ClientMessageId::parse(&"x".repeat(129)).is_err());
    assert!(ClientMessageId::parse("line\nbreak").is_err());
}

#[test]
fn admins_may_make_exactly_six_status_changes() {
    let allowed = [
        (Waiting, Active),
        (Waiting, Closed),
        (Active, Closed),
        (Closed, Active),
        (Snoozed, Active),
        (Snoozed, Closed),
    ];
    for from in ConversationStatus::ALL {
        for to in ConversationStatus::ALL {
            let result = from.set_by_admin(to);
            if allowed.contains(&(from, to)) {
                assert_eq!(result, Ok(to));
            } else {
                assert_eq!(
                    result,
                    Err(Conflict::IllegalTransition { from, to }),
                    "{from} -> {to}"
                );
            }
        }
    }
}

#[test]
fn messages_drive_the_workflow() {
    use ActorKind::{Admin, Customer, System};
    assert_eq!(
        Waiting.on_message(Admin, false, false),
        Ok(Some(Active)),
        "a reply activates"
    );
    assert_eq!(Waiting.on_message(Customer, false, false), Ok(None));
    assert_eq!(Active.on_message(Admin, false, false), Ok(None));
    assert_eq!(
        Waiting.on_message(Admin, true, false),
        Ok(None),
        "a note changes nothing"
    );
    assert_eq!(
        Closed.on_message(Admin, true, false),
        Ok(None),
        "notes allowed when closed"
    );
    assert_eq!(Closed.on_message(System, false, false), Ok(None));
    assert_eq!(
        Closed.on_message(Customer, false, false),
        Err(Conflict::ConversationClosed)
    );
    assert_eq!(
        Closed.on_message(Customer, false, true),
        Ok(Some(Waiting)),
        "reopen when allowed"
    );
    assert_eq!(
        Closed.on_message(Admin, false, true),
        Err(Conflict::ConversationClosed)
    );
    assert_eq!(
        Snoozed.on_message(Customer, false, false),
        Ok(Some(Waiting)),
        "the visitor's message wakes a snoozed conversation"
    );
    assert_eq!(
        Snoozed.on_message(Admin, false, false),
        Ok(None),
        "a reply keeps it snoozed"
    );
    for from in [Waiting, Active, Snoozed] {
        assert_eq!(from.snooze(), Ok(Snoozed), "{from}");
    }
    assert!(Closed.snooze().is_err());
}

#[test]
fn statuses_parse_from_their_wire_names_only() {
    for status in ConversationStatus::ALL {
        assert_eq!(status.as_str().parse::<ConversationStatus>(), Ok(status));
    }
    assert!("open".parse::<ConversationStatus>().is_err());
    assert!("Closed".parse::<ConversationStatus>().is_err());
}
