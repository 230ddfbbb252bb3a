//! Text typed by people, turned into Typst markup that can only ever be text.
//!
//! Three escapers, one per place user text lands in the Typst source:
//! - [`text`]: a single-line field (a title, a name, a label) in markup;
//! - [`markdown`]: a Markdown field (a summary, a description) as Typst blocks;
//! - [`string_literal`]: a value in code, such as a link target or a code block (`"…"`).
//!
//! Typst markup gives meaning to many ASCII punctuation characters (`#` starts code, `$` math,
//! `*` strong, `=` a heading at line start, `//` a comment, `https://` a link, `<a>` a label,
//! `@a` a reference, `...` an ellipsis …). A backslash before any non-space character makes it
//! literal (typst-syntax 0.15 `Lexer::backslash`), so every ASCII punctuation character is
//! escaped: simpler to check than a list of the ones that matter today, and it also covers the
//! line-start markers (`- `, `+ `, `= `, `/ `, `1. `) and the `h` of an automatic link, whose
//! `://` is then broken. Letters, digits, spaces and non-ASCII characters are never special.
//!
//! The Markdown structure (emphasis, lists, tables …) is written as function calls
//! (`#emph[…]`, `#list([…], […])`) rather than markup shorthands, so nesting never depends on
//! line starts or indentation.
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// How deep Markdown containers (quotes, lists, emphasis, links …) may nest in the output.
/// Deeper ones are flattened to paragraphs: a hostile `>>>>>>…` must not hit Typst's own limits.
const MAX_NESTING: usize = 12;

/// A run of this many characters without a space gets a zero-width space, so that a
/// 140-character "word" (or a long URL) can break instead of running off the page or out of a
/// table cell.
const LONGEST_UNBROKEN_RUN: usize = 24;

/// A single-line field as Typst markup: every character is shown as typed. Line breaks and
/// other control characters become spaces, so the field cannot end a heading or a table cell.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + value.len() / 4);
    let mut run = 0;
    push_text(&mut out, value, &mut run);
    out
}

/// A Typst string literal (quotes included) holding `value` exactly: for code arguments such as
/// a link target or the text of a code block.
pub fn string_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Code with a zero-width space in every long run without a space: Typst wraps raw text only
/// at spaces, and a long line of code must not run off the page.
fn breakable_code(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut run = 0;
    for c in code.chars() {
        if c.is_whitespace() {
            run = 0;
        } else {
            if run >= LONGEST_UNBROKEN_RUN
                && c.is_ascii()
                && out.chars().last().is_some_and(|p| p.is_ascii())
            {
                out.push('\u{200B}');
                run = 0;
            }
            run += 1;
        }
        out.push(c);
    }
    out
}

/// Appends `value` escaped as markup text. `run` counts the characters since the last space,
/// across calls, so a long word split over several Markdown events still gets break points.
fn push_text(out: &mut String, value: &str, run: &mut usize) {
    for c in value.chars() {
        // Line breaks (including U+2028/U+2029, which Typst also treats as newlines), tabs and
        // other control characters become one space: user text never ends a line in the source.
        if c.is_whitespace() || c.is_control() {
            out.push(' ');
            *run = 0;
            continue;
        }
        // Only between ASCII characters: inserting inside an emoji sequence or before a
        // combining mark would split what the reader sees as one character.
        if *run >= LONGEST_UNBROKEN_RUN
            && c.is_ascii()
            && out.chars().last().is_some_and(|p| p.is_ascii())
        {
            out.push('\u{200B}');
            *run = 0;
        }
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
        *run += 1;
    }
}

/// Markdown typed by a person, as Typst markup for the body of a section. Headings in the text
/// become bold paragraphs (the report's own headings stay the only ones), raw HTML is shown as
/// text, links point only to `http`, `https` and `mailto` targets, and images show their
/// description (the document reads no file a user named).
pub fn markdown(source: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut converter = Converter::default();
    for event in Parser::new_ext(source, options) {
        converter.event(event);
    }
    converter.finish()
}

/// One open Markdown element: what to write when it ends.
struct Frame {
    closer: &'static str,
    /// The element is a container written without its Typst call because nesting was too deep;
    /// its items, rows and cells are then written without theirs too.
    flattened: bool,
    /// Whether this frame adds a level of Typst nesting (counted against [`MAX_NESTING`]).
    nests: bool,
}

#[derive(Default)]
struct Converter {
    out: String,
    stack: Vec<Frame>,
    /// Open frames that nest, so depth checks do not walk the stack.
    nesting: usize,
    /// The text of the code block being read (written as one `#raw` at its end).
    code: Option<String>,
    /// The lines of the raw HTML block being read (shown as text at its end).
    html: Option<String>,
    /// Characters since the last space (see [`LONGEST_UNBROKEN_RUN`]).
    run: usize,
}

impl Converter {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => {
                if let Some(code) = self.code.as_mut() {
                    code.push_str(&text);
                } else if let Some(html) = self.html.as_mut() {
                    html.push_str(&text);
                } else {
                    push_text(&mut self.out, &text, &mut self.run);
                }
            }
            Event::Code(code) => {
                self.out.push_str("#raw(");
                self.out.push_str(&string_literal(&breakable_code(&code)));
                self.out.push(')');
                self.run = 0;
            }
            // Raw HTML is shown as the characters typed, never interpreted.
            Event::Html(html) => match self.html.as_mut() {
                Some(block) => block.push_str(&html),
                None => push_text(&mut self.out, &html, &mut self.run),
            },
            Event::InlineHtml(html) => push_text(&mut self.out, &html, &mut self.run),
            // Math and footnotes are not enabled in the parser; should they ever come, they are
            // shown as typed.
            Event::InlineMath(math) => {
                push_text(&mut self.out, &format!("${math}$"), &mut self.run)
            }
            Event::DisplayMath(math) => {
                push_text(&mut self.out, &format!("$${math}$$"), &mut self.run)
            }
            Event::FootnoteReference(label) => {
                push_text(&mut self.out, &format!("[^{label}]"), &mut self.run)
            }
            Event::SoftBreak => {
                self.out.push('\n');
                self.run = 0;
            }
            Event::HardBreak => {
                self.out.push_str("#linebreak()\n");
                self.run = 0;
            }
            Event::Rule => self.block("#line(length: 100%)"),
            Event::TaskListMarker(done) => push_text(
                &mut self.out,
                if done { "[x] " } else { "[ ] " },
                &mut self.run,
            ),
        }
    }

    /// Whether new elements may still be written as Typst calls.
    fn structured(&self) -> bool {
        self.nesting < MAX_NESTING
    }

    /// Whether the list or table this item, row or cell belongs to was written as a Typst call
    /// (then the part is one of the call's arguments).
    fn parent_structured(&self) -> bool {
        self.stack.last().is_none_or(|frame| !frame.flattened)
    }

    fn open(&mut self, opener: &str, closer: &'static str, nests: bool) {
        self.out.push_str(opener);
        self.run = 0;
        self.nesting += usize::from(nests);
        self.stack.push(Frame {
            closer,
            flattened: false,
            nests,
        });
    }

    /// An element that needs no Typst call (a paragraph, a link to a refused target): only its
    /// contents and `closer` are written.
    fn open_plain(&mut self, opener: &str, closer: &'static str) {
        self.out.push_str(opener);
        self.stack.push(Frame {
            closer,
            flattened: false,
            nests: false,
        });
    }

    /// A container written without its Typst call because nesting is too deep.
    fn open_flat(&mut self, opener: &str, closer: &'static str) {
        self.out.push_str(opener);
        self.stack.push(Frame {
            closer,
            flattened: true,
            nests: false,
        });
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.open_plain("", "\n\n"),
            // A heading in user text must not become a heading of the report.
            Tag::Heading { .. } => {
                if self.structured() {
                    self.open("#strong[", "]\n\n", true);
                } else {
                    self.open_flat("", "\n\n");
                }
            }
            Tag::BlockQuote(_) => {
                if self.structured() {
                    self.open("#quote(block: true)[", "]\n\n", true);
                } else {
                    self.open_flat("", "\n\n");
                }
            }
            // The language tag is ignored: code is shown plain, never highlighted.
            Tag::CodeBlock(_) => {
                self.code = Some(String::new());
                self.open_plain("", "");
            }
            Tag::HtmlBlock => {
                self.html = Some(String::new());
                self.open_plain("", "");
            }
            Tag::List(first) => {
                if self.structured() {
                    let opener = match first {
                        Some(first) => format!("#enum(start: {first}, "),
                        None => "#list(".to_owned(),
                    };
                    self.open(&opener, ")\n\n", true);
                } else {
                    self.open_flat("", "\n\n");
                }
            }
            Tag::Item => {
                if self.parent_structured() {
                    self.open("[", "], ", false);
                } else {
                    self.open_flat("• ", "\n\n");
                }
            }
            Tag::Table(alignments) => {
                let columns = alignments.len().max(1);
                if self.structured() {
                    self.open(&format!("#table(columns: {columns}, "), ")\n\n", true);
                } else {
                    self.open_flat("", "\n\n");
                }
            }
            Tag::TableHead => {
                if self.parent_structured() {
                    self.open("table.header(", "), ", false);
                } else {
                    self.open_flat("", "\n\n");
                }
            }
            Tag::TableRow => {
                if self.parent_structured() {
                    self.open("", "", false);
                } else {
                    self.open_flat("", "\n\n");
                }
            }
            Tag::TableCell => {
                if self.parent_structured() {
                    self.open("[", "], ", false);
                } else {
                    self.open_flat("", " ");
                }
            }
            Tag::Emphasis => self.inline("#emph[", "]"),
            Tag::Strong => self.inline("#strong[", "]"),
            Tag::Strikethrough => self.inline("#strike[", "]"),
            Tag::Superscript => self.inline("#super[", "]"),
            Tag::Subscript => self.inline("#sub[", "]"),
            Tag::Link { dest_url, .. } => {
                if self.structured() && link_allowed(&dest_url) {
                    let opener = format!("#link({})[", string_literal(&dest_url));
                    self.open(&opener, "]", true);
                } else {
                    // Any other scheme (javascript:, file:, a relative path) shows its text only.
                    self.open_plain("", "");
                }
            }
            // The description of an image is shown; the image is not loaded.
            Tag::Image { .. } => self.open_plain("", ""),
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.open_plain("", "\n\n"),
        }
    }

    /// An inline element (emphasis and the like): a Typst call while nesting allows it.
    fn inline(&mut self, opener: &str, closer: &'static str) {
        if self.structured() {
            self.open(opener, closer, true);
        } else {
            self.open_flat("", "");
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::CodeBlock => {
                let code = self.code.take().unwrap_or_default();
                // Typst's raw block drops one trailing newline itself only in markup syntax;
                // the string form keeps it, so it is removed here.
                let code = code.strip_suffix('\n').unwrap_or(&code);
                self.block(&format!(
                    "#raw(block: true, {})",
                    string_literal(&breakable_code(code))
                ));
            }
            TagEnd::HtmlBlock => {
                let html = self.html.take().unwrap_or_default();
                let lines: Vec<String> = html
                    .trim_end_matches('\n')
                    .split('\n')
                    .map(|line| {
                        let mut run = 0;
                        let mut out = String::new();
                        push_text(&mut out, line, &mut run);
                        out
                    })
                    .collect();
                self.block(&lines.join("#linebreak()\n"));
            }
            _ => {}
        }
        if let Some(frame) = self.stack.pop() {
            self.nesting -= usize::from(frame.nests);
            self.out.push_str(frame.closer);
        }
    }

    /// A block of its own: separated from what comes before and after by paragraph breaks.
    fn block(&mut self, markup: &str) {
        let at_block_start =
            self.out.is_empty() || self.out.ends_with("\n\n") || self.out.ends_with('[');
        if !at_block_start {
            self.out.push_str("\n\n");
        }
        self.out.push_str(markup);
        self.out.push_str("\n\n");
        self.run = 0;
    }

    fn finish(mut self) -> String {
        // pulldown-cmark closes every element it opens; this only guards against a bug there
        // leaving a bracket open, which would make the whole document fail to compile.
        while let Some(frame) = self.stack.pop() {
            self.out.push_str(frame.closer);
        }
        let trimmed = self.out.trim_end().len();
        self.out.truncate(trimmed);
        self.out
    }
}

/// Only web and mail links are made clickable; `javascript:`, `file:`, `data:` and relative
/// targets are shown as their text.
fn link_allowed(target: &str) -> bool {
    let lower = target.trim().to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len())
}

#[cfg(test)]
mod tests {
    use super::{markdown, string_literal, text};
    use crate::reports::fixture::HOSTILE;

    /// Typesets `body` on an A4 page and returns the PDF.
    fn typeset(body: &str) -> Vec<u8> {
        let main =
            format!("#set page(paper: \"a4\")\n#set text(font: \"Libertinus Serif\")\n{body}");
        typeset::pdf(&typeset::Job {
            main: &main,
            files: vec![],
            today: (2026, 12, 2),
            ident: "markup-test",
        })
        .unwrap_or_else(|error| panic!("typesets: {error}\n---\n{main}"))
    }

    /// The text of a PDF as `pdftotext` reads it, with runs of white space made one space and
    /// the zero-width spaces of long words removed.
    fn visible_text(pdf: &[u8]) -> String {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("markup.pdf");
        std::fs::write(&path, pdf).expect("PDF written");
        let output = std::process::Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext runs (poppler-utils)");
        let text = String::from_utf8_lossy(&output.stdout).replace('\u{200B}', "");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Page sizes as `pdfinfo` prints them, to see that no `#set page` took effect.
    fn page_sizes(pdf: &[u8]) -> Vec<String> {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("markup.pdf");
        std::fs::write(&path, pdf).expect("PDF written");
        let output = std::process::Command::new("pdfinfo")
            .args(["-f", "1", "-l", "999"])
            .arg(&path)
            .output()
            .expect("pdfinfo runs (poppler-utils)");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| line.starts_with("Page") && line.contains("size:"))
            .map(|line| line.split(':').nth(1).unwrap_or("").trim().to_owned())
            .collect()
    }

    /// The strings whose every character is one the PDF's text layer gives back unchanged
    /// (right-to-left text is reordered by pdftotext; emoji have no glyph in the fonts).
    fn ascii_hostile() -> impl Iterator<Item = &'static str> {
        HOSTILE.iter().copied().filter(|s| s.is_ascii())
    }

    #[test]
    fn punctuation_is_escaped_and_letters_are_not() {
        assert_eq!(text("a#b"), "a\\#b");
        assert_eq!(text("= x"), "\\= x");
        assert_eq!(text("1. x"), "1\\. x");
        assert_eq!(text("https://x"), "https\\:\\/\\/x");
        assert_eq!(text("héllo wörld"), "héllo wörld");
    }

    #[test]
    fn single_line_fields_lose_their_line_breaks() {
        assert_eq!(text("a\nb\r\nc\u{2028}d\te"), "a b  c d e");
    }

    #[test]
    fn long_words_get_break_points() {
        let word = "x".repeat(60);
        let escaped = text(&word);
        assert_eq!(escaped.matches('\u{200B}').count(), 2, "{escaped}");
        assert_eq!(escaped.replace('\u{200B}', ""), word);
        // None inside a short word or in non-ASCII runs.
        assert!(!text("Supercalifragilistic").contains('\u{200B}'));
        assert!(!text(&"🚀".repeat(40)).contains('\u{200B}'));
    }

    #[test]
    fn string_literals_escape_quotes_backslashes_and_control_characters() {
        assert_eq!(string_literal(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(string_literal("a\nb\u{7}"), "\"a\\nb\\u{7}\"");
    }

    #[test]
    fn every_hostile_string_typesets_as_its_own_text() {
        let body: Vec<String> = HOSTILE
            .iter()
            .enumerate()
            .map(|(n, s)| format!("Start{n}: {} :End{n}", text(s)))
            .collect();
        let pdf = typeset(&body.join("\n\n"));
        assert_eq!(
            page_sizes(&pdf)
                .iter()
                .filter(|s| s.contains("595"))
                .count(),
            page_sizes(&pdf).len()
        );
        let visible = visible_text(&pdf);
        for (n, s) in HOSTILE.iter().enumerate() {
            let start = format!("Start{n}: ");
            let end = format!(" :End{n}");
            let from = visible.find(&start).map(|i| i + start.len());
            let to = visible.find(&end);
            let (Some(from), Some(to)) = (from, to) else {
                panic!("markers of {s:?} missing in {visible}");
            };
            if s.is_ascii() {
                // A long word may break at the end of a line: compared without white space.
                let shown: String = visible[from..to].split_whitespace().collect();
                let typed: String = s.split_whitespace().collect();
                assert_eq!(shown, typed, "{s:?}");
            }
        }
    }

    #[test]
    fn hostile_markdown_shows_its_text_not_its_effects() {
        let source = HOSTILE.join("\n\n");
        let markup = markdown(&source);
        let pdf = typeset(&markup);
        // `#set page(width: 1cm)` changed nothing: every page is still A4.
        let sizes = page_sizes(&pdf);
        assert!(!sizes.is_empty());
        assert!(sizes.iter().all(|s| s.starts_with("595")), "{sizes:?}");
        let visible = visible_text(&pdf);
        for expected in [
            // A Markdown heading, shown as a bold paragraph.
            "not a heading",
            "$x^2$ and $$ math",
            "<b>raw html</b> & <i>ampersand</i>",
            "<script>alert('x')</script>",
            "<img src=x onerror=alert(1)>",
            "@mention and <label>",
            "brackets ] [ and braces { } and #set page(width: 1cm)",
            "#import \"/etc/passwd\" and #read(\"/etc/passwd\")",
            "// comment /* block */ and https://example.com/x?y=1",
            "~ tilde -- dash --- and 'quotes' \"double\" ... = heading? + list? - list? 1. list?",
            // The javascript: link shows its text and the https one too.
            "link and ok",
            // Markdown emphasis is applied, not shown as asterisks.
            "stars and bold and under scores_",
        ] {
            assert!(visible.contains(expected), "{expected:?} not in {visible}");
        }
        // `# not a heading` is a Markdown heading: it comes out bold, never as a Typst heading.
        assert!(markup.starts_with("#strong[not a heading]"), "{markup}");
        assert!(
            !markup.contains("\n= ") && !markup.contains("#heading"),
            "{markup}"
        );
        assert!(!markup.contains("javascript"), "{markup}");
        assert!(
            markup.contains("#link(\"https://example.com\")"),
            "{markup}"
        );
    }

    #[test]
    fn ascii_hostile_strings_survive_as_code() {
        for s in ascii_hostile() {
            let markup = markdown(&format!("```\n{s}\n```\n\nand `{}`", s.replace('`', "")));
            // Long code breaks at its zero-width spaces: compared without white space.
            let visible: String = visible_text(&typeset(&markup)).split_whitespace().collect();
            let typed: String = s.split_whitespace().collect();
            assert!(visible.contains(&typed), "{s:?} not in {visible}");
        }
    }

    #[test]
    fn markdown_structure_becomes_typst_calls() {
        let markup = markdown(
            "Intro *em* **strong** ~~gone~~ `code`\n\n\
             - one\n- two\n  1. nested\n\n\
             > quoted\n\n\
             | a | b |\n|---|---|\n| 1 | 2 |\n\n\
             line one  \nline two\n\n\
             [mail](mailto:a@example.com) [file](file:///etc/passwd)",
        );
        for expected in [
            "#emph[em]",
            "#strong[strong]",
            "#strike[gone]",
            "#raw(\"code\")",
            "#list([one], [two#enum(start: 1, [nested], )",
            "#quote(block: true)[quoted",
            "#table(columns: 2, table.header([a], [b], ), [1], [2], )",
            "line one#linebreak()",
            "#link(\"mailto:a@example.com\")[mail]",
        ] {
            assert!(markup.contains(expected), "{expected:?} not in {markup}");
        }
        assert!(!markup.contains("file:"), "{markup}");
        let visible = visible_text(&typeset(&markup));
        for expected in [
            "em strong gone code",
            "one",
            "nested",
            "quoted",
            "line one",
            "line two",
            "mail file",
        ] {
            assert!(visible.contains(expected), "{expected:?} not in {visible}");
        }
    }

    #[test]
    fn deep_nesting_is_flattened_and_still_typesets() {
        let quotes = format!("{} deep", ">".repeat(200));
        let lists: String = (0..100)
            .map(|n| format!("{}- level {n}\n", "  ".repeat(n)))
            .collect();
        let stars = format!("{}x{}", "*".repeat(300), "*".repeat(300));
        for source in [quotes, lists, stars] {
            let markup = markdown(&source);
            assert!(
                markup.matches("#quote").count() <= super::MAX_NESTING,
                "{markup}"
            );
            typeset(&markup);
        }
    }

    #[test]
    fn empty_and_odd_input_converts() {
        assert_eq!(markdown(""), "");
        for source in [
            "\\",
            "`",
            "```",
            "<",
            "[",
            "*",
            "|",
            "- ",
            "1.",
            "\u{0}",
            "\r\n\r\n",
            "<!-- c -->",
        ] {
            typeset(&markdown(source));
            typeset(&text(source));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

        /// Whatever a person types, the converters give markup Typst accepts, and a single-line
        /// field shows exactly the characters typed.
        #[test]
        fn any_typed_text_typesets(
            typed in "[-#$*_<>@\\[\\]{}`~=+/'\".:|!()&;%^?, \n>0-9a-zh\u{5d0}\u{1F680}]{0,120}"
        ) {
            typeset(&markdown(&typed));
            let visible: String = visible_text(&typeset(&text(&typed))).split_whitespace().collect();
            if typed.is_ascii() {
                let expected: String = typed.split_whitespace().collect();
                proptest::prop_assert_eq!(visible, expected);
            }
        }
    }
}
