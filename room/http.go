package room

import (
	"net/url"
	"strconv"

	"github.com/chatroom/gochat/room/protocol"
)

// The room HTTP API answers what the front worker forwarded. It only reads:
// asking about a room that never existed returns empty results and stores
// nothing. Each answer is a status and a JSON body.

// Info answers GET /api/rooms/{room}: the room's roster and counters.
func (r *Room) Info(h Host, name string) (int, []byte) {
	r.load(h)
	last, err := h.Store().LastID()
	if err != nil {
		return storageHTTPError()
	}
	info := protocol.RoomInfo{Room: name, Users: r.Users(), Connections: len(r.sessions), LastMessageID: last}
	if !r.large() && len(info.Users) > 0 {
		if info.Reads, err = h.Store().Reads(info.Users); err != nil {
			return storageHTTPError()
		}
		for _, u := range info.Users {
			info.Reads[u] += 0 // every user present, 0 when they have read nothing
		}
	}
	return 200, protocol.Marshal(info)
}

// Messages answers GET /api/rooms/{room}/messages: a page of the history.
func (r *Room) Messages(h Host, name string, query url.Values) (int, []byte) {
	r.load(h)
	since, before, limit, rej := r.historyQuery(h, query)
	if rej != nil {
		return rejectHTTP(400, rej)
	}
	msgs, truncated, err := r.window(h, since, before, limit, r.cfg.HistoryMaxBytes-historyOverhead)
	if err != nil {
		return storageHTTPError()
	}
	return 200, protocol.Marshal(protocol.MessagesPage{Room: name, Messages: nonNil(msgs), Truncated: truncated})
}

// historyQuery validates ?since=, ?before= and ?limit= the way join
// validates since: since is a message id the room has reached, before a
// positive id (the newest messages below it: how a client walks back through
// everything stored, page by page), and limit is 1..MaxResume, by default
// JoinHistory.
func (r *Room) historyQuery(h Host, q url.Values) (since, before int64, limit int, rej *protocol.Reject) {
	limit = r.cfg.JoinHistory
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > r.cfg.MaxResume {
			return 0, 0, 0, protocol.Rejectf("invalid_limit", "limit must be an integer from 1 to %d", r.cfg.MaxResume)
		}
		limit = n
	}
	if q.Has("before") {
		b, rej := protocol.ParseSince(q.Get("before"))
		if rej != nil || b < 1 {
			return 0, 0, 0, protocol.Rejectf(protocol.HTTPInvalidBefore, "before must be a positive integer message id")
		}
		before = b
	}
	if q.Has("since") {
		s, rej := protocol.ParseSince(q.Get("since"))
		if rej != nil {
			return 0, 0, 0, rej
		}
		last, err := r.lastMessageID(h)
		if err != nil {
			return 0, 0, 0, storageError
		}
		if s > last {
			return 0, 0, 0, protocol.Rejectf(protocol.CodeInvalidSince, "since %d is ahead of this room's last message id %d", s, last)
		}
		since = s
	}
	return since, before, limit, nil
}

func rejectHTTP(status int, rej *protocol.Reject) (int, []byte) {
	if rej.Code == protocol.CodeStorage {
		status = 503
	}
	return httpError(status, rej.Code, rej.Message)
}

// httpError is an error answer in the JSON error shape.
func httpError(status int, code, message string) (int, []byte) {
	return status, protocol.Marshal(protocol.HTTPError{Error: code, Message: message})
}

func storageHTTPError() (int, []byte) { return rejectHTTP(503, storageError) }
