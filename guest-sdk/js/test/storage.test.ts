// Storage, connections and room calls over the fake host.

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { Connection, HostError, Room, Storage } from "../src/index.js";
import { host } from "./fake-host.ts";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const storage = new Storage();

beforeEach(() => host.reset());

test("values are stored as JSON text and read back", async () => {
  await storage.put("count:heart", 3);
  await storage.put("doc", { a: [1, "x"] });
  assert.equal(text(host.kv.get("count:heart")), "3");
  assert.equal(await storage.get("count:heart"), 3);
  assert.deepEqual(await storage.get("doc"), { a: [1, "x"] });
  assert.equal(await storage.get("missing"), undefined);
});

test("batch calls take arrays and objects and answer maps", async () => {
  await storage.put({ b: 2, a: 1, c: 3 });
  assert.deepEqual(await storage.get(["c", "a", "zz"]), new Map([["a", 1], ["c", 3]]));
  assert.deepEqual([...(await storage.list({ prefix: "", reverse: true, limit: 2 })).keys()], ["c", "b"]);
  assert.equal(await storage.delete("a"), true);
  assert.equal(await storage.delete("a"), false);
  assert.equal(await storage.delete(["b", "c", "nope"]), 2);
  await storage.put("x", 1);
  await storage.deleteAll();
  assert.equal(host.kv.size, 0);
});

test("what JSON cannot hold is refused with the key named", async () => {
  await assert.rejects(storage.put("k", undefined), /cannot store undefined under "k"/);
  host.kv.set("raw", new TextEncoder().encode("not json"));
  await assert.rejects(storage.get("raw"), /stored value of "raw" is not JSON/);
});

test("a refused write rejects with the host's reason", async () => {
  host.valueLimit = 4;
  try {
    await assert.rejects(storage.put("big", "0123456789"), (error: unknown) => {
      assert.ok(error instanceof HostError);
      assert.equal(error.kind, "value-too-large");
      assert.match(error.message, /value is longer than 4 bytes/);
      return true;
    });
  } finally {
    host.valueLimit = 131072;
  }
});

test("the alarm takes a Date or milliseconds and refuses nonsense", async () => {
  assert.equal(await storage.getAlarm(), null);
  await storage.setAlarm(new Date(5000));
  assert.equal(host.alarm, 5000n);
  assert.equal(await storage.getAlarm(), 5000);
  await assert.rejects(storage.setAlarm(-1), RangeError);
  await storage.deleteAlarm();
  assert.equal(await storage.getAlarm(), null);
});

test("connection state is JSON, set by value or function, cleared with null", () => {
  host.conns = [{ id: "a", url: "/parties/talks/room-1?_pk=a", tags: [] }];
  const conn = new Connection<{ n: number }>("a", "/");
  assert.equal(conn.state, null);
  conn.setState({ n: 1 });
  assert.equal(text(host.conns[0].state), '{"n":1}');
  assert.deepEqual(conn.setState((prev) => ({ n: (prev?.n ?? 0) + 1 })), { n: 2 });
  assert.deepEqual(conn.state, { n: 2 });
  conn.setState(null);
  assert.equal(host.conns[0].state, undefined);
  assert.throws(() => conn.setState({ n: "x".repeat(3000) as unknown as number }), /state-too-large|longer than 2048/);
});

test("sends and closes to a closed connection are silent; binary stays binary", () => {
  host.conns = [{ id: "a", url: "/", tags: [] }];
  new Connection("a", "/").send(new Uint8Array([1, 2]));
  assert.deepEqual(host.sent, [{ to: "a", msg: { tag: "binary", val: new Uint8Array([1, 2]) } }]);
  new Connection("gone", "/").send("hi");
  new Connection("gone", "/").close(1000, "bye");
  assert.equal(host.sent.length, 1);
  assert.equal(connectionClosedState(), null);
});

function connectionClosedState() {
  return new Connection("gone", "/").state;
}

test("the room knows its id, party, variables and connections", () => {
  host.conns = [
    { id: "a", url: "/a", tags: ["admin"] },
    { id: "b", url: "/b", tags: [] },
  ];
  const room = new Room();
  assert.equal(room.id, "room-1");
  assert.equal(room.name, "talks");
  assert.deepEqual(room.env, { GREETING: "hello" });
  room.broadcast("hi", ["a"]);
  assert.deepEqual(host.sent, [{ to: "b", msg: { tag: "text", val: "hi" } }]);
  assert.equal(room.getConnection("b")?.uri, "/b");
  assert.equal(room.getConnection("zz"), undefined);
  assert.deepEqual([...room.getConnections("admin")].map((c) => c.id), ["a"]);
});

test("calls to other rooms pass the request and answer a Response", async () => {
  host.answer = { status: 201, headers: [["x-a", "1"]], body: new TextEncoder().encode('{"ok":true}') };
  const lobby = new Room().context.parties.lobby.get("main");
  const answer = await lobby.fetch("/report", { headers: { "Content-Type": "application/json" }, body: "{}" });
  assert.equal(answer.status, 201);
  assert.equal(answer.headers.get("x-a"), "1");
  assert.deepEqual(await answer.json(), { ok: true });
  const call = host.calls[0] as { party: string; room: string; request: { method: string; url: string; headers: unknown } };
  assert.equal(call.party, "lobby");
  assert.equal(call.room, "main");
  assert.equal(call.request.method, "POST");
  assert.equal(call.request.url, "/report");
  assert.deepEqual(call.request.headers, [["content-type", "application/json"]]);

  host.callError = { tag: "cycle" };
  await assert.rejects(lobby.fetch(), (error: unknown) => error instanceof HostError && error.kind === "cycle");
  assert.equal((host.calls[1] as { request: { url: string } }).request.url, "/parties/lobby/main");
});
