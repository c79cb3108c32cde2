//! Per-address and per-session rate limits (a GCRA per key, from `governor`), answered with
//! 429 and `Retry-After`.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use chat_core::accounts::TokenHash;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimits;
use crate::error::ApiError;

/// Forget idle keys every this many checks, so the limiters do not grow without bound.
const HOUSEKEEPING_EVERY: u64 = 4096;

/// One keyed limiter per limited action.
pub struct Limiters {
    sessions: Option<DefaultKeyedRateLimiter<IpAddr>>,
    conversations: Option<DefaultKeyedRateLimiter<TokenHash>>,
    messages: Option<DefaultKeyedRateLimiter<TokenHash>>,
    uploads: Option<DefaultKeyedRateLimiter<TokenHash>>,
    checks: AtomicU64,
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiters").finish_non_exhaustive()
    }
}

impl Limiters {
    /// Limiters for `limits`; a limit of zero means unlimited.
    pub fn new(limits: &RateLimits) -> Self {
        Self {
            sessions: per_minute(limits.sessions_per_ip),
            conversations: per_minute(limits.conversations_per_session),
            messages: per_minute(limits.messages_per_session),
            uploads: per_minute(limits.uploads_per_session),
            checks: AtomicU64::new(0),
        }
    }

    /// A new visitor session or a login from `ip`.
    pub fn session(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.check("sessions", self.sessions.as_ref(), ip)
    }

    /// A new conversation in session `token`.
    pub fn conversation(&self, token: TokenHash) -> Result<(), ApiError> {
        self.check("conversations", self.conversations.as_ref(), token)
    }

    /// A message sent in session `token`.
    pub fn message(&self, token: TokenHash) -> Result<(), ApiError> {
        self.check("messages", self.messages.as_ref(), token)
    }

    /// An upload in session `token`.
    pub fn upload(&self, token: TokenHash) -> Result<(), ApiError> {
        self.check("uploads", self.uploads.as_ref(), token)
    }

    fn check<K: Hash + Eq + Clone>(
        &self,
        name: &'static str,
        limiter: Option<&DefaultKeyedRateLimiter<K>>,
        key: K,
    ) -> Result<(), ApiError> {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % HOUSEKEEPING_EVERY
            == HOUSEKEEPING_EVERY - 1
        {
            limiter.retain_recent();
        }
        limiter.check_key(&key).map_err(|not_until| {
            crate::metrics::rate_limited(name);
            ApiError::RateLimited(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }
}

fn per_minute<K: Hash + Eq + Clone>(count: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(count).map(|count| RateLimiter::keyed(Quota::per_minute(count)))
}
