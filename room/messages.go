package room

import (
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// Message handles one inbound frame. A frame over MaxFrameBytes closes its
// socket with 1009, and the room carries on.
func (r *Room) Message(h Host, s Socket, in Inbound) {
	r.load(h)
	sess, ok := r.find(h, s)
	if !ok {
		return
	}
	if in.Oversize || len(in.Text) > r.cfg.MaxFrameBytes {
		r.drop(h, sess, protocol.CloseMessageTooBig, "frame exceeds 1 MiB")
		return
	}
	r.touch(h, sess)
	if in.Binary {
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeUnsupportedFrame, "binary frames are not supported; send JSON text frames"))
		return
	}
	req, rej := protocol.Decode(in.Text)
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
	if !r.allow(h, sess, speaker) {
		return
	}
	switch {
	case !req.HasText:
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeInvalidMessage, `message needs a "text"`))
		return
	case req.Text == "":
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeInvalidMessage, `"text" must be a non-empty string`))
		return
	}
	if rej := protocol.ValidText(req.Text, r.cfg.MaxTextChars); rej != nil {
		r.sendError(h, sess, rej)
		return
	}
	if controlChar(req.Text) {
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeInvalidMessage, "text must not contain control characters other than newline and tab"))
		return
	}
	if w, ok := blockedWord(req.Text, r.cfg.BlockedWords); ok {
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeContentBlocked, "the message contains a blocked word (%q) and was not sent", w))
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
	m := protocol.StoredMessage{ID: r.lastID + 1, UserID: sess.userID, Text: req.Text, Timestamp: protocol.Timestamp(h.Now())}
	// Room for the fields, and for some escaping in the text.
	size := 96 + len(m.UserID) + len(m.Text) + len(m.Text)/8
	frame := protocol.ChatMessage{Type: protocol.TypeMessage, ID: m.ID, UserID: m.UserID, Text: m.Text, Timestamp: m.Timestamp}.Frame(size)
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
		r.drop(h, sess, protocol.ClosePolicyViolation, "rate limit exceeded repeatedly")
		return false
	}
	ms := wait.Milliseconds()
	if wait > time.Duration(ms)*time.Millisecond {
		ms++
	}
	frame := protocol.Marshal(protocol.RateLimited{Type: protocol.TypeError, Code: protocol.CodeRateLimited,
		Message: "too many messages; slow down", RetryAfterMs: ms})
	r.send(h, sess, frame)
	return false
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
