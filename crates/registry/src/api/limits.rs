//! Per-caller rate limit: a token bucket per actor id, in memory.
//!
//! In memory is enough for one server process; behind a load balancer each instance limits on
//! its own, which still bounds what one identity can do. Buckets of callers idle for a while are
//! dropped so the map cannot grow without bound.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::problem::{Problem, ProblemKind};

/// Most callers tracked at once; beyond this, idle buckets are swept.
const MAX_TRACKED: usize = 50_000;

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    burst: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The caller is over their limit.
#[derive(Debug)]
pub struct Limited {
    retry_after: Duration,
}

impl IntoResponse for Limited {
    fn into_response(self) -> Response {
        let seconds = self.retry_after.as_secs().max(1);
        let mut response = Problem::new(
            ProblemKind::RateLimited,
            format!("Too many requests from your account. Wait {seconds} s and try again."),
        )
        .into_response();
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl RateLimiter {
    /// `per_minute` sustained requests with bursts of up to `burst`; 0 turns the limit off.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        RateLimiter {
            per_minute,
            burst: burst.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one token for `caller`.
    pub fn check(&self, caller: &str) -> Result<(), Limited> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let rate = f64::from(self.per_minute) / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let burst = f64::from(self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(caller.to_owned()).or_insert(Bucket {
            tokens: f64::from(self.burst),
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(f64::from(self.burst));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Limited {
                retry_after: Duration::from_secs_f64((1.0 - bucket.tokens) / rate),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_per_caller() {
        let limiter = RateLimiter::new(60, 3);
        for _ in 0..3 {
            limiter.check("citizen:a").unwrap();
        }
        let limited = limiter.check("citizen:a").unwrap_err();
        assert!(limited.retry_after <= Duration::from_secs(1));
        limiter.check("citizen:b").unwrap();
        let response = limited.into_response();
        assert_eq!(response.status(), 429);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = RateLimiter::new(0, 0);
        for _ in 0..10_000 {
            limiter.check("x").unwrap();
        }
    }
}
