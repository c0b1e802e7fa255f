package room

import (
	"cmp"
	"slices"
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

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
				r.drop(h, sess, protocol.CloseNormal, "idle timeout")
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
	if auto := sess.sock.AutoResponseAt(); !auto.IsZero() {
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
		h.Alarm().Delete()
		return
	}
	var first time.Time
	for _, sess := range r.sessions {
		if e := r.expiry(h, sess, auto); first.IsZero() || e.Before(first) {
			first = e
		}
	}
	if !auto {
		h.Alarm().Ensure(first)
		return
	}
	h.Alarm().Set(first)
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
