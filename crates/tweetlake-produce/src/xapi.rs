//! The X API v2 client: the filtered-stream rules (`/2/tweets/search/stream/rules`) and, in
//! [`stream`], the filtered stream itself. The bearer token is sent, never logged or shown in
//! errors; error messages carry the API's own `title`/`detail` so the cause is plain.

pub mod playback;
pub mod source;
pub mod stream;

use serde_json::{json, Value};
use tweetlake_core::config::XApiConfig;

const RULES_PATH: &str = "/2/tweets/search/stream/rules";
/// The variable the token is read from (see `Config::load`).
const TOKEN_VAR: &str = "TWEETLAKE_PRODUCE__X_API__BEARER_TOKEN";

#[derive(Debug, thiserror::Error)]
pub enum XApiError {
    #[error("no X API bearer token: set {TOKEN_VAR}")]
    NoToken,
    #[error("the X API refused the bearer token (HTTP {status}: {detail}); check {TOKEN_VAR}")]
    Unauthorized { status: u16, detail: String },
    #[error("{what}: HTTP {status}: {detail}")]
    Http {
        what: &'static str,
        status: u16,
        detail: String,
    },
    #[error("{what}: cannot reach {url}: {source}")]
    Network {
        what: &'static str,
        url: String,
        source: reqwest::Error,
    },
    #[error("{what}: unexpected response: {detail}")]
    Response { what: &'static str, detail: String },
    #[error("cannot set up the HTTP client: {0}")]
    Client(reqwest::Error),
}

/// One filtered-stream rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub value: String,
    pub tag: Option<String>,
}

/// What an add or delete did (or, on a dry run, would do).
#[derive(Debug, Clone, Default)]
pub struct RulesChange {
    /// Rules created (add); empty for delete.
    pub rules: Vec<Rule>,
    /// `meta.summary`, e.g. `{"created": 1, "not_created": 0}`.
    pub summary: Value,
    /// Per-rule problems the API reported (duplicate rule, invalid syntax…), as `title: detail`.
    pub errors: Vec<String>,
}

/// An authenticated client of one API base URL.
#[derive(Clone)]
pub struct XApiClient {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl XApiClient {
    pub fn new(config: &XApiConfig) -> Result<Self, XApiError> {
        let token = config.bearer_token.as_ref().ok_or(XApiError::NoToken)?;
        if token.expose().trim().is_empty() {
            return Err(XApiError::NoToken);
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("tweetlake/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(XApiError::Client)?;
        Ok(Self {
            http,
            base_url: config.base_url.trim_end_matches('/').to_string(),
            token: token.expose().to_string(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub(crate) fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.http.get(url).bearer_auth(&self.token)
    }

    /// The rules the stream matches now.
    pub async fn list_rules(&self) -> Result<Vec<Rule>, XApiError> {
        const WHAT: &str = "listing stream rules";
        let body = self
            .send(WHAT, self.get(&self.url(RULES_PATH)), RULES_PATH)
            .await?;
        Ok(rules_of(&body["data"]))
    }

    /// Adds rules (`value`, optional `tag`); with `dry_run` the API only validates them.
    pub async fn add_rules(
        &self,
        rules: &[(String, Option<String>)],
        dry_run: bool,
    ) -> Result<RulesChange, XApiError> {
        let add: Vec<Value> = rules
            .iter()
            .map(|(value, tag)| match tag {
                Some(tag) => json!({"value": value, "tag": tag}),
                None => json!({"value": value}),
            })
            .collect();
        self.change("adding stream rules", json!({ "add": add }), dry_run)
            .await
    }

    /// Deletes rules by id; with `dry_run` the API only validates the request.
    pub async fn delete_rules(
        &self,
        ids: &[String],
        dry_run: bool,
    ) -> Result<RulesChange, XApiError> {
        self.change(
            "deleting stream rules",
            json!({"delete": {"ids": ids}}),
            dry_run,
        )
        .await
    }

    async fn change(
        &self,
        what: &'static str,
        body: Value,
        dry_run: bool,
    ) -> Result<RulesChange, XApiError> {
        let mut url = self.url(RULES_PATH);
        if dry_run {
            url.push_str("?dry_run=true");
        }
        let request = self
            .http
            .post(&url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let reply = self.send(what, request, RULES_PATH).await?;
        Ok(RulesChange {
            rules: rules_of(&reply["data"]),
            summary: reply["meta"]["summary"].clone(),
            errors: reply["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(problem_text)
                .collect(),
        })
    }

    /// Sends a request and returns its JSON body; any status but 2xx is an error with the API's
    /// own explanation.
    async fn send(
        &self,
        what: &'static str,
        request: reqwest::RequestBuilder,
        path: &str,
    ) -> Result<Value, XApiError> {
        let network = |source| XApiError::Network {
            what,
            url: self.url(path),
            source,
        };
        let response = request.send().await.map_err(network)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(network)?;
        if !(200..300).contains(&status) {
            return Err(http_error(what, status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| XApiError::Response {
            what,
            detail: format!("{e} in {}", String::from_utf8_lossy(&bytes)),
        })
    }
}

/// The error for a non-2xx reply; 401 and 403 name the token.
pub(crate) fn http_error(what: &'static str, status: u16, body: &[u8]) -> XApiError {
    let detail = serde_json::from_slice::<Value>(body)
        .map(|v| problem_text(&v))
        .unwrap_or_else(|_| String::from_utf8_lossy(body).trim().to_string());
    match status {
        401 | 403 => XApiError::Unauthorized { status, detail },
        _ => XApiError::Http {
            what,
            status,
            detail,
        },
    }
}

/// `title: detail` of an API problem object, its errors included.
pub(crate) fn problem_text(v: &Value) -> String {
    let field = |k: &str| v[k].as_str().filter(|s| !s.is_empty());
    let mut text = match (field("title"), field("detail").or_else(|| field("message"))) {
        (Some(t), Some(d)) if t != d => format!("{t}: {d}"),
        (Some(t), _) => t.to_string(),
        (None, Some(d)) => d.to_string(),
        (None, None) => String::new(),
    };
    if let Some(value) = v["value"].as_str() {
        text.push_str(&format!(" (rule `{value}`)"));
    }
    for e in v["errors"].as_array().into_iter().flatten() {
        text.push_str("; ");
        text.push_str(&problem_text(e));
    }
    if text.is_empty() {
        v.to_string()
    } else {
        text
    }
}

fn rules_of(data: &Value) -> Vec<Rule> {
    data.as_array()
        .into_iter()
        .flatten()
        .map(|r| Rule {
            id: match &r["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            value: r["value"].as_str().unwrap_or_default().to_string(),
            tag: r["tag"].as_str().map(str::to_string),
        })
        .collect()
}

#[cfg(test)]
mod tests;
