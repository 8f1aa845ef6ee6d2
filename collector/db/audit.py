"""The audit trail, kept by PostgreSQL itself: triggers on every form table write each
INSERT, UPDATE, DELETE and TRUNCATE into audit_trail (system_tables.py), whoever makes it.

Who and why reach the trigger as transaction-local settings (set_config(…, true)),
passed in the same transaction as the change: the only kind of state PgBouncer's
transaction pooling keeps. The RA's submit is one autocommit INSERT with no
transaction to pass them in; the trigger knows it by the app's application_name
(a connection parameter PgBouncer restores for each client) and takes the RA's
name from the row's entered_by. Anything else (psql, a script, a Dataclip cannot
write) is recorded as "outside the app" under the database user, and may name
itself and give a reason with the same settings.

Erasure (a withdrawal) is the one change audit rows allow: the values they hold of
a row that no longer exists may be emptied. The guard trigger checks both.
"""

from sqlalchemy import literal_column, select, text

from collector.db.sqltext import ddl, sql_literal
from collector.db.system_tables import audit_trail

SETTINGS = ("actor", "reason", "source", "action")
APP_NAME = "collector"  # ops/config.py connects with this application_name
ROW_TRIGGER = "audit_row_change"
TRUNCATE_TRIGGER = "audit_form_truncate"
HISTORY_VIEW = "audit_history"

# Sources and actions the app passes; outside the app the trigger names them itself.
PI_AREA = "PI area"
REPLAY = "replay"
CORRECTED, REVIEWED, WITHDRAWN, REPLAYED = "corrected", "reviewed", "withdrawn", "replayed"

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION audit_row_change() RETURNS trigger LANGUAGE plpgsql
    SET search_path = __SCHEMA__, pg_temp AS $body$
DECLARE
    who text := nullif(current_setting('collector.actor', true), '');
    why text := nullif(current_setting('collector.reason', true), '');
    via text := nullif(current_setting('collector.source', true), '');
    what text := nullif(current_setting('collector.action', true), '');
    target record;
    changed jsonb;
    names text[];
    app_client boolean := current_setting('application_name') = 'collector';
BEGIN
    IF TG_OP = 'INSERT' THEN target := NEW; ELSE target := OLD; END IF;
    IF NOT app_client THEN
        -- psql may name itself and say why, but not claim to be the PI area or replay.
        via := NULL; what := NULL;
    END IF;
    IF via IS NULL AND TG_OP = 'INSERT' AND app_client THEN
        -- The RA's submit: one autocommit INSERT, so no settings; the row names the RA.
        via := 'form'; what := 'submitted'; who := NEW.entered_by;
    ELSIF via IS NULL THEN
        via := 'outside the app';
        what := CASE TG_OP WHEN 'INSERT' THEN 'inserted' WHEN 'UPDATE' THEN 'updated'
                ELSE 'deleted' END || ' outside the app';
        who := coalesce(who, session_user);
    ELSIF TG_OP <> 'INSERT' AND coalesce(btrim(why), '') = '' THEN
        RAISE EXCEPTION 'a change to %.% from the % needs a reason (collector.reason)',
            TG_TABLE_NAME, target.id, via;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_object('old', o.value, 'new', n.value)), '{}'),
               coalesce(array_agg(n.key ORDER BY n.key), '{}')
          INTO changed, names
          FROM jsonb_each(to_jsonb(NEW)) AS n JOIN jsonb_each(to_jsonb(OLD)) AS o USING (key)
         WHERE n.value IS DISTINCT FROM o.value;
    ELSIF TG_OP = 'DELETE' AND what = 'withdrawn' THEN
        -- Erasure: the trail keeps who, when and why, and no value of the participant's.
        -- The withdrawal is recorded first: the guard lets values go only after one.
        INSERT INTO audit_trail (form, row_id, submission_id, operation, action, actor, source, reason)
        VALUES (TG_TABLE_NAME, OLD.id, OLD.submission_id, TG_OP, what, who, via, why);
        -- By reference too: a row renumbered from psql kept its old id in earlier entries.
        UPDATE audit_trail SET changes = NULL
         WHERE form = TG_TABLE_NAME AND (row_id = OLD.id OR submission_id = OLD.submission_id)
           AND changes IS NOT NULL;
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        -- Any other delete keeps what was deleted, so a mistake can be undone from the trail.
        SELECT jsonb_object_agg(key, jsonb_build_object('old', value)),
               array_agg(key ORDER BY key)
          INTO changed, names
          FROM jsonb_each(to_jsonb(OLD)) WHERE value <> 'null'::jsonb;
    END IF;
    INSERT INTO audit_trail (form, row_id, submission_id, operation, action, actor, source,
                             reason, fields, changes)
    VALUES (TG_TABLE_NAME, target.id, target.submission_id, TG_OP, what, who, via, why,
            names, changed);
    RETURN NULL;
END
$body$;

CREATE OR REPLACE FUNCTION audit_form_truncate() RETURNS trigger LANGUAGE plpgsql
    SET search_path = __SCHEMA__, pg_temp AS $body$
BEGIN
    INSERT INTO audit_trail (form, operation, action, actor, source, reason)
    VALUES (TG_TABLE_NAME, 'TRUNCATE', 'truncated outside the app',
            coalesce(nullif(current_setting('collector.actor', true), ''), session_user),
            'outside the app', nullif(current_setting('collector.reason', true), ''));
    RETURN NULL;
END
$body$;

CREATE OR REPLACE FUNCTION audit_trail_guard() RETURNS trigger LANGUAGE plpgsql
    SET search_path = __SCHEMA__, pg_temp AS $body$
DECLARE
    still_there boolean;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.changes IS NULL AND OLD.changes IS NOT NULL
           AND to_jsonb(NEW) - 'changes' = to_jsonb(OLD) - 'changes' THEN
            -- Only after a recorded withdrawal of this reference, and only once its row is gone.
            IF EXISTS (SELECT 1 FROM audit_trail
                        WHERE form = OLD.form AND submission_id = OLD.submission_id
                          AND operation = 'DELETE' AND action = 'withdrawn') THEN
                still_there := false;
                IF to_regclass(quote_ident(OLD.form)) IS NOT NULL THEN
                    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE submission_id = $1)', OLD.form)
                       INTO still_there USING OLD.submission_id;
                END IF;
                IF NOT still_there THEN
                    RETURN NEW;  -- erasing the values of a withdrawn row
                END IF;
            END IF;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_trail is append-only: % refused', TG_OP
        USING HINT = 'Only the values of a withdrawn row can be erased, by withdrawing it. '
                     'See the README, "The audit trail".';
END
$body$;
"""

GUARD_TRIGGERS = """
CREATE OR REPLACE TRIGGER audit_trail_append_only BEFORE UPDATE OR DELETE ON audit_trail
    FOR EACH ROW EXECUTE FUNCTION audit_trail_guard();
CREATE OR REPLACE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON audit_trail
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_guard();
"""

# The trail in words, for Dataclips: one row per change, newest last.
HISTORY_SELECT = r"""
SELECT a.id, a.at, a.form, a.row_id, a.submission_id, a.action,
       CASE WHEN a.source = 'outside the app'
            THEN coalesce(a.actor, a.database_user) || ' (outside the app, as database user '
                 || a.database_user || coalesce(' via ' || nullif(a.client, ''), '') || ')'
            ELSE coalesce(a.actor, '(no invite)') || ' (' || a.source || ')' END AS who,
       a.reason AS why,
       CASE WHEN a.changes IS NULL AND cardinality(a.fields) > 0
            THEN 'values erased at withdrawal: ' || array_to_string(a.fields, ', ')
            ELSE (SELECT string_agg(c.key || ': ' || coalesce(c.value ->> 'old', '(empty)')
                                    || CASE WHEN c.value ? 'new'
                                            THEN ' → ' || coalesce(c.value ->> 'new', '(empty)')
                                            ELSE '' END, '; ' ORDER BY c.key)
                    FROM jsonb_each(a.changes) AS c) END AS what_changed,
       a.actor, a.source, a.database_user, a.client
FROM audit_trail a
"""


def install(conn, form_tables):
    """Create or update the trigger functions, the guard, the view, and every form's triggers.

    Idempotent; returns the names of the forms that got their triggers just now.
    """
    # The functions read the collector's schema, then temporary tables last: a session's
    # own temporary audit_trail (or a temporary table named like a form) must not catch
    # the trail's rows or answer the guard's questions.
    schema = conn.execute(text("SELECT quote_ident(current_schema())")).scalar()
    conn.execute(ddl(FUNCTIONS.replace("__SCHEMA__", schema)))
    conn.execute(ddl(GUARD_TRIGGERS))
    conn.execute(ddl(f"CREATE OR REPLACE VIEW {HISTORY_VIEW} AS {HISTORY_SELECT}"))
    conn.execute(text(f"COMMENT ON VIEW {HISTORY_VIEW} IS :c"), {"c": (
        "The audit trail in words: who changed which row of which form, what from what to "
        "what, and why (collector's own view).")})
    found = set(conn.execute(text(
        "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = :name"),
        {"name": ROW_TRIGGER}).scalars())
    for table in form_tables:
        conn.execute(text(f"CREATE OR REPLACE TRIGGER {ROW_TRIGGER} AFTER INSERT OR UPDATE OR DELETE "
                          f"ON {table} FOR EACH ROW EXECUTE FUNCTION audit_row_change()"))
        conn.execute(text(f"CREATE OR REPLACE TRIGGER {TRUNCATE_TRIGGER} AFTER TRUNCATE "
                          f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION audit_form_truncate()"))
    return [table for table in form_tables if table not in found]


def pass_who(conn, actor, reason, source, action):
    """Tell the audit trigger who makes the changes of this transaction, and why.

    Transaction-local (set_config's third argument), so it ends with the
    transaction and never leaks to the next user of a pooled connection.
    """
    conn.execute(text(
        "SELECT set_config('collector.actor', :actor, true), set_config('collector.reason', :reason, true), "
        "set_config('collector.source', :source, true), set_config('collector.action', :action, true)"),
        {"actor": actor or "", "reason": reason or "", "source": source, "action": action})


def withdrawal(form, submission_id):
    """Return SQL that is true when `submission_id` (a value or a bind parameter) was withdrawn
    from `form`: one probe of ix_audit_trail_deleted. The form's name and the words are
    literals, so the submit's INSERT gains no bind parameter of its own (storage.py)."""
    trail = audit_trail.c
    return select(trail.id).where(
        trail.form == literal_column(sql_literal(form)), trail.submission_id == submission_id,
        trail.operation == literal_column("'DELETE'"),
        trail.action == literal_column(sql_literal(WITHDRAWN))).exists()


def was_withdrawn(conn, form, submission_id):
    """Return whether `submission_id` was withdrawn from `form` (it must never come back)."""
    return conn.execute(select(withdrawal(form, submission_id))).scalar()
