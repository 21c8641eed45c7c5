//! Command-line filters to the store's one query description.

use chrono::{DateTime, NaiveDate, Utc};
use lifeline_core::geo::BBox;
use lifeline_core::model::{Category, Priority, Status};
use lifeline_core::store::{AssigneeFilter, RequestOrder, RequestQuery};

use crate::CliError;
use crate::args::{Filters, Order};

fn words<T: std::str::FromStr>(values: &[String]) -> Result<Vec<T>, CliError>
where
    T::Err: std::fmt::Display,
{
    values
        .iter()
        .map(|v| {
            v.trim()
                .parse::<T>()
                .map_err(|e| CliError::Usage(e.to_string()))
        })
        .collect()
}

fn date(text: &str, flag: &str) -> Result<DateTime<Utc>, CliError> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| {
            CliError::Usage(format!(
                "--{flag} `{text}` is not a date (2026-11-25 or 2026-11-25T08:00:00Z)"
            ))
        })
}

pub fn query(f: &Filters) -> Result<RequestQuery, CliError> {
    let mut statuses = Vec::new();
    for s in &f.status {
        if s == "open" {
            statuses.extend_from_slice(Status::OPEN);
        } else {
            statuses.extend(words::<Status>(std::slice::from_ref(s))?);
        }
    }
    Ok(RequestQuery {
        bbox: f
            .bbox
            .as_deref()
            .map(BBox::parse)
            .transpose()
            .map_err(|e| CliError::Usage(format!("--bbox: {e}")))?,
        statuses,
        priorities: words::<Priority>(&f.priority)?,
        categories: words::<Category>(&f.category)?,
        emergency: if f.emergency {
            Some(true)
        } else if f.no_emergency {
            Some(false)
        } else {
            None
        },
        countries: f.country.iter().map(|c| c.trim().to_uppercase()).collect(),
        posts: f.post.clone(),
        assignee: if f.unassigned {
            Some(AssigneeFilter::Unassigned)
        } else {
            f.assignee.clone().map(AssigneeFilter::To)
        },
        created_from: f.from.as_deref().map(|t| date(t, "from")).transpose()?,
        created_to: f.to.as_deref().map(|t| date(t, "to")).transpose()?,
        text: f.search.clone(),
        ..RequestQuery::default()
    })
}

pub fn order(o: Order) -> RequestOrder {
    match o {
        Order::Triage => RequestOrder::Triage,
        Order::Waiting => RequestOrder::Waiting,
        Order::Newest => RequestOrder::Newest,
        Order::Oldest => RequestOrder::Oldest,
        Order::Relevance => RequestOrder::Relevance,
    }
}
