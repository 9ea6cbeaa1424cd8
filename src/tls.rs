//! HTTPS: one's own certificate (`server.tls_cert`, `server.tls_key`), or a self-signed one
//! for `localhost` and `127.0.0.1`, generated at first start and kept beside the database.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use sha2::{Digest, Sha256};

use crate::configuration::ServerSettings;

/// What the server needs to speak TLS, and what to tell its users about it.
pub struct Tls {
    pub config: ServerConfig,
    /// The certificate's SHA-256 fingerprint, `AB:CD:...`.
    pub fingerprint: String,
    pub certificate: PathBuf,
}

/// Uses the configured certificate, or the generated one beside `database` (generating it
/// the first time).
pub fn load_or_generate(server: &ServerSettings, database: &Path) -> anyhow::Result<Tls> {
    let (certificate, key) = match server.own_certificate() {
        Some(pair) => (pair.certificate.to_owned(), pair.key.to_owned()),
        None => generated_pair(database)?,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&certificate)
        .and_then(|certs| certs.collect())
        .with_context(|| format!("cannot read certificate {}", certificate.display()))?;
    let Some(leaf) = chain.first() else {
        bail!("no certificate in {}", certificate.display());
    };
    let fingerprint = fingerprint(leaf);
    let private_key = PrivateKeyDer::from_pem_file(&key)
        .with_context(|| format!("cannot read private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .with_context(|| {
            format!(
                "{} and {} do not make a key pair",
                certificate.display(),
                key.display()
            )
        })?;
    Ok(Tls {
        config,
        fingerprint,
        certificate,
    })
}

/// `<database stem>-cert.pem` and `-key.pem` beside the database, created when both are
/// absent (with the database's folder, which the store would create next).
fn generated_pair(database: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let stem = database.file_stem().map_or_else(
        || "nsx-policy-store".into(),
        |s| s.to_string_lossy().into_owned(),
    );
    let certificate = database.with_file_name(format!("{stem}-cert.pem"));
    let key = database.with_file_name(format!("{stem}-key.pem"));
    match (certificate.exists(), key.exists()) {
        (true, true) => return Ok((certificate, key)),
        (false, false) => {}
        _ => bail!(
            "only one of {} and {} exists; remove it to generate a new pair",
            certificate.display(),
            key.display()
        ),
    }
    if let Some(folder) = certificate.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create folder {}", folder.display()))?;
    }
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .context("cannot generate a certificate")?;
    write_new(&key, generated.key_pair.serialize_pem().as_bytes(), 0o600)?;
    write_new(&certificate, generated.cert.pem().as_bytes(), 0o644)?;
    tracing::info!(certificate = %certificate.display(), "generated a self-signed certificate");
    Ok((certificate, key))
}

fn write_new(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

fn fingerprint(certificate: &CertificateDer<'_>) -> String {
    Sha256::digest(certificate.as_ref())
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
