// Unit tests for edit and delete in worker/public/chat-client.js: the
// requests, the message_edited / message_deleted events, positions (since
// and lastId follow the id of every frame that has one), a resume's
// "changes", which request an error answers, and the exactly-once resend
// logic where texts may have been edited. Run with `node --test web/test/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { clientHarness, fakeFetch } from "./fakes.mjs";

const TS = "2026-11-25T10:00:00.000Z";
const EDITED = "2026-11-25T10:05:00.000Z";

function setup(opts = {}) {
  const t = clientHarness({
    types: ["status", "message", "message_edited", "message_deleted", "history", "presence", "error"],
    ...opts,
  });
  const { client, clock, last } = t;
  const joinOK = (messages = [], extra = {}) => {
    const ws = last();
    ws.receive({ type: "user_joined", userId: "ada", timestamp: TS });
    ws.receive({ type: "presence", users: ["ada"] });
    ws.receive({ type: "history", messages, ...extra });
  };
  // open connects and joins with the given history.
  const open = (messages = [], extra = {}) => {
    client.connect();
    last().open();
    joinOK(messages, extra);
  };
  // reconnect drops the socket and opens the next one (not yet joined).
  const reconnect = () => {
    last().drop();
    clock.advance(500);
    last().open();
  };
  const sent = (type) => last().frames().filter((f) => f.type === type);
  return { ...t, joinOK, open, reconnect, sent };
}

const msg = (id, text, userId = "bob", extra = {}) => ({ id, userId, text, timestamp: TS, ...extra });
const edited = (id, messageId, text, userId = "ada") =>
  ({ type: "message_edited", id, messageId, userId, text, editedAt: EDITED });
const deleted = (id, messageId, by = "ada") =>
  ({ type: "message_deleted", id, messageId, by, timestamp: EDITED });

test("edit and delete send their frames on an open connection", () => {
  const t = setup();
  t.open([msg(1, "mine", "ada"), msg(2, "bob's")]);
  assert.equal(t.client.edit(1, "mine, fixed"), true);
  assert.equal(t.client.delete(2), true);
  assert.deepEqual(t.last().frames().slice(1), [
    { type: "edit", id: 1, text: "mine, fixed" },
    { type: "delete", id: 2 },
  ]);
});

test("edit and delete check their arguments like send", () => {
  const t = setup();
  t.open();
  for (const bad of [0, -1, 1.5, "1", null, undefined, NaN, 2 ** 53]) {
    assert.throws(() => t.client.edit(bad, "x"), TypeError, String(bad));
    assert.throws(() => t.client.delete(bad), TypeError, String(bad));
  }
  for (const bad of ["", null, 5, undefined]) assert.throws(() => t.client.edit(1, bad), TypeError);
  assert.equal(t.last().frames().length, 1, "only the join went out");
});

test("edit and delete need an open connection: refused, reported, never queued", () => {
  const t = setup();
  t.client.connect();
  t.last().open(); // joining, not yet open
  assert.equal(t.client.edit(1, "x"), false);
  assert.deepEqual(t.of("error").map(({ code, action, messageId, text }) => ({ code, action, messageId, text })), [
    { code: "not_connected", action: "edit", messageId: 1, text: "x" },
  ]);
  t.joinOK([msg(1, "a", "ada")]);
  t.last().drop(); // reconnecting
  assert.equal(t.client.delete(1), false);
  const err = t.of("error").at(-1);
  assert.equal(err.code, "not_connected");
  assert.equal(err.action, "delete");
  assert.equal(err.messageId, 1);
  assert.equal(err.text, undefined);
  assert.equal(t.client.queued, 0);
  t.clock.advance(500);
  t.last().open();
  t.joinOK();
  assert.deepEqual(t.sent("edit"), []);
  assert.deepEqual(t.sent("delete"), []);
  t.client.close();
  assert.equal(t.client.edit(1, "late"), false);
  assert.equal(t.of("error").at(-1).code, "client_closed");
  assert.equal(t.of("error").at(-1).action, "edit");
});

test("message_edited and message_deleted are events with the frame's fields; each position once", () => {
  const t = setup();
  t.open([msg(40, "hi"), msg(41, "hello", "ada")]);
  t.last().receive({ ...edited(42, 41, "hello!"), extra: "ignored" });
  t.last().receive(edited(42, 41, "hello!")); // a duplicate frame
  t.last().receive(deleted(43, 40, "mod"));
  t.last().receive(deleted(43, 40, "mod"));
  assert.deepEqual(t.of("message_edited"), [
    { type: "message_edited", id: 42, messageId: 41, userId: "ada", text: "hello!", editedAt: EDITED },
  ]);
  assert.deepEqual(t.of("message_deleted"), [
    { type: "message_deleted", id: 43, messageId: 40, by: "mod", timestamp: EDITED },
  ]);
  assert.equal(t.client.lastId, 43, "positions count, whatever the frame");
  assert.equal(t.client.oldestId, 40, "a change's position is not a message to page back from");
  assert.equal(t.of("message").length, 0, "an edit is not a message");
});

test("since is the highest position of any frame; message ids may skip", () => {
  const t = setup();
  t.open([msg(3, "a"), msg(5, "b")]); // 4 was deleted
  t.last().receive({ type: "message", ...msg(7, "c") });
  t.last().receive(deleted(8, 3, "bob"));
  t.reconnect();
  assert.deepEqual(t.last().frames(), [{ type: "join", userId: "ada", since: 8 }]);
  t.joinOK([]);
  t.last().receive(edited(12, 7, "c!", "bob"));
  t.reconnect();
  assert.equal(t.last().frames()[0].since, 12);
});

test("history and live messages carry editedAt when edited, and no editedAt key otherwise", () => {
  const t = setup();
  t.open([msg(1, "plain"), msg(2, "fixed", "bob", { editedAt: EDITED })]);
  const [h] = t.of("history");
  assert.deepEqual(h.messages, [
    { id: 1, userId: "bob", text: "plain", timestamp: TS },
    { id: 2, userId: "bob", text: "fixed", timestamp: TS, editedAt: EDITED },
  ]);
  assert.deepEqual(h.changes, []);
  t.last().receive({ type: "message", ...msg(3, "live") });
  assert.ok(!("editedAt" in t.of("message")[0]));
});

test("a resume's changes: in the history event, then emitted in order, and lastId moves past them", () => {
  const t = setup();
  t.open([msg(1, "one"), msg(2, "two", "ada"), msg(3, "three")]);
  t.reconnect();
  assert.equal(t.last().frames()[0].since, 3);
  // While away: 4 is new, 5 edits 2, 6 deletes 1, 7 edits 2 again; a new
  // message 8 came after.
  t.joinOK([msg(4, "four"), msg(8, "eight")], {
    changes: [edited(5, 2, "two!"), deleted(6, 1, "mod"), edited(7, 2, "two!!"), { type: "bogus", id: 99 }],
  });
  const h = t.of("history").at(-1);
  assert.equal(h.resumed, true);
  assert.deepEqual(h.messages.map((m) => m.id), [4, 8]);
  assert.deepEqual(h.changes.map((c) => [c.type, c.id, c.messageId]), [
    ["message_edited", 5, 2], ["message_deleted", 6, 1], ["message_edited", 7, 2],
  ]);
  // The same changes, as events, right after the history and before "open".
  const order = t.events.slice(t.events.indexOf(h)).map((e) => `${e.type}:${e.id ?? e.status ?? ""}`);
  assert.deepEqual(order, ["history:", "message_edited:5", "message_deleted:6", "message_edited:7", "status:open"]);
  assert.deepEqual(t.of("message_edited").at(-1), edited(7, 2, "two!!"));
  assert.equal(t.client.lastId, 8);
  t.reconnect();
  t.joinOK([], { changes: [edited(9, 4, "four!", "bob")] });
  assert.equal(t.client.lastId, 9, "a change alone moves lastId");
  t.reconnect();
  assert.equal(t.last().frames()[0].since, 9);
});

test("errors answer the oldest request that can get them, with what it was", () => {
  const t = setup();
  t.open([msg(1, "a", "ada"), msg(2, "b")]);
  t.client.send("hello");
  t.client.edit(1, "a!");
  t.client.delete(2);
  // not_found cannot answer a message: it is the edit's.
  t.last().receive({ type: "error", code: "not_found", message: "no message 1" });
  t.last().receive({ type: "error", code: "content_blocked", message: "blocked" });
  t.last().receive({ type: "error", code: "forbidden", message: "not yours" });
  const errs = t.of("error").map(({ code, action, messageId, text }) => ({ code, action, messageId, text }));
  assert.deepEqual(errs, [
    { code: "not_found", action: "edit", messageId: 1, text: "a!" },
    { code: "content_blocked", action: undefined, messageId: undefined, text: "hello" },
    { code: "forbidden", action: "delete", messageId: 2, text: undefined },
  ]);
  t.last().receive({ type: "error", code: "invalid_id", message: "bad id" });
  assert.equal(t.of("error").at(-1).action, undefined, "nothing left in flight to answer");
});

test("an edit's echo is not a message's echo, even with the same text", () => {
  const t = setup();
  t.open([msg(1, "old", "ada")]);
  t.client.send("same");
  t.client.edit(1, "same");
  t.last().receive(edited(2, 1, "same"));
  // The message "same" is still unanswered: the room's refusal is its.
  t.last().receive({ type: "error", code: "rate_limited", message: "slow", retryAfterMs: 200 });
  const err = t.of("error").at(-1);
  assert.equal(err.text, "same");
  assert.equal(err.action, undefined);
  // And a message's echo does not settle an edit.
  t.client.edit(1, "again");
  t.last().receive({ type: "message", ...msg(3, "again", "ada") });
  t.last().receive({ type: "error", code: "message_too_long", message: "long" });
  assert.equal(t.of("error").at(-1).action, "edit");
});

test("someone else's delete does not settle ours: its not_found still comes back to it", () => {
  const t = setup();
  t.open([msg(1, "x", "bob")]);
  t.client.delete(1);
  t.client.send("after");
  t.last().receive(deleted(2, 1, "mod")); // the moderator was first
  t.last().receive({ type: "error", code: "not_found", message: "gone" });
  assert.equal(t.of("error").at(-1).action, "delete");
  t.last().receive({ type: "message", ...msg(3, "after", "ada") });
  t.client.delete(3);
  t.last().receive(deleted(4, 3, "ada"));
  t.last().receive({ type: "error", code: "rate_limited", message: "slow" });
  assert.equal(t.of("error").at(-1).action, undefined, "our own delete was settled by its echo");
});

// --- exactly once, with edits in the room ---

test("a lost text is sent again when the resume shows every position after since", () => {
  const t = setup();
  t.open([msg(1, "x")]);
  t.client.send("lost");
  t.reconnect();
  // 2 is bob's, 3 edits an old message of ours to the very same text: an
  // edit is not the message.
  t.joinOK([msg(2, "hey")], { changes: [edited(3, 1, "lost")] });
  assert.deepEqual(t.sent("message").map((f) => f.text), ["lost"]);
  assert.equal(t.of("error").length, 0);
});

test("an edited message of ours after since may be the lost text: reported, not sent twice", () => {
  const t = setup();
  t.open([msg(1, "x")]);
  t.client.send("helo");
  t.reconnect();
  // The room had it (2) and another tab of ours fixed it meanwhile (3,
  // folded into the message).
  t.joinOK([msg(2, "hello", "ada", { editedAt: EDITED })]);
  assert.deepEqual(t.sent("message"), []);
  const err = t.of("error").at(-1);
  assert.equal(err.code, "unconfirmed");
  assert.deepEqual(err.texts, ["helo"]);
  assert.equal(err.actions, undefined);
});

test("an edited message whose text matches does not count as the text sent", () => {
  const t = setup();
  t.open([msg(1, "x")]);
  t.client.send("ok");
  t.reconnect();
  t.joinOK([msg(2, "ok", "ada", { editedAt: EDITED })]);
  // It may be ours edited into "ok", or another message: not confirmed.
  assert.deepEqual(t.of("error").at(-1).texts, ["ok"]);
  assert.deepEqual(t.sent("message"), []);
});

test("a hole in the positions after since (a deletion, an edit folded in) makes a lost text uncertain", () => {
  const t = setup();
  t.open([msg(1, "x")]);
  t.client.send("gone?");
  t.reconnect();
  // 2 is missing: it may have been our text, since deleted.
  t.joinOK([msg(3, "bob again")]);
  assert.deepEqual(t.sent("message"), []);
  assert.deepEqual(t.of("error").at(-1).texts, ["gone?"]);
});

test("a text the room has, unedited, is not sent again despite edits elsewhere", () => {
  const t = setup();
  t.open([msg(1, "x", "ada")]);
  t.client.send("arrived");
  t.client.send("lost");
  t.reconnect();
  t.joinOK([msg(2, "arrived", "ada")], { changes: [edited(3, 1, "x!")] });
  assert.deepEqual(t.sent("message").map((f) => f.text), ["lost"]);
});

test("an edit or delete in flight at a drop: applied ones are done, the others go again", () => {
  const t = setup();
  t.open([msg(1, "a", "ada"), msg(2, "b", "ada"), msg(3, "c", "ada"), msg(4, "d", "bob")]);
  t.client.edit(1, "a!"); // applied: in the changes
  t.client.edit(2, "b!"); // lost
  t.client.delete(3); // applied
  t.client.delete(4); // lost
  t.reconnect();
  t.joinOK([], { changes: [edited(5, 1, "a!"), deleted(6, 3, "ada")] });
  assert.deepEqual(t.last().frames().slice(1), [
    { type: "edit", id: 2, text: "b!" },
    { type: "delete", id: 4 },
  ]);
  assert.equal(t.of("error").length, 0);
});

test("a delete someone else did meanwhile is not sent again", () => {
  const t = setup();
  t.open([msg(1, "a", "bob")]);
  t.client.delete(1);
  t.reconnect();
  t.joinOK([], { changes: [deleted(2, 1, "mod")] });
  assert.deepEqual(t.sent("delete"), []);
});

test("with a truncated or reset history, edits and deletes in flight are reported, never resent", () => {
  const t = setup();
  t.open([msg(1, "a", "ada")]);
  t.client.edit(1, "a!");
  t.client.send("text");
  t.reconnect();
  t.joinOK([msg(900, "z")], { truncated: true });
  const err = t.of("error").at(-1);
  assert.equal(err.code, "unconfirmed");
  assert.deepEqual(err.texts, ["text"]);
  assert.deepEqual(err.actions, [{ action: "edit", messageId: 1, text: "a!" }]);
  assert.deepEqual(t.last().frames().slice(1), []);

  // The room forgot our resume point: id 900 may be another message now.
  t.client.delete(900);
  t.reconnect();
  t.last().receive({ type: "error", code: "invalid_since", message: "ahead" });
  t.joinOK([msg(1, "new")]);
  assert.equal(t.of("history").at(-1).reset, true);
  assert.deepEqual(t.of("error").at(-1).actions, [{ action: "delete", messageId: 900 }]);
  assert.deepEqual(t.sent("delete"), []);
});

test("close reports edits and deletes still waiting for a check", () => {
  const t = setup();
  t.open([msg(1, "a", "ada")]);
  t.client.edit(1, "a!");
  t.client.send("t");
  t.last().drop();
  t.client.close();
  const err = t.of("error").at(-1);
  assert.equal(err.code, "not_sent");
  assert.deepEqual(err.texts, ["t"]);
  assert.deepEqual(err.actions, [{ action: "edit", messageId: 1, text: "a!" }]);
});

test("loadOlder keeps editedAt", async () => {
  const { fetch } = fakeFetch(() => ({
    body: { messages: [msg(1, "old"), msg(2, "fixed", "bob", { editedAt: EDITED })], truncated: false },
  }));
  const t = setup({ fetch });
  t.open([msg(5, "x")]);
  const page = await t.client.loadOlder();
  assert.deepEqual(page.messages, [
    { id: 1, userId: "bob", text: "old", timestamp: TS },
    { id: 2, userId: "bob", text: "fixed", timestamp: TS, editedAt: EDITED },
  ]);
});
