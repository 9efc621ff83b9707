//! The binary as an operator meets it: start-up errors name the setting, the server
//! serves and stops gracefully on SIGTERM, `demo` is idempotent, `openapi` prints the
//! committed document, `user create` makes a user who can log in.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_campaign-tracker");

fn run(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run binary")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bad_settings_stop_start_up_with_one_line_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in [
        ("BIND", "nowhere"),
        ("JWT_SECRET", "short"),
        ("DATABASE_URL", "mysql://x/y"),
        ("LOG_FORMAT", "xml"),
    ] {
        let out = run(dir.path(), &["serve"], &[(name, value)]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(name), "{err}");
    }
}

#[test]
fn unreachable_postgres_fails_fast_with_the_drivers_message() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    // Port 1 on loopback: nothing listens, so libpq reports a refused connection.
    let out = run(
        dir.path(),
        &["migrate"],
        &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/db")],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("DATABASE_URL") && err.contains("Connection refused"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
        let out = run(
            dir.path(),
            &["migrate"],
            &[("DATABASE_URL", &format!("{base}/no_such_database_here"))],
        );
        let err = stderr(&out);
        assert!(
            err.contains("no_such_database_here") && err.contains("does not exist"),
            "{err}"
        );
    }
}

#[test]
fn openapi_prints_the_committed_document() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["openapi"], &[]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), include_str!("../openapi/openapi.json"));
}

/// Runs the binary with `input` on its standard input (how passwords reach the CLI).
fn run_with_input(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    input: &str,
) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run binary");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().expect("binary output")
}

const NEW_PASSWORD: &str = "sluice gate at Qilihe 7";

#[test]
fn demo_loads_once_and_user_create_works() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", "sqlite://data/demo.db"),
        ("LOG_LEVEL", "warn"),
    ];
    let first = run(dir.path(), &["demo"], &env);
    assert!(first.status.success(), "{}", stderr(&first));
    let text = stdout(&first);
    assert!(
        text.contains("菏泽高新区") && text.contains("Zhaizhuang-grid-2020"),
        "{text}"
    );
    assert!(!text.contains("菏泽高新区: 0 units"), "{text}");
    assert!(
        text.contains(
            "campaign work: 4 campaigns, 3 meetings, 7 directives, 21 tasks, 2 activities added"
        ),
        "{text}"
    );
    assert!(
        text.contains("rectification: 7 categories, 7 sites, 9 items, 2 patrols added"),
        "{text}"
    );
    // The demo app's Open311 key is printed once.
    assert!(text.contains("Open311 key of the demo app"), "{text}");
    let key = text
        .split_whitespace()
        .find(|w| w.starts_with("ct311_"))
        .unwrap_or_else(|| panic!("no key in {text}"));
    assert_eq!(key.len(), "ct311_".len() + 64);
    let second = run(dir.path(), &["demo"], &env);
    let again = stdout(&second);
    assert!(
        !again.contains(key) && again.contains("key exists already"),
        "{again}"
    );
    assert!(
        again.contains("菏泽高新区: 0 units, 0 users, 0 pairings, 0 grid leaders"),
        "{again}"
    );
    assert!(
        again.contains("campaign work: 0 campaigns, 0 meetings, 0 directives, 0 tasks"),
        "{again}"
    );
    assert!(
        again.contains("rectification: 0 categories, 0 sites, 0 items, 0 patrols added"),
        "{again}"
    );
    // A second run shows no password: the accounts existed, and may have new ones.
    assert!(!again.contains("-2020"), "{again}");
    assert!(
        again.contains("existed already") && again.contains("inspector"),
        "{again}"
    );
    assert!(
        dir.path().join("data/demo.db").exists(),
        "the data folder is created"
    );

    let create = [
        "user",
        "create",
        "--username",
        "wangge07",
        "--role",
        "inspector",
        "--unit",
        "HZGX-LLZ-ZZ-G01",
    ];
    let out = run_with_input(dir.path(), &create, &env, &format!("{NEW_PASSWORD}\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("wangge07"));
    let again = run_with_input(dir.path(), &create, &env, &format!("{NEW_PASSWORD}\n"));
    assert!(!again.status.success());
    assert!(stderr(&again).contains("taken"), "{}", stderr(&again));
    let weak = run_with_input(
        dir.path(),
        &[
            "user",
            "create",
            "--username",
            "x3",
            "--role",
            "officer",
            "--unit",
            "HZGX-MLGZ",
        ],
        &env,
        "password123\n",
    );
    assert!(!weak.status.success());
    assert!(stderr(&weak).contains("password"), "{}", stderr(&weak));
    let bad_unit = run_with_input(
        dir.path(),
        &[
            "user",
            "create",
            "--username",
            "x2",
            "--role",
            "officer",
            "--unit",
            "NOPE",
        ],
        &env,
        &format!("{NEW_PASSWORD}\n"),
    );
    assert!(
        stderr(&bad_unit).contains("--unit"),
        "{}",
        stderr(&bad_unit)
    );
    // Never from the command line.
    let on_the_line = run(
        dir.path(),
        &[
            "user",
            "create",
            "--username",
            "x4",
            "--password",
            NEW_PASSWORD,
            "--role",
            "officer",
            "--unit",
            "HZGX",
        ],
        &env,
    );
    assert!(!on_the_line.status.success());
    let listed = run(dir.path(), &["user", "list"], &env);
    let table = stdout(&listed);
    assert!(listed.status.success(), "{}", stderr(&listed));
    for username in ["wangge07", "officer", "leader", "inspector"] {
        assert!(table.contains(username), "{table}");
    }
    assert!(
        !table.contains("x2") && !table.contains("x3") && !table.contains("x4"),
        "{table}"
    );
}

/// A server run by the binary on port 0, with the logs it writes; killed when dropped.
struct Server {
    child: std::process::Child,
    port: u16,
    lines: std::sync::mpsc::Receiver<String>,
    reader: Option<std::thread::JoinHandle<()>>,
    logs: String,
}

impl Server {
    /// Starts `serve` in `dir` with JSON logs. Port 0: the server binds whatever port is
    /// free and logs the address it got, so no other process can take the port between
    /// choosing it and binding it.
    fn start(dir: &std::path::Path, env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .current_dir(dir)
            .env_clear()
            .env("BIND", "127.0.0.1:0")
            .env("LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        // The address comes in an info line.
        cmd.env("LOG_LEVEL", "info");
        let mut child = cmd.spawn().unwrap();
        // Read the logs as they come: the address is in the "listening" line.
        let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let reader = std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        let mut logs = String::new();
        let port = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .expect("the server logs its address");
            logs.push_str(&line);
            logs.push('\n');
            let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if let Some(addr) = entry["addr"].as_str() {
                break addr.rsplit(':').next().unwrap().parse::<u16>().unwrap();
            }
        };
        assert_ne!(port, 0);
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(port, "GET /healthz HTTP/1.0\r\n\r\n").is_none() {
            assert!(Instant::now() < deadline, "the server did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        Server {
            child,
            port,
            lines,
            reader: Some(reader),
            logs,
        }
    }

    fn request(&self, request: &str) -> String {
        http(self.port, request).expect("a response")
    }

    /// `POST path` with a JSON body (and a bearer token when given); the raw response.
    fn post(&self, path: &str, token: Option<&str>, body: &str) -> String {
        let auth = token.map_or_else(String::new, |t| format!("authorization: Bearer {t}\r\n"));
        self.request(&format!(
            "POST {path} HTTP/1.0\r\ncontent-type: application/json\r\n{auth}content-length: {}\r\n\r\n{body}",
            body.len()
        ))
    }

    fn login(&self, username: &str, password: &str) -> String {
        let body = serde_json::json!({"username": username, "password": password}).to_string();
        self.post("/api/v1/auth/login", None, &body)
    }

    /// Stops it with SIGTERM; the exit status and every log line.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        let mut logs = std::mem::take(&mut self.logs);
        logs.extend(self.lines.try_iter().map(|l| l + "\n"));
        (exit, logs)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or_default()
}

/// The CLI unlocks an account locked by failed logins, and resets a password the user
/// must then change; the server sees both at once.
#[test]
fn cli_unlocks_and_resets_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", "sqlite://data/ops.db"),
        ("LOG_LEVEL", "warn"),
        ("LOGIN_MAX_FAILURES", "3"),
    ];
    assert!(run(dir.path(), &["demo"], &env).status.success());
    let server = Server::start(dir.path(), &env);
    for _ in 0..3 {
        let failed = server.login("officer", "not-the-password-1");
        assert!(status_line(&failed).contains("401"), "{failed}");
    }
    let locked = server.login("officer", "Malinggang-town-2020");
    assert!(status_line(&locked).contains("429"), "{locked}");
    assert!(locked.contains("\"limited\":\"account\""), "{locked}");

    let unlock = run(dir.path(), &["user", "unlock", "officer"], &env);
    assert!(unlock.status.success(), "{}", stderr(&unlock));
    assert!(
        stdout(&unlock).contains("unlocked officer"),
        "{}",
        stdout(&unlock)
    );
    let back = server.login("officer", "Malinggang-town-2020");
    assert!(status_line(&back).contains("200"), "{back}");

    let reset = run_with_input(
        dir.path(),
        &["user", "reset-password", "officer"],
        &env,
        &format!("{NEW_PASSWORD}\n"),
    );
    assert!(reset.status.success(), "{}", stderr(&reset));
    let old = server.login("officer", "Malinggang-town-2020");
    assert!(status_line(&old).contains("401"), "{old}");
    let new = server.login("officer", NEW_PASSWORD);
    assert!(status_line(&new).contains("200"), "{new}");
    assert!(new.contains("\"must_change_password\":true"), "{new}");
    let (exit, logs) = server.stop();
    assert!(exit.success());
    assert!(!logs.contains(NEW_PASSWORD) && !logs.contains("Malinggang-town-2020"));
}

fn http(port: u16, request: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn serves_logs_in_the_admin_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("ADMIN_USERNAME", "admin"),
            ("ADMIN_PASSWORD", "change-me-please"),
        ],
    );
    let health = server.request("GET /healthz HTTP/1.0\r\n\r\n");
    assert!(
        health.starts_with("HTTP/1.0 200") || health.starts_with("HTTP/1.1 200"),
        "{health}"
    );
    assert!(health.to_ascii_lowercase().contains("x-request-id"));
    // HEAD: the same headers, no body.
    let head = server.request("HEAD /healthz HTTP/1.0\r\n\r\n");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    let (headers, body) = head.split_once("\r\n\r\n").unwrap();
    assert!(body.is_empty(), "{head}");
    assert!(
        headers.to_ascii_lowercase().contains("content-length: 15"),
        "{head}"
    );

    let login = server.login("admin", "change-me-please");
    assert!(
        login.contains("200 OK") && login.contains("access_token"),
        "{login}"
    );

    let (exit, logs) = server.stop();
    assert!(exit.success(), "{exit:?}");
    // JSON logs, with the random-secret warning, and no password anywhere.
    assert!(
        logs.lines().all(|l| l.trim_start().starts_with('{')),
        "{logs}"
    );
    assert!(logs.contains("JWT_SECRET is not set"));
    assert!(!logs.contains("change-me-please"));
}

/// Over real TCP: a body that stops arriving gets 408 and the connection closes; the
/// database's folder and files are the owner's only; failed logins are logged as security
/// events with the client and request id, and never the password.
#[test]
fn slow_bodies_time_out_files_are_private_and_failures_are_logged() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("ADMIN_USERNAME", "admin"),
            ("ADMIN_PASSWORD", "change-me-please"),
            ("BODY_TIMEOUT_SECONDS", "1"),
        ],
    );
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{")
        .unwrap();
    let started = Instant::now();
    let mut answer = String::new();
    // Read until the server closes the connection.
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(8));

    let failed = server.login("admin", "not-the-password-9");
    assert!(status_line(&failed).contains("401"), "{failed}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let data = dir.path().join("data");
        assert_eq!(mode(&data), 0o700);
        for name in [
            "campaign-tracker.db",
            "campaign-tracker.db-wal",
            "campaign-tracker.db-shm",
        ] {
            let file = data.join(name);
            assert!(file.exists(), "{name}");
            assert_eq!(mode(&file), 0o600, "{name}");
        }
    }

    let (exit, logs) = server.stop();
    assert!(exit.success());
    let failure = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "login_failed")
        .unwrap_or_else(|| panic!("no login_failed event in {logs}"));
    assert_eq!(failure["username"], "admin");
    assert_eq!(failure["client"], "127.0.0.1");
    assert_eq!(failure["target"], "security");
    assert!(
        failure["span"]["request_id"].is_string() || failure["request_id"].is_string(),
        "{failure}"
    );
    assert!(!logs.contains("not-the-password-9") && !logs.contains("change-me-please"));
}
