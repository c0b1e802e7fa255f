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
	return 200, protocol.Marshal(protocol.RoomInfo{Room: name, Users: r.Users(), Connections: len(r.sessions), LastMessageID: last})
}

// Messages answers GET /api/rooms/{room}/messages: a page of the history.
func (r *Room) Messages(h Host, name string, query url.Values) (int, []byte) {
	r.load(h)
	since, limit, rej := r.historyQuery(h, query)
	if rej != nil {
		return rejectHTTP(400, rej)
	}
	msgs, truncated, err := window(h.Store(), since, limit)
	if err != nil {
		return storageHTTPError()
	}
	return 200, protocol.Marshal(protocol.MessagesPage{Room: name, Messages: nonNil(msgs), Truncated: truncated})
}

// historyQuery validates ?since= and ?limit= the way join validates since:
// since is a message id the room has reached, limit is 1..MaxResume and
// defaults to JoinHistory.
func (r *Room) historyQuery(h Host, q url.Values) (int64, int, *protocol.Reject) {
	limit := r.cfg.JoinHistory
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > r.cfg.MaxResume {
			return 0, 0, protocol.Rejectf("invalid_limit", "limit must be an integer from 1 to %d", r.cfg.MaxResume)
		}
		limit = n
	}
	var since int64
	if q.Has("since") {
		s, rej := protocol.ParseSince(q.Get("since"))
		if rej != nil {
			return 0, 0, rej
		}
		last, err := h.Store().LastID()
		if err != nil {
			return 0, 0, storageError
		}
		if s > last {
			return 0, 0, protocol.Rejectf(protocol.CodeInvalidSince, "since %d is ahead of this room's last message id %d", s, last)
		}
		since = s
	}
	return since, limit, nil
}

func rejectHTTP(status int, rej *protocol.Reject) (int, []byte) {
	if rej.Code == protocol.CodeStorage {
		status = 503
	}
	return status, protocol.Marshal(protocol.HTTPError{Error: rej.Code, Message: rej.Message})
}

func storageHTTPError() (int, []byte) { return rejectHTTP(503, storageError) }
