//! The engine behind the C ABI, in safe Rust: a compiled bundle that can be swapped while other threads decide.
//! Rust embeddings (the proxy of `examples/proxy/`) use it directly.

use crate::hazard::Hazard;
use arc_swap::{ArcSwap, Guard};
use iamgate::bundle::{Bundle, BundleError, CompiledBundle};
use iamgate::context::ContextError;
use iamgate::{Decision, Limits, RequestRef};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A bundle, compiled, behind an atomic pointer.
///
/// Deciding takes no lock and no atomic read-modify-write: [`Engine::decide`] reads the current bundle through
/// a hazard slot of its thread (`hazard.rs`), so a reload in another thread neither waits for decisions nor
/// makes them wait. A decision that started before a reload ends with the bundle it started with; that bundle
/// is freed when the last such decision ends. [`Engine::load`] hands out the bundle itself (arc-swap's
/// lock-free read), for a caller that holds it across other work.
///
/// ```
/// use iamgate_capi::Engine;
/// use iamgate::{Decision, RequestRef};
/// let allow = r#"{"identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
///     "Action": "s3:GetObject", "Resource": "*"}]}]}"#;
/// let engine = Engine::new(allow).unwrap();
/// let req = RequestRef { action: "s3:GetObject", resource: "arn:aws:s3:::b/k", ..RequestRef::default() };
/// assert_eq!(engine.decide(&req), Ok(Decision::Allow));
/// engine.reload("{}").unwrap();
/// assert_eq!(engine.decide(&req), Ok(Decision::ImplicitDeny));
/// assert!(engine.reload("{").is_err());
/// assert_eq!(engine.generation(), 1);
/// ```
#[derive(Debug)]
pub struct Engine {
    current: ArcSwap<CompiledBundle>,
    /// The same bundle, for [`Engine::decide`] and the C ABI's decide.
    fast: Hazard<CompiledBundle>,
    limits: Limits,
    /// Successful reloads so far.
    generation: AtomicU64,
    /// Held by a reload while it stores the new bundle in `current` and `fast`, so that two reloads at once
    /// leave both holding the same bundle (interleaved, `current` could keep one and `fast` the other). Never
    /// taken by a decision.
    reloading: Mutex<()>,
}

impl Engine {
    /// Read and compile a bundle with the default [`Limits`].
    pub fn new(text: &str) -> Result<Engine, BundleError> {
        Engine::with_limits(text, Limits::default())
    }

    /// Read and compile a bundle; `limits` hold for this bundle and every reload.
    pub fn with_limits(text: &str, limits: Limits) -> Result<Engine, BundleError> {
        let compiled = Arc::new(Bundle::parse(text, &limits)?.compile()?);
        Ok(Engine {
            current: ArcSwap::new(Arc::clone(&compiled)),
            fast: Hazard::new(compiled),
            limits,
            generation: AtomicU64::new(0),
            reloading: Mutex::new(()),
        })
    }

    /// Replace the bundle. On error the current bundle stays in force (a proxy keeps deciding by the last good
    /// bundle) and the error says why. Decisions already running finish with the bundle they started with.
    pub fn reload(&self, text: &str) -> Result<(), BundleError> {
        let compiled = Arc::new(Bundle::parse(text, &self.limits)?.compile()?);
        // A reload that panicked while holding the lock left both places stored or one: the next takes it anyway.
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.current.store(Arc::clone(&compiled));
        #[cfg(test)]
        tests::between_stores();
        self.fast.store(compiled);
        self.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// The bundle in force now. Holding the guard keeps that bundle alive across a reload; hold it only for
    /// one decision.
    #[inline]
    pub fn load(&self) -> Guard<Arc<CompiledBundle>> {
        self.current.load()
    }

    /// Decide by the bundle in force now. Allocates nothing unless a value is refused (or on a thread's first
    /// decision: its hazard slot).
    #[inline]
    pub fn decide(&self, req: &RequestRef<'_>) -> Result<Decision, ContextError> {
        self.fast.with(|b| b.decide_ref(req))
    }

    /// Call `f` with the bundle in force now, as [`Engine::decide`] reads it (no atomic read-modify-write).
    #[inline(always)]
    pub(crate) fn with_bundle<R>(&self, f: impl FnOnce(&CompiledBundle) -> R) -> R {
        self.fast.with(f)
    }

    /// How many reloads have succeeded.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::sync::mpsc;
    use std::time::Duration;

    thread_local! {
        /// Run by this thread's next reload between its two stores.
        static BETWEEN: RefCell<Option<Box<dyn FnOnce()>>> = RefCell::new(None);
    }

    pub(super) fn between_stores() {
        if let Some(f) = BETWEEN.with(|b| b.borrow_mut().take()) {
            f();
        }
    }

    /// Two reloads at once leave the bundle `Engine::load` hands out and the one decisions read the same: a
    /// reload stopped between its two stores while another runs whole would, without the lock, end with
    /// `current` holding the other's bundle and `fast` its own.
    #[test]
    fn concurrent_reloads_leave_one_bundle_in_force() {
        let engine = Arc::new(Engine::new("{}").unwrap_or_else(|e| panic!("{e}")));
        let (inside_tx, inside_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let a = {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                BETWEEN.with(|b| {
                    *b.borrow_mut() = Some(Box::new(move || {
                        let _ = inside_tx.send(());
                        // The other reload completes here unless the lock holds it back (then this times out).
                        let _ = done_rx.recv_timeout(Duration::from_millis(300));
                    }));
                });
                engine.reload("{}").unwrap_or_else(|e| panic!("{e}"));
            })
        };
        inside_rx.recv().unwrap_or_else(|e| panic!("{e}"));
        engine.reload("{}").unwrap_or_else(|e| panic!("{e}"));
        let _ = done_tx.send(());
        a.join()
            .unwrap_or_else(|_| panic!("reload thread panicked"));
        let loaded: *const CompiledBundle = &**engine.load();
        let decided = engine.with_bundle(|b| b as *const CompiledBundle);
        assert_eq!(loaded, decided, "load and decide read different bundles");
        assert_eq!(engine.generation(), 2);
    }

    /// A decision holding the old bundle keeps it alive across a reload; the old bundle is freed when that
    /// decision ends, not before, and not later.
    #[test]
    fn old_bundle_lives_until_its_last_decision() {
        let engine = Engine::new("{}").unwrap_or_else(|e| panic!("{e}"));
        let guard = engine.load();
        let weak = Arc::downgrade(&*guard);
        engine.reload("{}").unwrap_or_else(|e| panic!("{e}"));
        assert!(weak.upgrade().is_some(), "freed while a decision used it");
        drop(guard);
        assert!(
            weak.upgrade().is_none(),
            "kept after its last decision ended"
        );
    }
}
