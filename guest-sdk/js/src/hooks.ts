/// <reference path="./wit.d.ts" />
// The bridge between the WIT hooks a room component exports and the
// PartyKit-style server class a room author writes. `partyhost-js build`
// generates an entry module that calls `bindServer` with the room's default
// export and re-exports the hooks it returns.
//
// The class is instantiated in `on-start`, never at module load: the module's
// top level runs once at build time (the engine is snapshotted after it),
// when no host import is available. A hook that throws returns `err` with
// the error's text, which the host logs (and for `on-connect` closes the
// socket with 1011); the room keeps running.

import * as ctx from "partyhost:room/context@0.1.0";
import { Connection } from "./connection.js";
import { fromResponse, installFetchClasses, toRequest } from "./http.js";
import type { Admission, ConnectRequestRecord, Header, HttpRequestRecord, HttpResponseRecord, MessageRecord } from "./records.js";
import { Room } from "./room.js";
import type { Lobby, Server, Worker } from "./types.js";

/** The WIT exports of the `room` world, as componentize-js expects them. */
export interface RoomHooks {
  onStart(): Promise<void>;
  onConnect(conn: string, request: ConnectRequestRecord): Promise<void>;
  onMessage(conn: string, msg: MessageRecord): Promise<void>;
  onClose(conn: string, code: number, reason: string, wasClean: boolean): Promise<void>;
  onError(conn: string, error: string): Promise<void>;
  onRequest(request: HttpRequestRecord): Promise<HttpResponseRecord>;
  onAlarm(): Promise<void>;
  onBeforeConnect(request: HttpRequestRecord): Promise<Admission>;
  onBeforeRequest(request: HttpRequestRecord): Promise<Admission>;
}

/** Describes a thrown value for the host log, with the stack if any. */
function describeError(error: unknown): string {
  if (error instanceof Error) {
    const stack = error.stack ? `\n${error.stack.trimEnd()}` : "";
    return `${error.name}: ${error.message}${stack}`;
  }
  return String(error);
}

/** Runs a hook body, turning anything it throws into the WIT `err` string. */
async function guarded<T>(body: () => Promise<T> | T): Promise<T> {
  try {
    return await body();
  } catch (error) {
    // A thrown string becomes the `err` value as it is.
    throw describeError(error);
  }
}

function connectionOf(id: string, url: string): Connection {
  return new Connection(id, url);
}

function urlOf(id: string): string {
  return ctx.connections().find((conn) => conn.id === id)?.url ?? "";
}

/** Wires a server class's hooks to the WIT exports. */
export function bindServer(ServerClass: Worker): RoomHooks {
  installFetchClasses();
  let instance: Server | undefined;
  const server = (): Server => (instance ??= new ServerClass(new Room()));

  return {
    onStart: () => guarded(async () => {
      await server().onStart?.();
    }),
    onConnect: (id, request) => guarded(async () => {
      const conn = connectionOf(id, request.url);
      const context = { request: toRequest({ method: "GET", body: new Uint8Array(), ...request }) };
      const tags = await server().getConnectionTags?.(conn, context);
      if (tags && tags.length > 0) ctx.setTags(id, [...tags]);
      await server().onConnect?.(conn, context);
    }),
    onMessage: (id, msg) => guarded(async () => {
      const message = msg.tag === "text" ? msg.val : msg.val.slice().buffer;
      await server().onMessage?.(message, connectionOf(id, urlOf(id)));
    }),
    onClose: (id, code, reason, wasClean) => guarded(async () => {
      await server().onClose?.(connectionOf(id, ""), code, reason, wasClean);
    }),
    onError: (id, error) => guarded(async () => {
      await server().onError?.(connectionOf(id, urlOf(id)), new Error(error));
    }),
    onRequest: (request) => guarded(async () => {
      const handler = server().onRequest;
      if (!handler) return { status: 404, headers: [], body: new TextEncoder().encode("not found") };
      return fromResponse(await handler.call(server(), toRequest(request)));
    }),
    onAlarm: () => guarded(async () => {
      await server().onAlarm?.();
    }),
    onBeforeConnect: (request) => admit(request, ServerClass.onBeforeConnect),
    onBeforeRequest: (request) => admit(request, ServerClass.onBeforeRequest),
  };
}

type BeforeHook = Worker["onBeforeConnect"];

/**
 * Runs a static before hook. A returned `Response` rejects the request with
 * it; a returned `Request` lets it through with the headers it added or
 * changed; nothing lets it through as it is. The WIT gives the hook no error
 * path, so a throw traps and the host answers 500.
 */
async function admit(record: HttpRequestRecord, hook: BeforeHook): Promise<Admission> {
  if (!hook) return { tag: "allow", val: [] };
  const lobby: Lobby = {
    get id() {
      return ctx.id();
    },
    get env() {
      return Object.fromEntries(ctx.vars());
    },
  };
  const result = await hook(toRequest(record), lobby, {});
  if (result && typeof (result as Response).status === "number") {
    return { tag: "reject", val: await fromResponse(result) };
  }
  if (!result || !(result as Request).headers) return { tag: "allow", val: [] };
  const before = new Map(record.headers);
  const added: Header[] = [];
  (result as Request).headers.forEach((value, name) => {
    if (before.get(name.toLowerCase()) !== value) added.push([name.toLowerCase(), value]);
  });
  return { tag: "allow", val: added };
}
