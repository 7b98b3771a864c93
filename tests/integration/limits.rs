//! Client limits: oversized and invalid frames, full rooms and hosts, slow
//! consumers, and alarm retries.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

use crate::harness::{TestEnv, probe_ok, timed};

#[tokio::test]
async fn an_oversized_message_closes_with_1009() {
    timed(async {
        let env = TestEnv::with_config("[limits]\nmax_message_bytes = 65536\n");
        let host = env.start().await;
        let mut c = host.connect("/parties/reaction/big").await;
        c.next_json().await;
        c.send_text(&"x".repeat(65_537)).await;
        let closed = c.expect_close().await;
        assert_eq!(closed.map(|(code, _)| code), Some(1009));

        // The room keeps serving others.
        let mut other = host.connect("/parties/reaction/big").await;
        assert_eq!(other.next_json().await["type"], "counts");
    })
    .await;
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_closes_with_1007() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = host.connect("/parties/reaction/utf8").await;
        c.next_json().await;
        let frame = Frame::message(vec![0xff, 0xfe, 0x41], OpCode::Data(Data::Text), true);
        c.raw()
            .send(Message::Frame(frame))
            .await
            .expect("send raw frame");
        let closed = c.expect_close().await;
        assert_eq!(closed.map(|(code, _)| code), Some(1007));
    })
    .await;
}

/// Tries an upgrade and returns the HTTP status it was refused with.
async fn refused_status(url: &str) -> Option<u16> {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => None,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Some(response.status().as_u16())
        }
        Err(other) => panic!("unexpected upgrade error: {other}"),
    }
}

#[tokio::test]
async fn a_full_room_and_a_full_host_answer_503_before_upgrading() {
    timed(async {
        let config = "[limits]\nmax_connections_per_room = 2\nmax_connections = 3\n";
        let env = TestEnv::with_config(config);
        let host = env.start().await;
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut c = host.connect("/parties/reaction/small").await;
            c.next_json().await;
            held.push(c);
        }
        let status = refused_status(&host.ws("/parties/reaction/small")).await;
        assert_eq!(status, Some(503), "room full");

        let mut third = host.connect("/parties/reaction/other").await;
        third.next_json().await;
        let status = refused_status(&host.ws("/parties/reaction/another")).await;
        assert_eq!(status, Some(503), "host full");

        // Room is made when a socket leaves.
        let _ = held.pop().expect("held").close(1000, "").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut again = host.connect("/parties/reaction/small").await;
        assert_eq!(again.next_json().await["type"], "counts");
    })
    .await;
}

#[tokio::test]
async fn a_slow_consumer_is_closed_with_1013_while_others_keep_receiving() {
    timed(slow_consumer_is_cut_off(
        "[limits]\noutbound_queue = 64\nmax_output_bytes_per_hook = 8388608\n",
    ))
    .await;
}

#[tokio::test]
async fn a_slow_consumer_is_cut_off_by_queued_bytes_too() {
    timed(slow_consumer_is_cut_off(
        "[limits]\noutbound_queue_bytes = 3000000\nmax_output_bytes_per_hook = 8388608\n",
    ))
    .await;
}

/// A client that never reads is closed (counted as a slow consumer) under
/// `config`, while a client that reads gets every broadcast.
async fn slow_consumer_is_cut_off(config: &'static str) {
    {
        let env = TestEnv::with_config(config);
        let host = env.start().await;
        let mut slow = host.connect("/parties/hostile/slow?_pk=slow").await;
        slow.next_json().await;
        let mut fast = host.connect("/parties/hostile/slow?_pk=fast").await;
        fast.next_json().await;

        // The slow client never reads; the fast one reads every broadcast.
        let mut rounds = 0;
        loop {
            rounds += 1;
            let flood = json!({"op": "flood-broadcast", "bytes": 65536, "count": 40});
            fast.send_json(&flood).await;
            let mut received = 0;
            loop {
                match fast.next().await {
                    Some(Message::Text(t)) if t.starts_with('{') => break,
                    Some(Message::Text(_)) => received += 1,
                    other => panic!("fast client lost: {other:?}"),
                }
            }
            assert_eq!(received, 40, "the fast client got every broadcast");
            let status = host.admin("/_partyhost/status").await;
            if status["slow_consumers"].as_u64() >= Some(1) {
                break;
            }
            assert!(
                rounds < 30,
                "the slow client was not cut off within 30 rounds"
            );
        }
        assert!(host.log().contains("slow consumer closed with 1013"));

        // Reading now, the slow client finds its socket closed.
        let mut frames = 0u64;
        let ended = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(Ok(message)) = slow.raw().next().await {
                if let Message::Close(frame) = message {
                    return frame.map(|f| u16::from(f.code));
                }
                frames += 1;
            }
            None
        })
        .await
        .expect("socket ends");
        assert!(
            matches!(ended, Some(1013) | None),
            "closed with 1013 or cut: {ended:?}"
        );
        assert!(
            frames < 40 * rounds,
            "the slow client did not get everything"
        );
    }
}

#[tokio::test]
async fn a_failing_alarm_is_retried_with_backoff() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = host.connect("/parties/probe/retry?_pk=t").await;
        c.next_json().await;
        probe_ok(
            &mut c,
            1,
            json!({"op": "put", "key": "probe:fail-alarms", "value": "2"}),
        )
        .await;
        let now = probe_ok(&mut c, 2, json!({"op": "now"}))
            .await
            .as_u64()
            .expect("ms");
        probe_ok(&mut c, 3, json!({"op": "set-alarm", "at": now})).await;

        let is_alarm = |m: &Value| m["event"] == "alarm" || m["event"] == "alarm-failed";
        let mut runs = Vec::new();
        for _ in 0..3 {
            let m = c.next_json_where(is_alarm).await;
            runs.push((m["event"].clone(), m["now"].as_u64().expect("time")));
        }
        let events: Vec<&Value> = runs.iter().map(|(e, _)| e).collect();
        assert_eq!(
            events,
            [
                &json!("alarm-failed"),
                &json!("alarm-failed"),
                &json!("alarm")
            ]
        );
        // The waits double from one second.
        assert!(
            runs[1].1 - runs[0].1 >= 900,
            "first retry after ~1 s: {runs:?}"
        );
        assert!(
            runs[2].1 - runs[1].1 >= 1_900,
            "second retry after ~2 s: {runs:?}"
        );
        assert_eq!(
            probe_ok(&mut c, 4, json!({"op": "get-alarm"})).await,
            Value::Null
        );
    })
    .await;
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_is_closed() {
    timed(async {
        let config = "[limits]\nping_interval_ms = 200\nclient_idle_timeout_ms = 700\n";
        let env = TestEnv::with_config(config);
        let host = env.start().await;
        let mut silent = host.connect("/parties/reaction/quiet").await;
        silent.next_json().await;
        let mut lively = host.connect("/parties/reaction/quiet").await;
        lively.next_json().await;

        // The silent client reads nothing (so it answers no ping) for a while;
        // the lively one keeps reading, which answers every ping.
        let lively_task = tokio::spawn(async move {
            let until = tokio::time::Instant::now() + Duration::from_millis(1_500);
            while tokio::time::Instant::now() < until {
                let _ = tokio::time::timeout(Duration::from_millis(100), lively.raw().next()).await;
            }
            lively
        });
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let closed = silent.expect_close().await;
        assert_eq!(closed, Some((1001, "idle timeout".to_owned())));

        let mut lively = lively_task.await.expect("lively task");
        lively
            .send_json(&json!({"type": "reaction", "kind": "still-here"}))
            .await;
        lively
            .next_json_where(|m| m["counts"]["still-here"] == 1)
            .await;
    })
    .await;
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_dropped() {
    timed(async {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let env = TestEnv::with_config("[limits]\nrequest_timeout_ms = 500\n");
        let host = env.start().await;
        let mut stream = tokio::net::TcpStream::connect(host.addr)
            .await
            .expect("connect");
        stream
            .write_all(b"GET /parties/reaction/x HTTP/1.1\r\nHost: a\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 1024];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
        let read = read.expect("the host gives up on the headers well before 10 s");
        // Closed (0 bytes or reset), or answered with a 408, but never left open.
        let answered = read.map_or(true, |n| n == 0 || buf[..n].starts_with(b"HTTP/1.1 408"));
        assert!(answered, "{:?}", String::from_utf8_lossy(&buf));
    })
    .await;
}

#[tokio::test]
async fn a_host_at_its_room_limit_answers_503_for_new_rooms() {
    timed(async {
        let env = TestEnv::with_config("[limits]\nmax_rooms = 2\n");
        let host = env.start().await;
        let mut held = Vec::new();
        for room in ["one", "two"] {
            let mut c = host.connect(&format!("/parties/reaction/{room}")).await;
            c.next_json().await;
            held.push(c);
        }
        let (status, body) = crate::harness::get(&host.http("/parties/reaction/three")).await;
        assert_eq!((status, body.as_str()), (503, "host has too many rooms"));
        // Existing rooms still answer.
        let (status, _) = crate::harness::get(&host.http("/parties/reaction/one")).await;
        assert_eq!(status, 200);
    })
    .await;
}

#[tokio::test]
async fn a_config_with_an_impossible_limit_is_refused_at_startup() {
    timed(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("partyhost.toml");
        std::fs::write(&config, "[limits]\noutbound_queue = 0\n").expect("config");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_partyhost-test-host"))
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(dir.path().join("data"))
            .output()
            .expect("run");
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("limits.outbound_queue must be at least 1"),
            "{stderr}"
        );
    })
    .await;
}
