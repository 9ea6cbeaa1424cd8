//! VMware's official NSX Python SDK (`vcf-nsx`) against the real server: the interoperability
//! test. The SDK is installed into a virtualenv under `target/` on first run (PyPI is the one
//! network access the suite needs); `tests/sdk/traceflows.py` does the driving.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{Server, SpawnServer, Workspace, ADMIN};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The virtualenv's Python, with the pinned SDK installed; created once per run, when missing
/// or outdated.
fn sdk_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(prepare_venv)
}

fn prepare_venv() -> PathBuf {
    let requirements = Path::new(MANIFEST_DIR).join("tests/sdk/requirements.txt");
    let venv = Path::new(MANIFEST_DIR).join("target/sdk-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("installed-requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("tests/sdk/requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return python;
    }
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv));
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements));
    std::fs::write(&stamp, wanted).expect("write the venv stamp");
    python
}

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|err| panic!("{command:?}: {err}"));
    assert!(status.success(), "{command:?} failed: {status}");
}

/// Runs the SDK script against `server`; `ca` is the certificate to trust over HTTPS.
fn drive(server: &Server, ca: Option<&Path>) {
    let output = Command::new(sdk_python())
        .arg(Path::new(MANIFEST_DIR).join("tests/sdk/traceflows.py"))
        .args([server.url.as_str(), ADMIN.0, ADMIN.1])
        .args(ca)
        .output()
        .expect("run the SDK test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the SDK test failed:\n{stdout}");
    assert!(stdout.contains("sdk: 12 passed, 0 failed"), "{stdout}");
}

#[test]
fn the_official_sdk_drives_the_whole_cycle() {
    let workspace = Workspace::new();
    drive(&workspace.start(), None);
}

#[test]
fn the_official_sdk_works_over_https() {
    let workspace = Workspace::new();
    let server = workspace.command().arg("--tls").spawn_server();
    assert!(server.url.starts_with("https://"));
    drive(&server, Some(&workspace.path().join("store-cert.pem")));
}
