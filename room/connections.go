package room

import (
	"strconv"
	"strings"
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// Conn is what the front worker vouches for about an upgrade.
type Conn struct {
	// User is the verified identity of a protected room's token, "" in open
	// mode. A socket with one can only ever be that user.
	User string
	// Expires is when the token expires (its exp); the socket is closed
	// then with 4001. Zero when there is no token.
	Expires time.Time
	// IP is the client's address (CF-Connecting-IP) as AddressKey gives
	// it, "" when unknown.
	IP string
	// Role is the token's role (protocol.RoleMember, RoleModerator or
	// RoleService); "" in open mode, which has no roles.
	Role string
}

// MaxAddressBytes bounds the CF-Connecting-IP an upgrade may carry: the
// longest IPv6 text is 45 bytes, and a zone adds a few. Cloudflare sets the
// header at the edge; a longer one (only a client of wrangler dev can send
// it) is refused, because a socket's attachment keeps the address and
// workerd bounds an attachment's size.
const MaxAddressBytes = 64

// AddressKey is the key the per-address limits count an address under: an
// IPv4 address as it is, an IPv6 address by its /64 ("2001:db8:0:1::/64"),
// since one host commonly owns a whole /64 and could otherwise take a new
// address per connection. Anything else ("" included) counts as itself. It
// is written out rather than net/netip's, which would add about 17 KB of
// gzipped Wasm for one mask.
func AddressKey(ip string) string {
	if !strings.Contains(ip, ":") || strings.Contains(ip, ".") {
		return ip // IPv4, or an IPv6 form with an IPv4 tail: as it is
	}
	addr, _, _ := strings.Cut(ip, "%") // no zone
	head, tail, double := strings.Cut(addr, "::")
	groups := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ":")
	}
	left, right := groups(head), groups(tail)
	n := len(left) + len(right)
	if (double && n > 7) || (!double && n != 8) {
		return ip
	}
	full := make([]string, 0, 8)
	full = append(full, left...)
	for range 8 - n {
		full = append(full, "0")
	}
	full = append(full, right...)
	var b strings.Builder
	for i, g := range full[:4] {
		v, err := strconv.ParseUint(g, 16, 16)
		if err != nil || len(g) > 4 {
			return ip
		}
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.FormatUint(v, 16))
	}
	for _, g := range full[4:] {
		if _, err := strconv.ParseUint(g, 16, 16); err != nil || len(g) > 4 {
			return ip
		}
	}
	b.WriteString("::/64")
	return b.String()
}

// Admit decides whether the room takes an upgrade, before the runtime
// accepts it: it answers 0 when it does, else the HTTP status and JSON body
// to refuse it with: 503 room_full at MaxConnections, 429
// too_many_connections at MaxConnectionsPerUser (for a token's identity;
// in open mode the identity is known only at join) or MaxConnectionsPerIP.
func (r *Room) Admit(h Host, c Conn) (int, []byte) {
	r.load(h)
	switch {
	case len(c.IP) > MaxAddressBytes:
		return httpError(400, protocol.HTTPInvalidAddress, "CF-Connecting-IP is not an IP address")
	case len(r.sessions) >= r.cfg.MaxConnections:
		return httpError(503, protocol.HTTPRoomFull, "this room has reached its connection limit; try again later")
	case c.User != "" && r.cfg.MaxConnectionsPerUser > 0 && r.perBound[c.User] >= r.cfg.MaxConnectionsPerUser:
		return httpError(429, protocol.HTTPTooManyConnections, "this user has too many connections in this room; close one first")
	case c.IP != "" && r.cfg.MaxConnectionsPerIP > 0 && r.perIP[c.IP] >= r.cfg.MaxConnectionsPerIP:
		return httpError(429, protocol.HTTPTooManyConnections, "this address has too many connections in this room; close one first")
	}
	if c.User != "" {
		switch res, banned, err := r.banned(h, c.User); {
		case err != nil:
			return storageHTTPError()
		case banned:
			return 403, protocol.Marshal(protocol.BannedBody{Error: protocol.CodeBanned,
				Message: "this user is banned from this room", Until: until(res)})
		}
	}
	return 0, nil
}

// Accept registers a socket the runtime has just accepted, as Admit allowed.
func (r *Room) Accept(h Host, s Socket, c Conn) error {
	r.load(h)
	now := ceilSecond(h.Now())
	sess := &session{sid: r.nextSID, sock: s, bound: c.User, active: now, accepted: now, ip: c.IP, role: c.Role}
	if !c.Expires.IsZero() {
		sess.expires = c.Expires.Unix()
	}
	r.nextSID++
	if err := writeAttachment(s, sess.attachment(false)); err != nil {
		return err
	}
	r.register(sess)
	if c.Role == protocol.RoleService {
		if err := r.sawService(h, c.User); err != nil {
			return err
		}
	}
	// Tagged now, so that its first frame finds the session without reading
	// the attachment back.
	if f, ok := s.(Fast); ok {
		f.SetTag(r.epoch | sess.sid)
	}
	if d, ok := r.deadline(sess, h, false); ok {
		r.alarmBy(h, d)
	}
	return nil
}

// touch records that the socket sent something. The attachment keeps whole
// seconds, rounded up, so it is written at most once a second per socket and
// an idle close is never early.
func (r *Room) touch(h Host, sess *session) {
	if sec := ceilSecond(h.Now()); sec > sess.active {
		sess.active = sec
		// A failed write leaves the stored second older, so a rebuilt
		// expiry can only come early, never late; memory keeps the real one.
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

// Close handles the runtime's close event for a socket: it completes the
// handshake and, if this was the user's last connection, announces user_left.
func (r *Room) Close(h Host, s Socket, code int, reason string) {
	r.load(h)
	if sess, ok := r.find(h, s, true); ok {
		r.leave(h, sess)
	}
	_ = s.Close(reciprocalCode(code), reason) // fails only if already closed
}

// Error handles the runtime's error event; the socket is unusable, so it is
// treated as an abrupt close.
func (r *Room) Error(h Host, s Socket) {
	r.load(h)
	if sess, ok := r.find(h, s, true); ok {
		r.leave(h, sess)
	}
	_ = s.Close(protocol.CloseInternal, "websocket error") // fails only if already closed
}

// drop closes a socket from the server side and says goodbye for it.
func (r *Room) drop(h Host, sess *session, code int, reason string) {
	r.leave(h, sess)
	_ = sess.sock.Close(code, reason) // fails only if already closed
}

// leave forgets a session, marks its socket so that no later event announces
// it again, and sends user_left if its user has no connection left. The last
// socket to go takes the idle alarm with it.
func (r *Room) leave(h Host, sess *session) {
	if r.sessions[sess.sid] != sess {
		return // already gone
	}
	r.unregister(sess)
	r.markGone(sess)
	if len(r.sessions) == 0 {
		h.Alarm().Delete()
		r.alarmAt = time.Time{}
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
	delete(r.buckets, sess.userID)
	r.forgetSignals(sess.userID) // a waiting read marker stays in storage for the alarm
	if r.mod != nil {
		delete(r.mod.lastSent, sess.userID) // the store has it, if slow mode asks
	}
	switch {
	case len(r.presence) == r.cfg.PresenceLimit:
		// Small again: the full roster, once, and per-user frames from now on.
		r.broadcast(h, r.presenceFrame())
	case !r.large():
		frame := protocol.Marshal(protocol.UserLeft{Type: protocol.TypeUserLeft, UserID: sess.userID, Timestamp: protocol.Timestamp(h.Now())})
		r.broadcast(h, frame)
	}
}

// reciprocalCode is the code to answer a peer's close with. 1005 (no code)
// and 1006 (abnormal) are reserved for reporting and cannot be sent, and
// neither can codes outside the ranges a peer may use.
func reciprocalCode(code int) int {
	switch {
	case code == 1005 || code == 1006 || code == 1015:
		return protocol.CloseNormal
	case code >= 1000 && code <= 1014, code >= 3000 && code <= 4999:
		return code
	default:
		return protocol.CloseNormal
	}
}

// markGoneAttempts is how many times markGone tries to write the gone mark:
// a write can fail transiently.
const markGoneAttempts = 2

// markGone records in the socket's attachment that the room has said
// goodbye to it, so that a late close or error event for it announces
// nothing twice. Even when every attempt fails, the socket never comes back
// as a ghost member: every leave closes its socket (drop, Close, Error), and
// a rebuild takes only open sockets (Host.Sockets).
func (r *Room) markGone(sess *session) {
	for range markGoneAttempts {
		if writeAttachment(sess.sock, sess.attachment(true)) == nil {
			return
		}
	}
}
