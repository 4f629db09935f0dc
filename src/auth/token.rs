//! Access tokens: short-lived, HMAC-SHA256 signed (`v1.<claims>.<signature>`, both
//! base64url). Refresh tokens: 256 random bits, stored only as their SHA-256.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// auth_session row the token belongs to.
    pub sid: i64,
    /// account id
    pub sub: i64,
    /// expiry, seconds since the epoch
    pub exp: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    secret: Vec<u8>,
}

const PREFIX: &str = "v1";

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        TokenKeys {
            secret: secret.to_vec(),
        }
    }

    /// A random secret for a single process (development and tests).
    pub fn random() -> Self {
        let mut secret = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        TokenKeys { secret }
    }

    fn mac(&self, data: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; this cannot fail.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!());
        mac.update(data);
        mac
    }

    pub fn issue(&self, claims: &AccessClaims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signed = format!("{PREFIX}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(self.mac(signed.as_bytes()).finalize().into_bytes());
        format!("{signed}.{signature}")
    }

    /// Checks the signature, then the expiry against `now` (seconds since the epoch).
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, AppError> {
        let invalid =
            || AppError::unauthenticated("TOKEN_INVALID", "访问令牌无效 (invalid access token)");
        let mut parts = token.trim().split('.');
        let (Some(prefix), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        if prefix != PREFIX {
            return Err(invalid());
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid())?;
        self.mac(format!("{prefix}.{payload}").as_bytes())
            .verify_slice(&signature)
            .map_err(|_| invalid())?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let claims: AccessClaims = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if claims.exp <= now {
            return Err(AppError::unauthenticated(
                "TOKEN_EXPIRED",
                "访问令牌已过期 (access token expired; refresh the session)",
            ));
        }
        Ok(claims)
    }
}

pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLAIMS: AccessClaims = AccessClaims {
        sid: 7,
        sub: 3,
        exp: 1_000,
    };

    #[test]
    fn tokens_verify_until_they_expire() {
        let keys = TokenKeys::new(b"a test secret of enough length!!");
        let token = keys.issue(&CLAIMS);
        assert_eq!(keys.verify(&token, 999), Ok(CLAIMS));
        let expired = keys.verify(&token, 1_000).expect_err("expired");
        assert!(matches!(
            expired,
            AppError::Unauthenticated {
                reason: "TOKEN_EXPIRED",
                ..
            }
        ));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_invalid() {
        let keys = TokenKeys::new(b"a test secret of enough length!!");
        let token = keys.issue(&CLAIMS);
        let other = TokenKeys::new(b"another secret of enough length!").issue(&CLAIMS);
        let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"sid":7,"sub":1,"exp":9999999999}"#);
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = &forged_payload;
        let forged = parts.join(".");
        for bad in [
            other.as_str(),
            forged.as_str(),
            "v1.x",
            "",
            "v2.a.b",
            &format!("{token}.x"),
        ] {
            let err = keys.verify(bad, 0).expect_err(bad);
            assert!(
                matches!(
                    err,
                    AppError::Unauthenticated {
                        reason: "TOKEN_INVALID",
                        ..
                    }
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        let b = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
