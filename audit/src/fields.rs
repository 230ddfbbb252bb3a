//! Parsers for the values people type. "Parse, don't validate": a value of these types has passed
//! its rules, and the same code runs in the browser and on the server.
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::FieldError;

/// An e-mail address, trimmed and lower-cased, with one `@`, a dot in the domain and no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err(FieldError::new(field, "Enter an e-mail address."));
        }
        if value.len() > 254 {
            return Err(FieldError::new(
                field,
                "An e-mail address has at most 254 characters.",
            ));
        }
        let valid = match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value
                        .chars()
                        .any(|c| c.is_whitespace() || c == '<' || c == '>')
            }
            None => false,
        };
        if !valid {
            return Err(FieldError::new(
                field,
                format!(
                    "\"{}\" is not an e-mail address (like name@example.com).",
                    raw.trim()
                ),
            ));
        }
        Ok(EmailAddress(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        EmailAddress::parse("email", &value).map_err(|e| e.message)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password: 12 to 1024 characters. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 12;
    pub const MAX: usize = 1024;

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let count = raw.chars().count();
        if count < Self::MIN {
            return Err(FieldError::new(
                field,
                format!("Use at least {} characters for the password.", Self::MIN),
            ));
        }
        if count > Self::MAX {
            return Err(FieldError::new(
                field,
                format!("Use at most {} characters for the password.", Self::MAX),
            ));
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(**redacted**)")
    }
}

/// Required one-line text: trimmed, not empty, at most `max` characters.
pub fn required_text(
    field: &str,
    label: &str,
    raw: &str,
    max: usize,
) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, format!("Enter the {label}.")));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("The {label} has at most {max} characters."),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(
            field,
            format!("The {label} must be one line of text."),
        ));
    }
    Ok(value.to_owned())
}

/// Optional free text (may span lines): trimmed, at most `max` characters.
pub fn optional_text(
    field: &str,
    label: &str,
    raw: &str,
    max: usize,
) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("The {label} has at most {max} characters."),
        ));
    }
    Ok(value.to_owned())
}

/// A calendar date written `YYYY-MM-DD` (what `<input type=date>` sends), or empty for none.
pub fn optional_date(field: &str, raw: &str) -> Result<Option<String>, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let bad = || FieldError::new(field, format!("\"{value}\" is not a date like 2026-11-30."));
    let parts: Vec<&str> = value.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
        return Err(bad());
    }
    let year: u32 = parts[0].parse().map_err(|_| bad())?;
    let month: u32 = parts[1].parse().map_err(|_| bad())?;
    let day: u32 = parts[2].parse().map_err(|_| bad())?;
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if !(1900..=2200).contains(&year) || day == 0 || day > days_in_month {
        return Err(bad());
    }
    Ok(Some(value.to_owned()))
}

/// Text percent-encoded for a URL query value. `/` stays as it is (RFC 3986 allows it in a
/// query), so a path handed along as `?next=/engagements` stays readable.
pub fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The last path segment of an uploaded file's name, without control characters or characters
/// that break HTML attributes, at most 120 characters; `fallback` when nothing is left.
pub fn clean_file_name(name: &str, fallback: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>'))
        .take(120)
        .collect();
    match cleaned.trim() {
        "" => fallback.to_owned(),
        name => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let e = EmailAddress::parse("email", "  Ada@Example.COM ").expect("valid");
        assert_eq!(e.as_str(), "ada@example.com");
    }

    #[test]
    fn email_without_domain_dot_is_refused() {
        for raw in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(
                EmailAddress::parse("email", raw).is_err(),
                "{raw:?} should be refused"
            );
        }
    }

    #[test]
    fn password_length_bounds() {
        assert!(Password::parse("password", "short").is_err());
        assert!(Password::parse("password", &"x".repeat(12)).is_ok());
        assert!(Password::parse("password", &"x".repeat(1024)).is_ok());
        assert!(Password::parse("password", &"x".repeat(1025)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("p", &"y".repeat(12))),
            "Ok(Password(**redacted**))"
        );
    }

    #[test]
    fn query_values_escape_all_but_unreserved_characters_and_slashes() {
        assert_eq!(
            query_value("/engagements?q=a b&c"),
            "/engagements%3Fq%3Da%20b%26c"
        );
        assert_eq!(query_value("Zoë"), "Zo%C3%AB");
    }

    #[test]
    fn dates_are_checked_for_real_calendar_days() {
        assert_eq!(optional_date("d", "").expect("empty ok"), None);
        assert!(optional_date("d", "2024-02-29").is_ok());
        for raw in [
            "2023-02-29",
            "2026-13-01",
            "2026-1-01",
            "tomorrow",
            "2026-04-31",
        ] {
            assert!(
                optional_date("d", raw).is_err(),
                "{raw:?} should be refused"
            );
        }
    }
}
