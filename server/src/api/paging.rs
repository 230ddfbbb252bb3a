//! Keyset pages of a list, newest first: `?before=&limit=` in, `meta.next_before` out. Probe
//! runs and report versions page this way; the engagement list keeps its own `cursor`.
use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, Caller};

/// The largest page any list gives.
const MAX_LIMIT: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// The previous page's `meta.next_before`: list the items older than it.
    pub before: Option<i64>,
    /// 1 to 100; each list has its own default.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageMeta {
    pub count: usize,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// (before, limit), checked: a value that is not a whole number, or a limit outside 1–100, is a
/// 422 naming the parameter.
pub fn page_query(
    query: Result<Query<PageQuery>, QueryRejection>,
    default_limit: i64,
    caller: &Caller,
) -> Result<(Option<i64>, i64), ApiError> {
    let Query(query) = query.map_err(|_| {
        caller.fail(audit::Error::invalid(
            "before",
            "before and limit are whole numbers.",
        ))
    })?;
    let limit = query.limit.unwrap_or(default_limit);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(caller.fail(audit::Error::invalid("limit", "limit is from 1 to 100.")));
    }
    Ok((query.before, limit))
}

/// The meta of a page of `count` items whose last key is `last`: a full page may have more after it.
pub fn page_meta(count: usize, limit: i64, last: Option<i64>) -> PageMeta {
    let full = i64::try_from(count).is_ok_and(|n| n == limit);
    PageMeta {
        count,
        next_before: last.filter(|_| full),
    }
}
