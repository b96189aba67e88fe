//! e2e: one HTTP/2 connection per invocation (src/k8s/transport.rs). Every request and watch of
//! a command shares one TLS connection to kube-apiserver (ALPN h2), with each kubeconfig auth
//! mode the test environment can serve and through an HTTP CONNECT proxy (`proxy-url`).
//! Two independent counts: the process's own established sockets to the API server while
//! `watch -A` runs (several watches at once would need several HTTP/1.1 connections), and the
//! connections a counting CONNECT proxy accepts for one `status`.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::foundation::{decoded, kubeconfig_variant};
use crate::support::{TestEnv, env, fixture};

fn api_port(env: &TestEnv) -> u16 {
    env.server.rsplit(':').next().and_then(|p| p.parse().ok()).expect("server URL has a port")
}

/// Socket inodes of `pid`'s open file descriptors.
fn socket_inodes(pid: u32) -> HashSet<String> {
    let mut out = HashSet::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd")).into_iter().flatten().flatten() {
        if let Ok(target) = std::fs::read_link(fd.path()) {
            let t = target.to_string_lossy();
            if let Some(inode) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                out.insert(inode.to_string());
            }
        }
    }
    out
}

/// The process's established TCP connections to `port` (from /proc/<pid>/net/tcp{,6}, joined
/// with its socket inodes).
fn connections_to(pid: u32, port: u16) -> usize {
    let inodes = socket_inodes(pid);
    let mut n = 0;
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(remote), Some(state), Some(inode)) = (f.get(2), f.get(3), f.get(9)) else { continue };
            let remote_port = remote.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
            // 01 = ESTABLISHED
            if remote_port == Some(port) && *state == "01" && inodes.contains(*inode) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn watch_multiplexes_every_watch_on_one_connection() {
    let env = env();
    let ns = env.namespace("conn-watch");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(env.apply_objects(&ns, &fixture("ready", &format!("{ns}-a"))));
    let mut child: Child = env
        .capt()
        .args(["watch", "-A", "--duration", "8s", "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start watch");
    let port = api_port(env);
    let deadline = Instant::now() + Duration::from_secs(7);
    let mut samples = Vec::new();
    std::thread::sleep(Duration::from_secs(2));
    while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        samples.push(connections_to(child.id(), port));
        std::thread::sleep(Duration::from_millis(500));
    }
    let out = child.wait_with_output().expect("watch output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 3), "watch failed: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{ns}-a")), "the watch saw the object: {stdout:.400}");
    // Several sources were watched at once: over HTTP/1.1 each would hold its own connection.
    let watching = stderr.lines().filter(|l| l.ends_with(": watching")).count();
    assert!(watching >= 5, "sources watched at once: {stderr}");
    assert!(samples.len() >= 5, "sampled while the watch ran: {samples:?}");
    assert!(samples.iter().all(|&n| n == 1), "established connections to the API server: {samples:?}");
}

/// A CONNECT proxy that counts the connections it accepts and remembers each request head.
struct Proxy {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || tunnel(client, &seen));
            }
        });
        Proxy { port, heads }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.heads.lock().unwrap())
    }
}

fn tunnel(client: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().expect("clone"));
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let end = line == "\r\n";
        head.push_str(&line);
        if end {
            break;
        }
    }
    seen.lock().unwrap().push(head.clone());
    let target = head.split_whitespace().nth(1).unwrap_or_default().to_string();
    let Ok(upstream) = TcpStream::connect(&target) else { return };
    let mut client_w = client;
    if client_w.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_err() {
        return;
    }
    let mut up_r = upstream.try_clone().expect("clone");
    let mut client_r = client_w.try_clone().expect("clone");
    let mut up_w = upstream;
    // Bytes the reader buffered past the head belong to the tunnel.
    let buffered = reader.buffer().to_vec();
    let t = std::thread::spawn(move || {
        let _ = up_w.write_all(&buffered);
        let _ = std::io::copy(&mut reader.get_mut(), &mut up_w);
        let _ = up_w.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_r, &mut client_w);
    let _ = client_r.shutdown(std::net::Shutdown::Both);
    let _ = t.join();
    let _ = client_r.read(&mut [0u8; 1]);
}

fn kubectl_text(env: &TestEnv, args: &[&str]) -> String {
    env.kubectl_ok(args).trim().to_string()
}

#[test]
fn status_uses_one_connection_with_every_auth_mode_through_a_proxy() {
    let env = env();
    let ns = env.namespace("conn-auth");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let names: Vec<String> = (0..3).map(|i| format!("{ns}-{i}")).collect();
    for name in &names {
        rt.block_on(env.apply_objects(&ns, &fixture("ready", name)));
    }
    // A ServiceAccount token (the API server signs it) for the bearer-token modes.
    kubectl_text(env, &["create", "serviceaccount", "reader", "-n", &ns]);
    kubectl_text(
        env,
        &[
            "create",
            "clusterrolebinding",
            &format!("{ns}-reader"),
            "--clusterrole=cluster-admin",
            &format!("--serviceaccount={ns}:reader"),
        ],
    );
    let token = kubectl_text(env, &["create", "token", "reader", "-n", &ns, "--duration=1h"]);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, &token).unwrap();
    let admin: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(&env.kubeconfig).unwrap()).unwrap();
    let admin_user = admin["users"][0]["user"].clone();
    let cert_file = dir.path().join("admin.crt");
    let key_file = dir.path().join("admin.key");
    std::fs::write(&cert_file, decoded(&admin_user, "client-certificate-data")).unwrap();
    std::fs::write(&key_file, decoded(&admin_user, "client-key-data")).unwrap();
    let exec_cert = dir.path().join("exec-cert.json");
    std::fs::write(
        &exec_cert,
        serde_json::json!({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
            "status": {"clientCertificateData": decoded(&admin_user, "client-certificate-data"),
                       "clientKeyData": decoded(&admin_user, "client-key-data")}})
        .to_string(),
    )
    .unwrap();
    let exec_token = dir.path().join("exec-token.json");
    std::fs::write(
        &exec_token,
        serde_json::json!({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
            "status": {"token": token}})
        .to_string(),
    )
    .unwrap();
    let exec = |file: &std::path::Path| -> Value {
        serde_yaml_ng::from_str(&format!(
            "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: cat\n  args: ['{}']\n  interactiveMode: Never\n",
            file.display()
        ))
        .unwrap()
    };
    let modes: Vec<(&str, Value)> = vec![
        ("client certificate data", admin_user.clone()),
        (
            "client certificate files",
            serde_json::json!({"client-certificate": cert_file, "client-key": key_file}),
        ),
        ("token", serde_json::json!({ "token": token })),
        ("token file", serde_json::json!({ "tokenFile": token_file })),
        ("exec token", exec(&exec_token)),
        ("exec client certificate", exec(&exec_cert)),
    ];

    let proxy = Proxy::start();
    for (mode, user) in modes {
        for proxied in [false, true] {
            let file = format!("{}-{proxied}", mode.replace(' ', "-"));
            let kubeconfig = kubeconfig_variant(env, dir.path(), &file, &|cluster, u| {
                *u = user.clone();
                if proxied {
                    cluster["proxy-url"] =
                        Value::from(format!("http://capt:p%40ss@127.0.0.1:{}", proxy.port));
                }
            });
            proxy.take();
            let run = |args: &[&str]| {
                let out = Command::new(crate::support::capt_bin())
                    .env_remove("KUBECONFIG")
                    .env("NO_COLOR", "1")
                    .arg("--kubeconfig")
                    .arg(&kubeconfig)
                    .args(args)
                    .output()
                    .expect("run kubectl-capt");
                let stderr = String::from_utf8_lossy(&out.stderr).to_string();
                assert_eq!(out.status.code(), Some(0), "{mode} (proxy {proxied}) {args:?}: {stderr}");
                serde_json::from_slice::<Value>(&out.stdout).unwrap_or_else(|e| panic!("{mode}: {e}"))
            };
            let doc = run(&["status", &names[0], "-n", &ns, "-o", "json"]);
            assert_eq!(doc["phase"], "Ready", "{mode} (proxy {proxied}): {doc:#}");
            assert_eq!(doc["determined"], true, "{mode} (proxy {proxied})");
            if !proxied {
                continue;
            }
            let heads = proxy.take();
            assert_eq!(heads.len(), 1, "{mode}: one connection for status NAME (9 requests): {heads:?}");
            let head = &heads[0];
            assert!(head.starts_with(&format!("CONNECT 127.0.0.1:{} HTTP/1.1\r\n", api_port(env))), "{head}");
            // "capt:p@ss", percent-decoded from the proxy URL's user info.
            assert!(head.contains("Proxy-Authorization: Basic Y2FwdDpwQHNz\r\n"), "{mode}: {head}");
            let list = run(&["status", "-n", &ns, "-o", "json"]);
            assert_eq!(list["items"].as_array().map(Vec::len), Some(3), "{mode}: {list:#}");
            let heads = proxy.take();
            assert_eq!(
                heads.len(),
                1,
                "{mode}: one connection for status -n (5 lists, 12 Secrets): {heads:?}"
            );
        }
    }
}

#[test]
fn an_unsupported_proxy_scheme_is_a_clear_error() {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig_variant(env, dir.path(), "socks", &|cluster, _| {
        cluster["proxy-url"] = Value::from("socks5://user:secret-pw@127.0.0.1:1080");
    });
    let out = Command::new(crate::support::capt_bin())
        .env_remove("KUBECONFIG")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["status", "-A"])
        .output()
        .expect("run kubectl-capt");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("only http:// proxies are supported"), "{stderr}");
    assert!(!stderr.contains("secret-pw"), "the proxy password is never shown: {stderr}");
}

#[test]
fn a_server_without_http2_is_served_over_http1() {
    // kube-apiserver without HTTP/2: ALPN answers http/1.1 only.
    let env = TestEnv::start_with_env(&[], &[("CAPT_TESTENV_APISERVER_ARGS", "--disable-http2-serving")]);
    let ns = env.namespace("conn-h1");
    let name = format!("{ns}-a");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(env.apply_objects(&ns, &fixture("ready", &name)));
    let proxy = Proxy::start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig_variant(&env, dir.path(), "h1", &|cluster, _| {
        cluster["proxy-url"] = Value::from(format!("http://127.0.0.1:{}", proxy.port));
    });
    let out = Command::new(crate::support::capt_bin())
        .env_remove("KUBECONFIG")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["status", &name, "-n", &ns, "-o", "json"])
        .output()
        .expect("run kubectl-capt");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["phase"], "Ready", "{doc:#}");
    // The parallel reads of one snapshot need several HTTP/1.1 connections: the server really
    // refused h2, so this run took the fallback.
    let heads = proxy.take();
    assert!(heads.len() > 1, "connections: {}", heads.len());
}
