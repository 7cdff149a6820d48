//! [`Access`]: the one decision on what a request may see and do. Every
//! authenticated handler takes an `Access` and asks it before it answers
//! with a workflow, a run, a list or a page cursor, replays an idempotency
//! key, starts a webhook's run, or touches what every workflow shares;
//! nothing else checks scopes or workflow patterns.
//!
//! The rules:
//! - A scope the token lacks is a 403 naming the scope.
//! - A workflow outside the token's `workflows` patterns, and every run of
//!   it, does not exist for that token: the same 404 as a name or id nobody
//!   used, and absent from every list, cursor, replay and `Allow` header.
//! - What spans every workflow (metrics, plugin statistics, loading and
//!   unloading plugins, inline workflows, which name themselves) needs a
//!   token whose patterns include `*`; others get a 403 that names no
//!   workflow.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use pocket_core::Scope;
use pocket_history::RunRecord;

use super::api::ApiError;
use super::auth::Caller;
use super::workflows::Workflow;

/// What the authenticated caller of a request may see and do.
pub struct Access {
    caller: Caller,
}

impl<S: Send + Sync> FromRequestParts<S> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Access, ApiError> {
        // The `authenticate` middleware puts the caller there; a route
        // outside it has none, and nothing is let through without one.
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(Access::of)
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "this request needs an API token"))
    }
}

/// Something that belongs to one workflow: a workflow, or a run of one.
pub trait OfWorkflow {
    /// The workflow's name.
    fn workflow_name(&self) -> &str;
}

impl OfWorkflow for std::sync::Arc<Workflow> {
    fn workflow_name(&self) -> &str {
        &self.name
    }
}

impl OfWorkflow for RunRecord {
    fn workflow_name(&self) -> &str {
        &self.workflow
    }
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Run => "run",
        Scope::Read => "read",
        Scope::Admin => "admin",
    }
}

impl Access {
    /// The access of `caller`.
    pub fn of(caller: Caller) -> Access {
        Access { caller }
    }

    /// Requires `scope`: a 403 without it.
    pub fn scope(&self, scope: Scope) -> Result<(), ApiError> {
        if self.caller.has(scope) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "token `{}` does not have the `{}` scope",
                self.caller.name,
                scope_name(scope)
            ),
        ))
    }

    /// Whether workflow `name` and its runs exist for this caller (what
    /// lists keep).
    pub fn sees(&self, workflow: &str) -> bool {
        self.caller.may_use(workflow)
    }

    /// `found` (a workflow or a run, `what` in the message), when the caller
    /// has `scope` and sees its workflow. Else a 403 without the scope, or
    /// the 404 of a `what` that does not exist, whether it does or not.
    pub fn reach<T: OfWorkflow>(&self, scope: Scope, what: &str, found: Option<T>) -> Result<T, ApiError> {
        self.scope(scope)?;
        found
            .filter(|item| self.sees(item.workflow_name()))
            .ok_or_else(|| ApiError::not_found(what))
    }

    /// Requires `scope` and every workflow, for `what`, which spans them all.
    pub fn everything(&self, scope: Scope, what: &str) -> Result<(), ApiError> {
        self.scope(scope)?;
        if self.caller.unrestricted() {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "token `{}` may use only some workflows, so it cannot {what}",
                self.caller.name
            ),
        ))
    }

    /// Whether the caller sees every workflow.
    pub fn sees_everything(&self) -> bool {
        self.caller.unrestricted()
    }

    /// The patterns of the workflows whose runs a history query may
    /// return; `None` for all.
    pub fn patterns(&self) -> Option<Vec<String>> {
        self.caller.patterns().map(<[String]>::to_vec)
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;
    use pocket_core::TokenConfig;

    use super::super::auth::{Tokens, hash};
    use super::*;

    fn limited(scopes: Vec<Scope>) -> Access {
        let tokens = Tokens::new(vec![TokenConfig {
            name: "ci".into(),
            sha256: hash("s"),
            scopes,
            workflows: vec!["orders-*".into()],
        }]);
        Access::of(tokens.caller(Some("Bearer s")).unwrap())
    }

    fn run_of(workflow: &str) -> RunRecord {
        RunRecord {
            id: "r".into(),
            workflow: workflow.into(),
            status: pocket_history::RunStatus::Queued,
            input: "null".into(),
            definition: None,
            idempotency_key: None,
            output: None,
            error: None,
            timeline: None,
            created_ms: 0,
            started_ms: None,
            finished_ms: None,
        }
    }

    fn status<T>(result: Result<T, ApiError>) -> StatusCode {
        result.err().map_or(StatusCode::OK, |e| e.into_response().status())
    }

    #[test]
    fn a_hidden_run_answers_like_a_missing_one_and_a_missing_scope_is_403() {
        let access = limited(vec![Scope::Read]);
        assert_eq!(
            status(access.reach(Scope::Read, "run", Some(run_of("orders-eu")))),
            StatusCode::OK
        );
        let hidden = access.reach(Scope::Read, "run", Some(run_of("payroll")));
        let missing = access.reach(Scope::Read, "run", None::<RunRecord>);
        assert_eq!(status(hidden), StatusCode::NOT_FOUND);
        assert_eq!(status(missing), StatusCode::NOT_FOUND);
        assert_eq!(
            status(access.reach(Scope::Run, "run", Some(run_of("orders-eu")))),
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn what_spans_every_workflow_needs_every_workflow() {
        let access = limited(vec![Scope::Admin]);
        assert_eq!(
            status(access.everything(Scope::Read, "read metrics")),
            StatusCode::FORBIDDEN
        );
        assert_eq!(access.patterns(), Some(vec!["orders-*".to_string()]));
        let open = Access::of(Caller::open());
        assert_eq!(status(open.everything(Scope::Admin, "load plugins")), StatusCode::OK);
        assert!(open.patterns().is_none() && open.sees_everything());
    }
}
