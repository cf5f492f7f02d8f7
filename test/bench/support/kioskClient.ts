// The kiosk's local HTTP API and the simulator panel's routes, as the touchscreen and the
// simulator panel call them, for driving a lockerd running in another process.

export interface Reply<T> {
  status: number;
  body: T;
}

export async function api<T>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<Reply<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

interface DepositJson {
  id: string;
  state: string;
  compartment: { id: string };
  pickupCode?: string;
}

function ok<T>(r: Reply<T>, what: string): T {
  if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Courier deposit over the kiosk API; the simulated person puts the parcel in and shuts the door. */
export async function depositOverHttp(base: string, token: string, waybill: string): Promise<{ compartment: string; code: string }> {
  const { deposit } = ok(await api<{ deposit: DepositJson }>(base, 'POST', '/api/courier/deposits', { waybill, size: 'S' }, token), 'deposit');
  const c = deposit.compartment.id;
  ok(await api(base, 'POST', `/sim/compartments/${c}/put`), 'put');
  ok(await api(base, 'POST', `/sim/compartments/${c}/close`), 'close');
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const view = ok(await api<{ deposit: DepositJson }>(base, 'GET', `/api/courier/deposits/${deposit.id}`, undefined, token), 'deposit view').deposit;
    if (view.state === 'stored' && view.pickupCode) return { compartment: c, code: view.pickupCode };
    if (view.state === 'failed') throw new Error(`deposit into ${c} failed`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`deposit into ${c} was not stored in time`);
}

/** Consumer pickup over the kiosk API; the simulated person takes the parcel and shuts the door. */
export async function pickupOverHttp(base: string, code: string): Promise<void> {
  const opened = ok(await api<{ compartment: { id: string } }>(base, 'POST', '/api/pickup', { code }), 'pickup');
  const c = opened.compartment.id;
  ok(await api(base, 'POST', `/sim/compartments/${c}/take`), 'take');
  ok(await api(base, 'POST', `/sim/compartments/${c}/close`), 'close');
}

export async function courierLogin(base: string, badge: string): Promise<string> {
  return ok(await api<{ token: string }>(base, 'POST', '/api/courier/login', { badge }), 'login').token;
}
