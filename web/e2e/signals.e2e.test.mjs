// Browser tests of the live signals in headless Chromium, against a
// `wrangler dev` with AUTH_SECRET set (tokens fix who is who): typing shows
// in another context and expires; a tab that is hidden counts unread
// messages in its title and marks nothing read until it is visible again,
// when the others see "Seen by"; a join with unread messages shows the
// divider above the first of them (a first visit shows none); reactions
// toggled from two contexts keep the same counts on both, by mouse and by
// keyboard; a reload keeps the reactions and the read position, and one's
// own message moves it.
//
//   node --test --test-concurrency=1 web/e2e/signals.e2e.test.mjs
//
// These follow the wire contract of typing / read / read_state / react /
// reaction; against a server without it they fail (the room answers
// unknown_type).
import { test } from "node:test";
import assert from "node:assert/strict";
import { WAIT_MS, signedInSuite, uniqueRoom, shot, waitStatus, send, waitText } from "./harness.mjs";

const suite = signedInSuite("signals", { RATE_LIMIT_BURST: "100" });
const mint = suite.mint;

// --- helpers ---

// newContext is a browser context that records every frame its pages send
// and whose pages are "hidden" (document.visibilityState, document.hidden)
// while sessionStorage "test.hidden" is "1" (set with setHidden), so that a
// test can hide a tab, or load one hidden, without a window manager.
async function newContext(t) {
  const context = await suite.browser.newContext({ viewport: { width: 1000, height: 700 } });
  t.after(() => context.close().catch(() => {}));
  await context.addInitScript(() => {
    window.__sent = [];
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      send(data) {
        window.__sent.push(String(data));
        super.send(data);
      }
    };
    const hidden = () => sessionStorage.getItem("test.hidden") === "1";
    Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get: () => (hidden() ? "hidden" : "visible") });
    Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: hidden });
  });
  return context;
}

// openAs opens room as sub in a context of its own (or the one given) and
// waits until it is connected.
async function openAs(t, room, sub, { context, hidden = false } = {}) {
  context ??= await newContext(t);
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  const token = mint(sub);
  // The first document of the origin sets the hidden flag before the page runs.
  await page.goto(`${suite.server.http}/api/health`);
  await page.evaluate((h) => sessionStorage.setItem("test.hidden", h ? "1" : "0"), hidden);
  await page.goto(`${suite.server.http}/r/${room}#token=${token}`);
  await waitStatus(page, "open");
  return { context, page, token, sub };
}

async function setHidden(page, hidden) {
  await page.evaluate((h) => {
    sessionStorage.setItem("test.hidden", h ? "1" : "0");
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

const composer = (page) => page.getByLabel("Message", { exact: true });

const item = (page, text) => page.locator("#messages .msg").filter({
  has: page.locator(".text", { hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) }),
});

async function sendAndId(page, text, ...others) {
  await send(page, text);
  for (const p of [page, ...others]) await waitText(p, text);
  return Number(await item(page, text).getAttribute("data-id"));
}

const sentFrames = async (page, type) =>
  (await page.evaluate(() => window.__sent)).map((s) => JSON.parse(s)).filter((f) => f.type === type);

const typingText = (page) => page.locator("#typing").textContent();

async function waitTyping(page, text) {
  await page.waitForFunction((s) => document.querySelector("#typing")?.textContent === s, text, { timeout: WAIT_MS });
}

// chips is what a message shows of its reactions, in order:
// [emoji, count, pressed].
const chips = (page, id) => page.locator(`#messages .msg[data-id="${id}"] .reactions .chip`).evaluateAll(
  (els) => els.map((b) => [b.dataset.emoji, Number(b.querySelector(".count").textContent), b.getAttribute("aria-pressed")]));

async function waitChips(page, id, want) {
  await page.waitForFunction(({ i, w }) => {
    const got = [...document.querySelectorAll(`#messages .msg[data-id="${i}"] .reactions .chip`)]
      .map((b) => [b.dataset.emoji, Number(b.querySelector(".count").textContent), b.getAttribute("aria-pressed")]);
    return JSON.stringify(got) === JSON.stringify(w);
  }, { i: id, w: want }, { timeout: WAIT_MS }).catch(async (err) => {
    throw new Error(`${err.message}\nwanted ${JSON.stringify(want)}, got ${JSON.stringify(await chips(page, id))}`);
  });
}

const seenUnder = (page, id) => page.locator(`#messages .msg[data-id="${id}"] .seen`);

async function waitSeen(page, id, text) {
  await page.waitForFunction(({ i, s }) =>
    document.querySelector(`#messages .msg[data-id="${i}"] .seen`)?.textContent === s, { i: id, s: text }, { timeout: WAIT_MS });
}

// --- tests ---

test("typing shows in the other context, names who, clears with the message and expires on its own", async (t) => {
  const room = uniqueRoom("typing");
  const a = await openAs(t, room, "alice");
  const b = await openAs(t, room, "bob");
  const c = await openAs(t, room, "carol");
  const region = b.page.locator("#typing");
  assert.equal(await region.getAttribute("aria-live"), "polite");
  assert.equal(await typingText(b.page), "");

  // Keystrokes in a burst: one typing frame (the client throttles to 2 s).
  await composer(a.page).pressSequentially("hello th", { delay: 30 });
  await waitTyping(b.page, "alice is typing…");
  await waitTyping(c.page, "alice is typing…");
  assert.equal(await typingText(a.page), "", "not to the typer");
  assert.equal((await sentFrames(a.page, "typing")).length, 1);
  await composer(c.page).pressSequentially("me too", { delay: 30 });
  await waitTyping(b.page, "alice and carol are typing…");
  await shot(t, b.page, "two-typing");

  // alice's message ends her typing at once, whatever is left of her 6 s.
  await composer(a.page).press("End");
  await composer(a.page).pressSequentially("ere");
  await composer(a.page).press("Enter");
  await waitText(b.page, "hello there");
  assert.ok(!(await typingText(b.page)).includes("alice"), "alice's message ended her typing");
  // carol stops typing: she disappears on her own, 6 s after her last frame.
  await waitTyping(b.page, "");
  // A third typer makes "several people".
  const d = await openAs(t, room, "dave");
  for (const p of [a.page, c.page, d.page]) await composer(p).pressSequentially("x");
  await waitTyping(b.page, "several people are typing…");
  for (const p of [a, b, c, d]) assert.deepEqual(p.page.errors, []);
  assert.equal(await b.page.locator("#errors .error").count(), 0);
});

test("a hidden tab counts unread in its title and reads nothing until visible; the others see Seen by", async (t) => {
  const room = uniqueRoom("unread");
  const a = await openAs(t, room, "alice");
  const b = await openAs(t, room, "bob");
  const first = await sendAndId(a.page, "before hiding", b.page);
  // bob sees it: read, and alice sees that.
  await waitSeen(a.page, first, "Seen by bob");
  assert.equal(await b.page.title(), `${room} · gochat`);

  await setHidden(b.page, true);
  const readsBefore = (await sentFrames(b.page, "read")).length;
  const u1 = await sendAndId(a.page, "while away 1", b.page);
  await sendAndId(a.page, "while away 2", b.page);
  await b.page.waitForFunction((r) => document.title === `(2) ${r} · gochat`, room, { timeout: WAIT_MS });
  // Not read while hidden, even though the messages are in view.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await sentFrames(b.page, "read")).length, readsBefore);
  assert.equal(await seenUnder(a.page, first).textContent(), "Seen by bob");

  await setHidden(b.page, false);
  await b.page.waitForFunction((r) => document.title === `${r} · gochat`, room, { timeout: WAIT_MS });
  const last = Number(await item(a.page, "while away 2").getAttribute("data-id"));
  await waitSeen(a.page, last, "Seen by bob");
  assert.equal(await seenUnder(a.page, first).count(), 0, "the marker moved on");
  assert.ok(last > u1);
  const reads = (await sentFrames(b.page, "read")).map((f) => f.id);
  assert.equal(reads.at(-1), last);
  assert.deepEqual([...reads].sort((x, y) => x - y), reads, "reads only move forward");
  await shot(t, a.page, "seen-by-bob");
  assert.deepEqual(a.page.errors, []);
  assert.deepEqual(b.page.errors, []);
});

test("a join with unread messages shows the divider above the first; loaded hidden, the title counts them", async (t) => {
  const room = uniqueRoom("divider");
  const a = await openAs(t, room, "alice");
  const b = await openAs(t, room, "bob");
  const read = await sendAndId(a.page, "read already", b.page);
  await waitSeen(a.page, read, "Seen by bob");
  await b.page.close();

  const u1 = await sendAndId(a.page, "new one");
  await sendAndId(a.page, "new two");
  await sendAndId(a.page, "new three");

  // bob comes back in a tab that is hidden.
  const b2 = await openAs(t, room, "bob", { context: b.context, hidden: true });
  const divider = b2.page.locator("#messages .unread-divider");
  await divider.waitFor({ state: "attached", timeout: WAIT_MS });
  assert.equal(await divider.textContent(), "3 new messages");
  const next = await divider.evaluate((el) => el.nextElementSibling?.dataset.id);
  assert.equal(Number(next), u1, "right above the first unread");
  await b2.page.waitForFunction((r) => document.title === `(3) ${r} · gochat`, room, { timeout: WAIT_MS });
  assert.equal((await sentFrames(b2.page, "read")).length, 0);
  await shot(t, b2.page, "divider-hidden");

  // Visible: read, the count goes, the divider stays until bob posts.
  await setHidden(b2.page, false);
  await b2.page.waitForFunction((r) => document.title === `${r} · gochat`, room, { timeout: WAIT_MS });
  const top = Number(await item(a.page, "new three").getAttribute("data-id"));
  await waitSeen(a.page, top, "Seen by bob");
  assert.equal(await divider.count(), 1);
  await sendAndId(b2.page, "caught up", a.page);
  assert.equal(await divider.count(), 0);

  // carol's first visit: the room counts every message as unread to her
  // (lastRead 0), but nothing is new since last time: no divider.
  const c = await openAs(t, room, "carol");
  await waitText(c.page, "caught up");
  await new Promise((r) => setTimeout(r, 500)); // the read_state has come with the history
  assert.equal(await c.page.locator("#messages .unread-divider").count(), 0);
  assert.deepEqual(b2.page.errors, []);
  assert.deepEqual(c.page.errors, []);
});

test("reactions toggled from two contexts keep the same counts on both, by mouse and by keyboard", async (t) => {
  const room = uniqueRoom("react");
  const a = await openAs(t, room, "alice");
  const b = await openAs(t, room, "bob");
  const id = await sendAndId(a.page, "react to me", b.page);
  const mine = a.page.locator(`#messages .msg[data-id="${id}"]`);

  // alice, by keyboard: the picker is a menu button; arrows move; Enter picks.
  const add = mine.getByRole("button", { name: "Add reaction" });
  assert.equal(await add.getAttribute("aria-haspopup"), "menu");
  await add.focus();
  await a.page.keyboard.press("Enter");
  const menu = mine.getByRole("menu", { name: "Add reaction" });
  await menu.waitFor({ state: "visible", timeout: WAIT_MS });
  assert.equal(await add.getAttribute("aria-expanded"), "true");
  assert.equal(await a.page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "React with thumbs up");
  await a.page.keyboard.press("ArrowRight");
  assert.equal(await a.page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "React with heart");
  await a.page.keyboard.press("Enter");
  await menu.waitFor({ state: "hidden", timeout: WAIT_MS });
  assert.equal(await a.page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Add reaction", "the focus goes back");
  await waitChips(a.page, id, [["❤️", 1, "true"]]);
  await waitChips(b.page, id, [["❤️", 1, "false"]]);
  // Escape closes the picker without picking.
  await a.page.keyboard.press("ArrowDown");
  await menu.waitFor({ state: "visible", timeout: WAIT_MS });
  await a.page.keyboard.press("Escape");
  await menu.waitFor({ state: "hidden", timeout: WAIT_MS });

  // bob, by mouse: the chip toggles his, the picker adds another.
  const theirs = b.page.locator(`#messages .msg[data-id="${id}"]`);
  await theirs.locator(".chip", { hasText: "❤️" }).click();
  await waitChips(a.page, id, [["❤️", 2, "true"]]);
  await waitChips(b.page, id, [["❤️", 2, "true"]]);
  await theirs.getByRole("button", { name: "Add reaction" }).click();
  await theirs.getByRole("menuitem", { name: "React with thumbs up" }).click();
  await waitChips(b.page, id, [["❤️", 2, "true"], ["👍", 1, "true"]]);
  await waitChips(a.page, id, [["❤️", 2, "true"], ["👍", 1, "false"]]);
  const heart = mine.locator(".chip", { hasText: "❤️" });
  assert.equal(await heart.getAttribute("title"), "you, bob");

  // Both at once on the same emoji.
  await Promise.all([
    mine.locator(".chip", { hasText: "👍" }).click(),
    theirs.locator(".chip", { hasText: "❤️" }).click(),
  ]);
  await waitChips(a.page, id, [["❤️", 1, "true"], ["👍", 2, "true"]]);
  await waitChips(b.page, id, [["❤️", 1, "false"], ["👍", 2, "true"]]);
  // The last one of an emoji gone, its chip goes, and the focus stays on the message.
  await heart.focus();
  await a.page.keyboard.press("Enter");
  await waitChips(a.page, id, [["👍", 2, "true"]]);
  await waitChips(b.page, id, [["👍", 2, "true"]]);
  assert.equal(await a.page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Add reaction");
  await shot(t, a.page, "reactions");

  // The HTTP API has them too.
  const res = await fetch(`${suite.server.http}/api/rooms/${room}/messages`, { headers: { Authorization: `Bearer ${a.token}` } });
  const body = await res.json();
  const m = body.messages.find((x) => x.id === id);
  assert.deepEqual(m.reactions.map(({ emoji, count, users }) => ({ emoji, count, users: [...users].sort() })),
    [{ emoji: "👍", count: 2, users: ["alice", "bob"] }]);
  for (const p of [a, b]) {
    assert.deepEqual(p.page.errors, []);
    assert.equal(await p.page.locator("#errors .error").count(), 0);
  }
});

test("a reload keeps the reactions and the read position, which our own message moves", async (t) => {
  const room = uniqueRoom("reload");
  const a = await openAs(t, room, "alice");
  const b = await openAs(t, room, "bob");
  const m1 = await sendAndId(a.page, "first", b.page);
  const m2 = await sendAndId(a.page, "second", b.page);
  const theirs = b.page.locator(`#messages .msg[data-id="${m1}"]`);
  await theirs.getByRole("button", { name: "Add reaction" }).click();
  await theirs.getByRole("menuitem", { name: "React with party" }).click();
  await waitChips(a.page, m1, [["🎉", 1, "false"]]);
  await waitSeen(a.page, m2, "Seen by bob");

  await b.page.reload();
  await waitStatus(b.page, "open");
  await waitChips(b.page, m1, [["🎉", 1, "true"]]);
  assert.equal(await b.page.locator("#messages .unread-divider").count(), 0, "nothing unread");
  await a.page.reload();
  await waitStatus(a.page, "open");
  await waitChips(a.page, m1, [["🎉", 1, "false"]]);
  // bob is present, so the room's GET says how far he read.
  await waitSeen(a.page, m2, "Seen by bob");

  // bob hides, alice posts, bob reloads hidden: one unread, the divider above it.
  await setHidden(b.page, true);
  const m3 = await sendAndId(a.page, "third", b.page);
  await b.page.reload();
  await waitStatus(b.page, "open");
  const divider = b.page.locator("#messages .unread-divider");
  await divider.waitFor({ state: "attached", timeout: WAIT_MS });
  assert.equal(await divider.textContent(), "1 new message");
  assert.equal(Number(await divider.evaluate((el) => el.nextElementSibling?.dataset.id)), m3);
  await b.page.waitForFunction((r) => document.title === `(1) ${r} · gochat`, room, { timeout: WAIT_MS });

  // Still hidden, bob answers: the room counts his own message as unread
  // until his read position passes it, so posting moves it past (and past
  // what came before), and the next load has nothing unread.
  const readsBefore = (await sentFrames(b.page, "read")).length;
  const m4 = await sendAndId(b.page, "answered unseen", a.page);
  await b.page.waitForFunction((r) => document.title === `${r} · gochat`, room, { timeout: WAIT_MS });
  const reads = (await sentFrames(b.page, "read")).slice(readsBefore).map((f) => f.id);
  assert.deepEqual(reads, [m4]);
  await b.page.reload();
  await waitStatus(b.page, "open");
  await waitText(b.page, "answered unseen");
  await new Promise((r) => setTimeout(r, 500)); // the read_state has come with the history
  assert.equal(await b.page.locator("#messages .unread-divider").count(), 0, "nothing unread after our own message");
  assert.equal(await b.page.title(), `${room} · gochat`);
  assert.deepEqual(a.page.errors, []);
  assert.deepEqual(b.page.errors, []);
});
