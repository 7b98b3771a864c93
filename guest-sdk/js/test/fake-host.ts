// An in-memory stand-in for every host import of wit/room.wit, in the
// shapes componentize-js gives them, so the SDK's logic runs under Node.
// `run.mjs` bundles each test with `partyhost:room/*` resolved to this file.

type Bytes = Uint8Array;

/** What the fake host recorded; tests read and reset it. */
export const host = {
  kv: new Map<string, Bytes>(),
  alarm: undefined as bigint | undefined,
  conns: [] as Array<{ id: string; url: string; tags: string[]; state?: Bytes }>,
  sent: [] as Array<{ to: string; msg: unknown }>,
  closed: [] as Array<[string, number, string]>,
  calls: [] as Array<{ party: string; room: string; request: unknown }>,
  logs: [] as Array<[string, string]>,
  valueLimit: 131072,
  answer: { status: 200, headers: [] as Array<[string, string]>, body: new Uint8Array() },
  callError: undefined as { tag: string; val?: unknown } | undefined,
  reset() {
    this.kv.clear();
    this.alarm = undefined;
    this.conns = [];
    this.sent = [];
    this.closed = [];
    this.calls = [];
    this.logs = [];
    this.callError = undefined;
  },
};

/** The error componentize-js throws for an `err` result. */
class ComponentError extends Error {
  payload: unknown;
  constructor(payload: unknown) {
    super("component error");
    this.payload = payload;
  }
}

function conn(id: string) {
  const found = host.conns.find((c) => c.id === id);
  if (!found) throw new ComponentError({ tag: "unknown-connection", val: id });
  return found;
}

// storage
export function get(key: string): Bytes | undefined {
  return host.kv.get(key);
}
export function getMany(keys: string[]): Array<[string, Bytes]> {
  return [...keys].sort().flatMap((k) => (host.kv.has(k) ? [[k, host.kv.get(k)!] as [string, Bytes]] : []));
}
export function put(key: string, value: Bytes): void {
  if (value.length > host.valueLimit) throw new ComponentError({ tag: "value-too-large", val: host.valueLimit });
  host.kv.set(key, value);
}
export function putMany(entries: Array<[string, Bytes]>): void {
  for (const [k, v] of entries) put(k, v);
}
function remove(key: string): boolean {
  return host.kv.delete(key);
}
export { remove as delete };
export function deleteMany(keys: string[]): number {
  return keys.filter((k) => host.kv.delete(k)).length;
}
export function list(options: { prefix?: string; reverse: boolean; limit?: number }): Array<[string, Bytes]> {
  let keys = [...host.kv.keys()].sort().filter((k) => !options.prefix || k.startsWith(options.prefix));
  if (options.reverse) keys.reverse();
  if (options.limit !== undefined) keys = keys.slice(0, options.limit);
  return keys.map((k) => [k, host.kv.get(k)!]);
}
export function deleteAll(): void {
  host.kv.clear();
}
export function setAlarm(at: bigint): void {
  host.alarm = at;
}
export function getAlarm(): bigint | undefined {
  return host.alarm;
}
export function deleteAlarm(): void {
  host.alarm = undefined;
}

// context
export function id(): string {
  return "room-1";
}
export function party(): string {
  return "talks";
}
export function broadcast(msg: unknown, exclude: string[]): void {
  for (const c of host.conns) if (!exclude.includes(c.id)) host.sent.push({ to: c.id, msg });
}
export function send(to: string, msg: unknown): void {
  conn(to);
  host.sent.push({ to, msg });
}
export function close(to: string, code: number, reason: string): void {
  conn(to);
  host.closed.push([to, code, reason]);
}
export function connections(tag?: string) {
  return host.conns.filter((c) => tag === undefined || c.tags.includes(tag));
}
export function setTags(to: string, tags: string[]): void {
  conn(to).tags = tags;
}
export function getState(to: string): Bytes | undefined {
  return conn(to).state;
}
export function setState(to: string, state: Bytes | undefined): void {
  if (state && state.length > 2048) throw new ComponentError({ tag: "state-too-large", val: 2048 });
  conn(to).state = state;
}
export function vars(): Array<[string, string]> {
  return [["GREETING", "hello"]];
}

// log
export function log(level: string, message: string): void {
  host.logs.push([level, message]);
}

// parties
export function call(party: string, room: string, request: unknown) {
  host.calls.push({ party, room, request });
  if (host.callError) throw new ComponentError(host.callError);
  return host.answer;
}
