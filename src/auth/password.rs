//! Passwords: argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane), the
//! rules a new password must meet, and the gate that bounds how many are hashed at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::error::{AppError, AppResult};

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

fn hasher() -> Argon2<'static> {
    // The parameters are constants that argon2 accepts; a failure here is a programming error.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, AppError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("password hashing failed: {e}")))
}

/// True when `password` matches `hash`. A malformed stored hash never matches.
pub fn verify(password: &str, hash: &str) -> bool {
    hasher().verify_password(password.as_bytes(), hash).is_ok()
}

/// Spends the same time as a real verification, so a login for an unknown username does
/// not answer faster than one with a wrong password.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("dummy-password-for-timing").unwrap_or_default());
    let _ = verify(password, dummy);
}

/// Length rules (counted in characters, so Chinese passphrases count fairly).
pub fn check_length(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    if password.trim().is_empty() {
        return Err("must not be only whitespace".into());
    }
    Ok(())
}

/// Everything a new password must meet: the length rules, not the username (nor built
/// on it), and not common or guessable — zxcvbn's estimate must reach score 3 (about
/// 10^8 guesses or more), which refuses dictionary words, keyboard walks, repeats and
/// dates with trimmings, and accepts passphrases.
pub fn check_strength(password: &str, username: &str) -> Result<(), String> {
    check_length(password)?;
    if password.to_lowercase().contains(&username.to_lowercase()) && !username.is_empty() {
        return Err("must not contain the username".into());
    }
    let estimate = zxcvbn::zxcvbn(password, &[username]);
    if u8::from(estimate.score()) < 3 {
        let hint = estimate
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        return Err(format!(
            "is too common or too easy to guess{hint}; a few unrelated words make a good one"
        ));
    }
    Ok(())
}

/// Bounds the password hashing the server does at once. argon2 takes 19 MiB and tens of
/// milliseconds of a core per hash; unbounded, a flood of logins ran a hundred at once and
/// took the process to 1.9 GB. A few run at a time (one per core by default), a few more
/// wait their turn, and beyond that the answer is 503 with `Retry-After` at once.
#[derive(Clone)]
pub struct HashGate {
    running: Arc<tokio::sync::Semaphore>,
    /// Hashes running or waiting.
    queued: Arc<AtomicUsize>,
    capacity: usize,
}

/// Waiting hashes allowed per running one.
const QUEUE_PER_SLOT: usize = 4;

/// One place in a [`HashGate`]'s queue; leaving it (dropping) frees the place.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashGate {
    pub fn new(concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        HashGate {
            running: Arc::new(tokio::sync::Semaphore::new(concurrency)),
            queued: Arc::new(AtomicUsize::new(0)),
            capacity: concurrency * (1 + QUEUE_PER_SLOT),
        }
    }

    /// Runs `work` (hashing or verifying) on the blocking pool when its turn comes, or
    /// answers 503 at once when the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let place = Place(self.queued.clone());
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.capacity {
            drop(place);
            tracing::warn!(target: "security", event = "hashing_overloaded", "password hashing queue full; answered 503");
            return Err(AppError::Overloaded {
                retry_after_secs: 1,
            });
        }
        let _turn = self
            .running
            .acquire()
            .await
            .map_err(|_| AppError::internal("the hashing gate is closed"))?;
        let result = actix_web::web::block(work)
            .await
            .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?;
        drop(place);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_argon2id_and_verifies() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterx", &h));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn length_counts_characters() {
        assert!(check_length("short").is_err());
        assert!(check_length("创建全国文明城市攻坚战").is_ok());
        assert!(check_length(&"x".repeat(129)).is_err());
        assert!(check_length("          ").is_err());
    }

    #[test]
    fn common_guessable_and_username_passwords_are_refused() {
        for (password, username) in [
            ("password123", "x"),
            ("1234567890", "x"),
            ("qwertyuiop", "x"),
            ("Password2020!", "x"),
            ("wangge01-2020", "wangge01"),
            ("ld_zhang_1985", "LD_ZHANG"),
            ("aaaaaaaaaaaa", "x"),
        ] {
            assert!(
                check_strength(password, username).is_err(),
                "{password} accepted"
            );
        }
        for (password, username) in [
            ("correct horse battery staple", "x"),
            ("七里河节制闸防汛物资", "wangge01"),
            ("Malinggang-town-2020", "officer"),
            ("fixture-password-1", "admin"),
        ] {
            assert!(
                check_strength(password, username).is_ok(),
                "{password} refused"
            );
        }
    }

    #[actix_web::test]
    async fn the_gate_refuses_beyond_its_queue() {
        let gate = HashGate::new(1);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
        let mut running = Vec::new();
        // One runs and four wait: the gate's capacity for one slot.
        for _ in 0..5 {
            let gate = gate.clone();
            let wait = wait.clone();
            running.push(actix_web::rt::spawn(async move {
                gate.run(move || {
                    let _ = wait.lock().unwrap().recv();
                    Ok(())
                })
                .await
            }));
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        let refused = gate.run(|| Ok(())).await.unwrap_err();
        assert_eq!(refused.code(), "overloaded");
        for _ in 0..5 {
            release.send(()).unwrap();
        }
        for task in running {
            assert!(task.await.unwrap().is_ok());
        }
        assert!(
            gate.run(|| Ok(())).await.is_ok(),
            "room again once they finished"
        );
    }
}
