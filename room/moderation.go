package room

import (
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// moderationCache is the room's moderation state, read from the store once
// per rebuild (lazily: a room nobody moderates costs one read, at the first
// join or message), and slow mode's record of when each member last posted
// (in memory; after a rebuild it is asked of the store, so that an eviction
// never lets a message through sooner).
type moderationCache struct {
	ModerationState
	lastSent map[string]time.Time
}

// moderation returns the room's moderation state, reading it once.
func (r *Room) moderation(h Host) (*moderationCache, error) {
	if r.mod != nil {
		return r.mod, nil
	}
	st, err := h.Store().Moderation()
	if err != nil {
		return nil, err
	}
	if st.Bans == nil {
		st.Bans = map[string]Restriction{}
	}
	if st.Mutes == nil {
		st.Mutes = map[string]Restriction{}
	}
	if st.Services == nil {
		st.Services = map[string]bool{}
	}
	r.mod = &moderationCache{ModerationState: st, lastSent: map[string]time.Time{}}
	return r.mod, nil
}

// until is a restriction's end on the wire: a timestamp, or null.
func until(res Restriction) *protocol.Until {
	if res.Until == 0 {
		return &protocol.Until{}
	}
	return &protocol.Until{At: protocol.Timestamp(time.UnixMilli(res.Until))}
}

// banned reports whether user is banned at now, and the ban.
func (r *Room) banned(h Host, user string) (Restriction, bool, error) {
	m, err := r.moderation(h)
	if err != nil {
		return Restriction{}, false, err
	}
	res, ok := m.Bans[user]
	return res, ok && res.active(h.Now()), nil
}

// mayPost checks a member's message against mutes and slow mode, answering
// the refusal itself. Moderators and services are never slowed down.
func (r *Room) mayPost(h Host, sess *session) bool {
	if r.muted(h, sess, true) {
		return false
	}
	m, now := r.mod, h.Now() // muted loaded it
	if m.SlowModeSeconds == 0 || sess.moderates() {
		return true
	}
	last, ok := m.lastSent[sess.userID]
	if !ok {
		var err error
		if last, err = h.Store().LastMessageAt(sess.userID); err != nil {
			r.sendError(h, sess, storageError)
			return false
		}
	}
	if wait := last.Add(time.Duration(m.SlowModeSeconds) * time.Second).Sub(now); wait > 0 {
		r.send(h, sess, protocol.Marshal(protocol.ModerationError{Type: protocol.TypeError, Code: protocol.CodeSlowMode,
			Message: "slow mode is on; wait before your next message", RetryAfterMs: ceilMs(wait)}))
		return false
	}
	return true
}

// muted reports whether sess may not post, react or type because its user
// is muted (or the moderation state cannot be read), answering with muted
// (or a storage error) when tell is true.
func (r *Room) muted(h Host, sess *session, tell bool) bool {
	m, err := r.moderation(h)
	if err != nil {
		if tell {
			r.sendError(h, sess, storageError)
		}
		return true
	}
	res, ok := m.Mutes[sess.userID]
	if !ok || !res.active(h.Now()) {
		return false
	}
	if tell {
		r.send(h, sess, protocol.Marshal(protocol.ModerationError{Type: protocol.TypeError, Code: protocol.CodeMuted,
			Message: "you are muted in this room", Until: until(res)}))
	}
	return true
}

// posted records a member's message for slow mode.
func (r *Room) posted(h Host, user string) {
	if r.mod != nil && r.mod.SlowModeSeconds > 0 {
		r.mod.lastSent[user] = h.Now()
	}
}

// ceilMs is d in whole milliseconds, rounded up.
func ceilMs(d time.Duration) int64 {
	ms := d.Milliseconds()
	if d > time.Duration(ms)*time.Millisecond {
		ms++
	}
	return ms
}

// Moderate carries out a moderation action by by (a moderator's or a
// service's), from a frame or from the server API: it checks the rule,
// stores the action, tells the room and closes what it must. It returns the
// refusal, or nil.
func (r *Room) moderate(h Host, by string, byRole string, req protocol.Request) *protocol.Reject {
	if byRole != protocol.RoleModerator && byRole != protocol.RoleService {
		return protocol.Rejectf(protocol.CodeForbidden, "%s is for moderators", req.Type)
	}
	if byRole == protocol.RoleService {
		if err := r.sawService(h, by); err != nil {
			return storageError
		}
	}
	switch {
	case req.SecondsErr != nil:
		return req.SecondsErr
	case req.ReasonErr != nil:
		return req.ReasonErr
	case req.Type == protocol.TypeSlowMode:
		if !req.HasSeconds {
			return protocol.Rejectf(protocol.CodeInvalidSeconds, `slow_mode needs "seconds" (0 turns it off)`)
		}
		return r.setSlowMode(h, by, req.Seconds)
	case !req.HasUserID:
		return protocol.Rejectf(protocol.CodeInvalidUserID, `%s needs a "userId"`, req.Type)
	case req.UserIDErr != nil:
		return req.UserIDErr
	}
	m, err := r.moderation(h)
	if err != nil {
		return storageError
	}
	target, now := req.UserID, h.Now()
	a := Action{Kind: req.Type, UserID: target, By: by, Reason: req.Reason, At: protocol.Timestamp(now)}
	restricting := req.Type == protocol.TypeBan || req.Type == protocol.TypeMute
	switch {
	case restricting && target == by:
		return protocol.Rejectf(protocol.CodeForbidden, "you cannot %s yourself", req.Type)
	case restricting && byRole == protocol.RoleModerator && r.isService(target):
		return protocol.Rejectf(protocol.CodeForbidden, "a moderator cannot %s a service", req.Type)
	case req.Type == protocol.TypeKick && r.presence[target] == 0:
		return protocol.Rejectf(protocol.CodeNotFound, "%q is not in this room", target)
	case req.Type == protocol.TypeUnban && !activeIn(m.Bans, target, now):
		return protocol.Rejectf(protocol.CodeNotFound, "%q is not banned", target)
	case req.Type == protocol.TypeUnmute && !activeIn(m.Mutes, target, now):
		return protocol.Rejectf(protocol.CodeNotFound, "%q is not muted", target)
	}
	if restricting && req.HasSeconds && req.Seconds > 0 {
		a.Until = now.Add(time.Duration(req.Seconds) * time.Second).UnixMilli()
	}
	_, ok := r.storeChange(h, func(pos int64) []byte {
		event := protocol.Moderation{Type: eventType[req.Type], ID: pos, UserID: target, By: by, Timestamp: a.At}
		if req.Reason != "" && req.Type != protocol.TypeUnban && req.Type != protocol.TypeUnmute {
			event.Reason = &a.Reason
		}
		if restricting {
			event.Until = until(Restriction{Until: a.Until})
		}
		return protocol.Marshal(event)
	}, func(pos int64, frame []byte) error {
		a.Pos, a.Frame = pos, frame
		return h.Store().Moderate(a)
	})
	if !ok {
		return storageError
	}
	switch req.Type {
	case protocol.TypeBan:
		m.Bans[target] = Restriction{Until: a.Until}
	case protocol.TypeUnban:
		delete(m.Bans, target)
	case protocol.TypeMute:
		m.Mutes[target] = Restriction{Until: a.Until}
	case protocol.TypeUnmute:
		delete(m.Mutes, target)
	}
	// Everyone hears it, in a large room too (it is rare), then the
	// target's sockets go: their user_left follows.
	r.broadcast(h, a.Frame)
	if req.Type == protocol.TypeKick || req.Type == protocol.TypeBan {
		reason := "kicked"
		if req.Type == protocol.TypeBan {
			reason = "banned"
		}
		for _, sess := range r.sorted() {
			if sess.userID == target || sess.bound == target {
				r.drop(h, sess, protocol.CloseModerated, reason)
			}
		}
	}
	return nil
}

// eventType is the event each moderation frame announces.
var eventType = map[string]string{
	protocol.TypeKick:   protocol.TypeUserKicked,
	protocol.TypeBan:    protocol.TypeUserBanned,
	protocol.TypeUnban:  protocol.TypeUserUnbanned,
	protocol.TypeMute:   protocol.TypeUserMuted,
	protocol.TypeUnmute: protocol.TypeUserUnmuted,
}

func activeIn(m map[string]Restriction, user string, now time.Time) bool {
	res, ok := m[user]
	return ok && res.active(now)
}

// isService reports whether user was seen here with a service token.
func (r *Room) isService(user string) bool { return r.mod != nil && r.mod.Services[user] }

// sawService records that user acts with a service token, once: a
// moderator may then never ban or mute them, connected or not.
func (r *Room) sawService(h Host, user string) error {
	m, err := r.moderation(h)
	if err != nil || m.Services[user] {
		return err
	}
	if err := h.Store().RememberService(user); err != nil {
		return err
	}
	m.Services[user] = true
	return nil
}

// setSlowMode turns slow mode on (seconds between two messages of a member)
// or off (0), and tells everyone the room's settings.
func (r *Room) setSlowMode(h Host, by string, seconds int64) *protocol.Reject {
	m, err := r.moderation(h)
	if err != nil {
		return storageError
	}
	if err := h.Store().Moderate(Action{Kind: protocol.TypeSlowMode, By: by, Seconds: seconds, At: protocol.Timestamp(h.Now())}); err != nil {
		return storageError
	}
	m.SlowModeSeconds = seconds
	r.broadcast(h, r.settingsFrame())
	return nil
}

// settingsFrame is the room's room_settings frame.
func (r *Room) settingsFrame() []byte {
	var slow int64
	if r.mod != nil {
		slow = r.mod.SlowModeSeconds
	}
	return protocol.Marshal(protocol.RoomSettings{Type: protocol.TypeRoomSettings, SlowModeSeconds: slow})
}

// moderateFrame is a moderation frame from a socket.
func (r *Room) moderateFrame(h Host, sess *session, req protocol.Request) {
	if sess.userID == "" && sess.bound == "" {
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeForbidden, "%s is for moderators", req.Type))
		return
	}
	by := sess.userID
	if by == "" {
		by = sess.bound
	}
	if rej := r.moderate(h, by, sess.role, req); rej != nil {
		r.sendError(h, sess, rej)
	}
}
