package room

import (
	"slices"
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// ReadCoalesce is how often a user's read marker goes to the others at
// most: markers move with every message scrolled past, and one a second
// keeps them current without a frame per message. The last position of a
// burst is never lost: the alarm sends it, from storage, so an eviction in
// between loses nothing either.
const ReadCoalesce = time.Second

// signals is the memory of the live signals in this life of the object,
// bounded by the joined users (each entry goes with the user's last
// connection): when each last had a typing frame forwarded, and each read
// marker as storage has it. Losing it to an eviction costs at most one
// typing frame forwarded early; the markers are read again.
type signals struct {
	typedAt map[string]time.Time
	reads   map[string]ReadMarker
}

func (r *Room) sig() *signals {
	if r.signals == nil {
		r.signals = &signals{typedAt: map[string]time.Time{}, reads: map[string]ReadMarker{}}
	}
	return r.signals
}

// forgetSignals drops what the signals keep of a user who left.
func (r *Room) forgetSignals(user string) {
	if r.signals != nil {
		delete(r.signals.typedAt, user)
		delete(r.signals.reads, user)
	}
}

// typed ends user's typing throttle: their message ends their typing on
// every client, so their next typing frame goes out at once.
func (r *Room) typed(user string) {
	if r.signals != nil {
		delete(r.signals.typedAt, user)
	}
}

// typing forwards that the sender is typing to every other user's sockets
// (never to the typer's own tabs): at most
// one a TypingInterval per user (the rest are dropped without a word; they
// drew on the frame budget already), never stored, never in a large room.
func (r *Room) typing(h Host, sess *session) {
	if sess.userID == "" {
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeNotJoined, "join before you type"))
		return
	}
	if r.large() || r.muted(h, sess, false) {
		return // a muted user's typing would promise a message that cannot come
	}
	s, now := r.sig(), h.Now()
	if last, ok := s.typedAt[sess.userID]; ok && now.Sub(last) < r.cfg.TypingInterval {
		return
	}
	s.typedAt[sess.userID] = now
	r.broadcastToOthers(h, protocol.Marshal(protocol.Typing{Type: protocol.TypeTyping, UserID: sess.userID}), sess.userID, sess)
}

// marker is user's read marker, from memory or storage.
func (r *Room) marker(h Host, user string) (ReadMarker, error) {
	s := r.sig()
	if m, ok := s.reads[user]; ok {
		return m, nil
	}
	m, err := h.Store().ReadMarker(user)
	if err != nil {
		return ReadMarker{}, err
	}
	s.reads[user] = m
	return m, nil
}

// read records how far the sender's user has read (all their tabs): it only
// moves forward (an older id is no news and gets no answer), it is stored,
// and the other users hear of it at once, or, within ReadCoalesce of the
// last they heard, from the alarm when it has passed (the latest id wins).
// Not in a large room.
func (r *Room) read(h Host, sess *session, req protocol.Request) {
	if !r.changeAllowed(h, sess, req) {
		return
	}
	last, err := r.lastMessageID(h)
	if err != nil {
		r.sendError(h, sess, storageError)
		return
	}
	if req.ID > last {
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeInvalidID, "id %d is ahead of this room's last position %d", req.ID, last))
		return
	}
	m, err := r.marker(h, sess.userID)
	if err != nil {
		r.sendError(h, sess, storageError)
		return
	}
	if req.ID <= m.Last {
		return
	}
	now := h.Now()
	m.Last = req.ID
	due := time.UnixMilli(m.ShownAt).Add(ReadCoalesce)
	show := !r.large() && !now.Before(due)
	if r.large() || show {
		// Shown now, or never: nothing waits for the alarm.
		m.Shown = m.Last
		if show {
			m.ShownAt = now.UnixMilli()
		}
	}
	if err := h.Store().SetReadMarker(sess.userID, m); err != nil {
		delete(r.sig().reads, sess.userID)
		r.sendError(h, sess, storageError)
		return
	}
	r.sig().reads[sess.userID] = m
	switch {
	case show:
		r.broadcastToOthers(h, readFrame(sess.userID, m.Last), sess.userID, sess)
	case !r.large():
		r.alarmBy(h, due)
	}
}

func readFrame(user string, id int64) []byte {
	return protocol.Marshal(protocol.ReadMarker{Type: protocol.TypeRead, UserID: user, ID: id})
}

// flushReads is the alarm's part: it sends the waiting read markers whose
// ReadCoalesce has passed (to the other users), as storage has them, and
// returns when the next one is due, or the zero time.
func (r *Room) flushReads(h Host) time.Time {
	pending, err := h.Store().PendingReads()
	if err != nil {
		// The markers stay pending in storage: look again in a moment.
		return h.Now().Add(ReadCoalesce)
	}
	users := make([]string, 0, len(pending))
	for user := range pending {
		users = append(users, user)
	}
	slices.Sort(users) // a deterministic order for the announcements
	now := h.Now()
	var next time.Time
	for _, user := range users {
		m := pending[user]
		if due := time.UnixMilli(m.ShownAt).Add(ReadCoalesce); now.Before(due) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		m.Shown, m.ShownAt = m.Last, now.UnixMilli()
		if err := h.Store().SetReadMarker(user, m); err != nil {
			return now.Add(ReadCoalesce)
		}
		if r.signals != nil {
			if _, ok := r.signals.reads[user]; ok {
				r.signals.reads[user] = m
			}
		}
		if !r.large() {
			r.broadcastToOthers(h, readFrame(user, m.Last), user, nil)
		}
	}
	return next
}

// readState is what a joining socket learns after history: its user's read
// position and how many messages follow it. When the history just sent
// holds every message after since (complete) and the position is not below
// since, they are counted there: a join in a room of fewer messages than the
// history window costs no query.
func (r *Room) readState(h Host, user string, sent []protocol.StoredMessage, complete bool, since int64) ([]byte, error) {
	m, err := r.marker(h, user)
	if err != nil {
		return nil, err
	}
	var n int64
	if complete && m.Last >= since {
		for _, msg := range sent {
			if msg.ID > m.Last {
				n++
			}
		}
	} else if n, err = h.Store().Unread(m.Last, protocol.MaxUnread+1); err != nil {
		return nil, err
	}
	st := protocol.ReadState{Type: protocol.TypeReadState, LastRead: m.Last, Unread: n}
	if n > protocol.MaxUnread {
		st.Unread, st.Capped = protocol.MaxUnread, true
	}
	return protocol.Marshal(st), nil
}

// MaxReactions bounds the distinct emoji on one message: a message is not
// a poll, and each emoji is a chip under it on every screen.
const MaxReactions = 20

// react toggles the sender's reaction on a message: everyone gets
// reaction, at the next position, so that a resume delivers it. A reaction
// takes a position as a message does, so it follows a message's rate limit
// and mute: a flood of toggles must not push the history out of the room.
func (r *Room) react(h Host, sess *session, req protocol.Request) {
	if !r.changeAllowed(h, sess, req) {
		return
	}
	switch {
	case !req.HasEmoji:
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeInvalidReaction, `react needs an "emoji"`))
		return
	case req.EmojiErr != nil:
		r.sendError(h, sess, req.EmojiErr)
		return
	}
	if r.muted(h, sess, true) || !r.allow(h, sess) {
		return
	}
	if _, ok := r.author(h, sess, req.ID); !ok {
		return
	}
	had, present, distinct, err := h.Store().ReactionState(req.ID, req.Emoji, sess.userID)
	if err != nil {
		r.sendError(h, sess, storageError)
		return
	}
	if !present && distinct >= MaxReactions {
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeTooManyReactions, "message %d holds %d different reactions already", req.ID, MaxReactions))
		return
	}
	frame, ok := r.storeChange(h, func(pos int64) []byte {
		return protocol.Marshal(protocol.Reaction{Type: protocol.TypeReaction, ID: pos, MessageID: req.ID,
			Emoji: req.Emoji, UserID: sess.userID, Added: !had})
	}, func(pos int64, frame []byte) error {
		return h.Store().React(req.ID, req.Emoji, sess.userID, !had, pos, frame)
	})
	if !ok {
		r.sendError(h, sess, storageError)
		return
	}
	r.broadcast(h, frame)
}
