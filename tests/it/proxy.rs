//! The command line behind a real HTTP proxy: Debian's tinyproxy, started
//! by the test, tunnels the call with CONNECT to `iteration serve` over TLS,
//! and the certificate is checked end to end against the test CA given with
//! `--ca-cert`.
//!
//! tinyproxy is a test tool, not a build dependency: `.ci/install-test-tools`
//! installs it. `ITERATION_TEST_TINYPROXY` names another binary.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli_ux::{iteration, text};
use crate::serve::{Running, temp_dir};

const WRITER: &str = "api-demo-writer";
const GET: [&str; 8] =
    ["experiment", "get", "-p", "my-project", "-e", "production", "-x", "example-experiment"];

/// A tinyproxy process in the foreground, killed when dropped.
struct Tinyproxy {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    url: String,
    log: PathBuf,
}

impl Tinyproxy {
    /// Starts tinyproxy on a free loopback port, allowing CONNECT only to
    /// `connect_port`, with its configuration, log and pid file in `dir`.
    fn start(dir: &Path, connect_port: u16) -> Tinyproxy {
        let binary = std::env::var_os("ITERATION_TEST_TINYPROXY")
            .map_or_else(|| PathBuf::from("/usr/bin/tinyproxy"), PathBuf::from);
        assert!(
            binary.is_file(),
            "{} is missing: install tinyproxy (`apt-get install tinyproxy`, or run \
             .ci/install-test-tools) or point ITERATION_TEST_TINYPROXY at it",
            binary.display()
        );
        let port = free_port();
        let (config, log) = (dir.join("tinyproxy.conf"), dir.join("tinyproxy.log"));
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListen 127.0.0.1\nAllow 127.0.0.1\nConnectPort {connect_port}\n\
                 Timeout 30\nMaxClients 10\nLogLevel Info\nLogFile \"{}\"\nPidFile \"{}\"\n",
                log.display(),
                dir.join("tinyproxy.pid").display()
            ),
        )
        .expect("write the tinyproxy configuration");
        let output = dir.join("tinyproxy.out");
        let stdout = File::create(&output).expect("a file for tinyproxy's output");
        let stderr = stdout.try_clone().expect("the same file for its errors");
        let child = Command::new(&binary)
            .arg("-d")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", binary.display()));
        let mut proxy = Tinyproxy { child, url: format!("http://127.0.0.1:{port}"), log };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = proxy.child.try_wait().expect("tinyproxy's status") {
                panic!("tinyproxy exited with {status}: {}{}", read(&output), proxy.log_text());
            }
            assert!(Instant::now() < deadline, "tinyproxy is not listening on {port}: {}", read(&output));
            std::thread::sleep(Duration::from_millis(50));
        }
        proxy
    }

    fn log_text(&self) -> String {
        read(&self.log)
    }

    /// How many times the log records `request`, waiting a little for it to
    /// reach at least `at_least`.
    fn logged(&self, request: &str, at_least: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let count = self.log_text().matches(request).count();
            if count >= at_least || Instant::now() >= deadline {
                return count;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

#[test]
fn a_tls_server_is_reached_through_a_real_proxy_and_trusted_with_ca_cert() {
    let (ca_pem, cert_pem, key_pem) = crate::server_http::certificates();
    let dir = temp_dir("proxy");
    let (ca, cert, key) = (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&ca, ca_pem).unwrap();
    std::fs::write(&cert, cert_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let server =
        Running::start(&["--demo", "--in-memory", "--tls-cert", &path(&cert), "--tls-key", &path(&key)]);
    let authority = server.base.strip_prefix("https://").expect("a TLS server").to_owned();
    let server_port: u16 = authority.rsplit_once(':').expect("HOST:PORT").1.parse().expect("a port");
    let proxy = Tinyproxy::start(&dir, server_port);

    // `iteration()` clears NO_PROXY and no_proxy, so nothing exempts
    // 127.0.0.1 from the proxy (loopback is not bypassed unless listed).
    let get = || {
        let mut command = iteration();
        command
            .args(GET)
            .args(["--base-url", &server.base])
            .env("LD_API_KEY", WRITER)
            .env("HTTPS_PROXY", &proxy.url);
        command
    };

    // Each call goes through the tunnel: tinyproxy logs its CONNECT.
    let request = format!("CONNECT {authority} ");
    assert_eq!(proxy.logged(&request, 0), 0, "tinyproxy's log:\n{}", proxy.log_text());

    // Without the CA the TLS handshake, made through the tunnel, fails.
    let untrusted = get().output().unwrap();
    let stderr = text(&untrusted.stderr);
    assert_eq!(untrusted.status.code(), Some(8), "{stderr}");
    assert!(stderr.contains("certificate is not trusted"), "{stderr}");
    assert!(stderr.contains("--ca-cert"), "{stderr}");
    let before = proxy.logged(&request, 1);
    assert!(before >= 1, "no CONNECT in tinyproxy's log:\n{}", proxy.log_text());

    let trusted = get().args(["--ca-cert", &path(&ca)]).output().unwrap();
    assert_eq!(trusted.status.code(), Some(0), "stderr: {}", text(&trusted.stderr));
    let body: Value = serde_json::from_slice(&trusted.stdout).expect("JSON on stdout");
    assert_eq!(body["key"], "example-experiment");
    let after = proxy.logged(&request, before + 1);
    assert!(after > before, "no new CONNECT in tinyproxy's log:\n{}", proxy.log_text());

    drop(proxy);
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
