//! API tokens: `Authorization: Bearer TOKEN`, checked against the SHA-256
//! hashes in pocket.toml's `[[server.tokens]]`, and what each may do.

use pocket_core::{Scope, TokenConfig, glob_match};
use sha2::{Digest, Sha256};

/// Who is calling, and what they may do.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's name (`anonymous` when the API is open).
    pub name: String,
    scopes: Vec<Scope>,
    workflows: Vec<String>,
}

impl Caller {
    /// Anyone, when no tokens are configured.
    pub fn open() -> Caller {
        Caller {
            name: "anonymous".into(),
            scopes: vec![Scope::Admin],
            workflows: vec!["*".into()],
        }
    }

    /// Whether the caller has `scope` (admin has every scope).
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }

    /// Whether the caller may start and read runs of `workflow`.
    pub fn may_use(&self, workflow: &str) -> bool {
        self.workflows.iter().any(|pattern| glob_match(pattern, workflow))
    }

    /// Whether the caller may use every workflow (and so send workflows
    /// inline, whose names are theirs to choose).
    pub fn unrestricted(&self) -> bool {
        self.workflows.iter().any(|pattern| pattern == "*")
    }

    /// The patterns of the workflows it may use; `None` when it may use every workflow.
    pub fn patterns(&self) -> Option<&[String]> {
        (!self.unrestricted()).then_some(self.workflows.as_slice())
    }
}

/// The configured tokens.
pub struct Tokens {
    tokens: Vec<TokenConfig>,
}

/// Why a request was not let in.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization: Bearer` header.
    Missing,
    /// A token that matches none configured.
    Unknown,
}

/// The lower-case hex SHA-256 of `token`, as pocket.toml stores it.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Tokens {
    /// The tokens from pocket.toml.
    pub fn new(tokens: Vec<TokenConfig>) -> Tokens {
        Tokens { tokens }
    }

    /// Whether any token is configured (else the API is open).
    pub fn required(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// The caller presenting `authorization` (the header's value).
    pub fn caller(&self, authorization: Option<&str>) -> Result<Caller, Refusal> {
        if !self.required() {
            return Ok(Caller::open());
        }
        let token = authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(Refusal::Missing)?;
        let presented = hash(token);
        self.tokens
            .iter()
            .find(|config| config.sha256 == presented)
            .map(|config| Caller {
                name: config.name.clone(),
                scopes: config.scopes.clone(),
                workflows: config.workflows.clone(),
            })
            .ok_or(Refusal::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(name: &str, secret: &str, scopes: Vec<Scope>, workflows: &[&str]) -> TokenConfig {
        TokenConfig {
            name: name.into(),
            sha256: hash(secret),
            scopes,
            workflows: workflows.iter().map(std::string::ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_token_is_known_by_its_hash_and_carries_its_scopes() {
        let tokens = Tokens::new(vec![
            token("ci", "s3cret", vec![Scope::Run], &["orders-*"]),
            token("ops", "r00t", vec![Scope::Admin], &["*"]),
        ]);
        let ci = tokens.caller(Some("Bearer s3cret")).unwrap();
        assert_eq!(ci.name, "ci");
        assert!(ci.has(Scope::Run) && !ci.has(Scope::Read) && !ci.has(Scope::Admin));
        assert!(ci.may_use("orders-eu") && !ci.may_use("payroll") && !ci.unrestricted());
        let ops = tokens.caller(Some("Bearer r00t")).unwrap();
        assert!(ops.has(Scope::Read) && ops.has(Scope::Run) && ops.unrestricted());
        assert_eq!(tokens.caller(None).unwrap_err(), Refusal::Missing);
        assert_eq!(tokens.caller(Some("Basic s3cret")).unwrap_err(), Refusal::Missing);
        assert_eq!(tokens.caller(Some("Bearer guess")).unwrap_err(), Refusal::Unknown);
    }

    #[test]
    fn without_tokens_everyone_is_admin() {
        let caller = Tokens::new(Vec::new()).caller(None).unwrap();
        assert!(caller.has(Scope::Admin) && caller.unrestricted());
    }
}
