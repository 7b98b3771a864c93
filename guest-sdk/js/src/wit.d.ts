// Ambient declarations of the host imports of wit/room.wit, in the shapes
// that componentize-js gives them: kebab-case names become camelCase, an
// option is a value or undefined, a u64 is a bigint, a variant is
// `{ tag, val }`, and an `err` result is thrown as an error whose `payload`
// holds the WIT error value.

declare module "partyhost:room/storage@0.1.0" {
  /** Why a storage call failed (`storage-error` in the WIT). */
  export type StorageError =
    | { tag: "key-too-large"; val: number }
    | { tag: "value-too-large"; val: number }
    | { tag: "quota-exceeded" }
    | { tag: "too-many-entries"; val: number }
    | { tag: "invalid-alarm" }
    | { tag: "backend"; val: string };
  /** Which entries `list` returns (`list-options` in the WIT). */
  export interface ListOptions {
    prefix?: string;
    start?: string;
    end?: string;
    reverse: boolean;
    limit?: number;
  }
  export function get(key: string): Uint8Array | undefined;
  export function getMany(keys: string[]): Array<[string, Uint8Array]>;
  export function put(key: string, value: Uint8Array): void;
  export function putMany(entries: Array<[string, Uint8Array]>): void;
  function remove(key: string): boolean;
  export { remove as delete };
  export function deleteMany(keys: string[]): number;
  export function list(options: ListOptions): Array<[string, Uint8Array]>;
  export function deleteAll(): void;
  export function setAlarm(atMs: bigint): void;
  export function getAlarm(): bigint | undefined;
  export function deleteAlarm(): void;
}

declare module "partyhost:room/context@0.1.0" {
  /** One WebSocket message (`message` in the WIT). */
  export type Message = { tag: "text"; val: string } | { tag: "binary"; val: Uint8Array };
  /** One open connection (`connection-info` in the WIT). */
  export interface ConnectionInfo {
    id: string;
    url: string;
    tags: string[];
    state?: Uint8Array;
  }
  export function id(): string;
  export function party(): string;
  export function broadcast(msg: Message, exclude: string[]): void;
  export function send(conn: string, msg: Message): void;
  export function close(conn: string, code: number, reason: string): void;
  export function connections(tag?: string): ConnectionInfo[];
  export function setTags(conn: string, tags: string[]): void;
  export function getState(conn: string): Uint8Array | undefined;
  export function setState(conn: string, state: Uint8Array | undefined): void;
  export function vars(): Array<[string, string]>;
}

declare module "partyhost:room/log@0.1.0" {
  /** How important a log line is. */
  export type Level = "trace" | "debug" | "info" | "warn" | "error";
  export function log(level: Level, message: string): void;
}

declare module "partyhost:room/parties@0.1.0" {
  /** Why a call got no answer (`call-error` in the WIT). */
  export type CallError =
    | { tag: "unknown-party"; val: string }
    | { tag: "invalid-room"; val: string }
    | { tag: "cycle" }
    | { tag: "too-large"; val: number }
    | { tag: "timeout"; val: number }
    | { tag: "unavailable"; val: string };
  export interface HttpRequest {
    method: string;
    url: string;
    headers: Array<[string, string]>;
    body: Uint8Array;
  }
  export interface HttpResponse {
    status: number;
    headers: Array<[string, string]>;
    body: Uint8Array;
  }
  export function call(party: string, room: string, request: HttpRequest): HttpResponse;
}
