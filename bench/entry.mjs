// entry.mjs is the main of bench/wrangler.toml, the benchmark-only config
// served by `make bench` and chatbench's end-to-end test; it is never
// deployed. It re-exports the real worker (default fetch and the Go
// ChatRoom) and adds:
//   /js/api/chat[/{room}]  the plain-JavaScript baseline room (JsChatRoom)
//   /__test/evict          evict every Durable Object now (workerd:unsafe)
//   /__test/constructed    how many times each room class was constructed
import { evictAll } from "../e2e/evict.mjs";
import worker, { ChatRoom as GoRoom } from "../worker/glue.mjs";
import { JsChatRoom as JsRoom } from "./js-room.mjs";

const constructed = { go: 0, js: 0 };

export class ChatRoom extends GoRoom {
  constructor(ctx, env) {
    super(ctx, env);
    constructed.go++;
  }
}

export class JsChatRoom extends JsRoom {
  constructor(ctx, env) {
    super(ctx, env);
    constructed.js++;
  }
}

// The same room rule as the Go router: /js/api/chat is the lobby.
const JS_PREFIX = "/js/api/chat";
const ROOM = /^[A-Za-z0-9_-]{1,64}$/;

function jsonError(status, error, message, headers) {
  return Response.json({ error, message }, { status, headers });
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/__test/evict") {
      return evictAll();
    }
    if (pathname === "/__test/constructed") {
      return Response.json(constructed);
    }
    if (pathname === JS_PREFIX || pathname.startsWith(JS_PREFIX + "/")) {
      const room = pathname === JS_PREFIX ? "lobby" : pathname.slice(JS_PREFIX.length + 1);
      if (!ROOM.test(room)) {
        return jsonError(400, "invalid_room", "room names are 1-64 characters of A-Z, a-z, 0-9, _ and -");
      }
      if (request.method !== "GET") {
        return jsonError(405, "method_not_allowed", "use GET", { allow: "GET" });
      }
      if ((request.headers.get("Upgrade") || "").trim().toLowerCase() !== "websocket") {
        return jsonError(426, "upgrade_required", "this endpoint speaks WebSocket; send Upgrade: websocket", {
          upgrade: "websocket",
        });
      }
      const ns = env.JS_CHAT_ROOM;
      return ns.get(ns.idFromName(room)).fetch(request);
    }
    return worker.fetch(request, env, ctx);
  },
};
