// Fakes for driving ChatClient in Node: a clock whose time moves only when a
// test says so, and a WebSocket class that records what the client sent and
// lets the test play the server; clientHarness puts a ChatClient on them.
import { ChatClient } from "../../worker/public/chat-client.js";

// FakeClock implements the timer functions ChatClient takes as options.
export class FakeClock {
  now = 0;
  #next = 1;
  #timers = new Map(); // id -> {at, fn, every}

  timers() {
    return {
      setTimeout: (fn, ms) => this.#add(fn, ms, 0),
      clearTimeout: (id) => this.#timers.delete(id),
      setInterval: (fn, ms) => this.#add(fn, ms, ms),
      clearInterval: (id) => this.#timers.delete(id),
    };
  }

  #add(fn, ms, every) {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + Math.max(0, ms), fn, every });
    return id;
  }

  /** pending lists the delays of the armed timers, soonest first. */
  pending() {
    return [...this.#timers.values()].map((t) => t.at - this.now).sort((a, b) => a - b);
  }

  /** advance moves time forward by ms, firing every timer that falls due. */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      let id = null;
      let due = null;
      for (const [k, t] of this.#timers) {
        if (t.at <= end && (due === null || t.at < due.at)) [id, due] = [k, t];
      }
      if (due === null) break;
      this.now = due.at;
      if (due.every) due.at += due.every;
      else this.#timers.delete(id);
      due.fn();
    }
    this.now = end;
  }
}

// fakeSocketClass returns a WebSocket stand-in class and the list of
// instances the client created, newest last.
export function fakeSocketClass() {
  const sockets = [];
  class FakeSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    readyState = 0;
    sent = [];
    closedWith = null;
    onopen = null;
    onmessage = null;
    onclose = null;
    onerror = null;
    constructor(url, protocols) {
      this.url = url;
      // What the client offered, as given (undefined when it offered none).
      this.protocols = protocols;
      this.protocol = ""; // the server's choice, set by open()
      sockets.push(this);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error("InvalidStateError: not open");
      this.sent.push(data);
    }
    close(code = 1000, reason = "") {
      this.closedWith = { code, reason };
      this.readyState = 3;
    }
    // --- the server's side ---
    open(protocol = Array.isArray(this.protocols) ? this.protocols[0] : "") {
      this.protocol = protocol;
      this.readyState = 1;
      this.onopen?.({});
    }
    receive(frame) {
      this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
    }
    /** drop ends the connection from the far side. */
    drop(code = 1006, reason = "") {
      this.readyState = 3;
      if (code === 1006) this.onerror?.({});
      this.onclose?.({ code, reason, wasClean: code !== 1006 });
    }
    /** frames are the parsed frames the client sent. */
    frames() {
      return this.sent.map((s) => JSON.parse(s));
    }
  }
  return { FakeSocket, sockets };
}

// fakeFetch returns a fetch stand-in that records each request and answers
// with respond(url, init), which returns {status, body} (or a promise of it).
export function fakeFetch(respond) {
  const calls = [];
  async function fetch(url, init = {}) {
    calls.push({ url: String(url), init });
    const { status = 200, body = {} } = await respond(new URL(url), init);
    return {
      status,
      ok: status >= 200 && status < 300,
      json: async () => (typeof body === "string" ? JSON.parse(body) : body),
    };
  }
  return { fetch, calls };
}

/**
 * clientHarness makes a ChatClient for ada in room general on a fake clock and
 * fake sockets, with no jitter unless opts say so (opts override any option).
 * It records each event of the given types as { [key]: type, ...detail }:
 * of(type) lists those of one type, last() is the newest socket.
 */
export function clientHarness({ types, key = "type", ...opts }) {
  const clock = new FakeClock();
  const { FakeSocket, sockets } = fakeSocketClass();
  const events = [];
  const client = new ChatClient({
    userId: "ada",
    room: "general",
    baseUrl: "http://127.0.0.1:9999/",
    WebSocket: FakeSocket,
    timers: clock.timers(),
    random: () => 1,
    ...opts,
  });
  for (const type of types) {
    client.on(type, (detail) => events.push({ [key]: type, ...detail }));
  }
  const of = (type) => events.filter((e) => e[key] === type);
  const last = () => sockets[sockets.length - 1];
  return { client, clock, sockets, events, of, last };
}
