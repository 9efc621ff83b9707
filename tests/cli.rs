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
        text.contains("菏泽高新区") && text.contains("Demo-inspector-2020"),
        "{text}"
    );
    assert!(!text.contains("菏泽高新区: 0 units"), "{text}");
    let second = run(dir.path(), &["demo"], &env);
    assert!(
        stdout(&second).contains("菏泽高新区: 0 units, 0 users, 0 pairings, 0 grid leaders"),
        "{}",
        stdout(&second)
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
        "--password",
        "a-long-password",
        "--role",
        "inspector",
        "--unit",
        "HZGX-LLZ-ZZ-G01",
    ];
    let out = run(dir.path(), &create, &env);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("wangge07"));
    let again = run(dir.path(), &create, &env);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("taken"), "{}", stderr(&again));
    let bad_unit = run(
        dir.path(),
        &[
            "user",
            "create",
            "--username",
            "x2",
            "--password",
            "a-long-password",
            "--role",
            "officer",
            "--unit",
            "NOPE",
        ],
        &env,
    );
    assert!(
        stderr(&bad_unit).contains("--unit"),
        "{}",
        stderr(&bad_unit)
    );
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
    // Port 0: the server binds whatever port is free and logs the address it got, so no
    // other process can take the port between choosing it and binding it.
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("BIND", "127.0.0.1:0")
        .env("ADMIN_USERNAME", "admin")
        .env("ADMIN_PASSWORD", "change-me-please")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
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
    let mut health = None;
    while Instant::now() < deadline {
        health = http(port, "GET /healthz HTTP/1.0\r\n\r\n");
        if health.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let health = health.expect("server came up");
    assert!(
        health.starts_with("HTTP/1.0 200") || health.starts_with("HTTP/1.1 200"),
        "{health}"
    );
    assert!(health.to_ascii_lowercase().contains("x-request-id"));
    // HEAD: the same headers, no body.
    let head = http(port, "HEAD /healthz HTTP/1.0\r\n\r\n").unwrap();
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

    let body = r#"{"username":"admin","password":"change-me-please"}"#;
    let login = http(
        port,
        &format!("POST /api/v1/auth/login HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len()),
    )
    .unwrap();
    assert!(
        login.contains("200 OK") && login.contains("access_token"),
        "{login}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    reader.join().unwrap();
    logs.extend(lines.try_iter().map(|l| l + "\n"));
    // JSON logs, with the random-secret warning, and no password anywhere.
    assert!(
        logs.lines().all(|l| l.trim_start().starts_with('{')),
        "{logs}"
    );
    assert!(logs.contains("JWT_SECRET is not set"));
    assert!(!logs.contains("change-me-please"));
}
