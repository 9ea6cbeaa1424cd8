use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use nsx_policy_store::auth::hash_password;
use nsx_policy_store::cli::{Cli, Command, ServeArgs};
use nsx_policy_store::configuration::{Overrides, Settings};
use nsx_policy_store::domain::history::RevisionQuery;
use nsx_policy_store::domain::kind::Kinds;
use nsx_policy_store::domain::ObjectId;
use nsx_policy_store::http::{NoExtra, PageBody};
use nsx_policy_store::kinds::Registry;
use nsx_policy_store::startup::Application;
use nsx_policy_store::storage::{self, SqliteStore};
use nsx_policy_store::{commands, telemetry};

/// mimalloc serves every allocation in the process: Rust's, and SQLite's (the `override`
/// feature replaces `malloc` and `free`), because glibc's allocator spent a large share of
/// the writer thread's time on the chunks of SQLite's in-memory journals. Built without
/// transparent huge pages (`no_thp`), which made some writes slow and the process larger.
/// BENCHMARKS.md has the measurements.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("nsx-policy-store: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn settings(overrides: &Overrides) -> anyhow::Result<Settings> {
    Settings::load(overrides).context("invalid configuration")
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(&cli.serve),
        Some(Command::Serve(args)) => serve(&args),
        Some(Command::History { store, object }) => history(settings(&store.overrides())?, &object),
        Some(Command::Backup { store, file }) => {
            let settings = settings(&store.overrides())?;
            let Some(database) = settings.storage.database.sqlite_path() else {
                anyhow::bail!(
                    "backup copies a SQLite file; for PostgreSQL use its own tools: \
                     pg_dump --format=custom --file={} DATABASE_URL",
                    file.display()
                );
            };
            let objects = SqliteStore::backup(database, &file)?;
            println!("backed up {objects} objects to {}", file.display());
            Ok(())
        }
        Some(Command::Reset { store, as_user }) => {
            commands::reset(&settings(&store.overrides())?, &as_user)
        }
        Some(Command::Export { store, file }) => {
            commands::export(&settings(&store.overrides())?, &file)
        }
        Some(Command::Import(args)) => commands::import(&settings(&args.store.overrides())?, &args),
        Some(Command::HashPassword) => print_password_hash(),
    }
}

fn print_password_hash() -> anyhow::Result<()> {
    let password = if std::io::stdin().is_terminal() {
        let password = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(
            password == again,
            "the two passwords differ; nothing was printed"
        );
        password
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    anyhow::ensure!(!password.is_empty(), "the password is empty");
    println!("{}", hash_password(&password));
    Ok(())
}

/// `object` is a policy path, or the bare id of the kind whose objects go by one.
fn history(settings: Settings, object: &str) -> anyhow::Result<()> {
    let path = if object.starts_with('/') {
        object.to_owned()
    } else {
        let id = ObjectId::parse(object).map_err(|err| {
            anyhow::anyhow!(
                "{object:?} is neither a policy path (it starts with /) nor a bare id ({err})"
            )
        })?;
        let kinds = Registry::from_settings(&settings);
        let path = kinds.path_of_bare_id(&id).expect("a bare id has its kind");
        path.to_string()
    };
    actix_web::rt::System::new().block_on(async move {
        let store = storage::open_read_only(&settings.storage.database).await?;
        let page = store
            .revisions(&RevisionQuery::all(path))
            .await
            .context("cannot read the history")?;
        let body = PageBody::unpaged(page, NoExtra {}, |record| record);
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, &body)?;
        writeln!(stdout)?;
        Ok(())
    })
}

fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let settings = settings(&args.overrides())?;
    telemetry::init(&settings.log).context("invalid log.level")?;
    // A file-size limit must fail the write (the store answers 503), not kill the process.
    // SAFETY: called before any other thread exists; SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&settings).await?;
        if let Some((certificate, fingerprint)) = app.tls_certificate() {
            tracing::info!(certificate = %certificate.display(), sha256 = fingerprint, "TLS certificate");
        }
        // Harnesses wait for this line, the first on stdout, to learn the address (the
        // metrics listener's, when on, is the second and last).
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "nsx-policy-store listening on {}", app.url())?;
        if let Some(metrics) = app.metrics_url() {
            writeln!(stdout, "metrics on {metrics}")?;
        }
        stdout.flush()?;
        drop(stdout);
        tracing::info!(address = %app.address(), database = %settings.storage.database, "serving");
        app.run_until_stopped().await?;
        Ok(())
    })
}
