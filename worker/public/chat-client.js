// chat-client.js is the browser client for the gochat WebSocket protocol: a
// dependency-free ES module that any frontend can import, also served by the
// worker as /chat-client.js.
//
//   import { ChatClient } from "/chat-client.js";
//   const chat = new ChatClient({ room: "lobby", userId: "ada" });
//   chat.on("message", (m) => render(m));
//   chat.connect();
//   chat.send("hello");
//   chat.close(); // when done: stops timers and reconnects for good
//
// Policy, in short:
//   - A connection is "open" once the room has answered the join with its
//     history; until then it is "connecting" (first time) or "reconnecting".
//   - A dropped connection is retried with exponential backoff and jitter.
//     The rejoin carries "since": the highest message id seen, so the room
//     sends exactly what was missed. Ids are also deduplicated here, so a
//     message is delivered to the caller at most once per client.
//   - send() while not open queues the text, up to maxQueue. A text that does
//     not fit, or that is still queued when close() is called, is reported
//     through an "error" event that carries it. Nothing is dropped silently.
//   - A text sent on a connection that died before the room echoed it back is
//     checked against the resumed history: if the room has it, it is not sent
//     again; if not, it is sent again on the new connection.
//   - edit(id, text) and delete(id) change a message already in the room.
//     They need an open connection: while not open they are refused (an
//     "error" event with code "not_connected"), never queued, since an edit
//     applied minutes later, to a message that may have changed meanwhile,
//     is not what the user asked for. One in flight when the connection dies
//     is checked against the resume's "changes": applied, it is done; not
//     applied, it is sent again; with a truncated or reset history it is
//     reported ("unconfirmed") instead.
//   - Every frame with an "id" (message, message_edited, message_deleted,
//     and the moderation events user_kicked, user_banned, ...) holds a
//     position in one increasing sequence; "since" is the highest
//     position seen, whatever the frame. message_edited / message_deleted
//     arrive as events of those names, and a resume's "changes" (edits and
//     deletions, while away, of messages already delivered) are emitted as
//     the same events right after its "history" event.
//   - moderate(action, userId, {seconds, reason}) (kick, ban, unban, mute,
//     unmute) and slowMode(seconds) are for tokens whose role is moderator
//     or service (the room checks and answers "forbidden" otherwise). Like
//     edit, they need an open connection and are never queued. The room's
//     user_kicked / user_banned / user_unbanned / user_muted / user_unmuted
//     frames arrive as "moderation" events (live, and from a resume's
//     "changes"); they hold positions in the same sequence as messages, so
//     lastId and "since" follow them. room_settings arrives as a
//     "room_settings" event ({slowModeSeconds, previous}); a join that
//     brings none means slow mode is off.
//   - A socket the room closes with 4003 (kicked or banned) is not
//     reconnected: the client stops, with status "closed" (reason "kicked"
//     or "banned") and a fatal "error" event of that code that says by whom,
//     why and, for a ban, until when. Unlike after close(), connect() may be
//     called again: a kicked user can rejoin that way and resumes where it
//     stopped (a banned one is refused until the ban ends or is lifted:
//     the browser is not told why an upgrade failed, so it just retries).
//     Texts refused as "muted" or "slow_mode" are answered: they are
//     reported with the refusal (until / retryAfterMs) and never resent.
//   - Live signals. typing() tells the others you are typing, at most once
//     per typingIntervalMs (2 s, the room's TYPING_INTERVAL_SECONDS; a
//     message sent starts it over, as in the room); it is never queued.
//     Others' typing arrives as "typing" events carrying the
//     current set of typers: each expires typingTimeoutMs (6 s) after their
//     last typing frame, or at once when their message arrives or they
//     leave (the room sets no timer; the client does). markRead(id) says
//     you have read up to message id: it only moves forward, the latest
//     wins, and at most one "read" frame goes out per readIntervalMs (1 s);
//     one not yet sent when the connection drops goes out after the rejoin.
//     The room's "read_state" after each join ({lastRead, unread, capped})
//     and others' "read" frames arrive as events of those names.
//     react(id, emoji) toggles your reaction (like edit: open connection,
//     never queued). "reaction" frames hold positions like edits, arrive
//     live and in a resume's "changes", and are applied to the messages the
//     client holds: each "reaction" event carries the message's reactions
//     after it, and messages carry "reactions" ([{emoji, count, users,
//     mine}]) when they have any.
//   - A token never goes into a URL (URLs end up in logs and histories): the
//     socket offers it as the subprotocol "bearer.<token>" next to "gochat",
//     and loadOlder() sends it as "Authorization: Bearer". getToken, if given,
//     is asked for a token before every connect. A socket the server closes
//     with 4001 (token expired) reconnects at once with a fresh token and
//     resumes; without getToken that is a fatal "token_expired" error.
//
// Timers, the WebSocket constructor and the random source are options, so
// tests can drive the client with a fake socket and a fake clock.

/** The exact keepalive frame; the runtime answers it without waking the room. */
export const PING_FRAME = '{"type":"ping"}';

const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

// Error codes the room sends about one message; each answers the oldest text
// this connection sent and the room has not yet echoed.
const MESSAGE_ERRORS = new Set([
  "invalid_message",
  "message_too_long",
  "rate_limited",
  "content_blocked",
  "not_joined",
  "storage_unavailable",
  "forbidden",
]);

/** The moderation actions moderate() takes, and the event each announces. */
export const MODERATION_EVENTS = Object.freeze({
  kick: "user_kicked",
  ban: "user_banned",
  unban: "user_unbanned",
  mute: "user_muted",
  unmute: "user_unmuted",
});
const MODERATION_ACTIONS = Object.freeze(Object.fromEntries(Object.entries(MODERATION_EVENTS).map(([a, e]) => [e, a])));

// Which error codes can answer each kind of request in flight: an error
// answers the oldest request of a kind that can get it (the room answers
// in order, each request with its echo or an error).
// Mutes and slow mode refuse only messages (an edit is not a new message).
const ANSWERS = {
  message: new Set([...MESSAGE_ERRORS, "muted", "slow_mode"]),
  edit: new Set([...MESSAGE_ERRORS, "not_found", "invalid_id"]),
  delete: new Set(["rate_limited", "not_joined", "storage_unavailable", "forbidden", "not_found", "invalid_id"]),
  moderate: new Set(["rate_limited", "not_joined", "storage_unavailable", "forbidden", "not_found",
    "invalid_user_id", "invalid_seconds", "invalid_reason"]),
  slow_mode: new Set(["rate_limited", "not_joined", "storage_unavailable", "forbidden", "invalid_seconds"]),
  // A reaction takes a position as a message does: the room applies a
  // message's rate limit and mute to it (never slow mode). Its id is
  // checked here, so an invalid_id is a read's (see #onError).
  react: new Set(["rate_limited", "not_joined", "storage_unavailable", "not_found", "muted",
    "invalid_reaction", "too_many_reactions"]),
};

/** The most users a message's reaction lists by name (the room's limit). */
export const REACTION_USERS_SHOWN = 10;

// Error codes that make a join hopeless to retry as is.
const FATAL_JOIN_ERRORS = new Set(["invalid_user_id", "forbidden", "already_joined"]);

const OPEN = 1; // WebSocket.OPEN, which fakes may not define

/** The subprotocol the server selects; the token rides next to it. */
export const SUBPROTOCOL = "gochat";
/** The close code of a socket whose token expired. */
export const CLOSE_TOKEN_EXPIRED = 4001;
/** The close code of a socket whose user was kicked or banned (reason "kicked" / "banned"). */
export const CLOSE_MODERATED = 4003;

// A subprotocol must be an RFC 7230 token; a JWT (base64url and dots) is one.
const TOKEN_CHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * protocolsFor is what a socket offers for token: ["gochat", "bearer." +
 * token], or nothing at all without a token (so that a server that does not
 * select a subprotocol still accepts the socket).
 */
export function protocolsFor(token) {
  return token ? [SUBPROTOCOL, `bearer.${token}`] : undefined;
}

/**
 * Defaults for the tunables. Each can be overridden in the constructor's
 * options; tests shrink them.
 */
export const DEFAULTS = Object.freeze({
  /** How often the keepalive ping is sent while open. A connection that has
   *  received nothing at all by the next tick is considered dead. */
  pingIntervalMs: 30_000,
  /** First reconnect delay; it doubles on each failed attempt. */
  backoffInitialMs: 500,
  /** Cap of the reconnect delay. */
  backoffMaxMs: 10_000,
  /** How long a connection may take from creating the socket to the room's
   *  history before it is abandoned and retried. */
  joinTimeoutMs: 15_000,
  /** How many texts send() holds while not open. */
  maxQueue: 100,
  /** How many recent message ids are remembered for deduplication. */
  dedupeWindow: 2000,
  /** How many messages loadOlder() asks for at a time. */
  olderPageSize: 50,
  /** The least time between two typing frames (the room forwards at most
   *  one per TYPING_INTERVAL_SECONDS and drops the rest). */
  typingIntervalMs: 2_000,
  /** How long another user shows as typing after their last typing frame. */
  typingTimeoutMs: 6_000,
  /** The least time between two read frames; markRead calls in between
   *  coalesce into the latest. */
  readIntervalMs: 1_000,
});

/**
 * backoffDelay is the wait before reconnect attempt `attempt` (0 for the
 * first): min(max, initial * 2^attempt), of which a random half is taken off
 * ("equal jitter"), so clients cut off together do not return together.
 */
export function backoffDelay(attempt, { initialMs, maxMs, random }) {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + (random() * base) / 2);
}

/**
 * chatURL is the WebSocket URL of a room: /api/chat for the lobby,
 * /api/chat/{room} for others. base is the page's origin (http or https); the
 * scheme becomes ws or wss. The token argument adds ?token=, which the server
 * still accepts for scripts and wscat; ChatClient never passes it, since a
 * URL ends up in server, proxy and browser logs. It offers the token as a
 * subprotocol instead (see protocolsFor).
 */
export function chatURL(base, room = "lobby", token) {
  if (!ROOM_NAME.test(room)) {
    throw new TypeError(`invalid room name ${JSON.stringify(room)}: use 1-64 of A-Z a-z 0-9 _ -`);
  }
  const url = new URL(room === "lobby" ? "/api/chat" : `/api/chat/${room}`, base);
  url.protocol = url.protocol === "https:" || url.protocol === "wss:" ? "wss:" : "ws:";
  if (token) url.searchParams.set("token", token);
  return url.toString();
}

export class ChatClient {
  #opts;
  #WebSocket;
  #timers;
  #random;
  #url;

  #listeners = new Map();
  #status = "idle";
  #ws = null;
  #attempt = 0; // reconnect attempts since the last successful join
  #retryTimer = null;
  #pingTimer = null;
  #joinTimer = null;
  #awaitingPong = false;
  #joined = false; // the current socket's join was answered with history
  #everJoined = false;
  #closed = false;

  #users = new Set();
  #lastId = null; // highest position (id of any frame) delivered, the next join's "since"
  #sentSince = null; // the "since" of the current join
  #seen = new Set(); // recent positions, oldest first, for deduplication
  #queue = []; // texts waiting for an open connection
  // Requests sent on the current connection, not yet echoed or refused, in
  // order: {kind: "message", text} | {kind: "edit", id, text} | {kind: "delete", id}.
  #inflight = [];
  #unconfirmed = []; // requests in flight when the previous connection died
  #pendingReset = false; // the room forgot our resume point; the next history starts over
  #oldestId = null; // lowest message id delivered since the last reset, loadOlder's "before"
  #older = null; // the loadOlder() in progress
  #generation = 0; // bumped whenever the current connect attempt is abandoned
  #token; // the token of the latest connect
  #fetch;
  #httpBase; // the http(s) origin of the room API
  #expiredStreak = 0; // 4001 closes since the last successful join
  #halted = null; // "kicked" | "banned" after a 4003 close, until connect() again
  #against = null; // the kick or ban of us this connection announced, for the 4003 error
  #slowMode = 0; // the room's slow mode, in seconds between two messages
  #settingsSeen = false; // this connection's join brought a room_settings
  #typingTimer = null; // armed after a typing frame went out: the throttle
  #typers = new Map(); // userId -> expiry timer of the others typing now
  #readWanted = 0; // the highest id markRead asked for (or the room said)
  #readAcked = 0; // the highest id the room told us we read
  #readSent = 0; // the highest read sent on the current connection
  #readTimer = null; // armed after a read frame went out: the throttle
  #readStateDue = false; // the join's history came; its read_state is next
  #reads = new Map(); // userId -> the highest id others read, from "read" frames
  #held = new Map(); // messageId -> Map(emoji -> {count, users, mine}), messages delivered

  /**
   * @param {object} options
   * @param {string} options.userId        who to join as
   * @param {string} [options.room]        room name, default "lobby"
   * @param {string} [options.token]       auth token, offered as the subprotocol "bearer.<token>"
   * @param {Function} [options.getToken]  async () => token, asked before every connect
   *                                       and reconnect; overrides token
   * @param {string} [options.url]         full WebSocket URL; overrides room/baseUrl
   * @param {string} [options.baseUrl]     origin to connect to; default location.href
   * @param {Function} [options.WebSocket] WebSocket constructor; default globalThis.WebSocket
   * @param {Function} [options.fetch]     fetch for loadOlder(); default globalThis.fetch
   * @param {object} [options.timers]      {setTimeout, clearTimeout, setInterval, clearInterval}
   * @param {Function} [options.random]    () => [0,1); default Math.random
   * and any of DEFAULTS' tunables.
   */
  constructor(options = {}) {
    if (typeof options.userId !== "string" || options.userId === "") {
      throw new TypeError("ChatClient needs a userId");
    }
    this.#opts = { ...DEFAULTS, room: "lobby", ...options };
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.#WebSocket !== "function") {
      throw new TypeError("no WebSocket constructor: pass options.WebSocket");
    }
    const g = globalThis;
    this.#timers = {
      setTimeout: (...a) => g.setTimeout(...a),
      clearTimeout: (...a) => g.clearTimeout(...a),
      setInterval: (...a) => g.setInterval(...a),
      clearInterval: (...a) => g.clearInterval(...a),
      ...options.timers,
    };
    this.#random = options.random ?? Math.random;
    if (options.getToken !== undefined && typeof options.getToken !== "function") {
      throw new TypeError("ChatClient: getToken must be a function");
    }
    this.#token = options.token || undefined;
    this.#url = options.url ?? chatURL(options.baseUrl ?? g.location?.href, this.#opts.room);
    const http = new URL(this.#url);
    http.protocol = http.protocol === "wss:" ? "https:" : "http:";
    this.#httpBase = http.origin;
    this.#fetch = options.fetch ?? ((...a) => g.fetch(...a));
  }

  /** The room this client talks to. */
  get room() { return this.#opts.room; }
  /** The user it joins as. */
  get userId() { return this.#opts.userId; }
  /** The WebSocket URL it connects to. */
  get url() { return this.#url; }
  /** "idle" before connect(), then "connecting" | "open" | "reconnecting" | "closed". */
  get status() { return this.#status; }
  /** The users present in the room, sorted. */
  get users() { return [...this.#users].sort(); }
  /** The highest position delivered so far (the id of a message, an edit or
   *  a deletion), or null: the next join's "since". */
  get lastId() { return this.#lastId; }
  /** The lowest message id delivered so far (loadOlder's "before"), or null. */
  get oldestId() { return this.#oldestId; }
  /** How many texts (and edits or deletions to check) wait for the connection. */
  get queued() { return this.#queue.length + this.#unconfirmed.length; }
  /** The room's slow mode: seconds a member waits between two messages, 0 when off. */
  get slowModeSeconds() { return this.#slowMode; }
  /** "kicked" or "banned" while stopped by the room (a 4003 close), else null. */
  get removed() { return this.#halted; }
  /** The other users typing now, sorted. */
  get typingUsers() { return [...this.#typers.keys()].sort(); }
  /** The highest message id read: what markRead asked for, or the room
   *  said (read_state); 0 for none. */
  get lastRead() { return Math.max(this.#readWanted, this.#readAcked); }
  /** {userId: id}: how far others have read, as their "read" events said. */
  get reads() { return Object.fromEntries(this.#reads); }

  /** reactionsOf is the reactions of a message delivered, [{emoji, count,
   *  users, mine}] (empty when it has none), or null when the client does not
   *  hold that message. */
  reactionsOf(messageId) {
    const r = this.#held.get(messageId);
    return r ? summary(r) : null;
  }

  /**
   * on subscribes fn to an event and returns a function that unsubscribes it.
   * Events: "status", "message", "message_edited", "message_deleted",
   * "moderation", "room_settings", "history", "presence", "error",
   * "typing", "read", "read_state", "reaction".
   */
  on(type, fn) {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    this.#listeners.get(type)?.delete(fn);
  }

  /**
   * connect opens the connection and joins. Calling it again does nothing,
   * except after the room removed us (a kick or a ban, see removed): then it
   * connects again and resumes where the old connection stopped.
   */
  connect() {
    if (this.#closed) throw new Error("ChatClient: connect after close; create a new client");
    if (this.#halted) {
      this.#halted = null;
      this.#attempt = 0;
      this.#setStatus("connecting");
      this.#open();
      return this;
    }
    if (this.#status !== "idle") return this;
    this.#setStatus("connecting");
    this.#open();
    return this;
  }

  /**
   * send sends text, or queues it while the connection is not open. It
   * returns false when the text was refused here (the client is closed or the
   * queue is full); an "error" event with the text says why. Errors from the
   * room (too long, rate limited, ...) arrive later as "error" events that
   * carry the text too.
   */
  send(text) {
    if (typeof text !== "string" || text === "") {
      throw new TypeError("ChatClient.send needs a non-empty string");
    }
    if (this.#closed) {
      this.#error({ code: "client_closed", message: "the chat client is closed; this message was not sent", text });
      return false;
    }
    if (this.#halted) {
      this.#error({ code: this.#halted, message: `you were ${this.#halted} from this room; this message was not sent`, text });
      return false;
    }
    if (this.#joined && this.#ws?.readyState === OPEN) {
      this.#transmit({ kind: "message", text });
      return true;
    }
    if (this.queued >= this.#opts.maxQueue) {
      this.#error({ code: "queue_full", message: `not connected and ${this.#opts.maxQueue} messages already wait; this one was not sent`, text });
      return false;
    }
    this.#queue.push(text);
    return true;
  }

  /**
   * edit replaces the text of message id (one's own; the room checks) with
   * text, under the same rules as a message. It needs an open connection:
   * otherwise it returns false and an "error" event says why (code
   * "not_connected" or "client_closed"); nothing is queued. The room answers
   * with a "message_edited" event for everyone, or an "error" event that
   * carries {action: "edit", messageId, text} (not_found, forbidden,
   * content_blocked, message_too_long, rate_limited, ...).
   */
  edit(id, text) {
    checkId(id, "edit");
    if (typeof text !== "string" || text === "") {
      throw new TypeError("ChatClient.edit needs a non-empty string");
    }
    return this.#request({ kind: "edit", id, text });
  }

  /**
   * delete removes message id: one's own, or anyone's with a token whose role
   * is moderator or service (the room checks). Like edit, it needs an open
   * connection and returns false otherwise. The room answers with a
   * "message_deleted" event for everyone, or an "error" event that carries
   * {action: "delete", messageId} (not_found, forbidden, ...).
   */
  delete(id) {
    checkId(id, "delete");
    return this.#request({ kind: "delete", id });
  }

  /**
   * moderate asks the room to kick, ban, unban, mute or unmute userId.
   * options.seconds (ban, mute) is how long, absent or 0 for until lifted;
   * options.reason (kick, ban, mute) is shown to everyone. It needs a token
   * whose role is moderator or service, and an open connection: otherwise
   * it returns false and an "error" event says why (not_connected,
   * client_closed); nothing is queued. The room answers with a
   * "moderation" event for everyone, or an "error" event that carries
   * {action, userId} (forbidden, not_found, invalid_user_id,
   * invalid_seconds, invalid_reason).
   */
  moderate(action, userId, { seconds, reason } = {}) {
    if (!Object.hasOwn(MODERATION_EVENTS, action)) {
      throw new TypeError(`ChatClient.moderate: action must be one of ${Object.keys(MODERATION_EVENTS).join(", ")}`);
    }
    if (typeof userId !== "string" || userId === "") {
      throw new TypeError("ChatClient.moderate needs a userId");
    }
    if (seconds !== undefined && seconds !== null && !isSeconds(seconds)) {
      throw new TypeError("ChatClient.moderate: seconds must be a non-negative integer");
    }
    if (reason !== undefined && reason !== null && typeof reason !== "string") {
      throw new TypeError("ChatClient.moderate: reason must be a string");
    }
    const op = { kind: "moderate", action, userId };
    if ((action === "ban" || action === "mute") && seconds > 0) op.seconds = seconds;
    if (reason && action !== "unban" && action !== "unmute") op.reason = reason;
    return this.#request(op);
  }

  /**
   * slowMode sets the seconds a member must wait between two messages (0
   * turns slow mode off), with the same rules as moderate(). Everyone gets
   * a "room_settings" event; a refusal is an "error" event with
   * {action: "slow_mode", seconds}.
   */
  slowMode(seconds) {
    if (!isSeconds(seconds)) throw new TypeError("ChatClient.slowMode needs a non-negative integer");
    return this.#request({ kind: "slow_mode", seconds });
  }

  /**
   * typing tells the others that you are typing. Call it on every keystroke:
   * a frame goes out at most once per typingIntervalMs, and only on an open
   * connection (nothing is queued: a late "typing" is wrong). A message
   * sent ends the interval, as it does in the room, so typing again right
   * after a message shows at once. It returns whether a frame went out.
   */
  typing() {
    if (this.#closed || this.#typingTimer !== null || !this.#isOpen()) return false;
    this.#raw('{"type":"typing"}');
    this.#typingTimer = this.#timers.setTimeout(() => { this.#typingTimer = null; }, this.#opts.typingIntervalMs);
    return true;
  }

  /**
   * markRead says you have read up to message id. It only moves forward (a
   * lower id than before is ignored), and an id above the highest position
   * delivered is ignored too (the room would refuse it). Calls coalesce: at
   * most one "read" frame per readIntervalMs, carrying the latest id; while
   * not connected it waits for the next join. It returns whether id moved
   * the read position.
   */
  markRead(id) {
    checkId(id, "markRead");
    if (this.#closed || id <= this.lastRead || this.#lastId === null || id > this.#lastId) return false;
    this.#readWanted = id;
    this.#flushRead();
    return true;
  }

  /**
   * react toggles your reaction emoji (one emoji, at most 32 bytes) on
   * message id. Like edit, it needs an open connection and is never
   * queued. The room answers everyone with a "reaction" event ({id,
   * messageId, emoji, userId, added, reactions}), or you with an "error"
   * that carries {action: "react", messageId, emoji} (invalid_reaction,
   * too_many_reactions, not_found, muted with until, rate_limited with
   * retryAfterMs, ...).
   */
  react(id, emoji) {
    checkId(id, "react");
    if (typeof emoji !== "string" || emoji === "" || utf8Length(emoji) > 32 || graphemeCount(emoji) !== 1) {
      throw new TypeError("ChatClient.react needs one emoji (a single character of at most 32 bytes)");
    }
    return this.#request({ kind: "react", id, emoji });
  }

  #isOpen() {
    return this.#joined && this.#ws?.readyState === OPEN;
  }

  // #flushRead sends the read position markRead asked for, unless the
  // throttle holds it (it goes out when the timer fires) or the connection
  // is not open (it goes out after the next join).
  #flushRead() {
    if (this.#readTimer !== null || this.#readStateDue || !this.#isOpen()) return;
    const id = this.#readWanted;
    if (id <= Math.max(this.#readSent, this.#readAcked)) return;
    this.#readSent = id;
    this.#raw(JSON.stringify({ type: "read", id }));
    this.#readTimer = this.#timers.setTimeout(() => {
      this.#readTimer = null;
      if (!this.#closed) this.#flushRead();
    }, this.#opts.readIntervalMs);
  }

  // #setTyping adds userId to the typers (or refreshes its expiry) or
  // removes it, and emits "typing" when the set changed.
  #setTyping(userId, on) {
    const had = this.#typers.has(userId);
    if (had) this.#timers.clearTimeout(this.#typers.get(userId));
    if (on) {
      this.#typers.set(userId, this.#timers.setTimeout(() => this.#setTyping(userId, false), this.#opts.typingTimeoutMs));
    } else {
      this.#typers.delete(userId);
    }
    if (had !== on) this.#emit("typing", { users: this.typingUsers, userId, typing: on });
  }

  // #clearTypers forgets every typer (the connection that said so is gone).
  #clearTypers() {
    if (!this.#typers.size) return;
    for (const [userId, timer] of this.#typers) {
      this.#timers.clearTimeout(timer);
      this.#typers.delete(userId);
      this.#emit("typing", { users: this.typingUsers, userId, typing: false });
    }
  }

  // #hold records a delivered message's reactions (the room's word for
  // them) and returns the message as the caller sees it.
  #hold(f) {
    const state = new Map();
    const me = this.#opts.userId;
    for (const r of Array.isArray(f.reactions) ? f.reactions : []) {
      if (!isObject(r) || typeof r.emoji !== "string" || !(Number.isSafeInteger(r.count) && r.count > 0)) continue;
      const users = Array.isArray(r.users) ? r.users.filter((u) => typeof u === "string").slice(0, r.count) : [];
      state.set(r.emoji, { count: r.count, users, mine: users.includes(me) });
    }
    if (typeof f.id === "number") {
      this.#held.delete(f.id);
      this.#held.set(f.id, state);
      if (this.#held.size > this.#opts.dedupeWindow) this.#held.delete(this.#held.keys().next().value);
    }
    const m = messageOf(f);
    if (state.size) m.reactions = summary(state);
    return m;
  }

  // #applyReaction applies a reaction toggle to the message it names, if
  // held, and returns the event: with the message's reactions after it, or
  // without them when the client does not hold the message. A toggle
  // already reflected (its user is listed, or not, already) changes
  // nothing, so a replay cannot count twice.
  #applyReaction(r, apply = true) {
    const state = this.#held.get(r.messageId);
    if (!state) return r;
    if (apply) {
      const me = r.userId === this.#opts.userId;
      const e = state.get(r.emoji) ?? { count: 0, users: [], mine: false };
      const listed = e.users.includes(r.userId) || (me && e.mine);
      const complete = e.users.length >= e.count;
      if (r.added && !listed) {
        e.count++;
        if (complete && e.users.length < REACTION_USERS_SHOWN) e.users.push(r.userId);
      } else if (!r.added && (listed || !complete)) {
        e.count = Math.max(0, e.count - 1);
        e.users = e.users.filter((u) => u !== r.userId);
      }
      if (me) e.mine = r.added;
      if (e.count > 0) state.set(r.emoji, e);
      else state.delete(r.emoji);
    }
    return { ...r, reactions: summary(state) };
  }

  #request(op) {
    if (this.#closed) {
      this.#error(withOp({ code: "client_closed", message: `the chat client is closed; this ${what(op)} was not sent` }, op));
      return false;
    }
    if (!(this.#joined && this.#ws?.readyState === OPEN)) {
      this.#error(withOp({ code: "not_connected", message: `not connected: this ${what(op)} was not sent; try again once the chat is connected` }, op));
      return false;
    }
    this.#transmit(op);
    return true;
  }

  /**
   * close ends the connection for good: no reconnect, no timers. Texts still
   * waiting are reported in one "error" event with code "not_sent" and their
   * texts in `texts`. It is safe to call more than once.
   */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#generation++;
    this.#clearTimers();
    this.#clearTypers();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      detach(ws);
      try { ws.close(1000, "client closed"); } catch { /* already closing */ }
    }
    const texts = [...this.#unconfirmed.filter(isMessage).map((op) => op.text), ...this.#queue];
    const actions = this.#unconfirmed.filter((op) => !isMessage(op)).map((op) => withOp({}, op));
    this.#queue = [];
    this.#unconfirmed = [];
    this.#inflight = [];
    if (texts.length || actions.length) {
      const err = { code: "not_sent", message: `${texts.length + actions.length} message(s), edit(s) or deletion(s) were not sent before the chat closed`, texts };
      if (actions.length) err.actions = actions;
      this.#error(err);
    }
    this.#setStatus("closed");
  }

  /**
   * loadOlder fetches the page of history just before the oldest message
   * delivered so far, through GET /api/rooms/{room}/messages?before=&limit=,
   * with the token (if any) in an Authorization header, never in the URL.
   * It resolves to {messages, hasMore}: messages oldest first, none of them
   * delivered before; hasMore is false once the start of the room is
   * reached. Until the first history arrives there is nothing to page back
   * from, and it resolves to {messages: [], hasMore: true}. A call while one
   * is running returns the same promise. A refusal rejects with an Error
   * carrying status and code (e.g. 401 invalid_token).
   *
   * @param {{limit?: number}} [options]
   */
  loadOlder({ limit = this.#opts.olderPageSize } = {}) {
    if (this.#older) return this.#older;
    if (this.#closed) return Promise.reject(new Error("ChatClient: loadOlder after close"));
    if (this.#oldestId === null) {
      // No message yet: if a history came and was empty, the room has none.
      return Promise.resolve({ messages: [], hasMore: !this.#everJoined });
    }
    const before = this.#oldestId;
    const run = async () => {
      const token = this.#opts.getToken ? await this.#opts.getToken() : this.#token;
      const url = new URL(`/api/rooms/${this.#opts.room}/messages`, this.#httpBase);
      url.searchParams.set("before", String(before));
      url.searchParams.set("limit", String(limit));
      const headers = { Accept: "application/json" };
      if (token) headers.Authorization = `Bearer ${token}`;
      const res = await this.#fetch(url.toString(), { headers, credentials: "omit", cache: "no-store" });
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        const err = new Error(body?.message || `the server answered ${res.status}`);
        err.status = res.status;
        err.code = String(body?.error ?? "http_error");
        throw err;
      }
      // The history started over meanwhile (invalid_since): this page belongs
      // to the old one.
      if (before !== this.#oldestId) return { messages: [], hasMore: this.#oldestId !== null };
      const all = Array.isArray(body?.messages) ? body.messages : [];
      // Only what is older than everything delivered, whatever the server
      // sent, once each, oldest first.
      const seen = new Set();
      const messages = all
        .filter((m) => typeof m?.id === "number" && m.id < before && !seen.has(m.id) && seen.add(m.id))
        .sort((x, y) => x.id - y.id)
        .map((m) => this.#hold(m));
      if (messages.length) this.#oldestId = messages[0].id;
      return { messages, hasMore: body?.truncated === true && messages.length > 0 };
    };
    const p = run().finally(() => { if (this.#older === p) this.#older = null; });
    this.#older = p;
    return p;
  }

  // --- connection lifecycle ---

  // #open starts one connect attempt: a token from getToken (if given), then
  // the socket. The join timeout covers both.
  #open() {
    this.#joined = false;
    this.#awaitingPong = false;
    this.#against = null;
    this.#settingsSeen = false;
    this.#readSent = 0; // nothing sent on this connection yet
    this.#readStateDue = false;
    const gen = ++this.#generation;
    this.#joinTimer = this.#timers.setTimeout(() => {
      this.#joinTimer = null;
      if (gen === this.#generation && !this.#joined) this.#drop();
    }, this.#opts.joinTimeoutMs);
    if (!this.#opts.getToken) {
      this.#openSocket(this.#token);
      return;
    }
    let pending;
    try {
      pending = Promise.resolve(this.#opts.getToken());
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (token) => {
        if (gen !== this.#generation || this.#closed) return; // abandoned meanwhile
        this.#token = token || undefined;
        this.#openSocket(this.#token);
      },
      (err) => {
        if (gen !== this.#generation || this.#closed) return;
        this.#error({ code: "token_unavailable", message: `getToken failed: ${String(err?.message ?? err)}` });
        this.#lost();
      },
    );
  }

  #openSocket(token) {
    if (token !== undefined && (typeof token !== "string" || !TOKEN_CHARS.test(token))) {
      this.#error({ code: "invalid_token", message: "the token has characters a WebSocket subprotocol cannot carry", fatal: true });
      this.close();
      return;
    }
    let ws;
    try {
      const protocols = protocolsFor(token);
      ws = protocols ? new this.#WebSocket(this.#url, protocols) : new this.#WebSocket(this.#url);
    } catch (err) {
      this.#error({ code: "connect_failed", message: String(err?.message ?? err) });
      this.#lost();
      return;
    }
    this.#ws = ws;
    ws.onopen = () => { if (ws === this.#ws) this.#sendJoin(); };
    ws.onmessage = (ev) => { if (ws === this.#ws) this.#onFrame(ev.data); };
    ws.onclose = (ev) => { if (ws === this.#ws) this.#lost(ev?.code, ev?.reason); };
    ws.onerror = () => {}; // a close event always follows
  }

  #sendJoin() {
    const join = { type: "join", userId: this.#opts.userId };
    if (this.#lastId !== null) join.since = this.#lastId;
    this.#sentSince = this.#lastId;
    this.#raw(JSON.stringify(join));
  }

  // #drop abandons the current socket as dead and reconnects.
  #drop() {
    const ws = this.#ws;
    if (ws) {
      detach(ws);
      try { ws.close(4000, "reconnecting"); } catch { /* not open yet */ }
    }
    this.#lost();
  }

  // #lost handles the end of the current socket (or connect attempt),
  // whatever its cause; code and reason are the close's, if the server sent one.
  #lost(code, reason) {
    this.#ws = null;
    this.#generation++;
    this.#clearTimers();
    // Requests the room neither echoed nor refused may or may not have
    // arrived; the resumed history tells.
    this.#unconfirmed.push(...this.#inflight);
    this.#inflight = [];
    this.#joined = false;
    // Who was typing is news of a connection that is gone.
    this.#clearTypers();
    if (this.#closed) return;
    if (code === CLOSE_MODERATED) {
      this.#stop(reason === "banned" ? "banned" : "kicked");
      return;
    }
    if (code === CLOSE_TOKEN_EXPIRED) {
      if (!this.#opts.getToken) {
        this.#error({ code: "token_expired", message: "your session expired: sign in again to keep chatting", fatal: true });
        this.close();
        return;
      }
      // A fresh token fixes this at once, so no backoff, and no penalty for
      // the next failure either. Only the first 4001 since a join is free:
      // a getToken that keeps handing out stale tokens must not spin.
      if (this.#expiredStreak++ === 0) {
        this.#setStatus("reconnecting", { attempt: this.#attempt, delayMs: 0, reason: "token_expired" });
        this.#open();
        return;
      }
    }
    this.#scheduleReconnect();
  }

  // #stop ends reconnecting after the room removed us: a fatal error that
  // says who did it and why (from the announcement just before the close),
  // and status "closed". What was in flight stays for a connect() to check.
  #stop(code) {
    this.#halted = code;
    const a = this.#against?.code === code ? this.#against : null;
    const err = { code, fatal: true };
    if (a?.by !== undefined) err.by = a.by;
    if (a?.reason !== undefined) err.reason = a.reason;
    if (code === "banned" && a && a.until !== undefined) err.until = a.until;
    if (a?.timestamp !== undefined) err.timestamp = a.timestamp;
    err.message = a?.message || (code === "banned"
      ? `you are banned from this room${err.until === undefined ? "" : ` until ${err.until ?? "a moderator lifts the ban"}`}`
      : `you were removed from this room${err.by ? ` by ${err.by}` : ""}${err.reason ? `: ${err.reason}` : ""}`);
    this.#error(err);
    this.#setStatus("closed", { reason: code });
  }

  #scheduleReconnect() {
    const delayMs = backoffDelay(this.#attempt, {
      initialMs: this.#opts.backoffInitialMs,
      maxMs: this.#opts.backoffMaxMs,
      random: this.#random,
    });
    this.#attempt++;
    this.#setStatus("reconnecting", { attempt: this.#attempt, delayMs });
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = null;
      if (!this.#closed) this.#open();
    }, delayMs);
  }

  #clearTimers() {
    if (this.#retryTimer !== null) this.#timers.clearTimeout(this.#retryTimer);
    if (this.#joinTimer !== null) this.#timers.clearTimeout(this.#joinTimer);
    if (this.#pingTimer !== null) this.#timers.clearInterval(this.#pingTimer);
    if (this.#typingTimer !== null) this.#timers.clearTimeout(this.#typingTimer);
    if (this.#readTimer !== null) this.#timers.clearTimeout(this.#readTimer);
    this.#retryTimer = this.#joinTimer = this.#pingTimer = this.#typingTimer = this.#readTimer = null;
  }

  // #joinedWith runs when the room answers the join with its history.
  #joinedWith(frame) {
    const resumed = this.#everJoined;
    this.#joined = true;
    this.#everJoined = true;
    this.#attempt = 0;
    this.#expiredStreak = 0;
    if (this.#joinTimer !== null) this.#timers.clearTimeout(this.#joinTimer);
    this.#joinTimer = null;
    this.#awaitingPong = false;
    this.#pingTimer = this.#timers.setInterval(() => this.#keepalive(), this.#opts.pingIntervalMs);

    const reset = this.#pendingReset;
    this.#pendingReset = false;
    const since = this.#sentSince;
    const me = this.#opts.userId;
    const messages = Array.isArray(frame.messages) ? frame.messages.filter(isObject) : [];
    const changes = (Array.isArray(frame.changes) ? frame.changes : []).map(entryOf).filter(Boolean);
    // A join that brings no room_settings means the room's settings are the
    // defaults: slow mode is off.
    if (!this.#settingsSeen) this.#setSlowMode(0);

    // What the room holds of the requests the old connection left
    // unanswered. A message is matched by its text, but only against one of
    // ours that was never edited: an edited message no longer shows what was
    // sent, and an edit's text is not a message. Edits and deletions are
    // matched against the changes (they touch messages at or before since).
    let ownEdited = false;
    for (const m of messages) {
      if (m.userId !== me) continue;
      if (typeof m.editedAt === "string") {
        // Ours from before since are not the ones in question.
        if (since === null || !(m.id <= since)) ownEdited = true;
        settle(this.#unconfirmed, (op) => op.kind === "edit" && op.id === m.id && op.text === m.text);
      } else {
        settle(this.#unconfirmed, (op) => op.kind === "message" && op.text === m.text);
      }
    }
    for (const c of changes) {
      if (c.type === "reaction") {
        if (c.userId === me) settle(this.#unconfirmed, (op) => op.kind === "react" && op.id === c.messageId && op.emoji === c.emoji);
      } else if (c.type === "message_edited" && c.userId === me) {
        settle(this.#unconfirmed, (op) => op.kind === "edit" && op.id === c.messageId && op.text === c.text);
      } else if (c.type === "message_deleted") {
        // Deleted, by us or by someone else: what a delete wanted is done.
        settle(this.#unconfirmed, (op) => op.kind === "delete" && op.id === c.messageId);
      } else if (c.action && c.by === me) {
        settle(this.#unconfirmed, (op) => op.kind === "moderate" && op.action === c.action && op.userId === c.userId);
      }
    }
    // A slow mode change is done if the room is now as it asked.
    for (;;) {
      const n = this.#unconfirmed.length;
      settle(this.#unconfirmed, (op) => op.kind === "slow_mode" && op.seconds === this.#slowMode);
      if (this.#unconfirmed.length === n) break;
    }
    // The positions after since that the resume shows. A hole means
    // something happened to a message after since that the room folded in
    // (an edit) or left out (a deletion): it may have been one of ours.
    let gap = false;
    if (since !== null && !reset) {
      const shown = new Set([...messages, ...changes].map((x) => x.id).filter((id) => typeof id === "number" && id > since));
      const top = Math.max(since, ...shown);
      gap = shown.size !== top - since;
    }

    if (!resumed || reset) this.#held.clear();
    const fresh = [];
    for (const m of messages) {
      if (this.#remember(m.id, true)) fresh.push(this.#hold(m));
    }
    const news = changes.filter((c) => this.#remember(c.id, false));
    // The messages of this history already show their reactions as they
    // are now: a change's reaction to one of them is not applied again.
    const inFrame = new Set(messages.map((m) => m.id));
    const events = news.map((c) => (c.type === "reaction" ? this.#applyReaction(c, !inFrame.has(c.messageId)) : c));
    for (const c of news) if (c.type === "message_deleted") this.#held.delete(c.messageId);
    this.#emit("history", { messages: fresh, truncated: frame.truncated === true, resumed, reset, changes: news });
    for (const c of events) this.#emit(c.action ? "moderation" : c.type, c);
    // A read waiting for this connection goes out once the room's
    // read_state (right after the history) says where it stands.
    this.#readStateDue = true;
    this.#setStatus("open");

    // What the old connection may have lost goes first, then what was typed
    // while offline. When the resume cannot tell whether the room has a text
    // (a truncated history; an edited message of ours or a hole after since,
    // which may be the text in another form or deleted), the text is
    // reported instead of risking a duplicate. An edit or a delete is
    // reported when the history is truncated or starts over (its id may now
    // name another message).
    const retry = this.#unconfirmed;
    this.#unconfirmed = [];
    const truncated = frame.truncated === true;
    const unsureText = truncated || ownEdited || gap;
    const unsureAction = truncated || reset;
    const report = retry.filter((op) => (isMessage(op) ? unsureText : unsureAction));
    if (report.length) {
      const texts = report.filter(isMessage).map((op) => op.text);
      const actions = report.filter((op) => !isMessage(op)).map((op) => withOp({}, op));
      const err = { code: "unconfirmed", message: `${report.length} message(s), edit(s) or deletion(s) may not have been sent; the connection dropped before the room confirmed them`, texts };
      if (actions.length) err.actions = actions;
      this.#error(err);
    }
    for (const op of retry) if (!report.includes(op)) this.#transmit(op);
    const queued = this.#queue;
    this.#queue = [];
    for (const t of queued) this.#transmit({ kind: "message", text: t });
  }

  #keepalive() {
    if (this.#awaitingPong) {
      // Nothing at all arrived for a whole interval, not even the pong:
      // the connection is half-open.
      this.#drop();
      return;
    }
    this.#awaitingPong = true;
    this.#raw(PING_FRAME);
  }

  // --- frames ---

  #onFrame(data) {
    this.#awaitingPong = false;
    if (typeof data !== "string") return; // the protocol is JSON text
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return;
    }
    if (!f || typeof f !== "object") return;
    if (this.#readStateDue && f.type !== "read_state") {
      // A room that sends no read_state: what waits goes out now.
      this.#readStateDue = false;
      this.#flushRead();
    }
    switch (f.type) {
      case "pong":
        return;
      case "user_joined":
        if (typeof f.userId === "string" && !this.#users.has(f.userId)) {
          this.#users.add(f.userId);
          this.#emit("presence", { users: this.users, joined: f.userId, timestamp: f.timestamp });
        }
        return;
      case "user_left":
        if (this.#typers.has(f.userId)) this.#setTyping(f.userId, false);
        if (this.#users.delete(f.userId)) {
          this.#emit("presence", { users: this.users, left: f.userId, timestamp: f.timestamp });
        }
        return;
      case "presence":
        // A large room sends a summary: users is empty, count says how many
        // are here, and joins and leaves are no longer announced one by one.
        this.#users = new Set(Array.isArray(f.users) ? f.users : []);
        this.#emit("presence", f.truncated
          ? { users: this.users, count: Number(f.count) || 0, truncated: true }
          : { users: this.users });
        return;
      case "history":
        if (!this.#joined) this.#joinedWith(f);
        return;
      case "message": {
        if (f.userId === this.#opts.userId) {
          settle(this.#inflight, (op) => op.kind === "message" && op.text === f.text);
        }
        // Their message is what they were typing.
        if (typeof f.userId === "string" && this.#typers.has(f.userId)) this.#setTyping(f.userId, false);
        if (!this.#remember(f.id, true)) return;
        this.#emit("message", this.#hold(f));
        return;
      }
      case "typing":
        if (typeof f.userId === "string" && f.userId !== "" && f.userId !== this.#opts.userId) this.#setTyping(f.userId, true);
        return;
      case "read": {
        if (typeof f.userId !== "string" || !Number.isSafeInteger(f.id) || f.id < 0) return;
        if (f.userId === this.#opts.userId) {
          // Ours (the room sends a user's marker to the other users only,
          // but should one come, this tab need not say it again).
          this.#readAcked = Math.max(this.#readAcked, f.id);
        } else {
          if (f.id <= (this.#reads.get(f.userId) ?? -1)) return; // reads only move forward
          this.#reads.set(f.userId, f.id);
        }
        this.#emit("read", { userId: f.userId, id: f.id });
        return;
      }
      case "read_state": {
        const lastRead = Number.isSafeInteger(f.lastRead) && f.lastRead > 0 ? f.lastRead : 0;
        const unread = Number.isSafeInteger(f.unread) && f.unread > 0 ? f.unread : 0;
        this.#readAcked = Math.max(this.#readAcked, lastRead);
        this.#readStateDue = false;
        const e = { lastRead, unread };
        if (f.capped === true) e.capped = true;
        this.#emit("read_state", e);
        this.#flushRead(); // a markRead ahead of the room's goes out now
        return;
      }
      case "reaction": {
        const r = reactionOf(f);
        if (!r) return;
        if (r.userId === this.#opts.userId) {
          settle(this.#inflight, (op) => op.kind === "react" && op.id === r.messageId && op.emoji === r.emoji);
        }
        if (!this.#remember(r.id, false)) return;
        this.#emit("reaction", this.#applyReaction(r));
        return;
      }
      case "message_edited":
      case "message_deleted": {
        const c = changeOf(f);
        if (!c) return;
        const me = this.#opts.userId;
        if (c.type === "message_edited" && c.userId === me) {
          settle(this.#inflight, (op) => op.kind === "edit" && op.id === c.messageId && op.text === c.text);
        } else if (c.type === "message_deleted" && c.by === me) {
          settle(this.#inflight, (op) => op.kind === "delete" && op.id === c.messageId);
        }
        if (!this.#remember(c.id, false)) return;
        if (c.type === "message_deleted") this.#held.delete(c.messageId); // and its reactions with it
        this.#emit(c.type, c);
        return;
      }
      case "user_kicked":
      case "user_banned":
      case "user_unbanned":
      case "user_muted":
      case "user_unmuted": {
        const e = moderationOf(f);
        if (!e) return;
        const me = this.#opts.userId;
        if (e.by === me) {
          settle(this.#inflight, (op) => op.kind === "moderate" && op.action === e.action && op.userId === e.userId);
        }
        if (e.userId === me && (e.action === "kick" || e.action === "ban")) {
          // The close that follows says only "kicked" or "banned".
          this.#against = { ...e, code: e.action === "kick" ? "kicked" : "banned" };
        }
        if (!this.#remember(e.id, false)) return;
        this.#emit("moderation", e);
        return;
      }
      case "room_settings": {
        const s = isSeconds(f.slowModeSeconds) ? f.slowModeSeconds : 0;
        this.#settingsSeen = true;
        settle(this.#inflight, (op) => op.kind === "slow_mode" && op.seconds === s);
        this.#setSlowMode(s, true);
        return;
      }
      case "error":
        this.#onError(f);
        return;
    }
  }

  // #setSlowMode records the room's slow mode and tells about it: always
  // when the room said so (a moderator's confirmation), else on a change.
  #setSlowMode(seconds, told = false) {
    const previous = this.#slowMode;
    if (!told && previous === seconds) return;
    this.#slowMode = seconds;
    this.#emit("room_settings", { slowModeSeconds: seconds, previous });
  }

  #onError(f) {
    const err = { code: String(f.code ?? "unknown"), message: String(f.message ?? "") };
    if (typeof f.retryAfterMs === "number") err.retryAfterMs = f.retryAfterMs;
    if ("until" in f) err.until = typeof f.until === "string" ? f.until : null;
    if (err.code === "banned") {
      // An open-mode join of a banned user; the room closes with 4003 next.
      this.#against = { code: "banned", until: err.until ?? null, message: err.message || undefined };
      const ws = this.#ws;
      if (ws) {
        detach(ws);
        try { ws.close(1000, "banned"); } catch { /* already closing */ }
      }
      this.#lost(CLOSE_MODERATED, "banned");
      return;
    }
    if (!this.#joined) {
      if (err.code === "invalid_since") {
        // The room no longer knows our resume point (its storage was reset):
        // start over from its latest messages, forgetting the old ids.
        this.#lastId = null;
        this.#oldestId = null;
        this.#seen.clear();
        this.#held.clear();
        this.#reads.clear();
        this.#readWanted = this.#readAcked = this.#readSent = 0;
        this.#pendingReset = true;
        this.#sendJoin();
        return;
      }
      if (FATAL_JOIN_ERRORS.has(err.code)) {
        err.fatal = true;
        this.#error(err);
        this.close();
        return;
      }
      if (err.code === "storage_unavailable") {
        // Joined without history: the resume point is unknown to us, so try
        // the whole join again later rather than risk a gap.
        this.#error(err);
        this.#drop();
        return;
      }
      this.#error(err);
      return;
    }
    if (err.code === "invalid_id" && this.#readSent > 0) {
      // A read ahead of the room's last position (a read gets no other
      // answer). Edits, deletions and reactions check their ids before they
      // go, so this one cannot be theirs, even while one is in flight.
      err.action = "read";
      err.messageId = this.#readSent;
    } else {
      const i = this.#inflight.findIndex((op) => ANSWERS[op.kind].has(err.code));
      if (i >= 0) withOp(err, this.#inflight.splice(i, 1)[0]);
    }
    this.#error(err);
  }

  // --- helpers ---

  // #transmit sends a request and remembers it until the room answers.
  #transmit(op) {
    this.#inflight.push(op);
    let frame;
    switch (op.kind) {
      case "message":
        frame = { type: "message", text: op.text };
        // The room ends our typing throttle with a message (the others
        // stop showing us as typing): so does the client.
        if (this.#typingTimer !== null) this.#timers.clearTimeout(this.#typingTimer);
        this.#typingTimer = null;
        break;
      case "edit": frame = { type: "edit", id: op.id, text: op.text }; break;
      case "delete": frame = { type: "delete", id: op.id }; break;
      case "slow_mode": frame = { type: "slow_mode", seconds: op.seconds }; break;
      case "react": frame = { type: "react", id: op.id, emoji: op.emoji }; break;
      default: {
        frame = { type: op.action, userId: op.userId };
        if (op.seconds !== undefined) frame.seconds = op.seconds;
        if (op.reason !== undefined) frame.reason = op.reason;
      }
    }
    this.#raw(JSON.stringify(frame));
  }

  #raw(frame) {
    try {
      this.#ws?.send(frame);
    } catch {
      // The socket is closing; its close event will follow and trigger the
      // reconnect, and what was in flight is checked then.
    }
  }

  // #remember records a position and reports whether it is new; message
  // says it is a message's id (which loadOlder pages back from).
  #remember(id, message) {
    if (typeof id !== "number") return true; // not ours to judge
    if (this.#seen.has(id)) return false;
    this.#seen.add(id);
    if (this.#seen.size > this.#opts.dedupeWindow) {
      this.#seen.delete(this.#seen.values().next().value);
    }
    if (this.#lastId === null || id > this.#lastId) this.#lastId = id;
    if (message && (this.#oldestId === null || id < this.#oldestId)) this.#oldestId = id;
    return true;
  }

  #setStatus(status, extra = {}) {
    if (this.#status === status && status !== "reconnecting") return;
    this.#status = status;
    this.#emit("status", { status, ...extra });
  }

  #error(err) {
    this.#emit("error", err);
  }

  #emit(type, detail) {
    for (const fn of [...(this.#listeners.get(type) ?? [])]) {
      try {
        fn(detail);
      } catch (e) {
        // A listener's bug must not break the connection logic.
        globalThis.reportError?.(e) ?? globalThis.console?.error(e);
      }
    }
  }
}

// settle removes from list the oldest request that pred matches: the room
// has answered it.
function settle(list, pred) {
  const i = list.findIndex(pred);
  if (i >= 0) list.splice(i, 1);
}

const isMessage = (op) => op.kind === "message";
const isObject = (x) => x !== null && typeof x === "object";

// withOp adds to err what it says about a request: the text of a message;
// the action, message id (and text) of an edit or a delete; the action,
// userId (and seconds, reason) of a moderation; the seconds of slow mode.
function withOp(err, op) {
  if (op.kind === "message") {
    err.text = op.text;
    return err;
  }
  if (op.kind === "moderate") {
    err.action = op.action;
    err.userId = op.userId;
    if (op.seconds !== undefined) err.seconds = op.seconds;
    if (op.reason !== undefined) err.reason = op.reason;
    return err;
  }
  if (op.kind === "slow_mode") {
    err.action = "slow_mode";
    err.seconds = op.seconds;
    return err;
  }
  err.action = op.kind;
  err.messageId = op.id;
  if (op.kind === "edit") err.text = op.text;
  if (op.kind === "react") err.emoji = op.emoji;
  return err;
}

// what names a request in a sentence.
function what(op) {
  if (op.kind === "moderate") return op.action;
  if (op.kind === "slow_mode") return "slow mode change";
  if (op.kind === "react") return "reaction";
  return op.kind;
}

const isSeconds = (n) => Number.isSafeInteger(n) && n >= 0;

function checkId(id, what) {
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new TypeError(`ChatClient.${what} needs a message id (a positive integer)`);
  }
}

// messageOf is the message a caller sees: editedAt only when it was edited.
function messageOf({ id, userId, text, timestamp, editedAt }) {
  const m = { id, userId, text, timestamp };
  if (typeof editedAt === "string") m.editedAt = editedAt;
  return m;
}

// changeOf is the event of a message_edited or message_deleted frame, or
// null for anything else.
function changeOf(f) {
  if (!isObject(f) || typeof f.messageId !== "number") return null;
  if (f.type === "message_edited") {
    const { id, messageId, userId, text, editedAt } = f;
    return { type: f.type, id, messageId, userId, text, editedAt };
  }
  if (f.type === "message_deleted") {
    const { id, messageId, by, timestamp } = f;
    return { type: f.type, id, messageId, by, timestamp };
  }
  return null;
}

// moderationOf is the event of a moderation frame (user_kicked, ...), or
// null for anything else: {type, action, id, userId, by, timestamp}, with
// reason when given, and until (a timestamp, or null: until lifted) for a
// ban or a mute.
function moderationOf(f) {
  if (!isObject(f) || !Object.hasOwn(MODERATION_ACTIONS, f.type) || typeof f.userId !== "string") return null;
  const e = { type: f.type, action: MODERATION_ACTIONS[f.type], id: f.id, userId: f.userId, by: f.by, timestamp: f.timestamp };
  if (typeof f.reason === "string") e.reason = f.reason;
  if (f.type === "user_banned" || f.type === "user_muted") e.until = typeof f.until === "string" ? f.until : null;
  return e;
}

// reactionOf is the event of a reaction frame, or null for anything else:
// {type, id, messageId, emoji, userId, added}.
function reactionOf(f) {
  if (!isObject(f) || f.type !== "reaction" || typeof f.messageId !== "number" || typeof f.emoji !== "string"
    || typeof f.userId !== "string") return null;
  return { type: "reaction", id: f.id, messageId: f.messageId, emoji: f.emoji, userId: f.userId, added: f.added === true };
}

// summary is a message's reactions as callers see them, oldest emoji first.
function summary(state) {
  return [...state].map(([emoji, { count, users, mine }]) => ({ emoji, count, users: [...users], mine }));
}

const utf8Length = (s) => new TextEncoder().encode(s).length;
const segmenter = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
// graphemeCount counts user-perceived characters (without Intl.Segmenter it
// does not judge and says 1: the room has the last word).
const graphemeCount = (s) => (segmenter ? [...segmenter.segment(s)].length : 1);

// entryOf is what a resume's "changes" entry is: an edit, a deletion, a
// moderation event or a reaction, or null.
const entryOf = (f) => changeOf(f) ?? moderationOf(f) ?? reactionOf(f);

function detach(ws) {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
}
