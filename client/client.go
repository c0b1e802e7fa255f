package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatroom/gochat/room/protocol"
	"github.com/coder/websocket"
	"github.com/mailru/easyjson/jwriter"
)

// DefaultURL is the server of `make dev`.
const DefaultURL = "http://127.0.0.1:8787"

// Defaults of the Options' tunables.
const (
	DefaultRoom         = "lobby"
	DefaultEventBuffer  = 64
	DefaultQueueSize    = 100
	DefaultPingInterval = 30 * time.Second
	DefaultJoinTimeout  = 15 * time.Second
	DefaultBackoffMin   = 500 * time.Millisecond
	DefaultBackoffMax   = 10 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	// DefaultReadLimit fits the largest frame the room sends: a resume
	// history of 500 messages of 4096 characters of up to 4 bytes, escaped.
	DefaultReadLimit = 16 << 20
)

// The live signals' timing, the browser client's.
const (
	// TypingInterval is the least time between two typing frames: Typing
	// sends at most one per interval (the room forwards no more than that).
	TypingInterval = 2 * time.Second
	// TypingTimeout is how long a user shows as typing after their last
	// Typing event, unless their message comes first. The room sets no
	// timer: a user interface does.
	TypingTimeout = 6 * time.Second
	// ReadInterval is the least time between two read frames: MarkRead
	// calls in between are coalesced, the latest id winning.
	ReadInterval = time.Second
)

// CloseTokenExpired is the close code of a socket whose token expired
// (protocol.CloseTokenExpired); the client reconnects at once with a fresh
// token.
const CloseTokenExpired = protocol.CloseTokenExpired

// Options configure a Client. The zero value of each field means its default.
type Options struct {
	// URL is the server's base URL, http:// or https:// (ws:// and wss:// are
	// accepted too); default DefaultURL.
	URL string
	// Room is the room's name, 1–64 of A–Z a–z 0–9 _ -; default "lobby".
	Room string
	// UserID is who to join as. It may be empty in a protected room, where
	// the token names the user.
	UserID string
	// Token is a signed token, sent as "Authorization: Bearer" with every
	// upgrade and HTTP request.
	Token string
	// TokenFunc, when set, supplies the token instead of Token. It is called
	// before every connect and every HTTP request, and once more after an
	// HTTP 401, so it should cache a token until it nears expiry.
	TokenFunc func(ctx context.Context) (string, error)
	// HTTPClient carries the upgrades and the HTTP API. By default the client
	// has one of its own, whose idle connections Close closes.
	HTTPClient *http.Client
	// Dialer opens the WebSocket; default websocket.Dial. The client sets
	// HTTPClient and the Authorization header in the options it passes.
	Dialer func(ctx context.Context, url string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error)
	// Since is the last message id already seen: the first join resumes
	// after it. Zero asks for the room's latest history.
	Since int64
	// EventBuffer is the capacity of the Events channel (default 64). When it
	// is full the client stops reading the socket: see the package doc.
	EventBuffer int
	// QueueSize bounds the sends that wait while the client is not joined,
	// including those to be re-sent after a drop (default 100).
	QueueSize int
	// PingInterval is how often the keepalive ping goes out while open; a
	// connection on which nothing arrived for a whole interval is replaced
	// (default 30 s).
	PingInterval time.Duration
	// JoinTimeout bounds the time from the upgrade to the join's history
	// (default 15 s).
	JoinTimeout time.Duration
	// BackoffMin is the first reconnect delay, doubled on each failed attempt
	// up to BackoffMax (defaults 500 ms and 10 s); a random part of up to half
	// of each delay is taken off.
	BackoffMin, BackoffMax time.Duration
	// WriteTimeout bounds one frame's write; a write that times out drops the
	// connection (default 10 s).
	WriteTimeout time.Duration
	// ReadLimit bounds one frame's size (default DefaultReadLimit).
	ReadLimit int64
}

var roomName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Client is a connection to one room as one user. Its methods are safe for
// concurrent use.
type Client struct {
	opts    Options
	base    *url.URL
	http    *http.Client
	ownHTTP bool
	dialer  func(context.Context, string, *websocket.DialOptions) (*websocket.Conn, *http.Response, error)

	// ctx is cancelled by Close; everything the client waits on selects on it.
	ctx    context.Context
	cancel context.CancelFunc
	events chan Event
	done   chan struct{} // closed once the client has ended and events is closed

	closeOnce sync.Once

	// wmu orders message writes: the room answers sends in the order it
	// receives them, so inflight must list them in the order they are written.
	wmu sync.Mutex

	mu          sync.Mutex
	started     bool
	ended       bool
	err         error // the fatal error, once ended
	conn        *websocket.Conn
	joined      bool   // conn's join was answered with its history
	self        string // the userId the room joined conn as
	joinedSince bool   // conn's join carried since
	everJoined  bool
	lastJoinOK  bool       // the last connection was joined: the backoff starts over
	resetNext   bool       // the room forgot our resume point; the next history starts over
	lastID      int64      // highest position delivered, the next join's since
	joinSlow    int64      // the slow mode a room_settings told conn before its history
	ousted      *Moderated // the kick or ban of this client's user, before the 4003 close
	queue       []*pending
	inflight    []*pending // written on conn, not yet echoed or refused
	unconfirmed []*pending // in flight when the previous connection died

	// The live signals. typedAt is when the last typing frame went out
	// (zero after a message of this user's: the room starts its interval
	// over then). readWant is the highest id MarkRead asked for, readSent
	// the highest sent on this connection, readAcked the highest the room
	// has told (read_state, or a read of this user's from another
	// connection); readAt is when the last read frame went out, and
	// readTimer, when set, sends what waits once ReadInterval has passed.
	typedAt   time.Time
	readWant  int64
	readSent  int64
	readAcked int64
	readAt    time.Time
	readTimer func() bool // stops the timer

	// readStateDue says the join's history came and its read_state is
	// next: a read that waits goes out once the room has said where it
	// stands (or at the next frame, from a room that sends none).
	readStateDue atomic.Bool

	// now and afterFunc are the clock of the signals' throttles: time's,
	// or a test's.
	now       func() time.Time
	afterFunc func(d time.Duration, f func()) (stop func() bool)

	progress   atomic.Int64 // frames read and blocked deliveries done, for the keepalive
	delivering atomic.Bool  // an event waits for the consumer
}

// opKind is the kind of a request: what frame it writes and what answers it.
type opKind int

const (
	opMessage opKind = iota
	opEdit
	opDelete
	opModerate
	opSlowMode
	opReact
)

// pending is one request (a Send, Edit, Delete, Moderate, SlowMode or
// React) waiting for its answer.
type pending struct {
	kind    opKind
	text    string // message, edit
	id      int64  // edit, delete, react: the message
	emoji   string // react
	action  Action // moderate
	user    string // moderate: whom
	seconds int64  // moderate (ban, mute), slow mode
	reason  string // moderate
	frame   []byte
	done    chan result // buffered: the answer never waits for the requester
}

// result is a request's answer: the stored message of a send, the event
// that confirms another request, or the error.
type result struct {
	msg Message
	ev  Event
	err error
}

func (p *pending) resolve(r result) { p.done <- r }

func (p *pending) fail(err error) { p.resolve(result{err: err}) }

// answer is r's event as the T a request expects (the kind of request
// decides the event's type), or r's error.
func answer[T any, PT interface {
	*T
	Event
}](r result) (T, error) {
	if r.err != nil {
		var zero T
		return zero, r.err
	}
	return *r.ev.(PT), nil
}

// requestType is the frame type of p's request.
func (p *pending) requestType() string {
	switch p.kind {
	case opEdit:
		return protocol.TypeEdit
	case opDelete:
		return protocol.TypeDelete
	case opModerate:
		return string(p.action)
	case opSlowMode:
		return protocol.TypeSlowMode
	case opReact:
		return protocol.TypeReact
	}
	return protocol.TypeMessage
}

// refused fills in re what it says about p, the request it refused.
func (p *pending) refused(re *RoomError) {
	re.Request = p.requestType()
	switch p.kind {
	case opMessage:
		re.Text = p.text
	case opEdit:
		re.Text, re.MessageID = p.text, p.id
	case opDelete:
		re.MessageID = p.id
	case opModerate:
		re.UserID = p.user
	case opReact:
		re.MessageID, re.Emoji = p.id, p.emoji
	}
}

// New checks opts and returns a client that is not connected yet: Connect
// starts it. It does no I/O; the HTTP API methods work without Connect.
func New(opts Options) (*Client, error) {
	if opts.URL == "" {
		opts.URL = DefaultURL
	}
	if opts.Room == "" {
		opts.Room = DefaultRoom
	}
	if !roomName.MatchString(opts.Room) {
		return nil, fmt.Errorf("client: invalid room name %q: use 1-64 of A-Z a-z 0-9 _ -", opts.Room)
	}
	if opts.UserID == "" && opts.Token == "" && opts.TokenFunc == nil {
		return nil, errors.New("client: a UserID is needed (or a token that names the user)")
	}
	if opts.UserID != "" {
		if rej := protocol.ValidUserID(opts.UserID); rej != nil {
			return nil, fmt.Errorf("client: %w", rej)
		}
	}
	if opts.Since < 0 {
		return nil, errors.New("client: Since must not be negative")
	}
	base, err := url.Parse(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("client: URL: %w", err)
	}
	switch base.Scheme {
	case "http", "https":
	case "ws":
		base.Scheme = "http"
	case "wss":
		base.Scheme = "https"
	default:
		return nil, fmt.Errorf("client: URL %q: want http:// or https://", opts.URL)
	}
	setDefault(&opts.EventBuffer, DefaultEventBuffer)
	setDefault(&opts.QueueSize, DefaultQueueSize)
	setDefault(&opts.PingInterval, DefaultPingInterval)
	setDefault(&opts.JoinTimeout, DefaultJoinTimeout)
	setDefault(&opts.BackoffMin, DefaultBackoffMin)
	setDefault(&opts.BackoffMax, DefaultBackoffMax)
	setDefault(&opts.WriteTimeout, DefaultWriteTimeout)
	setDefault(&opts.ReadLimit, DefaultReadLimit)
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = opts.BackoffMin
	}
	c := &Client{
		opts:   opts,
		base:   base,
		http:   opts.HTTPClient,
		dialer: opts.Dialer,
		events: make(chan Event, opts.EventBuffer),
		done:   make(chan struct{}),
		lastID: opts.Since,
		now:    time.Now,
		afterFunc: func(d time.Duration, f func()) func() bool {
			return time.AfterFunc(d, f).Stop
		},
	}
	if c.http == nil {
		// A transport of our own, so that Close can close its idle
		// connections: none of their goroutines outlive the client.
		c.http = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		c.ownHTTP = true
	}
	if c.dialer == nil {
		c.dialer = websocket.Dial
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Dial is New then Connect: a client whose first upgrade succeeded.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	c, err := New(opts)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Connect makes the first WebSocket upgrade, bounded by ctx, then joins and
// keeps the connection in the background until Close. It returns the
// upgrade's error (an *HTTPError when the server refused it) and the client
// has then ended: a server that cannot be reached at the start is reported,
// not retried. Once connected, every later failure is retried, or reported
// on Events if fatal. Connect may be called once.
func (c *Client) Connect(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		ended := c.ended
		c.mu.Unlock()
		if ended {
			return ErrClosed
		}
		return errors.New("client: Connect called twice")
	}
	c.started = true
	c.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel) // Close cancels the dial
	defer stop()
	conn, err := c.dial(ctx)
	if err == nil && c.ctx.Err() != nil {
		conn.CloseNow()
		err = ErrClosed
	}
	if err != nil {
		c.end(err, false)
		return err
	}
	go c.run(conn)
	return nil
}

// Events returns the channel every event arrives on, in order. It is closed
// when the client ends. Read it until then: see the package doc for its
// back-pressure.
func (c *Client) Events() <-chan Event { return c.events }

// Err returns the error that ended the client, nil while it runs or after a
// plain Close.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if errors.Is(c.err, ErrClosed) {
		return nil
	}
	return c.err
}

// LastID returns the highest position delivered so far (or Options.Since):
// the id of the latest Message, MessageEdited, MessageDeleted, Moderated or
// Reaction, whichever is highest, since they all take places in one
// sequence. It is the resume point of the next join, and of a later
// client's Options.Since.
func (c *Client) LastID() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastID
}

// Queued returns how many requests (sends, edits, ...) wait for a
// connection: those made while not joined and those to be checked against
// the resumed history.
func (c *Client) Queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue) + len(c.unconfirmed)
}

// Close ends the client: it closes the connection with 1000, fails the sends
// still waiting with ErrClosed, closes Events and returns once every
// goroutine of the client has ended. It is safe to call more than once.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		c.mu.Lock()
		started := c.started
		c.started = true
		c.mu.Unlock()
		if !started {
			c.end(ErrClosed, false)
		}
	})
	<-c.done
	if c.ownHTTP {
		c.http.CloseIdleConnections()
	}
	return nil
}

// end finishes the client: it fails every waiting send with err, reports it
// (waiting for the consumer when announce is set and Close has not been
// called), and closes Events. Only the goroutine that ran the events' last
// producer calls it, once.
func (c *Client) end(err error, announce bool) {
	c.mu.Lock()
	c.ended = true
	c.err = err
	c.conn = nil
	c.joined = false
	if c.readTimer != nil {
		c.readTimer()
		c.readTimer = nil
	}
	waiting := slices.Concat(c.unconfirmed, c.inflight, c.queue)
	c.unconfirmed, c.inflight, c.queue = nil, nil, nil
	c.mu.Unlock()
	for _, p := range waiting {
		p.fail(err)
	}
	if announce {
		st := &Status{State: Closed}
		if !errors.Is(err, ErrClosed) {
			st.Err = err
		}
		if c.ctx.Err() == nil {
			c.emit(st)
		} else {
			select { // Close was called: the consumer may be gone
			case c.events <- st:
			default:
			}
		}
	}
	close(c.events)
	close(c.done)
	c.cancel()
}

// Send sends text and waits until the room has stored and echoed it,
// returning the stored message, or until the room refuses it, returning a
// *RoomError. While the client is not joined the text waits in the queue
// (ErrQueueFull when it is full). If ctx ends first, a text not written yet
// is withdrawn; one already written stays in the client's care (after a
// drop it is re-sent if the room lacks it) and Send only stops waiting.
// After the client has ended, Send returns ErrClosed or the fatal error.
func (c *Client) Send(ctx context.Context, text string) (Message, error) {
	r := c.request(ctx, &pending{kind: opMessage, text: text, frame: messageFrame(text)})
	return r.msg, r.err
}

// Edit replaces the text of message id, one of this user's own, and waits
// until the room has answered: it returns the room's message_edited (the
// same event that Events delivers) or the room's refusal as a *RoomError
// (not_found, forbidden, invalid_id, message_too_long, rate_limited, ...).
// Like Send, it waits in the queue while the client is not joined, and one
// in flight when the connection drops is checked against the resume's
// changes: done, it returns that edit; not done, it is sent again; when the
// resume cannot tell (a truncated history, or one that starts over), it
// fails with ErrUnconfirmed. One still queued when the history starts over
// fails with ErrReset. If ctx ends first, Edit returns ctx's error and the
// request is forgotten: not sent if it was still queued, not sent again
// after a drop, and an answer that comes later is only an event.
func (c *Client) Edit(ctx context.Context, id int64, text string) (MessageEdited, error) {
	return answer[MessageEdited](c.request(ctx, &pending{kind: opEdit, id: id, text: text, frame: editFrame(id, text)}))
}

// Delete removes message id (this user's own; anyone's with a moderator's
// or a service's token) and waits until the room has answered: it returns
// the room's message_deleted or its refusal as a *RoomError (not_found,
// forbidden, invalid_id, ...). It waits, and is checked after a drop, as
// Edit is; a message found deleted by someone else meanwhile counts as done,
// and that deletion is returned.
func (c *Client) Delete(ctx context.Context, id int64) (MessageDeleted, error) {
	return answer[MessageDeleted](c.request(ctx, &pending{kind: opDelete, id: id, frame: deleteFrame(id)}))
}

// Moderate does a moderation action to userID, for a moderator's or a
// service's token, and waits until the room has answered: it returns the
// room's event (user_kicked, user_banned, ...) or its refusal as a
// *RoomError (forbidden without the role or on oneself, not_found for a
// kick of a user not here or an unban of one not banned, invalid_seconds,
// invalid_reason, ...). seconds is how long a Ban or a Mute lasts, 0 for
// until it is lifted, and is not sent with the other actions; reason, if
// not empty, goes with any action (the room announces it with a kick, a
// ban and a mute). It waits, and is checked after a drop, as Edit is.
func (c *Client) Moderate(ctx context.Context, action Action, userID string, seconds int64, reason string) (Moderated, error) {
	if _, ok := actionEvent[action]; !ok {
		return Moderated{}, fmt.Errorf("client: unknown moderation action %q: want kick, ban, unban, mute or unmute", action)
	}
	if action != Ban && action != Mute {
		seconds = 0
	}
	p := &pending{kind: opModerate, action: action, user: userID, seconds: seconds, reason: reason}
	p.frame = moderateFrame(action, userID, seconds, reason)
	return answer[Moderated](c.request(ctx, p))
}

// SlowMode sets the room's slow mode, for a moderator's or a service's
// token: members must then wait seconds between two messages (0 turns it
// off). It returns the room's room_settings once it says so, or the room's
// refusal as a *RoomError (forbidden, invalid_seconds). It waits as Send
// does; one in flight at a drop is done if the rejoined room has those
// settings (what it returns then has no Raw), and is sent again otherwise.
func (c *Client) SlowMode(ctx context.Context, seconds int64) (RoomSettings, error) {
	return answer[RoomSettings](c.request(ctx, &pending{kind: opSlowMode, seconds: seconds, frame: slowModeFrame(seconds)}))
}

// React toggles this user's reaction emoji on message id: the room adds it,
// or removes it when it is there already. It returns the room's reaction
// event (the same that Events delivers to everyone, with Added telling
// which way it went) or the room's refusal as a *RoomError
// (invalid_reaction, too_many_reactions, not_found, muted, rate_limited,
// ...). An emoji that is not one emoji of at most protocol.MaxEmojiBytes
// (protocol.ValidEmoji) is refused here, with a *RoomError of code
// invalid_reaction, and nothing is sent.
//
// Unlike Edit, React needs an open connection: while the client is not
// joined it returns ErrNotConnected at once, since a toggle queued for later
// may undo one made meanwhile. One in flight when the connection drops is
// looked for in the resume's changes: found, it returns it; not found, it is
// sent again; when the resume cannot tell (a truncated history, one that
// starts over, or a message after the resume point, whose reactions the
// room folds into it) it fails with ErrUnconfirmed. If ctx ends first, React
// returns ctx's error and the request is forgotten, as Edit's is. The room
// answers a rate-limited reaction at most once a second: give ctx a
// deadline.
func (c *Client) React(ctx context.Context, id int64, emoji string) (Reaction, error) {
	if !protocol.ValidEmoji(emoji) {
		return Reaction{}, &RoomError{Code: protocol.CodeInvalidReaction, Request: protocol.TypeReact, MessageID: id, Emoji: emoji,
			Message: fmt.Sprintf("a reaction is one emoji of at most %d bytes; nothing was sent", protocol.MaxEmojiBytes)}
	}
	return answer[Reaction](c.request(ctx, &pending{kind: opReact, id: id, emoji: emoji, frame: reactFrame(id, emoji)}))
}

// Typing tells the others in the room that this user is typing: call it on
// every keystroke. A frame goes out at most once per TypingInterval (calls
// in between do nothing and return nil), and the interval starts over when
// a message of this user's arrives, as it does in the room. It needs an open
// connection: while the client is not joined it returns ErrNotConnected and
// nothing is queued (a late "typing" would be wrong). The room answers
// nothing; it drops typing from a muted user and in a large room. After the
// client has ended, it returns ErrClosed or the fatal error.
func (c *Client) Typing(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	switch {
	case c.ended:
		err := c.err
		c.mu.Unlock()
		return err
	case !c.joined:
		c.mu.Unlock()
		return ErrNotConnected
	}
	now := c.now()
	if !c.typedAt.IsZero() && now.Sub(c.typedAt) < TypingInterval {
		c.mu.Unlock()
		return nil
	}
	c.typedAt = now
	conn := c.conn
	c.mu.Unlock()
	c.write(conn, []byte(typingFrame))
	return nil
}

// MarkRead says this user has read up to message id (a position LastID has
// reached). The read position only moves forward: an id at or below the
// one asked for before, or the one the room reported (ReadState, or a Read
// of this user's from another connection), does nothing. Calls are
// coalesced: at most one read frame goes out per ReadInterval, carrying the
// latest id, and one held back goes out by a timer when the interval has
// passed. While the client is not joined the id waits, and goes out after
// the rejoin unless the room's read_state shows it read already. The room
// answers nothing; the others get a Read event.
//
// An id below 1 or above LastID is refused here with a *RoomError of code
// invalid_id (the room would refuse it too), and nothing is sent. After the
// client has ended, MarkRead returns ErrClosed or the fatal error.
func (c *Client) MarkRead(ctx context.Context, id int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	switch {
	case c.ended:
		err := c.err
		c.mu.Unlock()
		return err
	case id < 1 || id > c.lastID:
		last := c.lastID
		c.mu.Unlock()
		return &RoomError{Code: protocol.CodeInvalidID, Request: protocol.TypeRead, MessageID: id,
			Message: fmt.Sprintf("id %d is not a position delivered (LastID is %d); nothing was sent", id, last)}
	case id <= max(c.readWant, c.readAcked):
		c.mu.Unlock()
		return nil
	}
	c.readWant = id
	c.mu.Unlock()
	c.flushRead()
	return nil
}

// flushRead sends the read position MarkRead asked for, unless it is no
// news to the room, the connection is not open or the join's read_state is
// still due (it goes out later), or ReadInterval has not passed since the
// last read frame (a timer sends it then).
func (c *Client) flushRead() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	id := c.readWant
	if c.ended || !c.joined || c.readStateDue.Load() || c.readTimer != nil ||
		id <= max(c.readSent, c.readAcked) || id > c.lastID {
		c.mu.Unlock()
		return
	}
	now := c.now()
	if wait := c.readAt.Add(ReadInterval).Sub(now); !c.readAt.IsZero() && wait > 0 {
		c.readTimer = c.afterFunc(wait, c.readTimerFired)
		c.mu.Unlock()
		return
	}
	c.readSent, c.readAt = id, now
	conn := c.conn
	c.mu.Unlock()
	c.write(conn, readFrame(id))
}

func (c *Client) readTimerFired() {
	c.mu.Lock()
	c.readTimer = nil
	c.mu.Unlock()
	c.flushRead()
}

// request writes p's frame now if joined, or queues it, and waits for its
// answer: see Send. A React is not queued.
func (c *Client) request(ctx context.Context, p *pending) result {
	p.done = make(chan result, 1)
	c.wmu.Lock()
	c.mu.Lock()
	switch {
	case c.ended:
		err := c.err
		c.mu.Unlock()
		c.wmu.Unlock()
		return result{err: err}
	case !c.joined && p.kind == opReact:
		c.mu.Unlock()
		c.wmu.Unlock()
		return result{err: ErrNotConnected}
	case c.joined:
		c.inflight = append(c.inflight, p)
		conn := c.conn
		c.mu.Unlock()
		c.write(conn, p.frame) // a failed write drops conn; the resume decides
		c.wmu.Unlock()
	default:
		if len(c.queue)+len(c.unconfirmed) >= c.opts.QueueSize {
			c.mu.Unlock()
			c.wmu.Unlock()
			return result{err: ErrQueueFull}
		}
		c.queue = append(c.queue, p)
		c.mu.Unlock()
		c.wmu.Unlock()
	}
	select {
	case r := <-p.done:
		return r
	case <-ctx.Done():
		c.mu.Lock()
		c.queue = slices.DeleteFunc(c.queue, func(q *pending) bool { return q == p })
		if p.kind != opMessage {
			// Forgotten: an answer that never comes (the room's frame
			// budget drops frames unanswered) must not take the answer of
			// a later request.
			c.inflight = slices.DeleteFunc(c.inflight, func(q *pending) bool { return q == p })
			c.unconfirmed = slices.DeleteFunc(c.unconfirmed, func(q *pending) bool { return q == p })
		}
		c.mu.Unlock()
		return result{err: ctx.Err()}
	}
}

func messageFrame(text string) []byte {
	return protocol.Marshal(protocol.MessageRequest{Type: protocol.TypeMessage, Text: text})
}

// The frames of the other requests, which protocol has no structs for.

func editFrame(id int64, text string) []byte { return idFrame("edit", id, "text", text) }

func deleteFrame(id int64) []byte { return idFrame("delete", id, "", "") }

// idFrame writes {"type":typ,"id":id}, with field and its string value
// when field is not empty.
func idFrame(typ string, id int64, field, value string) []byte {
	w := jwriter.Writer{NoEscapeHTML: true}
	w.RawString(`{"type":`)
	w.String(typ)
	w.RawString(`,"id":`)
	w.Int64(id)
	if field != "" {
		w.RawString(`,"` + field + `":`)
		w.String(value)
	}
	w.RawByte('}')
	b, _ := w.BuildBytes()
	return b
}

func moderateFrame(action Action, user string, seconds int64, reason string) []byte {
	w := jwriter.Writer{NoEscapeHTML: true}
	w.RawString(`{"type":`)
	w.String(string(action))
	w.RawString(`,"userId":`)
	w.String(user)
	if seconds != 0 {
		w.RawString(`,"seconds":`)
		w.Int64(seconds)
	}
	if reason != "" {
		w.RawString(`,"reason":`)
		w.String(reason)
	}
	w.RawByte('}')
	b, _ := w.BuildBytes()
	return b
}

// typingFrame is the whole typing frame.
const typingFrame = `{"type":"typing"}`

func readFrame(id int64) []byte { return idFrame("read", id, "", "") }

func reactFrame(id int64, emoji string) []byte { return idFrame("react", id, "emoji", emoji) }

func slowModeFrame(seconds int64) []byte {
	w := jwriter.Writer{NoEscapeHTML: true}
	w.RawString(`{"type":"slow_mode","seconds":`)
	w.Int64(seconds)
	w.RawByte('}')
	b, _ := w.BuildBytes()
	return b
}
