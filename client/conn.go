package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/chatroom/gochat/room/protocol"
	"github.com/coder/websocket"
)

// The connection's life: run owns it, one socket after another; serve runs
// one socket's timers (keepalive, join timeout) while read, its only other
// goroutine, reads the socket's frames and delivers the events.

// errFatal wraps an error that ends the client, as read hands it to serve.
type errFatal struct{ err error }

func (e errFatal) Error() string { return e.err.Error() }
func (e errFatal) Unwrap() error { return e.err }

// errRedial is a connection dropped on purpose, to be replaced.
type errRedial struct{ why string }

func (e errRedial) Error() string { return e.why }

// backoff is the wait before reconnect attempt n (0 for the first):
// min(max, min·2ⁿ), of which a random half is taken off ("equal jitter"), so
// that clients cut off together do not come back together. r is in [0, 1).
func backoff(n int, min, max time.Duration, r float64) time.Duration {
	base := max
	if n < 30 {
		if b := min << n; b > 0 && b < max {
			base = b
		}
	}
	return base/2 + time.Duration(r*float64(base/2))
}

// chatURL is the room's WebSocket endpoint.
func (c *Client) chatURL() string {
	u := *c.base
	u.Path = joinPath(u.Path, "/api/chat/"+c.opts.Room)
	u.RawQuery = ""
	return u.String()
}

func joinPath(base, p string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + p
}

// token is the token to send now: TokenFunc's, else Token.
func (c *Client) token(ctx context.Context) (string, error) {
	if c.opts.TokenFunc != nil {
		t, err := c.opts.TokenFunc(ctx)
		if err != nil {
			return "", fmt.Errorf("client: token: %w", err)
		}
		return t, nil
	}
	return c.opts.Token, nil
}

// dial makes one upgrade, with a fresh token, and after a 401 one more with
// another token when a TokenFunc can supply it.
func (c *Client) dial(ctx context.Context) (*websocket.Conn, error) {
	for try := 0; ; try++ {
		tok, err := c.token(ctx)
		if err != nil {
			return nil, err
		}
		header := http.Header{}
		if tok != "" {
			header.Set("Authorization", "Bearer "+tok)
		}
		conn, res, err := c.dialer(ctx, c.chatURL(), &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: header})
		if err == nil {
			conn.SetReadLimit(c.opts.ReadLimit)
			return conn, nil
		}
		if res == nil || res.StatusCode == http.StatusSwitchingProtocols {
			return nil, err
		}
		he := httpError(res)
		if he.StatusCode == http.StatusUnauthorized && c.opts.TokenFunc != nil && try == 0 {
			continue
		}
		return nil, he
	}
}

// httpError reads a refusal's JSON body ({"error","message"}) if it has one.
func httpError(res *http.Response) *HTTPError {
	he := &HTTPError{StatusCode: res.StatusCode}
	if res.Body != nil {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		var body protocol.BannedBody // {"error","message"}, and until for a ban
		if protocol.Unmarshal(b, &body) == nil {
			he.Code, he.Message, he.Until = body.Error, body.Message, untilOf(body.Until)
		}
	}
	return he
}

// run owns the connection from the first socket until the client ends.
func (c *Client) run(conn *websocket.Conn) {
	attempt := 0
	for {
		err := c.serve(conn)
		if c.ctx.Err() != nil {
			c.end(ErrClosed, true)
			return
		}
		if fe := (errFatal{}); errors.As(err, &fe) {
			c.end(fe.err, true)
			return
		}
		if websocket.CloseStatus(err) == protocol.CloseModerated {
			c.end(c.oustedError(err), true)
			return
		}
		c.mu.Lock()
		if c.everJoined && c.lastJoinOK {
			attempt = 0
		}
		c.lastJoinOK = false
		c.mu.Unlock()
		// A token that expired is replaced at once: nothing is wrong that
		// waiting would fix.
		now := websocket.CloseStatus(err) == CloseTokenExpired
		for conn = nil; conn == nil; {
			delay := time.Duration(0)
			if !now {
				delay = backoff(attempt, c.opts.BackoffMin, c.opts.BackoffMax, rand.Float64())
			}
			now = false
			attempt++
			c.emit(&Status{State: Reconnecting, Attempt: attempt, Delay: delay, Err: err})
			t := time.NewTimer(delay)
			select {
			case <-c.ctx.Done():
				t.Stop()
				c.end(ErrClosed, true)
				return
			case <-t.C:
			}
			conn, err = c.dial(c.ctx)
			if c.ctx.Err() != nil {
				if conn != nil {
					conn.CloseNow()
				}
				c.end(ErrClosed, true)
				return
			}
			if err != nil && fatal(err) {
				c.end(err, true)
				return
			}
		}
	}
}

// oustedError is the error that ends a client whose connection the room
// closed with 4003: its user was kicked or banned. It tells the event that
// preceded the close when the client saw it.
func (c *Client) oustedError(err error) *RoomError {
	var ce websocket.CloseError
	errors.As(err, &ce)
	re := &RoomError{Code: ce.Reason, Message: "the room closed the connection: " + ce.Reason}
	if re.Code != protocol.CodeBanned {
		re.Code = CodeKicked
	}
	c.mu.Lock()
	ev := c.ousted
	c.mu.Unlock()
	if ev != nil {
		verb := map[Action]string{Kick: "kicked", Ban: "banned"}[ev.Kind]
		re.Message = fmt.Sprintf("%s by %s", verb, ev.By)
		if ev.Reason != "" {
			re.Message += ": " + ev.Reason
		}
		re.Until = ev.Until
	}
	return re
}

// serve runs one socket until it ends, and returns why.
func (c *Client) serve(conn *websocket.Conn) error {
	c.mu.Lock()
	c.conn, c.joined, c.self, c.joinSlow = conn, false, c.opts.UserID, 0
	c.mu.Unlock()
	c.emit(&Status{State: Connecting})

	readErr := make(chan error, 1)
	go func() { readErr <- c.read(conn) }()
	c.sendJoin(conn)

	ping := time.NewTicker(c.opts.PingInterval)
	defer ping.Stop()
	joinTimer := time.NewTimer(c.opts.JoinTimeout)
	defer joinTimer.Stop()
	var why error // set when serve drops the socket itself
	awaiting, readsAtPing := false, int64(0)
	for {
		select {
		case err := <-readErr:
			c.lost(conn)
			if why != nil {
				return why
			}
			return err
		case <-c.ctx.Done():
			conn.Close(websocket.StatusNormalClosure, "client closed")
			<-readErr
			c.lost(conn)
			return ErrClosed
		case <-joinTimer.C:
			if !c.isJoined() {
				why = errRedial{fmt.Sprintf("the room did not answer the join within %v", c.opts.JoinTimeout)}
				conn.CloseNow()
			}
		case <-ping.C:
			if !c.isJoined() {
				continue
			}
			// Silence while the reader waits on the consumer says nothing
			// about the network: a delivery counts as progress too.
			if awaiting && c.progress.Load() == readsAtPing && !c.delivering.Load() {
				why = errRedial{fmt.Sprintf("nothing arrived for %v, not even a pong", c.opts.PingInterval)}
				conn.CloseNow()
				continue
			}
			awaiting, readsAtPing = true, c.progress.Load()
			c.write(conn, []byte(protocol.PingFrame))
		}
	}
}

func (c *Client) isJoined() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joined
}

// lost records the end of conn: what was in flight is unconfirmed until the
// resumed history tells.
func (c *Client) lost(conn *websocket.Conn) {
	conn.CloseNow()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == conn {
		c.conn = nil
	}
	c.joined = false
	c.unconfirmed = append(c.unconfirmed, c.inflight...)
	c.inflight = nil
}

// write writes one text frame, bounded by WriteTimeout; a write that times
// out closes conn. Errors are left to the reader, which sees the socket end.
func (c *Client) write(conn *websocket.Conn, frame []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.WriteTimeout)
	defer cancel()
	_ = conn.Write(ctx, websocket.MessageText, frame)
}

func (c *Client) sendJoin(conn *websocket.Conn) {
	c.mu.Lock()
	join := protocol.JoinRequest{Type: protocol.TypeJoin, UserID: c.opts.UserID}
	if c.lastID > 0 {
		since := c.lastID
		join.Since = &since
	}
	c.joinedSince = join.Since != nil
	c.mu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.write(conn, protocol.Marshal(join))
}

// emit delivers one event, waiting for the consumer: this is the client's
// back-pressure. Close releases it.
func (c *Client) emit(ev Event) {
	select {
	case c.events <- ev:
		return
	default:
	}
	c.delivering.Store(true)
	select {
	case c.events <- ev:
	case <-c.ctx.Done():
	}
	c.progress.Add(1)
	c.delivering.Store(false)
}

// read reads conn's frames until it ends. The read itself is not bound to
// the client's context: Close ends it with a close handshake instead.
func (c *Client) read(conn *websocket.Conn) error {
	for {
		typ, data, err := conn.Read(context.Background())
		if err != nil {
			return err
		}
		c.progress.Add(1)
		if c.ctx.Err() != nil {
			return ErrClosed // Close was called: act on nothing more
		}
		if typ != websocket.MessageText {
			continue
		}
		if err := c.handle(conn, data); err != nil {
			conn.Close(websocket.StatusNormalClosure, "")
			return err
		}
	}
}

// handle acts on one frame. An error ends the connection.
func (c *Client) handle(conn *websocket.Conn, data []byte) error {
	var head protocol.Pong // any frame's type
	if protocol.Unmarshal(data, &head) != nil {
		return nil // not a protocol frame: nothing to act on
	}
	if head.Type != protocol.TypeReadState && c.readStateDue.CompareAndSwap(true, false) {
		// A room that sends no read_state after the history: a read that
		// waits goes out now.
		c.flushRead()
	}
	switch head.Type {
	case protocol.TypePong:
	case protocol.TypeUserJoined:
		var f protocol.UserJoined
		if protocol.Unmarshal(data, &f) != nil {
			return nil
		}
		c.mu.Lock()
		if c.self == "" && !c.joined {
			// The joining socket hears its own user_joined first: in a
			// protected room, that names the token's user.
			c.self = f.UserID
		}
		c.mu.Unlock()
		c.emit(&UserJoined{UserID: f.UserID, Time: parseTime(f.Timestamp), Raw: data})
	case protocol.TypeUserLeft:
		var f protocol.UserLeft
		if protocol.Unmarshal(data, &f) != nil {
			return nil
		}
		c.emit(&UserLeft{UserID: f.UserID, Time: parseTime(f.Timestamp), Raw: data})
	case protocol.TypePresence:
		var f protocol.PresenceSummary
		if protocol.Unmarshal(data, &f) != nil {
			return nil
		}
		p := &Presence{Users: f.Users, Count: f.Count, Truncated: f.Truncated, Raw: data}
		if !f.Truncated {
			p.Count = len(f.Users)
		}
		c.emit(p)
	case protocol.TypeHistory:
		var f protocol.History
		if protocol.Unmarshal(data, &f) != nil {
			return nil
		}
		c.joinedWith(conn, f, data)
	case protocol.TypeMessage:
		var f protocol.ChatMessage
		if protocol.Unmarshal(data, &f) != nil || f.ID <= 0 {
			return nil // no room sends a message without a position
		}
		m := messageOf(protocol.StoredMessage{ID: f.ID, UserID: f.UserID, Text: f.Text, Timestamp: f.Timestamp}, data)
		c.mu.Lock()
		var echo *pending
		if f.UserID == c.self {
			echo = take(&c.inflight, isSend(f.Text))
			c.typedAt = time.Time{} // the room starts the typing interval over
		}
		fresh := f.ID > c.lastID
		if fresh {
			c.lastID = f.ID
		}
		c.mu.Unlock()
		if echo != nil {
			echo.resolve(result{msg: m})
		}
		if fresh {
			c.emit(&m)
		}
	case protocol.TypeRoomSettings:
		var f protocol.RoomSettings
		if protocol.Unmarshal(data, &f) != nil {
			return nil
		}
		ev := &RoomSettings{SlowModeSeconds: f.SlowModeSeconds, Raw: data}
		c.mu.Lock()
		var echo *pending
		if c.joined {
			echo = take(&c.inflight, answeredBy(c.self, ev))
		} else {
			c.joinSlow = f.SlowModeSeconds
		}
		c.mu.Unlock()
		if echo != nil {
			echo.resolve(result{ev: ev})
		}
		c.emit(ev)
	case protocol.TypeTyping:
		var f protocol.Typing
		if protocol.Unmarshal(data, &f) != nil {
			return nil
		}
		c.emit(&Typing{UserID: f.UserID, Raw: data})
	case protocol.TypeRead:
		var f protocol.ReadMarker
		if protocol.Unmarshal(data, &f) != nil {
			return nil
		}
		c.mu.Lock()
		if f.UserID == c.self {
			// Another connection of this user's read that far.
			c.readAcked = max(c.readAcked, f.ID)
		}
		c.mu.Unlock()
		c.emit(&Read{UserID: f.UserID, ID: f.ID, Raw: data})
	case protocol.TypeReadState:
		var f protocol.ReadState
		if protocol.Unmarshal(data, &f) != nil {
			return nil
		}
		c.mu.Lock()
		c.readAcked = max(c.readAcked, f.LastRead)
		c.mu.Unlock()
		c.readStateDue.Store(false)
		c.flushRead() // what waited, unless the room has it already
		c.emit(&ReadState{LastRead: f.LastRead, Unread: f.Unread, Capped: f.Capped, Raw: data})
	case protocol.TypeError:
		var f protocol.ModerationError // an error frame, with retryAfterMs or until when present
		if protocol.Unmarshal(data, &f) != nil {
			return nil
		}
		return c.onError(conn, f, data)
	default:
		ev, ok := changeOf(head.Type, data)
		if !ok {
			return nil
		}
		pos := Position(ev)
		c.mu.Lock()
		echo := take(&c.inflight, answeredBy(c.self, ev))
		if m, ok := ev.(*Moderated); ok && m.UserID == c.self && (m.Kind == Kick || m.Kind == Ban) {
			c.ousted = m // the 4003 close follows
		}
		fresh := pos > c.lastID
		if fresh {
			c.lastID = pos
		}
		c.mu.Unlock()
		if echo != nil {
			echo.resolve(result{ev: ev})
		}
		if fresh {
			c.emit(ev)
		}
	}
	return nil
}

// answeredBy matches the request that ev, a change the room announced,
// confirms: an edit, a deletion or a reaction of self's, a moderation
// action by self, the slow mode asked for.
func answeredBy(self string, ev Event) func(*pending) bool {
	return func(p *pending) bool {
		switch ev := ev.(type) {
		case *MessageEdited:
			return p.kind == opEdit && ev.UserID == self && p.id == ev.MessageID && p.text == ev.Text
		case *MessageDeleted:
			return p.kind == opDelete && ev.By == self && p.id == ev.MessageID
		case *Moderated:
			return p.kind == opModerate && ev.By == self && p.action == ev.Kind && p.user == ev.UserID
		case *RoomSettings:
			return p.kind == opSlowMode && p.seconds == ev.SlowModeSeconds
		case *Reaction:
			return p.kind == opReact && ev.UserID == self && p.id == ev.MessageID && p.emoji == ev.Emoji
		}
		return false
	}
}

// isSend matches a send of text.
func isSend(text string) func(*pending) bool {
	return func(p *pending) bool { return p.kind == opMessage && p.text == text }
}

// onError acts on an error frame: during the join it may end the client or
// redo the join; once joined it answers the oldest unanswered send.
func (c *Client) onError(conn *websocket.Conn, f protocol.ModerationError, data []byte) error {
	re := &RoomError{Code: f.Code, Message: f.Message, RetryAfter: millis(f.RetryAfterMs), Until: untilOf(f.Until)}
	c.mu.Lock()
	if !c.joined {
		switch {
		case f.Code == protocol.CodeInvalidSince:
			// The room no longer knows our resume point (its storage was
			// reset): start over from its latest messages.
			c.lastID = 0
			c.resetNext = true
			c.mu.Unlock()
			c.sendJoin(conn)
			return nil
		case fatalJoinCodes[f.Code]:
			c.mu.Unlock()
			c.emit(&Error{Err: re, Raw: data})
			return errFatal{re}
		case f.Code == protocol.CodeStorage:
			// Joined without a history, so without knowing what was
			// missed: rather redo the whole join later than risk a gap.
			c.mu.Unlock()
			c.emit(&Error{Err: re, Raw: data})
			return errRedial{"the room could not read its history: " + re.Error()}
		}
		c.mu.Unlock()
		c.emit(&Error{Err: re, Raw: data})
		return nil
	}
	p := take(&c.inflight, func(p *pending) bool { return answers[p.kind][f.Code] })
	if p != nil {
		p.refused(re)
	}
	c.mu.Unlock()
	if p != nil {
		p.fail(re)
	}
	c.emit(&Error{Err: re, Raw: data})
	return nil
}

// joinedWith completes the join with its history: it confirms the requests
// the history shows were carried out, delivers what is new, and sends what
// waited.
func (c *Client) joinedWith(conn *websocket.Conn, f protocol.History, data []byte) {
	c.wmu.Lock()
	c.mu.Lock()
	if c.joined || c.conn != conn || c.ctx.Err() != nil {
		c.mu.Unlock()
		c.wmu.Unlock()
		return
	}
	// since is the join's resume point: what was delivered before.
	since, resumed, reset := c.lastID, c.joinedSince, c.resetNext
	hist := &History{Truncated: f.Truncated, Resumed: resumed, Reset: reset, Raw: data}
	c.resetNext = false
	c.joined, c.everJoined, c.lastJoinOK = true, true, true
	// The read position: what went out on the old connection is the
	// room's if its read_state says so, and the ids of a history that
	// starts over name other messages.
	c.readSent = 0
	if reset {
		c.readWant, c.readAcked = 0, 0
	}
	c.readStateDue.Store(true)
	type confirmed struct {
		p *pending
		r result
	}
	var ok []confirmed
	// The positions after since that the resume shows, and whether one of
	// ours among them was edited: an edited message no longer shows the
	// text that was sent.
	shown := map[int64]bool{}
	ownEdited := false
	top := since
	for _, sm := range f.Messages {
		if sm.ID <= 0 || shown[sm.ID] {
			// No room sends a message without a position, or a position
			// twice: each is delivered once.
			continue
		}
		m := messageOf(sm, nil)
		after := !resumed || sm.ID > since
		if sm.ID > since {
			shown[sm.ID] = true
		}
		if sm.UserID == c.self && after {
			if sm.EditedAt != "" {
				ownEdited = true
			} else if p := take(&c.unconfirmed, isSend(sm.Text)); p != nil {
				ok = append(ok, confirmed{p, result{msg: m}})
			}
		}
		if sm.ID > since {
			hist.Messages = append(hist.Messages, m)
			top = max(top, sm.ID)
		}
	}
	// The changes: edits, deletions and reactions of messages at or before
	// since, and moderation events.
	for _, raw := range f.Changes {
		var head protocol.Pong
		if protocol.Unmarshal(raw, &head) != nil {
			continue
		}
		ev, isChange := changeOf(head.Type, raw)
		if !isChange {
			continue
		}
		pos := Position(ev)
		if p := take(&c.unconfirmed, answeredBy(c.self, ev)); p != nil {
			ok = append(ok, confirmed{p, result{ev: ev}})
		} else if d, isDelete := ev.(*MessageDeleted); isDelete {
			// Deleted by someone else: what a delete wanted is done.
			if p := take(&c.unconfirmed, func(p *pending) bool { return p.kind == opDelete && p.id == d.MessageID }); p != nil {
				ok = append(ok, confirmed{p, result{ev: ev}})
			}
		}
		if pos > since && !shown[pos] { // a position the history repeats is delivered once
			shown[pos] = true
			hist.Changes = append(hist.Changes, ev)
			top = max(top, pos)
		}
	}
	c.lastID = top
	// A hole after since is a message edited or deleted after since, whose
	// positions the room folded away: it may have been one of ours.
	gap := resumed && !reset && int64(len(shown)) != top-since
	// What the old connection may have lost goes first, then what waited
	// for a connection. When the resume cannot tell whether the room has a
	// text, it fails instead of risking a duplicate; an edit, a delete or a
	// moderation action when the history is truncated (its changes may be
	// cut) or starts over (its ids may name other messages now), and a
	// reaction to a message after since (the room folds its reactions into
	// the message: toggling again might undo it). Slow mode is done when
	// the room already has it.
	unsureText := f.Truncated || ownEdited || gap
	unsureAction := f.Truncated || reset
	var retry, unsure, stale []*pending
	for _, p := range c.unconfirmed {
		switch {
		case p.kind == opSlowMode && p.seconds == c.joinSlow:
			ok = append(ok, confirmed{p, result{ev: &RoomSettings{SlowModeSeconds: p.seconds}}})
		case p.kind == opSlowMode:
			retry = append(retry, p)
		case p.kind == opReact && p.id > since:
			unsure = append(unsure, p)
		case p.kind == opMessage && unsureText, p.kind != opMessage && unsureAction:
			unsure = append(unsure, p)
		default:
			retry = append(retry, p)
		}
	}
	c.unconfirmed = nil
	for _, p := range c.queue {
		if reset && (p.kind == opEdit || p.kind == opDelete) {
			stale = append(stale, p)
		} else {
			retry = append(retry, p)
		}
	}
	c.queue = nil
	c.inflight = append(c.inflight, retry...)
	c.mu.Unlock()
	for _, p := range retry {
		c.write(conn, p.frame)
	}
	c.wmu.Unlock()

	for _, x := range ok {
		x.p.resolve(x.r)
	}
	for _, p := range unsure {
		p.fail(ErrUnconfirmed)
	}
	for _, p := range stale {
		p.fail(ErrReset)
	}
	c.emit(hist)
	for _, ev := range hist.Changes {
		c.emit(ev)
	}
	c.emit(&Status{State: Open})
}

// take removes the oldest pending request that match accepts from list.
func take(list *[]*pending, match func(*pending) bool) *pending {
	for i, p := range *list {
		if match(p) {
			*list = slices.Delete(*list, i, i+1)
			return p
		}
	}
	return nil
}
