//! The plain WebSocket's text frames (`/api/ws`): each line of the input is one frame,
//! decoded and handled by a live connection of the visitor (first byte even) or the agent.
//! Every frame gets a well-formed answer, every error is a client error, nothing panics.

#![no_main]

use chat_fuzz::{assert_client_error, assert_client_reply, for_each_line};
use chat_http::realtime::ws_frame::{self, ClientFrame};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    for_each_line(data, async |connection, line| {
        let frame = match ClientFrame::decode(line) {
            Ok(frame) => frame,
            Err(error) => {
                let frame = parse(&ws_frame::error(&error));
                assert_eq!(frame["type"], "error");
                assert_client_error(&frame["error"]);
                return;
            }
        };
        let handled = connection
            .handle(&frame.event, frame.payload, frame.id.is_some())
            .await;
        assert_client_reply(&handled.reply);
        if let Some(id) = frame.id {
            let ack = parse(&ws_frame::ack(id.clone(), handled.reply.clone()));
            assert_eq!(ack["type"], "ack");
            assert_eq!(ack["id"], id);
        }
        connection.acknowledged(handled, true);
    });
});

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("the server writes JSON")
}
