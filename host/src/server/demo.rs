//! The demo page at `/`: pick a room, click reactions, watch live counts.

use axum::response::Html;

/// Serves the demo page (plain HTML and JS, no build step).
pub async fn page() -> Html<&'static str> {
    Html(include_str!("demo.html"))
}
