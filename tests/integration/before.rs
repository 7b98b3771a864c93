//! Before hooks: they can refuse with any status or pass a header through,
//! and they never wake the room.

use serde_json::Value;

use crate::harness::{TestEnv, timed};

#[tokio::test]
async fn before_connect_rejects_with_401_or_passes_a_verified_header() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;

        let refused =
            tokio_tungstenite::connect_async(host.ws("/parties/probe/gated?token=bad")).await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), 401);
                let body = response.body().as_deref().map(String::from_utf8_lossy);
                assert_eq!(body.as_deref(), Some("bad token"));
            }
            other => panic!("expected a 401, got {other:?}"),
        }
        // Refusal ran in the gatekeeper: the room was never started.
        let rooms = host.admin("/_partyhost/rooms").await;
        assert_eq!(rooms["rooms"].as_array().map(Vec::len), Some(0), "{rooms}");

        let mut c = host.connect("/parties/probe/gated?token=good").await;
        let hello = c.next_json().await;
        assert_eq!(hello["user"], "alice");

        // A client cannot forge the header the hook vouches for.
        let mut request = host
            .ws("/parties/probe/gated?token=good")
            .into_client_request_for_test();
        request
            .headers_mut()
            .insert("x-user", "mallory".parse().expect("header"));
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connect");
        let hello = futures_util::StreamExt::next(&mut ws)
            .await
            .expect("frame")
            .expect("ok");
        let hello: Value = serde_json::from_str(hello.to_text().expect("text")).expect("json");
        assert_eq!(hello["user"], "alice");
    })
    .await;
}

#[tokio::test]
async fn before_request_rejects_or_adds_headers() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let client = reqwest::Client::new();
        let url = host.http("/parties/probe/http-gated");

        let refused = client
            .get(&url)
            .bearer_auth("bad")
            .send()
            .await
            .expect("request");
        assert_eq!(refused.status().as_u16(), 403);
        let passed = client.get(&url).send().await.expect("request");
        assert_eq!(passed.status().as_u16(), 200);
        let body: Value = serde_json::from_str(&passed.text().await.expect("body")).expect("json");
        assert_eq!(body["checked"], "yes");
    })
    .await;
}

/// Builds a client request from a URL, so a test can add headers.
trait IntoTestRequest {
    fn into_client_request_for_test(
        self,
    ) -> tokio_tungstenite::tungstenite::handshake::client::Request;
}

impl IntoTestRequest for String {
    fn into_client_request_for_test(
        self,
    ) -> tokio_tungstenite::tungstenite::handshake::client::Request {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        self.into_client_request().expect("valid url")
    }
}
