//! The admin API under `/_partyhost/`: every route needs the configured
//! bearer token; with no token configured the API is off (404).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Json, Response};
use serde_json::json;

use super::App;
use crate::room::hooks::TrapCause;
use crate::runtime::deploy::DeployError;
use crate::telemetry::METRICS;

/// Largest module an operator may upload (JavaScript and Python rooms run
/// to tens of MiB).
pub const MAX_MODULE_BYTES: usize = 128 * 1024 * 1024;

/// Longest an upload may take, in seconds.
const UPLOAD_SECONDS: u64 = 300;

/// Answers `/_partyhost/status`: counts over the whole host.
pub async fn status(State(app): State<Arc<App>>, request: Request) -> Response {
    if let Some(denied) = refuse(&app, &request) {
        return denied;
    }
    let stats = &app.registry.stats;
    let (wakes, wake_p50, wake_p99) = stats.wakes.percentiles();
    Json(json!({
        "wakes": { "recent": wakes, "p50_us": wake_p50, "p99_us": wake_p99 },
        "rooms": {
            "live": stats.live.load(Ordering::Relaxed),
            "awake": stats.awake.load(Ordering::Relaxed),
        },
        "connections": app.open_sockets.load(Ordering::Relaxed),
        "starts": stats.starts.load(Ordering::Relaxed),
        "traps": stats.traps(),
        "traps_by_cause": TrapCause::ALL
            .iter()
            .zip(&stats.traps_by_cause)
            .map(|(cause, n)| (cause.name(), n.load(Ordering::Relaxed)))
            .collect::<std::collections::BTreeMap<_, _>>(),
        "slow_consumers": stats.slow_consumers.load(Ordering::Relaxed),
    }))
    .into_response()
}

/// Answers `/metrics` with Prometheus text (aggregate counts only, so it
/// needs no token, like most scrape targets).
pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    let stats = &app.registry.stats;
    let text = METRICS.render(
        stats.awake.load(Ordering::Relaxed),
        stats.live.load(Ordering::Relaxed),
        app.open_sockets.load(Ordering::Relaxed),
    );
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// Answers `/_partyhost/rooms`: every live room, awake or asleep.
pub async fn rooms(State(app): State<Arc<App>>, request: Request) -> Response {
    if let Some(denied) = refuse(&app, &request) {
        return denied;
    }
    Json(json!({ "rooms": app.registry.summaries() })).into_response()
}

/// Returns the answer for a request without the right token, or `None`
/// when the request may proceed.
/// Answers `/_partyhost/parties`: each party's serving module and its
/// deploy history.
pub async fn parties(State(app): State<Arc<App>>, request: Request) -> Response {
    if let Some(denied) = refuse(&app, &request) {
        return denied;
    }
    let histories = app.deployer.store().histories();
    let parties: Vec<_> = app
        .registry
        .deps()
        .parties()
        .iter()
        .map(|party| {
            let module = party.module();
            let history = histories.get(party.name.as_str());
            json!({
                "party": party.name.as_str(),
                "hash": module.hash,
                "size": module.size,
                "active_version": history.map(|h| h.active),
                "versions": history.map(|h| h.versions.clone()).unwrap_or_default(),
            })
        })
        .collect();
    Json(json!({ "parties": parties })).into_response()
}

/// Answers `PUT /_partyhost/parties/{party}/module`: the body is a component
/// to deploy as the party's next version.
pub async fn deploy(
    State(app): State<Arc<App>>,
    Path(party): Path<String>,
    request: Request,
) -> Response {
    if let Some(denied) = refuse(&app, &request) {
        return denied;
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        let error = json!({"error": format!("module larger than {MAX_MODULE_BYTES} bytes")});
        (StatusCode::PAYLOAD_TOO_LARGE, Json(error)).into_response()
    };
    if declared.is_some_and(|len| len > MAX_MODULE_BYTES as u64) {
        return too_large();
    }
    let deadline = std::time::Duration::from_secs(UPLOAD_SECONDS);
    let body = axum::body::to_bytes(request.into_body(), MAX_MODULE_BYTES);
    let bytes = match tokio::time::timeout(deadline, body).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return too_large(),
        Err(_) => {
            let error = json!({"error": "upload too slow"});
            return (StatusCode::REQUEST_TIMEOUT, Json(error)).into_response();
        }
    };
    if bytes.is_empty() {
        let error = json!({"error": "empty body: send the component (.wasm) as the body"});
        return (StatusCode::BAD_REQUEST, Json(error)).into_response();
    }
    let deps = app.registry.deps().clone();
    match app.deployer.deploy(&deps, &party, bytes.to_vec()).await {
        Ok(version) => {
            let body = json!({ "party": party, "version": version });
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Err(error) => deploy_error(&error),
    }
}

/// The body of a rollback request.
#[derive(Debug, serde::Deserialize)]
pub struct RollbackRequest {
    /// The version to serve again.
    pub version: u32,
}

/// Answers `POST /_partyhost/parties/{party}/rollback` with body
/// `{"version": N}`.
pub async fn rollback(
    State(app): State<Arc<App>>,
    Path(party): Path<String>,
    request: Request,
) -> Response {
    if let Some(denied) = refuse(&app, &request) {
        return denied;
    }
    let Ok(body) = axum::body::to_bytes(request.into_body(), 4096).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({"error": "body larger than 4096 bytes"})),
        )
            .into_response();
    };
    let Ok(wanted) = serde_json::from_slice::<RollbackRequest>(&body) else {
        let error = json!({"error": "expected {\"version\": <number>}"});
        return (StatusCode::BAD_REQUEST, Json(error)).into_response();
    };
    let deps = app.registry.deps().clone();
    match app.deployer.rollback(&deps, &party, wanted.version).await {
        Ok(version) => Json(json!({ "party": party, "version": version })).into_response(),
        Err(error) => deploy_error(&error),
    }
}

fn deploy_error(error: &DeployError) -> Response {
    let status = match error {
        DeployError::Rejected(_) => StatusCode::BAD_REQUEST,
        DeployError::NotFound(_) => StatusCode::NOT_FOUND,
        DeployError::Conflict(_) => StatusCode::CONFLICT,
        DeployError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if let DeployError::Internal(e) = error {
        tracing::error!(error = %format!("{e:#}"), "deploy failed");
    }
    (status, Json(json!({ "error": error.to_string() }))).into_response()
}

fn refuse(app: &App, request: &Request) -> Option<Response> {
    let Some(token) = app.admin_token.as_deref() else {
        return Some((StatusCode::NOT_FOUND, "admin API is off").into_response());
    };
    let offered = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match offered {
        Some(offered) if constant_time_eq(offered.as_bytes(), token.as_bytes()) => None,
        _ => Some(
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "admin token required",
            )
                .into_response(),
        ),
    }
}

/// Compares without stopping at the first difference, so timing does not
/// reveal how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
