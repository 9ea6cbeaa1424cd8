use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use nsx_policy_store::auth::hash_password;
use nsx_policy_store::cli::{Cli, Command};
use nsx_policy_store::configuration::Settings;
use nsx_policy_store::domain::history::RevisionQuery;
use nsx_policy_store::http::{NoExtra, PageBody};
use nsx_policy_store::startup::Application;
use nsx_policy_store::storage::{SqliteStore, TraceflowStore};
use nsx_policy_store::telemetry;

/// mimalloc serves every allocation in the process: Rust's, and SQLite's (the `override`
/// feature replaces `malloc` and `free`). Under write load glibc's allocator took about a
/// seventh of the writer thread's time, mostly allocating and merging the chunks of SQLite's
/// in-memory statement and savepoint journals (BENCHMARKS.md). Built without transparent huge
/// pages (`no_thp`): with them, a write now and then took ~5 ms to apply, and the server's
/// memory grew by ~30 MB.
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

fn run(cli: Cli) -> anyhow::Result<()> {
    let overrides = cli.overrides();
    let settings = || Settings::load(&overrides).context("invalid configuration");
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings()?),
        Command::History { path } => history(settings()?, path),
        Command::Backup { file } => {
            let objects = SqliteStore::backup(&settings()?.storage.database, &file)?;
            println!("backed up {objects} objects to {}", file.display());
            Ok(())
        }
        Command::HashPassword => print_password_hash(),
    }
}

fn print_password_hash() -> anyhow::Result<()> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    anyhow::ensure!(!password.is_empty(), "the password is empty");
    println!("{}", hash_password(&password));
    Ok(())
}

fn history(settings: Settings, path: String) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let store = SqliteStore::open_read_only(&settings.storage.database).await?;
        let page = store
            .revisions(&RevisionQuery::all(path))
            .await
            .context("cannot read the history")?;
        let body = PageBody::new(page, NoExtra {}, |record| record);
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, &body)?;
        writeln!(stdout)?;
        Ok(())
    })
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    telemetry::init(&settings.log.level).context("invalid log.level")?;
    // A file-size limit must fail the write (the store answers 503), not kill the process.
    // SAFETY: called before any other thread exists; SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&settings).await?;
        let mut stdout = std::io::stdout().lock();
        if let Some((certificate, fingerprint)) = app.tls_certificate() {
            writeln!(
                stdout,
                "nsx-policy-store TLS certificate {} SHA-256 fingerprint {fingerprint}",
                certificate.display()
            )?;
        }
        // Harnesses wait for this line, on stdout, to learn the address.
        writeln!(stdout, "nsx-policy-store listening on {}", app.url())?;
        stdout.flush()?;
        drop(stdout);
        tracing::info!(address = %app.address(), database = %settings.storage.database.display(), "serving");
        app.run_until_stopped().await?;
        Ok(())
    })
}
