//! Rate limiting per client: a token bucket per client address (the peer's IP; requests
//! without a peer address, as in tests without a socket, share one bucket). A client over
//! its rate gets 429 with `Retry-After`, logins included, so guessing passwords is slow.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{ApiError, AppState};

/// How fast each client may call.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Requests per second a client may make on average (0: no limit).
    pub per_second: f64,
    /// Requests a client may make at once after being idle.
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_second: 100.0,
            burst: 400.0,
        }
    }
}

/// The buckets, by client.
pub(crate) struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<Option<IpAddr>, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets idle this long are full again and are forgotten.
const FORGET_AFTER_SECS: f64 = 600.0;

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Limiter {
        Limiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `client`; when none is left, the seconds until one is.
    fn take(&self, client: Option<IpAddr>) -> Result<(), f64> {
        let RateLimit { per_second, burst } = self.limit;
        if per_second <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| now.duration_since(b.at).as_secs_f64() < FORGET_AFTER_SECS);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - bucket.tokens) / per_second)
        }
    }
}

/// The middleware: 429 with `Retry-After` (whole seconds, at least 1) over the limit.
pub(crate) async fn rate_limit(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // Probes of health and readiness are never refused.
    if matches!(request.uri().path(), "/healthz" | "/readyz") {
        return next.run(request).await;
    }
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    match state.inner.limiter.take(client) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            state
                .inner
                .metrics
                .rate_limited
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut response =
                ApiError::too_many("too many requests from this client; slow down").into_response();
            let seconds = wait.ceil().max(1.0) as u64;
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_waits_and_others_are_not_affected() {
        let limiter = Limiter::new(RateLimit {
            per_second: 1.0,
            burst: 3.0,
        });
        let a = Some(IpAddr::from([192, 0, 2, 1]));
        let b = Some(IpAddr::from([192, 0, 2, 2]));
        for _ in 0..3 {
            assert!(limiter.take(a).is_ok());
        }
        let wait = limiter.take(a).unwrap_err();
        assert!(wait > 0.0 && wait <= 1.0, "{wait}");
        assert!(limiter.take(b).is_ok());
        let off = Limiter::new(RateLimit {
            per_second: 0.0,
            burst: 0.0,
        });
        for _ in 0..1000 {
            assert!(off.take(a).is_ok());
        }
    }
}
