//! The shared conformance suite: plain async scenarios over a `DynChatStore` that every
//! backend runs, plus the model-based operation generator ([`model`]).
//!
//! A backend stamps one named test per scenario with [`conformance_tests!`]:
//!
//! ```
//! use std::sync::Arc;
//!
//! /// A fresh, empty store for each test (a new temp dir or database for durable backends).
//! async fn fresh_store() -> Option<Arc<chat_core::DynChatStore>> {
//!     Some(Arc::new(chat_core::MemoryStore::new()))
//! }
//!
//! chat_core::conformance_tests!(fresh_store);
//! # fn main() {}
//! ```
//!
//! The calling crate needs `tokio` (with `macros` and `rt-multi-thread`) as a dependency.
//! Every stamped test lives in a module named `conformance`, so `cargo test` lists each
//! scenario by name.

pub mod accounts;
pub mod assignment;
pub mod broadcast;
pub mod conversations;
pub mod email;
pub mod erasure;
pub mod external;
pub mod fixtures;
pub mod integrations;
pub mod log;
pub mod model;
pub mod ratings;
pub mod read_state;
pub mod revise;
pub mod search;
pub mod snooze;
pub mod workspace;

/// Stamps one `#[tokio::test]` per conformance scenario, in a module named `conformance`.
///
/// `$setup` names an `async fn() -> Option<Arc<DynChatStore>>` in the calling module that
/// returns a fresh, empty store for each test, or `None` when the backend is not reachable
/// here (the test then prints that it was skipped).
#[macro_export]
macro_rules! conformance_tests {
    ($setup:ident) => {
        $crate::__conformance_scenarios!(conformance_tests, @stamp $setup);
    };
    (@stamp $setup:ident; $($group:ident :: $name:ident),* $(,)?) => {
        mod conformance {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match super::$setup().await {
                        Some(store) => $crate::conformance::$group::$name(store).await,
                        None => eprintln!("SKIPPED conformance::{}: the backend is not reachable here", stringify!($name)),
                    }
                }
            )*
        }
    };
}

/// The conformance scenarios as `(name, body)` pairs, for a harness that lists its tests at
/// run time (and reports those whose backend is missing as ignored, such as the
/// workspace's `testkit`): a `Vec<(String, Scenario)>`. `$setup` is as for
/// [`conformance_tests!`]; a body whose setup returns `None` panics, so check the backend
/// first.
#[macro_export]
macro_rules! conformance_scenarios {
    ($setup:path) => {
        $crate::__conformance_scenarios!(conformance_scenarios, @list $setup)
    };
    (@list $setup:path; $($group:ident :: $name:ident),* $(,)?) => {
        vec![$(
            (
                format!("conformance::{}", stringify!($name)),
                Box::new(|| -> $crate::conformance::ScenarioBody {
                    Box::pin(async {
                        let store = $setup().await.expect("the backend is reachable");
                        $crate::conformance::$group::$name(store).await
                    })
                }) as $crate::conformance::Scenario,
            )
        ),*]
    };
}

/// One scenario, ready to run.
pub type Scenario = Box<dyn FnOnce() -> ScenarioBody + Send>;
/// A scenario's body.
pub type ScenarioBody = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Every conformance scenario, handed to `$callback` after `$prefix` (one list for both
/// ways of running them).
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_scenarios {
    ($callback:ident, $($prefix:tt)*) => {
        $crate::$callback! { $($prefix)*;
            log::seq_is_gap_free_under_64_concurrent_senders,
            log::idempotent_retry_returns_the_original,
            log::events_since_returns_exactly_the_missing_events,
            log::feed_resumes_without_gap_or_duplicate,
            log::failed_writes_leave_nothing_behind,
            log::private_notes_are_hidden_from_the_visitor,
            read_state::read_cursor_never_moves_back,
            read_state::unread_counts_follow_the_cursor,
            read_state::unread_counts_after_a_read_part_way,
            conversations::list_filter_pagination_and_total_count,
            conversations::list_pages_are_stable_under_concurrent_inserts,
            conversations::status_transitions_follow_the_workflow,
            conversations::participants_join_once,
            conversations::attachments_link_to_one_message,
            conversations::unattached_uploads_are_swept,
            conversations::delete_cascades_to_everything,
            accounts::admin_email_is_unique_case_insensitively,
            accounts::concurrent_admin_updates_keep_every_field,
            accounts::customer_lookup_by_identifier,
            accounts::sessions_expire_and_revoke,
            accounts::blocked_visitors_are_refused_and_listed,
            external::host_sign_in_provisions_and_follows_the_host,
            external::host_sign_in_refuses_and_never_takes_over,
            external::an_older_answer_never_undoes_a_newer_one,
            external::concurrent_first_sign_ins_make_one_agent,
            external::host_demotion_reaches_live_connections,
            workspace::label_titles_are_unique_ignoring_case,
            workspace::conversation_labels_are_log_events_and_filter_the_list,
            workspace::concurrent_label_changes_all_stick,
            workspace::canned_replies_are_unique_ranked_and_filled,
            ratings::ratings_are_the_visitors_and_the_report_counts_per_agent,
            snooze::snoozed_conversations_wake_on_a_message_or_at_their_time,
            assignment::auto_assignment_gives_each_waiting_conversation_to_one_free_agent,
            integrations::change_feed_has_every_event_once_in_commit_order,
            integrations::change_feed_is_for_owners,
            integrations::deleted_conversations_leave_holes_that_readers_pass,
            integrations::webhook_endpoints_are_claimed_once_and_replayed,
            integrations::the_delivery_log_keeps_the_newest_attempts,
            integrations::a_delivery_pass_passes_a_hole_at_the_head,
            email::offline_email_goes_once_per_quiet_period,
            email::offline_email_respects_reads_presence_and_unsubscribes,
            email::offline_email_notices_are_claimed_once,
            email::deleted_replies_are_never_emailed,
            search::messages_are_found_by_every_word_newest_first,
            search::message_results_page_by_cursor_and_time,
            search::messages_at_one_instant_page_by_id,
            search::search_is_filtered_and_scoped_like_the_list,
            search::conversations_are_found_by_id_visitor_address_and_identifier,
            search::concurrent_sends_are_found_and_deletes_leave_nothing,
            search::overlong_and_excess_words_are_not_found,
            revise::senders_edit_their_messages_within_the_window,
            revise::deletes_erase_the_text_and_keep_it_for_the_audit,
            revise::redaction_erases_the_text_from_the_audit_too,
            revise::visitors_never_see_changes_to_private_notes,
            revise::the_audit_log_records_agent_actions_in_pages,
            revise::a_deleted_messages_files_are_queued_for_removal,
            erasure::erasure_leaves_nothing_of_the_visitor,
            erasure::erasure_and_a_new_conversation_cannot_interleave,
            erasure::a_visitors_deletion_excludes_new_conversations_and_sessions,
            erasure::export_holds_everything_of_the_visitor,
            erasure::retention_erases_each_closed_conversation_once,
        }
    };
}
