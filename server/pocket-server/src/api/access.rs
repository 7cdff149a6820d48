//! [`Access`]: the one decision on what a request may see and do. Every
//! authenticated handler takes an `Access<S>`, `S` the scope it needs (a
//! 403 before the handler runs without it), and asks it before it answers
//! with a workflow, a run, a list or a page cursor, replays an idempotency
//! key, starts a webhook's run, or touches what every workflow shares;
//! nothing else checks scopes or workflow patterns. Who the caller is was
//! settled before, by [`authenticate`] from the `Authorization` header.
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

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pocket_core::Scope;
use pocket_history::RunRecord;

use super::error::ApiError;
use crate::app::App;
use crate::auth::{Caller, Refusal};
use crate::workflows::Workflow;

/// Middleware before every authenticated route: the caller presenting the
/// request's bearer token (or the anonymous caller of an open API), put
/// where [`Access`] finds it; a 401 without a known token.
pub async fn authenticate(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match app.tokens.caller(authorization) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(Refusal::Missing) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this server needs an API token: send `Authorization: Bearer TOKEN`",
        )
        .into_response(),
        Err(Refusal::Unknown) => ApiError::new(StatusCode::UNAUTHORIZED, "unknown API token").into_response(),
    }
}

/// A scope a handler needs, as a type: `Access<Read>`.
pub trait Needs: Send + Sync + 'static {
    /// The scope.
    const SCOPE: Scope;
}

/// The `read` scope: read runs, workflows, plugins, node types, metrics.
pub enum Read {}

/// The `run` scope: start and cancel runs.
pub enum Run {}

/// The `admin` scope: everything.
pub enum Admin {}

impl Needs for Read {
    const SCOPE: Scope = Scope::Read;
}

impl Needs for Run {
    const SCOPE: Scope = Scope::Run;
}

impl Needs for Admin {
    const SCOPE: Scope = Scope::Admin;
}

/// What the authenticated caller of a request, holding scope `S`, may see and do.
pub struct Access<S: Needs> {
    caller: Caller,
    scope: PhantomData<S>,
}

impl<S: Needs, St: Send + Sync> FromRequestParts<St> for Access<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Access<S>, ApiError> {
        // The `authenticate` middleware puts the caller there; a route
        // outside it has none, and nothing is let through without one.
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "this request needs an API token"))?;
        Access::of(caller)
    }
}

/// Something that belongs to one workflow: a workflow, or a run of one.
pub trait OfWorkflow {
    /// The workflow's name.
    fn workflow_name(&self) -> &str;
}

impl OfWorkflow for Arc<Workflow> {
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

impl<S: Needs> Access<S> {
    /// The access of `caller`: a 403 naming the scope if it lacks `S`.
    pub fn of(caller: Caller) -> Result<Access<S>, ApiError> {
        if !caller.has(S::SCOPE) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "token `{}` does not have the `{}` scope",
                    caller.name,
                    scope_name(S::SCOPE)
                ),
            ));
        }
        Ok(Access {
            caller,
            scope: PhantomData,
        })
    }

    /// Whether workflow `name` and its runs exist for this caller (what
    /// lists keep).
    pub fn sees(&self, workflow: &str) -> bool {
        self.caller.may_use(workflow)
    }

    /// `found` (a workflow or a run, `what` in the message), when the caller
    /// sees its workflow; else the 404 of a `what` that does not exist,
    /// whether it does or not.
    pub fn reach<T: OfWorkflow>(&self, what: &str, found: Option<T>) -> Result<T, ApiError> {
        found
            .filter(|item| self.sees(item.workflow_name()))
            .ok_or_else(|| ApiError::not_found(what))
    }

    /// Requires every workflow, for `what`, which spans them all.
    pub fn everything(&self, what: &str) -> Result<(), ApiError> {
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

    use super::*;
    use crate::auth::{Tokens, hash};

    fn limited(scopes: Vec<Scope>) -> Caller {
        let tokens = Tokens::new(vec![TokenConfig {
            name: "ci".into(),
            sha256: hash("s"),
            scopes,
            workflows: vec!["orders-*".into()],
        }]);
        tokens.caller(Some("Bearer s")).unwrap()
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
        let caller = limited(vec![Scope::Read]);
        let access = Access::<Read>::of(caller.clone()).unwrap();
        assert_eq!(status(access.reach("run", Some(run_of("orders-eu")))), StatusCode::OK);
        let hidden = access.reach("run", Some(run_of("payroll")));
        let missing = access.reach("run", None::<RunRecord>);
        assert_eq!(status(hidden), StatusCode::NOT_FOUND);
        assert_eq!(status(missing), StatusCode::NOT_FOUND);
        assert_eq!(status(Access::<Run>::of(caller)), StatusCode::FORBIDDEN);
    }

    #[test]
    fn what_spans_every_workflow_needs_every_workflow() {
        let access = Access::<Read>::of(limited(vec![Scope::Admin])).unwrap();
        assert_eq!(status(access.everything("read metrics")), StatusCode::FORBIDDEN);
        assert_eq!(access.patterns(), Some(vec!["orders-*".to_string()]));
        let open = Access::<Admin>::of(Caller::open()).unwrap();
        assert_eq!(status(open.everything("load plugins")), StatusCode::OK);
        assert!(open.patterns().is_none() && open.sees_everything());
    }
}
