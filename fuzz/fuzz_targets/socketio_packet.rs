//! Socket.IO event packets: each line of the input is one packet as a client sends it
//! (`42["message:send",{...}]`), decoded by socketioxide's parser as the server does, then
//! handled by a live connection of the visitor (first byte even) or the agent. Every
//! event with a handler gets a well-formed acknowledgement, errors are client errors,
//! nothing panics.

#![no_main]

use chat_fuzz::{assert_client_reply, for_each_line};
use chat_http::realtime::socketio::EVENTS;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use socketioxide_core::Str;
use socketioxide_core::packet::PacketData;
use socketioxide_core::parser::{Parse, ParseConfig, ParserState};
use socketioxide_parser_common::CommonParser;

fuzz_target!(|data: &[u8]| {
    let (parser, config, state) = (CommonParser, ParseConfig::default(), ParserState::default());
    for_each_line(data, async |connection, line| {
        let Ok(packet) = parser.decode_str(&config, &state, Str::from(line.to_owned())) else {
            return;
        };
        let PacketData::Event(mut value, ack) = packet.inner else {
            return;
        };
        let Some(event) = parser
            .read_event(&value)
            .ok()
            .and_then(|name| EVENTS.iter().find(|known| **known == name))
        else {
            return;
        };
        // What `Data<Value>` hands the handler.
        let Ok(payload) = parser.decode_value::<Value>(&mut value, true) else {
            return;
        };
        let handled = connection.handle(event, payload, ack.is_some()).await;
        assert_client_reply(&handled.reply);
        connection.acknowledged(handled, true);
    });
});
