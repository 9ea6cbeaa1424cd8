//! The command line and configuration layers, through the real binary.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{SpawnServer, Workspace, BIN};

/// Runs the binary to completion (it is expected to fail fast or print help).
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("run nsx-policy-store")
}

/// Asserts a failing exit whose error is one line, the last on stderr (log lines may come
/// before it); returns that line.
fn one_line_error(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(1),
        "an error exit, not a crash: {output:?}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("nsx-policy-store: error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "{stderr}");
    errors[0].to_owned()
}

#[test]
fn help_lists_the_flags() {
    let output = run(Path::new("."), &["--help"], &[]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["--config <FILE>", "--listen <ADDR>", "--database <PATH>"] {
        assert!(help.contains(flag), "{help}");
    }
}

#[test]
fn flags_beat_environment_beat_config_file_beat_defaults() {
    let workspace = Workspace::new();
    let dir = workspace.path();
    let config = dir.join("settings.toml");
    std::fs::write(&config, "[storage]\ndatabase = \"from-file.db\"\n").unwrap();
    let config = config.to_str().unwrap();
    let listen = ("NSX_POLICY_STORE__SERVER__LISTEN", "127.0.0.1:0");
    let from_env = ("NSX_POLICY_STORE__STORAGE__DATABASE", "from-env.db");

    let mut layers: Vec<(Command, &str)> = Vec::new();
    let mut defaults = Command::new(BIN);
    defaults.env(listen.0, listen.1);
    layers.push((defaults, "data/nsx-policy-store.db"));
    let mut file = Command::new(BIN);
    file.args(["--config", config]).env(listen.0, listen.1);
    layers.push((file, "from-file.db"));
    let mut env = Command::new(BIN);
    env.args(["--config", config])
        .env(listen.0, listen.1)
        .env(from_env.0, from_env.1);
    layers.push((env, "from-env.db"));
    let mut flag = Command::new(BIN);
    flag.args(["--config", config, "--database", "from-flag.db"])
        .env(listen.0, listen.1)
        .env(from_env.0, from_env.1);
    layers.push((flag, "from-flag.db"));

    for (mut command, expected) in layers {
        let server = command.current_dir(dir).spawn_server();
        assert!(
            server.url.starts_with("http://127.0.0.1:"),
            "{}",
            server.url
        );
        assert!(!server.url.ends_with(":0"), "the real port is printed");
        assert!(dir.join(expected).exists(), "{expected} was not created");
        server.kill();
    }
    // The flag also beats the environment for the address.
    let server = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--database", "x.db"])
        .env("NSX_POLICY_STORE__SERVER__LISTEN", "256.0.0.1:1")
        .current_dir(dir)
        .spawn_server();
    server.kill();
}

#[test]
fn unknown_settings_are_errors_that_name_the_key() {
    let workspace = Workspace::new();
    let dir = workspace.path();
    std::fs::write(dir.join("typo.toml"), "[server]\nlisten_address = \"x\"\n").unwrap();
    let line = one_line_error(&run(dir, &["--config", "typo.toml"], &[]));
    assert!(line.contains("listen_address"), "{line}");

    let line = one_line_error(&run(
        dir,
        &[],
        &[("NSX_POLICY_STORE__STORAGE__DURABLE", "1")],
    ));
    assert!(line.contains("durable"), "{line}");

    let line = one_line_error(&run(
        dir,
        &[],
        &[("NSX_POLICY_STORE__STORAGE__DURABILITY", "maybe")],
    ));
    assert!(line.contains("maybe"), "{line}");

    let line = one_line_error(&run(dir, &["--config", "missing.toml"], &[]));
    assert!(line.contains("missing.toml"), "{line}");
}

#[test]
fn a_database_that_cannot_be_opened_is_a_one_line_error() {
    let workspace = Workspace::new();
    let dir = workspace.path();
    std::fs::create_dir(dir.join("a-folder")).unwrap();
    std::fs::write(dir.join("not-sqlite.db"), vec![b'x'; 4096]).unwrap();
    for database in ["a-folder", "not-sqlite.db"] {
        let output = run(
            dir,
            &["--listen", "127.0.0.1:0", "--database", database],
            &[],
        );
        let line = one_line_error(&output);
        assert!(line.contains(database), "{line}");
    }
}

#[test]
fn a_taken_port_is_a_one_line_error() {
    let workspace = Workspace::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let database = workspace.database();
    let output = run(
        workspace.path(),
        &[
            "--listen",
            &address,
            "--database",
            database.to_str().unwrap(),
        ],
        &[],
    );
    let line = one_line_error(&output);
    assert!(line.contains(&address) && line.contains("in use"), "{line}");
    assert!(!database.exists(), "a taken port touches no database");
}
