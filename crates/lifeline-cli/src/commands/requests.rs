//! `lifeline requests [filters]`

use lifeline_core::Store;
use lifeline_core::protocol::WireRequest;

use crate::args::RequestsArgs;
use crate::output::Sink;
use crate::{CliError, filters};

pub fn run(store: &Store, args: RequestsArgs, json: bool) -> Result<(), CliError> {
    let mut q = filters::query(&args.filters)?;
    q.order = filters::order(args.order);
    q.limit = args.limit;
    q.offset = args.offset;
    let mut out = Sink::stdout();
    let mut first = true;
    if json {
        out.write_str("[")?;
    }
    store.for_each_request(&q, |r| {
        let line = if json {
            let mut text = if first { String::new() } else { ",".into() };
            text.push_str(
                &serde_json::to_string(&WireRequest::from_domain(&r.request, &[]))
                    .unwrap_or_default(),
            );
            text
        } else {
            let req = &r.request;
            let place = req
                .location
                .as_ref()
                .map_or("(no location)".to_string(), |l| {
                    format!("{:.4},{:.4}", l.lat, l.lon)
                });
            let summary: String = req
                .description
                .chars()
                .take(60)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            format!(
                "{}\t{}\t{}{}\t{}\t{}\t{}\t{}",
                req.id,
                req.created_at.format("%Y-%m-%d %H:%M"),
                if req.emergency { "SOS " } else { "" },
                req.priority,
                req.status,
                req.category,
                place,
                summary
            )
        };
        first = false;
        out.line(&line)
    })?;
    if json {
        out.line("]")?;
    }
    out.finish()
}
