//! The hub as a ministry's security review would try it: the real `lifeline-hub` over HTTPS
//! on 127.0.0.1 with a CA made at test start, posts and officers made with its own
//! administration commands, and real desks (store + sync engine) signed in as officers.
//! This module is the harness (a hub with posts, officers and a channel); the tests are in
//! `access` (who may see and do what), `audit` (the trail) and `limits` (rates, transports,
//! sizes).

mod access;
mod audit;
mod limits;

use std::time::{Duration, Instant};

use lifeline_tests::hub::{HubProcess, admin, secret_in};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A TLS hub with two posts (Bangkok, Nairobi), officers of each role, and an intake
/// channel.
pub(crate) struct Trust {
    pub dir: tempfile::TempDir,
    pub hub: HubProcess,
    pub client: reqwest::Client,
    pub channel: String,
}

fn accounts(db: &std::path::Path) -> String {
    admin(
        db,
        &[
            "posts",
            "add",
            "th-bangkok",
            "--name-en",
            "Embassy Bangkok",
            "--name-zh",
            "驻泰国使馆",
            "--countries",
            "TH",
        ],
        None,
    );
    admin(
        db,
        &[
            "posts",
            "add",
            "ke-nairobi",
            "--name-en",
            "Embassy Nairobi",
            "--name-zh",
            "驻肯尼亚使馆",
            "--countries",
            "KE",
        ],
        None,
    );
    for (id, role, posts) in [
        ("li", "duty_officer", "th-bangkok"),
        ("wang", "duty_officer", "ke-nairobi"),
        ("zhou", "regional_viewer", "th-bangkok,ke-nairobi"),
        ("sun", "supervisor", "th-bangkok,ke-nairobi"),
    ] {
        admin(
            db,
            &[
                "officers",
                "add",
                id,
                "--name",
                id,
                "--role",
                role,
                "--posts",
                posts,
                "--password-stdin",
            ],
            Some(PASSWORD),
        );
    }
    secret_in(&admin(db, &["channels", "add", "hotline"], None))
}

impl Trust {
    pub(crate) fn start(extra: &[&str]) -> Trust {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("hub.sqlite");
        let channel = accounts(&db);
        let hub = HubProcess::start_tls(&db, extra);
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&hub.ca_pem()).expect("CA"))
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        Trust {
            dir,
            hub,
            client,
            channel,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.hub.url())
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body((b).to_string());
        }
        let res = req.send().await.expect("the hub answers");
        let status = res.status();
        let text = res.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub(crate) async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, token, path, None, &[])
            .await
    }

    pub(crate) async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, token, path, Some(body), &[])
            .await
    }

    pub(crate) async fn sign_in(&self, officer: &str, desk: &str) -> Value {
        let res = self
            .client
            .post(self.url("/v1/auth/sign-in"))
            .header("content-type", "application/json")
            .body((json!({"officer": officer, "password": PASSWORD, "desk": desk})).to_string())
            .send()
            .await
            .expect("sign-in answers");
        assert_eq!(res.status(), StatusCode::OK, "{officer} signs in");
        serde_json::from_str(&res.text().await.expect("body")).expect("session")
    }

    pub(crate) async fn token(&self, officer: &str, desk: &str) -> String {
        self.sign_in(officer, desk).await["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    pub(crate) async fn intake(&self, id: &str, country: &str) {
        let (lat, lon) = if country == "TH" {
            (13.75, 100.5)
        } else {
            (-1.29, 36.82)
        };
        let (status, body) = self
            .post(
                &self.channel,
                "/v1/requests",
                json!({
                    "id": id, "channel": "hotline", "category": "medical", "emergency": true,
                    "citizen": {"name": format!("citizen of {id}"), "phone": "+8613800138000"},
                    "location": {"lat": lat, "lon": lon, "country": country},
                    "description": "needs a doctor"
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "intake of {id}: {body}");
    }

    /// Every request id the officer's change feed serves, and the ids it says to remove.
    pub(crate) async fn feed(&self, token: &str) -> (Vec<String>, Vec<String>) {
        let (status, page) = self.get(token, "/v1/requests?limit=1000").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let ids = page["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        let removed = page["removed"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        (ids, removed)
    }

    /// The ids of `request` events the stream sends within `wait`.
    pub(crate) async fn streamed(&self, token: &str, wait: Duration) -> Vec<String> {
        let mut res = self
            .client
            .get(self.url("/v1/events"))
            .bearer_auth(token)
            .send()
            .await
            .expect("stream");
        assert_eq!(res.status(), StatusCode::OK);
        let mut text = String::new();
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            match tokio::time::timeout(deadline - Instant::now(), res.chunk()).await {
                Ok(Ok(Some(c))) => text.push_str(&String::from_utf8_lossy(&c)),
                _ => break,
            }
        }
        text.split("\n\n")
            .filter(|e| e.contains("event: request"))
            .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| v["id"].as_str().map(str::to_owned))
            .collect()
    }

    pub(crate) fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("hub.sqlite")
    }
}
