// The iamgate playground: edit policies and a network, see both steps of the presigned-URL flow decided and why.
// Everything runs in this page: the wasm module and the examples are bundled in; nothing is sent anywhere.

import { EditorView, Decoration } from "@codemirror/view";
import { EditorState, StateField, StateEffect } from "@codemirror/state";
import { basicSetup } from "codemirror";
import { json } from "@codemirror/lang-json";
import { linter, lintGutter, forceLinting } from "@codemirror/lint";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { tags } from "@lezer/highlight";
import wasmBytes from "../../pkg/iamgate_wasm_bg.wasm";
import { load } from "../../pkg/iamgate.js";
import data from "./examples.json";

const ACTION = "sagemaker:CreatePresignedDomainUrl";
const TABS = [
  { id: "identity", label: "Identity", kind: "identity" },
  { id: "boundary", label: "Boundary", kind: "boundary" },
  { id: "session", label: "Session", kind: "session" },
  { id: "scp0", label: "SCP root", kind: "scp" },
  { id: "scp1", label: "SCP OU", kind: "scp" },
  { id: "scp2", label: "SCP account", kind: "scp" },
  { id: "api", label: "API endpoint policy", kind: "endpoint" },
  { id: "studio", label: "Studio endpoint policy", kind: "endpoint" },
  { id: "network", label: "Network", kind: null },
];
const $ = (id) => document.getElementById(id);
const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const blank = (s) => s.trim() === "";

let iamgate = null;
const docs = Object.fromEntries(TABS.map((t) => [t.id, ""]));
const states = {};
const problems = {}; // tab -> {errors, warnings}
let current = "identity";
let chosen = { example: "", network: "zscaler-r53-dx" };
let networkErrors = []; // placed errors of the network text, from the last run
window.__iamgate = { timings: [] }; // for the browser tests: the last runs' timings

// ---------------------------------------------------------------------------------------------------------
// Editor: one view, one state per tab (each with its own undo history).

const setMarks = StateEffect.define();
const marks = StateField.define({
  create: () => Decoration.none,
  update(value, tr) {
    value = value.map(tr.changes);
    for (const e of tr.effects) if (e.is(setMarks)) value = e.value;
    return value;
  },
  provide: (f) => EditorView.decorations.from(f),
});

const highlight = HighlightStyle.define([
  { tag: tags.propertyName, color: "var(--key)" },
  { tag: tags.string, color: "var(--str)" },
  { tag: tags.number, color: "var(--num)" },
  { tag: [tags.bool, tags.null], color: "var(--kw)" },
  { tag: tags.punctuation, color: "var(--muted)" },
]);
const theme = EditorView.theme({
  "&": { color: "var(--fg)" },
  ".cm-gutters": { background: "var(--panel)", color: "var(--muted)", borderRight: "1px solid var(--border)" },
  ".cm-activeLine": { background: "color-mix(in srgb, var(--accent) 6%, transparent)" },
  ".cm-activeLineGutter": { background: "color-mix(in srgb, var(--accent) 10%, transparent)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground": { background: "var(--sel) !important" },
  ".cm-cursor": { borderLeftColor: "var(--fg)" },
  ".cm-tooltip": { background: "var(--panel)", color: "var(--fg)", border: "1px solid var(--border)" },
  ".cm-panels": { background: "var(--panel)", color: "var(--fg)" },
});

/** A CodeMirror position from a 1-based line and UTF-16 column, clamped to the document. */
function pos(doc, line, column) {
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  return Math.min(l.from + Math.max(column - 1, 0), l.to);
}
function range(doc, p) {
  const from = pos(doc, p.line, p.column);
  let to = pos(doc, p.end_line ?? p.line, p.end_column ?? p.column);
  if (to <= from) to = Math.min(from + 1, doc.length);
  return { from, to };
}

function lintSource(tab) {
  return (view) => {
    const text = view.state.doc.toString();
    if (blank(text)) return [];
    if (tab.kind === null) {
      return networkErrors.map((e) => ({ ...range(view.state.doc, e), severity: "error", message: e.message + (e.help ? `\nhelp: ${e.help}` : "") }));
    }
    const t0 = performance.now();
    const a = iamgate.lint(text, tab.kind);
    window.__iamgate.lint = performance.now() - t0;
    if (a.result !== "success") return [];
    return a.diagnostics.map((d) => ({
      ...range(view.state.doc, d),
      severity: d.severity,
      source: d.code,
      message: d.message + (d.help ? `\nhelp: ${d.help}` : ""),
    }));
  };
}

function makeState(tab, text) {
  return EditorState.create({
    doc: text,
    extensions: [
      basicSetup,
      json(),
      syntaxHighlighting(highlight),
      theme,
      marks,
      lintGutter(),
      linter(lintSource(tab), { delay: 200 }),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) {
          docs[tab.id] = u.state.doc.toString();
          schedule();
        }
      }),
      EditorView.contentAttributes.of({ "aria-label": `${tab.label} editor` }),
    ],
  });
}

let view;
let shown = null; // the tab whose state the view holds
function showTab(id, focus = false) {
  if (shown) states[shown] = view.state;
  current = id;
  shown = id;
  view.setState(states[id]);
  applyMarks();
  renderTabs();
  if (focus) view.focus();
  saveSoon();
}

function renderTabs() {
  const el = $("tabs");
  el.innerHTML = "";
  TABS.forEach((t, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.role = "tab";
    b.id = `tab-${t.id}`;
    b.setAttribute("aria-selected", String(t.id === current));
    b.tabIndex = t.id === current ? 0 : -1;
    b.title = `${t.label} (Alt+${i + 1})`;
    const p = problems[t.id];
    const dot = blank(docs[t.id]) ? "empty" : p?.errors ? "error" : p?.warnings ? "warning" : "";
    b.innerHTML = `${esc(t.label)}${dot ? `<span class="dot ${dot}"></span>` : ""}`;
    b.onclick = () => showTab(t.id, true);
    b.onkeydown = (e) => {
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        const next = TABS[(i + (e.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length];
        showTab(next.id);
        $(`tab-${next.id}`).focus();
        e.preventDefault();
      }
    };
    el.appendChild(b);
  });
}

function setDoc(id, text) {
  docs[id] = text;
  states[id] = makeState(TABS.find((t) => t.id === id), text);
  if (id === shown) view.setState(states[id]);
}

// ---------------------------------------------------------------------------------------------------------
// State in the URL fragment, so a link reproduces the case.

function encodeState() {
  const s = { v: 1, docs, tab: current, ...chosen, theme: document.documentElement.dataset.theme };
  const bytes = new TextEncoder().encode(JSON.stringify(s));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function decodeState(hash) {
  const m = /^#s=([A-Za-z0-9_-]+)$/.exec(hash);
  if (!m) return null;
  try {
    const bin = atob(m[1].replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}
let saveTimer = 0;
function saveSoon() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => history.replaceState(null, "", `#s=${encodeState()}`), 250);
}

// ---------------------------------------------------------------------------------------------------------
// Examples and network presets.

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Put a network into the network tab, its endpoint policies into their own tabs. */
function loadNetwork(name) {
  chosen.network = name;
  const net = JSON.parse(data.networks[name]);
  for (const role of ["api", "studio"]) {
    const ep = net.vpc?.endpoints?.[role];
    const p = ep?.policy;
    setDoc(role, p === undefined ? "" : typeof p === "string" ? pretty(p) : JSON.stringify(p, null, 2));
    if (ep) delete ep.policy;
  }
  setDoc("network", JSON.stringify(net, null, 2));
}

function loadExample(name) {
  const ex = data.examples.find((e) => e.name === name);
  if (!ex) return;
  chosen.example = name;
  const p = (f) => (f ? data.policies[f] ?? "" : "");
  setDoc("identity", p(ex.identity[0]));
  setDoc("boundary", p(ex.boundary));
  setDoc("session", p(ex.session[0]));
  ["scp0", "scp1", "scp2"].forEach((id, i) => setDoc(id, p(ex.scps[i])));
  loadNetwork(ex.network);
  $("network").value = ex.network;
  showTab("identity");
  schedule(0);
}

function fillMenus() {
  const ex = $("examples");
  ex.innerHTML = `<option value="">Choose an example…</option>` +
    data.examples.map((e) => `<option value="${esc(e.name)}" title="${esc(e.description)}">${esc(e.name)}</option>`).join("");
  ex.onchange = () => ex.value && loadExample(ex.value);
  const net = $("network");
  net.innerHTML = Object.keys(data.networks).map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join("");
  net.onchange = () => {
    loadNetwork(net.value);
    applyMarks();
    renderTabs();
    schedule(0);
  };
}

// ---------------------------------------------------------------------------------------------------------
// Deciding: compile, presign, explain each step, reach.

let timer = 0;
function schedule(delay = 150) {
  clearTimeout(timer);
  timer = setTimeout(run, delay);
  saveSoon();
}

function policiesInput(endpointTab) {
  const input = {};
  if (!blank(docs.identity)) input.identity_policies = [docs.identity];
  if (!blank(docs.boundary)) input.permissions_boundary = docs.boundary;
  if (!blank(docs.session)) input.session_policies = [docs.session];
  const scps = ["scp0", "scp1", "scp2"].filter((id) => !blank(docs[id]));
  if (scps.length) input.scps = scps.map((id) => [docs[id]]);
  if (endpointTab && !blank(docs[endpointTab])) input.endpoint_policy = docs[endpointTab];
  return input;
}

/** Which tab a policy name of a reason or finding points at. */
function tabOf(policy, step, endpoint, net) {
  if (policy.startsWith("identity")) return "identity";
  if (policy === "boundary") return "boundary";
  if (policy.startsWith("session")) return "session";
  const m = /^scps\[(\d+)\]/.exec(policy);
  if (m) return ["scp0", "scp1", "scp2"].filter((id) => !blank(docs[id]))[Number(m[1])];
  if (policy === "endpoint") {
    if (endpoint && net?.vpc?.endpoints?.studio?.id === endpoint) return "studio";
    if (endpoint && net?.vpc?.endpoints?.api?.id === endpoint) return "api";
    return step === "use" ? "studio" : "api";
  }
  return null;
}

let sets = [];
function freeSets() {
  for (const s of sets) s.free();
  sets = [];
}
function compile(input) {
  const a = iamgate.compile(input);
  if (a.result === "success") sets.push(a.set);
  return a;
}

let highlights = {}; // tab -> [{place, cls, attrs}]
function applyMarks() {
  const list = highlights[current] ?? [];
  const doc = view.state.doc;
  const ranges = list
    .map((h) => ({ ...range(doc, h.place), cls: h.cls, attrs: h.attrs }))
    .filter((r) => r.to > r.from)
    .sort((a, b) => a.from - b.from || a.to - b.to)
    .map((r) => Decoration.mark({ class: r.cls, attributes: r.attrs }).range(r.from, r.to));
  view.dispatch({ effects: setMarks.of(Decoration.set(ranges, true)) });
}

/** The step's request for one address of its range. */
function stepRequest(net, step, outcome) {
  const context = {};
  for (const [k, v] of Object.entries(step.context)) {
    const varies = Array.isArray(v) || (typeof v === "string" && v.includes("/"));
    context[k] = varies && outcome ? outcome.source_ip.split("/")[0] : v;
  }
  const resource = `arn:aws:sagemaker:${net.region}:${net.account}:user-profile/${net.domain_id}/${net.user_profile}`;
  return { principal: net.principal, action: ACTION, resource, context };
}

function run() {
  if (!iamgate) return;
  const t0 = performance.now();
  freeSets();
  highlights = {};
  const out = { steps: [], errors: [] };
  let net = null;
  try {
    net = JSON.parse(docs.network);
  } catch {
    net = null;
  }
  // Policies.
  const base = compile(policiesInput(null));
  if (base.result !== "success") out.errors.push(...base.errors);
  // The network, with the endpoint policies of their tabs.
  let presigned = null;
  let reached = null;
  networkErrors = [];
  if (net === null || typeof net !== "object") {
    const a = iamgate.compile({}).set;
    if (a) {
      const r = a.presign({ network: docs.network, feeds: data.feeds });
      if (r.result !== "success") networkErrors = r.errors.filter((e) => e.line);
      a.free();
    }
    out.errors.push({ message: "the network is not valid JSON", policy: "network", ...(networkErrors[0] ?? {}) });
  } else if (base.result === "success") {
    for (const role of ["api", "studio"]) {
      const ep = net.vpc?.endpoints?.[role];
      if (ep && !blank(docs[role])) ep.policy = docs[role];
    }
    const input = { network: net, feeds: data.feeds };
    const t1 = performance.now();
    presigned = base.set.presign(input);
    window.__iamgate.presign = performance.now() - t1;
    if (presigned.result !== "success") {
      const raw = base.set.presign({ network: docs.network, feeds: data.feeds });
      if (raw.result !== "success") networkErrors = raw.errors.filter((e) => e.line);
      out.errors.push(...presigned.errors.map((e) => ({ ...e, policy: e.policy ?? "network" })));
      presigned = null;
    } else {
      reached = base.set.reach(input);
      // Explain each step with the endpoint policy of the endpoint it reaches.
      for (const step of presigned.steps) {
        const s = { step, explained: [] };
        if (step.outcomes.length) {
          const viaEndpoint = step.endpoint && step.endpoint !== "public";
          const tab = viaEndpoint ? tabOf("endpoint", step.step, step.endpoint, net) : null;
          const set = compile(policiesInput(tab));
          if (set.result === "success") {
            const seen = new Set();
            for (const o of step.outcomes) {
              if (seen.has(o.decision)) continue; // one explanation per distinct decision
              seen.add(o.decision);
              const t2 = performance.now();
              const ex = set.set.explain(stepRequest(net, step, o));
              window.__iamgate.explain = performance.now() - t2;
              if (ex.result === "success") s.explained.push({ outcome: o, ex, endpointTab: tab });
            }
          }
        }
        out.steps.push(s);
      }
    }
  }
  // Marks: the deciding statements of the first step that does not allow (else the first), and their conditions.
  const focus = out.steps.find((s) => s.step.decision !== "Allow" && s.explained.length) ?? out.steps[0];
  for (const e of focus?.explained.slice(0, 1) ?? []) {
    // An implicit deny has no deciding statement: mark the statements that matched, with the conditions that failed.
    const marked = e.ex.deciding.length
      ? e.ex.deciding
      : e.ex.statements.filter((st) => st.action_matched && st.resource_matched && st.principal_matched);
    for (const st of marked) {
      const tab = tabOf(st.policy, focus.step.step, focus.step.endpoint, net);
      if (!tab || !st.place) continue;
      // The statement at its span; each condition at its own (key to values), marked with its outcome.
      (highlights[tab] ??= []).push({
        place: st.place,
        cls: `cm-decide-${st.effect}`,
        attrs: { "data-statement": `${st.policy} ${st.statement}`, title: `${st.effect}: ${st.policy} statement ${st.statement}${st.sid ? ` (${st.sid})` : ""}` },
      });
      for (const c of st.conditions) {
        if (!c.place) continue;
        highlights[tab].push({
          place: c.place,
          cls: `${c.held ? "cm-cond-held" : "cm-cond-not"} cm-outcome-${c.outcome}`,
          attrs: { "data-outcome": c.outcome, title: `${c.operator} on ${c.key}: ${c.why}` },
        });
      }
    }
  }
  applyMarks();
  render(out, presigned, reached, net);
  updateProblems();
  window.__iamgate.total = performance.now() - t0;
  window.__iamgate.runs = (window.__iamgate.runs ?? 0) + 1;
  if (current === "network") forceLinting(view);
}

function updateProblems() {
  for (const t of TABS) {
    if (t.kind === null) {
      problems[t.id] = { errors: networkErrors.length, warnings: 0 };
      continue;
    }
    if (blank(docs[t.id])) {
      problems[t.id] = null;
      continue;
    }
    const a = iamgate.lint(docs[t.id], t.kind);
    problems[t.id] = a.result === "success" ? { errors: a.errors, warnings: a.warnings } : null;
  }
  renderTabs();
  const p = problems[current];
  $("status").innerHTML = p
    ? p.errors || p.warnings
      ? `<span class="err">${p.errors} error${p.errors === 1 ? "" : "s"}</span>, <span class="warn">${p.warnings} warning${p.warnings === 1 ? "" : "s"}</span> in this ${esc(TABS.find((t) => t.id === current).label.toLowerCase())} · hover a squiggle for help`
      : "no problems"
    : blank(docs[current])
      ? "empty: this policy is not part of the set"
      : "";
}

// ---------------------------------------------------------------------------------------------------------
// Rendering.

const VERDICTS = {
  works: ["The URL can be created and used along this path", "both steps are allowed"],
  "create-denied": ["The URL cannot be created", "the CreatePresignedDomainUrl call is denied"],
  "use-denied": ["The URL can be created, but not used", "AWS checks the policy again on every request to Studio"],
  partial: ["It works from part of the source range only", "the decision differs across the egress addresses"],
  unreachable: ["A request never reaches AWS", "see the path of each step"],
};

function goTo(tab, place) {
  if (!tab) return;
  showTab(tab, true);
  if (place) {
    const r = range(view.state.doc, place);
    view.dispatch({ selection: { anchor: r.from, head: r.to }, scrollIntoView: true });
  }
}

function diagram(step, net) {
  const ep = step.endpoint;
  const viaEndpoint = ep && ep !== "public";
  const via = net?.create?.via ?? "client";
  const client = step.step === "create" && via === "console" ? "AWS console (browser)" : step.step === "create" && via === "vpc" ? `service in ${net?.vpc?.id ?? "the VPC"}` : `client ${net?.client?.ip ?? ""}`;
  const routeKind = net?.client?.private_route?.kind;
  const egress = net?.client?.egress?.kind ?? "direct";
  const names = { zscaler: "Zscaler", nat: "corporate NAT", direct: "direct", "direct-connect": "Direct Connect", vpn: "VPN", zpa: "ZPA App Connector" };
  const nodes = [
    ["Client", client],
    ["DNS", viaEndpoint ? "Route 53 resolver: private IP" : ep === "public" ? "public answer" : "see path"],
    ["Route", viaEndpoint ? (step.step === "create" && via === "vpc" ? "inside the VPC" : names[routeKind] ?? "private route") : ep === "public" ? names[egress] ?? egress : "no route"],
    ["Endpoint", viaEndpoint ? ep : ep === "public" ? "public endpoint" : "not reached"],
    ["AWS", step.decision],
  ];
  return `<div class="diagram" role="img" aria-label="${esc(nodes.map((n) => `${n[0]}: ${n[1]}`).join(", then "))}">${nodes
    .map(([k, v], i) => {
      const broken = step.decision === "Unreachable" && (k === "Endpoint" || k === "AWS");
      const cls = k === "AWS" ? `node aws ${step.decision}` : "node";
      return `${i ? '<span class="arrow" aria-hidden="true">→</span>' : ""}<div class="${cls}${broken ? " broken" : ""}"><b>${k}</b><span>${esc(v)}</span></div>`;
    })
    .join("")}</div>`;
}

function reasonText(r) {
  if (r.effect === "NoAllow") return `no statement in <code>${esc(r.policy)}</code> allows it`;
  return `${esc(r.effect)} by <code>${esc(r.policy)}</code> statement ${r.statement}${r.sid ? ` (<b>${esc(r.sid)}</b>)` : ""}`;
}

function render(out, presigned, reached, net) {
  const v = $("verdict");
  if (presigned) {
    const [title, sub] = VERDICTS[presigned.verdict] ?? [presigned.verdict, ""];
    v.className = `verdict ${presigned.verdict}`;
    v.dataset.verdict = presigned.verdict;
    v.innerHTML = `${esc(title)}<small>${esc(presigned.network)} · ${esc(sub)}</small>`;
  } else {
    v.className = "verdict error";
    v.dataset.verdict = "error";
    v.innerHTML = `Fix the errors to see the decisions<small>the policies or the network do not parse</small>`;
  }
  $("errors").innerHTML = out.errors.length
    ? `<section class="panel errors"><h2>Errors</h2>${out.errors
        .map((e, i) => `<div class="finding error"><a data-err="${i}">${esc(e.policy ?? "input")}${e.line ? `:${e.line}:${e.column}` : ""}</a> ${esc(e.message)}${e.help ? `<div class="help">${esc(e.help)}</div>` : ""}</div>`)
        .join("")}</section>`
    : "";
  $("errors").querySelectorAll("a[data-err]").forEach((a) => {
    const e = out.errors[Number(a.dataset.err)];
    a.onclick = () => goTo(e.policy === "network" ? "network" : tabOf(e.policy ?? "", null, null, net), e.line ? e : null);
  });

  const steps = $("steps");
  steps.innerHTML = "";
  for (const { step, explained } of out.steps) {
    const card = document.createElement("article");
    card.className = "step";
    card.dataset.step = step.step;
    card.dataset.decision = step.decision;
    const ctx = Object.entries(step.context).map(([k, val]) => `${k}=${Array.isArray(val) ? val.join(" | ") : val}`).join("  ");
    let why = "";
    for (const { outcome, ex, endpointTab } of explained) {
      const sts = ex.deciding.length ? ex.deciding : ex.statements.filter((s) => s.action_matched && s.resource_matched && s.principal_matched);
      why += `<div class="why">${step.outcomes.length > 1 ? `<div><span class="badge b-${outcome.decision}">${esc(outcome.decision)}</span> from <code>${esc(outcome.source_ip)}</code>${step.outcomes.length > 2 ? " and other blocks" : ""}</div>` : ""}
        ${ex.reasons.map((r) => `<div>${reasonText(r)}</div>`).join("")}
        ${sts
          .map((st, i) => `<div class="stmt ${st.effect}"><a data-st="${i}" title="Show in the editor">${esc(st.policy)} statement ${st.statement}${st.sid ? ` ${esc(st.sid)}` : ""}</a> ${st.applies ? "applies" : "does not apply"}
            ${st.conditions.map((c) => `<div class="cond ${c.held ? "held" : "not"}"><span class="mark">${c.held ? "✓" : "✗"}</span><span><code>${esc(c.operator)}</code> on <code>${esc(c.key)}</code>: ${esc(c.why)} <span class="muted">(request: ${c.request_values ? c.request_values.map((v) => `<code${c.matched_values.includes(v) ? ' class="matched"' : ""}>${esc(v)}</code>`).join(", ") || "no value" : "absent"}; policy: ${c.values.map((v) => `<code>${esc(v)}</code>`).join(", ")})</span>${c.uncertain ? ` <i class="muted">(${esc(c.uncertain)})</i>` : ""}</span></div>`).join("")}</div>`)
          .join("")}
        ${ex.warnings.map((w) => `<div class="muted">warning: ${esc(w)}</div>`).join("")}</div>`;
      queueMicrotask(() => {
        card.querySelectorAll("a[data-st]").forEach((a) => {
          const st = sts[Number(a.dataset.st)];
          if (st) a.onclick = () => goTo(st.policy === "endpoint" ? endpointTab : tabOf(st.policy, step.step, step.endpoint, net), st.place);
        });
      });
    }
    card.innerHTML = `<header><h3>${step.step === "create" ? "Create" : "Use"}</h3><span class="badge b-${step.decision}" data-testid="decision-${step.step}">${esc(step.decision)}</span><span class="host">${esc(step.host)}</span></header>
      ${diagram(step, net)}
      <ol class="path">${step.path.map((p) => `<li>${esc(p)}</li>`).join("")}</ol>
      <div class="context">${esc(ctx || "no request arrives")}</div>${why}`;
    steps.appendChild(card);
  }

  const f = $("findings");
  const findings = presigned?.findings ?? [];
  f.innerHTML = findings.length
    ? findings
        .map((x, i) => `<div class="finding ${x.severity}"><span class="badge ${x.severity === "error" ? "b-ExplicitDeny" : "b-ImplicitDeny"}">${esc(x.code)}</span> ${esc(x.message)}
          <div><a data-f="${i}">${esc(x.policy)}${x.endpoint ? ` (${esc(x.endpoint)})` : ""}${x.statement !== null ? ` statement ${x.statement}` : ""}, line ${x.line}</a></div><div class="help">${esc(x.help)}</div></div>`)
        .join("")
    : `<span class="muted">${presigned ? "none: nothing to fix along this path" : "—"}</span>`;
  f.querySelectorAll("a[data-f]").forEach((a) => {
    const x = findings[Number(a.dataset.f)];
    a.onclick = () => goTo(tabOf(x.policy, x.step, x.endpoint, net), { line: x.line, column: x.column });
  });

  const r = $("reach");
  if (reached?.result === "success") {
    const list = (v) => {
      if (typeof v === "string") return v === "*" ? "any" : v === "*other*" ? "any other" : v;
      if (v.length > 4) return `${v.slice(0, 3).map(esc).join(", ")} and ${v.length - 3} more blocks`;
      return v.map((x) => (x === "*other*" ? "any other" : esc(x))).join(", ");
    };
    r.innerHTML = `<table><thead><tr><th>step</th><th>path</th><th>from</th><th>decision</th></tr></thead><tbody>${reached.steps
      .flatMap((s) =>
        s.origins.map((o) => `<tr><td>${s.step}</td><td>${o.path}</td><td>${
          o.path === "endpoint" ? `endpoint ${list(o.vpce)} in ${list(o.vpc)}, from ${list(o.vpc_source_ip)}` : list(o.source_ip)
        }</td><td><span class="badge b-${o.decision}">${o.decision}</span></td></tr>`),
      )
      .join("")}</tbody></table>`;
  } else {
    r.innerHTML = `<span class="muted">—</span>`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Start.

function setTheme(t) {
  document.documentElement.dataset.theme = t;
}

async function start() {
  const t0 = performance.now();
  iamgate = await load(wasmBytes);
  window.__iamgate.load = performance.now() - t0;
  window.__iamgate.api = iamgate;
  fillMenus();
  const saved = decodeState(location.hash);
  setTheme(saved?.theme ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
  view = new EditorView({ parent: $("editor") });
  if (saved) {
    chosen = { example: saved.example ?? "", network: saved.network ?? "zscaler-r53-dx" };
    for (const t of TABS) setDoc(t.id, saved.docs?.[t.id] ?? "");
    $("examples").value = chosen.example;
    $("network").value = chosen.network;
    showTab(TABS.some((t) => t.id === saved.tab) ? saved.tab : "identity");
    schedule(0);
  } else {
    for (const t of TABS) setDoc(t.id, "");
    $("examples").value = "s67-row2-row3-blog1-works";
    loadExample("s67-row2-row3-blog1-works");
  }
  $("share").onclick = async () => {
    history.replaceState(null, "", `#s=${encodeState()}`);
    try {
      await navigator.clipboard.writeText(location.href);
      $("busy").textContent = "link copied";
    } catch {
      $("busy").textContent = "link in the address bar";
    }
    setTimeout(() => ($("busy").textContent = ""), 2000);
  };
  $("theme").onclick = () => {
    setTheme(document.documentElement.dataset.theme === "dark" ? "light" : "dark");
    saveSoon();
  };
  $("help").onclick = () => $("keys").showModal();
  document.addEventListener("keydown", (e) => {
    if (e.altKey && /^[1-9]$/.test(e.key)) {
      const t = TABS[Number(e.key) - 1];
      if (t) showTab(t.id, true);
      e.preventDefault();
    } else if (e.altKey && (e.key === "e" || e.key === "n" || e.key === "l" || e.key === "t")) {
      ({ e: () => $("examples").focus(), n: () => $("network").focus(), l: () => $("share").click(), t: () => $("theme").click() })[e.key]();
      e.preventDefault();
    } else if (e.key === "?" && !view.hasFocus && !(e.target instanceof HTMLInputElement)) {
      $("keys").showModal();
    }
  });
  window.__iamgate.ready = true;
}

start().catch((e) => {
  $("verdict").className = "verdict error";
  $("verdict").textContent = `The playground could not start: ${e.message}`;
});
