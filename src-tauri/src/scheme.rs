//! What the desk's own URI schemes (`lifeline-media:`, `lifeline-tiles:`) share: the parts of
//! a request they read, answers made off the UI thread, bare status answers, and CORS for the
//! desk's own page only.

use tauri::http::{HeaderValue, Request, Response, StatusCode, header};
use tauri::{AppHandle, Builder, Wry};

/// The desk's own page, as each platform's web view names it: the only origin a script may
/// read the schemes' answers from (a media element or an image needs no permission; a
/// script's `fetch` and MapLibre's tile worker do).
const APP_ORIGINS: &[&str] = &[
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// A request to one of the schemes, as the web view made it.
#[derive(Debug, Clone, Default)]
pub struct SchemeRequest {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    pub origin: Option<String>,
}

impl SchemeRequest {
    pub fn of(request: &Request<Vec<u8>>) -> SchemeRequest {
        let header = |name| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        SchemeRequest {
            method: request.method().as_str().to_owned(),
            path: request.uri().path().to_owned(),
            range: header(header::RANGE),
            origin: header(header::ORIGIN),
        }
    }
}

/// An answer with no body, saying `nosniff`.
pub fn status(code: StatusCode) -> Response<Vec<u8>> {
    Response::builder()
        .status(code)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Vec::new())
        .unwrap_or_default()
}

/// Lets the desk's own page read `response` when `origin` is that page; any other origin
/// gets no CORS header at all. `expose`: the headers a script may read besides the simple
/// ones.
pub fn allow_app_origin(
    response: &mut Response<Vec<u8>>,
    origin: Option<&str>,
    expose: Option<&'static str>,
) {
    let Some(value) = origin
        .filter(|o| APP_ORIGINS.contains(o))
        .and_then(|o| HeaderValue::from_str(o).ok())
    else {
        return;
    };
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(expose) = expose {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Range"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(expose),
        );
    }
}

/// Registers `scheme`: each request is answered by `answer` on a blocking thread (the
/// answers read files and the store), never on the UI thread.
pub fn register(
    builder: Builder<Wry>,
    scheme: &str,
    answer: fn(&AppHandle, &SchemeRequest) -> Response<Vec<u8>>,
) -> Builder<Wry> {
    builder.register_asynchronous_uri_scheme_protocol(scheme, move |ctx, request, responder| {
        let app = ctx.app_handle().clone();
        let request = SchemeRequest::of(&request);
        tauri::async_runtime::spawn_blocking(move || responder.respond(answer(&app, &request)));
    })
}
