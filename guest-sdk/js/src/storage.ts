/// <reference path="./wit.d.ts" />
// The room's durable storage with PartyKit's promise-returning API.
//
// Values are stored as JSON text (UTF-8), so a number is stored as its
// decimal digits and an object as its JSON. PartyKit stores values with the
// structured clone algorithm instead; the difference shows only for values
// JSON cannot hold (Map, Set, Date, undefined, cyclic objects), which `put`
// refuses or flattens as `JSON.stringify` does. Every write made during one
// hook commits with the others when the hook returns.

import * as wit from "partyhost:room/storage@0.1.0";
import { hostCall } from "./errors.js";

/** Which entries {@link Storage.list} returns, as in PartyKit. */
export interface ListOptions {
  /** Only keys that start with this string. */
  prefix?: string;
  /** Only keys greater than or equal to this one. */
  start?: string;
  /** Only keys strictly less than this one. */
  end?: string;
  /** Return keys in descending order. */
  reverse?: boolean;
  /** Return at most this many entries. */
  limit?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encode(key: string, value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new TypeError(`cannot store ${typeof value} under ${JSON.stringify(key)}: not JSON`);
  }
  return encoder.encode(text);
}

function decode<T>(key: string, bytes: Uint8Array): T {
  const text = decoder.decode(bytes);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new TypeError(`stored value of ${JSON.stringify(key)} is not JSON`);
  }
}

function toMap<T>(entries: Array<[string, Uint8Array]>): Map<string, T> {
  return new Map(entries.map(([key, bytes]) => [key, decode<T>(key, bytes)]));
}

/** The room's key-value storage and its alarm. */
export class Storage {
  /** Returns the value under `key`, or undefined. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Returns the entries that exist among `keys`. */
  get<T = unknown>(keys: string[]): Promise<Map<string, T>>;
  async get<T>(keyOrKeys: string | string[]): Promise<T | undefined | Map<string, T>> {
    if (Array.isArray(keyOrKeys)) {
      return toMap<T>(hostCall("storage.get", () => wit.getMany(keyOrKeys)));
    }
    const bytes = hostCall("storage.get", () => wit.get(keyOrKeys));
    return bytes === undefined ? undefined : decode<T>(keyOrKeys, bytes);
  }

  /** Stores `value` under `key`. */
  put<T>(key: string, value: T): Promise<void>;
  /** Stores every entry of `entries`; all of them or none. */
  put<T>(entries: Record<string, T>): Promise<void>;
  async put<T>(keyOrEntries: string | Record<string, T>, value?: T): Promise<void> {
    if (typeof keyOrEntries === "string") {
      const bytes = encode(keyOrEntries, value);
      hostCall("storage.put", () => wit.put(keyOrEntries, bytes));
      return;
    }
    const entries = Object.entries(keyOrEntries).map(
      ([key, v]): [string, Uint8Array] => [key, encode(key, v)],
    );
    hostCall("storage.put", () => wit.putMany(entries));
  }

  /** Deletes `key`; resolves to whether it existed. */
  delete(key: string): Promise<boolean>;
  /** Deletes every key in `keys`; resolves to how many existed. */
  delete(keys: string[]): Promise<number>;
  async delete(keyOrKeys: string | string[]): Promise<boolean | number> {
    if (Array.isArray(keyOrKeys)) {
      return hostCall("storage.delete", () => wit.deleteMany(keyOrKeys));
    }
    return hostCall("storage.delete", () => wit.delete(keyOrKeys));
  }

  /** Deletes every key of the room (the alarm stays). */
  async deleteAll(): Promise<void> {
    hostCall("storage.deleteAll", () => wit.deleteAll());
  }

  /** Returns the entries that match `options`, in key order. */
  async list<T = unknown>(options: ListOptions = {}): Promise<Map<string, T>> {
    const query: wit.ListOptions = {
      prefix: options.prefix,
      start: options.start,
      end: options.end,
      reverse: options.reverse ?? false,
      limit: options.limit,
    };
    return toMap<T>(hostCall("storage.list", () => wit.list(query)));
  }

  /** Returns when the alarm fires (ms since the epoch), or null. */
  async getAlarm(): Promise<number | null> {
    const at = wit.getAlarm();
    return at === undefined ? null : Number(at);
  }

  /** Sets the room's one alarm; a past time fires at once. */
  async setAlarm(time: number | Date): Promise<void> {
    const ms = typeof time === "number" ? time : time.getTime();
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`invalid alarm time ${String(time)}`);
    }
    hostCall("storage.setAlarm", () => wit.setAlarm(BigInt(Math.floor(ms))));
  }

  /** Cancels the alarm, if any. */
  async deleteAlarm(): Promise<void> {
    wit.deleteAlarm();
  }
}
