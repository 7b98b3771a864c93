// Drives the `yjs` party of a partyhost with the unmodified y-partykit
// provider (Yjs from npm) and prints what the clients ended with as one JSON
// line on stdout. Exits non-zero with the reason on stderr otherwise.
//
// Usage: node yjs-providers.mjs <host:port> <mode> <room> [arg]
//   edit <room> <rounds>  two providers insert concurrently into the Y.Text
//                         "text" until both hold every insert; prints
//                         {text, sawPeer} once they agree
//   big <room> <chars>    one provider inserts <chars> characters at once; a
//                         second one joins and must receive all of them;
//                         prints {length, sha256}
//   read <room>           a new provider joins and syncs; prints
//                         {text, length, sha256} (text only when short)
//   presence <room>       a provider "stayer" joins, prints {"ready":true},
//                         waits for a line on stdin, then a second provider
//                         joins and must learn of "stayer" from the room;
//                         prints {sawStayer}
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import * as Y from "yjs";
import YPartyKitProvider from "y-partykit/provider";

const [host, mode, room, arg] = process.argv.slice(2);
const fail = (why) => {
  console.error(`yjs client failed: ${why}`);
  process.exit(1);
};
setTimeout(() => fail(`timed out in mode ${mode}`), 60000).unref();

/** Connects a provider with a fresh document and waits until it has synced. */
async function join(name) {
  const doc = new Y.Doc();
  const provider = new YPartyKitProvider(host, room, doc, {
    party: "yjs",
    WebSocketPolyfill: WebSocket,
    disableBc: true,
  });
  provider.awareness.setLocalState({ user: name });
  provider.on("connection-error", () => fail(`${name} could not connect`));
  await new Promise((resolve) => {
    if (provider.synced) return resolve();
    provider.once("synced", resolve);
  });
  return { doc, provider, text: doc.getText("text") };
}

/** Resolves once `check()` holds, re-checking on every document update. */
function until(clients, check) {
  return new Promise((resolve) => {
    const test = () => {
      if (!check()) return;
      for (const c of clients) c.doc.off("update", test);
      resolve();
    };
    for (const c of clients) c.doc.on("update", test);
    test();
  });
}

/** Closes the providers and exits once their close frames are out. */
async function finish(clients, result) {
  for (const c of clients) c.provider.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  console.log(JSON.stringify(result));
  process.exit(0);
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

async function edit(rounds) {
  const a = await join("a");
  const b = await join("b");
  const tokens = [];
  // Interleave inserts at both ends from both sides without waiting for each
  // other, so that the server sees concurrent changes. (Inserting only at the
  // ends keeps every token whole, so each one can be found afterwards.)
  for (let i = 0; i < rounds; i++) {
    for (const [c, tag] of [[a, "A"], [b, "B"]]) {
      const token = `${tag}${i};`;
      tokens.push(token);
      c.text.insert(i % 2 === 0 ? 0 : c.text.length, token);
    }
  }
  const complete = (c) => tokens.every((t) => c.text.toString().includes(t));
  await until([a, b], () => complete(a) && complete(b) && a.text.toString() === b.text.toString());
  await until([a, b], () => b.provider.awareness.getStates().size >= 2);
  const sawPeer = [...b.provider.awareness.getStates().values()].some((s) => s.user === "a");
  await finish([a, b], { text: a.text.toString(), sawPeer });
}

async function big(chars) {
  const a = await join("writer");
  const alphabet = "abcdefghijklmnopqrstuvwxyz 0123456789\n";
  let content = "";
  for (let i = 0; content.length < chars; i++) content += alphabet[(i * 7919) % alphabet.length];
  a.text.insert(0, content);
  const b = await join("checker");
  await until([b], () => b.text.length === content.length);
  if (b.text.toString() !== content) fail("the second client got different content");
  await finish([a, b], { length: content.length, sha256: sha256(content) });
}

async function read() {
  const c = await join("reader");
  const text = c.text.toString();
  const result = { length: text.length, sha256: sha256(text) };
  if (text.length <= 10000) result.text = text;
  await finish([c], result);
}

async function presence() {
  const a = await join("stayer");
  // Stop the stayer's renewals (every 15 s): the newcomer can then learn of
  // it only from what the room kept.
  clearInterval(a.provider.awareness._checkInterval);
  console.log(JSON.stringify({ ready: true }));
  const lines = createInterface({ input: process.stdin });
  await new Promise((resolve) => lines.once("line", resolve));
  lines.close();

  const b = await join("newcomer");
  const seen = () => [...b.provider.awareness.getStates().values()].some((s) => s.user === "stayer");
  await new Promise((resolve) => {
    if (seen()) return resolve();
    b.provider.awareness.on("change", () => seen() && resolve());
  });
  await finish([a, b], { sawStayer: true });
}

switch (mode) {
  case "edit":
    await edit(Number(arg ?? 20));
    break;
  case "big":
    await big(Number(arg));
    break;
  case "read":
    await read();
    break;
  case "presence":
    await presence();
    break;
  default:
    fail(`unknown mode ${mode}`);
}
