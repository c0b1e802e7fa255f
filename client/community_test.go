package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatroom/gochat/client"
	"github.com/chatroom/gochat/room/protocol"
)

// roomErr asserts that err is a *RoomError with code and returns it.
func roomErr(t testing.TB, err error, code string) *client.RoomError {
	t.Helper()
	var re *client.RoomError
	if !errors.As(err, &re) || re.Code != code {
		t.Fatalf("error %v, want a RoomError %s", err, code)
	}
	return re
}

// open dials user and reads events until the client is open.
func open(t *testing.T, f *fakeRoom, user string) *client.Client {
	t.Helper()
	c := dial(t, testOptions(f, user))
	until(t, c, state(client.Open), nil)
	return c
}

// cutOff drops c's connection and keeps it out until the returned func is
// called; it reads c's events until it is reconnecting.
func cutOff(t *testing.T, f *fakeRoom, c *client.Client) (letIn func()) {
	t.Helper()
	f.set(func(f *fakeRoom) {
		f.refuse = func(*http.Request) (int, string) { return 503, "room_full" }
	})
	f.kick(0, "")
	until(t, c, state(client.Reconnecting), nil)
	return func() { f.set(func(f *fakeRoom) { f.refuse = nil }) }
}

// TestEditDelete: Edit and Delete return the room's echo, which every
// client also gets as an event at its position; refusals come back as
// RoomErrors that say what they refused.
func TestEditDelete(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	alice := open(t, f, "alice")
	bob := open(t, f, "bob")
	until[*client.UserJoined](t, alice, func(j *client.UserJoined) bool { return j.UserID == "bob" }, nil)
	go func() {
		for range alice.Events() {
		}
	}()
	ctx := ctxT(t)
	m, err := alice.Send(ctx, "one")
	if err != nil {
		t.Fatal(err)
	}
	until(t, bob, func(m *client.Message) bool { return m.ID == 1 }, nil)

	ed, err := alice.Edit(ctx, m.ID, "uno")
	if err != nil {
		t.Fatal(err)
	}
	if ed.ID != 2 || ed.MessageID != 1 || ed.UserID != "alice" || ed.Text != "uno" || ed.EditedAt.IsZero() ||
		!strings.HasPrefix(string(ed.Raw), `{"type":"message_edited","id":2,"messageId":1,`) {
		t.Errorf("Edit returned %+v %s", ed, ed.Raw)
	}
	if ev := until[*client.MessageEdited](t, bob, nil, nil); ev.ID != 2 || ev.Text != "uno" || string(client.Raw(ev)) != string(ed.Raw) {
		t.Errorf("bob's edit event %+v", ev)
	}
	if bob.LastID() != 2 || alice.LastID() != 2 {
		t.Errorf("LastID %d %d, want 2: an edit takes a position", bob.LastID(), alice.LastID())
	}

	_, err = bob.Edit(ctx, 1, "hijacked")
	if re := roomErr(t, err, protocol.CodeForbidden); re.Request != protocol.TypeEdit || re.MessageID != 1 || re.Text != "hijacked" {
		t.Errorf("refused edit %+v", re)
	}
	if ev := until[*client.Error](t, bob, nil, nil); ev.Err.Code != protocol.CodeForbidden {
		t.Errorf("error event %+v", ev.Err)
	}
	_, err = bob.Delete(ctx, 1)
	roomErr(t, err, protocol.CodeForbidden)
	_, err = alice.Edit(ctx, 99, "x")
	if re := roomErr(t, err, protocol.CodeNotFound); re.MessageID != 99 {
		t.Errorf("not found %+v", re)
	}

	del, err := alice.Delete(ctx, 1)
	if err != nil || del.ID != 3 || del.MessageID != 1 || del.By != "alice" || del.Time.IsZero() {
		t.Fatalf("Delete: %+v %v", del, err)
	}
	if ev := until[*client.MessageDeleted](t, bob, nil, nil); ev.ID != 3 || ev.MessageID != 1 {
		t.Errorf("bob's delete event %+v", ev)
	}
	_, err = alice.Delete(ctx, 1)
	roomErr(t, err, protocol.CodeNotFound)
	// A moderator deletes anyone's.
	f.set(func(f *fakeRoom) { f.mods["bob"] = true })
	m2, _ := alice.Send(ctx, "two")
	if d, err := bob.Delete(ctx, m2.ID); err != nil || d.By != "bob" {
		t.Errorf("a moderator's delete: %+v %v", d, err)
	}
	if m, err := alice.Send(ctx, "three"); err != nil || m.ID != 6 {
		t.Errorf("the next message: %+v %v, want id 6", m, err)
	}
}

// TestErrorAttribution: an error answers the oldest request in flight that
// such an error can answer, so a frame the room never answers does not take
// the answer of a later one of another kind.
func TestErrorAttribution(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	f.onChange = func(req protocol.Request) string {
		if req.Type == protocol.TypeEdit {
			return "silent" // as the room's frame budget may drop it
		}
		return ""
	}
	alice := open(t, f, "alice")
	drain(alice)
	m, err := alice.Send(ctxT(t), "hi")
	if err != nil {
		t.Fatal(err)
	}
	editCtx, cancelEdit := context.WithCancel(ctxT(t))
	edited := make(chan error, 1)
	go func() { _, err := alice.Edit(editCtx, m.ID, "hey"); edited <- err }()
	f.waitFor(t, "the edit", func(f *fakeRoom) bool { return count(f.frames, protocol.TypeEdit) == 1 })
	f.set(func(f *fakeRoom) { f.mutes["alice"] = "2030-01-02T03:04:05.000Z" })
	_, err = alice.Send(ctxT(t), "muted text")
	re := roomErr(t, err, protocol.CodeMuted)
	if want := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC); !re.Until.Equal(want) || re.Request != protocol.TypeMessage || re.Text != "muted text" {
		t.Errorf("muted %+v, want until %v", re, want)
	}
	if !strings.Contains(re.Error(), "until 2030-01-02T03:04:05Z") {
		t.Errorf("Error() %q", re.Error())
	}
	cancelEdit()
	if err := <-edited; !errors.Is(err, context.Canceled) {
		t.Errorf("the unanswered edit: %v", err)
	}
	_, err = alice.Delete(ctxT(t), 42)
	if re := roomErr(t, err, protocol.CodeNotFound); re.Request != protocol.TypeDelete {
		t.Errorf("delete's error %+v", re)
	}
}

// TestResumeChanges: a resume delivers the changes missed to messages
// already delivered, and the moderation events missed, as events right
// after the History, once each; History messages carry EditedAt, and
// LastID follows the highest position of any kind.
func TestResumeChanges(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	f.mods["mod"] = true
	alice := open(t, f, "alice")
	f.inject("bob", "one")
	f.inject("bob", "two")
	until(t, alice, func(m *client.Message) bool { return m.ID == 2 }, nil)

	letIn := cutOff(t, f, alice)
	f.apply(t, func(f *fakeRoom) ([]byte, string) { return f.editMsg("bob", 1, "ONE") }) // 3
	f.apply(t, func(f *fakeRoom) ([]byte, string) { return f.deleteMsg("bob", 2) })      // 4
	f.apply(t, func(f *fakeRoom) ([]byte, string) {                                      // 5
		return f.moderateUser("mod", protocol.Request{Type: protocol.TypeMute, UserID: "carol", Seconds: 60, Reason: "spam"})
	})
	f.inject("bob", "three")                                                               // 6
	f.apply(t, func(f *fakeRoom) ([]byte, string) { return f.editMsg("bob", 6, "THREE") }) // 7: folded into 6
	letIn()

	var seen []client.Event
	h := until[*client.History](t, alice, nil, &seen)
	until(t, alice, state(client.Open), &seen)
	var kinds []string
	for _, ev := range seen[len(seen)-5:] {
		kinds = append(kinds, fmt.Sprintf("%T@%d", ev, client.Position(ev)))
	}
	if got := strings.Join(kinds, " "); got != "*client.History@0 *client.MessageEdited@3 *client.MessageDeleted@4 *client.Moderated@5 *client.Status@0" {
		t.Errorf("resume events %s", got)
	}
	if len(h.Changes) != 3 || h.Changes[0] != seen[len(seen)-4] {
		t.Errorf("History.Changes %v: want the same values as the events", h.Changes)
	}
	if len(h.Messages) != 1 || h.Messages[0].ID != 6 || h.Messages[0].Text != "THREE" || h.Messages[0].EditedAt.IsZero() {
		t.Errorf("history messages %+v", h.Messages)
	}
	ed := h.Changes[0].(*client.MessageEdited)
	if ed.MessageID != 1 || ed.Text != "ONE" || !strings.HasPrefix(string(ed.Raw), `{"type":"message_edited","id":3,`) {
		t.Errorf("edit %+v %s", ed, ed.Raw)
	}
	mod := h.Changes[2].(*client.Moderated)
	if mod.Kind != client.Mute || mod.UserID != "carol" || mod.By != "mod" || mod.Reason != "spam" || time.Until(mod.Until) < 50*time.Second {
		t.Errorf("moderation %+v", mod)
	}
	if alice.LastID() != 6 {
		// The edit of 6 at 7 is folded into the message: nothing shows 7.
		t.Errorf("LastID %d, want 6", alice.LastID())
	}
	f.mu.Lock()
	since := f.joins[len(f.joins)-1].since
	f.mu.Unlock()
	if since != 2 {
		t.Errorf("rejoin since %d", since)
	}

	// A drop now resumes after 6 and gets the edit at 7 as a change (the
	// text the message already shows), then nothing more.
	for _, want := range []int{1, 0} {
		letIn = cutOff(t, f, alice)
		letIn()
		h = until[*client.History](t, alice, nil, nil)
		if len(h.Messages) != 0 || len(h.Changes) != want {
			t.Errorf("resume after %d: %+v", since, h)
		}
		if alice.LastID() != 7 {
			t.Errorf("LastID %d, want 7", alice.LastID())
		}
	}
}

// TestRefusedNotResent: a text the room refused (muted, slow_mode) has had
// its answer and is not sent again after a drop.
func TestRefusedNotResent(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	alice := open(t, f, "alice")
	drain(alice)
	ctx := ctxT(t)
	if _, err := alice.Send(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	f.setSlow(60)
	_, err := alice.Send(ctx, "too soon")
	if re := roomErr(t, err, protocol.CodeSlowMode); re.RetryAfter < 50*time.Second || re.Text != "too soon" {
		t.Errorf("slow mode %+v", re)
	}
	f.set(func(f *fakeRoom) { f.mutes["alice"] = "" })
	_, err = alice.Send(ctx, "muted")
	if re := roomErr(t, err, protocol.CodeMuted); !re.Until.IsZero() {
		t.Errorf("muted until lifted: %+v", re)
	}
	f.set(func(f *fakeRoom) { delete(f.mutes, "alice"); f.slow = 0 })
	f.kick(0, "")
	f.waitFor(t, "the rejoin", func(f *fakeRoom) bool { return len(f.joins) == 2 })
	if _, err := alice.Send(ctx, "after"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.texts()); got != "[first after]" {
		t.Errorf("stored %s", got)
	}
}

// TestExactlyOnceWithChanges: a send cut off by a drop is not sent again
// when the resume cannot tell whether the room has it: one of ours edited,
// or a hole after the resume point.
func TestExactlyOnceWithChanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(f *fakeRoom, id int64) ([]byte, string)
		want   string
	}{
		{"stored, then edited", func(f *fakeRoom, id int64) ([]byte, string) { return f.editMsg("alice", id, "x2") }, "[b1 x2 b2]"},
		{"stored, then deleted", func(f *fakeRoom, id int64) ([]byte, string) { return f.deleteMsg("alice", id) }, "[b1 b2]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeRoom(t)
			f.onMessage = func(text string) string {
				if text == "x" {
					return "store-drop"
				}
				return ""
			}
			alice := open(t, f, "alice")
			f.inject("bob", "b1")
			until[*client.Message](t, alice, nil, nil)
			f.set(func(f *fakeRoom) {
				f.refuse = func(*http.Request) (int, string) { return 503, "room_full" }
			})
			sent := make(chan error, 1)
			go func() { _, err := alice.Send(ctxT(t), "x"); sent <- err }()
			until(t, alice, state(client.Reconnecting), nil)
			f.apply(t, func(f *fakeRoom) ([]byte, string) { return tc.change(f, 2) })
			f.inject("bob", "b2")
			f.set(func(f *fakeRoom) { f.refuse = nil })
			drain(alice)
			if err := <-sent; !errors.Is(err, client.ErrUnconfirmed) {
				t.Errorf("Send: %v, want ErrUnconfirmed", err)
			}
			if _, err := alice.Send(ctxT(t), "after"); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(f.texts()); got != strings.TrimSuffix(tc.want, "]")+" after]" {
				t.Errorf("stored %s", got)
			}
		})
	}
}

// TestRequestsAcrossDrops: an edit, a delete, a reaction or a moderation
// action cut off by a drop is found in the resume's changes when it was
// carried out, and sent again when not.
func TestRequestsAcrossDrops(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		fate   string
		do     func(ctx context.Context, c *client.Client) (client.Event, error)
		typ    string
		frames int // the frames of typ the room gets
	}{
		{"edit carried out", "apply-drop", editOne, protocol.TypeEdit, 1},
		{"edit lost", "drop", editOne, protocol.TypeEdit, 2},
		{"delete carried out", "apply-drop", deleteOne, protocol.TypeDelete, 1},
		{"delete lost", "drop", deleteOne, protocol.TypeDelete, 2},
		{"mute carried out", "apply-drop", muteCarol, protocol.TypeMute, 1},
		{"mute lost", "drop", muteCarol, protocol.TypeMute, 2},
		{"react carried out", "apply-drop", reactOne, protocol.TypeReact, 1},
		{"react lost", "drop", reactOne, protocol.TypeReact, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeRoom(t)
			f.mods["alice"] = true
			var first atomic.Bool
			first.Store(true)
			f.onChange = func(req protocol.Request) string {
				if first.CompareAndSwap(true, false) {
					return tc.fate
				}
				return ""
			}
			alice := open(t, f, "alice")
			drain(alice)
			if _, err := alice.Send(ctxT(t), "one"); err != nil {
				t.Fatal(err)
			}
			ev, err := tc.do(ctxT(t), alice)
			if err != nil {
				t.Fatal(err)
			}
			if pos := client.Position(ev); pos != 2 {
				t.Errorf("%T at %d, want 2", ev, pos)
			}
			if n := f.countFrames(tc.typ); n != tc.frames {
				t.Errorf("%d %s frames, want %d", n, tc.typ, tc.frames)
			}
			f.mu.Lock()
			last := f.last
			f.mu.Unlock()
			if last != 2 {
				t.Errorf("the room is at %d, want 2: carried out once", last)
			}
		})
	}
}

func editOne(ctx context.Context, c *client.Client) (client.Event, error) {
	ev, err := c.Edit(ctx, 1, "uno")
	return &ev, err
}

func deleteOne(ctx context.Context, c *client.Client) (client.Event, error) {
	ev, err := c.Delete(ctx, 1)
	return &ev, err
}

func reactOne(ctx context.Context, c *client.Client) (client.Event, error) {
	ev, err := c.React(ctx, 1, "👍")
	return &ev, err
}

func muteCarol(ctx context.Context, c *client.Client) (client.Event, error) {
	ev, err := c.Moderate(ctx, client.Mute, "carol", 30, "")
	return &ev, err
}

// TestRequestsUnsure: an edit cut off by a drop whose resume is truncated
// fails with ErrUnconfirmed; a delete cut off while someone else deleted
// the message counts as done; an edit queued while the history starts over
// fails with ErrReset.
func TestRequestsUnsure(t *testing.T) {
	t.Parallel()
	t.Run("truncated", func(t *testing.T) {
		t.Parallel()
		f := newFakeRoom(t)
		f.onChange = func(protocol.Request) string { return "drop" }
		alice := open(t, f, "alice")
		drain(alice)
		if _, err := alice.Send(ctxT(t), "one"); err != nil {
			t.Fatal(err)
		}
		f.set(func(f *fakeRoom) {
			f.resumeMax = 1
			f.store("bob", "b1")
			f.store("bob", "b2")
		})
		if _, err := alice.Edit(ctxT(t), 1, "uno"); !errors.Is(err, client.ErrUnconfirmed) {
			t.Errorf("Edit: %v, want ErrUnconfirmed", err)
		}
	})
	t.Run("deleted by another", func(t *testing.T) {
		t.Parallel()
		f := newFakeRoom(t)
		f.mods["mod"] = true
		var first atomic.Bool
		first.Store(true)
		f.onChange = func(protocol.Request) string {
			if !first.CompareAndSwap(true, false) {
				return ""
			}
			f.refuse = func(*http.Request) (int, string) { return 503, "room_full" } // under the room's lock
			return "drop"
		}
		alice := open(t, f, "alice")
		drain(alice)
		if _, err := alice.Send(ctxT(t), "one"); err != nil {
			t.Fatal(err)
		}
		deleted := make(chan error, 1)
		go func() {
			d, err := alice.Delete(ctxT(t), 1)
			if err == nil && (d.By != "mod" || d.MessageID != 1) {
				err = fmt.Errorf("%+v", d)
			}
			deleted <- err
		}()
		f.waitFor(t, "a refused reconnect", func(f *fakeRoom) bool { return f.upgrades >= 2 })
		f.apply(t, func(f *fakeRoom) ([]byte, string) { return f.deleteMsg("mod", 1) })
		f.set(func(f *fakeRoom) { f.refuse = nil })
		if err := <-deleted; err != nil {
			t.Errorf("Delete: %v, want the moderator's deletion", err)
		}
		if n := f.countFrames(protocol.TypeDelete); n != 1 {
			t.Errorf("%d deletes sent", n)
		}
	})
	t.Run("reset", func(t *testing.T) {
		t.Parallel()
		f := newFakeRoom(t)
		alice := open(t, f, "alice")
		if _, err := alice.Send(ctxT(t), "one"); err != nil {
			t.Fatal(err)
		}
		until[*client.Message](t, alice, nil, nil)
		letIn := cutOff(t, f, alice)
		f.set(func(f *fakeRoom) { f.msgs, f.last = nil, 0 }) // the room's storage starts over
		edited := make(chan error, 1)
		go func() { _, err := alice.Edit(ctxT(t), 1, "uno"); edited <- err }()
		waitQueued(t, alice, 1)
		letIn()
		if h := until[*client.History](t, alice, nil, nil); !h.Reset {
			t.Errorf("history %+v, want a reset", h)
		}
		if err := <-edited; !errors.Is(err, client.ErrReset) {
			t.Errorf("Edit: %v, want ErrReset", err)
		}
		if n := f.countFrames(protocol.TypeEdit); n != 0 {
			t.Errorf("%d edits sent", n)
		}
	})
}

// TestModeration: Moderate and SlowMode return the room's events; mutes
// and slow mode refuse texts with their Until and RetryAfter; a joiner
// learns slow mode before its history; refusals say what they refused.
func TestModeration(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	f.mods["mod"] = true
	mod := open(t, f, "mod")
	drain(mod)
	bob := open(t, f, "bob")
	ctx := ctxT(t)

	m, err := mod.Moderate(ctx, client.Mute, "bob", 60, "spam")
	if err != nil || m.Kind != client.Mute || m.UserID != "bob" || m.By != "mod" || m.Reason != "spam" || m.ID != 1 ||
		time.Until(m.Until) < 50*time.Second || !strings.HasPrefix(string(m.Raw), `{"type":"user_muted","id":1,`) {
		t.Fatalf("Moderate: %+v %s %v", m, m.Raw, err)
	}
	if ev := until[*client.Moderated](t, bob, nil, nil); ev.Kind != client.Mute || bob.LastID() != 1 {
		t.Errorf("bob's event %+v, LastID %d", ev, bob.LastID())
	}
	go func() {
		for range bob.Events() {
		}
	}()
	_, err = bob.Send(ctx, "hello")
	if re := roomErr(t, err, protocol.CodeMuted); re.Until.Sub(m.Until).Abs() > time.Second {
		t.Errorf("muted until %v, want %v", re.Until, m.Until)
	}
	if m, err := mod.Moderate(ctx, client.Unmute, "bob", 99, "ignored"); err != nil || m.Kind != client.Unmute || !m.Until.IsZero() {
		t.Errorf("unmute: %+v %v", m, err)
	}
	f.mu.Lock()
	frames := fmt.Sprint(f.frames)
	f.mu.Unlock()
	if frames != "[mute unmute]" {
		t.Errorf("frames %s", frames)
	}
	_, err = mod.Moderate(ctx, client.Unmute, "bob", 0, "")
	if re := roomErr(t, err, protocol.CodeNotFound); re.Request != protocol.TypeUnmute || re.UserID != "bob" {
		t.Errorf("unmute again %+v", re)
	}
	_, err = bob.Moderate(ctx, client.Kick, "mod", 0, "")
	roomErr(t, err, protocol.CodeForbidden)
	if _, err := bob.Moderate(ctx, "nuke", "mod", 0, ""); err == nil || !strings.Contains(err.Error(), "unknown moderation action") {
		t.Errorf("unknown action: %v", err)
	}

	s, err := mod.SlowMode(ctx, 30)
	if err != nil || s.SlowModeSeconds != 30 || string(s.Raw) != `{"type":"room_settings","slowModeSeconds":30}` {
		t.Errorf("SlowMode: %+v %v", s, err)
	}
	if _, err := bob.Send(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	_, err = bob.Send(ctx, "two")
	if re := roomErr(t, err, protocol.CodeSlowMode); re.RetryAfter <= 25*time.Second {
		t.Errorf("slow mode %+v", re)
	}
	_, err = bob.SlowMode(ctx, 0)
	if re := roomErr(t, err, protocol.CodeForbidden); re.Request != protocol.TypeSlowMode {
		t.Errorf("bob's slow mode %+v", re)
	}
	carol := dial(t, testOptions(f, "carol"))
	var seen []client.Event
	until(t, carol, state(client.Open), &seen)
	var kinds []string
	for _, ev := range seen {
		kinds = append(kinds, fmt.Sprintf("%T", ev))
	}
	if got := strings.Join(kinds, " "); got != "*client.Status *client.UserJoined *client.Presence *client.RoomSettings *client.History *client.Status" {
		t.Errorf("join events %s", got)
	}
	if s := seen[3].(*client.RoomSettings); s.SlowModeSeconds != 30 {
		t.Errorf("settings %+v", s)
	}
}

// TestOusted: a kick or a ban ends the kicked or banned client for good,
// with a RoomError that tells who and why; the client does not reconnect.
func TestOusted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		action  client.Action
		seconds int64
		code    string
		message string
	}{
		{client.Kick, 0, client.CodeKicked, "kicked by mod: behave"},
		{client.Ban, 3600, protocol.CodeBanned, "banned by mod: behave"},
		{client.Ban, 0, protocol.CodeBanned, "banned by mod: behave"},
	} {
		t.Run(fmt.Sprint(tc.action, tc.seconds), func(t *testing.T) {
			t.Parallel()
			f := newFakeRoom(t)
			f.mods["mod"] = true
			mod := open(t, f, "mod")
			drain(mod)
			bob := open(t, f, "bob")
			sent := make(chan error, 1)
			m, err := mod.Moderate(ctxT(t), tc.action, "bob", tc.seconds, "behave")
			if err != nil {
				t.Fatal(err)
			}
			ev := until[*client.Moderated](t, bob, nil, nil)
			if ev.Kind != tc.action || ev.UserID != "bob" {
				t.Errorf("bob's event %+v", ev)
			}
			go func() { _, err := bob.Send(context.Background(), "let me back"); sent <- err }()
			st := until(t, bob, state(client.Closed), nil)
			re := roomErr(t, st.Err, tc.code)
			if re.Message != tc.message || !re.Until.Equal(m.Until) || (tc.seconds > 0) == re.Until.IsZero() {
				t.Errorf("ended with %+v, want %q until %v", re, tc.message, m.Until)
			}
			closed(t, bob)
			roomErr(t, bob.Err(), tc.code)
			roomErr(t, <-sent, tc.code)
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.upgrades != 2 {
				t.Errorf("%d upgrades, want 2: no reconnect", f.upgrades)
			}
		})
	}
}

// TestBannedJoin: a banned user's upgrade is refused with 403 banned and
// its until; an open-mode join of a banned user gets the banned error and
// the 4003 close. Both end the client.
func TestBannedJoin(t *testing.T) {
	t.Parallel()
	t.Run("upgrade", func(t *testing.T) {
		t.Parallel()
		f := newFakeRoom(t)
		f.refuse = func(*http.Request) (int, string) { return 403, protocol.CodeBanned }
		_, err := client.Dial(ctxT(t), testOptions(f, "bob"))
		var he *client.HTTPError
		if !errors.As(err, &he) || he.StatusCode != 403 || he.Code != protocol.CodeBanned || he.Until.Format(protocol.TimeLayout) != fakeBanUntil {
			t.Errorf("Dial: %v (%+v)", err, he)
		}
	})
	t.Run("join", func(t *testing.T) {
		t.Parallel()
		f := newFakeRoom(t)
		f.bans["bob"] = fakeBanUntil
		bob := dial(t, testOptions(f, "bob"))
		st := until(t, bob, state(client.Closed), nil)
		if re := roomErr(t, st.Err, protocol.CodeBanned); re.Until.Format(protocol.TimeLayout) != fakeBanUntil {
			t.Errorf("ended with %+v", re)
		}
		closed(t, bob)
	})
}

// TestQueuedRequests: edits, deletes and moderation actions made while
// reconnecting wait and go out after the rejoin, in order.
func TestQueuedRequests(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	f.mods["alice"] = true
	alice := open(t, f, "alice")
	if _, err := alice.Send(ctxT(t), "one"); err != nil {
		t.Fatal(err)
	}
	until[*client.Message](t, alice, nil, nil)
	letIn := cutOff(t, f, alice)
	drain(alice)
	errs := make(chan error, 3)
	go func() { _, err := alice.Edit(ctxT(t), 1, "uno"); errs <- err }()
	waitQueued(t, alice, 1)
	go func() { _, err := alice.SlowMode(ctxT(t), 10); errs <- err }()
	waitQueued(t, alice, 2)
	go func() { _, err := alice.Delete(ctxT(t), 1); errs <- err }()
	waitQueued(t, alice, 3)
	letIn()
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := fmt.Sprint(f.frames); got != "[edit delete]" || f.slow != 10 || len(f.msgs) != 0 {
		t.Errorf("frames %s, slow %d, messages %v", got, f.slow, f.msgs)
	}
}

// TestRawOfEvents: Raw gives every frame event's frame, Position its place.
func TestRawOfEvents(t *testing.T) {
	t.Parallel()
	raw := []byte("x")
	for _, ev := range []client.Event{
		&client.Message{ID: 1, Raw: raw}, &client.History{Raw: raw}, &client.UserJoined{Raw: raw},
		&client.UserLeft{Raw: raw}, &client.Presence{Raw: raw}, &client.Error{Raw: raw},
		&client.MessageEdited{ID: 1, Raw: raw}, &client.MessageDeleted{ID: 1, Raw: raw},
		&client.Moderated{ID: 1, Raw: raw}, &client.RoomSettings{Raw: raw},
	} {
		if string(client.Raw(ev)) != "x" {
			t.Errorf("Raw(%T) = %q", ev, client.Raw(ev))
		}
		_, noPos := ev.(*client.RoomSettings)
		if p := client.Position(ev); p != 1 && client.Position(ev) == 0 && !noPos {
			switch ev.(type) {
			case *client.History, *client.UserJoined, *client.UserLeft, *client.Presence, *client.Error:
			default:
				t.Errorf("Position(%T) = %d", ev, p)
			}
		}
	}
	if client.Raw(&client.Status{}) != nil {
		t.Error("a Status has a frame")
	}
}
