//! The plain WebSocket's JSON text frames, for both ends: `{"type": EVENT, "id"?: ID,
//! ...payload}`. A client's request carries an `id` and is answered by `{"type": "ack",
//! "id": ID, ...answer}`; the first frame is `{"type": "auth", "token": …}`; server events
//! carry no id; a frame that could not be read is answered by `{"type": "error", ...}` in
//! the JSON error shape.

use serde_json::{Map, Value};

/// A frame: its `type`, its `id` if any, and its other fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// `auth`, `conversation:join`, `ack`, `message:new`, …; empty when the frame has no
    /// string `type`.
    pub kind: String,
    /// The id a request carries and its ack echoes.
    pub id: Option<Value>,
    /// The other fields (a JSON object).
    pub payload: Value,
}

impl Frame {
    /// Reads a text frame; `None` unless it is a JSON object.
    pub fn decode(text: &str) -> Option<Self> {
        let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(text) else {
            return None;
        };
        let id = fields.remove("id");
        let kind = match fields.remove("type") {
            Some(Value::String(kind)) => kind,
            _ => String::new(),
        };
        Some(Self {
            kind,
            id,
            payload: Value::Object(fields),
        })
    }

    /// The id as a number (clients number their requests).
    pub fn numeric_id(&self) -> Option<u64> {
        self.id.as_ref().and_then(Value::as_u64)
    }

    /// The frame as one JSON object again (`type`, `id` and the payload's fields).
    pub fn into_value(self) -> Value {
        let text = encode(&self.kind, self.id, self.payload);
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// Writes a frame: `payload`'s fields (a non-object payload goes under `data`) with `type`
/// and, when given, `id`.
pub fn encode(kind: &str, id: Option<Value>, payload: Value) -> String {
    let mut frame = match payload {
        Value::Object(fields) => fields,
        Value::Null => Map::new(),
        other => Map::from_iter([("data".to_owned(), other)]),
    };
    frame.insert("type".into(), Value::from(kind));
    if let Some(id) = id {
        frame.insert("id".into(), id);
    }
    Value::Object(frame).to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn frames_round_trip() {
        let text = encode("read", Some(json!(7)), json!({"seq": 3}));
        let frame = Frame::decode(&text).unwrap();
        assert_eq!(frame.kind, "read");
        assert_eq!(frame.numeric_id(), Some(7));
        assert_eq!(frame.payload, json!({"seq": 3}));
        let event = Frame::decode(&encode("typing", None, json!({"isTyping": true}))).unwrap();
        assert_eq!((event.kind.as_str(), event.id), ("typing", None));
        let wrapped: Value =
            serde_json::from_str(&encode("ack", Some(json!(1)), json!([1]))).unwrap();
        assert_eq!(wrapped, json!({"data": [1], "type": "ack", "id": 1}));
        assert_eq!(Frame::decode("[1]"), None);
        assert_eq!(Frame::decode(r#"{"type": 5}"#).unwrap().kind, "");
    }
}
