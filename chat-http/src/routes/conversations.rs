//! Conversations: start, list (the seed's route), read, history, events, read marker,
//! status and assignment.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_core::engine::{ListRequest, StartConversation};
use chat_core::error::InvalidInput;
use chat_core::ids::{AdminId, ConversationId, Seq};
use chat_core::status::ConversationStatus;
use chat_core::store::ListCursor;
use chat_core::values::Metadata;
use chrono::DateTime;

use crate::app::identity::check_claimed_admin;
use crate::app::parse;
use crate::dto::{
    AssignRequest, ConversationDto, ConversationEnvelope, CreateConversationRequest, EventDto,
    EventsQuery, EventsResponse, ListQuery, ListResponse, MessageDto, MessagesQuery,
    MessagesResponse, ReadRequest, ReadResponse, StatusRequest,
};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, ClientIp};
use crate::state::AppState;

/// A visitor starts a conversation (status `waiting`).
#[utoipa::path(post, path = "/api/conversations", tag = "conversations",
    request_body = CreateConversationRequest,
    responses((status = 201, body = ConversationEnvelope), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<CreateConversationRequest>,
) -> ApiResult<(StatusCode, Json<ConversationEnvelope>)> {
    state.limiters().conversation(auth.token)?;
    let metadata = Metadata::parse(
        request.metadata.unwrap_or_default(),
        &state.config().engine.limits,
    )?;
    let start = StartConversation {
        metadata,
        customer_ip: Some(ip).filter(|ip| !ip.is_unspecified()),
    };
    let conversation = state
        .engine()
        .start_conversation(&auth.principal, start)
        .await?;
    let conversation = ConversationDto::new(conversation, Seq::ZERO, 0);
    Ok((
        StatusCode::CREATED,
        Json(ConversationEnvelope { conversation }),
    ))
}

/// The conversation list (the seed's route), newest activity first: an agent's inbox, or a
/// visitor's own conversations (the widget's "your conversations").
#[utoipa::path(get, path = "/api/conversations/list", tag = "conversations",
    params(("adminId" = Option<String>, Query, description = "must be the caller's own id"),
        ("status" = Option<String>, Query, description = "waiting, active or closed"),
        ("label" = Option<String>, Query, description = "a label's title (agents)"),
        ("limit" = Option<usize>, Query, description = "1-100, default 20"),
        ("cursor" = Option<String>, Query, description = "nextCursor of the previous page")),
    responses((status = 200, body = ListResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<ListResponse>> {
    check_claimed_admin(&auth.principal, query.admin_id.as_deref())?;
    let request = ListRequest {
        status: query
            .status
            .as_deref()
            .map(str::parse::<ConversationStatus>)
            .transpose()?,
        label: query.label,
        after: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: query.limit,
    };
    let page = state
        .engine()
        .list_conversations(&auth.principal, request)
        .await?;
    Ok(Json(ListResponse {
        next_cursor: page.next.as_ref().map(encode_cursor),
        total_count: page.total_count,
        unread_count: page.unread_count,
        conversations: page
            .items
            .into_iter()
            .map(ConversationDto::from_summary)
            .collect(),
    }))
}

/// One conversation, with the caller's read state.
#[utoipa::path(get, path = "/api/conversations/{id}", tag = "conversations",
    params(("id" = String, Path)),
    responses((status = 200, body = ConversationEnvelope), (status = 401, body = ErrorBody),
        (status = 404, description = "missing, or not the caller's", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ConversationEnvelope>> {
    let id: ConversationId = parse(&id)?;
    let engine = state.engine();
    let conversation = engine.get_conversation(&auth.principal, id).await?;
    let conversation = match auth.principal.user() {
        Some(_) => {
            let read = engine.read_state(&auth.principal, id).await?;
            ConversationDto::with_read_state(conversation, read)
        }
        None => ConversationDto::new(conversation, Seq::ZERO, 0),
    };
    Ok(Json(ConversationEnvelope { conversation }))
}

/// The event log after `since` (resumable sync over REST).
#[utoipa::path(get, path = "/api/conversations/{id}/events", tag = "conversations",
    params(("id" = String, Path), ("since" = Option<u64>, Query), ("limit" = Option<usize>, Query)),
    responses((status = 200, body = EventsResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> ApiResult<Json<EventsResponse>> {
    let id = parse(&id)?;
    let since = Seq(query.since.unwrap_or(0));
    let page = state
        .engine()
        .events_since(&auth.principal, id, since, query.limit)
        .await?;
    Ok(Json(EventsResponse {
        events: page.events.into_iter().map(EventDto::from).collect(),
        last_seq: page.last_seq,
        has_more: page.has_more,
    }))
}

/// History, newest page first, paged upward with `before`.
#[utoipa::path(get, path = "/api/conversations/{id}/messages", tag = "conversations",
    params(("id" = String, Path), ("before" = Option<u64>, Query), ("limit" = Option<usize>, Query)),
    responses((status = 200, body = MessagesResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn messages(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<MessagesQuery>,
) -> ApiResult<Json<MessagesResponse>> {
    let id = parse(&id)?;
    let page = state
        .engine()
        .history(&auth.principal, id, query.before.map(Seq), query.limit)
        .await?;
    Ok(Json(MessagesResponse {
        messages: page.messages.into_iter().map(MessageDto::from).collect(),
        has_more: page.has_more,
    }))
}

/// Marks everything up to `seq` read (the cursor never moves back).
#[utoipa::path(post, path = "/api/conversations/{id}/read", tag = "conversations",
    params(("id" = String, Path)), request_body = ReadRequest,
    responses((status = 200, body = ReadResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<ReadRequest>,
) -> ApiResult<Json<ReadResponse>> {
    let id = parse(&id)?;
    let last_read_seq = state
        .engine()
        .mark_read(&auth.principal, id, Seq(request.seq))
        .await?;
    Ok(Json(ReadResponse { last_read_seq }))
}

/// Closes, reopens, snoozes or unsnoozes a conversation (agents with `manageConversations`).
/// A snoozed conversation wakes on the visitor's next message or at `snoozedUntil`.
#[utoipa::path(post, path = "/api/conversations/{id}/status", tag = "conversations",
    params(("id" = String, Path)), request_body = StatusRequest,
    responses((status = 200, body = ConversationEnvelope), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not a legal transition", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_status(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<StatusRequest>,
) -> ApiResult<Json<ConversationEnvelope>> {
    let id = parse(&id)?;
    let to: ConversationStatus = request.status.parse()?;
    let engine = state.engine();
    let conversation = match to {
        ConversationStatus::Snoozed => {
            engine
                .snooze(&auth.principal, id, request.snoozed_until)
                .await?
        }
        _ if request.snoozed_until.is_some() => {
            let problem = "is only for status snoozed";
            return Err(chat_core::error::InvalidInput::new("snoozedUntil", problem).into());
        }
        _ => engine.set_status(&auth.principal, id, to).await?,
    };
    Ok(Json(ConversationEnvelope {
        conversation: ConversationDto::new(conversation, Seq::ZERO, 0),
    }))
}

/// Assigns a conversation to an agent, or unassigns it.
#[utoipa::path(post, path = "/api/conversations/{id}/assign", tag = "conversations",
    params(("id" = String, Path)), request_body = AssignRequest,
    responses((status = 200, body = ConversationEnvelope), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn assign(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<AssignRequest>,
) -> ApiResult<Json<ConversationEnvelope>> {
    let id = parse(&id)?;
    let assignee = request
        .assignee_id
        .as_deref()
        .map(parse::<AdminId>)
        .transpose()?;
    let conversation = state.engine().assign(&auth.principal, id, assignee).await?;
    Ok(Json(ConversationEnvelope {
        conversation: ConversationDto::new(conversation, Seq::ZERO, 0),
    }))
}

/// `micros_uuid`: opaque to clients.
fn encode_cursor(cursor: &ListCursor) -> String {
    format!("{}_{}", cursor.updated_at.timestamp_micros(), cursor.id)
}

fn decode_cursor(text: &str) -> Result<ListCursor, InvalidInput> {
    let invalid = || InvalidInput::new("cursor", "is not a cursor from this API");
    let (micros, id) = text.split_once('_').ok_or_else(invalid)?;
    let updated_at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| invalid())?)
        .ok_or_else(invalid)?;
    Ok(ListCursor {
        updated_at,
        id: id.parse().map_err(|_| invalid())?,
    })
}
