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
	sql js.Value
	st  *roomState
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

func (s sqlStore) exec(query string, args ...any) (cursor js.Value, err error) {
	err = try(func() { cursor = s.sql.Call("exec", append([]any{query}, args...)...) })
	return cursor, err
}

func (s sqlStore) ensureTable(create bool) error {
	if s.st.schemaReady {
		return nil
	}
	if create {
		if _, err := s.exec(schema); err != nil {
			return err
		}
		s.st.schemaReady = true
		return nil
	}
	c, err := s.exec(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'messages'`)
	if err != nil {
		return err
	}
	var n int
	if err := try(func() { n = c.Call("one").Get("n").Int() }); err != nil {
		return err
	}
	if n == 0 {
		return errNoTable
	}
	s.st.schemaReady = true
	return nil
}

func (s sqlStore) Append(userID, text, timestamp string, keep int) (int64, error) {
	if err := s.ensureTable(true); err != nil {
		return 0, err
	}
	c, err := s.exec(`INSERT INTO messages (user_id, text, ts) VALUES (?, ?, ?) RETURNING id`, userID, text, timestamp)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := try(func() { id = int64(c.Call("one").Get("id").Float()) }); err != nil {
		return 0, err
	}
	if id > int64(keep) {
		if _, err := s.exec(`DELETE FROM messages WHERE id <= ?`, id-int64(keep)); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// After reads the window in one round trip: SQLite builds the JSON array and
// Go decodes it, instead of one JS call per column per row.
func (s sqlStore) After(since int64, limit int) ([]room.StoredMessage, bool, error) {
	if err := s.ensureTable(false); errors.Is(err, errNoTable) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	c, err := s.exec(`SELECT json_group_array(json_object('id', id, 'userId', user_id, 'text', text, 'timestamp', ts)) AS j
		FROM (SELECT id, user_id, text, ts FROM messages WHERE id > ? ORDER BY id DESC LIMIT ?)`, since, limit+1)
	if err != nil {
		return nil, false, err
	}
	var raw string
	if err := try(func() { raw = c.Call("one").Get("j").String() }); err != nil {
		return nil, false, err
	}
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
	c, err := s.exec(`SELECT coalesce(max(id), 0) AS id FROM messages`)
	if err != nil {
		return 0, err
	}
	var id int64
	err = try(func() { id = int64(c.Call("one").Get("id").Float()) })
	return id, err
}
