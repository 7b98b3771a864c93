//! Wire behaviour: routes, ids, close handshakes, pings, duplicate ids.

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{TestEnv, get, probe_ok, timed};

#[tokio::test]
async fn unknown_party_is_404() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let (status, _) = get(&host.http("/parties/nope/room")).await;
        assert_eq!(status, 404);
        let (status, _) = get(&host.http("/elsewhere")).await;
        assert_eq!(status, 404);
        let refused = tokio_tungstenite::connect_async(host.ws("/parties/nope/room")).await;
        assert!(refused.is_err(), "upgrade to an unknown party is refused");
    })
    .await;
}

#[tokio::test]
async fn client_close_gets_its_own_code_back() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = host.connect("/parties/reaction/r").await;
        c.next_json().await;
        let answer = c.close(4001, "bye").await;
        assert_eq!(answer.map(|(code, _)| code), Some(4001));
    })
    .await;
}

#[tokio::test]
async fn pings_get_pongs() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = host.connect("/parties/reaction/r").await;
        c.next_json().await;
        c.send(Message::Ping(b"are you there".to_vec().into()))
            .await;
        loop {
            match c.next().await {
                Some(Message::Pong(payload)) => {
                    assert_eq!(&payload[..], b"are you there");
                    break;
                }
                Some(_) => continue,
                None => panic!("socket ended before the pong"),
            }
        }
    })
    .await;
}

#[tokio::test]
async fn duplicate_ids_both_receive_and_nothing_breaks() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut first = host.connect("/parties/probe/dup?_pk=same").await;
        assert_eq!(first.next_json().await["id"], "same");
        let mut second = host.connect("/parties/probe/dup?_pk=same").await;
        assert_eq!(second.next_json().await["id"], "same");
        // The room greets the id, so the first socket hears the second's.
        assert_eq!(first.next_json().await["event"], "connected");
        let mut third = host.connect("/parties/probe/dup?_pk=other").await;
        third.next_json().await;

        // A send to the id reaches both sockets that carry it.
        probe_ok(
            &mut third,
            1,
            json!({"op": "send", "to": "same", "text": "hi"}),
        )
        .await;
        for c in [&mut first, &mut second] {
            let m = c.next().await;
            assert_eq!(m, Some(Message::text("hi")));
        }
        // A broadcast reaches both too.
        let all = json!({"op": "broadcast", "text": "all", "exclude": ["other"]});
        probe_ok(&mut third, 2, all).await;
        for c in [&mut first, &mut second] {
            assert_eq!(c.next().await, Some(Message::text("all")));
        }
        // The first closes; the second keeps working.
        let _ = first.close(1000, "").await;
        second
            .next_json_where(|m| m["event"] == "closed" && m["id"] == "same")
            .await;
        let conns = probe_ok(&mut second, 3, json!({"op": "connections"})).await;
        let ids: Vec<_> = conns
            .as_array()
            .expect("list")
            .iter()
            .map(|c| c["id"].clone())
            .collect();
        assert_eq!(ids, vec![json!("same"), json!("other")]);
    })
    .await;
}
