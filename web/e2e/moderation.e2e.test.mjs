// Browser tests of moderation in headless Chromium, against a `wrangler dev`
// with AUTH_SECRET set, so that tokens carry roles: a moderator mutes a
// member (who sees a notice and cannot post), kicks them (their page says so
// and stops reconnecting), bans them for an hour (a reload still says so),
// and turns slow mode on (a member's second message is refused with a
// countdown); a member sees no moderation controls.
//
//   node --test --test-concurrency=1 web/e2e/moderation.e2e.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { WAIT_MS, OUT, signedInSuite, uniqueRoom, shot, waitStatus, send, waitText, texts } from "./harness.mjs";

const suite = signedInSuite("moderation", { RATE_LIMIT_BURST: "100" });
const mint = suite.mint;

// --- helpers ---




// openAs opens room as sub (with role, if any) in a browser context of its
// own and waits until it is connected. The context records every frame the
// page sends and every socket it opens (window.__sent, window.__sockets).
async function openAs(t, room, sub, { role } = {}) {
  const context = await suite.browser.newContext({ viewport: { width: 1100, height: 760 } });
  t.after(() => context.close().catch(() => {}));
  await context.addInitScript(() => {
    window.__sent = [];
    window.__sockets = [];
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url, protocols) {
        super(url, protocols);
        window.__sockets.push(this);
      }
      send(data) {
        window.__sent.push(String(data));
        super.send(data);
      }
    };
  });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  const token = mint(sub, { role });
  await page.goto(`${suite.server.http}/r/${room}#token=${token}`);
  await waitStatus(page, "open");
  return { context, page, token };
}

// waitLine waits for a system line in the conversation matching re.
async function waitLine(page, re) {
  await page.waitForFunction(
    (src) => [...document.querySelectorAll("#messages .notice.moderation, #messages .notice")]
      .some((el) => new RegExp(src).test(el.textContent)),
    re.source, { timeout: WAIT_MS });
}

async function waitPresent(page, user, present = true) {
  await page.waitForFunction(({ u, p }) => Boolean(document.querySelector(`#people li[data-user="${u}"]`)) === p,
    { u: user, p: present }, { timeout: WAIT_MS });
}

// moderate opens the moderation panel of user on a moderator's page and
// presses action ("Kick", "Mute", "Unmute", "Ban"), choosing duration (a
// label of the select) and typing reason first.
async function moderate(page, user, action, { duration, reason } = {}) {
  const li = page.locator(`#people li[data-user="${user}"]`);
  await li.getByRole("button", { name: `Moderate ${user}` }).click();
  const panel = li.getByRole("group", { name: `Moderate ${user}` });
  await panel.waitFor({ state: "visible", timeout: WAIT_MS });
  if (reason !== undefined) await panel.getByLabel("Reason (optional)").fill(reason);
  if (duration !== undefined) {
    await panel.getByLabel(action === "Ban" ? "Ban for" : "Mute for").selectOption({ label: duration });
  }
  await panel.getByRole("button", { name: action, exact: true }).click();
}

const sentFrames = async (page, type) =>
  (await page.evaluate(() => window.__sent)).map((s) => JSON.parse(s)).filter((f) => f.type === type);

const noticeText = (page) => page.locator("#mod-notice").textContent();

// --- tests ---

test("a member sees no moderation controls; a moderator gets them, by keyboard too", async (t) => {
  const room = uniqueRoom("controls");
  const m = await openAs(t, room, "mod", { role: "moderator" });
  const b = await openAs(t, room, "bob", { role: "member" });
  await waitPresent(b.page, "mod");
  await waitPresent(m.page, "bob");

  // The member: no Moderate button anywhere, no moderation section.
  assert.equal(await b.page.getByRole("button", { name: /^Moderate/ }).count(), 0);
  assert.equal(await b.page.locator("#people .mod-panel").count(), 0);
  assert.equal(await b.page.locator("#mod-tools").isVisible(), false);
  assert.equal(await b.page.getByLabel("Slow mode").count(), 1, "in the page, but hidden");
  assert.equal(await b.page.getByLabel("Slow mode").isVisible(), false);

  // The moderator: a disclosure per other user, none on themself.
  assert.equal(await m.page.locator('#people li[data-user="mod"] button').count(), 0);
  const button = m.page.getByRole("button", { name: "Moderate bob" });
  assert.equal(await button.getAttribute("aria-expanded"), "false");
  assert.ok(await m.page.getByLabel("Slow mode").isVisible());
  await button.focus();
  await m.page.keyboard.press("Enter");
  const panel = m.page.getByRole("group", { name: "Moderate bob" });
  await panel.waitFor({ state: "visible", timeout: WAIT_MS });
  assert.equal(await button.getAttribute("aria-expanded"), "true");
  assert.equal(await panel.getAttribute("id"), await button.getAttribute("aria-controls"));
  assert.equal(await m.page.evaluate(() => document.activeElement?.id?.startsWith("mod-reason-")), true, "the focus goes into the panel");
  for (const name of ["Kick", "Mute", "Unmute", "Ban"]) {
    assert.equal(await panel.getByRole("button", { name, exact: true }).count(), 1, name);
  }
  for (const label of ["Mute for", "Ban for"]) {
    assert.deepEqual(await panel.getByLabel(label).locator("option").allTextContents(),
      ["10 minutes", "1 hour", "1 day", "until lifted"], label);
  }
  // Tab reaches the controls in order.
  await m.page.keyboard.press("Tab");
  assert.equal(await m.page.evaluate(() => document.activeElement?.textContent), "Kick");
  await shot(t, m.page, "moderator-panel");
  await m.page.keyboard.press("Escape");
  await panel.waitFor({ state: "hidden", timeout: WAIT_MS });
  assert.equal(await button.getAttribute("aria-expanded"), "false");
  assert.equal(await m.page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Moderate bob");
  // A join does not close an open panel.
  await button.click();
  await panel.waitFor({ state: "visible", timeout: WAIT_MS });
  const c = await openAs(t, room, "carol");
  await waitPresent(m.page, "carol");
  assert.ok(await panel.isVisible());
  assert.equal(await c.page.getByRole("button", { name: /^Moderate/ }).count(), 0);
  for (const p of [m.page, b.page, c.page]) assert.deepEqual(p.errors, []);
  await shot(t, b.page, "member-no-controls");
});

test("a moderator mutes a member: the member sees the notice and cannot post; unmute lifts it", async (t) => {
  const room = uniqueRoom("mute");
  const m = await openAs(t, room, "mod", { role: "moderator" });
  const b = await openAs(t, room, "bob", { role: "member" });
  await waitPresent(m.page, "bob");
  await send(b.page, "before the mute");
  await waitText(m.page, "before the mute");

  await moderate(m.page, "bob", "Mute", { duration: "10 minutes", reason: "calm down" });
  assert.deepEqual(await sentFrames(m.page, "mute"), [{ type: "mute", userId: "bob", seconds: 600, reason: "calm down" }]);
  await b.page.locator("#mod-notice").waitFor({ state: "visible", timeout: WAIT_MS });
  assert.match(await noticeText(b.page), /^You are muted until \d{1,2}:\d{2}.* by \u2068mod\u2069: \u2068calm down\u2069\./);
  await waitLine(b.page, /^You were muted by mod until .+: calm down$/);
  await waitLine(m.page, /^bob was muted by mod until .+: calm down$/);
  assert.equal(await m.page.locator('#people li[data-user="bob"] .badge').textContent(), "muted");

  // Bob tries anyway: refused, the text is back in the box, nobody sees it.
  await send(b.page, "can you hear me?");
  await b.page.waitForFunction(() => document.querySelector("#message-input").value === "can you hear me?", null, { timeout: WAIT_MS });
  assert.match(await noticeText(b.page), /You are muted until/);
  await shot(t, b.page, "muted");
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await texts(m.page), ["before the mute"]);
  assert.deepEqual(await texts(b.page), ["before the mute"]);

  // Unmute: the notice goes, and the text gets through.
  await moderate(m.page, "bob", "Unmute");
  await b.page.locator("#mod-notice").waitFor({ state: "hidden", timeout: WAIT_MS });
  await waitLine(m.page, /^bob was unmuted by mod$/);
  assert.equal(await m.page.locator('#people li[data-user="bob"] .badge').count(), 0);
  await b.page.getByLabel("Message", { exact: true }).press("Enter");
  await waitText(m.page, "can you hear me?");
  // A second unmute is refused clearly.
  await moderate(m.page, "bob", "Unmute");
  const err = m.page.locator("#errors .error").last();
  await err.waitFor({ timeout: WAIT_MS });
  assert.match(await err.textContent(), /bob\u2069 is not muted\./);
  for (const p of [m.page, b.page]) assert.deepEqual(p.errors, []);
});

test("a moderator kicks a member: their page says so and stops reconnecting; Rejoin brings them back", async (t) => {
  const room = uniqueRoom("kick");
  const m = await openAs(t, room, "mod", { role: "moderator" });
  const b = await openAs(t, room, "bob", { role: "member" });
  await waitPresent(m.page, "bob");

  await moderate(m.page, "bob", "Kick", { reason: "cool off" });
  assert.deepEqual(await sentFrames(m.page, "kick"), [{ type: "kick", userId: "bob", reason: "cool off" }]);
  await b.page.locator('#mod-notice[data-kind="kicked"]').waitFor({ timeout: WAIT_MS });
  assert.match(await noticeText(b.page), /^You were removed from this room by \u2068mod\u2069: \u2068cool off\u2069\./);
  await waitStatus(b.page, "closed");
  assert.equal(await b.page.locator("#status").textContent(), "Removed");
  await waitLine(m.page, /^bob was kicked by mod: cool off$/);
  await waitPresent(m.page, "bob", false);
  assert.ok(await b.page.getByLabel("Message", { exact: true }).isDisabled());
  // The Rejoin button has the focus, so a keyboard user is one key from it.
  assert.equal(await b.page.evaluate(() => document.activeElement?.textContent), "Rejoin");
  await shot(t, b.page, "kicked");

  // No reconnect: a backoff would have tried several times by now.
  const sockets = await b.page.evaluate(() => window.__sockets.length);
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(await b.page.evaluate(() => window.__sockets.length), sockets);
  assert.equal(await b.page.evaluate(() => document.querySelector("#status").dataset.status), "closed");

  // Rejoin is the user's choice.
  await b.page.getByRole("button", { name: "Rejoin" }).click();
  await waitStatus(b.page, "open");
  await waitPresent(m.page, "bob");
  assert.equal(await b.page.locator("#mod-notice").isVisible(), false);
  await send(b.page, "I'm back");
  await waitText(m.page, "I'm back");
  for (const p of [m.page, b.page]) assert.deepEqual(p.errors, []);
});

test("a moderator bans a member for an hour: their page says until when, a reload too; unban lets them back", async (t) => {
  const room = uniqueRoom("ban");
  const m = await openAs(t, room, "mod", { role: "moderator" });
  const b = await openAs(t, room, "bob", { role: "member" });
  await waitPresent(m.page, "bob");

  const before = Date.now();
  await moderate(m.page, "bob", "Ban", { duration: "1 hour", reason: "spam" });
  assert.deepEqual(await sentFrames(m.page, "ban"), [{ type: "ban", userId: "bob", seconds: 3600, reason: "spam" }]);
  await b.page.locator('#mod-notice[data-kind="banned"]').waitFor({ timeout: WAIT_MS });
  const expected = await b.page.evaluate((at) => new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }), before + 3600_000);
  const notice = await noticeText(b.page);
  assert.match(notice, /^You are banned until .+ by \u2068mod\u2069: \u2068spam\u2069\./);
  assert.ok(notice.includes(expected) || notice.includes(
    await b.page.evaluate((at) => new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }), before + 3660_000)),
  `${notice} names ${expected}`);
  await waitStatus(b.page, "closed");
  assert.equal(await b.page.locator("#status").textContent(), "Banned");
  await waitLine(m.page, /^bob was banned by mod until .+: spam$/);
  await waitPresent(m.page, "bob", false);
  // The moderator's list of bans has bob, with Unban.
  await m.page.getByRole("button", { name: "Unban bob" }).waitFor({ timeout: WAIT_MS });

  // A reload: the browser is not told why the upgrade is refused, so the
  // page says what it knows, and does not hammer the room.
  await b.page.reload();
  await b.page.locator('#mod-notice[data-kind="banned"]').waitFor({ timeout: WAIT_MS });
  assert.match(await noticeText(b.page), /^You are banned until .+ by \u2068mod\u2069: \u2068spam\u2069\./);
  assert.equal(await b.page.locator("#status").textContent(), "Banned");
  assert.ok(await b.page.getByLabel("Message", { exact: true }).isDisabled());
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await b.page.evaluate(() => window.__sockets.length), 0);
  await shot(t, b.page, "banned-after-reload");
  // Try again while still banned: refused, and the notice stays.
  await b.page.getByRole("button", { name: "Try again" }).click();
  await b.page.waitForFunction(() => window.__sockets.length > 0, null, { timeout: WAIT_MS });
  await new Promise((r) => setTimeout(r, 1500));
  assert.notEqual(await b.page.evaluate(() => document.querySelector("#status").dataset.status), "open");
  assert.ok(await b.page.locator('#mod-notice[data-kind="banned"]').isVisible());

  // A reload of the moderator's page lists the ban from the server.
  await m.page.reload();
  await waitStatus(m.page, "open");
  const unban = m.page.getByRole("button", { name: "Unban bob" });
  await unban.waitFor({ timeout: WAIT_MS });
  await shot(t, m.page, "bans-list");
  await unban.click();
  await unban.waitFor({ state: "detached", timeout: WAIT_MS });
  assert.deepEqual(await sentFrames(m.page, "unban"), [{ type: "unban", userId: "bob" }]);
  // Bob's page was still trying: it gets in, and the notice goes.
  await waitStatus(b.page, "open", 60_000);
  assert.equal(await b.page.locator("#mod-notice").isVisible(), false);
  await waitPresent(m.page, "bob");
  await send(b.page, "thanks");
  await waitText(m.page, "thanks");
  // And a later reload connects straight away.
  await b.page.reload();
  await waitStatus(b.page, "open");
  for (const p of [m.page, b.page]) assert.deepEqual(p.errors, []);
});

test("a moderator turns slow mode on: a member's second message is refused with a countdown", async (t) => {
  const room = uniqueRoom("slow");
  const m = await openAs(t, room, "mod", { role: "moderator" });
  const b = await openAs(t, room, "bob", { role: "member" });
  await waitPresent(m.page, "bob");
  assert.equal(await b.page.locator("#slow-mode").isVisible(), false);

  await m.page.getByLabel("Slow mode").selectOption({ label: "30 seconds" });
  await m.page.locator("#slow-form").getByRole("button", { name: "Set" }).click();
  assert.deepEqual(await sentFrames(m.page, "slow_mode"), [{ type: "slow_mode", seconds: 30 }]);
  for (const p of [m.page, b.page]) await waitLine(p, /^Slow mode is on: one message every 30 s\.$/);
  await b.page.locator("#slow-mode").waitFor({ state: "visible", timeout: WAIT_MS });
  assert.equal(await b.page.locator("#slow-mode").textContent(), "Slow mode: one message every 30 seconds.");
  assert.match(await m.page.locator("#slow-mode").textContent(), /moderators are exempt/);

  await send(b.page, "first");
  await waitText(m.page, "first");
  await send(b.page, "second");
  const slow = b.page.locator('#slow-mode[data-state="wait"]');
  await slow.waitFor({ timeout: WAIT_MS });
  const seconds = Number(/send again in (\d+) s/.exec(await slow.textContent())[1]);
  assert.ok(seconds >= 20 && seconds <= 30, `${seconds} s`);
  await b.page.waitForFunction(() => document.querySelector("#message-input").value === "second", null, { timeout: WAIT_MS });
  await shot(t, b.page, "slow-mode-countdown");
  await new Promise((r) => setTimeout(r, 2200));
  const later = Number(/send again in (\d+) s/.exec(await slow.textContent())[1]);
  assert.ok(later < seconds, `the countdown moves: ${seconds} then ${later}`);
  assert.deepEqual(await texts(m.page), ["first"]);

  // The moderator is exempt.
  await send(m.page, "mod one");
  await send(m.page, "mod two");
  await waitText(b.page, "mod two");

  // A newcomer learns of slow mode when joining.
  const c = await openAs(t, room, "carol");
  await c.page.locator("#slow-mode").waitFor({ state: "visible", timeout: WAIT_MS });
  assert.equal(await c.page.getByLabel("Slow mode").isVisible(), false, "no control for a member");

  // Off again: the line goes, and bob's kept text goes through.
  await m.page.getByLabel("Slow mode").selectOption({ label: "Off" });
  await m.page.locator("#slow-form").getByRole("button", { name: "Set" }).click();
  for (const p of [m.page, b.page]) await waitLine(p, /^Slow mode is off\.$/);
  await b.page.locator("#slow-mode").waitFor({ state: "hidden", timeout: 40_000 });
  await b.page.getByLabel("Message", { exact: true }).press("Enter");
  await waitText(m.page, "second");
  for (const p of [m.page, b.page, c.page]) assert.deepEqual(p.errors, []);
});
