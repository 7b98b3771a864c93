//! A worker process: holds its share of the connections (see
//! [`WorkerPlan::owns`]), moves them through the phases its
//! parent writes on stdin (`connect`, `go`, `close`) and writes one JSON
//! line per phase on stdout.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::{Semaphore, mpsc, watch};

use super::LoadArgs;
use super::client::{self, Outcome, Phase, Spec};

/// What a worker is told to do.
#[derive(Debug, Serialize, Deserialize)]
pub struct WorkerPlan {
    /// The run's options, with the URL and room prefix filled in.
    pub args: LoadArgs,
    /// This worker's number.
    pub index: usize,
    /// How many workers share the run.
    pub count: usize,
}

/// A worker's report of its connect phase.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Connected {
    /// Connections open.
    pub connected: usize,
    /// Connections that failed.
    pub failed: usize,
    /// When its last connection was open (µs since the epoch).
    pub finished_us: u64,
    /// The first few failures.
    pub errors: Vec<String>,
}

/// A worker's report of its measured phase.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Done {
    /// Reactions sent.
    pub sent: u64,
    /// Count messages that raised a total, over all clients.
    pub deliveries: u64,
    /// Deliveries owed: each client's expected increment, summed.
    pub expected: u64,
    /// Clients that saw less than the whole increment.
    pub short: usize,
    /// The smallest increment a client of each room saw, by room.
    pub room_min: BTreeMap<usize, u64>,
    /// When the last client saw its last increment (µs since the epoch).
    pub finished_us: u64,
    /// Latencies in µs as (value, count) pairs.
    pub latency: Vec<(u64, u64)>,
    /// The first few failures.
    pub errors: Vec<String>,
}

/// What a client task tells the worker.
enum Event {
    Connected(Result<(), String>),
    Measured(Outcome),
}

/// Runs a worker to the end of its parent's run.
pub async fn run(plan: WorkerPlan) -> anyhow::Result<()> {
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    expect_line(&mut stdin, "connect").await?;

    let (phase_tx, phase) = watch::channel(Phase::Connect);
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let limiter = Arc::new(Semaphore::new(plan.args.connect_concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let specs = specs(&plan);
    let clients = specs.len();
    for spec in specs {
        let (phase, events, limiter) = (phase.clone(), events_tx.clone(), limiter.clone());
        tasks.spawn(drive(spec, limiter, phase, events));
    }

    let connected = collect_connects(&mut events, clients).await;
    let connected_clients = connected.connected;
    emit("connected", &connected)?;
    expect_line(&mut stdin, "go").await?;
    phase_tx.send_replace(Phase::Go);

    let done = collect_outcomes(&mut events, connected_clients, &plan.args).await;
    emit("done", &done)?;
    expect_line(&mut stdin, "close").await?;
    phase_tx.send_replace(Phase::Close);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

impl WorkerPlan {
    /// Tells whether connection `n` is this worker's: every `count`-th
    /// one, or with `--senders-apart` every sender for worker 0 and every
    /// `count - 1`-th other connection for the rest.
    fn owns(&self, n: usize) -> bool {
        if !self.args.senders_apart || self.count == 1 {
            return n % self.count == self.index;
        }
        match (self.args.sends(n), self.index) {
            (sends, 0) => sends,
            (true, _) => false,
            (false, index) => n % (self.count - 1) == index - 1,
        }
    }
}

/// Returns this worker's share of the connections.
fn specs(plan: &WorkerPlan) -> Vec<Spec> {
    let args = &plan.args;
    (0..args.total_connections())
        .filter(|&n| plan.owns(n))
        .map(|n| {
            let (room, index, url, source) = args.connection(n);
            let sends = args.sends(n);
            let kind = match (sends, args.kind_per_sender) {
                (false, _) => None,
                (true, true) => Some(format!("s{index}")),
                (true, false) => Some("heart".to_owned()),
            };
            Spec {
                room,
                url,
                source,
                kind,
                reactions: args.reactions,
                rate: args.rate,
                expected: args.expected_per_connection(),
                exact_latency: args.exact_latency(),
                timeout: std::time::Duration::from_secs_f64(args.timeout),
            }
        })
        .collect()
}

/// One client's whole life, reported to the worker as events.
async fn drive(
    spec: Spec,
    limiter: Arc<Semaphore>,
    mut phase: watch::Receiver<Phase>,
    events: mpsc::UnboundedSender<Event>,
) {
    let permit = limiter.acquire_owned().await;
    let opened = client::connect(&spec).await;
    drop(permit);
    let (mut ws, baseline) = match opened {
        Ok(open) => open,
        Err(e) => {
            let _ = events.send(Event::Connected(Err(format!("{:#}", e))));
            return;
        }
    };
    let _ = events.send(Event::Connected(Ok(())));

    match client::wait_for_go(&mut ws, &mut phase).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            let _ = events.send(Event::Measured(failed(&spec, e)));
            return;
        }
    }
    let (ws, outcome) = client::measure(ws, &spec, baseline).await;
    let _ = events.send(Event::Measured(outcome));
    client::hold(ws, &mut phase).await;
}

fn failed(spec: &Spec, error: anyhow::Error) -> Outcome {
    Outcome {
        room: spec.room,
        sent: 0,
        deliveries: 0,
        increase: 0,
        finished_us: super::now_us(),
        latency: None,
        error: Some(format!("{error:#}")),
    }
}

async fn collect_connects(
    events: &mut mpsc::UnboundedReceiver<Event>,
    clients: usize,
) -> Connected {
    let mut report = Connected::default();
    while report.connected + report.failed < clients {
        match events.recv().await {
            Some(Event::Connected(Ok(()))) => report.connected += 1,
            Some(Event::Connected(Err(e))) => {
                report.failed += 1;
                keep_first(&mut report.errors, e);
            }
            Some(Event::Measured(_)) => {}
            None => break,
        }
    }
    report.finished_us = super::now_us();
    report
}

async fn collect_outcomes(
    events: &mut mpsc::UnboundedReceiver<Event>,
    clients: usize,
    args: &LoadArgs,
) -> Done {
    let mut done = Done::default();
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
    let expected = args.expected_per_connection();
    for _ in 0..clients {
        let Some(Event::Measured(outcome)) = events.recv().await else {
            break;
        };
        done.sent += outcome.sent;
        done.deliveries += outcome.deliveries;
        done.expected += expected;
        done.finished_us = done.finished_us.max(outcome.finished_us);
        if outcome.increase < expected {
            done.short += 1;
        }
        let min = done.room_min.entry(outcome.room).or_insert(u64::MAX);
        *min = (*min).min(outcome.increase);
        if let Some(hist) = outcome.latency {
            let _ = latency.add(hist);
        }
        if let Some(e) = outcome.error {
            keep_first(&mut done.errors, e);
        }
    }
    done.latency = latency
        .iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect();
    done
}

fn keep_first(errors: &mut Vec<String>, error: String) {
    if errors.len() < 5 {
        errors.push(error);
    }
}

/// Writes one phase report as a JSON line on stdout.
fn emit<T: Serialize>(event: &str, report: &T) -> anyhow::Result<()> {
    let line = serde_json::json!({ "event": event, "report": report });
    println!("{line}");
    Ok(())
}

async fn expect_line<R>(lines: &mut tokio::io::Lines<R>, want: &str) -> anyhow::Result<()>
where
    R: tokio::io::AsyncBufRead + Unpin,
{
    let line = lines.next_line().await?.context("parent gone")?;
    if line.trim() != want {
        bail!("expected {want:?} from the parent, got {line:?}");
    }
    Ok(())
}
