//! The plain WebSocket's JSON text frames (chat-wire's codec, shared with the clients):
//! decoding what a client sends (`{"type": EVENT, "id"?: ANY, ...payload}`) and encoding
//! what the server answers.

use chat_wire::ws::{Frame, encode};
use serde_json::Value;

use crate::app::protocol::ServerEvent;
use crate::error::ApiError;

/// A decoded client frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFrame {
    /// The event (`auth`, `conversation:join`, …); empty when the frame has no string `type`.
    pub event: String,
    /// The client's id for the reply, echoed in the ack; frames without one get no ack.
    pub id: Option<Value>,
    /// The frame's other fields.
    pub payload: Value,
}

impl ClientFrame {
    /// Decodes a text frame; anything but a JSON object is a `bad_request`.
    pub fn decode(text: &str) -> Result<Self, ApiError> {
        let frame = Frame::decode(text)
            .ok_or_else(|| ApiError::BadRequest("frames are JSON objects".into()))?;
        Ok(Self {
            event: frame.kind,
            id: frame.id,
            payload: frame.payload,
        })
    }
}

/// The reply to the frame with `id`: the handler's answer (an object) with `type: "ack"`.
pub fn ack(id: Value, reply: Value) -> String {
    encode("ack", Some(id), reply)
}

/// An error in the JSON error shape, as a `type: "error"` frame (for frames that could not
/// be read, so have no id to answer).
pub fn error(error: &ApiError) -> String {
    let body = serde_json::to_value(error.body().1).unwrap_or(Value::Null);
    encode("error", None, body)
}

/// A server event: its payload with `type` set to the event's name.
pub fn event(event: ServerEvent) -> String {
    encode(event.name, None, event.payload)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_frame_splits_into_event_id_and_payload() {
        let frame = ClientFrame::decode(r#"{"type":"read","id":7,"seq":3}"#).unwrap();
        assert_eq!(frame.event, "read");
        assert_eq!(frame.id, Some(json!(7)));
        assert_eq!(frame.payload, json!({"seq": 3}));
    }

    #[test]
    fn anything_but_an_object_is_a_bad_request() {
        for text in ["", "[]", "7", "\"x\"", "null", "{", "{\"type\":\"read\"}x"] {
            let error = ClientFrame::decode(text).unwrap_err();
            assert_eq!(error.body().1.error.code, "bad_request", "{text:?}");
        }
    }

    #[test]
    fn a_type_that_is_not_a_string_is_no_event() {
        let frame = ClientFrame::decode(r#"{"type":5}"#).unwrap();
        assert_eq!(frame.event, "");
    }

    #[test]
    fn acks_carry_the_id_and_keep_non_object_replies() {
        let frame: Value = serde_json::from_str(&ack(json!("a"), json!({"ok": true}))).unwrap();
        assert_eq!(frame, json!({"type": "ack", "id": "a", "ok": true}));
        let frame: Value = serde_json::from_str(&ack(json!(1), json!([1]))).unwrap();
        assert_eq!(frame, json!({"type": "ack", "id": 1, "data": [1]}));
    }

    #[test]
    fn any_id_comes_back_exactly_as_sent() {
        // Found by fuzzing: without exact float parsing this id came back as 4.11…06e53.
        for id in [
            "411111111111111111111111111111111111111111111111111110",
            "0.1",
            "-1e-300",
            "\"a\"",
            "[1,{}]",
        ] {
            let frame = ClientFrame::decode(&format!(r#"{{"type":"read","id":{id}}}"#)).unwrap();
            let sent = frame.id.clone().unwrap();
            let answer: Value = serde_json::from_str(&ack(sent.clone(), json!({}))).unwrap();
            assert_eq!(answer["id"], sent, "{id}");
        }
    }

    #[test]
    fn errors_are_error_frames_in_the_error_shape() {
        let text = error(&ApiError::BadRequest("no".into()));
        let frame: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(frame["type"], "error");
        assert_eq!(frame["error"]["code"], "bad_request");
    }
}
