// End-to-end tests of the playground in headless Chromium (Debian's, through playwright-core): the built page is
// served locally; each scenario keeps a screenshot in wasm/test-results/. Run by wasm/test.sh.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile, mkdir } from "node:fs/promises";
import { join, dirname, extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
// playwright-core is one of the playground's npm packages.
const { chromium } = createRequire(join(here, "../playground/package.json"))("playwright-core");
const dist = join(here, "../playground/dist");
const shots = join(here, "../test-results");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };

let server;
let base;
let browser;
const served = []; // every path the server was asked for

before(async () => {
  await mkdir(shots, { recursive: true });
  server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    served.push(path);
    try {
      const body = await readFile(join(dist, path === "/" ? "index.html" : path.slice(1)));
      res.writeHead(200, { "content-type": types[extname(path) || ".html"] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({ executablePath, args });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** A new page that records every request it makes, opened at `url`, once the playground has decided. */
async function open(url, scheme = "light") {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: scheme });
  const page = await context.newPage();
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => window.__iamgate?.ready && window.__iamgate.runs > 0);
  return { page, requests, errors, context };
}

/** Replace the text of the editor's current tab, as a user would: select all, then type. */
async function typeInEditor(page, text) {
  await page.locator(".cm-content").click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

async function decisions(page) {
  return {
    create: await page.textContent('[data-testid="decision-create"]'),
    use: await page.textContent('[data-testid="decision-use"]'),
    verdict: await page.getAttribute("#verdict", "data-verdict"),
  };
}

/** The text under the editor's marks of class `cls` (a mark spanning lines is one element per line; a mark nested
 * in another of its class is counted once), and the marks' `data-outcome`s. */
async function marked(page, cls) {
  return page.$$eval(`.${cls}`, (els, cls) => {
    const top = els.filter((e) => !e.parentElement?.closest(`.${cls}`));
    return { text: top.map((e) => e.textContent).join(""), outcomes: [...new Set(top.map((e) => e.dataset.outcome).filter(Boolean))] };
  }, cls);
}

async function settle(page) {
  // Let the debounced run, the lint and the fragment update happen.
  await page.waitForTimeout(700);
}

const ZSCALER_ALLOWLIST = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "StudioFromZscaler",
      "Effect": "Allow",
      "Action": "sagemaker:CreatePresignedDomainUrl",
      "Resource": "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/*",
      "Condition": {"IpAddress": {"aws:SourceIp": ["165.225.0.0/17"]}}
    }
  ]
}`;

let shared = null;

test("type a policy, pick a network: both decisions, for two networks", async () => {
  const { page, requests, errors, context } = await open(base);
  const loaded = requests.length;
  await page.click("#tab-identity");
  await typeInEditor(page, ZSCALER_ALLOWLIST);
  await page.selectOption("#network", "zscaler-only");
  await settle(page);
  let d = await decisions(page);
  assert.deepEqual(d, { create: "Allow", use: "Allow", verdict: "works" });
  // The deciding statement is highlighted in the editor: exactly its object, from `{` to `}`.
  const statement = ZSCALER_ALLOWLIST.slice(ZSCALER_ALLOWLIST.indexOf('{\n      "Sid"'), ZSCALER_ALLOWLIST.lastIndexOf("}\n  ]") + 1);
  assert.equal((await marked(page, "cm-decide-Allow")).text, statement.replaceAll("\n", ""));
  // Its condition is marked at its own span (key to values) with the outcome: the address matched.
  assert.deepEqual(await marked(page, "cm-cond-held"), { text: '"aws:SourceIp": ["165.225.0.0/17"]', outcomes: ["matched"] });
  await page.screenshot({ path: join(shots, "1-zscaler-only-works.png") });

  await page.selectOption("#network", "zscaler-r53-dx");
  await settle(page);
  d = await decisions(page);
  // Through the endpoints there is no aws:SourceIp: the allow-list allows nothing.
  assert.deepEqual(d, { create: "ImplicitDeny", use: "ImplicitDeny", verdict: "create-denied" });
  assert.match(await page.textContent('[data-step="create"]'), /no statement in identity allows it/);
  assert.match(await page.textContent('[data-step="create"]'), /IpAddress on aws:SourceIp: key absent/);
  await page.screenshot({ path: join(shots, "2-zscaler-r53-dx-denied.png") });

  shared = { url: page.url(), decisions: d };
  assert.match(shared.url, /#s=/);
  assert.equal(requests.length, loaded, `requests after load: ${requests.slice(loaded).join(", ")}`);
  assert.ok(requests.every((u) => u.startsWith(base)), requests.join(", "));
  assert.deepEqual(errors, []);
  await context.close();
});

test("a shared link reproduces the state", async () => {
  assert.ok(shared, "runs after the first scenario");
  const { page, context } = await open(shared.url, "dark");
  assert.equal(await page.inputValue("#network"), "zscaler-r53-dx");
  assert.deepEqual(await decisions(page), shared.decisions);
  const text = await page.evaluate(() => document.querySelector(".cm-content").innerText);
  assert.match(text, /StudioFromZscaler/);
  assert.match(text, /165\.225\.0\.0\/17/);
  // The failed condition of the statement that matched is underlined in the editor, at its span, with its
  // outcome: through the endpoints the request has no aws:SourceIp, and IpAddress is false on an absent key.
  assert.deepEqual(await marked(page, "cm-cond-not"), { text: '"aws:SourceIp": ["165.225.0.0/17"]', outcomes: ["absent-positive"] });
  await page.screenshot({ path: join(shots, "3-shared-link.png") });
  // Alt+T switches light and dark.
  const theme = await page.getAttribute("html", "data-theme");
  await page.keyboard.press("Alt+t");
  assert.notEqual(await page.getAttribute("html", "data-theme"), theme);
  await page.screenshot({ path: join(shots, "3b-other-theme.png") });
  await context.close();
});

test("a squiggle on a broken policy at the right line", async () => {
  const { page, context } = await open(base);
  await page.click("#tab-identity");
  const broken = ZSCALER_ALLOWLIST.replace('"Effect": "Allow"', '"Effect": "Alow"');
  const line = broken.split("\n").findIndex((l) => l.includes('"Alow"')) + 1;
  await typeInEditor(page, broken);
  await page.waitForSelector(".cm-lintRange-error");
  const at = await page.evaluate(() => {
    const mark = document.querySelector(".cm-lintRange-error");
    const lines = [...document.querySelectorAll(".cm-content .cm-line")];
    return { line: lines.indexOf(mark.closest(".cm-line")) + 1, text: mark.textContent };
  });
  assert.deepEqual(at, { line, text: '"Alow"' });
  await settle(page);
  assert.equal(await page.getAttribute("#verdict", "data-verdict"), "error");
  assert.match(await page.textContent("#errors"), /identity\[0\]:6:17/);
  await page.hover(".cm-lintRange-error");
  await page.waitForSelector(".cm-tooltip-lint").catch(() => {});
  await page.screenshot({ path: join(shots, "4-squiggle.png") });
  await context.close();
});

test("the page works opened from disk, with no request beyond its own files", async () => {
  const { page, requests, context } = await open(pathToFileURL(join(dist, "index.html")).href);
  assert.ok(["works", "create-denied", "use-denied", "partial", "unreachable"].includes(await page.getAttribute("#verdict", "data-verdict")));
  assert.ok(requests.every((u) => u.startsWith("file://")), requests.join(", "));
  await page.screenshot({ path: join(shots, "5-from-disk.png") });
  await context.close();
});

test("timing of lint + compile + decide for a 10 KB policy, per keystroke (reported, not asserted)", async () => {
  const { page, context } = await open(base);
  const figures = await page.evaluate(() => {
    const api = window.__iamgate.api;
    const statements = [];
    let text = "";
    for (let i = 0; text.length < 10240; i++) {
      statements.push(`{"Sid": "S${i}", "Effect": "${i % 5 ? "Allow" : "Deny"}", "Action": ["sagemaker:CreatePresignedDomainUrl", "sagemaker:Describe*"], "Resource": "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc${i}/*", "Condition": {"IpAddress": {"aws:SourceIp": ["10.${i % 250}.0.0/16", "165.225.${i % 250}.0/24"]}}}`);
      text = `{"Version": "2012-10-17", "Statement": [\n${statements.join(",\n")}\n]}`;
    }
    const request = { principal: "arn:aws:iam::111122223333:role/DataSci", action: "sagemaker:CreatePresignedDomainUrl", resource: "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc7/alice", context: { "aws:SourceIp": "165.225.7.9" } };
    const times = [];
    for (let k = 0; k < 40; k++) {
      const t0 = performance.now();
      api.lint(text, "identity");
      const { set } = api.compile({ identity_policies: [text] });
      set.explain(request);
      set.free();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { bytes: text.length, median: times[20], p90: times[36] };
  });
  console.log(`keystroke: lint + compile + explain of a ${figures.bytes}-byte policy in Chromium: median ${figures.median.toFixed(2)} ms, p90 ${figures.p90.toFixed(2)} ms`);
  // The same work through the page's own pipeline (presign, explain of both steps, reach, lint of every tab).
  await page.click("#tab-identity");
  await typeInEditor(page, "{}");
  await settle(page);
  assert.ok(figures.bytes >= 10240);
  await context.close();
});
