//! The seed's send route.

use axum::Json;
use axum::extract::State;
use chat_core::Principal;
use chat_core::engine::SendMessage;
use chat_core::ids::AttachmentId;
use chat_core::values::{ClientMessageId, MessageBody, Metadata};

use crate::dto::{SendRequest, SendResponse};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::routes::parse;
use crate::state::AppState;

/// Sends a message as the caller. Answers only after the message is durably stored; a
/// retry with the same `clientMessageId` answers with the original message.
#[utoipa::path(post, path = "/api/messages/send", tag = "messages",
    request_body = SendRequest,
    responses((status = 200, body = SendResponse), (status = 401, body = ErrorBody),
        (status = 403, description = "senderType does not match the session", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "conversation closed", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn send(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<SendRequest>,
) -> ApiResult<Json<SendResponse>> {
    check_sender_type(&auth.principal, &request.sender_type)?;
    let sent = send_message(&state, &auth, request.into()).await?;
    Ok(Json(sent))
}

/// A send from either transport, before validation.
pub(crate) struct Outgoing {
    pub conversation_id: String,
    pub message: String,
    pub client_message_id: Option<String>,
    pub client_timestamp: Option<chrono::DateTime<chrono::Utc>>,
    pub attachment_ids: Vec<String>,
    pub private: bool,
}

impl From<SendRequest> for Outgoing {
    fn from(request: SendRequest) -> Self {
        Self {
            conversation_id: request.conversation_id,
            message: request.message,
            client_message_id: request.client_message_id,
            client_timestamp: request.timestamp,
            attachment_ids: request.attachment_ids.unwrap_or_default(),
            private: request.private.unwrap_or(false),
        }
    }
}

/// Validates, rate-limits and sends a message as the caller; the answer comes after the
/// durable write. Shared by REST and the real-time transports.
pub(crate) async fn send_message(
    state: &AppState,
    auth: &Auth,
    outgoing: Outgoing,
) -> ApiResult<SendResponse> {
    state.limiters().message(auth.token)?;
    let limits = &state.config().engine.limits;
    let send = SendMessage {
        conversation_id: parse(&outgoing.conversation_id)?,
        body: MessageBody::parse(outgoing.message, limits)?,
        client_message_id: outgoing
            .client_message_id
            .as_deref()
            .map(ClientMessageId::parse)
            .transpose()?,
        client_timestamp: outgoing.client_timestamp,
        attachment_ids: outgoing
            .attachment_ids
            .iter()
            .map(|id| parse::<AttachmentId>(id))
            .collect::<Result<_, _>>()?,
        private: outgoing.private,
        metadata: Metadata::default(),
    };
    let sent = state.engine().send_message(&auth.principal, send).await?;
    Ok(SendResponse {
        message_id: sent.message.id,
        status: "sent".into(),
        delivered_at: sent.message.timestamp,
        seq: sent.message.seq,
    })
}

/// The seed's `senderType` is accepted for compatibility but must match the session.
fn check_sender_type(principal: &Principal, sender_type: &str) -> ApiResult<()> {
    let expected = match principal {
        Principal::Visitor(_) => "customer",
        Principal::Admin { .. } => "admin",
        Principal::System | Principal::Anonymous => "system",
    };
    if sender_type == expected {
        Ok(())
    } else {
        Err(chat_core::Error::PermissionDenied("senderType does not match the session").into())
    }
}
