// evict.mjs is the test-only forced eviction shared by e2e/testentry.mjs and
// bench/entry.mjs: every Durable Object leaves memory now, keeping its
// hibernatable sockets, as workerd does after 10 s idle. It needs the newer
// workerd and the unsafe_module flag, and is never part of the deployed config.
export async function evictAll() {
  // A non-literal specifier: esbuild cannot resolve workerd's built-ins.
  const unsafe = await import(["workerd", "unsafe"].join(":"));
  await unsafe.default.evictAllDurableObjects({ webSockets: "hibernate" });
  return Response.json({ evicted: true });
}
