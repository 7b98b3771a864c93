//! Hot-loading: deploying, rejecting and rolling back modules while clients
//! stay connected, and serving the deployed version after a restart.

use serde_json::{Value, json};

use crate::harness::{ADMIN_TOKEN, Client, Host, TestEnv, probe_ok, rooms, timed};

/// Uploads `bytes` as the next module of `party`; returns status and body.
async fn deploy(host: &Host, party: &str, bytes: Vec<u8>) -> (u16, Value) {
    let url = host.http(&format!("/_partyhost/parties/{party}/module"));
    let response = reqwest::Client::new()
        .put(url)
        .bearer_auth(ADMIN_TOKEN)
        .body(bytes)
        .send()
        .await
        .expect("deploy request");
    let status = response.status().as_u16();
    let body = serde_json::from_str(&response.text().await.expect("body")).expect("json");
    (status, body)
}

async fn rollback(host: &Host, party: &str, version: u32) -> u16 {
    let url = host.http(&format!("/_partyhost/parties/{party}/rollback"));
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(ADMIN_TOKEN)
        .body(json!({"version": version}).to_string())
        .send()
        .await
        .expect("rollback request");
    response.status().as_u16()
}

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).expect("built room")
}

/// The reaction room answers a reaction with counts; the probe (our "v2")
/// answers a command with its id.
async fn answered_by_probe(c: &mut Client, id: u64) -> bool {
    probe_ok(c, id, json!({"op": "now"})).await.is_u64()
}

#[tokio::test]
async fn a_deploy_swaps_live_rooms_without_dropping_a_socket() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut clients = Vec::new();
        for i in 0..100 {
            let mut c = host
                .connect(&format!("/parties/reaction/swap?_pk=c{i}"))
                .await;
            c.next_json().await;
            clients.push(c);
        }
        for _ in 0..5 {
            clients[0]
                .send_json(&json!({"type": "reaction", "kind": "heart"}))
                .await;
        }
        for c in clients.iter_mut() {
            c.next_json_where(|m| m["counts"]["heart"] == 5).await;
        }

        // v1 is the reaction room as deployed; v2 answers in another format.
        let (status, v1) = deploy(&host, "reaction", read(&rooms().reaction)).await;
        assert_eq!((status, v1["version"]["version"].clone()), (201, json!(1)));
        let (status, v2) = deploy(&host, "reaction", read(&rooms().probe)).await;
        assert_eq!(
            (status, v2["version"]["version"].clone()),
            (201, json!(2)),
            "{v2}"
        );

        // Every client is still connected and answered by v2.
        for (i, c) in clients.iter_mut().enumerate() {
            assert!(
                answered_by_probe(c, i as u64).await,
                "client {i} answered by v2"
            );
        }
        let kept = probe_ok(
            &mut clients[0],
            1000,
            json!({"op": "get", "key": "count:heart"}),
        );
        assert_eq!(kept.await, "5", "counts carried over");
        let starts = probe_ok(&mut clients[0], 1001, json!({"op": "starts"})).await;
        assert_eq!(starts, 1, "start ran once under v2");

        // Bad modules are refused with the reason; v2 keeps serving.
        let (status, body) = deploy(&host, "reaction", b"not wasm at all".to_vec()).await;
        assert_eq!(status, 400);
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("not a WebAssembly file")),
            "{body}"
        );
        let core_module = vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
        let (status, body) = deploy(&host, "reaction", core_module).await;
        assert_eq!(status, 400);
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("not a component") && e.contains("wasm32-wasip2")),
            "{body}"
        );
        let mut garbled = vec![0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
        garbled.extend([0xff; 64]);
        let (status, body) = deploy(&host, "reaction", garbled).await;
        assert_eq!(status, 400);
        assert!(
            body["error"].as_str().is_some_and(|e| !e.contains('\n')),
            "one line: {body}"
        );
        let empty_component = vec![0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
        let (status, body) = deploy(&host, "reaction", empty_component).await;
        assert_eq!(status, 400);
        let reason = body["error"].as_str().unwrap_or_default();
        assert!(
            reason.contains("room world") || reason.contains("export"),
            "{body}"
        );
        assert!(answered_by_probe(&mut clients[1], 2000).await);

        // Rolling back to v1 brings the reaction room back, counts intact.
        assert_eq!(rollback(&host, "reaction", 1).await, 200);
        assert_eq!(rollback(&host, "reaction", 99).await, 404);
        assert_eq!(
            rollback(&host, "reaction", 1).await,
            409,
            "v1 already serves"
        );
        clients[2]
            .send_json(&json!({"type": "reaction", "kind": "heart"}))
            .await;
        for c in clients.iter_mut().skip(3) {
            c.next_json_where(|m| m["counts"]["heart"] == 6).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_restarted_host_serves_the_deployed_version() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let (status, _) = deploy(&host, "reaction", read(&rooms().probe)).await;
        assert_eq!(status, 201);
        // A brand-new party can be deployed too.
        let (status, _) = deploy(&host, "fresh-party", read(&rooms().reaction)).await;
        assert_eq!(status, 201);
        assert!(host.terminate().await);

        // The config still names the reaction room; the deploy wins.
        let host = env.start().await;
        let mut c = host.connect("/parties/reaction/after-restart").await;
        assert_eq!(c.next_json().await["event"], "connected");
        assert!(answered_by_probe(&mut c, 1).await);
        let mut fresh = host.connect("/parties/fresh-party/r").await;
        assert_eq!(fresh.next_json().await["type"], "counts");

        let parties = host.admin("/_partyhost/parties").await;
        let reaction = parties["parties"]
            .as_array()
            .and_then(|list| list.iter().find(|p| p["party"] == "reaction").cloned())
            .expect("reaction listed");
        assert_eq!(reaction["active_version"], 1);
    })
    .await;
}

#[tokio::test]
async fn admin_routes_need_the_token() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let client = reqwest::Client::new();
        for path in [
            "/_partyhost/status",
            "/_partyhost/rooms",
            "/_partyhost/parties",
        ] {
            let bare = client.get(host.http(path)).send().await.expect("request");
            assert_eq!(bare.status().as_u16(), 401, "{path}");
            let wrong = client
                .get(host.http(path))
                .bearer_auth("nope")
                .send()
                .await
                .expect("request");
            assert_eq!(wrong.status().as_u16(), 401, "{path}");
        }
        // The status page itself loads without the token and asks for it.
        let page = client
            .get(host.http("/_partyhost/"))
            .send()
            .await
            .expect("page");
        assert_eq!(page.status().as_u16(), 200);
        assert!(page.text().await.expect("html").contains("admin token"));
        let upload = client
            .put(host.http("/_partyhost/parties/reaction/module"))
            .body(vec![0u8; 16])
            .send()
            .await
            .expect("request");
        assert_eq!(upload.status().as_u16(), 401);
    })
    .await;
}

#[tokio::test]
async fn metrics_scrape_with_every_family() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut c = host.connect("/parties/reaction/metered").await;
        c.next_json().await;
        c.send_json(&json!({"type": "reaction", "kind": "heart"}))
            .await;
        c.next_json_where(|m| m["counts"]["heart"] == 1).await;

        let (status, text) = crate::harness::get(&host.http("/metrics")).await;
        assert_eq!(status, 200);
        for family in [
            "partyhost_rooms{state=\"awake\"} 1",
            "partyhost_rooms{state=\"hibernated\"} 0",
            "partyhost_connections 1",
            "partyhost_messages_in_total 1",
            "partyhost_messages_out_total",
            "partyhost_bytes_in_total",
            "partyhost_bytes_out_total",
            "partyhost_hook_seconds_bucket{",
            "hook=\"message\"",
            "partyhost_storage_commit_seconds_count",
            "partyhost_storage_commit_batch_count",
            "partyhost_traps_total{cause=\"cpu\"} 0",
            "partyhost_slow_consumer_closes_total",
            "partyhost_module_swaps_total",
        ] {
            assert!(text.contains(family), "missing {family:?} in:\n{text}");
        }
    })
    .await;
}

#[tokio::test]
async fn an_upload_declared_too_large_is_refused_before_its_body() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let mut stream = tokio::net::TcpStream::connect(host.addr)
            .await
            .expect("connect");
        let request = format!(
            "PUT /_partyhost/parties/big/module HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: 999999999999\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        // No body follows: the answer must not wait for one.
        let mut answer = vec![0; 512];
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
                .await
                .expect("answered before the body")
                .expect("read");
        let answer = String::from_utf8_lossy(&answer[..read]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    })
    .await;
}
