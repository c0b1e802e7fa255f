package room

import (
	"slices"
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// Message handles one inbound frame. A frame over MaxFrameBytes closes its
// socket with 1009, and the room carries on. Every frame draws on the
// connection's frame budget, whatever it holds; a socket whose token has
// expired is closed with 4001 instead.
func (r *Room) Message(h Host, s Socket, in Inbound) {
	r.load(h)
	sess, ok := r.find(h, s, false)
	if !ok {
		return
	}
	if in.Oversize || len(in.Text) > r.cfg.MaxFrameBytes {
		r.drop(h, sess, protocol.CloseMessageTooBig, "frame exceeds 1 MiB")
		return
	}
	if sess.expires > 0 && h.Now().Unix() >= sess.expires {
		r.drop(h, sess, protocol.CloseTokenExpired, "token expired")
		return
	}
	r.touch(h, sess)
	var req protocol.Request
	var rej *protocol.Reject
	if in.Binary {
		rej = protocol.Rejectf(protocol.CodeUnsupportedFrame, "binary frames are not supported; send JSON text frames")
	} else {
		req, rej = protocol.Decode(in.Text)
	}
	if !r.budget(h, sess, rej == nil && req.Type == protocol.TypeMessage) {
		return
	}
	if rej != nil {
		r.sendError(h, sess, rej)
		return
	}
	switch req.Type {
	case protocol.TypePing:
		r.send(h, sess, pongFrame)
	case protocol.TypeJoin:
		r.join(h, sess, req)
	case protocol.TypeMessage:
		r.message(h, sess, req)
	case protocol.TypeEdit:
		r.edit(h, sess, req)
	case protocol.TypeDelete:
		r.delete(h, sess, req)
	case protocol.TypeKick, protocol.TypeBan, protocol.TypeUnban, protocol.TypeMute, protocol.TypeUnmute, protocol.TypeSlowMode:
		r.moderateFrame(h, sess, req)
	case protocol.TypeTyping:
		r.typing(h, sess)
	case protocol.TypeRead:
		r.read(h, sess, req)
	case protocol.TypeReact:
		r.react(h, sess, req)
	}
}

var pongFrame = []byte(protocol.PongFrame)

// forbidden is a frame that names another user than the socket's token.
func forbidden(bound string) *protocol.Reject {
	return protocol.Rejectf(protocol.CodeForbidden, "this connection is signed in as %q and cannot act as anyone else", bound)
}

var storageError = protocol.Rejectf(protocol.CodeStorage, "the room's storage is unavailable; nothing was stored, try again")

func (r *Room) message(h Host, sess *session, req protocol.Request) {
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
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeNotJoined, `send {"type":"join","userId":...} first, or include a valid "userId" in the message`))
		return
	}
	if rej := r.checkText(req); rej != nil {
		r.sendError(h, sess, rej)
		return
	}
	// The frame is valid: only now is it charged, and to the socket's own
	// identity, the one it has joined as (implicitly, here, if need be).
	if sess.userID == "" && !r.bind(h, sess, speaker, 0, false) {
		return
	}
	if !r.mayPost(h, sess) || !r.allow(h, sess) {
		return
	}
	if _, ok := r.store(h, sess.userID, req.Text); !ok {
		r.sendError(h, sess, storageError)
	}
}

// store persists a message by author, then broadcasts it: persist before
// broadcast, so that a message nobody could get back from history is never
// shown. It reports false, and stores and sends nothing, when the storage
// fails.
func (r *Room) store(h Host, author, text string) (protocol.StoredMessage, bool) {
	if _, err := r.lastMessageID(h); err != nil {
		return protocol.StoredMessage{}, false
	}
	m := protocol.StoredMessage{ID: r.lastID + 1, UserID: author, Text: text, Timestamp: protocol.Timestamp(h.Now())}
	// Room for the fields, and for some escaping in the text.
	size := 96 + len(m.UserID) + len(m.Text) + len(m.Text)/8
	frame := protocol.ChatMessage{Type: protocol.TypeMessage, ID: m.ID, UserID: m.UserID, Text: m.Text, Timestamp: m.Timestamp}.Frame(size)
	if err := h.Store().Append(m, frame, r.cfg.KeepMessages); err != nil {
		r.lastID = -1 // read it again: the store is the truth
		return protocol.StoredMessage{}, false
	}
	r.lastID = m.ID
	r.posted(h, m.UserID)
	r.typed(m.UserID)
	r.broadcast(h, frame)
	return m, true
}

// checkText applies the text rules of a message (and of an edit): present,
// non-empty, within MaxTextChars, no control characters but newline and
// tab, no blocked word.
func (r *Room) checkText(req protocol.Request) *protocol.Reject {
	switch {
	case !req.HasText:
		return protocol.Rejectf(protocol.CodeInvalidMessage, `%s needs a "text"`, req.Type)
	case req.Text == "":
		return protocol.Rejectf(protocol.CodeInvalidMessage, `"text" must be a non-empty string`)
	}
	if rej := protocol.ValidText(req.Text, r.cfg.MaxTextChars); rej != nil {
		return rej
	}
	if controlChar(req.Text) {
		return protocol.Rejectf(protocol.CodeInvalidMessage, "text must not contain control characters other than newline and tab")
	}
	if blockedWord(req.Text, r.cfg.BlockedWords) {
		// The word is not named: a client could otherwise read out a
		// secret list one guess at a time.
		return protocol.Rejectf(protocol.CodeContentBlocked, "the message contains a blocked word and was not sent")
	}
	return nil
}

// lastMessageID is the store's highest message id, read once and then
// cached: every message moves it, and a join with since needs it.
func (r *Room) lastMessageID(h Host) (int64, error) {
	if r.lastID < 0 {
		last, err := h.Store().LastID()
		if err != nil {
			return 0, err
		}
		r.lastID = last
	}
	return r.lastID, nil
}

// budget takes one frame from the connection's frame budget.
func (r *Room) budget(h Host, sess *session, isMessage bool) bool {
	ok, wait := sess.frames.take(h.Now(), r.cfg.FramePerSecond, r.cfg.FrameBurst)
	if !ok {
		return r.refuse(h, sess, wait, isMessage, "too many frames; slow down")
	}
	if !isMessage {
		sess.rejects = 0
	}
	return true
}

// allow takes a token from the bucket of the user sess has joined as, which
// all of the user's connections share.
func (r *Room) allow(h Host, sess *session) bool {
	b := sess.bucket
	if b == nil {
		if b = r.buckets[sess.userID]; b == nil {
			b = &bucket{}
			r.buckets[sess.userID] = b
		}
		sess.bucket = b
	}
	ok, wait := b.take(h.Now(), r.cfg.RatePerSecond, r.cfg.RateBurst)
	if !ok {
		return r.refuse(h, sess, wait, true, "too many messages; slow down")
	}
	sess.rejects = 0
	return true
}

// refuse answers a frame a rate limit refused with rate_limited and the time
// until the limit lets the next one through. A refused message is always
// answered, since its sender waits for it; other frames at most once a
// second, so that a flood is not echoed. A socket refused
// CloseAfterRejects times in a row is closed with 1008: it is not listening.
func (r *Room) refuse(h Host, sess *session, wait time.Duration, isMessage bool, message string) bool {
	sess.rejects++
	if sess.rejects >= r.cfg.CloseAfterRejects {
		r.drop(h, sess, protocol.ClosePolicyViolation, "rate limit exceeded repeatedly")
		return false
	}
	if now := h.Now(); !isMessage {
		if !sess.lastRefusal.IsZero() && now.Sub(sess.lastRefusal) < time.Second {
			return false
		}
		sess.lastRefusal = now
	}
	ms := wait.Milliseconds()
	if wait > time.Duration(ms)*time.Millisecond {
		ms++
	}
	r.send(h, sess, protocol.Marshal(protocol.RateLimited{Type: protocol.TypeError, Code: protocol.CodeRateLimited,
		Message: message, RetryAfterMs: ms}))
	return false
}

// broadcast sends frame to every joined member. Members whose send fails have
// gone away; they are dropped and announced like any other leave.
func (r *Room) broadcast(h Host, frame []byte) {
	r.dropFailed(h, h.Broadcast(frame, r.memberSockets(), -1))
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

// broadcastToOthers sends frame to every member but user's own sockets: a
// user's live signals go to the other users, never back to any of the
// user's tabs. When sess is the user's only connection, it is
// broadcastExcept: no list is copied or handed over again (typing and read
// markers come often); with several tabs (or none: sess nil) a list is
// built without them.
func (r *Room) broadcastToOthers(h Host, frame []byte, user string, sess *session) {
	if sess != nil && sess.userID == user && r.presence[user] == 1 {
		r.broadcastExcept(h, frame, sess)
		return
	}
	to := make([]Socket, 0, len(r.sessions))
	for _, other := range r.sorted() {
		if other.userID != "" && other.userID != user {
			to = append(to, other.sock)
		}
	}
	r.dropFailed(h, h.Broadcast(frame, to, -1))
}

// broadcastExcept is broadcast without one session's socket: the cached
// list with its index left out, as the host skips it.
func (r *Room) broadcastExcept(h Host, frame []byte, except *session) {
	members := r.memberSockets()
	r.dropFailed(h, h.Broadcast(frame, members, slices.Index(members, except.sock)))
}

func (r *Room) dropFailed(h Host, failed []Socket) {
	for _, s := range failed {
		if sess, ok := r.bySocket(s); ok {
			r.drop(h, sess, protocol.CloseGoingAway, "send failed")
		}
	}
}

func (r *Room) send(h Host, sess *session, frame []byte) {
	if sess.sock.Send(frame) != nil {
		r.drop(h, sess, protocol.CloseGoingAway, "send failed")
	}
}

func (r *Room) sendError(h Host, sess *session, rej *protocol.Reject) {
	frame := protocol.Marshal(protocol.ErrorFrame{Type: protocol.TypeError, Code: rej.Code, Message: rej.Message})
	r.send(h, sess, frame)
}
