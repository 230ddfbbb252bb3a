//! Plumbline's PDF engine: Typst, compiled in this process over files held in memory.
//!
//! The report is typeset here rather than printed by a browser: no external binary or browser
//! runs at request time, and the fonts are compiled into the binary (Typst's embedded set:
//! Libertinus Serif, New Computer Modern, DejaVu Sans Mono), so the same input gives the same
//! PDF on every machine. Nothing is read from disk or the network: a file the document asks for
//! that was not handed in is "not found".
//!
//! This crate knows nothing about audits. It takes Typst source plus named files (JSON data,
//! SVG charts, a logo) and returns PDF bytes or the compiler's messages with line numbers.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_kit::fonts::FontStore;
use typst_layout::PagedDocument;

/// What to typeset: the main Typst source, the files it may read, and the date `today()` gives.
pub struct Job<'a> {
    pub main: &'a str,
    /// Files by their path inside the document, such as `data.json` or `charts/scores.svg`.
    pub files: Vec<(&'a str, Vec<u8>)>,
    /// Fixed so that the same input gives the same PDF whenever it is rendered.
    pub today: (i32, u8, u8),
    /// A stable identifier for the document (the PDF's /ID is derived from it).
    pub ident: &'a str,
}

/// Typst refused the document. Each message names the line of the main source it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypesetError {
    pub messages: Vec<String>,
}

impl std::fmt::Display for TypesetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.messages.join("; "))
    }
}

impl std::error::Error for TypesetError {}

/// The parts every document shares, built once per process: the standard library and the
/// embedded fonts (parsing the fonts takes a few milliseconds, not worth repeating per report).
struct Engine {
    library: LazyHash<Library>,
    fonts: FontStore,
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut fonts = FontStore::new();
        fonts.extend(typst_kit::fonts::embedded());
        Engine {
            library: LazyHash::new(Library::builder().build()),
            fonts,
        }
    })
}

/// Typesets `job` into PDF bytes. CPU-bound and not cancellable: callers in async code run it on
/// a blocking thread and bound how many run at once.
pub fn pdf(job: &Job<'_>) -> Result<Vec<u8>, TypesetError> {
    let t0 = std::time::Instant::now();
    let world = MemoryWorld::new(job)?;
    let compiled = typst::compile::<PagedDocument>(&world);
    let t1 = t0.elapsed();
    let result = compiled
        .output
        .map_err(|errors| world.describe(&errors))
        .and_then(|document| {
            let options = typst_pdf::PdfOptions {
                ident: typst::foundations::Smart::Custom(job.ident.to_owned()),
                ..Default::default()
            };
            typst_pdf::pdf(&document, &options).map_err(|errors| world.describe(&errors))
        });
    let t2 = t0.elapsed();
    let age: usize = std::env::var("EXP_EVICT_AGE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    comemo::evict(age);
    if std::env::var_os("EXP_TIMING").is_some() {
        eprintln!(
            "EXP compile {t1:?} export {:?} evict {:?}",
            t2 - t1,
            t0.elapsed() - t2
        );
    }
    result
}

/// A `World` whose files all live in memory.
struct MemoryWorld {
    main: FileId,
    source: Source,
    files: HashMap<FileId, Bytes>,
    today: Option<Datetime>,
}

impl MemoryWorld {
    fn new(job: &Job<'_>) -> Result<MemoryWorld, TypesetError> {
        let main = file_id("main.typ")?;
        let mut files = HashMap::new();
        for (path, bytes) in &job.files {
            files.insert(file_id(path)?, Bytes::new(bytes.clone()));
        }
        let (year, month, day) = job.today;
        Ok(MemoryWorld {
            main,
            source: Source::new(main, job.main.to_owned()),
            files,
            today: Datetime::from_ymd(year, month, day),
        })
    }

    /// Turns Typst's diagnostics into plain messages with the line they point at.
    fn describe(&self, diagnostics: &[SourceDiagnostic]) -> TypesetError {
        let messages = diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == Severity::Error)
            .map(|diagnostic| {
                let line = self
                    .range(diagnostic.span)
                    .filter(|_| diagnostic.span.id() == Some(self.main))
                    .and_then(|range| self.source.lines().byte_to_line(range.start));
                match line {
                    Some(line) => format!("main.typ line {}: {}", line + 1, diagnostic.message),
                    None => diagnostic.message.to_string(),
                }
            })
            .collect();
        TypesetError { messages }
    }
}

fn file_id(path: &str) -> Result<FileId, TypesetError> {
    let path = format!("/{}", path.trim_start_matches('/'));
    let virtual_path = VirtualPath::new(&path).map_err(|error| TypesetError {
        messages: vec![format!("{path}: {error}")],
    })?;
    Ok(RootedPath::new(VirtualRoot::Project, virtual_path).intern())
}

impl World for MemoryWorld {
    fn library(&self) -> &LazyHash<Library> {
        &engine().library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        engine().fonts.book()
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main {
            return Ok(self.source.clone());
        }
        let bytes = self.file(id)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| FileError::InvalidUtf8)?;
        Ok(Source::new(id, text.to_owned()))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main {
            return Ok(Bytes::from_string(self.source.clone()));
        }
        self.files
            .get(&id)
            .cloned()
            .ok_or_else(|| FileError::NotFound(id.vpath().get_without_slash().into()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        engine().fonts.font(index)
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        self.today
    }
}

#[cfg(test)]
mod tests {
    use super::{pdf, Job};

    fn job(main: &str) -> Job<'_> {
        Job {
            main,
            files: vec![("data.json", br#"{"title": "Hello"}"#.to_vec())],
            today: (2026, 12, 2),
            ident: "test",
        }
    }

    #[test]
    fn a_document_reading_its_data_file_becomes_a_pdf() {
        let bytes = pdf(&job(
            "#let data = json(\"data.json\")\n= #data.title\n\nBody text.",
        ))
        .expect("typesets");
        assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let source = "= Title\n\n#datetime.today().display()";
        assert_eq!(pdf(&job(source)), pdf(&job(source)));
    }

    #[test]
    fn errors_name_the_line() {
        let error = pdf(&job("fine\n#undefined-function()")).expect_err("must fail");
        assert!(
            error.messages.iter().any(|m| m.contains("line 2")),
            "{error:?}"
        );
    }

    #[test]
    fn files_not_handed_in_are_not_found() {
        let error = pdf(&job("#read(\"/etc/passwd\")")).expect_err("must fail");
        assert!(!error.messages.is_empty());
    }
}
