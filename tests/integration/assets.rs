//! Static files from `static_dir`: content types, ETags, index files, the 404
//! page, the single-page-app fallback, and refusal of paths that leave the
//! folder.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::harness::{Host, TestEnv, get, timed};

/// Makes an environment whose host serves a small static site from a folder
/// beside its config.
fn site(spa: bool) -> TestEnv {
    let env = TestEnv::with_config(&format!("static_dir = \"site\"\nspa_fallback = {spa}\n"));
    let site = env.dir().join("site");
    std::fs::create_dir_all(site.join("docs")).expect("site");
    std::fs::write(site.join("index.html"), "<h1>home</h1>").expect("file");
    std::fs::write(site.join("app.js"), "console.log(1)").expect("file");
    std::fs::write(site.join("style.css"), "body{}").expect("file");
    std::fs::write(site.join("docs/index.html"), "<h1>docs</h1>").expect("file");
    std::fs::write(site.join("404.html"), "<h1>lost</h1>").expect("file");
    std::fs::write(site.join(".env"), "do not serve").expect("file");
    std::fs::create_dir_all(site.join(".git")).expect("site");
    std::fs::write(site.join(".git/config"), "do not serve").expect("file");
    std::fs::write(env.dir().join("secret.txt"), "do not serve").expect("file");
    env
}

/// Sends a request line exactly as written (no client-side path cleanup)
/// and returns the status code.
async fn raw_status(host: &Host, path: &str) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(host.addr)
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    assert!(
        !answer.contains("do not serve"),
        "leaked a file outside the folder"
    );
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line")
}

#[tokio::test]
async fn static_files_have_types_etags_and_index_pages() {
    timed(async {
        let env = site(false);
        let host = env.start().await;
        let client = reqwest::Client::new();

        for (path, content_type) in [("/app.js", "javascript"), ("/style.css", "text/css")] {
            let response = client.get(host.http(path)).send().await.expect("get");
            assert_eq!(response.status().as_u16(), 200);
            let ct = response.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .to_owned();
            assert!(ct.contains(content_type), "{path}: {ct}");
        }
        let (status, body) = get(&host.http("/")).await;
        assert_eq!((status, body.as_str()), (200, "<h1>home</h1>"));
        let (status, body) = get(&host.http("/docs/")).await;
        assert_eq!((status, body.as_str()), (200, "<h1>docs</h1>"));

        let first = client.get(host.http("/app.js")).send().await.expect("get");
        let etag = first.headers()["etag"].clone();
        let again = client
            .get(host.http("/app.js"))
            .header("if-none-match", etag.clone())
            .send()
            .await
            .expect("get");
        assert_eq!(again.status().as_u16(), 304);
        let weak = format!("W/{}", etag.to_str().expect("ascii"));
        let weakly = client
            .get(host.http("/app.js"))
            .header("if-none-match", weak)
            .send()
            .await
            .expect("get");
        assert_eq!(weakly.status().as_u16(), 304, "weak comparison");
        let stale = client
            .get(host.http("/app.js"))
            .header("if-none-match", "\"other\"")
            .send()
            .await
            .expect("get");
        assert_eq!(stale.status().as_u16(), 200);

        let (status, body) = get(&host.http("/missing")).await;
        assert_eq!((status, body.as_str()), (404, "<h1>lost</h1>"));

        // A folder without its slash redirects, so relative links work.
        let plain = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let moved = plain.get(host.http("/docs")).send().await.expect("get");
        assert_eq!(moved.status().as_u16(), 301);
        assert_eq!(moved.headers()["location"], "/docs/");
        // Rooms still route as before.
        let (status, _) = get(&host.http("/parties/reaction/r")).await;
        assert_eq!(status, 200);
    })
    .await;
}

#[tokio::test]
async fn paths_that_leave_the_folder_are_refused() {
    timed(async {
        let env = site(false);
        let host = env.start().await;
        for path in [
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/docs/%2E%2E/%2e%2e/secret.txt",
            "/.env",
            "/%2eenv",
            "/.git/config",
        ] {
            assert_eq!(raw_status(&host, path).await, 404, "{path}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_spa_fallback_serves_the_index_for_app_routes() {
    timed(async {
        let env = site(true);
        let host = env.start().await;
        let (status, body) = get(&host.http("/talks/42")).await;
        assert_eq!((status, body.as_str()), (200, "<h1>home</h1>"));
        let (status, _) = get(&host.http("/missing.png")).await;
        assert_eq!(status, 404, "files with an extension are not rerouted");
    })
    .await;
}
