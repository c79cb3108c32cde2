//! `chat-server admin …`: agent management from the command line, on the configured store
//! (stop a sled-backed server first: its directory admits one process at a time).

use chat_core::accounts::Permissions;
use chat_core::engine::NewAdmin;
use chat_core::values::{DisplayName, Email};
use chat_core::{ChatEngine, Principal};
use clap::Subcommand;

/// Agent management.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Lists the agents.
    List,
    /// Creates an agent.
    Create {
        /// Login email.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long, default_value = "Agent")]
        name: String,
        /// Password (at least 10 characters).
        #[arg(long, env = "CHAT_NEW_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// Give every permission (manage agents too).
        #[arg(long)]
        owner: bool,
    },
    /// Sets a new password and ends the agent's sessions.
    ResetPassword {
        /// Login email.
        #[arg(long)]
        email: String,
        /// New password (at least 10 characters).
        #[arg(long, env = "CHAT_NEW_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Disables an agent and ends its sessions.
    Disable {
        /// Login email.
        #[arg(long)]
        email: String,
    },
}

/// Shortest password accepted.
const MIN_PASSWORD: usize = 10;

/// Runs one agent command as the system.
pub async fn run(
    engine: &ChatEngine,
    command: AdminCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    let system = Principal::System;
    match command {
        AdminCommand::List => {
            for admin in engine.list_admins(&system).await? {
                let state = if admin.disabled {
                    "disabled"
                } else {
                    "enabled"
                };
                println!("{}\t{}\t{}\t{state}", admin.id, admin.email, admin.name);
            }
        }
        AdminCommand::Create {
            email,
            name,
            password,
            owner,
        } => {
            let permissions = if owner {
                Permissions::OWNER
            } else {
                Permissions::default()
            };
            let new = NewAdmin {
                email: Email::parse(&email)?,
                name: DisplayName::parse(&name)?,
                password_hash: hash(&password)?,
                permissions,
            };
            let admin = engine.create_admin(&system, new).await?;
            println!("created {} ({})", admin.email, admin.id);
        }
        AdminCommand::ResetPassword { email, password } => {
            let id = find(engine, &email).await?;
            engine
                .set_admin_password(&system, id, hash(&password)?)
                .await?;
            println!("password reset for {email}; its sessions ended");
        }
        AdminCommand::Disable { email } => {
            let id = find(engine, &email).await?;
            engine.set_admin_disabled(&system, id, true).await?;
            println!(
                "disabled {}; its sessions ended",
                email.trim().to_lowercase()
            );
        }
    }
    Ok(())
}

async fn find(
    engine: &ChatEngine,
    email: &str,
) -> Result<chat_core::ids::AdminId, Box<dyn std::error::Error>> {
    let email = Email::parse(email)?;
    let admin = engine.find_admin(&Principal::System, &email).await?;
    Ok(admin
        .ok_or_else(|| format!("no agent has the email {email}"))?
        .id)
}

fn hash(password: &str) -> Result<String, Box<dyn std::error::Error>> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!("the password must be at least {MIN_PASSWORD} characters").into());
    }
    Ok(chat_http::auth::hash_password(password).map_err(|error| error.to_string())?)
}
