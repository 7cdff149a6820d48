//! HTTP requests and responses across the library boundary: the ABI's
//! `RHttpRequest`/`RHttpResponse` to and from pocket-host's types, which the
//! in-process host and the isolation pipe both use.

use pocket_host::{HttpRequest, HttpResponse};
use pocket_native_abi::{RHttpRequest, RHttpResponse, headers_from_abi, headers_to_abi};

/// The request a library passed, to be sent within `timeout`.
pub(crate) fn request_from_abi(request: RHttpRequest, timeout: Option<std::time::Duration>) -> HttpRequest {
    HttpRequest {
        method: request.method.into_string(),
        url: request.url.into_string(),
        headers: headers_from_abi(request.headers),
        body: request.body.into_option().map(Into::into),
        timeout,
    }
}

/// `request` as a library's host object takes it (its timeout is the
/// receiving host's to set).
pub(crate) fn request_to_abi(request: HttpRequest) -> RHttpRequest {
    RHttpRequest {
        method: request.method.into(),
        url: request.url.into(),
        headers: headers_to_abi(request.headers),
        body: request.body.map(Into::into).into(),
    }
}

/// What a library's host object answered.
pub(crate) fn response_from_abi(response: RHttpResponse) -> HttpResponse {
    HttpResponse {
        status: response.status,
        headers: headers_from_abi(response.headers),
        body: response.body.into_string(),
    }
}

/// `response` as a library receives it.
pub(crate) fn response_to_abi(response: HttpResponse) -> RHttpResponse {
    RHttpResponse {
        status: response.status,
        headers: headers_to_abi(response.headers),
        body: response.body.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_and_a_response_cross_both_ways_unchanged() {
        let request = HttpRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/x".into(),
            headers: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
            body: Some(b"\0body".to_vec()),
            timeout: None,
        };
        assert_eq!(request_from_abi(request_to_abi(request.clone()), None), request);
        let response = HttpResponse {
            status: 201,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: "done".into(),
        };
        assert_eq!(response_from_abi(response_to_abi(response.clone())), response);
    }
}
