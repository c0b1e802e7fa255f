package room

import (
	"math/rand/v2"

	"github.com/chatroom/gochat/room/protocol"
)

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
	r.perBound = make(map[string]int)
	r.perIP = make(map[string]int)
	r.buckets = make(map[string]*bucket)
	r.members = nil
	r.nextSID = 1
	r.lastID = -1
	r.epoch = (rand.Uint64N(1<<20) + 1) << tagSIDBits
	for _, s := range sockets {
		att, state := attachmentOf(s)
		if state != attachmentOK {
			// A socket the runtime has accepted for an upgrade that is
			// being handled right now has no attachment yet (Accept writes
			// it); one whose attachment is unreadable is lost.
			if state == attachmentBad {
				lost(s)
			}
			continue
		}
		if att.SID >= r.nextSID {
			r.nextSID = att.SID + 1
		}
		if att.Gone || !s.Open() {
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
	sess := &session{sid: att.SID, sock: s, userID: att.UserID, bound: att.Bound, active: att.Active,
		accepted: att.Accepted, ip: att.IP, expires: att.Expires, role: att.Role}
	r.register(sess)
	if att.UserID != "" {
		r.presence[att.UserID]++
		r.members = nil
	}
	if att.SID >= r.nextSID {
		r.nextSID = att.SID + 1
	}
	return sess
}

// readAttachment reads a socket's attachment: ok when there is a valid one,
// and otherwise whether there was one at all (an unreadable one, or none).
func readAttachment(s Socket) (att Attachment, ok bool) {
	att, state := attachmentOf(s)
	return att, state == attachmentOK
}

// The states of a socket's attachment.
const (
	attachmentNone = iota // none: a socket being accepted right now
	attachmentBad         // there, but unreadable
	attachmentOK
)

func attachmentOf(s Socket) (Attachment, int) {
	var att Attachment
	if p, ok := s.(Fast); ok {
		if pre, ok := p.Predecoded(); ok {
			switch {
			case pre == nil:
				return att, attachmentNone
			case pre.SID == 0:
				return att, attachmentBad
			}
			return *pre, attachmentOK
		}
	}
	data, err := s.Attachment()
	switch {
	case err == nil && len(data) == 0:
		return att, attachmentNone
	case err != nil || decodeAttachmentText(data, &att) != nil || att.SID == 0:
		return att, attachmentBad
	}
	return att, attachmentOK
}

func writeAttachment(s Socket, att Attachment) error {
	return s.SetAttachment(protocol.Marshal(att))
}

// tagSIDBits is how many low bits of a socket tag hold the session id; the
// bits above hold the epoch. Tags stay below 2^53, exact as a JS number.
const tagSIDBits = 32

// find returns the session of the socket an event arrived on: by its tag
// when it carries this rebuild's, else from its attachment. ending is true
// for the socket's close and error events, which may find a closing socket
// that a rebuild left out; a frame from a closing socket the room does not
// know is ignored: the room already said goodbye to it, or is about to.
func (r *Room) find(h Host, s Socket, ending bool) (*session, bool) {
	f, fast := s.(Fast)
	if !fast {
		return r.findByAttachment(h, s, ending)
	}
	if tag := f.Tag(); tag&^(1<<tagSIDBits-1) == r.epoch {
		if sess, ok := r.sessions[tag&(1<<tagSIDBits-1)]; ok {
			// The session's socket is the same runtime object as s; keeping
			// it spares the host handing over s at all.
			return sess, true
		}
	}
	sess, ok := r.findByAttachment(h, s, ending)
	if ok {
		f.SetTag(r.epoch | sess.sid)
	}
	return sess, ok
}

func (r *Room) findByAttachment(h Host, s Socket, ending bool) (*session, bool) {
	att, ok := readAttachment(s)
	if !ok {
		lost(s)
		return nil, false
	}
	if att.Gone {
		return nil, false
	}
	if sess, ok := r.sessions[att.SID]; ok {
		sess.sock = s
		return sess, true
	}
	if !ending && !s.Open() {
		return nil, false
	}
	return r.adopt(s, att), true
}

func (r *Room) bySocket(s Socket) (*session, bool) {
	att, ok := readAttachment(s)
	if !ok || att.Gone {
		return nil, false
	}
	sess, ok := r.sessions[att.SID]
	return sess, ok
}

// lost closes a socket whose attachment cannot be read with 1011. Its
// identity, its bound token and its limits are gone with the attachment, and
// a fresh session would give it open-mode rights; the client reconnects.
func lost(s Socket) {
	_ = s.Close(protocol.CloseInternal, "connection state lost; reconnect") // fails only if already closed
}

// register adds a session to the room's maps and admission counts.
func (r *Room) register(sess *session) {
	r.sessions[sess.sid] = sess
	if sess.bound != "" {
		r.perBound[sess.bound]++
	}
	if sess.ip != "" {
		r.perIP[sess.ip]++
	}
}

// unregister removes a session from the room's maps and admission counts.
func (r *Room) unregister(sess *session) {
	delete(r.sessions, sess.sid)
	decrement(r.perBound, sess.bound)
	decrement(r.perIP, sess.ip)
}

// decrement lowers a count, dropping the key at zero so that the map holds
// only what is open.
func decrement(m map[string]int, key string) {
	if key == "" {
		return
	}
	if m[key] <= 1 {
		delete(m, key)
		return
	}
	m[key]--
}
