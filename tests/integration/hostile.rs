//! Hostile guests: each misbehaviour fails only its own event. The host
//! stays up, a well-behaved room keeps answering, the bad room's client sees
//! the documented close code or error, and the bad room's next event runs on
//! a fresh instance.

use serde_json::{Value, json};

use crate::harness::{Client, Host, TestEnv, timed};

/// Limits small enough that each abuse hits them quickly.
const LIMITS: &str = "[limits]\n\
    hook_deadline_ms = 300\n\
    room_memory_bytes = 67108864\n\
    max_storage_bytes_per_room = 1048576\n\
    max_output_bytes_per_hook = 1048576\n\
    log_lines_per_second = 20\n";

async fn hostile(host: &Host, room: &str) -> (Client, Value) {
    let mut c = host.connect(&format!("/parties/hostile/{room}")).await;
    let hello = c.next_json().await;
    assert_eq!(hello["event"], "connected");
    (c, hello["instance"].clone())
}

async fn ping(c: &mut Client) -> Value {
    c.send_json(&json!({"op": "ping"})).await;
    c.next_json_where(|m| m.get("pong").is_some()).await
}

/// Shows the reaction room on the same host still counts.
async fn good_room_answers(host: &Host, room: &str) {
    let mut c = host.connect(&format!("/parties/reaction/{room}")).await;
    c.next_json().await;
    c.send_json(&json!({"type": "reaction", "kind": "ok"}))
        .await;
    c.next_json_where(|m| m["counts"]["ok"].as_u64() >= Some(1))
        .await;
}

/// Sends `command`, expects the socket closed with 1011, then shows that a
/// new client is served by a fresh instance while the good room answers.
async fn abuse_closes_with_1011(host: &Host, room: &str, command: Value) {
    let (mut bad, instance) = hostile(host, room).await;
    let (mut bystander, _) = hostile(host, room).await;
    bad.send_json(&command).await;
    let closed = bad.expect_close().await;
    assert_eq!(closed.map(|(code, _)| code), Some(1011), "after {command}");

    good_room_answers(host, &format!("good-{room}")).await;
    let pong = ping(&mut bystander).await;
    assert_ne!(
        pong["pong"], instance,
        "a fresh instance serves after {command}"
    );
    assert_eq!(pong["starts"], 2);
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_at_the_deadline() {
    timed(async {
        let env = TestEnv::with_config(LIMITS);
        let host = env.start().await;
        abuse_closes_with_1011(&host, "loop", json!({"op": "loop"})).await;
        assert!(host.log().contains("cpu deadline exceeded"));
        let status = host.admin("/_partyhost/status").await;
        assert_eq!(status["traps_by_cause"]["cpu"], 1);
    })
    .await;
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_cap() {
    timed(async {
        let env = TestEnv::with_config(LIMITS);
        let host = env.start().await;
        abuse_closes_with_1011(&host, "bomb", json!({"op": "grow", "mb": 512})).await;
        let status = host.admin("/_partyhost/status").await;
        assert_eq!(status["traps_by_cause"]["memory"], 1);
    })
    .await;
}

#[tokio::test]
async fn a_broadcast_flood_hits_the_output_limit() {
    timed(async {
        let env = TestEnv::with_config(LIMITS);
        let host = env.start().await;
        let flood = json!({"op": "flood-broadcast", "bytes": 65536, "count": 1000});
        abuse_closes_with_1011(&host, "flood", flood).await;
        assert!(host.log().contains("output limit"));
        let status = host.admin("/_partyhost/status").await;
        assert_eq!(status["traps_by_cause"]["output"], 1);
    })
    .await;
}

#[tokio::test]
async fn a_trap_in_connect_closes_that_socket_with_1011() {
    timed(async {
        let env = TestEnv::with_config(LIMITS);
        let host = env.start().await;
        let (mut first, instance) = hostile(&host, "connect-trap").await;
        let mut trapped = host.connect("/parties/hostile/connect-trap?trap=1").await;
        let closed = trapped.expect_close().await;
        assert_eq!(closed.map(|(code, _)| code), Some(1011));

        good_room_answers(&host, "good-connect").await;
        let pong = ping(&mut first).await;
        assert_ne!(pong["pong"], instance);
    })
    .await;
}

#[tokio::test]
async fn a_storage_flood_gets_quota_errors_and_keeps_what_fit() {
    timed(async {
        let env = TestEnv::with_config(LIMITS);
        let host = env.start().await;
        let (mut c, instance) = hostile(&host, "hoard").await;
        let flood = json!({"op": "flood-storage", "count": 100, "size": 65536});
        c.send_json(&flood).await;
        let reply = c.next_json_where(|m| m.get("stored").is_some()).await;
        assert_eq!(reply["err"], "quota-exceeded");
        let stored = reply["stored"].as_u64().expect("count");
        assert!(
            (10..16).contains(&stored),
            "1 MiB holds about 15 values of 64 KiB: {stored}"
        );

        // The room answers on, on the same instance, and the quota survives
        // a restart.
        assert_eq!(ping(&mut c).await["pong"], instance);
        good_room_answers(&host, "good-hoard").await;
        host.kill9();
        let host = env.start().await;
        let (mut c, _) = hostile(&host, "hoard").await;
        let more = json!({"op": "flood-storage", "count": 100, "size": 65536});
        c.send_json(&more).await;
        let reply = c.next_json_where(|m| m.get("stored").is_some()).await;
        assert_eq!(reply["err"], "quota-exceeded");
        // The flood rewrites the same keys: exactly as many fit as before,
        // which holds only if the restarted host counted what was stored.
        assert_eq!(
            reply["stored"], stored,
            "usage counts after a restart: {reply}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_log_flood_is_rate_limited() {
    timed(async {
        let env = TestEnv::with_config(LIMITS);
        let host = env.start().await;
        let (mut c, instance) = hostile(&host, "chatter").await;
        c.send_json(&json!({"op": "flood-log", "lines": 5000}))
            .await;
        c.next_json_where(|m| m.get("logged").is_some()).await;
        c.send_json(&json!({"op": "flood-print", "lines": 5000}))
            .await;
        c.next_json_where(|m| m.get("printed").is_some()).await;

        let log = host.log();
        let kept = log
            .lines()
            .filter(|l| l.contains("flood line") || l.contains("print line"));
        assert!(
            kept.count() <= 100,
            "a burst of at most twice the rate is kept"
        );
        // The next line after the burst reports how many were dropped.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        c.send_json(&json!({"op": "flood-log", "lines": 1})).await;
        c.next_json_where(|m| m.get("logged").is_some()).await;
        assert!(host.log().contains("dropped by rate limit"));
        assert_eq!(
            ping(&mut c).await["pong"],
            instance,
            "no trap, same instance"
        );
        good_room_answers(&host, "good-chatter").await;
    })
    .await;
}
