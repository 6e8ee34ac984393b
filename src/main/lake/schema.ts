// The lake's tables are a public contract (docs/LAKE.md documents every column). SCHEMA_SQL
// creates a new lake at SCHEMA_VERSION; an older lake is brought there by the migrations in
// migrations.ts, so every change to this file ships one.

export const SCHEMA_VERSION = 7

/**
 * DuckDB's on-disk format for a new lake. Its default (v0.10.2) lacks zstd for strings: bronze's
 * raw lines, most of a lake's bytes, take 3× the space in FSST and ~1.6× the CPU to write. A lake
 * created earlier keeps its format (DuckDB cannot upgrade a file in place) and opens as before;
 * reading a new one needs DuckDB 1.4 or later.
 */
export const LAKE_STORAGE_VERSION = 'v1.4.0'

/** `lake_meta.format`: tells a StreamDesk lake from any other DuckDB database. */
export const LAKE_FORMAT = 'streamdesk-lake'

const bronzeColumns = `
  batch_id        BIGINT NOT NULL,
  ingested_at     TIMESTAMPTZ NOT NULL,
  source          VARCHAR NOT NULL,
  byte_offset     BIGINT,
  kafka_partition INTEGER,
  kafka_offset    BIGINT,
  kafka_key       VARCHAR,
  kafka_timestamp TIMESTAMPTZ,
  raw             VARCHAR USING COMPRESSION zstd`

/**
 * Alert delivery (schema 6); also what the migration to 6 creates. One row per alert and sink,
 * written in the transaction of the batch that raised the alert (so no alert is lost or queued
 * twice), then updated by that sink's sender (src/main/alerts/). The primary key is why the same
 * order never alerts twice on one sink.
 */
export const ALERT_OUTBOX_SQL = `
-- delivery_key is set, with listed, before the first attempt to send the message holding the
-- alert: a re-send after a crash carries the same key and the same alerts. listed = false: the
-- alert was counted in that message's "+N more" instead of listed (the sink's maxAlertsPerMessage)
CREATE TABLE alert_outbox (
  sink_id      VARCHAR NOT NULL,
  order_id     VARCHAR NOT NULL,
  batch_id     BIGINT NOT NULL,
  fraud_score  INTEGER NOT NULL,
  alert        JSON NOT NULL,
  queued_at    TIMESTAMPTZ NOT NULL,
  delivery_key VARCHAR,
  listed       BOOLEAN,
  attempts     INTEGER NOT NULL DEFAULT 0,
  last_error   VARCHAR,
  delivered_at TIMESTAMPTZ,
  PRIMARY KEY (sink_id, order_id)
);
`

/** Fraud rules as data (schema 5); also what the migration to 5 creates. */
export const RULES_TABLES_SQL = `
-- every promoted ruleset, never changed or deleted: the active one is the highest version
CREATE TABLE ruleset_versions (
  version       INTEGER PRIMARY KEY,
  ruleset       JSON NOT NULL,
  promoted_by   VARCHAR NOT NULL,
  promoted_at   TIMESTAMPTZ NOT NULL,
  note          VARCHAR NOT NULL,
  restored_from INTEGER
);

-- named lists rules test membership in; a list is replaced whole (delete + insert)
CREATE TABLE rule_lists (
  name        VARCHAR NOT NULL,
  description VARCHAR NOT NULL,
  entries     VARCHAR[] NOT NULL,
  updated_by  VARCHAR NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL
);

-- shadow mode: a candidate ruleset scoring each new batch beside the active version, its scores
-- kept apart; at most one runs (ended_at NULL). outcome: 'dropped' or 'promoted as version N'
CREATE TABLE shadow_runs (
  shadow_id  INTEGER NOT NULL,
  ruleset    JSON NOT NULL,
  started_by VARCHAR NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  note       VARCHAR NOT NULL,
  ended_at   TIMESTAMPTZ,
  outcome    VARCHAR
);
CREATE TABLE shadow_scores (
  shadow_id     INTEGER NOT NULL,
  order_id      VARCHAR NOT NULL,
  batch_id      BIGINT NOT NULL,
  fraud_score   INTEGER NOT NULL,
  is_alert      BOOLEAN NOT NULL,
  fraud_rules   VARCHAR[] NOT NULL,
  fraud_reasons VARCHAR[] NOT NULL
);

-- analysts' verdicts, appended: an order's label is its latest row ('cleared' withdraws one)
CREATE SEQUENCE label_id_seq;
CREATE TABLE labels (
  label_id    BIGINT NOT NULL DEFAULT nextval('label_id_seq'),
  order_id    VARCHAR NOT NULL,
  label       VARCHAR NOT NULL,
  author      VARCHAR NOT NULL,
  labelled_at TIMESTAMPTZ NOT NULL,
  note        VARCHAR NOT NULL
);
`

export const SCHEMA_SQL = `
CREATE TABLE lake_meta (key VARCHAR PRIMARY KEY, value VARCHAR);

CREATE TABLE bronze_orders (${bronzeColumns});
CREATE TABLE bronze_customers (${bronzeColumns});

CREATE TABLE silver_orders (
  order_id           VARCHAR NOT NULL,
  customer_id        VARCHAR NOT NULL,
  order_ts           TIMESTAMPTZ NOT NULL,
  status             VARCHAR NOT NULL,
  currency           VARCHAR NOT NULL,
  total_amount       DECIMAL(18,2) NOT NULL,
  total_cents        BIGINT NOT NULL,
  items              STRUCT(product_id VARCHAR, product_name VARCHAR, category VARCHAR, quantity BIGINT, unit_price DECIMAL(18,2))[],
  item_count         BIGINT NOT NULL,
  categories         VARCHAR[],
  payment_method     VARCHAR,
  shipping_country   VARCHAR NOT NULL,
  billing_country    VARCHAR NOT NULL,
  channel            VARCHAR NOT NULL,
  order_hour         TINYINT NOT NULL,
  order_weekday      TINYINT NOT NULL,
  customer_segment   VARCHAR,
  customer_signup_ts TIMESTAMPTZ,
  is_cross_border    BOOLEAN NOT NULL,
  fraud_score        INTEGER NOT NULL,
  fraud_reasons      VARCHAR[] NOT NULL,
  is_late            BOOLEAN NOT NULL,
  batch_id           BIGINT NOT NULL,
  source             VARCHAR NOT NULL,
  source_position    VARCHAR NOT NULL,
  processed_at       TIMESTAMPTZ NOT NULL,
  -- money in the reporting currency (schema 4). Nullable as in a migrated lake, where a currency
  -- without a known rate has none; the pipeline always fills them.
  fx_rate            DOUBLE,
  reporting_currency VARCHAR,
  reporting_amount   DECIMAL(18,2),
  reporting_cents    BIGINT,
  -- which rules scored the row (schema 5): the ids of the rules that fired, in ruleset order
  -- (fraud_reasons holds their inputs lines, same order), and the ruleset version. NULL on rows
  -- scored before rulesets were versioned.
  fraud_rules        VARCHAR[],
  ruleset_version    INTEGER
);

CREATE TABLE customers (
  customer_id  VARCHAR NOT NULL,
  name         VARCHAR,
  email        VARCHAR,
  signup_ts    TIMESTAMPTZ,
  country      VARCHAR,
  segment      VARCHAR,
  batch_id     BIGINT NOT NULL,
  updated_at   TIMESTAMPTZ NOT NULL
);

CREATE SEQUENCE quarantine_id_seq;
CREATE TABLE quarantine (
  id              BIGINT NOT NULL DEFAULT nextval('quarantine_id_seq'),
  batch_id        BIGINT NOT NULL,
  kind            VARCHAR NOT NULL,
  source          VARCHAR NOT NULL,
  byte_offset     BIGINT,
  kafka_partition INTEGER,
  kafka_offset    BIGINT,
  kafka_key       VARCHAR,
  kafka_timestamp TIMESTAMPTZ,
  reason          VARCHAR NOT NULL,
  raw             VARCHAR,
  ingested_at     TIMESTAMPTZ NOT NULL,
  -- the 'revalidate' batch that took the line into silver once its cause was fixed (schema 6)
  resolved_batch_id BIGINT
);

CREATE TABLE order_windows (
  window_start     TIMESTAMPTZ NOT NULL,
  window_end       TIMESTAMPTZ NOT NULL,
  orders           BIGINT NOT NULL,
  revenue          DECIMAL(18,2) NOT NULL,
  revenue_orders   BIGINT NOT NULL,
  avg_order_value  DECIMAL(18,2),
  unique_customers BIGINT NOT NULL,
  is_final         BOOLEAN NOT NULL,
  updated_batch_id BIGINT NOT NULL
);

CREATE TABLE fraud_alerts (
  order_id         VARCHAR NOT NULL,
  customer_id      VARCHAR NOT NULL,
  order_ts         TIMESTAMPTZ NOT NULL,
  total_amount     DECIMAL(18,2) NOT NULL,
  currency         VARCHAR NOT NULL,
  status           VARCHAR NOT NULL,
  fraud_score      INTEGER NOT NULL,
  fraud_reasons    VARCHAR[] NOT NULL,
  shipping_country VARCHAR NOT NULL,
  billing_country  VARCHAR NOT NULL,
  customer_segment VARCHAR,
  batch_id         BIGINT NOT NULL,
  detected_at      TIMESTAMPTZ NOT NULL,
  fx_rate            DOUBLE,
  reporting_currency VARCHAR,
  reporting_amount   DECIMAL(18,2),
  fraud_rules        VARCHAR[],
  ruleset_version    INTEGER
);

CREATE TABLE batches (
  batch_id        BIGINT PRIMARY KEY,
  started_at      TIMESTAMPTZ NOT NULL,
  committed_at    TIMESTAMPTZ NOT NULL,
  duration_ms     DOUBLE NOT NULL,
  rows_read       BIGINT NOT NULL,
  valid           BIGINT NOT NULL,
  quarantined     BIGINT NOT NULL,
  late            BIGINT NOT NULL,
  duplicates      BIGINT NOT NULL,
  alerts          BIGINT NOT NULL,
  bytes_read      BIGINT NOT NULL,
  input_rate      DOUBLE NOT NULL,
  processing_rate DOUBLE NOT NULL,
  watermark       TIMESTAMPTZ,
  max_event_ts    TIMESTAMPTZ,
  offsets         JSON NOT NULL,
  events          JSON DEFAULT '[]',
  -- what wrote the batch (schema 6): 'live' ingest, a 'replay' of earlier batches from bronze, or
  -- the 'revalidate' of quarantined lines; replay describes a replay chunk (docs/LAKE.md, Replay)
  kind            VARCHAR DEFAULT 'live',
  replay          JSON
);

CREATE TABLE source_offsets (
  source_kind VARCHAR NOT NULL,
  key         VARCHAR NOT NULL,
  next_offset BIGINT NOT NULL,
  batch_id    BIGINT NOT NULL,
  identity    JSON,
  PRIMARY KEY (source_kind, key)
);
${RULES_TABLES_SQL}
${ALERT_OUTBOX_SQL}`

export const LAKE_TABLES = [
  'bronze_orders',
  'bronze_customers',
  'silver_orders',
  'customers',
  'quarantine',
  'order_windows',
  'fraud_alerts',
  'batches',
  'source_offsets',
  'ruleset_versions',
  'rule_lists',
  'labels',
  'shadow_runs',
  'shadow_scores',
  'alert_outbox'
] as const
export type LakeTable = (typeof LAKE_TABLES)[number]
