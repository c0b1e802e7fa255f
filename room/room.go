// Package room is the chat room as plain Go: the wire protocol, its
// validation, presence, and what to send, persist and close for each event.
//
// A Room never talks to the Workers runtime directly. The worker hands it a
// Host (the accepted sockets, the clock and the fan-out) with every event, and
// the Room answers through the Socket and Host interfaces. All state the Room
// keeps in memory is a cache: it is rebuilt from the sockets' attachments
// whenever the runtime may have evicted the object, and gives the same answers
// either way.
package room

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"time"
)

// Socket is one accepted WebSocket as the room sees it.
type Socket interface {
	// Send sends one text frame. It fails when the peer is gone.
	Send(frame []byte) error
	// Close starts or completes the closing handshake.
	Close(code int, reason string) error
	// Attachment returns what SetAttachment stored, or nil if nothing was.
	Attachment() ([]byte, error)
	// SetAttachment stores a small value that survives hibernation.
	SetAttachment(data []byte) error
	// Tag returns what SetTag stored on this socket object, or 0. Unlike the
	// attachment it is lost when the object is evicted; it saves decoding
	// the attachment on every frame.
	Tag() uint64
	SetTag(tag uint64)
}

// Host is the runtime around a room for the duration of one event.
type Host interface {
	// Sockets returns every accepted socket that is open or closing.
	Sockets() []Socket
	// Broadcast sends one text frame to every socket in to, in one call to the
	// runtime, and returns the sockets whose send failed.
	Broadcast(frame []byte, to []Socket) []Socket
	// Now is the time of the current event.
	Now() time.Time
	// Store is the room's durable message history.
	Store() Store
	// SetAlarm schedules the room's single alarm; DeleteAlarm cancels it.
	SetAlarm(at time.Time)
	DeleteAlarm()
	// EnsureAlarm schedules the alarm at at unless one is already set no
	// later; it need not take effect before the event ends.
	EnsureAlarm(at time.Time)
	// AutoResponseAt is when the runtime last answered s's exact ping on
	// the room's behalf, or the zero time.
	AutoResponseAt(s Socket) time.Time
}

// Store is the room's message history. Writes are durable once the event
// that made them ends; the runtime holds back every frame the event sent
// until then, so nobody sees a message that could still be lost.
type Store interface {
	// Append stores m, whose id is one above the last stored, and prunes all
	// but the latest keep messages. frame is m's broadcast frame (the JSON
	// of a ChatMessage), which a store may persist from instead of m's
	// fields. On error nothing is stored.
	Append(m StoredMessage, frame []byte, keep int) error
	// After returns the latest limit messages with an id above since, oldest
	// first, and whether more such messages were left out. Ids have no gaps:
	// an Append that fails uses none.
	After(since int64, limit int) ([]StoredMessage, bool, error)
	// LastID is the highest id stored, or 0.
	LastID() (int64, error)
}

// Close codes the room uses.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
	CloseInternal        = 1011
)

// Config holds the room's tunables. The zero value is not useful; start from
// DefaultConfig.
type Config struct {
	// MaxTextChars bounds a message's text, in Unicode characters, so that a
	// single message stays readable and cheap to fan out.
	MaxTextChars int
	// MaxFrameBytes bounds an inbound frame; larger ones close the socket with
	// 1009, the protocol's message-too-big code.
	MaxFrameBytes int
	// KeepMessages is how many of the latest messages a room stores; older
	// ones are pruned so that a room's storage stays bounded.
	KeepMessages int
	// JoinHistory is how many of the latest messages a joining socket gets,
	// enough to follow the conversation.
	JoinHistory int
	// MaxResume bounds the history sent for a join with "since" (and one page
	// of the HTTP API), so that one frame stays a few hundred KiB at most.
	MaxResume int
	// RateBurst and RatePerSecond shape each user's token bucket, shared by
	// all of the user's connections in the room: bursts of chat pass, floods
	// do not.
	RateBurst     int
	RatePerSecond float64
	// CloseAfterRejects closes a socket with 1008 once this many of its
	// messages in a row were rate limited: it is not listening.
	CloseAfterRejects int
	// BlockedWords are rejected with content_blocked, matched
	// case-insensitively on word boundaries. Lower case.
	BlockedWords []string
	// IdleTimeout closes a connection that has sent nothing for this long,
	// with 1000 "idle timeout"; zero disables it.
	IdleTimeout time.Duration
	// MaxConnections is the most sockets a room accepts; the next upgrade
	// gets 503 room_full.
	MaxConnections int
	// PresenceLimit is the most distinct users for which joins and leaves
	// are announced to everyone. Above it a join storm would cost a send to
	// every member per join (quadratic), so the room goes quiet: a joiner
	// hears only its own user_joined and a roster summary with the count, the
	// full roster is GET /api/rooms/{room}, and one presence frame goes to all
	// when the room crosses the limit either way.
	PresenceLimit int
}

// DefaultConfig is the configuration the worker runs with unless told otherwise.
func DefaultConfig() Config {
	return Config{
		MaxTextChars:      4096,
		MaxFrameBytes:     1 << 20,
		KeepMessages:      1000,
		JoinHistory:       50,
		MaxResume:         500,
		RateBurst:         10,
		RatePerSecond:     5,
		CloseAfterRejects: 50,
		IdleTimeout:       600 * time.Second,
		MaxConnections:    10000,
		PresenceLimit:     500,
	}
}

// session is one accepted socket and its identity.
type session struct {
	sid  uint64
	sock Socket
	// userID is the joined identity, empty until the socket joins.
	userID string
	// bound is the identity a verified token gave the socket at accept;
	// empty in open mode. A bound socket can only ever be that user.
	bound string
	// active is the last second the socket sent anything, rounded up, as
	// its attachment keeps it.
	active int64
	// rejects counts the socket's rate-limited messages in a row.
	rejects int
	// bucket is the rate limit of bucketOf, the user this socket last spoke
	// as: a message then costs no lookup by name. The room's buckets map
	// stays the owner; buckets are never replaced while the cache lives.
	bucket   *bucket
	bucketOf string
}

func (s *session) attachment(gone bool) Attachment {
	return Attachment{SID: s.sid, UserID: s.userID, Bound: s.bound, Active: s.active, Gone: gone}
}

// Room is one chat room. Its fields are a cache over the sockets'
// attachments; see Reset.
type Room struct {
	cfg Config

	loaded   bool
	sessions map[uint64]*session
	// presence counts the open joined connections of each user.
	presence map[string]int
	nextSID  uint64
	// members caches the sockets of joined sessions for fan-out; nil when stale.
	members []Socket
	// buckets are the users' rate limits; see bucket for why memory is enough.
	buckets map[string]*bucket
	// epoch is random per rebuild and goes into every socket tag, so that a
	// tag set before a rebuild never matches a session after it.
	epoch uint64
	// lastID caches the store's highest message id; -1 until read.
	lastID int64
}

// New returns a room with the given configuration and nothing cached.
func New(cfg Config) *Room {
	return &Room{cfg: cfg}
}

// Reset drops everything cached. The worker calls it when the runtime
// constructs the object again, which means it may have been evicted.
func (r *Room) Reset() {
	*r = Room{cfg: r.cfg}
}

// Empty reports whether the room holds no session, so its cache can go.
func (r *Room) Empty() bool { return r.loaded && len(r.sessions) == 0 }

// load rebuilds the cache from the host's sockets and their attachments, as
// cloudflare/workers-chat-demo does on every wake, and re-arms the idle alarm
// at the earliest expiry it finds.
func (r *Room) load(h Host) { r.loadAndEnsureAlarm(h, true) }

func (r *Room) loadAndEnsureAlarm(h Host, ensure bool) {
	if r.loaded {
		return
	}
	r.loaded = true
	sockets := h.Sockets()
	// Sized for the sockets found, so that a wake of a large room does not
	// grow its maps step by step.
	r.sessions = make(map[uint64]*session, len(sockets))
	r.presence = make(map[string]int, len(sockets))
	r.buckets = make(map[string]*bucket)
	r.members = nil
	r.nextSID = 1
	r.lastID = -1
	r.epoch = (rand.Uint64N(1<<20) + 1) << tagSIDBits
	for _, s := range sockets {
		att, ok := readAttachment(s)
		if !ok || att.Gone {
			continue
		}
		if _, dup := r.sessions[att.SID]; dup {
			continue
		}
		r.adopt(s, att)
	}
	if ensure && len(r.sessions) > 0 {
		// The alarm set before the eviction is still there; this only
		// repairs a missing one, without a write on every wake (a write
		// holds back the event's frames until it is durable). Attachments
		// alone give expiries no later than the real ones (an exact ping
		// answered by the runtime can only postpone them), so the alarm may
		// come early, never late, and Alarm looks closer.
		r.scheduleBy(h, false)
	}
}

// adopt caches a session known from its attachment.
func (r *Room) adopt(s Socket, att Attachment) *session {
	sess := &session{sid: att.SID, sock: s, userID: att.UserID, bound: att.Bound, active: att.Active}
	r.sessions[att.SID] = sess
	if att.UserID != "" {
		r.presence[att.UserID]++
		r.members = nil
	}
	if att.SID >= r.nextSID {
		r.nextSID = att.SID + 1
	}
	return sess
}

// Predecoded is a Socket that can hand over its attachment already decoded:
// a host that read a whole room's attachments in one piece (Attachments)
// spares the room decoding each socket's own. It answers ok false when it has
// nothing to hand over; it hands over only what it read, once, since the
// attachment may change after.
type Predecoded interface {
	Predecoded() (att *Attachment, ok bool)
}

func readAttachment(s Socket) (Attachment, bool) {
	var att Attachment
	if p, ok := s.(Predecoded); ok {
		if pre, ok := p.Predecoded(); ok {
			if pre == nil || pre.SID == 0 {
				return att, false
			}
			return *pre, true
		}
	}
	data, err := s.Attachment()
	if err != nil || len(data) == 0 {
		return att, false
	}
	if unmarshal(data, &att) != nil || att.SID == 0 {
		return att, false
	}
	return att, true
}

func writeAttachment(s Socket, att Attachment) error {
	data, err := marshal(att)
	if err != nil {
		return err
	}
	return s.SetAttachment(data)
}

// Full reports whether the room is at MaxConnections; the worker answers the
// upgrade with 503 room_full instead of accepting it.
func (r *Room) Full(h Host) bool {
	r.load(h)
	return len(r.sessions) >= r.cfg.MaxConnections
}

// Accept registers a socket the runtime has just accepted. bound is the
// verified identity of a protected room's token, or "" in open mode.
func (r *Room) Accept(h Host, s Socket, bound string) error {
	r.load(h)
	sess := &session{sid: r.nextSID, sock: s, bound: bound, active: ceilSecond(h.Now())}
	r.nextSID++
	if err := writeAttachment(s, sess.attachment(false)); err != nil {
		return err
	}
	r.sessions[sess.sid] = sess
	// Tagged now, so that its first frame finds the session without reading
	// the attachment back.
	s.SetTag(r.epoch | sess.sid)
	if len(r.sessions) == 1 {
		r.schedule(h)
	}
	return nil
}

// tagSIDBits is how many low bits of a socket tag hold the session id; the
// bits above hold the epoch. Tags stay below 2^53, exact as a JS number.
const tagSIDBits = 32

// find returns the session of the socket an event arrived on: by its tag
// when it carries this rebuild's, else from its attachment.
func (r *Room) find(h Host, s Socket) (*session, bool) {
	if tag := s.Tag(); tag&^(1<<tagSIDBits-1) == r.epoch {
		if sess, ok := r.sessions[tag&(1<<tagSIDBits-1)]; ok {
			// The session's socket is the same runtime object as s; keeping
			// it spares the host handing over s at all.
			return sess, true
		}
	}
	sess, ok := r.findByAttachment(h, s)
	if ok {
		s.SetTag(r.epoch | sess.sid)
	}
	return sess, ok
}

func (r *Room) findByAttachment(h Host, s Socket) (*session, bool) {
	att, ok := readAttachment(s)
	if !ok {
		// Not ours, or its attachment was lost: give it a fresh session so
		// that it can still join.
		sess := &session{sid: r.nextSID, sock: s, active: ceilSecond(h.Now())}
		r.nextSID++
		if writeAttachment(s, sess.attachment(false)) != nil {
			return nil, false
		}
		r.sessions[sess.sid] = sess
		return sess, true
	}
	if att.Gone {
		return nil, false
	}
	if sess, ok := r.sessions[att.SID]; ok {
		sess.sock = s
		return sess, true
	}
	return r.adopt(s, att), true
}

// touch records that the socket sent something. The attachment keeps whole
// seconds, rounded up, so it is written at most once a second per socket and
// an idle close is never early.
func (r *Room) touch(h Host, sess *session) {
	if sec := ceilSecond(h.Now()); sec > sess.active {
		sess.active = sec
		_ = writeAttachment(sess.sock, sess.attachment(false))
	}
}

func ceilSecond(t time.Time) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return sec
}

// KeepMessages is the configured number of stored messages.
func (r *Room) KeepMessages() int { return r.cfg.KeepMessages }

// MaxFrameBytes is the configured frame limit, for hosts that can tell a
// frame's size before copying it.
func (r *Room) MaxFrameBytes() int { return r.cfg.MaxFrameBytes }

// TooBig handles a frame the host found larger than MaxFrameBytes without
// reading it: the socket is closed with 1009 and the room carries on.
func (r *Room) TooBig(h Host, s Socket) {
	r.load(h)
	if sess, ok := r.find(h, s); ok {
		r.drop(h, sess, CloseMessageTooBig, "frame exceeds 1 MiB")
	}
}

// Message handles one inbound frame. binary tells a binary frame from text.
func (r *Room) Message(h Host, s Socket, data []byte, binary bool) {
	r.load(h)
	sess, ok := r.find(h, s)
	if !ok {
		return
	}
	if len(data) > r.cfg.MaxFrameBytes {
		r.drop(h, sess, CloseMessageTooBig, "frame exceeds 1 MiB")
		return
	}
	r.touch(h, sess)
	if binary {
		r.sendError(h, sess, reject(CodeUnsupportedFrame, "binary frames are not supported; send JSON text frames"))
		return
	}
	req, rej := Decode(data)
	if rej != nil {
		r.sendError(h, sess, rej)
		return
	}
	switch req.Type {
	case TypePing:
		r.send(h, sess, pongFrame)
	case TypeJoin:
		r.join(h, sess, req)
	case TypeMessage:
		r.message(h, sess, req)
	}
}

var pongFrame = []byte(PongFrame)

// forbidden is a frame that names another user than the socket's token.
func forbidden(bound string) *Reject {
	return reject(CodeForbidden, "this connection is signed in as %q and cannot act as anyone else", bound)
}

func (r *Room) join(h Host, sess *session, req Request) {
	userID := req.UserID
	switch {
	case sess.bound != "" && (!req.HasUserID || (req.UserIDErr == nil && req.UserID == sess.bound)):
		userID = sess.bound // a signed-in socket may omit its userId
	case sess.bound != "":
		r.sendError(h, sess, forbidden(sess.bound))
		return
	case !req.HasUserID:
		r.sendError(h, sess, reject(CodeInvalidUserID, `join needs a "userId"`))
		return
	case req.UserIDErr != nil:
		r.sendError(h, sess, req.UserIDErr)
		return
	}
	switch {
	case sess.userID == userID:
		// Joining again as the same user is a no-op by design.
	case sess.userID != "":
		r.sendError(h, sess, reject(CodeAlreadyJoined, "this connection already joined as %q", sess.userID))
	case req.SinceErr != nil:
		r.sendError(h, sess, req.SinceErr)
	default:
		if req.HasSince {
			last, err := h.Store().LastID()
			if err != nil {
				r.sendError(h, sess, storageError)
				return
			}
			if req.Since > last {
				r.sendError(h, sess, reject(CodeInvalidSince, "since %d is ahead of this room's last message id %d; join without since", req.Since, last))
				return
			}
		}
		r.bind(h, sess, userID, req.Since, req.HasSince)
	}
}

var storageError = reject(CodeStorage, "the room's storage is unavailable; nothing was stored, try again")

func (r *Room) message(h Host, sess *session, req Request) {
	// Who is speaking: the joined identity, else the token's, else the
	// frame's userId (the seed's message-first quick test).
	speaker := sess.userID
	switch {
	case sess.bound != "" && req.HasUserID && req.UserID != sess.bound:
		r.sendError(h, sess, forbidden(sess.bound))
		return
	case speaker != "":
	case sess.bound != "":
		speaker = sess.bound
	case req.HasUserID && req.UserIDErr == nil:
		speaker = req.UserID
	default:
		r.sendError(h, sess, reject(CodeNotJoined, `send {"type":"join","userId":...} first, or include a valid "userId" in the message`))
		return
	}
	if !r.allow(h, sess, speaker) {
		return
	}
	switch {
	case !req.HasText:
		r.sendError(h, sess, reject(CodeInvalidMessage, `message needs a "text"`))
		return
	case req.Text == "":
		r.sendError(h, sess, reject(CodeInvalidMessage, `"text" must be a non-empty string`))
		return
	}
	if rej := validText(req.Text, r.cfg.MaxTextChars); rej != nil {
		r.sendError(h, sess, rej)
		return
	}
	if controlChar(req.Text) {
		r.sendError(h, sess, reject(CodeInvalidMessage, "text must not contain control characters other than newline and tab"))
		return
	}
	if w, ok := blockedWord(req.Text, r.cfg.BlockedWords); ok {
		r.sendError(h, sess, reject(CodeContentBlocked, "the message contains a blocked word (%q) and was not sent", w))
		return
	}
	if sess.userID == "" && !r.bind(h, sess, speaker, 0, false) {
		return
	}
	// Persist before broadcast: a message nobody could get back from
	// history is never shown.
	if r.lastID < 0 {
		last, err := h.Store().LastID()
		if err != nil {
			r.sendError(h, sess, storageError)
			return
		}
		r.lastID = last
	}
	m := StoredMessage{ID: r.lastID + 1, UserID: sess.userID, Text: req.Text, Timestamp: Timestamp(h.Now())}
	// Room for the fields, and for some escaping in the text.
	size := 96 + len(m.UserID) + len(m.Text) + len(m.Text)/8
	frame := ChatMessage{Type: TypeMessage, ID: m.ID, UserID: m.UserID, Text: m.Text, Timestamp: m.Timestamp}.frame(size)
	if err := h.Store().Append(m, frame, r.cfg.KeepMessages); err != nil {
		r.lastID = -1 // read it again: the store is the truth
		r.sendError(h, sess, storageError)
		return
	}
	r.lastID = m.ID
	r.broadcast(h, frame)
}

// allow takes a token from the speaker's bucket. A rejected message is
// answered with rate_limited and the time until the next token; a socket
// that keeps sending into a full bucket is closed with 1008.
func (r *Room) allow(h Host, sess *session, speaker string) bool {
	b := sess.bucket
	if b == nil || sess.bucketOf != speaker {
		if b = r.buckets[speaker]; b == nil {
			b = &bucket{}
			r.buckets[speaker] = b
		}
		sess.bucket, sess.bucketOf = b, speaker
	}
	ok, wait := b.take(h.Now(), r.cfg.RatePerSecond, r.cfg.RateBurst)
	if ok {
		sess.rejects = 0
		return true
	}
	sess.rejects++
	if sess.rejects >= r.cfg.CloseAfterRejects {
		r.drop(h, sess, ClosePolicyViolation, "rate limit exceeded repeatedly")
		return false
	}
	ms := wait.Milliseconds()
	if wait > time.Duration(ms)*time.Millisecond {
		ms++
	}
	frame, _ := marshal(RateLimited{Type: TypeError, Code: CodeRateLimited,
		Message: "too many messages; slow down", RetryAfterMs: ms})
	r.send(h, sess, frame)
	return false
}

// bind makes sess a joined member as userID and announces it: to the joining
// socket always, to the others only when this is the user's first connection.
// The joining socket then gets the roster and the history: the latest
// messages, or with a resume point everything after it (up to MaxResume).
func (r *Room) bind(h Host, sess *session, userID string, since int64, resume bool) bool {
	sess.userID = userID
	if err := writeAttachment(sess.sock, sess.attachment(false)); err != nil {
		sess.userID = ""
		r.sendError(h, sess, reject(CodeInvalidUserID, "could not record the identity; try again"))
		return false
	}
	r.presence[userID]++
	r.members = nil
	frame, _ := marshal(UserJoined{Type: TypeUserJoined, UserID: userID, Timestamp: Timestamp(h.Now())})
	switch first := r.presence[userID] == 1; {
	case first && len(r.presence) == r.cfg.PresenceLimit+1:
		// The room just became large: one summary tells everyone else the
		// roster stops updating per user; the joiner gets it below.
		r.broadcastExcept(h, r.presenceFrame(), sess)
		r.send(h, sess, frame)
	case first && !r.large():
		r.broadcast(h, frame)
	default:
		r.send(h, sess, frame)
	}
	r.send(h, sess, r.presenceFrame())
	limit := r.cfg.JoinHistory
	if resume {
		limit = r.cfg.MaxResume
	}
	msgs, truncated, err := window(h.Store(), since, limit)
	if err != nil {
		r.sendError(h, sess, storageError)
		return true
	}
	history, _ := marshal(History{Type: TypeHistory, Messages: nonNil(msgs), Truncated: truncated})
	r.send(h, sess, history)
	return true
}

// window reads the history after since. It is truncated when more messages
// than limit followed since, or when some that did were already pruned: ids
// have no gaps, so a first id above since+1 means messages were lost to the
// reader.
func window(s Store, since int64, limit int) ([]StoredMessage, bool, error) {
	msgs, more, err := s.After(since, limit)
	if err != nil {
		return nil, false, err
	}
	return msgs, more || (len(msgs) > 0 && msgs[0].ID > since+1), nil
}

// large reports whether the room is past PresenceLimit distinct users.
func (r *Room) large() bool { return len(r.presence) > r.cfg.PresenceLimit }

// presenceFrame is the roster: every user in a small room, the count alone in
// a large one.
func (r *Room) presenceFrame() []byte {
	var frame []byte
	if r.large() {
		frame, _ = marshal(PresenceSummary{Type: TypePresence, Users: []string{}, Count: len(r.presence), Truncated: true})
	} else {
		frame, _ = marshal(Presence{Type: TypePresence, Users: r.Users()})
	}
	return frame
}

// Users returns the distinct joined users, sorted.
func (r *Room) Users() []string {
	users := make([]string, 0, len(r.presence))
	for u := range r.presence {
		users = append(users, u)
	}
	slices.Sort(users)
	return users
}

func nonNil(m []StoredMessage) []StoredMessage {
	if m == nil {
		return []StoredMessage{}
	}
	return m
}

// Close handles the runtime's close event for a socket: it completes the
// handshake and, if this was the user's last connection, announces user_left.
func (r *Room) Close(h Host, s Socket, code int, reason string) {
	r.load(h)
	if sess, ok := r.find(h, s); ok {
		r.leave(h, sess)
	}
	_ = s.Close(reciprocalCode(code), reason)
}

// Error handles the runtime's error event; the socket is unusable, so it is
// treated as an abrupt close.
func (r *Room) Error(h Host, s Socket) {
	r.load(h)
	if sess, ok := r.find(h, s); ok {
		r.leave(h, sess)
	}
	_ = s.Close(CloseInternal, "websocket error")
}

// Alarm closes every connection idle for IdleTimeout, with 1000 "idle
// timeout" (their users' user_left goes out as for any leave), then sets the
// alarm again at the earliest expiry left. Exact pings answered by the
// runtime count as activity.
func (r *Room) Alarm(h Host) {
	r.loadAndEnsureAlarm(h, false) // this sets the alarm itself, below
	if r.cfg.IdleTimeout > 0 {
		now := h.Now()
		for _, sess := range r.sorted() {
			if !now.Before(r.expiry(h, sess, true)) {
				r.drop(h, sess, CloseNormal, "idle timeout")
			}
		}
	}
	r.schedule(h)
}

// expiry is when sess becomes idle; with auto false, going by its own
// frames only, which is never later.
func (r *Room) expiry(h Host, sess *session, auto bool) time.Time {
	last := time.Unix(sess.active, 0)
	if !auto {
		return last.Add(r.cfg.IdleTimeout)
	}
	if auto := h.AutoResponseAt(sess.sock); !auto.IsZero() {
		if a := time.Unix(ceilSecond(auto), 0); a.After(last) {
			last = a
		}
	}
	return last.Add(r.cfg.IdleTimeout)
}

// schedule sets the alarm at the earliest expiry, or deletes it when no
// socket is left. Activity only moves expiries later, so an alarm set here
// never fires late; one that fires early just schedules again.
func (r *Room) schedule(h Host) { r.scheduleBy(h, true) }

// scheduleBy is schedule; with auto false (a rebuild) it goes by the
// attachments alone and only ensures an alarm.

func (r *Room) scheduleBy(h Host, auto bool) {
	if r.cfg.IdleTimeout <= 0 {
		return
	}
	if len(r.sessions) == 0 {
		h.DeleteAlarm()
		return
	}
	var first time.Time
	for _, sess := range r.sessions {
		if e := r.expiry(h, sess, auto); first.IsZero() || e.Before(first) {
			first = e
		}
	}
	if !auto {
		h.EnsureAlarm(first)
		return
	}
	h.SetAlarm(first)
}

// sorted returns the sessions in accept order, for deterministic sweeps.
func (r *Room) sorted() []*session {
	out := make([]*session, 0, len(r.sessions))
	for _, s := range r.sessions {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *session) int { return cmp.Compare(a.sid, b.sid) })
	return out
}

// drop closes a socket from the server side and says goodbye for it.
func (r *Room) drop(h Host, sess *session, code int, reason string) {
	r.leave(h, sess)
	_ = sess.sock.Close(code, reason)
}

// leave forgets a session, marks its socket so that no later event announces
// it again, and sends user_left if its user has no connection left. The last
// socket to go takes the idle alarm with it.
func (r *Room) leave(h Host, sess *session) {
	if r.sessions[sess.sid] != sess {
		return // already gone
	}
	delete(r.sessions, sess.sid)
	_ = writeAttachment(sess.sock, sess.attachment(true))
	if len(r.sessions) == 0 && r.cfg.IdleTimeout > 0 {
		h.DeleteAlarm()
	}
	if sess.userID == "" {
		return
	}
	r.members = nil
	r.presence[sess.userID]--
	if r.presence[sess.userID] > 0 {
		return
	}
	delete(r.presence, sess.userID)
	switch {
	case len(r.presence) == r.cfg.PresenceLimit:
		// Small again: the full roster, once, and per-user frames from now on.
		r.broadcast(h, r.presenceFrame())
	case !r.large():
		frame, _ := marshal(UserLeft{Type: TypeUserLeft, UserID: sess.userID, Timestamp: Timestamp(h.Now())})
		r.broadcast(h, frame)
	}
}

// reciprocalCode is the code to answer a peer's close with. 1005 (no code)
// and 1006 (abnormal) are reserved for reporting and cannot be sent, and
// neither can codes outside the ranges a peer may use.
func reciprocalCode(code int) int {
	switch {
	case code == 1005 || code == 1006 || code == 1015:
		return CloseNormal
	case code >= 1000 && code <= 1014, code >= 3000 && code <= 4999:
		return code
	default:
		return CloseNormal
	}
}

// broadcast sends frame to every joined member. Members whose send fails have
// gone away; they are dropped and announced like any other leave.
func (r *Room) broadcast(h Host, frame []byte) {
	r.dropFailed(h, h.Broadcast(frame, r.memberSockets()))
}

// memberSockets is the joined members' sockets in accept order, cached until
// membership changes.
func (r *Room) memberSockets() []Socket {
	if r.members == nil {
		r.members = make([]Socket, 0, len(r.sessions))
		for _, sess := range r.sorted() {
			if sess.userID != "" {
				r.members = append(r.members, sess.sock)
			}
		}
	}
	return r.members
}

// broadcastExcept is broadcast without one session; it is rare (a room
// crossing PresenceLimit), so it copies the member list.
func (r *Room) broadcastExcept(h Host, frame []byte, except *session) {
	members := r.memberSockets()
	to := make([]Socket, 0, len(members))
	for _, s := range members {
		if s != except.sock {
			to = append(to, s)
		}
	}
	r.dropFailed(h, h.Broadcast(frame, to))
}

func (r *Room) dropFailed(h Host, failed []Socket) {
	for _, s := range failed {
		if sess, ok := r.bySocket(s); ok {
			r.drop(h, sess, CloseGoingAway, "send failed")
		}
	}
}

func (r *Room) bySocket(s Socket) (*session, bool) {
	att, ok := readAttachment(s)
	if !ok || att.Gone {
		return nil, false
	}
	sess, ok := r.sessions[att.SID]
	return sess, ok
}

func (r *Room) send(h Host, sess *session, frame []byte) {
	if sess.sock.Send(frame) != nil {
		r.drop(h, sess, CloseGoingAway, "send failed")
	}
}

func (r *Room) sendError(h Host, sess *session, rej *Reject) {
	frame, _ := marshal(ErrorFrame{Type: TypeError, Code: rej.Code, Message: rej.Message})
	r.send(h, sess, frame)
}
