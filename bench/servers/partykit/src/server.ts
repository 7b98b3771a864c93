// The reaction room as a PartyKit user writes it: hibernation on, each count
// in room storage, the new counts broadcast to everyone once stored.
import type * as Party from "partykit/server";

const PREFIX = "count:";
const MAX_KIND_BYTES = 64;
const MAX_KINDS = 100;

type Counts = Record<string, number>;

export default class ReactionRoom implements Party.Server {
  readonly options = { hibernate: true };
  counts: Counts = {};

  constructor(readonly room: Party.Room) {}

  // Runs on the first event and again after every wake from hibernation.
  async onStart() {
    const stored = await this.room.storage.list<number>({ prefix: PREFIX });
    this.counts = {};
    for (const [key, value] of stored) {
      this.counts[key.slice(PREFIX.length)] = value;
    }
  }

  onConnect(conn: Party.Connection) {
    conn.send(this.message());
  }

  async onMessage(message: string | ArrayBuffer | ArrayBufferView, sender: Party.Connection) {
    const kind = parseReaction(message);
    if (typeof kind !== "string") {
      sender.send(JSON.stringify({ type: "error", error: kind.error }));
      return;
    }
    if (!(kind in this.counts) && Object.keys(this.counts).length >= MAX_KINDS) {
      sender.send(JSON.stringify({ type: "error", error: "too many kinds" }));
      return;
    }
    const next = (this.counts[kind] ?? 0) + 1;
    this.counts[kind] = next;
    await this.room.storage.put(PREFIX + kind, next);
    this.room.broadcast(this.message());
  }

  message(): string {
    return JSON.stringify({ type: "counts", counts: this.counts });
  }
}

function parseReaction(message: string | ArrayBuffer | ArrayBufferView): string | { error: string } {
  if (typeof message !== "string") {
    return { error: "binary messages are not supported" };
  }
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { error: "message is not json" };
  }
  const msg = value as { type?: unknown; kind?: unknown };
  if (msg?.type !== "reaction") {
    return { error: "unknown message type" };
  }
  const kind = msg.kind;
  if (typeof kind !== "string" || kind.length === 0 || new TextEncoder().encode(kind).length > MAX_KIND_BYTES) {
    return { error: "kind must be a string of 1 to 64 bytes" };
  }
  return kind;
}
