package room

import (
	"github.com/chatroom/gochat/room/protocol"
)

// historyOverhead is what a history frame or a messages page holds besides
// its messages, at most: the type or the room name, the brackets and the
// truncated flag.
const historyOverhead = 160

// window reads the history after since (and before before, when it is not
// 0): the newest limit messages, oldest first, whose frame fits in
// HistoryMaxBytes. It is truncated when more messages than that followed
// since, or when some that did were already pruned: ids have no gaps, so a
// first id above since+1 means messages were left out for the reader.
func (r *Room) window(h Host, since, before int64, limit int) ([]protocol.StoredMessage, bool, error) {
	budget := r.cfg.HistoryMaxBytes - historyOverhead
	msgs, more, err := h.Store().After(since, before, limit, budget)
	if err != nil {
		return nil, false, err
	}
	msgs, cut := fit(msgs, budget)
	return msgs, more || cut || (len(msgs) > 0 && msgs[0].ID > since+1), nil
}

// fit keeps the newest of msgs (oldest first) whose JSON, with a comma
// each, fits in budget bytes, and reports whether it left any out. The
// store already stopped near the budget, by SQLite's measure; this is the
// exact one, the encoder's.
func fit(msgs []protocol.StoredMessage, budget int) ([]protocol.StoredMessage, bool) {
	total := 0
	for i := len(msgs) - 1; i >= 0; i-- {
		total += len(protocol.Marshal(msgs[i])) + 1
		if total > budget {
			return msgs[i+1:], true
		}
	}
	return msgs, false
}

func nonNil(m []protocol.StoredMessage) []protocol.StoredMessage {
	if m == nil {
		return []protocol.StoredMessage{}
	}
	return m
}
