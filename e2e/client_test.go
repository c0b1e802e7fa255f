package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatroom/gochat/room/protocol"
	"github.com/coder/websocket"
)

// waitTimeout bounds every wait for a frame. It is a deadline for a hang, not
// a speed requirement: frames normally arrive in milliseconds.
const waitTimeout = 20 * time.Second

// client is one real WebSocket connection with a reader that queues frames.
type client struct {
	t      *testing.T
	name   string
	conn   *websocket.Conn
	frames chan received
	done   chan struct{}
	err    error // the read error that ended the reader, set before done closes
}

type received struct {
	typ  websocket.MessageType
	data string
}

// lastIP numbers the addresses withIP hands out.
var lastIP atomic.Uint32

// withIP gives a dial its own client address (CF-Connecting-IP, which
// wrangler dev passes through as Cloudflare's edge would set it) unless the
// test chose one: every test client is on 127.0.0.1, and the per-address
// limits (connections per room, upgrades per minute) are tested on purpose,
// not hit by accident.
func withIP(h http.Header) http.Header {
	for name := range h {
		if strings.EqualFold(name, "CF-Connecting-IP") {
			return h
		}
	}
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	n := lastIP.Add(1)
	h.Set("CF-Connecting-IP", fmt.Sprintf("198.18.%d.%d", n>>8&0xff, n&0xff))
	return h
}

func dial(t *testing.T, srv *server, path, name string) *client {
	t.Helper()
	return dialHeader(t, srv, path, nil, name)
}

// dialHeader is dial with extra request headers (Origin, a spoofed identity).
func dialHeader(t *testing.T, srv *server, path string, header http.Header, name string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, srv.WS+path, &websocket.DialOptions{HTTPHeader: withIP(header)})
	if err != nil {
		t.Fatalf("%s: dial %s: %v", name, path, err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("%s: status %d", name, res.StatusCode)
	}
	conn.SetReadLimit(8 << 20)
	c := &client{t: t, name: name, conn: conn, frames: make(chan received, 1024), done: make(chan struct{})}
	go c.read()
	t.Cleanup(func() { c.conn.CloseNow() })
	return c
}

func (c *client) read() {
	defer close(c.done)
	for {
		typ, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		c.frames <- received{typ, string(data)}
	}
}

func (c *client) send(frame string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatalf("%s: write: %v", c.name, err)
	}
}

// next returns the next frame, failing the test if none comes.
func (c *client) next() received {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatalf("%s: connection ended while waiting for a frame: %v", c.name, c.err)
	case <-time.After(waitTimeout):
		c.t.Fatalf("%s: no frame within %v", c.name, waitTimeout)
	}
	return received{}
}

var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// expect checks the next frames against JSON templates, exactly: the same
// keys and values, where "timestamp":"*" stands for any server timestamp in
// the wire format (UTC, milliseconds), "message":"*" for any error text and
// "id":"#" for any message id.
func (c *client) expect(templates ...string) {
	c.t.Helper()
	for _, tmpl := range templates {
		f := c.next()
		if f.typ != websocket.MessageText {
			c.t.Fatalf("%s: got a binary frame, want %s", c.name, tmpl)
		}
		if err := match(tmpl, f.data); err != nil {
			c.t.Fatalf("%s: got %s\n  want %s\n  %v", c.name, f.data, tmpl, err)
		}
	}
}

func match(tmpl, got string) error {
	var want, have map[string]any
	if err := json.Unmarshal([]byte(tmpl), &want); err != nil {
		panic(err)
	}
	if err := json.Unmarshal([]byte(got), &have); err != nil {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	if k1, k2 := keys(want), keys(have); k1 != k2 {
		return fmt.Errorf("keys %s, want %s", k2, k1)
	}
	for k, w := range want {
		h := have[k]
		switch {
		case k == "timestamp" && w == "*":
			if s, ok := h.(string); !ok || !timestampRE.MatchString(s) {
				return fmt.Errorf("timestamp %v is not UTC ISO-8601 with milliseconds", h)
			}
			if _, err := time.Parse("2006-01-02T15:04:05.000Z", h.(string)); err != nil {
				return err
			}
		case w == "*":
			if s, ok := h.(string); !ok || s == "" {
				return fmt.Errorf("%s is %v, want a non-empty string", k, h)
			}
		case w == "#":
			if n, ok := h.(float64); !ok || n < 1 || n != float64(int64(n)) {
				return fmt.Errorf("%s is %v, want a positive integer", k, h)
			}
		case fmt.Sprint(w) != fmt.Sprint(h):
			return fmt.Errorf("%s is %v, want %v", k, h, w)
		}
	}
	return nil
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

var barriers atomic.Int64

// barrier proves that everything the room sent this client so far has been
// read: a ping that is not byte-identical to the auto-response frame goes
// through the room, and the room answers it after all earlier events.
func (c *client) barrier() {
	c.t.Helper()
	c.send(fmt.Sprintf(`{"type":"ping","barrier":%d}`, barriers.Add(1)))
	c.expect(`{"type":"pong"}`)
}

// quiet checks that nothing more arrived for c: its own barrier comes next.
func (c *client) quiet() { c.t.Helper(); c.barrier() }

// closed waits for the server to close the connection and returns its code.
func (c *client) closed() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
	case f := <-c.frames:
		c.t.Fatalf("%s: got %s, want the connection closed", c.name, f.data)
	case <-time.After(waitTimeout):
		c.t.Fatalf("%s: not closed within %v", c.name, waitTimeout)
	}
	return websocket.CloseStatus(c.err)
}

// leave closes cleanly and checks the server completed the handshake.
func (c *client) leave(code websocket.StatusCode, reason string) {
	c.t.Helper()
	if err := c.conn.Close(code, reason); err != nil && !errors.Is(err, io.EOF) {
		c.t.Fatalf("%s: close handshake: %v", c.name, err)
	}
}

// drop ends the TCP connection without a close frame, like a lost network.
func (c *client) drop() { c.conn.CloseNow() }

func joinedT(u string) string { return `{"type":"user_joined","userId":"` + u + `","timestamp":"*"}` }
func leftT(u string) string   { return `{"type":"user_left","userId":"` + u + `","timestamp":"*"}` }
func msgT(u, text string) string {
	return `{"type":"message","id":"#","userId":"` + u + `","text":"` + text + `","timestamp":"*"}`
}

// welcome checks what a socket receives for its own join: user_joined, then
// the roster (which must include the joiner), then the history, then the
// read state.
func (c *client) welcome(u string) (users []string, history []map[string]any) {
	c.t.Helper()
	c.expect(joinedT(u))
	f := c.next()
	var p protocol.Presence
	if err := json.Unmarshal([]byte(f.data), &p); err != nil || p.Type != protocol.TypePresence || !sort.StringsAreSorted(p.Users) || !slices.Contains(p.Users, u) {
		c.t.Fatalf("%s: got %s, want a sorted presence roster including %s", c.name, f.data, u)
	}
	f = c.next()
	var h struct {
		Type     string           `json:"type"`
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal([]byte(f.data), &h); err != nil || h.Type != protocol.TypeHistory || h.Messages == nil {
		c.t.Fatalf("%s: got %s, want the history frame", c.name, f.data)
	}
	c.readState()
	return p.Users, h.Messages
}

// readState reads the read_state frame that follows a join's history.
func (c *client) readState() protocol.ReadState {
	c.t.Helper()
	f := c.next()
	var st protocol.ReadState
	if err := json.Unmarshal([]byte(f.data), &st); err != nil || st.Type != protocol.TypeReadState || st.LastRead < 0 || st.Unread < 0 {
		c.t.Fatalf("%s: got %s, want read_state after the history", c.name, f.data)
	}
	return st
}
func errT(code string) string { return `{"type":"error","code":"` + code + `","message":"*"}` }

// uniqueRoom gives each test a room of its own.
func uniqueRoom(t *testing.T) string {
	name := strings.NewReplacer("/", "-", " ", "_", "'", "", ",", "", ".", "").Replace(t.Name())
	name = regexp.MustCompile(`[^A-Za-z0-9_-]`).ReplaceAllString(name, "")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return fmt.Sprintf("%s-%d", name, time.Now().UnixNano()%1_000_000_000)
}

// get fetches a path and returns status, body and content type.
func get(t *testing.T, url string, header map[string]string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), res.Header.Get("Content-Type")
}
