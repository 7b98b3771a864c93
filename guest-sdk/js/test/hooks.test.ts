// The bridge from the WIT exports to a server class, over the fake host.

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { bindServer } from "../src/hooks.js";
import { toRequest } from "../src/http.js";
import type * as Party from "../src/index.js";
import { host } from "./fake-host.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const request = (method: string, url: string, headers: Array<[string, string]> = [], body = "") => ({
  method,
  url,
  headers: [["host", "example.test"], ...headers] as Array<[string, string]>,
  body: bytes(body),
});

beforeEach(() => host.reset());

class Echo implements Party.Server {
  static made = 0;
  seen: unknown[] = [];
  constructor(readonly room: Party.Room) {
    Echo.made += 1;
  }
  onStart() {
    this.seen.push("start");
  }
  getConnectionTags(conn: Party.Connection, ctx: Party.ConnectionContext) {
    return [new URL(ctx.request.url).searchParams.get("role") ?? "guest"];
  }
  onConnect(conn: Party.Connection, ctx: Party.ConnectionContext) {
    conn.send(`hello ${conn.id} at ${ctx.request.url}`);
  }
  async onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
    if (message === "boom") throw new Error("kaboom");
    const shown = typeof message === "string" ? message : `${message.byteLength} bytes`;
    this.room.broadcast(`${sender.id}: ${shown}`);
  }
  async onRequest(req: Party.Request) {
    return Response.json({ method: req.method, body: await req.text() }, { status: 201 });
  }
  static onBeforeConnect(req: Party.Request) {
    if (!req.headers.get("authorization")) return new Response("no", { status: 401 });
    const admitted = new Request(req);
    admitted.headers.set("x-user", "ada");
    return admitted;
  }
}

test("the class is made once, on start, and hooks reach it", async () => {
  const hooks = bindServer(Echo);
  assert.equal(Echo.made, 0, "nothing runs at module load");
  host.conns = [{ id: "a", url: "/parties/talks/room-1?role=admin", tags: [] }];
  await hooks.onStart();
  await hooks.onConnect("a", { url: "/parties/talks/room-1?role=admin", headers: [["host", "example.test"]] });
  assert.equal(Echo.made, 1);
  assert.deepEqual(host.conns[0].tags, ["admin"]);
  assert.deepEqual(host.sent[0].msg, {
    tag: "text",
    val: "hello a at http://example.test/parties/talks/room-1?role=admin",
  });

  await hooks.onMessage("a", { tag: "binary", val: new Uint8Array(3) });
  assert.deepEqual(host.sent[1].msg, { tag: "text", val: "a: 3 bytes" });
});

test("a hook that throws fails with the error's message and stack", async () => {
  const hooks = bindServer(Echo);
  host.conns = [{ id: "a", url: "/", tags: [] }];
  await hooks.onStart();
  await assert.rejects(hooks.onMessage("a", { tag: "text", val: "boom" }), (error: unknown) => {
    assert.equal(typeof error, "string", "the WIT err is a string");
    assert.match(error as string, /^Error: kaboom\n/);
    return true;
  });
});

test("requests become Requests and Responses become records", async () => {
  const hooks = bindServer(Echo);
  await hooks.onStart();
  const answer = await hooks.onRequest(request("POST", "/parties/talks/room-1", [], "hi"));
  assert.equal(answer.status, 201);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(answer.body)), { method: "POST", body: "hi" });
  assert.ok(answer.headers.some(([name, value]) => name === "content-type" && value.includes("json")));

  class Silent implements Party.Server {
    constructor(readonly room: Party.Room) {}
  }
  const silent = bindServer(Silent);
  assert.equal((await silent.onRequest(request("GET", "/x"))).status, 404);
});

test("before hooks reject with a Response or admit with added headers", async () => {
  const hooks = bindServer(Echo);
  const refused = await hooks.onBeforeConnect(request("GET", "/parties/talks/r"));
  assert.equal(refused.tag, "reject");
  assert.equal(refused.tag === "reject" && refused.val.status, 401);

  const admitted = await hooks.onBeforeConnect(request("GET", "/parties/talks/r", [["authorization", "x"]]));
  assert.deepEqual(admitted, { tag: "allow", val: [["x-user", "ada"]] });

  assert.deepEqual(await hooks.onBeforeRequest(request("GET", "/")), { tag: "allow", val: [] });
});

test("a Host header that is not an authority cannot change the URL a room sees", () => {
  const url = (host: string) =>
    new URL(toRequest({ method: "GET", url: "/parties/p/r?a=1", headers: [["host", host]], body: new Uint8Array() }).url);
  assert.equal(url("example.test:1999").host, "example.test:1999");
  assert.equal(url("[::1]:80").hostname, "[::1]");
  for (const bad of ["x/?depth=1&z=", "a b/c?d", "x#frag", "x?y", ""]) {
    const seen = url(bad);
    assert.equal(seen.host, "localhost", bad);
    assert.equal(seen.pathname, "/parties/p/r", bad);
    assert.equal(seen.search, "?a=1", bad);
  }
});
