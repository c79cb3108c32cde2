//! `chat-server`: the chat engine as a ready HTTP server, on the embedded sled store or
//! PostgreSQL, plus agent management (`chat-server admin …`).
//!
//! Run with: `cargo run --release -p chat-server` (then open
//! <http://127.0.0.1:8080/api/openapi.json>). Every option is also an environment variable.

mod admin;
mod email;
mod jwt;
mod listener;
mod metrics;
mod telemetry;
mod visitor_data;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use chat_core::accounts::Permissions;
use chat_core::engine::NewAdmin;
use chat_core::values::{DisplayName, Email};
use chat_core::{ChatEngine, DynBroadcaster, DynChatStore, LocalBroadcaster, Principal};
use chat_http::{AppState, ChatConfig, IdentityConfig, ObjectStoreBlobs, RateLimits, router};
use chat_store_postgres::{PgBroadcaster, PoolConfig, PostgresStore};
use chat_store_sled::{Durability, SledConfig, SledStore};
use clap::Parser;

/// Options; each has an environment variable of the same meaning.
#[derive(Debug, Parser)]
#[command(name = "chat-server", version, about = "Customer-support chat server")]
struct Options {
    /// Without a command: run the server.
    #[command(subcommand)]
    command: Option<Command>,
    /// Log lines as `text` or `json`.
    #[arg(long, env = "CHAT_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    /// Address to listen on.
    #[arg(long, env = "CHAT_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Directory for the sled store and uploaded files.
    #[arg(long, env = "CHAT_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Unsafe: acknowledge sled writes before they reach the disk and flush every this many
    /// milliseconds (a crash or power cut loses up to that much acknowledged work). Unset:
    /// every acknowledgement follows a flush and an fdatasync.
    #[arg(long, env = "CHAT_SLED_PERIODIC_FLUSH_MS")]
    sled_periodic_flush_ms: Option<u64>,
    /// Unsafe: let PostgreSQL answer commits before their WAL is on disk
    /// (`synchronous_commit = off`; a database crash loses the last fraction of a second of
    /// acknowledged work). Off: every acknowledgement follows the WAL flush.
    #[arg(long, env = "CHAT_POSTGRES_ASYNCHRONOUS_COMMIT")]
    postgres_asynchronous_commit: bool,
    /// A postgres:// URL selects the PostgreSQL store (several nodes may share it).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Fan out between nodes through the NATS server at this URL (`nats://host:4222`,
    /// comma-separated for a cluster) instead of PostgreSQL's LISTEN/NOTIFY. Needs
    /// `DATABASE_URL`: PostgreSQL stays the store of record.
    #[arg(long, env = "CHAT_NATS_URL")]
    nats_url: Option<String>,
    /// Comma-separated origins of the sites allowed to embed the widget.
    #[arg(long, env = "CHAT_ALLOWED_ORIGINS", value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// Secret for visitor identity verification (HMAC-SHA256 of the identifier).
    #[arg(long, env = "CHAT_IDENTITY_SECRET", hide_env_values = true)]
    identity_secret: Option<String>,
    /// Refuse visitors without a verified identity.
    #[arg(long, env = "CHAT_IDENTITY_ENFORCE")]
    identity_enforce: bool,
    /// Accept the host application's HS256 JWTs, signed with this secret (at least 32
    /// bytes), wherever a bearer token is accepted.
    #[arg(long, env = "CHAT_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Accept the host application's RS256 or EdDSA JWTs, verified with this public key (a
    /// PEM file's path, or the PEM itself).
    #[arg(long, env = "CHAT_JWT_PUBLIC_KEY")]
    jwt_public_key: Option<String>,
    /// The `iss` the host's JWTs must carry.
    #[arg(long, env = "CHAT_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// The `aud` the host's JWTs must carry.
    #[arg(long, env = "CHAT_JWT_AUDIENCE")]
    jwt_audience: Option<String>,
    /// Largest upload in bytes.
    #[arg(long, env = "CHAT_MAX_UPLOAD_BYTES", default_value_t = 10 * 1024 * 1024)]
    max_upload_bytes: usize,
    /// Visitor sessions and logins per minute per client address (0: unlimited).
    #[arg(long, env = "CHAT_RATE_SESSIONS", default_value_t = RateLimits::default().sessions_per_ip)]
    rate_sessions: u32,
    /// Conversations started per minute per session (0: unlimited).
    #[arg(long, env = "CHAT_RATE_CONVERSATIONS", default_value_t = RateLimits::default().conversations_per_session)]
    rate_conversations: u32,
    /// Messages per minute per session (0: unlimited).
    #[arg(long, env = "CHAT_RATE_MESSAGES", default_value_t = RateLimits::default().messages_per_session)]
    rate_messages: u32,
    /// Uploads per minute per session (0: unlimited).
    #[arg(long, env = "CHAT_RATE_UPLOADS", default_value_t = RateLimits::default().uploads_per_session)]
    rate_uploads: u32,
    /// Where uploads go: unset for `<data-dir>/blobs`, or `s3://bucket` (needs a build with
    /// `--features s3`; endpoint and credentials from the standard `AWS_*` variables).
    #[arg(long, env = "CHAT_BLOB_STORE")]
    blob_store: Option<String>,
    /// Give new and woken conversations to the online agents (off by default).
    #[arg(long, env = "CHAT_AUTO_ASSIGN", value_enum)]
    auto_assign: Option<AutoAssign>,
    /// Allow webhook endpoints on private and loopback addresses (refused by default).
    #[arg(long, env = "CHAT_WEBHOOK_ALLOW_PRIVATE")]
    webhook_allow_private: bool,
    /// The waits between webhook attempts at one event, in seconds (default 5, 300, 1800,
    /// 7200, 18000, 36000; then the event is marked failed).
    #[arg(long, env = "CHAT_WEBHOOK_RETRY_SCHEDULE", value_delimiter = ',')]
    webhook_retry_schedule: Vec<f64>,
    /// How long one webhook attempt may take, in seconds. A crashed node's endpoints are
    /// taken over by another node three times this long after its last attempt.
    #[arg(long, env = "CHAT_WEBHOOK_TIMEOUT", default_value = "10", value_parser = webhook_timeout)]
    webhook_timeout: std::time::Duration,
    /// Serve Prometheus metrics at `/metrics` on this address (e.g. `127.0.0.1:9100`; off
    /// by default).
    #[arg(long, env = "CHAT_METRICS_BIND")]
    metrics_bind: Option<SocketAddr>,
    /// Email agents' unread replies to visitors who left an address and are away, through
    /// this SMTP relay (`smtp://host:587?tls=required`, `smtps://user:pass@host:465`,
    /// `smtp://127.0.0.1:25`). Off when unset.
    #[arg(long, env = "CHAT_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The `From` of offline emails, e.g. `Support <support@example.com>` (required with
    /// `--smtp-url`).
    #[arg(long, env = "CHAT_EMAIL_FROM")]
    email_from: Option<String>,
    /// How long, in seconds, a reply stays unread with no socket of the visitor open
    /// before it is emailed (at least 1).
    #[arg(long, env = "CHAT_EMAIL_AFTER", default_value = "300", value_parser = email_after)]
    email_after: Duration,
    /// How long, in seconds, a sender may edit or delete its message after sending it (0:
    /// never; agents with `delete_messages` delete at any time).
    #[arg(long, env = "CHAT_EDIT_WINDOW", default_value = "900", value_parser = edit_window)]
    edit_window: chrono::Duration,
    /// Export traces (a span per HTTP request) over OTLP/HTTP to this collector endpoint,
    /// e.g. `http://127.0.0.1:4318/v1/traces` (needs the `otel` feature; off when unset).
    #[arg(long, env = "CHAT_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// Erase closed conversations this many days after they were closed (with their files;
    /// fractions allowed). Off when unset: conversations are kept until deleted.
    #[arg(long, env = "CHAT_RETAIN_CLOSED_DAYS", value_parser = retain_closed_days)]
    retain_closed_days: Option<Duration>,
    /// This server's public base URL, for the links in emails (`https://chat.example.com`;
    /// required with `--smtp-url`).
    #[arg(long, env = "CHAT_PUBLIC_URL")]
    public_url: Option<String>,
}

/// How conversations are assigned automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AutoAssign {
    /// The online agent with the fewest open conversations under its capacity; ties in
    /// turn.
    RoundRobin,
}

/// What to do instead of serving.
#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Manage agents.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Rebuild the search index from the stored messages, then exit (with the server
    /// stopped on sled, whose directory one process opens; any time on PostgreSQL).
    Reindex,
    /// Write a visitor's data to stdout as JSON lines, like `GET /api/visitors/{id}/export`
    /// (with the server stopped on sled; any time on PostgreSQL).
    ExportVisitor {
        /// The visitor's id.
        id: String,
    },
    /// Erase a visitor, its conversations and their files, like `DELETE /api/visitors/{id}`
    /// (with the server stopped on sled; any time on PostgreSQL).
    EraseVisitor {
        /// The visitor's id.
        id: String,
    },
}

/// How log lines look.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    /// For people.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    let telemetry = match telemetry::init(options.log_format, options.otlp_endpoint.as_deref()) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("chat-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = run(options).await;
    // Off the async runtime: the exporter's last batch is sent with a blocking client.
    let flushed = tokio::task::spawn_blocking(move || telemetry.flush()).await;
    if flushed.is_err() {
        eprintln!("chat-server: flushing the trace export failed");
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chat-server: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(mut options: Options) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(Command::Reindex) = options.command {
        return reindex(&options).await;
    }
    let (store, broadcaster) = open_store(&options).await?;
    let blobs = open_blobs(&options)?;
    match options.command.take() {
        Some(Command::Admin { command }) => {
            let engine = ChatEngine::new(store, broadcaster, chat_core::EngineConfig::default());
            return admin::run(&engine, command).await;
        }
        Some(command) => {
            let engine = ChatEngine::new(store, broadcaster, chat_core::EngineConfig::default());
            return visitor_data::run(&engine, &blobs, command).await;
        }
        None => {}
    }
    let webhooks = webhook_config(&options);
    let offline_email = email::config(&options)?;
    let identity_provider = jwt::provider(&options)?;
    let smtp_url = options.smtp_url.clone();
    let config = ChatConfig {
        allowed_origins: options
            .allowed_origins
            .into_iter()
            .filter(|o| !o.is_empty())
            .collect(),
        identity: IdentityConfig {
            secret: options.identity_secret.map(String::into_bytes),
            enforce: options.identity_enforce,
        },
        max_upload_bytes: options.max_upload_bytes,
        rate_limits: RateLimits {
            sessions_per_ip: options.rate_sessions,
            conversations_per_session: options.rate_conversations,
            messages_per_session: options.rate_messages,
            uploads_per_session: options.rate_uploads,
        },
        webhooks,
        offline_email,
        identity_provider,
        engine: chat_core::EngineConfig {
            edit_window: options.edit_window,
            ..chat_core::EngineConfig::default()
        },
        ..ChatConfig::default()
    };
    let engine = ChatEngine::new(store, broadcaster, config.engine);
    ensure_admin(&engine).await?;
    let state = AppState::new(engine, Arc::new(blobs), config);
    let sweeper =
        chat_http::spawn_upload_sweeper(state.clone(), std::time::Duration::from_secs(600));
    let waker = chat_http::spawn_snooze_waker(state.clone(), std::time::Duration::from_secs(5));
    let assigner = (options.auto_assign == Some(AutoAssign::RoundRobin))
        .then(|| chat_http::spawn_auto_assigner(state.clone(), std::time::Duration::from_secs(5)));
    let webhooks = chat_http::webhooks::spawn_webhook_worker(state.clone(), WEBHOOK_POLL);
    let emailer = email::spawn(smtp_url.as_deref(), &state)?;
    let retention = options
        .retain_closed_days
        .map(|retain| chat_http::spawn_retention(state.clone(), retain, retention_pass(retain)));
    if let Some(bind) = options.metrics_bind {
        let address = metrics::serve(bind).await?;
        tracing::info!("metrics on http://{address}/metrics");
    }
    let app = router(state).merge(chat_http::demo_page());
    let listener = listener::bind(options.bind).await?;
    tracing::info!("listening on {}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    sweeper.abort();
    waker.abort();
    webhooks.abort();
    if let Some(emailer) = emailer {
        emailer.abort();
    }
    if let Some(assigner) = assigner {
        assigner.abort();
    }
    if let Some(retention) = retention {
        retention.abort();
    }
    tracing::info!("stopped; the store is flushed as it closes");
    Ok(())
}

/// How often the webhook worker looks for due retries when nothing was written.
const WEBHOOK_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// Webhook delivery from the options.
fn webhook_config(options: &Options) -> chat_http::webhooks::WebhookConfig {
    let mut config = chat_http::webhooks::WebhookConfig {
        allow_private: options.webhook_allow_private,
        ..chat_http::webhooks::WebhookConfig::with_timeout(options.webhook_timeout)
    };
    let schedule: Vec<std::time::Duration> = options
        .webhook_retry_schedule
        .iter()
        .filter_map(|seconds| std::time::Duration::try_from_secs_f64(*seconds).ok())
        .filter(|wait| *wait <= chat_core::webhooks::MAX_RETRY_AFTER)
        .collect();
    if !schedule.is_empty() {
        config.delivery.schedule = chat_core::webhooks::RetrySchedule(schedule);
    }
    config
}

/// `--webhook-timeout`: seconds, from one to five minutes (a claim lasts three of them and
/// must outlast one attempt and its write back).
fn webhook_timeout(raw: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = raw
        .parse()
        .map_err(|_| format!("{raw:?} is not a number"))?;
    if !(1.0..=300.0).contains(&seconds) {
        return Err("must be from 1 to 300 seconds".into());
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// `--edit-window`: whole seconds, up to 30 days.
fn edit_window(raw: &str) -> Result<chrono::Duration, String> {
    let seconds: i64 = raw
        .parse()
        .map_err(|_| format!("{raw:?} is not a whole number of seconds"))?;
    if !(0..=30 * 24 * 3600).contains(&seconds) {
        return Err("must be from 0 to 30 days".into());
    }
    Ok(chrono::Duration::seconds(seconds))
}

/// `--retain-closed-days`: more than nothing, at most 100 years.
fn retain_closed_days(raw: &str) -> Result<Duration, String> {
    let days: f64 = raw
        .parse()
        .map_err(|_| format!("{raw:?} is not a number of days"))?;
    if !(days > 0.0 && days <= 36_500.0) {
        return Err("must be more than 0 and at most 36500 days".into());
    }
    Ok(Duration::from_secs_f64(days * 24.0 * 3600.0))
}

/// How often the retention pass runs: a quarter of the period, from a second to an hour.
fn retention_pass(retain: Duration) -> Duration {
    (retain / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600))
}

/// `--email-after`: seconds, at least one.
fn email_after(raw: &str) -> Result<Duration, String> {
    let seconds: f64 = raw
        .parse()
        .map_err(|_| format!("{raw:?} is not a number"))?;
    if !(1.0..=7.0 * 24.0 * 3600.0).contains(&seconds) {
        return Err("must be from 1 second to 7 days".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Sled in the data directory with in-process fan-out, or, for a `postgres://` URL,
/// PostgreSQL with fan-out across every node on that database (through NATS with
/// `--nats-url`, else LISTEN/NOTIFY).
async fn open_store(
    options: &Options,
) -> Result<(Arc<DynChatStore>, Arc<DynBroadcaster>), Box<dyn std::error::Error>> {
    match (open_backend(options).await?, nats_url(options)) {
        (Backend::Sled(_), Some(_)) => Err(
            "--nats-url needs DATABASE_URL: nodes fanning out through NATS share one PostgreSQL store"
                .into(),
        ),
        (Backend::Sled(store), None) => Ok((Arc::new(store), Arc::new(LocalBroadcaster::new()))),
        (Backend::Postgres(store), Some(url)) => {
            let store: Arc<DynChatStore> = Arc::new(store);
            let broadcaster = nats_broadcaster(url, store.clone()).await?;
            Ok((store, broadcaster))
        }
        (Backend::Postgres(store), None) => {
            let broadcaster = PgBroadcaster::start(store.pool().clone()).await?;
            Ok((Arc::new(store), Arc::new(broadcaster)))
        }
    }
}

/// `--nats-url`, when set and not empty.
fn nats_url(options: &Options) -> Option<&str> {
    options.nats_url.as_deref().filter(|url| !url.is_empty())
}

#[cfg(feature = "nats")]
async fn nats_broadcaster(
    url: &str,
    store: Arc<DynChatStore>,
) -> Result<Arc<DynBroadcaster>, Box<dyn std::error::Error>> {
    let broadcaster = chat_http::NatsBroadcaster::connect(url, store)
        .await
        .map_err(|error| format!("could not connect to NATS at {url}: {error}"))?;
    tracing::info!("fanning out between nodes through NATS");
    Ok(Arc::new(broadcaster))
}

#[cfg(not(feature = "nats"))]
async fn nats_broadcaster(
    _url: &str,
    _store: Arc<DynChatStore>,
) -> Result<Arc<DynBroadcaster>, Box<dyn std::error::Error>> {
    Err("--nats-url needs a build with `--features nats`".into())
}

/// The store the options name, as its own type.
enum Backend {
    /// The embedded store in the data directory.
    Sled(SledStore),
    /// PostgreSQL at `DATABASE_URL`.
    Postgres(PostgresStore),
}

/// Opens the store: PostgreSQL when `DATABASE_URL` is set, else sled in the data directory.
async fn open_backend(options: &Options) -> Result<Backend, Box<dyn std::error::Error>> {
    let database_url = options
        .database_url
        .as_deref()
        .filter(|url| !url.is_empty());
    if database_url.is_some() && options.sled_periodic_flush_ms.is_some() {
        tracing::warn!("--sled-periodic-flush-ms is ignored: the store is PostgreSQL");
    }
    if database_url.is_none() && options.postgres_asynchronous_commit {
        tracing::warn!("--postgres-asynchronous-commit is ignored: the store is sled");
    }
    match database_url {
        None => {
            let mut config = SledConfig::new(options.data_dir.join("store"));
            if let Some(every) = options.sled_periodic_flush_ms {
                config.durability = Durability::Periodic(Duration::from_millis(every));
                tracing::warn!(
                    every_ms = every,
                    "sled acknowledges writes before they are on disk"
                );
            }
            let store = SledStore::open_with(config)?;
            tracing::info!(path = %options.data_dir.display(), "using the embedded sled store");
            Ok(Backend::Sled(store))
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let config = PoolConfig {
                asynchronous_commit: options.postgres_asynchronous_commit,
                // NATS carries events between nodes: no NOTIFY in every commit.
                announce_events: nats_url(options).is_none(),
                ..PoolConfig::default()
            };
            if config.asynchronous_commit {
                tracing::warn!("PostgreSQL acknowledges commits before they are on disk");
            }
            let store = PostgresStore::connect_url(url, config).await?;
            tracing::info!("using PostgreSQL");
            Ok(Backend::Postgres(store))
        }
        Some(_) => Err(
            "DATABASE_URL must be a postgres:// URL (unset it to use the embedded store)".into(),
        ),
    }
}

/// Rebuilds the search index of the store the options name (`chat-server reindex`).
async fn reindex(options: &Options) -> Result<(), Box<dyn std::error::Error>> {
    match open_backend(options).await? {
        Backend::Sled(store) => {
            let entries = store.rebuild_search_index().await?;
            println!("rebuilt the search index: {entries} entries");
        }
        Backend::Postgres(store) => {
            let messages = store.rebuild_search_index().await?;
            println!("recomputed the search words of {messages} messages");
        }
    }
    Ok(())
}

/// The local blob directory, or S3-compatible storage for `s3://bucket`.
fn open_blobs(options: &Options) -> Result<ObjectStoreBlobs, Box<dyn std::error::Error>> {
    match options
        .blob_store
        .as_deref()
        .filter(|store| !store.is_empty())
    {
        None => Ok(ObjectStoreBlobs::local(options.data_dir.join("blobs"))?),
        #[cfg(feature = "s3")]
        Some(store) if store.starts_with("s3://") => {
            Ok(ObjectStoreBlobs::s3_from_env(&store["s3://".len()..])?)
        }
        #[cfg(not(feature = "s3"))]
        Some(store) if store.starts_with("s3://") => {
            Err(format!("{store}: this build has no S3 support; rebuild with --features s3").into())
        }
        Some(store) => Err(format!(
            "{store}: CHAT_BLOB_STORE must be s3://bucket (or unset for the data directory)"
        )
        .into()),
    }
}

/// Creates the first agent if there is none: from `CHAT_ADMIN_EMAIL` / `CHAT_ADMIN_PASSWORD`,
/// or with a generated password printed once.
async fn ensure_admin(engine: &ChatEngine) -> Result<(), Box<dyn std::error::Error>> {
    if !engine.list_admins(&Principal::System).await?.is_empty() {
        return Ok(());
    }
    let email = std::env::var("CHAT_ADMIN_EMAIL").unwrap_or_else(|_| "admin@localhost".into());
    let (password, generated) = match std::env::var("CHAT_ADMIN_PASSWORD") {
        Ok(password) => (password, false),
        Err(_) => (chat_http::auth::new_token().0[..20].to_owned(), true),
    };
    let new = NewAdmin {
        email: Email::parse(&email)?,
        name: DisplayName::parse("Admin")?,
        password_hash: chat_http::auth::hash_password(&password).map_err(|e| e.to_string())?,
        permissions: Permissions::OWNER,
    };
    engine.create_admin(&Principal::System, new).await?;
    if generated {
        println!(
            "created the first admin: {email} / {password} (shown once; set CHAT_ADMIN_PASSWORD to choose)"
        );
    } else {
        tracing::info!(%email, "created the first admin");
    }
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => tracing::error!(%error, "cannot listen for SIGTERM"),
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
