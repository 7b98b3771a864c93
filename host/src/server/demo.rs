//! The pages the host serves itself: the demo at `/` (pick a room, click
//! reactions, watch live counts) and the operator's status page at
//! `/_partyhost/` (it asks for the admin token and uses the admin API).

use axum::response::Html;

/// Serves the demo page (plain HTML and JS, no build step).
pub async fn page() -> Html<&'static str> {
    Html(include_str!("demo.html"))
}

/// Serves the status page; its data comes from the token-guarded admin API.
pub async fn status_page() -> Html<&'static str> {
    Html(include_str!("status.html"))
}
