//! The proxy's added latency on loopback, measured (not asserted: timings are never test results here).
//!
//! `cargo test --release -p iamgate-proxy --test latency -- --ignored --nocapture`
//!
//! One client connection per path sends sequential GETs, kept alive: straight to a local upstream, through a
//! bare hyper forwarder without iamgate (the cost of the extra hop alone), and through the proxy (which keeps
//! its own connection to the upstream and decides each request), interleaved in rounds so that all see the
//! same machine load. The bare forwarder runs twice: on a thread of this process, and in a process of its own
//! (this test binary started again in that role), as the proxy does; the second is the like-for-like
//! comparison. Prints the median and the 10th/90th percentiles of each, and the differences of the medians.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a measurement helper: a failed step ends it"
)]

use http_body_util::{BodyExt, Empty, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

const ROUNDS: usize = 20;
const PER_ROUND: usize = 250;

async fn client(to: SocketAddr) -> SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(to).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

async fn once(sender: &mut SendRequest<Empty<Bytes>>, upstream: SocketAddr) -> Duration {
    let req = Request::get(format!("http://{upstream}/x"))
        .header("host", upstream.to_string())
        .body(Empty::new())
        .unwrap();
    let start = Instant::now();
    sender.ready().await.unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let _ = resp.into_body().collect().await.unwrap();
    start.elapsed()
}

fn percentile(v: &mut [Duration], p: usize) -> Duration {
    v.sort();
    v[(v.len() - 1) * p / 100]
}

/// A bare forwarder without iamgate, for comparison: the same hyper server and client, one kept upstream
/// connection per client connection, no decision.
async fn serve_bare(listener: TcpListener, upstream: SocketAddr) {
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        tokio::spawn(async move {
            let up = TcpStream::connect(upstream).await.unwrap();
            up.set_nodelay(true).unwrap();
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(up))
                .await
                .unwrap();
            tokio::spawn(conn);
            let sender = std::sync::Arc::new(std::sync::Mutex::new(Some(sender)));
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let sender = std::sync::Arc::clone(&sender);
                async move {
                    let mut s: SendRequest<hyper::body::Incoming> =
                        sender.lock().unwrap().take().unwrap();
                    let (mut parts, body) = req.into_parts();
                    parts.uri = parts
                        .uri
                        .path_and_query()
                        .unwrap()
                        .as_str()
                        .parse()
                        .unwrap();
                    s.ready().await.unwrap();
                    let resp = s.send_request(Request::from_parts(parts, body)).await?;
                    // As the proxy does: a small body of known length read whole, to leave in one write.
                    let (parts, body) = resp.into_parts();
                    let body = body.collect().await?.to_bytes();
                    *sender.lock().unwrap() = Some(s);
                    Ok::<_, hyper::Error>(hyper::Response::from_parts(parts, Full::new(body)))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The bare forwarder on its own thread and current-thread runtime in this process.
fn bare_forwarder(upstream: SocketAddr) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            serve_bare(listener, upstream).await;
        });
    });
    rx.recv().unwrap()
}

/// The environment variable that starts this test binary as a bare forwarder to the upstream it names.
const BARE_ROLE: &str = "IAMGATE_LATENCY_BARE_UPSTREAM";

/// Read `listening on ADDR` from a child's stdout (lines before it, such as the test harness's, are skipped).
fn listening(child: &mut std::process::Child) -> SocketAddr {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "no address printed");
        if let Some(a) = line.trim().strip_prefix("listening on ") {
            return a.parse().unwrap();
        }
    }
}

/// The bare forwarder in a process of its own: this test binary again, in the forwarder's role.
fn bare_forwarder_process(upstream: SocketAddr) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "added_latency_on_loopback",
            "--ignored",
            "--nocapture",
        ])
        .env(BARE_ROLE, upstream.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture, in release"]
fn added_latency_on_loopback() {
    if let Ok(up) = std::env::var(BARE_ROLE) {
        // The forwarder's role (see `bare_forwarder_process`): serve until killed.
        let upstream: SocketAddr = up.parse().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            println!("listening on {}", listener.local_addr().unwrap());
            serve_bare(listener, upstream).await;
        });
        return;
    }
    // The upstream on its own thread and runtime.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_req| async {
                        Ok::<_, hyper::Error>(hyper::Response::new(Full::new(Bytes::from_static(
                            b"ok",
                        ))))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    let upstream = rx.recv().unwrap();

    let bundle = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../corpus/bench/bundle.json"
    );
    // The Studio bundle's identity policy denies addresses outside its corporate ranges unless the call came
    // through an endpoint: requests come "through" the API endpoint, by the trusted header, and are allowed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamgate-proxy"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--bundle",
            bundle,
            "--poll-ms",
            "0",
        ])
        .args(["--action", "sagemaker:CreatePresignedDomainUrl"])
        .args([
            "--resource",
            "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
        ])
        .args(["--principal", "arn:aws:iam::111122223333:role/DataSci"])
        .args([
            "--vpc-id",
            "vpc-0shared00000000001",
            "--context",
            "aws:ViaAWSService=false",
        ])
        .args(["--trusted-endpoint-header", "x-vpce"])
        // Further options for the proxy, e.g. `--spin-us 50` (whitespace-separated).
        .args(
            std::env::var("IAMGATE_LATENCY_PROXY_ARGS")
                .unwrap_or_default()
                .split_whitespace(),
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let proxy = listening(&mut child);

    let bare = bare_forwarder(upstream);
    let mut bare_child = bare_forwarder_process(upstream);
    let bare_process = listening(&mut bare_child);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (mut direct, mut via, mut forwarded, mut separate) = rt.block_on(async {
        let mut d = client(upstream).await;
        let mut f = client(bare).await;
        let mut g = client(bare_process).await;
        let stream = TcpStream::connect(proxy).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (mut p, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let through = |p: &mut SendRequest<Empty<Bytes>>| {
            let req = Request::get(format!("http://{upstream}/x"))
                .header("host", upstream.to_string())
                .header("x-vpce", "vpce-0api0000000000001")
                .body(Empty::new())
                .unwrap();
            let fut = p.send_request(req);
            async move {
                let start = Instant::now();
                let resp = fut.await.unwrap();
                assert_eq!(
                    resp.status(),
                    200,
                    "the proxy must allow the measured request"
                );
                let _ = resp.into_body().collect().await.unwrap();
                start.elapsed()
            }
        };
        // Warm up both paths.
        for _ in 0..PER_ROUND {
            once(&mut d, upstream).await;
            once(&mut f, upstream).await;
            once(&mut g, upstream).await;
            p.ready().await.unwrap();
            through(&mut p).await;
        }
        let (mut direct, mut via, mut forwarded, mut separate) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // One request on each path in turn, so that neighbouring requests of the four paths see the same load
        // (in blocks of 250, one path's block could fall in a busy spell of the machine's other tenants).
        for _ in 0..ROUNDS * PER_ROUND {
            direct.push(once(&mut d, upstream).await);
            forwarded.push(once(&mut f, upstream).await);
            separate.push(once(&mut g, upstream).await);
            p.ready().await.unwrap();
            via.push(through(&mut p).await);
        }
        (direct, via, forwarded, separate)
    });
    for c in [&mut child, &mut bare_child] {
        let _ = c.kill();
        let _ = c.wait();
    }
    // The median of the differences between neighbouring requests: steadier than differences of medians when
    // the machine's load moves.
    let paired = |a: &[Duration], b: &[Duration]| {
        let mut d: Vec<i128> = a
            .iter()
            .zip(b)
            .map(|(x, y)| x.as_nanos() as i128 - y.as_nanos() as i128)
            .collect();
        d.sort();
        d[d.len() / 2] as f64 / 1000.0
    };
    println!(
        "paired (median of per-request differences): proxy - direct {:.1} µs, proxy - bare in its own process {:.1} µs, proxy - bare on a thread {:.1} µs, bare in its own process - direct {:.1} µs",
        paired(&via, &direct),
        paired(&via, &separate),
        paired(&via, &forwarded),
        paired(&separate, &direct)
    );
    let (d50, v50) = (percentile(&mut direct, 50), percentile(&mut via, 50));
    println!(
        "direct:      median {:?}  p10 {:?}  p90 {:?}  ({} requests)",
        d50,
        percentile(&mut direct, 10),
        percentile(&mut direct, 90),
        direct.len()
    );
    println!(
        "via proxy:   median {:?}  p10 {:?}  p90 {:?}",
        v50,
        percentile(&mut via, 10),
        percentile(&mut via, 90)
    );
    let f50 = percentile(&mut forwarded, 50);
    println!(
        "bare forward: median {:?}  p10 {:?}  p90 {:?}",
        f50,
        percentile(&mut forwarded, 10),
        percentile(&mut forwarded, 90)
    );
    let s50 = percentile(&mut separate, 50);
    println!(
        "bare forward, own process: median {:?}  p10 {:?}  p90 {:?}",
        s50,
        percentile(&mut separate, 10),
        percentile(&mut separate, 90)
    );
    println!("added by the proxy (median): {:?}", v50.saturating_sub(d50));
    println!(
        "added by the hop alone (bare forwarder on a thread, median): {:?}",
        f50.saturating_sub(d50)
    );
    println!(
        "added by the hop alone (bare forwarder in its own process, median): {:?}",
        s50.saturating_sub(d50)
    );
    println!(
        "the proxy over the bare forwarder on a thread (median): {:?}",
        v50.saturating_sub(f50)
    );
    println!(
        "the proxy over the bare forwarder in its own process (median): {:?}",
        v50.saturating_sub(s50)
    );
}
