package sqlstore_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/chatroom/gochat/internal/sqlstore"
	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

func reactionFrame(pos, id int64, emoji, user string, added bool) []byte {
	return protocol.Marshal(protocol.Reaction{Type: protocol.TypeReaction, ID: pos, MessageID: id, Emoji: emoji, UserID: user, Added: added})
}

func TestReadMarkersAreStored(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, 100)
	// A room that never stored anything reads as nobody having read.
	if m, err := s.ReadMarker("alice"); err != nil || m != (room.ReadMarker{}) {
		t.Fatalf("ReadMarker of an empty room = %+v, %v", m, err)
	}
	if p, err := s.PendingReads(); err != nil || len(p) != 0 {
		t.Fatalf("PendingReads of an empty room = %v, %v", p, err)
	}
	if n, err := s.Unread(0, 10); err != nil || n != 0 {
		t.Fatalf("Unread of an empty room = %d, %v", n, err)
	}
	if db.writes() != 0 {
		t.Errorf("reading read markers wrote: %q", db.statements)
	}
	appendN(t, s, 1, 30, 100)
	shown := room.ReadMarker{Last: 12, Shown: 12, ShownAt: 1_700_000_000_000}
	waiting := room.ReadMarker{Last: 20, Shown: 7, ShownAt: 1_700_000_000_500}
	for user, m := range map[string]room.ReadMarker{"alice": shown, "b=,\"ob": waiting} {
		if err := s.SetReadMarker(user, m); err != nil {
			t.Fatal(err)
		}
	}
	// A new life of the object reads them from storage.
	s = sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 100}
	if m, err := s.ReadMarker("b=,\"ob"); err != nil || m != waiting {
		t.Errorf("ReadMarker = %+v, %v, want %+v", m, err, waiting)
	}
	if p, err := s.PendingReads(); err != nil || !maps.Equal(p, map[string]room.ReadMarker{"b=,\"ob": waiting}) {
		t.Errorf("PendingReads = %v, %v, want only the waiting one", p, err)
	}
	reads, err := s.Reads([]string{"alice", "b=,\"ob", "carol"})
	if want := map[string]int64{"alice": 12, "b=,\"ob": 20}; err != nil || !maps.Equal(reads, want) {
		t.Errorf("Reads = %v, %v, want %v", reads, err, want)
	}
	for _, c := range []struct {
		after       int64
		limit, want int
	}{{12, 1001, 18}, {0, 1001, 30}, {0, 5, 5}, {30, 1001, 0}} {
		if n, err := s.Unread(c.after, c.limit); err != nil || n != int64(c.want) {
			t.Errorf("Unread(%d, %d) = %d, %v, want %d", c.after, c.limit, n, err, c.want)
		}
	}
}

func TestReactions(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 100)
	appendN(t, s, 1, 2, 100)
	if had, present, n, err := s.ReactionState(1, "👍", "bob"); err != nil || had || present || n != 0 {
		t.Fatalf("ReactionState before any = %v %v %d %v", had, present, n, err)
	}
	pos := int64(3)
	react := func(id int64, emoji, user string, added bool) {
		t.Helper()
		if err := s.React(id, emoji, user, added, pos, reactionFrame(pos, id, emoji, user, added)); err != nil {
			t.Fatal(err)
		}
		pos++
	}
	// Twelve users thumb message 1 up, two heart it; one thumb is taken back.
	users := []string{"u00", "u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08", "u09", "u10", "u11"}
	react(1, "❤️", "zed", true)
	for _, u := range users {
		react(1, "👍", u, true)
	}
	react(1, "❤️", "amy", true)
	react(1, "👍", "u03", false)
	if had, present, n, err := s.ReactionState(1, "👍", "u04"); err != nil || !had || !present || n != 2 {
		t.Errorf("ReactionState(u04) = %v %v %d %v, want true true 2", had, present, n, err)
	}
	if had, present, _, _ := s.ReactionState(1, "👍", "u03"); had || !present {
		t.Errorf("u03 took the reaction back: had %v, present %v", had, present)
	}
	if had, present, _, _ := s.ReactionState(1, "🙂", "u03"); had || present {
		t.Errorf("an emoji nobody used: had %v, present %v", had, present)
	}
	msgs, _, err := s.After(0, 0, 10, 1<<20)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("After = %v, %v", msgs, err)
	}
	want := []protocol.ReactionSummary{
		{Emoji: "❤️", Count: 2, Users: []string{"zed", "amy"}},
		{Emoji: "👍", Count: 11, Users: []string{"u00", "u01", "u02", "u04", "u05", "u06", "u07", "u08", "u09", "u10"}},
	}
	// The SQL spells protocol.ReactionUsers as a literal (reactionsOf).
	if len(want[1].Users) != protocol.ReactionUsers {
		t.Fatalf("this test names %d reactors, protocol.ReactionUsers is %d", len(want[1].Users), protocol.ReactionUsers)
	}
	if !reflect.DeepEqual(msgs[0].Reactions, want) || msgs[1].Reactions != nil {
		t.Errorf("reactions = %+v / %+v, want %+v on message 1 alone", msgs[0].Reactions, msgs[1].Reactions, want)
	}
	// The reactions reach a resume from 1 at their positions; not from 2.
	frames, _, err := s.Changes(1, 100, 1<<20)
	if err != nil || len(frames) != 15 {
		t.Fatalf("Changes(1) = %d frames, %v, want 15", len(frames), err)
	}
	var last protocol.Reaction
	if err := json.Unmarshal(frames[14], &last); err != nil || last.ID != 17 || last.Added || last.UserID != "u03" {
		t.Errorf("last change %s, want u03's removal at 17", frames[14])
	}
	// A deleted message loses its reactions, and its reaction changes.
	if err := s.Delete(1, pos, deleteFrame(pos, 1)); err != nil {
		t.Fatal(err)
	}
	if had, present, n, err := s.ReactionState(1, "👍", "u04"); err != nil || had || present || n != 0 {
		t.Errorf("after the delete: ReactionState = %v %v %d %v", had, present, n, err)
	}
	if frames, _, _ := s.Changes(0, 100, 1<<20); len(frames) != 0 {
		t.Errorf("a resume from 0 after the delete got %s", frames)
	}
	if frames, _, _ := s.Changes(1, 100, 1<<20); len(frames) != 1 {
		t.Errorf("a resume from 1 after the delete got %d frames, want the deletion alone", len(frames))
	}
	// Every reaction position is still accounted for between 2 and the end.
	if n, err := s.Accounted(2, pos+1); err != nil || n != pos-2 {
		t.Errorf("Accounted = %d, %v, want %d", n, err, pos-2)
	}
}

func TestPruningTakesReactions(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, 3)
	appendN(t, s, 1, 1, 3)
	if err := s.React(1, "👍", "bob", true, 2, reactionFrame(2, 1, "👍", "bob", true)); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 3, 5, 3)
	if v, _ := db.Value(`SELECT count(*) FROM reactions`); v != float64(0) {
		t.Errorf("a pruned message's reaction survived")
	}
}

// A room whose change tables were made before the live signals (prune2_)
// gets theirs, and a trigger that prunes reactions, at its next change.
func TestARoomMadeBeforeSignalsGetsThemAtItsNextChange(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, 5)
	appendN(t, s, 1, 1, 5)
	for _, q := range []string{
		`CREATE TABLE changes (pos INTEGER PRIMARY KEY, message_id INTEGER NOT NULL, kind TEXT NOT NULL, frame TEXT NOT NULL)`,
		`CREATE INDEX changes_message ON changes (message_id)`,
		`CREATE TABLE edited (message_id INTEGER PRIMARY KEY, edited_at TEXT NOT NULL)`,
		`CREATE TABLE bans (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL)`,
		`CREATE TABLE mutes (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL)`,
		`CREATE TABLE settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
		`CREATE TABLE audit (seq INTEGER PRIMARY KEY, action TEXT NOT NULL, user_id TEXT NOT NULL, by TEXT NOT NULL, reason TEXT NOT NULL, until INTEGER NOT NULL, seconds INTEGER NOT NULL, message_id INTEGER NOT NULL, at TEXT NOT NULL)`,
		`CREATE TABLE services (user_id TEXT PRIMARY KEY)`,
		`CREATE TABLE idempotency (seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, answer TEXT NOT NULL, at INTEGER NOT NULL)`,
		`CREATE TRIGGER prune2_5 AFTER INSERT ON messages BEGIN DELETE FROM messages WHERE id <= NEW.id - 5; END`,
	} {
		if _, err := db.Value(q); err != nil {
			t.Fatal(err)
		}
	}
	s = sqlstore.Store{DB: db, State: &sqlstore.State{}, Keep: 5}
	if m, err := s.ReadMarker("alice"); err != nil || m != (room.ReadMarker{}) {
		t.Fatalf("an old room's marker = %+v, %v", m, err)
	}
	if err := s.React(1, "👍", "bob", true, 2, reactionFrame(2, 1, "👍", "bob", true)); err != nil {
		t.Fatal(err)
	}
	if got, want := db.objects(t), fullSchema("prune3_5"); !slices.Equal(got, want) {
		t.Errorf("schema = %q, want %q", got, want)
	}
}
