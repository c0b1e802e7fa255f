// js-room.mjs is the benchmark's baseline: the chat room as a plain
// JavaScript Durable Object on the WebSocket Hibernation API, written as
// leanly as a careful JavaScript author would, and speaking the same protocol
// as the Go room (seed frames, message ids persisted in ctx.storage.sql before
// the broadcast, presence and history on join, resume with "since", and the
// typing signal with its per-user throttle). It exists only to be measured
// against; bench/wrangler.toml serves it beside the Go room and it is never
// deployed. bench/README.md ("What makes the baseline
// lean") lists each shortcut and why it keeps the protocol's rules.
import { DurableObject } from "cloudflare:workers";

// Limits, named as in the Go room and issue 3.
const MAX_TEXT_CHARS = 4096;
const MAX_FRAME_BYTES = 1 << 20;
const MAX_USER_ID_CHARS = 64;
const KEEP_MESSAGES = 1000; // newest rows kept per room
const PRUNE_EVERY = 100; // rows are deleted once every this many inserts
const HISTORY_ON_JOIN = 50; // messages sent to a plain join
const HISTORY_ON_RESUME = 500; // at most this many after "since"
// The typing signal (issue 13): one typing frame forwarded per user at most
// every TYPING_INTERVAL_SECONDS (the Go room's default, which
// bench/wrangler.toml does not change), none in a room of more than
// PRESENCE_BROADCAST_LIMIT users. Constants, as every limit here.
const TYPING_INTERVAL_MS = 2 * 1000;
const PRESENCE_BROADCAST_LIMIT = 500;

const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';
const CONTROL = /\p{Cc}/u;
// The attachment of a socket the room has let go of (see leave).
const GONE = { gone: true };

const INSERT = "INSERT INTO messages (id, user_id, text, ts) VALUES (?, ?, ?, ?)";
const PRUNE = "DELETE FROM messages WHERE id <= ?";
const HISTORY =
  "SELECT id, user_id AS userId, text, ts AS timestamp FROM messages WHERE id > ? ORDER BY id DESC LIMIT ?";

const now = () => new Date().toISOString();

// chars counts code points, the unit of the length limits. A string has at
// most as many code points as UTF-16 units, so callers count only strings
// whose .length is over the limit: a shorter one is within it.
const chars = (s) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

export class JsChatRoom extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, text TEXT NOT NULL, ts TEXT NOT NULL)",
    );
    // The newest id, read once per object life. Ids are gapless: each new
    // one is lastId + 1 (see message).
    this.lastId = this.sql.exec("SELECT coalesce(max(id), 0) AS id FROM messages").one().id;
    // The runtime answers a byte-identical ping itself, without waking us.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));

    // Membership, kept up to date on join and leave so that a broadcast is a
    // plain loop over an array:
    //   members  the joined sockets;
    //   userOf   joined socket -> its userId;
    //   users    userId -> how many of its sockets are joined (the roster).
    // A socket that has not joined is in none of them and needs no state.
    this.members = [];
    this.userOf = new Map();
    this.users = new Map();
    // typedAt: userId -> Date.now() when its last typing frame was forwarded.
    // Memory only: an eviction loses it, which costs at most one typing frame
    // forwarded early (as in the Go room).
    this.typedAt = new Map();
    // A constructor may follow an eviction: membership is rebuilt from the
    // sockets' attachments, never from memory. getWebSockets() may include
    // CLOSING sockets (readyState 2); CLOSED ones are skipped.
    for (const ws of ctx.getWebSockets()) {
      const att = ws.deserializeAttachment();
      if (att && !att.gone && att.userId && ws.readyState <= 2) this.add(ws, att.userId);
    }
  }

  fetch(request) {
    if ((request.headers.get("Upgrade") || "").toLowerCase() !== "websocket") {
      return Response.json(
        { error: "upgrade_required", message: "this endpoint speaks WebSocket; send Upgrade: websocket" },
        { status: 426, headers: { upgrade: "websocket" } },
      );
    }
    const [client, server] = Object.values(new WebSocketPair());
    // No attachment yet: a socket that has not joined has nothing to keep.
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  // The handlers are plain functions: the runtime accepts a non-promise
  // result, so no promise is made per event.
  webSocketMessage(ws, message) {
    let userId = this.userOf.get(ws);
    if (userId === undefined) {
      // Not a member: either not joined yet, or let go of (ignore its frames),
      // or a member the constructor did not see (take it back).
      const att = ws.deserializeAttachment();
      if (att) {
        if (att.gone) return;
        if (att.userId) this.add(ws, (userId = att.userId));
      }
    }
    if (typeof message !== "string") {
      if (message.byteLength > MAX_FRAME_BYTES) return this.drop(ws, 1009, "frame exceeds 1 MiB");
      return this.error(ws, "unsupported_frame", "binary frames are not supported; send JSON text frames");
    }
    if (message.length > MAX_FRAME_BYTES) return this.drop(ws, 1009, "frame exceeds 1 MiB");
    let data;
    try {
      data = JSON.parse(message);
    } catch {
      return this.error(ws, "invalid_json", "frame is not valid JSON");
    }
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      return this.error(ws, "invalid_json", "frame must be a JSON object");
    }
    switch (data.type) {
      case "message":
        return this.message(ws, userId, data);
      case "join":
        return this.join(ws, userId, data);
      case "ping":
        return this.send(ws, PONG);
      case "typing":
        return this.typing(ws, userId);
      default:
        if (typeof data.type !== "string") {
          return this.error(ws, "unknown_type", 'frame has no string "type"; expected join, message, ping or typing');
        }
        return this.error(ws, "unknown_type", `unknown type ${JSON.stringify(data.type.slice(0, 64))}; expected join, message, ping or typing`);
    }
  }

  webSocketClose(ws, code, reason) {
    this.leave(ws);
    // 1005 and 1006 are reserved for reporting and cannot be sent back.
    try {
      ws.close(code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason);
    } catch {}
  }

  webSocketError(ws) {
    this.leave(ws);
    try {
      ws.close(1011, "websocket error");
    } catch {}
  }

  join(ws, userId, data) {
    const bad = checkUserId(data.userId);
    if (bad) return this.error(ws, "invalid_user_id", bad);
    if (userId === data.userId) return; // joining again is a no-op
    if (userId !== undefined) {
      return this.error(ws, "already_joined", `this connection already joined as ${JSON.stringify(userId)}`);
    }
    const since = data.since ?? undefined;
    if (since !== undefined && (!Number.isSafeInteger(since) || since < 0)) {
      return this.error(ws, "invalid_since", '"since" must be a non-negative integer message id');
    }
    this.bind(ws, data.userId, since);
  }

  message(ws, userId, data) {
    if (userId === undefined && (data.userId === undefined || checkUserId(data.userId))) {
      return this.error(ws, "not_joined", 'send {"type":"join","userId":...} first, or include a valid "userId" in the message');
    }
    const text = data.text;
    if (typeof text !== "string" || text === "") {
      return this.error(ws, "invalid_message", '"text" must be a non-empty string');
    }
    if (text.length > MAX_TEXT_CHARS) {
      const n = chars(text);
      if (n > MAX_TEXT_CHARS) {
        return this.error(ws, "message_too_long", `text is ${n} characters; the limit is ${MAX_TEXT_CHARS}`);
      }
    }
    if (userId === undefined) this.bind(ws, (userId = data.userId));
    // Persist before broadcast: nobody sees a message that is not durable.
    // The id is lastId + 1, as SQLite's INTEGER PRIMARY KEY would pick it;
    // lastId moves only once the row is in.
    const id = this.lastId + 1;
    const timestamp = now();
    try {
      this.sql.exec(INSERT, id, userId, text, timestamp);
    } catch {
      return this.error(ws, "storage_unavailable", "the message could not be stored; try again");
    }
    this.lastId = id;
    // Batch prune: once every PRUNE_EVERY ids, delete everything but the
    // newest KEEP_MESSAGES. In between the table holds at most
    // KEEP_MESSAGES + PRUNE_EVERY - 1 rows, which no read can see (history()
    // floors every read at lastId - KEEP_MESSAGES). A failed prune loses
    // nothing: the message is stored, and the next prune deletes the same
    // rows and more.
    if (id % PRUNE_EVERY === 0) {
      try {
        this.sql.exec(PRUNE, id - KEEP_MESSAGES);
      } catch {}
    }
    // The user's message ends their typing: their next typing goes out at once.
    this.typedAt.delete(userId);
    this.broadcast(JSON.stringify({ type: "message", id, userId, text, timestamp }));
  }

  // typing tells every other member that the sender is typing: at most one
  // a TYPING_INTERVAL_MS per user (the rest are dropped without a word),
  // never stored, never in a room above PRESENCE_BROADCAST_LIMIT users.
  typing(ws, userId) {
    if (userId === undefined) return this.error(ws, "not_joined", "join before you type");
    if (this.users.size > PRESENCE_BROADCAST_LIMIT) return;
    const t = Date.now();
    const last = this.typedAt.get(userId);
    if (last !== undefined && t - last < TYPING_INTERVAL_MS) return;
    this.typedAt.set(userId, t);
    this.broadcastOthers(JSON.stringify({ type: "typing", userId }), ws);
  }

  // bind makes the socket a member: user_joined to everyone when this is the
  // user's first connection (else to this socket only), then the roster and
  // the history to the joining socket.
  bind(ws, userId, since) {
    const first = !this.users.has(userId);
    ws.serializeAttachment({ userId });
    this.add(ws, userId);
    const joined = JSON.stringify({ type: "user_joined", userId, timestamp: now() });
    if (first) this.broadcast(joined);
    else this.send(ws, joined);
    this.send(ws, JSON.stringify({ type: "presence", users: [...this.users.keys()].sort() }));
    this.send(ws, JSON.stringify(this.history(since)));
  }

  add(ws, userId) {
    this.members.push(ws);
    this.userOf.set(ws, userId);
    this.users.set(userId, (this.users.get(userId) ?? 0) + 1);
  }

  // history is the latest HISTORY_ON_JOIN messages, or with since up to
  // HISTORY_ON_RESUME after it, oldest first; truncated when more followed.
  // Only the newest KEEP_MESSAGES ids (lastId - KEEP_MESSAGES, lastId] are
  // readable, exactly what a prune after every insert would have left, so a
  // since older than that is truncated as if its rows were already gone.
  history(since) {
    const limit = since === undefined ? HISTORY_ON_JOIN : HISTORY_ON_RESUME;
    const floor = Math.max(since ?? 0, this.lastId - KEEP_MESSAGES);
    const messages = this.sql.exec(HISTORY, floor, limit + 1).toArray();
    const more = messages.length > limit;
    if (more) messages.pop(); // the oldest, newest first
    const frame = { type: "history", messages: messages.reverse() };
    if (since !== undefined && more) frame.truncated = true;
    return frame;
  }

  // leave lets a socket go, once, and announces user_left when it was the
  // user's last connection. The GONE attachment keeps a socket that is still
  // CLOSING out of a rebuild after an eviction, and its late frames ignored.
  leave(ws) {
    try {
      ws.serializeAttachment(GONE);
    } catch {}
    const userId = this.userOf.get(ws);
    if (userId === undefined) return;
    this.userOf.delete(ws);
    const members = this.members;
    const i = members.indexOf(ws);
    members[i] = members[members.length - 1]; // order does not matter
    members.pop();
    const n = this.users.get(userId) - 1;
    if (n > 0) {
      this.users.set(userId, n);
      return;
    }
    this.users.delete(userId);
    this.typedAt.delete(userId);
    this.broadcast(JSON.stringify({ type: "user_left", userId, timestamp: now() }));
  }

  // broadcast sends one frame to every joined member; peers whose send
  // throws have quit, and are dropped after the loop like any other leave.
  broadcast(frame) {
    const members = this.members;
    let quitters;
    for (let i = 0; i < members.length; i++) {
      try {
        members[i].send(frame);
      } catch {
        (quitters ??= []).push(members[i]);
      }
    }
    if (quitters) for (const ws of quitters) this.drop(ws, 1001, "send failed");
  }

  // broadcastOthers is broadcast without the sender's sockets: its own
  // socket when it has one (the common case, a check of identity per
  // member), else every socket of its user (a Map lookup per member). A
  // loop of its own, so that a message's broadcast stays as it was.
  broadcastOthers(frame, sender) {
    const members = this.members;
    const userId = this.userOf.get(sender);
    const alone = this.users.get(userId) === 1;
    let quitters;
    for (let i = 0; i < members.length; i++) {
      const ws = members[i];
      if (alone ? ws === sender : this.userOf.get(ws) === userId) continue;
      try {
        ws.send(frame);
      } catch {
        (quitters ??= []).push(ws);
      }
    }
    if (quitters) for (const ws of quitters) this.drop(ws, 1001, "send failed");
  }

  send(ws, frame) {
    try {
      ws.send(frame);
    } catch {
      this.drop(ws, 1001, "send failed");
    }
  }

  error(ws, code, message) {
    this.send(ws, JSON.stringify({ type: "error", code, message }));
  }

  drop(ws, code, reason) {
    this.leave(ws);
    try {
      ws.close(code, reason);
    } catch {}
  }
}

function checkUserId(userId) {
  if (userId === undefined) return 'join needs a "userId"';
  if (typeof userId !== "string") return '"userId" must be a string';
  if (userId === "") return "userId must not be empty";
  if (userId.length > MAX_USER_ID_CHARS) {
    const n = chars(userId);
    if (n > MAX_USER_ID_CHARS) return `userId must be at most ${MAX_USER_ID_CHARS} characters, got ${n}`;
  }
  if (CONTROL.test(userId)) return "userId must not contain control characters";
  return undefined;
}
