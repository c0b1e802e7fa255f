package room_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

func edited(pos, id int, u, text string) string {
	return `{"type":"message_edited","id":` + strconv.Itoa(pos) + `,"messageId":` + strconv.Itoa(id) +
		`,"userId":"` + u + `","text":"` + text + `","editedAt":"` + ts + `"}`
}

func deleted(pos, id int, by string) string {
	return `{"type":"message_deleted","id":` + strconv.Itoa(pos) + `,"messageId":` + strconv.Itoa(id) +
		`,"by":"` + by + `","timestamp":"` + ts + `"}`
}

func storedEdited(id int, u, text string) string {
	return `{"id":` + strconv.Itoa(id) + `,"userId":"` + u + `","text":"` + text + `","timestamp":"` + ts + `","editedAt":"` + ts + `"}`
}

func TestEditAndDelete(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		a, b := e.connect(), e.connect()
		e.send(a, `{"type":"join","userId":"alice"}`)
		e.send(b, `{"type":"join","userId":"bob"}`)
		a.take()
		b.take()
		e.send(a, `{"type":"message","text":"helo"}`)
		e.send(b, `{"type":"message","text":"hi"}`)
		a.take()
		b.take()
		// alice fixes her own: everyone hears it, at the next position.
		e.send(a, `{"type":"edit","id":1,"text":"hello"}`)
		e.expect(a, edited(3, 1, "alice", "hello"))
		e.expect(b, edited(3, 1, "alice", "hello"))
		// Message ids go on after the edit's position: they may skip.
		e.send(b, `{"type":"message","text":"welcome"}`)
		e.expect(a, msg(4, "bob", "welcome"))
		b.take()
		// bob deletes his own.
		e.send(b, `{"type":"delete","id":2}`)
		e.expect(a, deleted(5, 2, "bob"))
		e.expect(b, deleted(5, 2, "bob"))
		// A newcomer sees the current state: edited, and without the
		// deleted one.
		c := e.connect()
		e.send(c, `{"type":"join","userId":"carol"}`)
		e.expect(c, welcome("carol", us("alice", "bob", "carol"), storedEdited(1, "alice", "hello"), stored(4, "bob", "welcome"))...)
		if got := e.host.store.rows; len(got) != 2 || strings.Contains(got[0].Text+got[1].Text, "hi") {
			t.Errorf("stored %+v: the deleted text is still there", got)
		}
	})
}

func TestEditAndDeleteRefusals(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.MaxTextChars, cfg.BlockedWords = 10, []string{"darn"}
	both(t, cfg, func(e *env) {
		a, b, lurker := e.connect(), e.connect(), e.connect()
		e.send(a, `{"type":"join","userId":"alice"}`)
		e.send(b, `{"type":"join","userId":"bob"}`)
		e.send(a, `{"type":"message","text":"mine"}`)
		a.take()
		b.take()
		for _, tt := range []struct {
			name  string
			who   *fakeSocket
			frame string
			code  string
		}{
			{"someone else's edit", b, `{"type":"edit","id":1,"text":"hacked"}`, "forbidden"},
			{"someone else's delete", b, `{"type":"delete","id":1}`, "forbidden"},
			{"no such message to edit", a, `{"type":"edit","id":99,"text":"x"}`, "not_found"},
			{"no such message to delete", a, `{"type":"delete","id":99}`, "not_found"},
			{"no id", a, `{"type":"edit","text":"x"}`, "invalid_id"},
			{"id zero", a, `{"type":"delete","id":0}`, "invalid_id"},
			{"id as a string", a, `{"type":"delete","id":"1"}`, "invalid_id"},
			{"id as a float", a, `{"type":"delete","id":1.5}`, "invalid_id"},
			{"edit without text", a, `{"type":"edit","id":1}`, "invalid_message"},
			{"edit to nothing", a, `{"type":"edit","id":1,"text":""}`, "invalid_message"},
			{"edit too long", a, `{"type":"edit","id":1,"text":"12345678901"}`, "message_too_long"},
			{"edit with a control character", a, `{"type":"edit","id":1,"text":"a\u0007"}`, "invalid_message"},
			{"edit with a blocked word", a, `{"type":"edit","id":1,"text":"darn"}`, "content_blocked"},
			{"an unjoined edit", lurker, `{"type":"edit","id":1,"text":"x"}`, "not_joined"},
			{"an unjoined delete", lurker, `{"type":"delete","id":1}`, "not_joined"},
		} {
			e.send(tt.who, tt.frame)
			got := tt.who.take()
			if len(got) != 1 || !strings.HasPrefix(got[0], `{"type":"error","code":"`+tt.code+`"`) {
				t.Errorf("%s: got %q, want %s", tt.name, got, tt.code)
			}
		}
		e.expect(a) // nothing changed for anyone
		e.expect(b)
		if got := e.host.store.rows; len(got) != 1 || got[0].Text != "mine" {
			t.Errorf("stored %+v", got)
		}
	})
}

func TestEditsAreRateLimited(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.RateBurst, cfg.RatePerSecond = 2, 0.001
	e := newEnv(t, cfg, false)
	a := e.connect()
	e.send(a, `{"type":"join","userId":"alice"}`)
	e.send(a, `{"type":"message","text":"one"}`)
	e.send(a, `{"type":"edit","id":1,"text":"two"}`)
	a.take()
	e.send(a, `{"type":"edit","id":1,"text":"three"}`)
	if got := a.take(); len(got) != 1 || !strings.Contains(got[0], `"rate_limited"`) {
		t.Errorf("a third write in a burst of 2: %q, want rate_limited", got)
	}
}

func TestModeratorsDeleteAnyonesMessage(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		alice := e.connectWith(room.Conn{User: "alice", Role: protocol.RoleMember})
		mod := e.connectWith(room.Conn{User: "mod", Role: protocol.RoleModerator})
		bot := e.connectWith(room.Conn{User: "bot", Role: protocol.RoleService})
		for _, s := range []*fakeSocket{alice, mod, bot} {
			e.send(s, `{"type":"join"}`)
		}
		e.send(alice, `{"type":"message","text":"one"}`)
		e.send(alice, `{"type":"message","text":"two"}`)
		alice.take()
		mod.take()
		bot.take()
		e.send(mod, `{"type":"delete","id":1}`)
		e.expect(alice, deleted(3, 1, "mod"))
		e.send(bot, `{"type":"delete","id":2}`)
		e.expect(alice, deleted(4, 2, "bot"))
		// Editing stays the author's alone.
		e.send(alice, `{"type":"message","text":"three"}`)
		alice.take()
		mod.take()
		e.send(mod, `{"type":"edit","id":5,"text":"moderated"}`)
		if got := mod.take(); len(got) != 1 || !strings.Contains(got[0], `"forbidden"`) {
			t.Errorf("a moderator's edit of another's message: %q, want forbidden", got)
		}
	})
}

func TestOpenModeHasNoModerators(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	a, b := e.connect(), e.connect()
	e.send(a, `{"type":"join","userId":"alice"}`)
	e.send(b, `{"type":"join","userId":"mod"}`)
	e.send(a, `{"type":"message","text":"mine"}`)
	a.take()
	b.take()
	e.send(b, `{"type":"delete","id":1}`)
	e.expectError(b, "forbidden")
	e.send(a, `{"type":"delete","id":1}`) // one's own: yes
	e.expect(a, deleted(2, 1, "alice"))
}

// TestResumeSeesEveryChange: a client that resumes ends with the view of
// one that never left: the messages after since as they are now, and the
// changes to the ones it held, in order; no position is taken for a lost
// message.
func TestResumeSeesEveryChange(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		w := e.connect()
		e.send(w, `{"type":"join","userId":"writer"}`)
		for i := 1; i <= 4; i++ {
			e.send(w, `{"type":"message","text":"m`+strconv.Itoa(i)+`"}`)
		}
		w.take()
		// A reader held 1 to 4 (since 4), then left. Meanwhile:
		e.send(w, `{"type":"edit","id":2,"text":"m2!"}`) // 5: a change to one it held
		e.send(w, `{"type":"message","text":"m6"}`)      // 6
		e.send(w, `{"type":"delete","id":3}`)            // 7: one it held is gone
		e.send(w, `{"type":"edit","id":6,"text":"m6!"}`) // 8: one it never saw
		e.send(w, `{"type":"message","text":"m9"}`)      // 9
		e.send(w, `{"type":"delete","id":9}`)            // 10: gone before it saw it
		w.take()
		r := e.connect()
		e.send(r, `{"type":"join","userId":"reader","since":4}`)
		got := r.take()
		want := `{"type":"history","messages":[` + storedEdited(6, "writer", "m6!") + `],"changes":[` +
			edited(5, 2, "writer", "m2!") + `,` + deleted(7, 3, "writer") + `]}`
		// Unread counts what the room still holds (1, 2, 4 and 6; 3 and 9
		// are deleted), not only what the history frame carries.
		if len(got) != 4 || got[2] != want || got[3] != readState(0, 4) {
			t.Errorf("resume got\n  %s\nwant\n  %s\n  %s", strings.Join(got, "\n  "), want, readState(0, 4))
		}
		// Nothing after 10: an empty resume, not truncated.
		r2 := e.connect()
		e.send(r2, `{"type":"join","userId":"late","since":10}`)
		if got := r2.take(); len(got) != 4 || got[2] != `{"type":"history","messages":[]}` || got[3] != readState(0, 4) {
			t.Errorf("a resume at the last position got %q", got)
		}
		// The API shows the current state.
		_, body := e.room.Messages(e.host, "r", url.Values{})
		var page protocol.MessagesPage
		if json.Unmarshal(body, &page) != nil || len(page.Messages) != 4 || page.Truncated ||
			page.Messages[1].Text != "m2!" || page.Messages[1].EditedAt == "" {
			t.Errorf("the messages page: %s", body)
		}
	})
}

func TestAGapThatIsNoChangeStillTruncates(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.KeepMessages = 3
	e := newEnv(t, cfg, false)
	w := e.connect()
	e.send(w, `{"type":"join","userId":"w"}`)
	e.send(w, `{"type":"message","text":"m1"}`)
	e.send(w, `{"type":"edit","id":1,"text":"m1!"}`) // 2
	for i := 3; i <= 6; i++ {
		e.send(w, `{"type":"message","text":"m`+strconv.Itoa(i)+`"}`)
	}
	// Positions 1 to 3 are pruned: a resume from 1 lost message 3.
	r := e.connect()
	e.send(r, `{"type":"join","userId":"r","since":1}`)
	got := r.take()
	// Only 4 to 6 are still stored: those are the unread ones.
	if len(got) != 4 || !strings.Contains(got[2], `"truncated":true`) || got[3] != readState(0, 3) {
		t.Errorf("a resume across pruned messages: %q, want truncated", got)
	}
}

// TestDeletingAnEditedMessageLeavesNoFalseGap: the deleted message's edits
// lose their text but keep their positions, so a window after them is not
// taken for one that lost messages.
func TestDeletingAnEditedMessageLeavesNoFalseGap(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		w := e.connect()
		e.send(w, `{"type":"join","userId":"w"}`)
		e.send(w, `{"type":"message","text":"secret"}`)          // 1
		e.send(w, `{"type":"edit","id":1,"text":"more secret"}`) // 2
		e.send(w, `{"type":"delete","id":1}`)                    // 3
		e.send(w, `{"type":"message","text":"fine"}`)            // 4
		r := e.connect()
		e.send(r, `{"type":"join","userId":"r"}`)
		got := r.take()
		if len(got) != 4 || got[2] != history(stored(4, "w", "fine")) || got[3] != readState(0, 1) {
			t.Errorf("a join got %q, want message 4 alone and not truncated", got)
		}
		for _, c := range e.host.store.changes {
			if strings.Contains(c.frame, "secret") {
				t.Errorf("the deleted message's text survives in change %d: %s", c.pos, c.frame)
			}
		}
		r2 := e.connect()
		e.send(r2, `{"type":"join","userId":"r2","since":1}`)
		if got := r2.take(); len(got) != 4 || strings.Contains(got[2], "edited") || !strings.Contains(got[2], "message_deleted") ||
			got[3] != readState(0, 1) {
			t.Errorf("a resume from 1 got %q, want the deletion and no edit", got)
		}
	})
}
