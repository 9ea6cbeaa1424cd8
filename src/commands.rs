//! The subcommands that work on a stopped store's database: reset, export and import. Each
//! opens the store as a server does (so a database a server holds is refused), runs the same
//! store operation the HTTP API runs, and closes it cleanly.
//!
//! On a terminal they show a progress bar on standard error; either way they end with one
//! summary line on standard output.

use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::cli::ImportArgs;
use crate::configuration::Settings;
use crate::domain::exchange::{export_lines, parse_import};
use crate::kinds::{Progress, Registry};
use crate::storage::{self, Store, WriteError};

/// Runs `work` on the store of `settings` (with the kinds it was opened with), then closes
/// it.
fn with_store<T>(
    settings: &Settings,
    work: impl AsyncFnOnce(&dyn Store, &Registry) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    actix_web::rt::System::new().block_on(async move {
        let kinds = Registry::from_settings(settings);
        settings.nsx.ship_inventory()?;
        let store = storage::open(&settings.storage, &settings.determinism, kinds.clone()).await?;
        let done = work(store.as_ref(), &kinds).await;
        store.close().await;
        done
    })
}

pub fn reset(settings: &Settings, user: &str) -> anyhow::Result<()> {
    let removed = with_store(settings, async |store, _| Ok(store.reset(user).await?))?;
    println!(
        "removed {removed} objects from {}",
        settings.storage.database
    );
    Ok(())
}

pub fn export(settings: &Settings, file: &str) -> anyhow::Result<()> {
    let objects = with_store(settings, async |store, _| Ok(store.export().await?))?;
    let bar = progress(objects.len() as u64, "exporting");
    let text = export_lines(objects.iter().inspect(|_| bar.inc(1)));
    bar.finish_and_clear();
    if file == "-" {
        std::io::stdout().lock().write_all(text.as_bytes())?;
        eprintln!("exported {} objects", objects.len());
    } else {
        std::fs::write(file, text).with_context(|| format!("cannot write {file}"))?;
        println!("exported {} objects to {file}", objects.len());
    }
    Ok(())
}

pub fn import(settings: &Settings, args: &ImportArgs) -> anyhow::Result<()> {
    let kinds = Registry::from_settings(settings);
    let (body, tasks, source) = match (&args.file, &args.from) {
        (Some(file), _) => (read_input(file)?, Vec::new(), file.clone()),
        (None, Some(url)) => {
            let remote = Remote::connect(url, args)?;
            let bar = progress(0, "reading");
            let fetched = kinds.fetch_remote(
                async |path| remote.get(path).await,
                args.with_results,
                |read| match read {
                    Progress::Total(total) => bar.set_length(total),
                    Progress::Read => bar.inc(1),
                },
            );
            let (body, tasks) = actix_web::rt::System::new().block_on(fetched)?;
            bar.finish_and_clear();
            (body, tasks, url.clone())
        }
        (None, None) => bail!("give a FILE to import, or --from URL"),
    };
    let lines = parse_import(&body, &*kinds).map_err(|err| {
        let err = err.into_field_error();
        anyhow::anyhow!("{source}: {}: {}", err.field, err.message)
    })?;
    let count = lines.len() as u64;
    let bar = progress(count, "importing");
    let imported = with_store(settings, async |store, _| {
        let imported = store
            .import(lines, &args.as_user)
            .await
            .map_err(|err| match err {
                WriteError::Rejected(rejection) => anyhow::anyhow!("{source}: {rejection}"),
                WriteError::Store(err) => anyhow::Error::new(err),
            })?;
        bar.set_position(imported);
        for task in tasks {
            store.side_task(task).await?;
        }
        Ok(imported)
    })?;
    bar.finish_and_clear();
    println!("imported {imported} objects from {source}");
    Ok(())
}

/// A progress bar on standard error when it is a terminal; nothing otherwise.
fn progress(total: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total).with_message(what.to_owned());
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} ({elapsed})")
            .expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn read_input(file: &str) -> anyhow::Result<Vec<u8>> {
    if file == "-" {
        let mut body = Vec::new();
        std::io::stdin().lock().read_to_end(&mut body)?;
        return Ok(body);
    }
    std::fs::read(file).with_context(|| format!("cannot read {file}"))
}

/// A live NSX Manager, or another nsx-policy-store: what `import --from` reads.
struct Remote {
    http: reqwest::Client,
    base: String,
    user: String,
    password: secrecy::SecretString,
}

impl Remote {
    fn connect(url: &str, args: &ImportArgs) -> anyhow::Result<Self> {
        let user = args.user.clone().context("--from needs --user")?;
        let password = match &args.password_file {
            Some(file) => {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let text = text.strip_suffix('\n').unwrap_or(&text);
                text.strip_suffix('\r').unwrap_or(text).to_owned()
            }
            None if std::io::stdin().is_terminal() => {
                rpassword::prompt_password(format!("Password of {user} at {url}: "))?
            }
            None => {
                bail!("give --password-file, or run on a terminal to be asked for the password")
            }
        };
        let mut http = reqwest::Client::builder().timeout(Duration::from_secs(60));
        if let Some(cacert) = &args.cacert {
            let pem = std::fs::read(cacert)
                .with_context(|| format!("cannot read {}", cacert.display()))?;
            let certificate = reqwest::Certificate::from_pem(&pem)
                .with_context(|| format!("{} is not a PEM certificate", cacert.display()))?;
            http = http.add_root_certificate(certificate);
        }
        Ok(Self {
            http: http.build()?,
            base: url.trim_end_matches('/').to_owned(),
            user,
            password: password.into(),
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        use secrecy::ExposeSecret;
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .get(&url)
            .basic_auth(&self.user, Some(self.password.expose_secret()))
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .with_context(|| format!("cannot read {url}"))?;
        if !status.is_success() {
            bail!("{url} answered {status}: {body}");
        }
        serde_json::from_str(&body).with_context(|| format!("{url} did not answer JSON"))
    }
}
