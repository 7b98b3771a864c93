/// <reference path="./wit.d.ts" />
// Calls from this room to other rooms on the same host, with PartyKit's
// `this.room.context.parties.<party>.get(<room>).fetch(...)` shape, over the
// WIT `parties.call` import. The target's request hook answers; it sees the
// header `x-partyhost-caller: <party>/<room>` naming this room.

import * as wit from "partyhost:room/parties@0.1.0";
import { hostCall } from "./errors.js";
import { MinimalHeaders, MinimalResponse } from "./http.js";

/** What `fetch` on another room accepts besides a path. */
export interface CallInit {
  /** The method (default GET, or POST when there is a body). */
  method?: string;
  /** Headers as pairs, an object or a `Headers`. */
  headers?: Array<[string, string]> | Record<string, string> | Headers | MinimalHeaders;
  /** The body: text or bytes. */
  body?: string | ArrayBuffer | ArrayBufferView;
}

/** A handle on one room of another party (or of this one). */
export interface RoomStub {
  /**
   * Sends an HTTP request to the room's `onRequest` and resolves to its
   * response. `path` is passed to the target as its request URL (default
   * `/parties/<party>/<room>`). Rejects with a `HostError` whose `kind` is
   * `unknown-party`, `invalid-room`, `cycle`, `too-large`, `timeout` or
   * `unavailable` when no answer came.
   */
  fetch(path?: string | CallInit, init?: CallInit): Promise<Response>;
}

/** One party: `get(roomId)` returns a handle on one of its rooms. */
export interface PartyStub {
  get(room: string): RoomStub;
}

const encoder = new TextEncoder();

function bodyBytes(body: CallInit["body"]): Uint8Array {
  if (body === undefined) return new Uint8Array();
  if (typeof body === "string") return encoder.encode(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

function headerPairs(headers: CallInit["headers"]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (headers === undefined) return pairs;
  if (Array.isArray(headers)) {
    for (const [name, value] of headers) pairs.push([name.toLowerCase(), value]);
  } else if (typeof (headers as Headers).forEach === "function") {
    (headers as Headers).forEach((value, name) => pairs.push([name.toLowerCase(), value]));
  } else {
    for (const [name, value] of Object.entries(headers)) pairs.push([name.toLowerCase(), value]);
  }
  return pairs;
}

function stub(party: string, room: string): RoomStub {
  return {
    async fetch(path, init) {
      const options = typeof path === "object" ? path : (init ?? {});
      const url = typeof path === "string" ? path : `/parties/${party}/${room}`;
      const request: wit.HttpRequest = {
        method: (options.method ?? (options.body === undefined ? "GET" : "POST")).toUpperCase(),
        url,
        headers: headerPairs(options.headers),
        body: bodyBytes(options.body),
      };
      const answer = hostCall(`call to ${party}/${room}`, () => wit.call(party, room, request));
      const response = new MinimalResponse(answer.body, {
        status: answer.status,
        headers: answer.headers,
      });
      return response as unknown as Response;
    },
  };
}

/** Returns the `parties` map: any property name is a party. */
export function partiesMap(): Record<string, PartyStub> {
  return new Proxy({} as Record<string, PartyStub>, {
    get: (_target, name) =>
      typeof name === "string" ? { get: (room: string) => stub(name, room) } : undefined,
  });
}
