//! The reaction room, end to end, in every language it is written in: each
//! behaviour is one test body, run once per party in [`reaction_tests!`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Client, TestEnv, get, rooms};

fn reaction(kind: &str) -> Value {
    json!({"type": "reaction", "kind": kind})
}

/// Generates one test per reaction party for each named test body (an
/// `async fn(party: &str)`), as `reaction::<body>::<language>`. Add a
/// language here, once, to run every reaction test against it.
macro_rules! reaction_tests {
    ($($body:ident),* $(,)?) => {$(
        mod $body {
            #[tokio::test]
            async fn rust() {
                crate::harness::timed(super::$body("reaction")).await;
            }

            #[tokio::test]
            async fn js() {
                crate::harness::timed(super::$body("reaction-js")).await;
            }

            #[tokio::test]
            async fn python() {
                crate::harness::timed(super::$body("reaction-py")).await;
            }
        }
    )*};
}

reaction_tests!(
    new_connection_gets_current_counts,
    many_clients_agree_on_final_counts,
    rooms_never_see_each_others_counts,
    malformed_message_gets_an_error_and_the_room_goes_on,
    counts_survive_a_graceful_restart,
    a_burst_delivers_every_broadcast_in_order,
    counts_are_reported_to_the_lobby,
);

/// Returns the component that serves `party` in the test config.
fn component_of(party: &str) -> PathBuf {
    if party == "reaction" {
        return rooms().reaction.clone();
    }
    let guest = rooms().guests.iter().find(|(name, _)| *name == party);
    guest
        .map(|(_, path)| path.clone())
        .expect("a reaction party")
}

/// Reads messages until the counts equal `expected`.
async fn wait_for_counts(client: &mut Client, expected: &Value) {
    client
        .next_json_where(|m| m["type"] == "counts" && &m["counts"] == expected)
        .await;
}

async fn new_connection_gets_current_counts(party: &str) {
    let env = TestEnv::new();
    let host = env.start().await;

    let mut first = host.connect(&format!("/parties/{party}/talk-1")).await;
    assert_eq!(
        first.next_json().await,
        json!({"type": "counts", "counts": {}, "people": 1})
    );
    first.send_json(&reaction("heart")).await;
    wait_for_counts(&mut first, &json!({"heart": 1})).await;

    let mut second = host.connect(&format!("/parties/{party}/talk-1")).await;
    let greeting = second.next_json().await;
    assert_eq!(
        greeting,
        json!({"type": "counts", "counts": {"heart": 1}, "people": 2})
    );
}

async fn many_clients_agree_on_final_counts(party: &str) {
    let env = TestEnv::new();
    let host = env.start().await;
    let kinds = ["heart", "fire", "clap", "party"];
    let (clients, per_client) = (20, 50);

    let mut sockets = Vec::new();
    for _ in 0..clients {
        let mut c = host.connect(&format!("/parties/{party}/busy-talk")).await;
        c.next_json().await;
        sockets.push(c);
    }

    let mut expected: BTreeMap<&str, u64> = BTreeMap::new();
    let mut senders = Vec::new();
    for (i, mut client) in sockets.into_iter().enumerate() {
        let mine: Vec<&str> = (0..per_client)
            .map(|j| kinds[(i + j) % kinds.len()])
            .collect();
        for kind in &mine {
            *expected.entry(kind).or_default() += 1;
        }
        senders.push(tokio::spawn(async move {
            for kind in mine {
                client.send_json(&reaction(kind)).await;
            }
            client
        }));
    }
    let expected = serde_json::to_value(&expected).expect("json");

    for sender in senders {
        let mut client = sender.await.expect("sender task");
        wait_for_counts(&mut client, &expected).await;
    }
    let (status, body) = get(&host.http(&format!("/parties/{party}/busy-talk"))).await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).expect("json body");
    assert_eq!(body["counts"], expected);
}

async fn rooms_never_see_each_others_counts(party: &str) {
    let env = TestEnv::new();
    let host = env.start().await;

    let mut a = host.connect(&format!("/parties/{party}/room-a")).await;
    a.next_json().await;
    a.send_json(&reaction("heart")).await;
    wait_for_counts(&mut a, &json!({"heart": 1})).await;

    let mut b = host.connect(&format!("/parties/{party}/room-b")).await;
    assert_eq!(b.next_json().await["counts"], json!({}));
    b.send_json(&reaction("fire")).await;
    wait_for_counts(&mut b, &json!({"fire": 1})).await;

    let (_, body) = get(&host.http(&format!("/parties/{party}/room-a"))).await;
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["counts"], json!({"heart": 1}));
    // The legacy route and the party `main` share nothing with this party.
    let (_, body) = get(&host.http("/party/room-a")).await;
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["counts"], json!({}));
}

async fn malformed_message_gets_an_error_and_the_room_goes_on(party: &str) {
    let env = TestEnv::new();
    let host = env.start().await;
    let mut bad = host.connect(&format!("/parties/{party}/r")).await;
    bad.next_json().await;
    let mut other = host.connect(&format!("/parties/{party}/r")).await;
    other.next_json().await;
    assert_eq!(bad.next_json().await["people"], 2, "the join is announced");

    for junk in [
        "not json",
        r#"{"type":"reaction"}"#,
        r#"{"type":"reaction","kind":""}"#,
    ] {
        bad.send_text(junk).await;
        let reply = bad.next_json().await;
        assert_eq!(reply["type"], "error", "reply to {junk:?}: {reply}");
    }
    bad.send_json(&reaction("heart")).await;
    wait_for_counts(&mut bad, &json!({"heart": 1})).await;
    // The other client saw no error, only the count.
    let seen = other.next_json().await;
    assert_eq!(
        seen,
        json!({"type": "counts", "counts": {"heart": 1}, "people": 2})
    );
}

async fn counts_survive_a_graceful_restart(party: &str) {
    let env = TestEnv::new();
    let host = env.start().await;
    let mut c = host.connect(&format!("/parties/{party}/keep")).await;
    c.next_json().await;
    for _ in 0..5 {
        c.send_json(&reaction("clap")).await;
    }
    wait_for_counts(&mut c, &json!({"clap": 5})).await;
    assert!(host.terminate().await, "host exits cleanly on SIGTERM");
    let closing = c.expect_close().await;
    assert_eq!(closing.map(|(code, _)| code), Some(1001));

    let host = env.start().await;
    let mut c = host.connect(&format!("/parties/{party}/keep")).await;
    assert_eq!(c.next_json().await["counts"], json!({"clap": 5}));
}

async fn a_burst_delivers_every_broadcast_in_order(party: &str) {
    let env = TestEnv::new();
    let host = env.start().await;
    let mut sender = host.connect(&format!("/parties/{party}/burst")).await;
    sender.next_json().await;
    let mut watcher = host.connect(&format!("/parties/{party}/burst")).await;
    watcher.next_json().await;
    assert_eq!(
        sender.next_json().await["people"],
        2,
        "the join is announced"
    );

    let total = 2_000u64;
    let reaction = reaction("heart").to_string();
    for _ in 0..total {
        futures_util::SinkExt::feed(sender.raw(), Message::text(reaction.clone()))
            .await
            .expect("feed");
    }
    futures_util::SinkExt::flush(sender.raw())
        .await
        .expect("flush");

    // Both sockets see every count from 1 to the total, none skipped.
    for client in [&mut sender, &mut watcher] {
        for expected in 1..=total {
            let message = client.next_json().await;
            assert_eq!(
                message["counts"]["heart"], expected,
                "broadcast {expected} arrived"
            );
        }
    }
}

async fn counts_are_reported_to_the_lobby(party: &str) {
    let tables = format!(
        "[parties.lobby]\ncomponent = {lobby:?}\n\
         [parties.talks]\ncomponent = {room:?}\nvars = {{ LOBBY = \"lobby/main\" }}\n",
        lobby = rooms().lobby,
        room = component_of(party),
    );
    let env = TestEnv::with_config(&tables);
    let host = env.start().await;
    let mut lobby = host.connect("/parties/lobby/main").await;
    assert_eq!(
        lobby.next_json().await,
        json!({"type": "talks", "talks": []})
    );

    let mut client = host.connect("/parties/talks/t1").await;
    client.next_json().await;
    for kind in ["heart", "heart", "clap"] {
        client.send_json(&reaction(kind)).await;
    }
    wait_for_counts(&mut client, &json!({"heart": 2, "clap": 1})).await;

    // One report follows the burst, naming the reporting room.
    let listed = lobby.next_json_where(|v| v["talks"][0]["total"] == 3).await;
    assert_eq!(
        listed["talks"],
        json!([{"party": "talks", "room": "t1", "counts": {"clap": 1, "heart": 2}, "total": 3}])
    );
}
