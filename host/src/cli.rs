//! The `partyhost` command line.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, PartyConfig};
use crate::server::Server;
use crate::telemetry::{self, LogFormat};
use crate::tools;
use crate::tools::scaffold::Lang;

/// A self-hosted server for real-time rooms whose logic is a WebAssembly
/// component.
#[derive(Debug, Parser)]
#[command(name = "partyhost", version, about, long_about = None)]
pub struct Cli {
    /// How log lines are written (filter them with RUST_LOG).
    #[arg(long, value_enum, default_value = "text", global = true)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve rooms over HTTP and WebSocket.
    Serve(ServeArgs),
    /// Upload a room component to a running host as a party's next version.
    Deploy(DeployArgs),
    /// Create a room project (Rust, TypeScript or Python) that builds and
    /// runs as is.
    New(NewArgs),
    /// Serve the room crates under a folder, rebuilding and hot-swapping each
    /// one when its files change.
    Dev(DevArgs),
}

#[derive(Debug, Args)]
struct DeployArgs {
    /// The party to deploy to (created if new).
    party: String,
    /// The component (.wasm) to upload.
    component: PathBuf,
    /// The host's base URL.
    #[arg(long, default_value = "http://127.0.0.1:1999")]
    url: String,
    /// The host's admin token.
    #[arg(long, env = "PARTYHOST_ADMIN_TOKEN", hide_env_values = true)]
    token: String,
}

#[derive(Debug, Args)]
struct NewArgs {
    /// The room's name (a-z, 0-9, '-'), also its folder and party name.
    name: String,
    /// The folder to create it in.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The language to write the room in.
    #[arg(long, value_enum, default_value = "rust")]
    lang: Lang,
}

#[derive(Debug, Args)]
struct DevArgs {
    /// The folder whose subfolders are room crates (each one a party named
    /// after its folder).
    #[arg(long, default_value = "rooms")]
    rooms: PathBuf,

    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:1999, or the config's].
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,

    /// Data directory for storage and compiled modules [default:
    /// ./.partyhost, or the config's].
    #[arg(long)]
    data: Option<PathBuf>,

    /// Config file (TOML). Without one, the parties `main` and `reaction`
    /// serve the built-in reaction room.
    #[arg(long, env = "PARTYHOST_CONFIG")]
    config: Option<PathBuf>,

    /// Bearer token for the admin API under /_partyhost/ (off without one).
    #[arg(long, env = "PARTYHOST_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,

    /// A party and its component, as NAME=PATH; repeatable, overrides the
    /// config's party of that name.
    #[arg(long = "party", value_name = "NAME=PATH")]
    parties: Vec<String>,
}

/// Parses the command line and runs the command.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let runtime = tokio::runtime::Runtime::new().context("failed to start tokio")?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Deploy(args) => runtime.block_on(deploy(args)),
        Command::New(args) => {
            let dir = tools::scaffold::create(&args.name, &args.dir, args.lang)?;
            println!("created room {:?} in {}", args.name, dir.display());
            let build = tools::scaffold::build_hint(args.lang);
            println!("build it:  cd {} && {build}", dir.display());
            match args.lang {
                Lang::Rust => println!("serve it:  partyhost dev --rooms {}", args.dir.display()),
                Lang::Js | Lang::Python => {
                    let wasm = dir.join("room.wasm");
                    println!(
                        "serve it:  partyhost serve --party {}={}",
                        args.name,
                        wasm.display()
                    );
                }
            }
            Ok(())
        }
        Command::Dev(args) => runtime.block_on(async {
            let config = config_from(&args.serve)?;
            tools::dev::run(&args.rooms, config, shutdown_signal()).await
        }),
    }
}

async fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let answer =
        tools::deploy::deploy(&args.url, &args.token, &args.party, &args.component).await?;
    let version = &answer["version"];
    println!(
        "deployed {} version {} (sha256 {}, {} bytes)",
        answer["party"].as_str().unwrap_or(&args.party),
        version["version"],
        version["hash"].as_str().unwrap_or("?"),
        version["size"]
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = config_from(&args)?;
    let server = Server::start(config).await?;
    let addr = server.local_addr()?;
    tracing::info!(%addr, "listening");
    println!("partyhost listening on http://{addr}");
    server.run(shutdown_signal()).await
}

/// Builds the config from the config file and the flags over it.
fn config_from(args: &ServeArgs) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(data) = &args.data {
        config.data = data.clone();
    }
    if args.admin_token.is_some() {
        config.admin_token = args.admin_token.clone();
    }
    for spec in &args.parties {
        let (name, path) = spec
            .split_once('=')
            .with_context(|| format!("failed to parse --party {spec:?}: expected NAME=PATH"))?;
        let party = PartyConfig {
            component: PathBuf::from(path),
            vars: Default::default(),
        };
        config.parties.insert(name.to_owned(), party);
    }
    Ok(config)
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "failed to listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "failed to listen for sigterm");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown signal received");
}
