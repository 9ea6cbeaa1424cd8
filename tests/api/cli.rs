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
    for flag in [
        "--config <FILE>",
        "--listen <ADDR>",
        "--database <PATH|URL>",
    ] {
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

/// Every configuration error names the full key, the layer that set it, and for a choice
/// the accepted values.
#[test]
fn configuration_errors_name_the_key_where_it_was_set_and_the_accepted_values() {
    let workspace = Workspace::new();
    let dir = workspace.path();
    let file = dir.join("typo.toml");
    std::fs::write(&file, "[server]\nlisten_address = \"x\"\n").unwrap();
    let line = one_line_error(&run(dir, &["--config", "typo.toml"], &[]));
    for named in ["server.listen_address", "config file typo.toml", "`listen`"] {
        assert!(line.contains(named), "{named}: {line}");
    }

    let line = one_line_error(&run(dir, &[], &[("NSX_POLICY_STORE__SERVER__LISEN", "x")]));
    for named in [
        "server.lisen",
        "environment variable NSX_POLICY_STORE__SERVER__LISEN",
    ] {
        assert!(line.contains(named), "{named}: {line}");
    }

    let line = one_line_error(&run(
        dir,
        &[],
        &[("NSX_POLICY_STORE__STORAGE__DURABILITY", "fast")],
    ));
    for named in [
        "storage.durability",
        "\"fast\"",
        "`full`, `normal`",
        "NSX_POLICY_STORE__STORAGE__DURABILITY",
    ] {
        assert!(line.contains(named), "{named}: {line}");
    }
    assert!(!line.contains("variant constructor"), "{line}");

    std::fs::write(&file, "[storage.sqlite]\nbusy_timeout_ms = \"soon\"\n").unwrap();
    let line = one_line_error(&run(dir, &["--config", "typo.toml"], &[]));
    assert!(line.contains("storage.sqlite.busy_timeout_ms"), "{line}");

    let line = one_line_error(&run(dir, &["--config", "missing.toml"], &[]));
    assert!(line.contains("missing.toml"), "{line}");
}

/// Each subcommand takes only its own flags, and its help lists only those.
#[test]
fn subcommands_refuse_the_flags_of_others() {
    let dir = Path::new(".");
    for args in [
        &["history", "/x", "--listen", "0.0.0.0:1"][..],
        &["history", "/x", "--tls"],
        &["backup", "copy.db", "--listen", "127.0.0.1:0"],
        &["hash-password", "--database", "x.db"],
    ] {
        let output = run(dir, args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("unexpected argument"), "{args:?}: {stderr}");
    }
    for subcommand in ["history", "backup", "hash-password"] {
        let help = run(dir, &[subcommand, "--help"], &[]);
        let help = String::from_utf8_lossy(&help.stdout);
        assert!(
            !help.contains("--listen") && !help.contains("--tls"),
            "{help}"
        );
    }
    let help = run(dir, &["--help"], &[]);
    let help = String::from_utf8_lossy(&help.stdout);
    for stated in [
        "default 127.0.0.1:8080",
        "env NSX_POLICY_STORE__SERVER__LISTEN",
    ] {
        assert!(help.contains(stated), "{stated}: {help}");
    }
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

/// On a terminal, `hash-password` asks twice and refuses two different answers. The terminal
/// is `script`'s (util-linux), fed the answers one line at a time.
#[test]
fn hash_password_on_a_terminal_asks_twice() {
    use std::io::Write;
    let on_a_terminal = |answers: [&str; 2]| {
        let mut child = Command::new("script")
            .args(["-qec", &format!("{BIN} hash-password"), "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("script, from util-linux");
        let mut stdin = child.stdin.take().unwrap();
        for answer in answers {
            std::thread::sleep(std::time::Duration::from_millis(300));
            writeln!(stdin, "{answer}").unwrap();
        }
        let output = child.wait_with_output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (ok, printed) = on_a_terminal(["s3cret", "s3cret"]);
    assert!(
        ok && printed.contains("Password again: ") && printed.contains("$argon2id$"),
        "{printed}"
    );
    let (ok, printed) = on_a_terminal(["s3cret", "other"]);
    assert!(
        !ok && printed.contains("differ") && !printed.contains("$argon2id$"),
        "{printed}"
    );
}
