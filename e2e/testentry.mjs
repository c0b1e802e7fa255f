// testentry.mjs wraps the real worker for integration tests only. It is the
// main of e2e/wrangler.toml and is never part of the deployed config: it adds
//   /__test/evict        evict every Durable Object now (workerd:unsafe)
//   /__test/constructed  how many times a ChatRoom constructor has run
import { evictAll } from "./evict.mjs";
import worker, { ChatRoom as Base } from "../worker/glue.mjs";

let constructed = 0;

export class ChatRoom extends Base {
  constructor(ctx, env) {
    super(ctx, env);
    constructed++;
  }
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/__test/evict") {
      return evictAll();
    }
    if (pathname === "/__test/constructed") {
      return Response.json({ constructed });
    }
    return worker.fetch(request, env, ctx);
  },
};
