//! `/api/v1/attachments`: upload a photo or a document (multipart, field `file`), and
//! download it again.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::attachments::model::{self, Attachment};
use crate::attachments::store::Received;
use crate::auth::{Action, Caller};
use crate::error::{AppError, AppResult};
use crate::http::{Id, Reply};
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::AttachmentId;
use crate::openapi::CreateHeaders;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/attachments")
            .service(upload_attachment)
            .service(get_attachment),
    );
}

/// The form of an upload.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes the form for the spec; the handler reads it as a stream
pub struct UploadForm {
    /// A JPEG, PNG or WebP image or a PDF, recognised by its content; at most
    /// `MAX_UPLOAD_BYTES` (10 MiB unless configured).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A file's bytes, as the spec shows a download.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // describes the download for the spec; the handler sends the bytes
pub struct FileBody(Vec<u8>);

/// The longest file name kept (for showing only).
const MAX_FILE_NAME_CHARS: usize = 200;

fn bad_form(e: actix_multipart::MultipartError) -> AppError {
    AppError::invalid(
        "file",
        format!("the upload is not a readable multipart form: {e}"),
    )
}

/// The name a file was sent with, without control characters, cut to a sensible length.
fn shown_name(name: Option<&str>) -> String {
    name.unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILE_NAME_CHARS)
        .collect()
}

/// Upload a photo or a document.
#[utoipa::path(
    tag = "attachments",
    params(CreateHeaders),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = Attachment, headers(("Location" = String))),
        (status = 408, description = "No data arrived for `BODY_TIMEOUT_SECONDS`; nothing is kept", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than `MAX_UPLOAD_BYTES`; nothing is kept", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG, PNG, WebP or PDF (by its content); nothing is kept", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn upload_attachment(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    mut form: Multipart,
) -> AppResult<Reply> {
    // Authorised before a byte of the body is read.
    let uploader = caller
        .run(&state.db, |_, actor| {
            actor.require(Action::UploadAttachment)?;
            Ok(actor.id)
        })
        .await?;
    let store = state.attachments.clone();
    // A phone on a bad network may take minutes over a photo: what is bounded is the wait
    // for the next chunk, so a stalled upload does not hold its connection and file.
    let idle = state.config.body_timeout;
    let stalled = || AppError::RequestTimeout {
        secs: idle.as_secs(),
    };
    let mut received: Option<(Received, String)> = None;
    while let Some(field) = tokio::time::timeout(idle, form.next())
        .await
        .map_err(|_| stalled())?
    {
        let mut field = field.map_err(bad_form)?;
        if field.name() != Some("file") {
            continue; // other fields are skipped, unread
        }
        if received.is_some() {
            return Err(AppError::invalid("file", "one file per upload"));
        }
        let name = shown_name(field.content_disposition().and_then(|d| d.get_filename()));
        // Written as it arrives, so that no upload is held whole in memory; a failure or a
        // dropped connection drops the temporary file with it.
        let mut upload = store.begin()?;
        while let Some(chunk) = tokio::time::timeout(idle, field.next())
            .await
            .map_err(|_| stalled())?
        {
            upload.write(&chunk.map_err(bad_form)?)?;
        }
        received = Some((upload.finish()?, name));
    }
    let (received, name) =
        received.ok_or_else(|| AppError::invalid("file", "the form has no `file` field"))?;
    // A retry from a phone sends the same file under the same key: the first answer again.
    // What identifies the request is the file and its name, not the form's boundaries.
    let digest = hex::encode(Sha256::digest(format!("{}\n{name}", received.sha256)));
    let work = state.work();
    state
        .db
        .writing(move |conn| {
            let now = work.clock.now();
            idempotency::once(
                conn,
                uploader,
                &key,
                &digest,
                (now, work.idempotency_ttl),
                // Kept only for a fresh key: a replayed or refused upload drops its
                // temporary file and leaves nothing new on disk.
                |conn| {
                    let stored = store.keep(received)?;
                    let row = model::create(conn, uploader, &stored, &name, now)?;
                    let view = Attachment::from(row);
                    Reply::created("attachments", view.id, &view, None)
                },
            )
        })
        .await
}

/// Download an attachment: its uploader, admins, and whoever sees a rectification item
/// or a patrol visit it belongs to.
#[utoipa::path(
    tag = "attachments",
    params(("id" = uuid::Uuid, Path, description = "Attachment id")),
    responses((status = 200, description = "The file, with the content type it was recognised as", content(
        (FileBody = "image/jpeg"),
        (FileBody = "image/png"),
        (FileBody = "image/webp"),
        (FileBody = "application/pdf"),
    ))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_attachment(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<AttachmentId>,
) -> AppResult<HttpResponse> {
    let row = caller
        .run(&state.db, move |conn, actor| {
            let row = model::find(conn, id.0)?;
            // Its uploader (and admins) may; so may whoever sees an item it is a photo or
            // evidence of. Anyone else's file looks absent, as anything out of scope does.
            let readable = actor.may(Action::ReadAttachment, &row.resource())
                || model::readable_through_records(conn, actor, row.id)?;
            if !readable {
                return Err(AppError::NotFound("attachment"));
            }
            Ok(row)
        })
        .await?;
    let path = state.attachments.path_of(&row.sha256);
    let bytes = web::block(move || std::fs::read(path))
        .await
        .map_err(|e| AppError::internal(format!("reading an attachment: {e}")))?
        .map_err(|e| AppError::internal(format!("reading attachment {}: {e}", row.id)))?;
    Ok(HttpResponse::Ok()
        .content_type(row.content_type.as_str())
        .insert_header((header::ETAG, format!("\"{}\"", row.sha256)))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}.{}\"",
                row.id,
                row.content_type.extension()
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400, immutable"))
        .body(bytes))
}
