//! The demo page, used as a person uses it: Debian's Chromium, driven by
//! `playwright-core` from Node (`tests/node/browser-demo.mjs`), opens the
//! page in two browser contexts on one room, clicks reactions in both, and
//! checks that both show the same counts, that a reload keeps them, and that
//! the room picker moves to another room. Screenshots are saved under
//! `tests/artifacts/`.
//!
//! Chromium is `/usr/bin/chromium` (or `$CHROMIUM`); `.ci/run` installs it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{TestEnv, get, timed};
use crate::partysocket::run_node;

/// Returns the Chromium binary the test drives.
fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Returns the folder screenshots are saved in.
fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("artifacts")
        .join("browser")
}

#[tokio::test]
async fn two_people_on_the_demo_page_see_the_same_counts() {
    timed(async {
        let browser = chromium();
        assert!(
            browser.is_file(),
            "no Chromium at {browser:?}: install Debian's chromium (see .ci/run) or set CHROMIUM"
        );
        let env = TestEnv::new();
        let host = env.start().await;

        let shots = artifacts();
        let (url, shots_dir) = (host.http(""), shots.display().to_string());
        let chromium = browser.display().to_string();
        let stdout = run_node(
            "browser-demo.mjs",
            &[&url, "reaction", "browser-talk", &shots_dir],
            &[("CHROMIUM", &chromium)],
        )
        .await;

        // What the pages showed is what the room stored.
        let shown: Value = serde_json::from_str(&stdout).expect("one JSON line");
        assert_eq!(shown["final"]["a"], shown["final"]["b"], "both pages agree");
        let (_, body) = get(&host.http("/parties/reaction/browser-talk")).await;
        let stored: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(stored["counts"]["heart"], 6, "five clicks, then one more");
        assert_eq!(stored["counts"]["fire"], 1);
        assert_eq!(stored["counts"]["party"], 1);
        for shot in ["demo.png", "demo-burst.png"] {
            let size = std::fs::metadata(shots.join(shot)).map_or(0, |m| m.len());
            assert!(size > 10_000, "screenshot {shot} was saved ({size} bytes)");
        }
    })
    .await;
}
