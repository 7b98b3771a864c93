//! Durability under a crash: nothing a client saw is lost to `kill -9`.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Client, Host, TestEnv, get, timed};

/// What one client did before the crash.
#[derive(Default)]
struct Tally {
    /// Reactions it sent.
    sent: u64,
    /// The highest count of its kind it saw in a broadcast.
    seen: u64,
}

/// Sends reactions until the socket breaks, counting what it sent and saw.
async fn react_until_killed(mut client: Client, kind: String) -> Tally {
    let mut tally = Tally::default();
    let reaction = json!({"type": "reaction", "kind": kind}).to_string();
    loop {
        if client
            .raw()
            .send(Message::text(reaction.clone()))
            .await
            .is_err()
        {
            return tally;
        }
        tally.sent += 1;
        let next = tokio::time::timeout(Duration::from_secs(5), client.raw().next()).await;
        match next {
            Ok(Some(Ok(Message::Text(text)))) => {
                let message: Value = serde_json::from_str(&text).expect("json");
                let count = message["counts"][&kind].as_u64().unwrap_or(0);
                tally.seen = tally.seen.max(count);
            }
            Ok(Some(Ok(_))) => {}
            _ => return tally,
        }
    }
}

/// Loads `rooms` with one reacting client each, kills the host with SIGKILL
/// after `load`, and returns each room's tally.
async fn crash_round(host: Host, rooms: &[String], load: Duration) -> BTreeMap<String, Tally> {
    let mut tasks = Vec::new();
    for room in rooms {
        let mut c = host.connect(&format!("/parties/reaction/{room}")).await;
        c.next_json().await;
        tasks.push((
            room.clone(),
            tokio::spawn(react_until_killed(c, "heart".into())),
        ));
    }
    tokio::time::sleep(load).await;
    host.kill9();

    let mut tallies = BTreeMap::new();
    for (room, task) in tasks {
        tallies.insert(room, task.await.expect("client task"));
    }
    tallies
}

/// Returns the stored heart count of `room`.
async fn stored_hearts(host: &Host, room: &str) -> u64 {
    let (_, body) = get(&host.http(&format!("/parties/reaction/{room}"))).await;
    let body: Value = serde_json::from_str(&body).expect("json");
    body["counts"]["heart"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn ten_kill_9_rounds_in_twenty_rooms_lose_nothing_any_client_saw() {
    timed(async {
        let env = TestEnv::new();
        let rooms: Vec<String> = (0..20).map(|i| format!("crash-{i}")).collect();
        let mut sent: BTreeMap<String, u64> = BTreeMap::new();

        for round in 0..10 {
            let host = env.start().await;
            let before: BTreeMap<String, u64> = {
                let mut counts = BTreeMap::new();
                for room in &rooms {
                    counts.insert(room.clone(), stored_hearts(&host, room).await);
                }
                counts
            };
            let tallies = crash_round(host, &rooms, Duration::from_millis(400)).await;
            assert!(
                tallies.values().any(|t| t.seen > 0),
                "round {round}: clients saw counts"
            );

            let host = env.start().await;
            for (room, tally) in &tallies {
                let total_sent = sent.entry(room.clone()).or_default();
                *total_sent += tally.sent;
                let stored = stored_hearts(&host, room).await;
                assert!(
                    stored >= tally.seen,
                    "round {round}, {room}: saw {}, kept {stored}",
                    tally.seen
                );
                assert!(
                    stored >= before[room],
                    "round {round}, {room}: counts went back"
                );
                assert!(
                    stored <= *total_sent,
                    "round {round}, {room}: more than was sent"
                );
            }
            host.kill9();
        }
    })
    .await;
}
