// Unit tests for the live signals in worker/public/chat-client.js: typing()
// (throttled), the "typing" event (each typer expires on its own, or at once
// with their message or their leave), markRead() (forward only, coalesced to
// one frame a second, the latest wins, resent after a drop when the room
// lacks it), "read" and "read_state" events, react() and "reaction" events
// applied to the messages the client holds (history, live, a resume's
// changes, loadOlder pages), positions, and which errors answer a reaction.
// Run with `node --test web/test/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULTS } from "../../worker/public/chat-client.js";
import { clientHarness, fakeFetch } from "./fakes.mjs";

const TS = "2026-11-25T10:00:00.000Z";

function setup(opts = {}) {
  const t = clientHarness({
    types: ["status", "message", "message_deleted", "history", "presence", "error", "typing", "read", "read_state", "reaction"],
    key: "ev",
    pingIntervalMs: 3_600_000, // out of the way of these tests' clocks
    ...opts,
  });
  const { client, clock, last } = t;
  // Events without the name of the event they came as.
  const of = (ev) => t.of(ev).map(({ ev: _, ...e }) => e);
  const joinOK = (messages = [], extra = {}, after = []) => {
    const ws = last();
    ws.receive({ type: "user_joined", userId: "ada", timestamp: TS });
    ws.receive({ type: "presence", users: ["ada", "bob", "cy"] });
    ws.receive({ type: "history", messages, ...extra });
    for (const f of after) ws.receive(f);
  };
  const open = (messages = [], extra = {}, after = []) => {
    client.connect();
    last().open();
    joinOK(messages, extra, after);
  };
  const reconnect = () => {
    last().drop();
    clock.advance(500);
    last().open();
  };
  const sent = (type, ws = last()) => ws.frames().filter((f) => f.type === type);
  return { ...t, of, joinOK, open, reconnect, sent };
}

const msg = (id, text, userId = "bob", extra = {}) => ({ id, userId, text, timestamp: TS, ...extra });
const reaction = (id, messageId, emoji, userId, added = true) => ({ type: "reaction", id, messageId, emoji, userId, added });
const readState = (lastRead, unread, extra = {}) => ({ type: "read_state", lastRead, unread, ...extra });

// --- typing ---

test("typing() sends one frame per interval, only while open, never queued", () => {
  const t = setup();
  assert.equal(DEFAULTS.typingIntervalMs, 2000);
  t.client.connect();
  t.last().open();
  assert.equal(t.client.typing(), false, "not joined yet");
  t.joinOK();
  assert.equal(t.client.typing(), true);
  assert.equal(t.client.typing(), false);
  t.clock.advance(1999);
  assert.equal(t.client.typing(), false);
  t.clock.advance(1);
  assert.equal(t.client.typing(), true);
  assert.deepEqual(t.last().sent.slice(1), ['{"type":"typing"}', '{"type":"typing"}']);
  // While reconnecting it is dropped, not queued for later.
  t.last().drop();
  assert.equal(t.client.typing(), false);
  t.clock.advance(500);
  t.last().open();
  t.joinOK();
  assert.deepEqual(t.sent("typing"), []);
  assert.equal(t.client.typing(), true);
  t.client.close();
  assert.equal(t.client.typing(), false);
  assert.equal(t.of("error").length, 0, "typing never reports an error");
});

test("a message sent ends the typing interval, as it does in the room", () => {
  const t = setup();
  t.open();
  assert.equal(t.client.typing(), true);
  t.clock.advance(500);
  assert.equal(t.client.typing(), false, "within the interval");
  t.client.send("done");
  assert.equal(t.client.typing(), true, "the message started it over");
  assert.deepEqual(t.last().frames().slice(1).map((f) => f.type), ["typing", "message", "typing"]);
  assert.equal(t.client.typing(), false);
});

test("typers: each expires 6 s after their own last frame; a refresh pushes it back", () => {
  const t = setup();
  t.open();
  const ws = t.last();
  ws.receive({ type: "typing", userId: "bob" });
  t.clock.advance(3000);
  ws.receive({ type: "typing", userId: "cy" });
  t.clock.advance(1000);
  ws.receive({ type: "typing", userId: "bob" }); // bob again: his 6 s start over
  assert.deepEqual(t.client.typingUsers, ["bob", "cy"]);
  assert.deepEqual(t.of("typing"), [
    { users: ["bob"], userId: "bob", typing: true },
    { users: ["bob", "cy"], userId: "cy", typing: true },
  ], "a refresh is no event");
  t.clock.advance(4999);
  assert.deepEqual(t.client.typingUsers, ["bob", "cy"]);
  t.clock.advance(1);
  assert.deepEqual(t.client.typingUsers, ["bob"], "cy's 6 s are up, bob's not");
  assert.deepEqual(t.of("typing").at(-1), { users: ["bob"], userId: "cy", typing: false });
  t.clock.advance(999);
  assert.deepEqual(t.client.typingUsers, ["bob"]);
  t.clock.advance(1);
  assert.deepEqual(t.client.typingUsers, []);
  assert.deepEqual(t.of("typing").at(-1), { users: [], userId: "bob", typing: false });
  assert.equal(t.of("typing").length, 4);
  assert.deepEqual(t.clock.pending(), [3_600_000 - 10_000], "no typing timer left, only the ping");
});

test("a typer's message or leave clears them at once; our own name and bad frames are ignored", () => {
  const t = setup();
  t.open();
  const ws = t.last();
  ws.receive({ type: "typing", userId: "bob" });
  ws.receive({ type: "typing", userId: "cy" });
  ws.receive({ type: "typing", userId: "ada" }); // ourselves (another tab): not shown
  ws.receive({ type: "typing" });
  ws.receive({ type: "typing", userId: 5 });
  assert.deepEqual(t.client.typingUsers, ["bob", "cy"]);
  ws.receive({ type: "message", ...msg(1, "done typing") });
  assert.deepEqual(t.client.typingUsers, ["cy"]);
  ws.receive({ type: "user_left", userId: "cy", timestamp: TS });
  assert.deepEqual(t.client.typingUsers, []);
  assert.deepEqual(t.of("typing").map((e) => [e.userId, e.typing]), [["bob", true], ["cy", true], ["bob", false], ["cy", false]]);
  // The typing event comes before the message it ends.
  const order = t.events.filter((e) => e.ev === "typing" || e.ev === "message").map((e) => e.ev);
  assert.deepEqual(order, ["typing", "typing", "typing", "message", "typing"]);
  t.clock.advance(10_000);
  assert.equal(t.of("typing").length, 4, "the cleared timers do not fire");
});

test("a dropped connection clears the typers; close() leaves no timer", () => {
  const t = setup();
  t.open();
  t.last().receive({ type: "typing", userId: "bob" });
  t.last().drop();
  assert.deepEqual(t.client.typingUsers, []);
  assert.deepEqual(t.of("typing").at(-1), { users: [], userId: "bob", typing: false });
  t.clock.advance(500);
  t.last().open();
  t.joinOK();
  t.last().receive({ type: "typing", userId: "cy" });
  t.client.typing();
  t.client.close();
  assert.deepEqual(t.client.typingUsers, []);
  assert.deepEqual(t.clock.pending(), []);
});

// --- reads ---

test("markRead: forward only, coalesced to one frame a second, the latest wins", () => {
  const t = setup();
  t.open([msg(1, "a"), msg(2, "b"), msg(3, "c"), msg(4, "d"), msg(5, "e")], {}, [readState(0, 5)]);
  assert.equal(t.client.markRead(2), true);
  assert.deepEqual(t.sent("read"), [{ type: "read", id: 2 }], "the first goes at once");
  assert.equal(t.client.markRead(3), true);
  assert.equal(t.client.markRead(4), true);
  assert.equal(t.client.markRead(4), false, "not forward");
  assert.equal(t.client.markRead(1), false, "not forward");
  assert.equal(t.client.lastRead, 4);
  t.clock.advance(999);
  assert.equal(t.sent("read").length, 1);
  t.clock.advance(1);
  assert.deepEqual(t.sent("read"), [{ type: "read", id: 2 }, { type: "read", id: 4 }], "3 was folded into 4");
  t.clock.advance(5000);
  assert.equal(t.sent("read").length, 2, "nothing new, nothing sent");
  assert.equal(t.client.markRead(5), true);
  assert.deepEqual(t.sent("read").at(-1), { type: "read", id: 5 }, "the throttle had lapsed");
  // Ahead of anything delivered: the room would say invalid_id.
  assert.equal(t.client.markRead(6), false);
  for (const bad of [0, -1, 1.5, "3", null, NaN]) assert.throws(() => t.client.markRead(bad), TypeError, String(bad));
  assert.equal(t.of("error").length, 0);
});

test("markRead before the join or during a drop goes out after the rejoin, unless the room has it", () => {
  const t = setup();
  assert.equal(t.client.markRead(1), false, "nothing delivered yet");
  t.open([msg(1, "a"), msg(2, "b"), msg(3, "c")], {}, [readState(1, 2)]);
  assert.equal(t.client.lastRead, 1);
  assert.equal(t.client.markRead(1), false, "the room already has 1");
  t.client.markRead(2);
  const first = t.last();
  assert.deepEqual(t.sent("read", first), [{ type: "read", id: 2 }]);
  first.drop();
  assert.equal(t.client.markRead(3), true, "kept for the next connection");
  t.clock.advance(500);
  t.last().open();
  assert.deepEqual(t.sent("read"), [], "not before the join is answered");
  t.joinOK();
  assert.deepEqual(t.sent("read"), [], "not before the room's read_state");
  t.last().receive(readState(2, 1));
  assert.deepEqual(t.sent("read"), [{ type: "read", id: 3 }]);

  // The read of 3 was lost with the connection: the room's read_state says 2.
  t.reconnect();
  t.joinOK([], {}, [readState(2, 1)]);
  assert.deepEqual(t.sent("read"), [{ type: "read", id: 3 }], "sent again");
  // It arrived: nothing to send.
  t.reconnect();
  t.joinOK([], {}, [readState(3, 0)]);
  assert.deepEqual(t.sent("read"), []);
  // A room that sends no read_state: the next frame after the history lets it go.
  t.client.markRead(3);
  t.last().drop();
  t.clock.advance(500);
  t.last().open();
  t.joinOK([msg(4, "d")]);
  t.client.markRead(4);
  assert.deepEqual(t.sent("read"), []);
  t.last().receive({ type: "pong" });
  assert.deepEqual(t.sent("read"), [{ type: "read", id: 4 }]);
});

test("read_state, read events: others' positions only move forward; ours from another tab counts as read", () => {
  const t = setup();
  t.open([msg(40, "a"), msg(41, "b")], {}, [readState(37, 4)]);
  t.last().receive(readState(0, 1000, { capped: true }));
  assert.deepEqual(t.of("read_state"), [{ lastRead: 37, unread: 4 }, { lastRead: 0, unread: 1000, capped: true }]);
  const ws = t.last();
  ws.receive({ type: "read", userId: "bob", id: 41 });
  ws.receive({ type: "read", userId: "bob", id: 40 }); // late, out of order: ignored
  ws.receive({ type: "read", userId: "cy", id: 40 });
  ws.receive({ type: "read", userId: "cy" });
  assert.deepEqual(t.client.reads, { bob: 41, cy: 40 });
  assert.deepEqual(t.of("read"), [{ userId: "bob", id: 41 }, { userId: "cy", id: 40 }]);
  ws.receive({ type: "read", userId: "ada", id: 41 });
  assert.equal(t.client.lastRead, 41);
  assert.equal(t.client.markRead(41), false, "another tab of ours read it");
  assert.deepEqual(t.sent("read"), []);
  assert.equal(t.client.lastId, 41, "reads hold no position");
});

test("a read refused as invalid_id is reported as a read's, not an edit's", () => {
  const t = setup();
  t.open([msg(1, "a"), msg(2, "b", "ada")]);
  t.client.markRead(2);
  // An edit and a reaction in flight check their ids before they go: the
  // room's invalid_id is the read's (ahead of its last position).
  t.client.edit(2, "b, fixed");
  t.client.react(1, "👍");
  t.last().receive({ type: "error", code: "invalid_id", message: "id 2 is ahead of this room's last position 1" });
  assert.deepEqual(t.of("error").map(({ code, action, messageId }) => ({ code, action, messageId })),
    [{ code: "invalid_id", action: "read", messageId: 2 }]);
  // The edit and the reaction are still waiting for their answers.
  t.last().receive({ type: "error", code: "not_found", message: "this room holds no message 1" });
  assert.deepEqual(t.of("error").at(-1).action, "edit");
});

// --- reactions ---

test("react sends its frame on an open connection, checks its arguments and is never queued", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  assert.equal(t.client.react(1, "👍"), false);
  assert.deepEqual(t.of("error").map(({ code, action, messageId, emoji }) => ({ code, action, messageId, emoji })),
    [{ code: "not_connected", action: "react", messageId: 1, emoji: "👍" }]);
  assert.match(t.of("error")[0].message, /reaction was not sent/);
  t.joinOK([msg(1, "hi")]);
  assert.equal(t.client.react(1, "👍"), true);
  assert.equal(t.client.react(1, "👩‍👩‍👧‍👦"), true, "a ZWJ family is one grapheme");
  assert.equal(t.client.react(1, "🇫🇷"), true);
  assert.deepEqual(t.sent("react"), [
    { type: "react", id: 1, emoji: "👍" },
    { type: "react", id: 1, emoji: "👩‍👩‍👧‍👦" },
    { type: "react", id: 1, emoji: "🇫🇷" },
  ]);
  for (const bad of ["", "👍👍", "ab", 5, null, undefined, "👩‍👩‍👧‍👦".repeat(3)]) {
    assert.throws(() => t.client.react(1, bad), TypeError, String(bad));
  }
  assert.throws(() => t.client.react(0, "👍"), TypeError);
  assert.equal(t.sent("react").length, 3);
});

test("history, live and loadOlder messages carry their reactions; each reaction event carries the message's after it", async () => {
  const page = { messages: [msg(3, "older", "cy", { reactions: [{ emoji: "🎉", count: 1, users: ["bob"] }] })] };
  const { fetch } = fakeFetch(() => ({ body: page }));
  const t = setup({ fetch });
  t.open([
    msg(5, "hi", "bob", { reactions: [{ emoji: "👍", count: 2, users: ["bob", "ada"] }, { emoji: "❤️", count: 1, users: ["cy"] }] }),
    msg(6, "plain"),
  ], { truncated: true });
  const [m5, m6] = t.of("history")[0].messages;
  assert.deepEqual(m5.reactions, [
    { emoji: "👍", count: 2, users: ["bob", "ada"], mine: true },
    { emoji: "❤️", count: 1, users: ["cy"], mine: false },
  ]);
  assert.equal("reactions" in m6, false, "no reactions, no field");
  const ws = t.last();

  ws.receive(reaction(7, 6, "😂", "bob"));
  ws.receive(reaction(8, 5, "👍", "ada", false));
  ws.receive(reaction(9, 5, "❤️", "ada"));
  ws.receive(reaction(10, 5, "❤️", "cy", false));
  assert.deepEqual(t.of("reaction").map(({ id, messageId, emoji, userId, added, reactions }) => ({ id, messageId, emoji, userId, added, reactions })), [
    { id: 7, messageId: 6, emoji: "😂", userId: "bob", added: true, reactions: [{ emoji: "😂", count: 1, users: ["bob"], mine: false }] },
    { id: 8, messageId: 5, emoji: "👍", userId: "ada", added: false, reactions: [
      { emoji: "👍", count: 1, users: ["bob"], mine: false }, { emoji: "❤️", count: 1, users: ["cy"], mine: false }] },
    { id: 9, messageId: 5, emoji: "❤️", userId: "ada", added: true, reactions: [
      { emoji: "👍", count: 1, users: ["bob"], mine: false }, { emoji: "❤️", count: 2, users: ["cy", "ada"], mine: true }] },
    { id: 10, messageId: 5, emoji: "❤️", userId: "cy", added: false, reactions: [
      { emoji: "👍", count: 1, users: ["bob"], mine: false }, { emoji: "❤️", count: 1, users: ["ada"], mine: true }] },
  ]);
  assert.equal(t.client.lastId, 10, "reactions hold positions");
  ws.receive(reaction(10, 5, "❤️", "cy", false)); // the same position again: ignored
  assert.equal(t.of("reaction").length, 4);

  // A live message with reactions (a resume or a bridge may send one), then its first reaction.
  ws.receive({ type: "message", ...msg(11, "new") });
  ws.receive(reaction(12, 11, "👍", "cy"));
  assert.deepEqual(t.client.reactionsOf(11), [{ emoji: "👍", count: 1, users: ["cy"], mine: false }]);
  assert.deepEqual(t.client.reactionsOf(6), [{ emoji: "😂", count: 1, users: ["bob"], mine: false }]);
  assert.equal(t.client.reactionsOf(99), null, "not held");

  // A loadOlder page is held too.
  const older = await t.client.loadOlder();
  assert.deepEqual(older.messages[0].reactions, [{ emoji: "🎉", count: 1, users: ["bob"], mine: false }]);
  ws.receive(reaction(13, 3, "🎉", "ada"));
  assert.deepEqual(t.client.reactionsOf(3), [{ emoji: "🎉", count: 2, users: ["bob", "ada"], mine: true }]);

  // A reaction to a message the client does not hold: the event, without reactions.
  ws.receive(reaction(14, 1, "👍", "bob"));
  assert.equal("reactions" in t.of("reaction").at(-1), false);
  assert.equal(t.client.lastId, 14);
});

test("counts stay right beyond the ten users listed by name", () => {
  const t = setup();
  const ten = ["u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"];
  t.open([msg(1, "popular", "bob", { reactions: [{ emoji: "👍", count: 12, users: ten }] })]);
  const ws = t.last();
  ws.receive(reaction(2, 1, "👍", "ada")); // we join in: 13, ours, not listed (the room lists the first ten)
  assert.deepEqual(t.client.reactionsOf(1), [{ emoji: "👍", count: 13, users: ten, mine: true }]);
  ws.receive(reaction(3, 1, "👍", "zed", false)); // one of the unlisted two leaves
  ws.receive(reaction(4, 1, "👍", "u0", false)); // a listed one leaves
  assert.deepEqual(t.client.reactionsOf(1), [{ emoji: "👍", count: 11, users: ten.slice(1), mine: true }]);
  ws.receive(reaction(5, 1, "👍", "ada", false));
  assert.deepEqual(t.client.reactionsOf(1), [{ emoji: "👍", count: 10, users: ten.slice(1), mine: false }]);
  // The list is complete again only when count says so; a removal of someone not listed from a complete list changes nothing.
  ws.receive(reaction(6, 1, "👍", "u9", false));
  ws.receive(reaction(7, 1, "👍", "u8", false));
  assert.deepEqual(t.client.reactionsOf(1)[0].count, 8);
  ws.receive(reaction(8, 1, "👍", "nobody", false));
  assert.deepEqual(t.client.reactionsOf(1)[0], { emoji: "👍", count: 7, users: ten.slice(1, 8), mine: false },
    "count 8 with 7 listed: one unknown user, who this must be");
  ws.receive(reaction(9, 1, "👍", "nobody", false));
  assert.deepEqual(t.client.reactionsOf(1)[0].count, 7, "a complete list without them: nothing to take away");
  // The last one gone removes the emoji.
  for (const [i, u] of ten.slice(1, 8).entries()) ws.receive(reaction(10 + i, 1, "👍", u, false));
  assert.deepEqual(t.client.reactionsOf(1), []);
});

test("a resume applies the changes' reactions to messages held before, not to those of its own history", () => {
  const t = setup();
  t.open([msg(1, "held", "bob", { reactions: [{ emoji: "👍", count: 1, users: ["bob"] }] })]);
  t.reconnect();
  assert.equal(t.sent("join")[0].since, 1);
  t.joinOK([msg(3, "new", "cy", { reactions: [{ emoji: "🎉", count: 1, users: ["bob"] }] })], {
    changes: [reaction(2, 1, "👍", "cy"), reaction(4, 3, "🎉", "bob")],
  });
  const h = t.of("history").at(-1);
  assert.deepEqual(h.changes.map((c) => c.type), ["reaction", "reaction"]);
  assert.deepEqual(t.of("reaction").map((e) => [e.id, e.reactions]), [
    [2, [{ emoji: "👍", count: 2, users: ["bob", "cy"], mine: false }]],
    [4, [{ emoji: "🎉", count: 1, users: ["bob"], mine: false }]],
  ], "the history's own message already counts bob's 🎉");
  assert.equal(t.client.lastId, 4);
  assert.equal(t.of("error").length, 0, "reaction positions are no hole in the resume");
});

test("a deleted message loses its reactions; a reset history starts the held messages over", () => {
  const t = setup();
  t.open([msg(1, "a", "bob", { reactions: [{ emoji: "👍", count: 1, users: ["bob"] }] }), msg(2, "b")]);
  t.last().receive({ type: "message_deleted", id: 3, messageId: 1, by: "bob", timestamp: TS });
  assert.equal(t.client.reactionsOf(1), null);
  t.last().receive(reaction(4, 1, "👍", "cy"));
  assert.equal("reactions" in t.of("reaction").at(-1), false);
  // The room forgot everything: the next history is all there is.
  t.reconnect();
  t.last().receive({ type: "error", code: "invalid_since", message: "x" });
  t.joinOK([msg(1, "fresh")], {}, [readState(0, 1)]);
  assert.equal(t.client.reactionsOf(2), null);
  assert.deepEqual(t.client.reactionsOf(1), []);
  assert.equal(t.client.lastRead, 0);
});

test("errors answer the oldest reaction in flight, with its message and emoji; the echo settles it", () => {
  const t = setup();
  t.open([msg(1, "a"), msg(2, "b")]);
  t.client.react(1, "👍");
  t.client.react(2, "🎉");
  t.client.react(2, "😮");
  t.last().receive(reaction(3, 1, "👍", "ada"));
  t.last().receive({ type: "error", code: "too_many_reactions", message: "at most 20" });
  t.last().receive({ type: "error", code: "invalid_reaction", message: "not an emoji" });
  assert.deepEqual(t.of("error").map(({ code, action, messageId, emoji }) => ({ code, action, messageId, emoji })), [
    { code: "too_many_reactions", action: "react", messageId: 2, emoji: "🎉" },
    { code: "invalid_reaction", action: "react", messageId: 2, emoji: "😮" },
  ]);
});

test("a mute and the rate limit refuse a reaction as they do a message; slow mode and forbidden are not its", () => {
  const t = setup();
  t.open([msg(1, "a")]);
  t.client.react(1, "👍");
  t.last().receive({ type: "error", code: "muted", message: "you are muted in this room", until: "2026-11-25T11:00:00.000Z" });
  t.client.react(1, "🎉");
  t.last().receive({ type: "error", code: "rate_limited", message: "too many messages; slow down", retryAfterMs: 1200 });
  t.client.react(1, "😮");
  t.last().receive({ type: "error", code: "slow_mode", message: "slow down", retryAfterMs: 5000 });
  t.last().receive({ type: "error", code: "forbidden", message: "no" });
  assert.deepEqual(t.of("error").map(({ code, action, emoji, until, retryAfterMs }) => ({ code, action, emoji, until, retryAfterMs })), [
    { code: "muted", action: "react", emoji: "👍", until: "2026-11-25T11:00:00.000Z", retryAfterMs: undefined },
    { code: "rate_limited", action: "react", emoji: "🎉", until: undefined, retryAfterMs: 1200 },
    { code: "slow_mode", action: undefined, emoji: undefined, until: undefined, retryAfterMs: 5000 },
    { code: "forbidden", action: undefined, emoji: undefined, until: undefined, retryAfterMs: undefined },
  ]);
  t.last().receive(reaction(2, 1, "😮", "ada"));
  assert.deepEqual(t.client.reactionsOf(1), [{ emoji: "😮", count: 1, users: ["ada"], mine: true }]);
});

test("a reaction in flight at a drop: done if the resume's changes have it, sent again if not, reported if unsure", () => {
  const t = setup();
  t.open([msg(1, "a"), msg(2, "b")]);
  t.client.react(1, "👍");
  t.client.react(2, "🎉");
  t.reconnect();
  t.joinOK([], { changes: [reaction(3, 1, "👍", "ada")] });
  assert.deepEqual(t.sent("react"), [{ type: "react", id: 2, emoji: "🎉" }], "only the one the room lacks");
  t.last().receive(reaction(4, 2, "🎉", "ada"));
  assert.deepEqual(t.client.reactionsOf(1), [{ emoji: "👍", count: 1, users: ["ada"], mine: true }]);
  t.client.react(1, "👍");
  t.reconnect();
  t.joinOK([], { truncated: true });
  assert.deepEqual(t.sent("react"), []);
  assert.deepEqual(t.of("error").at(-1).actions, [{ action: "react", messageId: 1, emoji: "👍" }]);
  assert.equal(t.of("error").at(-1).code, "unconfirmed");
});
