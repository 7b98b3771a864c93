// The reaction room in TypeScript, written as a PartyKit author would write
// it, speaking the same protocol as the Rust room in rooms/reaction:
//
//   client -> room  {"type":"reaction","kind":"heart"}
//   room -> all     {"type":"counts","counts":{"heart":3},"people":2}
//   room -> sender  {"type":"error","error":"<reason>"}
//   GET /parties/<party>/<room> answers the counts message as JSON.
//
// Each count is stored under `count:<kind>` as a JSON number (the same bytes
// as the Rust room's decimal text, so either room reads the other's data).
// `people` is the number of distinct connection ids with an open socket. A
// join or leave is broadcast at once while the room has at most SMALL_ROOM
// people; past that at most once per COALESCE_MS, the alarm sending the last
// change of a window. With the party variable LOBBY = "<party>/<room>",
// the counts are reported to that lobby room (see rooms/lobby) by a
// room-to-room call from the alarm, once per burst of reactions.

import type * as Party from "partyhost";

const KEY_PREFIX = "count:";
const MAX_KIND_BYTES = 64;
const MAX_KINDS = 100;
const SMALL_ROOM = 50;
const COALESCE_MS = 250;
const REPORT_DELAY_MS = 250;

const encoder = new TextEncoder();

/** Why a message was not counted: the reason the sender is told. */
class Rejection extends Error {}

/** Returns the kind of a `{"type":"reaction","kind":"..."}` message. */
function parseReaction(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Rejection("message is not json");
  }
  const message = value as { type?: unknown; kind?: unknown } | null;
  if (typeof message !== "object" || message === null || message.type !== "reaction") {
    throw new Rejection("unknown message type");
  }
  if (typeof message.kind !== "string" || !isValidKind(message.kind)) {
    throw new Rejection("kind must be a string of 1 to 64 bytes");
  }
  return message.kind;
}

function isValidKind(kind: string): boolean {
  const bytes = encoder.encode(kind).length;
  return bytes > 0 && bytes <= MAX_KIND_BYTES;
}

export default class ReactionServer implements Party.Server {
  readonly options: Party.ServerOptions = { hibernate: true };
  counts = new Map<string, number>();
  /** Open sockets per connection id; null until this instance learns it. */
  sockets: Map<string, number> | null = null;
  lastBroadcastMs = 0;
  alarmPending = false;
  /** The lobby room this room reports to, if its party names one. */
  lobby: Party.RoomStub | null = null;

  constructor(readonly room: Party.Room) {}

  async onStart() {
    const stored = await this.room.storage.list<unknown>({ prefix: KEY_PREFIX });
    for (const [key, count] of stored) {
      const kind = key.slice(KEY_PREFIX.length);
      if (isValidKind(kind) && Number.isSafeInteger(count) && (count as number) >= 0) {
        this.counts.set(kind, count as number);
      } else {
        console.warn(`ignoring stored count ${JSON.stringify(key)}: not a valid count`);
      }
    }
    const target = this.room.env.LOBBY;
    if (target !== undefined) {
      const [party, room, ...rest] = target.split("/");
      if (party && room && rest.length === 0) {
        this.lobby = this.room.context.parties[party].get(room);
      } else {
        console.warn(`ignoring LOBBY ${JSON.stringify(target)}: expected <party>/<room>`);
      }
    }
  }

  async onConnect(conn: Party.Connection) {
    // A fresh instance learns the tally from the host, the new socket included.
    if (this.sockets !== null) this.sockets.set(conn.id, (this.sockets.get(conn.id) ?? 0) + 1);
    if (!this.announcePresence()) conn.send(this.countsMessage());
  }

  async onClose(conn: Party.Connection) {
    // A fresh instance learns the tally from the host, the closed socket gone.
    const tally = this.sockets;
    if (tally !== null && tally.has(conn.id)) {
      const sockets = tally.get(conn.id)! - 1;
      if (sockets > 0) tally.set(conn.id, sockets);
      else tally.delete(conn.id);
    }
    this.announcePresence();
  }

  async onAlarm() {
    // The one alarm also serves lobby reports: only a pending presence
    // change is broadcast, and a retried alarm does not repeat it.
    if (this.alarmPending) {
      this.alarmPending = false;
      this.broadcastCounts();
    }
    if (this.lobby) await this.report(this.lobby);
  }

  async onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
    try {
      if (typeof message !== "string") throw new Rejection("binary messages are not supported");
      await this.react(message);
    } catch (error) {
      if (!(error instanceof Rejection)) throw error;
      sender.send(JSON.stringify({ type: "error", error: error.message }));
      return;
    }
    this.broadcastCounts();
    // The first reaction of a burst schedules the lobby report.
    if (this.lobby && (await this.room.storage.getAlarm()) === null) {
      await this.room.storage.setAlarm(Date.now() + REPORT_DELAY_MS);
    }
  }

  async onRequest(request: Party.Request) {
    if (request.method !== "GET") {
      return new Response("method not allowed", { status: 405, headers: { allow: "GET" } });
    }
    return new Response(this.countsMessage(), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  }

  /** Counts one reaction; memory changes only once the count is stored. */
  async react(text: string) {
    const kind = parseReaction(text);
    const count = this.counts.get(kind);
    if (count === undefined && this.counts.size >= MAX_KINDS) {
      throw new Rejection("too many kinds");
    }
    const next = (count ?? 0) + 1;
    try {
      await this.room.storage.put(KEY_PREFIX + kind, next);
    } catch (error) {
      console.warn(`failed to store count of ${JSON.stringify(kind)}: ${error}`);
      throw new Rejection("failed to store count");
    }
    this.counts.set(kind, next);
  }

  /** Sends the counts to the lobby; a failure fails the alarm, which the
   * host retries with backoff. */
  async report(lobby: Party.RoomStub) {
    const answer = await lobby.fetch("/report", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ counts: this.sortedCounts() }),
    });
    if (answer.status >= 300) {
      throw new Error(`lobby answered ${answer.status}: ${await answer.text()}`);
    }
  }

  sortedCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** The tally of open sockets by id, learnt from the host once. */
  tally(): Map<string, number> {
    if (this.sockets === null) {
      this.sockets = new Map();
      for (const conn of this.room.getConnections()) {
        this.sockets.set(conn.id, (this.sockets.get(conn.id) ?? 0) + 1);
      }
    }
    return this.sockets;
  }

  countsMessage(): string {
    return JSON.stringify({ type: "counts", counts: this.sortedCounts(), people: this.tally().size });
  }

  broadcastCounts() {
    this.room.broadcast(this.countsMessage());
    this.lastBroadcastMs = Date.now();
  }

  /** Broadcasts a join or leave now or at the window's end; says if now. */
  announcePresence(): boolean {
    const now = Date.now();
    const windowEnd = this.lastBroadcastMs + COALESCE_MS;
    if (this.tally().size <= SMALL_ROOM || now >= windowEnd) {
      this.broadcastCounts();
      return true;
    }
    if (!this.alarmPending) {
      this.alarmPending = true;
      this.room.storage.setAlarm(windowEnd).catch((error) => {
        console.warn(`failed to schedule a presence update: ${error}`);
        this.alarmPending = false;
      });
    }
    return false;
  }
}
