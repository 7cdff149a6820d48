//! Downloads for `pocket plugin install URL`: `https`, or plain `http` to a
//! loopback address only (a local mirror or test server), on every redirect
//! too; at most [`MAX_DOWNLOAD`] bytes, within [`TIMEOUT`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;

/// A download was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The source is not a URL.
    #[error("`{url}` is not a valid URL")]
    InvalidUrl {
        /// What was given.
        url: String,
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The URL (or a redirect) points where Pocket does not download from.
    #[error("{0}")]
    Refused(String),
    /// The HTTP client or its runtime could not start.
    #[error("cannot start the HTTP client")]
    Client(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The download failed: the server's answer, a timeout, too large.
    #[error("cannot download {url}: {reason}")]
    Download {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server answered with nothing.
    #[error("{0}: the server sent nothing")]
    Empty(String),
    /// The download could not be written.
    #[error("cannot write {}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The largest download accepted.
pub const MAX_DOWNLOAD: u64 = 512 << 20;

/// How long a download may take, redirects included.
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// Whether `source` is a URL rather than a file.
pub fn is_url(source: &str) -> bool {
    source.starts_with("https://") || source.starts_with("http://")
}

/// Where a URL may point: `https`, or `http` to a loopback address; no
/// user name or password.
fn check(url: &Url) -> Result<(), String> {
    pocket_host::check_url(url, &|_| Ok(())).map_err(|e| e.to_string())?;
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if url.scheme() == "http" && !loopback {
        return Err(format!(
            "{url}: plain http is refused (anyone on the way could change the plugin); use https"
        ));
    }
    Ok(())
}

/// Downloads `source` into `into`, following at most
/// [`pocket_host::MAX_REDIRECTS`] redirects, each checked as the first URL.
pub fn download(source: &str, into: &Path) -> Result<(), FetchError> {
    let url = Url::parse(source).map_err(|e| FetchError::InvalidUrl {
        url: source.to_string(),
        source: Box::new(e),
    })?;
    check(&url).map_err(FetchError::Refused)?;
    let redirects = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > pocket_host::MAX_REDIRECTS {
            let error = format!("more than {} redirects", pocket_host::MAX_REDIRECTS);
            return attempt.error(error);
        }
        match check(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(e) => attempt.error(format!("redirect refused: {e}")),
        }
    });
    let client = reqwest::Client::builder()
        .user_agent(concat!("pocket/", env!("CARGO_PKG_VERSION")))
        .redirect(redirects)
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| FetchError::Client(Box::new(e)))?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| FetchError::Client(Box::new(e)))?;
    let body = runtime.block_on(async {
        let response = client.get(url).send().await.map_err(|e| format!("{e:#}"))?;
        if !response.status().is_success() {
            return Err(format!("the server answered {}", response.status()));
        }
        pocket_host::read_body(response, MAX_DOWNLOAD).await
    });
    let body = body.map_err(|reason| FetchError::Download {
        url: source.to_string(),
        reason: reason.clone(),
    })?;
    if body.is_empty() {
        return Err(FetchError::Empty(source.to_string()));
    }
    std::fs::write(into, body).map_err(|e| FetchError::Write {
        path: into.to_path_buf(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_fetched() {
        for ok in [
            "https://example.com/p.tar.gz",
            "http://127.0.0.1:8080/p.zip",
            "http://[::1]/p",
            "http://localhost/x",
        ] {
            assert!(check(&Url::parse(ok).unwrap()).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/p.tar.gz",
            "ftp://example.com/p",
            "https://user:pw@example.com/p",
            "http://127.0.0.1.evil.com/",
        ] {
            assert!(check(&Url::parse(bad).unwrap()).is_err(), "{bad}");
        }
    }
}
