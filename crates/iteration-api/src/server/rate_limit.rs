//! Rate limits per ten-second window: one budget for the whole account
//! (global: every token, every route), one per route (shared by every
//! caller), one per token (shared by every route), and one per client
//! address for requests whose token is refused (401), so that tokens cannot
//! be guessed at full speed.
//!
//! Windows are fixed and aligned to the epoch (`[0, 10 s)`, `[10 s, 20 s)`,
//! ...), so `X-Ratelimit-Reset` is the same instant for every caller and a
//! client can sleep until it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use http::HeaderValue;
use http::header::HeaderName;
use iteration_model::UnixMillis;

/// The length of a rate-limit window.
pub const WINDOW_MILLIS: i64 = 10_000;

/// How many requests each window allows; `None` turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests per window per route, across all callers.
    pub route: Option<u32>,
    /// Requests per window per token, across all routes.
    pub token: Option<u32>,
    /// Requests per window across all tokens and routes (the account's
    /// global limit).
    pub global: Option<u32>,
    /// Refused tokens (401s) per window per client address; past it, every
    /// request from that address answers 429 until the window resets.
    pub unauthenticated: Option<u32>,
}

impl RateLimits {
    /// No limits.
    pub const OFF: RateLimits = RateLimits { route: None, token: None, global: None, unauthenticated: None };
}

impl Default for RateLimits {
    /// Every ten seconds: 300 requests per route, 150 per token, 600 in
    /// all, and 20 refused tokens per client address.
    fn default() -> Self {
        RateLimits { route: Some(300), token: Some(150), global: Some(600), unauthenticated: Some(20) }
    }
}

/// One limit's state after a request was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) reset: UnixMillis,
    pub(crate) exceeded: bool,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Decision {
    pub(crate) route: Option<Budget>,
    pub(crate) token: Option<Budget>,
    pub(crate) global: Option<Budget>,
}

impl Decision {
    pub(crate) fn exceeded(&self) -> bool {
        [self.route, self.token, self.global].iter().flatten().any(|b| b.exceeded)
    }

    /// Whole seconds until the window resets, at least 1.
    pub(crate) fn retry_after_seconds(&self, now: UnixMillis) -> i64 {
        let reset = [self.route, self.token, self.global]
            .iter()
            .flatten()
            .filter(|b| b.exceeded)
            .map(|b| b.reset.get())
            .max();
        reset.map_or(1, |reset| retry_after(reset, now))
    }

    /// The `X-Ratelimit-*` headers every response of a limited route carries.
    pub(crate) fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = Vec::new();
        if let Some(b) = self.route {
            headers.push((HeaderName::from_static("x-ratelimit-route-limit"), HeaderValue::from(b.limit)));
            headers.push((
                HeaderName::from_static("x-ratelimit-route-remaining"),
                HeaderValue::from(b.remaining),
            ));
            headers.push((HeaderName::from_static("x-ratelimit-reset"), HeaderValue::from(b.reset.get())));
        }
        if let Some(b) = self.token {
            headers
                .push((HeaderName::from_static("x-ratelimit-auth-token-limit"), HeaderValue::from(b.limit)));
            headers.push((
                HeaderName::from_static("x-ratelimit-auth-token-remaining"),
                HeaderValue::from(b.remaining),
            ));
            headers.push((
                HeaderName::from_static("x-ratelimit-auth-token-reset"),
                HeaderValue::from(b.reset.get()),
            ));
        }
        if let Some(b) = self.global {
            headers.push((HeaderName::from_static("x-ratelimit-global-limit"), HeaderValue::from(b.limit)));
            headers.push((
                HeaderName::from_static("x-ratelimit-global-remaining"),
                HeaderValue::from(b.remaining),
            ));
            if self.route.is_none() {
                headers
                    .push((HeaderName::from_static("x-ratelimit-reset"), HeaderValue::from(b.reset.get())));
            }
        }
        headers
    }
}

/// Whole seconds from `now` until `reset`, at least 1.
fn retry_after(reset: i64, now: UnixMillis) -> i64 {
    ((reset - now.get() + 999) / 1000).max(1)
}

/// Counts requests per window.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limits: RateLimits,
    counters: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    window_start: i64,
    routes: HashMap<&'static str, u32>,
    tokens: HashMap<String, u32>,
    global: u32,
    /// Refused tokens per client address.
    refused: HashMap<IpAddr, u32>,
}

impl RateLimiter {
    pub(crate) fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter { limits, counters: Mutex::new(Counters::default()) }
    }

    /// Counts one request of `route` by `token` at `now`. A refused request
    /// still counts: a caller that keeps trying does not get through sooner.
    pub(crate) fn check(&self, route: &'static str, token: &str, now: UnixMillis) -> Decision {
        if (RateLimits { unauthenticated: None, ..self.limits }) == RateLimits::OFF {
            return Decision::default();
        }
        let (window_start, mut counters) = self.window(now);
        let reset = UnixMillis(window_start + WINDOW_MILLIS);
        let budget = |limit: u32, count: &mut u32| {
            *count = count.saturating_add(1);
            Budget { limit, remaining: limit.saturating_sub(*count), reset, exceeded: *count > limit }
        };
        let route_budget =
            self.limits.route.map(|limit| budget(limit, counters.routes.entry(route).or_default()));
        let token_budget = self
            .limits
            .token
            .map(|limit| budget(limit, counters.tokens.entry(token.to_owned()).or_default()));
        let global_budget = self.limits.global.map(|limit| budget(limit, &mut counters.global));
        Decision { route: route_budget, token: token_budget, global: global_budget }
    }

    /// When `address` has used up its budget of refused tokens in this
    /// window, the whole seconds until it may try again.
    pub(crate) fn address_blocked(&self, address: IpAddr, now: UnixMillis) -> Option<i64> {
        let limit = self.limits.unauthenticated?;
        let (window_start, counters) = self.window(now);
        let refused = counters.refused.get(&address).copied().unwrap_or(0);
        (refused >= limit).then(|| retry_after(window_start + WINDOW_MILLIS, now))
    }

    /// Counts a refused token from `address`.
    pub(crate) fn count_refused(&self, address: IpAddr, now: UnixMillis) {
        if self.limits.unauthenticated.is_none() {
            return;
        }
        let (_, mut counters) = self.window(now);
        let refused = counters.refused.entry(address).or_default();
        *refused = refused.saturating_add(1);
    }

    /// The counters of the window `now` is in, reset when it is a new one.
    fn window(&self, now: UnixMillis) -> (i64, std::sync::MutexGuard<'_, Counters>) {
        let window_start = now.get().div_euclid(WINDOW_MILLIS) * WINDOW_MILLIS;
        // Counters are plain integers; a panic elsewhere cannot leave them inconsistent.
        let mut counters = self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if counters.window_start != window_start {
            *counters = Counters { window_start, ..Counters::default() };
        }
        (window_start, counters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_after_the_limit_is_refused_until_the_window_resets() {
        let limiter = RateLimiter::new(RateLimits { route: Some(2), ..RateLimits::OFF });
        let now = UnixMillis(1_700_000_003_500);
        let first = limiter.check("createIteration", "t", now);
        assert_eq!(first.route.map(|b| (b.remaining, b.reset)), Some((1, UnixMillis(1_700_000_010_000))));
        assert!(!limiter.check("createIteration", "t", now).exceeded());
        let third = limiter.check("createIteration", "t", now);
        assert!(third.exceeded());
        assert_eq!(third.retry_after_seconds(now), 7);
        assert!(!limiter.check("getExperiment", "t", now).exceeded());
        assert!(!limiter.check("createIteration", "t", UnixMillis(1_700_000_010_000)).exceeded());
    }

    #[test]
    fn tokens_have_their_own_budget_across_routes() {
        let limiter = RateLimiter::new(RateLimits { token: Some(1), ..RateLimits::OFF });
        let now = UnixMillis(20_000);
        assert!(!limiter.check("a", "t1", now).exceeded());
        assert!(limiter.check("b", "t1", now).exceeded());
        assert!(!limiter.check("a", "t2", now).exceeded());
    }

    #[test]
    fn the_global_budget_is_shared_by_every_token_and_route() {
        let limiter = RateLimiter::new(RateLimits { global: Some(2), ..RateLimits::OFF });
        let now = UnixMillis(20_000);
        assert!(!limiter.check("a", "t1", now).exceeded());
        let second = limiter.check("b", "t2", now);
        assert_eq!(second.global.map(|b| (b.limit, b.remaining)), Some((2, 0)));
        assert!(!second.exceeded());
        assert!(limiter.check("c", "t3", now).exceeded());
        let names: Vec<_> = second.headers().into_iter().map(|(name, _)| name.to_string()).collect();
        assert_eq!(names, ["x-ratelimit-global-limit", "x-ratelimit-global-remaining", "x-ratelimit-reset"]);
    }

    #[test]
    fn an_address_is_blocked_after_its_refused_tokens_until_the_window_resets() {
        let limiter = RateLimiter::new(RateLimits { unauthenticated: Some(2), ..RateLimits::OFF });
        let (one, two) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let now = UnixMillis(20_500);
        limiter.count_refused(one, now);
        assert_eq!(limiter.address_blocked(one, now), None);
        limiter.count_refused(one, now);
        assert_eq!(limiter.address_blocked(one, now), Some(10));
        assert_eq!(limiter.address_blocked(two, now), None);
        assert_eq!(limiter.address_blocked(one, UnixMillis(30_000)), None);
    }

    #[test]
    fn off_counts_nothing_and_sends_no_headers() {
        let limiter = RateLimiter::new(RateLimits::OFF);
        let decision = limiter.check("a", "t", UnixMillis(0));
        assert!(!decision.exceeded());
        assert!(decision.headers().is_empty());
    }
}
