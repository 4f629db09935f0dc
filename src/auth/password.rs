//! Password hashing with argon2id at OWASP's parameters (m = 19 MiB, t = 2, p = 1),
//! stored as PHC strings. Hashing runs on the blocking pool, and a semaphore keeps it
//! to part of the machine so that a burst of sign-ins cannot starve other requests.
use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OnceCell, Semaphore};

use crate::error::{AppError, AppResult};

pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash verified when the login is unknown, so that unknown and known logins
    /// cost the same time (no account enumeration by timing).
    dummy: Arc<OnceCell<String>>,
}

fn argon2() -> AppResult<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| AppError::internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("argon2 hash: {e}")))
}

fn verify_blocking(password: &str, phc: &str) -> AppResult<bool> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| AppError::internal(format!("stored hash unreadable: {e}")))?;
    // The parameters come from the PHC string, so older hashes still verify.
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

impl Default for PasswordHasher {
    fn default() -> Self {
        PasswordHasher::new()
    }
}

impl PasswordHasher {
    /// At most cores - 1 (and at least one) hashes run at once.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        PasswordHasher {
            permits: Arc::new(Semaphore::new(cores.saturating_sub(1).max(1))),
            dummy: Arc::new(OnceCell::new()),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::internal("password hasher closed"))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| AppError::internal(format!("hashing task failed: {e}")))?
    }

    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let password = password.to_owned();
        self.run(move || hash_blocking(&password)).await
    }

    /// Verifies against `stored`, or against a dummy hash when there is none.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> AppResult<bool> {
        let (phc, real) = match stored {
            Some(phc) => (phc.to_owned(), true),
            None => {
                let dummy = self
                    .dummy
                    .get_or_try_init(|| async { self.hash("dummy password for timing").await })
                    .await?;
                (dummy.clone(), false)
            }
        };
        let password = password.to_owned();
        let matches = self.run(move || verify_blocking(&password, &phc)).await?;
        Ok(real && matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_with_owasp_parameters() {
        let hasher = PasswordHasher::new();
        let phc = hasher.hash("Heshun-Demo-2025").await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher
            .verify("Heshun-Demo-2025", Some(&phc))
            .await
            .expect("verify"));
        assert!(!hasher
            .verify("heshun-demo-2025", Some(&phc))
            .await
            .expect("verify"));
        let again = hasher.hash("Heshun-Demo-2025").await.expect("hash");
        assert_ne!(phc, again, "salted");
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        let hasher = PasswordHasher::new();
        assert!(!hasher
            .verify("dummy password for timing", None)
            .await
            .expect("verify"));
    }
}
