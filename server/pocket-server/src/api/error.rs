//! [`ApiError`]: every error answer of the API, `{"error": message}` with a
//! status, whether a handler refused the request or an extractor could not
//! read it.

use std::error::Error;

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::runs::SubmitError;

/// An error answer: `{"error": message}` with a status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person to read.
    #[schema(example = "workflow `orders` not found")]
    error: String,
}

impl ApiError {
    /// An answer with `status` saying `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A 404 for `what`.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    /// A 400: the request is wrong, as `message` says.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 500 for a failure of the server itself (logged).
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        tracing::error!("{error}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }

    /// An extractor's refusal of part of the request (`what`): its status,
    /// and the cause it names (serde's message, with the path to the value
    /// for a body) rather than axum's plain-text wording.
    fn rejected(what: &str, status: StatusCode, rejection: &(dyn Error + 'static)) -> ApiError {
        let cause = rejection.source().unwrap_or(rejection);
        ApiError::new(status, format!("invalid {what}: {cause}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.message };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<BytesRejection> for ApiError {
    /// A body that could not be read: over `max_body` (413), or cut off.
    fn from(rejection: BytesRejection) -> ApiError {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}

impl From<JsonRejection> for ApiError {
    /// A body that is not the JSON the route takes: 400, whether its syntax
    /// or its shape is wrong.
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection {
            JsonRejection::BytesRejection(rejection) => rejection.into(),
            rejection => ApiError::rejected("request body", StatusCode::BAD_REQUEST, &rejection),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::rejected("query string", StatusCode::BAD_REQUEST, &rejection)
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::rejected("path", rejection.status(), &rejection)
    }
}

impl From<SubmitError> for ApiError {
    fn from(error: SubmitError) -> ApiError {
        match error {
            SubmitError::Busy(_) => ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: error.to_string(),
                retry_after: Some(1),
            },
            // Nothing was recorded, so nothing runs: the caller may retry.
            SubmitError::Store(error) => {
                tracing::error!("refusing a run: {error}");
                ApiError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    message: format!("the run was not accepted: {error}"),
                    retry_after: Some(5),
                }
            }
        }
    }
}

impl From<pocket_history::StoreError> for ApiError {
    fn from(error: pocket_history::StoreError) -> ApiError {
        ApiError::internal(error)
    }
}
