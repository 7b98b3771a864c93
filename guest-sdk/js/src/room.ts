/// <reference path="./wit.d.ts" />
// The room a server instance serves: its identity, its storage, its
// connections and its variables, backed by the host's imports.

import * as ctx from "partyhost:room/context@0.1.0";
import { log } from "partyhost:room/log@0.1.0";
import { Connection, type OutgoingMessage, toWitMessage } from "./connection.js";
import { type PartyStub, partiesMap } from "./parties.js";
import { Storage } from "./storage.js";

/** A room: what `this.room` is in a server class. */
export class Room {
  /** The room's durable storage. */
  readonly storage = new Storage();
  /** Other rooms on this host: `context.parties.<party>.get(<room>)`. */
  readonly context: { parties: Record<string, PartyStub> } = { parties: partiesMap() };
  #id: string | undefined;
  #name: string | undefined;
  #env: Record<string, string> | undefined;

  /** The room's id: the room segment of its URL path. */
  get id(): string {
    this.#id ??= ctx.id();
    return this.#id;
  }

  /** The same as {@link Room.id}: partyhost has no separate internal id. */
  get internalID(): string {
    return this.id;
  }

  /** The name of the party this room belongs to. */
  get name(): string {
    this.#name ??= ctx.party();
    return this.#name;
  }

  /** The party's configured variables (`vars` in partyhost.toml). */
  get env(): Record<string, string> {
    this.#env ??= Object.fromEntries(ctx.vars());
    return this.#env;
  }

  /** Sends `message` to every open connection except the ids in `without`. */
  broadcast(message: OutgoingMessage, without: string[] = []): void {
    ctx.broadcast(toWitMessage(message), without);
  }

  /** Returns the open connection with this id, or undefined. */
  getConnection<TState = unknown>(id: string): Connection<TState> | undefined {
    const info = ctx.connections().find((conn) => conn.id === id);
    return info && new Connection<TState>(info.id, info.url);
  }

  /** Returns the open connections, or only those that carry `tag`. */
  getConnections<TState = unknown>(tag?: string): Iterable<Connection<TState>> {
    return ctx.connections(tag).map((info) => new Connection<TState>(info.id, info.url));
  }
}

/** Writes a line to the host's log, tagged with the party and room. */
export function hostLog(level: "trace" | "debug" | "info" | "warn" | "error", message: string): void {
  log(level, message);
}
