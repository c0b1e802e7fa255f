package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	goclient "github.com/chatroom/gochat/client"
	"github.com/chatroom/gochat/internal/devserver"
	"github.com/chatroom/gochat/room/protocol"
)

// wireMsg is a message as broadcast or as history carries it.
type wireMsg = protocol.ChatMessage

// nextMessage returns the next frame, which must be a message.
func (c *client) nextMessage() wireMsg {
	c.t.Helper()
	f := c.next()
	var m wireMsg
	if err := json.Unmarshal([]byte(f.data), &m); err != nil || m.Type != "message" || m.ID < 1 || !timestampRE.MatchString(m.Timestamp) {
		c.t.Fatalf("%s: got %s, want a message frame", c.name, f.data)
	}
	return m
}

// same compares messages by what history and broadcast both carry.
func same(a, b []wireMsg) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.UserID != y.UserID || x.Text != y.Text || x.Timestamp != y.Timestamp {
			return false
		}
	}
	return true
}

func TestHistoryAndPresenceOnJoin(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	a := goJoin(t, dev, room, "alice")
	if len(a.History.Messages) != 0 {
		t.Fatalf("a new room has history %s", a.History.Raw)
	}
	b := goJoin(t, dev, room, "bob")
	a.expect(joinedT("bob"))
	var sent []wireMsg
	for i := 1; i <= 3; i++ {
		sent = append(sent, a.say("m"+strconv.Itoa(i)))
		b.nextMessage()
	}
	c := goJoin(t, dev, room, "carol")
	if fmt.Sprint(c.Users) != "[alice bob carol]" {
		t.Errorf("roster %v, want [alice bob carol]", c.Users)
	}
	hist := historyWire(c.History)
	if !same(hist, sent) {
		t.Errorf("history %+v\nwant the broadcast messages %+v", hist, sent)
	}
	for i := 1; i < len(sent); i++ {
		if sent[i].ID <= sent[i-1].ID {
			t.Errorf("ids do not rise: %d then %d", sent[i-1].ID, sent[i].ID)
		}
	}
	a.expect(joinedT("carol"))
	b.expect(joinedT("carol"))
	// a's next event is bob's leave: nothing arrived for a before it.
	b.leave()
	a.expect(leftT("bob"))
	if d := goJoin(t, dev, room, "dave"); fmt.Sprint(d.Users) != "[alice carol dave]" {
		t.Errorf("roster %v, want [alice carol dave]", d.Users)
	}
}

// TestResumeAfterDrop drops a reader mid-conversation and reconnects it with
// the last id it saw, while another user keeps talking or after it has read
// everything the other sent (the resume then brings nothing new, and its read
// state, after the status Open, is the last event): every message arrives
// exactly once, in order, and nothing more.
func TestResumeAfterDrop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// sentFirst: the talker's sends all end before the drop.
		sentFirst bool
	}{
		{"while the other talks", false},
		{"after the other is done", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resumeAfterDrop(t, tc.sentFirst)
		})
	}
}

func resumeAfterDrop(t *testing.T, sentFirst bool) {
	room := uniqueRoom(t)
	talker := goJoin(t, evict, room, "talker")
	reader := goJoin(t, evict, room, "reader", withBackoff(50*time.Millisecond))
	talker.expect(joinedT("reader"))
	talker.drainEvents() // its echoes, and the reader leaving and coming back

	const total = 60
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
		defer cancel()
		for i := 1; i <= total; i++ {
			if _, err := talker.Send(ctx, "n"+strconv.Itoa(i)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	var got []wireMsg
	for len(got) < 10 {
		got = append(got, reader.nextMessage())
	}
	if sentFirst {
		err := <-errc
		errc <- err
		// Every message is in the room; wait for the last, then drop.
		for len(got) < total {
			got = append(got, reader.nextMessage())
		}
	}
	reader.drop()
	// The client rejoins with since, its last id; what it had read before
	// the drop comes first. The resume ends with its read state, after the
	// status Open: the talker may have sent everything by then.
	var resumed *goclient.History
	var state *goclient.ReadState
	for open := false; !open || state == nil || len(got) < total; {
		switch ev := reader.next().(type) {
		case *goclient.Message:
			got = append(got, wireOf(*ev))
		case *goclient.Status:
			if resumed == nil && ev.State == goclient.Open || resumed != nil && ev.State != goclient.Open {
				t.Fatalf("status %v (%v) with the resumed history %v", ev.State, ev.Err, resumed != nil)
			}
			open = ev.State == goclient.Open
		case *goclient.UserJoined, *goclient.Presence:
			if resumed != nil {
				t.Fatalf("got %s after the resumed history", describe(ev))
			}
		case *goclient.History:
			if resumed != nil {
				t.Fatalf("a second history %s", ev.Raw)
			}
			resumed = ev
			if !ev.Resumed {
				t.Errorf("the rejoin did not carry since: %s", ev.Raw)
			}
			if ev.Truncated {
				t.Error("a resume within the window is truncated")
			}
			got = append(got, historyWire(ev)...)
		case *goclient.ReadState:
			if resumed == nil || state != nil {
				t.Fatalf("read state %s before the resumed history, or a second", ev.Raw)
			}
			state = ev
		default:
			t.Fatalf("got %s", describe(ev))
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if len(got) != total {
		t.Fatalf("%d messages, want %d", len(got), total)
	}
	for i, m := range got {
		if m.Text != "n"+strconv.Itoa(i+1) || (i > 0 && m.ID != got[i-1].ID+1) {
			t.Fatalf("message %d is %+v after %+v: a gap or a duplicate", i, m, got[max(i-1, 0)])
		}
	}
	quietGo(talker, reader)
}

// TestConcurrentSenders has 10 clients send 50 messages each at once: every
// client sees the same order, ids rise strictly, and history equals it. It
// runs on the evict server, whose rate limit is raised for throughput tests.
func TestConcurrentSenders(t *testing.T) {
	t.Parallel()
	const clients, each = 10, 50
	room := uniqueRoom(t)
	var cs []*gclient
	for i := 0; i < clients; i++ {
		// Room for every message: the events are read after the sends.
		c := goJoin(t, evict, room, "c"+strconv.Itoa(i), withBuffer(2*clients*each))
		for _, prev := range cs {
			prev.expect(joinedT("c" + strconv.Itoa(i)))
		}
		cs = append(cs, c)
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
			defer cancel()
			for j := 0; j < each; j++ {
				if _, err := c.Send(ctx, fmt.Sprintf("%d-%d", i, j)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var first []wireMsg
	for i, c := range cs {
		var seen []wireMsg
		for len(seen) < clients*each {
			seen = append(seen, c.nextMessage())
		}
		if i == 0 {
			first = seen
			for k := 1; k < len(seen); k++ {
				if seen[k].ID <= seen[k-1].ID {
					t.Fatalf("ids do not rise strictly: %d then %d", seen[k-1].ID, seen[k].ID)
				}
			}
			continue
		}
		if !same(seen, first) {
			t.Fatalf("client %d saw another order than client 0", i)
		}
	}
	var page struct {
		Messages  []wireMsg
		Truncated bool
	}
	status, body, _ := get(t, evict.HTTP+"/api/rooms/"+room+"/messages?limit=500", nil)
	if status != 200 || json.Unmarshal([]byte(body), &page) != nil {
		t.Fatalf("history: %d %s", status, body)
	}
	if !same(page.Messages, first) {
		t.Errorf("stored history differs from the broadcast order")
	}
}

func TestHistoryAcrossEviction(t *testing.T) {
	room := uniqueRoom(t)
	a := goJoin(t, evict, room, "alice")
	var sent []wireMsg
	for i := 1; i <= 3; i++ {
		evictAll(t)
		sent = append(sent, a.say("m"+strconv.Itoa(i)))
	}
	evictAll(t)
	b := goJoin(t, evict, room, "bob")
	a.expect(joinedT("bob"))
	if hist := historyWire(b.History); !same(hist, sent) {
		t.Errorf("history after eviction %v, want %v", hist, sent)
	}
	evictAll(t)
	c := goJoin(t, evict, room, "carol", withSince(sent[0].ID))
	if hist := historyWire(c.History); !same(hist, sent[1:]) {
		t.Errorf("resume after eviction %v, want %v", hist, sent[1:])
	}
	a.expect(joinedT("carol"))
	evictAll(t)
	if m := a.say("m4"); m.ID != sent[2].ID+1 {
		t.Errorf("id after eviction %d, want %d", m.ID, sent[2].ID+1)
	}
}

func TestRoomHTTPAPI(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	api := dev.HTTP + "/api/rooms/" + room
	// A room that never existed reads as empty, and reading creates nothing.
	for i := 0; i < 2; i++ {
		if status, body, ct := get(t, api, nil); status != 200 || body != `{"room":"`+room+`","users":[],"connections":0,"lastMessageId":0}` || ct != "application/json; charset=utf-8" {
			t.Fatalf("info of a new room: %d %s %s", status, body, ct)
		}
		if status, body, _ := get(t, api+"/messages", nil); status != 200 || body != `{"room":"`+room+`","messages":[]}` {
			t.Fatalf("messages of a new room: %d %s", status, body)
		}
	}
	// raw: the lurker is a socket that never joins, which the Go client cannot be.
	lurker := dial(t, dev, "/api/chat/"+room, "lurker")
	a := goJoin(t, dev, room, "alice")
	if len(a.History.Messages) != 0 {
		t.Fatalf("reading the API created history: %s", a.History.Raw)
	}
	for i := 1; i <= 4; i++ {
		a.say("m" + strconv.Itoa(i))
	}
	lurker.quiet()
	var info struct {
		Room          string
		Users         []string
		Connections   int
		LastMessageID int64
	}
	status, body, _ := get(t, api, nil)
	if status != 200 || json.Unmarshal([]byte(body), &info) != nil || fmt.Sprint(info.Users) != "[alice]" || info.Connections != 2 || info.LastMessageID != 4 || info.Room != room {
		t.Fatalf("info: %d %s", status, body)
	}
	tests := []struct {
		name   string
		query  string
		status int
		ids    string // ids of the page, or the error code
	}{
		{"default", "", 200, "[1 2 3 4]"},
		{"since", "?since=2", 200, "[3 4]"},
		{"limit keeps the newest", "?limit=2", 200, "[3 4]"},
		{"since and limit", "?since=1&limit=1", 200, "[4]"},
		{"up to date", "?since=4", 200, "[]"},
		{"limit 500", "?limit=500", 200, "[1 2 3 4]"},
		{"since ahead", "?since=5", 400, "invalid_since"},
		{"since negative", "?since=-1", 400, "invalid_since"},
		{"since text", "?since=abc", 400, "invalid_since"},
		{"since fraction", "?since=1.5", 400, "invalid_since"},
		{"limit zero", "?limit=0", 400, "invalid_limit"},
		{"limit 501", "?limit=501", 400, "invalid_limit"},
		{"limit text", "?limit=all", 400, "invalid_limit"},
		{"broken query", "?since=%zz", 400, "invalid_query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := get(t, api+"/messages"+tt.query, nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if status != 200 {
				if err := match(`{"error":"`+tt.ids+`","message":"*"}`, body); err != nil {
					t.Errorf("%s: %v", body, err)
				}
				return
			}
			var page struct{ Messages []wireMsg }
			json.Unmarshal([]byte(body), &page)
			var ids []int64
			for _, m := range page.Messages {
				ids = append(ids, m.ID)
			}
			if fmt.Sprint(ids) != tt.ids && !(tt.ids == "[]" && len(ids) == 0) {
				t.Errorf("ids %v, want %s", ids, tt.ids)
			}
		})
	}
	for _, bad := range []string{"/api/rooms/a.b", "/api/rooms/a.b/messages", "/api/rooms/x%2Fy"} {
		if status, body, _ := get(t, dev.HTTP+bad, nil); status != 400 || match(`{"error":"invalid_room","message":"*"}`, body) != nil {
			t.Errorf("%s: %d %s", bad, status, body)
		}
	}
}

// TestRestartAndPruning runs a server of its own with a small
// MAX_STORED_MESSAGES: history survives a full stop and restart of wrangler
// dev with its persisted state, and a room keeps only the latest messages.
func TestRestartAndPruning(t *testing.T) {
	t.Parallel()
	srv := ownServer(t, devserver.Options{Name: "restart", Config: "wrangler.toml",
		Args: []string{"--var", "MAX_STORED_MESSAGES:5"}})

	a := goJoin(t, srv, "kept", "alice")
	var sent []wireMsg
	for i := 1; i <= 3; i++ {
		sent = append(sent, a.say("before restart "+strconv.Itoa(i)))
	}
	p := goJoin(t, srv, "pruned", "pruner")
	for i := 1; i <= 8; i++ {
		p.say("p" + strconv.Itoa(i))
	}

	srv.Stop()
	// Both lose their sockets; they are closed before the restart, so that
	// they do not come back into the rooms.
	for _, c := range []*gclient{a, p} {
		c.status(goclient.Reconnecting)
		c.Close()
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	b := goJoin(t, srv, "kept", "bob")
	if fmt.Sprint(b.Users) != "[bob]" {
		t.Errorf("roster after restart %v, want [bob]", b.Users)
	}
	if hist := historyWire(b.History); !same(hist, sent) {
		t.Errorf("history after restart %v, want %v", hist, sent)
	}
	if m := b.say("after restart"); m.ID != sent[2].ID+1 {
		t.Errorf("first id after restart %d, want %d", m.ID, sent[2].ID+1)
	}

	// Pruning: 8 messages into a room that keeps 5 leaves ids 4..8, and a
	// reader who wanted all of them is told the oldest are gone.
	var page struct {
		Messages  []wireMsg
		Truncated bool
	}
	status, body, _ := get(t, srv.HTTP+"/api/rooms/pruned/messages?since=0&limit=500", nil)
	json.Unmarshal([]byte(body), &page)
	var ids []int64
	for _, m := range page.Messages {
		ids = append(ids, m.ID)
	}
	if status != 200 || fmt.Sprint(ids) != "[4 5 6 7 8]" || !page.Truncated {
		t.Errorf("pruned room: %d %s", status, body)
	}
	c := goJoin(t, srv, "pruned", "late", withSince(2))
	if hist, truncated := c.History.Messages, c.History.Truncated; len(hist) != 5 || hist[0].ID != 4 || !truncated {
		t.Errorf("resume into pruned history: %v truncated=%v", hist, truncated)
	}
}
