// Turning the host's WIT errors into JavaScript errors with readable
// messages, so that room code can catch them like any other error.

/** What a host error's `kind` can be: the tag of the WIT error variant. */
export type HostErrorKind =
  | "key-too-large"
  | "value-too-large"
  | "quota-exceeded"
  | "too-many-entries"
  | "invalid-alarm"
  | "backend"
  | "unknown-connection"
  | "state-too-large"
  | "invalid-close"
  | "invalid-tags"
  | "unknown-party"
  | "invalid-room"
  | "cycle"
  | "too-large"
  | "timeout"
  | "unavailable";

/** A storage or room call that the host refused; `kind` says why. */
export class HostError extends Error {
  /** The WIT error variant's tag, e.g. `value-too-large`. */
  readonly kind: HostErrorKind | string;
  /** The variant's value, if any (a limit in bytes, a connection id...). */
  readonly detail: unknown;

  constructor(operation: string, kind: string, detail: unknown) {
    super(`${operation} failed: ${describe(kind, detail)}`);
    this.name = "HostError";
    this.kind = kind;
    this.detail = detail;
  }
}

function describe(kind: string, detail: unknown): string {
  switch (kind) {
    case "key-too-large":
      return `key is longer than ${detail} bytes`;
    case "value-too-large":
      return `value is longer than ${detail} bytes`;
    case "state-too-large":
      return `connection state is longer than ${detail} bytes`;
    case "too-many-entries":
      return `more than ${detail} entries in one call`;
    case "quota-exceeded":
      return "the room's storage quota would be exceeded";
    case "unknown-connection":
      return `no open connection has id ${JSON.stringify(detail)}`;
    case "backend":
      return `storage backend error: ${detail}`;
    case "unknown-party":
      return `no party is named ${JSON.stringify(detail)}`;
    case "invalid-room":
      return `invalid room id ${JSON.stringify(detail)}`;
    case "cycle":
      return "the target is waiting on this call (a cycle), or the call chain is too deep";
    case "too-large":
      return `the request body is larger than ${detail} bytes`;
    case "timeout":
      return `no answer within ${detail} ms`;
    case "unavailable":
      return `the target cannot take calls: ${detail}`;
    default:
      return detail === undefined ? kind : `${kind} (${String(detail)})`;
  }
}

/**
 * Runs a host call and rethrows its WIT error as a {@link HostError}.
 * componentize-js throws an `err` result as an error whose `payload` is the
 * variant `{ tag, val }`.
 */
export function hostCall<T>(operation: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    const payload = (error as { payload?: { tag?: string; val?: unknown } } | null)?.payload;
    if (payload && typeof payload.tag === "string") {
      throw new HostError(operation, payload.tag, payload.val);
    }
    throw error;
  }
}
