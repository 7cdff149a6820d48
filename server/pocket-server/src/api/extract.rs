//! What handlers take from a request, with the API's rejections: a body,
//! query or path that cannot be read answers [`ApiError`]'s JSON form with
//! the cause, never axum's plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body, parsed by axum (`Json::from_bytes`) whatever its
/// `Content-Type` says, as the API has always taken it (`curl -d` sends
/// form-encoded): 400 naming the problem and where in the body it is, 413
/// over `max_body`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<JsonBody<T>, ApiError> {
        let RawBody(bytes) = RawBody::from_request(request, state).await?;
        let axum::Json(value) = axum::Json::from_bytes(&bytes)?;
        Ok(JsonBody(value))
    }
}

/// The body's bytes, for a route whose body need not be JSON (webhooks):
/// 413 over `max_body`.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<RawBody, ApiError> {
        Ok(RawBody(Bytes::from_request(request, state).await?))
    }
}

/// The query string, deserialized into `T`.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Query<T>, ApiError> {
        let axum::extract::Query(value) = axum::extract::Query::from_request_parts(parts, state).await?;
        Ok(Query(value))
    }
}

/// The path's parameters, deserialized into `T`.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Path<T>, ApiError> {
        let axum::extract::Path(value) = axum::extract::Path::from_request_parts(parts, state).await?;
        Ok(Path(value))
    }
}
