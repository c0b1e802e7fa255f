package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatroom/gochat/room/protocol"
	"github.com/coder/websocket"
)

// wsURL turns a base URL (http, https, ws or wss) and a path into the
// WebSocket URL to dial.
func wsURL(base, path string) (string, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("base URL %q: scheme must be http, https, ws or wss", base)
	}
	if u.Host == "" {
		return "", fmt.Errorf("base URL %q has no host", base)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u.Path = strings.TrimRight(u.Path, "/") + path
	return u.String(), nil
}

// stringField returns the raw value of the first "key":"value" pair in a JSON
// frame, without decoding it. It is enough for the type and userId of the
// frames we count in bulk; escaped quotes inside other strings never match,
// because the quotes of a JSON key are never preceded by a backslash.
func stringField(frame []byte, key string) (string, bool) {
	pat := `"` + key + `"`
	for off := 0; ; {
		i := bytes.Index(frame[off:], []byte(pat))
		if i < 0 {
			return "", false
		}
		i += off + len(pat)
		off = i
		j := skipSpace(frame, i)
		if j >= len(frame) || frame[j] != ':' {
			continue
		}
		j = skipSpace(frame, j+1)
		if j >= len(frame) || frame[j] != '"' {
			return "", false
		}
		end := j + 1
		for end < len(frame) && frame[end] != '"' {
			if frame[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(frame) {
			return "", false
		}
		return string(frame[j+1 : end]), true
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// payload is what a chatbench message carries in its text: which run and
// sender it belongs to, its sequence number and when it was sent, so that
// every receiver can check the delivery and measure the latency.
type payload struct {
	Run    string
	Sender int
	Seq    int
	Sent   time.Time
}

const payloadTag = "chatbench"

func (p payload) text() string {
	return fmt.Sprintf("%s %s %d %d %d", payloadTag, p.Run, p.Sender, p.Seq, p.Sent.UnixNano())
}

func parsePayload(text string) (payload, error) {
	f := strings.Fields(text)
	if len(f) != 5 || f[0] != payloadTag {
		return payload{}, fmt.Errorf("not a chatbench message: %q", text)
	}
	sender, err1 := strconv.Atoi(f[2])
	seq, err2 := strconv.Atoi(f[3])
	nanos, err3 := strconv.ParseInt(f[4], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil || sender < 0 || seq < 0 {
		return payload{}, fmt.Errorf("malformed chatbench message %q", text)
	}
	return payload{Run: f[1], Sender: sender, Seq: seq, Sent: time.Unix(0, nanos)}, nil
}

// messageFrame is the part of a server message frame chatbench reads. The id
// is optional: it is tolerated when present.
type messageFrame struct {
	ID     *int64 `json:"id"`
	UserID string `json:"userId"`
	Text   string `json:"text"`
}

// tracker counts the deliveries of one batch of chatbench messages: which
// receiver got which message, once, and how late.
type tracker struct {
	run       string
	perSender int
	expected  int64

	mu      sync.Mutex
	seen    map[uint64]struct{}
	lat     []time.Duration
	first   time.Time
	last    time.Time
	dups    int64
	unique  atomic.Int64
	done    chan struct{}
	closeMu sync.Once

	// typing counts the typing frames of the batch, apart from its
	// messages; nil where the scenario sends none.
	typing *typingCount
}

// typingCount counts the typing frames the members of one round receive,
// and from whom, so that the round can check the rule: never back to the
// sender, every member hears one after each message of every other, and at
// most one per message or throttle interval of its user.
type typingCount struct {
	n     int
	total atomic.Int64
	self  atomic.Int64   // a member's own typing, sent back to it
	stray atomic.Int64   // from a userId that is no member of the round
	pairs []atomic.Int64 // receiver*n + sender
}

func newTypingCount(n int) *typingCount {
	return &typingCount{n: n, pairs: make([]atomic.Int64, n*n)}
}

// receive records that receiver (a member index, user u<receiver>) got a
// typing frame naming user.
func (t *typingCount) receive(receiver int, user string) {
	t.total.Add(1)
	rest, ok := strings.CutPrefix(user, "u")
	sender, err := strconv.Atoi(rest)
	switch {
	case !ok || err != nil || sender < 0 || sender >= t.n || receiver < 0 || receiver >= t.n:
		t.stray.Add(1)
	case sender == receiver:
		t.self.Add(1)
	default:
		t.pairs[receiver*t.n+sender].Add(1)
	}
}

// short is how many (receiver, sender) pairs of distinct members had fewer
// than least typing frames.
func (t *typingCount) short(least int64) int {
	k := 0
	for r := 0; r < t.n; r++ {
		for s := 0; s < t.n; s++ {
			if r != s && t.pairs[r*t.n+s].Load() < least {
				k++
			}
		}
	}
	return k
}

// most is the most typing frames any one receiver got from sender: how
// many of sender's the room forwarded.
func (t *typingCount) most(sender int) int64 {
	var m int64
	for r := 0; r < t.n; r++ {
		m = max(m, t.pairs[r*t.n+sender].Load())
	}
	return m
}

func newTracker(run string, perSender int, expected int64) *tracker {
	t := &tracker{run: run, perSender: perSender, expected: expected,
		seen: make(map[uint64]struct{}, expected), lat: make([]time.Duration, 0, expected), done: make(chan struct{})}
	if expected == 0 {
		close(t.done)
	}
	return t
}

// receive records that receiver got a message with text at the given time.
// Messages of other runs (history, earlier rounds) are ignored.
func (t *tracker) receive(receiver int, at time.Time, text string) {
	p, err := parsePayload(text)
	if err != nil || p.Run != t.run {
		return
	}
	key := uint64(receiver)<<32 | uint64(p.Sender*t.perSender+p.Seq)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.seen[key]; dup {
		t.dups++
		return
	}
	t.seen[key] = struct{}{}
	t.lat = append(t.lat, at.Sub(p.Sent))
	if t.first.IsZero() || at.Before(t.first) {
		t.first = at
	}
	if at.After(t.last) {
		t.last = at
	}
	if t.unique.Add(1) == t.expected {
		t.closeMu.Do(func() { close(t.done) })
	}
}

// wait blocks until every expected delivery arrived or ctx ends.
func (t *tracker) wait(ctx context.Context) bool {
	select {
	case <-t.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// snapshot returns the latencies, the last delivery time and the duplicates.
func (t *tracker) snapshot() (lat []time.Duration, last time.Time, dups int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]time.Duration(nil), t.lat...), t.last, t.dups
}

// client is one WebSocket connection speaking the chat protocol, with a
// reader that hands every frame to handle.
type client struct {
	idx  int
	user string
	conn *websocket.Conn

	track   atomic.Pointer[tracker]
	onJoin  func(at time.Time) // called once, on this user's own user_joined
	joined  chan struct{}
	joinAt  time.Time // set before joined closes
	errs    atomic.Int64
	lastErr atomic.Value // string: the last error frame
	done    chan struct{}
	readErr error
}

// dialTimeout bounds one WebSocket handshake.
const dialTimeout = 30 * time.Second

var dialClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1}}

func dial(ctx context.Context, u string, idx int, user string) (*client, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: dialClient, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(8 << 20)
	c := &client{idx: idx, user: user, conn: conn, joined: make(chan struct{}), done: make(chan struct{})}
	go c.read()
	return c, nil
}

// read runs until the connection ends, reusing one buffer for every frame.
func (c *client) read() {
	defer close(c.done)
	var buf bytes.Buffer
	for {
		typ, r, err := c.conn.Reader(context.Background())
		if err != nil {
			c.readErr = err
			return
		}
		buf.Reset()
		if _, err := io.Copy(&buf, r); err != nil {
			c.readErr = err
			return
		}
		if typ == websocket.MessageText {
			c.handle(time.Now(), buf.Bytes())
		}
	}
}

// handle looks at one frame. Frame types chatbench does not use (presence,
// history, user_left, pong) are ignored, as the protocol asks of clients.
func (c *client) handle(at time.Time, frame []byte) {
	typ, _ := stringField(frame, "type")
	switch typ {
	case "user_joined":
		if u, _ := stringField(frame, "userId"); u == c.user {
			select {
			case <-c.joined:
			default:
				c.joinAt = at
				if c.onJoin != nil {
					c.onJoin(at)
				}
				close(c.joined)
			}
		}
	case "typing":
		// Counted apart: a typing frame is never a message delivery.
		if t := c.track.Load(); t != nil && t.typing != nil {
			u, _ := stringField(frame, "userId")
			t.typing.receive(c.idx, u)
		}
	case "message":
		if t := c.track.Load(); t != nil {
			var m messageFrame
			if json.Unmarshal(frame, &m) == nil {
				t.receive(c.idx, at, m.Text)
			}
		}
	case "error":
		c.errs.Add(1)
		c.lastErr.Store(string(frame))
	}
}

// writeTimeout bounds one frame write.
const writeTimeout = 30 * time.Second

func (c *client) send(ctx context.Context, frame string) error {
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return c.conn.Write(wctx, websocket.MessageText, []byte(frame))
}

func (c *client) join(ctx context.Context) error {
	b := protocol.Marshal(protocol.JoinRequest{Type: protocol.TypeJoin, UserID: c.user})
	return c.send(ctx, string(b))
}

func (c *client) message(ctx context.Context, text string) error {
	b := protocol.Marshal(protocol.MessageRequest{Type: protocol.TypeMessage, Text: text})
	return c.send(ctx, string(b))
}

// typingFrame is what a member sends while it types.
const typingFrame = `{"type":"` + protocol.TypeTyping + `"}`

func (c *client) typing(ctx context.Context) error {
	return c.send(ctx, typingFrame)
}

// hasJoined reports whether the client's own user_joined arrived.
func (c *client) hasJoined() bool {
	select {
	case <-c.joined:
		return true
	default:
		return false
	}
}

// closeAll ends every connection without waiting for the closing handshake.
func closeAll(cs []*client) {
	for _, c := range cs {
		if c != nil {
			c.conn.CloseNow()
		}
	}
}

// errorFrames sums the error frames the clients received and returns one.
func errorFrames(cs []*client) (n int64, sample string) {
	for _, c := range cs {
		if c == nil {
			continue
		}
		n += c.errs.Load()
		if s, ok := c.lastErr.Load().(string); ok {
			sample = s
		}
	}
	return n, sample
}
