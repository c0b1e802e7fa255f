//go:build js && wasm

package main

import (
	"cmp"
	"errors"
	"runtime"
	"slices"
	"strconv"
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

// probe learns in one statement, once per object life, whether the table
// and the prune trigger for keep exist.
func (s sqlStore) probe(keep int) (names room.Strings, err error) {
	v, err := s.value(`SELECT json_group_array(name) FROM sqlite_master
		WHERE (type = 'table' AND name = 'messages') OR (type = 'trigger' AND name GLOB 'prune_[0-9]*')`)
	if err != nil {
		return nil, err
	}
	if v.Type() == js.TypeString {
		_ = room.DecodeJSON([]byte(v.String()), &names)
	}
	want := pruneTrigger(keep)
	for _, name := range names {
		switch name {
		case "messages":
			s.st.schemaReady = true
		case want:
			s.st.prunedTo = keep
		}
	}
	s.st.probed = true
	return names, nil
}

func pruneTrigger(keep int) string { return "prune_" + strconv.Itoa(keep) }

// ensureWritable creates the table and the trigger that prunes it to the
// latest keep rows after every insert. The trigger is named after keep, so a
// new MAX_STORED_MESSAGES replaces it. Pruning in SQLite itself makes a
// message one statement instead of two.
func (s sqlStore) ensureWritable(keep int) error {
	if s.st.schemaReady && s.st.prunedTo == keep {
		return nil
	}
	names, err := s.probe(keep)
	if err != nil {
		return err
	}
	if !s.st.schemaReady {
		if _, err := s.value(schema); err != nil {
			return err
		}
		s.st.schemaReady = true
	}
	want := pruneTrigger(keep)
	for _, name := range names {
		if name != "messages" && name != want {
			if _, err := s.value(`DROP TRIGGER IF EXISTS "` + name + `"`); err != nil {
				return err
			}
		}
	}
	if s.st.prunedTo != keep {
		if _, err := s.value(`CREATE TRIGGER IF NOT EXISTS ` + want + ` AFTER INSERT ON messages BEGIN
			DELETE FROM messages WHERE id <= NEW.id - ` + strconv.Itoa(keep) + `; END`); err != nil {
			return err
		}
		s.st.prunedTo = keep
	}
	return nil
}

// ensureTable reports errNoTable for a room that never stored anything.
func (s sqlStore) ensureTable() error {
	if !s.st.probed {
		if _, err := s.probe(s.st.room.KeepMessages()); err != nil {
			return err
		}
	}
	if !s.st.schemaReady {
		return errNoTable
	}
	return nil
}

// Append inserts the row from the broadcast frame itself, handed to JS as
// bytes in Go's memory (see goText); SQLite picks the fields out of the JSON.
func (s sqlStore) Append(m room.StoredMessage, frame []byte, keep int) error {
	if err := s.ensureWritable(keep); err != nil {
		return err
	}
	ptr, n := goText(frame)
	failed := execText(insertMessage, int32(ptr), int32(n))
	runtime.KeepAlive(frame)
	if failed != 0 {
		return errors.New(jsContext.Get("sqlError").String())
	}
	return nil
}

// execText runs statement number stmt (see statement) on the current
// object's database with one text binding at ptr/n in Go's memory, and
// answers 0, or 1 when SQLite threw (the error is then context.sqlError).
//
//go:wasmimport gochat execText
func execText(stmt, ptr, n int32) int32

// statement registers a SQL text with the glue, once per Go program, and
// returns the number execText takes for it.
func statement(query string) int32 {
	return int32(jsStatements.Call("push", query).Int() - 1)
}

// insertMessage is the statement of every message.
var insertMessage = statement(`INSERT INTO messages (id, user_id, text, ts) VALUES (
	json_extract(?1, '$.id'), json_extract(?1, '$.userId'), json_extract(?1, '$.text'), json_extract(?1, '$.timestamp'))`)

// After reads the window in one round trip: SQLite builds the JSON array and
// Go decodes it, instead of one JS call per column per row.
func (s sqlStore) After(since int64, limit int) ([]room.StoredMessage, bool, error) {
	if err := s.ensureTable(); errors.Is(err, errNoTable) {
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
	if err := s.ensureTable(); errors.Is(err, errNoTable) {
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
