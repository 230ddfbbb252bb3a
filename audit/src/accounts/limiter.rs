//! Log-in attempts are limited per client address and per e-mail address, in this process.
//! (Several instances each keep their own count; see the closing note of issue 2.)
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct LoginLimiter {
    max_attempts: u32,
    window: Duration,
    attempts: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    pub fn new(max_attempts: u32, window: Duration) -> Self {
        Self {
            max_attempts,
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Whether any key is over its limit of failed attempts; if so, the seconds to wait.
    /// Only failures count, so people behind one shared address who type their password right
    /// are never locked out by each other.
    pub fn check(&self, keys: &[String]) -> Result<(), u64> {
        let now = Instant::now();
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0u64;
        for key in keys {
            if let Some(times) = attempts.get_mut(key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() as u32 >= self.max_attempts {
                    let oldest = times.first().copied().unwrap_or(now);
                    let left = self.window.saturating_sub(now.duration_since(oldest));
                    wait = wait.max(left.as_secs().max(1));
                }
            }
        }
        if wait > 0 {
            Err(wait)
        } else {
            Ok(())
        }
    }

    /// Counts one failed attempt against each key.
    pub fn record_failure(&self, keys: &[String]) {
        let now = Instant::now();
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        // Forget old entries so the map cannot grow without bound.
        if attempts.len() > 10_000 {
            attempts.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < self.window));
        }
        for key in keys {
            attempts.entry(key.clone()).or_default().push(now);
        }
    }

    /// A successful log-in clears the count for its e-mail address.
    pub fn forget(&self, key: &str) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        attempts.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_max_failures_and_says_how_long_to_wait() {
        let limiter = LoginLimiter::new(2, Duration::from_secs(60));
        let keys = vec!["email:a@b.co".to_owned()];
        assert!(limiter.check(&keys).is_ok());
        limiter.record_failure(&keys);
        assert!(limiter.check(&keys).is_ok());
        limiter.record_failure(&keys);
        let wait = limiter.check(&keys).expect_err("third attempt is limited");
        assert!((1..=60).contains(&wait));
        limiter.forget("email:a@b.co");
        assert!(limiter.check(&keys).is_ok());
    }
}
