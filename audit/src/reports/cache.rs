//! Recently rendered drafts, kept in memory by the SHA-256 of everything that makes their bytes
//! (ADR 0012).
//!
//! A draft is rendered on every download and every preview, and typesetting a long report takes
//! most of a second of a core. The renderers are pure: the same model, logo and format give the
//! same bytes. So a re-export of a draft nobody changed is served from here, and any change
//! (a finding's title, the date on the cover, the accent, a new logo) gives another key and a
//! fresh render. Issued versions are not kept here: their files are stored with the version.
//!
//! The cache is bounded by entries and by bytes and forgets the least recently used file first;
//! it lives and dies with the process, so a deploy (new templates, new fonts) starts it empty.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::{Report, ReportFormat};

/// The draft files kept at most, whatever their size.
pub const MAX_ENTRIES: usize = 32;
/// The bytes kept at most, all files together. A large report's PDF is about a megabyte.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// SHA-256 of a render's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RenderKey([u8; 32]);

impl RenderKey {
    /// The key of `report` rendered to `format` with `logo`.
    ///
    /// It covers the whole model as JSON (cover date, version label, branding, every section),
    /// the logo's bytes, the format and the crate's version. Each part is prefixed with its
    /// length, so no two different inputs run together into the same bytes.
    pub fn new(report: &Report, logo: Option<&[u8]>, format: ReportFormat) -> RenderKey {
        let mut hasher = Sha256::new();
        let mut part = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        part(b"plumbline report render");
        part(env!("CARGO_PKG_VERSION").as_bytes());
        part(format.extension().as_bytes());
        // The model is plain data (no maps), so its JSON is the same for the same model.
        part(&serde_json::to_vec(report).unwrap_or_default());
        match logo {
            Some(bytes) => {
                part(b"logo");
                part(bytes);
            }
            None => part(b"no logo"),
        }
        RenderKey(hasher.finalize().into())
    }
}

/// Rendered files by key, most recently used first, within an entry count and a byte budget.
#[derive(Debug)]
pub struct RenderCache {
    max_entries: usize,
    max_bytes: usize,
    bytes: usize,
    entries: VecDeque<(RenderKey, Arc<Vec<u8>>)>,
}

impl RenderCache {
    pub fn new(max_entries: usize, max_bytes: usize) -> RenderCache {
        RenderCache {
            max_entries,
            max_bytes,
            bytes: 0,
            entries: VecDeque::new(),
        }
    }

    /// The file rendered for `key`, if it is still kept; it becomes the most recently used.
    pub fn get(&mut self, key: &RenderKey) -> Option<Arc<Vec<u8>>> {
        let index = self.entries.iter().position(|(k, _)| k == key)?;
        let entry = self.entries.remove(index)?;
        let file = entry.1.clone();
        self.entries.push_front(entry);
        Some(file)
    }

    /// Keeps `file` under `key`, forgetting the least recently used files until it fits. A file
    /// larger than a quarter of the budget is not kept: it would push out everything else.
    pub fn insert(&mut self, key: RenderKey, file: Arc<Vec<u8>>) {
        if let Some(index) = self.entries.iter().position(|(k, _)| *k == key) {
            if let Some((_, old)) = self.entries.remove(index) {
                self.bytes -= old.len();
            }
        }
        if self.max_entries == 0 || file.len() > self.max_bytes / 4 {
            return;
        }
        while self.entries.len() >= self.max_entries || self.bytes + file.len() > self.max_bytes {
            match self.entries.pop_back() {
                Some((_, old)) => self.bytes -= old.len(),
                None => break,
            }
        }
        self.bytes += file.len();
        self.entries.push_front((key, file));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The bytes of all kept files together.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// The process's cache of draft renders.
pub(crate) fn drafts() -> &'static Mutex<RenderCache> {
    static DRAFTS: OnceLock<Mutex<RenderCache>> = OnceLock::new();
    DRAFTS.get_or_init(|| Mutex::new(RenderCache::new(MAX_ENTRIES, MAX_BYTES)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::fixture::sample_report;

    fn key(n: u8) -> RenderKey {
        RenderKey([n; 32])
    }

    fn file(len: usize) -> Arc<Vec<u8>> {
        Arc::new(vec![0; len])
    }

    #[test]
    fn every_input_changes_the_key() {
        let report = sample_report();
        let base = RenderKey::new(&report, None, ReportFormat::Pdf);
        assert_eq!(base, RenderKey::new(&report, None, ReportFormat::Pdf));

        let mut dated = report.clone();
        dated.cover.date = "2026-12-03".into();
        let mut retitled = report.clone();
        retitled.findings[0].title.push('!');
        let mut accented = report.clone();
        accented.cover.firm.accent = "#000000".into();
        let others = [
            RenderKey::new(&dated, None, ReportFormat::Pdf),
            RenderKey::new(&retitled, None, ReportFormat::Pdf),
            RenderKey::new(&accented, None, ReportFormat::Pdf),
            RenderKey::new(&report, Some(b"logo"), ReportFormat::Pdf),
            RenderKey::new(&report, Some(b"logo2"), ReportFormat::Pdf),
            RenderKey::new(&report, None, ReportFormat::Html),
        ];
        for (index, other) in others.iter().enumerate() {
            assert_ne!(base, *other, "input {index} did not change the key");
        }
    }

    #[test]
    fn the_least_recently_used_file_goes_first() {
        let mut cache = RenderCache::new(2, 1000);
        cache.insert(key(1), file(10));
        cache.insert(key(2), file(10));
        assert!(cache.get(&key(1)).is_some(), "1 is now the most recent");
        cache.insert(key(3), file(10));
        assert!(cache.get(&key(2)).is_none(), "2 was the least recent");
        assert!(cache.get(&key(1)).is_some());
        assert!(cache.get(&key(3)).is_some());
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.bytes(), 20);
    }

    #[test]
    fn the_byte_budget_holds() {
        let mut cache = RenderCache::new(100, 1000);
        for n in 0..50 {
            cache.insert(key(n), file(100 + usize::from(n)));
            assert!(cache.bytes() <= 1000, "{} bytes kept", cache.bytes());
            let counted: usize = cache.entries.iter().map(|(_, f)| f.len()).sum();
            assert_eq!(counted, cache.bytes());
        }
        assert!(cache.get(&key(49)).is_some(), "the newest is kept");
        // Larger than a quarter of the budget: not kept, and nothing else is pushed out for it.
        let before = cache.len();
        cache.insert(key(200), file(251));
        assert!(cache.get(&key(200)).is_none());
        assert_eq!(cache.len(), before);
    }

    #[test]
    fn the_same_key_again_replaces_its_file() {
        let mut cache = RenderCache::new(4, 1000);
        cache.insert(key(1), file(10));
        cache.insert(key(1), file(30));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.bytes(), 30);
    }
}
