//! The two real-time framings the load generator speaks, as pure encode/decode functions:
//! Socket.IO (engine.io v4 packets over a WebSocket) and the plain WebSocket's JSON frames
//! (chat-wire's codec, the one the server uses).

use chat_wire::ws;
use serde_json::{Value, json};

/// Which protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Wire {
    /// Socket.IO over WebSocket at `/socket.io/`.
    Socketio,
    /// JSON frames at `/api/ws`.
    Ws,
}

/// What a received text frame means.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    /// An answer to the request with this id.
    Ack(u64, Value),
    /// A server event.
    Event(String, Value),
    /// A heartbeat to answer with this frame.
    Ping(&'static str),
    /// The handshake or namespace connect succeeded.
    Connected,
    /// The server refused or closed the session.
    Refused(String),
    /// Nothing to act on.
    Other,
}

impl Wire {
    /// The WebSocket URL for an `http://host:port` base.
    pub fn url(self, base: &str) -> String {
        let ws = base.replacen("http", "ws", 1);
        match self {
            Wire::Socketio => format!("{ws}/socket.io/?EIO=4&transport=websocket"),
            Wire::Ws => format!("{ws}/api/ws"),
        }
    }

    /// The frame that authenticates (Socket.IO: the namespace connect with `auth`).
    pub fn auth(self, token: &str) -> String {
        match self {
            Wire::Socketio => format!("40{}", json!({ "token": token })),
            Wire::Ws => ws::encode("auth", Some(json!(0)), json!({ "token": token })),
        }
    }

    /// A request that expects an ack.
    pub fn request(self, id: u64, event: &str, payload: &Value) -> String {
        match self {
            Wire::Socketio => format!("42{id}{}", json!([event, payload])),
            Wire::Ws => ws::encode(event, Some(json!(id)), payload.clone()),
        }
    }

    /// Decodes a text frame.
    pub fn decode(self, text: &str) -> Incoming {
        match self {
            Wire::Socketio => decode_socketio(text),
            Wire::Ws => decode_ws(text),
        }
    }
}

fn decode_socketio(text: &str) -> Incoming {
    match text.as_bytes().first() {
        Some(b'2') => return Incoming::Ping("3"),
        Some(b'4') => {}
        _ => return Incoming::Other,
    }
    let packet = &text[1..];
    match packet.as_bytes().first() {
        Some(b'0') => Incoming::Connected,
        Some(b'1') => Incoming::Refused("disconnected".into()),
        Some(b'4') => Incoming::Refused(packet[1..].to_owned()),
        Some(b'2') => {
            let Ok(Value::Array(mut parts)) = serde_json::from_str(&packet[1..]) else {
                return Incoming::Other;
            };
            if parts.is_empty() {
                return Incoming::Other;
            }
            let payload = if parts.len() > 1 {
                parts.swap_remove(1)
            } else {
                Value::Null
            };
            match parts.swap_remove(0) {
                Value::String(name) => Incoming::Event(name, payload),
                _ => Incoming::Other,
            }
        }
        Some(b'3') => {
            let body = &packet[1..];
            let digits = body.bytes().take_while(u8::is_ascii_digit).count();
            let (Ok(id), Ok(Value::Array(mut parts))) = (
                body[..digits].parse(),
                serde_json::from_str(&body[digits..]),
            ) else {
                return Incoming::Other;
            };
            let answer = if parts.is_empty() {
                Value::Null
            } else {
                parts.swap_remove(0)
            };
            Incoming::Ack(id, answer)
        }
        _ => Incoming::Other,
    }
}

/// The plain WebSocket's frames, through chat-wire's codec (the server's own).
fn decode_ws(text: &str) -> Incoming {
    let Some(frame) = ws::Frame::decode(text) else {
        return Incoming::Other;
    };
    match (frame.kind.as_str(), frame.numeric_id()) {
        ("ack", Some(0)) if frame.payload["ok"] == true => Incoming::Connected,
        ("ack", Some(id)) => Incoming::Ack(id, frame.payload),
        ("error", _) => Incoming::Refused(frame.payload.to_string()),
        _ => Incoming::Event(frame.kind, frame.payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socketio_packets_round_trip() {
        let wire = Wire::Socketio;
        assert_eq!(wire.auth("t"), r#"40{"token":"t"}"#);
        assert_eq!(
            wire.request(7, "message:send", &json!({"a": 1})),
            r#"427["message:send",{"a":1}]"#
        );
        assert_eq!(wire.decode("2"), Incoming::Ping("3"));
        assert_eq!(wire.decode(r#"40{"sid":"x"}"#), Incoming::Connected);
        assert_eq!(
            wire.decode(r#"4312[{"seq":3}]"#),
            Incoming::Ack(12, json!({"seq": 3}))
        );
        assert_eq!(
            wire.decode(r#"42["message:new",{"seq":3}]"#),
            Incoming::Event("message:new".into(), json!({"seq": 3}))
        );
        assert!(matches!(
            wire.decode(r#"44{"message":"no"}"#),
            Incoming::Refused(_)
        ));
    }

    #[test]
    fn websocket_frames_round_trip() {
        let wire = Wire::Ws;
        assert_eq!(
            wire.decode(r#"{"type":"ack","id":0,"ok":true}"#),
            Incoming::Connected
        );
        assert_eq!(
            wire.decode(r#"{"type":"ack","id":5,"seq":2}"#),
            Incoming::Ack(5, json!({"seq": 2}))
        );
        assert_eq!(
            wire.decode(r#"{"type":"message:new","seq":2}"#),
            Incoming::Event("message:new".into(), json!({"seq": 2}))
        );
        let frame: Value =
            serde_json::from_str(&wire.request(3, "read", &json!({"seq": 1}))).expect("json");
        assert_eq!(frame, json!({"type": "read", "id": 3, "seq": 1}));
    }
}
