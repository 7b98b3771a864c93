//! Room-to-room calls: answers, cycles, timeouts and unknown targets, and
//! the lobby example that the reaction rooms keep up to date through calls.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{TestEnv, get, probe, probe_ok, rooms, timed};

/// Parses the body of a call's answer as JSON.
fn body_json(answer: &Value) -> Value {
    let body = answer["body"].as_str().expect("body is text");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("body {body:?} is not json: {e}"))
}

#[tokio::test]
async fn a_call_returns_the_target_response_and_skips_its_before_hook() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut a = host.connect("/parties/probe/caller").await;

        let stored = json!({"op": "call", "party": "probe", "room": "callee",
            "method": "POST", "url": "/parties/probe/callee", "body": "greeting=hi"});
        let answer = probe_ok(&mut a, 1, stored).await;
        assert_eq!(answer, json!({"status": 200, "body": "stored"}));

        // The target's request hook ran: its storage has the value.
        let mut b = host.connect("/parties/probe/callee").await;
        let value = probe_ok(&mut b, 2, json!({"op": "get", "key": "greeting"})).await;
        assert_eq!(value, "hi");

        // A client's GET passes the before-request hook, which adds
        // `x-checked`; a call skips it.
        let fetched = json!({"op": "call", "party": "probe", "room": "callee"});
        let answer = probe_ok(&mut a, 3, fetched).await;
        assert_eq!(answer["status"], 200);
        assert_eq!(body_json(&answer)["checked"], Value::Null);
        let (status, body) = get(&host.http("/parties/probe/callee")).await;
        assert_eq!(status, 200);
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["checked"], "yes");
    })
    .await;
}

#[tokio::test]
async fn a_cycle_errors_at_once_and_both_rooms_keep_serving() {
    timed(async {
        // A long timeout: the cycle must be seen, not waited out.
        let env = TestEnv::with_config("[limits]\ncall_timeout_ms = 60000\n");
        let host = env.start().await;
        let mut a = host.connect("/parties/probe/cycle-a").await;

        // a calls b; b, while answering, calls a back.
        let back_to_a = json!({"party": "probe", "room": "cycle-a"}).to_string();
        let relay = json!({"op": "call", "party": "probe", "room": "cycle-b",
            "method": "POST", "url": "/relay", "body": back_to_a});
        let began = std::time::Instant::now();
        let answer = probe_ok(&mut a, 1, relay).await;
        assert_eq!(answer["status"], 200);
        assert_eq!(body_json(&answer), json!({"err": "cycle"}));
        assert!(began.elapsed() < Duration::from_secs(30), "cycle waited");

        // A room calling itself is the shortest cycle.
        let to_self = json!({"op": "call", "party": "probe", "room": "cycle-a"});
        let reply = probe(&mut a, 2, to_self).await;
        assert_eq!(reply["err"], "cycle");

        // Both rooms go on answering clients and calls.
        let room = probe_ok(&mut a, 3, json!({"op": "room"})).await;
        assert_eq!(room["id"], "cycle-a");
        let mut b = host.connect("/parties/probe/cycle-b").await;
        let room = probe_ok(&mut b, 4, json!({"op": "room"})).await;
        assert_eq!(room["id"], "cycle-b");
        let plain = json!({"op": "call", "party": "probe", "room": "cycle-a"});
        assert_eq!(probe_ok(&mut b, 5, plain).await["status"], 200);
    })
    .await;
}

#[tokio::test]
async fn calls_to_unknown_parties_or_bad_rooms_error() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut a = host.connect("/parties/probe/lost").await;

        let unknown = json!({"op": "call", "party": "nowhere", "room": "x"});
        let reply = probe(&mut a, 1, unknown).await;
        assert_eq!(reply["err"], "unknown-party:nowhere");

        let bad_name = json!({"op": "call", "party": "no such party", "room": "x"});
        let reply = probe(&mut a, 2, bad_name).await;
        assert_eq!(reply["err"], "unknown-party:no such party");

        let bad_room = json!({"op": "call", "party": "probe", "room": "a/b"});
        let reply = probe(&mut a, 3, bad_room).await;
        assert_eq!(reply["err"], "invalid-room:a/b");

        // No room was started for the failed calls.
        let rooms = host.admin("/_partyhost/rooms").await;
        assert_eq!(rooms["rooms"].as_array().map(Vec::len), Some(1), "{rooms}");
    })
    .await;
}

#[tokio::test]
async fn a_slow_target_times_the_call_out_and_both_rooms_keep_serving() {
    timed(async {
        let env = TestEnv::with_config("[limits]\ncall_timeout_ms = 200\n");
        let host = env.start().await;
        let mut a = host.connect("/parties/probe/impatient").await;

        // The target spins for 700 ms in its request hook (under its 1 s CPU
        // deadline), longer than the caller will wait.
        let slow = json!({"op": "call", "party": "probe", "room": "slow",
            "method": "POST", "url": "/busy", "body": "700"});
        let reply = probe(&mut a, 1, slow).await;
        assert_eq!(reply["err"], "timeout:200");

        // The caller serves on; the target finished the request and serves
        // on too.
        let room = probe_ok(&mut a, 2, json!({"op": "room"})).await;
        assert_eq!(room["id"], "impatient");
        let mut b = host.connect("/parties/probe/slow").await;
        let events = probe_ok(&mut b, 3, json!({"op": "events"})).await;
        let hooks: Vec<&str> = events
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["hook"].as_str())
            .collect();
        assert!(hooks.contains(&"request"), "{hooks:?}");
    })
    .await;
}

#[tokio::test]
async fn the_lobby_lists_the_totals_of_three_reaction_rooms() {
    timed(async {
        let tables = format!(
            "[parties.lobby]\ncomponent = {lobby:?}\n\
             [parties.talks]\ncomponent = {reaction:?}\nvars = {{ LOBBY = \"lobby/main\" }}\n",
            lobby = rooms().lobby,
            reaction = rooms().reaction,
        );
        let env = TestEnv::with_config(&tables);
        let host = env.start().await;
        let mut lobby = host.connect("/parties/lobby/main").await;
        let first = lobby.next_json().await;
        assert_eq!(first, json!({"type": "talks", "talks": []}));

        for (talk, kind, times) in [("t1", "heart", 1), ("t2", "clap", 2), ("t3", "heart", 3)] {
            let mut client = host.connect(&format!("/parties/talks/{talk}")).await;
            for _ in 0..times {
                client
                    .send_json(&json!({"type": "reaction", "kind": kind}))
                    .await;
            }
            client.next_json_where(|v| v["counts"][kind] == times).await;
        }

        // Reports arrive within a moment; the list ends with all three.
        let listed = lobby
            .next_json_where(|v| {
                let totals: Vec<u64> = v["talks"]
                    .as_array()
                    .map(|t| t.iter().filter_map(|e| e["total"].as_u64()).collect())
                    .unwrap_or_default();
                totals == [3, 2, 1]
            })
            .await;
        let rooms: Vec<&str> = listed["talks"]
            .as_array()
            .expect("talks")
            .iter()
            .filter_map(|t| t["room"].as_str())
            .collect();
        assert_eq!(rooms, ["t3", "t2", "t1"]);
        assert_eq!(listed["talks"][1]["counts"], json!({"clap": 2}));
        assert_eq!(listed["talks"][0]["party"], "talks");

        // GET answers the same list, and it survives a restart.
        let (status, body) = get(&host.http("/parties/lobby/main")).await;
        assert_eq!(status, 200);
        assert_eq!(serde_json::from_str::<Value>(&body).expect("json"), listed);
        drop(lobby);
        assert!(host.terminate().await, "host stops cleanly");
        let host = env.start().await;
        let (_, body) = get(&host.http("/parties/lobby/main")).await;
        assert_eq!(serde_json::from_str::<Value>(&body).expect("json"), listed);

        // A client cannot report, even naming a caller.
        let forged = reqwest::Client::new()
            .post(host.http("/parties/lobby/main/report"))
            .header("x-partyhost-caller", "talks/t1")
            .body(r#"{"counts":{"heart":999}}"#)
            .send()
            .await
            .expect("POST");
        assert_eq!(forged.status().as_u16(), 403);
    })
    .await;
}
