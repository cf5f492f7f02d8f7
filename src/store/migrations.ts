// Versioned schema migrations, applied in order inside one transaction each.
// PRAGMA user_version holds the number of migrations applied. Never edit a released
// migration: add a new one.
//
// Privacy: no table has a column for a name, phone number, e-mail or address. Pickup and
// drop-off codes exist only as HMAC-SHA256 digests (code_digest).

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Provisioned desired state (layout, carriers, config): versioned, newest wins.
CREATE TABLE provisioned (
  key        TEXT PRIMARY KEY,
  version    INTEGER NOT NULL,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE carriers (
  id         TEXT PRIMARY KEY,
  config     TEXT NOT NULL,           -- CarrierConfig JSON (public keys, dwell, policy, PIN hashes)
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE compartments (
  id         TEXT PRIMARY KEY,
  size       TEXT NOT NULL CHECK (size IN ('XS','S','M','L','XL')),
  bus        TEXT NOT NULL,
  board      INTEGER NOT NULL,
  lock       INTEGER NOT NULL,
  accessible INTEGER NOT NULL DEFAULT 0,
  col        INTEGER NOT NULL DEFAULT 1,
  row        INTEGER NOT NULL DEFAULT 1,
  in_service INTEGER NOT NULL DEFAULT 1,
  fault      TEXT,                    -- why it is out of service (LATCH_JAMMED, operator reason, ...)
  active     INTEGER NOT NULL DEFAULT 1  -- 0 once a layout change removed it (kept for history)
) STRICT;

-- Parcels and drop-offs. state follows DESIGN.md section 5:
--   delivery: announced -> stored -> picked_up | stored -> expired -> retrieved | announced -> cancelled
--   drop-off: announced_dropoff -> dropped_off -> collected | announced_dropoff -> cancelled
CREATE TABLE parcels (
  id             TEXT PRIMARY KEY,    -- ULID
  carrier        TEXT NOT NULL,
  waybill        TEXT NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('delivery','dropoff')),
  state          TEXT NOT NULL CHECK (state IN ('announced','stored','picked_up','expired','retrieved','cancelled','announced_dropoff','dropped_off','collected')),
  size           TEXT CHECK (size IN ('XS','S','M','L','XL')),
  compartment_id TEXT REFERENCES compartments(id),
  code_digest    TEXT,                -- HMAC-SHA256(locker secret, code), hex
  dwell_hours    REAL,
  announced_at   INTEGER,
  stored_at      INTEGER,
  expires_at     INTEGER,
  closed_at      INTEGER
) STRICT;
CREATE UNIQUE INDEX parcels_live_code ON parcels(code_digest)
  WHERE code_digest IS NOT NULL AND state IN ('announced','stored','expired','announced_dropoff');
CREATE UNIQUE INDEX parcels_live_waybill ON parcels(carrier, waybill)
  WHERE state IN ('announced','stored','expired','announced_dropoff','dropped_off');
CREATE INDEX parcels_in_compartment ON parcels(compartment_id)
  WHERE state IN ('stored','expired','dropped_off');
CREATE INDEX parcels_expiry ON parcels(expires_at) WHERE state = 'stored';
CREATE INDEX parcels_carrier_state ON parcels(carrier, state);

-- One row per door session; intermediate states live in memory, the row is written when the
-- session starts and when it ends (two writes), so a power cut can be reconciled at boot.
CREATE TABLE door_sessions (
  id             TEXT PRIMARY KEY,    -- ULID
  compartment_id TEXT NOT NULL REFERENCES compartments(id),
  purpose        TEXT NOT NULL,       -- deposit | pickup | collect | dropoff | remote_open | service
  state          TEXT NOT NULL,       -- in_flight | done | failed | reconciled
  actor          TEXT NOT NULL,       -- consumer | courier:<carrier>/<id> | operator:<id>
  context        TEXT NOT NULL,       -- JSON: what the transaction needs to finish (no personal data)
  started_at     INTEGER NOT NULL,
  ended_at       INTEGER,
  outcome        TEXT
) STRICT;
CREATE INDEX door_sessions_in_flight ON door_sessions(state) WHERE state = 'in_flight';

CREATE TABLE audit (
  id      INTEGER PRIMARY KEY,
  ts      INTEGER NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  subject TEXT,
  data    TEXT NOT NULL DEFAULT '{}'
) STRICT;

-- Failed-attempt budget for codes typed or scanned at the kiosk (scope 'keypad').
CREATE TABLE code_attempts (
  scope           TEXT PRIMARY KEY,
  failures        INTEGER NOT NULL,
  trips           INTEGER NOT NULL,
  locked_until    INTEGER NOT NULL,
  last_failure_at INTEGER NOT NULL
) STRICT;

-- Transactional outbox. One stream per (locker, carrier): 'c/<carrier>'; the operator stream: 'op'.
-- seq is contiguous per stream, allocated from streams.next_seq in the same transaction.
CREATE TABLE streams (
  stream     TEXT PRIMARY KEY,
  carrier    TEXT,                    -- NULL for the operator stream
  next_seq   INTEGER NOT NULL DEFAULT 1,
  acked_upto INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE outbox (
  stream       TEXT NOT NULL REFERENCES streams(stream),
  seq          INTEGER NOT NULL,
  id           TEXT NOT NULL UNIQUE,  -- ULID, the envelope id
  type         TEXT NOT NULL,         -- parcel.stored, parcel.picked_up, alarm.latch_jammed, ...
  carrier      TEXT,
  ts           INTEGER NOT NULL,
  clock_synced INTEGER NOT NULL,
  boot_id      TEXT NOT NULL,
  data         TEXT NOT NULL,         -- JSON; pickup codes only as a JWE to the owning carrier
  sent_at      INTEGER,               -- PUBACK received
  acked_at     INTEGER,               -- covered by the consumer's {upTo}
  PRIMARY KEY (stream, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX outbox_unsent ON outbox(stream, seq) WHERE sent_at IS NULL;

-- Commands seen (replay store). The reply is kept so a retried command gets the same answer.
CREATE TABLE command_log (
  jti         TEXT PRIMARY KEY,
  issuer      TEXT NOT NULL,
  cmd         TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  reply       TEXT NOT NULL
) STRICT;
CREATE INDEX command_log_expiry ON command_log(expires_at);
`,
  },
  {
    version: 2,
    name: 'attempt budgets as token buckets; pickup QR tokens',
    sql: `
-- Attempt budgets (src/codes/budgetLedger.ts): one token bucket per scope ('keypad', 'pin',
-- 'pin:<carrier>/<courier>'). tokens are the tries left when the row was written.
CREATE TABLE attempt_budgets (
  scope      TEXT PRIMARY KEY,
  tokens     REAL NOT NULL,
  updated_at INTEGER NOT NULL,
  alarmed_at INTEGER NOT NULL DEFAULT 0
) STRICT;
-- A scope that had failures or a lockout under the old rules starts empty: an upgrade never
-- hands an attacker a fresh budget.
INSERT INTO attempt_budgets (scope, tokens, updated_at, alarmed_at)
  SELECT scope, 0, last_failure_at, 0 FROM code_attempts WHERE failures > 0 OR locked_until > 0;
DROP TABLE code_attempts;

-- Pickup QR token of a stored parcel (src/codes/pickupToken.ts), as HMAC-SHA256 like code_digest.
ALTER TABLE parcels ADD COLUMN token_digest TEXT;
CREATE UNIQUE INDEX parcels_live_token ON parcels(token_digest)
  WHERE token_digest IS NOT NULL AND state IN ('stored','expired');
`,
  },
  {
    version: 3,
    name: 'badge revocation list',
    sql: `
-- Revoked badges, pushed by signed carrier and operator commands and kept offline. A row covers
-- one badge (kind 'badge', target = its jti) or every badge of a subject issued before
-- not_before (kind 'subject', target = the courier or operator id). A row is deleted once
-- basis_at + the role's maximum badge lifetime + the iat skew has passed: every badge it covers
-- has expired by then. basis_at is revoked_at for a badge id and not_before for a subject.
CREATE TABLE badge_revocations (
  issuer     TEXT NOT NULL,           -- the badge's iss: a carrier id or the operator id
  kind       TEXT NOT NULL CHECK (kind IN ('badge','subject')),
  target     TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('courier','operator')),
  not_before INTEGER,                 -- epoch ms; subject rows only
  basis_at   INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL,
  revoked_by TEXT NOT NULL,           -- operator:<id> | carrier:<id>
  PRIMARY KEY (issuer, kind, target)
) STRICT, WITHOUT ROWID;
CREATE INDEX badge_revocations_expiry ON badge_revocations(role, basis_at);
`,
  },
  {
    version: 4,
    name: 'command replay quota per issuer',
    // The replay store counts the live records of one issuer for its quota (issue 7, finding
    // 12). New rows key on a digest of the jti; rows from before keep their raw jti until they
    // expire (the store looks up both).
    sql: `
CREATE INDEX command_log_issuer_expiry ON command_log(issuer, expires_at);
`,
  },
  {
    version: 5,
    name: 'door cycles per compartment',
    // Latches wear: operators schedule maintenance from the number of times each door opened
    // and each latch was energised (src/metrics/doorCycles.ts). Counted in memory and written
    // with the periodic health event and at shutdown, never per door (SD cards wear too).
    sql: `
CREATE TABLE door_cycles (
  compartment_id TEXT PRIMARY KEY,     -- a compartment id of the layout (kept after a layout change)
  opens          INTEGER NOT NULL DEFAULT 0,
  unlocks        INTEGER NOT NULL DEFAULT 0,
  updated_at     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
`,
  },
  {
    version: 6,
    name: 'outbox keeps the signed wire bytes; per-stream sent watermarks',
    // Issue 10: the envelope is signed and encoded when the row is appended (src/sync/envelope.ts
    // envelopeSealer) and the drain publishes the stored bytes. PUBACKs move one watermark per
    // stream (streams.sent_upto: every row up to it had its PUBACK) instead of updating each
    // row, and the consumer's {upTo} is streams.acked_upto alone: rows are written once and
    // never rewritten. The table becomes a rowid table: with 1 KiB pages a WITHOUT ROWID row
    // holds at most ~230 bytes before it spills into overflow pages, a rowid row ~990 bytes,
    // which fits a signed envelope. A row holds its event data either as `data` (appended
    // without a signer: test fixtures, the fleet simulator, rows from before this migration;
    // the publisher signs those when it sends them) or inside `wire`, never both.
    // The watermark of an existing stream is the contiguous prefix of rows with sent_at (or
    // acknowledged): a row sent after a gap goes out once more, which consumers drop by id.
    sql: `
ALTER TABLE streams ADD COLUMN sent_upto INTEGER NOT NULL DEFAULT 0;
UPDATE streams SET sent_upto = MAX(acked_upto, COALESCE(
  (SELECT MIN(o.seq) - 1 FROM outbox o WHERE o.stream = streams.stream AND o.sent_at IS NULL AND o.acked_at IS NULL),
  next_seq - 1));
CREATE TABLE outbox_v6 (
  stream       TEXT NOT NULL REFERENCES streams(stream),
  seq          INTEGER NOT NULL,
  id           TEXT NOT NULL UNIQUE,  -- ULID, the envelope id
  type         TEXT NOT NULL,
  carrier      TEXT,
  ts           INTEGER NOT NULL,
  clock_synced INTEGER NOT NULL,
  boot_id      TEXT NOT NULL,
  data         TEXT,                  -- JSON, only while wire is NULL
  wire         BLOB,                  -- the signed envelope exactly as published (UTF-8 JSON)
  UNIQUE (stream, seq),
  CHECK ((data IS NULL) <> (wire IS NULL))
) STRICT;
INSERT INTO outbox_v6 (stream, seq, id, type, carrier, ts, clock_synced, boot_id, data, wire)
  SELECT stream, seq, id, type, carrier, ts, clock_synced, boot_id, data, NULL FROM outbox ORDER BY stream, seq;
DROP TABLE outbox;
ALTER TABLE outbox_v6 RENAME TO outbox;
`,
  },
  {
    version: 7,
    name: 'pickup extensions and low-compartment reservations',
    // A consumer extends a stored parcel's pickup time at the kiosk where the carrier allows it
    // (carriers[].pickupExtension, issue 11 flow 5): how often and by how much, per parcel, so
    // the carrier's "once" holds across restarts. Written in the same transaction as the new
    // expires_at and the parcel.pickup_extended event (src/store/pickupExtensions.ts).
    sql: `
CREATE TABLE pickup_extensions (
  parcel_id   TEXT PRIMARY KEY REFERENCES parcels(id) ON DELETE CASCADE,
  times       INTEGER NOT NULL,
  hours       INTEGER NOT NULL,        -- all extensions together
  extended_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
-- A carrier's reservation may require a low (accessible) compartment because the consumer asked
-- for one (createReservation requiresLow, issue 11 flow 4): the deposit or drop-off of that
-- parcel is then allocated a low door (src/store/pickupExtensions.ts, ParcelNeedsStore).
CREATE TABLE parcel_needs (
  parcel_id    TEXT PRIMARY KEY REFERENCES parcels(id) ON DELETE CASCADE,
  requires_low INTEGER NOT NULL CHECK (requires_low IN (0, 1))
) STRICT, WITHOUT ROWID;
`,
  },
  {
    version: 8,
    name: 'uncertain door sessions',
    // A door session whose outcome the sensors could not tell (the line was lost after an
    // unlock, or a power cut on a board with no item sensor) ends 'uncertain' and holds its
    // compartment in inspection until an operator settles it ('settled'); see
    // docs/architecture.md, "Uncertain outcomes". No table change: state is free text.
    sql: `
CREATE INDEX door_sessions_uncertain ON door_sessions(compartment_id) WHERE state = 'uncertain';
`,
  },
  {
    version: 9,
    name: 'database identity and stream epoch',
    // One row, written at first boot (src/store/databaseIdentity.ts), with a copy in
    // <dataDir>/identity/database.json: a data folder that had a database refuses to start on a
    // missing or empty one. The epoch is part of every stream's identity: a new database, a
    // restore or lost WAL frames start a new epoch, and consumers dedupe by
    // (locker, carrier, epoch, seq).
    sql: `
CREATE TABLE database_identity (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  locker_id    TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  epoch        TEXT NOT NULL,
  epoch_reason TEXT NOT NULL,          -- first_boot | reinitialised | restored | wal_lost | adopted
  epoch_at     INTEGER NOT NULL
) STRICT;
`,
  },
  {
    version: 10,
    name: 'retention: indexes for pruning and the unsettled commands',
    // Growth with work (issue 10, item 4): the periodic retention job (src/store/retention.ts)
    // deletes by age in bounded batches, so each rule needs an index on its age column. The
    // replay store's start-up pass reads only the commands still without a reply (the partial
    // index), not every row. Ended door sessions and closed parcels are found by their end time;
    // sessions in flight and live parcels are never in these indexes.
    sql: `
CREATE INDEX audit_ts ON audit(ts);
CREATE INDEX door_sessions_ended ON door_sessions(ended_at) WHERE state <> 'in_flight';
CREATE INDEX parcels_closed ON parcels(closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX command_log_unsettled ON command_log(jti) WHERE substr(reply, -13) = '"reply":null}';
`,
  },
  {
    version: 11,
    name: 'grouped pickup codes',
    // Issue 11, flow 2: the carrier groups parcels for one recipient (createReservation
    // { group }). A member row per reservation; the group's one code lives here as a digest
    // (never the code), so it survives any one member leaving the locker. Members keep
    // code_digest NULL in parcels. See src/store/parcelGroups.ts.
    sql: `
CREATE TABLE parcel_groups (
  carrier     TEXT NOT NULL,
  group_id    TEXT NOT NULL,
  code_digest TEXT NOT NULL UNIQUE,     -- HMAC-SHA256(locker secret, code), hex
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (carrier, group_id)
) STRICT;
CREATE TABLE parcel_group_members (
  parcel_id TEXT PRIMARY KEY,          -- no foreign key: retention prunes closed parcels
  carrier   TEXT NOT NULL,
  group_id  TEXT NOT NULL
) STRICT;
CREATE INDEX parcel_group_members_group ON parcel_group_members(carrier, group_id);
`,
  },
];
