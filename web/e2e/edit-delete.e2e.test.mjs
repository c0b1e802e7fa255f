// Browser tests of editing and deleting messages in headless Chromium,
// against a `wrangler dev` with AUTH_SECRET set, so that tokens carry roles:
// a member edits and deletes their own messages and others see it live; a
// member gets no Delete on others' messages (and the room refuses one
// anyway); a moderator deletes anyone's; a reload, the HTTP API and a
// resumed connection all show the current state.
//
//   node --test --test-concurrency=1 web/e2e/edit-delete.e2e.test.mjs
//
// These follow the wire contract of edit / delete / message_edited /
// message_deleted / history "changes"; against a server without it they fail
// (the room answers unknown_type).
import { test } from "node:test";
import assert from "node:assert/strict";
import { WAIT_MS, OUT, signedInSuite, uniqueRoom, shot, waitStatus, send, waitText, texts } from "./harness.mjs";

const RECONNECT_WAIT_MS = 60_000; // a backoff of up to 10 s, twice over
const suite = signedInSuite("editdel", { RATE_LIMIT_BURST: "100" });
const mint = suite.mint;

// --- helpers ---




// openAs opens room as sub (with role, if any) in a browser context of its
// own, and waits until it is connected. The context records every frame the
// page sends and, while window.__blockSockets is set, points new sockets at
// a path that refuses them, so that a test can keep a page away for a while.
async function openAs(t, room, sub, { role } = {}) {
  const context = await suite.browser.newContext({ viewport: { width: 1000, height: 700 } });
  t.after(() => context.close().catch(() => {}));
  await context.addInitScript(() => {
    window.__sent = [];
    window.__sockets = [];
    window.__blockSockets = false;
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url, protocols) {
        const target = window.__blockSockets ? String(url).replace(/\/api\/chat.*$/, "/api/refused") : url;
        super(target, protocols);
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

// item is the list item of the message showing text.
const item = (page, text) => page.locator("#messages .msg").filter({
  has: page.locator(".text", { hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) }),
});
const byId = (page, id) => page.locator(`#messages .msg[data-id="${id}"]`);
async function waitGone(page, id) {
  await page.waitForFunction((i) => !document.querySelector(`#messages .msg[data-id="${i}"]`), id, { timeout: WAIT_MS });
}

// sendAndId sends text from page, waits until every page shows it, and
// returns its message id.
async function sendAndId(page, text, ...others) {
  await send(page, text);
  for (const p of [page, ...others]) await waitText(p, text);
  return Number(await item(page, text).getAttribute("data-id"));
}

// menuItems lists the items of a message's menu (opening and closing it).
async function menuItems(li) {
  const button = li.getByRole("button", { name: "Message actions" });
  await button.click();
  const menu = li.getByRole("menu");
  await menu.waitFor({ state: "visible", timeout: WAIT_MS });
  const names = await menu.getByRole("menuitem").allTextContents();
  await menu.press("Escape");
  await menu.waitFor({ state: "hidden", timeout: WAIT_MS });
  return names;
}

// editVia edits the message with id on page through its menu and the inline
// editor, and waits until the page shows the new text.
async function editVia(page, id, text) {
  const li = byId(page, id);
  await li.getByRole("button", { name: "Message actions" }).click();
  await li.getByRole("menuitem", { name: "Edit" }).click();
  const box = li.getByRole("textbox", { name: "Edit message" });
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction(({ i, s }) => {
    const li = document.querySelector(`#messages .msg[data-id="${i}"]`);
    return li && !li.querySelector(".edit-form") && li.querySelector(".text").textContent === s;
  }, { i: id, s: text }, { timeout: WAIT_MS });
}

async function deleteVia(page, id) {
  const li = byId(page, id);
  await li.getByRole("button", { name: "Message actions" }).click();
  await li.getByRole("menuitem", { name: "Delete" }).click();
  await waitGone(page, id);
}

async function waitEditedMark(page, id) {
  const mark = byId(page, id).locator(".meta .edited");
  await mark.waitFor({ state: "visible", timeout: WAIT_MS });
  return mark;
}

const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  return { role: el?.getAttribute("role"), label: el?.getAttribute("aria-label"), text: el?.textContent };
});

// --- tests ---

test("a member edits and deletes their own message, and another member sees both live", async (t) => {
  const room = uniqueRoom("own");
  const a = await openAs(t, room, "alice");
  const b = await openAs(t, room, "bob");
  const id = await sendAndId(a.page, "helo wrold", b.page);
  const mine = byId(a.page, id);

  // The menu, by keyboard: a button that says it has a popup.
  const button = mine.getByRole("button", { name: "Message actions" });
  assert.equal(await button.getAttribute("aria-haspopup"), "menu");
  assert.equal(await button.getAttribute("aria-expanded"), "false");
  await button.focus();
  await a.page.keyboard.press("Enter");
  const menu = mine.getByRole("menu");
  await menu.waitFor({ state: "visible", timeout: WAIT_MS });
  assert.equal(await button.getAttribute("aria-expanded"), "true");
  assert.equal(await menu.getAttribute("id"), await button.getAttribute("aria-controls"));
  assert.deepEqual(await menu.getByRole("menuitem").allTextContents(), ["Edit", "Delete"]);
  assert.deepEqual(await focused(a.page), { role: "menuitem", label: null, text: "Edit" });
  await a.page.keyboard.press("ArrowDown");
  assert.equal((await focused(a.page)).text, "Delete");
  await a.page.keyboard.press("ArrowDown"); // wraps
  assert.equal((await focused(a.page)).text, "Edit");
  await shot(t, a.page, "menu");
  await a.page.keyboard.press("Escape");
  await menu.waitFor({ state: "hidden", timeout: WAIT_MS });
  assert.equal(await button.getAttribute("aria-expanded"), "false");
  assert.equal((await focused(a.page)).label, "Message actions", "Escape gives the focus back to the button");

  // Edit inline: Escape cancels, Enter saves.
  await a.page.keyboard.press("Enter");
  await a.page.keyboard.press("Enter"); // "Edit"
  const box = mine.getByRole("textbox", { name: "Edit message" });
  await box.waitFor({ timeout: WAIT_MS });
  assert.equal(await box.inputValue(), "helo wrold");
  assert.equal((await focused(a.page)).label, "Edit message");
  await box.fill("changed my mind");
  await box.press("Escape");
  await box.waitFor({ state: "detached", timeout: WAIT_MS });
  assert.equal(await mine.locator(".text").textContent(), "helo wrold");
  assert.equal(await mine.locator(".edited").count(), 0);
  assert.equal((await focused(a.page)).label, "Message actions");

  await editVia(a.page, id, "hello world");
  const mark = await waitEditedMark(a.page, id);
  assert.equal(await mark.textContent(), "(edited)");
  assert.match(await mark.getAttribute("title"), /^Edited \S/);
  assert.ok(!Number.isNaN(Date.parse(await mark.getAttribute("datetime"))));
  // The other member sees the edit live, mark included, and has no menu on it.
  await b.page.waitForFunction((i) => document.querySelector(`#messages .msg[data-id="${i}"] .text`)?.textContent === "hello world", id, { timeout: WAIT_MS });
  await waitEditedMark(b.page, id);
  assert.equal(await byId(b.page, id).getByRole("button", { name: "Message actions" }).count(), 0);
  assert.deepEqual(await texts(b.page), ["hello world"]);
  const sentEdit = (await a.page.evaluate(() => window.__sent)).map((s) => JSON.parse(s)).find((f) => f.type === "edit");
  assert.deepEqual(sentEdit, { type: "edit", id, text: "hello world" });
  await shot(t, b.page, "edited-seen-by-bob");

  // Delete: gone on both pages.
  await deleteVia(a.page, id);
  await waitGone(b.page, id);
  assert.deepEqual(await texts(a.page), []);
  assert.deepEqual(await texts(b.page), []);
  assert.equal(await a.page.locator("#errors .error").count(), 0, await a.page.locator("#errors").textContent());
  assert.deepEqual(a.page.errors, []);
  assert.deepEqual(b.page.errors, []);
  await shot(t, b.page, "deleted-seen-by-bob");
});

test("a member has no Delete on others' messages, and the room refuses one anyway", async (t) => {
  const room = uniqueRoom("member");
  const a = await openAs(t, room, "alice");
  const b = await openAs(t, room, "bob", { role: "member" });
  const alices = await sendAndId(a.page, "alice's words", b.page);
  const bobs = await sendAndId(b.page, "bob's words", a.page);

  assert.equal(await byId(b.page, alices).getByRole("button", { name: "Message actions" }).count(), 0);
  assert.equal(await byId(a.page, bobs).getByRole("button", { name: "Message actions" }).count(), 0);
  assert.deepEqual(await menuItems(byId(b.page, bobs)), ["Edit", "Delete"]);
  // Menus are hidden until opened: count what is in the page.
  const deletes = b.page.locator('#messages .msg [role="menuitem"]', { hasText: /^Delete$/ });
  assert.equal(await deletes.count(), 1, "only on bob's own message");
  assert.equal(await byId(b.page, bobs).locator('[role="menuitem"]', { hasText: /^Delete$/ }).count(), 1);

  // A client that tries anyway, with bob's token, is refused by the room.
  const refused = await b.page.evaluate(async ({ room, id }) => {
    const { ChatClient } = await import("/chat-client.js");
    const c = new ChatClient({ room, userId: "bob", token: sessionStorage.getItem("gochat.token") });
    const errors = [];
    c.on("error", (e) => errors.push({ code: e.code, action: e.action, messageId: e.messageId }));
    const opened = new Promise((resolve) => c.on("status", (s) => s.status === "open" && resolve()));
    c.connect();
    await opened;
    c.delete(id);
    c.edit(id, "hijacked");
    const deadline = Date.now() + 20_000;
    while (errors.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    c.close();
    return errors;
  }, { room, id: alices });
  assert.deepEqual(refused, [
    { code: "forbidden", action: "delete", messageId: alices },
    { code: "forbidden", action: "edit", messageId: alices },
  ]);
  // Nothing changed for anyone.
  for (const p of [a.page, b.page]) {
    assert.deepEqual(await texts(p), ["alice's words", "bob's words"]);
    assert.equal(await p.locator("#messages .edited").count(), 0);
  }
  assert.deepEqual(a.page.errors, []);
  assert.deepEqual(b.page.errors, []);
  await shot(t, b.page, "no-delete-on-others");
});

test("a moderator deletes another user's message and both see it disappear; a service may too", async (t) => {
  const room = uniqueRoom("mod");
  const a = await openAs(t, room, "alice");
  const m = await openAs(t, room, "mod", { role: "moderator" });
  const s = await openAs(t, room, "bot", { role: "service" });
  const rude = await sendAndId(a.page, "something rude", m.page, s.page);
  const fine = await sendAndId(a.page, "something fine", m.page, s.page);

  // Delete, but no Edit, on someone else's message.
  assert.deepEqual(await menuItems(byId(m.page, rude)), ["Delete"]);
  assert.deepEqual(await menuItems(byId(s.page, rude)), ["Delete"]);

  // Alice is editing it when the moderator deletes it.
  const mine = byId(a.page, rude);
  await mine.getByRole("button", { name: "Message actions" }).click();
  await mine.getByRole("menuitem", { name: "Edit" }).click();
  await mine.getByRole("textbox", { name: "Edit message" }).waitFor({ timeout: WAIT_MS });

  await deleteVia(m.page, rude);
  await waitGone(a.page, rude);
  await waitGone(s.page, rude);
  for (const p of [a.page, m.page, s.page]) assert.deepEqual(await texts(p), ["something fine"]);
  const notice = a.page.locator('#errors .error[data-code="deleted_while_editing"]');
  await notice.waitFor({ timeout: WAIT_MS });
  assert.match(await notice.textContent(), /message you were editing was deleted by \u2068mod\u2069\./);
  await shot(t, a.page, "deleted-by-moderator");

  // The service deletes the other one.
  await deleteVia(s.page, fine);
  await waitGone(a.page, fine);
  await waitGone(m.page, fine);
  for (const p of [a.page, m.page, s.page]) {
    assert.deepEqual(p.errors, []);
    assert.equal(await p.locator('#errors .error:not([data-code="deleted_while_editing"])').count(), 0);
  }
});

test("a reload, a new reader and the HTTP API show the current state: edited marked, deleted absent", async (t) => {
  const room = uniqueRoom("reload");
  const a = await openAs(t, room, "alice");
  const keep = await sendAndId(a.page, "keep me");
  const fix = await sendAndId(a.page, "fix me");
  const drop = await sendAndId(a.page, "drop me");
  await editVia(a.page, fix, "fixed");
  await deleteVia(a.page, drop);

  await a.page.reload();
  await waitStatus(a.page, "open");
  await waitText(a.page, "fixed");
  const b = await openAs(t, room, "bob");
  await waitText(b.page, "fixed");
  for (const p of [a.page, b.page]) {
    assert.deepEqual(await texts(p), ["keep me", "fixed"]);
    assert.deepEqual(await p.locator("#messages .msg").evaluateAll((els) => els.map((el) => Number(el.dataset.id))), [keep, fix]);
    const mark = await waitEditedMark(p, fix);
    assert.match(await mark.getAttribute("title"), /^Edited \S/);
    assert.equal(await byId(p, keep).locator(".edited").count(), 0);
  }
  // Still the author's to change after the reload.
  assert.deepEqual(await menuItems(byId(a.page, fix)), ["Edit", "Delete"]);
  await shot(t, a.page, "reloaded");

  const res = await fetch(`${suite.server.http}/api/rooms/${room}/messages`, { headers: { Authorization: `Bearer ${a.token}` } });
  assert.equal(res.status, 200);
  const { messages } = await res.json();
  assert.deepEqual(messages.map((m) => [m.id, m.text, typeof m.editedAt]), [[keep, "keep me", "undefined"], [fix, "fixed", "string"]]);
  assert.ok(!Number.isNaN(Date.parse(messages[1].editedAt)));
});

test("a page that was away catches up on resume: edits and deletions apply to what it shows", async (t) => {
  const room = uniqueRoom("resume");
  const a = await openAs(t, room, "alice");
  const b = await openAs(t, room, "bob");
  const first = await sendAndId(a.page, "first", b.page);
  const second = await sendAndId(a.page, "second", b.page);

  // Bob's page loses its connection and cannot get back for now.
  await b.page.evaluate(() => {
    window.__blockSockets = true;
    window.__sockets.at(-1).close();
  });
  await waitStatus(b.page, "reconnecting");
  await editVia(a.page, first, "first, edited");
  await deleteVia(a.page, second);
  const third = await sendAndId(a.page, "third");
  assert.deepEqual(await texts(b.page), ["first", "second"], "bob saw none of it live");

  await b.page.evaluate(() => { window.__blockSockets = false; });
  await waitStatus(b.page, "open", RECONNECT_WAIT_MS);
  await waitText(b.page, "third");
  await b.page.waitForFunction((i) => document.querySelector(`#messages .msg[data-id="${i}"] .text`)?.textContent === "first, edited", first, { timeout: WAIT_MS });
  await waitGone(b.page, second);
  assert.deepEqual(await texts(b.page), ["first, edited", "third"], "each once, in order");
  await waitEditedMark(b.page, first);
  assert.equal(await byId(b.page, third).count(), 1);
  // The rejoin resumed from the last position bob had seen.
  const joins = (await b.page.evaluate(() => window.__sent)).map((s) => JSON.parse(s)).filter((f) => f.type === "join");
  assert.equal(joins.at(-1).since, second);
  assert.equal(await b.page.locator("#errors .error").count(), 0, await b.page.locator("#errors").textContent());
  assert.deepEqual(b.page.errors, []);
  await shot(t, b.page, "caught-up");
});
