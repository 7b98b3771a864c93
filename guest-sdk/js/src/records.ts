// The shapes of the WIT records and variants that the hooks receive and
// return, as componentize-js passes them.

/** One HTTP header: a lowercase name and a value. */
export type Header = [string, string];

/** The WIT `http-request` record. */
export interface HttpRequestRecord {
  method: string;
  url: string;
  headers: Header[];
  body: Uint8Array;
}

/** The WIT `http-response` record. */
export interface HttpResponseRecord {
  status: number;
  headers: Header[];
  body: Uint8Array;
}

/** The WIT `connect-request` record. */
export interface ConnectRequestRecord {
  url: string;
  headers: Header[];
}

/** The WIT `admission` variant. */
export type Admission = { tag: "allow"; val: Header[] } | { tag: "reject"; val: HttpResponseRecord };

/** The WIT `message` variant. */
export type MessageRecord = { tag: "text"; val: string } | { tag: "binary"; val: Uint8Array };
