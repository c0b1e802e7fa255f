package room

import (
	"cmp"
	"slices"
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// Alarm closes, in accept order, every socket past one of its deadlines:
// its token expired (4001 "token expired"), it did not join within
// JoinTimeout (1008 "join timeout"), or it sent nothing for IdleTimeout
// (1000 "idle timeout"; exact pings answered by the runtime count as
// activity). Their users' user_left goes out as for any leave. Then it sets
// the alarm again at the earliest deadline left. The alarm survives
// hibernation, so every rule holds while the object sleeps.
func (r *Room) Alarm(h Host) {
	// The alarm that fired is gone: until schedule sets the next one, no
	// known alarm covers anything (should anything below fail, alarmBy arms
	// one again for the next socket).
	r.alarmAt = time.Time{}
	r.loadAndEnsureAlarm(h, false) // this sets the alarm itself, below
	now := h.Now()
	var due []*session
	for _, sess := range r.sessions {
		if _, _, ok := r.overdue(h, sess, now); ok {
			due = append(due, sess)
		}
	}
	// In accept order, so that the announcements are deterministic.
	slices.SortFunc(due, bySID)
	for _, sess := range due {
		code, reason, _ := r.overdue(h, sess, now)
		r.drop(h, sess, code, reason)
	}
	next := r.flushReads(h)
	r.schedule(h)
	if !next.IsZero() {
		r.alarmBy(h, next)
	}
}

// overdue reports whether sess is past a deadline at now, and the close it
// gets for it.
func (r *Room) overdue(h Host, sess *session, now time.Time) (int, string, bool) {
	switch {
	case sess.expires > 0 && now.Unix() >= sess.expires:
		return protocol.CloseTokenExpired, "token expired", true
	case r.cfg.JoinTimeout > 0 && sess.userID == "" && !now.Before(r.joinDeadline(sess)):
		return protocol.ClosePolicyViolation, "join timeout", true
	case r.cfg.IdleTimeout > 0 && !now.Before(r.expiry(h, sess, true)):
		return protocol.CloseNormal, "idle timeout", true
	}
	return 0, "", false
}

// joinDeadline is when an unjoined sess is closed. A session from before
// attachments kept the accept time counts from its last activity.
func (r *Room) joinDeadline(sess *session) time.Time {
	start := sess.accepted
	if start == 0 {
		start = sess.active
	}
	return time.Unix(start, 0).Add(r.cfg.JoinTimeout)
}

// expiry is when sess becomes idle; with auto false, going by its own
// frames only, which is never later. The runtime's exact-ping answers can
// only make it later, so they are asked for (a call into the runtime per
// socket) only once the frames' expiry has passed: before that, an alarm
// set by it comes early, never late, and looks again.
func (r *Room) expiry(h Host, sess *session, auto bool) time.Time {
	last := time.Unix(sess.active, 0)
	if plain := last.Add(r.cfg.IdleTimeout); !auto || h.Now().Before(plain) {
		return plain
	}
	if auto := sess.sock.AutoResponseAt(); !auto.IsZero() {
		if a := time.Unix(ceilSecond(auto), 0); a.After(last) {
			last = a
		}
	}
	return last.Add(r.cfg.IdleTimeout)
}

// deadline is the earliest time the alarm must look at sess, if it has any
// deadline; with auto false the idle expiry goes by its own frames only.
func (r *Room) deadline(sess *session, h Host, auto bool) (time.Time, bool) {
	var first time.Time
	earliest := func(t time.Time) {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	if sess.expires > 0 {
		earliest(time.Unix(sess.expires, 0))
	}
	if r.cfg.JoinTimeout > 0 && sess.userID == "" {
		earliest(r.joinDeadline(sess))
	}
	if r.cfg.IdleTimeout > 0 {
		earliest(r.expiry(h, sess, auto))
	}
	return first, !first.IsZero()
}

// schedule sets the alarm at the earliest deadline, or deletes it when no
// socket has one. Activity only moves idle expiries later, and the other
// deadlines never move, so an alarm set here never fires late; one that
// fires early just schedules again.
func (r *Room) schedule(h Host) { r.scheduleBy(h, true) }

// scheduleBy is schedule; with auto false (a rebuild) it goes by the
// attachments alone and only ensures an alarm.
func (r *Room) scheduleBy(h Host, auto bool) {
	var first time.Time
	for _, sess := range r.sessions {
		if d, ok := r.deadline(sess, h, auto); ok && (first.IsZero() || d.Before(first)) {
			first = d
		}
	}
	switch {
	case first.IsZero() && !auto:
		// A rebuild only repairs a missing alarm: nothing to repair.
	case first.IsZero():
		h.Alarm().Delete()
	case !auto:
		h.Alarm().Ensure(first)
	default:
		h.Alarm().Set(first)
	}
	r.alarmAt = first
}

// alarmBy makes sure the alarm fires no later than d: a new socket's
// deadline. It costs nothing when the alarm already comes no later.
func (r *Room) alarmBy(h Host, d time.Time) {
	if !r.alarmAt.IsZero() && !d.Before(r.alarmAt) {
		return
	}
	h.Alarm().Ensure(d)
	r.alarmAt = d
}

// sorted returns the sessions in accept order, for a deterministic member list.
func (r *Room) sorted() []*session {
	out := make([]*session, 0, len(r.sessions))
	for _, s := range r.sessions {
		out = append(out, s)
	}
	slices.SortFunc(out, bySID)
	return out
}

// bySID orders sessions by id: accept order.
func bySID(a, b *session) int { return cmp.Compare(a.sid, b.sid) }
