//! The crate's public error (connecting) and the one mapping of sqlx errors into
//! chat-core's kinds.

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The database did not answer or refused the connection.
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
    /// The schema migrations failed.
    #[error("cannot migrate the PostgreSQL schema: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// Filling what a migration left to the server (the search words of older messages)
    /// failed.
    #[error("cannot upgrade the stored data: {0}")]
    Upgrade(#[source] chat_core::Error),
}

/// Maps a sqlx failure during operation: unique violations are `AlreadyExists`, foreign-key
/// violations (a missing conversation) `NotFound`, a server out of reach `Unavailable`, a
/// full disk `StorageFull`, anything else `Backend`.
pub(crate) fn map(error: sqlx::Error) -> chat_core::Error {
    if is_unreachable(&error) {
        return chat_core::Error::unavailable(error);
    }
    let code = error
        .as_database_error()
        .and_then(|db| db.code().map(|code| code.into_owned()));
    match code.as_deref() {
        // disk_full: nothing of the transaction was stored.
        Some("53100") => chat_core::Error::storage_full(error),
        Some("23505") => chat_core::Error::AlreadyExists(constraint_subject(&error)),
        Some("23503") => chat_core::Error::NotFound("conversation"),
        _ => chat_core::Error::backend(error),
    }
}

/// Whether the server is out of reach rather than refusing this request: no connection in
/// time, a broken connection, or the server shutting down or starting.
pub(crate) fn is_unreachable(error: &sqlx::Error) -> bool {
    if matches!(
        error,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
    ) {
        return true;
    }
    let code = error
        .as_database_error()
        .and_then(|db| db.code().map(|code| code.into_owned()));
    // Class 08: connection exceptions; 57P01–57P03: shutdown, crash, not accepting yet.
    code.is_some_and(|code| {
        code.starts_with("08") || matches!(code.as_str(), "57P01" | "57P02" | "57P03")
    })
}

/// Whether a failure is worth retrying the whole transaction for.
pub(crate) fn is_transient(error: &sqlx::Error) -> bool {
    let code = error
        .as_database_error()
        .and_then(|db| db.code().map(|code| code.into_owned()));
    matches!(code.as_deref(), Some("40001" | "40P01"))
}

fn constraint_subject(error: &sqlx::Error) -> &'static str {
    let constraint = error
        .as_database_error()
        .and_then(|db| db.constraint())
        .unwrap_or_default();
    match constraint {
        c if c.contains("email") => "admin email",
        c if c.contains("external_id") => "admin external id",
        c if c.contains("identifier") => "customer identifier",
        c if c.starts_with("sessions") => "session",
        c if c.starts_with("admins") => "admin",
        c if c.starts_with("customers") => "customer",
        c if c.starts_with("conversations") => "conversation",
        c if c.starts_with("labels") => "label",
        c if c.starts_with("canned_replies") => "canned reply",
        _ => "row",
    }
}
