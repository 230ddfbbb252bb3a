//! Progress and cancellation of a running probe, shared between the probe (which reports) and
//! the job that runs it (which stores the progress for the page and passes on a cancel).
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Progress {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    done: AtomicI64,
    total: AtomicI64,
    label: Mutex<String>,
    cancelled: AtomicBool,
}

impl Progress {
    pub fn new() -> Progress {
        Progress::default()
    }

    /// How many steps the probe expects (checks, endpoints, files); may grow as it learns more.
    pub fn set_total(&self, total: i64) {
        self.inner.total.store(total.max(0), Ordering::Relaxed);
    }

    /// One step finished; `label` says what comes next or what just ran ("Indexes").
    pub fn step(&self, label: impl Into<String>) {
        self.inner.done.fetch_add(1, Ordering::Relaxed);
        self.set_label(label);
    }

    pub fn set_label(&self, label: impl Into<String>) {
        if let Ok(mut current) = self.inner.label.lock() {
            *current = label.into();
        }
    }

    /// (done, total, label) as they are now.
    pub fn snapshot(&self) -> (i64, i64, String) {
        let label = self
            .inner
            .label
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default();
        (
            self.inner.done.load(Ordering::Relaxed),
            self.inner.total.load(Ordering::Relaxed),
            label,
        )
    }

    /// Asks the probe to stop; long loops check `is_cancelled` between steps.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Relaxed)
    }
}
