// Browser tests of the page's security rules in headless Chromium, against a
// `wrangler dev` with AUTH_SECRET set (rooms need a token): the token leaves
// the address bar at once and lives in sessionStorage, it never goes into a
// URL (the socket offers it as a subprotocol, the HTTP API gets it as a
// header), a room switch keeps the user signed in, the page runs under its
// Content-Security-Policy without a violation, user text is bidi-isolated,
// older messages load above, and /favicon.ico exists.
//
//   node --test --test-concurrency=1 web/e2e/security.e2e.test.mjs
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { DevServer } from "./devserver.mjs";
import { CHROMIUM, CHROMIUM_FLAGS, WAIT_MS, OUT, newSecret, mint as mintWith, uniqueRoom, shot, waitStatus, send, waitText, texts } from "./harness.mjs";

const SECRET = newSecret();
const mint = (sub, opts) => mintWith(SECRET, sub, opts);
const HISTORY_ON_JOIN = 5; // small, so that a test reaches "older" quickly

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

let server;
let browser;

before(async () => {
  server = new DevServer({
    name: "sec",
    vars: { AUTH_SECRET: SECRET, HISTORY_ON_JOIN: String(HISTORY_ON_JOIN), RATE_LIMIT_BURST: "100" },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
  await server.start();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// --- helpers ---




// newPage opens a page in a fresh context that records, from before any
// page script runs: every WebSocket the page creates (URL and offered
// protocols), every CSP violation (event and console), page errors, and
// every request URL with its Authorization header.
async function newPage(t, { viewport = { width: 1000, height: 700 } } = {}) {
  const context = await browser.newContext({ viewport });
  t.after(() => context.close().catch(() => {}));
  await context.addInitScript(() => {
    window.__sockets = [];
    window.__socketObjects = [];
    window.__csp = [];
    window.__historyAtStart = history.length;
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url, protocols) {
        super(url, protocols);
        window.__sockets.push({ url: String(url), protocols: protocols === undefined ? null : [].concat(protocols) });
        window.__socketObjects.push(this);
      }
    };
    window.addEventListener("securitypolicyviolation",
      (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`), true);
  });
  const page = await context.newPage();
  page.errors = [];
  page.cspConsole = [];
  page.requests = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) page.cspConsole.push(m.text()); });
  page.on("request", (r) => page.requests.push({
    url: r.url(), authorization: r.headers().authorization, navigation: r.isNavigationRequest(),
  }));
  return { context, page };
}

const sockets = (page) => page.evaluate(() => window.__sockets);
const selected = (page) => page.evaluate(() => window.__socketObjects.map((ws) => ws.protocol));

// waitSocket waits until the page has created n sockets.
async function waitSocket(page, n = 1) {
  await page.waitForFunction((k) => window.__sockets.length >= k, n, { timeout: WAIT_MS });
}

// assertNoTokenIn checks that no URL the page used or shows carries token,
// apart from the navigations the test itself made with a ?token= link.
async function assertNoTokenIn(page, token) {
  assert.ok(!page.url().includes(token), `address bar: ${page.url()}`);
  assert.ok(!(await page.evaluate(() => location.href)).includes("token="));
  for (const s of await sockets(page)) assert.ok(!s.url.includes(token) && !s.url.includes("token="), `socket URL ${s.url}`);
  for (const r of page.requests) {
    if (r.navigation && page.linked?.has(r.url)) continue;
    assert.ok(!r.url.includes(token), `request URL ${r.url}`);
  }
}

// --- tests (no server change needed) ---

test("security headers on /, /r/{room} and assets; /favicon.ico is a 200 icon", async () => {
  for (const p of ["/", `/r/${uniqueRoom("hdr")}`, "/chat-client.js", "/chat-page.js", "/chat.css", "/favicon.ico"]) {
    const res = await fetch(`${server.http}${p}`);
    assert.equal(res.status, 200, p);
    assert.equal(res.headers.get("content-security-policy"), CSP, p);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", p);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer", p);
    await res.arrayBuffer();
  }
  const ico = await fetch(`${server.http}/favicon.ico`);
  assert.match(ico.headers.get("content-type"), /^image\//);
  const bytes = Buffer.from(await ico.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 4)], [0, 0, 1, 0], "ICO magic");
  assert.equal(bytes.readUInt16LE(4), 1, "one image");
  // The rules file itself is not served.
  const rules = await fetch(`${server.http}/_headers`);
  await rules.arrayBuffer();
  assert.equal(rules.status, 404);
});

test("the page runs under its CSP with no violation", async (t) => {
  for (const url of [`${server.http}/#token=${mint("csp-user")}`, `${server.http}/r/${uniqueRoom("csp")}`]) {
    const { page } = await newPage(t);
    await page.goto(url);
    if (url.includes("token")) {
      await waitSocket(page); // the page script ran and connected (connect-src)
    } else {
      await page.getByLabel("Your name").fill("csp-anon");
      await page.getByRole("button", { name: "Start chatting" }).click();
      await waitSocket(page);
    }
    // A deliberate violation proves the recorder works; reports are queued
    // in order, so once it is in, any earlier one would be too.
    await page.evaluate(() => document.body.setAttribute("style", "color: red"));
    await page.waitForFunction(() => window.__csp.length > 0, null, { timeout: WAIT_MS });
    const seen = await page.evaluate(() => window.__csp);
    assert.deepEqual(seen, ["style-src-attr inline"], `violations on ${url}`);
    assert.equal(page.cspConsole.filter((m) => !/style-src-attr|inline style/i.test(m)).length, 0, page.cspConsole.join("\n"));
    assert.deepEqual(page.errors, []);
    // The favicon the page links to loads.
    const icon = await page.evaluate(async () => (await fetch(document.querySelector('link[rel="icon"]').href)).status);
    assert.equal(icon, 200);
  }
});

test("#token= leaves the address bar at once, lands in sessionStorage, and is offered only as a subprotocol", async (t) => {
  const token = mint("hash-user");
  const room = uniqueRoom("hash");
  const { page } = await newPage(t);
  await page.goto(`${server.http}/r/${room}?view=1#token=${token}`);
  await waitSocket(page);
  assert.equal(page.url(), `${server.http}/r/${room}?view=1`);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("gochat.token")), token);
  assert.equal(await page.evaluate(() => localStorage.getItem("gochat.token")), null);
  assert.ok(await page.locator("#name-form").isHidden(), "no name prompt with a token");
  assert.equal(await page.locator("#me").textContent(), "hash-user");
  assert.ok(await page.locator("#change-name").isHidden());
  const [ws] = await sockets(page);
  assert.equal(ws.url, `ws://127.0.0.1:${server.port}/api/chat/${room}`);
  assert.deepEqual(ws.protocols, ["gochat", `bearer.${token}`]);
  await assertNoTokenIn(page, token);
  // Going back does not bring the token back either: it was replaced, not pushed.
  assert.equal(await page.evaluate(() => history.length - window.__historyAtStart), 0);

  // From here on the server must accept the subprotocol token.
  await waitStatus(page, "open");
  assert.deepEqual(await selected(page), ["gochat"]);
  await send(page, "signed in");
  await waitText(page, "signed in");
  assert.equal(await page.locator("#messages .msg .author").first().textContent(), "hash-user (you)");
  await assertNoTokenIn(page, token);
  await shot(t, page, "hash-token");
});

test("?token= leaves the address bar too, keeping the other parameters and the fragment", async (t) => {
  const token = mint("query-user");
  const room = uniqueRoom("query");
  const { page } = await newPage(t);
  const link = `${server.http}/r/${room}?a=1&token=${token}&b=2#frag`;
  page.linked = new Set([link.replace(/#.*/, "")]); // the link itself reaches the server: why #token= is better
  await page.goto(link);
  await waitSocket(page);
  assert.equal(page.url(), `${server.http}/r/${room}?a=1&b=2#frag`);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("gochat.token")), token);
  assert.equal(await page.locator("#me").textContent(), "query-user");
  assert.deepEqual((await sockets(page))[0].protocols, ["gochat", `bearer.${token}`]);
  await assertNoTokenIn(page, token);

  await waitStatus(page, "open"); // needs the server's subprotocol support
});

test("a room switch and a reload keep the user signed in, with no token in any URL", async (t) => {
  const token = mint("switch-user");
  const first = uniqueRoom("from");
  const second = uniqueRoom("to");
  const { page } = await newPage(t);
  await page.goto(`${server.http}/r/${first}#token=${token}`);
  await waitStatus(page, "open");

  await page.getByLabel("Room", { exact: true }).fill(second);
  await page.getByLabel("Room", { exact: true }).press("Enter");
  await page.waitForURL(`${server.http}/r/${second}`, { timeout: WAIT_MS });
  await waitStatus(page, "open");
  assert.equal(page.url(), `${server.http}/r/${second}`);
  assert.equal(await page.locator("#me").textContent(), "switch-user");
  assert.ok(await page.locator("#name-form").isHidden());
  const all = await sockets(page);
  assert.equal(new URL(all.at(-1).url).pathname, `/api/chat/${second}`);
  assert.deepEqual(all.at(-1).protocols, ["gochat", `bearer.${token}`]);
  await send(page, "still me");
  await waitText(page, "still me");
  assert.equal(await page.locator("#messages .msg.own .author").first().textContent(), "switch-user (you)");

  // A reload finds the token in sessionStorage; the lobby is reachable too.
  await page.reload();
  await waitStatus(page, "open");
  await waitText(page, "still me");
  assert.equal(await page.locator("#me").textContent(), "switch-user");
  await page.goto(`${server.http}/`);
  await waitStatus(page, "open");
  assert.equal(await page.locator("#me").textContent(), "switch-user");
  await assertNoTokenIn(page, token);
  await shot(t, page, "switched");
});

test("user text is bidi-isolated and emoji sequences stay whole; older messages load above, once each", async (t) => {
  const room = uniqueRoom("older");
  const writerToken = mint("\u05D3\u05E0\u05D4"); // a Hebrew name, right-to-left
  const a = await newPage(t);
  await a.page.goto(`${server.http}/r/${room}#token=${writerToken}`);
  await waitStatus(a.page, "open");
  const family = "\u{1F469}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}"; // one ZWJ sequence
  const sent = Array.from({ length: 12 }, (_, i) => `m${String(i + 1).padStart(2, "0")}`);
  sent[3] = `flipped \u202Eright-to-left\u202C then ${family}`;
  for (const text of sent) await send(a.page, text);
  await waitText(a.page, sent.at(-1));

  // The texts keep their code points; names and texts are isolates.
  const own = a.page.locator("#messages .msg", { hasText: "flipped" });
  assert.equal(await own.locator(".text").textContent(), sent[3]);
  assert.equal(await own.locator(".text").getAttribute("dir"), "auto");
  assert.equal(await own.locator(".author bdi").textContent(), "\u05D3\u05E0\u05D4");
  assert.equal(await a.page.locator("#people li bdi").first().textContent(), "\u05D3\u05E0\u05D4");

  // A later reader gets the last HISTORY_ON_JOIN and pages back for the rest.
  const readerToken = mint("reader");
  const b = await newPage(t, { viewport: { width: 1000, height: 320 } }); // short: the list scrolls
  await b.page.goto(`${server.http}/r/${room}#token=${readerToken}`);
  await waitStatus(b.page, "open");
  await waitText(b.page, sent.at(-1));
  assert.deepEqual(await texts(b.page), sent.slice(-HISTORY_ON_JOIN));
  const button = b.page.getByRole("button", { name: "Load older messages" });
  await button.waitFor({ timeout: WAIT_MS });
  // Scrolling up to the top loads them (the button does the same).
  const list = b.page.locator("#messages");
  assert.ok(await list.evaluate((el) => el.scrollHeight > el.clientHeight && el.scrollTop > 0), "the list starts scrolled to the bottom");
  await list.evaluate((el) => { el.scrollTop = 0; });
  await b.page.waitForFunction(() => document.querySelector("#messages .older")?.dataset.state === "start", null, { timeout: WAIT_MS });
  assert.deepEqual(await texts(b.page), sent, "all of them, in order, once each");
  assert.ok(await list.evaluate((el) => el.scrollTop > 0), "what was in view stays in view");
  const ids = await b.page.locator("#messages .msg").evaluateAll((els) => els.map((el) => Number(el.dataset.id)));
  assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
  assert.equal(new Set(ids).size, ids.length);
  assert.match(await b.page.locator("#messages .older").textContent(), /start of the conversation/);
  assert.equal(await b.page.locator("#messages .older").evaluate((el) => el === el.parentElement.firstElementChild), true);

  // The page request carried the token in a header, not in its URL.
  const api = b.page.requests.filter((r) => r.url.includes(`/api/rooms/${room}/messages`));
  assert.ok(api.length >= 1, "loadOlder used the HTTP API");
  for (const r of api) {
    assert.equal(r.authorization, `Bearer ${readerToken}`);
    assert.ok(new URL(r.url).searchParams.has("before"));
  }
  await assertNoTokenIn(b.page, readerToken);
  assert.equal((await b.page.evaluate(() => window.__csp)).length, 0, "fetch is allowed by connect-src");
  assert.deepEqual(b.page.errors, []);
  await shot(t, b.page, "older");
});

test("an expired session says so, and a new #token= link in the same tab signs back in", async (t) => {
  // The server closes the socket with 4001 once the token and its leeway of
  // 30 s have run out; the page has no getToken to refresh it. This token's
  // exp passed 27 s ago: still accepted, for about 3 s more.
  const room = uniqueRoom("expiry");
  const { page } = await newPage(t);
  await page.goto(`${server.http}/r/${room}#token=${mint("brief", { ttlS: -27 })}`);
  await waitStatus(page, "open");
  const err = page.locator('#errors .error[data-code="token_expired"]');
  await err.waitFor({ state: "visible", timeout: 90_000 });
  assert.match(await err.textContent(), /session expired/i);
  assert.equal(await page.locator("#status").getAttribute("data-status"), "closed");
  await shot(t, page, "expired");

  const fresh = mint("brief");
  await page.evaluate((tok) => { location.hash = `#token=${tok}`; }, fresh);
  await waitStatus(page, "open");
  assert.equal(page.url(), `${server.http}/r/${room}`);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("gochat.token")), fresh);
  assert.deepEqual((await sockets(page)).at(-1).protocols, ["gochat", `bearer.${fresh}`]);
  await assertNoTokenIn(page, fresh);
});
