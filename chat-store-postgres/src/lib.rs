//! chat-store-postgres: the production backend (PostgresStore, PgBroadcaster). Not written yet: issue "chat-store-postgres".
