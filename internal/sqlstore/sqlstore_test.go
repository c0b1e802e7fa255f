package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/chatroom/gochat/internal/sqlstore"
	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

// sqliteDB is a real SQLite database behind sqlstore.DB, handing values
// over as the glue does (numbers as float64), and recording every statement.
type sqliteDB struct {
	db         *sql.DB
	statements []string
}

var _ sqlstore.DB = (*sqliteDB)(nil)

func (d *sqliteDB) Value(query string, args ...any) (any, error) {
	d.statements = append(d.statements, query)
	rows, err := d.db.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var v any
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	switch n := v.(type) {
	case int64:
		return float64(n), nil
	case []byte:
		return string(n), nil
	}
	return v, nil
}

func (d *sqliteDB) Insert(frame []byte) error {
	d.statements = append(d.statements, sqlstore.InsertMessage)
	_, err := d.db.Exec(sqlstore.InsertMessage, string(frame))
	return err
}

// writes counts the statements that change the database.
func (d *sqliteDB) writes() int {
	n := 0
	for _, q := range d.statements {
		if !strings.HasPrefix(strings.TrimSpace(q), "SELECT") {
			n++
		}
	}
	return n
}

func (d *sqliteDB) objects(t *testing.T) []string {
	t.Helper()
	rows, err := d.db.Query(`SELECT type || ' ' || name FROM sqlite_master ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func open(t *testing.T) *sqliteDB {
	t.Helper()
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection: one in-memory database
	t.Cleanup(func() { db.Close() })
	return &sqliteDB{db: db}
}

// newStore is a store over a fresh in-memory SQLite, keeping keep messages,
// and the database behind it.
func newStore(t *testing.T, keep int) (sqlstore.Store, *sqliteDB) {
	t.Helper()
	db := open(t)
	return sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: keep}, db
}

func message(id int64) (protocol.StoredMessage, []byte) {
	m := protocol.StoredMessage{ID: id, UserID: "alice", Text: fmt.Sprintf("m%d <&>", id), Timestamp: "2025-10-26T05:20:00.123Z"}
	frame := protocol.Marshal(protocol.ChatMessage{Type: protocol.TypeMessage, ID: m.ID, UserID: m.UserID, Text: m.Text, Timestamp: m.Timestamp})
	return m, frame
}

func appendN(t *testing.T, s sqlstore.Store, from, to int64, keep int) {
	t.Helper()
	for id := from; id <= to; id++ {
		m, frame := message(id)
		if err := s.Append(m, frame, keep); err != nil {
			t.Fatalf("append %d: %v", id, err)
		}
	}
}

func ids(msgs []protocol.StoredMessage) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func TestReadingAnUnknownRoomWritesNothing(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, 10)
	if last, err := s.LastID(); err != nil || last != 0 {
		t.Fatalf("LastID = %d, %v; want 0", last, err)
	}
	if msgs, more, err := s.After(0, 0, 5, 1<<20); err != nil || len(msgs) != 0 || more {
		t.Fatalf("After = %v %v %v; want nothing", msgs, more, err)
	}
	if n := db.writes(); n != 0 {
		t.Errorf("%d writes for reads of an unknown room: %q", n, db.statements)
	}
	if objs := db.objects(t); len(objs) != 0 {
		t.Errorf("the database holds %q, want nothing", objs)
	}
}

func TestAppendStoresTheFramesFieldsAndPrunes(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, 5)
	appendN(t, s, 1, 8, 5)
	if want := []string{"table messages", "trigger prune_5"}; !slices.Equal(db.objects(t), want) {
		t.Errorf("schema = %q, want %q", db.objects(t), want)
	}
	msgs, more, err := s.After(0, 0, 100, 1<<20)
	if err != nil || more {
		t.Fatalf("After: %v, more %v", err, more)
	}
	if got, want := ids(msgs), []int64{4, 5, 6, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("kept %v, want the newest 5 %v", got, want)
	}
	if m, _ := message(8); !reflect.DeepEqual(msgs[4], m) {
		t.Errorf("row 8 = %+v, want %+v", msgs[4], m)
	}
	if last, err := s.LastID(); err != nil || last != 8 {
		t.Errorf("LastID = %d, %v; want 8", last, err)
	}
	// Once set up, a message is one statement.
	before := len(db.statements)
	appendN(t, s, 9, 9, 5)
	if got := db.statements[before:]; !slices.Equal(got, []string{sqlstore.InsertMessage}) {
		t.Errorf("a warm append ran %q, want the insert alone", got)
	}
}

func TestADuplicateIDFailsAndStoresNothing(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 5)
	appendN(t, s, 1, 2, 5)
	m, frame := message(2)
	if err := s.Append(m, frame, 5); err == nil {
		t.Fatal("appending id 2 twice succeeded")
	}
	if last, _ := s.LastID(); last != 2 {
		t.Errorf("LastID = %d, want 2", last)
	}
}

func TestWindow(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 100)
	appendN(t, s, 1, 10, 100)
	for _, tt := range []struct {
		name         string
		since        int64
		limit        int
		want         []int64
		wantTruncate bool
	}{
		{"the newest limit, oldest first", 0, 3, []int64{8, 9, 10}, true},
		{"exactly what is left", 7, 3, []int64{8, 9, 10}, false},
		{"fewer than limit", 8, 5, []int64{9, 10}, false},
		{"nothing after the last", 10, 5, []int64{}, false},
		{"one more than fits", 6, 3, []int64{8, 9, 10}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msgs, more, err := s.After(tt.since, 0, tt.limit, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(msgs), tt.want) || more != tt.wantTruncate {
				t.Errorf("After(%d, %d) = %v, more %v; want %v, %v", tt.since, tt.limit, ids(msgs), more, tt.want, tt.wantTruncate)
			}
		})
	}
}

func TestANewKeepReplacesTheTrigger(t *testing.T) {
	t.Parallel()
	db := open(t)
	first := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 5}
	appendN(t, first, 1, 3, 5)
	// A new deployment with MAX_STORED_MESSAGES=2: a new object life.
	second := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 2}
	appendN(t, second, 4, 6, 2)
	if want := []string{"table messages", "trigger prune_2"}; !slices.Equal(db.objects(t), want) {
		t.Errorf("schema = %q, want %q", db.objects(t), want)
	}
	msgs, _, _ := second.After(0, 0, 10, 1<<20)
	if got := ids(msgs); !slices.Equal(got, []int64{5, 6}) {
		t.Errorf("kept %v, want [5 6]", got)
	}
}

// A room gets its prune trigger with its first message past keep, and not
// before: below keep it would delete nothing and cost every room memory.
func TestThePruneTriggerComesWithTheFirstMessagePastKeep(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, 3)
	appendN(t, s, 1, 3, 3)
	if want := []string{"table messages"}; !slices.Equal(db.objects(t), want) {
		t.Errorf("at keep: schema = %q, want %q", db.objects(t), want)
	}
	appendN(t, s, 4, 4, 3)
	if want := []string{"table messages", "trigger prune_3"}; !slices.Equal(db.objects(t), want) {
		t.Errorf("past keep: schema = %q, want %q", db.objects(t), want)
	}
	msgs, _, _ := s.After(0, 0, 10, 1<<20)
	if got := ids(msgs); !slices.Equal(got, []int64{2, 3, 4}) {
		t.Errorf("kept %v, want [2 3 4]", got)
	}
	// A new life with a larger keep: the stale trigger goes at the first
	// write, and the room keeps one (for the new keep), which prunes
	// nothing until it is past it.
	again := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 10}
	appendN(t, again, 5, 5, 10)
	if want := []string{"table messages", "trigger prune_10"}; !slices.Equal(db.objects(t), want) {
		t.Errorf("a new keep: schema = %q, want %q", db.objects(t), want)
	}
	msgs, _, _ = again.After(0, 0, 10, 1<<20)
	if got := ids(msgs); !slices.Equal(got, []int64{2, 3, 4, 5}) {
		t.Errorf("kept %v, want [2 3 4 5]", got)
	}
}

func TestANewObjectLifeFindsTheSchema(t *testing.T) {
	t.Parallel()
	db := open(t)
	appendN(t, sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 5}, 1, 2, 5)
	db.statements = nil
	again := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 5}
	appendN(t, again, 3, 3, 5)
	if n := db.writes(); n != 1 {
		t.Errorf("after a restart, the first append ran %q; want the probe and the insert", db.statements)
	}
}

func TestPruneTrigger(t *testing.T) {
	t.Parallel()
	if got := sqlstore.PruneTrigger(1000, true); got != "prune3_1000" || sqlstore.PruneTrigger(1000, false) != "prune_1000" {
		t.Errorf("PruneTrigger(1000) = %q", got)
	}
}

func TestWindowBelowBefore(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 100)
	appendN(t, s, 1, 10, 100)
	for _, tt := range []struct {
		name          string
		since, before int64
		limit         int
		want          []int64
		more          bool
	}{
		{"the page below an id", 0, 8, 3, []int64{5, 6, 7}, true},
		{"the first page", 0, 4, 5, []int64{1, 2, 3}, false},
		{"between since and before", 3, 8, 10, []int64{4, 5, 6, 7}, false},
		{"below the first id", 0, 1, 5, []int64{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msgs, more, err := s.After(tt.since, tt.before, tt.limit, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(msgs), tt.want) || more != tt.more {
				t.Errorf("After(%d, %d, %d) = %v, more %v; want %v, %v", tt.since, tt.before, tt.limit, ids(msgs), more, tt.want, tt.more)
			}
		})
	}
}

// sizedDB records the size of every value the database hands back.
type sizedDB struct {
	*sqliteDB
	largest int
}

func (d *sizedDB) Value(query string, args ...any) (any, error) {
	v, err := d.sqliteDB.Value(query, args...)
	if s, ok := v.(string); ok && len(s) > d.largest {
		d.largest = len(s)
	}
	return v, err
}

func TestHugeTextsBuildNoHugeValue(t *testing.T) {
	t.Parallel()
	db := &sizedDB{sqliteDB: open(t)}
	s := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 1000}
	text := strings.Repeat("😀", 4096) // 16 KiB of four-byte characters
	for id := int64(1); id <= 500; id++ {
		m := protocol.StoredMessage{ID: id, UserID: "alice", Text: text, Timestamp: "2025-10-26T05:20:00.123Z"}
		frame := protocol.Marshal(protocol.ChatMessage{Type: protocol.TypeMessage, ID: id, UserID: m.UserID, Text: m.Text, Timestamp: m.Timestamp})
		if err := s.Append(m, frame, 1000); err != nil {
			t.Fatal(err)
		}
	}
	const budget = 256 << 10
	msgs, _, err := s.After(0, 0, 500, budget)
	if err != nil {
		t.Fatal(err)
	}
	// The rows before the last fit in the budget; the last crossed it.
	if n := len(msgs); n < 2 || n > budget/(16<<10)+1 {
		t.Errorf("read %d rows of 16 KiB for a budget of %d", n, budget)
	}
	if msgs[len(msgs)-1].ID != 500 || msgs[len(msgs)-1].Text != text {
		t.Errorf("the newest row is %d, or its text was altered", msgs[len(msgs)-1].ID)
	}
	if db.largest > budget+(20<<10) {
		t.Errorf("the window query built a %d-byte value for a %d-byte budget: SQLite's 2 MB limit is in reach", db.largest, budget)
	}
}

// windowFunctions counts the statements db ran that hold a window function.
func windowFunctions(db *sqliteDB) int {
	n := 0
	for _, q := range db.statements {
		if strings.Contains(q, " OVER (") {
			n++
		}
	}
	return n
}

func TestChatSizedHistoryCompilesNoWindowFunction(t *testing.T) {
	t.Parallel()
	for _, changes := range []bool{false, true} {
		t.Run(fmt.Sprintf("changes %v", changes), func(t *testing.T) {
			t.Parallel()
			s, db := newStore(t, 100)
			appendN(t, s, 1, 60, 100)
			if changes {
				if err := s.Edit(3, "fixed", "2025-10-26T05:21:00.000Z", 61, editFrame(61, 3, "fixed")); err != nil {
					t.Fatal(err)
				}
			}
			msgs, more, err := s.After(0, 0, 50, 1<<20)
			if err != nil || len(msgs) != 50 || !more || msgs[0].ID != 11 || msgs[49].ID != 60 {
				t.Fatalf("After = %v, more %v, %v; want 11..60 and more", ids(msgs), more, err)
			}
			// The bounded read's window function costs every object that
			// compiles it memory for the object's life.
			if n := windowFunctions(db); n != 0 {
				t.Errorf("%d statements with a window function for a history of chat-sized messages", n)
			}
		})
	}
}

func TestHistoryPastSQLiteLengthLimitFallsBack(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, 1000)
	text := strings.Repeat("😀", 4096) // 16 KiB
	for id := int64(1); id <= 60; id++ {
		m := protocol.StoredMessage{ID: id, UserID: "alice", Text: text, Timestamp: "2025-10-26T05:20:00.123Z"}
		frame := protocol.Marshal(protocol.ChatMessage{Type: protocol.TypeMessage, ID: id, UserID: m.UserID, Text: m.Text, Timestamp: m.Timestamp})
		if err := s.Append(m, frame, 1000); err != nil {
			t.Fatal(err)
		}
	}
	// SQLite's length limit at 512 KiB, as workerd has one of its own: the
	// fast read of 51 such rows (816 KiB) fails with SQLITE_TOOBIG.
	limit(t, db, 512<<10)
	if _, err := db.Value(`SELECT json_group_array(text) FROM messages`); err == nil || !strings.Contains(err.Error(), "too big") {
		t.Fatalf("a value past the limit: %v, want SQLITE_TOOBIG", err)
	}
	const budget = 256 << 10
	msgs, more, err := s.After(0, 0, 50, budget)
	if err != nil {
		t.Fatalf("After past the length limit: %v", err)
	}
	if n := len(msgs); n < 2 || n > budget/(16<<10)+1 || msgs[n-1].ID != 60 || more {
		t.Errorf("After = %v, more %v; want the newest rows within %d bytes (the room tells the cut)", ids(msgs), more, budget)
	}
	if windowFunctions(db) == 0 {
		t.Error("the bounded read did not run")
	}
}

// limit sets db's SQLITE_LIMIT_LENGTH.
func limit(t *testing.T, db *sqliteDB, n int) {
	t.Helper()
	conn, err := db.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(c any) error {
		c.(*sqlite3.SQLiteConn).SetLimit(sqlite3.SQLITE_LIMIT_LENGTH, n)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestProbeIgnoresOtherSchemaObjects(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, 3)
	// workerd keeps tables of its own in an object's database; a room may
	// also hold indexes (the unique ones SQLite makes, changes_message).
	for _, q := range []string{
		`CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB)`,
		`CREATE TABLE pruned_notes (x)`,
	} {
		if _, err := db.Value(q); err != nil {
			t.Fatal(err)
		}
	}
	db.statements = nil
	appendN(t, s, 1, 5, 3)
	if err := s.Edit(5, "x", "2025-10-26T05:21:00.000Z", 6, editFrame(6, 5, "x")); err != nil {
		t.Fatal(err)
	}
	again := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 3}
	appendN(t, again, 7, 8, 3)
	if msgs, _, err := again.After(0, 0, 10, 1<<20); err != nil || !slices.Equal(ids(msgs), []int64{7, 8}) {
		t.Errorf("After = %v, %v; want 7, 8 (pruned to the last 3 positions, 6 an edit)", ids(msgs), err)
	}
	for _, q := range db.statements {
		if strings.Contains(q, "_cf_KV") {
			t.Errorf("the store touched workerd's table: %s", q)
		}
	}
	objects := strings.Join(db.objects(t), ",")
	for _, want := range []string{"table _cf_KV", "table pruned_notes", "trigger prune3_3", "index sqlite_autoindex__cf_KV_1"} {
		if !strings.Contains(objects, want) {
			t.Errorf("schema %s lacks %s", objects, want)
		}
	}
}

// change makes the frame of a change at pos, as the room would.
func editFrame(pos, id int64, text string) []byte {
	return protocol.Marshal(protocol.MessageEdited{Type: protocol.TypeMessageEdited, ID: pos, MessageID: id, UserID: "alice", Text: text, EditedAt: "2025-10-26T05:21:00.000Z"})
}

func deleteFrame(pos, id int64) []byte {
	return protocol.Marshal(protocol.MessageDeleted{Type: protocol.TypeMessageDeleted, ID: pos, MessageID: id, By: "mod", Timestamp: "2025-10-26T05:22:00.000Z"})
}

func TestEditsAndDeletesTakePositions(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, 100)
	appendN(t, s, 1, 5, 100)
	if author, ok, err := s.Author(3); err != nil || !ok || author != "alice" {
		t.Fatalf("Author(3) = %q, %v, %v", author, ok, err)
	}
	if _, ok, _ := s.Author(99); ok {
		t.Error("Author of a message never sent")
	}
	if err := s.Edit(2, "fixed <b>", "2025-10-26T05:21:00.000Z", 6, editFrame(6, 2, "fixed <b>")); err != nil {
		t.Fatal(err)
	}
	if err := s.Edit(4, "first", "2025-10-26T05:21:00.000Z", 7, editFrame(7, 4, "first")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(4, 8, deleteFrame(8, 4)); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 9, 9, 100)
	if last, _ := s.LastID(); last != 9 {
		t.Errorf("LastID = %d, want 9", last)
	}
	msgs, more, err := s.After(0, 0, 10, 1<<20)
	if err != nil || more {
		t.Fatal(err, more)
	}
	if got := ids(msgs); !slices.Equal(got, []int64{1, 2, 3, 5, 9}) {
		t.Errorf("messages %v, want 4 gone", got)
	}
	if msgs[1].Text != "fixed <b>" || msgs[1].EditedAt != "2025-10-26T05:21:00.000Z" || msgs[0].EditedAt != "" {
		t.Errorf("message 2 = %+v, message 1 = %+v", msgs[1], msgs[0])
	}
	// The deleted text is gone from storage, its edit with it.
	for _, q := range []string{`SELECT count(*) FROM messages WHERE text = 'first'`, `SELECT count(*) FROM changes WHERE frame LIKE '%first%'`} {
		if v, _ := db.Value(q); v != float64(0) {
			t.Errorf("%s = %v: the deleted text is still stored", q, v)
		}
	}
	// A resume after 3 gets the changes to messages 1 to 3 (message 4 it
	// never saw, and gets in its current state: gone), one after 5 those to
	// messages up to 5, in order.
	for _, tt := range []struct {
		since int64
		want  []int64
	}{{3, []int64{6}}, {5, []int64{6, 8}}, {6, []int64{8}}, {1, nil}, {8, nil}} {
		changes, more, err := s.Changes(tt.since, 10, 1<<20)
		if err != nil || more {
			t.Fatal(err, more)
		}
		var got []int64
		for _, c := range changes {
			var v struct{ ID int64 }
			if err := json.Unmarshal(c, &v); err != nil {
				t.Fatalf("change %s: %v", c, err)
			}
			got = append(got, v.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Changes(%d) = %v, want %v", tt.since, got, tt.want)
		}
	}
	if changes, more, _ := s.Changes(5, 1, 1<<20); len(changes) != 1 || !more {
		t.Errorf("Changes with a limit of 1: %d, more %v", len(changes), more)
	}
	// Between 5 and 9: the edit at 6, the edit of the deleted message at 7
	// (its text gone, its position kept) and the deletion at 8.
	if n, err := s.Accounted(5, 9); err != nil || n != 3 {
		t.Errorf("Accounted(5, 9) = %d, %v; want 3", n, err)
	}
	// Between 3 and 5: message 4, deleted.
	if n, _ := s.Accounted(3, 5); n != 1 {
		t.Errorf("Accounted(3, 5) = %d, want 1 (the deleted message)", n)
	}
}

func TestARoomMadeBeforeChangesGetsThemAtItsNextWrite(t *testing.T) {
	t.Parallel()
	db := open(t)
	// The schema and trigger of an older build.
	for _, q := range []string{sqlstore.Schema, `CREATE TRIGGER prune_5 AFTER INSERT ON messages BEGIN DELETE FROM messages WHERE id <= NEW.id - 5; END`,
		`INSERT INTO messages VALUES (1, 'alice', 'old', '2025-10-26T05:20:00.123Z')`} {
		if _, err := db.Value(q); err != nil {
			t.Fatal(err)
		}
	}
	s := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 5}
	db.statements = nil
	// Reads work, and write nothing.
	if last, err := s.LastID(); err != nil || last != 1 {
		t.Fatalf("LastID = %d, %v", last, err)
	}
	if msgs, _, err := s.After(0, 0, 5, 1<<20); err != nil || len(msgs) != 1 {
		t.Fatalf("After = %v, %v", msgs, err)
	}
	if n, err := s.Accounted(0, 5); err != nil || n != 0 {
		t.Fatalf("Accounted = %d, %v", n, err)
	}
	if c, _, err := s.Changes(0, 5, 1<<20); err != nil || len(c) != 0 {
		t.Fatalf("Changes = %v, %v", c, err)
	}
	if n := db.writes(); n != 0 {
		t.Errorf("reads wrote: %q", db.statements)
	}
	appendN(t, s, 2, 2, 5)
	// A room that only chats gets no tables for changes.
	if want := []string{"table messages", "trigger prune_5"}; !slices.Equal(db.objects(t), want) {
		t.Errorf("schema = %q, want %q", db.objects(t), want)
	}
	if err := s.Edit(1, "new", "2025-10-26T05:21:00.000Z", 3, editFrame(3, 1, "new")); err != nil {
		t.Fatal(err)
	}
	// Its first change brings them, and the trigger that prunes them too.
	if want := fullSchema("prune3_5"); !slices.Equal(db.objects(t), want) {
		t.Errorf("schema = %q, want %q", db.objects(t), want)
	}
	appendN(t, s, 4, 9, 5)
	if v, _ := db.Value(`SELECT count(*) FROM changes`); v != float64(0) {
		t.Errorf("the change at 3 survived 6 more messages with keep 5")
	}
}

func TestPruningTakesChangesToo(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, 3)
	appendN(t, s, 1, 2, 3)
	if err := s.Edit(1, "x", "t", 3, editFrame(3, 1, "x")); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 4, 7, 3)
	if v, _ := db.Value(`SELECT count(*) FROM changes`); v != float64(0) {
		t.Errorf("%v changes left more than 3 positions old", v)
	}
	if v, _ := db.Value(`SELECT count(*) FROM edited`); v != float64(0) {
		t.Errorf("%v edit marks left for pruned messages", v)
	}
}

// fullSchema is every object a written room holds, with its prune trigger.
func fullSchema(trigger string) []string {
	return []string{"index changes_message", "index sqlite_autoindex_bans_1", "index sqlite_autoindex_idempotency_1",
		"index sqlite_autoindex_mutes_1", "index sqlite_autoindex_reactions_1", "index sqlite_autoindex_reads_1",
		"index sqlite_autoindex_services_1", "index sqlite_autoindex_settings_1",
		"table audit", "table bans", "table changes", "table edited", "table idempotency", "table messages",
		"table mutes", "table reactions", "table reads", "table services", "table settings", "trigger " + trigger}
}

func TestModerationIsStored(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, 100)
	if st, err := s.Moderation(); err != nil || len(st.Bans) != 0 || st.SlowModeSeconds != 0 {
		t.Fatalf("an empty room: %+v, %v", st, err)
	}
	if n := db.writes(); n != 0 {
		t.Errorf("reading an empty room's moderation wrote: %q", db.statements)
	}
	appendN(t, s, 1, 1, 100)
	for _, a := range []room.Action{
		{Kind: "ban", UserID: "bob=,x", By: "mod", Until: 1_700_000_000_000, Reason: "spam", Pos: 2, Frame: []byte(`{"type":"user_banned","id":2}`), At: "t"},
		{Kind: "ban", UserID: "eve", By: "mod", Pos: 3, Frame: []byte(`{"type":"user_banned","id":3}`), At: "t"},
		{Kind: "mute", UserID: "carol", By: "mod", Until: 5, Pos: 4, Frame: []byte(`{"type":"user_muted","id":4}`), At: "t"},
		{Kind: "unban", UserID: "eve", By: "mod", Pos: 5, Frame: []byte(`{"type":"user_unbanned","id":5}`), At: "t"},
		{Kind: "slow_mode", By: "mod", Seconds: 10, At: "t"},
	} {
		if err := s.Moderate(a); err != nil {
			t.Fatalf("%s: %v", a.Kind, err)
		}
	}
	if err := s.RememberService("bridge"); err != nil {
		t.Fatal(err)
	}
	// A new object life reads it all back.
	again := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 100}
	st, err := again.Moderation()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Bans) != 1 || st.Bans["bob=,x"].Until != 1_700_000_000_000 || len(st.Mutes) != 1 || st.Mutes["carol"].Until != 5 ||
		st.SlowModeSeconds != 10 || !st.Services["bridge"] || len(st.Services) != 1 {
		t.Errorf("read back %+v", st)
	}
	if last, _ := again.LastID(); last != 5 {
		t.Errorf("LastID = %d: the events took positions 2 to 5", last)
	}
	if changes, _, _ := again.Changes(1, 10, 1<<20); len(changes) != 4 {
		t.Errorf("a resume from 1 gets %d moderation events, want 4", len(changes))
	}
	if v, _ := db.Value(`SELECT count(*) FROM audit`); v != float64(5) {
		t.Errorf("%v audit entries, want 5", v)
	}
	if at, err := again.LastMessageAt("alice"); err != nil || at.IsZero() {
		t.Errorf("LastMessageAt = %v, %v", at, err)
	}
	if at, _ := again.LastMessageAt("nobody"); !at.IsZero() {
		t.Errorf("LastMessageAt of nobody = %v", at)
	}
}

func TestBanListAuditAndIdempotency(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 100)
	if bans, err := s.BanList(0); err != nil || len(bans) != 0 {
		t.Fatalf("an empty room's bans: %v, %v", bans, err)
	}
	if _, ok, err := s.Idempotent("k", 0); ok || err != nil {
		t.Fatalf("an empty room's key: %v, %v", ok, err)
	}
	const now = int64(1_764_500_000_000)
	for _, a := range []room.Action{
		{Kind: "ban", UserID: "zed", By: "mod", Until: now + 60_000, Reason: "r", At: "t1"},
		{Kind: "ban", UserID: "amy", By: "mod", At: "t2"},
		{Kind: "ban", UserID: "old", By: "mod", Until: now - 1, At: "t3"},
		{Kind: "kick", UserID: "bob", By: "mod", Reason: "x", At: "t4"},
		{Kind: "slow_mode", By: "mod", Seconds: 5, At: "t5"},
	} {
		if err := s.Moderate(a); err != nil {
			t.Fatal(err)
		}
	}
	bans, err := s.BanList(now)
	if err != nil || len(bans) != 2 || bans[0].UserID != "amy" || bans[0].Until != nil || bans[1].UserID != "zed" || bans[1].Until == nil ||
		bans[1].Until.At != protocol.Timestamp(time.UnixMilli(now+60_000)) || bans[1].Reason != "r" {
		t.Errorf("bans = %+v, %v", bans, err)
	}
	page, more, err := s.Audit(0, 2)
	if err != nil || !more || len(page) != 2 || page[0].Action != "slow_mode" || page[0].Seconds != 5 || page[1].Action != "kick" || page[1].Until != nil {
		t.Errorf("audit = %+v, %v, %v", page, more, err)
	}
	older, more, _ := s.Audit(page[1].ID, 10)
	if len(older) != 3 || more || older[0].UserID != "old" || older[2].UserID != "zed" {
		t.Errorf("older = %+v, %v", older, more)
	}
	if err := s.Remember("key", []byte(`{"id":7}`), now); err != nil {
		t.Fatal(err)
	}
	if answer, ok, _ := s.Idempotent("key", now+1000); !ok || string(answer) != `{"id":7}` {
		t.Errorf("the key a second later: %s, %v", answer, ok)
	}
	if _, ok, _ := s.Idempotent("key", now+room.IdempotencyWindow.Milliseconds()+1); ok {
		t.Error("the key after the window")
	}
}

// BenchmarkAfter reads a join's history (the newest 50 of 1,000 messages) in
// a room without changes and in one with them: the fast read.
func BenchmarkAfter(b *testing.B) {
	for _, changes := range []bool{false, true} {
		b.Run(fmt.Sprintf("changes %v", changes), func(b *testing.B) {
			db := open(&testing.T{})
			s := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 1000}
			for id := int64(1); id <= 1000; id++ {
				m, frame := message(id)
				if err := s.Append(m, frame, 1000); err != nil {
					b.Fatal(err)
				}
			}
			if changes {
				if err := s.Edit(3, "fixed", "2025-10-26T05:21:00.000Z", 1001, editFrame(1001, 3, "fixed")); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for range b.N {
				if msgs, _, err := s.After(0, 0, 50, 1<<20); err != nil || len(msgs) != 50 {
					b.Fatal(len(msgs), err)
				}
			}
		})
	}
}
