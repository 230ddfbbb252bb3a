//! ADR files: MADR 2 export, MADR 2/3 and Nygard (adr-tools) import, and `docs/adr/` zip archives
//! that survive hostile input.
#![cfg(feature = "server")]

use std::io::{Cursor, Write};

use audit::decisions::{
    adr_file_name, adr_to_markdown, adrs_from_zip, adrs_to_zip, parse_adr, AdrRecord,
    DecisionStatus,
};
use proptest::prelude::*;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

fn record(number: u32, title: &str) -> AdrRecord {
    AdrRecord {
        number,
        title: title.to_owned(),
        status: DecisionStatus::Proposed,
        date: None,
        deciders: String::new(),
        context: String::new(),
        options: String::new(),
        decision: String::new(),
        consequences: String::new(),
        supersedes: None,
        superseded_by: None,
        expires: None,
    }
}

fn no_titles(_: u32) -> Option<String> {
    None
}

/// Records with every field, awkward Markdown included.
fn sample_records() -> Vec<AdrRecord> {
    let first = AdrRecord {
        number: 1,
        title: "Record architecture decisions".to_owned(),
        status: DecisionStatus::Accepted,
        date: Some("2016-02-12".to_owned()),
        deciders: "Ana Lima, Bo Chen".to_owned(),
        context: "We need to record the architectural decisions made on this project.\n\n\
                  - who decided\n- why\n  - and when"
            .to_owned(),
        options: "* Nygard's ADRs\n* MADR\n* A wiki page\n\n## Pros and Cons of the Options\n\n\
                  ### MADR\n\n* Good, because structured\n* Bad, because longer"
            .to_owned(),
        decision: "Chosen option: \"MADR\", because it is structured.\n\n\
                   ```markdown\n# not a title\n## Decision Outcome\n## Status\n### Consequences\n```\n\n\
                   ### Confirmation\n\nReviewed in the architecture guild."
            .to_owned(),
        consequences: "### Positive Consequences\n\n* Decisions are findable\n\n\
                       ### Negative Consequences\n\n* One more file per decision"
            .to_owned(),
        supersedes: None,
        superseded_by: None,
        expires: None,
    };
    let third = AdrRecord {
        number: 3,
        title: "Usar PostgreSQL para tudo — ação rápida 🚀".to_owned(),
        status: DecisionStatus::Superseded,
        date: Some("2024-02-29".to_owned()),
        deciders: "Zoë Ångström".to_owned(),
        context: "Ein Kontext mit Ümlauten, 日本語 and emoji 🎉.\n\n\
                  ## Decision Outcome\n\nThis line above is text, not a section.\n\n\
                  \\## Status\n\n## Background\n\nA heading of our own."
            .to_owned(),
        options: String::new(),
        decision: "~~~sql\n## Context\nSELECT 1;\n~~~\n\n    ## indented code, not a heading"
            .to_owned(),
        consequences: String::new(),
        supersedes: Some(1),
        superseded_by: Some(7),
        expires: Some("2027-03-01".to_owned()),
    };
    let seventh = AdrRecord {
        supersedes: Some(3),
        ..record(7, "3. Reasons to split the database")
    };
    let twelfth = AdrRecord {
        number: 12,
        title: "Waive finding F-12 until the migration".to_owned(),
        status: DecisionStatus::Accepted,
        date: Some("2026-11-22".to_owned()),
        deciders: String::new(),
        context: "| a | b |\n|---|---|\n| 1 | 2 |".to_owned(),
        options: "1. Fix now\n2. Waive".to_owned(),
        decision: String::new(),
        consequences: "Re-check on expiry.\n\n## Links\n\n* Refined by [ADR-0001](0001-record-architecture-decisions.md)".to_owned(),
        supersedes: None,
        superseded_by: Some(99),
        expires: Some("2027-03-01".to_owned()),
    };
    vec![twelfth, first, seventh, third]
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(*name, options).expect("start file");
        zip.write_all(bytes).expect("write file");
    }
    zip.finish().expect("finish zip").into_inner()
}

#[test]
fn records_survive_a_zip_round_trip() {
    let records = sample_records();
    let bytes = adrs_to_zip(&records).expect("export");
    let import = adrs_from_zip(&bytes).expect("import");
    assert_eq!(import.skipped, vec![]);
    let mut expected = records.clone();
    expected.sort_by_key(|r| r.number);
    assert_eq!(import.records, expected);

    // Each record on its own, without links to look up, reads back the same too.
    for record in &records {
        let markdown = adr_to_markdown(record, &no_titles);
        let path = format!("docs/adr/{}", adr_file_name(record.number, &record.title));
        assert_eq!(
            &parse_adr(&path, &markdown).expect("parse"),
            record,
            "{markdown}"
        );
    }
}

#[test]
fn the_archive_has_the_adr_tools_layout_and_readable_links() {
    let bytes = adrs_to_zip(&sample_records()).expect("export");
    let mut archive = ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    let names: Vec<String> = (0..archive.len())
        .filter_map(|i| archive.name_for_index(i).and_then(Result::ok))
        .map(|name| name.into_owned())
        .collect();
    assert_eq!(
        names,
        vec![
            ".adr-dir",
            "docs/adr/0001-record-architecture-decisions.md",
            "docs/adr/0003-usar-postgresql-para-tudo-acao-rapida.md",
            "docs/adr/0007-3-reasons-to-split-the-database.md",
            "docs/adr/0012-waive-finding-f-12-until-the-migration.md",
        ]
    );
    let mut read = |name: &str| {
        let mut file = archive.by_name(name).expect("entry");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).expect("utf-8");
        text
    };
    assert_eq!(read(".adr-dir").trim(), "docs/adr");
    let third = read("docs/adr/0003-usar-postgresql-para-tudo-acao-rapida.md");
    assert!(third.starts_with("# Usar PostgreSQL para tudo — ação rápida 🚀\n\n- Status: superseded by [ADR-0007](0007-3-reasons-to-split-the-database.md)\n- Deciders: Zoë Ångström\n- Date: 2024-02-29\n- Supersedes: [ADR-0001](0001-record-architecture-decisions.md)\n- Expires: 2027-03-01\n\n## Context and Problem Statement\n"), "{third}");
    assert!(third.contains("\n\\## Decision Outcome\n"), "{third}");
    assert!(third.contains("\n\\\\## Status\n"), "{third}");
    assert!(third.contains("\n## Background\n"), "{third}");
    let seventh = read("docs/adr/0007-3-reasons-to-split-the-database.md");
    assert!(
        seventh.starts_with("# 3\\. Reasons to split the database\n\n- Status: proposed\n"),
        "{seventh}"
    );
    assert!(!seventh.contains("### Consequences"), "{seventh}");
    let twelfth = read("docs/adr/0012-waive-finding-f-12-until-the-migration.md");
    // Record 99 is not in the archive: plain text rather than a dead link.
    assert!(twelfth.contains("- Status: accepted\n- Date: 2026-11-22\n- Superseded by: ADR-0099\n- Expires: 2027-03-01\n"), "{twelfth}");
}

#[test]
fn reads_adr_tools_nygard_files() {
    let first = "# 1. Record architecture decisions

Date: 2016-02-12

## Status

Accepted

## Context

We need to record the architectural decisions made on this project.

## Decision

We will use Architecture Decision Records, as [described by Michael Nygard](http://thinkrelevance.com/blog/2011/11/15/documenting-architecture-decisions).

## Consequences

See Michael Nygard's article, linked above. For a lightweight ADR toolset, see Nat Pryce's [adr-tools](https://github.com/npryce/adr-tools).
";
    let record = parse_adr("doc/adr/0001-record-architecture-decisions.md", first).expect("parse");
    assert_eq!(record.number, 1);
    assert_eq!(record.title, "Record architecture decisions");
    assert_eq!(record.status, DecisionStatus::Accepted);
    assert_eq!(record.date.as_deref(), Some("2016-02-12"));
    assert_eq!(
        record.context,
        "We need to record the architectural decisions made on this project."
    );
    assert!(record
        .decision
        .starts_with("We will use Architecture Decision Records"));
    assert!(record
        .consequences
        .starts_with("See Michael Nygard's article"));
    assert_eq!(record.options, "");
    assert_eq!((record.supersedes, record.superseded_by), (None, None));

    let superseded = "# 2. Use MySQL\r\n\r\nDate: 2016-03-01\r\n\r\n## Status\r\n\r\nSuperseded by [3. Use PostgreSQL](0003-use-postgresql.md)\r\n\r\nAmended by [4. Tune MySQL](0004-tune-mysql.md)\r\n\r\n## Context\r\n\r\nWe need a database.\r\n\r\n## Decision\r\n\r\nMySQL.\r\n\r\n## Consequences\r\n\r\nNone yet.\r\n";
    let record = parse_adr("0002-use-mysql.md", superseded).expect("parse");
    assert_eq!(record.status, DecisionStatus::Superseded);
    assert_eq!(record.superseded_by, Some(3));
    assert_eq!(record.decision, "MySQL.");
    // The link adr-tools added is kept.
    assert_eq!(
        record.consequences,
        "None yet.\n\n## Links\n\n- Amended by [4. Tune MySQL](0004-tune-mysql.md)"
    );

    let replacing = "# 3. Use PostgreSQL

Date: 2016-03-02

## Status

Accepted

Supersedes [2. Use MySQL](0002-use-mysql.md)

## Context

MySQL does not do what we need.

## Decision

PostgreSQL.

## Consequences

A migration.
";
    // No number in the file name: the heading's number is used.
    let record = parse_adr("decisions/use-postgresql.md", replacing).expect("parse");
    assert_eq!(record.number, 3);
    assert_eq!(record.status, DecisionStatus::Accepted);
    assert_eq!(record.supersedes, Some(2));
    assert_eq!(record.superseded_by, None);
}

#[test]
fn reads_madr_2_bullets() {
    let text = "# Use Markdown Architectural Decision Records

* Status: accepted <!-- optional -->
* Deciders: Oliver Kopp, Olaf Zimmermann
* Date: 2017-12-11

Technical Story: [#42](https://example.org/issues/42)

## Context and Problem Statement

We want to record architectural decisions made in this project.
Which format and structure should these records follow?

## Decision Drivers <!-- optional -->

* easy to write

## Considered Options

* [MADR](https://adr.github.io/madr/) 2.1.2
* Michael Nygard's template
* Formless – No conventions for file format and structure

## Decision Outcome

Chosen option: \"MADR 2.1.2\", because

* Implicit assumptions should be made explicit.

### Positive Consequences <!-- optional -->

* Decisions are recorded.

### Negative Consequences <!-- optional -->

* Learning curve.

## Pros and Cons of the Options <!-- optional -->

### MADR 2.1.2

* Good, because lean

### Michael Nygard's template

* Bad, because no options

## Links <!-- optional -->

* Refined by [ADR-0005](0005-example.md)
";
    let record = parse_adr(
        "docs/adr/0000-use-markdown-architectural-decision-records.md",
        text,
    )
    .expect("parse");
    assert_eq!(record.number, 0);
    assert_eq!(record.title, "Use Markdown Architectural Decision Records");
    assert_eq!(record.status, DecisionStatus::Accepted);
    assert_eq!(record.deciders, "Oliver Kopp, Olaf Zimmermann");
    assert_eq!(record.date.as_deref(), Some("2017-12-11"));
    assert_eq!(
        record.context,
        "Technical Story: [#42](https://example.org/issues/42)\n\n\
         We want to record architectural decisions made in this project.\n\
         Which format and structure should these records follow?\n\n\
         ## Decision Drivers <!-- optional -->\n\n* easy to write"
    );
    assert!(record
        .options
        .starts_with("* [MADR](https://adr.github.io/madr/) 2.1.2\n"));
    assert!(record.options.contains(
        "\n\n## Pros and Cons of the Options <!-- optional -->\n\n### MADR 2.1.2\n\n* Good, because lean\n"
    ));
    assert!(record.options.ends_with("* Bad, because no options"));
    assert_eq!(
        record.decision,
        "Chosen option: \"MADR 2.1.2\", because\n\n* Implicit assumptions should be made explicit."
    );
    assert_eq!(
        record.consequences,
        "### Positive Consequences <!-- optional -->\n\n* Decisions are recorded.\n\n\
         ### Negative Consequences <!-- optional -->\n\n* Learning curve.\n\n\
         ## Links <!-- optional -->\n\n* Refined by [ADR-0005](0005-example.md)"
    );

    // Exported again and read back: the same record (the kept headings are not escaped).
    let again = adr_to_markdown(&record, &no_titles);
    assert!(!again.contains("\\#"), "{again}");
    assert_eq!(parse_adr("0000-x.md", &again).expect("parse"), record);

    // Log4brains' flavour: "- Status: draft" and a superseded status with a link.
    let log4brains = "# Use Log4brains\n\n- Status: superseded by [ADR-0009](0009-use-something-else.md)\n- Date: 2021-01-05\n- Tags: doc\n\n## Context and Problem Statement\n\nDocs.\n";
    let record = parse_adr("adr/20210105-use-log4brains.md", log4brains);
    let record = record.expect("parse");
    assert_eq!(record.status, DecisionStatus::Superseded);
    assert_eq!(record.superseded_by, Some(9));
    assert_eq!(record.context, "- Tags: doc\n\nDocs.");
    let draft = parse_adr("0004-x.md", "# X\n\n- Status: draft\n").expect("parse");
    assert_eq!(draft.status, DecisionStatus::Proposed);
}

#[test]
fn reads_madr_3_and_4_front_matter() {
    let madr3 = "---
# These are optional elements. Feel free to remove any of them.
status: accepted
date: 2022-11-05
deciders: [Ana Lima, \"Bo Chen\"]
consulted: Eve
informed: {list everyone who is kept up-to-date}
---
# Use Plain JUnit5 for advanced test assertions

## Context and Problem Statement

How to write readable test assertions?

<!-- This is an optional element. Feel free to remove. -->
## Decision Drivers

* Readable tests

## Considered Options

* Plain JUnit5
* Hamcrest

## Decision Outcome

Chosen option: \"Plain JUnit5\", because it comes out best.

### Consequences

* Good, because tests are more readable
* Bad, because more writing

## Validation

Code review.

## More Information

See the [JUnit docs](https://junit.org).
";
    let record = parse_adr("docs/decisions/0005-use-plain-junit5.md", madr3).expect("parse");
    assert_eq!(record.number, 5);
    assert_eq!(
        record.title,
        "Use Plain JUnit5 for advanced test assertions"
    );
    assert_eq!(record.status, DecisionStatus::Accepted);
    assert_eq!(record.date.as_deref(), Some("2022-11-05"));
    assert_eq!(record.deciders, "Ana Lima, Bo Chen");
    assert!(record
        .context
        .starts_with("How to write readable test assertions?"));
    assert!(record
        .context
        .ends_with("## Decision Drivers\n\n* Readable tests"));
    assert_eq!(record.options, "* Plain JUnit5\n* Hamcrest");
    assert_eq!(
        record.decision,
        "Chosen option: \"Plain JUnit5\", because it comes out best.\n\n## Validation\n\nCode review."
    );
    assert_eq!(
        record.consequences,
        "* Good, because tests are more readable\n* Bad, because more writing\n\n\
         ## More Information\n\nSee the [JUnit docs](https://junit.org).\n\n\
         ## More Information\n\n- Consulted: Eve"
    );

    let madr4 = "---\nstatus: \"superseded by [ADR-0008](0008-use-assertj.md)\"\ndate: 2024-06-01\ndecision-makers:\n  - Ana Lima\n  - Bo Chen\n---\n\n# Use Hamcrest\n\n## Context and Problem Statement\n\nWhich assertion library?\n\n## Decision Outcome\n\nHamcrest.\n\n### Confirmation\n\nA lint rule.\n";
    let record = parse_adr("0006-use-hamcrest.md", madr4).expect("parse");
    assert_eq!(record.status, DecisionStatus::Superseded);
    assert_eq!(record.superseded_by, Some(8));
    assert_eq!(record.deciders, "Ana Lima, Bo Chen");
    assert_eq!(
        record.decision,
        "Hamcrest.\n\n### Confirmation\n\nA lint rule."
    );
}

#[test]
fn parse_errors_are_short_sentences() {
    assert_eq!(
        parse_adr("0001-x.md", "Just some notes.\n\n## Context\n\nNothing.\n"),
        Err("no title (the file needs a '# Title' line)".to_owned())
    );
    assert_eq!(
        parse_adr("0001-x.md", "# X\n\n- Status: maybe\n"),
        Err("unknown status 'maybe'".to_owned())
    );
    assert_eq!(
        parse_adr("0001-x.md", "# X\n\nDate: 12/02/2016\n"),
        Err("invalid date '12/02/2016' (expected YYYY-MM-DD)".to_owned())
    );
    assert_eq!(
        parse_adr("0001-x.md", "# X\n\n- Expires: 2027-02-30\n"),
        Err("invalid expiry date '2027-02-30' (expected YYYY-MM-DD)".to_owned())
    );
    assert!(parse_adr("notes/x.md", "# X\n")
        .expect_err("no number")
        .starts_with("no number"));
}

#[test]
fn imports_what_it_can_and_says_why_not_the_rest() {
    let good = adr_to_markdown(&record(2, "Use Rust"), &no_titles);
    let png = [
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d,
    ];
    let not_utf8: &[u8] = b"# Caf\xe9 au lait\n\n- Status: accepted\n";
    let duplicate = adr_to_markdown(&record(2, "Use Rust again"), &no_titles);
    let bytes = zip_of(&[
        ("docs/adr/README.md", b"# Decisions\n\nSee below.\n"),
        ("docs/adr/0002-use-rust.md", good.as_bytes()),
        (
            "docs/adr/0003-garbage.md",
            b"lorem ipsum, no heading at all\n",
        ),
        ("docs/adr/0004-latin1.md", not_utf8),
        ("docs/adr/diagram.png", &png),
        ("other/0002-use-rust-again.md", duplicate.as_bytes()),
        ("docs/adr/templates/template.md", b"# [short title]\n"),
        (
            "__MACOSX/docs/adr/._0002-use-rust.md",
            b"\x00\x05\x16\x07\xff",
        ),
    ]);
    let import = adrs_from_zip(&bytes).expect("import");
    assert_eq!(import.records, vec![record(2, "Use Rust")]);
    let skipped: Vec<(&str, &str)> = import
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        vec![
            ("docs/adr/README.md", "not a decision record"),
            (
                "docs/adr/0003-garbage.md",
                "no title (the file needs a '# Title' line)"
            ),
            ("docs/adr/0004-latin1.md", "not UTF-8 text"),
            (
                "other/0002-use-rust-again.md",
                "number 2 is already used by docs/adr/0002-use-rust.md"
            ),
            ("docs/adr/templates/template.md", "not a decision record"),
        ]
    );
}

#[test]
fn bytes_that_are_not_a_zip_are_an_error() {
    for bytes in [
        &b""[..],
        b"not a zip at all",
        b"PK\x03\x04 truncated",
        &[0u8; 64],
    ] {
        let error = adrs_from_zip(bytes).expect_err("not a zip");
        assert_eq!(error, "this is not a zip archive");
    }
}

#[test]
fn zip_bombs_stop_at_the_limits() {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1));
    let mut big = b"# Big\n\n".to_vec();
    big.resize(1024 * 1024 + 10, b'a');

    // One oversized file is skipped, the others imported.
    let small = adr_to_markdown(&record(1, "Small"), &no_titles);
    let bytes = zip_of(&[("0001-small.md", small.as_bytes()), ("0002-big.md", &big)]);
    let import = adrs_from_zip(&bytes).expect("import");
    assert_eq!(import.records.len(), 1);
    assert_eq!(import.skipped[0].reason, "larger than 1 MiB");

    // More than 20 MiB in all: an error.
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let almost = vec![b'a'; 1024 * 1024];
    for i in 0..21 {
        zip.start_file(format!("{i:04}-part.md"), options)
            .expect("start");
        zip.write_all(&almost).expect("write");
    }
    let bytes = zip.finish().expect("finish").into_inner();
    assert!(bytes.len() < 1_000_000, "{}", bytes.len());
    assert!(adrs_from_zip(&bytes)
        .expect_err("too much")
        .contains("20 MiB"));

    // More than 1000 entries: an error.
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..1001 {
        zip.start_file(format!("{i}.txt"), options).expect("start");
    }
    let bytes = zip.finish().expect("finish").into_inner();
    assert!(adrs_from_zip(&bytes)
        .expect_err("too many")
        .contains("1000"));
}

#[test]
fn file_names_are_kebab_case_and_short() {
    assert_eq!(
        adr_file_name(7, "Use PostgreSQL for everything"),
        "0007-use-postgresql-for-everything.md"
    );
    assert_eq!(
        adr_file_name(12, "  Café & Crème: São Paulo!  "),
        "0012-cafe-creme-sao-paulo.md"
    );
    assert_eq!(
        adr_file_name(3, "Straße, Œuvre, Łódź"),
        "0003-strasse-oeuvre-lodz.md"
    );
    assert_eq!(
        adr_file_name(4, "Cafe\u{301} decomposed"),
        "0004-cafe-decomposed.md"
    );
    assert_eq!(adr_file_name(5, "日本語"), "0005-decision.md");
    assert_eq!(adr_file_name(6, ""), "0006-decision.md");
    assert_eq!(adr_file_name(12345, "x"), "12345-x.md");

    let long =
        "Split the monolith into services along the bounded contexts of billing and shipping";
    let name = adr_file_name(1, long);
    let slug = name.trim_start_matches("0001-").trim_end_matches(".md");
    assert!(slug.len() <= 60, "{slug}");
    assert_eq!(
        slug,
        "split-the-monolith-into-services-along-the-bounded-contexts"
    );
    assert!(long.to_lowercase().replace(' ', "-").starts_with(slug));
    let one_word = "a".repeat(100);
    assert_eq!(
        adr_file_name(1, &one_word),
        format!("0001-{}.md", "a".repeat(60))
    );
}

#[test]
fn hostile_titles_stay_inside_docs_adr() {
    let titles = [
        "../../etc/passwd",
        "# x",
        "line one\nline two\r\n# three",
        "/absolute",
        "..\\..\\windows",
        "\u{0}\u{1b}[31mred",
        "....",
        "-- --",
        "CON",
    ];
    let records: Vec<AdrRecord> = titles
        .iter()
        .enumerate()
        .map(|(i, title)| record(u32::try_from(i).expect("small") + 1, title))
        .collect();
    for r in &records {
        let name = adr_file_name(r.number, &r.title);
        let slug = name.trim_end_matches(".md");
        assert!(
            slug.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{name}"
        );
        assert!(!slug.contains("--") && !slug.ends_with('-'), "{name}");
    }
    let bytes = adrs_to_zip(&records).expect("export");
    let archive = ZipArchive::new(Cursor::new(bytes.clone())).expect("zip");
    for i in 0..archive.len() {
        let name = archive
            .name_for_index(i)
            .expect("entry")
            .expect("name")
            .into_owned();
        assert!(
            name == ".adr-dir" || name.starts_with("docs/adr/"),
            "{name}"
        );
        assert!(!name.contains(".."), "{name}");
    }
    // And they read back (titles on one line).
    let import = adrs_from_zip(&bytes).expect("import");
    assert_eq!(import.skipped, vec![]);
    assert_eq!(import.records[1].title, "# x");
    assert_eq!(import.records[2].title, "line one line two # three");
}

#[test]
fn duplicate_numbers_cannot_be_exported() {
    let error = adrs_to_zip(&[record(4, "A"), record(4, "B")]).expect_err("duplicate");
    assert_eq!(error, "two decision records are numbered 4");
}

fn markdown_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just(String::new()),
        Just("## Decision Outcome".to_owned()),
        Just("## Context".to_owned()),
        Just("## Status".to_owned()),
        Just("### Consequences".to_owned()),
        Just("### Positive Consequences".to_owned()),
        Just("## Pros and Cons of the Options".to_owned()),
        Just("## More Information".to_owned()),
        Just("## Something else".to_owned()),
        Just("# Heading one".to_owned()),
        Just("```".to_owned()),
        Just("~~~~".to_owned()),
        Just("- Status: accepted".to_owned()),
        Just("---".to_owned()),
        "\\\\{0,2} {0,4}#{1,4} [a-zA-Z ]{0,12}",
        "[ -~äé日\\t]{0,20}",
    ];
    prop::collection::vec(line, 0..8).prop_map(|lines| lines.join("\n"))
}

fn any_record() -> impl Strategy<Value = AdrRecord> {
    let date = prop::option::of((1990u32..2100, 1u32..13, 1u32..29))
        .prop_map(|d| d.map(|(y, m, day)| format!("{y:04}-{m:02}-{day:02}")));
    (
        (0u32..20_000, "[ -~é\\n#]{0,30}", 0usize..5, date.clone()),
        ("[ -~\\n]{0,20}", markdown_text(), markdown_text()),
        (markdown_text(), markdown_text()),
        (prop::option::of(0u32..50), prop::option::of(0u32..50), date),
    )
        .prop_map(
            |(
                (number, title, status, date),
                (deciders, context, options),
                (decision, consequences),
                (supersedes, superseded_by, expires),
            )| AdrRecord {
                number,
                title,
                status: DecisionStatus::ALL[status],
                date,
                deciders,
                context,
                options,
                decision,
                consequences,
                supersedes,
                superseded_by,
                expires,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever the record holds, writing and reading settles after one pass, and the parts the
    /// writer does not normalise come back as they were.
    #[test]
    fn writing_then_reading_is_stable(record in any_record()) {
        let path = format!("docs/adr/{}", adr_file_name(record.number, &record.title));
        let once = parse_adr(&path, &adr_to_markdown(&record, &no_titles)).expect("first read");
        let twice = parse_adr(&path, &adr_to_markdown(&once, &no_titles)).expect("second read");
        prop_assert_eq!(&once, &twice);
        prop_assert_eq!(once.number, record.number);
        prop_assert_eq!(once.status, record.status);
        prop_assert_eq!(once.supersedes, record.supersedes);
        prop_assert_eq!(once.superseded_by, record.superseded_by);
        prop_assert_eq!(&once.date, &record.date);
        prop_assert_eq!(&once.expires, &record.expires);
    }

    #[test]
    fn parsing_never_panics(path in "[ -~]{0,20}", text in "(?s).{0,400}") {
        let _ = parse_adr(&path, &text);
    }

    #[test]
    fn parsing_markdown_like_text_never_panics(text in markdown_text(), front in any::<bool>()) {
        let text = if front { format!("---\nstatus: x\n---\n{text}") } else { text };
        let _ = parse_adr("0001-x.md", &text);
    }

    #[test]
    fn reading_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = adrs_from_zip(&bytes);
    }
}
