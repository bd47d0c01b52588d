// The iamgate npm package: an ES module for bundlers, browsers and Node over the wasm-bindgen glue.
//
// Every call answers {result: "success", ...} or {result: "failure", errors: [...]}: nothing is thrown. A compiled
// set is a handle: call free() when done with it. A panic cannot unwind in WebAssembly; the module's panic hook
// records the message before the call traps, and this wrapper turns the trap into a failure answer. The set that
// was in use is then retired (its calls answer a failure), since the trap may have left it half-borrowed.

import * as bg from "./iamgate_wasm_bg.js";

let loading = null;
let panics = 0;
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
    } else {
      answer = failure(`internal error: ${e && e.message ? e.message : String(e)}`, "trap");
    }
    return asText ? JSON.stringify(answer) : answer;
  }
}

const DECISIONS = ["Allow", "ExplicitDeny", "ImplicitDeny"];
const encoder = new TextEncoder();
let input = null; // a view of the module's input buffer (inputBuffer), in its memory

/** Write `s` as UTF-8 into the module's input buffer (no copy through JavaScript, nothing to free); its length. */
function toInput(s) {
  // At most 3 bytes per UTF-16 unit. A view goes stale when the memory grows: its buffer is then detached and
  // its length 0, so the length check catches that too (and costs less than comparing memory.buffer).
  const need = s.length * 3;
  if (input === null || input.length < need) {
    const len = Math.max(need, 1024);
    input = new Uint8Array(memory.buffer, bg.inputBuffer(len), len);
  }
  return encoder.encodeInto(s, input).written;
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
    const ctx = request.context;
    let fields = (request.principal ?? "") + "\x1f" + request.action + "\x1f" + request.resource;
    let simple = request.resource_account === undefined;
    for (const k in ctx) {
      const v = ctx[k];
      if (Array.isArray(v)) simple = false;
      fields += "\x1f" + k + "\x1f" + v;
    }
    if (simple && this.#retired === null && this.#inner !== null) {
      // Not through guarded(): no closure per call on this path. A trap is handled as guarded() does.
      let code;
      try {
        code = this.#inner.decideInput(toInput(fields));
      } catch (e) {
        code = guarded(() => {
          throw e;
        });
        this.#retired = retiredAfterTrap;
        return code;
      }
      if (code >= 0) return DECISIONS[code];
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
