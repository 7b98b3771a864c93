/// <reference path="./wit.d.ts" />
// One WebSocket connection as the room sees it. The host keeps the socket,
// its tags and its state blob, so a connection object is only a handle: it
// works the same after the room hibernated and woke again.

import * as ctx from "partyhost:room/context@0.1.0";
import { HostError, hostCall } from "./errors.js";

/** What can be sent over a connection or broadcast. */
export type OutgoingMessage = string | ArrayBuffer | ArrayBufferView;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Converts an outgoing message to the WIT `message` variant. */
export function toWitMessage(message: OutgoingMessage): ctx.Message {
  if (typeof message === "string") {
    return { tag: "text", val: message };
  }
  if (message instanceof ArrayBuffer) {
    return { tag: "binary", val: new Uint8Array(message) };
  }
  if (ArrayBuffer.isView(message)) {
    const view = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    return { tag: "binary", val: view };
  }
  throw new TypeError("a message must be a string, an ArrayBuffer or a typed array");
}

/** A client's WebSocket connection; `TState` is what `setState` holds. */
export class Connection<TState = unknown> {
  /** The connection's id (the client's `_pk`, or one the host made). */
  readonly id: string;
  /** The path and query the connection was opened with. */
  readonly uri: string;

  constructor(id: string, uri: string) {
    this.id = id;
    this.uri = uri;
  }

  /** The same as {@link Connection.uri}. */
  get url(): string {
    return this.uri;
  }

  /** Sends a message to this connection (a no-op if it has closed). */
  send(message: OutgoingMessage): void {
    try {
      hostCall("connection.send", () => ctx.send(this.id, toWitMessage(message)));
    } catch (error) {
      // PartyKit's send on a closed socket is silent too.
      if (!(error instanceof HostError && error.kind === "unknown-connection")) throw error;
    }
  }

  /** Closes the connection with a code (1000 or 3000-4999) and a reason. */
  close(code = 1000, reason = ""): void {
    try {
      hostCall("connection.close", () => ctx.close(this.id, code, reason));
    } catch (error) {
      if (!(error instanceof HostError && error.kind === "unknown-connection")) throw error;
    }
  }

  /** The state last set with {@link Connection.setState}, or null. */
  get state(): TState | null {
    let bytes: Uint8Array | undefined;
    try {
      bytes = hostCall("connection.state", () => ctx.getState(this.id));
    } catch (error) {
      if (error instanceof HostError && error.kind === "unknown-connection") return null;
      throw error;
    }
    return bytes === undefined ? null : (JSON.parse(decoder.decode(bytes)) as TState);
  }

  /**
   * Sets the connection's state (stored as JSON, at most 2048 bytes by
   * default), or clears it with null; kept across hibernation. Takes a value
   * or a function of the previous state, and returns the new state.
   */
  setState<T extends TState | null>(state: T | ((previous: TState | null) => T)): T {
    const next =
      typeof state === "function"
        ? (state as (previous: TState | null) => T)(this.state)
        : state;
    const bytes = next === null || next === undefined ? undefined : encoder.encode(JSON.stringify(next));
    hostCall("connection.setState", () => ctx.setState(this.id, bytes));
    return next;
  }
}
