//! A fault-injecting HTTP proxy on loopback, in front of moto: every S3 and SQS
//! call of the processes under test goes through it. A seeded share of requests
//! gets a fault real AWS sends: S3's `503 SlowDown` (with S3's XML error body),
//! SQS's `500 InternalError` in the AWS JSON 1.0 protocol aws-sdk-sqs speaks (with
//! the `x-amzn-query-error` header its query-compatible error parsing reads), or
//! the connection cut mid-response (the request was done upstream; the status line,
//! the headers and half the body are sent, then the socket is closed). An outage
//! answers every matching request with `SlowDown` until it is lifted. The proxy
//! counts what it injected, by kind, and every request it saw.
//!
//! It can also hold each request and each reply for a set time ([`FaultProxy::
//! set_one_way_delay`]): the round trip of a real link (the kernel here has no
//! `netem`), so transfer tools can be compared at 50 or 150 ms.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, TRANSFER_ENCODING};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// What the proxy injected so far, by kind (and how many requests it saw).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Injected {
    pub requests: u64,
    /// S3 `503 SlowDown`, at the random rate.
    pub s3_slow_down: u64,
    /// SQS `500 InternalError`, at the random rate.
    pub sqs_internal_error: u64,
    /// Headers and half the body sent, then the connection closed.
    pub cut_mid_body: u64,
    /// A reply without a body (HEAD, an empty 200) never sent: the connection is
    /// closed after the request was done upstream.
    pub dropped_without_reply: u64,
    /// `503 SlowDown` because the request matched an outage.
    pub outage: u64,
}

impl Injected {
    /// Faults injected at the random rate (outages not counted).
    pub fn random(&self) -> u64 {
        self.s3_slow_down + self.sqs_internal_error + self.cut_mid_body + self.dropped_without_reply
    }
}

/// Requests an outage answers with `503 SlowDown`: this method, and a URI path
/// (percent-encoded, as sent) containing this text.
#[derive(Debug, Clone)]
pub struct Outage {
    pub method: &'static str,
    pub path_contains: String,
}

struct State {
    upstream: SocketAddr,
    /// Faults per 1,000 requests.
    rate_per_mille: AtomicU32,
    /// Held before forwarding a request and again before sending its reply.
    one_way_delay_us: AtomicU64,
    rng: Mutex<fastrand::Rng>,
    outages: Mutex<Vec<Outage>>,
    injected: Mutex<Injected>,
}

/// The running proxy; stops when dropped.
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`: give it to the SDK as the endpoint.
    pub endpoint: String,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    S3SlowDown,
    SqsInternalError,
    Cut,
}

impl FaultProxy {
    /// In front of `upstream` (`http://127.0.0.1:<port>`), faulting `rate_percent`
    /// of requests, the choices drawn from `seed`. Runs on its own thread and
    /// runtime, so a test blocked on a child process does not stall it.
    pub fn start(upstream: &str, seed: u64, rate_percent: u32) -> Self {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let state = Arc::new(State {
            upstream,
            rate_per_mille: AtomicU32::new(rate_percent * 10),
            one_way_delay_us: AtomicU64::new(0),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            outages: Mutex::new(Vec::new()),
            injected: Mutex::new(Injected::default()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel();
        let serving = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(serve(listener, serving, stopped));
        });
        Self {
            endpoint,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn set_rate_percent(&self, rate_percent: u32) {
        self.state
            .rate_per_mille
            .store(rate_percent * 10, Ordering::Relaxed);
    }

    /// Holds each request and each reply `delay` (half a round trip).
    pub fn set_one_way_delay(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.state.one_way_delay_us.store(micros, Ordering::Relaxed);
    }

    /// Requests seen so far (faulted or not).
    pub fn requests(&self) -> u64 {
        self.state.injected.lock().unwrap().requests
    }

    pub fn add_outage(&self, method: &'static str, path_contains: &str) {
        self.state.outages.lock().unwrap().push(Outage {
            method,
            path_contains: path_contains.to_owned(),
        });
    }

    pub fn end_outages(&self) {
        self.state.outages.lock().unwrap().clear();
    }

    pub fn injected(&self) -> Injected {
        *self.state.injected.lock().unwrap()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    mut stopped: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).unwrap();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stopped => return,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let state = Arc::clone(&state);
                async move { handle(request, &state).await }
            });
            // A closed connection is what a cut fault does: not an error here.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Why the proxy closes a connection without a reply.
#[derive(Debug, thiserror::Error)]
enum ProxyError {
    #[error("fault injected: connection dropped without a reply")]
    Dropped,
    #[error("upstream: {0}")]
    Upstream(String),
}

async fn handle(
    request: Request<Incoming>,
    state: &State,
) -> Result<Response<ProxyBody>, ProxyError> {
    let is_sqs = request
        .headers()
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("AmazonSQS."));
    let in_outage = {
        let path = request.uri().path();
        state
            .outages
            .lock()
            .unwrap()
            .iter()
            .any(|o| request.method().as_str() == o.method && path.contains(&o.path_contains))
    };
    let fault = {
        let mut rng = state.rng.lock().unwrap();
        let faulted = rng.u32(0..1000) < state.rate_per_mille.load(Ordering::Relaxed);
        let cut = rng.bool();
        match (faulted, cut, is_sqs) {
            (false, _, _) => None,
            (true, true, _) => Some(Fault::Cut),
            (true, false, false) => Some(Fault::S3SlowDown),
            (true, false, true) => Some(Fault::SqsInternalError),
        }
    };
    let is_head = request.method() == hyper::Method::HEAD;
    {
        let mut injected = state.injected.lock().unwrap();
        injected.requests += 1;
        if in_outage {
            injected.outage += 1;
        }
    }
    let delay = Duration::from_micros(state.one_way_delay_us.load(Ordering::Relaxed));
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let response = answer(request, state, in_outage, fault, is_head).await;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    response
}

/// The reply to a request the proxy has counted: an outage's or a fault's, or
/// the upstream's (whole or cut).
async fn answer(
    request: Request<Incoming>,
    state: &State,
    in_outage: bool,
    fault: Option<Fault>,
    is_head: bool,
) -> Result<Response<ProxyBody>, ProxyError> {
    if in_outage {
        return Ok(s3_slow_down(is_head));
    }
    match fault {
        Some(Fault::S3SlowDown) => {
            state.injected.lock().unwrap().s3_slow_down += 1;
            return Ok(s3_slow_down(is_head));
        }
        Some(Fault::SqsInternalError) => {
            state.injected.lock().unwrap().sqs_internal_error += 1;
            return Ok(sqs_internal_error());
        }
        Some(Fault::Cut) | None => {}
    }

    let (parts, body) = forward(request, state.upstream).await?;
    let mut response = Response::from_parts(parts, ());
    response.headers_mut().remove(TRANSFER_ENCODING);
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    if fault.is_none() {
        return Ok(response.map(|()| ProxyBody::whole(body)));
    }
    if is_head || body.len() < 2 {
        state.injected.lock().unwrap().dropped_without_reply += 1;
        return Err(ProxyError::Dropped);
    }
    state.injected.lock().unwrap().cut_mid_body += 1;
    let half = body.slice(..body.len() / 2);
    Ok(response.map(|()| ProxyBody::cut(half, body.len())))
}

/// The request to the upstream, on a connection of its own; the whole response.
async fn forward(
    request: Request<Incoming>,
    upstream: SocketAddr,
) -> Result<(hyper::http::response::Parts, Bytes), ProxyError> {
    let upstream_error = |err: &dyn std::fmt::Display| ProxyError::Upstream(err.to_string());
    let (parts, body) = request.into_parts();
    let body = read_whole(body).await?;
    let stream = TcpStream::connect(upstream)
        .await
        .map_err(|e| upstream_error(&e))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| upstream_error(&e))?;
    tokio::spawn(connection);
    let response = sender
        .send_request(Request::from_parts(parts, ProxyBody::whole(body)))
        .await
        .map_err(|e| upstream_error(&e))?;
    let (parts, body) = response.into_parts();
    let body = read_whole(body).await?;
    Ok((parts, body))
}

/// A body read to its end.
async fn read_whole(body: Incoming) -> Result<Bytes, ProxyError> {
    let collected = body.collect().await;
    Ok(collected
        .map_err(|err| ProxyError::Upstream(err.to_string()))?
        .to_bytes())
}

/// S3's throttling reply (HEAD replies carry no body, as S3's don't).
fn s3_slow_down(is_head: bool) -> Response<ProxyBody> {
    let body = if is_head {
        Bytes::new()
    } else {
        Bytes::from_static(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>\
              <Message>Please reduce your request rate.</Message>\
              <RequestId>FAULTPROXY</RequestId><HostId>FAULTPROXY</HostId></Error>",
        )
    };
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header(CONTENT_TYPE, "application/xml")
        .header(CONTENT_LENGTH, body.len())
        .header("x-amz-request-id", "FAULTPROXY")
        .body(ProxyBody::whole(body))
        .unwrap()
}

/// SQS's internal error in the AWS JSON 1.0 protocol, with the query-compatible
/// code header the SDK reads the error code from.
fn sqs_internal_error() -> Response<ProxyBody> {
    let body = Bytes::from_static(
        br#"{"__type":"com.amazonaws.sqs#InternalError","message":"We encountered an internal error. Please try again."}"#,
    );
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .header(CONTENT_TYPE, "application/x-amz-json-1.0")
        .header(CONTENT_LENGTH, body.len())
        .header("x-amzn-query-error", "InternalError;Receiver")
        .header("x-amzn-requestid", "FAULTPROXY")
        .body(ProxyBody::whole(body))
        .unwrap()
}

/// A body sent whole, or its first part followed by an error, which makes hyper
/// close the connection short of the `Content-Length` it announced.
struct ProxyBody {
    data: Option<Bytes>,
    cut: bool,
    announced: u64,
}

impl ProxyBody {
    fn whole(data: Bytes) -> Self {
        let announced = data.len() as u64;
        Self {
            data: Some(data),
            cut: false,
            announced,
        }
    }

    fn cut(part: Bytes, announced: usize) -> Self {
        Self {
            data: Some(part),
            cut: true,
            announced: announced as u64,
        }
    }
}

/// The error that ends a cut body.
#[derive(Debug, thiserror::Error)]
#[error("fault injected: body cut")]
struct Cut;

impl http_body::Body for ProxyBody {
    type Data = Bytes;
    type Error = Cut;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Cut>>> {
        match self.data.take() {
            Some(data) if !data.is_empty() => Poll::Ready(Some(Ok(Frame::data(data)))),
            _ if self.cut => Poll::Ready(Some(Err(Cut))),
            _ => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.cut && self.data.as_ref().is_none_or(Bytes::is_empty)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.announced)
    }
}
