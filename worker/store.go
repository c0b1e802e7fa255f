//go:build js && wasm

package main

import (
	"cmp"
	"errors"
	"slices"
	"syscall/js"

	"github.com/chatroom/gochat/room"
)

// sqlStore is a room's history in its Durable Object's SQLite database
// (ctx.storage.sql). The SQL API is synchronous, so Go calls it directly; the
// runtime's output gate holds every frame an event sends until the event's
// writes are durable.
type sqlStore struct {
	st *roomState
}

var _ room.Store = sqlStore{}

// schema is created on the first write only: reading a room that never
// existed must leave no trace in storage.
const schema = `CREATE TABLE IF NOT EXISTS messages (
	id INTEGER PRIMARY KEY,
	user_id TEXT NOT NULL,
	text TEXT NOT NULL,
	ts TEXT NOT NULL
)`

// errNoTable is a read of a room whose table was never created.
var errNoTable = errors.New("no messages table")

// value runs one statement and returns the first column of its first row,
// through the glue's sqlValue: one call into JS per statement.
func (s sqlStore) value(query any, args ...any) (v js.Value, err error) {
	err = try(func() { v = jsSQLValue.Invoke(append([]any{s.st.sql, query}, args...)...) })
	return v, err
}

func (s sqlStore) ensureTable(create bool) error {
	if s.st.schemaReady {
		return nil
	}
	if create {
		if _, err := s.value(schema); err != nil {
			return err
		}
		s.st.schemaReady = true
		return nil
	}
	n, err := s.value(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'messages'`)
	if err != nil {
		return err
	}
	if n.Type() != js.TypeNumber || n.Int() == 0 {
		return errNoTable
	}
	s.st.schemaReady = true
	return nil
}

// Append inserts the row from the broadcast frame itself, so that the frame
// crosses into JS once for both the insert and the fan-out (see
// host.frameValue); SQLite picks the fields out of the JSON.
func (s sqlStore) Append(m room.StoredMessage, frame []byte, keep int) error {
	if err := s.ensureTable(true); err != nil {
		return err
	}
	if _, err := s.value(insertMessage, s.st.frameValue(frame)); err != nil {
		return err
	}
	if m.ID > int64(keep) {
		if _, err := s.value(pruneMessages, m.ID-int64(keep)); err != nil {
			return err
		}
	}
	return nil
}

// Statements used per message, converted to JS strings once.
var (
	insertMessage = js.ValueOf(`INSERT INTO messages (id, user_id, text, ts) VALUES (
		json_extract(?1, '$.id'), json_extract(?1, '$.userId'), json_extract(?1, '$.text'), json_extract(?1, '$.timestamp'))`)
	pruneMessages = js.ValueOf(`DELETE FROM messages WHERE id <= ?`)
)

// After reads the window in one round trip: SQLite builds the JSON array and
// Go decodes it, instead of one JS call per column per row.
func (s sqlStore) After(since int64, limit int) ([]room.StoredMessage, bool, error) {
	if err := s.ensureTable(false); errors.Is(err, errNoTable) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	v, err := s.value(`SELECT json_group_array(json_object('id', id, 'userId', user_id, 'text', text, 'timestamp', ts))
		FROM (SELECT id, user_id, text, ts FROM messages WHERE id > ? ORDER BY id DESC LIMIT ?)`, since, limit+1)
	if err != nil {
		return nil, false, err
	}
	if v.Type() != js.TypeString {
		return nil, false, errors.New("history query returned no JSON")
	}
	raw := v.String()
	var msgs room.StoredMessages
	if err := room.DecodeJSON([]byte(raw), &msgs); err != nil {
		return nil, false, err
	}
	slices.SortFunc(msgs, func(a, b room.StoredMessage) int { return cmp.Compare(a.ID, b.ID) })
	truncated := len(msgs) > limit
	if truncated {
		msgs = msgs[len(msgs)-limit:]
	}
	return msgs, truncated, nil
}

func (s sqlStore) LastID() (int64, error) {
	if err := s.ensureTable(false); errors.Is(err, errNoTable) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	v, err := s.value(`SELECT coalesce(max(id), 0) FROM messages`)
	if err != nil {
		return 0, err
	}
	if v.Type() != js.TypeNumber {
		return 0, errors.New("max(id) is not a number")
	}
	return int64(v.Float()), nil
}
