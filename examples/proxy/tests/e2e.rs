//! End to end: the proxy binary on a loopback port in front of a local upstream, driven by a real HTTP client
//! (hyper's); allowed and denied requests, the trusted endpoint header, reloads by file change and by SIGHUP.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failed step is a failed test"
)]

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

const ACTION: &str = "sagemaker:CreatePresignedDomainUrl";
const RESOURCE: &str = "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice";
const ENDPOINT_HEADER: &str = "x-iamgate-vpce";

/// Allows the call from `cidr` by the public path, and through any endpoint; the endpoint `vpce-0locked` denies
/// by its policy.
fn bundle(cidr: &str) -> String {
    format!(
        r#"{{"identity_policies": [{{"Version": "2012-10-17", "Statement": [
  {{"Sid": "FromCorp", "Effect": "Allow", "Action": "sagemaker:CreatePresignedDomainUrl", "Resource": "*",
    "Condition": {{"IpAddress": {{"aws:SourceIp": "{cidr}"}}}}}},
  {{"Sid": "ViaEndpoint", "Effect": "Allow", "Action": "sagemaker:CreatePresignedDomainUrl", "Resource": "*",
    "Condition": {{"Null": {{"aws:SourceVpce": "false"}}}}}}]}}],
 "endpoint_policies": {{"vpce-0locked": {{"Version": "2012-10-17", "Statement": [
  {{"Sid": "Locked", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}}]}}}}}}"#
    )
}

struct Proxy {
    child: Child,
    addr: SocketAddr,
    events: Receiver<String>,
    bundle: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.bundle);
    }
}

impl Proxy {
    fn start(name: &str, text: &str, extra: &[&str]) -> Proxy {
        let bundle =
            std::env::temp_dir().join(format!("iamgate-proxy-{}-{name}.json", std::process::id()));
        std::fs::write(&bundle, text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_iamgate-proxy"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--action",
                ACTION,
                "--resource",
                RESOURCE,
            ])
            .args(["--principal", "arn:aws:iam::111122223333:role/DataSci"])
            .args(["--trusted-endpoint-header", ENDPOINT_HEADER])
            .arg("--bundle")
            .arg(&bundle)
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = events.recv_timeout(Duration::from_secs(60)).unwrap();
        let addr = first
            .strip_prefix("listening on ")
            .unwrap()
            .parse()
            .unwrap();
        Proxy {
            child,
            addr,
            events,
            bundle,
        }
    }

    /// The next event line that starts with `prefix` (others are skipped).
    fn event(&self, prefix: &str) -> String {
        loop {
            let line = self.events.recv_timeout(Duration::from_secs(60)).unwrap();
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    fn write(&self, text: &str) {
        // A different length, so the change is seen even within the file system's timestamp granularity.
        std::fs::write(&self.bundle, text).unwrap();
    }
}

/// An upstream that answers every request with 200 and `upstream saw PATH`.
async fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                        let body = format!("upstream saw {}", req.uri());
                        Ok::<_, hyper::Error>(Response::new(http_body_util::Full::new(
                            Bytes::from(body),
                        )))
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// One GET through the proxy to the upstream: status, the `x-iamgate-statement` header, and the body.
async fn get(
    proxy: SocketAddr,
    upstream: SocketAddr,
    endpoint: Option<&str>,
) -> (StatusCode, String, String) {
    let stream = TcpStream::connect(proxy).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req =
        Request::get(format!("http://{upstream}/studio?x=1")).header("host", upstream.to_string());
    if let Some(e) = endpoint {
        req = req.header(ENDPOINT_HEADER, e);
    }
    let resp = sender
        .send_request(req.body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let why = resp
        .headers()
        .get("x-iamgate-statement")
        .or_else(|| resp.headers().get("x-iamgate-error"))
        .map(|v| v.to_str().unwrap_or("").to_string())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, why, String::from_utf8_lossy(&body).into_owned())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Allowed from loopback; denied by the listed endpoint's policy through the trusted header; after the bundle
/// file changes to another range, denied with the reason; a bundle that does not load changes nothing.
#[test]
fn decides_forwards_and_reloads_on_file_change() {
    let proxy = Proxy::start("file", &bundle("127.0.0.0/8"), &["--poll-ms", "50"]);
    runtime().block_on(async {
        let up = upstream().await;
        let (status, _, body) = get(proxy.addr, up, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "upstream saw /studio?x=1");

        let (status, why, _) = get(proxy.addr, up, Some("vpce-0locked")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(why, "Deny by endpoint statement 0 (Locked)");
        // An endpoint the bundle does not list has the default policy: the identity policy decides.
        let (status, _, _) = get(proxy.addr, up, Some("vpce-0other")).await;
        assert_eq!(status, StatusCode::OK);

        proxy.write(&bundle("10.0.0.0/8"));
        assert_eq!(proxy.event("reload"), "reloaded generation 1");
        let (status, why, _) = get(proxy.addr, up, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(why, "no statement in identity allows the request");

        proxy.write("{\"identity_policies\": 3}");
        assert!(
            proxy
                .event("reload")
                .starts_with("reload failed: $.identity_policies: expected an array")
        );
        let (status, _, _) = get(proxy.addr, up, None).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "the last good bundle decides"
        );
        let (status, _, _) = get(proxy.addr, up, Some("vpce-0other")).await;
        assert_eq!(status, StatusCode::OK);
    });
}

/// With the file check off, SIGHUP reloads.
#[test]
fn reloads_on_sighup() {
    let proxy = Proxy::start("hup", &bundle("10.0.0.0/8"), &["--poll-ms", "0"]);
    runtime().block_on(async {
        let up = upstream().await;
        assert_eq!(get(proxy.addr, up, None).await.0, StatusCode::FORBIDDEN);
        proxy.write(&bundle("127.0.0.1/32"));
        let status = Command::new("kill")
            .args(["-HUP", &proxy.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(proxy.event("reload"), "reloaded generation 1");
        assert_eq!(get(proxy.addr, up, None).await.0, StatusCode::OK);
    });
}

/// On a dual-stack listener an IPv4 client arrives as `::ffff:127.0.0.1`; the proxy decides by 127.0.0.1.
#[test]
fn ipv4_mapped_clients_are_decided_as_ipv4() {
    // Skipped only where the machine has no IPv6 at all (the mapping is also unit-tested in the binary).
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 on this machine: skipped");
        return;
    }
    let text = bundle("127.0.0.1/32");
    let bundle_path =
        std::env::temp_dir().join(format!("iamgate-proxy-{}-v6.json", std::process::id()));
    std::fs::write(&bundle_path, &text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamgate-proxy"))
        .args([
            "--listen",
            "[::]:0",
            "--action",
            ACTION,
            "--resource",
            RESOURCE,
            "--poll-ms",
            "0",
        ])
        .arg("--bundle")
        .arg(&bundle_path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let status = runtime().block_on(async {
        let up = upstream().await;
        get(SocketAddr::from(([127, 0, 0, 1], port)), up, None)
            .await
            .0
    });
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&bundle_path);
    assert_eq!(status, StatusCode::OK);
}

/// An upstream on a thread that answers each request with `body` (as `Content-Length`), the head and the body
/// written apart: the body 100 ms after the head, or, with `gate`, once the gate lets it; counts its accepted
/// connections.
fn split_upstream(
    body: Vec<u8>,
    gate: Option<std::sync::mpsc::Receiver<()>>,
) -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&accepted);
    let gate = std::sync::Arc::new(std::sync::Mutex::new(gate));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = body.clone();
            let gate = std::sync::Arc::clone(&gate);
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = stream.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        let head =
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                        if stream.write_all(head.as_bytes()).is_err() {
                            return;
                        }
                        match gate.lock().unwrap().as_ref() {
                            Some(g) => {
                                let _ = g.recv();
                            }
                            None => std::thread::sleep(Duration::from_millis(100)),
                        }
                        if stream.write_all(&body).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (addr, accepted)
}

/// A raw GET through the proxy on a new connection: what the first read returned, and the whole answer;
/// `after_first` runs between the first read and the others.
fn raw_get(
    proxy: SocketAddr,
    upstream: SocketAddr,
    want: usize,
    after_first: impl FnOnce(),
) -> (Vec<u8>, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(proxy).unwrap();
    s.set_nodelay(true).unwrap();
    // A proxy that waited for a gated body would never answer: fail, do not hang.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET http://{upstream}/x HTTP/1.1\r\nHost: {upstream}\r\n\r\n"
    )
    .unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let n = s.read(&mut buf).unwrap();
    let first = buf[..n].to_vec();
    after_first();
    let mut all = first.clone();
    // (The bodies of `split_upstream` here are `want` bytes `x`.)
    while !all.ends_with(&vec![b'x'; want]) {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the answer ended early");
        all.extend_from_slice(&buf[..n]);
    }
    (first, all)
}

/// A small answer whose head and body the upstream sends apart reaches the client in one write (its first read
/// holds the body); a large one is streamed (the head reaches the client before the upstream sends the body).
/// Both arrive whole.
#[test]
fn small_answers_are_coalesced_and_large_ones_streamed() {
    let proxy = Proxy::start("coalesce", &bundle("127.0.0.0/8"), &["--poll-ms", "0"]);
    let (small, _) = split_upstream(b"xxxxx".to_vec(), None);
    let (first, all) = raw_get(proxy.addr, small, 5, || ());
    let text = String::from_utf8_lossy(&first);
    assert!(first.starts_with(b"HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(first.ends_with(b"\r\n\r\nxxxxx"), "one write: {text}");
    assert!(all.ends_with(b"\r\n\r\nxxxxx"));

    let big = vec![b'x'; 20_000];
    let (open, gate) = std::sync::mpsc::channel();
    let (large, _) = split_upstream(big.clone(), Some(gate));
    let (first, all) = raw_get(proxy.addr, large, 20_000, move || {
        open.send(()).unwrap();
    });
    assert!(
        first.ends_with(b"\r\n\r\n"),
        "the head first: {}",
        String::from_utf8_lossy(&first)
    );
    assert!(all.ends_with(&big));
}

/// Client connections one after another share one kept upstream connection.
#[test]
fn upstream_connections_are_pooled_across_client_connections() {
    let proxy = Proxy::start("pool", &bundle("127.0.0.0/8"), &["--poll-ms", "0"]);
    let (up, accepted) = split_upstream(b"xxxxx".to_vec(), None);
    for _ in 0..3 {
        let (_, all) = raw_get(proxy.addr, up, 5, || ());
        assert!(all.ends_with(b"\r\n\r\nxxxxx"));
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
}
