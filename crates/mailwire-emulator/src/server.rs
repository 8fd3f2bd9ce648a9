//! The connection layer under the axum router: plain TCP or TLS, HTTP/1.1 served by hyper
//! directly so a fault can do what a router cannot: close the connection without a response,
//! or send the headers and cut the body. Every request is counted and checked for faults here,
//! and every response gets a `Date` header from the (possibly skewed) emulator clock.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Request};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::fault::{self, Firing, Route};
use crate::state::{skewed_now, Shared};
use crate::{google, microsoft, respond};

/// Returned to hyper to make it close the connection without answering.
#[derive(Debug)]
struct ConnectionDropped;

impl fmt::Display for ConnectionDropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for ConnectionDropped {}

/// Accepts connections until `shutdown` fires or its sender is dropped, then aborts the open
/// ones: clients keep pooled keep-alive connections that would otherwise hold the server up.
pub(crate) async fn run(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shared: Arc<Shared>,
    router: Router,
    mut shutdown: oneshot::Receiver<()>,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let (shared, router, acceptor) = (shared.clone(), router.clone(), acceptor.clone());
                connections.spawn(async move {
                    match acceptor {
                        None => serve_connection(stream, shared, router).await,
                        Some(acceptor) => {
                            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
                            if let Ok(Ok(stream)) = handshake.await {
                                serve_connection(stream, shared, router).await;
                            }
                        }
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn serve_connection<S>(stream: S, shared: Arc<Shared>, router: Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| handle(shared.clone(), router.clone(), request));
    // Errors here are clients going away or dropped-connection faults; nothing to report.
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn route_to(router: Router, request: Request<Incoming>) -> Response {
    match router.oneshot(request.map(Body::new)).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

async fn handle(
    shared: Arc<Shared>,
    router: Router,
    request: Request<Incoming>,
) -> Result<Response, ConnectionDropped> {
    let route = Route::classify(request.method(), request.uri().path());
    let response = match route {
        None => route_to(router, request).await,
        Some(route) => {
            // Held until the answer is ready, so injected latency counts as time in flight.
            let mailbox_key = match route {
                Route::GraphSendMail => microsoft::mailbox_key(request.uri().path(), request.headers()),
                _ => None,
            };
            let mailbox_slot = match mailbox_key.map(|key| shared.enter_mailbox(route, key)) {
                Some(None) => {
                    let throttled = microsoft::over_mailbox_concurrency(request.headers(), shared.now(route), 1);
                    return Ok(dated(&shared, Some(route), throttled));
                }
                Some(slot) => slot,
                None => None,
            };
            let (latency_ms, firing) = shared.admit(route);
            if latency_ms > 0 {
                tokio::time::sleep(Duration::from_millis(latency_ms)).await;
            }
            let now = shared.now(route);
            let response = match firing {
                None => route_to(router, request).await,
                Some(Firing::DropConnection) => return Err(ConnectionDropped),
                Some(Firing::DropMidResponse) => cut_short(route_to(router, request).await).await,
                Some(Firing::Html(status)) => {
                    respond::with_body(status, "text/html; charset=utf-8", fault::CAPTIVE_PORTAL_HTML.into(), &[])
                }
                Some(Firing::Malformed) => {
                    respond::with_body(200, "application/json; charset=utf-8", fault::malformed_body(route).into(), &[])
                }
                Some(firing) => microsoft::fault_response(route, &firing, request.headers(), now)
                    .or_else(|| google::fault_response(route, &firing, now))
                    .unwrap_or_else(|| respond::empty(500, &[])),
            };
            // Given back here, while no lock is held: the slot takes the state lock to leave.
            drop(mailbox_slot);
            response
        }
    };
    Ok(dated(&shared, route, response))
}

/// Every answer carries a `Date`, as the real services' do; Google clients read the clock from it.
fn dated(shared: &Shared, route: Option<Route>, mut response: Response) -> Response {
    let date = httpdate::fmt_http_date(skewed_now(shared.skew_secs(route)).into());
    if let Ok(value) = HeaderValue::from_str(&date) {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}

/// Sends the status line, the headers and half the body, then breaks the connection. The
/// request was fully processed, as when a real response is lost on the way back.
async fn cut_short(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let claimed = bytes.len().max(2);
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.insert(header::CONTENT_LENGTH, claimed.into());
    let stream = futures_util::stream::unfold(0u8, move |step| {
        let half = half.clone();
        async move {
            match step {
                0 => Some((Ok::<Bytes, io::Error>(half), 1)),
                1 => {
                    // Give hyper time to flush the head and the partial body first.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let error =
                        io::Error::new(io::ErrorKind::ConnectionAborted, "response cut short by fault injection");
                    Some((Err(error), 2))
                }
                _ => None,
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(stream))
}
