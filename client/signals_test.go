package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatroom/gochat/client"
	"github.com/chatroom/gochat/room/protocol"
)

// openClock dials user on a fake clock and reads c's events until the
// join's ReadState, which it returns.
func openClock(t *testing.T, f *fakeRoom, user string) (*client.Client, *client.FakeClock, *client.ReadState) {
	t.Helper()
	c, err := client.New(testOptions(f, user))
	if err != nil {
		t.Fatal(err)
	}
	clock := client.UseFakeClock(c)
	t.Cleanup(func() { c.Close() })
	if err := c.Connect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	until(t, c, state(client.Open), nil)
	return c, clock, until[*client.ReadState](t, c, nil, nil)
}

// barrier makes a round trip on c's connection: once it returns, the room
// has handled every frame c wrote before it. (A delete of a message that
// is not there, answered not_found.)
func barrier(t *testing.T, c *client.Client) {
	t.Helper()
	_, err := c.Delete(ctxT(t), 1<<40)
	roomErr(t, err, protocol.CodeNotFound)
}

// typings counts the typing frames the room got from user.
func (f *fakeRoom) typings(user string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return count(f.signals, "typing "+user)
}

// TestTyping: Typing sends one frame per TypingInterval, the calls in
// between do nothing, a message of one's own starts the interval over, and
// the others get a Typing event.
func TestTyping(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	alice, clock, _ := openClock(t, f, "alice")
	bob := open(t, f, "bob")
	ctx := ctxT(t)

	if err := alice.Typing(ctx); err != nil {
		t.Fatal(err)
	}
	ev := until[*client.Typing](t, bob, nil, nil)
	if ev.UserID != "alice" || string(ev.Raw) != `{"type":"typing","userId":"alice"}` || client.Position(ev) != 0 {
		t.Errorf("bob's typing event %+v %s", ev, ev.Raw)
	}
	for range 3 {
		if err := alice.Typing(ctx); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(client.TypingInterval - time.Millisecond)
	if err := alice.Typing(ctx); err != nil {
		t.Fatal(err)
	}
	barrier(t, alice)
	if n := f.typings("alice"); n != 1 {
		t.Fatalf("%d typing frames within the interval, want 1", n)
	}
	clock.Advance(time.Millisecond)
	if err := alice.Typing(ctx); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "the second typing frame", func(f *fakeRoom) bool { return count(f.signals, "typing alice") == 2 })

	// A message of alice's ends her interval, as in the room.
	drain(alice)
	if _, err := alice.Send(ctx, "hi"); err != nil {
		t.Fatal(err)
	}
	if err := alice.Typing(ctx); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "the typing frame after a message", func(f *fakeRoom) bool { return count(f.signals, "typing alice") == 3 })
	var seen []client.Event
	until(t, bob, func(m *client.Message) bool { return m.Text == "hi" }, &seen)
	if ev := until[*client.Typing](t, bob, nil, &seen); ev.UserID != "alice" {
		t.Errorf("typing event %+v", ev)
	}
	typing := 0
	for _, ev := range seen {
		if _, ok := ev.(*client.Typing); ok {
			typing++
		}
	}
	if typing != 2 {
		t.Errorf("bob got %d typing events, want one per frame: 2", typing)
	}
}

// TestSignalsNeedAConnection: Typing and React are not queued: before
// Connect and while reconnecting they return ErrNotConnected; after Close,
// ErrClosed. A MarkRead waits for the connection instead.
func TestSignalsNeedAConnection(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	f.inject("bob", "one")
	c, err := client.New(testOptions(f, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxT(t)
	if err := c.Typing(ctx); !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("Typing before Connect: %v", err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	until(t, c, state(client.Open), nil)

	letIn := cutOff(t, f, c)
	if err := c.Typing(ctx); !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("Typing while reconnecting: %v", err)
	}
	if _, err := c.React(ctx, 1, "👍"); !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("React while reconnecting: %v", err)
	}
	if err := c.MarkRead(ctx, 1); err != nil {
		t.Errorf("MarkRead while reconnecting: %v", err)
	}
	if n := c.Queued(); n != 0 {
		t.Errorf("%d queued", n)
	}
	letIn()
	until(t, c, state(client.Open), nil)
	f.waitFor(t, "the read after the rejoin", func(f *fakeRoom) bool { return slices.Contains(f.signals, "read alice 1") })
	if err := c.Typing(ctx); err != nil {
		t.Errorf("Typing once open: %v", err)
	}
	f.waitFor(t, "typing", func(f *fakeRoom) bool { return count(f.signals, "typing alice") == 1 })
	if n := f.countFrames(protocol.TypeReact); n != 0 {
		t.Errorf("%d react frames, want none", n)
	}

	c.Close()
	if err := c.Typing(ctx); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Typing after Close: %v", err)
	}
	if _, err := c.React(ctx, 1, "👍"); !errors.Is(err, client.ErrClosed) {
		t.Errorf("React after Close: %v", err)
	}
	if err := c.MarkRead(ctx, 1); !errors.Is(err, client.ErrClosed) {
		t.Errorf("MarkRead after Close: %v", err)
	}
}

// TestMarkRead: read frames are coalesced to one per ReadInterval, the
// latest id winning and the one held back sent by the timer; the read
// position only moves forward; an id the room would refuse is refused
// here; the others get Read events.
func TestMarkRead(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	for i := range 5 {
		f.inject("bob", fmt.Sprint("m", i+1))
	}
	alice, clock, st := openClock(t, f, "alice")
	if st.LastRead != 0 || st.Unread != 5 || st.Capped || string(st.Raw) != `{"type":"read_state","lastRead":0,"unread":5}` {
		t.Errorf("read state %+v %s", st, st.Raw)
	}
	bob := open(t, f, "bob")
	ctx := ctxT(t)

	if err := alice.MarkRead(ctx, 1); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "read 1", func(f *fakeRoom) bool { return len(f.signals) == 1 })
	for _, id := range []int64{2, 3, 2, 1} {
		if err := alice.MarkRead(ctx, id); err != nil {
			t.Fatalf("MarkRead(%d): %v", id, err)
		}
	}
	barrier(t, alice)
	if got := fmt.Sprint(f.readSignals()); got != "[read alice 1]" || clock.Timers() != 1 {
		t.Fatalf("within the interval: reads %s, %d timers; want only the first, and a timer", got, clock.Timers())
	}
	clock.Advance(client.ReadInterval - time.Millisecond)
	barrier(t, alice)
	if n := len(f.readSignals()); n != 1 {
		t.Fatalf("%d reads before the interval passed", n)
	}
	clock.Advance(time.Millisecond) // the timer sends the latest
	f.waitFor(t, "read 3", func(f *fakeRoom) bool { return len(f.signals) == 2 })
	if got := fmt.Sprint(f.readSignals()); got != "[read alice 1 read alice 3]" {
		t.Errorf("reads %s", got)
	}
	for _, want := range []int64{1, 3} {
		ev := until[*client.Read](t, bob, nil, nil)
		if ev.UserID != "alice" || ev.ID != want || client.Position(ev) != 0 ||
			string(ev.Raw) != fmt.Sprintf(`{"type":"read","userId":"alice","id":%d}`, want) {
			t.Errorf("bob's read event %+v %s, want id %d", ev, ev.Raw, want)
		}
	}

	// Nothing new, nothing sent; no timer either.
	if err := alice.MarkRead(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if clock.Timers() != 0 {
		t.Errorf("%d timers for no news", clock.Timers())
	}
	for _, id := range []int64{0, -1, 6} {
		err := alice.MarkRead(ctx, id)
		if re := roomErr(t, err, protocol.CodeInvalidID); re.Request != protocol.TypeRead || re.MessageID != id {
			t.Errorf("MarkRead(%d): %+v", id, re)
		}
	}
	// Once the interval has passed, a read goes out at once.
	clock.Advance(client.ReadInterval)
	if err := alice.MarkRead(ctx, 4); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "read 4", func(f *fakeRoom) bool { return slices.Contains(f.signals, "read alice 4") })
	if n := len(f.readSignals()); n != 3 {
		t.Errorf("%d reads, want 3", n)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := alice.MarkRead(cancelled, 5); !errors.Is(err, context.Canceled) {
		t.Errorf("MarkRead with a cancelled context: %v", err)
	}
}

// TestReadState: every join ends with the user's read position and unread
// count (capped); MarkRead sends nothing the room has already, nor what
// another connection of the same user read.
func TestReadState(t *testing.T) {
	t.Parallel()
	t.Run("position", func(t *testing.T) {
		t.Parallel()
		f := newFakeRoom(t)
		for i := range 5 {
			f.inject("bob", fmt.Sprint("m", i+1))
		}
		f.reads["alice"] = 3
		alice, _, st := openClock(t, f, "alice")
		if st.LastRead != 3 || st.Unread != 2 || st.Capped {
			t.Errorf("read state %+v", st)
		}
		ctx := ctxT(t)
		for _, id := range []int64{1, 3} {
			if err := alice.MarkRead(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		barrier(t, alice)
		if reads := f.readSignals(); len(reads) != 0 {
			t.Errorf("reads %v: the room had them", reads)
		}

		// Another connection of alice's reads on; this one hears of it.
		other := open(t, f, "alice")
		until[*client.ReadState](t, other, nil, nil)
		if err := other.MarkRead(ctx, 5); err != nil {
			t.Fatal(err)
		}
		if ev := until[*client.Read](t, alice, nil, nil); ev.UserID != "alice" || ev.ID != 5 {
			t.Errorf("read event %+v", ev)
		}
		if err := alice.MarkRead(ctx, 4); err != nil {
			t.Fatal(err)
		}
		barrier(t, alice)
		if got := fmt.Sprint(f.readSignals()); got != "[read alice 5]" {
			t.Errorf("reads %s, want only the other connection's", got)
		}
		info, err := alice.RoomInfo(ctx)
		if err != nil || info.Reads["alice"] != 5 {
			t.Errorf("RoomInfo reads %v %v", info.Reads, err)
		}
	})
	t.Run("held until read_state", func(t *testing.T) {
		t.Parallel()
		f := newFakeRoom(t)
		for i := range 5 {
			f.inject("bob", fmt.Sprint("m", i+1))
		}
		f.reads["alice"] = 3
		gate := make(chan struct{})
		f.readStateGate = gate
		alice := open(t, f, "alice") // open, its read_state not sent yet
		ctx := ctxT(t)
		// Between the history and the read_state, what MarkRead asks for
		// waits to be compared with the room's position.
		if err := alice.MarkRead(ctx, 2); err != nil {
			t.Fatal(err)
		}
		close(gate)
		if st := until[*client.ReadState](t, alice, nil, nil); st.LastRead != 3 {
			t.Errorf("read state %+v", st)
		}
		barrier(t, alice)
		if reads := f.readSignals(); len(reads) != 0 {
			t.Errorf("reads %v: the room had 3", reads)
		}
		// And one past it goes out once the read_state has come.
		f.set(func(f *fakeRoom) { f.readStateGate = make(chan struct{}) })
		letIn := cutOff(t, f, alice)
		if err := alice.MarkRead(ctx, 5); err != nil {
			t.Fatal(err)
		}
		letIn()
		until(t, alice, state(client.Open), nil)
		f.mu.Lock()
		close(f.readStateGate)
		f.mu.Unlock()
		f.waitFor(t, "read 5", func(f *fakeRoom) bool { return slices.Contains(f.signals, "read alice 5") })
	})
	t.Run("capped", func(t *testing.T) {
		t.Parallel()
		f := newFakeRoom(t)
		f.set(func(f *fakeRoom) {
			for range protocol.MaxUnread + 1 {
				f.store("bob", "x")
			}
		})
		_, _, st := openClock(t, f, "alice")
		if st.LastRead != 0 || st.Unread != protocol.MaxUnread || !st.Capped {
			t.Errorf("read state %+v", st)
		}
	})
	t.Run("a room without read_state", func(t *testing.T) {
		t.Parallel()
		f := newFakeRoom(t)
		f.noReadState = true
		f.inject("bob", "one")
		alice := open(t, f, "alice")
		if err := alice.MarkRead(ctxT(t), 1); err != nil {
			t.Fatal(err)
		}
		// The read waits for the read_state, until another frame shows
		// that none is coming.
		open(t, f, "bob")
		f.waitFor(t, "the read", func(f *fakeRoom) bool { return slices.Contains(f.signals, "read alice 1") })
	})
}

// TestMarkReadAcrossDrops: a read MarkRead got while reconnecting goes out
// after the rejoin, unless the room's read_state shows it read already.
func TestMarkReadAcrossDrops(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	for i := range 3 {
		f.inject("bob", fmt.Sprint("m", i+1))
	}
	alice, clock, _ := openClock(t, f, "alice")
	ctx := ctxT(t)

	letIn := cutOff(t, f, alice)
	if err := alice.MarkRead(ctx, 2); err != nil {
		t.Fatal(err)
	}
	letIn()
	until[*client.ReadState](t, alice, nil, nil)
	f.waitFor(t, "the read after the rejoin", func(f *fakeRoom) bool { return slices.Contains(f.signals, "read alice 2") })

	letIn = cutOff(t, f, alice)
	if err := alice.MarkRead(ctx, 3); err != nil {
		t.Fatal(err)
	}
	clock.Advance(client.ReadInterval)
	f.set(func(f *fakeRoom) { f.reads["alice"] = 3 }) // read elsewhere meanwhile
	letIn()
	if st := until[*client.ReadState](t, alice, nil, nil); st.LastRead != 3 || st.Unread != 0 {
		t.Errorf("read state %+v", st)
	}
	barrier(t, alice)
	clock.Advance(client.ReadInterval)
	barrier(t, alice)
	if got := fmt.Sprint(f.readSignals()); got != "[read alice 2]" {
		t.Errorf("reads %s: the room had 3 already", got)
	}

	// A read the old connection wrote but the room never got goes out
	// again on the new one, once the interval allows.
	f.inject("bob", "m4")
	until(t, alice, func(m *client.Message) bool { return m.ID == 4 }, nil)
	f.freezeAll()
	if err := alice.MarkRead(ctx, 4); err != nil {
		t.Fatal(err)
	}
	f.kick(0, "")
	if st := until[*client.ReadState](t, alice, nil, nil); st.LastRead != 3 {
		t.Errorf("read state %+v", st)
	}
	clock.Advance(client.ReadInterval)
	f.waitFor(t, "read 4 again", func(f *fakeRoom) bool { return slices.Contains(f.signals, "read alice 4") })
}

// emoji is the i-th of a run of distinct emoji.
func emoji(i int) string { return string(rune(0x1F600 + i)) }

// TestReact: React toggles a reaction and returns the room's reaction event,
// which everyone gets at its position; refusals come back as RoomErrors
// that say what they refused, and an emoji that is not one is refused
// without a frame; History and the messages API carry the summaries.
func TestReact(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	alice := open(t, f, "alice")
	bob := open(t, f, "bob")
	until[*client.UserJoined](t, alice, func(j *client.UserJoined) bool { return j.UserID == "bob" }, nil)
	drain(alice)
	ctx := ctxT(t)
	m, err := alice.Send(ctx, "one")
	if err != nil {
		t.Fatal(err)
	}
	until(t, bob, func(m *client.Message) bool { return m.ID == 1 }, nil)

	r, err := alice.React(ctx, m.ID, "👍")
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != 2 || r.MessageID != 1 || r.Emoji != "👍" || r.UserID != "alice" || !r.Added ||
		string(r.Raw) != `{"type":"reaction","id":2,"messageId":1,"emoji":"👍","userId":"alice","added":true}` {
		t.Errorf("React returned %+v %s", r, r.Raw)
	}
	if ev := until[*client.Reaction](t, bob, nil, nil); ev.ID != r.ID || ev.MessageID != 1 || ev.Emoji != "👍" || ev.UserID != "alice" ||
		!ev.Added || string(client.Raw(ev)) != string(r.Raw) || client.Position(ev) != 2 {
		t.Errorf("bob's reaction event %+v", ev)
	}
	if alice.LastID() != 2 || bob.LastID() != 2 {
		t.Errorf("LastID %d %d, want 2: a reaction takes a position", alice.LastID(), bob.LastID())
	}
	if r, err := alice.React(ctx, 1, "👍"); err != nil || r.Added || r.ID != 3 {
		t.Errorf("toggled off: %+v %v", r, err)
	}
	if r, err := bob.React(ctx, 1, "🎉"); err != nil || !r.Added || r.UserID != "bob" || r.ID != 4 {
		t.Errorf("bob's reaction: %+v %v", r, err)
	}
	if ev := until[*client.Reaction](t, bob, func(r *client.Reaction) bool { return r.ID == 3 }, nil); ev.Added {
		t.Errorf("the toggle off %+v", ev)
	}

	// Not one emoji: refused here, nothing sent.
	for _, e := range []string{"", "x", "👍👍", "hello", "🇫", strings.Repeat("👍\u200d", 9) + "👍"} {
		_, err := alice.React(ctx, 1, e)
		if re := roomErr(t, err, protocol.CodeInvalidReaction); re.Request != protocol.TypeReact || re.MessageID != 1 || re.Emoji != e {
			t.Errorf("React(%q): %+v", e, re)
		}
	}
	for _, e := range []string{"👍🏽", "🇫🇷", "👨‍👩‍👧", "❤️", "1️⃣"} {
		if _, err := alice.React(ctx, 1, e); err != nil {
			t.Errorf("React(%q): %v", e, err)
		}
	}
	if n := f.countFrames(protocol.TypeReact); n != 8 {
		t.Errorf("%d react frames, want 8: none for the invalid emoji", n)
	}

	_, err = alice.React(ctx, 99, "👍")
	if re := roomErr(t, err, protocol.CodeNotFound); re.Request != protocol.TypeReact || re.MessageID != 99 || re.Emoji != "👍" {
		t.Errorf("not found %+v", re)
	}
}

// TestReactRefusals: muted and too_many_reactions answer the reaction
// that caused them; the History of a later join shows the summaries.
func TestReactRefusals(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	alice := open(t, f, "alice")
	drain(alice)
	ctx := ctxT(t)
	if _, err := alice.Send(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := alice.React(ctx, 1, emoji(i)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := alice.React(ctx, 1, emoji(20))
	if re := roomErr(t, err, protocol.CodeTooManyReactions); re.Emoji != emoji(20) || re.MessageID != 1 {
		t.Errorf("the 21st emoji: %+v", re)
	}
	if r, err := alice.React(ctx, 1, emoji(0)); err != nil || r.Added {
		t.Errorf("one of the 20 again: %+v %v", r, err)
	}
	f.set(func(f *fakeRoom) { f.mutes["alice"] = "" })
	_, err = alice.React(ctx, 1, emoji(1))
	roomErr(t, err, protocol.CodeMuted)

	carol := dial(t, testOptions(f, "carol"))
	h := until[*client.History](t, carol, nil, nil)
	if len(h.Messages) != 1 {
		t.Fatalf("history %+v", h)
	}
	rs := h.Messages[0].Reactions
	if len(rs) != 19 || rs[0].Emoji != emoji(1) || rs[0].Count != 1 || fmt.Sprint(rs[0].Users) != "[alice]" {
		t.Errorf("reactions %+v", rs)
	}
	page, err := carol.Messages(ctx, client.MessagesQuery{})
	if err != nil || len(page.Messages) != 1 || len(page.Messages[0].Reactions) != 19 {
		t.Errorf("messages API %+v %v", page, err)
	}
}

// TestResumeReactions: a resume delivers the reactions missed on messages
// already delivered as changes, and events, at their positions; those on
// a message after the resume point are in its Reactions.
func TestResumeReactions(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	alice := open(t, f, "alice")
	f.inject("bob", "one")
	f.inject("bob", "two")
	until(t, alice, func(m *client.Message) bool { return m.ID == 2 }, nil)
	react := func(user string, id int64, e string) func(f *fakeRoom) ([]byte, string) {
		return func(f *fakeRoom) ([]byte, string) {
			return f.reactMsg(user, protocol.Request{Type: protocol.TypeReact, ID: id, HasID: true, Emoji: e, HasEmoji: true})
		}
	}

	letIn := cutOff(t, f, alice)
	f.apply(t, react("bob", 1, "👍"))   // 3
	f.inject("bob", "three")           // 4
	f.apply(t, react("carol", 4, "🎉")) // 5: in message 4's summary
	letIn()
	var seen []client.Event
	h := until[*client.History](t, alice, nil, &seen)
	until(t, alice, state(client.Open), &seen)
	var kinds []string
	for _, ev := range seen[len(seen)-3:] {
		kinds = append(kinds, fmt.Sprintf("%T@%d", ev, client.Position(ev)))
	}
	if got := strings.Join(kinds, " "); got != "*client.History@0 *client.Reaction@3 *client.Status@0" {
		t.Errorf("resume events %s", got)
	}
	if len(h.Changes) != 1 || h.Changes[0] != seen[len(seen)-2] {
		t.Fatalf("changes %v", h.Changes)
	}
	if r := h.Changes[0].(*client.Reaction); r.MessageID != 1 || r.UserID != "bob" || r.Emoji != "👍" || !r.Added {
		t.Errorf("change %+v", r)
	}
	if len(h.Messages) != 1 || fmt.Sprint(h.Messages[0].Reactions) != "[{🎉 1 [carol]}]" {
		t.Errorf("history messages %+v", h.Messages)
	}
	if alice.LastID() != 4 {
		t.Errorf("LastID %d, want 4", alice.LastID())
	}
	// The next resume is after 4: the reaction at 5, on message 4, is a
	// change now.
	letIn = cutOff(t, f, alice)
	letIn()
	h = until[*client.History](t, alice, nil, nil)
	if len(h.Changes) != 1 || client.Position(h.Changes[0]) != 5 || alice.LastID() != 5 {
		t.Errorf("second resume %+v, LastID %d", h, alice.LastID())
	}
}

// TestReactUnsure: a reaction cut off by a drop on a message after the
// resume point fails with ErrUnconfirmed: the room folds its reactions into
// the message, and toggling again might undo it.
func TestReactUnsure(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	alice := open(t, f, "alice")
	f.inject("bob", "one")
	until(t, alice, func(m *client.Message) bool { return m.ID == 1 }, nil)
	drain(alice)
	f.set(func(f *fakeRoom) { f.store("bob", "two") }) // 2, not broadcast: alice has not seen it
	f.onChange = func(req protocol.Request) string { return "apply-drop" }
	if _, err := alice.React(ctxT(t), 2, "👍"); !errors.Is(err, client.ErrUnconfirmed) {
		t.Errorf("React: %v, want ErrUnconfirmed", err)
	}
	if n := f.countFrames(protocol.TypeReact); n != 1 {
		t.Errorf("%d react frames, want 1", n)
	}
}

// TestSignalEvents: Raw and Position of the new events.
func TestSignalEvents(t *testing.T) {
	t.Parallel()
	raw := []byte("x")
	for _, ev := range []client.Event{
		&client.Typing{Raw: raw}, &client.Read{ID: 7, Raw: raw}, &client.ReadState{LastRead: 7, Raw: raw},
		&client.Reaction{ID: 7, MessageID: 3, Raw: raw},
	} {
		if string(client.Raw(ev)) != "x" {
			t.Errorf("Raw(%T) = %q", ev, client.Raw(ev))
		}
		want := int64(0)
		if _, ok := ev.(*client.Reaction); ok {
			want = 7
		}
		if p := client.Position(ev); p != want {
			t.Errorf("Position(%T) = %d, want %d", ev, p, want)
		}
	}
}
