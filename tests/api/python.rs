//! The test virtualenv: the official NSX SDK (`vcf-nsx`), schemathesis and websockets (the
//! Firefox test's WebDriver BiDi client), pinned in
//! `tests/python/requirements.txt`, installed under `target/` on first run (PyPI is the one
//! network access the suite needs) and again whenever the pins change.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The virtualenv's `bin` folder, with every pinned package installed.
pub fn venv_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(prepare)
}

fn prepare() -> PathBuf {
    let requirements = Path::new(MANIFEST_DIR).join("tests/python/requirements.txt");
    let venv = Path::new(MANIFEST_DIR).join("target/test-venv");
    let bin = venv.join("bin");
    let stamp = venv.join("installed-requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("tests/python/requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return bin;
    }
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv));
    run(Command::new(bin.join("python"))
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
    bin
}

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|err| panic!("{command:?}: {err}"));
    assert!(status.success(), "{command:?} failed: {status}");
}
