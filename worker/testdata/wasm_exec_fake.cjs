// wasm_exec_fake.cjs runs the worker package's tests (GOOS=js GOARCH=wasm go
// test, through scripts/go_js_wasm_exec) under Node with a fake of the
// Workers runtime: it is Go's own wasm_exec_node.js, plus what glue.mjs gives
// the Go program (globalThis.context with the glue's helpers, the gochat Wasm
// imports) and the runtime classes Go touches at start-up. The fakes record
// what Go asked of them, so the tests can read it back through syscall/js.
"use strict";

if (process.argv.length < 3) {
  console.error("usage: wasm_exec_fake.cjs [wasm binary] [arguments]");
  process.exit(1);
}

globalThis.require = require;
globalThis.fs = require("fs");
globalThis.path = require("path");
globalThis.TextEncoder = require("util").TextEncoder;
globalThis.TextDecoder = require("util").TextDecoder;
globalThis.performance ??= require("perf_hooks").performance;
globalThis.crypto ??= require("crypto");

require(process.env.GOROOT_WASM_EXEC);

const decoder = new TextDecoder();
let go;
function text(ptr, len) {
  return decoder.decode(new Uint8Array(go._inst.exports.mem.buffer, ptr, len));
}

// The runtime's classes Go uses at start-up.
globalThis.WebSocketRequestResponsePair = class {
  constructor(request, response) {
    this.request = request;
    this.response = response;
  }
};

// fake makes runtime objects that record what was done to them.
const fake = {
  // socket is a hibernatable WebSocket.
  socket(name, attachment = null, readyState = 1) {
    return {
      name,
      readyState,
      sent: [],
      closes: [],
      attachment,
      failSend: false,
      send(data) {
        if (this.failSend) throw new Error("send on a closed socket");
        this.sent.push(data);
      },
      close(code, reason) {
        this.closes.push([code, reason]);
        this.readyState = 2;
      },
      serializeAttachment(v) {
        this.attachment = v;
      },
      deserializeAttachment() {
        return this.attachment;
      },
    };
  },
  // state is a DurableObjectState over sockets, with a SQL API that
  // records its statements and answers from a table of canned rows.
  state(id, sockets = []) {
    return {
      id: { toString: () => id },
      sockets,
      autoResponse: undefined,
      autoTimes: new Map(),
      alarms: [],
      acceptWebSocket(ws) {
        this.sockets.push(ws);
      },
      getWebSockets() {
        return this.sockets;
      },
      setWebSocketAutoResponse(pair) {
        this.autoResponse = pair;
      },
      getWebSocketAutoResponseTimestamp(ws) {
        const t = this.autoTimes.get(ws);
        return t === undefined ? null : new Date(t);
      },
      storage: {
        alarms: [],
        setAlarm(at) {
          this.alarms.push(["set", at]);
        },
        deleteAlarm() {
          this.alarms.push(["delete"]);
        },
        getAlarm() {
          return Promise.resolve(null);
        },
        sql: {
          statements: [], // every statement run, with its bindings
          answers: [], // [query prefix, first column of the only row, or an Error to throw]
          exec(query, ...bindings) {
            this.statements.push([query, ...bindings]);
            for (const [prefix, answer] of this.answers) {
              if (!query.trimStart().startsWith(prefix)) continue;
              if (answer instanceof Error) throw answer;
              return { raw: () => [[answer]] };
            }
            return { raw: () => [] };
          },
        },
      },
    };
  },
};

// The glue's helpers, as glue.mjs defines them, over the fakes. Only what
// the tests exercise differs: current is the state a test sets.
globalThis.context = {
  fake,
  current: undefined, // the object whose event runs: what the imports act on
  fanouts: [], // every list setFanout set
  failed: undefined,
  statements: [],
  event: { request: undefined, env: undefined, ctx: undefined, socket: undefined, accepted: undefined, answer: undefined },
  sqlValue(sql, query, ...bindings) {
    for (const row of sql.exec(query, ...bindings).raw()) return row[0];
  },
  sockets(ctx) {
    const all = ctx.getWebSockets().filter((ws) => ws.readyState === 1 || ws.readyState === 2);
    let json = "[";
    let states = "";
    for (let i = 0; i < all.length; i++) {
      json += (i ? "," : "") + (all[i].deserializeAttachment() ?? "null");
      states += all[i].readyState === 1 ? "o" : "c";
    }
    return [all, states + json + "]"];
  },
  select(list, ptr, n) {
    const idx = new Int32Array(go._inst.exports.mem.buffer, ptr, n);
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = list[idx[i]];
    return out;
  },
  ensureAlarm(ctx, at) {
    ctx.storage.alarms.push(["ensure", at]);
  },
  setFanout(sockets) {
    context.fanouts.push(sockets);
    context.current.gochatFanout = sockets;
  },
  sendText(ws, ptr, len) {
    ws.send(text(ptr, len));
  },
  attachText(ws, ptr, len) {
    ws.serializeAttachment(text(ptr, len));
  },
  failedSends() {
    return context.failed;
  },
  accept(ctx, protocol) {
    const ws = fake.socket("accepted");
    ctx.acceptWebSocket(ws);
    context.event.accepted = ws;
    return { status: 101, webSocket: "client end", protocol };
  },
  closeText(ws, code, ptr, len) {
    ws.close(code, text(ptr, len));
  },
  forward(request, headers, ns, namePtr, nameLen, limiter, key, denied) {
    return { forwarded: true, room: text(namePtr, nameLen), headers: Object.fromEntries(headers), limiter, key, denied };
  },
};

go = new Go();
go.argv = process.argv.slice(2);
go.env = Object.assign({ TMPDIR: require("os").tmpdir() }, process.env);
go.exit = process.exit;
go.importObject.gochat = {
  fanout(ptr, len, skip) {
    const data = text(ptr, len);
    const sockets = context.current.gochatFanout;
    context.failed = undefined;
    for (let i = 0; i < sockets.length; i++) {
      if (i === skip) continue;
      try {
        sockets[i].send(data);
      } catch {
        (context.failed ??= []).push(i);
      }
    }
    return context.failed === undefined ? 0 : context.failed.length;
  },
  execText(stmt, ptr, len) {
    try {
      context.sqlValue(context.current.ctx.storage.sql, context.statements[stmt], text(ptr, len));
      return 0;
    } catch (err) {
      context.sqlError = String(err);
      return 1;
    }
  },
};
WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject)
  .then((result) => {
    process.on("exit", (code) => {
      if (code === 0 && !go.exited) {
        go._pendingEvent = { id: 0 };
        go._resume();
      }
    });
    return go.run(result.instance);
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
