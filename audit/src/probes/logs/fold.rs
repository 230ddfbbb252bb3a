//! Folding request targets into endpoints: `/users/123?tab=2` and `/users/456` are the same
//! endpoint, `/users/{id}`. Without folding, every id would be its own "endpoint" with one
//! request, and no percentile could be computed.

/// Longest endpoint key kept (in bytes); longer ones are cut, so a hostile path cannot make a
/// key of megabytes. Keys cut at the same place group together, which is harmless.
const MAX_KEY_BYTES: usize = 200;

/// A path segment this long or longer, with at least one digit and only base64/hex-ish
/// characters, is an opaque token (a hash, an ObjectId, a signed id), not part of the route.
const MIN_TOKEN_LEN: usize = 16;

/// The endpoint path of a request target: query string and fragment dropped, an absolute-form
/// target (`http://host/path`) reduced to its path, and parameters folded segment by segment:
/// digits → `{id}`, UUIDs → `{uuid}`, long opaque tokens → `{token}`.
pub(crate) fn fold_path(target: &str) -> String {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let path = strip_origin(path);
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::with_capacity(path.len().min(MAX_KEY_BYTES + 8));
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(fold_segment(segment));
        if out.len() > MAX_KEY_BYTES {
            truncate_at_char(&mut out, MAX_KEY_BYTES);
            out.push('…');
            break;
        }
    }
    out
}

/// `https://example.com/a/b` → `/a/b`; anything else unchanged.
fn strip_origin(path: &str) -> &str {
    let lower_prefix = path.get(..8).unwrap_or(path).to_ascii_lowercase();
    let rest = if lower_prefix.starts_with("https://") {
        path.get(8..)
    } else if lower_prefix.starts_with("http://") {
        path.get(7..)
    } else {
        return path;
    };
    match rest.and_then(|r| r.find('/').map(|i| &r[i..])) {
        Some(p) => p,
        None => "/",
    }
}

fn fold_segment(segment: &str) -> &str {
    if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
        "{id}"
    } else if is_uuid(segment) {
        "{uuid}"
    } else if is_token(segment) {
        "{token}"
    } else {
        segment
    }
}

/// `8-4-4-4-12` hexadecimal digits, any case.
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Hex or base64/base64url-ish, long, with a digit: `5f2b8c9d0e1f2a3b4c5d6e7f`,
/// `dGhpcyBpcyBhIHRva2VuMTIz`. A dot is not allowed, so `jquery-3.6.0.min.js` stays a file.
fn is_token(s: &str) -> bool {
    s.len() >= MIN_TOKEN_LEN
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'+' | b'~'))
}

/// Cuts `s` to at most `max` bytes, on a character boundary.
pub(crate) fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::fold_path;

    #[test]
    fn folds_ids_uuids_and_tokens_and_drops_the_query() {
        assert_eq!(fold_path("/users/123"), "/users/{id}");
        assert_eq!(
            fold_path("/users/123/orders/9?page=2"),
            "/users/{id}/orders/{id}"
        );
        assert_eq!(
            fold_path("/orders/3F2504E0-4F89-11D3-9A0C-0305E82C3301/items"),
            "/orders/{uuid}/items"
        );
        assert_eq!(
            fold_path("/files/5f2b8c9d0e1f2a3b4c5d6e7f"),
            "/files/{token}"
        );
        assert_eq!(
            fold_path("/assets/jquery-3.6.0.min.js"),
            "/assets/jquery-3.6.0.min.js"
        );
        assert_eq!(fold_path("/api/v2/users-admin"), "/api/v2/users-admin");
        assert_eq!(fold_path("https://example.com/a/1"), "/a/{id}");
        assert_eq!(fold_path("http://example.com"), "/");
        assert_eq!(fold_path("?x=1"), "/");
        assert_eq!(fold_path("/"), "/");
        assert_eq!(fold_path("/users/"), "/users/");
    }

    #[test]
    fn long_paths_are_cut() {
        let long = format!("/{}", "é".repeat(500));
        let folded = fold_path(&long);
        assert!(folded.len() <= 200 + '…'.len_utf8());
    }
}
