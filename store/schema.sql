-- schema.sql - the evidence store's tables and views in PostgreSQL
-- (README "The evidence store"; ARCHITECTURE.md "The evidence store").
-- `tlswitness load` runs this once, in a transaction, when the database has
-- no store of this version; it is also the documentation of the store.
--
-- What goes in: the JSON Lines `--format json` writes, one shard (the
-- records of one run and its manifest) per transaction.  Every record is
-- kept whole (`record`, jsonb) beside the columns the views use.  Tables
-- holding records are partitioned by the UTC day of the record's
-- first_seen (a login's time); `tlswitness.ensure_day` adds a day's
-- partitions when a load needs them.
--
-- Idempotency: a shard is known by `shard_key`, a SHA-256 of its inputs'
-- SHA-256s (the manifest's): loading it again changes nothing.  A record
-- is known by `msg_key` (source, host, instance, queue ID, first seen;
-- records without a queue ID add their connection and first evidence),
-- so two shards over overlapping logs store each message once; a complete
-- record replaces an incomplete one of the same key.

CREATE SCHEMA IF NOT EXISTS tlswitness;

CREATE TABLE IF NOT EXISTS tlswitness.store_meta (
	key text PRIMARY KEY,
	value text NOT NULL
);

-- One row per shard loaded.
CREATE TABLE IF NOT EXISTS tlswitness.manifests (
	manifest_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	shard_key text NOT NULL UNIQUE,
	report_id text,
	report_sha256 text,
	schema_version int NOT NULL,
	tool_version text,
	generated timestamptz,
	command_line text,
	rules_sha256 text,
	policy text,
	source_file text,		-- the file the loader read the shard from
	first_line bigint,		-- ... its first and last line there
	last_line bigint,
	records bigint NOT NULL DEFAULT 0,
	stored bigint NOT NULL DEFAULT 0,	-- records not already in the store
	hosts text[],
	period_start timestamptz,	-- the inputs' first and last timestamps
	period_end timestamptz,
	loaded_at timestamptz NOT NULL DEFAULT now(),
	manifest jsonb NOT NULL
);
-- who signed the shard (tlswitness load --key: the key's fingerprint,
-- "Ed25519 sha256:..."); null: loaded unsigned
ALTER TABLE tlswitness.manifests ADD COLUMN IF NOT EXISTS signer text;
-- false: the run that wrote the shard did not hash its report (asked for
-- no --manifest, --sign, --timestamp-request or --state); report_sha256 is
-- then the loader's own hash of the records it read, for telling a second
-- load of the same shard from a conflicting one, and nothing shows the
-- records are what tlswitness wrote
ALTER TABLE tlswitness.manifests ADD COLUMN IF NOT EXISTS report_hashed boolean;

-- The manifest's inputs: what each shard read, with its hash.
CREATE TABLE IF NOT EXISTS tlswitness.inputs (
	manifest_id bigint NOT NULL REFERENCES tlswitness.manifests ON DELETE CASCADE,
	position int NOT NULL,
	path text,
	type text,
	compression text,
	size bigint,
	sha256 text,
	first_timestamp timestamptz,
	last_timestamp timestamptz,
	unit text,
	read bigint,
	used bigint,
	skipped bigint,
	PRIMARY KEY (manifest_id, position)
);

-- Every record of kind "message": a queue file on one MTA (source log),
-- a capture's connection or message (source pcap), a message's Received
-- headers (source header).
CREATE TABLE IF NOT EXISTS tlswitness.messages (
	day date NOT NULL,
	msg_key uuid NOT NULL,
	manifest_id bigint NOT NULL,
	line bigint NOT NULL,		-- the record's line in its shard's file
	host text,
	instance text,
	mta text,
	source text NOT NULL,
	queue_id text,
	prior_queue_id text,
	arrival_queue_id text,		-- prior_queue_id, else queue_id: what the previous server's log named
	message_id text,
	from_addr text,
	first_seen timestamptz,
	last_seen timestamptz,
	complete boolean,
	verdict text,
	severity text,
	record jsonb NOT NULL,
	PRIMARY KEY (day, msg_key)
) PARTITION BY RANGE (day);
CREATE INDEX IF NOT EXISTS messages_arrival ON tlswitness.messages (arrival_queue_id);
CREATE INDEX IF NOT EXISTS messages_message_id ON tlswitness.messages (message_id);
-- the few incomplete records, which a complete one of the same key replaces
CREATE INDEX IF NOT EXISTS messages_incomplete ON tlswitness.messages (day, msg_key)
	WHERE complete IS NOT TRUE;

-- The inbound hop of each message record.
CREATE TABLE IF NOT EXISTS tlswitness.arrivals (
	day date NOT NULL,
	msg_key uuid NOT NULL,
	host text,
	instance text,
	source text,
	time timestamptz,
	peer_host text,
	peer_ip text,
	peer_port int,
	submission boolean,
	authenticated boolean,
	sasl_method text,
	sasl_username text,
	network boolean,
	local boolean,
	tls_used boolean,
	tls_version text,
	cipher text,
	bits int,
	cert text,
	starttls_offered boolean,
	stripped boolean,
	downgrade text,
	verdict text,
	severity text,
	rule text,
	evidence text[],
	PRIMARY KEY (day, msg_key)
) PARTITION BY RANGE (day);

-- One row per recipient of a queue file (README "Fates, attempts and
-- downgrades"): the attempt that carried it, or its last.
CREATE TABLE IF NOT EXISTS tlswitness.deliveries (
	day date NOT NULL,
	msg_key uuid NOT NULL,
	idx int NOT NULL,		-- its place among the record's deliveries, from 1
	host text,
	instance text,
	queue_id text,
	rcpt text,
	rcpt_domain text,		-- as --format domains names it: after the last @, lower case
	peer_host text,
	peer_ip text,
	peer_port int,
	time timestamptz,
	status text,
	dsn text,
	next_queue_id text,
	outcome text,
	fate text,
	reason text,
	filter boolean,
	network boolean,
	local boolean,
	tls_used boolean,
	tls_version text,
	cipher text,
	bits int,
	cert text,
	stripped boolean,
	downgrade text,
	level text,
	enforced boolean,
	enforced_by text,
	-- over its attempts too, as --format domains takes them: whether the
	-- server offered STARTTLS (the first attempt that says), the strongest
	-- mandatory level any attempt showed in force
	starttls_offered boolean,
	level_in_force text,
	verdict text,
	severity text,
	rule text,
	evidence text[],
	PRIMARY KEY (day, msg_key, idx)
) PARTITION BY RANGE (day);
CREATE INDEX IF NOT EXISTS deliveries_domain ON tlswitness.deliveries (rcpt_domain);
CREATE INDEX IF NOT EXISTS deliveries_next ON tlswitness.deliveries (next_queue_id);

-- Every attempt of a delivery, the carrying one among them, in time order.
CREATE TABLE IF NOT EXISTS tlswitness.attempts (
	day date NOT NULL,
	msg_key uuid NOT NULL,
	delivery_idx int NOT NULL,
	idx int NOT NULL,
	time timestamptz,
	count int,
	last_time timestamptz,
	peer_host text,
	peer_ip text,
	outcome text,
	status text,
	dsn text,
	reason text,
	tls_used boolean,
	tls_version text,
	cipher text,
	starttls_offered boolean,
	level text,
	enforced boolean,
	downgrade text,
	evidence text[],
	PRIMARY KEY (day, msg_key, delivery_idx, idx)
) PARTITION BY RANGE (day);

-- Records of kind "login": IMAP, POP3 and submission logins.
CREATE TABLE IF NOT EXISTS tlswitness.logins (
	day date NOT NULL,
	login_key uuid NOT NULL,
	manifest_id bigint NOT NULL,
	line bigint NOT NULL,
	host text,
	mta text,
	source text,
	service text,
	status text,
	username text,
	time timestamptz,
	peer_ip text,
	security text,
	tls_used boolean,
	tls_version text,
	authenticated boolean,
	verdict text,
	severity text,
	rule text,
	record jsonb NOT NULL,
	PRIMARY KEY (day, login_key)
) PARTITION BY RANGE (day);

-- The day's partitions of every partitioned table.
CREATE OR REPLACE FUNCTION tlswitness.ensure_day(d date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['messages', 'arrivals', 'deliveries', 'attempts', 'logins', 'links'] LOOP
		EXECUTE format('CREATE TABLE IF NOT EXISTS tlswitness.%I PARTITION OF tlswitness.%I '
			       'FOR VALUES FROM (%L) TO (%L)',
			       t || '_' || to_char(d, 'YYYYMMDD'), t, d, d + 1);
	END LOOP;
END $$;

-- Postfix's and --format domains' order of TLS levels, weakest first
-- (model/message.h enum tls_level); 0 for none known.
CREATE OR REPLACE FUNCTION tlswitness.level_rank(level text) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(array_position(ARRAY['none', 'may', 'encrypt', 'dane', 'dane-only',
					     'fingerprint', 'verify', 'secure'], level), 0)
$$;

-- A recipient's domain as --format domains takes it (util/addr.c
-- addr_domain_of): after the last @, trailing > and . dropped, ASCII
-- letters lower-cased; NULL without an @.
CREATE OR REPLACE FUNCTION tlswitness.domain_of(addr text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN strpos(addr, '@') > 0 THEN
		translate(rtrim(substring(addr FROM '@([^@]*)$'), '>.'),
			  'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') END
$$;

CREATE OR REPLACE FUNCTION tlswitness.evidence_array(j jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN jsonb_typeof(j) = 'array' THEN
		ARRAY(SELECT jsonb_array_elements_text(j)) END
$$;

-- ---------------------------------------------------------------------
-- Views: the fleet's questions.

-- Capture connections: what a capture showed of each SMTP connection.
CREATE OR REPLACE VIEW tlswitness.capture_connections AS
SELECT m.day, m.msg_key, m.manifest_id, m.host AS server_ip, a.peer_ip AS client_ip,
       a.peer_port AS client_port, a.time, (m.record->>'per_connection')::boolean AS per_connection,
       m.queue_id, m.message_id, a.tls_used, a.tls_version, a.cipher, a.starttls_offered,
       a.stripped, a.downgrade, m.record->'inbound'->'tls'->>'sni' AS sni,
       a.verdict, a.severity, a.rule, a.evidence
FROM tlswitness.messages m JOIN tlswitness.arrivals a USING (day, msg_key)
WHERE m.source = 'pcap';

-- Each delivery's link to the next server's copy of the message
-- (correlate/paths.c, PATH_LINK_WINDOW): by its next queue ID to the
-- arrival of that queue ID nearest in time within 300 s; a delivery
-- without one, sent and not local, by the message's Message-ID to the
-- copy on another server that first appeared within 300 s, after this
-- one, when exactly one does.  Only the logs' records are linked here:
-- captures and Received headers are --format paths' alone.  Kept as a
-- table, not a view, so a path is walked by index: load_stage relinks the
-- deliveries a shard can change (its own, those naming its arrivals'
-- queue IDs, those of its Message-IDs) with relink.
CREATE TABLE IF NOT EXISTS tlswitness.links (
	day date NOT NULL,
	msg_key uuid NOT NULL,
	idx int NOT NULL,
	to_day date NOT NULL,
	to_key uuid NOT NULL,
	linked_by text NOT NULL,
	PRIMARY KEY (day, msg_key, idx)
) PARTITION BY RANGE (day);
CREATE INDEX IF NOT EXISTS links_to ON tlswitness.links (to_day, to_key);

-- The links of the deliveries in the temporary table tw_affected (day,
-- msg_key, idx), made anew.
CREATE OR REPLACE FUNCTION tlswitness.relink() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM tlswitness.links l USING tw_affected a
	WHERE l.day = a.day AND l.msg_key = a.msg_key AND l.idx = a.idx;
	INSERT INTO tlswitness.links
	SELECT DISTINCT ON (d.day, d.msg_key, d.idx) d.day, d.msg_key, d.idx, n.day, n.msg_key, 'queue ID'
	FROM tw_affected a
	JOIN tlswitness.deliveries d ON d.day = a.day AND d.msg_key = a.msg_key AND d.idx = a.idx
	JOIN tlswitness.messages n ON n.arrival_queue_id = d.next_queue_id
		AND n.source = 'log' AND n.queue_id IS NOT NULL
		AND NOT (n.day = d.day AND n.msg_key = d.msg_key)
		AND abs(extract(epoch FROM n.first_seen - d.time)) <= 300
	WHERE d.next_queue_id IS NOT NULL
	ORDER BY d.day, d.msg_key, d.idx, abs(extract(epoch FROM n.first_seen - d.time)),
		 n.first_seen, n.host, n.instance, n.msg_key;
	INSERT INTO tlswitness.links
	SELECT d.day, d.msg_key, d.idx, min(n.day), (array_agg(n.msg_key))[1], 'Message-ID'
	FROM tw_affected a
	JOIN tlswitness.deliveries d ON d.day = a.day AND d.msg_key = a.msg_key AND d.idx = a.idx
	JOIN tlswitness.messages f ON f.day = d.day AND f.msg_key = d.msg_key
		AND f.message_id IS NOT NULL AND f.source = 'log'
	JOIN tlswitness.messages n ON n.message_id = f.message_id
		AND n.source = 'log' AND n.queue_id IS NOT NULL
		AND (coalesce(n.host, ''), coalesce(n.instance, ''))
			<> (coalesce(f.host, ''), coalesce(f.instance, ''))
		AND n.first_seen >= f.first_seen
		AND abs(extract(epoch FROM n.first_seen - d.time)) <= 300
	WHERE d.next_queue_id IS NULL AND NOT coalesce(d.local, false) AND d.status = 'sent'
	GROUP BY d.day, d.msg_key, d.idx
	HAVING count(*) = 1;
END $$;

-- The paths from the given first messages, their
-- hops in the order --format paths writes them: the arrival, then each
-- delivery followed by the next server's arrival and that server's
-- deliveries.  One row per hop; `path` names the path by its first
-- message, `step` orders the hops.
CREATE OR REPLACE FUNCTION tlswitness.paths_from(root_days date[], root_keys uuid[])
RETURNS TABLE (path_day date, path uuid, step int[], host text, instance text, server text,
	       queue_id text, message_id text, direction text, rcpt text, peer_host text,
	       peer_ip text, status text, next_queue_id text, linked_by text,
	       "time" timestamptz, tls_used boolean, tls_version text, cipher text,
	       verdict text, severity text, rule text, evidence text[])
LANGUAGE sql STABLE AS $$
WITH RECURSIVE
roots AS (
	SELECT r.day, r.msg_key FROM unnest(root_days, root_keys) AS r(day, msg_key)
),
walk (root_day, root_key, day, msg_key, ord, seen) AS (
	SELECT day, msg_key, day, msg_key, ARRAY[0]::int[], ARRAY[msg_key]
	FROM roots
	UNION ALL
	SELECT w.root_day, w.root_key, l.to_day, l.to_key, w.ord || l.idx, w.seen || l.to_key
	FROM walk w
	JOIN tlswitness.links l ON l.day = w.day AND l.msg_key = w.msg_key
	WHERE NOT l.to_key = ANY (w.seen)
),
visit AS (
	-- each server's copy once in a path, where a depth-first walk meets
	-- it first (two recipients handed over in one session reach one copy)
	SELECT DISTINCT ON (root_day, root_key, day, msg_key) root_day, root_key, day, msg_key, ord
	FROM walk ORDER BY root_day, root_key, day, msg_key, ord
),
hops AS (
	-- a node's arrival comes right after the delivery that reached it
	SELECT w.root_day, w.root_key, w.ord || 0 AS step, w.day, w.msg_key,
	       'inbound'::text AS direction, NULL::int AS idx
	FROM visit w
	UNION ALL
	SELECT w.root_day, w.root_key, w.ord || d.idx || -1, w.day, w.msg_key,
	       'outbound', d.idx
	FROM visit w JOIN tlswitness.deliveries d ON d.day = w.day AND d.msg_key = w.msg_key
)
SELECT h.root_day, h.root_key, h.step, m.host, m.instance,
       concat(m.host, CASE WHEN m.instance IS NOT NULL THEN '/' || m.instance END),
       m.queue_id, m.message_id, h.direction, d.rcpt,
       coalesce(d.peer_host, a.peer_host), coalesce(d.peer_ip, a.peer_ip),
       d.status, d.next_queue_id, l.linked_by,
       coalesce(d.time, a.time), coalesce(d.tls_used, a.tls_used),
       coalesce(d.tls_version, a.tls_version), coalesce(d.cipher, a.cipher),
       coalesce(d.verdict, a.verdict), coalesce(d.severity, a.severity),
       coalesce(d.rule, a.rule), coalesce(d.evidence, a.evidence)
FROM hops h
JOIN tlswitness.messages m ON m.day = h.day AND m.msg_key = h.msg_key
LEFT JOIN tlswitness.arrivals a ON h.direction = 'inbound' AND a.day = h.day AND a.msg_key = h.msg_key
LEFT JOIN tlswitness.deliveries d ON h.direction = 'outbound' AND d.day = h.day
	AND d.msg_key = h.msg_key AND d.idx = h.idx
LEFT JOIN tlswitness.links l ON h.direction = 'outbound' AND l.day = h.day
	AND l.msg_key = h.msg_key AND l.idx = h.idx
WHERE h.direction = 'outbound' OR a.msg_key IS NOT NULL
$$;

-- The first messages of paths: no link reaches them.
CREATE OR REPLACE VIEW tlswitness.path_roots AS
SELECT m.day, m.msg_key FROM tlswitness.messages m
WHERE m.source = 'log' AND m.queue_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM tlswitness.links l WHERE l.to_day = m.day AND l.to_key = m.msg_key);

-- Every path (--format paths).
CREATE OR REPLACE VIEW tlswitness.paths AS
SELECT p.* FROM (SELECT array_agg(day) AS days, array_agg(msg_key) AS keys
		 FROM tlswitness.path_roots) r,
	       tlswitness.paths_from(r.days, r.keys) p;

-- The paths that hold a copy of the message with this Message-ID (the
-- incident's question): its copies' links followed back to where their
-- paths begin, and those paths walked; by index, whatever the store's size.
CREATE OR REPLACE FUNCTION tlswitness.path_of(mid text)
RETURNS SETOF tlswitness.paths
LANGUAGE sql STABLE AS $$
WITH RECURSIVE up (day, msg_key, seen) AS (
	SELECT day, msg_key, ARRAY[msg_key] FROM tlswitness.messages
	WHERE message_id = mid AND source = 'log' AND queue_id IS NOT NULL
	UNION ALL
	SELECT l.day, l.msg_key, u.seen || l.msg_key
	FROM up u JOIN tlswitness.links l ON l.to_day = u.day AND l.to_key = u.msg_key
	WHERE NOT l.msg_key = ANY (u.seen)
), r AS (
	SELECT DISTINCT day, msg_key FROM up u
	WHERE NOT EXISTS (SELECT 1 FROM tlswitness.links l WHERE l.to_day = u.day AND l.to_key = u.msg_key)
)
SELECT p.* FROM (SELECT array_agg(day) AS days, array_agg(msg_key) AS keys FROM r) x,
		tlswitness.paths_from(x.days, x.keys) p
$$;

-- Deliveries counted as --format domains counts them (report/domains.c):
-- not local, to an address with a domain, not from Received headers.
CREATE OR REPLACE VIEW tlswitness.domain_deliveries AS
SELECT d.*, date_trunc('month', coalesce(d.time, m.first_seen) AT TIME ZONE 'UTC')::date AS month,
       coalesce(d.time, m.first_seen) AS counted_at,
       d.outcome IS NOT NULL AND d.outcome <> 'sent' AS undelivered
FROM tlswitness.deliveries d JOIN tlswitness.messages m USING (day, msg_key)
WHERE m.source <> 'header' AND NOT coalesce(d.local, false) AND d.rcpt_domain IS NOT NULL;

-- TLS share per recipient domain and month: the columns of --format
-- domains' recipient-domain records, for the deliveries counted in that
-- month (UTC).  tls_share is of the delivered hops, null when no hop's
-- TLS use is known.
CREATE OR REPLACE VIEW tlswitness.domain_month AS
SELECT rcpt_domain AS domain, month,
       count(*) FILTER (WHERE NOT undelivered) AS hops,
       count(DISTINCT msg_key) FILTER (WHERE NOT undelivered) AS messages,
       count(*) FILTER (WHERE NOT undelivered AND tls_used) AS tls,
       count(*) FILTER (WHERE NOT undelivered AND NOT tls_used) AS plaintext,
       count(*) FILTER (WHERE NOT undelivered AND tls_used IS NULL) AS unknown,
       count(*) FILTER (WHERE NOT undelivered AND NOT tls_used AND stripped) AS stripped_or_refused,
       count(*) FILTER (WHERE starttls_offered) AS starttls_offered,
       count(*) FILTER (WHERE NOT starttls_offered) AS starttls_not_offered,
       count(*) FILTER (WHERE NOT undelivered AND NOT tls_used AND NOT coalesce(stripped, false)
			AND downgrade = 'handshake-failed') AS downgraded,
       count(*) FILTER (WHERE undelivered) AS undelivered,
       count(*) FILTER (WHERE NOT undelivered AND enforced) AS enforced,
       count(*) FILTER (WHERE NOT undelivered AND NOT enforced) AS opportunistic,
       (array_agg(level_in_force ORDER BY tlswitness.level_rank(level_in_force) DESC)
		FILTER (WHERE level_in_force IS NOT NULL))[1] AS level_in_force,
       CASE WHEN count(*) FILTER (WHERE NOT undelivered AND tls_used IS NOT NULL) > 0 THEN
	   round(count(*) FILTER (WHERE NOT undelivered AND tls_used)::numeric
		 / count(*) FILTER (WHERE NOT undelivered), 3) END AS tls_share,
       array_agg(DISTINCT tls_version) FILTER (WHERE NOT undelivered AND tls_used
						 AND tls_version IS NOT NULL) AS versions,
       array_agg(DISTINCT cipher) FILTER (WHERE NOT undelivered AND tls_used
					    AND cipher IS NOT NULL) AS ciphers,
       count(*) FILTER (WHERE NOT undelivered AND tls_used AND cert = 'anonymous') AS cert_anonymous,
       count(*) FILTER (WHERE NOT undelivered AND tls_used AND cert = 'untrusted') AS cert_untrusted,
       count(*) FILTER (WHERE NOT undelivered AND tls_used AND cert = 'trusted') AS cert_trusted,
       count(*) FILTER (WHERE NOT undelivered AND tls_used AND cert = 'verified') AS cert_verified,
       min(counted_at) AS first_seen, max(counted_at) AS last_seen
FROM tlswitness.domain_deliveries
GROUP BY rcpt_domain, month;

-- Every delivered hop in plaintext, with its evidence: filter by domain,
-- e.g. WHERE rcpt_domain = ANY ('{clinic.example,lab.example}') AND time >= '2026-01-01'.
CREATE OR REPLACE VIEW tlswitness.plaintext_deliveries AS
SELECT d.day, d.time, d.rcpt_domain, d.rcpt, m.host, m.instance, m.queue_id, m.message_id,
       m.from_addr, d.peer_host, d.peer_ip, d.status, d.fate, d.downgrade, d.stripped,
       d.starttls_offered, d.level, d.enforced, d.verdict, d.severity, d.rule, d.evidence,
       m.manifest_id
FROM tlswitness.domain_deliveries d JOIN tlswitness.messages m USING (day, msg_key)
WHERE NOT d.undelivered AND d.tls_used = false;

-- Enforcement per recipient domain and month (README "Enforcement"): of
-- the delivered hops, how many went at a level that forbade plaintext,
-- how many at an opportunistic one, how many with nothing saying.
CREATE OR REPLACE VIEW tlswitness.enforcement_coverage AS
SELECT rcpt_domain AS domain, month,
       count(*) AS hops,
       count(*) FILTER (WHERE enforced) AS enforced,
       count(*) FILTER (WHERE NOT enforced) AS opportunistic,
       count(*) FILTER (WHERE enforced IS NULL) AS not_known,
       round(count(*) FILTER (WHERE enforced)::numeric / count(*), 3) AS enforced_share,
       count(*) FILTER (WHERE NOT enforced AND NOT tls_used) AS plaintext_opportunistic
FROM tlswitness.domain_deliveries
WHERE NOT undelivered
GROUP BY rcpt_domain, month;

-- The policy map --policy-map postfix writes (report/domains.c decide),
-- over everything stored: one row per recipient domain, `level` what its
-- map line says (NULL: not in the map) and `why`.  A mandatory level the
-- evidence shows in force is kept; otherwise a domain whose every
-- delivery used TLS, or whose plaintext deliveries were all stripped or
-- refused STARTTLS (a downgrade victim), gets "verify" where every TLS
-- delivery's certificate was verified, else "encrypt"; a name with other
-- characters than a-z, 0-9, "." and "-" is never mapped.
CREATE OR REPLACE VIEW tlswitness.policy_map AS
SELECT domain, hops, tls, plaintext, unknown, stripped_or_refused, downgraded,
       starttls_not_offered, undelivered, level_in_force,
       CASE WHEN NOT safe THEN NULL
	    WHEN level_in_force IS NOT NULL THEN level_in_force
	    WHEN tls + plaintext = 0 THEN NULL
	    WHEN plaintext = 0 OR plaintext = stripped_or_refused THEN
		CASE WHEN tls > 0 AND cert_verified = tls THEN 'verify' ELSE 'encrypt' END
       END AS level,
       CASE WHEN NOT safe THEN 'the name holds characters a map cannot'
	    WHEN level_in_force IS NOT NULL THEN 'the level the evidence shows in force, kept'
	    WHEN tls + plaintext = 0 AND (hops > 0 OR undelivered = 0) THEN 'no delivery whose TLS use is known'
	    WHEN tls + plaintext = 0 THEN 'no message was delivered there (see undelivered)'
	    WHEN plaintext = 0 THEN 'every delivery used TLS'
	    WHEN plaintext = stripped_or_refused THEN
		'its plaintext deliveries were all stripped or refused STARTTLS: a downgrade victim'
	    WHEN plaintext = stripped_or_refused + downgraded THEN
		'its servers offer STARTTLS but the handshake failed before every plaintext delivery'
	    WHEN starttls_not_offered > 0 THEN 'its servers did not offer STARTTLS'
	    ELSE 'some deliveries went in plaintext with no sign of interference'
       END AS why,
       first_seen, last_seen
FROM (
	SELECT domain, sum(hops) AS hops, sum(tls) AS tls, sum(plaintext) AS plaintext,
	       sum(unknown) AS unknown, sum(stripped_or_refused) AS stripped_or_refused,
	       sum(downgraded) AS downgraded, sum(starttls_not_offered) AS starttls_not_offered,
	       sum(undelivered) AS undelivered, sum(cert_verified) AS cert_verified,
	       (array_agg(level_in_force ORDER BY tlswitness.level_rank(level_in_force) DESC)
		FILTER (WHERE level_in_force IS NOT NULL))[1] AS level_in_force,
	       domain ~ '^[a-z0-9.-]+$' AS safe,
	       min(first_seen) AS first_seen, max(last_seen) AS last_seen
	FROM tlswitness.domain_month GROUP BY domain
) t;

-- The policy map's candidates: the domains it maps, with the level.
CREATE OR REPLACE VIEW tlswitness.policy_map_candidates AS
SELECT domain, level, why, hops, tls, plaintext, stripped_or_refused, first_seen, last_seen
FROM tlswitness.policy_map WHERE level IS NOT NULL;

-- ---------------------------------------------------------------------
-- Loading (store/pgload.c): the loader copies a shard's records into the
-- session's temporary table tw_stage (line, rec), takes them apart
-- (stage_rows), checks them, adds the days' partitions, then, in the
-- shard's transaction, calls load_stage.

-- The staged records (tw_stage: line, rec) taken apart into the
-- temporary table tw_rows, once per shard, before it is checked.

-- A manifest's inputs, one element each (none when it has no array).
CREATE OR REPLACE FUNCTION tlswitness.manifest_inputs(m jsonb) RETURNS SETOF jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_array_elements(CASE WHEN jsonb_typeof(m->'inputs') = 'array'
				    THEN m->'inputs' ELSE '[]' END)
$$;

-- A record's identity (see the head of this file); conn is its inbound
-- hop or a login's connection.
CREATE OR REPLACE FUNCTION tlswitness.record_key(kind text, source text, host text,
						 instance text, queue_id text, first text,
						 conn jsonb, service text, username text,
						 status text) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
	SELECT md5(concat_ws(E'\x1f', kind, source, coalesce(host, E'\x1e'),
		coalesce(instance, E'\x1e'), coalesce(queue_id, E'\x1e'), coalesce(first, E'\x1e'),
		CASE WHEN queue_id IS NULL THEN concat_ws(E'\x1f', conn->>'peer_ip',
			conn->>'peer_port', conn->'evidence'->>0, service, username, status) END))::uuid
$$;

-- A record's day: of its first sighting (a login's time), UTC.
CREATE OR REPLACE FUNCTION tlswitness.record_day(first text, fallback date) RETURNS date
LANGUAGE sql STABLE AS $$
	SELECT coalesce((first::timestamptz AT TIME ZONE 'UTC')::date, fallback)
$$;

-- The shard's records into the tables; returns how many were new.  Each
-- record is taken apart once (jsonb_to_record): an operator per field
-- would decompress the whole record again for each.
CREATE OR REPLACE FUNCTION tlswitness.stage_rows(fallback date) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
	DROP TABLE IF EXISTS tw_rows;
	CREATE TEMP TABLE tw_rows AS
	SELECT s.line, s.rec, x.*, tlswitness.record_day(coalesce(x.first_seen, x."time"), fallback) AS day,
	       tlswitness.record_key(x.kind, x.source, x.host, x.instance, x.queue_id,
				     coalesce(x.first_seen, x."time"), coalesce(x.inbound, x.connection),
				     x.service, x."user", x.status) AS key,
	       false AS fresh
	FROM tw_stage s, jsonb_to_record(s.rec) AS x(kind text, schema_version text, host text,
		instance text, mta text, source text, queue_id text, prior_queue_id text,
		message_id text, "from" text, first_seen text, last_seen text, complete boolean,
		verdict text, severity text, inbound jsonb, deliveries jsonb, connection jsonb,
		service text, status text, "user" text, "time" text, security text);
	-- a temporary table has no statistics until analysed: without them
	-- the joins of load_stage were planned as nested loops over it
	ANALYZE tw_rows;
	RETURN (SELECT count(*) FROM tw_rows);
END $$;

-- The staged records (stage_rows) into the tables; returns how many were
-- new.  Each record was taken apart once (jsonb_to_record): an operator
-- per field would decompress the whole record again for each.
CREATE OR REPLACE FUNCTION tlswitness.load_stage(mid bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	-- a complete record replaces an incomplete one of the same key, but
	-- an unsigned shard never replaces what a signed one stored
	WITH old AS (
		DELETE FROM tlswitness.messages m USING tw_rows r
		WHERE r.kind = 'message' AND m.day = r.day AND m.msg_key = r.key
		  AND m.complete IS NOT TRUE AND r.complete
		  AND ((SELECT signer FROM tlswitness.manifests WHERE manifest_id = mid) IS NOT NULL
		       OR (SELECT signer FROM tlswitness.manifests o
		           WHERE o.manifest_id = m.manifest_id) IS NULL)
		RETURNING m.day, m.msg_key
	), a AS (
		DELETE FROM tlswitness.arrivals x USING old WHERE x.day = old.day AND x.msg_key = old.msg_key
	), d AS (
		DELETE FROM tlswitness.deliveries x USING old WHERE x.day = old.day AND x.msg_key = old.msg_key
	), t AS (
		DELETE FROM tlswitness.attempts x USING old WHERE x.day = old.day AND x.msg_key = old.msg_key
	), l AS (
		DELETE FROM tlswitness.links x USING old WHERE x.day = old.day AND x.msg_key = old.msg_key
	), k AS (
		DELETE FROM tlswitness.links x USING old WHERE x.to_day = old.day AND x.to_key = old.msg_key
	)
	SELECT count(*) INTO n FROM old;

	WITH ins AS (
		INSERT INTO tlswitness.messages
		SELECT r.day, r.key, mid, r.line, r.host, r.instance, r.mta, r.source, r.queue_id,
		       r.prior_queue_id, coalesce(r.prior_queue_id, r.queue_id), r.message_id, r."from",
		       r.first_seen::timestamptz, r.last_seen::timestamptz, r.complete, r.verdict,
		       r.severity, r.rec
		FROM tw_rows r WHERE r.kind = 'message'
		ON CONFLICT DO NOTHING
		RETURNING line
	)
	UPDATE tw_rows r SET fresh = true FROM ins WHERE r.line = ins.line;

	WITH ins AS (
		INSERT INTO tlswitness.logins
		SELECT r.day, r.key, mid, r.line, r.host, r.mta, r.source, r.service, r.status, r."user",
		       r."time"::timestamptz, c.peer_ip, r.security, t.used, t.version, c.authenticated,
		       r.verdict, r.severity, c.rule, r.rec
		FROM tw_rows r
		LEFT JOIN LATERAL jsonb_to_record(r.connection) AS c(peer_ip text, authenticated boolean,
			rule text, tls jsonb) ON true
		LEFT JOIN LATERAL jsonb_to_record(c.tls) AS t(used boolean, version text) ON true
		WHERE r.kind = 'login'
		ON CONFLICT DO NOTHING
		RETURNING line
	)
	UPDATE tw_rows r SET fresh = true FROM ins WHERE r.line = ins.line;

	INSERT INTO tlswitness.arrivals
	SELECT r.day, r.key, r.host, r.instance, i.source, i."time"::timestamptz, i.peer_host,
	       i.peer_ip, i.peer_port, i.submission, i.authenticated, i.sasl_method, i.sasl_username,
	       i.network, i.local, t.used, t.version, t.cipher, t.bits, t.cert, t.starttls_offered,
	       t.stripped, t.downgrade, i.verdict, i.severity, i.rule, tlswitness.evidence_array(i.evidence)
	FROM tw_rows r,
	     jsonb_to_record(r.inbound) AS i(source text, "time" text, peer_host text, peer_ip text,
		peer_port int, submission boolean, authenticated boolean, sasl_method text,
		sasl_username text, network boolean, local boolean, tls jsonb, verdict text,
		severity text, rule text, evidence jsonb)
	LEFT JOIN LATERAL jsonb_to_record(i.tls) AS t(used boolean, version text, cipher text,
		bits int, cert text, starttls_offered boolean, stripped boolean, downgrade text) ON true
	WHERE r.fresh AND r.kind = 'message' AND jsonb_typeof(r.inbound) = 'object';

	INSERT INTO tlswitness.deliveries
	SELECT r.day, r.key, d.idx, r.host, r.instance, r.queue_id, d.rcpt,
	       tlswitness.domain_of(d.rcpt), d.peer_host, d.peer_ip, d.peer_port,
	       d."time"::timestamptz, d.status, d.dsn, d.next_queue_id, d.outcome, d.fate, d.reason,
	       coalesce(d.filter, false), d.network, d.local, t.used, t.version, t.cipher, t.bits,
	       t.cert, t.stripped, t.downgrade, t.level, t.enforced, t.enforced_by,
	       coalesce(t.starttls_offered,
			(SELECT (a.j->'tls'->>'starttls_offered')::boolean
			 FROM jsonb_array_elements(d.attempts) WITH ORDINALITY a(j, n)
			 WHERE a.j->'tls'->>'starttls_offered' IS NOT NULL ORDER BY a.n LIMIT 1)),
	       (SELECT l FROM (SELECT x->'tls'->>'level' AS l
			       FROM jsonb_array_elements(coalesce(d.attempts, '[]') || jsonb_build_array(d.tls_of)) x
			       WHERE x->'tls'->>'enforced' = 'true'
				 AND tlswitness.level_rank(x->'tls'->>'level') >= 3) y
		ORDER BY tlswitness.level_rank(l) DESC LIMIT 1),
	       d.verdict, d.severity, d.rule, tlswitness.evidence_array(d.evidence)
	FROM tw_rows r,
	     LATERAL (SELECT x.*, jsonb_build_object('tls', x.tls) AS tls_of, e.idx
		      FROM jsonb_array_elements(r.deliveries) WITH ORDINALITY AS e(j, idx),
			   jsonb_to_record(e.j) AS x(rcpt text, peer_host text, peer_ip text,
				peer_port int, "time" text, status text, dsn text, next_queue_id text,
				outcome text, fate text, reason text, filter boolean, network boolean,
				local boolean, tls jsonb, attempts jsonb, verdict text, severity text,
				rule text, evidence jsonb)) d
	LEFT JOIN LATERAL jsonb_to_record(d.tls) AS t(used boolean, version text, cipher text,
		bits int, cert text, stripped boolean, downgrade text, level text, enforced boolean,
		enforced_by text, starttls_offered boolean) ON true
	WHERE r.fresh AND r.kind = 'message' AND jsonb_typeof(r.deliveries) = 'array';

	INSERT INTO tlswitness.attempts
	SELECT r.day, r.key, d.idx, a.idx, x."time"::timestamptz, x.count, x.last_time::timestamptz,
	       x.peer_host, x.peer_ip, x.outcome, x.status, x.dsn, x.reason, t.used, t.version,
	       t.cipher, t.starttls_offered, t.level, t.enforced, t.downgrade,
	       tlswitness.evidence_array(x.evidence)
	FROM tw_rows r, jsonb_array_elements(r.deliveries) WITH ORDINALITY d(j, idx),
	     jsonb_array_elements(CASE WHEN jsonb_typeof(d.j->'attempts') = 'array'
				  THEN d.j->'attempts' ELSE '[]' END) WITH ORDINALITY a(j, idx),
	     jsonb_to_record(a.j) AS x("time" text, count int, last_time text, peer_host text,
		peer_ip text, outcome text, status text, dsn text, reason text, tls jsonb,
		evidence jsonb)
	LEFT JOIN LATERAL jsonb_to_record(x.tls) AS t(used boolean, version text, cipher text,
		starttls_offered boolean, level text, enforced boolean, downgrade text) ON true
	WHERE r.fresh AND r.kind = 'message' AND jsonb_typeof(r.deliveries) = 'array';

	-- the links the new records can change: their own deliveries', those
	-- naming their arrivals' queue IDs, those of their Message-IDs' copies.
	-- One loader at a time from here to its commit (store/pgload.c
	-- LOCK_CLASS, 3): two shards loaded at once, a sender's and its next
	-- server's, would each miss the other's uncommitted half of a link.
	PERFORM pg_advisory_xact_lock(1953955840, 3);
	ANALYZE tw_rows;
	CREATE TEMP TABLE tw_affected ON COMMIT DROP AS
	SELECT d.day, d.msg_key, d.idx
	FROM tw_rows r JOIN tlswitness.deliveries d ON d.day = r.day AND d.msg_key = r.key
	WHERE r.fresh AND r.kind = 'message'
	UNION
	SELECT d.day, d.msg_key, d.idx
	FROM tw_rows r JOIN tlswitness.deliveries d
		ON d.next_queue_id = coalesce(r.prior_queue_id, r.queue_id)
	WHERE r.fresh AND r.kind = 'message' AND r.source = 'log'
	UNION
	SELECT d.day, d.msg_key, d.idx
	FROM tw_rows r,
	     -- by the index, for each new record (OFFSET 0 keeps the planner
	     -- from a merge join over every stored message)
	     LATERAL (SELECT f.day, f.msg_key FROM tlswitness.messages f
		      WHERE f.message_id = r.message_id OFFSET 0) f
	JOIN tlswitness.deliveries d ON d.day = f.day AND d.msg_key = f.msg_key
	WHERE r.fresh AND r.kind = 'message' AND r.message_id IS NOT NULL AND d.next_queue_id IS NULL;
	PERFORM tlswitness.relink();

	SELECT count(*) INTO n FROM tw_rows WHERE fresh;
	DROP TABLE tw_affected;
	RETURN n;
END $$;

INSERT INTO tlswitness.store_meta VALUES ('store_version', '1') ON CONFLICT (key) DO NOTHING;
