//! Hibernation: an idle room drops its instance and keeps its sockets.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Client, Host, TestEnv, probe_ok, timed};

/// Returns the room `party/room` as the admin API lists it.
async fn listed(host: &Host, party: &str, room: &str) -> Option<Value> {
    let rooms = host.admin("/_partyhost/rooms").await;
    rooms["rooms"]
        .as_array()?
        .iter()
        .find(|r| r["party"] == party && r["room"] == room)
        .cloned()
}

#[tokio::test]
async fn a_hibernated_room_keeps_2000_sockets_and_wakes_once() {
    timed(async {
        let env = TestEnv::with_config("[limits]\nhibernate_after_ms = 1000\n");
        let host = env.start().await;
        let total = 2000;

        let mut clients: Vec<Client> = Vec::with_capacity(total);
        for i in 0..total {
            let tag = if i % 2 == 0 { "even" } else { "odd" };
            let mut c = host
                .connect(&format!("/parties/probe/big?_pk=c{i}&tags={tag}"))
                .await;
            c.next_json_where(|m| m["event"] == "connected" && m["id"] == format!("c{i}"))
                .await;
            clients.push(c);
        }
        probe_ok(
            &mut clients[0],
            1,
            json!({"op": "set-state", "to": "c7", "state": "seat 7"}),
        )
        .await;
        let starts_before = probe_ok(&mut clients[0], 2, json!({"op": "starts"})).await;

        // Wait for the room to fall asleep with every socket still open.
        let mut asleep = None;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let room = listed(&host, "probe", "big").await.expect("room is live");
            if room["awake"] == false {
                asleep = Some(room);
                break;
            }
        }
        let asleep = asleep.expect("the room hibernated");
        assert_eq!(asleep["connections"], total);
        let status = host.admin("/_partyhost/status").await;
        assert_eq!(status["rooms"]["awake"], 0);
        assert_eq!(status["connections"], total);

        // One message wakes it: start runs once, the broadcast reaches all.
        let wake = json!({"op": "broadcast", "text": "{\"event\":\"woken\"}", "exclude": []});
        probe_ok(&mut clients[1], 3, wake).await;
        // (The sender's own copy was passed over while it awaited its reply.)
        for (i, c) in clients.iter_mut().enumerate().filter(|(i, _)| *i != 1) {
            let woken = c
                .next_json_where(|m| m["event"] == "woken" || m["id"].is_u64())
                .await;
            assert_eq!(woken["event"], "woken", "client {i}");
        }
        let starts_after = probe_ok(&mut clients[1], 4, json!({"op": "starts"})).await;
        assert_eq!(starts_after.as_u64(), starts_before.as_u64().map(|n| n + 1));

        // Tags and state survived the sleep.
        let odd = probe_ok(
            &mut clients[1],
            5,
            json!({"op": "connections", "tag": "odd"}),
        )
        .await;
        assert_eq!(odd.as_array().map(Vec::len), Some(total / 2));
        let state = probe_ok(&mut clients[1], 6, json!({"op": "get-state", "to": "c7"})).await;
        assert_eq!(state, "seat 7");
    })
    .await;
}

#[tokio::test]
async fn a_room_with_no_sockets_and_no_alarm_is_forgotten() {
    timed(async {
        let env = TestEnv::with_config("[limits]\nhibernate_after_ms = 300\n");
        let host = env.start().await;
        let c = host.connect("/parties/reaction/brief").await;
        let _ = c.close(1000, "").await;
        let mut gone = false;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if listed(&host, "reaction", "brief").await.is_none() {
                gone = true;
                break;
            }
        }
        assert!(gone, "the unused room retired");
        // And it comes back on demand.
        let mut c = host.connect("/parties/reaction/brief").await;
        assert_eq!(c.next_json().await["type"], "counts");
    })
    .await;
}
