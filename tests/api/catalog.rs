//! The embedded catalog is what its generator writes from the pinned SDK: a change of the
//! SDK's pin or of the generator without a new `catalog/policy.json` fails here.

use std::path::Path;
use std::process::Command;

use crate::python::{venv_bin, MANIFEST_DIR};

#[test]
fn the_committed_catalog_is_what_the_generator_writes() {
    let output = Command::new(venv_bin().join("python"))
        .arg(Path::new(MANIFEST_DIR).join("tools/catalog/generate.py"))
        .arg("--stdout")
        .output()
        .expect("run the catalog generator");
    assert!(
        output.status.success(),
        "the generator failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generated = String::from_utf8(output.stdout).expect("the catalog is UTF-8");
    let committed = std::fs::read_to_string(Path::new(MANIFEST_DIR).join("catalog/policy.json"))
        .expect("catalog/policy.json");
    let first_difference = generated
        .lines()
        .zip(committed.lines())
        .position(|(generated, committed)| generated != committed);
    assert!(
        generated == committed,
        "catalog/policy.json differs from the generator's output (first at line {:?}); \
         run `target/test-venv/bin/python tools/catalog/generate.py`",
        first_difference.map(|line| line + 1)
    );
}
