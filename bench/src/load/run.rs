//! The parent of a load run: fills in the plan, starts the server when
//! none is given, warms the first room, runs the workers through their
//! phases and samples the server between phases.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use super::worker::{Connected, Done, WorkerPlan};
use super::{LoadArgs, MAX_PER_WORKER, client, report};
use crate::host::Host;
use crate::procstat::{self, Sample};

/// One worker process and its pipes.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

/// Runs the load described by `args`; returns the report and whether
/// every delivery arrived.
pub async fn run(mut args: LoadArgs, partyhost: &Path) -> anyhow::Result<(Value, bool)> {
    // Started only when no URL is given; dropped (and killed) at the end.
    let _host = start_host(&mut args, partyhost)?;
    let url = args.url.clone().context("no url")?;
    client::check_url(&url)?;
    let workers = worker_count(&args)?;
    let prefix = format!("b{}-", super::now_us() / 1000 % 100_000_000);
    args.room_prefix.get_or_insert(prefix);
    let load_before = loadavg();

    warm_up(&args).await?;
    let before = Sample::take(&args.server_pids)?;
    let mut pool = spawn_workers(&args, workers)?;

    let connect_us = super::now_us();
    let connected: Vec<Connected> = step(&mut pool, "connect", "connected").await?;
    let after_connect = Sample::take(&args.server_pids)?;
    let opened_all = connected.iter().all(|c| c.failed == 0);

    let go_us = super::now_us();
    let done: Vec<Done> = if opened_all {
        step(&mut pool, "go", "done").await?
    } else {
        Vec::new()
    };
    let after_send = Sample::take(&args.server_pids)?;
    tokio::time::sleep(Duration::from_secs_f64(args.hold.max(0.0))).await;
    let after_hold = Sample::take(&args.server_pids)?;
    close(pool).await;

    let times = report::Times { connect_us, go_us };
    let (mut report, complete) = report::build(&args, times, &connected, &done);
    let samples = [
        ("before", before),
        ("connected", after_connect),
        ("sent", after_send),
        ("held", after_hold),
    ];
    report["server"] = procstat::report(&args.server_pids, &samples, args.total_connections());
    report["server"]["cpu_seconds_send"] = json!(after_send.cpu_seconds_since(&after_connect));
    report["load_average"] = json!({ "before": load_before, "after": loadavg() });
    report["run"] = run_json(&args, workers);
    Ok((report, complete))
}

/// Starts a partyhost for the run when no URL was given.
fn start_host(args: &mut LoadArgs, binary: &Path) -> anyhow::Result<Option<Host>> {
    if args.url.is_some() {
        return Ok(None);
    }
    let host = Host::start(&binary.to_path_buf(), "")?;
    args.url = Some(format!(
        "ws://{}/parties/reaction/{{room}}?_pk={{id}}",
        host.addr
    ));
    args.server_pids.push(host.pid());
    args.label.get_or_insert_with(|| "partyhost".to_owned());
    Ok(Some(host))
}

fn worker_count(args: &LoadArgs) -> anyhow::Result<usize> {
    let total = args.total_connections();
    if total == 0 {
        bail!("nothing to run: --rooms and --connections must be at least 1");
    }
    let workers = args.workers.unwrap_or(total.div_ceil(10_000)).max(1);
    if total.div_ceil(workers) > MAX_PER_WORKER {
        bail!(
            "{total} connections need more than {workers} workers (at most {MAX_PER_WORKER} each)"
        );
    }
    // The senders' own process comes on top of the others.
    Ok(workers + usize::from(args.senders_apart))
}

/// Opens and closes one connection to the first room, so the server's
/// baseline memory includes a loaded room module.
async fn warm_up(args: &LoadArgs) -> anyhow::Result<()> {
    let (room, _, _, source) = args.connection(0);
    let url = args.url_for(room, &format!("{}warmup", args.id_prefix));
    let spec = client::Spec {
        room,
        url,
        source,
        kind: None,
        reactions: 0,
        rate: None,
        expected: 0,
        exact_latency: false,
        timeout: Duration::from_secs_f64(args.timeout),
    };
    let (mut ws, _) = client::connect(&spec)
        .await
        .context("failed to warm up the server")?;
    let _ = ws.close(None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}

fn spawn_workers(args: &LoadArgs, count: usize) -> anyhow::Result<Vec<Worker>> {
    let exe = std::env::current_exe().context("failed to find this program")?;
    (0..count)
        .map(|index| {
            let plan = WorkerPlan {
                args: args.clone(),
                index,
                count,
            };
            let mut child = tokio::process::Command::new(&exe)
                .arg("load-worker")
                .arg(serde_json::to_string(&plan)?)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .context("failed to start a worker")?;
            let stdin = child.stdin.take().context("no worker stdin")?;
            let stdout = child.stdout.take().context("no worker stdout")?;
            let lines = BufReader::new(stdout).lines();
            Ok(Worker {
                child,
                stdin,
                lines,
            })
        })
        .collect()
}

/// Tells every worker `command` and reads each one's `event` report.
async fn step<T: DeserializeOwned>(
    pool: &mut [Worker],
    command: &str,
    event: &str,
) -> anyhow::Result<Vec<T>> {
    for worker in pool.iter_mut() {
        worker
            .stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        worker.stdin.flush().await?;
    }
    let mut reports = Vec::with_capacity(pool.len());
    for worker in pool.iter_mut() {
        let line = worker
            .lines
            .next_line()
            .await?
            .context("a worker exited early")?;
        let mut value: Value = serde_json::from_str(&line).context("bad worker report")?;
        if value["event"] != event {
            bail!("expected {event:?} from a worker, got {line:?}");
        }
        reports.push(serde_json::from_value(value["report"].take())?);
    }
    Ok(reports)
}

async fn close(pool: Vec<Worker>) {
    for mut worker in pool {
        let _ = worker.stdin.write_all(b"close\n").await;
        let _ = worker.stdin.flush().await;
        let wait = tokio::time::timeout(Duration::from_secs(10), worker.child.wait()).await;
        if wait.is_err() {
            let _ = worker.child.kill().await;
        }
    }
}

fn loadavg() -> Value {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let fields: Vec<f64> = text
        .split_whitespace()
        .take(3)
        .filter_map(|f| f.parse().ok())
        .collect();
    json!(fields)
}

fn run_json(args: &LoadArgs, workers: usize) -> Value {
    json!({
        "label": args.label,
        "url": args.url,
        "rooms": args.rooms,
        "connections_per_room": args.connections_per_room,
        "senders_per_room": args.senders_per_room(),
        "reactions_per_sender": args.reactions,
        "rate_per_sender": args.rate,
        "mode": if args.rate.is_some() { "paced" } else { "burst" },
        "hold_seconds": args.hold,
        "kind_per_sender": args.kind_per_sender,
        "source_ips": args.source_ips,
        "workers": workers,
        "connect_concurrency": args.connect_concurrency,
    })
}
