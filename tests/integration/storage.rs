//! Every storage import, exercised through the probe room.

use serde_json::{Value, json};

use crate::harness::{Client, TestEnv, probe, probe_ok, timed};

async fn probe_client(env_host: &crate::harness::Host, room: &str) -> Client {
    let mut c = env_host
        .connect(&format!("/parties/probe/{room}?_pk=tester"))
        .await;
    assert_eq!(c.next_json().await["event"], "connected");
    c
}

fn keys(entries: &Value) -> Vec<String> {
    entries
        .as_array()
        .expect("list of entries")
        .iter()
        .map(|e| e[0].as_str().expect("key").to_owned())
        .collect()
}

#[tokio::test]
async fn get_put_delete_and_batches() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = probe_client(&host, "kv").await;

        assert_eq!(
            probe_ok(&mut c, 1, json!({"op": "get", "key": "a"})).await,
            Value::Null
        );
        probe_ok(&mut c, 2, json!({"op": "put", "key": "a", "value": "1"})).await;
        assert_eq!(
            probe_ok(&mut c, 3, json!({"op": "get", "key": "a"})).await,
            "1"
        );

        let entries = json!([["b", "2"], ["c", "3"]]);
        probe_ok(&mut c, 4, json!({"op": "put-many", "entries": entries})).await;
        let many = probe_ok(
            &mut c,
            5,
            json!({"op": "get-many", "keys": ["c", "zz", "a"]}),
        )
        .await;
        assert_eq!(many, json!([["a", "1"], ["c", "3"]]));

        assert_eq!(
            probe_ok(&mut c, 6, json!({"op": "delete", "key": "a"})).await,
            true
        );
        assert_eq!(
            probe_ok(&mut c, 7, json!({"op": "delete", "key": "a"})).await,
            false
        );
        let removed = probe_ok(
            &mut c,
            8,
            json!({"op": "delete-many", "keys": ["b", "c", "x"]}),
        );
        assert_eq!(removed.await, 2);
        let left = probe_ok(&mut c, 9, json!({"op": "list", "prefix": "a"})).await;
        assert_eq!(left, json!([]));
    })
    .await;
}

#[tokio::test]
async fn list_orders_by_key_bytes_and_honours_bounds() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = probe_client(&host, "list").await;
        let names = ["b", "a", "ab", "a\u{e9}", "B", "aa", "c", "a0"];
        let entries: Vec<Value> = names.iter().map(|k| json!([k, "v"])).collect();
        probe_ok(&mut c, 1, json!({"op": "put-many", "entries": entries})).await;

        // Byte order: uppercase before lowercase, "a" before "a0" before "aa",
        // and the two-byte "é" after every ASCII letter.
        let all = probe_ok(&mut c, 2, json!({"op": "list"})).await;
        let all_keys: Vec<String> = keys(&all)
            .into_iter()
            .filter(|k| k != "probe:starts")
            .collect();
        assert_eq!(all_keys, ["B", "a", "a0", "aa", "ab", "a\u{e9}", "b", "c"]);

        let prefixed = probe_ok(&mut c, 3, json!({"op": "list", "prefix": "a"})).await;
        assert_eq!(keys(&prefixed), ["a", "a0", "aa", "ab", "a\u{e9}"]);
        let bounded = json!({"op": "list", "start": "a0", "end": "ab"});
        assert_eq!(keys(&probe_ok(&mut c, 4, bounded).await), ["a0", "aa"]);
        let reversed = json!({"op": "list", "prefix": "a", "reverse": true, "limit": 2});
        assert_eq!(
            keys(&probe_ok(&mut c, 5, reversed).await),
            ["a\u{e9}", "ab"]
        );
        let limited = json!({"op": "list", "prefix": "a", "limit": 3});
        assert_eq!(keys(&probe_ok(&mut c, 6, limited).await), ["a", "a0", "aa"]);
        let mixed = json!({"op": "list", "prefix": "a", "start": "aa", "end": "b"});
        assert_eq!(
            keys(&probe_ok(&mut c, 7, mixed).await),
            ["aa", "ab", "a\u{e9}"]
        );
    })
    .await;
}

#[tokio::test]
async fn delete_all_empties_the_room_and_only_that_room() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut one = probe_client(&host, "one").await;
        let mut two = probe_client(&host, "two").await;
        probe_ok(
            &mut one,
            1,
            json!({"op": "put", "key": "k", "value": "one"}),
        )
        .await;
        probe_ok(
            &mut two,
            1,
            json!({"op": "put", "key": "k", "value": "two"}),
        )
        .await;
        assert_eq!(
            probe_ok(&mut two, 2, json!({"op": "get", "key": "k"})).await,
            "two"
        );

        probe_ok(&mut one, 2, json!({"op": "delete-all"})).await;
        assert_eq!(
            probe_ok(&mut one, 3, json!({"op": "list"})).await,
            json!([])
        );
        assert_eq!(
            probe_ok(&mut two, 3, json!({"op": "get", "key": "k"})).await,
            "two"
        );
    })
    .await;
}

#[tokio::test]
async fn oversized_writes_return_errors_and_lose_nothing() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = probe_client(&host, "big").await;
        probe_ok(
            &mut c,
            1,
            json!({"op": "put", "key": "keep", "value": "yes"}),
        )
        .await;

        let max = 128 * 1024;
        probe_ok(
            &mut c,
            2,
            json!({"op": "put-size", "key": "fits", "size": max}),
        )
        .await;
        let too_big = probe(
            &mut c,
            3,
            json!({"op": "put-size", "key": "big", "size": max + 1}),
        );
        assert_eq!(too_big.await["err"], "value-too-large:131072");
        let long_key = "k".repeat(2049);
        let reply = probe(
            &mut c,
            4,
            json!({"op": "put", "key": long_key, "value": "v"}),
        )
        .await;
        assert_eq!(reply["err"], "key-too-large:2048");

        assert_eq!(
            probe_ok(&mut c, 5, json!({"op": "get", "key": "big"})).await,
            Value::Null
        );
        assert_eq!(
            probe_ok(&mut c, 6, json!({"op": "get", "key": "keep"})).await,
            "yes"
        );
    })
    .await;
}

#[tokio::test]
async fn writes_survive_a_restart() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = probe_client(&host, "durable").await;
        probe_ok(&mut c, 1, json!({"op": "put", "key": "k", "value": "v"})).await;
        host.kill9();

        let host = env.start().await;
        let mut c = probe_client(&host, "durable").await;
        assert_eq!(
            probe_ok(&mut c, 1, json!({"op": "get", "key": "k"})).await,
            "v"
        );
    })
    .await;
}

#[tokio::test]
async fn alarms_can_be_set_read_and_deleted() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = probe_client(&host, "alarm-crud").await;
        let far = 4_000_000_000_000u64;
        assert_eq!(
            probe_ok(&mut c, 1, json!({"op": "get-alarm"})).await,
            Value::Null
        );
        probe_ok(&mut c, 2, json!({"op": "set-alarm", "at": far})).await;
        assert_eq!(probe_ok(&mut c, 3, json!({"op": "get-alarm"})).await, far);
        probe_ok(&mut c, 4, json!({"op": "delete-alarm"})).await;
        assert_eq!(
            probe_ok(&mut c, 5, json!({"op": "get-alarm"})).await,
            Value::Null
        );
        let reply = probe(&mut c, 6, json!({"op": "set-alarm", "at": u64::MAX})).await;
        assert_eq!(reply["err"], "invalid-alarm");
    })
    .await;
}

#[tokio::test]
async fn an_alarm_fires_and_wakes_the_room() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = probe_client(&host, "alarm-fire").await;
        let now = probe_ok(&mut c, 1, json!({"op": "now"}))
            .await
            .as_u64()
            .expect("ms");
        probe_ok(&mut c, 2, json!({"op": "set-alarm", "at": now + 300})).await;
        c.next_json_where(|m| m["event"] == "alarm").await;
        assert_eq!(probe_ok(&mut c, 3, json!({"op": "alarms"})).await, 1);
        // A fired alarm is gone.
        assert_eq!(
            probe_ok(&mut c, 4, json!({"op": "get-alarm"})).await,
            Value::Null
        );
    })
    .await;
}

#[tokio::test]
async fn an_alarm_due_while_the_host_was_down_fires_after_restart() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = probe_client(&host, "alarm-restart").await;
        let now = probe_ok(&mut c, 1, json!({"op": "now"}))
            .await
            .as_u64()
            .expect("ms");
        probe_ok(&mut c, 2, json!({"op": "set-alarm", "at": now + 1_000})).await;
        host.kill9();
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;

        // No client is connected: the restarted host must wake the room
        // itself, so the alarm runs before the first request reaches it.
        let host = env.start().await;
        tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
        let (_, body) = crate::harness::get(&host.http("/parties/probe/alarm-restart")).await;
        let body: Value = serde_json::from_str(&body).expect("json");
        let hooks: Vec<&str> = body["events"]
            .as_array()
            .expect("event log")
            .iter()
            .filter_map(|e| e["hook"].as_str())
            .collect();
        // The log shows finished hooks, so this request is not in it yet.
        let alarm = hooks.iter().position(|h| *h == "alarm");
        let request = hooks.iter().position(|h| *h == "request");
        let fired = alarm.is_some() && request.is_none_or(|r| alarm < Some(r));
        assert!(
            fired,
            "the alarm ran before the first request: {hooks:?}\n{}",
            host.log()
        );
    })
    .await;
}
