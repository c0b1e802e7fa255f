// Unit tests for worker/public/chat-client.js: backoff, resume and dedupe,
// the outgoing queue, keepalive and error surfacing, over a fake socket and a
// fake clock. Run with `node --test web/test/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, chatURL, PING_FRAME, DEFAULTS } from "../../worker/public/chat-client.js";
import { clientHarness } from "./fakes.mjs";

// setup makes a client over fakes and records every event it emits.
function setup(opts = {}) {
  const t = clientHarness({ types: ["status", "message", "history", "presence", "error"], ...opts });
  const { last } = t;
  // joinOK plays the room's answer to a join on the newest socket.
  const joinOK = (messages = [], extra = {}) => {
    const ws = last();
    ws.receive({ type: "user_joined", userId: "ada", timestamp: "2026-11-25T10:00:00.000Z" });
    ws.receive({ type: "presence", users: ["ada"] });
    ws.receive({ type: "history", messages, ...extra });
  };
  return { ...t, joinOK };
}

const msg = (id, text, userId = "bob") => ({ id, userId, text, timestamp: "2026-11-25T10:00:00.000Z" });

test("chatURL maps rooms, schemes and tokens", () => {
  assert.equal(chatURL("http://h:1/r/x", "lobby"), "ws://h:1/api/chat");
  assert.equal(chatURL("https://h/", "dev-ops_2"), "wss://h/api/chat/dev-ops_2");
  assert.equal(chatURL("http://h/", "a", "t.o+k"), "ws://h/api/chat/a?token=t.o%2Bk");
  for (const bad of ["", "a.b", "a/b", "x".repeat(65), "a b"]) {
    assert.throws(() => chatURL("http://h/", bad), TypeError, bad);
  }
});

test("backoff doubles from 0.5 s to a 10 s cap, with up to half taken off by jitter", () => {
  const full = (a) => backoffDelay(a, { initialMs: 500, maxMs: 10_000, random: () => 1 });
  const least = (a) => backoffDelay(a, { initialMs: 500, maxMs: 10_000, random: () => 0 });
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50].map(full), [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  assert.deepEqual([0, 1, 5].map(least), [250, 500, 5000]);
  assert.equal(DEFAULTS.backoffInitialMs, 500);
  assert.equal(DEFAULTS.backoffMaxMs, 10_000);
});

test("connects, joins without since, and is open only after the history", () => {
  const t = setup();
  t.client.connect();
  assert.equal(t.sockets.length, 1);
  assert.equal(t.last().url, "ws://127.0.0.1:9999/api/chat/general");
  assert.equal(t.client.status, "connecting");
  t.last().open();
  assert.deepEqual(t.last().frames(), [{ type: "join", userId: "ada" }]);
  assert.equal(t.client.status, "connecting");
  t.joinOK([msg(1, "hi"), msg(2, "there")]);
  assert.equal(t.client.status, "open");
  assert.deepEqual(t.of("status").map((e) => e.status), ["connecting", "open"]);
  const [h] = t.of("history");
  assert.deepEqual(h.messages.map((m) => m.id), [1, 2]);
  assert.equal(h.resumed, false);
  assert.equal(t.client.lastId, 2);
});

test("a dropped connection is retried with growing delays, reset by a successful join", () => {
  const t = setup({ random: () => 0.5 }); // 75% of the base delay
  t.client.connect();
  const delays = [];
  for (let i = 0; i < 7; i++) {
    t.last().drop();
    const ev = t.of("status").at(-1);
    assert.equal(ev.status, "reconnecting");
    assert.equal(ev.attempt, i + 1);
    delays.push(ev.delayMs);
    const before = t.sockets.length;
    t.clock.advance(ev.delayMs - 1);
    assert.equal(t.sockets.length, before, "no reconnect before the delay");
    t.clock.advance(1);
    assert.equal(t.sockets.length, before + 1, "reconnect when the delay is over");
  }
  assert.deepEqual(delays, [375, 750, 1500, 3000, 6000, 7500, 7500]);
  t.last().open();
  t.joinOK();
  t.last().drop();
  assert.equal(t.of("status").at(-1).delayMs, 375, "back to the first delay after a join");
});

test("resume: the rejoin carries since = last id, and nothing is delivered twice", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.joinOK([msg(1, "a"), msg(2, "b")]);
  t.last().receive({ type: "message", ...msg(3, "c") });
  t.last().receive({ type: "message", ...msg(3, "c") }); // a duplicate frame
  t.last().drop();
  t.clock.advance(500);
  t.last().open();
  assert.deepEqual(t.last().frames(), [{ type: "join", userId: "ada", since: 3 }]);
  // The room re-sends 3 (overlap) and the two missed ones; 4 also arrives live.
  t.joinOK([msg(3, "c"), msg(4, "d"), msg(5, "e")]);
  t.last().receive({ type: "message", ...msg(4, "d") });
  t.last().receive({ type: "message", ...msg(6, "f") });
  const seen = [
    ...t.of("history").flatMap((h) => h.messages.map((m) => m.id)),
    ...t.of("message").map((m) => m.id),
  ].sort((a, b) => a - b);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  const resumed = t.of("history").at(-1);
  assert.equal(resumed.resumed, true);
  assert.deepEqual(resumed.messages.map((m) => m.id), [4, 5]);
  assert.equal(t.client.lastId, 6);
});

test("invalid_since: rejoin without since, and old ids no longer count as seen", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.joinOK([msg(7, "old")]);
  t.last().drop();
  t.clock.advance(500);
  t.last().open();
  assert.deepEqual(t.last().frames(), [{ type: "join", userId: "ada", since: 7 }]);
  t.last().receive({ type: "error", code: "invalid_since", message: "since 7 is ahead" });
  assert.deepEqual(t.last().frames().at(-1), { type: "join", userId: "ada" });
  t.joinOK([msg(1, "new 1"), msg(7, "new 7")]);
  const h = t.of("history").at(-1);
  assert.equal(h.reset, true);
  assert.deepEqual(h.messages.map((m) => m.text), ["new 1", "new 7"]);
  assert.equal(t.of("error").length, 0, "handled, not surfaced");
  assert.equal(t.client.status, "open");
});

test("while reconnecting, sends queue up to the bound and go out after the rejoin", () => {
  const t = setup({ maxQueue: 3 });
  t.client.connect();
  t.last().open();
  t.joinOK();
  t.last().drop();
  assert.equal(t.client.send("one"), true);
  assert.equal(t.client.send("two"), true);
  assert.equal(t.client.send("three"), true);
  assert.equal(t.client.send("four"), false);
  const full = t.of("error");
  assert.equal(full.length, 1);
  assert.equal(full[0].code, "queue_full");
  assert.equal(full[0].text, "four");
  assert.equal(t.client.queued, 3);
  t.clock.advance(500);
  t.last().open();
  assert.equal(t.last().frames().length, 1, "only the join before the room answers it");
  t.joinOK();
  assert.deepEqual(t.last().frames().map((f) => f.text ?? f.type), ["join", "one", "two", "three"]);
  assert.equal(t.client.queued, 0);
});

test("close reports what is still queued, stops every timer, and never reconnects", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.joinOK();
  t.last().drop();
  t.client.send("unsent 1");
  t.client.send("unsent 2");
  t.client.close();
  const err = t.of("error").at(-1);
  assert.equal(err.code, "not_sent");
  assert.deepEqual(err.texts, ["unsent 1", "unsent 2"]);
  assert.equal(t.client.status, "closed");
  assert.deepEqual(t.clock.pending(), []);
  const n = t.sockets.length;
  t.clock.advance(60_000);
  assert.equal(t.sockets.length, n);
  assert.equal(t.client.send("late"), false);
  assert.equal(t.of("error").at(-1).code, "client_closed");
});

test("close on an open connection closes the socket normally", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.joinOK();
  const ws = t.last();
  t.client.close();
  assert.deepEqual(ws.closedWith, { code: 1000, reason: "client closed" });
  assert.deepEqual(t.clock.pending(), []);
  assert.deepEqual(t.of("status").map((e) => e.status), ["connecting", "open", "closed"]);
});

test("a text in flight when the connection dies is sent again only if the room lacks it", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.joinOK([msg(1, "x")]);
  t.client.send("arrived");
  t.client.send("lost");
  t.last().drop();
  t.clock.advance(500);
  t.last().open();
  t.joinOK([msg(2, "arrived", "ada")]);
  const texts = t.last().frames().filter((f) => f.type === "message").map((f) => f.text);
  assert.deepEqual(texts, ["lost"]);
});

test("with a truncated resume, unconfirmed texts are reported instead of risking duplicates", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.joinOK();
  t.client.send("maybe");
  t.last().drop();
  t.clock.advance(500);
  t.last().open();
  t.joinOK([msg(900, "z")], { truncated: true });
  const err = t.of("error").at(-1);
  assert.equal(err.code, "unconfirmed");
  assert.deepEqual(err.texts, ["maybe"]);
  assert.equal(t.last().frames().filter((f) => f.type === "message").length, 0);
});

test("keepalive: the exact ping every 30 s while open; silence for a whole interval reconnects", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.joinOK();
  const ws = t.last();
  const pings = () => ws.sent.filter((s) => s === PING_FRAME).length;
  t.clock.advance(29_999);
  assert.equal(pings(), 0);
  t.clock.advance(1);
  assert.equal(pings(), 1);
  assert.equal(ws.sent.at(-1), '{"type":"ping"}');
  ws.receive('{"type":"pong"}');
  t.clock.advance(30_000);
  assert.equal(pings(), 2);
  // No pong, nothing at all: the next tick gives up on this socket.
  t.clock.advance(30_000);
  assert.equal(pings(), 2);
  assert.equal(ws.closedWith?.code, 4000);
  assert.equal(t.client.status, "reconnecting");
  t.clock.advance(500);
  assert.notEqual(t.last(), ws);
});

test("no pings before the join is answered, and none after close", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.clock.advance(14_000);
  assert.ok(!t.last().sent.includes(PING_FRAME));
  t.joinOK();
  t.client.close();
  t.clock.advance(120_000);
  assert.ok(!t.last().sent.includes(PING_FRAME));
});

test("a join that is never answered is abandoned and retried", () => {
  const t = setup({ joinTimeoutMs: 5000 });
  t.client.connect();
  const first = t.last(); // never opens
  t.clock.advance(4999);
  assert.equal(t.client.status, "connecting");
  t.clock.advance(1);
  assert.equal(t.client.status, "reconnecting");
  t.clock.advance(500);
  assert.equal(t.sockets.length, 2);
  first.open(); // a late open on the abandoned socket changes nothing
  assert.equal(first.sent.length, 0);
});

test("room errors surface, and a refused message comes back with its text", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.joinOK();
  t.client.send("a".repeat(5000));
  t.client.send("fast");
  t.last().receive({ type: "error", code: "message_too_long", message: "text is 5000 characters" });
  t.last().receive({ type: "error", code: "rate_limited", message: "slow down", retryAfterMs: 1200 });
  const [tooLong, limited] = t.of("error");
  assert.equal(tooLong.code, "message_too_long");
  assert.equal(tooLong.text.length, 5000);
  assert.deepEqual(limited, { type: "error", code: "rate_limited", message: "slow down", retryAfterMs: 1200, text: "fast" });
  assert.equal(t.client.status, "open", "errors about messages keep the connection");
});

test("a refused identity is fatal: surfaced, closed, not retried", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.last().receive({ type: "error", code: "invalid_user_id", message: "bad" });
  const err = t.of("error").at(-1);
  assert.equal(err.code, "invalid_user_id");
  assert.equal(err.fatal, true);
  assert.equal(t.client.status, "closed");
  assert.deepEqual(t.clock.pending(), []);
});

test("presence follows the roster, joins and leaves", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.joinOK();
  t.last().receive({ type: "user_joined", userId: "bob", timestamp: "t" });
  t.last().receive({ type: "user_joined", userId: "bob", timestamp: "t" }); // no change
  t.last().receive({ type: "user_left", userId: "ada2", timestamp: "t" }); // unknown: no change
  t.last().receive({ type: "user_left", userId: "bob", timestamp: "t" });
  const p = t.of("presence").map((e) => ({ users: e.users, joined: e.joined, left: e.left }));
  assert.deepEqual(p, [
    { users: ["ada"], joined: "ada", left: undefined },
    { users: ["ada"], joined: undefined, left: undefined },
    { users: ["ada", "bob"], joined: "bob", left: undefined },
    { users: ["ada"], joined: undefined, left: "bob" },
  ]);
  t.last().drop();
  t.clock.advance(500);
  t.last().open();
  t.last().receive({ type: "presence", users: ["ada", "cy", "bob"] });
  assert.deepEqual(t.client.users, ["ada", "bob", "cy"]);
});

test("a throwing listener does not break the client", () => {
  const t = setup();
  const orig = globalThis.reportError;
  globalThis.reportError = () => {};
  try {
    t.client.on("history", () => { throw new Error("listener bug"); });
    t.client.connect();
    t.last().open();
    t.joinOK();
    assert.equal(t.client.status, "open");
  } finally {
    globalThis.reportError = orig;
  }
});

test("a large room's roster summary carries the count", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.joinOK();
  t.last().receive({ type: "presence", users: [], count: 1200, truncated: true });
  const p = t.of("presence").at(-1);
  assert.deepEqual({ users: p.users, count: p.count, truncated: p.truncated }, { users: [], count: 1200, truncated: true });
  t.last().receive({ type: "presence", users: ["ada", "bob"] }); // small again
  const q = t.of("presence").at(-1);
  assert.deepEqual(q.users, ["ada", "bob"]);
  assert.equal(q.truncated, undefined);
});
