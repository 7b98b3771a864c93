//! The `yjs` room with the unmodified `y-partykit` provider (Yjs from npm,
//! run by Node): providers converge, and the document comes back after a
//! host restart, after hibernation, and when it is larger than one storage
//! value; awareness survives hibernation.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use crate::harness::{Host, TestEnv, get, timed};
use crate::partysocket::{node_dir, run_node};

/// Runs `yjs-providers.mjs` against `host` and returns the JSON it printed.
async fn providers(host: &Host, args: &[&str]) -> Value {
    let addr = host.addr.to_string();
    let args: Vec<&str> = std::iter::once(addr.as_str())
        .chain(args.iter().copied())
        .collect();
    let stdout = run_node("yjs-providers.mjs", &args, &[]).await;
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|_| panic!("client printed no JSON: {stdout}"))
}

/// Returns what the room says it stores (`GET` on the room).
async fn stored(host: &Host, room: &str) -> Value {
    let (status, body) = get(&host.http(&format!("/parties/yjs/{room}"))).await;
    assert_eq!(status, 200, "GET on the yjs room: {body}");
    serde_json::from_str(&body).expect("json")
}

/// Waits until the admin API lists `yjs/room` as asleep.
async fn wait_until_asleep(host: &Host, room: &str) {
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let rooms = host.admin("/_partyhost/rooms").await;
        let listed = rooms["rooms"].as_array().and_then(|rooms| {
            rooms
                .iter()
                .find(|r| r["party"] == "yjs" && r["room"] == room)
                .cloned()
        });
        if listed.is_some_and(|r| r["awake"] == false) {
            return;
        }
    }
    panic!("the room yjs/{room} did not hibernate");
}

#[tokio::test]
async fn y_partykit_providers_converge_and_the_document_survives_restart_and_hibernation() {
    timed(async {
        let env = TestEnv::with_config("[limits]\nhibernate_after_ms = 500\n");
        let host = env.start().await;

        // Two providers edit one document concurrently and converge.
        let edited = providers(&host, &["edit", "notes", "20"]).await;
        let text = edited["text"].as_str().expect("text").to_owned();
        for i in 0..20 {
            assert!(
                text.contains(&format!("A{i};")),
                "A{i} missing from {text:?}"
            );
            assert!(
                text.contains(&format!("B{i};")),
                "B{i} missing from {text:?}"
            );
        }
        assert_eq!(
            edited["sawPeer"], true,
            "awareness reached the other provider"
        );

        // A third client after a restart gets the same document.
        assert!(host.terminate().await, "the host shut down cleanly");
        let host = env.start().await;
        let after_restart = providers(&host, &["read", "notes"]).await;
        assert_eq!(after_restart["text"], text.as_str());

        // And after hibernation: a plain socket keeps the room live while it
        // sleeps, so the next client wakes the same room from storage.
        let _keeper = host.connect("/parties/yjs/notes").await;
        wait_until_asleep(&host, "notes").await;
        let after_sleep = providers(&host, &["read", "notes"]).await;
        assert_eq!(after_sleep["text"], text.as_str());
    })
    .await;
}

#[tokio::test]
async fn a_document_larger_than_a_message_and_a_value_survives_restart() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;

        // 1.5 MB: the provider splits it into chunked messages (over 1 MB)
        // and the room stores it across several values (128 KiB each).
        let written = providers(&host, &["big", "large", "1500000"]).await;
        assert_eq!(written["length"], 1_500_000);
        let stats = stored(&host, "large").await;
        assert!(stats["bytes"].as_u64() > Some(1_500_000), "{stats}");
        assert!(stats["snapshotChunks"].as_u64() >= Some(12), "{stats}");

        assert!(host.terminate().await, "the host shut down cleanly");
        let host = env.start().await;
        let read = providers(&host, &["read", "large"]).await;
        assert_eq!(read["length"], written["length"]);
        assert_eq!(read["sha256"], written["sha256"]);
    })
    .await;
}

#[tokio::test]
async fn snapshot_chunks_follow_a_lower_value_limit() {
    timed(async {
        let env = TestEnv::with_config("[limits]\nmax_value_bytes = 8192\n");
        let host = env.start().await;

        let written = providers(&host, &["big", "small-values", "100000"]).await;
        let stats = stored(&host, "small-values").await;
        assert!(stats["snapshotChunks"].as_u64() >= Some(13), "{stats}");

        assert!(host.terminate().await, "the host shut down cleanly");
        let host = env.start().await;
        let read = providers(&host, &["read", "small-values"]).await;
        assert_eq!(read["sha256"], written["sha256"]);
    })
    .await;
}

#[tokio::test]
async fn awareness_survives_hibernation() {
    timed(async {
        let env = TestEnv::with_config("[limits]\nhibernate_after_ms = 500\n");
        let host = env.start().await;

        // The stayer announces itself and stays connected, without renewals.
        let mut child = tokio::process::Command::new("node")
            .arg("yjs-providers.mjs")
            .arg(host.addr.to_string())
            .args(["presence", "lounge"])
            .current_dir(node_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = lines.next_line().await.expect("read stdout");
        assert_eq!(ready.as_deref(), Some(r#"{"ready":true}"#));

        // Once the room sleeps, a newcomer must still learn of the stayer.
        wait_until_asleep(&host, "lounge").await;
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin.write_all(b"join\n").await.expect("write stdin");
        let result = lines.next_line().await.expect("read stdout");
        assert_eq!(result.as_deref(), Some(r#"{"sawStayer":true}"#));
        assert!(child.wait().await.expect("wait").success());
    })
    .await;
}
