//! A fresh database per test on the PostgreSQL server `testkit` finds.
#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use chat_store_postgres::{PoolConfig, PostgresStore};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

static NEXT: AtomicU32 = AtomicU32::new(0);
const PREFIX: &str = "chat_test_";

/// Connect options for a new, empty database on the server `testkit` found (`DATABASE_URL`,
/// or a default install), or `None` when there is none (the harness reports such tests as
/// ignored before they run).
pub async fn fresh_database() -> Option<PgConnectOptions> {
    let url = testkit::postgres().ok()?;
    let server = PgConnectOptions::from_str(&url).expect("a postgres:// URL");
    let mut admin = PgConnection::connect_with(&server)
        .await
        .expect("connect to PostgreSQL");
    drop_abandoned(&mut admin).await;
    // The role is cluster-wide: created once here, the migration finds it. Tests migrating
    // fresh databases at once would otherwise race on creating it, and the loser gets a
    // unique violation the migration does not expect. An error here means it exists.
    let _ = sqlx::query("CREATE ROLE chat_request NOLOGIN")
        .execute(&mut admin)
        .await;
    let name = format!(
        "{PREFIX}{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    Some(server.database(&name))
}

/// A store on a fresh database.
pub async fn fresh_store() -> Option<PostgresStore> {
    let options = fresh_database().await?;
    Some(
        PostgresStore::connect_with(options, PoolConfig::default())
            .await
            .expect("connect store"),
    )
}

/// Drops test databases left by processes that no longer run.
async fn drop_abandoned(admin: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'chat\\_test\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name
            .trim_start_matches(PREFIX)
            .split('_')
            .next()
            .and_then(|pid| pid.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = sqlx::query(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut *admin)
            .await;
        }
    }
}

/// A small pool for tests that need one directly.
pub async fn pool(options: PgConnectOptions) -> sqlx::PgPool {
    PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .expect("pool")
}
