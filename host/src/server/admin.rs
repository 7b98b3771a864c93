//! The admin API under `/_partyhost/`: every route needs the configured
//! bearer token; with no token configured the API is off (404).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Json, Response};
use serde_json::json;

use super::App;
use crate::room::hooks::TrapCause;

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
        "traps": stats.traps.load(Ordering::Relaxed),
        "traps_by_cause": TrapCause::ALL
            .iter()
            .zip(&stats.traps_by_cause)
            .map(|(cause, n)| (cause.name(), n.load(Ordering::Relaxed)))
            .collect::<std::collections::BTreeMap<_, _>>(),
        "slow_consumers": stats.slow_consumers.load(Ordering::Relaxed),
    }))
    .into_response()
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
fn refuse(app: &App, request: &Request) -> Option<Response> {
    let Some(token) = app.admin_token.as_deref() else {
        return Some((StatusCode::NOT_FOUND, "admin API is off").into_response());
    };
    let offered = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
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
