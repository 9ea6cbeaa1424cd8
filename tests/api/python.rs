//! The test virtualenvs, each installed under `target/` on first run from its pinned
//! requirements (PyPI is the one network access the suite needs), and again whenever the
//! pins change:
//! - `target/test-venv`: the official NSX SDK (`vcf-nsx`), schemathesis and websockets (the
//!   Firefox test's WebDriver BiDi client), from `tests/python/requirements.txt`;
//! - `target/nsxlib-venv`: vmware-nsxlib (the policy layer of OpenStack's NSX plugin) and the
//!   OpenStack libraries it needs, from `tests/nsxlib/requirements.txt`: apart, as its pins
//!   are OpenStack's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The test virtualenv's `bin` folder, with every pinned package installed.
pub fn venv_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| prepare("tests/python/requirements.txt", "target/test-venv"))
}

/// The nsxlib virtualenv's `bin` folder, with every pinned package installed.
pub fn nsxlib_venv_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| prepare("tests/nsxlib/requirements.txt", "target/nsxlib-venv"))
}

/// Makes the virtualenv at `venv` (below the manifest's folder) hold what `requirements`
/// pins, unless it already does; answers its `bin` folder.
fn prepare(requirements: &str, venv: &str) -> PathBuf {
    let requirements = Path::new(MANIFEST_DIR).join(requirements);
    let venv = Path::new(MANIFEST_DIR).join(venv);
    let bin = venv.join("bin");
    let stamp = venv.join("installed-requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .unwrap_or_else(|err| panic!("{}: {err}", requirements.display()));
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
