//! A throwaway PostgreSQL cluster for the suite's PostgreSQL run, made from the machine's own
//! binaries (`initdb`, `postgres`) in a private folder of the machine's temp folder, once per
//! test process, on a free port. As root, the server runs as the `postgres` user, as
//! PostgreSQL requires. It dies with the test process, and its folder is removed when the
//! next test process starts one.
//! `NSX_TEST_POSTGRES_URL` (a URL of a role that may create databases) uses a
//! server of one's own instead. Each workspace gets a database of its own.

use std::net::TcpListener;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

/// Where the suite's databases are made.
#[allow(
    dead_code,
    reason = "stopping and starting a cluster is for the PostgreSQL crate's own tests; this file is compiled into both crates"
)]
pub struct Cluster {
    /// `postgres://USER@HOST:PORT`, without a database.
    base: String,
    /// The folder of `createdb`, `psql` and `pg_ctl`.
    bin: PathBuf,
    /// The data folder, when the suite made the cluster.
    data: Option<PathBuf>,
    /// The user the server runs as, when the suite made it as root.
    owner: Option<(u32, u32)>,
}

impl Cluster {
    /// The suite's cluster, started on first use.
    pub fn get() -> &'static Cluster {
        static CLUSTER: OnceLock<Cluster> = OnceLock::new();
        CLUSTER.get_or_init(|| match std::env::var("NSX_TEST_POSTGRES_URL") {
            Ok(url) => Cluster {
                base: url.trim_end_matches('/').to_owned(),
                bin: binaries(),
                data: None,
                owner: None,
            },
            Err(_) => Cluster::start(),
        })
    }
}

#[allow(
    dead_code,
    reason = "stopping and starting a cluster is for the PostgreSQL crate's own tests; this file is compiled into both crates"
)]
impl Cluster {
    /// A cluster of one's own, for a test that stops and starts its server.
    pub fn private() -> Cluster {
        Cluster::start()
    }

    /// A new, empty database: its URL. Its collation is a linguistic one (ICU's English,
    /// punctuation ignored at first, as glibc's `en_US.UTF-8` does), not the cluster's `C`:
    /// production clusters sort so, and a query that relies on bytewise order fails here.
    pub fn new_database(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "suite_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.psql(
            "postgres",
            &format!(
                "CREATE DATABASE {name} TEMPLATE template0 \
                 LOCALE_PROVIDER icu ICU_LOCALE 'en-US-u-ka-shifted'"
            ),
        );
        format!("{}/{name}", self.base)
    }

    /// Runs `sql` on `database` with `psql`; answers its output, unaligned.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        self.try_psql(database, sql)
            .unwrap_or_else(|error| panic!("psql {sql}: {error}"))
    }

    /// Runs `sql` on `database` with `psql`: its output, unaligned, or what it printed on
    /// failing.
    pub fn try_psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let output = Command::new(self.bin.join("psql"))
            .args(["--no-psqlrc", "--tuples-only", "--no-align", "--quiet"])
            .args(["--set", "ON_ERROR_STOP=1", "--command", sql])
            .arg(format!("{}/{database}", self.base))
            .output()
            .expect("run psql");
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Stops the server (`pg_ctl stop -m fast`): every connection drops, nothing committed is
    /// lost.
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast", "-w"]);
    }

    /// Starts the server again after [`Cluster::stop`].
    pub fn restart(&self) {
        run_server(&self.bin, self.data(), self.port(), self.owner);
        wait_until_ready(self);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let mut command = Command::new(self.bin.join("pg_ctl"));
        command
            .arg("-D")
            .arg(self.data())
            .args(args)
            .current_dir(self.data().parent().expect("the cluster's folder"));
        if let Some((uid, gid)) = self.owner {
            command.uid(uid).gid(gid);
        }
        let status = command.stdout(Stdio::null()).status().expect("run pg_ctl");
        assert!(status.success(), "pg_ctl {args:?}: {status}");
    }

    fn data(&self) -> &Path {
        self.data
            .as_deref()
            .expect("only the suite's own cluster can be stopped and started")
    }

    fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("a port in the cluster's URL")
    }
}

/// The folder of the machine's PostgreSQL binaries: `pg_config --bindir`, else the newest
/// of Debian's `/usr/lib/postgresql/*/bin`.
fn binaries() -> PathBuf {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let debian = || {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path().join("bin"))
            .collect();
        found.sort();
        found.pop()
    };
    from_pg_config
        .filter(|bin| bin.join("initdb").exists())
        .or_else(debian)
        .filter(|bin| bin.join("initdb").exists())
        .expect(
            "the PostgreSQL run needs PostgreSQL's server binaries (initdb, postgres, pg_ctl; \
             Debian: apt-get install postgresql), or NSX_TEST_POSTGRES_URL",
        )
}

/// The prefix of the clusters' folders in the machine's temp folder.
const CLUSTER_FOLDER: &str = "nsx-policy-store-test-postgres-";

impl Cluster {
    /// Makes and starts a cluster in a private folder of its own in the machine's temp
    /// folder (`$TMPDIR`, else `/tmp`): not under the checkout, which the server's user
    /// may not be able to enter (a clone in a folder only its owner may enter, run as root).
    /// As root the folder is the `postgres` user's, mode 0700, and every PostgreSQL command
    /// runs from it.
    fn start() -> Cluster {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let bin = binaries();
        let temp = std::env::temp_dir();
        remove_ended(&temp);
        let root = temp.join(format!(
            "{CLUSTER_FOLDER}{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&root)
            .expect("make the cluster's folder");
        let data = root.join("data");
        // SAFETY: geteuid has no preconditions and cannot fail.
        let owner = (unsafe { libc::geteuid() } == 0).then(postgres_user);
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&root, Some(uid), Some(gid))
                .expect("give the cluster's folder to postgres");
        }
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ])
            .current_dir(&root)
            .stdout(Stdio::null());
        if let Some((uid, gid)) = owner {
            initdb.uid(uid).gid(gid);
        }
        let status = initdb.status().expect("run initdb");
        assert!(status.success(), "initdb: {status}");
        let port = free_port();
        run_server(&bin, &data, port, owner);
        let cluster = Cluster {
            base: format!("postgres://postgres@127.0.0.1:{port}"),
            bin,
            data: Some(data),
            owner,
        };
        wait_until_ready(&cluster);
        cluster
    }
}

/// Removes the clusters in `temp` of test processes that have ended (each folder is named
/// after its process): their servers died with them, and their folders, a benchmark's WAL
/// among them, would otherwise pile up run after run. A failed run's server log stays
/// until the next run starts.
fn remove_ended(temp: &Path) {
    let Ok(folders) = std::fs::read_dir(temp) else {
        return;
    };
    for folder in folders.flatten() {
        let name = folder.file_name();
        let pid = name
            .to_str()
            .and_then(|name| name.strip_prefix(CLUSTER_FOLDER))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid {
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(folder.path());
            }
        }
    }
}

/// Starts `postgres` on `data` as a child that dies with the test process: the parent-death
/// signal fires when the thread that spawned it ends, so that thread lives as long as the
/// process.
fn run_server(bin: &Path, data: &Path, port: u16, owner: Option<(u32, u32)>) {
    let mut command = Command::new(bin.join("postgres"));
    command
        .arg("-D")
        .arg(data)
        .args(["-p", &port.to_string()])
        .args(["-c", "listen_addresses=127.0.0.1"])
        .args(["-c", "unix_socket_directories="])
        .args(["-c", "max_connections=400"])
        .current_dir(data.parent().expect("the cluster's folder"))
        .stdout(Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(data.with_file_name("server.log"))
                .expect("the server's log"),
        );
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
    // SAFETY: prctl only sets this process's parent-death signal; it allocates nothing and
    // is async-signal-safe, as a pre_exec hook must be.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let (started, result) = mpsc::channel();
    std::thread::spawn(move || {
        let child = command.spawn();
        let spawned = child.is_ok();
        started.send(child.map(|_| ())).unwrap();
        if spawned {
            loop {
                std::thread::park();
            }
        }
    });
    result.recv().unwrap().expect("start the PostgreSQL server");
}

fn wait_until_ready(cluster: &Cluster) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = Command::new(cluster.bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &cluster.port().to_string(), "-q"])
            .status()
            .is_ok_and(|status| status.success());
        if ready {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "PostgreSQL did not start; see the server.log of its folder, {}*",
            std::env::temp_dir().join(CLUSTER_FOLDER).display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The uid and gid of the `postgres` user.
fn postgres_user() -> (u32, u32) {
    let output = Command::new("id")
        .args(["-u", "postgres"])
        .output()
        .expect("run id");
    let uid = String::from_utf8_lossy(&output.stdout).trim().parse();
    let output = Command::new("id")
        .args(["-g", "postgres"])
        .output()
        .expect("run id");
    let gid = String::from_utf8_lossy(&output.stdout).trim().parse();
    match (uid, gid) {
        (Ok(uid), Ok(gid)) => (uid, gid),
        _ => panic!("as root, the PostgreSQL run needs a `postgres` user to run the server as"),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}
