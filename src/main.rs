//! The `campaign-tracker` command: serve (the default), migrate, user create, openapi, demo.

use std::process::ExitCode;

/// mimalloc instead of the system allocator: it is faster on the request path, and it hands
/// freed memory back to the operating system, so a burst (a login flood hashing passwords
/// with 19 MiB each) does not leave the process at its peak size.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

use campaign_tracker::app;
use campaign_tracker::auth::Role;
use campaign_tracker::config::Config;
use campaign_tracker::db::{self, DbConnection};
use campaign_tracker::{cli, demo, openapi, telemetry};

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
    /// Fill an empty database with a synthetic district of realistic size (for
    /// benchmarks); prints what it made, logins included, as JSON.
    Generate {
        /// `bench` (1,001 units and 2,000 grids, 100,000 items, 50,000 tasks) or
        /// `plan-check` (10,000 units, 100,000 items).
        #[arg(long, default_value = "bench")]
        scale: String,
        /// Rectification items instead of the scale's.
        #[arg(long)]
        items: Option<usize>,
        /// Tasks instead of the scale's.
        #[arg(long)]
        tasks: Option<usize>,
    },
}

/// Passwords are read from standard input, or prompted for on a terminal; never taken
/// from the command line.
#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (the password from standard input or a prompt).
    Create {
        #[arg(long)]
        username: String,
        /// admin, leader, office, officer or inspector.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Unit code (e.g. HZGX-LLZ) or id.
        #[arg(long)]
        unit: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List the accounts, with their locks.
    List {
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
    },
    /// Set a new password (from standard input or a prompt) that the user must change at
    /// the next login; ends their sessions and lifts a lock.
    ResetPassword { username: String },
    /// Lift the lock that failed logins put on an account.
    Unlock { username: String },
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
        Command::Generate {
            scale,
            items,
            tasks,
        } => generate(config, &scale, items, tasks),
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
    let (_state, mut conn) = connection(config)?;
    let conn: &mut DbConnection = &mut conn;
    let said = match command {
        UserCommand::Create {
            username,
            role,
            unit,
            display_name,
        } => {
            let given = cli::read_password("password")?;
            cli::create_user(conn, username, role, &unit, display_name, given)?
        }
        UserCommand::List { role } => cli::list(conn, role)?,
        UserCommand::ResetPassword { username } => {
            let given = cli::read_password("new password")?;
            cli::reset_password(conn, &username, given)?
        }
        UserCommand::Unlock { username } => cli::unlock(conn, &username)?,
    };
    println!("{}", said.trim_end());
    Ok(())
}

fn generate(
    config: Config,
    scale: &str,
    items: Option<usize>,
    tasks: Option<usize>,
) -> Result<(), String> {
    use campaign_tracker::world::bulk::{self, Scale};
    let mut scale = match scale {
        "bench" => Scale::BENCH,
        "plan-check" => Scale::PLAN_CHECK,
        other => return Err(format!("--scale: `{other}` is not bench or plan-check")),
    };
    scale.items = items.unwrap_or(scale.items);
    scale.tasks = tasks.unwrap_or(scale.tasks);
    let (state, mut conn) = connection(config)?;
    if campaign_tracker::units::model::find_by_code(&mut conn, "BD")
        .map_err(cli::describe)?
        .is_some()
    {
        return Err("this database holds a generated district already".into());
    }
    let password = format!(
        "bench-{}",
        hex::encode(&campaign_tracker::auth::token::random_secret()[..12])
    );
    let hash = campaign_tracker::auth::password::hash(&password).map_err(cli::describe)?;
    let made = bulk::generate(&mut conn, scale, state.clock.now(), &password, &hash)
        .map_err(cli::describe)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&made).map_err(|e| e.to_string())?
    );
    Ok(())
}

fn load_demo(config: Config) -> Result<(), String> {
    let (state, mut conn) = connection(config)?;
    let district = demo::district().map_err(cli::describe)?;
    let bar = indicatif::ProgressBar::new(district.steps());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (loaded, district) = demo::load(&mut conn, &state.attachments, &mut |label| {
        bar.set_message(label.to_string());
        bar.inc(1);
    })
    .map_err(cli::describe)?;
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
    let work = &created.work;
    println!(
        "campaign work: {} campaigns, {} meetings, {} directives, {} tasks, {} activities added \
         (dates relative to today)",
        work.campaigns, work.meetings, work.directives, work.tasks, work.activities
    );
    let rectification = &created.rectification;
    println!(
        "rectification: {} categories, {} sites, {} items, {} patrols added",
        rectification.categories, rectification.sites, rectification.items, rectification.patrols
    );
    let open311 = demo::open311_key(&mut conn, &loaded).map_err(cli::describe)?;
    match open311 {
        Some(key) => println!(
            "\nOpen311 key of the demo app ({}), shown once — send it as api_key to POST /open311/v2/requests.json:\n  {key}",
            campaign_tracker::open311::model::DEMO_KEY_NAME
        ),
        None => println!(
            "\nOpen311: the demo app's key exists already (shown when it was issued; revoke it with DELETE /api/v1/open311/keys/{{id}} and run demo again for a new one)"
        ),
    }
    // Only the logins this run created: a password printed for an account that existed
    // before may have been changed since, and would be wrong (or someone else's secret).
    let created_users: Vec<_> = district
        .users
        .iter()
        .filter(|u| created.users.contains(&u.username))
        .collect();
    if !created_users.is_empty() {
        println!("\ndemo users created (change these passwords outside a demo):");
        println!(
            "  {:<12} {:<10} {:<22} password",
            "username", "role", "unit"
        );
        for user in &created_users {
            println!(
                "  {:<12} {:<10} {:<22} {}",
                user.username,
                user.role.as_str(),
                user.unit,
                user.password
            );
        }
    }
    let existing: Vec<&str> = district
        .users
        .iter()
        .filter(|u| !created.users.contains(&u.username))
        .map(|u| u.username.as_str())
        .collect();
    if !existing.is_empty() {
        println!(
            "\ndemo users that existed already (passwords not shown; reset one with `campaign-tracker user reset-password NAME`): {}",
            existing.join(", ")
        );
    }
    Ok(())
}
