// HTTP requests and responses between the host's WIT records and the
// fetch-style `Request` and `Response` that PartyKit code uses.
//
// The engine's own `Request`, `Response` and `Headers` are used when it has
// them; otherwise the small stand-ins below are installed on `globalThis`,
// so that `new Response("ok", { status: 200 })` works in any room.

import type { HttpRequestRecord, HttpResponseRecord } from "./records.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type HeadersInit = Array<[string, string]> | Record<string, string> | MinimalHeaders;
type BodyInit = string | ArrayBuffer | ArrayBufferView | null | undefined;

function bodyBytes(body: BodyInit): Uint8Array {
  if (body === null || body === undefined) return new Uint8Array();
  if (typeof body === "string") return encoder.encode(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/** A `Headers` stand-in: lowercase names, one value each. */
export class MinimalHeaders {
  #map = new Map<string, string>();

  constructor(init?: HeadersInit) {
    if (init instanceof MinimalHeaders) init = [...init.entries()];
    const entries = Array.isArray(init) ? init : Object.entries(init ?? {});
    for (const [name, value] of entries) this.append(name, value);
  }
  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }
  set(name: string, value: string): void {
    this.#map.set(name.toLowerCase(), String(value));
  }
  append(name: string, value: string): void {
    const old = this.get(name);
    this.set(name, old === null ? value : `${old}, ${value}`);
  }
  delete(name: string): void {
    this.#map.delete(name.toLowerCase());
  }
  entries(): IterableIterator<[string, string]> {
    return this.#map.entries();
  }
  forEach(fn: (value: string, name: string) => void): void {
    this.#map.forEach((value, name) => fn(value, name));
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/** The body methods shared by the request and response stand-ins. */
class MinimalBody {
  readonly #body: Uint8Array;
  constructor(body: BodyInit) {
    this.#body = bodyBytes(body);
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.#body.slice().buffer;
  }
  async text(): Promise<string> {
    return decoder.decode(this.#body);
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}

/** A `Request` stand-in. */
export class MinimalRequest extends MinimalBody {
  readonly url: string;
  readonly method: string;
  readonly headers: MinimalHeaders;
  constructor(url: string, init: { method?: string; headers?: HeadersInit; body?: BodyInit } = {}) {
    super(init.body);
    this.url = url;
    this.method = (init.method ?? "GET").toUpperCase();
    this.headers = new MinimalHeaders(init.headers);
  }
}

/** A `Response` stand-in. */
export class MinimalResponse extends MinimalBody {
  readonly status: number;
  readonly statusText: string;
  readonly headers: MinimalHeaders;
  constructor(body?: BodyInit, init: { status?: number; statusText?: string; headers?: HeadersInit } = {}) {
    super(body);
    this.status = init.status ?? 200;
    this.statusText = init.statusText ?? "";
    this.headers = new MinimalHeaders(init.headers);
    if (typeof body === "string" && !this.headers.has("content-type")) {
      this.headers.set("content-type", "text/plain;charset=UTF-8");
    }
  }
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  static json(data: unknown, init: { status?: number; headers?: HeadersInit } = {}): MinimalResponse {
    const headers = new MinimalHeaders(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new MinimalResponse(JSON.stringify(data), { ...init, headers });
  }
}

/** Installs the stand-ins where the engine has no fetch classes. */
export function installFetchClasses(): void {
  const global = globalThis as Record<string, unknown>;
  global.Headers ??= MinimalHeaders;
  global.Request ??= MinimalRequest;
  global.Response ??= MinimalResponse;
}

/** A host name or address with an optional port, nothing else. */
const AUTHORITY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Returns the client's `Host` header if it is only an authority, else
 * `localhost`: the URL's path and query must come from the request target,
 * never from a header that holds `/`, `?` or `#`.
 */
export function authority(host: string | undefined): string {
  return host !== undefined && AUTHORITY.test(host) ? host : "localhost";
}

/** Makes the `Request` a hook receives from the host's request record. */
export function toRequest(record: HttpRequestRecord): Request {
  const host = authority(record.headers.find(([name]) => name === "host")?.[1]);
  const url = /^[a-z]+:\/\//i.test(record.url) ? record.url : `http://${host}${record.url}`;
  const hasBody = record.method !== "GET" && record.method !== "HEAD";
  return new Request(url, {
    method: record.method,
    headers: record.headers,
    body: hasBody ? (record.body as Uint8Array<ArrayBuffer>) : undefined,
  });
}

/** Reads a `Response`-like value into the host's response record. */
export async function fromResponse(response: unknown): Promise<HttpResponseRecord> {
  if (!response || typeof (response as Response).status !== "number") {
    throw new TypeError("onRequest must return a Response");
  }
  const res = response as Response;
  const headers: Array<[string, string]> = [];
  res.headers?.forEach((value, name) => headers.push([name.toLowerCase(), value]));
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers, body };
}
