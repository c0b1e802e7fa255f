package room

import (
	"net/url"
	"strconv"

	"github.com/chatroom/gochat/room/protocol"
)

// Caller is who calls the server API: the verified identity and role of a
// moderator's or a service's token (the front worker refuses everyone
// else).
type Caller struct {
	UserID string
	Role   string
}

// The server API. Each call answers an HTTP status and a JSON body (or none
// for 204), and acts as the matching WebSocket frame would: the room hears
// of it the same way.

// Post stores and broadcasts a message (POST /api/rooms/{room}/messages,
// {"text","userId"?}): as the caller, or for a service as any valid userId.
// With an Idempotency-Key (key) seen in the last day it answers the first
// call's 201 again, and stores and broadcasts nothing.
func (r *Room) Post(h Host, c Caller, body []byte, key string) (int, []byte) {
	r.load(h)
	if c.Role == protocol.RoleService {
		if err := r.sawService(h, c.UserID); err != nil {
			return storageHTTPError()
		}
	}
	now := h.Now()
	if key != "" {
		if answer, ok, err := h.Store().Idempotent(key, now.UnixMilli()); err != nil {
			return storageHTTPError()
		} else if ok {
			return 201, answer
		}
	}
	req, rej := protocol.DecodeBody(body, protocol.TypeMessage)
	if rej == nil {
		rej = r.checkText(req)
	}
	author := c.UserID
	switch {
	case rej != nil:
		return rejectHTTP(400, rej)
	case req.UserIDErr != nil:
		return rejectHTTP(400, req.UserIDErr)
	case req.HasUserID && req.UserID != c.UserID && c.Role != protocol.RoleService:
		return rejectHTTP(403, forbidden(c.UserID))
	case req.HasUserID:
		author = req.UserID
	}
	m, err := r.moderation(h)
	if err != nil {
		return storageHTTPError()
	}
	if res, ok := m.Mutes[author]; ok && res.active(now) {
		return 403, protocol.Marshal(protocol.BannedBody{Error: protocol.CodeMuted, Message: author + " is muted in this room", Until: until(res)})
	}
	if res, ok := m.Bans[author]; ok && res.active(now) {
		return 403, protocol.Marshal(protocol.BannedBody{Error: protocol.CodeBanned, Message: author + " is banned from this room", Until: until(res)})
	}
	stored, ok := r.store(h, author, req.Text)
	if !ok {
		return storageHTTPError()
	}
	answer := protocol.Marshal(protocol.Posted{ID: stored.ID, Timestamp: stored.Timestamp})
	if key != "" {
		// The message is stored; a failure to remember the key can only
		// cost a duplicate on a retry, which is what no key would cost.
		_ = h.Store().Remember(key, answer, now.UnixMilli())
	}
	return 201, answer
}

// DeleteMessage deletes a message (DELETE /api/rooms/{room}/messages/{id}).
func (r *Room) DeleteMessage(h Host, c Caller, id string) (int, []byte) {
	r.load(h)
	n, rej := protocol.ParseSince(id)
	if rej != nil || n < 1 {
		return rejectHTTP(400, protocol.Rejectf(protocol.CodeInvalidID, "the message id must be a positive integer"))
	}
	author, ok, err := h.Store().Author(n)
	switch {
	case err != nil:
		return storageHTTPError()
	case !ok:
		return rejectHTTP(404, protocol.Rejectf(protocol.CodeNotFound, "this room holds no message %d", n))
	}
	if rej := r.deleteMessage(h, c.UserID, author, n); rej != nil {
		return rejectHTTP(500, rej)
	}
	return 204, nil
}

// Kick, Ban and Unban are POST .../kick {"userId","reason"?}, POST .../bans
// {"userId","seconds"?,"reason"?} and DELETE .../bans/{userId}.
func (r *Room) Kick(h Host, c Caller, body []byte) (int, []byte) {
	return r.moderateHTTP(h, c, body, protocol.TypeKick, "")
}

func (r *Room) Ban(h Host, c Caller, body []byte) (int, []byte) {
	return r.moderateHTTP(h, c, body, protocol.TypeBan, "")
}

func (r *Room) Unban(h Host, c Caller, user string) (int, []byte) {
	return r.moderateHTTP(h, c, nil, protocol.TypeUnban, user)
}

func (r *Room) moderateHTTP(h Host, c Caller, body []byte, typ, user string) (int, []byte) {
	r.load(h)
	var req protocol.Request
	if body != nil {
		var rej *protocol.Reject
		if req, rej = protocol.DecodeBody(body, typ); rej != nil {
			return rejectHTTP(400, rej)
		}
	} else {
		req = protocol.Request{Type: typ, UserID: user, HasUserID: true, UserIDErr: protocol.ValidUserID(user)}
	}
	switch rej := r.moderate(h, c.UserID, c.Role, req); {
	case rej == nil:
		return 204, nil
	case rej.Code == protocol.CodeNotFound:
		return rejectHTTP(404, rej)
	case rej.Code == protocol.CodeForbidden:
		return rejectHTTP(403, rej)
	default:
		return rejectHTTP(400, rej)
	}
}

// Bans lists the bans in force (GET /api/rooms/{room}/bans).
func (r *Room) Bans(h Host, name string) (int, []byte) {
	bans, err := h.Store().BanList(h.Now().UnixMilli())
	if err != nil {
		return storageHTTPError()
	}
	if bans == nil {
		bans = protocol.BanEntries{}
	}
	return 200, protocol.Marshal(protocol.BanList{Room: name, Bans: bans})
}

// Audit is a page of the moderation log (GET /api/rooms/{room}/audit
// ?before=&limit=): the newest entries below before, newest first.
func (r *Room) Audit(h Host, name string, q url.Values) (int, []byte) {
	limit, before := r.cfg.JoinHistory, int64(0)
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > r.cfg.MaxResume {
			return rejectHTTP(400, protocol.Rejectf("invalid_limit", "limit must be an integer from 1 to %d", r.cfg.MaxResume))
		}
		limit = n
	}
	if q.Has("before") {
		b, rej := protocol.ParseSince(q.Get("before"))
		if rej != nil || b < 1 {
			return rejectHTTP(400, protocol.Rejectf(protocol.HTTPInvalidBefore, "before must be a positive integer entry id"))
		}
		before = b
	}
	entries, more, err := h.Store().Audit(before, limit)
	if err != nil {
		return storageHTTPError()
	}
	if entries == nil {
		entries = protocol.AuditEntries{}
	}
	return 200, protocol.Marshal(protocol.AuditPage{Room: name, Entries: entries, Truncated: more})
}
