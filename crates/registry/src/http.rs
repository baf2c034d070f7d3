//! The HTTP surface: routes, handlers, and the OpenAPI document that describes them.
//!
//! Every route is listed in [`ApiDoc`]; the test `openapi_lists_every_route` keeps the router and
//! the document in step, and `./dev test` fuzzes the server against the document
//! (`scripts/fuzz-api.sh`). The record routes are described generically and once per collection
//! with typed bodies ([`crate::openapi`]). Service routes (`/health`, `/ready`, `/openapi.json`)
//! are public on purpose: they carry nothing personal and monitoring must reach them without
//! credentials. Every resource route added under `/v1` must authenticate its caller and list
//! [`crate::openapi::SignedInErrors`] in its responses. Errors are problem+json
//! ([`crate::problem`]), and the document says so.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use doorstep_domain::api::paths;
use doorstep_domain::wire::{HealthReport, HealthStatus, StorageKind, API_VERSION};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::api::review::{announce, case, decide, queue};
use crate::api::{
    applications, areas, documents, duplicates, liveness, outbox, records, revocations, staff, sync,
};
use crate::openapi::{NoRoleForbidden, PerCollection, ProblemJson};
use crate::problem::{self, Problem, ProblemKind};
use crate::resources::Collection;
use crate::state::AppState;
use crate::storage::AuditEntry;

/// Longest a request may run before the server answers 408 and frees its resources.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Doorstep registry API",
        description = "The social registry service that Doorstep apps keep up to date, online or offline.",
        license(name = "AGPL-3.0-only")
    ),
    paths(
        health, ready, openapi_json,
        records::list, records::get_one, records::create, records::update, records::delete,
        records::history, records::search, records::me,
        applications::transition,
        sync::push, sync::pull, documents::content, crate::auth::exchange::token_exchange,
        crate::auth::exchange::userinfo,
        crate::uploads::http::options_uploads, crate::uploads::http::create_upload,
        crate::uploads::http::head_upload, crate::uploads::http::patch_upload,
        crate::uploads::http::delete_upload, crate::uploads::http::get_upload,
        duplicates::list, duplicates::check, revocations::create, revocations::list,
        staff::list, staff::grant, staff::change, staff::revoke,
        areas::list, areas::replace,
        queue::queue, case::open, decide::document, decide::account, announce::send,
        outbox::list, liveness::create_challenge, liveness::prove,
    ),
    components(schemas(
        HealthReport, HealthStatus, StorageKind, Problem, Collection,
        doorstep_domain::api::Page, doorstep_domain::api::Me,
        crate::openapi::AnyRecord, crate::openapi::IndividualPage,
        AuditEntry, doorstep_domain::api::Transition, doorstep_domain::ApplicationStatus,
        doorstep_domain::FieldError,
        doorstep_domain::sync::PushRequest, doorstep_domain::sync::PushResponse,
        doorstep_domain::sync::Mutation, doorstep_domain::sync::MutationOp,
        doorstep_domain::sync::ChangeSet, doorstep_domain::sync::MutationResult,
        doorstep_domain::sync::FieldConflict, doorstep_domain::sync::PullResponse,
        doorstep_domain::sync::PulledRecord, doorstep_domain::RecordKind,
        doorstep_domain::api::ExchangeRequest,
        doorstep_domain::api::DuplicateFlag, doorstep_domain::api::DuplicateFlagPage,
        doorstep_domain::api::DuplicateCheck, doorstep_domain::api::DuplicateCheckAnswer,
        doorstep_domain::duplicates::Match, doorstep_domain::duplicates::Reason,
        doorstep_domain::api::RevocationRequest, doorstep_domain::api::Revocation,
        doorstep_domain::api::RevocationList,
        doorstep_domain::api::StaffEntry, doorstep_domain::api::StaffGrant,
        doorstep_domain::api::StaffChange, doorstep_domain::api::StaffPage,
        doorstep_domain::api::StaffRole,
        doorstep_domain::api::Area, doorstep_domain::api::AreaList,
        doorstep_domain::api::ReviewQueuePage, doorstep_domain::api::ReviewQueueItem,
        doorstep_domain::api::ReviewCase, doorstep_domain::api::DocumentDecision,
        doorstep_domain::api::AccountDecision, doorstep_domain::api::AnnouncementRequest,
        doorstep_domain::api::AnnouncementText, doorstep_domain::api::AnnouncementReceipt,
        doorstep_domain::Review, doorstep_domain::Language, doorstep_domain::DocumentStatus,
        doorstep_domain::api::OutboxPage, doorstep_domain::api::OutboxEntry,
        doorstep_domain::api::OutboxStatus,
        doorstep_domain::api::LivenessChallengeRequest, doorstep_domain::api::LivenessChallenge,
        doorstep_domain::api::LivenessProof, doorstep_domain::api::LivenessProofKind,
    )),
    modifiers(&BearerAuth, &NoRoleForbidden, &ProblemJson, &PerCollection),
    tags(
        (name = "service", description = "Liveness and self-description; no credentials needed."),
        (name = "records", description = "Registry records. Every route needs a bearer token."),
        (name = "applications", description = "The application review workflow."),
        (name = "review", description = "The review desk (staff and admins): the queue, one application opened, decisions on documents and payment accounts, announcements, and the delivery of messages beyond the app (the outbox)."),
        (name = "sync", description = "Offline devices: push mutations, pull the change feed."),
        (name = "documents", description = "Document bytes: resumable uploads (tus 1.0) and downloads."),
        (name = "auth", description = "Signing in through the registry (confidential OpenID Connect clients such as eSignet)."),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the `/v1` routes name.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from the registry's OpenID Connect provider (or `doorstep-registry dev-token` in dev mode)."))
                    .build(),
            ),
        );
    }
}

/// Largest JSON body accepted by the record routes. Form definitions are the biggest records.
pub const MAX_JSON_BODY: usize = 2 * 1024 * 1024;
/// Longest an upload PATCH or a document download may run: 100 MB over a slow field link.
/// A cut transfer loses nothing (tus resumes from the last byte the server kept).
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The full router of the registry API.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(paths::HEALTH, get(health))
        .route(paths::READY, get(ready))
        .route(paths::OPENAPI, get(openapi_json))
        .route(paths::ME, get(records::me))
        .route(paths::SEARCH, get(records::search))
        .route(paths::TRANSITIONS, post(applications::transition))
        .route(
            paths::SYNC_PUSH,
            post(sync::push).layer(DefaultBodyLimit::max(sync::MAX_PUSH_BYTES)),
        )
        .route(paths::SYNC_PULL, get(sync::pull))
        .route(paths::DUPLICATES, get(duplicates::list))
        .route(paths::DUPLICATES_CHECK, post(duplicates::check))
        .route(
            paths::REVOCATIONS,
            get(revocations::list).post(revocations::create),
        )
        .route(paths::STAFF, get(staff::list).post(staff::grant))
        .route(paths::STAFF_ENTRY, put(staff::change).delete(staff::revoke))
        .route(
            paths::AREAS,
            get(areas::list)
                .put(areas::replace)
                .layer(DefaultBodyLimit::max(areas::MAX_AREAS_BYTES)),
        )
        .route(paths::REVIEW_QUEUE, get(queue::queue))
        .route(paths::REVIEW_APPLICATION, get(case::open))
        .route(paths::REVIEW_DOCUMENT, post(decide::document))
        .route(paths::REVIEW_ACCOUNT, post(decide::account))
        .route(paths::ANNOUNCEMENTS, post(announce::send))
        .route(paths::OUTBOX, get(outbox::list))
        .route(paths::LIVENESS_CHALLENGES, post(liveness::create_challenge))
        .route(paths::LIVENESS_PROOF, post(liveness::prove))
        .route(paths::COLLECTION, get(records::list).post(records::create))
        .route(
            paths::RECORD,
            get(records::get_one)
                .put(records::update)
                .delete(records::delete),
        )
        .route(paths::RECORD_HISTORY, get(records::history))
        .layer(middleware::from_fn(run_to_completion))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    // Byte transfers stream (bounded memory) and may take long on a field link.
    let transfers = crate::uploads::http::upload_routes::<AppState>()
        .route(paths::DOCUMENT_CONTENT, get(documents::content))
        .layer(middleware::from_fn(run_to_completion))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            documents::upload_owner,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            TRANSFER_TIMEOUT,
        ));
    api.merge(transfers)
        // Public by design: the caller is signing in and has no registry token yet (rate-limited
        // by IP). The userinfo relay is guarded by the provider's access token, which the
        // provider itself checks.
        .merge(crate::auth::exchange_routes::<AppState>())
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .with_state(state)
        // What axum and tower answer by themselves (413, 408, unparsable paths) as problem+json.
        .layer(middleware::map_response(problem::plain_errors_as_problems))
        .layer(TraceLayer::new_for_http())
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// Run the handler in a task of its own, so that it finishes even when its caller does not wait:
/// a client that hangs up (a field laptop losing its link, a killed app) or the request timeout.
/// Otherwise the handler would be dropped at whichever `await` it had reached, and a database
/// driver dropped in the middle of opening a transaction can leave its connection inside it
/// (see `storage/sqlite.rs`). Every write is idempotent for the client that retries, so
/// finishing one nobody waits for is always safe. A handler that panics answers 500.
async fn run_to_completion(request: axum::extract::Request, next: middleware::Next) -> Response {
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "a request handler failed");
            Problem::new(
                ProblemKind::Internal,
                "The registry failed while handling this request. Nothing is known to have \
                 changed; try again, and report it if it happens again.",
            )
            .into_response()
        }
    }
}

/// Is the server up and its database answering?
///
/// Answers 200 with `status: ok` when the database answers, 503 with `status: degraded` when it
/// does not, so load balancers can route around a broken instance.
#[utoipa::path(
    get,
    path = "/health",
    tag = "service",
    responses(
        (status = 200, description = "Server and database are up", body = HealthReport),
        (status = 503, description = "Server is up but its database is not", body = HealthReport)
    )
)]
pub async fn health(State(state): State<AppState>) -> Response {
    let (status, schema_version) = match (
        state.storage.ping().await,
        state.storage.schema_version().await,
    ) {
        (Ok(()), Ok(v)) => (HealthStatus::Ok, v),
        (ping, version) => {
            tracing::warn!(ping = ?ping.err(), version = ?version.as_ref().err(), "health check: database not answering");
            (HealthStatus::Degraded, version.unwrap_or(0))
        }
    };
    let report = HealthReport {
        status,
        version: doorstep_domain::VERSION.to_owned(),
        api_version: API_VERSION,
        storage: state.storage.kind(),
        schema_version,
    };
    let code = match status {
        HealthStatus::Ok => StatusCode::OK,
        HealthStatus::Degraded => StatusCode::SERVICE_UNAVAILABLE,
    };
    (code, Json(report)).into_response()
}

/// Should this instance receive traffic? 204 when its database answers, 503 (problem+json)
/// otherwise. Load balancers and orchestrators poll it; unlike `/health` it carries no body when
/// all is well.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "service",
    responses(
        (status = 204, description = "Ready: the database answers"),
        (status = 503, description = "Not ready", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.storage.ping().await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database not answering");
            Problem::new(
                ProblemKind::Unavailable,
                "The registry's database is not answering; try another instance or wait.",
            )
            .into_response()
        }
    }
}

/// The OpenAPI 3.1 document describing this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json"))
)]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
