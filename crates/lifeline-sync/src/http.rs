//! The one way the desk reads the network: explicit connect, read and total timeouts, a
//! body cap applied after decompression (a gzip bomb stops at the cap), and errors sorted
//! into transient (retry with backoff) and permanent (needs a person).
//!
//! Off this computer, only HTTPS: a plain `http://` address is refused unless it names the
//! loopback (`127.0.0.0/8`, `::1`, `localhost`), also when a server redirects to one. The
//! system's trusted certificates apply, plus any extra CA the desk is given (a ministry's
//! own PKI); a certificate that does not verify is a permanent error that says so.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Response, StatusCode};

/// Time and size limits of every network read.
#[derive(Debug, Clone)]
pub struct Limits {
    pub connect_timeout: Duration,
    /// Longest silence while reading a response.
    pub read_timeout: Duration,
    /// Longest a whole request may take (not applied to the event stream).
    pub total_timeout: Duration,
    /// Longest silence on the event stream: three hub heartbeats.
    pub stream_read_timeout: Duration,
    /// Largest response body, after decompression.
    pub max_body: usize,
    /// Largest single Server-Sent Event.
    pub max_event: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
            stream_read_timeout: Duration::from_secs(15),
            max_body: lifeline_core::protocol::DESK_MAX_BODY,
            max_event: 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    #[error("cannot reach {url}: {reason}. The desk keeps working offline and will retry")]
    Connect { url: String, reason: String },
    #[error("{url} did not answer in time ({reason}); will retry")]
    Timeout { url: String, reason: String },
    #[error("{url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        retry_after: Option<Duration>,
        message: String,
    },
    #[error("{url} sent more than {limit} bytes; the answer was cut off and ignored")]
    TooLarge { url: String, limit: usize },
    #[error("the answer from {url} broke off: {reason}")]
    Body { url: String, reason: String },
    #[error("{url} sent something that is not the expected JSON: {reason}")]
    Json { url: String, reason: String },
    #[error("invalid address {url}: {reason}")]
    Url { url: String, reason: String },
    #[error(
        "refusing plain http:// to {host}: personal data leaves this computer only over https:// (plain HTTP is allowed to this computer's own loopback address only)"
    )]
    PlainHttp { host: String },
    #[error(
        "the certificate of {url} is not trusted ({reason}). If the hub uses the ministry's own certificate authority, give its CA file (--hub-ca FILE); otherwise do not connect"
    )]
    Certificate { url: String, reason: String },
}

impl HttpError {
    /// Worth retrying later without anyone changing anything.
    /// The server did not answer at all, or said it cannot serve now (a gateway's 502/504,
    /// a replica's 503): another address of the same hub may.
    pub fn is_unreachable(&self) -> bool {
        match self {
            HttpError::Connect { .. } | HttpError::Timeout { .. } => true,
            HttpError::Status { status, .. } => matches!(*status, 502..=504),
            _ => false,
        }
    }

    pub fn is_transient(&self) -> bool {
        match self {
            HttpError::Connect { .. }
            | HttpError::Timeout { .. }
            | HttpError::Body { .. }
            | HttpError::Json { .. } => true,
            HttpError::TooLarge { .. } => true,
            HttpError::Status { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            HttpError::Url { .. } | HttpError::PlainHttp { .. } | HttpError::Certificate { .. } => {
                false
            }
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn from_reqwest(url: &str, e: &reqwest::Error) -> HttpError {
        let reason = e.to_string();
        if let Some(why) = certificate_problem(e) {
            return HttpError::Certificate {
                url: url.into(),
                reason: why,
            };
        }
        if e.is_timeout() {
            HttpError::Timeout {
                url: url.into(),
                reason,
            }
        } else if e.is_connect() {
            HttpError::Connect {
                url: url.into(),
                reason,
            }
        } else {
            HttpError::Body {
                url: url.into(),
                reason,
            }
        }
    }
}

/// The TLS library's words when a certificate did not verify (they sit deep in the error's
/// chain: reqwest → hyper → native-tls → OpenSSL).
fn certificate_problem(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        let text = err.to_string();
        let lower = text.to_ascii_lowercase();
        if lower.contains("certificate")
            || lower.contains("self signed")
            || lower.contains("self-signed")
        {
            return Some(text);
        }
        source = err.source();
    }
    None
}

/// Whether `host` is this computer's loopback (where plain HTTP is allowed).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a plain `http://` address that leaves this computer.
pub fn check_transport(url: &str) -> Result<(), HttpError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| HttpError::Url {
        url: url.into(),
        reason: e.to_string(),
    })?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            if is_loopback_host(host) {
                Ok(())
            } else {
                Err(HttpError::PlainHttp { host: host.into() })
            }
        }
        other => Err(HttpError::Url {
            url: url.into(),
            reason: format!("`{other}:` is not http or https"),
        }),
    }
}

/// Redirects: at most three, and never down to plain http:// off this computer.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 3 {
            attempt.error("too many redirects")
        } else if check_transport(attempt.url().as_str()).is_err() {
            attempt.error("a redirect to plain http:// off this computer")
        } else {
            attempt.follow()
        }
    })
}

/// `Retry-After`: seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(3600)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at
        .signed_duration_since(chrono::Utc::now())
        .num_milliseconds()
        .max(0);
    Some(Duration::from_millis(wait as u64).min(Duration::from_secs(3600)))
}

/// A response whose status was 2xx or 304.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    response: Response,
    url: String,
}

#[derive(Debug, Clone)]
pub struct Http {
    client: Client,
    stream: Client,
    limits: Limits,
}

impl Http {
    pub fn new(limits: Limits) -> Result<Http, HttpError> {
        Http::with_roots(limits, &[])
    }

    /// With extra trusted CA certificates (PEM), beside the system's.
    pub fn with_roots(limits: Limits, extra_roots: &[Vec<u8>]) -> Result<Http, HttpError> {
        let mut roots = Vec::new();
        for pem in extra_roots {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| HttpError::Url {
                url: String::new(),
                reason: format!("the CA file is not PEM certificates: {e}"),
            })?;
            if certs.is_empty() {
                return Err(HttpError::Url {
                    url: String::new(),
                    reason: "the CA file holds no certificate".into(),
                });
            }
            roots.extend(certs);
        }
        let build = |total: Option<Duration>, read: Duration| {
            let mut b = Client::builder()
                .connect_timeout(limits.connect_timeout)
                .read_timeout(read)
                .gzip(true)
                .redirect(redirect_policy())
                .user_agent(concat!("lifeline-desk/", env!("CARGO_PKG_VERSION")));
            for root in &roots {
                b = b.add_root_certificate(root.clone());
            }
            if let Some(t) = total {
                b = b.timeout(t);
            }
            b.build().map_err(|e| HttpError::Url {
                url: String::new(),
                reason: e.to_string(),
            })
        };
        Ok(Http {
            client: build(Some(limits.total_timeout), limits.read_timeout)?,
            // The event stream lives for hours: no total timeout, but the read timeout
            // catches a connection that died without closing.
            stream: build(None, limits.stream_read_timeout)?,
            limits,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn headers(token: Option<&str>, extra: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(t) = token
            && let Ok(v) = HeaderValue::from_str(&format!("Bearer {t}"))
        {
            h.insert(reqwest::header::AUTHORIZATION, v);
        }
        for (k, v) in extra {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                h.insert(k, v);
            }
        }
        h
    }

    async fn check(&self, url: &str, response: Response) -> Result<Answer, HttpError> {
        let status = response.status();
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            let headers = response.headers().clone();
            return Ok(Answer {
                status,
                headers,
                response,
                url: url.into(),
            });
        }
        let retry = retry_after(response.headers());
        let body = read_capped(url, response, 4096).await.unwrap_or_default();
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
        Err(HttpError::Status {
            url: url.into(),
            status: status.as_u16(),
            retry_after: retry,
            message,
        })
    }

    pub async fn get(
        &self,
        url: &str,
        token: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<Answer, HttpError> {
        check_transport(url)?;
        let response = self
            .client
            .get(url)
            .headers(Self::headers(token, extra))
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(url, &e))?;
        self.check(url, response).await
    }

    /// POSTs JSON; returns the status and body whatever the status (the caller decides what
    /// a 409 or a 422 means), except transport failures, which are errors.
    pub async fn post_json<B: serde::Serialize>(
        &self,
        url: &str,
        token: Option<&str>,
        extra: &[(&str, &str)],
        body: &B,
    ) -> Result<(u16, Option<Duration>, Vec<u8>), HttpError> {
        check_transport(url)?;
        let json = serde_json::to_vec(body).map_err(|e| HttpError::Json {
            url: url.into(),
            reason: e.to_string(),
        })?;
        let response = self
            .client
            .post(url)
            .headers(Self::headers(token, extra))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json)
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(url, &e))?;
        let status = response.status().as_u16();
        let retry = retry_after(response.headers());
        let bytes = read_capped(url, response, self.limits.max_body).await?;
        Ok((status, retry, bytes))
    }

    /// POSTs a document as `content_type`; an answer that is not a success is an error
    /// carrying the hub's message.
    pub async fn post_document(
        &self,
        url: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, HttpError> {
        check_transport(url)?;
        let response = self
            .client
            .post(url)
            .headers(Self::headers(token, &[]))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(url, &e))?;
        let answer = self.check(url, response).await?;
        self.body(answer).await
    }

    pub async fn delete(&self, url: &str, token: Option<&str>) -> Result<(), HttpError> {
        check_transport(url)?;
        let response = self
            .client
            .delete(url)
            .headers(Self::headers(token, &[]))
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(url, &e))?;
        self.check(url, response).await.map(|_| ())
    }

    /// Opens a long-lived GET (the event stream).
    pub async fn open_stream(
        &self,
        url: &str,
        token: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<Answer, HttpError> {
        check_transport(url)?;
        let response = self
            .stream
            .get(url)
            .headers(Self::headers(token, extra))
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(url, &e))?;
        self.check(url, response).await
    }

    /// The whole body, capped.
    pub async fn body(&self, answer: Answer) -> Result<Vec<u8>, HttpError> {
        read_capped(&answer.url, answer.response, self.limits.max_body).await
    }

    /// The whole body, capped at `cap` bytes (a file whose size the caller knows).
    pub async fn body_at_most(&self, answer: Answer, cap: usize) -> Result<Vec<u8>, HttpError> {
        read_capped(&answer.url, answer.response, cap.min(self.limits.max_body)).await
    }
}

impl Answer {
    /// The next chunk of a streamed body (decompressed), `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, HttpError> {
        self.response
            .chunk()
            .await
            .map(|c| c.map(|b| b.to_vec()))
            .map_err(|e| HttpError::from_reqwest(&self.url, &e))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Reads a body chunk by chunk, stopping as soon as it passes `limit` (after decompression:
/// a small gzip that inflates to gigabytes stops here, not in memory).
async fn read_capped(
    url: &str,
    mut response: Response,
    limit: usize,
) -> Result<Vec<u8>, HttpError> {
    if response.content_length().is_some_and(|n| n > limit as u64)
        && response
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .is_none()
    {
        return Err(HttpError::TooLarge {
            url: url.into(),
            limit,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| HttpError::from_reqwest(url, &e))?
    {
        if body.len() + chunk.len() > limit {
            return Err(HttpError::TooLarge {
                url: url.into(),
                limit,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
