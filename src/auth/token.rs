//! Access tokens (JWT, HS256 pinned on decode, short-lived) and opaque refresh tokens
//! (random, stored only as a SHA-256 hash).

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::ids::{SessionId, UserId};

/// What an access token says: who, in which session, and when. The role and unit are read
/// from the user on every request (so a change applies at once), and the session is checked
/// to be live (so logging out ends the token at once).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: UserId,
    /// Session id: the login this token belongs to.
    pub sid: SessionId,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Clock skew tolerated between replicas, in seconds.
const LEEWAY: u64 = 5;

/// The least a `JWT_SECRET` must hold.
pub const MIN_SECRET_BYTES: usize = 32;

/// The key a `JWT_SECRET` stands for: 64+ hex digits or 44+ base64 characters are decoded
/// (`openssl rand -hex 32`, `openssl rand -base64 32`); anything else is used as it is.
/// Refused when it has fewer than 32 bytes or looks guessable (`aaaa…`, a phrase repeated):
/// an HS256 key is only as strong as it is unpredictable (RFC 8725).
pub fn secret_key(text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let hex_key = hex::decode(text)
        .ok()
        .filter(|k| k.len() >= MIN_SECRET_BYTES);
    let base64_key = || {
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE,
        ];
        engines
            .iter()
            .find_map(|e| e.decode(text).ok())
            .filter(|k| k.len() >= MIN_SECRET_BYTES)
    };
    let key = hex_key
        .or_else(base64_key)
        .unwrap_or_else(|| text.as_bytes().to_vec());
    if key.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "must be at least {MIN_SECRET_BYTES} random bytes (e.g. `openssl rand -hex 32`)"
        ));
    }
    // zxcvbn estimates how many guesses the text would take, up to about 10^19 (where it
    // stops counting). Random hex or base64 reaches that cap; a repeated character, word or
    // phrase stays far below (`test-secret-test-secret-…`: 10^11). 10^16 is about 53 bits
    // of guessing before the brute force of the remaining key even starts.
    let estimate = zxcvbn::zxcvbn(text.get(..100).unwrap_or(text), &[]);
    let distinct = key.iter().collect::<std::collections::HashSet<_>>().len();
    if estimate.guesses_log10() < 16.0 || distinct < 8 {
        return Err("looks guessable: use 32+ random bytes (e.g. `openssl rand -hex 32`)".into());
    }
    Ok(key)
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// Derived from the secret, for [`TokenKeys::keyed_digest`].
    pepper: [u8; 32],
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Self {
        // One pinned algorithm (RFC 8725): a token whose header says otherwise, `none`
        // included, is rejected before its signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "nbf", "sub"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
            refresh_ttl,
            pepper: Sha256::digest([b"keyed-digest\n".as_slice(), secret].concat()).into(),
        }
    }

    /// A digest of `text` that only holders of the secret can compute: for a request
    /// fingerprint kept in the database whose body holds a password (creating a user), so
    /// that the stored fingerprint cannot be used to guess the password offline.
    pub fn keyed_digest(&self, text: &str) -> String {
        hex::encode(Sha256::digest(
            [self.pepper.as_slice(), text.as_bytes()].concat(),
        ))
    }

    fn ttl_secs(&self) -> i64 {
        i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX / 2)
    }

    pub fn issue(&self, user_id: UserId, session: SessionId) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            sid: session,
            iat: now,
            nbf: now,
            exp: now + self.ttl_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("token encoding failed: {e}")))
    }

    /// Checks the signature, expiry and not-before, and that the token was not issued in
    /// the future nor for longer than this server issues tokens for.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        use jsonwebtoken::errors::ErrorKind;
        let invalid = || {
            AppError::unauthenticated(
                crate::error::Code::InvalidToken,
                "the access token is not valid",
            )
        };
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AppError::unauthenticated(
                    crate::error::Code::TokenExpired,
                    "the access token has expired",
                ),
                _ => invalid(),
            })?;
        let now = chrono::Utc::now().timestamp();
        let leeway = LEEWAY as i64;
        if claims.iat > now + leeway || claims.exp - claims.iat > self.ttl_secs() {
            return Err(invalid());
        }
        Ok(claims)
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

/// A random key for when `JWT_SECRET` is unset.
pub fn random_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, nbf: i64, exp: i64) -> Claims {
        Claims {
            sub: UserId::new(),
            sid: SessionId::new(),
            iat,
            nbf,
            exp,
        }
    }

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
        let (user, session) = (UserId::new(), SessionId::new());
        let token = k.issue(user, session).unwrap();
        let claims = k.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, session));
        assert_eq!(claims.exp - claims.iat, 900);
        assert_eq!(claims.nbf, claims.iat);
    }

    #[test]
    fn rejects_wrong_key_tampering_and_alg_none() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let other = keys("ffffffffffffffffffffffffffffffff");
        let (user, session) = (UserId::new(), SessionId::new());
        let token = other.issue(user, session).unwrap();
        assert_eq!(k.verify(&token).unwrap_err().code(), "invalid_token");

        let good = k.issue(user, session).unwrap();
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        let now = chrono::Utc::now().timestamp();
        let forged = format!(
            r#"{{"sub":"{}","sid":"{session}","iat":{now},"nbf":{now},"exp":{}}}"#,
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
    fn rejects_expired_early_future_and_overlong_tokens() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let now = chrono::Utc::now().timestamp();
        let sign = |c: &Claims| {
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), c, &k.encoding).unwrap()
        };
        let code = |c: Claims| {
            k.verify(&sign(&c))
                .map(|_| ())
                .map_err(|e| e.code().as_str())
        };
        assert_eq!(code(claims(now, now, now + 900)), Ok(()));
        assert_eq!(
            code(claims(now - 1000, now - 1000, now - 100)),
            Err("token_expired")
        );
        // Not yet valid.
        assert_eq!(
            code(claims(now, now + 600, now + 900)),
            Err("invalid_token")
        );
        // Issued in the future.
        assert_eq!(
            code(claims(now + 600, now, now + 900)),
            Err("invalid_token")
        );
        // Valid for longer than this server issues tokens for.
        assert_eq!(code(claims(now, now, now + 901)), Err("invalid_token"));
        assert_eq!(
            code(claims(now - 10, now, now + 86_400)),
            Err("invalid_token")
        );
    }

    #[test]
    fn secrets_must_be_long_and_random() {
        use base64::Engine;
        let random: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
        let hex_secret = hex::encode(&random);
        assert_eq!(secret_key(&hex_secret).unwrap(), random);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&random);
        assert_eq!(secret_key(&b64).unwrap(), random);
        assert!(secret_key("kW9#vT2!pL7@qZ4$mX8%nB3^cR6&yH1*dF5(").is_ok());
        for weak in [
            "a".repeat(32),
            "0".repeat(64),
            "ab".repeat(32),
            "passwordpasswordpasswordpassword".into(),
            "short-but-random-7Hq".into(),
            "test-secret-test-secret-test-secret-0123".into(),
        ] {
            assert!(secret_key(&weak).is_err(), "{weak} accepted");
        }
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
