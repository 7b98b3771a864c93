//! The standard `partysocket` client (from npm, run by Node) works unchanged.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::harness::{TestEnv, get, timed};

/// Installs the Node test clients' locked dependencies once per run and
/// returns their folder.
pub fn node_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node");
        let installed = ["partysocket", "playwright-core", "y-partykit", "yjs"]
            .iter()
            .all(|package| dir.join("node_modules").join(package).is_dir());
        if !installed {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .expect("npm runs (Node 20 and npm are needed)");
            assert!(status.success(), "failed to install the Node test client");
        }
        dir
    })
}

#[tokio::test]
async fn partysocket_connects_reacts_and_sees_counts() {
    timed(async {
        let dir = node_dir().clone();
        let env = TestEnv::new();
        let host = env.start().await;

        let addr = host.addr.to_string();
        let output = tokio::process::Command::new("node")
            .arg("partysocket-reaction.mjs")
            .args([addr.as_str(), "node-room"])
            .current_dir(&dir)
            .output()
            .await
            .expect("node runs");
        assert!(
            output.status.success(),
            "partysocket client failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );

        let (_, body) = get(&host.http("/parties/reaction/node-room")).await;
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["counts"]["heart"], 1);
    })
    .await;
}
