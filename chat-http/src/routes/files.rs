//! Uploads (the seed's route) and authorized downloads.

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chat_core::engine::NewAttachment;
use chat_core::error::InvalidInput;
use chat_core::ids::{AttachmentId, ConversationId};
use chat_core::model::FileType;
use chat_core::values::FileName;

use crate::app::parse;
use crate::dto::{UploadResponse, file_type_name, file_url};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiMultipart, ApiPath, Auth};
use crate::filetype::{self, Refused};
use crate::state::AppState;

/// The parts of an upload form.
#[derive(Default)]
struct UploadForm {
    file: Option<(String, Bytes)>,
    conversation_id: Option<String>,
    file_type: Option<String>,
}

/// Uploads a file (multipart: `file`, `conversationId`, `fileType` = `image` | `document`).
/// The kind is decided from the content; SVG, HTML, executables and other kinds are refused.
#[utoipa::path(post, path = "/api/files/upload", tag = "files",
    request_body(content_type = "multipart/form-data", description = "file, conversationId, fileType"),
    responses((status = 201, body = UploadResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, description = "content not allowed or not the declared fileType", body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    ApiMultipart(multipart): ApiMultipart,
) -> ApiResult<(StatusCode, Json<UploadResponse>)> {
    state.limiters().upload(auth.token)?;
    let form = read_form(multipart).await?;
    let conversation_id: ConversationId = parse(
        form.conversation_id
            .as_deref()
            .ok_or_else(|| missing("conversationId"))?,
    )?;
    let declared = parse_file_type(
        form.file_type
            .as_deref()
            .ok_or_else(|| missing("fileType"))?,
    )?;
    let (name, bytes) = form.file.ok_or_else(|| missing("file"))?;
    if bytes.len() > state.config().max_upload_bytes {
        return Err(ApiError::PayloadTooLarge);
    }
    let file_name = safe_file_name(&name)?;
    let (file_type, content_type) = filetype::classify(&bytes, declared).map_err(refused)?;
    // "Not yours" is found out before anything is stored.
    state
        .engine()
        .get_conversation(&auth.principal, conversation_id)
        .await?;
    let id = AttachmentId::new();
    let file_size = bytes.len() as u64;
    state
        .blobs()
        .put(&id.to_string(), bytes)
        .await
        .map_err(chat_core::Error::from)?;
    let new = NewAttachment {
        id,
        conversation_id,
        file_type,
        content_type: content_type.into(),
        file_size,
        file_name,
    };
    match state.engine().add_attachment(&auth.principal, new).await {
        Ok(attachment) => Ok((
            StatusCode::CREATED,
            Json(UploadResponse {
                file_url: file_url(attachment.id.as_uuid()),
                file_size,
                upload_status: "success".into(),
                attachment_id: attachment.id,
                file_type: file_type_name(file_type).into(),
                content_type: attachment.content_type,
            }),
        )),
        Err(error) => {
            if let Err(cleanup) = state.blobs().delete(&id.to_string()).await {
                tracing::warn!(%id, error = %cleanup, "could not delete the blob of a refused upload");
            }
            Err(error.into())
        }
    }
}

/// Downloads a file the caller may read. Images are shown inline, documents are downloaded;
/// the content type is the one decided at upload, and browsers may not sniff another.
#[utoipa::path(get, path = "/api/files/{id}", tag = "files",
    params(("id" = String, Path)),
    responses((status = 200, description = "the file's bytes"), (status = 401, body = ErrorBody),
        (status = 404, description = "missing, or not the caller's", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let id: AttachmentId = parse(&id)?;
    let attachment = state.engine().get_attachment(&auth.principal, id).await?;
    let bytes = state
        .blobs()
        .get(&id.to_string())
        .await
        .map_err(chat_core::Error::from)?;
    let disposition = match attachment.file_type {
        FileType::Image => "inline".to_owned(),
        FileType::Document => format!(
            "attachment; filename=\"{}\"",
            ascii_name(attachment.file_name.as_str())
        ),
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, attachment.content_type.as_str()),
        (header::CONTENT_DISPOSITION, disposition.as_str()),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ),
        (header::CACHE_CONTROL, "private, no-store"),
    ] {
        let value = HeaderValue::from_str(value).map_err(ApiError::internal)?;
        headers.insert(name, value);
    }
    Ok(response)
}

async fn read_form(mut multipart: Multipart) -> ApiResult<UploadForm> {
    let mut form = UploadForm::default();
    while let Some(field) = multipart.next_field().await? {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().unwrap_or("file").to_owned();
                form.file = Some((name, field.bytes().await?));
            }
            "conversationId" => form.conversation_id = Some(field.text().await?),
            "fileType" => form.file_type = Some(field.text().await?),
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unexpected form field {other:?}"
                )));
            }
        }
    }
    Ok(form)
}

fn parse_file_type(text: &str) -> Result<FileType, InvalidInput> {
    match text {
        "image" => Ok(FileType::Image),
        "document" => Ok(FileType::Document),
        _ => Err(InvalidInput::new("fileType", "must be image or document")),
    }
}

/// A display name that is a plain file name: no directories, no `..`, no control characters.
fn safe_file_name(name: &str) -> Result<FileName, InvalidInput> {
    let plain = !name.contains(['/', '\\']) && name != "." && !name.contains("..");
    if !plain {
        return Err(InvalidInput::new("fileName", "must be a plain file name"));
    }
    FileName::parse(name)
}

/// The file name for a `Content-Disposition` header: ASCII letters, digits, `.`, `-`, `_`.
fn ascii_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn missing(field: &'static str) -> ApiError {
    ApiError::BadRequest(format!("the form field {field} is missing"))
}

fn refused(refusal: Refused) -> ApiError {
    match refusal {
        Refused::Empty => InvalidInput::new("file", refusal.to_string()).into(),
        Refused::NotAllowed | Refused::Mismatch { .. } => {
            ApiError::UnsupportedMediaType(refusal.to_string())
        }
    }
}
