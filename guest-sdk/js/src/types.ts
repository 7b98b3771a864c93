// The interfaces a room author implements, named as in PartyKit's
// `partykit/server` so that `import type * as Party from "partyhost"` reads
// like the PartyKit original.

import type { Connection } from "./connection.js";
import type { Room } from "./room.js";

/** What `onConnect` and `getConnectionTags` get besides the connection. */
export interface ConnectionContext {
  /** The request that opened the connection (its `url` is absolute). */
  request: Request;
}

/** A room's server: every hook is optional. */
export interface Server {
  /** Runs when the room starts or wakes, before any other hook. */
  onStart?(): void | Promise<void>;
  /** Runs when a connection opens. */
  onConnect?(connection: Connection, ctx: ConnectionContext): void | Promise<void>;
  /** Runs for each message; binary frames arrive as an ArrayBuffer. */
  onMessage?(message: string | ArrayBuffer, sender: Connection): void | Promise<void>;
  /**
   * Runs when a connection has closed (partyhost also passes the close code,
   * the reason and whether the close was clean).
   */
  onClose?(connection: Connection, code?: number, reason?: string, wasClean?: boolean): void | Promise<void>;
  /** Runs when a connection failed; `onClose` follows. */
  onError?(connection: Connection, error: Error): void | Promise<void>;
  /** Answers an HTTP request to the room; without it the room answers 404. */
  onRequest?(request: Request): Response | Promise<Response>;
  /** Runs when the room's alarm fires. */
  onAlarm?(): void | Promise<void>;
  /** Returns the tags of a new connection, for `getConnections(tag)`. */
  getConnectionTags?(connection: Connection, ctx: ConnectionContext): string[] | Promise<string[]>;
}

/** PartyKit's server options; partyhost always hibernates idle rooms. */
export interface ServerOptions {
  /** Accepted for compatibility; partyhost rooms always hibernate. */
  hibernate?: boolean;
}

/** What the static before hooks know about the room they guard. */
export interface Lobby {
  /** The room's id. */
  readonly id: string;
  /** The party's configured variables. */
  readonly env: Record<string, string>;
}

/** Extra context of a before hook (empty for now). */
export type ExecutionContext = Record<string, never>;

/** A server class: the room module's default export. */
export interface Worker {
  new (room: Room): Server;
  /**
   * Runs before a WebSocket upgrade, without waking the room. Return a
   * Response to refuse with it, or a Request (with added headers) to admit.
   */
  onBeforeConnect?(request: Request, lobby: Lobby, ctx: ExecutionContext): Request | Response | void | Promise<Request | Response | void>;
  /** Runs before an HTTP request reaches `onRequest`, like `onBeforeConnect`. */
  onBeforeRequest?(request: Request, lobby: Lobby, ctx: ExecutionContext): Request | Response | void | Promise<Request | Response | void>;
}
