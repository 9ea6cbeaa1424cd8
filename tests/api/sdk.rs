//! VMware's official NSX Python SDK (`vcf-nsx`) against the real server: the interoperability
//! tests. `tests/sdk/traceflows.py`, `tests/sdk/policy_types.py` and `tests/sdk/hierarchy.py`
//! do the driving, from the test virtualenv.

use std::path::Path;
use std::process::Command;

use crate::python::{venv_bin, MANIFEST_DIR};
use crate::support::{Server, SpawnServer, Workspace, ADMIN};

/// Runs the SDK script `tests/sdk/<script>` against `server` (`ca`: the certificate to trust
/// over HTTPS), and checks that it passed and closed with `closing`.
fn run_script(server: &Server, script: &str, ca: Option<&Path>, closing: &str) {
    let output = Command::new(venv_bin().join("python"))
        .arg(Path::new(MANIFEST_DIR).join("tests/sdk").join(script))
        .args([server.url.as_str(), ADMIN.0, ADMIN.1])
        .args(ca)
        .output()
        .expect("run the SDK test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the SDK test failed:\n{stdout}");
    assert!(stdout.contains(closing), "{stdout}");
}

/// The traceflows' whole cycle.
fn drive(server: &Server, ca: Option<&Path>) {
    run_script(server, "traceflows.py", ca, "sdk: 12 passed, 0 failed");
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
    drive(&server, Some(&workspace.generated_certificate()));
}

/// 33 types across the tree (segments and their ports, tier-0 and tier-1 with locale
/// services, NAT, domains, groups, services, security and gateway policies with rules,
/// context profiles, IP pools and blocks, DHCP, DNS, a load balancer, segment profiles, a
/// project, a VPC and its subnet), each through its own SDK client.
#[test]
fn the_official_sdk_drives_every_kind_of_policy_object() {
    let workspace = Workspace::new();
    let closing = "sdk types: 33 types, 34 passed, 0 failed";
    run_script(&workspace.start(), "policy_types.py", None, closing);
}

/// The SDK's `Infra` client writes and reads a tree through the Hierarchical API, and its
/// search `Query` client finds what was written, by type and tag, page by page.
#[test]
fn the_official_sdk_writes_trees_and_searches() {
    let workspace = Workspace::new();
    let closing = "sdk hierarchy: 5 passed, 0 failed";
    run_script(&workspace.start(), "hierarchy.py", None, closing);
}
