// The iamgate npm package: an ES module for bundlers, browsers and Node over the wasm-bindgen glue.
//
// Every call answers {result: "success", ...} or {result: "failure", errors: [...]}: nothing is thrown. A compiled
// set is a handle: call free() when done with it. A panic cannot unwind in WebAssembly; the module's panic hook
// records the message before the call traps (a module built with immediate-abort traps with no message), and this
// wrapper turns the trap into a failure answer. The set that
// was in use is then retired (its calls answer a failure), since the trap may have left it half-borrowed.

import * as bg from "./iamgate_wasm_bg.js";

let loading = null;
let panics = 0;
let panicMessages = true; // whether a panic leaves its message (false in a module built with immediate-abort)
let memory = null;

/** Load the module once. `source`: the .wasm bytes (ArrayBuffer or typed array), a compiled WebAssembly.Module, a
 * URL, or nothing (next to this file: fetched in browsers, read from disk in Node). */
export function load(source) {
  if (loading === null) {
    loading = instantiate(source).catch((e) => {
      loading = null;
      throw e;
    });
  }
  return loading;
}

async function instantiate(source) {
  let bytes = source;
  if (bytes === undefined || typeof bytes === "string" || bytes instanceof URL) {
    const url = bytes === undefined ? new URL("./iamgate_wasm_bg.wasm", import.meta.url) : new URL(bytes);
    if (url.protocol === "file:") {
      const fs = await import("node:fs/promises");
      bytes = await fs.readFile(url);
    } else {
      bytes = await (await fetch(url)).arrayBuffer();
    }
  }
  const imports = { "./iamgate_wasm_bg.js": bg };
  const instance =
    bytes instanceof WebAssembly.Module
      ? await WebAssembly.instantiate(bytes, imports)
      : (await WebAssembly.instantiate(bytes, imports)).instance;
  bg.__wbg_set_wasm(instance.exports);
  memory = instance.exports.memory;
  instance.exports.__wbindgen_start();
  bg.installPanicHook();
  panicMessages = bg.panicMessages();
  return new Iamgate();
}

function failure(message, code) {
  return { result: "failure", errors: [{ message, code }] };
}

/** Run one call into the module; a trap becomes a failure answer. */
function guarded(run, onTrap, asText = false) {
  try {
    return run();
  } catch (e) {
    const message = bg.takePanic();
    if (onTrap) onTrap();
    let answer;
    if (message !== undefined) {
      panics += 1;
      answer = failure(`internal error: ${message}`, "panic");
    } else if (!panicMessages && e instanceof WebAssembly.RuntimeError) {
      // A module whose panics abort at once (wasm/build.sh on nightly) traps at the panic and keeps no message.
      panics += 1;
      answer = failure(`internal error: a panic (${e.message}); this build keeps no panic message`, "panic");
    } else {
      answer = failure(`internal error: ${e && e.message ? e.message : String(e)}`, "trap");
    }
    return asText ? JSON.stringify(answer) : answer;
  }
}

const DECISIONS = ["Allow", "ExplicitDeny", "ImplicitDeny"];
const encoder = new TextEncoder();

// decideFast's fields are held by the module between calls (HeldFields): a call sends only the fields that are not
// equal (===) to the ones sent at their places before, so a caller sweeping addresses sends only the address. A
// field sent is written into the module's input buffer (inputBuffer), its start and length into the spans buffer
// (inputSpans); a field not sent has the start KEPT there.
const MAX_FIELDS = 3 + 2 * 32; // principal, action, resource, and up to 32 context keys with their values
const KEPT = 0xffffffff;
let bytes = null; // a view of the input buffer
let spans = null; // a view of the spans buffer
const sent = []; // the field sent at each place and held by the module (none after a refusal or a trap)
const todo = new Uint8Array(MAX_FIELDS); // the places of the fields this call sends, in order
let todoCount = 0;
let todoLength = 0; // their UTF-16 units in all

/** (Re)make the views, the input buffer at least `need` bytes. A view goes stale when the memory grows: its buffer
 * is then detached and its length 0. */
function views(need) {
  const capacity = Math.max(need, 2 * (bytes === null ? 0 : bytes.length), 1024);
  const at = bg.inputBuffer(capacity);
  const spansAt = bg.inputSpans(MAX_FIELDS * 2);
  bytes = new Uint8Array(memory.buffer, at, capacity);
  spans = new Uint32Array(memory.buffer, spansAt, MAX_FIELDS * 2);
}

/** Field `i` is `s`: to be sent unless it is the one held there. */
function mark(i, s) {
  if (sent[i] === s) return;
  sent[i] = s;
  todo[todoCount++] = i;
  todoLength += s.length;
}

/** -1: the request takes the JSON path. What was marked is not held: the module does not see this call. */
function refuse() {
  sent.length = 0;
  return -1;
}

const str = (v) => (typeof v === "string" ? v : String(v));

/** Send a request's fields (see above): how many, or -1 when it needs the JSON path (a list as a value, more
 * than 32 context keys, a lone surrogate). */
function putFields(request) {
  const ctx = request.context;
  todoCount = 0;
  todoLength = 0;
  mark(0, str(request.principal ?? ""));
  mark(1, str(request.action));
  mark(2, str(request.resource));
  let n = 3;
  for (const k in ctx) {
    const v = ctx[k];
    if (Array.isArray(v) || n === MAX_FIELDS) return refuse();
    mark(n, k);
    mark(n + 1, str(v));
    n += 2;
  }
  // At most 3 bytes per UTF-16 unit. A stale view has length 0.
  if (bytes === null || bytes.length < 3 * todoLength) views(3 * todoLength);
  for (let i = 0; i < n; i++) spans[2 * i] = KEPT;
  let at = 0;
  if (todoLength <= 32) {
    // A few short fields (a new address): byte by byte, each ASCII character as its byte.
    for (let t = 0; t < todoCount; t++) {
      const i = todo[t];
      const s = sent[i];
      let j = 0;
      for (; j < s.length; j++) {
        const c = s.charCodeAt(j);
        if (c > 0x7f) break;
        bytes[at + j] = c;
      }
      if (j < s.length) {
        // Not ASCII: as UTF-8, from its start. A lone surrogate takes the JSON path, which refuses it.
        if (!s.isWellFormed()) return refuse();
        j = encoder.encodeInto(s, bytes.subarray(at)).written;
      }
      spans[2 * i] = at;
      spans[2 * i + 1] = j;
      at += j;
    }
    return n;
  }
  // Longer: joined and encoded at once; when that is one byte per unit (ASCII), each field's bytes are its units.
  let joined = "";
  for (let t = 0; t < todoCount; t++) joined += sent[todo[t]];
  const ascii = encoder.encodeInto(joined, bytes).written === joined.length;
  for (let t = 0; t < todoCount; t++) {
    const i = todo[t];
    const s = sent[i];
    if (!ascii && !s.isWellFormed()) return refuse();
    const len = ascii ? s.length : encoder.encodeInto(s, bytes.subarray(at)).written;
    spans[2 * i] = at;
    spans[2 * i + 1] = len;
    at += len;
  }
  return n;
}

const retiredAfterTrap = "this set was retired after an internal error; compile it again";
const text = (x) => (typeof x === "string" ? x : JSON.stringify(x));

class Iamgate {
  /** The package version. */
  get version() {
    return bg.version();
  }

  /** How many calls have panicked since load (each answered a failure). */
  get panics() {
    return panics;
  }

  /** Whether a panic's failure carries the panic's message: false in the smaller build whose panics abort at once
   * (wasm/build.sh on nightly), where the failure says only that a panic happened. */
  get panicMessages() {
    return panicMessages;
  }

  /** Diagnostics of one policy text: line, UTF-16 column, byte span, severity, code, message, help. */
  lint(policy, kind = "identity") {
    return guarded(() => JSON.parse(bg.lint(JSON.stringify({ policy, kind }))));
  }

  /** Compile a set of policies (the Case contract's fields: identity_policies, resource_policy,
   * permissions_boundary, session_policies, scps, rcps, endpoint_policy) into a held PolicySet. */
  compile(policies) {
    return guarded(() => {
      const c = bg.compile(text(policies));
      try {
        const answer = JSON.parse(c.answer);
        const set = c.takeSet();
        return set === undefined ? answer : { result: "success", set: new PolicySet(set) };
      } finally {
        c.free();
      }
    });
  }

  /** Forget the fields decideFast holds: the next call sends every field, as a caller whose fields all change
   * does on each call (a benchmark measures that so). Never needed for correct decisions. */
  forgetFields() {
    for (let i = 0; i < sent.length; i++) sent[i] = undefined;
  }

  /** Panic inside the module on purpose (tests use it to check the recovery). */
  panicForTests() {
    return guarded(() => {
      bg.panicForTests();
      return { result: "success" };
    });
  }
}

/** A compiled set. Decide against it as often as needed; free() it when done. */
export class PolicySet {
  #inner;
  #retired = null;

  constructor(inner) {
    this.#inner = inner;
  }

  #raw(name, input) {
    if (this.#retired !== null) return JSON.stringify(failure(this.#retired, "retired"));
    if (this.#inner === null) return JSON.stringify(failure("this set was freed", "freed"));
    return guarded(
      () => this.#inner[name](input),
      () => {
        this.#retired = retiredAfterTrap;
      },
      true,
    );
  }

  #call(name, input) {
    return JSON.parse(this.#raw(name, text(input)));
  }

  /** The decision and its reasons for one request {principal, action, resource, context}. */
  decide(request) {
    return this.#call("decide", request);
  }

  /** decide() on JSON text, answering JSON text: no JavaScript object is built on either side. */
  decideJson(request) {
    return this.#raw("decide", request);
  }

  /** The decision alone ("Allow", "ExplicitDeny" or "ImplicitDeny"), by the fastest path: no JSON on either side.
   * Lists as context values, or a resource_account, take the JSON path; a refused request answers its failure. */
  decideFast(request) {
    if (request.resource_account === undefined && this.#retired === null && this.#inner !== null) {
      const fields = putFields(request);
      if (fields > 0) {
        // Not through guarded(): no closure per call on this path. A trap is handled as guarded() does.
        let code;
        try {
          code = this.#inner.decideSpans(fields);
        } catch (e) {
          sent.length = 0;
          code = guarded(() => {
            throw e;
          });
          this.#retired = retiredAfterTrap;
          return code;
        }
        if (code >= 0) return DECISIONS[code];
        sent.length = 0; // refused: the module may hold no field
      }
    }
    const answer = this.decide(request);
    return answer.result === "success" ? answer.decision : answer;
  }

  /** The decision with every statement consulted and each condition's outcome, with their places. */
  explain(request) {
    return this.#call("explain", request);
  }

  /** Both steps of the presigned-URL flow along a network: {network, feeds: {name: text}}. */
  presign(input) {
    return this.#call("presign", input);
  }

  /** The exact origins from which the URL can be created and used: {network} or {request, api_endpoint,
   * studio_endpoint}. */
  reach(input) {
    return this.#call("reach", input);
  }

  /** Release the set's memory. Calls after this answer a failure. */
  free() {
    if (this.#inner !== null) {
      try {
        this.#inner.free();
      } catch (e) {
        // A set retired after a trap may still be marked borrowed; its memory is lost with it.
      }
      this.#inner = null;
    }
  }
}
