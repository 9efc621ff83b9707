//! The `campaign-tracker` command: serve (the default), migrate, user create, openapi, demo.

use std::process::ExitCode;

/// mimalloc instead of the system allocator: it is faster on the request path, and it hands
/// freed memory back to the operating system, so a burst (a login flood hashing passwords
/// with 19 MiB each) does not leave the process at its peak size.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

use campaign_tracker::app;
use campaign_tracker::auth::{password, Role};
use campaign_tracker::config::Config;
use campaign_tracker::db::{self, DbConnection};
use campaign_tracker::error::AppError;
use campaign_tracker::ids::UnitId;
use campaign_tracker::{demo, openapi, telemetry, units, users};

#[derive(Parser)]
#[command(
    name = "campaign-tracker",
    version,
    about = "Civic campaign task tracker: REST API and dashboard"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default). Migrates the database first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI document (what `openapi/openapi.json` must contain).
    Openapi,
    /// Load the demo district (菏泽高新区) and one user per role. Safe to run twice.
    Demo,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        /// admin, leader, office, officer or inspector.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Unit code (e.g. HZGX-LLZ) or id.
        #[arg(long)]
        unit: String,
        #[arg(long)]
        display_name: Option<String>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", openapi::document_json());
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log_level, config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => app::prepare(config)
            .map(|_| println!("migrations are up to date"))
            .map_err(|e| e.to_string()),
        Command::User { command } => user(config, command),
        Command::Demo => load_demo(config),
        Command::Openapi => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> Result<(), String> {
    let state = app::prepare(config).map_err(|e| e.to_string())?;
    actix_web::rt::System::new()
        .block_on(app::serve(state))
        .map_err(|e| e.to_string())
}

fn connection(config: Config) -> Result<(app::AppState, db::PooledConnection), String> {
    let state = app::prepare(config).map_err(|e| e.to_string())?;
    let conn = state.db.get().map_err(|e| e.to_string())?;
    Ok((state, conn))
}

fn user(config: Config, command: UserCommand) -> Result<(), String> {
    let UserCommand::Create {
        username,
        password: given,
        role,
        unit,
        display_name,
    } = command;
    let (_state, mut conn) = connection(config)?;
    let conn: &mut DbConnection = &mut conn;
    let by_code = units::model::find_by_code(conn, &unit).map_err(|e| e.to_string())?;
    let unit_row = match (by_code, UnitId::parse(&unit)) {
        (Some(row), _) => row,
        (None, Some(id)) => units::model::find(conn, id)
            .map_err(|_| format!("--unit: no unit with code or id `{unit}`"))?,
        (None, None) => return Err(format!("--unit: no unit with code or id `{unit}`")),
    };
    let input = users::forms::NewUser {
        display_name: display_name.unwrap_or_else(|| username.clone()),
        username,
        password: given,
        role,
        unit_id: unit_row.id,
    }
    .validate()
    .map_err(describe)?;
    let hash = password::hash(&input.password).map_err(describe)?;
    let row =
        db::write_tx(conn, |conn| users::model::create(conn, &input, hash)).map_err(describe)?;
    println!(
        "created {} ({}) in {} — id {}",
        row.username, row.role, unit_row.name, row.id
    );
    Ok(())
}

fn load_demo(config: Config) -> Result<(), String> {
    let (_state, mut conn) = connection(config)?;
    let district = demo::district().map_err(describe)?;
    let bar = indicatif::ProgressBar::new(district.steps());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (loaded, district) = demo::load(&mut conn, &mut |label| {
        bar.set_message(label.to_string());
        bar.inc(1);
    })
    .map_err(describe)?;
    bar.finish_and_clear();
    let created = &loaded.created;
    println!(
        "{}: {} units, {} users, {} pairings, {} grid leaders added (existing records left as they were)",
        district.name,
        created.units,
        created.users.len(),
        created.pairings,
        created.leaders
    );
    println!("\ndemo users (change these passwords outside a demo):");
    println!(
        "  {:<12} {:<10} {:<22} password",
        "username", "role", "unit"
    );
    for user in &district.users {
        println!(
            "  {:<12} {:<10} {:<22} {}",
            user.username,
            user.role.as_str(),
            user.unit,
            user.password
        );
    }
    Ok(())
}

/// One line for the terminal, naming the invalid fields.
fn describe(error: AppError) -> String {
    let problem = error.problem();
    let mut line = problem.detail;
    for e in problem.errors {
        line.push_str(&format!("; {}: {}", e.field, e.message));
    }
    line
}
