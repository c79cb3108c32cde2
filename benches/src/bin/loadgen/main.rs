//! `loadgen`: the load generator for side-by-side runs against chat-server and the Node
//! baseline. It speaks Socket.IO (engine.io v4 over WebSocket) and the plain WebSocket
//! protocol, one tokio task per connection on a multi-threaded runtime, and prints a
//! human summary on stderr and one `RESULT {json}` line on stdout.

mod conn;
mod fanout;
mod idle;
mod report;
mod rest;
mod resume;
mod steady;
mod storm;
mod wire;

use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::json;

use wire::Wire;

/// Drives a chat server with real clients and measures it.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// The server, e.g. http://127.0.0.1:8080; several nodes of one deployment
    /// comma-separated, over which connections are spread (a conversation's visitor and its
    /// agents on different nodes where there are several).
    #[arg(
        long,
        env = "LOADGEN_URL",
        default_value = "http://127.0.0.1:8080",
        value_delimiter = ','
    )]
    url: Vec<String>,
    /// The real-time protocol.
    #[arg(long, value_enum, default_value = "socketio")]
    wire: Wire,
    /// The server's process id, for its CPU time and resident memory (comma-separated for
    /// several nodes: their sum).
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// An agent account.
    #[arg(long, env = "LOADGEN_ADMIN_EMAIL", default_value = "admin@example.com")]
    admin_email: String,
    /// Its password.
    #[arg(long, env = "LOADGEN_ADMIN_PASSWORD", default_value = "admin-password")]
    admin_password: String,
    /// Count the NOTIFYs of the deployment on this PostgreSQL database (LISTEN/NOTIFY
    /// fan-out).
    #[arg(long)]
    count_notify: Option<String>,
    /// Count the messages of the deployment's NATS server through its monitoring endpoint
    /// (`http://127.0.0.1:8222`).
    #[arg(long)]
    nats_monitor: Option<String>,
    /// A name for the target in the result.
    #[arg(long, default_value = "")]
    label: String,
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Subcommand)]
enum Workload {
    /// K conversations at a fixed rate, in the `stress` or `team` shape.
    Steady {
        #[arg(long, default_value_t = 490)]
        conversations: usize,
        #[command(flatten)]
        shape: ShapeArgs,
        /// Messages per second, in total.
        #[arg(long, default_value_t = 500.0)]
        rate: f64,
        /// Seconds.
        #[arg(long, default_value_t = 20)]
        duration: u64,
    },
    /// Raise the rate step by step until p99 delivery passes the limit or anything is lost.
    Saturation {
        #[arg(long, default_value_t = 100)]
        conversations: usize,
        #[command(flatten)]
        shape: ShapeArgs,
        #[arg(long, default_value_t = 500.0)]
        start_rate: f64,
        #[arg(long, default_value_t = 1.5)]
        factor: f64,
        /// Seconds per step.
        #[arg(long, default_value_t = 5)]
        step: u64,
        #[arg(long, default_value_t = 50.0)]
        p99_limit_ms: f64,
    },
    /// N idle connections with heartbeats; resident memory per connection.
    Idle {
        #[arg(long, default_value_t = 5000)]
        connections: usize,
        /// Seconds to hold them open before measuring.
        #[arg(long, default_value_t = 10)]
        hold: u64,
    },
    /// Steady chat whose clients reconnect, rejoin with `since` and retry sends with the same
    /// client message id; kill and restart the server meanwhile. Checks the store at the end.
    Resume {
        #[arg(long, default_value_t = 50)]
        conversations: usize,
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        /// Seconds.
        #[arg(long, default_value_t = 20)]
        duration: u64,
    },
    /// Sessions, conversations, connects and joins as fast as possible.
    Storm {
        #[arg(long, default_value_t = 1000)]
        visitors: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
    },
}

/// Who works the conversations (see [`steady::Shape`]).
#[derive(clap::Args)]
struct ShapeArgs {
    /// `stress`: an agent connection per conversation; `team`: `--agents` dashboards.
    #[arg(long, value_enum, default_value = "stress")]
    shape: ShapeKind,
    /// Dashboard connections in the team shape.
    #[arg(long, default_value_t = 20)]
    agents: usize,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ShapeKind {
    Stress,
    Team,
}

impl ShapeArgs {
    fn shape(&self) -> steady::Shape {
        match self.shape {
            ShapeKind::Stress => steady::Shape::Stress,
            ShapeKind::Team => steady::Shape::Team {
                agents: self.agents.max(1),
            },
        }
    }
}

/// The server under test: one node, or several sharing one store.
pub(crate) struct Target {
    pub(crate) urls: Vec<String>,
    pub(crate) wire: Wire,
    pub(crate) pids: Vec<u32>,
    /// Where its cross-node messages are counted.
    pub(crate) fanout: fanout::Fanout,
    pub(crate) admin_email: String,
    pub(crate) admin_password: String,
}

impl Target {
    /// The node for the `n`th connection of a kind (round robin).
    pub(crate) fn url(&self, n: usize) -> &str {
        &self.urls[n % self.urls.len()]
    }

    /// How many nodes.
    pub(crate) fn nodes(&self) -> usize {
        self.urls.len()
    }
}

/// `steady` and `saturation` keep their names in the stress shape; the team shape's runs
/// are `team-steady` and `team-saturation`.
fn workload_name(base: &str, shape: &ShapeArgs) -> String {
    match shape.shape {
        ShapeKind::Stress => base.to_owned(),
        ShapeKind::Team => format!("team-{base}"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    anyhow::ensure!(!cli.url.is_empty(), "--url names at least one server");
    let target = Target {
        urls: cli
            .url
            .iter()
            .map(|url| url.trim_end_matches('/').to_owned())
            .collect(),
        wire: cli.wire,
        pids: cli.server_pid,
        fanout: fanout::Fanout::start(cli.count_notify.as_deref(), cli.nats_monitor.as_deref())
            .await?,
        admin_email: cli.admin_email,
        admin_password: cli.admin_password,
    };
    let (name, result) = match cli.workload {
        Workload::Steady {
            conversations,
            shape,
            rate,
            duration,
        } => (
            workload_name("steady", &shape),
            steady::steady(
                &target,
                conversations,
                shape.shape(),
                rate,
                Duration::from_secs(duration),
            )
            .await?,
        ),
        Workload::Saturation {
            conversations,
            shape,
            start_rate,
            factor,
            step,
            p99_limit_ms,
        } => (
            workload_name("saturation", &shape),
            steady::saturation(
                &target,
                conversations,
                shape.shape(),
                start_rate,
                factor,
                Duration::from_secs(step),
                p99_limit_ms,
            )
            .await?,
        ),
        Workload::Resume {
            conversations,
            rate,
            duration,
        } => (
            "resume".into(),
            resume::resume(&target, conversations, rate, Duration::from_secs(duration)).await?,
        ),
        Workload::Idle { connections, hold } => (
            "idle".into(),
            idle::idle(&target, connections, Duration::from_secs(hold)).await?,
        ),
        Workload::Storm {
            visitors,
            concurrency,
        } => (
            "storm".into(),
            storm::storm(&target, visitors, concurrency).await?,
        ),
    };
    let wire = match target.wire {
        Wire::Socketio => "socketio",
        Wire::Ws => "ws",
    };
    let nodes = target.nodes();
    let line = json!({"workload": name, "label": cli.label, "wire": wire, "nodes": nodes, "result": result});
    println!("RESULT {line}");
    Ok(())
}
