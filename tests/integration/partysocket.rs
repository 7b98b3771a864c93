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

/// Runs `script` in the Node test clients' folder with `args` (and extra
/// environment `envs`), fails the test with its output unless it exits 0,
/// and returns what it printed.
pub async fn run_node(script: &str, args: &[&str], envs: &[(&str, &str)]) -> String {
    let output = tokio::process::Command::new("node")
        .arg(script)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(node_dir())
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} {args:?} failed:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn partysocket_connects_reacts_and_sees_counts() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;

        let addr = host.addr.to_string();
        run_node("partysocket-reaction.mjs", &[&addr, "node-room"], &[]).await;

        let (_, body) = get(&host.http("/parties/reaction/node-room")).await;
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["counts"]["heart"], 1);
    })
    .await;
}
