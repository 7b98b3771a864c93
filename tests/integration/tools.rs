//! The operator's commands: `deploy`, `new` and `dev`, run as a user would.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio_tungstenite::tungstenite::Message;

use crate::harness::{ADMIN_TOKEN, Client, TestEnv, rooms, timed, timed_for};

fn partyhost() -> Command {
    Command::new(env!("CARGO_BIN_EXE_partyhost-test-host"))
}

#[tokio::test]
async fn deploy_command_uploads_and_prints_the_version() {
    timed(async {
        let env = TestEnv::new();
        let host = env.start().await;
        let url = host.http("");
        let probe = rooms().probe.clone();
        let run = |token: &str| {
            partyhost()
                .args(["deploy", "reaction"])
                .arg(&probe)
                .args(["--url", &url, "--token", token])
                .output()
                .expect("run deploy")
        };
        let ok = run(ADMIN_TOKEN);
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        let printed = String::from_utf8_lossy(&ok.stdout);
        assert!(printed.contains("deployed reaction version 1"), "{printed}");

        let refused = run("wrong");
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("401"));
    })
    .await;
}

/// Reads the dev server's stdout until it says where it listens; the rest
/// of its stdout goes on into `copy`.
fn wait_for_listen(stdout: std::process::ChildStdout, copy: PathBuf) -> Option<String> {
    use std::io::Write as _;
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.ok()?;
        if let Some(addr) = line.strip_prefix("partyhost listening on http://") {
            let addr = addr.to_owned();
            // Keep draining so the server never blocks on a full pipe.
            std::thread::spawn(move || {
                let Ok(mut file) = std::fs::File::create(copy) else {
                    return;
                };
                for line in lines.map_while(Result::ok) {
                    let _ = writeln!(file, "{line}");
                }
            });
            return Some(addr);
        }
    }
    None
}

/// Sends `text` until a broadcast ending with `suffix` comes back.
async fn until_echo(client: &mut Client, text: &str, suffix: &str) {
    loop {
        client.send_text(text).await;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout_at(deadline, futures_util::StreamExt::next(client.raw())).await
        {
            if let Message::Text(t) = message
                && t.ends_with(suffix)
            {
                return;
            }
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let source = std::fs::read_to_string(path).expect("read source");
    assert!(source.contains(from), "{from:?} in {path:?}");
    std::fs::write(path, source.replace(from, to)).expect("write source");
}

#[tokio::test]
async fn new_scaffolds_a_room_that_dev_serves_rebuilds_and_swaps() {
    timed_for(Duration::from_secs(900), async {
        let dir = tempfile::tempdir().expect("temp dir");
        let made = partyhost()
            .args(["new", "demo", "--dir"])
            .arg(dir.path())
            .output()
            .expect("new");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let source = dir.path().join("demo/src/lib.rs");

        // Share compiled dependencies across runs of this test.
        let target: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "target", "scaffold"]
            .iter()
            .collect();
        let log = std::fs::File::create(dir.path().join("dev.log")).expect("log");
        let mut dev = partyhost()
            .args(["dev", "--listen", "127.0.0.1:0", "--rooms"])
            .arg(dir.path())
            .arg("--data")
            .arg(dir.path().join("data"))
            .env("CARGO_TARGET_DIR", &target)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start dev");
        let stdout = dev.stdout.take().expect("stdout");
        let out_path = dir.path().join("dev.out");
        let copy = out_path.clone();
        let addr = tokio::task::spawn_blocking(move || wait_for_listen(stdout, copy))
            .await
            .expect("join");
        let Some(addr) = addr else {
            let _ = dev.kill();
            let log = std::fs::read_to_string(dir.path().join("dev.log")).unwrap_or_default();
            panic!("dev did not start:\n{log}");
        };

        let mut client = Client::connect(&format!("ws://{addr}/parties/demo/r?_pk=me")).await;
        assert_eq!(client.next().await, Some(Message::text("hello from demo")));
        until_echo(&mut client, "one", "me: one").await;

        // An edit is rebuilt and swapped while the client stays connected.
        edit(&source, "\"{}: {text}\"", "\"{} says: {text}\"");
        until_echo(&mut client, "two", "me says: two").await;

        // A compile error is reported; the old version keeps serving.
        edit(&source, "struct App {", "struct App { broken");
        let log_path = dir.path().join("dev.log");
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            if log.contains("the old version keeps serving") {
                assert!(
                    log.contains("error"),
                    "the compiler's error is shown:\n{log}"
                );
                break;
            }
        }
        until_echo(&mut client, "three", "me says: three").await;

        // Nothing else changed, so nothing else was rebuilt (cargo reading
        // the sources is not a change).
        tokio::time::sleep(Duration::from_secs(2)).await;
        let out = std::fs::read_to_string(&out_path).unwrap_or_default();
        let rebuilds = out
            .lines()
            .filter(|l| l.contains("rebuilding demo"))
            .count();
        assert!(
            (2..=4).contains(&rebuilds),
            "two edits, {rebuilds} rebuilds:\n{out}"
        );
        let _ = dev.kill();
        let _ = dev.wait();
    })
    .await;
}

/// Runs `program args` in `dir` and panics with its output if it fails.
fn run_in(dir: &Path, program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("failed to run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn new_scaffolds_a_js_room_that_builds_with_its_documented_command() {
    timed_for(Duration::from_secs(300), async {
        let dir = tempfile::tempdir().expect("temp dir");
        let made = partyhost()
            .args(["new", "chat", "--lang", "js", "--dir"])
            .arg(dir.path())
            .output()
            .expect("new");
        let printed = String::from_utf8_lossy(&made.stdout);
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        assert!(
            printed.contains("npm install && npm run build"),
            "{printed}"
        );

        // The build command the scaffold prints, run as a user would.
        let project = dir.path().join("chat");
        run_in(&project, "npm", &["install", "--no-audit", "--no-fund"]);
        run_in(&project, "npm", &["run", "build"]);

        let component = project.join("room.wasm");
        let env = TestEnv::with_config(&format!("[parties.chat]\ncomponent = {component:?}\n"));
        let host = env.start().await;
        let mut client = host.connect("/parties/chat/r?_pk=me").await;
        assert_eq!(client.next().await, Some(Message::text("hello from chat")));
        client.send_text("hi").await;
        assert_eq!(client.next().await, Some(Message::text("me: hi")));
    })
    .await;
}

#[tokio::test]
async fn new_scaffolds_a_python_room_that_builds_with_its_documented_command() {
    timed_for(Duration::from_secs(300), async {
        let dir = tempfile::tempdir().expect("temp dir");
        let made = partyhost()
            .args(["new", "chat", "--lang", "python", "--dir"])
            .arg(dir.path())
            .output()
            .expect("new");
        let printed = String::from_utf8_lossy(&made.stdout);
        let stderr = String::from_utf8_lossy(&made.stderr);
        assert!(made.status.success(), "{stderr}");
        assert!(printed.contains("./build.sh"), "{printed}");

        // The printed build command, with the componentize-py that .ci/run
        // installed instead of a fresh venv (which would download it again).
        let project = dir.path().join("chat");
        let python =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk/python/.venv/bin/python");
        let built = Command::new("./build.sh")
            .current_dir(&project)
            .env("PARTYHOST_PYTHON", &python)
            .output()
            .expect("run build.sh");
        let log = String::from_utf8_lossy(&built.stderr);
        assert!(built.status.success(), "build.sh failed:\n{log}");

        let component = project.join("room.wasm");
        let env = TestEnv::with_config(&format!("[parties.chat]\ncomponent = {component:?}\n"));
        let host = env.start().await;
        let mut client = host.connect("/parties/chat/r?_pk=me").await;
        assert_eq!(client.next().await, Some(Message::text("hello from chat")));
        client.send_text("hi").await;
        assert_eq!(client.next().await, Some(Message::text("me: hi")));
    })
    .await;
}

#[test]
fn new_refuses_an_unknown_language() {
    let dir = tempfile::tempdir().expect("temp dir");
    let made = partyhost()
        .args(["new", "chat", "--lang", "cobol", "--dir"])
        .arg(dir.path())
        .output()
        .expect("new");
    assert!(!made.status.success());
    assert!(String::from_utf8_lossy(&made.stderr).contains("cobol"));
    assert!(!dir.path().join("chat").exists());
}
