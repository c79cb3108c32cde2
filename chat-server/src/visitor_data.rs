//! `chat-server export-visitor` and `chat-server erase-visitor`: a visitor's data on
//! request from the command line, by the system (audited as such), through the same code
//! as the routes.

use std::io::Write;

use chat_core::ids::CustomerId;
use chat_core::{ChatEngine, Principal};
use chat_http::visitor_data;
use futures_util::StreamExt;

use crate::Command;

/// Runs a visitor-data command.
pub async fn run(
    engine: &ChatEngine,
    blobs: &chat_http::ObjectStoreBlobs,
    command: Command,
) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::ExportVisitor { id } => export(engine, parse(&id)?).await,
        Command::EraseVisitor { id } => {
            let id = parse(&id)?;
            let erased = visitor_data::erase_visitor(engine, blobs, &Principal::System, id).await?;
            println!(
                "erased visitor {id}: {} conversations, {} files",
                erased.conversations, erased.files
            );
            Ok(())
        }
        Command::Admin { .. } | Command::Reindex => Err("not a visitor-data command".into()),
    }
}

/// Writes the export to stdout, line by line.
async fn export(engine: &ChatEngine, id: CustomerId) -> Result<(), Box<dyn std::error::Error>> {
    let lines = visitor_data::export_lines(engine.clone(), Principal::System, id).await?;
    let mut lines = std::pin::pin!(lines);
    let mut stdout = std::io::stdout().lock();
    while let Some(chunk) = lines.next().await {
        stdout.write_all(&chunk?)?;
    }
    stdout.flush()?;
    Ok(())
}

fn parse(id: &str) -> Result<CustomerId, Box<dyn std::error::Error>> {
    Ok(id
        .parse()
        .map_err(|_| format!("{id:?} is not a visitor id"))?)
}
