//! Unpacking an uploaded repository archive without trusting it.
//!
//! The archive comes from a user, so it may try to write outside the folder (`../x`, `/etc/x`,
//! `C:\x`, a link then a file through the link), to fill the disk (a zip bomb: sizes are counted
//! while reading, never taken from headers), or to exhaust inodes (a file-count cap). Entries
//! with unsafe names refuse the whole archive — a real repository export never has them; links
//! and special files are skipped and counted, since real repositories do contain symlinks.
//!
//! A `.git` folder in the upload is kept for the history checks, minus what would make `git`
//! run or read something outside it: hooks, alternates, and every configuration key but the
//! repository format.
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use super::super::error::ProbeError;
use super::RepoCaps;

/// No single file of a repository worth auditing is bigger; larger ones are data or attacks.
const MAX_ENTRY_BYTES: u64 = 100 * 1024 * 1024;

/// What the unpacking did besides writing files.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UnpackReport {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    /// Symbolic and hard links, not created.
    pub links_skipped: u64,
    /// Devices, FIFOs and other special entries, not created.
    pub special_skipped: u64,
    /// `.git` hooks, alternates and configuration dropped for safety.
    pub git_files_dropped: u64,
    /// The archive's single top-level folder (`repo-main/`) was taken as the root.
    pub stripped_top_folder: Option<String>,
}

impl UnpackReport {
    /// Lines for the run's record: what was not unpacked and why.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.links_skipped > 0 {
            notes.push(format!(
                "{} symbolic or hard link(s) skipped: links are never created from an upload",
                self.links_skipped
            ));
        }
        if self.special_skipped > 0 {
            notes.push(format!(
                "{} device, FIFO or other special entr(y/ies) skipped",
                self.special_skipped
            ));
        }
        if self.git_files_dropped > 0 {
            notes.push(format!(
                "{} git hook, alternates or configuration file(s) dropped",
                self.git_files_dropped
            ));
        }
        notes
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Zip,
    TarGz,
    Tar,
}

fn detect(file_name: &str, bytes: &[u8]) -> Result<Format, ProbeError> {
    // Magic bytes first: a name can say anything.
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Ok(Format::Zip);
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(Format::TarGz);
    }
    if bytes.get(257..262) == Some(b"ustar".as_slice()) {
        return Ok(Format::Tar);
    }
    let lower = file_name.to_lowercase();
    // Pre-POSIX tar files have no magic; only then does the name decide.
    if lower.ends_with(".tar") && bytes.len() >= 512 {
        return Ok(Format::Tar);
    }
    Err(ProbeError::Invalid(format!(
        "{file_name} is not a .zip, .tar.gz/.tgz or .tar archive"
    )))
}

/// Unpacks with the caps, returning what was skipped.
pub fn unpack_archive_report(
    file_name: &str,
    bytes: &[u8],
    dest: &Path,
    caps: &RepoCaps,
) -> Result<UnpackReport, ProbeError> {
    let format = detect(file_name, bytes)?;
    fs::create_dir_all(dest)
        .map_err(|e| ProbeError::Internal(format!("could not create the unpack folder: {e}")))?;
    let mut writer = Writer {
        dest: dest.to_path_buf(),
        caps: caps.clone(),
        report: UnpackReport::default(),
        git_configs: Vec::new(),
        entries_seen: 0,
    };
    match format {
        Format::Zip => unpack_zip(bytes, &mut writer)?,
        Format::TarGz => {
            let decoder = flate2::read::MultiGzDecoder::new(bytes);
            unpack_tar(decoder, &mut writer)?;
        }
        Format::Tar => unpack_tar(bytes, &mut writer)?,
    }
    writer.hoist_single_top_folder()?;
    writer.write_git_config()?;
    Ok(writer.report)
}

struct Writer {
    dest: PathBuf,
    caps: RepoCaps,
    report: UnpackReport,
    /// The upload's `.git/config` files, held back: the root one is rewritten with safe keys.
    git_configs: Vec<(PathBuf, Vec<u8>)>,
    entries_seen: u64,
}

/// What an entry is, as far as unpacking cares.
enum EntryKind {
    File,
    Dir,
    Link,
    Special,
}

impl Writer {
    /// Checks an entry's name and returns its safe relative path.
    fn safe_path(&self, raw: &str) -> Result<PathBuf, ProbeError> {
        let refuse = |why: &str| {
            ProbeError::Invalid(format!(
                "the archive was refused: entry {:?} {why}",
                raw.chars().take(120).collect::<String>()
            ))
        };
        if raw.contains('\0') {
            return Err(refuse("contains a NUL byte"));
        }
        // Windows archives may use backslashes; treat them as separators so `..\x` is caught.
        let normalised = raw.replace('\\', "/");
        if normalised.starts_with('/') {
            return Err(refuse("is an absolute path"));
        }
        let first = normalised.split('/').next().unwrap_or("");
        if first.len() >= 2 && first.as_bytes()[1] == b':' {
            return Err(refuse("starts with a drive letter"));
        }
        let mut path = PathBuf::new();
        for component in Path::new(&normalised).components() {
            match component {
                Component::Normal(part) => path.push(part),
                Component::CurDir => {}
                Component::ParentDir => return Err(refuse("climbs out of the folder (`..`)")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(refuse("is an absolute path"))
                }
            }
        }
        Ok(path)
    }

    /// Whether `rel` is a `.git` file that must not be written as is.
    fn git_drop(&mut self, rel: &Path) -> GitEntry {
        let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
        let Some(first) = parts.next() else {
            return GitEntry::Keep;
        };
        // `.git` may sit under the single top folder (`repo-main/.git/...`).
        let rest: Vec<String> = if first == ".git" {
            parts.map(|p| p.into_owned()).collect()
        } else if parts.next().as_deref() == Some(".git") {
            parts.map(|p| p.into_owned()).collect()
        } else {
            return GitEntry::Keep;
        };
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        match rest.as_slice() {
            ["config"] => GitEntry::Config,
            ["hooks", ..]
            | ["objects", "info", "alternates"]
            | ["objects", "info", "http-alternates"]
            | ["commondir"]
            | ["gitdir"]
            | ["info", "attributes"]
            | ["config.worktree"] => GitEntry::Drop,
            _ => GitEntry::Keep,
        }
    }

    fn entry(
        &mut self,
        raw_name: &str,
        kind: EntryKind,
        reader: &mut dyn Read,
    ) -> Result<(), ProbeError> {
        self.entries_seen += 1;
        // Skipped entries cost time too: cap everything seen, not only what is written.
        if self.entries_seen > self.caps.max_files.saturating_mul(2) {
            return Err(self.too_many_files());
        }
        let rel = self.safe_path(raw_name)?;
        if rel.as_os_str().is_empty() {
            return Ok(());
        }
        // Zips made on Windows may mark folders with a trailing backslash only.
        let kind = match kind {
            EntryKind::File if raw_name.ends_with('\\') => EntryKind::Dir,
            other => other,
        };
        match kind {
            EntryKind::Link => {
                self.report.links_skipped += 1;
                return Ok(());
            }
            EntryKind::Special => {
                self.report.special_skipped += 1;
                return Ok(());
            }
            EntryKind::Dir => {
                self.count_entry()?;
                self.report.dirs += 1;
                fs::create_dir_all(self.dest.join(&rel)).map_err(|e| write_error(&rel, e))?;
                return Ok(());
            }
            EntryKind::File => {}
        }
        let git = self.git_drop(&rel);
        if matches!(git, GitEntry::Drop) {
            self.report.git_files_dropped += 1;
            return Ok(());
        }
        self.count_entry()?;
        let remaining = self.caps.max_bytes.saturating_sub(self.report.bytes);
        let limit = remaining.min(MAX_ENTRY_BYTES);
        if matches!(git, GitEntry::Config) {
            let mut config = Vec::new();
            let read = reader
                .take(64 * 1024)
                .read_to_end(&mut config)
                .map_err(|e| read_error(raw_name, e))?;
            self.report.bytes += read as u64;
            self.git_configs.push((rel, config));
            return Ok(());
        }
        let path = self.dest.join(&rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| write_error(&rel, e))?;
        }
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| write_error(&rel, e))?;
        // Count while reading: one byte past the limit proves the cap is exceeded.
        let written = io::copy(&mut reader.take(limit + 1), &mut file)
            .map_err(|e| read_error(raw_name, e))?;
        file.flush().map_err(|e| write_error(&rel, e))?;
        if written > limit {
            drop(file);
            let _ = fs::remove_file(&path);
            return Err(if limit == MAX_ENTRY_BYTES && remaining > MAX_ENTRY_BYTES {
                ProbeError::Invalid(format!(
                    "the archive was refused: {} is larger than {} MB, the cap for one file",
                    rel.display(),
                    MAX_ENTRY_BYTES / (1024 * 1024)
                ))
            } else {
                ProbeError::Invalid(format!(
                    "the archive was refused: it unpacks to more than {} bytes, the size cap",
                    self.caps.max_bytes
                ))
            });
        }
        self.report.bytes += written;
        self.report.files += 1;
        Ok(())
    }

    fn count_entry(&mut self) -> Result<(), ProbeError> {
        if self.report.files + self.report.dirs + 1 > self.caps.max_files {
            return Err(self.too_many_files());
        }
        Ok(())
    }

    fn too_many_files(&self) -> ProbeError {
        ProbeError::Invalid(format!(
            "the archive was refused: it has more than {} files and folders, the file-count cap",
            self.caps.max_files
        ))
    }

    /// GitHub and GitLab archives wrap everything in `repo-main/`: take that folder as the root.
    fn hoist_single_top_folder(&mut self) -> Result<(), ProbeError> {
        let entries: Vec<fs::DirEntry> = fs::read_dir(&self.dest)
            .map_err(|e| ProbeError::Internal(format!("could not list the unpacked files: {e}")))?
            .flatten()
            .collect();
        let [only] = entries.as_slice() else {
            return Ok(());
        };
        let name = only.file_name().to_string_lossy().into_owned();
        let is_dir = only.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if !is_dir || name == ".git" {
            return Ok(());
        }
        // Move the folder aside first: it may contain an entry with its own name.
        let aside = self.dest.join(".plumbline-unpack-root");
        let moved = |e: io::Error| ProbeError::Internal(format!("could not move files: {e}"));
        fs::rename(only.path(), &aside).map_err(moved)?;
        for child in fs::read_dir(&aside).map_err(moved)?.flatten() {
            fs::rename(child.path(), self.dest.join(child.file_name())).map_err(moved)?;
        }
        fs::remove_dir(&aside).map_err(moved)?;
        for (path, _) in &mut self.git_configs {
            if let Ok(stripped) = path.strip_prefix(&name) {
                *path = stripped.to_path_buf();
            }
        }
        self.report.stripped_top_folder = Some(name);
        Ok(())
    }

    /// Writes `.git/config` back with only the keys needed to read the repository: an upload's
    /// configuration could otherwise name programs for git to run (fsmonitor, pager, hooks).
    fn write_git_config(&mut self) -> Result<(), ProbeError> {
        let git_dir = self.dest.join(".git");
        if !git_dir.is_dir() {
            return Ok(());
        }
        let original = self
            .git_configs
            .iter()
            .find(|(path, _)| path == Path::new(".git/config"))
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_default();
        let mut format_version = "0".to_owned();
        let mut extensions: Vec<String> = Vec::new();
        let mut section = String::new();
        for line in original.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line.trim_matches(|c| c == '[' || c == ']').to_lowercase();
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim().to_lowercase();
            let value = value.trim();
            let plain = value.chars().all(|c| c.is_ascii_alphanumeric());
            match (section.as_str(), key.as_str()) {
                ("core", "repositoryformatversion") if plain => {
                    value.clone_into(&mut format_version)
                }
                ("extensions", "objectformat" | "refstorage") if plain => {
                    extensions.push(format!("\t{key} = {value}"));
                }
                _ => {}
            }
        }
        let mut config =
            format!("[core]\n\trepositoryformatversion = {format_version}\n\tbare = false\n");
        if !extensions.is_empty() {
            config.push_str("[extensions]\n");
            config.push_str(&extensions.join("\n"));
            config.push('\n');
        }
        fs::write(git_dir.join("config"), config)
            .map_err(|e| ProbeError::Internal(format!("could not write .git/config: {e}")))
    }
}

enum GitEntry {
    Keep,
    Drop,
    Config,
}

fn write_error(rel: &Path, e: io::Error) -> ProbeError {
    ProbeError::Invalid(format!(
        "the archive could not be unpacked: {} ({e})",
        rel.display()
    ))
}

fn read_error(name: &str, e: io::Error) -> ProbeError {
    ProbeError::Invalid(format!(
        "the archive is damaged: {} could not be read ({e})",
        name.chars().take(120).collect::<String>()
    ))
}

fn unpack_zip(bytes: &[u8], writer: &mut Writer) -> Result<(), ProbeError> {
    let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes))
        .map_err(|e| ProbeError::Invalid(format!("the zip archive could not be read ({e})")))?;
    if archive.len() as u64 > writer.caps.max_files.saturating_mul(2) {
        return Err(writer.too_many_files());
    }
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(|e| {
            ProbeError::Invalid(format!("the zip archive is damaged at entry {index} ({e})"))
        })?;
        let name = file
            .name()
            .map_err(|e| ProbeError::Invalid(format!("a zip entry has a bad name ({e})")))?
            .into_owned();
        // Unix mode bits say whether an entry is a link or a device (S_IFMT).
        let file_type = file.unix_mode().map(|m| m & 0o170000);
        let kind = if file.is_symlink() || file_type == Some(0o120000) {
            EntryKind::Link
        } else if file.is_dir() {
            EntryKind::Dir
        } else if matches!(file_type, Some(t) if t != 0 && t != 0o100000 && t != 0o040000) {
            EntryKind::Special
        } else {
            EntryKind::File
        };
        writer.entry(&name, kind, &mut file)?;
    }
    Ok(())
}

/// A reader that stops after `left` bytes: the data of skipped tar entries is decompressed
/// too, so the whole stream is capped, not only what is written.
struct Capped<R> {
    inner: R,
    left: u64,
    exceeded: bool,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            self.exceeded = true;
            return Err(io::Error::other("the archive stream is over its cap"));
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

fn unpack_tar(reader: impl Read, writer: &mut Writer) -> Result<(), ProbeError> {
    // Room for the file data, a header and padding per entry, and skipped entries' data.
    let limit = writer
        .caps
        .max_bytes
        .saturating_mul(2)
        .saturating_add(writer.caps.max_files.saturating_mul(4 * 1024))
        .saturating_add(1024 * 1024);
    let mut archive = tar::Archive::new(Capped {
        inner: reader,
        left: limit,
        exceeded: false,
    });
    let result = unpack_tar_entries(&mut archive, writer);
    if archive.into_inner().exceeded {
        return Err(ProbeError::Invalid(format!(
            "the archive was refused: its tar stream is larger than {limit} bytes, over the size cap"
        )));
    }
    result
}

fn unpack_tar_entries(
    archive: &mut tar::Archive<impl Read>,
    writer: &mut Writer,
) -> Result<(), ProbeError> {
    let entries = archive
        .entries()
        .map_err(|e| ProbeError::Invalid(format!("the tar archive could not be read ({e})")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| ProbeError::Invalid(format!("the tar archive is damaged ({e})")))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Dir,
            tar::EntryType::Symlink | tar::EntryType::Link => EntryKind::Link,
            // pax global headers carry no file; anything else is a device, FIFO or sparse file.
            tar::EntryType::XGlobalHeader => continue,
            _ => EntryKind::Special,
        };
        writer.entry(&name, kind, &mut entry)?;
    }
    Ok(())
}
