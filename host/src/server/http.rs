//! Plain HTTP requests to a room: sent to its request hook, answered with
//! what the hook returns once the hook's writes are durable.

use std::sync::Arc;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use tokio::sync::oneshot;

use super::App;
use super::upgrade::dispatch_error;
use crate::ids::RoomKey;
use crate::room::calls::{CALLER_HEADER, CallChain};
use crate::room::event::{HttpRequest, HttpResponse, RoomEvent};
use crate::room::gatekeeper::{Before, Verdict};

/// Handles a non-upgrade request for room `key`.
pub async fn request(app: Arc<App>, key: RoomKey, parts: Parts, body: Body) -> Response {
    let limit = app.limits.max_request_body_bytes;
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    }
    let deadline = std::time::Duration::from_millis(app.limits.request_timeout_ms);
    let body = match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
        }
        Err(_) => return (StatusCode::REQUEST_TIMEOUT, "request body too slow").into_response(),
    };
    let mut request = HttpRequest {
        method: parts.method.as_str().to_owned(),
        url: parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned(),
        headers: header_pairs(&parts.headers),
        body: body.to_vec(),
    };
    if let Some(refused) = admit(&app, Before::Request, &key, &mut request).await {
        return refused;
    }

    let (reply, answer) = oneshot::channel();
    if let Err(error) = app
        .registry
        .dispatch(
            &key,
            RoomEvent::Request {
                request,
                reply,
                chain: CallChain::default(),
            },
        )
        .await
    {
        return dispatch_error(&error);
    }
    match answer.await {
        Ok(response) => into_response(response),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "room unavailable").into_response(),
    }
}

/// Runs the party's before hook; adds the headers it allows the request
/// with, or returns the response that ends the request.
pub async fn admit(
    app: &App,
    hook: Before,
    key: &RoomKey,
    request: &mut HttpRequest,
) -> Option<Response> {
    match app.registry.before(hook, key, request.clone()).await {
        Verdict::Allow(added) => {
            // An added header replaces what the client sent under that name,
            // so a client cannot forge what the hook vouches for.
            let added: Vec<(String, String)> = added
                .into_iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect();
            request
                .headers
                .retain(|(name, _)| !added.iter().any(|(n, _)| n == name));
            request.headers.extend(added);
            None
        }
        Verdict::Reject(response) => Some(into_response(response)),
        Verdict::Failed => Some((StatusCode::INTERNAL_SERVER_ERROR, "room error").into_response()),
    }
}

/// Lists headers as lowercase names and values (invalid UTF-8 replaced),
/// without the caller header, which only the host may set.
pub fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| name.as_str() != CALLER_HEADER)
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect()
}

/// Builds the HTTP response a room returned, dropping invalid headers.
fn into_response(response: HttpResponse) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = Response::new(Body::from(response.body));
    *out.status_mut() = status;
    for (name, value) in response.headers {
        let name = HeaderName::try_from(name.as_str());
        let value = HeaderValue::try_from(value.as_str());
        if let (Ok(name), Ok(value)) = (name, value) {
            out.headers_mut().append(name, value);
        }
    }
    out
}
