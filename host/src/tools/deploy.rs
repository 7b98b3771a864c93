//! `partyhost deploy`: uploads a component to a running host's admin API.

use std::path::Path;

use anyhow::{Context as _, bail};

/// Uploads `component` as the next version of `party` on the host at `url`,
/// and returns the host's answer.
pub async fn deploy(
    url: &str,
    token: &str,
    party: &str,
    component: &Path,
) -> anyhow::Result<serde_json::Value> {
    crate::ids::PartyName::check(party).map_err(anyhow::Error::msg)?;
    let bytes = std::fs::read(component)
        .with_context(|| format!("failed to read component {component:?}"))?;
    let endpoint = format!(
        "{}/_partyhost/parties/{party}/module",
        url.trim_end_matches('/')
    );
    let response = reqwest::Client::new()
        .put(&endpoint)
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .with_context(|| format!("failed to reach {endpoint}"))?;
    let status = response.status();
    let text = response.text().await.context("failed to read the answer")?;
    let answer: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|_| serde_json::json!({ "error": text }));
    if !status.is_success() {
        let reason = answer["error"].as_str().unwrap_or("no reason given");
        bail!("deploy refused ({status}): {reason}");
    }
    Ok(answer)
}
