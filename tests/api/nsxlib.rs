//! vmware-nsxlib's policy layer (the library OpenStack's NSX plugin, its LBaaS and VPNaaS
//! drivers write NSX with), unchanged, against the real server: `tests/nsxlib/policy_layer.py`
//! replays Neutron's NSX-Policy plugin's start through it, then drives its resource APIs
//! (policies with their entries, services, IP pools and their subnets, the load balancer,
//! DHCP static bindings, IPsec sessions, NAT rules in transactions, QoS profiles and their
//! binding maps; its searches, aggregate searches, realized ids and realization waits, a
//! failed realization included) from the nsxlib virtualenv.

use std::path::Path;
use std::process::Command;

use crate::python::{nsxlib_venv_bin, MANIFEST_DIR};
use crate::support::{Workspace, ADMIN};

#[test]
fn nsxlibs_policy_layer_creates_updates_reads_and_deletes_every_area() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let output = Command::new(nsxlib_venv_bin().join("python"))
        .arg(Path::new(MANIFEST_DIR).join("tests/nsxlib/policy_layer.py"))
        .args([server.url.as_str(), ADMIN.0, ADMIN.1])
        .output()
        .expect("run the nsxlib test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the nsxlib test failed:\n{stdout}");
    assert!(stdout.contains("nsxlib: 11 passed, 0 failed"), "{stdout}");
}
