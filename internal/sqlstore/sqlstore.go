// Package sqlstore is a room's message history in its Durable Object's
// SQLite database: the schema, the statements, the prune trigger and how a
// window of history is cut. It talks to SQLite through DB, so it runs
// natively in tests against a real SQLite; the worker's DB calls the
// object's ctx.storage.sql through the glue.
package sqlstore

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
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

// InsertMessage is the statement of every message: SQLite picks the fields
// out of the broadcast frame (a protocol.ChatMessage), so a message crosses
// into JS once, as the frame, for both the insert and the fan-out.
const InsertMessage = `INSERT INTO messages (id, user_id, text, ts) VALUES (
	json_extract(?1, '$.id'), json_extract(?1, '$.userId'), json_extract(?1, '$.text'), json_extract(?1, '$.timestamp'))`

// probeQuery names the table and prune triggers that exist, comma-separated
// (the names hold no commas).
const probeQuery = `SELECT group_concat(name, ',') FROM sqlite_master
	WHERE (type = 'table' AND name = 'messages') OR (type = 'trigger' AND name GLOB 'prune_[0-9]*')`

// windowQuery reads the newest rows above a position (?1) and below another
// (?2), at most ?3 of them, as one JSON array built by SQLite: one round
// trip, instead of one JS call per column per row. It stops once the rows
// before a row hold more than ?4 bytes of JSON (by SQLite's own quoting),
// keeping that last row, so that the value it builds stays near ?4 (at most
// a megabyte) plus one message, never near SQLite's 2 MB limit, however
// large the stored texts are.
const windowQuery = `SELECT json_group_array(json_object('id', id, 'userId', user_id, 'text', text, 'timestamp', ts))
	FROM (SELECT id, user_id, text, ts,
			sum(length(CAST(json_quote(text) AS BLOB)) + length(CAST(json_quote(user_id) AS BLOB)) + 64)
				OVER (ORDER BY id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_bytes
		FROM (SELECT id, user_id, text, ts FROM messages WHERE id > ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3))
	WHERE coalesce(before_bytes, 0) <= ?4`

// noUpperBound stands for "no before": above any id.
const noUpperBound = int64(1) << 53

const lastIDQuery = `SELECT coalesce(max(id), 0) FROM messages`

// PruneTrigger is the name of the trigger that keeps the newest keep rows.
// It is named after keep, so a new MAX_STORED_MESSAGES replaces it.
func PruneTrigger(keep int) string { return "prune_" + strconv.Itoa(keep) }

// pruneTriggerSQL prunes the table to the newest keep rows after every
// insert: in SQLite itself, so a message is one statement, not two.
func pruneTriggerSQL(keep int) string {
	return `CREATE TRIGGER IF NOT EXISTS ` + PruneTrigger(keep) + ` AFTER INSERT ON messages BEGIN
			DELETE FROM messages WHERE id <= NEW.id - ` + strconv.Itoa(keep) + `; END`
}

// State is what a store learned about its database during one object's
// life: it saves asking again on every message. A new object starts from the
// zero State.
type State struct {
	probed      bool // probe ran
	schemaReady bool // the messages table exists
	prunedTo    int  // the keep of the prune trigger in place; 0: unknown
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

// errNoTable is a read of a room whose table was never created.
var errNoTable = errors.New("no messages table")

// probe learns in one statement whether the table and the prune trigger
// for keep exist, and returns every prune trigger's name.
func (s Store) probe(keep int) ([]string, error) {
	v, err := s.DB.Value(probeQuery)
	if err != nil {
		return nil, err
	}
	var names []string
	if text, ok := v.(string); ok && text != "" {
		names = strings.Split(text, ",")
	}
	for _, name := range names {
		switch name {
		case "messages":
			s.State.schemaReady = true
		case PruneTrigger(keep):
			s.State.prunedTo = keep
		}
	}
	s.State.probed = true
	return names, nil
}

// ensureWritable creates the table, and the prune trigger for keep in place
// of any other.
func (s Store) ensureWritable(keep int) error {
	if s.State.schemaReady && s.State.prunedTo == keep {
		return nil
	}
	names, err := s.probe(keep)
	if err != nil {
		return err
	}
	if !s.State.schemaReady {
		if _, err := s.DB.Value(Schema); err != nil {
			return err
		}
		s.State.schemaReady = true
	}
	for _, name := range names {
		if name != "messages" && name != PruneTrigger(keep) {
			if _, err := s.DB.Value(`DROP TRIGGER IF EXISTS "` + name + `"`); err != nil {
				return err
			}
		}
	}
	if s.State.prunedTo != keep {
		if _, err := s.DB.Value(pruneTriggerSQL(keep)); err != nil {
			return err
		}
		s.State.prunedTo = keep
	}
	return nil
}

// ensureTable reports errNoTable for a room that never stored anything.
func (s Store) ensureTable() error {
	if !s.State.probed {
		if _, err := s.probe(s.Keep); err != nil {
			return err
		}
	}
	if !s.State.schemaReady {
		return errNoTable
	}
	return nil
}

// Append inserts the row from the broadcast frame itself (InsertMessage).
func (s Store) Append(_ protocol.StoredMessage, frame []byte, keep int) error {
	if err := s.ensureWritable(keep); err != nil {
		return err
	}
	return s.DB.Insert(frame)
}

// After reads the newest limit rows above since and below before (0: no
// bound), oldest first, stopping near maxBytes (windowQuery); it asks for
// one more to learn whether any were left out.
func (s Store) After(since, before int64, limit, maxBytes int) ([]protocol.StoredMessage, bool, error) {
	if err := s.ensureTable(); errors.Is(err, errNoTable) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	if before == 0 {
		before = noUpperBound
	}
	v, err := s.DB.Value(windowQuery, since, before, limit+1, maxBytes)
	if err != nil {
		return nil, false, err
	}
	raw, ok := v.(string)
	if !ok {
		return nil, false, errors.New("the history query returned no JSON")
	}
	var msgs protocol.StoredMessages
	if err := protocol.Unmarshal([]byte(raw), &msgs); err != nil {
		return nil, false, err
	}
	slices.SortFunc(msgs, func(a, b protocol.StoredMessage) int { return cmp.Compare(a.ID, b.ID) })
	truncated := len(msgs) > limit
	if truncated {
		msgs = msgs[len(msgs)-limit:]
	}
	return msgs, truncated, nil
}

// LastID is the highest stored id, 0 for a room that never stored anything.
func (s Store) LastID() (int64, error) {
	if err := s.ensureTable(); errors.Is(err, errNoTable) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	v, err := s.DB.Value(lastIDQuery)
	if err != nil {
		return 0, err
	}
	n, ok := v.(float64)
	if !ok {
		return 0, errors.New("max(id) is not a number")
	}
	return int64(n), nil
}
