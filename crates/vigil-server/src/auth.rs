//! Who is calling and what they may do: roles, argon2 password hashes, short-lived JWT
//! access tokens with refresh tokens, and API keys for machines (`vk_<id>.<secret>`, only a
//! SHA-256 of the secret is stored).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// A role; each includes the rights of the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads incidents, detections, rules, coverage and reports.
    Viewer,
    /// Also works incidents (status, assignee, notes), rules and suppressions, and runs
    /// hunts.
    Analyst,
    /// Also manages users and API keys and reads the audit log.
    Admin,
}

impl Role {
    /// The role called `name`.
    pub fn parse(name: &str) -> Result<Role, ApiError> {
        match name {
            "viewer" => Ok(Role::Viewer),
            "analyst" => Ok(Role::Analyst),
            "admin" => Ok(Role::Admin),
            other => Err(ApiError::bad_request(format!(
                "unknown role {other:?}; roles: admin, analyst, viewer"
            ))),
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

/// The caller of a request, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user name, or `key:<id>` for an API key.
    pub actor: String,
    /// What it may do.
    pub role: Role,
}

impl Principal {
    /// Refuses the request unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {} role; {} has {}",
                role.as_str(),
                self.actor,
                self.role.as_str()
            )))
        }
    }
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches the stored PHC `hash`.
pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Passwords have at least this many characters.
const MIN_PASSWORD_CHARS: usize = 12;

/// Refuses a password shorter than the policy allows.
pub(crate) fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_request(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes as lowercase hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The stored form of an API key's secret.
pub(crate) fn secret_hash(secret: &str) -> String {
    format!("sha256:{}", hex(&Sha256::digest(secret.as_bytes())))
}

/// Compares two strings in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A new API key: (public id, the full key to hand out once, the secret's hash to store).
pub(crate) fn new_api_key() -> (String, String, String) {
    let id = format!("vk_{}", random_hex(6));
    let secret = random_hex(24);
    let hash = secret_hash(&secret);
    (id.clone(), format!("{id}.{secret}"), hash)
}

/// Splits `vk_<id>.<secret>` and checks the secret against `stored_hash`.
pub(crate) fn api_key_matches(secret: &str, stored_hash: &str) -> bool {
    same(&secret_hash(secret), stored_hash)
}

/// How long access and refresh tokens live.
pub(crate) const ACCESS_SECONDS: i64 = 15 * 60;
/// How long refresh tokens live.
pub(crate) const REFRESH_SECONDS: i64 = 12 * 60 * 60;

/// A token's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// The role when the token was issued.
    pub role: Role,
    /// `access` or `refresh`.
    pub typ: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// Signs and checks tokens with one HMAC secret.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Tokens {
    /// Tokens signed with `secret` (at least 32 bytes).
    pub fn new(secret: &[u8]) -> Result<Tokens, ApiError> {
        if secret.len() < 32 {
            return Err(ApiError::internal(
                "the token secret has fewer than 32 bytes",
            ));
        }
        let key = |e: jsonwebtoken::errors::Error| ApiError::internal(format!("token key: {e}"));
        Ok(Tokens {
            encoding: EncodingKey::from_secret(secret).map_err(key)?,
            decoding: DecodingKey::from_secret(secret).map_err(key)?,
        })
    }

    /// A token of kind `typ` for `user`.
    pub fn issue(&self, user: &str, role: Role, typ: &str) -> Result<String, ApiError> {
        let now = jiff::Timestamp::now().as_second();
        let life = if typ == "refresh" {
            REFRESH_SECONDS
        } else {
            ACCESS_SECONDS
        };
        let claims = Claims {
            sub: user.to_string(),
            role,
            typ: typ.to_string(),
            iat: now,
            exp: now + life,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(format!("signing a token: {e}")))
    }

    /// The claims of a valid, unexpired token of kind `typ`.
    pub fn check(&self, token: &str, typ: &str) -> Result<Claims, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| ApiError::unauthorized(format!("invalid token: {e}")))?;
        if data.claims.typ != typ {
            return Err(ApiError::unauthorized(format!(
                "a {} token cannot be used here",
                data.claims.typ
            )));
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_carry_their_kind_and_expire() {
        let Ok(tokens) = Tokens::new(b"0123456789abcdef0123456789abcdef") else {
            panic!("a 32-byte secret makes keys");
        };
        assert!(Tokens::new(b"short").is_err());
        let access = tokens
            .issue("alice", Role::Analyst, "access")
            .unwrap_or_default();
        let claims = tokens.check(&access, "access").ok();
        assert_eq!(
            claims.map(|c| (c.sub, c.role)),
            Some(("alice".into(), Role::Analyst))
        );
        assert!(tokens.check(&access, "refresh").is_err());
        let Ok(other) = Tokens::new(b"another secret, another server!!") else {
            panic!("a 32-byte secret makes keys");
        };
        assert!(other.check(&access, "access").is_err(), "wrong signature");
    }

    #[test]
    fn api_keys_are_checked_by_hash() {
        let (id, full, hash) = new_api_key();
        assert!(full.starts_with(&format!("{id}.")));
        let secret = full.split_once('.').map(|(_, s)| s).unwrap_or_default();
        assert!(api_key_matches(secret, &hash));
        assert!(!api_key_matches("guess", &hash));
        assert!(!hash.contains(secret));
    }

    #[test]
    fn roles_are_ordered() {
        let viewer = Principal {
            actor: "v".into(),
            role: Role::Viewer,
        };
        assert!(viewer.require(Role::Viewer).is_ok());
        assert!(viewer.require(Role::Analyst).is_err());
    }
}
