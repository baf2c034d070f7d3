//! `doorstep-registry`: the command line around the server library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use doorstep_registry::auth::{self, Role};
use doorstep_registry::config::Overrides;
use doorstep_registry::server;

#[derive(Parser)]
#[command(
    name = "doorstep-registry",
    version,
    about = "The social registry API server that Doorstep apps sync to.",
    long_about = "The social registry API server that Doorstep apps sync to.\n\n\
        Settings come from, highest precedence first: command-line flags, DOORSTEP_REGISTRY_* \
        environment variables, the --config file, built-in defaults."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Open (or create) the registry database and serve the HTTP API until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Print a development sign-in token (for demos and tests; see `serve --dev-auth`). Creates
    /// the data directory's development key if it does not exist yet. Prints only the token.
    DevToken(DevTokenArgs),
    /// Fill a registry with demo programmes, forms and realistic households (names, IDs, phones,
    /// mobile-money accounts, applications), then exit. Safe to repeat with the same seed.
    DemoData(DemoDataArgs),
    /// Print the public JWKS to register for the registry's sign-in client at the identity
    /// provider (eSignet): the [signin] signing key (use: sig) and, when configured, the userinfo
    /// decryption key (use: enc), each under its key_id (default: its RFC 7638 thumbprint).
    /// Prints only the JSON; no private key material.
    SigninJwks(SigninJwksArgs),
    /// The staff directory: who is an agent, staff member or administrator. Use it to make the
    /// first administrator; afterwards admins manage the directory from the app. Uses the same
    /// settings as `serve` (--config, --data, --database) and records who ran it (cli:<user>).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Give an identity a role: `admin grant --issuer URL --subject SUB --role admin`.
    Grant {
        #[command(flatten)]
        settings: StoreArgs,
        #[command(flatten)]
        who: IdentityArgs,
        /// agent (with exactly one --area), staff (any --area, none: every area) or admin.
        #[arg(long, value_name = "agent|staff|admin", value_parser = parse_staff_role)]
        role: doorstep_domain::api::StaffRole,
        /// An area code; repeat for several (staff).
        #[arg(long = "area", value_name = "CODE")]
        areas: Vec<String>,
    },
    /// Revoke an entry (kept as the trail): by --id, or by the identity.
    Revoke {
        #[command(flatten)]
        settings: StoreArgs,
        /// The entry's id, as `admin list` shows it.
        #[arg(long, value_name = "UUID", conflicts_with_all = ["issuer", "subject", "email"])]
        id: Option<uuid::Uuid>,
        #[arg(long, value_name = "URL", required_unless_present = "id")]
        issuer: Option<String>,
        #[arg(long, value_name = "SUB", conflicts_with = "email")]
        subject: Option<String>,
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
    },
    /// Print the directory, one entry a line.
    List {
        #[command(flatten)]
        settings: StoreArgs,
        /// Also the revoked entries.
        #[arg(long)]
        all: bool,
    },
}

/// Where the directory lives and which issuers are trusted: the server's own settings.
#[derive(Args)]
struct StoreArgs {
    /// The registry's config file (its [auth] section says which issuers may grant what).
    #[arg(long, env = "DOORSTEP_REGISTRY_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// The registry's data directory (as given to `serve --data`).
    #[arg(long, env = "DOORSTEP_REGISTRY_DATA", value_name = "DIR")]
    data: Option<PathBuf>,
    /// "sqlite" or a PostgreSQL URL, as for `serve --database`.
    #[arg(long, env = "DOORSTEP_REGISTRY_DATABASE", value_name = "sqlite|URL")]
    database: Option<String>,
    /// Trust the development issuer too (as `serve --dev-auth`).
    #[arg(long, env = "DOORSTEP_REGISTRY_DEV_AUTH")]
    dev_auth: bool,
}

/// Who: an issuer and exactly one of subject and e-mail.
#[derive(Args)]
struct IdentityArgs {
    /// The identity provider, exactly as its tokens' `iss`.
    #[arg(long, value_name = "URL")]
    issuer: String,
    /// The person's `sub` at that provider.
    #[arg(
        long,
        value_name = "SUB",
        required_unless_present = "email",
        conflicts_with = "email"
    )]
    subject: Option<String>,
    /// Their e-mail address, matched only when the provider marks it verified.
    #[arg(long, value_name = "ADDRESS")]
    email: Option<String>,
}

fn parse_staff_role(name: &str) -> Result<doorstep_domain::api::StaffRole, String> {
    doorstep_domain::api::StaffRole::parse(name)
        .ok_or_else(|| format!("unknown role `{name}`: expected agent, staff or admin"))
}

#[derive(Args)]
struct SigninJwksArgs {
    /// The registry's config file, with its [signin] section.
    #[arg(long, env = "DOORSTEP_REGISTRY_CONFIG", value_name = "FILE")]
    config: PathBuf,
}

#[derive(Args)]
struct DemoDataArgs {
    /// The registry's data directory (as given to `serve --data`).
    #[arg(long, env = "DOORSTEP_REGISTRY_DATA", value_name = "DIR")]
    data: PathBuf,

    /// "sqlite" (default) or a PostgreSQL URL, as for `serve --database`.
    #[arg(long, env = "DOORSTEP_REGISTRY_DATABASE", value_name = "sqlite|URL")]
    database: Option<String>,

    /// How many households to make.
    #[arg(long, value_name = "N", default_value_t = doorstep_registry::demo::households::DEFAULT_HOUSEHOLDS as u32,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    households: u32,

    /// Seed of the generator: the same seed makes the same people.
    #[arg(long, value_name = "N", default_value_t = doorstep_registry::demo::households::DEFAULT_SEED)]
    seed: u64,
}

#[derive(Args)]
struct ServeArgs {
    /// TOML file with any of: listen, data, database, demo, shutdown_grace_secs,
    /// header_read_timeout_secs, idle_timeout_secs, max_connections, dev_auth, and the [auth],
    /// [limits] and [signin] sections (see README.md). Flags and environment variables override
    /// it; a relative `data` path is relative to the file.
    #[arg(long, env = "DOORSTEP_REGISTRY_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Address and port to listen on [default: 127.0.0.1:8700]. Keep it on loopback unless a
    /// TLS-terminating reverse proxy sits in front. Port 0 picks a free port; the chosen address is
    /// printed as "doorstep-registry listening on http://ADDR".
    #[arg(long, env = "DOORSTEP_REGISTRY_LISTEN", value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,

    /// Directory for the registry's data: uploaded documents (blobs/) and, with the default
    /// database, the SQLite file (registry.sqlite3). Created with owner-only permissions.
    #[arg(long, env = "DOORSTEP_REGISTRY_DATA", value_name = "DIR")]
    data: Option<PathBuf>,

    /// Where the records live: "sqlite" (the default: registry.sqlite3 in --data) or a
    /// PostgreSQL URL such as postgres://registry@127.0.0.1:5432/registry (put the password in
    /// the environment variable or config file rather than on the command line).
    #[arg(long, env = "DOORSTEP_REGISTRY_DATABASE", value_name = "sqlite|URL")]
    database: Option<String>,

    /// Load the demo programmes and their forms on start. Safe to repeat: nothing is duplicated
    /// and nothing already there is changed.
    #[arg(long, env = "DOORSTEP_REGISTRY_DEMO")]
    demo: bool,

    /// Seconds to let in-flight requests finish after Ctrl-C or SIGTERM [default: 10].
    #[arg(long, env = "DOORSTEP_REGISTRY_SHUTDOWN_GRACE", value_name = "SECONDS")]
    shutdown_grace: Option<u64>,

    /// Seconds a client may take to send a request's headers, counted from connecting (first
    /// request) or from the request's first byte [default: 10]. Slower clients are disconnected.
    #[arg(
        long,
        env = "DOORSTEP_REGISTRY_HEADER_READ_TIMEOUT",
        value_name = "SECONDS"
    )]
    header_read_timeout: Option<u64>,

    /// Seconds a keep-alive connection may wait for its next request before it is closed
    /// [default: 60].
    #[arg(long, env = "DOORSTEP_REGISTRY_IDLE_TIMEOUT", value_name = "SECONDS")]
    idle_timeout: Option<u64>,

    /// Connections served at once [default: 1024]; further clients wait until one closes. Keep it
    /// below the process's open-file limit (`ulimit -n`, systemd's LimitNOFILE).
    #[arg(long, env = "DOORSTEP_REGISTRY_MAX_CONNECTIONS", value_name = "N")]
    max_connections: Option<usize>,

    /// DEVELOPMENT ONLY: also accept tokens from `doorstep-registry dev-token`, signed by a key
    /// kept in <data>/dev-auth/ (created if missing). Whoever can read that key can act as any
    /// user, admin included: never use it on a registry holding real data.
    #[arg(long, env = "DOORSTEP_REGISTRY_DEV_AUTH")]
    dev_auth: bool,
}

#[derive(Args)]
struct DevTokenArgs {
    /// The data directory of the registry that will accept the token (the one given to
    /// `serve --data ... --dev-auth`).
    #[arg(long, env = "DOORSTEP_REGISTRY_DATA", value_name = "DIR")]
    data: PathBuf,

    /// The role the token grants.
    #[arg(long, value_name = "citizen|agent|staff|admin")]
    role: Role,

    /// The user the token is for (its `sub`); appears in the audit trail as <role>:<subject>.
    #[arg(long, value_name = "SUB")]
    subject: String,

    /// The admin-area code an agent is assigned to (required with --role agent).
    #[arg(long, value_name = "CODE")]
    area: Option<String>,

    /// The registrant's national/individual id, linking a citizen to their record.
    #[arg(long, value_name = "ID")]
    individual_id: Option<String>,

    /// How long the token is valid, in minutes.
    #[arg(long, value_name = "N", default_value_t = 60)]
    ttl_minutes: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOORSTEP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let args = match cli.command {
        Command::Serve(args) => args,
        Command::DevToken(args) => return dev_token(args),
        Command::DemoData(args) => return demo_data(args),
        Command::SigninJwks(args) => return signin_jwks(args),
        Command::Admin(command) => return admin(command),
    };
    let config = match (Overrides {
        config_file: args.config,
        listen: args.listen,
        data_dir: args.data,
        database: args.database,
        demo: args.demo.then_some(true),
        shutdown_grace_secs: args.shutdown_grace,
        header_read_timeout_secs: args.header_read_timeout,
        idle_timeout_secs: args.idle_timeout,
        max_connections: args.max_connections,
        dev_auth: args.dev_auth.then_some(true),
    })
    .resolve()
    {
        Ok(config) => config,
        Err(e) => {
            eprintln!("doorstep-registry: {e}");
            return ExitCode::from(2);
        }
    };

    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(async { server::run(&config, server::shutdown_signal()).await }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doorstep-registry: {e}");
            ExitCode::FAILURE
        }
    }
}

fn admin(command: AdminCommand) -> ExitCode {
    use doorstep_registry::staff_cli::{AdminAction, RevokeTarget};
    let (settings, action) = match command {
        AdminCommand::Grant {
            settings,
            who,
            role,
            areas,
        } => (
            settings,
            AdminAction::Grant(doorstep_domain::api::StaffGrant {
                issuer: who.issuer,
                subject: who.subject,
                email: who.email,
                role,
                areas,
            }),
        ),
        AdminCommand::Revoke {
            settings,
            id,
            issuer,
            subject,
            email,
        } => {
            let target = match (id, issuer) {
                (Some(id), _) => RevokeTarget::Id(id),
                (None, Some(issuer)) => RevokeTarget::Identity {
                    issuer,
                    subject,
                    email,
                },
                (None, None) => unreachable!("clap requires --issuer without --id"),
            };
            (settings, AdminAction::Revoke(target))
        }
        AdminCommand::List { settings, all } => (
            settings,
            AdminAction::List {
                include_revoked: all,
            },
        ),
    };
    let config = match (Overrides {
        config_file: settings.config,
        data_dir: settings.data,
        database: settings.database,
        dev_auth: settings.dev_auth.then_some(true),
        ..Overrides::default()
    })
    .resolve()
    {
        Ok(config) => config,
        Err(e) => {
            eprintln!("doorstep-registry: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(doorstep_registry::staff_cli::run(&config, action)) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("doorstep-registry: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dev_token(args: DevTokenArgs) -> ExitCode {
    let ttl = std::time::Duration::from_secs(args.ttl_minutes.saturating_mul(60));
    match auth::dev_token(
        &args.data,
        args.role,
        &args.subject,
        args.area.as_deref(),
        args.individual_id.as_deref(),
        ttl,
    ) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("doorstep-registry: {e}");
            ExitCode::FAILURE
        }
    }
}

fn signin_jwks(args: SigninJwksArgs) -> ExitCode {
    let signin = match doorstep_registry::config::signin_section(&args.config) {
        Ok(Some(signin)) => signin,
        Ok(None) => {
            eprintln!(
                "doorstep-registry: {} has no [signin] section (issuer, client_id, private_key_path, key_id)",
                args.config.display()
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("doorstep-registry: {e}");
            return ExitCode::from(2);
        }
    };
    let jwks = auth::TokenExchange::new(&signin).map(|exchange| exchange.public_jwks());
    match jwks {
        Ok(Some(jwks)) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&jwks).expect("a JWKS serializes")
            );
            ExitCode::SUCCESS
        }
        Ok(None) => unreachable!("a configured exchange publishes its keys"),
        Err(e) => {
            eprintln!("doorstep-registry: {e}");
            ExitCode::FAILURE
        }
    }
}

fn demo_data(args: DemoDataArgs) -> ExitCode {
    let location = match doorstep_registry::storage::DatabaseLocation::parse(
        args.database.as_deref().unwrap_or("sqlite"),
    ) {
        Ok(location) => location,
        Err(e) => {
            eprintln!("doorstep-registry: invalid database setting: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result: Result<(), doorstep_registry::storage::StorageError> = runtime.block_on(async {
        use doorstep_registry::demo;
        let store = doorstep_registry::storage::open(&args.data, &location).await?;
        let programmes = demo::load(store.as_ref()).await?;
        let households = demo::households::load(
            store.as_ref(),
            args.households as usize,
            args.seed,
            &demo::programme_ids(),
        )
        .await?;
        store.close().await;
        println!(
            "programmes: {} added, {} already there; households: {} added ({} records), {} already there",
            programmes.programmes_added,
            programmes.programmes_present,
            households.households_added,
            households.records_written,
            households.households_present
        );
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doorstep-registry: {e}");
            ExitCode::FAILURE
        }
    }
}
