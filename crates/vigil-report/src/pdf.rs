//! The PDF renderer: the `report.typ` template typeset by Typst, used as a library.
//!
//! The template reads the report model as the virtual file `report.json`, so nothing from
//! the logs is ever parsed as Typst markup. The world it compiles in has two files (the
//! template and the model) and the fonts bundled with Typst (Libertinus Serif, DejaVu Sans
//! Mono), which are embedded in the PDF: no file, font or package is read from the machine
//! or the network.

use std::io::Write;
use std::sync::OnceLock;

use serde_json::Value;
use typst::diag::{FileError, FileResult, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

use crate::error::{Error, Result};
use crate::render::{Renderer, Templates};

/// The template's name (and the file a `--template-dir` may hold to replace it).
pub(crate) const TEMPLATE: &str = "report.typ";
const MODEL: &str = "report.json";

/// A PDF with a title page, numbered pages, tables and embedded fonts.
pub(crate) struct Pdf;

impl Renderer for Pdf {
    fn name(&self) -> &'static str {
        "pdf"
    }
    fn extension(&self) -> &'static str {
        "pdf"
    }
    fn render(&self, model: &Value, templates: &Templates, out: &mut dyn Write) -> Result<()> {
        let template = templates.source(TEMPLATE)?;
        out.write_all(&typeset(template, model)?)?;
        Ok(())
    }
}

/// Typesets `template` over `model` into PDF bytes.
fn typeset(template: &str, model: &Value) -> Result<Vec<u8>> {
    let model = serde_json::to_vec(model).map_err(std::io::Error::from)?;
    let world = ReportWorld::new(template, model)?;
    let compiled = typst::compile::<PagedDocument>(&world);
    let document = compiled
        .output
        .map_err(|errors| template_error(&world, errors.as_slice()))?;
    let options = typst_pdf::PdfOptions::default();
    let pdf = typst_pdf::pdf(&document, &options)
        .map_err(|errors| template_error(&world, errors.as_slice()))?;
    // Typst memoizes across compilations; keep that cache from growing run after run.
    typst::comemo::evict(2);
    Ok(pdf)
}

/// The first error of a failed compilation, with its line in the template.
fn template_error(world: &ReportWorld, errors: &[SourceDiagnostic]) -> Error {
    let reason = errors
        .iter()
        .find(|e| e.severity == Severity::Error)
        .or(errors.first())
        .map(|e| {
            let line = world
                .range(e.span)
                .and_then(|r| world.main.lines().byte_to_line(r.start))
                .map(|l| format!("line {}: ", l + 1))
                .unwrap_or_default();
            let hints: String = e
                .hints
                .iter()
                .map(|h| format!(" (hint: {})", h.v))
                .collect();
            format!("{line}{}{hints}", e.message)
        })
        .unwrap_or_else(|| "typesetting failed".to_string());
    Error::Template {
        name: TEMPLATE.to_string(),
        reason,
    }
}

fn file_id(path: &str) -> Result<FileId> {
    let vpath = VirtualPath::new(path).map_err(|e| Error::Template {
        name: TEMPLATE.to_string(),
        reason: format!("{path}: {e}"),
    })?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// The fonts bundled with Typst, parsed once per process.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        Fonts {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

/// Everything the template may read: itself and the model.
struct ReportWorld {
    main: Source,
    model_id: FileId,
    model: Bytes,
}

impl ReportWorld {
    fn new(template: &str, model: Vec<u8>) -> Result<ReportWorld> {
        Ok(ReportWorld {
            main: Source::new(file_id(&format!("/{TEMPLATE}"))?, template.to_string()),
            model_id: file_id(&format!("/{MODEL}"))?,
            model: Bytes::new(model),
        })
    }

    fn not_found(id: FileId) -> FileError {
        FileError::NotFound(id.vpath().get_with_slash().into())
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().book
    }
    fn main(&self) -> FileId {
        self.main.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(Self::not_found(id))
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.model_id {
            Ok(self.model.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.text().to_string()))
        } else {
            Err(Self::not_found(id))
        }
    }
    fn font(&self, index: usize) -> Option<Font> {
        fonts().fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // Reports are reproducible: the template gets no clock.
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_errors_name_the_line() {
        let err = typeset("= Title\n#let x = (\n", &serde_json::json!({}))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("report.typ") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn the_template_reads_no_file_but_the_model() {
        let err = typeset("#read(\"/etc/passwd\")", &serde_json::json!({}))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("not found"), "{err}");
    }

    #[test]
    fn hostile_values_are_text() {
        let pdf = typeset(
            "#let d = json(\"report.json\")\n#d.x",
            &serde_json::json!({"x": "#read(\"/etc/passwd\") ]* = #panic()"}),
        )
        .unwrap_or_default();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
