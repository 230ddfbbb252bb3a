//! Markdown written by people (question help, rationales, findings) made safe for a page:
//! pulldown-cmark renders it, then ammonia keeps only harmless tags, attributes and URL schemes.
//! Raw HTML in the source is allowed through the renderer on purpose: the sanitizer, not the
//! renderer, is what decides what reaches the browser.
use std::sync::LazyLock;

use pulldown_cmark::{html, Options, Parser};

/// Every link a reader follows leaves without our referrer and without a handle on our window,
/// and tells search engines we vouch for nothing.
const LINK_REL: &str = "noopener noreferrer nofollow";

/// The sanitizer, built once: `Builder::default()` fills a dozen hash sets of allowed tags,
/// attributes and schemes, which cost more than cleaning a short note (a questionnaire page
/// renders 60 of them).
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder.link_rel(Some(LINK_REL));
    builder
});

/// Renders CommonMark (with tables and strikethrough) to sanitised HTML.
pub fn to_safe_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut rendered = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut rendered, Parser::new_ext(markdown, options));
    SANITIZER.clean(&rendered).to_string()
}

#[cfg(test)]
mod tests {
    use super::to_safe_html;

    #[test]
    fn script_tags_are_removed_with_their_content() {
        let html = to_safe_html("before\n\n<script>alert(1)</script>\n\nafter");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert(1)"), "{html}");
        assert!(html.contains("before") && html.contains("after"), "{html}");
    }

    #[test]
    fn event_handler_attributes_are_removed() {
        let html = to_safe_html("<img src=x onerror=alert(1)>");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("alert"), "{html}");
    }

    #[test]
    fn javascript_links_lose_their_target() {
        let html = to_safe_html("[x](javascript:alert(1))");
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        assert!(html.contains(">x</a>"), "{html}");
    }

    #[test]
    fn inline_html_links_are_sanitised_too() {
        let html = to_safe_html(r#"<a href="javascript:alert(1)" onclick="alert(2)">y</a>"#);
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
    }

    #[test]
    fn ordinary_markdown_survives() {
        let html = to_safe_html(
            "Some *emphasis* and **strong** text.\n\n- one\n- two\n\n1. first\n\n`inline code`\n\n```\nlet x = 1;\n```\n\n[docs](https://example.com/docs)",
        );
        assert!(html.contains("<em>emphasis</em>"), "{html}");
        assert!(html.contains("<strong>strong</strong>"), "{html}");
        assert!(
            html.contains("<ul>") && html.contains("<li>one</li>"),
            "{html}"
        );
        assert!(html.contains("<ol>"), "{html}");
        assert!(html.contains("<code>inline code</code>"), "{html}");
        assert!(html.contains("<pre><code>let x = 1;"), "{html}");
        assert!(
            html.contains(
                r#"<a href="https://example.com/docs" rel="noopener noreferrer nofollow">docs</a>"#
            ),
            "{html}"
        );
    }

    #[test]
    fn tables_survive() {
        let html = to_safe_html("| a | b |\n|---|---|\n| 1 | 2 |");
        assert!(
            html.contains("<table>") && html.contains("<td>1</td>"),
            "{html}"
        );
    }
}
