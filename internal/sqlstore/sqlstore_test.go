package sqlstore_test

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/chatroom/gochat/internal/sqlstore"
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
	db := open(t)
	s := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 10}
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
	db := open(t)
	s := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 5}
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
	if m, _ := message(8); msgs[4] != m {
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
	db := open(t)
	s := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 5}
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
	db := open(t)
	s := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 100}
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
	if got := sqlstore.PruneTrigger(1000); got != "prune_1000" {
		t.Errorf("PruneTrigger(1000) = %q", got)
	}
}

func TestWindowBelowBefore(t *testing.T) {
	t.Parallel()
	db := open(t)
	s := sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 100}
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
