// partyhost's JavaScript SDK: write a room as a PartyKit-style server class
// and build it into a WebAssembly component with `partyhost-js build`.
//
//   import type * as Party from "partyhost";
//   export default class Server implements Party.Server {
//     constructor(readonly room: Party.Room) {}
//     onMessage(message: string, sender: Party.Connection) {
//       this.room.broadcast(message, [sender.id]);
//     }
//   }

export { Connection, type OutgoingMessage } from "./connection.js";
export type { CallInit, PartyStub, RoomStub } from "./parties.js";
export { HostError, type HostErrorKind } from "./errors.js";
export { Room, hostLog as log } from "./room.js";
export { Storage, type ListOptions } from "./storage.js";
export type { ConnectionContext, ExecutionContext, Lobby, Server, ServerOptions, Worker } from "./types.js";

/** The fetch API's `Request`, as hooks receive it. */
export type Request = globalThis.Request;
/** The fetch API's `Response`, as `onRequest` returns it. */
export type Response = globalThis.Response;
