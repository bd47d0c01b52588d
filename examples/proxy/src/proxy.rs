//! The proxy: configuration, the per-request decision, forwarding, and reloading.

use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::header::HeaderValue;
use hyper::http::uri::{Authority, PathAndQuery};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use iamgate::bundle::deciding;
use iamgate::{Decision, RequestRef, ValueRef};
use iamgate_capi::Engine;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::net::{TcpListener, TcpStream};

type Body = BoxBody<Bytes, hyper::Error>;

/// What the proxy decides with.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub listen: String,
    pub bundle: std::path::PathBuf,
    pub action: String,
    pub resource: String,
    pub principal: Option<String>,
    pub vpc_id: Option<String>,
    /// The header that carries the VPC endpoint id, when the deployment sets it (lowercase).
    pub trusted_endpoint_header: Option<String>,
    /// Further context keys and values, the same for every request.
    pub context: Vec<(String, String)>,
    /// How often to check the bundle file for a change; zero: never.
    pub poll: Duration,
}

impl Config {
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let mut c = Config {
            listen: "127.0.0.1:8080".into(),
            poll: Duration::from_millis(500),
            ..Config::default()
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("`{flag}` needs a value"))
            };
            match flag.as_str() {
                "--listen" => c.listen = value()?,
                "--bundle" => c.bundle = value()?.into(),
                "--action" => c.action = value()?,
                "--resource" => c.resource = value()?,
                "--principal" => c.principal = Some(value()?),
                "--vpc-id" => c.vpc_id = Some(value()?),
                "--trusted-endpoint-header" => {
                    c.trusted_endpoint_header = Some(value()?.to_ascii_lowercase());
                }
                "--context" => {
                    let kv = value()?;
                    let (k, v) = kv
                        .split_once('=')
                        .ok_or_else(|| format!("`--context {kv}`: write KEY=VALUE"))?;
                    c.context.push((k.to_string(), v.to_string()));
                }
                "--poll-ms" => {
                    let v = value()?;
                    let ms: u64 = v
                        .parse()
                        .map_err(|_| format!("`--poll-ms {v}`: expected milliseconds"))?;
                    c.poll = Duration::from_millis(ms);
                }
                other => return Err(format!("unknown option `{other}`")),
            }
        }
        for (name, v) in [
            ("--bundle", c.bundle.as_os_str().is_empty()),
            ("--action", c.action.is_empty()),
            ("--resource", c.resource.is_empty()),
        ] {
            if v {
                return Err(format!("`{name}` is required"));
            }
        }
        Ok(c)
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack socket reports for an IPv4 client) as the
/// IPv4 address AWS would see.
pub fn normalise(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The network keys of one request.
struct Path<'a> {
    ip: &'a str,
    endpoint: Option<&'a str>,
}

/// How many context entries a request holds on the stack: the three network keys of the endpoint path and
/// five `--context` pairs; more take one allocation.
const INLINE_KEYS: usize = 8;

/// A request's context entries, on the stack while they fit.
struct Entries<'a> {
    inline: [(&'a str, ValueRef<'a>); INLINE_KEYS],
    n: usize,
    /// Every entry, once there are more than `inline` holds.
    heap: Vec<(&'a str, ValueRef<'a>)>,
}

impl<'a> Entries<'a> {
    fn new() -> Entries<'a> {
        Entries {
            inline: [("", ValueRef::One("")); INLINE_KEYS],
            n: 0,
            heap: Vec::new(),
        }
    }

    fn push(&mut self, k: &'a str, v: &'a str) {
        match self.inline.get_mut(self.n) {
            Some(slot) => {
                *slot = (k, ValueRef::One(v));
                self.n += 1;
            }
            None => {
                if self.heap.is_empty() {
                    self.heap.extend_from_slice(&self.inline);
                }
                self.heap.push((k, ValueRef::One(v)));
            }
        }
    }

    fn as_slice(&self) -> &[(&'a str, ValueRef<'a>)] {
        if self.heap.is_empty() {
            self.inline.get(..self.n).unwrap_or(&[])
        } else {
            &self.heap
        }
    }
}

/// The decision for one request, and the text of the headers of a 403. Allocates nothing for an allowed
/// request with up to five `--context` pairs.
fn decide(engine: &Engine, config: &Config, path: &Path<'_>) -> Result<(), (String, String)> {
    let mut ctx = Entries::new();
    match path.endpoint {
        None => ctx.push("aws:SourceIp", path.ip),
        Some(id) => {
            if let Some(v) = &config.vpc_id {
                ctx.push("aws:SourceVpc", v);
            }
            ctx.push("aws:SourceVpce", id);
            ctx.push("aws:VpcSourceIp", path.ip);
        }
    }
    for (k, v) in &config.context {
        ctx.push(k, v);
    }
    let req = RequestRef {
        principal: config.principal.as_deref(),
        action: &config.action,
        resource: &config.resource,
        resource_account: None,
        context: ctx.as_slice(),
    };
    let bundle = engine.load();
    match bundle.decide_ref(&req) {
        Ok(Decision::Allow) => Ok(()),
        Ok(_) => match bundle.decide_with_reasons(&req) {
            Ok((d, reasons)) => Err((
                d.to_string(),
                deciding(d, &reasons).map_or_else(String::new, ToString::to_string),
            )),
            Err(e) => Err(("Error".into(), e.to_string())),
        },
        Err(e) => Err(("Error".into(), e.to_string())),
    }
}

fn full(text: impl Into<Bytes>) -> Body {
    Full::new(text.into())
        .map_err(|never| match never {})
        .boxed()
}

fn answer(status: StatusCode, text: &str, headers: &[(&'static str, &str)]) -> Response<Body> {
    let mut r = Response::new(full(text.to_string()));
    *r.status_mut() = status;
    for (k, v) in headers {
        // A value that cannot be a header (a control character in a Sid) is left out, not sent broken.
        if let Ok(v) = HeaderValue::from_str(v) {
            r.headers_mut().insert(*k, v);
        }
    }
    r
}

/// Upstream connections kept alive for the next request to the same host, whichever client connection sends
/// it (the runtime is one thread: one pool per proxy), so that a client opening a connection per request does
/// not make the proxy open one upstream per request too.
#[derive(Default)]
struct Pool(Mutex<Vec<(Authority, SendRequest<Incoming>)>>);

/// How many idle upstream connections the pool keeps.
const POOL_IDLE: usize = 32;

impl Pool {
    /// An open kept connection to `authority`, taken out of the pool.
    fn take(&self, authority: &Authority) -> Option<SendRequest<Incoming>> {
        let mut kept = self.0.lock().ok()?;
        kept.retain(|(_, s)| !s.is_closed());
        let i = kept.iter().rposition(|(a, _)| a == authority)?;
        Some(kept.swap_remove(i).1)
    }

    fn put(&self, authority: Authority, sender: SendRequest<Incoming>) {
        if let Ok(mut kept) = self.0.lock() {
            if kept.len() < POOL_IDLE {
                kept.push((authority, sender));
            }
        }
    }
}

/// What one client connection's requests share: the engine, the configuration, the client's address as text
/// (the same for every request on the connection: written once), and the pool of upstream connections.
struct Conn {
    engine: Arc<Engine>,
    config: Arc<Config>,
    ip: String,
    upstream: Arc<Pool>,
}

async fn forward(req: Request<Incoming>, upstream: &Pool) -> Response<Body> {
    let Some(authority) = req.uri().authority().cloned() else {
        return answer(
            StatusCode::BAD_REQUEST,
            "a forward proxy needs an absolute URI (http://host/path)\n",
            &[],
        );
    };
    if req.uri().scheme_str() != Some("http") {
        return answer(StatusCode::BAD_REQUEST, "only http:// is forwarded\n", &[]);
    }
    let mut sender = match upstream.take(&authority) {
        Some(s) => s,
        None => match connect(authority.as_str()).await {
            Ok(s) => s,
            Err(e) => {
                return answer(
                    StatusCode::BAD_GATEWAY,
                    &format!("cannot reach `{authority}`: {e}\n"),
                    &[],
                );
            }
        },
    };
    let (mut parts, body) = req.into_parts();
    // The origin-form target: the path and query the client sent (shared, not copied or parsed again).
    let mut target = hyper::http::uri::Parts::default();
    target.path_and_query = Some(
        parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/")),
    );
    parts.uri = match Uri::from_parts(target) {
        Ok(u) => u,
        Err(_) => return answer(StatusCode::BAD_REQUEST, "bad request target\n", &[]),
    };
    if sender.ready().await.is_err() {
        return answer(StatusCode::BAD_GATEWAY, "upstream closed\n", &[]);
    }
    match sender.send_request(Request::from_parts(parts, body)).await {
        Ok(resp) => {
            // A small body is read whole first: the connection is then idle when it goes back to the pool (a
            // streamed body is still coming: the next request on it waits for its end).
            let resp = coalesced(resp).await;
            upstream.put(authority, sender);
            resp
        }
        Err(e) => answer(StatusCode::BAD_GATEWAY, &format!("upstream: {e}\n"), &[]),
    }
}

/// The largest body read whole before the answer starts (see [`coalesced`]).
const COALESCE_BYTES: u64 = 16 * 1024;

/// The upstream's answer for the client. A small body of known length (up to [`COALESCE_BYTES`]) is read
/// whole first, so that the head and the body leave in one write, and the client wakes once, even when the
/// upstream sent them apart; any other body is streamed as it comes.
async fn coalesced(resp: Response<Incoming>) -> Response<Body> {
    use hyper::body::Body as _;
    if resp
        .body()
        .size_hint()
        .exact()
        .is_none_or(|n| n > COALESCE_BYTES)
    {
        return resp.map(BodyExt::boxed);
    }
    let (parts, body) = resp.into_parts();
    match body.collect().await {
        Ok(b) => Response::from_parts(parts, full(b.to_bytes())),
        Err(e) => answer(StatusCode::BAD_GATEWAY, &format!("upstream: {e}\n"), &[]),
    }
}

async fn connect(authority: &str) -> Result<SendRequest<Incoming>, String> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn handle(req: Request<Incoming>, conn: Arc<Conn>) -> Result<Response<Body>, hyper::Error> {
    let endpoint = match &conn.config.trusted_endpoint_header {
        None => None,
        Some(h) => match req.headers().get(h.as_str()).map(|v| v.to_str()) {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => {
                return Ok(answer(
                    StatusCode::FORBIDDEN,
                    "denied\n",
                    &[
                        ("x-iamgate-decision", "Error"),
                        ("x-iamgate-error", "the endpoint header is not text"),
                    ],
                ));
            }
        },
    };
    let path = Path {
        ip: &conn.ip,
        endpoint,
    };
    match decide(&conn.engine, &conn.config, &path) {
        Ok(()) => Ok(forward(req, &conn.upstream).await),
        Err((decision, why)) => {
            let header = if decision == "Error" {
                "x-iamgate-error"
            } else {
                "x-iamgate-statement"
            };
            Ok(answer(
                StatusCode::FORBIDDEN,
                "denied\n",
                &[("x-iamgate-decision", &decision), (header, &why)],
            ))
        }
    }
}

/// The bundle file's modification time and length, to notice a change.
fn stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn reload(engine: &Engine, config: &Config) {
    let result = std::fs::read_to_string(&config.bundle)
        .map_err(|e| format!("{}: {e}", config.bundle.display()))
        .and_then(|text| engine.reload(&text).map_err(|e| e.to_string()));
    match result {
        Ok(()) => println!("reloaded generation {}", engine.generation()),
        Err(e) => println!("reload failed: {e}; the last good bundle stays in force"),
    }
}

/// Reload on SIGHUP and when the bundle file changes.
async fn watch(engine: Arc<Engine>, config: Arc<Config>) {
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            println!("no SIGHUP reloads: {e}");
            None
        }
    };
    let mut last = stamp(&config.bundle);
    let poll = if config.poll.is_zero() {
        Duration::from_secs(3600)
    } else {
        config.poll
    };
    let mut tick = tokio::time::interval(poll);
    loop {
        tokio::select! {
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => None } } => {
                last = stamp(&config.bundle);
                reload(&engine, &config);
            }
            _ = tick.tick() => {
                if config.poll.is_zero() {
                    continue;
                }
                let now = stamp(&config.bundle);
                if now != last {
                    last = now;
                    reload(&engine, &config);
                }
            }
        }
    }
}

pub async fn run(config: Config) -> Result<(), String> {
    let text = std::fs::read_to_string(&config.bundle)
        .map_err(|e| format!("{}: {e}", config.bundle.display()))?;
    let engine = Arc::new(Engine::new(&text).map_err(|e| e.to_string())?);
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on `{}`: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on {addr}");
    let config = Arc::new(config);
    tokio::spawn(watch(Arc::clone(&engine), Arc::clone(&config)));
    let pool = Arc::new(Pool::default());
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let conn = Arc::new(Conn {
            engine: Arc::clone(&engine),
            config: Arc::clone(&config),
            ip: normalise(peer.ip()).to_string(),
            upstream: Arc::clone(&pool),
        });
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(req, Arc::clone(&conn)));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_addresses_are_read_as_ipv4() {
        let mapped: IpAddr = "::ffff:203.0.113.7"
            .parse()
            .unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(normalise(mapped).to_string(), "203.0.113.7");
        let v6: IpAddr = "2001:db8::1".parse().unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(normalise(v6).to_string(), "2001:db8::1");
    }

    /// Context entries past the stack's room are all kept, in order (a key given twice takes its last value,
    /// so order matters).
    #[test]
    fn entries_past_the_inline_room_are_all_kept_in_order() {
        let names: Vec<String> = (0..INLINE_KEYS + 3).map(|i| format!("k{i}")).collect();
        for n in [0, 1, INLINE_KEYS, INLINE_KEYS + 1, INLINE_KEYS + 3] {
            let mut e = Entries::new();
            for k in names.iter().take(n) {
                e.push(k, k);
            }
            let got: Vec<&str> = e.as_slice().iter().map(|(k, _)| *k).collect();
            let want: Vec<&str> = names.iter().take(n).map(String::as_str).collect();
            assert_eq!(got, want, "{n} entries");
        }
    }

    #[test]
    fn options_are_read_and_required_ones_checked() {
        let args: Vec<String> = [
            "--bundle",
            "b.json",
            "--action",
            "s3:GetObject",
            "--resource",
            "*",
            "--trusted-endpoint-header",
            "X-Vpce",
            "--context",
            "aws:ViaAWSService=false",
            "--poll-ms",
            "0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let c = Config::from_args(&args).unwrap_or_default();
        assert_eq!(c.trusted_endpoint_header.as_deref(), Some("x-vpce"));
        assert_eq!(
            c.context,
            [("aws:ViaAWSService".to_string(), "false".to_string())]
        );
        assert!(c.poll.is_zero());
        assert_eq!(
            Config::from_args(&args[..4]).err().as_deref(),
            Some("`--resource` is required")
        );
        assert_eq!(
            Config::from_args(&["--nope".to_string()]).err().as_deref(),
            Some("unknown option `--nope`")
        );
    }
}
