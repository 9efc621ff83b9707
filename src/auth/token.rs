//! Access tokens (JWT, HS256 pinned on decode, short-lived) and opaque refresh tokens
//! (random, stored only as a SHA-256 hash).

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::ids::UserId;

/// What an access token says. Only who it is and when: the role and unit are read from the
/// user on every request (so a change applies at once), not trusted from the token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: UserId,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Self {
        // One pinned algorithm (RFC 8725): a token whose header says otherwise, `none`
        // included, is rejected before its signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
            refresh_ttl,
        }
    }

    pub fn issue(&self, user_id: UserId) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            iat: now,
            exp: now + i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX / 2),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("token encoding failed: {e}")))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        use jsonwebtoken::errors::ErrorKind;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => {
                    AppError::unauthenticated("token_expired", "the access token has expired")
                }
                _ => AppError::unauthenticated("invalid_token", "the access token is not valid"),
            })
    }
}

/// A new refresh token: 256 random bits, hex encoded.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What is stored for a refresh token: its SHA-256. The token has full entropy, so a fast
/// hash is enough (no password stretching needed).
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random secret for when `JWT_SECRET` is unset.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(
            secret.as_bytes(),
            Duration::from_secs(900),
            Duration::from_secs(3600),
        )
    }

    fn b64(data: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
    }

    #[test]
    fn round_trips_claims() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let user = UserId::new();
        let token = k.issue(user).unwrap();
        let claims = k.verify(&token).unwrap();
        assert_eq!(claims.sub, user);
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn rejects_wrong_key_tampering_and_alg_none() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let other = keys("ffffffffffffffffffffffffffffffff");
        let user = UserId::new();
        let token = other.issue(user).unwrap();
        assert_eq!(k.verify(&token).unwrap_err().code(), "invalid_token");

        let good = k.issue(user).unwrap();
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        let now = chrono::Utc::now().timestamp();
        let forged = format!(
            r#"{{"sub":"{}","iat":{now},"exp":{}}}"#,
            UserId::new(),
            now + 900
        );
        parts[1] = b64(forged.as_bytes());
        assert_eq!(
            k.verify(&parts.join(".")).unwrap_err().code(),
            "invalid_token"
        );

        let none = format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT"}"#),
            b64(forged.as_bytes())
        );
        assert_eq!(k.verify(&none).unwrap_err().code(), "invalid_token");
    }

    #[test]
    fn rejects_expired() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: UserId::new(),
            iat: now - 1000,
            exp: now - 100,
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &k.encoding).unwrap();
        assert_eq!(k.verify(&token).unwrap_err().code(), "token_expired");
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_refresh_token());
        assert_eq!(hash_refresh_token(&a), hash_refresh_token(&a));
        assert_ne!(hash_refresh_token(&a), a);
    }
}
