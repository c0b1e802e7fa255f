// Package sqlstore is a room's message history in its Durable Object's
// SQLite database: the schema, the statements, the prune trigger and how a
// window of history is cut. It talks to SQLite through DB, so it runs
// natively in tests against a real SQLite; the worker's DB calls the
// object's ctx.storage.sql through the glue.
//
// Messages and the changes to them (edits, deletions) take positions in one
// increasing sequence: a message's id is its position, and a change's
// message_edited or message_deleted frame is kept at its own, so that a
// client's "since" covers both.
package sqlstore

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
	"github.com/mailru/easyjson/jlexer"
	"github.com/mailru/easyjson/jwriter"
)

// DB is one object's SQLite database as the store uses it. The runtime's
// SQL API is synchronous, so every call completes before it returns.
type DB interface {
	// Value runs one statement and returns the first column of its first
	// row: nil when there is no row or the value is NULL, a float64 for a
	// number (as JavaScript hands it over), a string for text.
	Value(query string, args ...any) (any, error)
	// Insert runs InsertMessage with frame bound as ?1. It is the hot path:
	// the worker hands the frame over as bytes, without a JS string.
	Insert(frame []byte) error
}

// Schema is created on the first write only: reading a room that never
// existed must leave no trace in storage.
const Schema = `CREATE TABLE IF NOT EXISTS messages (
	id INTEGER PRIMARY KEY,
	user_id TEXT NOT NULL,
	text TEXT NOT NULL,
	ts TEXT NOT NULL
)`

// changesSchema holds the changes to messages (their frames, at their
// positions) and when each edited message was last edited. A room made
// before edits existed gets them at its next write.
var changesSchema = []string{
	`CREATE TABLE IF NOT EXISTS changes (
		pos INTEGER PRIMARY KEY,
		message_id INTEGER NOT NULL,
		kind TEXT NOT NULL,
		frame TEXT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS changes_message ON changes (message_id)`,
	`CREATE TABLE IF NOT EXISTS edited (message_id INTEGER PRIMARY KEY, edited_at TEXT NOT NULL)`,
	// Moderation: bans and mutes (until in Unix ms, 0 until lifted), the
	// room's settings, and the audit log of every moderation action.
	`CREATE TABLE IF NOT EXISTS bans (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS mutes (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, action TEXT NOT NULL, user_id TEXT NOT NULL,
		by TEXT NOT NULL, reason TEXT NOT NULL, until INTEGER NOT NULL, seconds INTEGER NOT NULL, message_id INTEGER NOT NULL, at TEXT NOT NULL)`,
	// The identities seen with a service token.
	`CREATE TABLE IF NOT EXISTS services (user_id TEXT PRIMARY KEY)`,
	// The answers of idempotent posts, by Idempotency-Key.
	`CREATE TABLE IF NOT EXISTS idempotency (seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, answer TEXT NOT NULL, at INTEGER NOT NULL)`,
	// Read markers: how far each user has read, how far the others were
	// told, and when (Unix ms).
	`CREATE TABLE IF NOT EXISTS reads (user_id TEXT PRIMARY KEY, last INTEGER NOT NULL, shown INTEGER NOT NULL, shown_at INTEGER NOT NULL)`,
	// Reactions, in the order they were made (seq).
	`CREATE TABLE IF NOT EXISTS reactions (seq INTEGER PRIMARY KEY, message_id INTEGER NOT NULL, emoji TEXT NOT NULL, user_id TEXT NOT NULL,
		UNIQUE (message_id, emoji, user_id))`,
}

// extraTables are the tables changesSchema makes, as the probe finds them.
var extraTables = []string{"changes", "edited", "bans", "mutes", "settings", "audit", "idempotency", "services", "reads", "reactions"}

// InsertMessage is the statement of every message: SQLite picks the fields
// out of the broadcast frame (a protocol.ChatMessage), so a message crosses
// into JS once, as the frame, for both the insert and the fan-out.
const InsertMessage = `INSERT INTO messages (id, user_id, text, ts) VALUES (
	json_extract(?1, '$.id'), json_extract(?1, '$.userId'), json_extract(?1, '$.text'), json_extract(?1, '$.timestamp'))`

// probeQuery names everything in the schema, comma-separated (the names hold
// no commas): probe picks out the tables and prune triggers it knows. It
// filters in Go, not in SQL, because workerd keeps every statement an object
// runs compiled for the object's life: measured over 200 objects, a probe
// that filtered by type and name cost each about 5.5 KB, this one 2.3 KB.
const probeQuery = `SELECT group_concat(name, ',') FROM sqlite_master`

// The history window reads the newest rows above a position (?1) and below
// another (?2), at most ?3 of them, oldest first, as one JSON array built by
// SQLite: one round trip, instead of one JS call per column per row. The
// value stays near ?4 bytes of JSON (by SQLite's own quoting) plus one
// message, however large the stored texts are, in at most two reads:
//
//   - fast: every row, when together they hold at most ?4 bytes, and
//     otherwise no row at all (HAVING). That is every read in a room of
//     chat-sized messages.
//   - bounded: a running total (a window function) stops once the rows
//     before a row hold more than ?4 bytes, keeping that last row. It runs
//     only after fast came back without a row, or failed because its value
//     grew past SQLite's length limit (SQLITE_TOOBIG).
//
// Why two: workerd keeps every statement an object runs compiled for the
// object's life, and a window function makes a large program. Measured over
// 200 objects in wrangler dev, each holding one compiled statement: the
// bounded read cost an object about 26 KB, the fast read of a room without
// edits or reactions 8.5 KB; a room that never reads a large window never
// compiles the bounded one.
//
// A room without the change tables reads plain rows; one with them adds
// editedAt to an edited message and the reactions' summaries (reactionsOf)
// to a message that has any.
const (
	plainRow  = `json_object('id', id, 'userId', user_id, 'text', text, 'timestamp', ts)`
	plainRows = `SELECT id, user_id, text, ts FROM messages WHERE id > ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3`
	plainSize = `length(CAST(json_quote(text) AS BLOB)) + length(CAST(json_quote(user_id) AS BLOB)) + 96`

	changedRow = `CASE
		WHEN rx IS NULL AND edited_at IS NULL THEN json_object('id', id, 'userId', user_id, 'text', text, 'timestamp', ts)
		WHEN rx IS NULL THEN json_object('id', id, 'userId', user_id, 'text', text, 'timestamp', ts, 'editedAt', edited_at)
		WHEN edited_at IS NULL THEN json_object('id', id, 'userId', user_id, 'text', text, 'timestamp', ts, 'reactions', json(rx))
		ELSE json_object('id', id, 'userId', user_id, 'text', text, 'timestamp', ts, 'editedAt', edited_at, 'reactions', json(rx)) END`
	changedSize = plainSize + ` + coalesce(length(CAST(rx AS BLOB)), 0)`
)

// changedRows are a window's rows in a room with the change tables.
const changedRows = `SELECT id, user_id, text, ts, edited_at, ` + reactionsOf + ` AS rx
	FROM (SELECT m.id, m.user_id, m.text, m.ts, e.edited_at FROM messages m LEFT JOIN edited e ON e.message_id = m.id
		WHERE m.id > ?1 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3) w`

// reactionsOf is a window row's reactions as JSON text, NULL when it has
// none: each emoji once, in the order it was first used, with its count and
// its first protocol.ReactionUsers reactors (10, spelled out so that every
// window query is a constant: building them at start-up cost the Wasm 2 KB
// gzip; TestReactions checks the number). It runs for the rows the window's
// LIMIT kept only, on the reactions table's unique index.
const reactionsOf = `(SELECT json_group_array(json_object('emoji', emoji, 'count', n, 'users', json(users)) ORDER BY first)
	FROM (SELECT r.emoji, count(*) AS n, min(r.seq) AS first,
			(SELECT json_group_array(u.user_id) FROM (SELECT x.user_id FROM reactions x
				WHERE x.message_id = r.message_id AND x.emoji = r.emoji ORDER BY x.seq LIMIT 10) u) AS users
		FROM reactions r WHERE r.message_id = w.id GROUP BY r.emoji)
	HAVING count(*) > 0)`

// changesQuery reads, in order, the change frames after ?1 to messages at or
// before it (but the redacted edits of deleted messages, forgetEdits): at
// most ?2, stopping near ?3 bytes as the bounded history window does.
const changesQuery = `SELECT json_group_array(json(frame) ORDER BY pos)
	FROM (SELECT pos, frame, sum(length(CAST(frame AS BLOB)) + 1)
			OVER (ORDER BY pos ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_bytes
		FROM (SELECT pos, frame FROM changes WHERE pos > ?1 AND message_id <= ?1 AND kind != 'redacted' ORDER BY pos LIMIT ?2))
	WHERE coalesce(before_bytes, 0) <= ?3`

// accountedQuery counts the positions strictly between ?1 and ?2 that are
// changes, or messages since deleted: a deletion accounts for two positions,
// its own and its message's.
const accountedQuery = `SELECT (SELECT count(*) FROM changes WHERE pos > ?1 AND pos < ?2) +
	(SELECT count(*) FROM changes WHERE kind = 'delete' AND message_id > ?1 AND message_id < ?2)`

// The history window's reads (fast, then bounded) for a room without the
// change tables, and with them. They are constants, made at compile time.
const (
	// runningTotal names the bytes of the rows before each row, newest
	// first (the bounded read).
	runningTotal = ` OVER (ORDER BY id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_bytes`

	fastWithoutChanges = `SELECT json_group_array(` + plainRow + ` ORDER BY id) FROM (` + plainRows + `)
	HAVING coalesce(sum(` + plainSize + `), 0) <= ?4`
	boundedWithoutChanges = `SELECT json_group_array(` + plainRow + ` ORDER BY id)
	FROM (SELECT *, sum(` + plainSize + `)` + runningTotal + `
		FROM (` + plainRows + `))
	WHERE coalesce(before_bytes, 0) <= ?4`
	fastWithChanges = `SELECT json_group_array(` + changedRow + ` ORDER BY id) FROM (` + changedRows + `)
	HAVING coalesce(sum(` + changedSize + `), 0) <= ?4`
	boundedWithChanges = `SELECT json_group_array(` + changedRow + ` ORDER BY id)
	FROM (SELECT *, sum(` + changedSize + `)` + runningTotal + `
		FROM (` + changedRows + `))
	WHERE coalesce(before_bytes, 0) <= ?4`
)

// noUpperBound stands for "no before": above any id.
const noUpperBound = int64(1) << 53

const (
	lastIDQuery       = `SELECT coalesce(max(id), 0) FROM messages`
	lastPositionQuery = `SELECT max(coalesce((SELECT max(id) FROM messages), 0), coalesce((SELECT max(pos) FROM changes), 0))`
	authorQuery       = `SELECT user_id FROM messages WHERE id = ?`
	editText          = `UPDATE messages SET text = ?2 WHERE id = ?1`
	markEdited        = `INSERT OR REPLACE INTO edited (message_id, edited_at) VALUES (?1, ?2)`
	recordChange      = `INSERT INTO changes (pos, message_id, kind, frame) VALUES (?1, ?2, ?3, ?4)`
	deleteMessage     = `DELETE FROM messages WHERE id = ?`
	forgetEdited      = `DELETE FROM edited WHERE message_id = ?`
	// forgetEdits drops the text of a deleted message's edits but keeps
	// their positions, so that a history window still accounts for them.
	forgetEdits = `UPDATE changes SET kind = 'redacted', frame = '{}' WHERE message_id = ? AND kind IN ('edit', 'reaction')`
	// forgetReactions takes a deleted message's reactions with it.
	forgetReactions      = `DELETE FROM reactions WHERE message_id = ?`
	kindEdit, kindDelete = "edit", "delete"
)

// PruneTrigger is the name of the trigger that prunes every message (and,
// once the room has them, every change and reaction) more than keep
// positions old. It is named after keep, so a new MAX_STORED_MESSAGES
// replaces it, and "prune3_" (changes and reactions too) replaces "prune_"
// (messages alone) when a room gets its first change, and "prune2_" (from
// before reactions) in a room that had changes then.
func PruneTrigger(keep int, changes bool) string {
	// Every name begins with prunePrefix, by which probe tells them.
	if changes {
		return "prune3_" + strconv.Itoa(keep)
	}
	return "prune_" + strconv.Itoa(keep)
}

// prunePrefix begins the name of every prune trigger there ever was, and of
// nothing else in a room's schema.
const prunePrefix = "prune"

// pruneTriggerSQL prunes after every message: in SQLite itself, so a
// message is one statement. Every position at or below the new id minus keep
// goes, message or change alike. A trigger may name only tables that exist
// when it fires, hence the two.
//
// A room gets its trigger only with its first message past keep: before
// that the trigger would delete nothing, yet every room would pay for it, in
// memory (the trigger in the schema, its program in the cached insert: about
// 2.5 MiB for 100 rooms in the rooms benchmark) and on every insert. Once
// made it stays, and a room that had one gets the one for a new keep.
func pruneTriggerSQL(keep int, changes bool) string {
	k := strconv.Itoa(keep)
	sql := `CREATE TRIGGER IF NOT EXISTS ` + PruneTrigger(keep, changes) + ` AFTER INSERT ON messages BEGIN
			DELETE FROM messages WHERE id <= NEW.id - ` + k + `;`
	if changes {
		sql += `
			DELETE FROM changes WHERE pos <= NEW.id - ` + k + `;
			DELETE FROM edited WHERE message_id <= NEW.id - ` + k + `;
			DELETE FROM reactions WHERE message_id <= NEW.id - ` + k + `;`
	}
	return sql + ` END`
}

// State is what a store learned about its database during one object's
// life: it saves asking again on every message. A new object starts from the
// zero State.
type State struct {
	probed       bool // probe ran
	schemaReady  bool // the messages table exists
	changesReady bool // the changes and edited tables exist
	prunedTo     int  // the keep of the prune trigger in place; 0: none or unknown
	// checked is the keep for which the triggers were made right (stale
	// ones dropped; the one for keep made if the room needs or had one);
	// 0: not yet in this life.
	checked int
}

// Store is a room.Store over DB.
type Store struct {
	DB    DB
	State *State
	// Keep is the room's MAX_STORED_MESSAGES, for reads before any write
	// (the probe looks for its trigger).
	Keep int
}

var _ room.Store = Store{}

// probe learns in one statement which tables and prune trigger exist, and
// returns every prune trigger's name.
func (s Store) probe(keep int) ([]string, error) {
	v, err := s.DB.Value(probeQuery)
	if err != nil {
		return nil, err
	}
	var names []string
	if text, ok := v.(string); ok && text != "" {
		names = strings.Split(text, ",")
	}
	var triggers []string
	extras := 0
	for _, name := range names {
		switch {
		case name == "messages":
			s.State.schemaReady = true
		case slices.Contains(extraTables, name):
			extras++
		case strings.HasPrefix(name, prunePrefix):
			triggers = append(triggers, name)
		}
	}
	s.State.changesReady = extras == len(extraTables)
	s.State.prunedTo, s.State.checked = 0, 0
	want := PruneTrigger(keep, s.State.changesReady)
	if slices.Contains(triggers, want) {
		s.State.prunedTo = keep
	}
	if len(triggers) == 0 || (len(triggers) == 1 && triggers[0] == want) {
		s.State.checked = keep // nothing stale to drop
	}
	s.State.probed = true
	return triggers, nil
}

// ensureWritable creates the tables, and makes the prune triggers right for
// keep before the insert of message id: the one for keep in place of any
// other, once the room has (or had) messages past keep.
func (s Store) ensureWritable(keep int, id int64) error {
	return s.ensure(keep, false, id > int64(keep))
}

// ensureChanges is ensureWritable for a change (an edit, a deletion,
// moderation, a remembered key): it also makes the tables a room needs only
// once it has changes, so that a room that only ever chats carries none of
// them (each table costs the object memory, and its first message time).
func (s Store) ensureChanges() error { return s.ensure(s.Keep, true, false) }

// ensure makes the messages table, the changes tables when changes is true
// (or they exist already), and drops every prune trigger but the one for
// keep that suits them, which it makes when prune is true (a message past
// keep is next) or the room had a prune trigger.
func (s Store) ensure(keep int, changes, prune bool) error {
	if s.State.schemaReady && (s.State.changesReady || !changes) &&
		(s.State.prunedTo == keep || (!prune && s.State.checked == keep)) {
		return nil
	}
	triggers, err := s.probe(keep)
	if err != nil {
		return err
	}
	if !s.State.schemaReady {
		if _, err := s.DB.Value(Schema); err != nil {
			return err
		}
		s.State.schemaReady = true
	}
	if changes && !s.State.changesReady {
		for _, q := range changesSchema {
			if _, err := s.DB.Value(q); err != nil {
				return err
			}
		}
		s.State.changesReady = true
		s.State.prunedTo = 0 // the trigger must name them now
	}
	want := PruneTrigger(keep, s.State.changesReady)
	for _, name := range triggers {
		if name != want {
			if _, err := s.DB.Value(`DROP TRIGGER IF EXISTS "` + name + `"`); err != nil {
				return err
			}
		}
	}
	s.State.checked = keep
	if s.State.prunedTo != keep && (prune || len(triggers) > 0) {
		if _, err := s.DB.Value(pruneTriggerSQL(keep, s.State.changesReady)); err != nil {
			return err
		}
		s.State.prunedTo = keep
	}
	return nil
}

// ready reports whether the room has its messages table and, with changes,
// the change tables too. A read of a room without them finds nothing: false
// with a nil error, and the read stores nothing either.
func (s Store) ready(changes bool) (bool, error) {
	if !s.State.probed {
		if _, err := s.probe(s.Keep); err != nil {
			return false, err
		}
	}
	return s.State.schemaReady && (s.State.changesReady || !changes), nil
}

// count runs a query of one number (a count, a maximum), named what.
func (s Store) count(what, query string, args ...any) (int64, error) {
	v, err := s.DB.Value(query, args...)
	if err != nil {
		return 0, err
	}
	n, ok := v.(float64)
	if !ok {
		return 0, errors.New(what + " is not a number")
	}
	return int64(n), nil
}

// Append inserts the row from the broadcast frame itself (InsertMessage).
func (s Store) Append(m protocol.StoredMessage, frame []byte, keep int) error {
	if err := s.ensureWritable(keep, m.ID); err != nil {
		return err
	}
	return s.DB.Insert(frame)
}

// After reads the newest limit rows above since and below before (0: no
// bound), oldest first, in their current state, stopping near maxBytes (the
// history window: the fast read, and the bounded one when the fast one
// cannot answer); it asks for one more to learn whether any were left out.
func (s Store) After(since, before int64, limit, maxBytes int) ([]protocol.StoredMessage, bool, error) {
	if ok, err := s.ready(false); !ok {
		return nil, false, err
	}
	if before == 0 {
		before = noUpperBound
	}
	fast, bounded := fastWithoutChanges, boundedWithoutChanges
	if s.State.changesReady {
		fast, bounded = fastWithChanges, boundedWithChanges
	}
	args := []any{since, before, limit + 1, maxBytes}
	var msgs protocol.StoredMessages
	v, err := s.DB.Value(fast, args...)
	switch text, ok := v.(string); {
	case err == nil && ok:
		err = protocol.Unmarshal([]byte(text), &msgs)
	case err == nil || tooBig(err):
		err = decodeValue(s, "history", bounded, &msgs, args...)
	}
	if err != nil {
		return nil, false, err
	}
	truncated := len(msgs) > limit
	if truncated {
		msgs = msgs[len(msgs)-limit:]
	}
	return msgs, truncated, nil
}

// tooBig reports whether err is SQLite's SQLITE_TOOBIG: a value grew past
// its length limit ("string or blob too big").
func tooBig(err error) bool { return strings.Contains(err.Error(), "too big") }

// LastID is the highest position stored, message or change; 0 for a room
// that never stored anything.
func (s Store) LastID() (int64, error) {
	if ok, err := s.ready(false); !ok {
		return 0, err
	}
	q := lastIDQuery
	if s.State.changesReady {
		q = lastPositionQuery
	}
	return s.count("max(id)", q)
}

// Author returns who posted message id.
func (s Store) Author(id int64) (string, bool, error) {
	if ok, err := s.ready(false); !ok {
		return "", false, err
	}
	v, err := s.DB.Value(authorQuery, id)
	if err != nil {
		return "", false, err
	}
	user, ok := v.(string)
	return user, ok, nil
}

// Edit replaces a message's text and records the change.
func (s Store) Edit(id int64, text, editedAt string, pos int64, frame []byte) error {
	if err := s.ensureChanges(); err != nil {
		return err
	}
	return s.run(
		statement{editText, []any{id, text}},
		statement{markEdited, []any{id, editedAt}},
		statement{recordChange, []any{pos, id, kindEdit, string(frame)}},
	)
}

// Delete removes a message with its text and its edits, and records the
// change.
func (s Store) Delete(id, pos int64, frame []byte) error {
	if err := s.ensureChanges(); err != nil {
		return err
	}
	return s.run(
		statement{deleteMessage, []any{id}},
		statement{forgetEdited, []any{id}},
		statement{forgetEdits, []any{id}},
		statement{forgetReactions, []any{id}},
		statement{recordChange, []any{pos, id, kindDelete, string(frame)}},
	)
}

// statement is one SQL statement with its bindings.
type statement struct {
	query string
	args  []any
}

// run runs statements in order, stopping at the first that fails. They are
// durable together: the runtime commits an event's writes at its end.
func (s Store) run(stmts ...statement) error {
	for _, st := range stmts {
		if _, err := s.DB.Value(st.query, st.args...); err != nil {
			return err
		}
	}
	return nil
}

// Changes reads the changes a resume after since needs (changesQuery).
func (s Store) Changes(since int64, limit, maxBytes int) ([]protocol.Raw, bool, error) {
	var frames protocol.RawList
	if err := readJSON(s, "changes", changesQuery, &frames, since, limit+1, maxBytes); err != nil {
		return nil, false, err
	}
	more := len(frames) > limit
	if more {
		frames = frames[:limit]
	}
	return frames, more, nil
}

// Accounted counts the positions between from and to that are changes, or
// messages since deleted.
func (s Store) Accounted(from, to int64) (int64, error) {
	if ok, err := s.ready(true); !ok {
		return 0, err
	}
	v, err := s.DB.Value(accountedQuery, from, to)
	if err != nil {
		return 0, err
	}
	n, _ := v.(float64)
	return int64(n), nil
}

// The moderation statements. The state is read in one statement as text:
// rows joined by char(30), fields by char(31), which no userId can hold
// (control characters are not allowed in one).
const (
	moderationQuery = `SELECT coalesce((SELECT group_concat(user_id || char(31) || until, char(30)) FROM bans), '') || char(29) ||
		coalesce((SELECT group_concat(user_id || char(31) || until, char(30)) FROM mutes), '') || char(29) ||
		coalesce((SELECT value FROM settings WHERE name = 'slow_mode'), 0) || char(29) ||
		coalesce((SELECT group_concat(user_id, char(30)) FROM services), '')`
	rememberService = `INSERT OR IGNORE INTO services (user_id) VALUES (?)`
	setBan          = `INSERT OR REPLACE INTO bans (user_id, until, reason, by, at) VALUES (?1, ?2, ?3, ?4, ?5)`
	liftBan         = `DELETE FROM bans WHERE user_id = ?`
	setMute         = `INSERT OR REPLACE INTO mutes (user_id, until, reason, by, at) VALUES (?1, ?2, ?3, ?4, ?5)`
	liftMute        = `DELETE FROM mutes WHERE user_id = ?`
	setSlowMode     = `INSERT OR REPLACE INTO settings (name, value) VALUES ('slow_mode', ?)`
	recordAudit     = `INSERT INTO audit (action, user_id, by, reason, until, seconds, message_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`
	pruneAudit      = `DELETE FROM audit WHERE seq <= (SELECT max(seq) FROM audit) - ?`
	lastMessageAt   = `SELECT max(ts) FROM messages WHERE user_id = ?`
)

// KeepAudit is how many of the latest moderation actions a room's audit
// log keeps: enough to review a busy day, bounded like the messages.
const KeepAudit = 1000

// Moderation reads the bans, the mutes and the settings.
func (s Store) Moderation() (room.ModerationState, error) {
	var st room.ModerationState
	if ok, err := s.ready(true); !ok {
		return st, err
	}
	v, err := s.DB.Value(moderationQuery)
	if err != nil {
		return st, err
	}
	text, _ := v.(string)
	parts := strings.Split(text, "\x1d")
	if len(parts) != 4 {
		return st, errors.New("the moderation query returned " + text)
	}
	st.Bans, st.Mutes = restrictions(parts[0]), restrictions(parts[1])
	st.SlowModeSeconds, _ = strconv.ParseInt(parts[2], 10, 64)
	st.Services = map[string]bool{}
	if parts[3] != "" {
		for _, user := range strings.Split(parts[3], "\x1e") {
			st.Services[user] = true
		}
	}
	return st, nil
}

// restrictions parses rows of user char(31) until.
func restrictions(rows string) map[string]room.Restriction {
	out := map[string]room.Restriction{}
	if rows == "" {
		return out
	}
	for _, row := range strings.Split(rows, "\x1e") {
		user, until, _ := strings.Cut(row, "\x1f")
		n, _ := strconv.ParseInt(until, 10, 64)
		out[user] = room.Restriction{Until: n}
	}
	return out
}

// Moderate stores an action: its event at its position, its effect, and its
// audit entry (the log keeps the latest KeepAudit).
func (s Store) Moderate(a room.Action) error {
	if err := s.ensureChanges(); err != nil {
		return err
	}
	var stmts []statement
	if a.Pos != 0 {
		stmts = append(stmts, statement{recordChange, []any{a.Pos, 0, a.Kind, string(a.Frame)}})
	}
	switch a.Kind {
	case protocol.TypeBan:
		stmts = append(stmts, statement{setBan, []any{a.UserID, a.Until, a.Reason, a.By, a.At}})
	case protocol.TypeUnban:
		stmts = append(stmts, statement{liftBan, []any{a.UserID}})
	case protocol.TypeMute:
		stmts = append(stmts, statement{setMute, []any{a.UserID, a.Until, a.Reason, a.By, a.At}})
	case protocol.TypeUnmute:
		stmts = append(stmts, statement{liftMute, []any{a.UserID}})
	case protocol.TypeSlowMode:
		stmts = append(stmts, statement{setSlowMode, []any{a.Seconds}})
	}
	stmts = append(stmts,
		statement{recordAudit, []any{a.Kind, a.UserID, a.By, a.Reason, a.Until, a.Seconds, a.MessageID, a.At}},
		statement{pruneAudit, []any{KeepAudit}})
	return s.run(stmts...)
}

// RememberService records an identity seen with a service token.
func (s Store) RememberService(user string) error {
	if err := s.ensureChanges(); err != nil {
		return err
	}
	_, err := s.DB.Value(rememberService, user)
	return err
}

// LastMessageAt is when user last posted a message the room still holds.
func (s Store) LastMessageAt(user string) (time.Time, error) {
	if ok, err := s.ready(false); !ok {
		return time.Time{}, err
	}
	v, err := s.DB.Value(lastMessageAt, user)
	if err != nil {
		return time.Time{}, err
	}
	ts, ok := v.(string)
	if !ok {
		return time.Time{}, nil
	}
	t, err := time.Parse(protocol.TimeLayout, ts)
	if err != nil {
		return time.Time{}, nil
	}
	return t, nil
}

// iso renders a Unix-ms column as a wire timestamp in SQLite.
const iso = `strftime('%Y-%m-%dT%H:%M:%fZ', %s / 1000.0, 'unixepoch')`

func isoOf(col string) string { return strings.Replace(iso, "%s", col, 1) }

var (
	banListQuery = `SELECT json_group_array(json_object('userId', user_id,
		'until', CASE WHEN until = 0 THEN NULL ELSE ` + isoOf("until") + ` END,
		'reason', reason, 'by', by, 'at', at) ORDER BY user_id)
		FROM bans WHERE until = 0 OR until > ?`
	auditQuery = `SELECT json_group_array(json_object('id', seq, 'action', action, 'userId', user_id, 'by', by,
		'reason', reason, 'until', CASE WHEN action NOT IN ('ban', 'mute') THEN NULL WHEN until = 0 THEN NULL ELSE ` + isoOf("until") + ` END,
		'seconds', seconds, 'messageId', message_id, 'timestamp', at) ORDER BY seq DESC)
		FROM (SELECT * FROM audit WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2)`
	idempotentQuery = `SELECT answer FROM idempotency WHERE key = ?1 AND at > ?2`
	rememberKey     = `INSERT OR REPLACE INTO idempotency (key, answer, at) VALUES (?1, ?2, ?3)`
	forgetKeys      = `DELETE FROM idempotency WHERE at <= ?1 AND seq <= (SELECT max(seq) FROM idempotency) - ?2`
)

// BanList lists the bans in force at nowMs.
func (s Store) BanList(nowMs int64) (protocol.BanEntries, error) {
	var out protocol.BanEntries
	err := readJSON(s, "ban list", banListQuery, &out, nowMs)
	return out, err
}

// Audit pages the moderation log, newest first.
func (s Store) Audit(before int64, limit int) (protocol.AuditEntries, bool, error) {
	if before == 0 {
		before = noUpperBound
	}
	var out protocol.AuditEntries
	if err := readJSON(s, "audit", auditQuery, &out, before, limit+1); err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// readJSON is decodeValue for a query of the change and moderation tables:
// a room without them reads as empty (v untouched).
func readJSON[T jsonValue](s Store, what, query string, v T, args ...any) error {
	if ok, err := s.ready(true); !ok {
		return err
	}
	return decodeValue(s, what, query, v, args...)
}

// jsonValue is what decodeValue decodes into: a wire type of protocol. The
// functions that take one are generic, not an interface parameter, for
// protocol.Unmarshal's reason: an interface call of UnmarshalEasyJSON would
// link the decoder of every wire type into the Wasm (about 20 KB gzip), the
// outbound frames' too, which nothing in the worker decodes.
type jsonValue interface{ UnmarshalEasyJSON(*jlexer.Lexer) }

// decodeValue runs the query named what, which builds one JSON value in
// SQLite, and decodes that value into v.
func decodeValue[T jsonValue](s Store, what, query string, v T, args ...any) error {
	raw, err := s.DB.Value(query, args...)
	if err != nil {
		return err
	}
	text, ok := raw.(string)
	if !ok {
		return errors.New("the " + what + " query returned no JSON")
	}
	return protocol.Unmarshal([]byte(text), v)
}

// Idempotent returns the answer stored under key within the window.
func (s Store) Idempotent(key string, nowMs int64) ([]byte, bool, error) {
	if ok, err := s.ready(true); !ok {
		return nil, false, err
	}
	v, err := s.DB.Value(idempotentQuery, key, nowMs-room.IdempotencyWindow.Milliseconds())
	if err != nil {
		return nil, false, err
	}
	answer, ok := v.(string)
	return []byte(answer), ok, nil
}

// Remember stores an answer under key, then forgets the keys that are both
// older than the window and not among the latest IdempotencyKeys.
func (s Store) Remember(key string, answer []byte, nowMs int64) error {
	if err := s.ensureChanges(); err != nil {
		return err
	}
	return s.run(
		statement{rememberKey, []any{key, string(answer), nowMs}},
		statement{forgetKeys, []any{nowMs - room.IdempotencyWindow.Milliseconds(), room.IdempotencyKeys}},
	)
}

// The statements of the live signals. Read markers come back as text,
// rows joined by char(30) and fields by char(31), as the moderation state
// does: no userId can hold a control character.
const (
	readMarkerQuery = `SELECT last || char(31) || shown || char(31) || shown_at FROM reads WHERE user_id = ?`
	setReadMarker   = `INSERT OR REPLACE INTO reads (user_id, last, shown, shown_at) VALUES (?1, ?2, ?3, ?4)`
	pendingReads    = `SELECT group_concat(user_id || char(31) || last || char(31) || shown || char(31) || shown_at, char(30))
		FROM reads WHERE last > shown`
	readsQuery = `SELECT group_concat(user_id || char(31) || last, char(30)) FROM reads WHERE user_id IN (SELECT value FROM json_each(?))`
	// unreadQuery counts the messages after ?1, no further than ?2.
	unreadQuery   = `SELECT count(*) FROM (SELECT 1 FROM messages WHERE id > ?1 LIMIT ?2)`
	reactionState = `SELECT (SELECT count(*) FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3) || ',' ||
		(SELECT count(*) FROM reactions WHERE message_id = ?1 AND emoji = ?2) || ',' || (SELECT count(DISTINCT emoji) FROM reactions WHERE message_id = ?1)`
	addReaction    = `INSERT OR IGNORE INTO reactions (message_id, emoji, user_id) VALUES (?1, ?2, ?3)`
	removeReaction = `DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3`
	kindReaction   = "reaction"
)

// signalsText runs a query of the signals' tables that returns text (or no
// row): "" in a room without them.
func (s Store) signalsText(query string, args ...any) (string, error) {
	if ok, err := s.ready(true); !ok {
		return "", err
	}
	v, err := s.DB.Value(query, args...)
	text, _ := v.(string)
	return text, err
}

// ReadMarker is user's read marker; the zero marker when there is none.
func (s Store) ReadMarker(user string) (room.ReadMarker, error) {
	text, err := s.signalsText(readMarkerQuery, user)
	if err != nil || text == "" {
		return room.ReadMarker{}, err
	}
	return parseMarker(text)
}

// parseMarker parses last, shown and shown_at.
func parseMarker(text string) (room.ReadMarker, error) {
	f := strings.Split(text, "\x1f")
	if len(f) != 3 {
		return room.ReadMarker{}, errors.New("a read marker reads " + text)
	}
	var n [3]int64
	for i := range f {
		var err error
		if n[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			return room.ReadMarker{}, err
		}
	}
	return room.ReadMarker{Last: n[0], Shown: n[1], ShownAt: n[2]}, nil
}

// SetReadMarker stores user's read marker.
func (s Store) SetReadMarker(user string, m room.ReadMarker) error {
	if err := s.ensureChanges(); err != nil {
		return err
	}
	_, err := s.DB.Value(setReadMarker, user, m.Last, m.Shown, m.ShownAt)
	return err
}

// PendingReads are the read markers the others were not told of yet.
func (s Store) PendingReads() (map[string]room.ReadMarker, error) {
	text, err := s.signalsText(pendingReads)
	if err != nil || text == "" {
		return nil, err
	}
	out := map[string]room.ReadMarker{}
	for _, row := range strings.Split(text, "\x1e") {
		user, fields, _ := strings.Cut(row, "\x1f")
		m, err := parseMarker(fields)
		if err != nil {
			return nil, err
		}
		out[user] = m
	}
	return out, nil
}

// Reads are the read positions of the users listed that have one.
func (s Store) Reads(users []string) (map[string]int64, error) {
	w := jwriter.Writer{}
	w.RawByte('[')
	for i, u := range users {
		if i > 0 {
			w.RawByte(',')
		}
		w.String(u)
	}
	w.RawByte(']')
	list, err := w.BuildBytes()
	if err != nil {
		return nil, err
	}
	text, err := s.signalsText(readsQuery, string(list))
	out := map[string]int64{}
	if err != nil || text == "" {
		return out, err
	}
	for _, row := range strings.Split(text, "\x1e") {
		user, last, _ := strings.Cut(row, "\x1f")
		if out[user], err = strconv.ParseInt(last, 10, 64); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Unread counts the messages after id, no further than limit.
func (s Store) Unread(after int64, limit int) (int64, error) {
	if ok, err := s.ready(false); !ok {
		return 0, err
	}
	return s.count("the unread count", unreadQuery, after, limit)
}

// ReactionState tells whether user reacted to message id with emoji,
// whether anyone did, and how many distinct emoji the message holds.
func (s Store) ReactionState(id int64, emoji, user string) (bool, bool, int, error) {
	text, err := s.signalsText(reactionState, id, emoji, user)
	if err != nil || text == "" {
		return false, false, 0, err
	}
	f := strings.Split(text, ",")
	if len(f) != 3 {
		return false, false, 0, errors.New("the reaction query returned " + text)
	}
	distinct, err := strconv.Atoi(f[2])
	return f[0] != "0", f[1] != "0", distinct, err
}

// React adds (or removes) user's emoji on message id, and records the
// reaction frame at pos.
func (s Store) React(id int64, emoji, user string, added bool, pos int64, frame []byte) error {
	if err := s.ensureChanges(); err != nil {
		return err
	}
	change := addReaction
	if !added {
		change = removeReaction
	}
	return s.run(
		statement{change, []any{id, emoji, user}},
		statement{recordChange, []any{pos, id, kindReaction, string(frame)}},
	)
}
