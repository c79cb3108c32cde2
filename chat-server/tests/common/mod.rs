//! Test harness for the `chat-server` binary: the process helpers here, and the WebSocket
//! client and scratch database shared with chat-http's tests.
#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

#[path = "../../../chat-http/tests/common/nats_server.rs"]
pub mod nats_server;
pub mod process;
#[path = "../../../chat-http/tests/common/receiver.rs"]
pub mod receiver;
#[path = "../../../chat-http/tests/common/scratch.rs"]
pub mod scratch;
pub mod syscalls;
#[path = "../../../chat-http/tests/common/ws_client.rs"]
pub mod ws_client;
