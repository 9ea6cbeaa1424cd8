//! The baseline: the release binary of an earlier commit, run beside this one's in the same
//! run, so that a regression shows as one row below another rather than as a ratio to a
//! ceiling that moved with it.
//!
//! `BENCH_BASELINE=<commit>` names it; by default it is the last commit that changed the
//! figures of BENCHMARKS.md (a line with a rate such as `12,345/s`), the build the published
//! figures were measured on. It is checked out in a worktree under `target/bench-baseline/`
//! and built there with its own target folder, which later runs reuse; `BENCH_BASELINE=none`
//! runs without one.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The baseline's commit (full hash) and its release binary, built if need be.
pub struct Baseline {
    pub commit: String,
    pub binary: PathBuf,
}

fn git(root: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .expect("git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// The baseline `BENCH_BASELINE` names (or the default), built; `None` with `none`.
pub fn build() -> Option<Baseline> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wanted = std::env::var("BENCH_BASELINE").ok();
    let commit = match wanted.as_deref() {
        Some("none") => return None,
        Some(commit) => git(root, &["rev-parse", &format!("{commit}^{{commit}}")]),
        None => git(
            root,
            &[
                "log",
                "-1",
                "--format=%H",
                "-G",
                "[0-9],[0-9]{3}/s",
                "--",
                "BENCHMARKS.md",
            ],
        ),
    };
    let home = root.join("target/bench-baseline");
    let tree = home.join("tree");
    if tree.join(".git").exists() {
        git(&tree, &["checkout", "--quiet", "--detach", &commit]);
    } else {
        std::fs::create_dir_all(&home).unwrap();
        let _ = git(root, &["worktree", "prune"]);
        git(
            root,
            &[
                "worktree",
                "add",
                "--quiet",
                "--detach",
                tree.to_str().unwrap(),
                &commit,
            ],
        );
    }
    eprintln!("building the baseline {commit} in {}", tree.display());
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--bin", "nsx-policy-store"])
        .arg("--target-dir")
        .arg(home.join("target"))
        .current_dir(&tree)
        .status()
        .expect("cargo");
    assert!(status.success(), "the baseline {commit} does not build");
    Some(Baseline {
        binary: home.join("target/release/nsx-policy-store"),
        commit,
    })
}
