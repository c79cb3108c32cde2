//! Two chat nodes on one PostgreSQL database, each with its own `PostgresStore` and
//! `PgBroadcaster`, serving on two ports. An agent connected to node A answers; the visitor
//! connected to node B receives the answer live. Exits when it arrives.
//!
//! Run with: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo run -p postgres-cluster`
//! (it creates and uses the database `chat_example_cluster` on that server).

use std::net::SocketAddr;

use axum::serve::{Listener, ListenerExt};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chat_client::{Incoming, Realtime};
use chat_core::accounts::{Permissions, SessionSubject};
use chat_core::engine::{NewAdmin, NewVisitor, StartConversation};
use chat_core::values::{DisplayName, Email};
use chat_core::{ChatEngine, Principal};
use chat_http::{AppState, ChatConfig, ObjectStoreBlobs};
use chat_store_postgres::{PgBroadcaster, PoolConfig, PostgresStore};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("set DATABASE_URL to a PostgreSQL server to run this example");
        return Ok(());
    };
    let database = fresh_database(&url).await?;
    let (a, address_a) = node(&database).await?;
    let (_b, address_b) = node(&database).await?;
    println!("node A on {address_a}, node B on {address_b}, one database");

    let customer = a
        .create_visitor(&Principal::Anonymous, NewVisitor::default())
        .await?;
    let visitor = Principal::Visitor(customer.id);
    let conversation = a
        .start_conversation(&visitor, StartConversation::default())
        .await?;
    let visitor_token = token(&a, SessionSubject::Visitor(customer.id), "visitor-token").await?;
    let agent = new_agent(&a).await?;
    let agent_token = token(&a, SessionSubject::Admin(agent), "agent-token").await?;

    let mut on_b =
        Realtime::connect_to(&format!("ws://{address_b}/api/ws"), &visitor_token).await?;
    on_b.join(conversation.id.as_uuid(), 0).await?;
    let mut on_a = Realtime::connect_to(&format!("ws://{address_a}/api/ws"), &agent_token).await?;
    let ack = on_a
        .send_message(conversation.id.as_uuid(), "Hello from node A")
        .await?;
    println!("node A acknowledged seq {}", ack.seq);

    let arrived = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(incoming) = on_b.next().await? {
            if let Incoming::Log(event) = incoming
                && let Some(message) = event.message
            {
                return Ok::<_, Error>((event.seq, message.content));
            }
        }
        Err("node B closed the socket".into())
    })
    .await??;
    println!("node B delivered seq {}: {}", arrived.0, arrived.1);
    Ok(())
}

/// A node: its own store, broadcaster and router on an ephemeral port.
async fn node(database: &PgConnectOptions) -> Result<(ChatEngine, SocketAddr), Error> {
    let store = PostgresStore::connect_with(database.clone(), PoolConfig::default()).await?;
    let broadcaster = PgBroadcaster::start(store.pool().clone()).await?;
    let config = ChatConfig::default();
    let engine = ChatEngine::new(Arc::new(store), Arc::new(broadcaster), config.engine);
    let blobs = Arc::new(ObjectStoreBlobs::local(
        std::env::temp_dir().join("chat-example-cluster-blobs"),
    )?);
    let app = chat_http::router(AppState::new(engine.clone(), blobs, config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await?
        .tap_io(|tcp| drop(tcp.set_nodelay(true)));
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    Ok((engine, address))
}

async fn new_agent(engine: &ChatEngine) -> Result<chat_core::ids::AdminId, Error> {
    let new = NewAdmin {
        email: Email::parse("agent@cluster.example")?,
        name: DisplayName::parse("Agent")?,
        password_hash: chat_http::auth::hash_password("not used in this example")?,
        permissions: Permissions::default(),
    };
    Ok(engine.create_admin(&Principal::System, new).await?.id)
}

/// A bearer token for `subject` (a real server issues these at login).
async fn token(engine: &ChatEngine, subject: SessionSubject, token: &str) -> Result<String, Error> {
    let token = format!("{token}-{}", chat_core::ids::ConversationId::new());
    engine
        .open_session(
            subject,
            chat_http::auth::hash_token(&token),
            chrono::Duration::hours(1),
        )
        .await?;
    Ok(token)
}

/// Recreates the example's database on the server of `url`.
async fn fresh_database(url: &str) -> Result<PgConnectOptions, Error> {
    let server = PgConnectOptions::from_str(url)?;
    let mut admin = PgConnection::connect_with(&server).await?;
    let name = "chat_example_cluster";
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    Ok(server.database(name))
}
