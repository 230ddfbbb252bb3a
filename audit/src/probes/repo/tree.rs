//! The repository as a list of files, walked once: bounded in count and depth, never following
//! a link, skipping folders that hold dependencies or build output rather than the team's work.
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Folders that are not the team's own files: version control, installed dependencies, build
/// output and tool caches. Reading them would slow the walk and flag other people's code.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "bower_components",
    "target",
    "vendor",
    ".venv",
    "venv",
    "__pycache__",
    ".cache",
    ".next",
    ".nuxt",
    ".terraform",
    ".terragrunt-cache",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".gradle",
    ".idea",
    ".yarn",
    ".pnpm-store",
    "dist",
    "coverage",
];

/// Folder depth below the root; deeper trees are generated code or an attack.
const MAX_DEPTH: usize = 24;

/// Bytes of one file read for content checks; manifests, templates and configs are far smaller.
pub(crate) const MAX_READ_BYTES: u64 = 1024 * 1024;

/// Bytes of file text kept in memory between checks; past it, files are read again when asked.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct RepoFile {
    /// Relative to the root, `/`-separated: `docs/adr/0001-record.md`.
    pub path: String,
    /// The same, lowercased, for conventions that ignore case.
    pub lower: String,
    pub size: u64,
}

impl RepoFile {
    /// The last path segment.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    pub fn lower_name(&self) -> &str {
        self.lower.rsplit('/').next().unwrap_or(&self.lower)
    }

    /// The folder part, `""` at the root.
    pub fn dir(&self) -> &str {
        match self.path.rfind('/') {
            Some(i) => &self.path[..i],
            None => "",
        }
    }

    pub fn extension(&self) -> &str {
        let name = self.lower_name();
        match name.rfind('.') {
            Some(i) if i > 0 => &name[i + 1..],
            _ => "",
        }
    }
}

pub(crate) struct Tree {
    pub root: PathBuf,
    pub files: Vec<RepoFile>,
    /// The walk stopped at the file cap; checks saw only part of the repository.
    pub truncated: bool,
    /// Links and other non-regular entries that were not followed.
    pub links_skipped: u64,
    cache: RefCell<HashMap<String, Option<Rc<str>>>>,
    cached_bytes: Cell<usize>,
}

impl Tree {
    /// Walks `root`, at most `max_files` files, in a stable (sorted) order.
    pub fn walk(root: &Path, max_files: usize) -> std::io::Result<Tree> {
        let mut tree = Tree {
            root: root.to_path_buf(),
            files: Vec::new(),
            truncated: false,
            links_skipped: 0,
            cache: RefCell::new(HashMap::new()),
            cached_bytes: Cell::new(0),
        };
        // Depth-first with an explicit stack: (absolute folder, relative prefix, depth).
        let mut stack: Vec<(PathBuf, String, usize)> = vec![(root.to_path_buf(), String::new(), 0)];
        while let Some((dir, prefix, depth)) = stack.pop() {
            let mut entries: Vec<(String, fs::Metadata)> = Vec::new();
            let read = match fs::read_dir(&dir) {
                Ok(read) => read,
                // The root must be readable; a folder below that is not is only skipped.
                Err(e) if depth == 0 => return Err(e),
                Err(_) => continue,
            };
            for entry in read.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                // `symlink_metadata`: a link is seen as a link and never followed.
                if let Ok(meta) = entry.path().symlink_metadata() {
                    entries.push((name, meta));
                }
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut subdirs = Vec::new();
            for (name, meta) in entries {
                let rel = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}/{name}")
                };
                if meta.is_dir() {
                    if depth + 1 < MAX_DEPTH && !SKIPPED_DIRS.contains(&name.as_str()) {
                        subdirs.push((dir.join(&name), rel, depth + 1));
                    }
                } else if meta.is_file() {
                    if tree.files.len() >= max_files {
                        tree.truncated = true;
                        tree.files.sort_by(|a, b| a.path.cmp(&b.path));
                        return Ok(tree);
                    }
                    tree.files.push(RepoFile {
                        lower: rel.to_lowercase(),
                        path: rel,
                        size: meta.len(),
                    });
                } else {
                    tree.links_skipped += 1;
                }
            }
            // Reverse so the stack pops folders in name order.
            stack.extend(subdirs.into_iter().rev());
        }
        tree.files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(tree)
    }

    /// A file's text (lossy UTF-8), at most `MAX_READ_BYTES`; None if it cannot be read.
    pub fn read(&self, path: &str) -> Option<Rc<str>> {
        if let Some(cached) = self.cache.borrow().get(path) {
            return cached.clone();
        }
        let text =
            read_capped(&self.root.join(path), MAX_READ_BYTES).map(|t| Rc::<str>::from(t.as_str()));
        let size = text.as_ref().map(|t| t.len()).unwrap_or(0);
        if self.cached_bytes.get() + size <= CACHE_BYTES {
            self.cached_bytes.set(self.cached_bytes.get() + size);
            self.cache
                .borrow_mut()
                .insert(path.to_owned(), text.clone());
        }
        text
    }

    /// The first `bytes` of a file, for sniffing what it is; not cached.
    pub fn head(&self, path: &str, bytes: u64) -> Option<String> {
        if let Some(Some(cached)) = self.cache.borrow().get(path) {
            return Some(cached.chars().take(bytes as usize).collect());
        }
        read_capped(&self.root.join(path), bytes)
    }

    /// The file with exactly this relative path (case-sensitive).
    pub fn get(&self, path: &str) -> Option<&RepoFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .and_then(|i| self.files.get(i))
    }

    /// The first file whose lowercased path is one of `paths`.
    pub fn find_lower(&self, paths: &[&str]) -> Option<&RepoFile> {
        paths
            .iter()
            .find_map(|p| self.files.iter().find(|f| f.lower == *p))
    }

    /// Files whose path starts with the folder `dir` (`docs/adr`), at any depth.
    pub fn under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a RepoFile> + 'a {
        let dir = dir.trim_matches('/');
        self.files.iter().filter(move |f| {
            dir.is_empty()
                || (f.path.len() > dir.len()
                    && f.path.starts_with(dir)
                    && f.path.as_bytes().get(dir.len()) == Some(&b'/'))
        })
    }

    /// Top-level folders that hold at least one walked file; hidden ones (`.github`) and
    /// skipped ones excluded.
    pub fn top_level_dirs(&self) -> Vec<String> {
        let mut dirs: Vec<String> = self
            .files
            .iter()
            .filter_map(|f| f.path.split_once('/').map(|(d, _)| d.to_owned()))
            .filter(|d| !d.starts_with('.'))
            .collect();
        dirs.dedup();
        dirs
    }
}

fn read_capped(path: &Path, cap: u64) -> Option<String> {
    let file = fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(cap).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// 1-based line number of byte offset `at` in `text`.
pub(crate) fn line_of(text: &str, at: usize) -> usize {
    text.get(..at)
        .map(|head| head.matches('\n').count() + 1)
        .unwrap_or(1)
}

/// The first line (1-based) containing `needle`, if any.
pub(crate) fn find_line(text: &str, needle: &str) -> Option<usize> {
    text.find(needle).map(|at| line_of(text, at))
}
