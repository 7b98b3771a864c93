//! The HTTP and WebSocket front: routes requests to rooms, runs each
//! socket's loop, and shuts down in order.
//!
//! Shutdown: stop accepting, let every room finish its queued events and
//! make its writes durable (its sockets then close with 1001), wait for the
//! sockets to finish their close handshakes, and close storage last.

mod admin;
mod assets;
mod demo;
pub mod http;
mod listener;
pub mod routes;
pub mod socket;
pub mod upgrade;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post, put};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::config::{Config, Limits};
use crate::room::registry::{RoomDeps, RoomRegistry};
use crate::runtime::Runtime;
use crate::runtime::deploy::Deployer;
use crate::runtime::store::ModuleStore;
use crate::storage::Backend;
use crate::storage::sqlite::SqliteBackend;

/// Longest wait for sockets to finish closing at shutdown.
const SOCKET_DRAIN: Duration = Duration::from_secs(5);

/// What every request handler shares.
pub struct App {
    /// The live rooms.
    pub registry: Arc<RoomRegistry>,
    /// The host's limits.
    pub limits: Arc<Limits>,
    /// The running socket loops.
    pub sockets: TaskTracker,
    /// Sockets open or being opened, against `limits.max_connections`.
    pub open_sockets: AtomicUsize,
    /// The next socket key.
    pub next_socket: AtomicU64,
    /// The admin API's bearer token; `None` turns the API off.
    pub admin_token: Option<String>,
    /// Accepts new modules.
    pub deployer: Arc<Deployer>,
    /// The static folder, if one is configured.
    assets: Option<assets::Assets>,
}

/// A bound, loaded host, ready to serve.
pub struct Server {
    app: Arc<App>,
    listener: TcpListener,
    backend: Arc<dyn Backend>,
}

impl Server {
    /// Opens storage, loads every party's module, and binds the listener.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let config = config.with_default_parties();
        config.validate()?;
        std::fs::create_dir_all(&config.data)
            .with_context(|| format!("failed to create data directory {:?}", config.data))?;
        let backend: Arc<dyn Backend> = Arc::new(
            SqliteBackend::open(&config.data.join("storage.sqlite3"))
                .context("failed to open storage")?,
        );

        let runtime = Arc::new(Runtime::new()?);
        let store = ModuleStore::open(&config.data, config.compile_cache.as_deref())?;
        let deployer = Arc::new(Deployer::new(runtime.clone(), store));
        let parties = deployer.startup_parties(&config).await?;
        let limits = Arc::new(config.limits.clone());
        let deps = RoomDeps {
            runtime,
            parties: std::sync::RwLock::new(parties),
            backend: backend.clone(),
            limits: limits.clone(),
            calls: Default::default(),
        };
        let registry = RoomRegistry::new(deps);
        let woken = registry.restore_alarms().await?;
        if woken > 0 {
            tracing::info!(rooms = woken, "restored room alarms");
        }

        let assets = match &config.static_dir {
            Some(dir) => Some(
                assets::Assets::new(dir, config.spa_fallback)
                    .with_context(|| format!("failed to open static folder {dir:?}"))?,
            ),
            None => None,
        };
        let listener = listener::bind(config.listen)
            .with_context(|| format!("failed to listen on {:?}", config.listen))?;
        let app = Arc::new(App {
            registry,
            limits,
            sockets: TaskTracker::new(),
            open_sockets: AtomicUsize::new(0),
            next_socket: AtomicU64::new(1),
            admin_token: config.admin_token.clone().filter(|t| !t.is_empty()),
            deployer,
            assets,
        });
        if app.admin_token.is_none() {
            tracing::info!("admin API is off: no admin token configured");
        }
        Ok(Self {
            app,
            listener,
            backend,
        })
    }

    /// Returns a handle that deploys modules into this host.
    pub fn hot_loader(&self) -> crate::runtime::deploy::HotLoader {
        crate::runtime::deploy::HotLoader {
            deployer: self.app.deployer.clone(),
            deps: self.app.registry.deps().clone(),
        }
    }

    /// Returns the address the host listens on.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener
            .local_addr()
            .context("failed to read listen address")
    }

    /// Serves until `shutdown` resolves, then shuts down in order.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = Router::new()
            .route("/", get(home))
            .route("/metrics", get(admin::metrics))
            .route("/_partyhost/", get(demo::status_page))
            .route(
                "/_partyhost",
                get(|| async { axum::response::Redirect::permanent("/_partyhost/") }),
            )
            .route("/_partyhost/status", get(admin::status))
            .route("/_partyhost/rooms", get(admin::rooms))
            .route("/_partyhost/parties", get(admin::parties))
            .route(
                "/_partyhost/parties/{party}/module",
                put(admin::deploy)
                    .post(admin::deploy)
                    .layer(DefaultBodyLimit::max(admin::MAX_MODULE_BYTES)),
            )
            .route(
                "/_partyhost/parties/{party}/rollback",
                post(admin::rollback),
            )
            .fallback(room_route)
            .with_state(self.app.clone());
        let status_line = tokio::spawn(log_status_every_minute(self.app.clone()));
        let header_timeout = Duration::from_millis(self.app.limits.request_timeout_ms);
        listener::serve(self.listener, router, header_timeout, shutdown).await;

        status_line.abort();
        tracing::info!("shutting down: finishing room events");
        self.app.registry.shutdown().await;
        self.app.sockets.close();
        if tokio::time::timeout(SOCKET_DRAIN, self.app.sockets.wait())
            .await
            .is_err()
        {
            tracing::warn!("some sockets did not finish closing");
        }
        self.backend.close().await;
        tracing::info!("shutdown complete");
        Ok(())
    }
}

/// How often the aggregate status line is logged.
const STATUS_EVERY: Duration = Duration::from_secs(60);

/// Logs one line of aggregate counts every minute (never a line per
/// message).
async fn log_status_every_minute(app: Arc<App>) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut ticks = tokio::time::interval(STATUS_EVERY);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let stats = &app.registry.stats;
        let metrics = &crate::telemetry::METRICS;
        tracing::info!(
            rooms = stats.live.load(Relaxed),
            awake = stats.awake.load(Relaxed),
            connections = app.open_sockets.load(Relaxed),
            messages_in = metrics.messages_in.get(),
            messages_out = metrics.messages_out.get(),
            traps = stats.traps(),
            "status"
        );
    }
}

/// Serves `/`: the static folder's index, or the built-in demo page.
async fn home(State(app): State<Arc<App>>, request: Request) -> Response {
    match &app.assets {
        Some(assets) => assets.serve(request.method(), "/", request.headers()).await,
        None => demo::page().await.into_response(),
    }
}

/// Sends a request under `/parties/` or `/party/` to its room; anything
/// else goes to the static folder, if there is one.
async fn room_route(State(app): State<Arc<App>>, request: Request) -> Response {
    let Some(key) = routes::parse_room_path(request.uri().path()) else {
        return match &app.assets {
            Some(assets) => {
                let path = request.uri().path();
                assets
                    .serve(request.method(), path, request.headers())
                    .await
            }
            None => (StatusCode::NOT_FOUND, "not found").into_response(),
        };
    };
    if !app.registry.has_party(key.party.as_str()) {
        return (StatusCode::NOT_FOUND, "unknown party").into_response();
    }
    let (parts, body) = request.into_parts();
    if parts.method == axum::http::Method::GET && is_websocket_upgrade(&parts.headers) {
        upgrade::connect(app, key, parts).await
    } else {
        http::request(app, key, parts, body).await
    }
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers.get_all(header::UPGRADE).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.trim().eq_ignore_ascii_case("websocket"))
    })
}
