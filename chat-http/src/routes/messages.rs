//! The seed's send route.

use axum::Json;
use axum::extract::State;

use crate::app::identity::check_claimed_identity;
use crate::app::{Outgoing, send_message};
use crate::dto::{SendRequest, SendResponse};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;

/// Sends a message as the caller. Answers only after the message is durably stored; a
/// retry with the same `clientMessageId` answers with the original message.
#[utoipa::path(post, path = "/api/messages/send", tag = "messages",
    request_body = SendRequest,
    responses((status = 200, body = SendResponse), (status = 401, body = ErrorBody),
        (status = 403, description = "senderType or adminId does not match the session", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "conversation closed", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn send(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<SendRequest>,
) -> ApiResult<Json<SendResponse>> {
    check_claimed_identity(
        &auth.principal,
        &request.sender_type,
        request.admin_id.as_deref(),
    )?;
    let sent = send_message(&state, &auth, request.into(), "rest").await?;
    Ok(Json(sent))
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
