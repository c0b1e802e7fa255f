// harness.mjs is what the Chromium tests of signed-in pages share: the
// browser to launch, a token minter for the server's secret, unique room
// names, and screenshots under build/browser-test/<test>/.
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before } from "node:test";
import { chromium } from "playwright-core";
import { DevServer, ROOT } from "./devserver.mjs";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
// The flags that keep Debian's Chromium off the (closed) network.
export const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];
export const WAIT_MS = 30_000;
export const OUT = path.join(ROOT, "build", "browser-test");

/** newSecret is a fresh AUTH_SECRET for one test file's server. */
export const newSecret = () => randomBytes(24).toString("hex");

/**
 * mint signs an HS256 JWT for sub with secret; role, if given, is the "role"
 * claim, and ttlS the lifetime in seconds (negative: exp already passed).
 */
export function mint(secret, sub, { role, ttlS = 3600 } = {}) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub, iat: now, exp: now + ttlS };
  if (role) claims.role = role;
  const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}`;
  return `${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`;
}

let rooms = 0;
/** uniqueRoom is a room name no other test or run uses. */
export const uniqueRoom = (tag) => `${tag}-${process.pid}-${Date.now().toString(36)}-${++rooms}`;

/** shot saves a full-page screenshot of page under the test's folder. */
export async function shot(t, page, name) {
  const dir = path.join(OUT, t.name.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-|-$/g, "").slice(0, 80));
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/**
 * signedInSuite gives one test file of the signed-in page a dev server named
 * name, with a fresh AUTH_SECRET and vars, and a headless Chromium, both
 * started before its tests and stopped after them. suite.server and
 * suite.browser are set once the tests run; suite.mint(sub, opts) signs a
 * token with the suite's secret.
 */
export function signedInSuite(name, vars = {}) {
  const secret = newSecret();
  const suite = { server: undefined, browser: undefined, mint: (sub, opts) => mint(secret, sub, opts) };
  before(async () => {
    suite.server = new DevServer({ name, vars: { AUTH_SECRET: secret, ...vars } });
    suite.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
    await suite.server.start();
  });
  after(async () => {
    await suite.browser?.close();
    await suite.server?.stop();
  });
  return suite;
}

/** waitStatus waits until the page's connection status is want. */
export async function waitStatus(page, want, timeout = WAIT_MS) {
  await page.waitForFunction((w) => document.querySelector("#status")?.dataset.status === w, want, { timeout });
}

/** send types text into the page's composer and sends it with Enter. */
export async function send(page, text) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
}

/** texts lists the message texts the page shows, in order. */
export const texts = (page) => page.locator("#messages .msg .text").allTextContents();

/** waitText waits until the page shows a message whose text is text. */
export async function waitText(page, text, timeout = WAIT_MS) {
  await page.waitForFunction(
    (s) => [...document.querySelectorAll("#messages .msg .text")].some((el) => el.textContent === s),
    text, { timeout });
}
