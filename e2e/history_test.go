package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/chatroom/gochat/internal/devserver"
	"github.com/chatroom/gochat/room/protocol"
	"github.com/coder/websocket"
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

func historyOf(t *testing.T, raw []map[string]any) []wireMsg {
	t.Helper()
	b, _ := json.Marshal(raw)
	var out []wireMsg
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for _, m := range out {
		if m.ID < 1 || m.UserID == "" || !timestampRE.MatchString(m.Timestamp) {
			t.Fatalf("bad history entry %+v", m)
		}
	}
	return out
}

// joinSince joins with a resume point and returns the roster and history.
func (c *client) joinSince(u string, since int64) ([]string, []wireMsg, bool) {
	c.t.Helper()
	c.send(fmt.Sprintf(`{"type":"join","userId":%q,"since":%d}`, u, since))
	c.expect(joinedT(u))
	var p struct{ Users []string }
	json.Unmarshal([]byte(c.next().data), &p)
	f := c.next()
	var h struct {
		Type      string
		Messages  []wireMsg
		Truncated bool
	}
	if err := json.Unmarshal([]byte(f.data), &h); err != nil || h.Type != "history" {
		c.t.Fatalf("%s: got %s, want history", c.name, f.data)
	}
	return p.Users, h.Messages, h.Truncated
}

func TestHistoryAndPresenceOnJoin(t *testing.T) {
	t.Parallel()
	path := "/api/chat/" + uniqueRoom(t)
	a, b := dial(t, dev, path, "alice"), dial(t, dev, path, "bob")
	a.send(`{"type":"join","userId":"alice"}`)
	if _, hist := a.welcome("alice"); len(hist) != 0 {
		t.Fatalf("a new room has history %v", hist)
	}
	b.send(`{"type":"join","userId":"bob"}`)
	b.welcome("bob")
	a.expect(joinedT("bob"))
	var sent []wireMsg
	for i := 1; i <= 3; i++ {
		a.send(`{"type":"message","text":"m` + strconv.Itoa(i) + `"}`)
		sent = append(sent, a.nextMessage())
		b.nextMessage()
	}
	c := dial(t, dev, path, "carol")
	c.send(`{"type":"join","userId":"carol"}`)
	users, raw := c.welcome("carol")
	if fmt.Sprint(users) != "[alice bob carol]" {
		t.Errorf("roster %v, want [alice bob carol]", users)
	}
	hist := historyOf(t, raw)
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
	a.quiet()
	b.leave(websocket.StatusNormalClosure, "")
	a.expect(leftT("bob"))
	d := dial(t, dev, path, "dave")
	d.send(`{"type":"join","userId":"dave"}`)
	if users, _ := d.welcome("dave"); fmt.Sprint(users) != "[alice carol dave]" {
		t.Errorf("roster %v, want [alice carol dave]", users)
	}
}

// TestResumeAfterDrop drops a reader mid-conversation and reconnects it with
// the last id it saw while another user keeps talking: every message arrives
// exactly once, in order.
func TestResumeAfterDrop(t *testing.T) {
	t.Parallel()
	path := "/api/chat/" + uniqueRoom(t)
	talker, reader := dial(t, evict, path, "talker"), dial(t, evict, path, "reader")
	talker.send(`{"type":"join","userId":"talker"}`)
	talker.welcome("talker")
	reader.send(`{"type":"join","userId":"reader"}`)
	reader.welcome("reader")
	talker.expect(joinedT("reader"))

	const total = 60
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		for i := 1; i <= total; i++ {
			if err := talker.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"message","text":"n`+strconv.Itoa(i)+`"}`)); err != nil {
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
	reader.drop()
	again := dial(t, evict, path, "reader-again")
	_, hist, truncated := again.joinSince("reader", got[len(got)-1].ID)
	if truncated {
		t.Error("a resume within the window is truncated")
	}
	got = append(got, hist...)
	for len(got) < total {
		got = append(got, again.nextMessage())
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	for i, m := range got {
		if m.Text != "n"+strconv.Itoa(i+1) || (i > 0 && m.ID != got[i-1].ID+1) {
			t.Fatalf("message %d is %+v after %+v: a gap or a duplicate", i, m, got[max(i-1, 0)])
		}
	}
	again.quiet()
}

// TestConcurrentSenders has 10 clients send 50 messages each at once: every
// client sees the same order, ids rise strictly, and history equals it. It
// runs on the evict server, whose rate limit is raised for throughput tests.
func TestConcurrentSenders(t *testing.T) {
	t.Parallel()
	const clients, each = 10, 50
	room := uniqueRoom(t)
	path := "/api/chat/" + room
	var cs []*client
	for i := 0; i < clients; i++ {
		c := dial(t, evict, path, "c"+strconv.Itoa(i))
		c.send(`{"type":"join","userId":"c` + strconv.Itoa(i) + `"}`)
		c.welcome("c" + strconv.Itoa(i))
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
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			for j := 0; j < each; j++ {
				if err := c.conn.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"type":"message","text":"%d-%d"}`, i, j))); err != nil {
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
	path := "/api/chat/" + uniqueRoom(t)
	a := dial(t, evict, path, "alice")
	a.send(`{"type":"join","userId":"alice"}`)
	a.welcome("alice")
	var sent []wireMsg
	for i := 1; i <= 3; i++ {
		evictAll(t)
		a.send(`{"type":"message","text":"m` + strconv.Itoa(i) + `"}`)
		sent = append(sent, a.nextMessage())
	}
	evictAll(t)
	b := dial(t, evict, path, "bob")
	b.send(`{"type":"join","userId":"bob"}`)
	a.expect(joinedT("bob"))
	if _, raw := b.welcome("bob"); !same(historyOf(t, raw), sent) {
		t.Errorf("history after eviction %v, want %v", raw, sent)
	}
	evictAll(t)
	c := dial(t, evict, path, "carol")
	if _, hist, _ := c.joinSince("carol", sent[0].ID); !same(hist, sent[1:]) {
		t.Errorf("resume after eviction %v, want %v", hist, sent[1:])
	}
	a.expect(joinedT("carol"))
	evictAll(t)
	a.send(`{"type":"message","text":"m4"}`)
	if m := a.nextMessage(); m.ID != sent[2].ID+1 {
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
	a, lurker := dial(t, dev, "/api/chat/"+room, "alice"), dial(t, dev, "/api/chat/"+room, "lurker")
	a.send(`{"type":"join","userId":"alice"}`)
	if _, hist := a.welcome("alice"); len(hist) != 0 {
		t.Fatalf("reading the API created history: %v", hist)
	}
	for i := 1; i <= 4; i++ {
		a.send(`{"type":"message","text":"m` + strconv.Itoa(i) + `"}`)
		a.nextMessage()
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
	srv, err := devserver.Start(devserver.Options{Name: "restart", Root: root, Config: "wrangler.toml",
		Args: []string{"--var", "MAX_STORED_MESSAGES:5"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	defer func() {
		if t.Failed() {
			t.Logf("log tail:\n%s", srv.LogTail(40))
		}
	}()

	a := dial(t, srv, "/api/chat/kept", "alice")
	a.send(`{"type":"join","userId":"alice"}`)
	a.welcome("alice")
	var sent []wireMsg
	for i := 1; i <= 3; i++ {
		a.send(`{"type":"message","text":"before restart ` + strconv.Itoa(i) + `"}`)
		sent = append(sent, a.nextMessage())
	}
	p := dial(t, srv, "/api/chat/pruned", "pruner")
	p.send(`{"type":"join","userId":"pruner"}`)
	p.welcome("pruner")
	for i := 1; i <= 8; i++ {
		p.send(`{"type":"message","text":"p` + strconv.Itoa(i) + `"}`)
		p.nextMessage()
	}

	srv.Stop()
	a.closed()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	b := dial(t, srv, "/api/chat/kept", "bob")
	b.send(`{"type":"join","userId":"bob"}`)
	users, raw := b.welcome("bob")
	if fmt.Sprint(users) != "[bob]" {
		t.Errorf("roster after restart %v, want [bob]", users)
	}
	if !same(historyOf(t, raw), sent) {
		t.Errorf("history after restart %v, want %v", raw, sent)
	}
	b.send(`{"type":"message","text":"after restart"}`)
	if m := b.nextMessage(); m.ID != sent[2].ID+1 {
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
	c := dial(t, srv, "/api/chat/pruned", "late")
	if _, hist, truncated := c.joinSince("late", 2); len(hist) != 5 || hist[0].ID != 4 || !truncated {
		t.Errorf("resume into pruned history: %v truncated=%v", hist, truncated)
	}
}
