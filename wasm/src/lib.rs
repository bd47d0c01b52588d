//! iamgate in the browser: a thin wasm-bindgen layer over `iamgate::api`. Every function takes JSON text and
//! returns JSON text (`{"result": "success", ...}` or `{"result": "failure", "errors": [...]}`); no policy logic
//! lives here.
//!
//! A compiled set is a [`PolicySet`] handle the caller holds and frees explicitly (`set.free()` in JavaScript).
//! Errors are values, never exceptions. A panic cannot unwind on `wasm32-unknown-unknown`: the panic hook
//! records its message before the module traps, and the JavaScript wrapper (`iamgate.js`) catches the trap,
//! answers a failure with that message and starts a fresh instance. A module built with
//! `-C panic=immediate-abort` (wasm/build.sh on nightly) traps at the panic with no message and no hook:
//! [`panic_messages`] tells the wrapper which build it holds.

/// The module's allocator: talc, smaller and faster than the standard library's dlmalloc on wasm32.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

use iamgate::api::{self, Answer, ApiError, Compiled, HeldFields};
use iamgate::{Decision, KeyLayout};
use std::cell::{OnceCell, RefCell};
use wasm_bindgen::prelude::*;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The input buffer of `decideSpans`: the wrapper writes a request's new fields into it, straight into the
    /// module's memory, so a decision allocates nothing and copies each new field once.
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The spans of `decideSpans`: a start and a length in the input buffer for each field, or `KEPT`.
    static SPANS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    /// The fields of the last `decideSpans` request, whatever the set: the wrapper sends only those that changed.
    static HELD: RefCell<HeldFields> = RefCell::new(HeldFields::default());
}

/// The address of the input buffer in the module's memory, grown to at least `len` bytes. The address stays valid
/// until the next call that grows it. 0 if the buffer is in use (it never is between calls).
#[wasm_bindgen(js_name = inputBuffer)]
pub fn input_buffer(len: usize) -> *mut u8 {
    INPUT.with(|b| grown(b, len))
}

/// The address of the spans buffer (`decideSpans`), grown to at least `len` numbers; as [`input_buffer`].
#[wasm_bindgen(js_name = inputSpans)]
pub fn input_spans(len: usize) -> *mut u32 {
    SPANS.with(|b| grown(b, len))
}

/// The address of `buffer`'s items, grown to at least `len` of them; null if it is in use.
fn grown<T: Copy + Default>(buffer: &RefCell<Vec<T>>, len: usize) -> *mut T {
    match buffer.try_borrow_mut() {
        Ok(mut b) => {
            if b.len() < len {
                b.resize(len, T::default());
            }
            b.as_mut_ptr()
        }
        Err(_) => std::ptr::null_mut(),
    }
}

/// Whether a panic leaves its message for [`take_panic`]: false in a module built with
/// `-C panic=immediate-abort`, where a panic traps at once and no hook runs.
#[wasm_bindgen(js_name = panicMessages)]
pub fn panic_messages() -> bool {
    !cfg!(panic = "immediate-abort")
}

/// Install the panic hook that records the message for [`take_panic`]. Called once by the wrapper at load. Does
/// nothing when panics abort at once (the hook would never run).
#[wasm_bindgen(js_name = installPanicHook)]
pub fn install_panic_hook() {
    #[cfg(not(panic = "immediate-abort"))]
    std::panic::set_hook(Box::new(|info| {
        // One line: the message, then where.
        let message = info.to_string().replace('\n', " ");
        LAST_PANIC.with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                *p = Some(message);
            }
        });
    }));
}

/// The message of the panic that trapped the last call, if one did (and forget it).
#[wasm_bindgen(js_name = takePanic)]
pub fn take_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.take()))
}

/// Panic on purpose: lets a host check that it recovers from a panic (the wrapper's tests call it).
#[wasm_bindgen(js_name = panicForTests)]
#[expect(
    clippy::panic,
    reason = "the one deliberate panic, to test the recovery path"
)]
pub fn panic_for_tests() {
    panic!("a deliberate panic, for tests");
}

/// The package version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Lint one policy: `{"policy": TEXT, "kind": "identity"}` in, diagnostics with line, UTF-16 column and byte
/// span out.
#[wasm_bindgen]
pub fn lint(input: &str) -> String {
    api::lint_json(input)
}

/// A compiled policy set, held by the caller. Free it with `free()` when done.
#[wasm_bindgen]
pub struct PolicySet {
    inner: Compiled,
    /// The context keys of the first `decideSpans` call that had any, resolved once: later calls whose keys come
    /// in the same order skip the lookups. The decision never depends on it (a key it does not hold is looked up).
    layout: OnceCell<KeyLayout>,
}

/// Compile a set (the Case contract's policy fields). On success `set` is a handle and `answer` is
/// `{"result": "success"}`; on failure `set` is undefined and `answer` holds the errors.
#[wasm_bindgen]
pub struct Compiling {
    set: Option<PolicySet>,
    answer: String,
}

#[wasm_bindgen]
impl Compiling {
    /// The compiled set, once (later calls return undefined).
    #[wasm_bindgen(js_name = takeSet)]
    pub fn take_set(&mut self) -> Option<PolicySet> {
        self.set.take()
    }

    #[wasm_bindgen(getter)]
    pub fn answer(&self) -> String {
        self.answer.clone()
    }
}

#[wasm_bindgen]
pub fn compile(input: &str) -> Compiling {
    match api::compile(input) {
        Ok(inner) => Compiling {
            set: Some(PolicySet {
                inner,
                layout: OnceCell::new(),
            }),
            answer: Answer::Success(()).to_json(),
        },
        Err(errors) => Compiling {
            set: None,
            answer: Answer::<()>::Failure { errors }.to_json(),
        },
    }
}

#[wasm_bindgen]
impl PolicySet {
    /// Decide a request (`{"principal", "action", "resource", "context"}`): the decision and its reasons.
    pub fn decide(&self, request: &str) -> String {
        self.inner.decide(request).to_json()
    }

    /// Decide the request of `fields` fields (principal, action, resource, then key and value pairs; single
    /// values) whose new fields lie in the input buffer where the first `2 * fields` numbers of the spans buffer
    /// say (start and length, or `KEPT` for the field of the last call): see `HeldFields`. 0 Allow, 1
    /// ExplicitDeny, 2 ImplicitDeny, -1 when the fields are refused (then `decide` on the JSON request says why;
    /// the module may then hold no field). No JSON on either side.
    #[wasm_bindgen(js_name = decideSpans)]
    pub fn decide_spans(&self, fields: usize) -> i32 {
        let taken = INPUT.with(|b| {
            SPANS.with(|s| {
                HELD.with(|h| {
                    let (Ok(b), Ok(s), Ok(mut h)) =
                        (b.try_borrow(), s.try_borrow(), h.try_borrow_mut())
                    else {
                        return false;
                    };
                    let spans = fields.checked_mul(2).and_then(|n| s.get(..n));
                    spans.is_some_and(|spans| h.take(&b, spans).is_ok())
                })
            })
        });
        if !taken {
            return -1;
        }
        HELD.with(|h| {
            let Ok(h) = h.try_borrow() else { return -1 };
            let layout = match self.layout.get() {
                None if fields > 3 => Some(self.layout.get_or_init(|| h.layout(&self.inner))),
                layout => layout,
            };
            match h.decide(&self.inner, layout) {
                Ok(Decision::Allow) => 0,
                Ok(Decision::ExplicitDeny) => 1,
                Ok(Decision::ImplicitDeny) => 2,
                Err(_) => -1,
            }
        })
    }

    /// Decide and explain: the deciding statements and every condition, with byte spans and line:column.
    pub fn explain(&self, request: &str) -> String {
        self.inner.explain(request).to_json()
    }

    /// Both steps of the presigned-URL flow: `{"network": NETWORK, "feeds": {"NAME": TEXT}}`.
    pub fn presign(&self, input: &str) -> String {
        self.inner.presign(input).to_json()
    }

    /// The reach map: `{"network": NETWORK}` or `{"request": ..., "api_endpoint": ..., "studio_endpoint": ...}`.
    pub fn reach(&self, input: &str) -> String {
        self.inner.reach(input).to_json()
    }
}

/// A failure answer for a message (the wrapper uses it for a call that trapped).
#[wasm_bindgen(js_name = failure)]
pub fn failure(message: &str) -> String {
    Answer::<()>::Failure {
        errors: vec![ApiError::new(message)],
    }
    .to_json()
}
