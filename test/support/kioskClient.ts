// The kiosk API as a client sees it: one owner for HTTP calls, the API's reply shapes (the
// server's own view types, not re-declared), the server-sent event streams, and the people at
// the locker (courier and operator logins, a whole deposit, a pickup). It works against any
// lockerd URL, in this process or another; how a parcel goes into an open door is given as
// `hands` (the simulated world in-process, the /sim routes over HTTP by default).
import { type CompartmentView, type DepositView } from '../../src/domain/views.js';
import { type DemoLocker } from './demoLocker.js';
import { waitFor } from './polling.js';

/** The API's views, as the server types them (docs/kiosk-api.md). */
export type CompartmentJson = CompartmentView;
export type DepositJson = DepositView;

export interface ErrorJson {
  error: { code: string; message: string; context: Record<string, unknown> };
}

export interface ApiReply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface StoredDeposit {
  deposit: DepositJson;
  compartment: string;
  code: string;
}

export async function apiCall<T = unknown>(baseUrl: string, method: string, path: string, body?: unknown, token?: string): Promise<ApiReply<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** The error code of a failed reply (undefined for a success). */
export function errorCode(r: ApiReply): string | undefined {
  const b = r.body as Partial<ErrorJson> | undefined;
  return b && typeof b === 'object' ? b.error?.code : undefined;
}

export function errorContext(r: ApiReply): Record<string, unknown> {
  return (r.body as ErrorJson).error.context;
}

export interface TerminalStream extends EventStream {
  cookie: string;
  /** Reports the screen the terminal shows (home, pickup, dropoff, login, waybill, none). */
  show(screen: string, token?: string): Promise<void>;
}

export interface EventStream {
  readonly events: Record<string, unknown>[];
  waitFor(what: string, match: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

/** Reads `data:` messages of an SSE endpoint into `events` until closed (cookie: the kiosk terminal's). */
export async function openEventStream(url: string, cookie?: string): Promise<EventStream> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream', ...(cookie ? { cookie } : {}) } });
  if (res.status !== 200 || !res.body) throw new Error(`event stream ${url} answered ${res.status}`);
  const events: Record<string, unknown>[] = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data) events.push(JSON.parse(data) as Record<string, unknown>);
        }
      }
    } catch {
      // aborted or the server went away
    }
  })();
  return {
    events,
    waitFor: (what, match, timeoutMs = 5_000) => waitFor(`event: ${what}`, () => events.find(match), timeoutMs),
    close: () => abort.abort(),
  };
}

/** What a person does to an open door: put the parcel in, or take it out, and shut it. */
export interface Hands {
  put(compartmentId: string): Promise<void> | void;
  close(compartmentId: string): Promise<void> | void;
}

/** Hands that act on the simulated locker through lockerd's /sim routes. */
export function simRouteHands(url: string): Hands {
  const act = async (compartmentId: string, action: string): Promise<void> => {
    const a = await apiCall(url, 'POST', `/sim/compartments/${compartmentId}/${action}`);
    if (a.status !== 200) throw new Error(`sim ${action} ${compartmentId}: ${a.status} ${JSON.stringify(a.body)}`);
  };
  return { put: (id) => act(id, 'put'), close: (id) => act(id, 'close') };
}

export class KioskClient {
  readonly hands: Hands;

  constructor(
    readonly url: string,
    /** The demo keys that mint login badges (only the logins need them). */
    private readonly demo?: DemoLocker,
    hands?: Hands,
  ) {
    this.hands = hands ?? simRouteHands(url);
  }

  api<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<ApiReply<T>> {
    return apiCall<T>(this.url, method, path, body, token);
  }

  async courierLogin(carrier = 'swiftpost', courierId = 'courier-1', perms?: ('deposit' | 'collect')[]): Promise<string> {
    if (!this.demo) throw new Error('courierLogin needs the demo keys');
    const badge = await this.demo.mintCourierBadge(carrier, courierId, perms);
    const r = await this.api<{ token: string }>('POST', '/api/courier/login', { badge });
    if (r.status !== 200) throw new Error(`courier login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token;
  }

  async operatorLogin(): Promise<string> {
    if (!this.demo) throw new Error('operatorLogin needs the demo keys');
    const badge = await this.demo.mintOperatorBadge();
    const r = await this.api<{ token: string }>('POST', '/api/operator/login', { badge });
    if (r.status !== 200) throw new Error(`operator login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token;
  }

  async operatorCompartments(token: string): Promise<CompartmentJson[]> {
    const r = await this.api<{ compartments: CompartmentJson[] }>('GET', '/api/operator/compartments', undefined, token);
    if (r.status !== 200) throw new Error(`compartments: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.compartments;
  }

  async operatorCompartment(token: string, id: string): Promise<CompartmentJson> {
    const c = (await this.operatorCompartments(token)).find((x) => x.id === id);
    if (!c) throw new Error(`no compartment ${id}`);
    return c;
  }

  startDeposit(token: string, waybill: string, size: string, extra: Record<string, unknown> = {}): Promise<ApiReply<{ deposit: DepositJson }>> {
    return this.api<{ deposit: DepositJson }>('POST', '/api/courier/deposits', { waybill, size, ...extra }, token);
  }

  async depositView(token: string, id: string): Promise<DepositJson> {
    const r = await this.api<{ deposit: DepositJson }>('GET', `/api/courier/deposits/${id}`, undefined, token);
    if (r.status !== 200) throw new Error(`deposit ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.deposit;
  }

  /** Waits until the deposit reaches `state` (as the courier sees it). */
  async waitForDeposit(token: string, id: string, state: string, timeoutMs = 5_000): Promise<DepositJson> {
    return waitFor(`deposit ${id} ${state}`, async () => {
      const d = await this.depositView(token, id);
      return d.state === state ? d : undefined;
    }, timeoutMs);
  }

  /** A whole deposit: door opens, the parcel goes in, the door is closed, stored with a code. */
  async deposit(token: string, waybill: string, size = 'S'): Promise<StoredDeposit> {
    const r = await this.startDeposit(token, waybill, size);
    if (r.status !== 200) throw new Error(`deposit ${waybill}: ${r.status} ${JSON.stringify(r.body)}`);
    return this.finishDeposit(token, r.body.deposit);
  }

  /** Puts the parcel into the open door of a deposit, closes it and waits until it is stored. */
  async finishDeposit(token: string, deposit: DepositJson): Promise<StoredDeposit> {
    const compartment = deposit.compartment.id;
    await this.hands.put(compartment);
    await this.hands.close(compartment);
    const stored = await this.waitForDeposit(token, deposit.id, 'stored');
    if (!stored.pickupCode) throw new Error(`deposit ${deposit.id} was stored without a revealed code`);
    return { deposit: stored, compartment, code: stored.pickupCode };
  }

  pickup(code: string): Promise<ApiReply<{ sessionId: string; compartment: CompartmentJson; parcel: { kind: string } }>> {
    return this.api('POST', '/api/pickup', { code });
  }

  /** Announces a parcel or drop-off as the carrier's back end would (simulator route). */
  async announce(carrier: string, body: { waybill: string; size: string; kind?: 'parcel' | 'dropoff'; code?: string; dwellHours?: number }): Promise<{ parcelId: string; code?: string }> {
    const r = await this.api<{ parcelId: string; code?: string }>('POST', `/sim/carriers/${carrier}/reservations`, body);
    if (r.status !== 200) throw new Error(`announce ${body.waybill}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}
