//! Durability under a crash: nothing a client saw is lost to `kill -9`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Client, TestEnv, get, timed};

/// Sends reactions until the socket breaks; returns the highest count of
/// each kind this client saw in a broadcast.
async fn react_until_killed(mut client: Client, kind: &'static str) -> BTreeMap<String, u64> {
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let reaction = json!({"type": "reaction", "kind": kind}).to_string();
    loop {
        let sent = futures_util::SinkExt::send(client.raw(), Message::text(reaction.clone())).await;
        if sent.is_err() {
            return seen;
        }
        let next = tokio::time::timeout(
            Duration::from_secs(5),
            futures_util::StreamExt::next(client.raw()),
        )
        .await;
        match next {
            Ok(Some(Ok(Message::Text(text)))) => {
                let message: Value = serde_json::from_str(&text).expect("json");
                for (k, v) in message["counts"].as_object().into_iter().flatten() {
                    let v = v.as_u64().expect("count");
                    let best = seen.entry(k.clone()).or_default();
                    *best = (*best).max(v);
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => return seen,
        }
    }
}

#[tokio::test]
async fn counts_survive_kill_9_mid_load() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let rooms = ["crash-a", "crash-b", "crash-c"];

        let mut tasks = Vec::new();
        for (i, room) in rooms.iter().enumerate() {
            for kind in ["heart", "fire"] {
                let mut c = host
                    .connect(&format!("/parties/reaction/{room}?_pk={kind}{i}"))
                    .await;
                c.next_json().await;
                let task = tokio::spawn(react_until_killed(c, kind));
                tasks.push((*room, task));
            }
        }
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        host.kill9();

        let mut seen: BTreeMap<(&str, String), u64> = BTreeMap::new();
        for (room, task) in tasks {
            for (kind, count) in task.await.expect("client task") {
                let best = seen.entry((room, kind)).or_default();
                *best = (*best).max(count);
            }
        }
        assert!(
            seen.values().any(|n| *n > 0),
            "clients saw counts before the crash"
        );

        let host = env.start().await;
        for ((room, kind), saw) in seen {
            let (_, body) = get(&host.http(&format!("/parties/reaction/{room}"))).await;
            let body: Value = serde_json::from_str(&body).expect("json");
            let stored = body["counts"][&kind].as_u64().unwrap_or(0);
            assert!(
                stored >= saw,
                "{room}/{kind}: a client saw {saw}, storage kept {stored}"
            );
        }
    })
    .await;
}
