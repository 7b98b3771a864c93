//! The `context` and `log` imports, and how failed hooks are handled.

use serde_json::{Value, json};

use crate::harness::{TestEnv, probe, probe_ok, timed};

#[tokio::test]
async fn room_knows_its_id_party_and_vars() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = host.connect("/parties/probe/who-am-i").await;
        c.next_json().await;
        let room = probe_ok(&mut c, 1, json!({"op": "room"})).await;
        assert_eq!(room, json!({"id": "who-am-i", "party": "probe"}));
        let vars = probe_ok(&mut c, 2, json!({"op": "vars"})).await;
        assert_eq!(vars, json!({"GREETING": "hello"}));
    })
    .await;
}

#[tokio::test]
async fn tags_and_state_are_kept_per_connection() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut a = host
            .connect("/parties/probe/tags?_pk=a&tags=red,blue")
            .await;
        a.next_json().await;
        let mut b = host.connect("/parties/probe/tags?_pk=b&tags=blue").await;
        b.next_json().await;

        let reds = probe_ok(&mut a, 1, json!({"op": "connections", "tag": "red"})).await;
        let ids: Vec<Value> = reds
            .as_array()
            .expect("list")
            .iter()
            .map(|c| c["id"].clone())
            .collect();
        assert_eq!(ids, vec![json!("a")]);
        let blues = probe_ok(&mut a, 2, json!({"op": "connections", "tag": "blue"})).await;
        assert_eq!(blues.as_array().map(Vec::len), Some(2));

        probe_ok(
            &mut a,
            3,
            json!({"op": "set-state", "to": "b", "state": "seat 4"}),
        )
        .await;
        assert_eq!(
            probe_ok(&mut b, 1, json!({"op": "get-state", "to": "b"})).await,
            "seat 4"
        );
        let too_big = "x".repeat(2049);
        let reply = probe(
            &mut a,
            4,
            json!({"op": "set-state", "to": "b", "state": too_big}),
        )
        .await;
        assert_eq!(reply["err"], "state-too-large:2048");
        let reply = probe(&mut a, 5, json!({"op": "get-state", "to": "nobody"})).await;
        assert_eq!(reply["err"], "unknown-connection:nobody");
        let ten: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        let reply = probe(&mut a, 6, json!({"op": "set-tags", "to": "a", "tags": ten})).await;
        assert_eq!(reply["err"], "invalid-tags");
    })
    .await;
}

#[tokio::test]
async fn what_a_room_prints_and_logs_reaches_the_host_log() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = host.connect("/parties/probe/chatty").await;
        c.next_json().await;
        probe_ok(
            &mut c,
            1,
            json!({"op": "print", "text": "printed-marker-7"}),
        )
        .await;
        let log = json!({"op": "log", "level": "warn", "message": "logged-marker-8"});
        probe_ok(&mut c, 2, log).await;

        let text = host.log();
        let printed = text
            .lines()
            .find(|l| l.contains("printed-marker-7"))
            .expect("printed line");
        assert!(
            printed.contains("chatty") && printed.contains("probe"),
            "{printed}"
        );
        let logged = text
            .lines()
            .find(|l| l.contains("logged-marker-8"))
            .expect("logged line");
        assert!(
            logged.contains("WARN") && logged.contains("chatty"),
            "{logged}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_failed_connect_closes_with_1011() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        for query in ["fail=1", "trap=1"] {
            let mut c = host.connect(&format!("/parties/probe/gate?{query}")).await;
            let close = c.expect_close().await;
            assert_eq!(
                close.map(|(code, _)| code),
                Some(1011),
                "connect with {query}"
            );
        }
        // The room still serves the next connection.
        let mut ok = host.connect("/parties/probe/gate").await;
        assert_eq!(ok.next_json().await["event"], "connected");
    })
    .await;
}

#[tokio::test]
async fn a_trap_gets_a_fresh_instance_that_keeps_stored_state() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = host.connect("/parties/probe/trappy?_pk=t").await;
        c.next_json().await;
        let before = probe_ok(&mut c, 1, json!({"op": "instance"})).await;
        probe_ok(&mut c, 2, json!({"op": "put", "key": "kept", "value": "1"})).await;

        // The socket whose message trapped is closed with 1011; others stay.
        let mut other = host.connect("/parties/probe/trappy?_pk=o").await;
        other.next_json().await;
        c.send_json(&json!({"id": 3, "op": "trap"})).await;
        let closed = c.expect_close().await;
        assert_eq!(closed.map(|(code, _)| code), Some(1011));

        let mut c = other;
        let after = probe_ok(&mut c, 4, json!({"op": "instance"})).await;
        assert_ne!(
            before["instance"], after["instance"],
            "a fresh instance serves"
        );
        assert_eq!(probe_ok(&mut c, 5, json!({"op": "starts"})).await, 2);
        assert_eq!(
            probe_ok(&mut c, 6, json!({"op": "get", "key": "kept"})).await,
            "1"
        );
    })
    .await;
}
