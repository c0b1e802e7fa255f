package room

import (
	"net/url"
	"strconv"
)

// ServeHTTP answers a room HTTP API request the front worker forwarded:
// the room's roster and counters, or a page of its history. It only reads:
// asking about a room that never existed returns empty results and stores
// nothing.
func (r *Room) ServeHTTP(h Host, route Route, query url.Values) (int, []byte) {
	r.load(h)
	switch route.Kind {
	case KindInfo:
		last, err := h.Store().LastID()
		if err != nil {
			return storageHTTPError()
		}
		body, _ := marshal(RoomInfo{Room: route.Room, Users: r.Users(), Connections: len(r.sessions), LastMessageID: last})
		return 200, body
	case KindMessages:
		since, limit, rej := r.historyQuery(h, query)
		if rej != nil {
			return rejectHTTP(400, rej)
		}
		msgs, truncated, err := window(h.Store(), since, limit)
		if err != nil {
			return storageHTTPError()
		}
		body, _ := marshal(MessagesPage{Room: route.Room, Messages: nonNil(msgs), Truncated: truncated})
		return 200, body
	}
	return rejectHTTP(404, reject("not_found", "no such room endpoint"))
}

// historyQuery validates ?since= and ?limit= the way join validates since:
// since is a message id the room has reached, limit is 1..MaxResume and
// defaults to JoinHistory.
func (r *Room) historyQuery(h Host, q url.Values) (int64, int, *Reject) {
	limit := r.cfg.JoinHistory
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > r.cfg.MaxResume {
			return 0, 0, reject("invalid_limit", "limit must be an integer from 1 to %d", r.cfg.MaxResume)
		}
		limit = n
	}
	var since int64
	if q.Has("since") {
		s, rej := ParseSince(q.Get("since"))
		if rej != nil {
			return 0, 0, rej
		}
		last, err := h.Store().LastID()
		if err != nil {
			return 0, 0, storageError
		}
		if s > last {
			return 0, 0, reject(CodeInvalidSince, "since %d is ahead of this room's last message id %d", s, last)
		}
		since = s
	}
	return since, limit, nil
}

func rejectHTTP(status int, rej *Reject) (int, []byte) {
	if rej.Code == CodeStorage {
		status = 503
	}
	r := HTTPErrorRoute(status, rej.Code, rej.Message)
	return r.Status, r.Body
}

func storageHTTPError() (int, []byte) { return rejectHTTP(503, storageError) }
