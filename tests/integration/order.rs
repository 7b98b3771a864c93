//! Hook order: start before any connect, a connection's connect before its
//! messages, and never two hooks of one room at once.

use serde_json::{Value, json};

use crate::harness::{TestEnv, probe_ok, timed};

#[tokio::test]
async fn hooks_run_one_at_a_time_in_order() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let (clients, messages) = (6, 10);

        let mut tasks = Vec::new();
        for i in 0..clients {
            let url = host.ws(&format!("/parties/probe/order?_pk=c{i}"));
            tasks.push(tokio::spawn(async move {
                let mut c = crate::harness::Client::connect(&url).await;
                c.next_json_where(|m| m["event"] == "connected").await;
                for n in 0..messages {
                    // Some messages keep the room busy, so others queue up.
                    let op = if n % 3 == 0 {
                        json!({"op": "busy", "ms": 5})
                    } else {
                        json!({"op": "now"})
                    };
                    probe_ok(&mut c, n, op).await;
                }
                c
            }));
        }
        let mut reader = None;
        for task in tasks {
            reader = Some(task.await.expect("client task"));
        }
        let mut reader = reader.expect("at least one client");
        let events = probe_ok(&mut reader, 999, json!({"op": "events"})).await;
        let events = events.as_array().expect("event log").clone();

        assert_eq!(
            events.first().map(|e| e["hook"].clone()),
            Some(json!("start"))
        );
        let starts = events.iter().filter(|e| e["hook"] == "start").count();
        assert_eq!(starts, 1, "one instance served the whole test");

        // No two hooks overlap: each begins after the previous one ended.
        for pair in events.windows(2) {
            let (prev_end, next_begin) = (&pair[0]["end"], &pair[1]["begin"]);
            assert!(
                prev_end.as_u64() <= next_begin.as_u64(),
                "hooks overlap: {} then {}",
                pair[0],
                pair[1]
            );
        }
        // Each connection's connect precedes all of its messages.
        for i in 0..clients {
            let id = format!("c{i}");
            let mine: Vec<&Value> = events.iter().filter(|e| e["conn"] == id.as_str()).collect();
            assert_eq!(
                mine.first().map(|e| e["hook"].clone()),
                Some(json!("connect"))
            );
            let count = mine.iter().filter(|e| e["hook"] == "message").count();
            assert!(
                count >= messages as usize,
                "{id} sent {messages} messages, log has {count}"
            );
        }
    })
    .await;
}
