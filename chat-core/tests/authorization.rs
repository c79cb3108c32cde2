//! Walks every row of the design's authorization table (design.md, "Authorization"),
//! including each refusal, against the pure policy function. Rate limits in that table are
//! enforced by chat-http and tested there.

use chat_core::accounts::{ConversationScope, Permissions};
use chat_core::authz::{Action, ConversationFacts, Denial, Policy, Principal, authorize};
use chat_core::ids::{AdminId, CustomerId};
use chat_core::status::ConversationStatus::{self, Active, Closed, Waiting};

const ALL_ACTIONS: [Action; 33] = [
    Action::CreateVisitorSession,
    Action::CreateConversation,
    Action::ListConversations,
    Action::ListInbox,
    Action::ReadConversation,
    Action::JoinRoom,
    Action::SendMessage,
    Action::UploadFile,
    Action::MarkRead,
    Action::SendTyping,
    Action::SeePrivateNotes,
    Action::WritePrivateNote,
    Action::ChangeStatus,
    Action::Assign,
    Action::DeleteConversation,
    Action::ManageAdmins,
    Action::ListLabels,
    Action::ManageLabels,
    Action::LabelConversation,
    Action::UseCannedReplies,
    Action::ManageCannedReplies,
    Action::ViewVisitors,
    Action::BlockVisitors,
    Action::RateConversation,
    Action::ViewReports,
    Action::ReadChangeFeed,
    Action::ManageWebhooks,
    Action::LeaveEmail,
    Action::Search,
    Action::ChangeOwnMessage,
    Action::DeleteAnyMessage,
    Action::ViewAudit,
    Action::ManageVisitorData,
];
/// The workspace's catalogs: labels and canned replies.
const WORKSPACE: [Action; 4] = [
    Action::ListLabels,
    Action::ManageLabels,
    Action::UseCannedReplies,
    Action::ManageCannedReplies,
];
const VISITOR_READS: [Action; 4] = [
    Action::ReadConversation,
    Action::JoinRoom,
    Action::MarkRead,
    Action::SendTyping,
];
const VISITOR_WRITES: [Action; 2] = [Action::SendMessage, Action::UploadFile];
const STAFF_ONLY: [Action; 6] = [
    Action::LabelConversation,
    Action::SeePrivateNotes,
    Action::WritePrivateNote,
    Action::ChangeStatus,
    Action::Assign,
    Action::DeleteConversation,
];
const AGENT_BASICS: [Action; 10] = [
    Action::LabelConversation,
    Action::ReadConversation,
    Action::JoinRoom,
    Action::SendMessage,
    Action::UploadFile,
    Action::MarkRead,
    Action::SendTyping,
    Action::SeePrivateNotes,
    Action::ListConversations,
    Action::ListInbox,
];
const MANAGE: [Action; 4] = [
    Action::ChangeStatus,
    Action::Assign,
    Action::WritePrivateNote,
    Action::DeleteConversation,
];

fn facts(
    customer_id: CustomerId,
    status: ConversationStatus,
    assignee: Option<AdminId>,
) -> ConversationFacts {
    ConversationFacts {
        customer_id,
        assignee,
        status,
    }
}

fn check(
    principal: &Principal,
    action: Action,
    conv: Option<&ConversationFacts>,
) -> Result<(), Denial> {
    authorize(principal, action, conv, &Policy::default())
}

fn agent(permissions: Permissions) -> (AdminId, Principal) {
    let id = AdminId::new();
    (id, Principal::Admin { id, permissions })
}

#[test]
fn anonymous_may_only_create_a_visitor_session() {
    let conv = facts(CustomerId::new(), Active, None);
    assert_eq!(
        check(&Principal::Anonymous, Action::CreateVisitorSession, None),
        Ok(())
    );
    for action in ALL_ACTIONS
        .into_iter()
        .filter(|a| *a != Action::CreateVisitorSession)
    {
        assert_eq!(
            check(&Principal::Anonymous, action, Some(&conv)),
            Err(Denial::Unauthenticated),
            "{action:?}"
        );
        assert_eq!(
            check(&Principal::Anonymous, action, None),
            Err(Denial::Unauthenticated),
            "{action:?}"
        );
    }
}

#[test]
fn visitor_may_create_and_list_conversations() {
    let visitor = Principal::Visitor(CustomerId::new());
    assert_eq!(check(&visitor, Action::CreateConversation, None), Ok(()));
    assert_eq!(check(&visitor, Action::ListConversations, None), Ok(()));
    assert!(matches!(
        check(&visitor, Action::ListInbox, None),
        Err(Denial::Forbidden(_))
    ));
}

#[test]
fn visitor_reads_joins_marks_read_and_types_only_in_their_own_conversation() {
    let me = CustomerId::new();
    let visitor = Principal::Visitor(me);
    for status in ConversationStatus::ALL {
        let own = facts(me, status, None);
        let foreign = facts(CustomerId::new(), status, None);
        for action in VISITOR_READS {
            assert_eq!(
                check(&visitor, action, Some(&own)),
                Ok(()),
                "{action:?} own {status}"
            );
            assert_eq!(
                check(&visitor, action, Some(&foreign)),
                Err(Denial::NotFound),
                "{action:?} foreign"
            );
            assert_eq!(
                check(&visitor, action, None),
                Err(Denial::NotFound),
                "{action:?} missing"
            );
        }
    }
}

#[test]
fn visitor_sends_and_uploads_only_while_active_or_waiting() {
    let me = CustomerId::new();
    let visitor = Principal::Visitor(me);
    for action in VISITOR_WRITES {
        assert_eq!(
            check(&visitor, action, Some(&facts(me, Waiting, None))),
            Ok(())
        );
        assert_eq!(
            check(&visitor, action, Some(&facts(me, Active, None))),
            Ok(())
        );
        assert_eq!(
            check(&visitor, action, Some(&facts(me, Closed, None))),
            Err(Denial::Closed)
        );
        let reopen = Policy {
            customer_may_reopen: true,
        };
        assert_eq!(
            authorize(&visitor, action, Some(&facts(me, Closed, None)), &reopen),
            Ok(())
        );
        let foreign = facts(CustomerId::new(), Active, None);
        assert_eq!(
            check(&visitor, action, Some(&foreign)),
            Err(Denial::NotFound),
            "{action:?}"
        );
    }
}

#[test]
fn visitor_never_sees_notes_nor_manages_anything() {
    let me = CustomerId::new();
    let visitor = Principal::Visitor(me);
    let own = facts(me, Active, None);
    for action in STAFF_ONLY {
        assert!(
            matches!(
                check(&visitor, action, Some(&own)),
                Err(Denial::Forbidden(_))
            ),
            "{action:?}"
        );
        let foreign = facts(CustomerId::new(), Active, None);
        assert_eq!(
            check(&visitor, action, Some(&foreign)),
            Err(Denial::NotFound),
            "{action:?}"
        );
    }
    assert!(matches!(
        check(&visitor, Action::ManageAdmins, None),
        Err(Denial::Forbidden(_))
    ));
}

#[test]
fn agent_with_default_permissions_works_every_conversation() {
    let (_, admin) = agent(Permissions::default());
    for status in [Waiting, Active] {
        let any = facts(CustomerId::new(), status, Some(AdminId::new()));
        for action in AGENT_BASICS {
            assert_eq!(
                check(&admin, action, Some(&any)),
                Ok(()),
                "{action:?} {status}"
            );
        }
    }
    let closed = facts(CustomerId::new(), Closed, None);
    for action in [Action::SendMessage, Action::UploadFile] {
        assert_eq!(
            check(&admin, action, Some(&closed)),
            Err(Denial::Closed),
            "reopen before replying"
        );
    }
    assert_eq!(
        check(&admin, Action::ReadConversation, Some(&closed)),
        Ok(())
    );
    assert_eq!(
        check(&admin, Action::ReadConversation, None),
        Err(Denial::NotFound)
    );
}

#[test]
fn restricted_agent_sees_only_assigned_conversations() {
    let restricted = Permissions {
        scope: ConversationScope::Assigned,
        delete_messages: true,
        ..Permissions::default()
    };
    let (me, admin) = agent(restricted);
    let mine = facts(CustomerId::new(), Active, Some(me));
    let theirs = facts(CustomerId::new(), Active, Some(AdminId::new()));
    let unassigned = facts(CustomerId::new(), Waiting, None);
    let agents_may = |a: &Action| a.targets_conversation() && *a != Action::RateConversation;
    for action in ALL_ACTIONS.into_iter().filter(agents_may) {
        assert_eq!(
            check(&admin, action, Some(&mine)),
            Ok(()),
            "{action:?} assigned"
        );
        assert_eq!(
            check(&admin, action, Some(&theirs)),
            Err(Denial::NotFound),
            "{action:?} other's"
        );
        assert_eq!(
            check(&admin, action, Some(&unassigned)),
            Err(Denial::NotFound),
            "{action:?} unassigned"
        );
    }
}

#[test]
fn managing_conversations_needs_manage_conversations() {
    let conv = facts(CustomerId::new(), Active, None);
    let (_, manager) = agent(Permissions::default());
    let (_, viewer) = agent(Permissions {
        manage_conversations: false,
        ..Permissions::default()
    });
    for action in MANAGE {
        assert_eq!(check(&manager, action, Some(&conv)), Ok(()), "{action:?}");
        assert!(
            matches!(
                check(&viewer, action, Some(&conv)),
                Err(Denial::Forbidden(_))
            ),
            "{action:?}"
        );
    }
    assert_eq!(
        check(&viewer, Action::SendMessage, Some(&conv)),
        Ok(()),
        "replying needs no manage permission"
    );
}

#[test]
fn managing_agents_needs_manage_admins() {
    let (_, owner) = agent(Permissions::OWNER);
    let (_, agent) = agent(Permissions::default());
    assert_eq!(check(&owner, Action::ManageAdmins, None), Ok(()));
    assert!(matches!(
        check(&agent, Action::ManageAdmins, None),
        Err(Denial::Forbidden(_))
    ));
}

#[test]
fn agents_do_not_start_conversations() {
    let (_, admin) = agent(Permissions::OWNER);
    assert!(matches!(
        check(&admin, Action::CreateConversation, None),
        Err(Denial::Forbidden(_))
    ));
}

#[test]
fn missing_and_not_yours_are_the_same_answer() {
    let restricted = Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    };
    let principals = [Principal::Visitor(CustomerId::new()), agent(restricted).1];
    let foreign = facts(CustomerId::new(), Active, Some(AdminId::new()));
    for principal in principals {
        for action in ALL_ACTIONS.into_iter().filter(|a| a.targets_conversation()) {
            let missing = check(&principal, action, None);
            assert_eq!(missing, Err(Denial::NotFound), "{principal:?} {action:?}");
            assert_eq!(
                check(&principal, action, Some(&foreign)),
                missing,
                "{principal:?} {action:?}"
            );
        }
    }
}

#[test]
fn the_system_may_do_anything_to_existing_conversations() {
    let conv = facts(CustomerId::new(), Closed, None);
    for action in ALL_ACTIONS {
        assert_eq!(
            check(&Principal::System, action, Some(&conv)),
            Ok(()),
            "{action:?}"
        );
        let missing = check(&Principal::System, action, None);
        assert_eq!(
            missing.is_err(),
            action.targets_conversation(),
            "{action:?}"
        );
    }
}

#[test]
fn visitors_never_see_nor_manage_labels_or_canned_replies() {
    let visitor = Principal::Visitor(CustomerId::new());
    for action in WORKSPACE {
        assert!(
            matches!(check(&visitor, action, None), Err(Denial::Forbidden(_))),
            "{action:?}"
        );
    }
}

#[test]
fn every_agent_uses_labels_and_canned_replies_and_managers_change_them() {
    let (_, manager) = agent(Permissions::default());
    let (_, viewer) = agent(Permissions {
        manage_conversations: false,
        ..Permissions::default()
    });
    for action in WORKSPACE {
        assert_eq!(check(&manager, action, None), Ok(()), "{action:?}");
    }
    for action in [Action::ListLabels, Action::UseCannedReplies] {
        assert_eq!(check(&viewer, action, None), Ok(()), "{action:?}");
    }
    for action in [Action::ManageLabels, Action::ManageCannedReplies] {
        assert!(
            matches!(check(&viewer, action, None), Err(Denial::Forbidden(_))),
            "{action:?}"
        );
    }
    let conv = facts(CustomerId::new(), Closed, None);
    assert_eq!(
        check(&viewer, Action::LabelConversation, Some(&conv)),
        Ok(()),
        "labelling needs no manage permission, and closed conversations take labels"
    );
}

#[test]
fn blocking_visitors_needs_manage_conversations_and_visitors_never_do_it() {
    let (_, manager) = agent(Permissions::default());
    let (_, viewer) = agent(Permissions {
        manage_conversations: false,
        ..Permissions::default()
    });
    let visitor = Principal::Visitor(CustomerId::new());
    assert_eq!(check(&manager, Action::BlockVisitors, None), Ok(()));
    assert_eq!(check(&viewer, Action::ViewVisitors, None), Ok(()));
    assert!(matches!(
        check(&viewer, Action::BlockVisitors, None),
        Err(Denial::Forbidden(_))
    ));
    for action in [Action::ViewVisitors, Action::BlockVisitors] {
        assert!(
            matches!(check(&visitor, action, None), Err(Denial::Forbidden(_))),
            "{action:?}"
        );
    }
}

#[test]
fn only_the_conversations_visitor_rates_it_and_managers_read_the_report() {
    let me = CustomerId::new();
    let visitor = Principal::Visitor(me);
    let own = facts(me, Closed, None);
    let foreign = facts(CustomerId::new(), Closed, None);
    assert_eq!(
        check(&visitor, Action::RateConversation, Some(&own)),
        Ok(())
    );
    assert_eq!(
        check(&visitor, Action::RateConversation, Some(&foreign)),
        Err(Denial::NotFound)
    );
    let (_, manager) = agent(Permissions::default());
    let (_, viewer) = agent(Permissions {
        manage_conversations: false,
        ..Permissions::default()
    });
    assert!(matches!(
        check(&manager, Action::RateConversation, Some(&own)),
        Err(Denial::Forbidden(_))
    ));
    assert_eq!(check(&manager, Action::ViewReports, None), Ok(()));
    for principal in [viewer, visitor] {
        assert!(
            matches!(
                check(&principal, Action::ViewReports, None),
                Err(Denial::Forbidden(_))
            ),
            "{principal:?}"
        );
    }
}

#[test]
fn visitors_and_reports_are_for_agents_who_see_every_conversation() {
    let (_, narrow) = agent(Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    });
    for action in [
        Action::ViewVisitors,
        Action::BlockVisitors,
        Action::ViewReports,
    ] {
        assert!(
            matches!(check(&narrow, action, None), Err(Denial::Forbidden(_))),
            "{action:?}"
        );
    }
}

#[test]
fn the_change_feed_and_webhooks_need_manage_admins_over_every_conversation() {
    let (_, owner) = agent(Permissions {
        manage_admins: true,
        ..Permissions::default()
    });
    let (_, narrow_owner) = agent(Permissions {
        manage_admins: true,
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    });
    let (_, manager) = agent(Permissions::default());
    let visitor = Principal::Visitor(CustomerId::new());
    for action in [Action::ReadChangeFeed, Action::ManageWebhooks] {
        assert_eq!(check(&owner, action, None), Ok(()), "{action:?}");
        for refused in [&narrow_owner, &manager, &visitor] {
            assert!(
                matches!(check(refused, action, None), Err(Denial::Forbidden(_))),
                "{refused:?} {action:?}"
            );
        }
    }
}

#[test]
fn only_visitors_leave_an_address_for_offline_replies() {
    let visitor = Principal::Visitor(CustomerId::new());
    assert_eq!(check(&visitor, Action::LeaveEmail, None), Ok(()));
    assert!(
        Action::LeaveEmail.stores_visitor_content(),
        "refused when blocked"
    );
    let (_, owner) = agent(Permissions {
        manage_admins: true,
        ..Permissions::default()
    });
    assert!(matches!(
        check(&owner, Action::LeaveEmail, None),
        Err(Denial::Forbidden(_))
    ));
}

#[test]
fn every_agent_may_search_and_no_visitor_may() {
    let restricted = Permissions {
        scope: ConversationScope::Assigned,
        manage_conversations: false,
        manage_admins: false,
        delete_messages: false,
        view_audit: false,
        manage_visitor_data: false,
    };
    for permissions in [Permissions::default(), restricted] {
        let (_, admin) = agent(permissions);
        assert_eq!(
            check(&admin, Action::Search, None),
            Ok(()),
            "{permissions:?}"
        );
    }
    assert!(
        !Action::Search.targets_conversation(),
        "scoped by the store query"
    );
    assert!(matches!(
        check(&Principal::Visitor(CustomerId::new()), Action::Search, None),
        Err(Denial::Forbidden(_))
    ));
}

#[test]
fn people_change_their_own_messages_where_they_may_read() {
    let me = CustomerId::new();
    let visitor = Principal::Visitor(me);
    let mine = facts(me, Closed, None);
    let theirs = facts(CustomerId::new(), Active, None);
    assert_eq!(
        check(&visitor, Action::ChangeOwnMessage, Some(&mine)),
        Ok(())
    );
    assert_eq!(
        check(&visitor, Action::ChangeOwnMessage, Some(&theirs)),
        Err(Denial::NotFound)
    );
    assert!(
        Action::ChangeOwnMessage.stores_visitor_content(),
        "refused when blocked"
    );
    let (_, agent) = agent(Permissions::default());
    assert_eq!(
        check(&agent, Action::ChangeOwnMessage, Some(&theirs)),
        Ok(())
    );
}

#[test]
fn deleting_anyones_message_needs_delete_messages() {
    let conv = facts(CustomerId::new(), Active, None);
    let (_, plain) = agent(Permissions::default());
    let (_, moderator) = agent(Permissions {
        delete_messages: true,
        ..Permissions::default()
    });
    assert_eq!(
        check(&moderator, Action::DeleteAnyMessage, Some(&conv)),
        Ok(())
    );
    assert_eq!(
        check(&moderator, Action::DeleteAnyMessage, None),
        Err(Denial::NotFound)
    );
    assert!(matches!(
        check(&plain, Action::DeleteAnyMessage, Some(&conv)),
        Err(Denial::Forbidden(_))
    ));
    let me = CustomerId::new();
    assert!(matches!(
        check(
            &Principal::Visitor(me),
            Action::DeleteAnyMessage,
            Some(&facts(me, Active, None))
        ),
        Err(Denial::Forbidden(_))
    ));
}

#[test]
fn the_audit_log_needs_view_audit_over_every_conversation_and_the_owner_has_it() {
    let (_, plain) = agent(Permissions::default());
    let (_, owner) = agent(Permissions::OWNER);
    assert_eq!(check(&owner, Action::ViewAudit, None), Ok(()));
    let (_, narrow) = agent(Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::OWNER
    });
    for refused in [plain, narrow, Principal::Visitor(CustomerId::new())] {
        assert!(matches!(
            check(&refused, Action::ViewAudit, None),
            Err(Denial::Forbidden(_))
        ));
    }
}

#[test]
fn exporting_and_erasing_a_visitor_needs_manage_visitor_data_over_every_conversation() {
    let (_, owner) = agent(Permissions::OWNER);
    assert_eq!(check(&owner, Action::ManageVisitorData, None), Ok(()));
    let (_, granted) = agent(Permissions {
        manage_visitor_data: true,
        ..Permissions::default()
    });
    assert_eq!(check(&granted, Action::ManageVisitorData, None), Ok(()));
    let (_, plain) = agent(Permissions::default());
    let (_, narrow) = agent(Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::OWNER
    });
    for refused in [plain, narrow, Principal::Visitor(CustomerId::new())] {
        assert!(matches!(
            check(&refused, Action::ManageVisitorData, None),
            Err(Denial::Forbidden(_))
        ));
    }
    assert_eq!(
        check(&Principal::Anonymous, Action::ManageVisitorData, None),
        Err(Denial::Unauthenticated)
    );
}

#[test]
fn an_owner_stored_before_a_permission_existed_has_it() {
    let stored = r#"{"scope":"all","manageConversations":true,"manageAdmins":true}"#;
    let owner: Permissions = serde_json::from_str(stored).unwrap();
    assert_eq!(owner, Permissions::OWNER);
    let stored = r#"{"scope":"all","manageConversations":true,"manageAdmins":false}"#;
    let agent: Permissions = serde_json::from_str(stored).unwrap();
    assert_eq!(agent, Permissions::default(), "nobody else gains one");
}
