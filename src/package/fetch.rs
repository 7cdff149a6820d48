//! Downloads for `pocket plugin install URL`: `https`, or plain `http` to a
//! loopback address only (a local mirror or test server), on every redirect
//! too; at most [`MAX_DOWNLOAD`] bytes, within [`TIMEOUT`].

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::Url;

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
pub fn download(source: &str, into: &Path) -> anyhow::Result<()> {
    let url = Url::parse(source).with_context(|| format!("`{source}` is not a valid URL"))?;
    check(&url).map_err(anyhow::Error::msg)?;
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
        .build()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let body = runtime.block_on(async {
        let response = client.get(url).send().await.map_err(|e| format!("{e:#}"))?;
        if !response.status().is_success() {
            return Err(format!("the server answered {}", response.status()));
        }
        pocket_host::read_body(response, MAX_DOWNLOAD).await
    });
    let body = body.map_err(|e| anyhow::anyhow!("cannot download {source}: {e}"))?;
    if body.is_empty() {
        bail!("{source}: the server sent nothing");
    }
    std::fs::write(into, body).with_context(|| format!("cannot write {}", into.display()))
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
