//! Starts a `partyhost` process for a measurement and reads its memory.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, bail};

/// The admin token the measured host is started with.
pub const TOKEN: &str = "bench-token";

/// A host process serving the built-in reaction room.
pub struct Host {
    child: Child,
    /// Where it listens.
    pub addr: String,
    _data: tempfile::TempDir,
}

impl Host {
    /// Starts `binary` with a fresh data dir and extra `[limits]` lines.
    pub fn start(binary: &PathBuf, limits: &str) -> anyhow::Result<Self> {
        let data = tempfile::tempdir().context("failed to make a data dir")?;
        let config = data.path().join("partyhost.toml");
        let text = format!(
            "admin_token = {TOKEN:?}\n\
             [parties.reaction]\ncomponent = \"builtin:reaction\"\n\
             [limits]\n{limits}\n"
        );
        std::fs::write(&config, text).context("failed to write config")?;
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(data.path().join("data"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("failed to start {binary:?}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        let Some(addr) = line.trim().strip_prefix("partyhost listening on http://") else {
            let _ = child.kill();
            bail!("host did not start: {line:?}");
        };
        Ok(Self {
            addr: addr.to_owned(),
            child,
            _data: data,
        })
    }

    /// Returns the process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Returns the process's resident memory, in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS")
    }

    /// Returns the admin status JSON.
    pub async fn status(&self) -> anyhow::Result<serde_json::Value> {
        let text = reqwest::Client::new()
            .get(format!("http://{}/_partyhost/status", self.addr))
            .bearer_auth(TOKEN)
            .send()
            .await?
            .text()
            .await?;
        Ok(serde_json::from_str(&text)?)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
