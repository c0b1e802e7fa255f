package room

import (
	"slices"

	"github.com/chatroom/gochat/room/protocol"
)

func (r *Room) join(h Host, sess *session, req protocol.Request) {
	userID := req.UserID
	switch {
	case sess.bound != "" && (!req.HasUserID || (req.UserIDErr == nil && req.UserID == sess.bound)):
		userID = sess.bound // a signed-in socket may omit its userId
	case sess.bound != "":
		r.sendError(h, sess, forbidden(sess.bound))
		return
	case !req.HasUserID:
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeInvalidUserID, `join needs a "userId"`))
		return
	case req.UserIDErr != nil:
		r.sendError(h, sess, req.UserIDErr)
		return
	}
	switch {
	case sess.userID == userID:
		// Joining again as the same user is a no-op by design.
	case sess.userID != "":
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeAlreadyJoined, "this connection already joined as %q", sess.userID))
	case req.SinceErr != nil:
		r.sendError(h, sess, req.SinceErr)
	default:
		if req.HasSince {
			last, err := r.lastMessageID(h)
			if err != nil {
				r.sendError(h, sess, storageError)
				return
			}
			if req.Since > last {
				r.sendError(h, sess, protocol.Rejectf(protocol.CodeInvalidSince, "since %d is ahead of this room's last message id %d; join without since", req.Since, last))
				return
			}
		}
		r.bind(h, sess, userID, req.Since, req.HasSince)
	}
}

// bind makes sess a joined member as userID and announces it: to the joining
// socket always, to the others only when this is the user's first connection.
// The joining socket then gets the roster and the history: the latest
// messages, or with a resume point everything after it (up to MaxResume).
func (r *Room) bind(h Host, sess *session, userID string, since int64, resume bool) bool {
	switch res, banned, err := r.banned(h, userID); {
	case err != nil:
		r.sendError(h, sess, storageError)
		return false
	case banned:
		r.send(h, sess, protocol.Marshal(protocol.ModerationError{Type: protocol.TypeError, Code: protocol.CodeBanned,
			Message: "you are banned from this room", Until: until(res)}))
		r.drop(h, sess, protocol.CloseModerated, "banned")
		return false
	}
	if sess.bound == "" && r.cfg.MaxConnectionsPerUser > 0 && r.presence[userID] >= r.cfg.MaxConnectionsPerUser {
		// In open mode the identity is only known now; with a token the
		// upgrade was refused with 429 instead.
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeTooManyConnections,
			"%q already has %d connections in this room", userID, r.cfg.MaxConnectionsPerUser))
		r.drop(h, sess, protocol.ClosePolicyViolation, "too many connections")
		return false
	}
	sess.userID = userID
	if err := writeAttachment(sess.sock, sess.attachment(false)); err != nil {
		sess.userID = ""
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeInvalidUserID, "could not record the identity; try again"))
		return false
	}
	r.presence[userID]++
	r.members = nil
	frame := protocol.Marshal(protocol.UserJoined{Type: protocol.TypeUserJoined, UserID: userID, Timestamp: protocol.Timestamp(h.Now())})
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
	if r.mod.SlowModeSeconds != 0 { // read by banned above
		r.send(h, sess, r.settingsFrame())
	}
	limit, budget := r.cfg.JoinHistory, r.cfg.HistoryMaxBytes-historyOverhead
	var changes []protocol.Raw
	var changesCut bool
	if resume {
		limit = r.cfg.MaxResume
		// The changes to what the client already holds come first: without
		// them its view is wrong, not just short. They take at most half.
		var err error
		if changes, changesCut, err = r.changes(h, since, budget/2); err != nil {
			r.sendError(h, sess, storageError)
			return true
		}
		budget -= encodedSize(changes)
	}
	msgs, truncated, err := r.window(h, since, 0, limit, budget)
	if err != nil {
		r.sendError(h, sess, storageError)
		return true
	}
	history := protocol.Marshal(protocol.History{Type: protocol.TypeHistory, Messages: nonNil(msgs),
		Truncated: truncated || changesCut, Changes: changes})
	r.send(h, sess, history)
	if state, err := r.readState(h, userID, msgs, !truncated, since); err != nil {
		r.sendError(h, sess, storageError)
	} else {
		r.send(h, sess, state)
	}
	return true
}

// large reports whether the room is past PresenceLimit distinct users.
func (r *Room) large() bool { return len(r.presence) > r.cfg.PresenceLimit }

// presenceFrame is the roster: every user in a small room, the count alone in
// a large one.
func (r *Room) presenceFrame() []byte {
	var frame []byte
	if r.large() {
		frame = protocol.Marshal(protocol.PresenceSummary{Type: protocol.TypePresence, Users: []string{}, Count: len(r.presence), Truncated: true})
	} else {
		frame = protocol.Marshal(protocol.Presence{Type: protocol.TypePresence, Users: r.Users()})
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
