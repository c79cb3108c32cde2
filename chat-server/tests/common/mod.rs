//! Test harness for the `chat-server` binary: the process helpers here, and the WebSocket
//! client and scratch database shared with chat-http's tests.
#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

pub mod process;
#[path = "../../../chat-http/tests/common/receiver.rs"]
pub mod receiver;
#[path = "../../../chat-http/tests/common/scratch.rs"]
pub mod scratch;
pub mod syscalls;
#[path = "../../../chat-http/tests/common/ws_client.rs"]
pub mod ws_client;
